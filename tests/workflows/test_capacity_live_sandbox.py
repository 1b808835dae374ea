"""Live `capacity` against the sandbox: quota sources before and after Trunking ENI is on, and
`capacity --plan` predicting exactly the Pods that stay Pending once the policy is applied and the
Deployment scaled."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NS = "my-namespace"
DEPLOYMENTS = "deployments.apps"


@pytest.fixture()
def sb(sandbox_cli):
    """The sandbox, callable as the CLI pointed at it."""
    return sandbox_cli("default", addon_delay=0.1, env={"SGPCTL_RETRY_MAX_ATTEMPTS": "2"})


def cli(sb, *args: str, expect: int = 0):
    r = sb(*args)
    assert r.exit_code == expect, r.output
    return r


def capacity(sb, *args: str) -> dict:
    return json.loads(cli(sb, "capacity", "-o", "json", *args).stdout)


def test_quota_sources_before_and_after_trunking(sb):
    mark = sb.log.mark()
    data = capacity(sb)
    # no node reports allocatable before Trunking ENI: one DescribeVpcCniPodLimits for every type, and
    # DescribeNetworkInterfaceLimit once per node (by the providerID's instance); each node gets the
    # smallest that applies, the instance's own figure named on a tie
    assert len(sb.log.since(mark, action="DescribeVpcCniPodLimits")) == 1
    calls = sb.log.since(mark, action="DescribeNetworkInterfaceLimit")
    assert sorted(c["params"]["InstanceId"] for c in calls) == sorted(
        n["spec"]["providerID"].rsplit("/", 1)[1] for n in sb.kube.list("nodes"))
    assert {n["quotaSource"] for n in data["nodes"]} == {"DescribeNetworkInterfaceLimit"}
    assert data["totals"]["quota"] == 100 + 100 + 256

    # that API failing: TKESubENI and the table still answer
    sb.faults.set("vpc.DescribeNetworkInterfaceLimit:5xx=1")
    data = capacity(sb)
    assert {n["quotaSource"] for n in data["nodes"]} == {"DescribeVpcCniPodLimits"}
    assert data["totals"]["quota"] == 456
    sb.faults.clear()

    cli(sb, "setup", "--yes", "--timeout", "30")
    sb.settle()
    mark = sb.log.mark()
    data = capacity(sb)
    assert {n["quotaSource"] for n in data["nodes"]} == {"allocatable"}
    assert not sb.log.since(mark, api="cloud")


def pin(sb, node: str, quota: int) -> None:
    """Give one node a small sub-ENI quota, as VPC would for an instance."""
    instance = next(n for n in sb.kube.list("nodes") if n["metadata"]["name"] == node)["spec"]["providerID"].rsplit("/", 1)[1]
    with sb.cloud.transaction():
        sb.cloud.instances[instance]["_sub_eni_quota"] = quota
    sb.resync()
    sb.settle()


def deployment(name: str, replicas: int, node: str) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"nodeSelector": {"kubernetes.io/hostname": node},
                                           "terminationGracePeriodSeconds": 0,
                                           "containers": [{"name": "app", "image": "nginx:1.25"}]}}}}


def scale(sb, name: str, replicas: int) -> None:
    d = sb.kube.get(DEPLOYMENTS, NS, name)
    d["spec"]["replicas"] = replicas
    sb.kube.update(DEPLOYMENTS, d)
    sb.settle()


def owner(pod_name: str) -> str:
    # Deployment Pods are <deployment>-<template hash>-<suffix>
    return pod_name.rsplit("-", 2)[0]


def test_plan_predicts_exactly_the_pods_that_stay_pending(sb, tmp_path):
    cli(sb, "setup", "--yes", "--timeout", "30")
    sb.settle()
    node = "10.0.0.10"  # SA5.2XLARGE16, quota 100 by default
    pin(sb, node, 3)
    sb.kube.create(DEPLOYMENTS, deployment("api", 5, node))
    sb.kube.create(DEPLOYMENTS, deployment("batch", 2, "10.0.32.10"))  # the 64-core node: room to spare
    sb.settle()
    assert sum(1 for p in sb.kube.list("pods", NS) if p["status"]["phase"] == "Running") == 2 + 5 + 2  # with web

    group = json.loads(cli(sb, "sg", "create", "api", "-o", "json").stdout)["securityGroup"]["securityGroupId"]
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"""apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1
kind: SecurityGroupPolicy
metadata: {{name: workers, namespace: {NS}}}
spec:
  podSelector:
    matchExpressions: [{{key: app, operator: In, values: [api, batch]}}]
  securityGroups: {{groupIds: [{group}]}}
""")
    data = capacity(sb, "--plan", str(policy))
    plan = data["plan"]
    assert plan["policies"] == [f"{NS}/workers"] and plan["needSubEni"] == 7
    predicted = Counter(owner(p["pod"].split("/", 1)[1]) for p in plan["wouldStayPending"])
    assert predicted == {"api": 2}
    assert all("sub-ENI quota full" in p["reason"] for p in plan["wouldStayPending"])
    fitted = Counter((owner(p["pod"].split("/", 1)[1]), p["node"]) for p in plan["placements"] if p["fits"])
    assert fitted == {("api", node): 3, ("batch", "10.0.32.10"): 2}
    # the plan changed nothing
    assert not sb.kube.list("securitygrouppolicies.vpcresources.tke.cloud.tencent.com", NS)

    cli(sb, "policy", "apply", "-f", str(policy))
    for name, replicas in (("api", 5), ("batch", 2)):
        scale(sb, name, 0)
        scale(sb, name, replicas)
    pods = [p for p in sb.kube.list("pods", NS) if owner(p["metadata"]["name"]) in ("api", "batch")]
    pending = [p for p in pods if p["status"]["phase"] == "Pending"]
    assert Counter(owner(p["metadata"]["name"]) for p in pending) == predicted
    assert all(not p["spec"].get("nodeName") for p in pending)
    running = Counter((owner(p["metadata"]["name"]), p["spec"]["nodeName"]) for p in pods if p["status"]["phase"] == "Running")
    assert running == fitted
    # and doctor names them
    r = sb("doctor", "--category", "pods", "-o", "json")
    pods_checks = {c["id"]: c for cat in json.loads(r.stdout)["categories"] for c in cat["checks"]}
    assert pods_checks["pods-pending-sub-eni"]["status"] == "fail"
    assert len(pods_checks["pods-pending-sub-eni"]["evidence"]) == 2
