"""How each unconfirmed API fact is read from an account's answers (``core.api_facts``), case by case.
Inputs are shaped as the API answers them (the SDK models, tccli's examples, karpenter-provider-tke's
ClusterProperty); expected readings follow from the variant each case stands for."""

from __future__ import annotations

import pytest

from sgpctl.core import api_facts as f
from sgpctl.kube.client import find_kind

VERSION_CASES = [
    # (id, AddonVersion, image tag, problem, (value, says they differ))
    ("both agree", "3.6.0", "v3.6.0", None, ("3.6.0", False)),
    ("AddonVersion is a chart version", "1.4.2", "v3.6.0", None, ("3.6.0", True)),
    ("a tke build suffix on the tag", "3.5.6", "v3.5.6-tke.1", None, ("3.5.6-tke.1", False)),
    ("no image tag: AddonVersion alone decides nothing", "3.6.0", None, "no cluster access", (None, False)),
    ("a tag that is not a version", "3.6.0", "latest", None, (None, False)),
]


@pytest.mark.parametrize("addon,tag,problem,expected", [c[1:] for c in VERSION_CASES], ids=[c[0] for c in VERSION_CASES])
def test_eniipamd_version_comes_from_the_image_tag(addon, tag, problem, expected):
    fact = f.eniipamd_version(addon, tag, problem)
    assert (fact.value, bool(fact.notes)) == expected
    assert any("AddonVersion" in e for e in fact.evidence) and any("image tag" in e for e in fact.evidence)
    if fact.value is None:
        assert "--confirm eniipamd-version" in fact.hint


PROPERTY_CASES = [
    # (id, Property, static IP, shared ENI)
    ("created as VPC-CNI", {"NetworkType": "VPC-CNI", "VpcCniType": "tke-route-eni", "IsNonStaticIpMode": False},
     True, True),
    ("exclusive ENI, non-static", {"NetworkType": "VPC-CNI", "VpcCniType": "tke-direct-eni", "IsNonStaticIpMode": True},
     False, False),
    ("booleans as strings", {"VpcCniType": "tke-route-eni", "IsNonStaticIpMode": "false"}, True, True),
    ("GR with VPC-CNI added, static",
     {"NetworkType": "GR", "MetaFeatureParam": {"FeatureType": "VPC-CNI", "NeedVpcLb": False, "StaticMode": True}},
     True, None),
    ("GR with VPC-CNI added, not static", {"NetworkType": "GR", "MetaFeatureParam": {"StaticMode": False}}, False, None),
    ("MetaFeatureParam as a nested JSON string", {"NetworkType": "GR", "MetaFeatureParam": '{"StaticMode":true}'}, True, None),
    ("a GR cluster without VPC-CNI", {"NetworkType": "GR"}, None, None),
]


@pytest.mark.parametrize("prop,static,shared", [c[1:] for c in PROPERTY_CASES], ids=[c[0] for c in PROPERTY_CASES])
def test_static_ip_and_shared_eni_from_property(prop, static, shared):
    s, e = f.static_ip(prop), f.shared_eni(prop)
    assert (s.value, e.value) == (static, shared)
    for fact, check_id in ((s, "network-static-ip"), (e, "network-shared-eni")):
        assert fact.evidence and all(x.startswith("DescribeClusters Property") for x in fact.evidence)
        if fact.value is None:
            assert f"--confirm {check_id}" in fact.hint


TRUNKING_CASES = [
    # (id, enableSubEni, EnableTrunkingENI, (value, conflict))
    ("both on", True, True, (True, False)),
    ("both off", False, False, (False, False)),
    ("a string true, agreeing", "true", True, (True, False)),
    ("values on, DescribeIPAMD off", True, False, (None, True)),
    ("values off, DescribeIPAMD on", False, True, (None, True)),
    ("DescribeIPAMD silent: the values alone", True, None, (True, False)),
]


@pytest.mark.parametrize("value,ipamd,expected", [c[1:] for c in TRUNKING_CASES], ids=[c[0] for c in TRUNKING_CASES])
def test_trunking_on_needs_both_sources_to_agree(value, ipamd, expected):
    fact = f.trunking_on({"vpcCni": {"trunkingEni": {"enableSubEni": value}}}, ipamd)
    assert (fact.value, fact.conflict) == expected
    assert fact.evidence[0].startswith("eniipamd values vpcCni.trunkingEni.enableSubEni")


@pytest.mark.parametrize("defaults,expected", [
    ({"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "standard"}}}, "standard"),
    ({"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "loose"}}}, "loose"),
    ({"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "strict"}}}, None),  # strict cannot mean standard
    ({"vpcCni": {"trunkingEni": {}}}, None),
    ({}, None),
])
def test_the_value_of_standard_routing_is_the_charts_default(defaults, expected):
    fact = f.standard_mode_value(defaults)
    assert fact.value == expected
    if expected is None:
        assert "--value VALUE" in fact.hint


SGP_CASES = [
    # (id, installed, charts (name, label), setting, value)
    ("installed", ["eniipamd", "securitygrouppolicy"], None, None, "securitygrouppolicy"),
    ("listed by name", ["eniipamd"], [("cbs", "{}"), ("security-group-policy", "{}")], None, "security-group-policy"),
    ("listed by label only", ["eniipamd"], [("sgp", '{"kind":"network","name":"SecurityGroupPolicy"}')], None, "sgp"),
    ("nothing matches", ["eniipamd"], [("cbs", "{}"), ("eniipamd", "{}")], None, None),
    ("two match", ["eniipamd"], [("securitygrouppolicy", ""), ("securitygroup-v2", "")], None, None),
    ("the user's setting wins", ["securitygrouppolicy"], None, ("sgp", "env SGPCTL_SGP_ADDON_NAME"), "sgp"),
]


@pytest.mark.parametrize("installed,charts,setting,value", [c[1:] for c in SGP_CASES], ids=[c[0] for c in SGP_CASES])
def test_the_sgp_add_on_name_is_discovered_or_not_guessed(installed, charts, setting, value):
    fact = f.sgp_addon_name(installed, charts, setting)
    assert fact.value == value
    if value is None:
        assert "--addon-name NAME" in fact.hint and "config set sgp-addon-name" in fact.hint
        assert any(e.startswith("GetTkeAppChartList: ") for e in fact.evidence)


@pytest.mark.parametrize("limits,value", [
    ([("SA2.LARGE8", 100), ("SA5.LARGE8", 100)], "type-max"),  # the API's own example: 100 for SA2
    ([("SA2.LARGE8", 0), ("SA5.LARGE8", 100)], "assigned"),
    ([("SA5.LARGE8", 100), ("S8.LARGE8", 100)], None),  # only listed families: cannot tell
    ([("SA2.LARGE8", None)], None),
])
def test_what_tkesubeni_means(limits, value):
    assert f.tkesubeni_meaning(limits).value == value


@pytest.mark.parametrize("rules,seen", [
    ([("sg-1", "TCP", "ALL")], "sg-1 holds a TCP rule described with Port ALL"),
    ([("sg-1", "udp", "all")], "sg-1 holds a udp rule described with Port all"),
    ([("sg-1", "TCP", "1-65535"), ("sg-1", "ALL", None), ("sg-1", "ICMP", "ALL")], "no TCP or UDP rule with Port ALL"),
    ([], "no TCP or UDP rule with Port ALL"),
])
def test_port_all_is_never_established_by_a_read(rules, seen):
    """A TCP rule described with Port ALL may have been created without a Port (the sandbox stores such
    a rule as ALL under either reading of sg-port-all): a read shows how the API describes it, not what
    a request may send."""
    fact = f.port_all(rules)
    assert fact.value is None and not fact.established
    assert seen in fact.message
    # either way it says what sgpctl itself writes for all ports: an explicit range, never ALL
    assert "1-65535" in fact.message and "sg create --allow-node-probes" in fact.message


def test_the_sub_eni_delete_action_is_never_established_by_a_read():
    """The seed's CAM policy grants vpc:DeleteSubNetworkInterface; the public API has only
    DeleteNetworkInterface, documented for ENIs: no read settles it, the check says so and what to do."""
    fact = f.subeni_delete_action()
    assert not fact.established and fact.value is None
    assert any("vpc:DeleteSubNetworkInterface" in e for e in fact.evidence)
    assert "DeleteNetworkInterface" in fact.message and "VPC console" in fact.hint


@pytest.mark.parametrize("mode,ipvs,value", [
    ("kube-proxy-bpf", None, "ipvs-bpf"),
    (None, True, "ipvs"),       # CreateCluster's documentation: ipvs is Ipvs true, KubeProxyMode unset
    ("ipvs", False, "ipvs"),    # tccli's DescribeClusters example
    (None, False, "iptables"),
    ("iptables", False, "iptables"),
    (None, None, None),
])
def test_kube_proxy_mode_readings(mode, ipvs, value):
    assert f.kube_proxy_reading(mode, ipvs).value == value


def test_sub_eni_listing_and_values_rendering_and_merge_depth():
    assert f.subeni_listed(3, 0).value is False and f.subeni_listed(3, 1).value is True
    assert f.subeni_listed(0, 0).value is None
    # doctor: a listing of the nodes' ENIs held some, the rest were looked up by id
    assert f.subeni_listed(3, 3, 3).value is True and f.subeni_listed(3, 0, 0).value is False
    assert f.subeni_listed(3, 2, 1).evidence == (
        "DescribeNetworkInterfaces by attachment.instance-id (the listing of the nodes' ENIs) held 1 of the 3 "
        "sub-ENIs the VpcENIs name", "DescribeNetworkInterfaces by id: 1 of the other 2 found")
    defaults = {"a": {"x": 1, "y": 2}}
    assert f.values_rendered({"a": {"x": 5}}, {"a": {"x": 5, "y": 2}}, defaults).value is True
    assert f.values_rendered({"a": {"x": 5}}, {"a": {"x": 5}}, defaults).value is False
    assert f.values_rendered({"a": {"x": 5, "y": 2}}, {"a": {"x": 5, "y": 2}}, defaults).value is None
    assert f.values_rendered(None, {"a": {"x": 5}}, defaults).value is None
    assert not f.merge_depth().established


DISCOVERY = [
    {"name": "vpcenis", "singularName": "vpceni", "kind": "VpcEni", "shortNames": ["vpceni"], "namespaced": False},
    {"name": "vpcenis/status", "singularName": "", "kind": "VpcEni", "namespaced": False},
    {"name": "vpcips", "singularName": "vpcip", "kind": "VpcIP", "shortNames": ["vip"], "namespaced": False},
]


def test_a_kind_is_found_whatever_its_spelling_as_kubectl_resolves_names():
    assert find_kind(DISCOVERY, "VpcENI")["name"] == "vpcenis"  # the seed spells it VpcEni
    assert find_kind(DISCOVERY, "VpcEni")["kind"] == "VpcEni"
    assert find_kind(DISCOVERY, "vip")["kind"] == "VpcIP"  # a short name
    assert find_kind(DISCOVERY, "VpcENIStatus") is None
    exact = [{"name": "a", "kind": "Thing"}, {"name": "b", "kind": "thing"}]
    assert find_kind(exact, "thing")["name"] == "b"  # the exact spelling first
