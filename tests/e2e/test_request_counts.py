"""What the commands ask of the APIs, counted from the sandbox's request log (``sandbox.requestlog
.describe``, the shape `sgpctl sandbox requests` prints): `doctor`, `verify pods -A` and `policy
explain -A` list every cluster collection at most once (a later page of a list is the same list),
read Pod Warning events only through a field selector, and `doctor` makes every cloud read at most
once - a Pod's sub-ENI included: verify takes it from the leaks category's listing of the nodes' ENIs."""

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


def enis_by_id(entries: list[dict]) -> list[str]:
    """The ENI ids the command looked up by id (DescribeNetworkInterfaces' NetworkInterfaceIds)."""
    return [i for e in entries if e["api"] == "cloud" and e["action"] == "DescribeNetworkInterfaces"
            for i in e["params"].get("NetworkInterfaceIds") or ()]


def nodes_enis(cli) -> set[str]:
    """The cloud API's own answer, without sgpctl (the official SDK): every ENI of the cluster's
    instances, as a listing by ``attachment.instance-id`` returns it."""
    from tests.sandbox_support import cloud_client, sdk_request

    sb = cli.sandbox
    instances = [i.InstanceId for i in cloud_client(sb, "tke").DescribeClusterInstances(
        sdk_request("tke", "DescribeClusterInstances", ClusterId=sb.cluster_id)).InstanceSet]
    listed = cloud_client(sb, "vpc").DescribeNetworkInterfaces(sdk_request(
        "vpc", "DescribeNetworkInterfaces", Limit=100, Filters=[{"Name": "attachment.instance-id", "Values": instances}]))
    assert listed.TotalCount <= 100
    return {e.NetworkInterfaceId for e in listed.NetworkInterfaceSet}


def named_sub_enis(cli) -> set[str]:
    from sgpctl.sandbox.kube.crds import VPCENI_RESOURCE

    return {v["status"]["eni"]["eniID"] for v in cli.sandbox.kube.list(VPCENI_RESOURCE)}


def doctor_json(cli, *args: str) -> tuple[dict, list[dict]]:
    mark = cli.sandbox.log.mark()
    result = cli("doctor", *args, "-o", "json")
    return {c["id"]: c for cat in result.json()["categories"] for c in cat["checks"]}, \
        [describe(e) for e in cli.sandbox.log.since(mark)]


def held(of: int, total: int) -> str:
    return (f"DescribeNetworkInterfaces by attachment.instance-id (the listing of the nodes' ENIs) held {of} of the "
            f"{total} sub-ENIs the VpcENIs name")


@pytest.mark.parametrize("categories", [(), ("-c", "leaks", "-c", "api-assumptions")],
                         ids=["doctor (listing in the background)", "doctor -c leaks -c api-assumptions"])
def test_doctor_reads_each_sub_eni_once_from_the_nodes_listing(hazards, categories):
    """verify takes the Pods' sub-ENIs from the leaks category's listing of the nodes' ENIs: none of
    them is looked up by id again, and assume-subeni-listed says the listing held them."""
    listed, named = nodes_enis(hazards), named_sub_enis(hazards)
    assert named and named <= listed  # the scenario's Pods run on the cluster's nodes
    checks, entries = doctor_json(hazards, *categories)
    assert enis_by_id(entries) == []
    fact = checks["assume-subeni-listed"]
    assert fact["status"] == "pass" and fact["evidence"] == [held(len(named), len(named))]
    assert checks["leaks-sub-enis"]["status"] == "pass"


def test_doctor_looks_up_by_id_only_what_the_listing_lacks(sandbox_cli):
    """Where the VPC API lists no sub-ENI (the variant subeni-listed=false), verify looks each Pod's
    sub-ENI up by id (none found: their groups cannot be checked), and still none the listing returned."""
    cli = sandbox_cli("strict-hazards", variants={"subeni-listed": "false"})
    listed, named = nodes_enis(cli), named_sub_enis(cli)
    assert named and not named & listed
    checks, entries = doctor_json(cli)
    looked_up = set(enis_by_id(entries))
    assert looked_up == named
    fact = checks["assume-subeni-listed"]
    assert fact["status"] == "pass" and "does not seem to list sub-ENIs" in fact["message"], fact
    assert fact["evidence"] == [held(0, len(named)), f"DescribeNetworkInterfaces by id: 0 of the other {len(named)} found"]
