"""A region replayed from a capture (``sgpctl.sandbox.replay``): it gives back the answers it was built
from, plays the variant readings those answers imply, resumes from its state dir, and `sandbox up
--from-capture` serves it to the installed CLI and kubectl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sgpctl.errors import InputError
from sgpctl.sandbox.region import Sandbox
from tests.conftest import SandboxCli
from tests.sandbox_support import KUBECTL, kubectl, running_sandbox, sgpctl
from tests.support import clean_env


def capture_of(sb, directory: Path) -> dict:
    cli = SandboxCli(sb, directory)
    r = cli("capture", "-o", str(directory / "capture.json"))
    assert r.exit_code == 0, r.output
    return json.loads((directory / "capture.json").read_text())


def answers(doc: dict) -> list[str]:
    """The cloud calls and their answers (without request ids), order-free (reads of security groups'
    rules run concurrently)."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "RequestId"}
        return [strip(v) for v in x] if isinstance(x, list) else x

    return sorted(json.dumps(strip(c), sort_keys=True) for c in doc["cloud"])


def objects(doc: dict) -> dict:
    return {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in doc["kubernetes"]["objects"]}


# The readings each case plays; every one of them shows in some captured answer (the sandbox's variant
# docs say which), so the replay must arrive at exactly these.
CASES = [
    ("default", {"eniipamd-version": "chart", "network": "gr-vpc-cni", "kube-proxy": "ipvs-bpf",
                 "vpceni-kind": "VpcEni", "sgp-addon-name": "sgp", "tkesubeni": "type-max", "missing-addon": "empty",
                 "enforcing-mode-default": "loose", "leases": "absent"}),
    ("strict-hazards", {"sgp-addon-name": "sgp", "sgp-addon-listed": "false", "subeni-listed": "false",
                        "missing-eni-ids": "error", "sgp-crd-schema": "strict", "kube-proxy": "ipvs",
                        "leases": "forbidden"}),
    ("strict-hazards", {"vpc-time-zone": "utc+8", "kube-proxy": "iptables"}),
]


#: readings no read shows: a replay plays their defaults
NOT_SHOWN = {"addon-merge", "sg-port-all", "client-token-allowlist", "subeni-delete"}


def test_every_variant_is_inferred_by_a_case_or_shows_in_no_read():
    """A new variant needs its inference in ``sandbox.replay`` (and a case above), or a place here."""
    from sgpctl.sandbox.variants import REGISTRY

    played = {(k, v) for _, chosen in CASES for k, v in chosen.items()}
    for key, variant in REGISTRY.items():
        if key in NOT_SHOWN:
            continue
        assert [v for v in variant.alternatives() if (key, v) not in played] == [], key


@pytest.mark.parametrize("scenario,chosen", CASES, ids=["default", "strict-hazards", "strict-hazards-utc+8"])
def test_the_replay_plays_the_readings_the_answers_imply_and_answers_as_captured(scenario, chosen, tmp_path):
    # addon-merge shows in no read: the replay cannot know it and plays the default.
    with running_sandbox(scenario, variants={**chosen, "addon-merge": "shallow"}) as sb:
        sb.settle()
        first = capture_of(sb, tmp_path / "original")
    with running_sandbox("capture", capture=first) as rb:
        rb.settle()
        assert rb.variants == chosen
        assert any(line.startswith("addon-merge: no read shows it") for line in rb.replay_evidence)
        second = capture_of(rb, tmp_path / "replay")
    assert answers(second) == answers(first)
    assert objects(second) == objects(first)
    assert second["kubernetes"]["access"] == first["kubernetes"]["access"]


def test_a_chart_version_stays_the_version_shown(tmp_path):
    with running_sandbox("default", variants={"eniipamd-version": "chart"}) as sb:
        first = capture_of(sb, tmp_path / "original")
    addon = next(a for c in first["cloud"] if c["action"] == "DescribeAddon" and not c["params"].get("AddonName")
                 for a in c["response"]["Addons"] if a["AddonName"] == "eniipamd")
    assert addon["AddonVersion"] == "1.4.2"  # the sandbox's chart numbering of 3.6.0
    with running_sandbox("capture", capture=first) as rb:
        evidence = "\n".join(rb.replay_evidence)
        assert "AddonVersion 1.4.2 is not the kube-system/tke-eni-ipamd image tag v3.6.0" in evidence
        assert rb.cloud.addon(rb.cluster_id, "eniipamd")["AddonVersion"] == "3.6.0"


def test_variants_cannot_be_chosen_for_a_replay_and_a_capture_is_needed(tmp_path):
    with running_sandbox("strict-hazards") as sb:
        doc = capture_of(sb, tmp_path)
    with pytest.raises(InputError, match="answers decide"):
        Sandbox(capture=doc, variants={"addon-merge": "shallow"})
    with pytest.raises(InputError, match="built from a capture file"):
        Sandbox("capture").start()
    with pytest.raises(InputError, match="not a capture"):
        Sandbox(capture={"kind": "List", "items": []})
    with pytest.raises(InputError, match="format version 9"):
        Sandbox(capture={**doc, "formatVersion": 9})
    with pytest.raises(InputError, match="region 'mars-north-1', which the sandbox does not emulate"):
        Sandbox(capture={**doc, "scope": {**doc["scope"], "region": "mars-north-1"}}).start()


def test_a_replay_resumes_from_its_state_dir_and_a_capture_does_not_overwrite_it(tmp_path):
    with running_sandbox("strict-hazards") as sb:
        doc = capture_of(sb, tmp_path / "original")
        cluster_id = sb.cluster_id
    state = tmp_path / "state"
    rb = Sandbox(capture=doc, state_dir=state, addon_delay=0.05).start()
    variants, evidence = rb.variants, rb.replay_evidence
    rb.kube.create("namespaces", {"metadata": {"name": "added-later"}})
    rb.stop()
    with pytest.raises(InputError, match="holds a sandbox already"):
        Sandbox(capture=doc, state_dir=state).start()
    again = Sandbox("capture", state_dir=state, addon_delay=0.05).start()
    try:
        assert (again.cluster_id, again.region, again.variants) == (cluster_id, "ap-guangzhou", variants)
        assert again.replay_evidence == evidence
        assert again.kube.get("namespaces", None, "added-later") is not None
        cli = SandboxCli(again, tmp_path / "again")
        assert cli("verify", "pods", "-A").exit_code == 0
    finally:
        again.stop()


def test_installed_cli_serves_a_capture_to_sgpctl_and_kubectl(tmp_path):
    with running_sandbox("strict-hazards") as sb:
        doc = capture_of(sb, tmp_path / "original")
        original = SandboxCli(sb, tmp_path / "o")("verify", "pods", "-A", "-o", "json").json()
    path = tmp_path / "original" / "capture.json"
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(HOME=str(home), KUBECACHEDIR=str(tmp_path / "kcache"))
    sd = tmp_path / "sd"
    refused = sgpctl(env, "sandbox", "up", "--from-capture", str(path), "--variant", "addon-merge=shallow",
                     "--state-dir", str(sd))
    assert refused.returncode == 2 and "takes no --variant" in refused.stderr
    not_capture = tmp_path / "list.json"
    not_capture.write_text('{"kind": "List", "items": []}')
    refused = sgpctl(env, "sandbox", "up", "--from-capture", str(not_capture), "--state-dir", str(sd))
    assert refused.returncode == 2 and "not a capture" in refused.stderr

    up = sgpctl(env, "sandbox", "up", "--from-capture", str(path), "--detach", "--state-dir", str(sd))
    try:
        assert up.returncode == 0, up.stderr
        assert f"scenario 'capture' is up (cluster {doc['scope']['clusterId']}" in up.stderr
        status = json.loads(sgpctl(env, "sandbox", "status", "--state-dir", str(sd), "-o", "json").stdout)
        assert status["scenario"] == "capture" and status["clusterId"] == doc["scope"]["clusterId"]
        from sgpctl.sandbox.runner import parse_env_text

        replay_env = {**env, **parse_env_text((sd / "env").read_text())}
        verified = sgpctl(replay_env, "verify", "pods", "-A", "-o", "json")
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout and json.loads(verified.stdout)["pods"] == original["pods"]
        if KUBECTL:
            got = kubectl(replay_env, "get", "pods", "-n", "my-namespace", "-l", "app=my-app", "-o", "name")
            assert len(got.stdout.split()) == 2
        again = sgpctl(env, "sandbox", "up", "--from-capture", str(path), "--state-dir", str(sd))
        assert again.returncode == 2 and "already running" in again.stderr
    finally:
        sgpctl(env, "sandbox", "down", "--state-dir", str(sd))
    held = sgpctl(env, "sandbox", "up", "--from-capture", str(path), "--state-dir", str(sd), "--detach")
    assert held.returncode == 2 and "--reset" in held.stderr


def test_fields_a_newer_api_sent_are_left_out_and_said_so(tmp_path):
    with running_sandbox("strict-hazards") as sb:
        doc = capture_of(sb, tmp_path / "original")
    for call in doc["cloud"]:
        if call["action"] == "DescribeClusters":
            call["response"]["Clusters"][0]["ClusterFutureField"] = {"x": 1}
        if call["action"] == "DescribeNetworkInterfaces":
            for eni in call["response"]["NetworkInterfaceSet"]:
                eni["Attachment"]["FutureAttachmentField"] = "y"
    with running_sandbox("capture", capture=doc) as rb:
        evidence = "\n".join(rb.replay_evidence)
        assert "tke.DescribeClusters Clusters[].ClusterFutureField" in evidence
        assert "vpc.DescribeNetworkInterfaces NetworkInterfaceSet[].Attachment.FutureAttachmentField" in evidence
        cli = SandboxCli(rb, tmp_path / "replay")
        assert cli("verify", "pods", "-A").exit_code == 0
        assert cli("doctor", "--category", "cloud-access").exit_code == 0


def test_a_describe_ipamd_that_disagrees_with_the_values_keeps_disagreeing_until_they_change(tmp_path):
    with running_sandbox("default") as sb:
        doc = capture_of(sb, tmp_path / "original")
    (ipamd,) = [c for c in doc["cloud"] if c["action"] == "DescribeIPAMD"]
    assert ipamd["response"]["EnableTrunkingENI"] is False
    ipamd["response"]["EnableTrunkingENI"] = True  # what an account could answer while enableSubEni is false

    def ipamd_vs_values(rb) -> tuple:
        from tests.sandbox_support import cloud_client, sdk_request

        reported = cloud_client(rb, "tke").DescribeIPAMD(sdk_request("tke", "DescribeIPAMD", ClusterId=rb.cluster_id))
        return rb.cloud.trunking_enabled(rb.cluster_id), reported.EnableTrunkingENI

    with running_sandbox("capture", capture=doc) as rb:
        assert ipamd_vs_values(rb) == (False, True)
        assert any("EnableTrunkingENI is true while eniipamd's values say false" in e for e in rb.replay_evidence)
        # sgpctl reads the disagreement: undetermined, not a success
        status = SandboxCli(rb, tmp_path / "replay")("trunking", "status", "-o", "json")
        assert status.json()["describeIpamdEnableTrunkingEni"] is True and status.json()["enabled"] is None
        rb.cloud.update_addon(rb.cluster_id, "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
        rb.settle()
        assert ipamd_vs_values(rb) == (True, True)
        rb.cloud.update_addon(rb.cluster_id, "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": False}}})
        rb.settle()
        assert ipamd_vs_values(rb) == (False, True)  # the values are as captured again: so is the answer
