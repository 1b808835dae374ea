"""Human rendering of `capacity` (and its `--plan` what-if)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def render_capacity(term: Terminal, data: dict) -> None:
    term.line(f"source: {data['source']}")
    from sgpctl.render.terminal import Column

    term.table(
        ["NODE", "INSTANCE TYPE", "FAMILY", "SUPPORTED", "QUOTA", Column("SOURCE", wide=True), "USED", "FREE"],
        [(n["node"], n["instanceType"] or "-", n["family"] or "-", "yes" if n["supported"] else "no",
          n["quota"], n["quotaSource"], n["used"], n["free"]) for n in data["nodes"]],
    )
    term.line()
    term.table(
        ["INSTANCE TYPE", "FAMILY", "SUPPORTED", "NODES", "QUOTA", "USED", "FREE"],
        [(t["instanceType"] or "-", t["family"] or "-", "yes" if t["supported"] else "no", t["nodes"], t["quota"], t["used"], t["free"])
         for t in data["instanceTypes"]],
    )
    t = data["totals"]
    term.line()
    term.line(f"cluster: {t['nodes']} nodes ({t['supportedNodes']} with sub-ENI quota), quota {t['quota']}, used {t['used']}, free {t['free']}")
    for note in data.get("notes") or []:
        term.line(f"note: {note}")
    if "plan" in data:
        render_plan(term, data["plan"])


def render_plan(term: Terminal, p: dict) -> None:
    term.line()
    term.line(f"plan for {p['file']} ({', '.join(p['policies']) or 'no policy'}): {p['needSubEni']} Pod(s) would need a sub-ENI, "
              f"{p['fits']} fit, {len(p['wouldStayPending'])} would stay Pending")
    if p["placements"]:
        from sgpctl.render.terminal import Column

        term.table(["POD", "NODE", "FITS", Column("REASON", text=True)],
                   [(x["pod"], x["node"] or "-", "yes" if x["fits"] else "NO", x["reason"] or "") for x in p["placements"]])
    for w in p.get("warnings") or []:
        term.line(f"warning: {w['message']}")
