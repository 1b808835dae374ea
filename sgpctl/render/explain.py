"""Human rendering of `policy explain`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def groups(ids) -> str:
    return ",".join(ids) if ids else "-"


def render_explain(term: Terminal, data: dict) -> None:
    from sgpctl.render.terminal import Column

    s = data["summary"]
    term.line(f"source: {data['source']}")
    term.line(f"{s['policies']} policies select {s['selectedPods']} Pods; {s['stalePods']} stale; "
              f"{s['needSubEni']} need a sub-ENI, {s['wouldStayPending']} would stay Pending")
    for p in data["policies"]:
        term.line()
        term.heading(f"policy {p['namespace']}/{p['name']}  groups {groups(p['groupIds'])}  selects {p['selectedPods']} Pods")
        for why in p.get("whyNoPods") or []:
            term.wrapped(f"- {why}", "  ", "    ")
        if p["pods"]:
            term.table(
                ["POD", Column("OWNER", wide=True), "NODE", "GROUPS", Column("STATUS", text=True)],
                [(m["name"], m["owner"] or "-", m["node"] or "-", groups(m["expectedSecurityGroups"]),
                  f"stale: {m['staleReason']}" if m["stale"] else "ok") for m in p["pods"]],
            )
    if data["stale"]:
        term.line()
        term.heading("stale Pods (they keep their old groups until rebuilt)")
        term.table(["NAMESPACE", "POD", "OWNER", Column("REASON", text=True), Column("REBUILD WITH", text=True)],
                   [(m["namespace"], m["name"], m["owner"] or "-", m["staleReason"], m["rebuild"]) for m in data["stale"]])
    pl = data["placement"]
    if pl["needed"]:
        term.line()
        term.heading(f"placement: {pl['fits']} of {pl['needed']} Pods that need a sub-ENI would fit")
        term.table(["POD", "NODE", Column("RESULT", text=True)],
                   [(p["pod"], p["node"] or "-", "fits" if p["fits"] else f"Pending: {p['reason']}") for p in pl["placements"]])
    if data["warnings"]:
        term.line()
        term.heading("warnings")
        for w in data["warnings"]:
            term.wrapped(f"{w['code']}: {w['message']}", "  ", "    ")
    for note in data.get("notes") or []:
        term.wrapped(f"note: {note}", "", "      ")
