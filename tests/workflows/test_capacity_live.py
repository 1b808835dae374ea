"""Live `capacity`: where each node's quota comes from (allocatable, DescribeVpcCniPodLimits,
DescribeNetworkInterfaceLimit, the TKE table), over fakes, and the `--plan` what-if."""

from __future__ import annotations

from sgpctl.cloud.types import PodLimits
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.errors import CloudError
from sgpctl.kube import resources as r
from sgpctl.core.snapshot import Snapshot
from sgpctl.workflows import capacity as flow
from sgpctl.workflows.view import ClusterView

from tests.fakes import SGP, FakeCloud, FakeKube, node, pod, policy


def limits(ptype: str, sub_eni: int | None, zone: str = "ap-guangzhou-3") -> PodLimits:
    return PodLimits(zone, ptype.split(".")[0], ptype, 20, 20, 4, sub_eni)


def test_instance_id_from_provider_id():
    assert flow.instance_id_of(node("n", "S5.LARGE8", provider_id="qcloud:///100003/ins-abc12345")) == "ins-abc12345"
    assert flow.instance_id_of(node("n", "S5.LARGE8", provider_id="aws:///us-east-1a/i-0123")) is None
    assert flow.instance_id_of(node("n", "S5.LARGE8")) is None


def test_each_source_and_the_smallest_that_applies():
    cloud = FakeCloud()
    # The API answers with other types and zones too, and twice for SA5.2XLARGE16 (two zones).
    cloud.tke.pod_limits = [limits("SA5.2XLARGE16", 80), limits("SA5.2XLARGE16", 80, "ap-guangzhou-4"),
                            limits("M8.2XLARGE32", 120), limits("S8.2XLARGE16", None), limits("SA2.LARGE8", 100)]
    cloud.vpc.sub_eni_limits = {"ins-s8000001": 64, "ins-sa500002": 90, "ins-sa200001": 0}
    nodes = [
        node("reports", "SA5.2XLARGE16", allocatable=42, provider_id="qcloud:///100003/ins-sa500001"),
        node("tke-limits", "SA5.2XLARGE16", provider_id="qcloud:///100003/ins-sa500002"),
        node("vpc-limit", "S8.2XLARGE16", provider_id="qcloud:///100003/ins-s8000001"),
        node("unlisted", "SA2.LARGE8"),
        node("no-provider", "S9.LARGE8"),
    ]
    found, notes = flow.cloud_limits(nodes, cloud)
    assert found == {"SA5.2XLARGE16": {"DescribeVpcCniPodLimits": 80, "DescribeNetworkInterfaceLimit": 90},
                     "S8.2XLARGE16": {"DescribeNetworkInterfaceLimit": 64},
                     "SA2.LARGE8": {"DescribeVpcCniPodLimits": 100}}
    assert notes == ["node unlisted has no qcloud providerID: its quota comes from DescribeVpcCniPodLimits and the TKE table",
                     "node no-provider has no qcloud providerID: its quota comes from the TKE table"]
    # one DescribeVpcCniPodLimits for all types, one DescribeNetworkInterfaceLimit per node without allocatable
    assert cloud.actions() == ["DescribeVpcCniPodLimits", "DescribeNetworkInterfaceLimit", "DescribeNetworkInterfaceLimit"]

    view = ClusterView.of_snapshot(Snapshot(nodes=nodes), "test")
    data = flow.capacity(view, cloud_limits=found)
    got = {n["node"]: (n["quota"], n["quotaSource"], n["supported"]) for n in data["nodes"]}
    # SA5: min(TKESubENI 80, SubEniQuantity 90); S8: VPC's 64 (the table's 100 does not apply once VPC
    # answered); SA2 is unlisted: TKESubENI's 100 is the type's maximum, the table's 0 stands.
    assert got == {"reports": (42, "allocatable", True), "tke-limits": (80, "DescribeVpcCniPodLimits", True),
                   "vpc-limit": (64, "DescribeNetworkInterfaceLimit", True), "unlisted": (0, "table", False),
                   "no-provider": (100, "table", True)}


def test_no_cloud_call_when_every_node_reports_allocatable():
    cloud = FakeCloud()
    found, notes = flow.cloud_limits([node("a", "SA5.2XLARGE16", allocatable=100)], cloud)
    assert (found, notes, cloud.actions()) == ({}, [], [])


def test_failures_fall_through_with_notes():
    cloud = FakeCloud()
    cloud.failing["DescribeVpcCniPodLimits"] = CloudError("UnauthorizedOperation", "no")
    nodes = [node("a", "SA5.2XLARGE16", provider_id="qcloud:///100003/ins-gone0001")]
    found, notes = flow.cloud_limits(nodes, cloud)
    assert found == {}
    assert notes[0] == ("DescribeVpcCniPodLimits failed (UnauthorizedOperation): the quota comes from "
                        "DescribeNetworkInterfaceLimit and the TKE table")
    assert "DescribeNetworkInterfaceLimit ins-gone0001 (node a) failed (InvalidInstanceId.NotFound)" in notes[1]


def test_differing_instance_answers_use_the_smallest():
    cloud = FakeCloud()
    cloud.vpc.sub_eni_limits = {"ins-a0000001": 100, "ins-a0000002": 30}
    nodes = [node("a1", "S8.2XLARGE16", provider_id="qcloud:///100003/ins-a0000001"),
             node("a2", "S8.2XLARGE16", provider_id="qcloud:///100003/ins-a0000002")]
    found, notes = flow.cloud_limits(nodes, cloud)
    assert found == {"S8.2XLARGE16": {"DescribeNetworkInterfaceLimit": 30}}
    assert "different sub-ENI quotas (a1 100, a2 30)" in notes[0]


def test_plan_puts_newly_selected_pods_and_reports_who_stays_pending():
    kube = FakeKube()
    kube.add(r.NODES, node("small", "SA5.2XLARGE16", allocatable=2))
    kube.add(r.NODES, node("s5", "S5.LARGE8"))
    kube.add(r.PODS, pod("held", labels={"app": "old"}, node="small", sub_eni=True))
    kube.add(SGP, policy("old", labels={"app": "old"}))
    for name in ("api-a", "api-b", "api-c"):
        kube.add(r.PODS, pod(name, labels={"app": "api"}, node="s5"))
    new = [SecurityGroupPolicy.from_object(policy("api", labels={"app": "api"}))]
    plan = flow.capacity_report(ClusterView(kube), plan=new, plan_source="api.yaml")["plan"]
    assert plan["policies"] == ["shop/api"]
    assert plan["needSubEni"] == 3 and plan["fits"] == 1
    assert [p["pod"] for p in plan["wouldStayPending"]] == ["shop/api-b", "shop/api-c"]
    assert "sub-ENI quota full" in plan["wouldStayPending"][0]["reason"]
    assert [(p["pod"], p["node"]) for p in plan["placements"] if p["fits"]] == [("shop/api-a", "small")]
