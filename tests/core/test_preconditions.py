from sgpctl.core.preconditions import trunking_preconditions

GOOD = dict(network_type="VPC-CNI", ipamd_enabled=True, vpc_cni_disabled=False, vpc_cni_type="tke-route-eni",
            non_static_ip=False, eniipamd_version="3.5.6", eniipamd_installed=True)


def failing(**changes):
    return [c.id for c in trunking_preconditions(**{**GOOD, **changes}) if c.ok is False]


def test_a_cluster_that_meets_every_precondition():
    assert all(c.ok for c in trunking_preconditions(**GOOD))


def test_each_failure_is_named_with_a_hint():
    assert failing(network_type="GR", ipamd_enabled=False) == ["network-vpc-cni"]
    assert failing(vpc_cni_type="tke-direct-eni") == ["network-shared-eni"]
    assert failing(non_static_ip=True) == ["network-static-ip"]
    assert failing(eniipamd_version="v3.5.5") == ["eniipamd-version"]
    assert failing(eniipamd_installed=False, eniipamd_version=None) == ["eniipamd-version"]
    conds = trunking_preconditions(**{**GOOD, "non_static_ip": True, "eniipamd_version": "3.5.2"})
    assert all(c.hint for c in conds if c.ok is False)


def test_ipamd_enabled_counts_as_vpc_cni_when_property_is_silent():
    assert failing(network_type=None) == []
    assert failing(network_type=None, vpc_cni_disabled=True) == ["network-vpc-cni"]


def test_unknown_values_are_undetermined_not_failed():
    conds = {c.id: c for c in trunking_preconditions(**{**GOOD, "vpc_cni_type": None, "eniipamd_version": "dev"})}
    assert conds["network-shared-eni"].ok is None
    assert conds["eniipamd-version"].ok is None
