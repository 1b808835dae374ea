"""Sandbox variants: the registry, `--variant KEY=VALUE` (validated, exit 2 naming what is allowed),
`sandbox variants`, persistence with the state and `sandbox status`, and the matrix harness that
starts a sandbox under each variant value."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sgpctl.cli.app import app
from sgpctl.errors import ExitCode, InputError
from sgpctl.sandbox import variants
from tests.sandbox_support import (  # noqa: F401  (sandbox_under_variant is a fixture)
    VARIANT_CASES,
    cloud_client,
    running_sandbox,
    sandbox_under_variant,
    sdk_request,
)

runner = CliRunner()

#: the readings issue #9 and #15 name, each with its values (the first is today's behaviour)
NAMED = {
    "addon-merge": ("deep", "shallow"),
    "sgp-addon-listed": ("true", "false"),
    "vpceni-kind": ("VpcENI", "VpcEni"),
    "eniipamd-version": ("addon", "chart"),
    "tkesubeni": ("assigned", "type-max"),
    "subeni-listed": ("true", "false"),
    "sg-port-all": ("accept", "reject"),
    "network": ("vpc-cni", "gr-vpc-cni"),
    "client-token-allowlist": ("true", "false"),
    "subeni-delete": ("delete-network-interface", "none"),
}


def test_every_reading_the_issues_name_is_a_variant_whose_default_is_todays_behaviour():
    for key, values in NAMED.items():
        v = variants.REGISTRY[key]
        assert set(values) <= set(v.values) and v.default == values[0], key
    assert set(variants.REGISTRY["kube-proxy"].values) >= {"iptables", "ipvs", "ipvs-bpf"}
    assert variants.REGISTRY["sgp-addon-name"].default == "securitygrouppolicy"
    assert variants.REGISTRY["enforcing-mode-default"].default == "standard"
    for v in variants.REGISTRY.values():
        assert v.meaning.endswith(".") and v.meaning[0].isupper(), v.key  # one sentence
        assert not v.values or v.default in v.values


def test_parse_keeps_only_what_differs_from_the_default():
    assert variants.parse(["addon-merge=shallow", "vpceni-kind=VpcENI", "sgp-addon-name=sgp"]) == {
        "addon-merge": "shallow", "sgp-addon-name": "sgp"}
    assert variants.parse([]) == {}
    assert variants.spec({"vpceni-kind": "VpcEni", "addon-merge": "shallow"}) == "addon-merge=shallow,vpceni-kind=VpcEni"


@pytest.mark.parametrize("items, words", [
    (["merge=deep"], "unknown sandbox variant 'merge'"),
    (["addon-merge=wide"], "variant addon-merge has no value 'wide'"),
    (["addon-merge"], "--variant needs KEY=VALUE"),
    (["sgp-addon-name=Security_Group"], "variant sgp-addon-name needs NAME"),
    (["addon-merge=deep", "addon-merge=shallow"], "given twice"),
])
def test_bad_variants_are_input_errors_naming_what_is_allowed(items, words):
    with pytest.raises(InputError) as e:
        variants.parse(items)
    assert e.value.exit_code == ExitCode.USAGE and words in e.value.message
    assert e.value.hint


def test_the_cli_refuses_a_bad_variant_before_starting_anything(tmp_path):
    r = runner.invoke(app, ["sandbox", "up", "--state-dir", str(tmp_path / "sd"), "--variant", "addon-merge=wide"])
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == "error: variant addon-merge has no value 'wide'"
    assert "deep, shallow" in r.stderr
    r = runner.invoke(app, ["sandbox", "up", "--state-dir", str(tmp_path / "sd"), "--variant", "colour=blue"])
    assert r.exit_code == 2 and "addon-merge" in r.stderr and "sgp-addon-name" in r.stderr
    assert not (tmp_path / "sd" / "state.json").exists()


def test_sandbox_variants_lists_each_with_values_default_and_meaning():
    data = json.loads(runner.invoke(app, ["sandbox", "variants", "-o", "json"]).stdout)
    by_key = {d["key"]: d for d in data}
    assert set(by_key) == set(variants.REGISTRY)
    assert by_key["addon-merge"]["values"] == ["deep", "shallow"] and by_key["addon-merge"]["default"] == "deep"
    assert by_key["sgp-addon-name"]["values"] is None and by_key["sgp-addon-name"]["valueForm"].startswith("NAME")
    text = runner.invoke(app, ["sandbox", "variants"]).stdout
    assert "addon-merge=deep|shallow  (default deep)" in text
    assert "sgp-addon-name=NAME  (default securitygrouppolicy;" in text


def test_variants_persist_with_the_state_and_show_in_status(tmp_path):
    sd = tmp_path / "sd"
    chosen = {"addon-merge": "shallow", "vpceni-kind": "VpcEni"}
    with running_sandbox("default", state_dir=sd, variants=chosen) as sb:
        assert sb.variants == chosen and sb.info()["variants"] == chosen
    status = json.loads(runner.invoke(app, ["sandbox", "status", "--state-dir", str(sd), "-o", "json"]).stdout)
    assert status["variants"] == chosen
    table = runner.invoke(app, ["sandbox", "status", "--state-dir", str(sd)]).stdout
    assert "variants" in table and "addon-merge=shallow,vpceni-kind=VpcEni" in table
    with running_sandbox("default", state_dir=sd) as sb:  # resumed: the same readings
        assert sb.variants == chosen
        assert sb.cloud.variant("addon-merge") == "shallow"
    with pytest.raises(InputError) as e:  # another reading needs a fresh region
        running_sandbox("default", state_dir=sd, variants={"addon-merge": "deep"}).__enter__()
    assert "variants addon-merge=shallow,vpceni-kind=VpcEni, not (none)" in e.value.message
    assert "--reset" in e.value.hint


def test_a_detached_sandbox_gets_the_variants(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    sd = tmp_path / "sd"
    r = runner.invoke(app, ["sandbox", "up", "--detach", "--state-dir", str(sd), "--variant", "tkesubeni=type-max",
                            "--variant", "network=gr-vpc-cni"])
    try:
        assert r.exit_code == 0, r.stderr
        status = json.loads(runner.invoke(app, ["sandbox", "status", "--state-dir", str(sd), "-o", "json"]).stdout)
        assert status["running"] and status["variants"] == {"network": "gr-vpc-cni", "tkesubeni": "type-max"}
    finally:
        runner.invoke(app, ["sandbox", "down", "--state-dir", str(sd)])


def test_sgp_addon_name_may_not_take_another_charts_name():
    with pytest.raises(InputError, match="is the name of another chart"):
        running_sandbox("default", variants={"sgp-addon-name": "eniipamd"}).__enter__()


# --- the matrix harness ----------------------------------------------------------------------


def test_the_matrix_covers_every_value_of_every_variant():
    covered = {(k, v) for case in VARIANT_CASES for k, v in case.items()}
    for v in variants.REGISTRY.values():
        for value in v.alternatives():
            assert (v.key, value) in covered
    assert {} in VARIANT_CASES  # and the defaults themselves
    assert all(len(case) <= 1 for case in VARIANT_CASES)  # one reading at a time


def test_each_matrix_sandbox_plays_its_variant_and_serves_both_apis(sandbox_under_variant):
    sb = sandbox_under_variant
    case = next(c for c in VARIANT_CASES if c == sb.variants)
    assert sb.info()["variants"] == case
    for key, value in case.items():
        assert sb.cloud.variant(key) == value
    tke = cloud_client(sb, "tke")
    clusters = tke.DescribeClusters(sdk_request("tke", "DescribeClusters")).Clusters
    assert [c.ClusterId for c in clusters] == [sb.cluster_id]
    assert sb.counts()["nodes"] == 5
