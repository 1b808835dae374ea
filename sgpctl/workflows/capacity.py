"""`capacity`: sub-ENI quota (with its source), usage and free room per node, per instance type and
for the cluster. Pure over a ClusterView (plus optional cloud-reported limits)."""

from __future__ import annotations

from sgpctl.core import allocation
from sgpctl.workflows.sources import ClusterView


def capacity(view: ClusterView, *, cloud_limits: dict | None = None, cpu_by_type: dict | None = None) -> dict:
    usage = allocation.node_usage(view.nodes, view.pods, cloud_limits=cloud_limits, cpu_by_type=cpu_by_type)
    nodes = []
    by_type: dict[str, dict] = {}
    for name in sorted(usage):
        u = usage[name]
        q = u.quota
        nodes.append({
            "node": name,
            "instanceType": q.instance_type,
            "family": q.family,
            "supported": q.supported,
            "quota": q.quota,
            "quotaSource": q.source,
            "used": u.used,
            "free": u.free,
        })
        t = by_type.setdefault(q.instance_type or "unknown", {
            "instanceType": q.instance_type, "family": q.family, "supported": q.supported,
            "nodes": 0, "quota": 0, "used": 0, "free": 0, "quotaSources": [],
        })
        t["nodes"] += 1
        t["quota"] += q.quota
        t["used"] += u.used
        t["free"] += u.free
        if q.source not in t["quotaSources"]:
            t["quotaSources"].append(q.source)
    totals = {
        "nodes": len(nodes),
        "supportedNodes": sum(1 for n in nodes if n["supported"] and n["quota"] > 0),
        "quota": sum(n["quota"] for n in nodes),
        "used": sum(n["used"] for n in nodes),
        "free": sum(n["free"] for n in nodes),
    }
    return {
        "source": view.source,
        "nodes": nodes,
        "instanceTypes": [by_type[k] for k in sorted(by_type)],
        "totals": totals,
        "notes": list(view.notes),
    }
