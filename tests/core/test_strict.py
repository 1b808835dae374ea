"""Strict routing compatibility: each hazard present and absent, with evidence that names the objects."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sgpctl.core import snat
from sgpctl.core.checks import Status
from sgpctl.core.strict import (
    CHECK_IDS,
    MAX_NAMES,
    StrictInputs,
    check_early_demux,
    check_external_traffic_local,
    check_ipvs,
    check_networkpolicy,
    check_nodelocaldns,
    check_snat,
    detect_policy_controller,
    evaluate,
    kube_proxy_mode_from_configmap,
    strict_specs,
)


def pod(name, ns="shop", **labels):
    return {"metadata": {"name": name, "namespace": ns, "labels": labels}}


def ds(name, ns="kube-system", args=None):
    obj = {"metadata": {"name": name, "namespace": ns}}
    if args is not None:
        obj["spec"] = {"template": {"spec": {"containers": [{"name": name, "command": ["kube-proxy"], "args": args}]}}}
    return obj


def svc(name, selector, *, kind="LoadBalancer", etp="Local", ns="shop"):
    spec = {"type": kind, "selector": selector}
    if etp is not None:
        spec["externalTrafficPolicy"] = etp
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec}


def netpol(name, pod_selector, ns="shop"):
    spec = {} if pod_selector == "absent" else {"podSelector": pod_selector}
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec}


WEB = [pod("web-1", app="web", tier="front"), pod("web-2", app="web", tier="front")]
DB = [pod("db-0", app="db")]


# --------------------------------------------------------------------------------------------------
# Node LocalDNS
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("daemonsets,addons,found", [
    ([ds("node-local-dns")], [], "DaemonSet kube-system/node-local-dns"),
    ([ds("tke-nodelocaldns-agent")], [], "DaemonSet kube-system/tke-nodelocaldns-agent"),
    ([ds("Node_Local_DNS")], [], "DaemonSet kube-system/Node_Local_DNS"),
    ([], ["NodeLocalDNSCache"], "add-on NodeLocalDNSCache"),
])
def test_nodelocaldns_present_fails_naming_it(daemonsets, addons, found):
    out = check_nodelocaldns(daemonsets, addons)
    assert out.status is Status.FAIL
    assert found in out.evidence and found in out.message
    assert "uninstall" in out.hint


@pytest.mark.parametrize("daemonsets,addons", [
    ([ds("kube-proxy"), ds("tke-eni-agent"), ds("coredns")], ["eniipamd"]),
    ([ds("node-local-dns", ns="default")], []),  # not the cluster's: only kube-system counts
    ([], []),
])
def test_nodelocaldns_absent_passes(daemonsets, addons):
    assert check_nodelocaldns(daemonsets, addons).status is Status.PASS


# --------------------------------------------------------------------------------------------------
# NetworkPolicy
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy,selected", [
    (netpol("deny-all", {}), "web-1, web-2"),
    (netpol("implicit-all", "absent"), "db-0, web-1, web-2"),  # absent podSelector: every Pod
    (netpol("web-only", {"matchLabels": {"app": "web"}}), "web-1, web-2"),
    (netpol("front", {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}), "web-1, web-2"),
    (netpol("not-db", {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]}), "web-1, web-2"),
])
def test_networkpolicy_selecting_strict_pods_fails_naming_policy_and_pods(policy, selected):
    pods = WEB + DB if "implicit" in policy["metadata"]["name"] else WEB
    out = check_networkpolicy(pods, [policy])
    assert out.status is Status.FAIL
    assert f"NetworkPolicy shop/{policy['metadata']['name']} selects Pods {selected}" in out.evidence
    assert f"kubectl -n shop delete networkpolicy {policy['metadata']['name']}" in out.hint


@pytest.mark.parametrize("policies", [
    [netpol("db-only", {"matchLabels": {"app": "db"}})],
    [netpol("deny-all", {}, ns="other")],  # another namespace never selects shop's Pods
    [],
])
def test_networkpolicy_not_selecting_passes_without_a_controller(policies):
    assert check_networkpolicy(WEB, policies).status is Status.PASS


def test_other_networkpolicies_warn_when_a_controller_enforces_them():
    out = check_networkpolicy(WEB, [netpol("db-only", {"matchLabels": {"app": "db"}}),
                                    netpol("elsewhere", {}, ns="other")], "DaemonSet kube-system/kube-router")
    assert out.status is Status.WARN
    assert out.evidence == ["NetworkPolicy shop/db-only", "policy controller: DaemonSet kube-system/kube-router"]


def test_networkpolicy_with_no_strict_pods_passes():
    out = check_networkpolicy([], [netpol("deny-all", {})], "add-on NetworkPolicy")
    assert out.status is Status.PASS and "no strict-mode Pods" in out.message


@pytest.mark.parametrize("daemonsets,addons,expected", [
    ([ds("kube-router")], [], "DaemonSet kube-system/kube-router"),
    ([ds("calico-node")], [], "DaemonSet kube-system/calico-node"),
    ([ds("cilium")], [], "DaemonSet kube-system/cilium"),
    ([ds("tke-eni-agent")], ["NetworkPolicy"], "add-on NetworkPolicy"),
    ([ds("tke-eni-agent"), ds("kube-proxy")], ["eniipamd"], None),
])
def test_detect_policy_controller(daemonsets, addons, expected):
    assert detect_policy_controller(daemonsets, addons) == expected


def test_evidence_caps_long_pod_lists():
    many = [pod(f"web-{i:03d}", app="web") for i in range(MAX_NAMES + 5)]
    out = check_networkpolicy(many, [netpol("deny-all", {})])
    assert out.evidence[0].endswith("web-009 and 5 more")


# --------------------------------------------------------------------------------------------------
# IPVS
# --------------------------------------------------------------------------------------------------

def kube_proxy_cm(text):
    return {"metadata": {"name": "kube-proxy", "namespace": "kube-system"}, "data": {"config.conf": text}}


@pytest.mark.parametrize("kwargs,source", [
    ({"kube_proxy_mode": "ipvs"}, "cluster network settings: KubeProxyMode=ipvs"),
    ({"ipvs": True}, "cluster network settings: Ipvs=true"),
    ({"kube_proxy_configmap": kube_proxy_cm("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: ipvs\n")},
     "ConfigMap kube-system/kube-proxy config.conf: mode: ipvs"),
    ({"kube_proxy_configmap": kube_proxy_cm('{"mode": "ipvs"}')},
     "ConfigMap kube-system/kube-proxy config.conf: mode: ipvs"),
    ({"daemonsets": [ds("kube-proxy", args=["--proxy-mode=ipvs", "--v=2"])]},
     "DaemonSet kube-system/kube-proxy: --proxy-mode=ipvs"),
    ({"daemonsets": [ds("kube-proxy", args=["--proxy-mode", "ipvs"])]},
     "DaemonSet kube-system/kube-proxy: --proxy-mode=ipvs"),
    # sources disagree: any IPVS source fails, and the evidence shows both
    ({"kube_proxy_mode": "iptables", "kube_proxy_configmap": kube_proxy_cm("mode: ipvs")},
     "ConfigMap kube-system/kube-proxy config.conf: mode: ipvs"),
])
def test_ipvs_fails_naming_the_source(kwargs, source):
    out = check_ipvs(**kwargs)
    assert out.status is Status.FAIL
    assert source in out.evidence and source in out.message


@pytest.mark.parametrize("kwargs", [
    {"kube_proxy_mode": "iptables", "ipvs": False},
    {"kube_proxy_configmap": kube_proxy_cm("mode: iptables")},
    {"kube_proxy_configmap": kube_proxy_cm('mode: ""')},   # empty: iptables, kube-proxy's default
    {"daemonsets": [ds("kube-proxy", args=["--proxy-mode=iptables"])]},
])
def test_ipvs_absent_passes(kwargs):
    out = check_ipvs(**kwargs)
    assert out.status is Status.PASS and out.evidence


def test_ipvs_unknown_without_any_source():
    out = check_ipvs(kube_proxy_configmap=kube_proxy_cm("mode: [ipvs"), daemonsets=[ds("kube-proxy", args=[])])
    assert out.status is Status.SKIP and out.undetermined
    assert any("not valid YAML" in e for e in out.evidence)


@pytest.mark.parametrize("cm,expected", [
    (None, (None, None)),
    ({"data": {}}, (None, "has no config.conf")),
    (kube_proxy_cm(""), ("", None)),
    (kube_proxy_cm("mode: ipvs"), ("ipvs", None)),
    (kube_proxy_cm("- a"), (None, "config.conf is not a mapping")),
])
def test_kube_proxy_mode_from_configmap(cm, expected):
    assert kube_proxy_mode_from_configmap(cm) == expected


# --------------------------------------------------------------------------------------------------
# externalTrafficPolicy: Local
# --------------------------------------------------------------------------------------------------

def test_etp_local_service_reaching_strict_pods_fails_naming_service_and_pods():
    out = check_external_traffic_local(WEB + DB, [svc("web-lb", {"app": "web"}),
                                                  svc("db-np", {"app": "db"}, kind="NodePort")])
    assert out.status is Status.FAIL
    assert out.evidence == [
        "Service shop/web-lb (LoadBalancer, externalTrafficPolicy: Local) selects Pods web-1, web-2",
        "Service shop/db-np (NodePort, externalTrafficPolicy: Local) selects Pod db-0",
    ]
    assert """kubectl -n shop patch service web-lb -p '{"spec":{"externalTrafficPolicy":"Cluster"}}'""" in out.hint
    assert "kubectl -n shop patch service db-np" in out.hint


@pytest.mark.parametrize("service", [
    svc("web-lb", {"app": "web"}, etp="Cluster"),
    svc("web-lb", {"app": "web"}, etp=None),
    svc("web-ci", {"app": "web"}, kind="ClusterIP"),       # only NodePort/LoadBalancer matter
    svc("web-lb", {"app": "web", "tier": "back"}),         # every pair must match
    svc("web-lb", {}),                                     # an empty selector selects nothing
    svc("web-lb", {"app": "web"}, ns="other"),             # another namespace
])
def test_etp_local_not_reaching_strict_pods_passes(service):
    assert check_external_traffic_local(WEB, [service]).status is Status.PASS


# --------------------------------------------------------------------------------------------------
# early demux
# --------------------------------------------------------------------------------------------------

def demux(tcp=None, udp=None):
    config = {}
    if tcp is not None:
        config["disableTcpEarlyDemux"] = tcp
    if udp is not None:
        config["disableUdpEarlyDemux"] = udp
    return {"vpcCni": {"trunkingEni": {"enableSubEni": True}}, "agent": {"config": config}}


@pytest.mark.parametrize("values,wrong", [
    (demux(), ["agent.config.disableTcpEarlyDemux", "agent.config.disableUdpEarlyDemux"]),
    (demux(True, False), ["agent.config.disableUdpEarlyDemux"]),
    (demux("false", "true"), ["agent.config.disableTcpEarlyDemux"]),
    ({}, ["agent.config.disableTcpEarlyDemux", "agent.config.disableUdpEarlyDemux"]),
])
def test_early_demux_not_disabled_fails_with_the_keys_to_set(values, wrong):
    out = check_early_demux(values)
    assert out.status is Status.FAIL
    for key in wrong:
        assert f"{key}=true" in out.hint
    assert "sgpctl routing set strict" in out.hint


@pytest.mark.parametrize("values", [demux(True, True), demux("true", "TRUE")])
def test_early_demux_disabled_passes(values):
    out = check_early_demux(values)
    assert out.status is Status.PASS
    assert len(out.evidence) == 2


def test_early_demux_unknown_without_values():
    out = check_early_demux(None)
    assert out.undetermined


# --------------------------------------------------------------------------------------------------
# SNAT
# --------------------------------------------------------------------------------------------------

def test_snat_check_uses_the_verdict():
    assert check_snat(snat.evaluate(False, None, ["10.0.1.0/24"])).status is Status.PASS
    failed = check_snat(snat.evaluate(True, None, ["10.0.1.0/24"]))
    assert failed.status is Status.FAIL and "add 10.0.1.0/24 to NonMasqueradeSrcCIDRs" in failed.hint
    assert check_snat(None).undetermined


# --------------------------------------------------------------------------------------------------
# all six together
# --------------------------------------------------------------------------------------------------

HAZARDS = StrictInputs(
    pods=WEB,
    services=[svc("web-lb", {"app": "web"})],
    network_policies=[netpol("deny-all", {})],
    daemonsets=[ds("node-local-dns"), ds("ip-masq-agent"), ds("kube-proxy", args=["--proxy-mode=ipvs"])],
    eniipamd_values=demux(),
    snat=snat.evaluate(True, None, ["10.0.1.0/24"]),
)

CLEAN = StrictInputs(
    pods=WEB,
    services=[svc("web-lb", {"app": "web"}, etp="Cluster")],
    network_policies=[],
    daemonsets=[ds("kube-proxy", args=["--proxy-mode=iptables"])],
    kube_proxy_mode="iptables",
    ipvs=False,
    eniipamd_values=demux(True, True),
    snat=snat.evaluate(False, None, ["10.0.1.0/24"]),
)


def test_every_hazard_fails_with_its_id():
    results = evaluate(HAZARDS)
    assert [r.id for r in results] == list(CHECK_IDS)
    assert {r.id: r.status for r in results} == {i: Status.FAIL for i in CHECK_IDS}
    assert all(r.hint and r.evidence for r in results)
    assert all(r.category == "strict routing compatibility" for r in results)


def test_a_clean_cluster_passes_every_check():
    assert {r.id: r.status for r in evaluate(CLEAN)} == {i: Status.PASS for i in CHECK_IDS}


def test_an_error_in_one_check_fails_only_that_check():
    broken = replace(CLEAN, network_policies=[
        netpol("bad", {"matchExpressions": [{"key": "app", "operator": "Near"}]})])
    results = {r.id: r for r in evaluate(broken)}
    assert results["strict-networkpolicy"].status is Status.FAIL
    assert "Near" in results["strict-networkpolicy"].message
    assert sum(r.status is Status.PASS for r in results.values()) == 5


def test_strict_specs_read_inputs_from_a_larger_context_and_carry_requires():
    specs = strict_specs(lambda ctx: ctx["strict"], requires=("kube-reachable",))
    assert [s.id for s in specs] == list(CHECK_IDS)
    assert all(s.requires == ("kube-reachable",) for s in specs)
    assert specs[0].run({"strict": HAZARDS}).status is Status.FAIL
