"""`snat check` at the workflow level: the audit and its checks over ip-masq-agent configurations,
with the strict-mode Pods, eniipamd's subnets and the cluster read through fakes."""

from __future__ import annotations

import pytest
import yaml

from sgpctl.core.checks import Status, run_checks
from sgpctl.errors import CloudError
from sgpctl.kube import resources as r
from sgpctl.workflows import snat
from sgpctl.workflows.view import ClusterView

from tests.fakes import SGP, FakeCloud, FakeKube, configmap, daemonset, pod, policy

SUBNET = "10.0.1.0/24"


def cluster(config_text: str | None = None, *, agent: bool = True, agent_args: list[str] | None = None,
            pods=None) -> tuple[FakeKube, FakeCloud]:
    kube, cloud = FakeKube(), FakeCloud()
    kube.add(SGP, policy())
    for p in pods if pods is not None else [pod("web-1", ip="10.0.1.10", sub_eni=True), pod("web-2", ip="10.0.1.11"),
                                            pod("other", labels={"app": "db"}, ip="10.0.1.99")]:
        kube.add(r.PODS, p)
    if agent:
        kube.add(r.DAEMONSETS, daemonset("ip-masq-agent", args=agent_args))
    if config_text is not None:
        kube.add(r.CONFIGMAPS, configmap("ip-masq-agent-config", {"config": config_text}))
    return kube, cloud


def run(kube, cloud):
    audit, _ = snat.audit_strict_pods(ClusterView(kube), cloud, "cls-fake0001")
    results = {res.id: res for res in run_checks(snat.snat_categories(), audit)}
    return audit, results


# (name, ConfigMap text or None, agent installed, status of snat-config, status of snat-pod-egress)
TABLE = [
    ("agent absent", None, False, Status.SKIP, Status.PASS),
    ("agent absent, a leftover ConfigMap", "NonMasqueradeCIDRs: []", False, Status.PASS, Status.PASS),
    ("defaults (no ConfigMap)", None, True, Status.PASS, Status.FAIL),
    ("destinations only", "NonMasqueradeCIDRs:\n- 10.0.0.0/8\n", True, Status.PASS, Status.FAIL),
    ("source exemption of the subnet", f"NonMasqueradeSrcCIDRs:\n- {SUBNET}\n", True, Status.PASS, Status.PASS),
    ("source exemption, upstream camelCase", "nonMasqueradeSrcCIDRs: [10.0.0.0/16]\n", True, Status.PASS, Status.PASS),
    ("source exemption of half the subnet", "NonMasqueradeSrcCIDRs: [10.0.1.0/25]\n", True, Status.PASS, Status.FAIL),
    ("bad YAML", "NonMasqueradeSrcCIDRs: [10.0.1.0/24\n", True, Status.FAIL, Status.FAIL),
    ("not a CIDR", "NonMasqueradeSrcCIDRs: [10.0.1.0]\n", True, Status.FAIL, Status.FAIL),
    ("unknown key", f"NonMasqueradeSrcCIDRs: [{SUBNET}]\nMasqueradeAll: true\n", True, Status.WARN, Status.WARN),
]


@pytest.mark.parametrize("name,text,agent,config_status,egress_status", TABLE, ids=[t[0] for t in TABLE])
def test_audit_table(name, text, agent, config_status, egress_status):
    kube, cloud = cluster(text, agent=agent)
    audit, results = run(kube, cloud)
    assert audit.agent_installed is agent
    assert results["snat-config"].status is config_status, results["snat-config"].message
    assert results["snat-pod-egress"].status is egress_status, results["snat-pod-egress"].message
    # eniipamd's subnet covers both strict-mode Pods: one network is checked, not a /32 per Pod
    assert audit.networks == [(SUBNET, snat.SOURCE_SUBNETS)]
    assert audit.strict_pods == 2


def test_snatted_pods_get_the_exact_change_and_a_config_that_passes():
    kube, cloud = cluster("NonMasqueradeCIDRs:\n- 10.0.0.0/8\nResyncInterval: 30s\n")
    audit, results = run(kube, cloud)
    egress = results["snat-pod-egress"]
    assert egress.status is Status.FAIL
    assert f"add {SUBNET} to NonMasqueradeSrcCIDRs" in egress.hint
    suggested = yaml.safe_load(audit.verdict.suggested_config)
    assert suggested == {"NonMasqueradeCIDRs": ["10.0.0.0/8"], "ResyncInterval": "30s", "NonMasqueradeSrcCIDRs": [SUBNET]}
    # Applying the suggestion makes the audit pass.
    kube.add(r.CONFIGMAPS, configmap("ip-masq-agent-config", {"config": audit.verdict.suggested_config}))
    _, again = run(kube, cloud)
    assert again["snat-pod-egress"].status is Status.PASS
    assert "NAT gateway" in again["snat-pod-egress"].hint


def test_agent_absent_says_pods_are_not_snatted_and_need_a_nat_gateway():
    kube, cloud = cluster(agent=False)
    _, results = run(kube, cloud)
    assert "not installed" in results["snat-agent"].message
    assert "NAT gateway" in results["snat-pod-egress"].hint


def test_the_add_on_counts_as_installed_without_the_daemonset():
    kube, cloud = cluster(agent=False)
    from tests.fakes import FakeAddon

    cloud.tke.addons["ip-masq-agent"] = FakeAddon("ip-masq-agent", "1.0.0")
    audit, results = run(kube, cloud)
    assert audit.agent_installed and audit.agent_found == ["add-on ip-masq-agent"]
    assert results["snat-pod-egress"].status is Status.FAIL


def test_subnets_unknown_falls_back_to_the_pod_ips_collapsed():
    kube, cloud = cluster("NonMasqueradeSrcCIDRs: [10.0.1.10/32]\n")
    cloud.failing["DescribeSubnets"] = CloudError("UnauthorizedOperation", "no permission")
    audit, results = run(kube, cloud)
    # 10.0.1.10 and 10.0.1.11 are exactly 10.0.1.10/31
    assert audit.networks == [("10.0.1.10/31", snat.SOURCE_POD_IPS)]
    assert any("DescribeSubnets" in n for n in audit.notes)
    egress = results["snat-pod-egress"]
    assert egress.status is Status.FAIL and "10.0.1.11/32" in egress.message


def test_many_pod_ips_collapse_into_few_networks():
    pods = [pod(f"web-{i}", ip=f"10.8.{i // 256}.{i % 256}") for i in range(1024)] + [pod("odd", ip="10.9.0.7")]
    kube, cloud = cluster("NonMasqueradeSrcCIDRs: [10.8.0.0/22]\n", pods=pods)
    audit, results = run(kube, cloud)
    assert audit.networks == [(SUBNET, snat.SOURCE_SUBNETS), ("10.8.0.0/22", snat.SOURCE_POD_IPS),
                              ("10.9.0.7/32", snat.SOURCE_POD_IPS)]
    assert results["snat-pod-egress"].status is Status.FAIL
    assert audit.verdict.snatted_cidrs == [SUBNET, "10.9.0.7/32"]


def test_pod_ips_outside_the_subnets_are_checked_as_well():
    kube, cloud = cluster(f"NonMasqueradeSrcCIDRs: [{SUBNET}]\n",
                          pods=[pod("web-1", ip="10.0.1.10"), pod("web-2", ip="10.9.0.5")])
    audit, results = run(kube, cloud)
    assert audit.networks == [(SUBNET, snat.SOURCE_SUBNETS), ("10.9.0.5/32", snat.SOURCE_POD_IPS)]
    assert results["snat-pod-egress"].status is Status.FAIL


def test_nomasq_all_reserved_ranges_flag_does_not_exempt_the_internet():
    kube, cloud = cluster(None, agent_args=["--nomasq-all-reserved-ranges"])
    audit, results = run(kube, cloud)
    assert "100.64.0.0/10" in audit.config.non_masquerade_cidrs
    assert results["snat-pod-egress"].status is Status.FAIL


def test_a_garbage_configmap_is_reported_not_raised():
    kube, cloud = cluster("- just\n- a list\n")
    audit, results = run(kube, cloud)
    assert results["snat-config"].status is Status.FAIL
    assert "mapping" in results["snat-config"].hint
    assert audit.to_dict()["verdict"]["status"] == "fail"


def test_pod_ips_outside_the_subnets_collapse_into_the_fewest_exact_cidrs():
    # worked by hand: .1 alone; .4-.7 is one /30; .8-.10 is a /31 and a /32; 10.0.1.0 alone
    ips = ["10.0.0.1", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9", "10.0.0.10", "10.0.1.0"]
    pods = [pod(f"p{i}", ip=ip) for i, ip in enumerate(reversed(ips))]
    assert snat.pod_networks(pods) == [("10.0.0.1/32", snat.SOURCE_POD_IPS), ("10.0.0.4/30", snat.SOURCE_POD_IPS),
                                       ("10.0.0.8/31", snat.SOURCE_POD_IPS), ("10.0.0.10/32", snat.SOURCE_POD_IPS),
                                       ("10.0.1.0/32", snat.SOURCE_POD_IPS)]
    assert snat.collapse_ipv4([1, 1, 2]) == ["0.0.0.1/32", "0.0.0.2/32"]  # an address given twice is one


def test_collapse_ipv4_gives_what_ipaddress_collapse_addresses_gives():
    import ipaddress

    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.sets(st.integers(min_value=0, max_value=600), max_size=200), st.sampled_from([0, 2**24 - 64, 2**32 - 601]))
    def same(offsets, base):
        addresses = {base + o for o in offsets}
        expected = [str(n) for n in ipaddress.collapse_addresses(ipaddress.IPv4Address(a) for a in sorted(addresses))]
        assert snat.collapse_ipv4(addresses) == expected

    same()
