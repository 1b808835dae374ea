from sgpctl.core.checks import Status
from sgpctl.core.preconditions import ClusterNetwork, trunking_enabled, trunking_preconditions

GOOD = dict(network_type="VPC-CNI", ipamd_enabled=True, vpc_cni_disabled=False, vpc_cni_type="tke-route-eni",
            non_static_ip=False, eniipamd_version="3.5.6", eniipamd_installed=True)


def checks(**changes):
    return trunking_preconditions(ClusterNetwork(**{**GOOD, **changes}))


def failing(**changes):
    return [c.id for c in checks(**changes) if c.status is Status.FAIL]


def test_a_cluster_that_meets_every_precondition():
    results = checks()
    assert [c.status for c in results] == [Status.PASS] * 4
    assert [c.category for c in results] == ["network-mode"] * 4


def test_each_failure_is_named_with_a_hint():
    assert failing(network_type="GR", ipamd_enabled=False) == ["network-vpc-cni"]
    assert failing(vpc_cni_type="tke-direct-eni") == ["network-shared-eni"]
    assert failing(non_static_ip=True) == ["network-static-ip"]
    assert failing(eniipamd_version="v3.5.5") == ["eniipamd-version"]
    assert failing(eniipamd_installed=False, eniipamd_version=None) == ["eniipamd-version"]
    conds = checks(non_static_ip=True, eniipamd_version="3.5.2")
    assert all(c.hint for c in conds if c.status is Status.FAIL)


def test_ipamd_enabled_counts_as_vpc_cni_when_property_is_silent():
    assert failing(network_type=None) == []
    assert failing(network_type=None, vpc_cni_disabled=True) == ["network-vpc-cni"]


def test_unknown_values_are_undetermined_not_failed():
    conds = {c.id: c for c in checks(vpc_cni_type=None, eniipamd_version="dev")}
    assert conds["network-shared-eni"].undetermined and conds["network-shared-eni"].status is Status.SKIP
    assert conds["eniipamd-version"].undetermined
    assert not conds["network-vpc-cni"].undetermined


def test_trunking_is_on_when_the_effective_value_is_true():
    assert trunking_enabled({"vpcCni": {"trunkingEni": {"enableSubEni": True}}}).status is Status.PASS
    assert trunking_enabled({"vpcCni": {"trunkingEni": {"enableSubEni": "true"}}}).status is Status.PASS
    off = trunking_enabled({"vpcCni": {"trunkingEni": {"enableSubEni": "false"}}}, "run it")
    assert off.status is Status.FAIL and off.hint == "run it" and "'false'" in off.message
    assert trunking_enabled({}).status is Status.FAIL
