"""Dotted add-on value paths, the merge UpdateAddon performs, type-keeping writes and the routing mode."""

from __future__ import annotations

import copy

import pytest

from sgpctl.core.addon_values import (
    DISABLE_TCP_EARLY_DEMUX,
    DISABLE_UDP_EARLY_DEMUX,
    ENFORCING_MODE,
    coerce_like,
    is_true,
    mode_of,
    patch_for,
    routing_patch,
    split_key,
    values_get,
    values_merge,
    values_set,
)
from sgpctl.errors import InputError

VALUES = {
    "vpcCni": {"securityGroups": {"securityGroups": ["sg-1"]}, "trunkingEni": {"enableSubEni": True}},
    "agent": {"config": {"disableTcpEarlyDemux": "false"}},
    "annotations": {"tke.cloud.tencent.com/x": "y"},
}


@pytest.mark.parametrize("key,expected", [
    ("vpcCni.trunkingEni.enableSubEni", True),
    ("vpcCni.securityGroups.securityGroups", ["sg-1"]),
    ("agent.config.disableTcpEarlyDemux", "false"),
    ("agent.config.disableUdpEarlyDemux", None),       # missing leaf
    ("nope.deeper.still", None),                       # missing parent
    ("vpcCni.trunkingEni.enableSubEni.more", None),    # parent is not a mapping
    (r"annotations.tke\.cloud\.tencent\.com/x", "y"),  # escaped dots stay in one key
])
def test_values_get(key, expected):
    assert values_get(VALUES, key) == expected


def test_values_get_default_and_none_values():
    assert values_get(None, "a.b", "dflt") == "dflt"
    assert values_get({"a": {"b": None}}, "a.b", "dflt") is None  # present but null is not missing


@pytest.mark.parametrize("key", ["", "a..b", ".a", "a."])
def test_bad_keys_are_input_errors(key):
    with pytest.raises(InputError):
        split_key(key)


def test_patch_for_builds_the_nested_object_the_api_takes():
    assert patch_for("vpcCni.trunkingEni.enableSubEni", True) == {"vpcCni": {"trunkingEni": {"enableSubEni": True}}}
    assert patch_for(r"a.b\.c", 1) == {"a": {"b.c": 1}}


def test_values_merge_is_deep_replaces_lists_and_does_not_mutate():
    base = copy.deepcopy(VALUES)
    patch = {"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "strict"},
                        "securityGroups": {"securityGroups": ["sg-2"]}}}
    merged = values_merge(base, patch)
    assert merged["vpcCni"]["trunkingEni"] == {"enableSubEni": True, "podSecurityGroupEnforcingMode": "strict"}
    assert merged["vpcCni"]["securityGroups"]["securityGroups"] == ["sg-2"]  # lists replace, as in Helm
    assert merged["agent"] == VALUES["agent"]
    assert base == VALUES  # inputs untouched
    merged["agent"]["config"]["x"] = 1
    assert "x" not in base["agent"]["config"]  # no shared sub-objects


def test_values_merge_none_deletes_and_scalar_replaces_object():
    assert values_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": None}}) == {"a": {"c": 2}}
    assert values_merge({"a": {"b": 1}}, {"a": "flat"}) == {"a": "flat"}
    assert values_merge(None, {"a": 1}) == {"a": 1}


def test_values_set_returns_a_new_dict_and_keeps_siblings():
    out = values_set(VALUES, ENFORCING_MODE, "strict")
    assert values_get(out, ENFORCING_MODE) == "strict"
    assert values_get(out, "vpcCni.trunkingEni.enableSubEni") is True
    assert values_get(VALUES, ENFORCING_MODE) is None
    assert values_set(None, "a.b", 1) == {"a": {"b": 1}}


def test_values_set_refuses_to_overwrite_a_scalar_parent():
    with pytest.raises(InputError, match="vpcCni.trunkingEni.enableSubEni holds bool"):
        values_set(VALUES, "vpcCni.trunkingEni.enableSubEni.deeper", 1)


@pytest.mark.parametrize("existing,new,expected", [
    (None, True, True),            # nothing there: the caller's type
    ("true", True, "true"),        # a chart that stores strings keeps strings
    ("false", True, "true"),
    ("True", False, "false"),
    (True, "true", True),          # and one that stores booleans keeps booleans
    (False, "TRUE", True),
    (True, "false", False),
    (True, "maybe", "maybe"),      # no translation: unchanged
    ("3", 5, "5"),
    (3, "7", 7),
    (3, "seven", "seven"),
    ("standard", "strict", "strict"),
    (["a"], True, True),
])
def test_coerce_like(existing, new, expected):
    got = coerce_like(existing, new)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("value,expected", [
    (True, True), ("true", True), (" TRUE ", True), (False, False), ("false", False), (None, False), (1, False),
])
def test_is_true(value, expected):
    assert is_true(value) is expected


@pytest.mark.parametrize("values,mode", [
    (None, "standard"),
    ({}, "standard"),
    ({"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "strict"}}}, "strict"),
    ({"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "standard"}}}, "standard"),
    ({"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "Strict"}}}, "standard"),  # exact only
    ({"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": ""}}}, "standard"),
])
def test_mode_of(values, mode):
    assert mode_of(values) == mode


def test_routing_patch_strict_sets_mode_and_both_demux_keeping_stored_types():
    patch = routing_patch(VALUES, "strict")
    assert patch == {
        "vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "strict"}},
        # disableTcpEarlyDemux is stored as a string: it stays one; Udp is absent: a boolean
        "agent": {"config": {"disableTcpEarlyDemux": "true", "disableUdpEarlyDemux": True}},
    }
    after = values_merge(VALUES, patch)
    assert mode_of(after) == "strict"
    assert is_true(values_get(after, DISABLE_TCP_EARLY_DEMUX)) and is_true(values_get(after, DISABLE_UDP_EARLY_DEMUX))
    assert after["vpcCni"]["securityGroups"] == VALUES["vpcCni"]["securityGroups"]


def test_routing_patch_standard_changes_only_the_mode():
    assert routing_patch(VALUES, "standard") == {"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "standard"}}}
    with pytest.raises(InputError):
        routing_patch(VALUES, "loose")


# --- whole-subtree patches and leaf-by-leaf read-backs ------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sgpctl.core.addon_values import (  # noqa: E402
    ABSENT,
    dotted,
    leaf_diff,
    leaves,
    replaced_top_level,
    subtree_patch,
)

ENIIPAMD = {"vpcCni": {"ipam": {"subnetIds": ["subnet-a"]}, "securityGroups": {"securityGroups": ["sg-1"]},
                       "trunkingEni": {"enableSubEni": False}},
            "agent": {"config": {"logLevel": 2}}}


def shallow_merge(current: dict, patch: dict) -> dict:
    """UpdateAddon's merge under the shallow reading: each top-level key sent replaces the one held."""
    return {**current, **patch}


def test_subtree_patch_sends_the_touched_top_level_keys_whole():
    patch = subtree_patch(ENIIPAMD, {"vpcCni.trunkingEni.enableSubEni": True})
    assert patch == {"vpcCni": {"ipam": {"subnetIds": ["subnet-a"]}, "securityGroups": {"securityGroups": ["sg-1"]},
                                "trunkingEni": {"enableSubEni": True}}}
    both = subtree_patch(ENIIPAMD, {"vpcCni.trunkingEni.podSecurityGroupEnforcingMode": "strict",
                                    "agent.config.disableTcpEarlyDemux": True})
    assert sorted(both) == ["agent", "vpcCni"] and both["agent"] == {"config": {"logLevel": 2, "disableTcpEarlyDemux": True}}
    assert ENIIPAMD["vpcCni"]["trunkingEni"] == {"enableSubEni": False}  # not modified


def test_leaf_diff_names_each_leaf_that_differs():
    after = {"vpcCni": {"securityGroups": {"securityGroups": ["sg-1"]}, "trunkingEni": {"enableSubEni": "true"}},
             "agent": {"config": {"logLevel": 2}}}
    assert leaf_diff(ENIIPAMD, after) == [(("vpcCni", "ipam", "subnetIds"), ["subnet-a"], ABSENT),
                                          (("vpcCni", "trunkingEni", "enableSubEni"), False, "true")]
    assert leaf_diff({"a": 1}, {"a": True}) == [(("a",), 1, True)]  # JSON keeps them apart
    assert leaf_diff({"a": {}}, {"a": {}}) == [] and leaves({"a": {}}) == {("a",): {}}
    assert dotted(("annotations", "tke.cloud.tencent.com/x")) == r"annotations.tke\.cloud\.tencent\.com/x"


_KEYS = st.sampled_from(["vpcCni", "agent", "ipamd", "trunkingEni", "config", "a.b"])
_SCALARS = st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "true", "strict"]),
                     st.lists(st.integers(0, 2), max_size=2))
_DOCS = st.dictionaries(_KEYS, st.recursive(_SCALARS, lambda inner: st.dictionaries(_KEYS, inner, max_size=3),
                                            max_leaves=12), max_size=3)
_CHANGES = st.dictionaries(st.sampled_from(["vpcCni.trunkingEni.enableSubEni", "agent.config.disableTcpEarlyDemux",
                                           "vpcCni.trunkingEni.podSecurityGroupEnforcingMode", "ipamd.replicas"]),
                          st.one_of(st.booleans(), st.sampled_from(["strict", "standard"])), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(_DOCS, _CHANGES)
def test_the_patch_ends_the_same_under_both_readings_of_merge_and_changes_only_the_wanted_leaves(doc, changes):
    from sgpctl.errors import InputError

    try:
        patch = subtree_patch(doc, changes)
    except InputError:
        return  # a wanted key under a parent that is not an object: refused, nothing sent
    deep, shallow = values_merge(doc, patch), shallow_merge(doc, patch)
    assert leaf_diff(deep, shallow) == []
    assert leaf_diff(replaced_top_level(doc, patch), deep) == []
    for key, value in changes.items():
        assert values_get(deep, key) == value
    # only the wanted leaves differ, or what stood where a wanted key's parent goes (an empty object)
    wanted = [tuple(k.split(".")) for k in changes]
    for path, _, _ in leaf_diff(doc, deep):
        assert any(path == w or w[:len(path)] == path for w in wanted), (path, changes)
