"""Offline snapshots: kubectl List output, typed API lists, single objects, several files."""

from __future__ import annotations

from sgpctl.core.matching import match
from sgpctl.core.snapshot import load_snapshot

SGP_API = "vpcresources.tke.cloud.tencent.com/v1beta1"


def obj(kind, name, ns="ns", api="v1", **extra):
    meta = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": api, "kind": kind, "metadata": meta, **extra}


def sgp(name, ns="ns", api=SGP_API):
    return obj("SecurityGroupPolicy", name, ns, api,
               spec={"podSelector": {"matchLabels": {"app": "x"}}, "securityGroups": {"groupIds": ["sg-1"]}})


def test_kubectl_list_sorted_by_kind():
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        obj("Pod", "p1"), obj("ServiceAccount", "default"), obj("Node", "n1", ns=None), sgp("a"),
        obj("ReplicaSet", "web-abc", api="apps/v1"), obj("Deployment", "web", api="apps/v1"),
        obj("VpcENI", "eni-1", ns=None, api="networking.tke.cloud.tencent.com/v1"),
    ]}
    snap = load_snapshot([doc])
    assert [p["metadata"]["name"] for p in snap.pods] == ["p1"]
    assert [s["metadata"]["name"] for s in snap.serviceaccounts] == ["default"]
    assert [n["metadata"]["name"] for n in snap.nodes] == ["n1"]
    assert [(p.namespace, p.name, p.group_ids) for p in snap.policies] == [("ns", "a", ("sg-1",))]
    assert [r["metadata"]["name"] for r in snap.replicasets] == ["web-abc"]
    assert [d["metadata"]["name"] for d in snap.deployments] == ["web"]
    assert [v["metadata"]["name"] for v in snap.vpcenis] == ["eni-1"]
    assert snap.other == [] and snap.problems == []


def test_several_files_single_objects_and_typed_lists():
    pod_list = {"apiVersion": "v1", "kind": "PodList",  # as the API returns it: items carry no kind
                "items": [{"metadata": {"name": "p1", "namespace": "ns"}},
                          {"metadata": {"name": "p2", "namespace": "ns"}}]}
    sgp_list = {"apiVersion": SGP_API, "kind": "SecurityGroupPolicyList",
                "items": [{"metadata": {"name": "a", "namespace": "ns"},
                           "spec": {"podSelector": {}, "securityGroups": {"groupIds": ["sg-2"]}}}]}
    snap = load_snapshot([pod_list, obj("Node", "n1", ns=None), None, sgp_list])
    assert [p["metadata"]["name"] for p in snap.pods] == ["p1", "p2"]
    assert snap.pods[0]["kind"] == "Pod"
    assert [n["metadata"]["name"] for n in snap.nodes] == ["n1"]
    assert [p.name for p in snap.policies] == ["a"]
    assert snap.problems == []


def test_unknown_kinds_and_junk_are_reported_and_loading_goes_on():
    docs = [
        {"kind": "List", "items": [obj("ConfigMap", "cm"), "not an object", {"metadata": {"name": "x"}},
                                   obj("Pod", "p1")]},
        ["a", "list"],
        obj("Pod", "p2"),
    ]
    snap = load_snapshot(docs, names=["a.yaml", "b.yaml", "c.yaml"])
    assert [p["metadata"]["name"] for p in snap.pods] == ["p1", "p2"]
    assert snap.problems == [
        "a.yaml, item 1: ConfigMap ns/cm (v1) is not a kind sgpctl uses",
        "a.yaml, item 2: expected an object, got str",
        "a.yaml, item 3: object without a kind",
        "b.yaml: expected an object or a List, got list",
    ]
    assert [o.get("kind") for o in snap.other] == ["ConfigMap", None]


def test_aws_policy_is_not_taken_for_a_tke_one():
    snap = load_snapshot([sgp("a", api="vpcresources.k8s.aws/v1beta1")])
    assert snap.policies == []
    assert len(snap.problems) == 1 and "not a TKE policy" in snap.problems[0]
    assert snap.other[0]["metadata"]["name"] == "a"


def test_the_same_object_in_two_files():
    changed = obj("Pod", "p1")
    changed["spec"] = {"nodeName": "n2"}
    snap = load_snapshot([obj("Pod", "p1"), obj("Pod", "p1"), changed])
    assert len(snap.pods) == 1
    assert snap.problems == ["document 3: Pod ns/p1 appears again with different content; kept the first"]


def test_a_snapshot_feeds_match_directly():
    pod = obj("Pod", "p1", metadata={"name": "p1", "namespace": "ns", "labels": {"app": "x"}})
    snap = load_snapshot([{"kind": "List", "items": [pod, sgp("a")]}])
    result = match(snap.pods, snap.policies, snap.serviceaccounts, replicasets=snap.replicasets)
    assert [(m.name, m.policies, m.expected_groups) for m in result.pods] == [("p1", ("a",), ("sg-1",))]


def _capture(**over):
    doc = {"kind": "SgpctlCapture", "formatVersion": 1, "scope": {"clusterId": "cls-abcd1234", "region": "ap-guangzhou"},
           "cloud": [{"service": "tke", "action": "DescribeVpcCniPodLimits", "params": {}, "response": {"TotalCount": 0}}],
           "kubernetes": {"objects": [obj("Pod", "p1"), obj("Namespace", "ns", ns=None), sgp("a"),
                                      obj("Service", "web"), obj("ConfigMap", "kube-proxy", ns="kube-system")]}}
    doc.update(over)
    return doc


def test_a_capture_is_read_as_its_objects_and_keeps_its_cloud_answers():
    snap = load_snapshot([_capture()], names=["capture.json"])
    assert [p["metadata"]["name"] for p in snap.pods] == ["p1"]
    assert [p.name for p in snap.policies] == ["a"]
    # the kinds a capture holds for the other commands are kept, without a problem line each
    assert {o["kind"] for o in snap.other} == {"Namespace", "Service", "ConfigMap"}
    assert snap.problems == []
    assert [c["action"] for c in snap.cloud_calls] == ["DescribeVpcCniPodLimits"]


def test_a_capture_of_another_format_version_is_one_problem():
    snap = load_snapshot([_capture(formatVersion=2)], names=["capture.json"])
    assert snap.pods == [] and snap.cloud_calls == []
    assert snap.problems == ["capture.json: capture format version 2 is not supported (this sgpctl reads 1)"]


def test_json_text_is_read_as_json():
    import json

    from sgpctl.core.snapshot import snapshot_documents

    assert snapshot_documents(json.dumps(_capture()), "capture.json") == [_capture()]
    # a YAML flow mapping is not JSON, and is still read
    assert snapshot_documents("{kind: List, items: []}", "x.yaml") == [{"kind": "List", "items": []}]
