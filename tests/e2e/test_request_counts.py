"""What the commands ask of the APIs, counted from the sandbox's request log (``sandbox.requestlog
.describe``, the shape `sgpctl sandbox requests` prints): `doctor`, `verify pods -A` and `policy
explain -A` list every cluster collection at most once (a later page of a list is the same list),
read Pod Warning events only through a field selector, and `doctor` makes every cloud read at most
once."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sgpctl.sandbox.requestlog import describe

POD_WARNINGS = "type=Warning,involvedObject.kind=Pod"


@pytest.fixture
def hazards(sandbox_cli):
    return sandbox_cli("strict-hazards")


def requests_of(cli, *args: str) -> tuple[int, list[dict]]:
    mark = cli.sandbox.log.mark()
    result = cli(*args)
    return result.exit_code, [describe(e) for e in cli.sandbox.log.since(mark)]


def lists(entries: list[dict]) -> Counter:
    """First pages of list calls, per collection (resource, namespace, selectors)."""
    return Counter((e["resource"], e["namespace"], e.get("labelSelector"), e.get("fieldSelector"))
                   for e in entries if e["api"] == "kube" and e["verb"] == "list" and not e.get("continue"))


def twice(counter: Counter) -> dict:
    return {k: n for k, n in counter.items() if n > 1}


@pytest.mark.parametrize("args", [("doctor",), ("verify", "pods", "-A"), ("policy", "explain", "-A")],
                         ids=["doctor", "verify pods -A", "policy explain -A"])
def test_each_collection_is_listed_at_most_once(hazards, args):
    code, entries = requests_of(hazards, *args)
    assert code in (0, 1)
    found = lists(entries)
    assert found, "the command read the cluster"
    assert twice(found) == {}
    events = [k for k in found if k[0] == "events"]
    assert events in ([], [("events", None, None, POD_WARNINGS)]), events
    assert ("pods", None, None, None) in found


def test_doctor_reads_the_cluster_and_the_cloud_once_and_only_reads(hazards):
    code, entries = requests_of(hazards, "doctor")
    assert code == 0
    gets = Counter((e["resource"], e["namespace"], e["name"]) for e in entries if e["api"] == "kube" and e["verb"] == "get")
    assert twice(gets) == {}
    cloud = Counter((e["service"], e["action"], json.dumps(e["params"], sort_keys=True)) for e in entries if e["api"] == "cloud")
    assert twice(cloud) == {}
    # verify, routing and the pods checks all stood on the same lists
    resources = {k[0] for k in lists(entries)}
    assert {"pods", "serviceaccounts", "replicasets.apps", "nodes", "events", "services"} <= resources
    assert not any(e["mutating"] for e in entries)


def test_verify_pods_reads_a_constant_number_of_collections(hazards):
    _, entries = requests_of(hazards, "verify", "pods", "-A")
    kube = [e for e in entries if e["api"] == "kube" and e["verb"] == "list"]
    cloud = [e for e in entries if e["api"] == "cloud"]
    assert len(lists(entries)) == 7  # policies, Pods, ServiceAccounts, ReplicaSets, nodes, VpcENIs, events
    assert len(kube) == 7 and [e["action"] for e in cloud] == ["DescribeNetworkInterfaces"]


def test_an_unreadable_policy_is_skipped_named_and_fails_verify(hazards):
    from sgpctl.sandbox.kube.crds import SGP_RESOURCE

    hazards.sandbox.kube.create(SGP_RESOURCE, {
        "apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
        "metadata": {"name": "broken", "namespace": "my-namespace"},
        "spec": {"podSelector": {}, "securityGroups": 5}})
    r = hazards("verify", "pods", "-A", "-o", "json")
    assert r.exit_code == 1 and "Traceback" not in r.output
    doc = r.json()
    assert doc["ok"] is False and doc["summary"]["pods"] == 2  # the other Pods were still verified
    assert any(p.startswith("SecurityGroupPolicy my-namespace/broken cannot be read") for p in doc["problems"])
    table = hazards("verify", "pods", "-A")
    assert "[FAIL] every SecurityGroupPolicy and VpcENI can be read" in table.stdout
    # the cluster-wide commands go on with a warning naming it
    for args in (("policy", "explain", "-A"), ("capacity",), ("policy", "list", "-A")):
        r = hazards(*args)
        assert r.exit_code == 0, (args, r.output)
    assert "my-namespace/broken cannot be read" in hazards("policy", "explain", "-A").stdout
    doctor = hazards("doctor", "--category", "policies", "-o", "json").json()
    checks = {c["id"]: c for cat in doctor["categories"] for c in cat["checks"]}
    assert checks["policies-readable"]["status"] == "fail"
