"""Human rendering of `policy validate`, `policy list`, `policy get` and `policy delete`'s note."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def selector_text(obj) -> str:
    """A LabelSelector object in kubectl's text form ("(all)" for {}); what the server holds when odd."""
    from sgpctl.core.selectors import from_label_selector

    if obj is None:
        return "-"
    try:
        text = str(from_label_selector(obj))
    except Exception:  # noqa: BLE001 - show what the server holds, even if odd
        return str(obj)
    return text or "(all)"


def render_validation(term: Terminal, data: dict) -> None:
    if data["valid"]:
        names = ", ".join(f"{p['namespace']}/{p['name']}" for p in data["policies"])
        term.line(f"{len(data['policies'])} SecurityGroupPolicy document(s) valid: {names}")


def render_list(term: Terminal, rows: list[dict]) -> None:
    term.table(["NAMESPACE", "NAME", "GROUPS", "POD SELECTOR", "SA SELECTOR", "CREATED"],
               [(x["namespace"], x["name"], ",".join(x["groupIds"]), selector_text(x["podSelector"]),
                 selector_text(x["serviceAccountSelector"]), x["creationTimestamp"] or "") for x in rows])


def render_one(term: Terminal, row: dict) -> None:
    term.line(f"{row['namespace']}/{row['name']}: groups {','.join(row['groupIds'])}; pods {selector_text(row['podSelector'])}; "
              f"service accounts {selector_text(row['serviceAccountSelector'])}; created {row['creationTimestamp']}")


def keeping_note(term: Terminal, pods: list[str]) -> None:
    if pods:
        term.note(f"{len(pods)} running Pod(s) keep the policy's groups until rebuilt: {', '.join(pods[:10])}"
                  + (" ..." if len(pods) > 10 else ""))
