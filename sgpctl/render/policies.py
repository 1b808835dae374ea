"""Human rendering of `policy validate`, `policy list`, `policy get` and `policy delete`'s note."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def selector_text(obj) -> str:
    from sgpctl.core.selectors import label_selector_text

    return label_selector_text(obj)


def render_validation(term: Terminal, data: dict) -> None:
    if data["valid"]:
        names = ", ".join(f"{p['namespace']}/{p['name']}" for p in data["policies"])
        term.line(f"{len(data['policies'])} SecurityGroupPolicy document(s) valid: {names}")


def render_list(term: Terminal, rows: list[dict]) -> None:
    from sgpctl.render.terminal import Column

    term.table(["NAMESPACE", "NAME", "GROUPS", "POD SELECTOR", "SA SELECTOR", Column("CREATED", wide=True)],
               [(x["namespace"], x["name"], ",".join(x["groupIds"]), selector_text(x["podSelector"]),
                 selector_text(x["serviceAccountSelector"]), x["creationTimestamp"] or "") for x in rows])


def render_one(term: Terminal, row: dict) -> None:
    term.line(f"{row['namespace']}/{row['name']}: groups {','.join(row['groupIds'])}; pods {selector_text(row['podSelector'])}; "
              f"service accounts {selector_text(row['serviceAccountSelector'])}; created {row['creationTimestamp']}")


def keeping_note(term: Terminal, pods: list[str]) -> None:
    if pods:
        term.note(f"{len(pods)} running Pod(s) keep the policy's groups until rebuilt: {', '.join(pods[:10])}"
                  + (" ..." if len(pods) > 10 else ""))


def render_diff(term: Terminal, diffs) -> None:
    """`policy diff`: kubectl's words per policy, then each change beneath it."""
    for d in diffs:
        term.line(f"securitygrouppolicy/{d.name} ({d.namespace}) {d.result}")
        for f in d.fields:
            term.wrapped(f"~ {f.text()}", "  ", "    ")
        if d.pods:
            term.line(f"  Pods whose groups change once rebuilt ({len(d.pods)}):")
            for c in d.pods:
                term.wrapped(c.text(), "    ", "      ")
