"""`sgpctl doctor` end to end against the sandbox: before any setup, after `sgpctl setup` alone, after
the whole procedure, and in the `legacy` and `strict-hazards` scenarios. The CLI runs in-process in
an environment of its own (the sandbox's variables only), and once as the installed executable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml


from tests.sandbox_support import sandbox_env, sgpctl

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NS = "my-namespace"
HAZARDS = ["strict-external-traffic-local", "strict-ipvs", "strict-networkpolicy", "strict-nodelocaldns", "strict-snat"]


@pytest.fixture()
def sandbox(sandbox_cli, request):
    """The sandbox (of the scenario given as the fixture's param), callable as the CLI pointed at it."""
    return sandbox_cli(getattr(request, "param", "default"), addon_delay=0.1)


def cli(sb, *args: str, expect: int | None = 0):
    r = sb(*args)
    if expect is not None:
        assert r.exit_code == expect, r.output
    return r


def doctor(sb, *args: str) -> tuple[int, dict[str, dict]]:
    r = cli(sb, "doctor", "-o", "json", *args, expect=None)
    doc = json.loads(r.stdout)
    assert doc["ok"] is (r.exit_code == 0)
    return r.exit_code, {c["id"]: c for cat in doc["categories"] for c in cat["checks"]}


def by_status(checks: dict[str, dict], status: str) -> list[str]:
    return sorted(i for i, c in checks.items() if c["status"] == status)


def test_before_setup_fails_with_hints_at_sgpctl_setup(sandbox):
    code, checks = doctor(sandbox)
    assert code == 1
    assert by_status(checks, "fail") == ["addon-crd-served", "addon-installed", "cam-policy", "cam-role-ipamdoftke-qcsrole",
                                         "cam-role-tke-qcsrole", "trunking-enabled"]
    for check_id in by_status(checks, "fail"):
        assert "sgpctl setup" in checks[check_id]["hint"], check_id
    # what the missing CRD makes meaningless is skipped with the reason; the rest still ran
    assert checks["policies-present"]["status"] == "skip"
    assert checks["policies-present"]["message"] == "skipped: addon-crd-served failed"
    assert checks["nodes-families"]["status"] == "warn"
    assert checks["routing-mode"]["status"] == "info"


def test_after_setup_alone_passes_with_notes_and_warnings(sandbox, tmp_path):
    cli(sandbox, "setup", "--yes", "--timeout", "30")
    sandbox.settle()
    mark = sandbox.log.mark()
    code, checks = doctor(sandbox)
    assert code == 0
    assert by_status(checks, "fail") == [] and by_status(checks, "skip") == []
    assert by_status(checks, "warn") == ["manual-client-token-allowlist", "nodes-families"]
    assert checks["policies-present"]["status"] == "info"
    assert checks["policies-present"]["message"] == "no SecurityGroupPolicy yet"
    assert "S5" in checks["nodes-families"]["message"] and "ticket" in checks["manual-client-token-allowlist"]["hint"]
    # the access checks: one small read per cloud service (cam status pages ListPolicies later)
    first = {}
    for e in sandbox.log.since(mark, api="cloud"):
        first.setdefault(e["service"], e)
    assert first["cam"]["action"] == "ListPolicies" and first["cam"]["params"]["Rp"] == 1
    assert first["cvm"]["action"] == "DescribeInstances" and first["cvm"]["params"]["Limit"] == 1
    assert first["tke"]["action"] == "DescribeClusters" and first["vpc"]["action"] == "DescribeSecurityGroupLimits"
    # everything doctor asks the cloud only reads
    assert not sandbox.log.since(mark, mutating=True)
    # the warnings fail strict CI
    assert cli(sandbox, "doctor", "--fail-on", "warning", expect=None).exit_code == 1
    # the installed executable, through the sandbox's env file, streams the same table
    proc = sgpctl(sandbox_env(sandbox.sandbox, tmp_path, SGPCTL_RETRY_BASE_DELAY="0"), "doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("settings\n--------\n[ok] Tencent Cloud credentials resolve\n")
    assert "[warn] the account is on VPC's client-token allowlist" in proc.stdout
    last = proc.stdout.rstrip().splitlines()[-1]
    assert last.startswith("Status check results are [ok] (2 warnings, ") and "failed" not in last


def full_procedure(sb, tmp_path: Path) -> None:
    cli(sb, "cam", "setup", "--yes")
    cli(sb, "enable-trunking", "--yes", "--timeout", "30")
    cli(sb, "addon", "install", "--yes", "--timeout", "30")
    group = json.loads(cli(sb, "sg", "create", "doctor-nginx", "--allow-node-probes", "--allow-dns", "-o", "json").stdout)
    group_id = group["securityGroup"]["securityGroupId"]
    policy = tmp_path / "policy.yaml"
    policy.write_text((EXAMPLES / "policy.yaml").read_text().replace("sg-xxxxyyyy", group_id))
    cli(sb, "policy", "apply", "-f", str(policy))
    sb.kube.create("deployments.apps", yaml.safe_load((EXAMPLES / "nginx-deployment.yaml").read_text()))
    sb.settle()
    pods = sb.kube.list("pods", NS, label_selector="app=my-app")
    assert pods and all(p["status"]["phase"] == "Running" for p in pods)


def test_after_the_full_procedure_only_the_known_warnings_remain(sandbox, tmp_path):
    full_procedure(sandbox, tmp_path)
    code, checks = doctor(sandbox)
    assert code == 0
    assert by_status(checks, "fail") == [] and by_status(checks, "skip") == []
    assert by_status(checks, "warn") == ["manual-client-token-allowlist", "nodes-families"]
    # (api-assumptions are asserted per variant in tests/e2e/test_variant_matrix.py)
    assert [i for i in by_status(checks, "info") if not i.startswith("assume-")] == [
        "leaks-delete-action", "routing-mode", "strict-early-demux"]
    assert "1 policy Pod verified" in checks["pods-verified"]["message"]


def test_a_stale_pod_and_a_missing_group_are_found(sandbox, tmp_path):
    full_procedure(sandbox, tmp_path)
    # web (app=web) predates any policy; a policy for it, written behind sgpctl's back (so nothing
    # checked its group), makes its Pods stale and names a group that does not exist.
    text = ((EXAMPLES / "policy.yaml").read_text().replace("my-security-group-policy", "web")
            .replace("app: my-app", "app: web").replace("sg-xxxxyyyy", "sg-00000000"))
    sandbox.kube.create("securitygrouppolicies.vpcresources.tke.cloud.tencent.com", yaml.safe_load(text))
    sandbox.settle()
    code, checks = doctor(sandbox, "--category", "policies", "--category", "pods")
    assert code == 1
    assert by_status(checks, "fail") == ["pods-stale", "policies-groups-exist"]
    assert "sg-00000000" in checks["policies-groups-exist"]["message"]
    assert f"sgpctl policy rollout -n {NS}" in checks["pods-stale"]["hint"]
    # a new web Pod gets the policy, and eniipamd cannot create its sub-ENI with a missing group
    web = sandbox.kube.get("deployments.apps", NS, "web")
    web["spec"]["replicas"] += 1
    sandbox.kube.update("deployments.apps", web)
    sandbox.settle()
    code, checks = doctor(sandbox, "--category", "pods")
    assert checks["pods-container-creating"]["status"] == "fail"
    (stuck,) = checks["pods-container-creating"]["evidence"]
    assert stuck.startswith(f"{NS}/web-") and "FailedCreatePodSandBox" in stuck


@pytest.mark.parametrize("sandbox", ["legacy"], indirect=True)
def test_legacy_fails_on_the_preconditions(sandbox):
    code, checks = doctor(sandbox)
    assert code == 1
    assert checks["network-static-ip"]["status"] == "fail"
    assert checks["eniipamd-version"]["status"] == "fail" and "3.5.2" in checks["eniipamd-version"]["message"]
    assert checks["network-vpc-cni"]["status"] == "pass" and checks["network-shared-eni"]["status"] == "pass"
    # enabling trunking is not the next step here: the hint says so
    assert "network-mode" in checks["trunking-enabled"]["hint"]


@pytest.mark.parametrize("sandbox", ["strict-hazards"], indirect=True)
def test_strict_hazards_are_notes_in_standard_mode_and_failures_in_strict(sandbox):
    code, checks = doctor(sandbox)
    assert code == 0
    for check_id in HAZARDS:
        assert checks[check_id]["status"] == "info", check_id
        assert checks[check_id]["message"].startswith("standard routing, so not a problem now")
    assert "NetworkPolicy my-namespace/my-app-ingress" in " ".join(checks["strict-networkpolicy"]["evidence"])
    cli(sandbox, "routing", "set", "strict", "--force", "--yes", "--timeout", "30")
    code, checks = doctor(sandbox, "--category", "routing")
    assert code == 1
    assert by_status(checks, "fail") == HAZARDS
    assert checks["strict-early-demux"]["status"] == "pass"


def test_without_credentials_the_cloud_checks_are_skipped_not_crashed(sandbox):
    del sandbox.env["TENCENTCLOUD_SECRET_KEY"]
    sandbox.env["HOME"] = "/nonexistent"
    sandbox.home = Path("/nonexistent")
    code, checks = doctor(sandbox)
    assert code == 1
    assert checks["settings-credentials"]["status"] == "fail"
    for check_id in ("access-cam", "access-tke", "access-vpc", "access-cvm", "cam-policy", "trunking-eniipamd"):
        assert checks[check_id]["status"] == "skip", check_id
    assert checks["access-tke"]["message"] == "skipped: settings-credentials failed"
    # the cluster is still examined
    assert checks["access-kubernetes"]["status"] == "pass"
    assert checks["nodes-families"]["status"] == "warn"


def test_unknown_category_is_bad_input(sandbox):
    r = cli(sandbox, "doctor", "--category", "nope", expect=2)
    assert "cloud-access" in r.stderr
