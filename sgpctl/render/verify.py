from __future__ import annotations

from sgpctl.render.tables import groups, line, print_table

WORD = {"pass": "ok", "fail": "FAIL", "warn": "warn", "skip": "skip"}


def render_pod(data: dict) -> None:
    verdict = "verified" if data["ok"] else ("STALE" if data["stale"] else "FAILED")
    line(f"Pod {data['namespace']}/{data['name']} on {data['node'] or '(not scheduled)'}: {verdict}")
    for c in data["checks"]:
        line(f"  {WORD.get(c['status'], c['status']):<5} {c['id']:<20} {c['message']}")
        if c.get("hint") and c["status"] in ("fail", "warn"):
            line(f"  {'':<5} {'':<20} hint: {c['hint']}")
    if data["eniId"]:
        line(f"  policy groups {groups(data['expectedSecurityGroups'])} | annotation {groups(data['annotatedSecurityGroups'])} | "
             f"ENI {data['eniId']} {groups(data['eniSecurityGroups'])}")


def render_pods(data: dict) -> None:
    pods = data["pods"]
    if pods:
        print_table(
            ["NAMESPACE", "POD", "NODE", "GROUPS", "ENI", "RESULT"],
            [(p["namespace"], p["name"], p["node"] or "-", groups(p["annotatedSecurityGroups"] or p["expectedSecurityGroups"]), p["eniId"] or "-",
              "ok" if p["ok"] else ("stale" if p["stale"] else "FAIL: " + next((c["message"] for c in p["checks"] if c["status"] == "fail"), "")))
             for p in pods],
        )
        line()
    s = data["summary"]
    print_table(["NAMESPACE", "PODS", "OK", "STALE", "FAILED", "WITH WARNINGS"],
                [(n["namespace"], n["pods"], n["ok"], n["stale"], n["failed"], n["warnings"]) for n in s["namespaces"]])
    line(f"{s['pods']} Pods: {s['ok']} ok, {s['stale']} stale, {s['failed']} failed")
    for note in data.get("notes") or []:
        line(f"note: {note}")
