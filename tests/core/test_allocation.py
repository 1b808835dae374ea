"""Sub-ENI usage per node and the placement plan (what stays Pending, and why)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgpctl.core.allocation import UsageIndex, choose_node, node_usage, plan
from sgpctl.core.annotations import (
    ANNOTATION_NETWORKS,
    RESOURCE_SUB_ENI,
    annotated_groups,
    pod_sub_eni_count,
    requests_sub_eni,
    uses_sub_eni,
)


def node(name, itype="SA5.LARGE8", quota=None, labels=None, unschedulable=False, ready=None, taints=None):
    meta_labels = {"node.kubernetes.io/instance-type": itype, **(labels or {})}
    status: dict = {}
    if quota is not None:
        status["allocatable"] = {RESOURCE_SUB_ENI: str(quota)}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    spec: dict = {}
    if unschedulable:
        spec["unschedulable"] = True
    if taints:
        spec["taints"] = taints
    return {"metadata": {"name": name, "labels": meta_labels}, "spec": spec, "status": status}


def pod(name, ns="ns", node=None, request=None, limit=None, sub_eni=False, phase="Running",
        node_selector=None, tolerations=None, deleting=False, init_request=None):
    resources: dict = {}
    if request is not None:
        resources["requests"] = {RESOURCE_SUB_ENI: request}
    if limit is not None:
        resources["limits"] = {RESOURCE_SUB_ENI: limit}
    spec: dict = {"containers": [{"name": "app", "resources": resources}, {"name": "sidecar"}]}
    if init_request is not None:
        spec["initContainers"] = [{"name": "init", "resources": {"requests": {RESOURCE_SUB_ENI: init_request}}}]
    if node:
        spec["nodeName"] = node
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerations:
        spec["tolerations"] = tolerations
    meta: dict = {"name": name, "namespace": ns}
    if sub_eni:
        meta["annotations"] = {ANNOTATION_NETWORKS: "tke-sub-eni"}
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


# --- annotation readers ------------------------------------------------------------------------

@pytest.mark.parametrize("p,count", [
    (pod("p"), 0),
    (pod("p", request="1"), 1),
    (pod("p", request=1), 1),
    (pod("p", limit="1"), 1),                      # extended resources default the request to the limit
    (pod("p", request="1", init_request="2"), 2),  # an init container needing more wins
    (pod("p", request="0"), 0),
])
def test_sub_eni_request_count(p, count):
    assert pod_sub_eni_count(p) == count
    assert requests_sub_eni(p) is (count >= 1)


@pytest.mark.parametrize("annotations,groups,sub_eni", [
    ({}, None, False),
    ({"tke.cloud.tencent.com/security-group-id": "sg-a, sg-b ,"}, ("sg-a", "sg-b"), False),
    ({"tke.cloud.tencent.com/security-group-id": ""}, (), False),
    ({"tke.cloud.tencent.com/networks": "tke-sub-eni"}, None, True),
    ({"tke.cloud.tencent.com/networks": "tke-route-eni"}, None, False),
])
def test_annotation_readers(annotations, groups, sub_eni):
    p = {"metadata": {"name": "p", "annotations": annotations}}
    assert annotated_groups(p) == groups
    assert uses_sub_eni(p) is sub_eni


# --- usage -------------------------------------------------------------------------------------

def test_usage_counts_pods_bound_to_the_node_that_hold_a_sub_eni():
    nodes = [node("n1", quota=5), node("n2", quota=2)]
    pods = [
        pod("requests", node="n1", request="1"),
        pod("annotated-only", node="n1", sub_eni=True),
        pod("finished", node="n1", request="1", phase="Succeeded"),
        pod("failed", node="n1", request="1", phase="Failed"),
        pod("deleting", node="n1", request="1", deleting=True),   # holds it until gone
        pod("plain", node="n1"),
        pod("limits-only", node="n1", limit="1"),
        pod("elsewhere", node="n-unknown", request="1"),
        pod("unbound", request="1", phase="Pending"),
        pod("over", node="n2", request="1"),
        pod("over2", node="n2", request="1"),
        pod("over3", node="n2", request="1"),
    ]
    usage = node_usage(nodes, pods)
    assert (usage["n1"].used, usage["n1"].free) == (4, 1)
    assert usage["n1"].pods == ["ns/requests", "ns/annotated-only", "ns/deleting", "ns/limits-only"]
    # More in use than the quota (the quota shrank, say): free never goes negative.
    assert (usage["n2"].used, usage["n2"].free) == (3, 0)
    assert set(usage) == {"n1", "n2"}


def test_usage_takes_quota_inputs():
    usage = node_usage([node("n1")], [], cloud_limits={"SA5.LARGE8": (7, "DescribeNetworkInterfaceLimit")})
    assert (usage["n1"].quota.quota, usage["n1"].quota.source, usage["n1"].free) == (
        7, "DescribeNetworkInterfaceLimit", 7)


# --- placement ---------------------------------------------------------------------------------

def _where(result):
    return [(p.pod, p.node, p.reason) for p in result.placements]


def test_most_free_node_first_ties_by_name():
    nodes = [node("n-a", quota=2), node("n-b", quota=3), node("n-c", quota=3)]
    needing = [pod(f"p{i}") for i in (3, 1, 4, 2)]  # input order must not matter
    result = plan(needing, nodes, [])
    # free a2 b3 c3 -> p1 to b (tie with c, b sorts first); a2 b2 c3 -> p2 to c;
    # a2 b2 c2 -> p3 to a; a1 b2 c2 -> p4 to b.
    assert _where(result) == [("ns/p1", "n-b", None), ("ns/p2", "n-c", None),
                              ("ns/p3", "n-a", None), ("ns/p4", "n-b", None)]
    assert {n: (u.used, u.free) for n, u in result.usage_after.items()} == {
        "n-a": (1, 1), "n-b": (2, 1), "n-c": (1, 2)}
    assert result.pending() == []


def test_full_quota_leaves_pods_pending_with_a_reason():
    nodes = [node("n1", quota=2)]
    existing = [pod("old", node="n1", request="1")]
    result = plan([pod("a"), pod("b")], nodes, existing)
    assert _where(result) == [("ns/a", "n1", None),
                              ("ns/b", None, "sub-ENI quota full on the only supported node")]
    assert [p.pod for p in result.pending()] == ["ns/b"]


def test_full_on_several_nodes_and_others_without_quota():
    nodes = [node("n1", quota=0, itype="SA5.LARGE8"), node("n2", quota=1), node("n3", quota=1),
             node("s5", itype="S5.LARGE8")]
    result = plan([pod("a"), pod("b"), pod("c")], nodes, [])
    # n1 reports allocatable 0: it is eligible but has no quota, like the S5 node.
    assert result.placements[2].reason == (
        "sub-ENI quota full on all 2 supported nodes (2 other nodes have quota 0: S5, SA5)")


def test_only_unsupported_families_names_them():
    nodes = [node("n1", itype="S5.LARGE8"), node("n2", itype="SA2.LARGE8"), node("n3", itype="S5.2XLARGE16")]
    result = plan([pod("a")], nodes, [])
    assert _where(result) == [("ns/a", None, "no node of a supported instance family (S5, SA2 quota 0)")]


def test_node_selector_restricts_the_candidates():
    nodes = [node("n1", quota=10, labels={"zone": "z1"}), node("n2", quota=1, labels={"zone": "z2"})]
    needing = [pod("a", node_selector={"zone": "z2"}), pod("b", node_selector={"zone": "z2"}), pod("c")]
    result = plan(needing, nodes, [])
    assert _where(result) == [("ns/a", "n2", None),
                              ("ns/b", None, "sub-ENI quota full on the only supported node"),
                              ("ns/c", "n1", None)]


def test_no_node_admits_the_pod():
    result = plan([pod("a", node_selector={"zone": "nowhere"})], [node("n1", quota=10)], [])
    assert result.placements[0].reason.startswith("no schedulable node admits the Pod")


NOEXEC = {"key": "dedicated", "value": "gpu", "effect": "NoExecute"}


@pytest.mark.parametrize("n,p,admitted", [
    (node("n", quota=5, unschedulable=True), pod("a"), False),
    (node("n", quota=5, ready=False), pod("a"), False),
    (node("n", quota=5, ready=True), pod("a"), True),
    (node("n", quota=5, taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}]), pod("a"), False),
    (node("n", quota=5, taints=[{"key": "k", "value": "v", "effect": "PreferNoSchedule"}]), pod("a"), True),
    (node("n", quota=5, taints=[NOEXEC]), pod("a"), False),
    (node("n", quota=5, taints=[NOEXEC]),
     pod("a", tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu"}]), True),
    (node("n", quota=5, taints=[NOEXEC]),
     pod("a", tolerations=[{"key": "dedicated", "operator": "Equal", "value": "cpu"}]), False),
    (node("n", quota=5, taints=[NOEXEC]),
     pod("a", tolerations=[{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}]), True),
    (node("n", quota=5, taints=[NOEXEC]),
     pod("a", tolerations=[{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]), False),
    (node("n", quota=5, taints=[NOEXEC]), pod("a", tolerations=[{"operator": "Exists"}]), True),
])
def test_scheduling_filters(n, p, admitted):
    (placement,) = plan([p], [n], []).placements
    assert placement.fits is admitted


def test_a_rebuilt_pod_replaces_its_old_self():
    nodes = [node("n1", quota=1)]
    old = pod("web-0", node="n1", request="1")
    # web-0 is recreated: the new incarnation may use the sub-ENI the old one releases.
    result = plan([pod("web-0")], nodes, [old])
    assert _where(result) == [("ns/web-0", "n1", None)]
    assert result.usage_after["n1"].pods == ["ns/web-0"]


def test_choose_node_does_not_commit_and_release_reopens_a_node():
    usage = node_usage([node("n1", quota=1), node("n2", quota=1)], [])
    nodes = {"n1": node("n1", quota=1), "n2": node("n2", quota=1)}
    assert choose_node(pod("a"), usage, nodes) == ("n1", None)
    assert choose_node(pod("a"), usage, nodes) == ("n1", None)  # nothing was taken
    index = UsageIndex(usage, nodes)
    index.take("n1", "ns/a")
    index.take("n2", "ns/b")
    assert choose_node(pod("c"), index, nodes) == (None, "sub-ENI quota full on all 2 supported nodes")
    index.release("n2", "ns/b")
    assert choose_node(pod("c"), index, nodes) == ("n2", None)
    assert index["n2"].pods == []


def test_a_pod_needing_two_sub_enis_needs_a_node_with_two_free():
    result = plan([pod("big", request="2")], [node("n1", quota=1), node("n2", quota=3)], [])
    assert _where(result) == [("ns/big", "n2", None)]
    assert result.usage_after["n2"].used == 2


def _naive_plan(needing, nodes, existing):
    """Reference: scan every node for every Pod."""
    usage = node_usage(nodes, existing, exclude={f"ns/{p['metadata']['name']}" for p in needing})
    out = []
    for p in sorted(needing, key=lambda p: p["metadata"]["name"]):
        zone = (p["spec"].get("nodeSelector") or {}).get("zone")
        fits = [n for n in nodes if zone is None or n["metadata"]["labels"].get("zone") == zone]
        fits = [n["metadata"]["name"] for n in fits if usage[n["metadata"]["name"]].free >= 1]
        if not fits:
            out.append(None)
            continue
        best = min(fits, key=lambda name: (-usage[name].free, name))
        usage[best].used += 1
        usage[best].free -= 1
        out.append(best)
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_heap_placement_equals_a_full_scan(seed):
    rnd = random.Random(seed)
    nodes = [node(f"n{i}", quota=rnd.randint(0, 4), labels={"zone": rnd.choice(["z1", "z2"])})
             for i in range(rnd.randint(1, 6))]
    existing = [pod(f"e{i}", node=rnd.choice(nodes)["metadata"]["name"], request="1") for i in range(rnd.randint(0, 8))]
    needing = [pod(f"p{i:02d}", node_selector=rnd.choice([None, {"zone": "z1"}, {"zone": "z2"}]))
               for i in range(rnd.randint(0, 20))]
    result = plan(needing, nodes, existing)
    assert [p.node for p in result.placements] == _naive_plan(needing, nodes, existing)


def test_place_commits_what_choose_only_proposes():
    nodes = {"n1": node("n1", quota=2), "n2": node("n2", quota=1)}
    index = UsageIndex(node_usage(nodes.values(), []), nodes)
    assert index.place(pod("a")) == ("n1", None)
    # n1 now has 1 free like n2; the tie goes to n1 by name.
    assert index.place(pod("b")) == ("n1", None)
    assert index.place(pod("c")) == ("n2", None)
    assert index.place(pod("d")) == (None, "sub-ENI quota full on all 2 supported nodes")
    assert (index["n1"].pods, index["n2"].pods) == (["ns/a", "ns/b"], ["ns/c"])


@pytest.mark.parametrize("nodes,reason", [
    ([node("n1", quota=0)], "no node has sub-ENI quota: SA5 nodes report 0 (is the Trunking ENI enabled on them?)"),
    ([node("n1", quota=0), node("n2", itype="S5.LARGE8")],
     "no node has sub-ENI quota (S5 not supported; SA5 nodes report 0: is the Trunking ENI enabled on them?)"),
])
def test_supported_family_reporting_zero_is_not_called_unsupported(nodes, reason):
    assert plan([pod("a")], nodes, []).placements[0].reason == reason
