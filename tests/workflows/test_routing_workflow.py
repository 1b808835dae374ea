"""`routing check` / `routing set` / `routing status` at the workflow level, over fakes shaped like the
sandbox's strict-hazards scenario (the sandbox tests repeat the story against the real adapters)."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from sgpctl.backups import BackupStore
from sgpctl.core.checks import Status
from sgpctl.errors import RefusedError, UndeterminedError
from sgpctl.kube import resources as r
from sgpctl.workflows import routing
from sgpctl.workflows.view import ClusterView
from sgpctl.core.steps import CHANGED, FAILED, PLANNED, REFUSED, UNCHANGED
from sgpctl.workflows.waiting import Waiter

from tests.fakes import CLUSTER_ID, SGP, FakeCloud, FakeKube, configmap, daemonset, eniipamd, \
    network_policy, pod, policy, service

FAST = Waiter(timeout=5, interval=0, sleep=lambda s: None)


@pytest.fixture
def backups(tmp_path):
    return BackupStore(tmp_path / "backups")
HAZARD_IDS = ["strict-nodelocaldns", "strict-networkpolicy", "strict-ipvs", "strict-external-traffic-local", "strict-snat"]


def hazards() -> tuple[FakeKube, FakeCloud]:
    kube, cloud = FakeKube(), FakeCloud()
    eniipamd(cloud, values={"vpcCni": {"trunkingEni": {"enableSubEni": True}, "securityGroups": {"securityGroups": ["sg-node0001"]}},
                            "agent": {"config": {"disableTcpEarlyDemux": "false"}}})
    cloud.tke.cluster = dataclasses.replace(cloud.tke.cluster, kube_proxy_mode="ipvs", ipvs=True)
    kube.add(SGP, policy())
    kube.add(r.PODS, pod("web-7d4b9c6f5d-aaaaa", ip="10.0.1.10", sub_eni=True, owner=("ReplicaSet", "web-7d4b9c6f5d")))
    kube.add(r.PODS, pod("web-7d4b9c6f5d-bbbbb", ip="10.0.1.11", sub_eni=True, owner=("ReplicaSet", "web-7d4b9c6f5d")))
    kube.add(r.PODS, pod("db-0", labels={"app": "db"}, ip="10.0.1.12", owner=("StatefulSet", "db")))
    kube.add(r.DAEMONSETS, daemonset("node-local-dns"))
    kube.add(r.DAEMONSETS, daemonset("kube-proxy", args=["--proxy-mode=ipvs"]))
    kube.add(r.DAEMONSETS, daemonset("ip-masq-agent"))
    kube.add(r.CONFIGMAPS, configmap("kube-proxy", {"config.conf": "mode: ipvs\n"}))
    kube.add(r.CONFIGMAPS, configmap("ip-masq-agent-config", {"config": "NonMasqueradeCIDRs: [10.0.0.0/8]\n"}))
    kube.add(r.NETWORKPOLICIES, network_policy("deny-web"))
    kube.add(r.SERVICES, service("web-lb"))
    kube.add(r.SERVICES, service("db", selector={"app": "db"}))  # reaches no strict-mode Pod
    return kube, cloud


def check(kube, cloud, namespace=None):
    facts = routing.gather(ClusterView(kube, namespace=namespace), cloud, CLUSTER_ID)
    return facts, {res.id: res for res in routing.check_results(facts)}


def test_check_names_every_hazard_with_its_object():
    kube, cloud = hazards()
    facts, results = check(kube, cloud)
    assert [f"{m.namespace}/{m.name}" for m in facts.matches] == ["shop/web-7d4b9c6f5d-aaaaa", "shop/web-7d4b9c6f5d-bbbbb"]
    for check_id in HAZARD_IDS:
        assert results[check_id].status is Status.FAIL, check_id
    assert "DaemonSet kube-system/node-local-dns" in results["strict-nodelocaldns"].evidence
    assert any("NetworkPolicy shop/deny-web selects Pods web-7d4b9c6f5d-aaaaa" in e for e in results["strict-networkpolicy"].evidence)
    ipvs = results["strict-ipvs"].evidence
    assert "cluster network settings: KubeProxyMode=ipvs" in ipvs
    assert any("ConfigMap kube-system/kube-proxy" in e for e in ipvs)
    assert any("DaemonSet kube-system/kube-proxy: --proxy-mode=ipvs" in e for e in ipvs)
    etl = results["strict-external-traffic-local"]
    assert any(e.startswith("Service shop/web-lb (LoadBalancer") for e in etl.evidence)
    assert not any("shop/db" in e for e in etl.evidence)
    assert "patch service web-lb" in etl.hint
    assert "10.0.1.0/24" in results["strict-snat"].message
    # not yet strict: `routing set strict` fixes early demux itself, so it only warns
    assert results["strict-early-demux"].status is Status.WARN
    assert results["routing-mode"].status is Status.INFO and "standard routing; 2 strict-mode Pods" in results["routing-mode"].message


def test_check_reads_the_cluster_with_a_constant_number_of_calls():
    kube, cloud = hazards()
    check(kube, cloud)
    small = kube.calls
    for i in range(50):
        kube.add(r.PODS, pod(f"web-many-{i}", ip=f"10.0.1.{100 + i}", sub_eni=True))
    kube.calls = 0
    cloud.log.clear()
    check(kube, cloud)
    assert kube.calls == small
    # the probes-and-DNS check adds the rules of the Pods' one group and the listing of the VPC's subnets
    assert sorted(a for _, a, _ in cloud.log) == sorted(
        ["DescribeClusters", "DescribeAddon", "DescribeAddonValues", "DescribeIPAMD", "DescribeSubnets",
         "DescribeSecurityGroupPolicies", "DescribeSubnets"])


def test_set_strict_refuses_while_a_hazard_remains_naming_the_checks():
    kube, cloud = hazards()
    plan = routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "strict")
    out = routing.apply_routing(cloud.tke, plan, waiter=FAST)
    assert not out.ok
    compat = out.steps[0]
    assert compat.status == REFUSED
    assert compat.details["failedChecks"] == HAZARD_IDS
    assert "--force" in compat.hint
    assert cloud.actions(mutating=True) == []


def fix_all(kube: FakeKube, cloud: FakeCloud) -> None:
    kube.delete(r.DAEMONSETS, "node-local-dns", "kube-system")
    kube.delete(r.NETWORKPOLICIES, "deny-web", "shop")
    cloud.tke.cluster = dataclasses.replace(cloud.tke.cluster, kube_proxy_mode="iptables", ipvs=False)
    kube.add(r.CONFIGMAPS, configmap("kube-proxy", {"config.conf": "mode: iptables\n"}))
    kube.add(r.DAEMONSETS, daemonset("kube-proxy"))
    kube.add(r.CONFIGMAPS, configmap("ip-masq-agent-config", {"config": "NonMasqueradeCIDRs: [10.0.0.0/8]\nNonMasqueradeSrcCIDRs: [10.0.1.0/24]\n"}))
    svc = service("web-lb", etp="Cluster")
    kube.add(r.SERVICES, svc)


def test_fixing_each_hazard_clears_exactly_its_check():
    kube, cloud = hazards()
    steps = [
        ("strict-nodelocaldns", lambda: kube.delete(r.DAEMONSETS, "node-local-dns", "kube-system")),
        ("strict-networkpolicy", lambda: kube.delete(r.NETWORKPOLICIES, "deny-web", "shop")),
        ("strict-ipvs", lambda: (setattr(cloud.tke, "cluster", dataclasses.replace(cloud.tke.cluster, kube_proxy_mode="iptables", ipvs=False)),
                                 kube.add(r.CONFIGMAPS, configmap("kube-proxy", {"config.conf": "mode: iptables\n"})),
                                 kube.add(r.DAEMONSETS, daemonset("kube-proxy")))),
        ("strict-snat", lambda: kube.add(r.CONFIGMAPS, configmap("ip-masq-agent-config", {"config": "NonMasqueradeSrcCIDRs: [10.0.1.0/24]\n"}))),
        ("strict-external-traffic-local", lambda: kube.add(r.SERVICES, service("web-lb", etp="Cluster"))),
    ]
    remaining = list(HAZARD_IDS)
    for fixed, fix in steps:
        fix()
        remaining.remove(fixed)
        _, results = check(kube, cloud)
        assert sorted(i for i, res in results.items() if res.status is Status.FAIL) == sorted(remaining), fixed


def test_set_strict_after_the_fixes_sets_three_values_in_one_merge_and_keeps_the_rest(backups):
    kube, cloud = hazards()
    fix_all(kube, cloud)
    plan = routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "strict")
    assert routing.routing_outcome(plan, dry_run=True).steps[-1].status == PLANNED
    out = routing.apply_routing(cloud.tke, plan, waiter=FAST, backups=backups)
    assert out.ok, out.to_dict()
    assert [s.status for s in out.steps] == [UNCHANGED, CHANGED, UNCHANGED]
    (update,) = cloud.tke.updates
    assert update["strategy"] == "merge"
    # vpcCni and agent are sent whole (the chart's defaults included), with the three values set: the
    # string "false" stays a string, the absent UDP setting becomes a boolean.
    assert update["values"] == {
        "vpcCni": {"securityGroups": {"securityGroups": ["sg-node0001"]},
                   "trunkingEni": {"enableSubEni": True, "podSecurityGroupEnforcingMode": "strict"}},
        "agent": {"config": {"logLevel": 2, "disableTcpEarlyDemux": "true", "disableUdpEarlyDemux": True}}}
    assert cloud.tke.addons["eniipamd"].values == update["values"]
    assert "backup" in out.steps[1].details
    rebuild = out.extra["rebuild"]
    assert rebuild == [{"namespace": "shop", "pods": ["web-7d4b9c6f5d-aaaaa", "web-7d4b9c6f5d-bbbbb"],
                        "owners": ["deployment/web"], "barePods": [],
                        "commands": ["sgpctl policy rollout -n shop --all"]}]
    assert "only new Pods get strict routing" in out.steps[-1].message

    # Idempotent: a second run changes nothing and makes no call that mutates.
    again = routing.apply_routing(cloud.tke, routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "strict"),
                                  waiter=FAST, backups=backups)
    assert again.ok and not again.changed
    assert "already strict" in again.steps[-1].message
    assert len(cloud.tke.updates) == 1
    # Now strict: early demux is held to the real standard, and it is met.
    _, results = check(kube, cloud)
    assert results["strict-early-demux"].status is Status.PASS


def test_force_switches_despite_hazards(backups):
    kube, cloud = hazards()
    out = routing.apply_routing(cloud.tke, routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "strict"), force=True,
                                waiter=FAST, backups=backups)
    assert out.ok and out.changed
    assert "--force" in out.steps[0].message


def strict_now(cloud, default_mode=None):
    eni = cloud.tke.addons["eniipamd"]
    eni.values["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] = "strict"
    eni.values["agent"]["config"] = {"disableTcpEarlyDemux": True, "disableUdpEarlyDemux": True}
    if default_mode is not None:
        eni.defaults["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] = default_mode


def test_standard_writes_back_the_charts_default_and_changes_only_the_mode(backups):
    kube, cloud = hazards()
    strict_now(cloud, default_mode="loose")
    out = routing.apply_routing(cloud.tke, routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "standard"),
                                waiter=FAST, backups=backups)
    assert out.ok
    (update,) = cloud.tke.updates
    assert update["values"]["vpcCni"]["trunkingEni"] == {"enableSubEni": True, "podSecurityGroupEnforcingMode": "loose"}
    assert list(update["values"]) == ["vpcCni"]  # agent (demux) untouched


def test_standard_without_a_default_stops_before_anything_until_value_names_it(backups):
    kube, cloud = hazards()
    strict_now(cloud)
    with pytest.raises(UndeterminedError, match="DefaultValues") as e:
        routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "standard")
    assert "--value" in e.value.hint and cloud.tke.updates == []
    plan = routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "standard", standard_value="standard")
    assert routing.apply_routing(cloud.tke, plan, waiter=FAST, backups=backups).ok
    assert cloud.tke.addons["eniipamd"].values["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] == "standard"


def test_in_strict_mode_missing_demux_fails_the_check():
    kube, cloud = hazards()
    fix_all(kube, cloud)
    cloud.tke.addons["eniipamd"].values["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] = "strict"
    _, results = check(kube, cloud)
    assert results["strict-early-demux"].status is Status.FAIL


def test_a_value_that_does_not_read_back_fails_with_the_restore_command(backups):
    kube, cloud = hazards()
    fix_all(kube, cloud)
    plan = routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "strict")
    real_update = cloud.tke.update_addon

    def lossy(*a, **kw):
        real_update(*a, **kw)
        cloud.tke.addons["eniipamd"].values["vpcCni"]["trunkingEni"].pop("podSecurityGroupEnforcingMode")

    cloud.tke.update_addon = lossy
    out = routing.apply_routing(cloud.tke, plan, waiter=FAST, backups=backups)
    step = out.steps[1]
    assert step.status == FAILED and out.exit_code == 1
    assert 'vpcCni.trunkingEni.podSecurityGroupEnforcingMode: expected "strict", reads (absent)' in step.message
    assert "sgpctl addon restore eniipamd --from " in step.hint


def test_status_reports_mode_values_and_phase():
    kube, cloud = hazards()
    st = routing.routing_status(cloud.tke, CLUSTER_ID)
    assert st["mode"] == "standard" and st["ok"]
    assert st["values"] == {"vpcCni.trunkingEni.podSecurityGroupEnforcingMode": None,
                            "agent.config.disableTcpEarlyDemux": "false", "agent.config.disableUdpEarlyDemux": None}
    del cloud.tke.addons["eniipamd"]
    assert routing.routing_status(cloud.tke, CLUSTER_ID)["ok"] is False
    with pytest.raises(RefusedError, match="eniipamd"):
        routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "strict")


def test_namespace_scope_narrows_the_pods():
    kube, cloud = hazards()
    facts, results = check(kube, cloud, namespace="other")
    assert facts.matches == []
    assert results["strict-networkpolicy"].status is Status.PASS
    # cluster-wide hazards remain
    assert results["strict-nodelocaldns"].status is Status.FAIL


def test_already_strict_is_nothing_to_change_even_while_a_check_fails(backups):
    kube, cloud = hazards()
    routing.apply_routing(cloud.tke, routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "strict"), force=True,
                          waiter=FAST, backups=backups)
    again = routing.apply_routing(cloud.tke, routing.plan_routing(ClusterView(kube), cloud, CLUSTER_ID, "strict"),
                                  waiter=FAST, backups=backups)
    assert again.ok and not again.changed
    assert again.steps[0].message.startswith("already strict, though `routing check` fails: Node LocalDNS")
    assert len(cloud.tke.updates) == 1
