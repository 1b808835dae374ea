"""The SNAT audit over ip-masq-agent configurations. Expectations are worked out by hand from the
agent's rules: a packet is not masqueraded when its source is in NonMasqueradeSrcCIDRs or its
destination in NonMasqueradeCIDRs (or link-local); strict Pods need that for every destination."""

from __future__ import annotations

import pytest
import yaml

from sgpctl.core import snat
from sgpctl.core.checks import Status
from sgpctl.core.snat import (
    ALL_RESERVED_RANGES,
    RFC1918_RANGES,
    agent_flags,
    agent_installed,
    configmap_manifest,
    evaluate,
    find_agent,
    nomasq_all_reserved_ranges,
    parse_config,
    pod_ips,
)
from sgpctl.errors import InputError

POD_SUBNET = ["10.0.1.0/24"]

TKE_STYLE = """\
NonMasqueradeCIDRs:
- 192.168.0.0/16
NonMasqueradeSrcCIDRs:
- 10.0.0.0/16
MasqLinkLocal: true
MasqLinkLocalIPv6: false
ResyncInterval: 1m0s
"""


# --------------------------------------------------------------------------------------------------
# evaluate: the table the issue asks for
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,installed,text,pods,status,exempt,snatted", [
    ("agent absent", False, None, POD_SUBNET, Status.PASS, ["10.0.1.0/24"], []),
    ("agent absent, ConfigMap irrelevant", False, "NonMasqueradeCIDRs: []", POD_SUBNET, Status.PASS,
     ["10.0.1.0/24"], []),
    # no ConfigMap: defaults exempt RFC 1918 destinations only, so internet egress is SNATed
    ("defaults", True, None, POD_SUBNET, Status.FAIL, [], ["10.0.1.0/24"]),
    ("empty config = defaults", True, "", POD_SUBNET, Status.FAIL, [], ["10.0.1.0/24"]),
    ("source exemption covers all", True, TKE_STYLE, ["10.0.1.0/24", "10.0.2.0/24"], Status.PASS,
     ["10.0.1.0/24", "10.0.2.0/24"], []),
    ("source exemption by adjacent halves", True, "NonMasqueradeSrcCIDRs: [10.0.1.0/25, 10.0.1.128/25]",
     POD_SUBNET, Status.PASS, ["10.0.1.0/24"], []),
    ("partial source exemption", True, "NonMasqueradeSrcCIDRs: [10.0.1.0/25]", POD_SUBNET, Status.FAIL,
     ["10.0.1.0/25"], ["10.0.1.128/25"]),
    ("one subnet of two exempt", True, "NonMasqueradeSrcCIDRs: [10.0.1.0/24]", ["10.0.1.0/24", "10.0.3.0/24"],
     Status.FAIL, ["10.0.1.0/24"], ["10.0.3.0/24"]),
    ("destination exemptions only", True, "NonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10, 8.8.8.8/32]",
     POD_SUBNET, Status.FAIL, [], ["10.0.1.0/24"]),
    ("every destination exempt", True, "NonMasqueradeCIDRs: [0.0.0.0/0]", POD_SUBNET, Status.PASS,
     ["10.0.1.0/24"], []),
    ("every destination exempt, two halves", True, "NonMasqueradeCIDRs: [0.0.0.0/1, 128.0.0.0/1]", POD_SUBNET,
     Status.PASS, ["10.0.1.0/24"], []),
    ("Pod IPs rather than subnets", True, "NonMasqueradeSrcCIDRs: [10.0.1.0/24]", ["10.0.1.7", "10.0.9.9"],
     Status.FAIL, ["10.0.1.7/32"], ["10.0.9.9/32"]),
    ("interface notation means the subnet", True, "NonMasqueradeSrcCIDRs: [10.0.1.0/24]", ["10.0.1.7/24"],
     Status.PASS, ["10.0.1.0/24"], []),
    ("JSON form", True, '{"NonMasqueradeCIDRs": [], "NonMasqueradeSrcCIDRs": ["10.0.0.0/8"]}', POD_SUBNET,
     Status.PASS, ["10.0.1.0/24"], []),
    ("camelCase keys", True, "nonMasqueradeCIDRs: []\nnonMasqueradeSrcCIDRs: [10.0.1.0/24]\n", POD_SUBNET,
     Status.PASS, ["10.0.1.0/24"], []),
    ("any casing, as Go's json matches", True, "NONMASQUERADESRCCIDRS: [10.0.1.0/24]", POD_SUBNET,
     Status.PASS, ["10.0.1.0/24"], []),
    ("no Pods to check", True, TKE_STYLE, [], Status.INFO, [], []),
])
def test_evaluate(name, installed, text, pods, status, exempt, snatted):
    config = parse_config(text) if text is not None else None
    verdict = evaluate(installed, config, pods)
    assert verdict.status is status, verdict.message
    assert verdict.exempt_cidrs == exempt
    assert verdict.snatted_cidrs == snatted


def test_absent_agent_passes_with_the_nat_gateway_note():
    verdict = evaluate(False, None, POD_SUBNET)
    assert "not installed" in verdict.message and "not SNATed" in verdict.message
    assert "NAT gateway" in verdict.hint
    assert verdict.suggested_config == ""


def test_defaults_fail_with_the_exact_change_and_a_loadable_snippet():
    verdict = evaluate(True, None, POD_SUBNET)
    assert verdict.hint.startswith("add 10.0.1.0/24 to NonMasqueradeSrcCIDRs in kube-system/ip-masq-agent-config")
    assert "internet" in verdict.message
    assert "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (default)" in " ".join(verdict.evidence)
    assert verdict.suggested_config == "NonMasqueradeSrcCIDRs:\n- 10.0.1.0/24\n"
    assert verdict.hint.endswith("becomes:\n" + verdict.suggested_config.rstrip())
    # the snippet loads and then passes
    assert evaluate(True, parse_config(verdict.suggested_config), POD_SUBNET).status is Status.PASS


def test_partial_exemption_names_only_the_uncovered_part():
    verdict = evaluate(True, parse_config("NonMasqueradeSrcCIDRs: [10.0.1.0/25]"), POD_SUBNET)
    assert verdict.hint.startswith("add 10.0.1.128/25 to NonMasqueradeSrcCIDRs")
    assert yaml.safe_load(verdict.suggested_config) == {"NonMasqueradeSrcCIDRs": ["10.0.1.0/25", "10.0.1.128/25"]}
    assert "10.0.1.0/24: partly exempt (10.0.1.0/25); SNATed from 10.0.1.128/25" in verdict.evidence


def test_suggestion_keeps_every_other_setting_and_the_files_spelling():
    text = "nonMasqueradeCIDRs: [192.168.0.0/16]\nmasqLinkLocal: true\nresyncInterval: 30s\n"
    verdict = evaluate(True, parse_config(text), ["10.0.2.0/24"])
    assert verdict.hint.startswith("add 10.0.2.0/24 to nonMasqueradeSrcCIDRs")
    assert yaml.safe_load(verdict.suggested_config) == {
        "nonMasqueradeCIDRs": ["192.168.0.0/16"], "masqLinkLocal": True, "resyncInterval": "30s",
        "nonMasqueradeSrcCIDRs": ["10.0.2.0/24"],
    }


def test_suggestion_extends_existing_source_exemptions():
    verdict = evaluate(True, parse_config(TKE_STYLE), ["10.1.0.0/24"])
    loaded = yaml.safe_load(verdict.suggested_config)
    assert loaded["NonMasqueradeSrcCIDRs"] == ["10.0.0.0/16", "10.1.0.0/24"]
    assert loaded["NonMasqueradeCIDRs"] == ["192.168.0.0/16"] and loaded["MasqLinkLocal"] is True


def test_masq_link_local_does_not_change_the_verdict_for_internet_egress():
    # link-local only adds 169.254.0.0/16 to the exempt destinations: still not every destination
    verdict = evaluate(True, parse_config("NonMasqueradeCIDRs: [0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/2]\n"
                                          "MasqLinkLocal: true"), POD_SUBNET)
    assert verdict.status is Status.PASS
    verdict = evaluate(True, parse_config("NonMasqueradeCIDRs: [0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/3]"), POD_SUBNET)
    assert verdict.status is Status.FAIL  # 224.0.0.0/3 is still masqueraded


def test_outcome_carries_status_message_hint_and_evidence():
    verdict = evaluate(True, None, POD_SUBNET)
    outcome = verdict.outcome()
    assert (outcome.status, outcome.message, outcome.hint) == (verdict.status, verdict.message, verdict.hint)
    assert outcome.evidence == verdict.evidence
    assert verdict.to_dict()["snattedCidrs"] == ["10.0.1.0/24"]


def test_bad_pod_cidr_is_an_input_error():
    with pytest.raises(InputError, match="not a Pod IP address or subnet"):
        evaluate(True, None, ["10.0.1.0/33"])


# --------------------------------------------------------------------------------------------------
# parse_config: malformed configuration is reported, never raised
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,severity,fragment", [
    ("NonMasqueradeCIDRs: [10.0.0.0/8", "error", "not valid YAML: line 1"),
    ('{"NonMasqueradeCIDRs": [}', "error", "not valid JSON"),
    ("- 10.0.0.0/8", "error", "must be a mapping, got list"),
    ("just text", "error", "must be a mapping, got string"),
    ("NonMasqueradeCIDRs: [10.0.0.0/33]", "error", "'10.0.0.0/33' is not a CIDR"),
    ("NonMasqueradeSrcCIDRs: [banana]", "error", "'banana' is not a CIDR"),
    ("NonMasqueradeCIDRs: [10.0.0.1/8]", "error", "not aligned to a CIDR block (the agent rejects it): use 10.0.0.0/8"),
    ("NonMasqueradeCIDRs: [10.0.0.0]", "error", "add the prefix length"),
    ("NonMasqueradeCIDRs: 10.0.0.0/8", "error", "must be a list of CIDR strings, got string"),
    ("NonMasqueradeCIDRs: [8]", "error", "entry 8 must be a CIDR string, got integer"),
    ("MasqLinkLocal: 'true'", "error", 'must be true or false, got string "true"'),
    ("ResyncInterval: 60", "error", "must be a duration string"),
    ("ResyncInterval: soon", "error", "must be a duration string"),
    ("CidrLimit: many", "error", "must be an integer"),
    ("CidrLimit: 1\nNonMasqueradeCIDRs: [10.0.0.0/8, 172.16.0.0/12]", "error", "more than the limit of 1"),
    ("NonMasqueradeSrcCidr: [10.0.1.0/24]", "warning", "did you mean NonMasqueradeSrcCIDRs?"),
    ("Foo: 1", "warning", "unknown field"),
    ("NonMasqueradeCIDRs: []\nnonMasqueradeCIDRs: [10.0.0.0/8]", "warning", "set twice"),
])
def test_problems_are_reported(text, severity, fragment):
    config = parse_config(text)
    assert any(p.severity == severity and fragment in p.message for p in config.problems), config.problems
    assert config.rejected is (severity == "error")


@pytest.mark.parametrize("text", ["NonMasqueradeCIDRs: [10.0.0.0/8", "NonMasqueradeSrcCIDRs: [banana, 10.0.1.0/24]"])
def test_a_rejected_config_fails_the_audit_and_offers_a_valid_one(text):
    verdict = evaluate(True, parse_config(text), POD_SUBNET)
    assert verdict.status is Status.FAIL
    assert "invalid" in verdict.message and "cannot be told" in verdict.message
    assert verdict.problems and verdict.problems[0].severity == "error"
    fixed = parse_config(verdict.suggested_config)
    assert not fixed.problems
    assert evaluate(True, fixed, POD_SUBNET).status is Status.PASS


def test_unknown_key_with_pods_exempt_is_a_warning():
    verdict = evaluate(True, parse_config("NonMasqueradeSrcCIDRs: [10.0.0.0/8]\nResync: 1m"), POD_SUBNET)
    assert verdict.status is Status.WARN and "Resync" in verdict.hint


def test_a_typo_in_the_source_key_is_caught_as_snat_plus_a_warning():
    verdict = evaluate(True, parse_config("NonMasqueradeSrcCidr: [10.0.1.0/24]"), POD_SUBNET)
    assert verdict.status is Status.FAIL
    assert any("did you mean NonMasqueradeSrcCIDRs" in e for e in verdict.evidence)


def test_missing_keys_take_the_defaults():
    config = parse_config("NonMasqueradeSrcCIDRs: [10.0.1.0/24]")
    assert config.non_masquerade_cidrs == RFC1918_RANGES  # only overwritten when given
    assert (config.masq_link_local, config.resync_interval, config.cidr_limit) == (False, "60s", 64)
    assert parse_config("NonMasqueradeCIDRs: []").non_masquerade_cidrs == ()
    assert parse_config("NonMasqueradeCIDRs: null").non_masquerade_cidrs == ()  # Go: nil slice


def test_all_reserved_ranges_flag_changes_only_the_default():
    assert parse_config(None, all_reserved_ranges=True).non_masquerade_cidrs == ALL_RESERVED_RANGES
    assert "100.64.0.0/10" in ALL_RESERVED_RANGES and "240.0.0.0/4" in ALL_RESERVED_RANGES
    assert len(ALL_RESERVED_RANGES) == 11
    assert parse_config("NonMasqueradeCIDRs: [10.0.0.0/8]", all_reserved_ranges=True).non_masquerade_cidrs == ("10.0.0.0/8",)


def test_duplicate_spellings_take_the_one_the_agent_decodes_last():
    # YAML goes through JSON with sorted keys: "nonMasq..." sorts after "NonMasq..." and wins
    assert parse_config("nonMasqueradeCIDRs: [10.0.0.0/8]\nNonMasqueradeCIDRs: []").non_masquerade_cidrs == ("10.0.0.0/8",)
    # JSON is decoded as written: the last one wins
    assert parse_config('{"nonMasqueradeCIDRs": ["10.0.0.0/8"], "NonMasqueradeCIDRs": []}').non_masquerade_cidrs == ()


def test_parse_config_imports_yaml_lazily():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(snat))
    top_level = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any("yaml" in ast.unparse(n) for n in top_level)


# --------------------------------------------------------------------------------------------------
# the agent's presence and flags, Pod addresses
# --------------------------------------------------------------------------------------------------

AGENT = {
    "metadata": {"name": "ip-masq-agent", "namespace": "kube-system"},
    "spec": {"template": {"spec": {"containers": [{"name": "agent", "args": ["--masq-chain=IP-MASQ-AGENT"]}]}}},
}


def test_agent_installed_by_daemonset_or_addon():
    assert agent_installed([AGENT]) and find_agent([AGENT]) is AGENT
    assert not agent_installed([{"metadata": {"name": "ip-masq-agent", "namespace": "default"}}])
    assert not agent_installed([{"metadata": {"name": "kube-proxy", "namespace": "kube-system"}}])
    assert agent_installed([], ["IP-Masq-Agent"])
    assert not agent_installed([], ["eniipamd"])


@pytest.mark.parametrize("args,expected", [
    (["--masq-chain=X"], False),
    (["--nomasq-all-reserved-ranges"], True),
    (["--nomasq-all-reserved-ranges=true"], True),
    (["-nomasq-all-reserved-ranges=false"], False),
])
def test_nomasq_all_reserved_ranges_flag(args, expected):
    ds = {"spec": {"template": {"spec": {"containers": [{"args": args}]}}}}
    assert nomasq_all_reserved_ranges(ds) is expected
    assert nomasq_all_reserved_ranges(None) is False


def test_agent_flags_feed_parse_config():
    ds = {"spec": {"template": {"spec": {"containers": [{"args": ["--enable-ipv6", "--nomasq-all-reserved-ranges=false"]}]}}}}
    assert agent_flags(ds) == {"all_reserved_ranges": False, "enable_ipv6": True}
    assert agent_flags(None) == {"all_reserved_ranges": False, "enable_ipv6": False}
    assert parse_config(None, **agent_flags(ds)).enable_ipv6 is True


def test_ipv6_egress_is_masqueraded_only_with_enable_ipv6():
    without = evaluate(True, None, ["10.0.1.0/24", "fd00:1::/64"])
    assert without.snatted_cidrs == ["10.0.1.0/24"] and without.exempt_cidrs == ["fd00:1::/64"]
    with_flag = evaluate(True, parse_config(None, enable_ipv6=True), ["fd00:1::/64"])
    assert with_flag.status is Status.FAIL and with_flag.snatted_cidrs == ["fd00:1::/64"]
    exempted = evaluate(True, parse_config("NonMasqueradeSrcCIDRs: [fd00::/16]", enable_ipv6=True), ["fd00:1::/64"])
    assert exempted.status is Status.PASS


def test_ipv6_destination_cidrs_need_enable_ipv6():
    assert parse_config("NonMasqueradeCIDRs: [fd00::/8]").rejected
    assert not parse_config("NonMasqueradeCIDRs: [fd00::/8]", enable_ipv6=True).rejected


def test_pod_ips():
    pods = [
        {"status": {"podIP": "10.0.1.5", "podIPs": [{"ip": "10.0.1.5"}, {"ip": "fd00::5"}]}},
        {"status": {"podIP": "10.0.1.6"}},
        {"status": {}},
        {"status": {"podIP": "10.0.1.6"}},
    ]
    assert pod_ips(pods) == ["10.0.1.5", "fd00::5", "10.0.1.6"]


def test_configmap_manifest_round_trips():
    doc = yaml.safe_load(configmap_manifest("NonMasqueradeSrcCIDRs:\n- 10.0.1.0/24\n"))
    assert doc["metadata"] == {"name": "ip-masq-agent-config", "namespace": "kube-system"}
    assert parse_config(doc["data"]["config"]).non_masquerade_src_cidrs == ("10.0.1.0/24",)
