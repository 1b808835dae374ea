from __future__ import annotations

from sgpctl.render.tables import groups, heading, line, print_table


def render_explain(data: dict) -> None:
    s = data["summary"]
    line(f"source: {data['source']}")
    line(f"{s['policies']} policies select {s['selectedPods']} Pods; {s['stalePods']} stale; "
         f"{s['needSubEni']} need a sub-ENI, {s['wouldStayPending']} would stay Pending")
    for p in data["policies"]:
        line()
        heading(f"policy {p['namespace']}/{p['name']}  groups {groups(p['groupIds'])}  selects {p['selectedPods']} Pods")
        if p["pods"]:
            print_table(
                ["POD", "OWNER", "NODE", "GROUPS", "STATUS"],
                [
                    (m["name"], m["owner"] or "-", m["node"] or "-", groups(m["expectedSecurityGroups"]),
                     f"stale: {m['staleReason']}" if m["stale"] else "ok")
                    for m in p["pods"]
                ],
            )
    if data["stale"]:
        line()
        heading("stale Pods (they keep their old groups until rebuilt)")
        print_table(
            ["NAMESPACE", "POD", "OWNER", "REASON", "REBUILD WITH"],
            [(m["namespace"], m["name"], m["owner"] or "-", m["staleReason"], m["rebuild"]) for m in data["stale"]],
        )
    pl = data["placement"]
    if pl["needed"]:
        line()
        heading(f"placement: {pl['fits']} of {pl['needed']} Pods that need a sub-ENI would fit")
        print_table(
            ["POD", "NODE", "RESULT"],
            [(p["pod"], p["node"] or "-", "fits" if p["fits"] else f"Pending: {p['reason']}") for p in pl["placements"]],
        )
    if data["warnings"]:
        line()
        heading("warnings")
        for w in data["warnings"]:
            line(f"  {w['code']}: {w['message']}")
    for note in data.get("notes") or []:
        line(f"note: {note}")


def render_capacity(data: dict) -> None:
    line(f"source: {data['source']}")
    print_table(
        ["NODE", "INSTANCE TYPE", "FAMILY", "SUPPORTED", "QUOTA", "SOURCE", "USED", "FREE"],
        [(n["node"], n["instanceType"] or "-", n["family"] or "-", "yes" if n["supported"] else "no",
          n["quota"], n["quotaSource"], n["used"], n["free"]) for n in data["nodes"]],
    )
    line()
    print_table(
        ["INSTANCE TYPE", "FAMILY", "SUPPORTED", "NODES", "QUOTA", "USED", "FREE"],
        [(t["instanceType"] or "-", t["family"] or "-", "yes" if t["supported"] else "no", t["nodes"], t["quota"], t["used"], t["free"])
         for t in data["instanceTypes"]],
    )
    t = data["totals"]
    line()
    line(f"cluster: {t['nodes']} nodes ({t['supportedNodes']} with sub-ENI quota), quota {t['quota']}, used {t['used']}, free {t['free']}")
    for note in data.get("notes") or []:
        line(f"note: {note}")
