"""`verify_pods` with ENIs listed already (doctor's listing of the nodes' ENIs): each Pod's sub-ENI the
listing holds is taken from it, only the others are looked up by id, and the verdicts are those of a
lookup of every ENI by id."""

from __future__ import annotations

import pytest

from sgpctl.kube import resources as r
from sgpctl.workflows.verify import verify_pods
from sgpctl.workflows.view import ClusterView

from tests.fakes import SGP, VPCENI, FakeCloud, FakeKube, eni, node, pod, policy, vpceni


class Asked:
    """The VPC client, recording the ids looked up by id."""

    def __init__(self, vpc):
        self.vpc, self.ids = vpc, []

    def describe_network_interfaces(self, ids=None, filters=None, *, concurrency: int = 1):
        self.ids += list(ids or ())
        return self.vpc.describe_network_interfaces(ids, filters, concurrency=concurrency)


def world() -> tuple[FakeKube, FakeCloud]:
    kube, cloud = FakeKube(), FakeCloud()
    kube.add(r.NODES, node("10.0.0.10", "SA5.2XLARGE16", allocatable=8, provider_id="qcloud:///100003/ins-aaaaaaaa"))
    kube.add(SGP, policy("web", "shop"))
    for name, eni_id, groups in [("web-1", "eni-web00001", ("sg-web00001",)), ("web-2", "eni-web00002", ("sg-other001",))]:
        kube.add(r.PODS, pod(name, "shop", node="10.0.0.10", sub_eni=True))
        kube.add(VPCENI, vpceni(f"vpceni-{name}", eni_id, name))
        cloud.vpc.records[eni_id] = eni(eni_id, "ins-aaaaaaaa", groups=groups)
    return kube, cloud


def verdicts(report) -> dict:
    return {p.name: [(c.id, c.status.value) for c in p.checks] for p in report.pods}


def run(listing):
    kube, cloud = world()
    vpc = Asked(cloud.vpc)
    report = verify_pods(ClusterView(kube), vpc, listing=listing)
    return report, vpc.ids


def failing_listing():
    raise RuntimeError("the listing failed")


@pytest.mark.parametrize("listing,asked,held", [
    (None, ["eni-web00001", "eni-web00002"], None),
    (lambda: [eni("eni-web00001", "ins-aaaaaaaa")], ["eni-web00002"], 1),
    (lambda: [eni("eni-web00001", "ins-aaaaaaaa"), eni("eni-web00002", "ins-aaaaaaaa", groups=("sg-other001",))], [], 2),
    (lambda: [], ["eni-web00001", "eni-web00002"], 0),
    (failing_listing, ["eni-web00001", "eni-web00002"], None),
], ids=["no listing", "listing holds one", "listing holds both", "listing holds none", "listing failed"])
def test_only_what_the_listing_lacks_is_looked_up_by_id(listing, asked, held):
    report, ids = run(listing)
    assert sorted(ids) == asked
    # web-1's ENI has the policy's group; web-2's does not (whichever read found it)
    checks = verdicts(report)
    assert ("eni-groups", "pass") in checks["web-1"] and ("eni-groups", "fail") in checks["web-2"]
    assert verdicts(report) == verdicts(run(None)[0])
    evidence = " ".join(report.subenis_listed.evidence)
    if held is None:
        assert evidence == "DescribeNetworkInterfaces: 2 of the 2 sub-ENIs the VpcENIs name found"
    else:
        assert f"held {held} of the 2 sub-ENIs" in evidence
        assert ("by id" in evidence) == (held < 2)
