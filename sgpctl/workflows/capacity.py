"""`capacity`: sub-ENI quota (with its source), usage and free room per node, per instance type and
for the cluster; with a policy file, a what-if of where the Pods it would put on sub-ENIs land.

``capacity(view)`` is pure over a ClusterView (a snapshot or the live cluster). On the live cluster
``cloud_limits`` reads the figures for nodes that report no ``tke.cloud.tencent.com/sub-eni``
allocatable (eniipamd reports it only once Trunking ENI is on), and ``allocation.node_quota`` takes
the smallest that applies:

1. TKE ``DescribeVpcCniPodLimits`` ``TKESubENI``: one call for every instance type, filtered here
   (the API answers with other families and zones too). Documented as the type's maximum: it bounds
   the quota but never makes an unlisted family supported by itself.
2. VPC ``DescribeNetworkInterfaceLimit`` ``SubEniQuantity``: one call per such node, its CVM instance
   id read from ``spec.providerID`` (``qcloud:///<zone>/ins-...``): the instance's own quota.
3. The TKE document's table (``core.quotas``), unless VPC answered for the instance.

A cloud call that fails leaves the other sources to answer and adds a note; it never fails the command.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sgpctl.core import allocation
from sgpctl.core.annotations import RESOURCE_SUB_ENI, node_instance_type
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.errors import CloudError
from sgpctl.workflows.clients import Cloud
from sgpctl.workflows.view import ClusterView

_PROVIDER_ID = re.compile(r"^qcloud:///[^/]*/(ins-[A-Za-z0-9]+)$")


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


# --------------------------------------------------------------------------------------------------
# Quotas from the cloud (live)
# --------------------------------------------------------------------------------------------------

def instance_id_of(node: Mapping[str, Any]) -> str | None:
    """The CVM instance id in ``spec.providerID`` (``qcloud:///100003/ins-abcdefgh``), or None."""
    m = _PROVIDER_ID.match(str((node.get("spec") or {}).get("providerID") or ""))
    return m.group(1) if m else None


def _reports_allocatable(node: Mapping[str, Any]) -> bool:
    return ((node.get("status") or {}).get("allocatable") or {}).get(RESOURCE_SUB_ENI) is not None


def cloud_limits(nodes: Sequence[Mapping[str, Any]], cloud: Cloud, *,
                 pod_limits: Callable[[], list] | None = None) -> tuple[dict[str, dict[str, int]], list[str]]:
    """(instance type -> {source: figure}, notes) for the nodes that report no allocatable:
    DescribeVpcCniPodLimits' TKESubENI (one call for every type) and DescribeNetworkInterfaceLimit's
    SubEniQuantity (one call per node, by its CVM instance id); ``allocation.node_quota`` takes the
    smallest that applies.

    Keyed by instance type because that is how ``allocation.node_quota`` takes them. When the
    per-instance answers for one type differ, the smallest is used (a plan must not promise room a
    node lacks) and a note names the type. ``pod_limits`` (a memo of DescribeVpcCniPodLimits) saves
    the call when the caller reads it anyway."""
    unknown = [n for n in nodes if not _reports_allocatable(n) and node_instance_type(n)]
    if not unknown:
        return {}, []
    types = {node_instance_type(n) for n in unknown}
    limits: dict[str, dict[str, int]] = {}
    notes: list[str] = []
    try:
        for p in (pod_limits or cloud.tke.describe_vpc_cni_pod_limits)():
            if p.instance_type in types and p.sub_eni is not None:
                limits.setdefault(p.instance_type, {}).setdefault(allocation.SOURCE_TKE_LIMITS, int(p.sub_eni))
    except CloudError as e:
        notes.append(f"DescribeVpcCniPodLimits failed ({e.code}): the quota comes from DescribeNetworkInterfaceLimit "
                     "and the TKE table")
    per_type: dict[str, dict[str, int]] = {}
    for n in unknown:
        itype = node_instance_type(n)
        name = (n.get("metadata") or {}).get("name")
        instance = instance_id_of(n)
        if instance is None:
            notes.append(f"node {name} has no qcloud providerID: its quota comes from "
                         + ("DescribeVpcCniPodLimits and " if itype in limits else "") + "the TKE table")
            continue
        try:
            quantity = cloud.vpc.describe_network_interface_limit(instance).sub_eni_quantity
        except CloudError as e:
            notes.append(f"DescribeNetworkInterfaceLimit {instance} (node {name}) failed ({e.code}): its quota comes from "
                         + ("DescribeVpcCniPodLimits and " if itype in limits else "") + "the TKE table")
            continue
        if quantity is not None:
            per_type.setdefault(itype, {})[name] = int(quantity)
    for itype, answers in per_type.items():
        limits.setdefault(itype, {})[allocation.SOURCE_VPC_LIMITS] = min(answers.values())
        if len(set(answers.values())) > 1:
            shown = ", ".join(f"{node} {q}" for node, q in sorted(answers.items()))
            notes.append(f"{itype} nodes report different sub-ENI quotas ({shown}): using the smallest")
    return limits, notes


def capacity_report(view: ClusterView, *, cloud: Cloud | None = None, plan: list[SecurityGroupPolicy] | None = None,
                    plan_source: str = "") -> dict:
    """`capacity`: the view's nodes with the cloud's quotas for those that report none (``cloud``
    None: offline, or no credentials), and with ``plan`` the what-if of those policies."""
    limits, notes = cloud_limits(view.nodes, cloud) if cloud is not None else ({}, [])
    view.notes.extend(notes)
    # The plan first: the policies it reads may add notes (one that cannot be read) to the report.
    planned = plan_policies(view, plan, source=plan_source, cloud_limits=limits) if plan is not None else None
    data = capacity(view, cloud_limits=limits)
    if planned is not None:
        data["plan"] = planned
    return data


# --------------------------------------------------------------------------------------------------
# What-if
# --------------------------------------------------------------------------------------------------

def plan_policies(view: ClusterView, policies: list[SecurityGroupPolicy], *, source: str = "",
                  cloud_limits: dict | None = None) -> dict:
    """Where the Pods these policies would put on sub-ENIs land if they were applied now and the
    Pods rebuilt: every Pod they select that does not hold a sub-ENI with those groups yet (the
    placement of `policy explain`, over the whole cluster with the file's policies merged in)."""
    from sgpctl.workflows.explain import explain

    result = explain(view, subject=policies, namespaces=None, cloud_limits=cloud_limits)
    placement = result.placement
    return {
        "file": source,
        "policies": [f"{p['namespace']}/{p['name']}" for p in result.policies],
        "needSubEni": placement["needed"],
        "fits": placement["fits"],
        "wouldStayPending": placement["pending"],
        "placements": placement["placements"],
        "warnings": result.warnings,
    }
