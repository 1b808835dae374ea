"""The TKE document's procedure under every sandbox variant (one reading of an unconfirmed API fact at a
time), through the installed sgpctl as a subprocess: `setup`, `sg create`, `policy apply`, the nginx
Deployment (kubectl), `verify pods`, `routing set strict`, `routing set standard`. Each command ends
right, or stops before changing anything with one line naming the flag or setting that settles it (the
test then passes that flag and goes on). eniipamd's values are compared leaf by leaf before and after
through the cloud API (the official SDK against the sandbox), not through sgpctl: only the leaves the
procedure sets may differ. Then `doctor -c api-assumptions` must report the reading each variant plays.

One sandbox per variant value (module scope), the procedure once per sandbox. The default run covers
every variant with the commands run in-process (``sgpctl.cli.app.run``, the same code as the
executable, started once) and one (addon-merge=shallow) through the installed executable; ``-m slow`` runs every
variant through the executable (about 15 s each). Expected values come from the variant's definition
(``sgpctl sandbox variants``) and the seed, never from sgpctl's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from sgpctl.core.addon_values import leaf_diff
from tests.sandbox_support import (
    VARIANT_CASES,
    cloud_client,
    kubectl,
    running_sandbox,
    sandbox_env,
    sdk_request,
    sgpctl,
    variant_case_id,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NS = "my-namespace"
ENABLE = ("vpcCni", "trunkingEni", "enableSubEni")
MODE = ("vpcCni", "trunkingEni", "podSecurityGroupEnforcingMode")
DEMUX = (("agent", "config", "disableTcpEarlyDemux"), ("agent", "config", "disableUdpEarlyDemux"))


def eniipamd_values(sb) -> dict:
    """eniipamd's values as the API answers them (the SDK, not sgpctl)."""
    tke = cloud_client(sb, "tke")
    answer = tke.DescribeAddonValues(sdk_request("tke", "DescribeAddonValues", ClusterId=sb.cluster_id, AddonName="eniipamd"))
    return json.loads(answer.Values)


def mutations(sb, mark) -> list[str]:
    return [f"{e['service']}.{e['action']}" for e in sb.log.since(mark, mutating=True)
            if e["api"] == "cloud" or e.get("verb") not in (None, "get", "list", "watch")]


@dataclass
class Ran:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def executable(env: dict, *args: str) -> Ran:
    """The installed sgpctl as a subprocess."""
    proc = sgpctl(env, *args)
    return Ran(list(args), proc.returncode, proc.stdout, proc.stderr)


def in_process(env: dict, *args: str) -> Ran:
    """The same commands in this process, in an Environment holding only ``env``."""
    from sgpctl.cli.app import run as run_cli
    from sgpctl.environment import Environment

    e = Environment.captured(env, home=env["HOME"])
    code = run_cli(list(args), e)
    return Ran(list(args), code, e.out(), e.err())


#: which cases the default run sends through the executable (every other case: with -m slow)
EXECUTABLE_SAMPLE = ({"addon-merge": "shallow"},)


@pytest.fixture(scope="module", params=VARIANT_CASES, ids=variant_case_id)
def sandbox_for_in_process(request):
    with running_sandbox("default", variants=request.param) as sb:
        yield sb


@pytest.fixture(scope="module", ids=variant_case_id, params=[
    case if case in EXECUTABLE_SAMPLE else pytest.param(case, marks=pytest.mark.slow) for case in VARIANT_CASES])
def sandbox_for_executable(request):
    with running_sandbox("default", variants=request.param) as sb:
        yield sb


def test_the_procedure_in_process(sandbox_for_in_process, tmp_path):
    procedure(sandbox_for_in_process, tmp_path, in_process)


def test_the_procedure_through_the_installed_executable(sandbox_for_executable, tmp_path):
    procedure(sandbox_for_executable, tmp_path, executable)


def settled_or_refused(sb, run, args: list[str], settle_with: dict[str, list[str]]):
    """Run ``args``; when it stops before changing anything, the one line names a flag: check that,
    pass the flag (``settle_with`` maps the flag to its arguments) and run again. Returns the last run."""
    mark = sb.log.mark()
    proc = run(*args)
    if proc.returncode == 0:
        return proc
    assert mutations(sb, mark) == [], (args, proc.stdout, proc.stderr)
    flags = [f for f in settle_with if f in proc.stdout + proc.stderr]
    assert flags, ("stopped without naming what settles it", args, proc.stdout, proc.stderr)
    extra = [a for f in flags for a in settle_with[f]]
    again = run(*args, *extra)
    assert again.returncode == 0, (args + extra, again.stdout, again.stderr)
    return again


def procedure(sb, tmp_path: Path, runner) -> None:
    """The document's procedure ends right or stops before any change; eniipamd's other values stay."""
    variant = dict(sb.variants)
    env = sandbox_env(sb, tmp_path, SGPCTL_RETRY_BASE_DELAY="0", SGPCTL_RETRY_MAX_DELAY="0")

    def run(*args: str) -> Ran:
        ran = runner(env, *args)
        assert "Traceback" not in ran.stderr, ran.stderr
        return ran

    before = eniipamd_values(sb)
    default_mode = before and sb.cloud.charts["eniipamd"]["_defaults"]["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"]

    # 1. setup: CAM, Trunking ENI, the add-on. What can stop it: a precondition the cluster does not
    #    report (a GR cluster with VPC-CNI added), an add-on name nothing lists.
    sgp_name = variant.get("sgp-addon-name", "securitygrouppolicy")
    setup = settled_or_refused(sb, run, ["setup", "--yes", "--timeout", "60"], {
        "--confirm network-shared-eni": ["--confirm", "network-shared-eni"],
        "--addon-name": ["--addon-name", sgp_name],
    })
    expected_stops = {"network": "--confirm network-shared-eni", "sgp-addon-listed": "--addon-name"}
    assert "backup" in setup.stdout + setup.stderr  # eniipamd's values were saved first
    for key, flag in expected_stops.items():
        if key in variant:
            assert any(flag.split()[0] in a for a in setup.args), (variant, setup.args)
    assert sb.cloud.trunking_enabled(sb.cluster_id)
    assert sb.cloud.addon(sb.cluster_id, sgp_name)["Phase"] == "Succeeded"

    # 2. a security group (rules in a form valid whether or not Port ALL is accepted)
    created = run("sg", "create", "matrix-web", "--allow-dns", "-o", "json")
    assert created.returncode == 0, created.stderr
    group = json.loads(created.stdout)["securityGroup"]["securityGroupId"]

    # 3. the document's policy and 4. its Deployment
    policy = tmp_path / "policy.yaml"
    policy.write_text((EXAMPLES / "policy.yaml").read_text().replace("sg-xxxxyyyy", group))
    applied = run("policy", "apply", "-f", str(policy))
    assert applied.returncode == 0, applied.stderr
    kubectl(env, "apply", "-f", str(EXAMPLES / "nginx-deployment.yaml"))
    sb.settle()

    # 5. verify: every check passes; where the VPC API does not list sub-ENIs, their groups cannot be
    #    checked there: undetermined (3), never a pass and never a failure
    verified = run("verify", "pods", "-n", NS, "-o", "json")
    report = json.loads(verified.stdout)
    unlisted = variant.get("subeni-listed") == "false"
    assert verified.returncode == (3 if unlisted else 0), verified.stdout + verified.stderr
    assert report["summary"]["pods"] == 1 and report["summary"]["failed"] == 0
    for check in report["pods"][0]["checks"]:
        if check["id"] == "eni-groups" and unlisted:
            assert check["status"] == "skip" and "could not determine" in check["message"]
        else:
            assert check["status"] in ("pass", "skip"), check

    # 6. strict routing: refused before any change where kube-proxy runs IPVS (IPVS-BPF included)
    mark = sb.log.mark()
    strict = run("routing", "set", "strict", "--yes", "--timeout", "60")
    ipvs = variant.get("kube-proxy") in ("ipvs", "ipvs-bpf")
    if ipvs:
        assert strict.returncode == 1 and "strict-ipvs" in strict.stdout + strict.stderr
        assert mutations(sb, mark) == []
    else:
        assert strict.returncode == 0, strict.stdout + strict.stderr
        assert json.loads(json.dumps(eniipamd_values(sb)))["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] == "strict"

    # 7. back to standard: the value eniipamd's DefaultValues hold (the variant's), not a literal
    standard = run("routing", "set", "standard", "--yes", "--timeout", "60")
    assert standard.returncode == 0, standard.stdout + standard.stderr

    # eniipamd's values, leaf by leaf through the API: only what the procedure sets differs
    after = eniipamd_values(sb)
    expected = json.loads(json.dumps(before))
    expected["vpcCni"]["trunkingEni"]["enableSubEni"] = True
    if not ipvs:
        for path in DEMUX:
            expected[path[0]][path[1]][path[2]] = True
    expected["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] = default_mode
    assert leaf_diff(expected, after) == [], variant
    if "enforcing-mode-default" in variant:
        assert after["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] == variant["enforcing-mode-default"]

    # the readings doctor reports for this account (with the leaks category, whose listing of the
    # nodes' ENIs verify then takes the Pod's sub-ENI from, looking it up by id only when it is not there)
    doctor = run("doctor", "-c", "leaks", "-c", "api-assumptions", "-o", "json")
    checks = {c["id"]: c for cat in json.loads(doctor.stdout)["categories"] for c in cat["checks"]}
    assert_readings(variant, checks, sgp_name)


def assert_readings(variant: dict, checks: dict, sgp_name: str) -> None:
    def passed_with(check_id: str, *words: str) -> None:
        c = checks[check_id]
        assert c["status"] == "pass", c
        text = c["message"] + " ".join(c["evidence"])
        assert all(w in text for w in words), (words, c)

    passed_with("assume-trunking-flag", "EnableTrunkingENI: true", "enableSubEni: true")
    if variant.get("eniipamd-version") == "chart":
        passed_with("assume-eniipamd-version", "eniipamd 3.6.0", "AddonVersion 1.4.2 differs")
    else:
        passed_with("assume-eniipamd-version", "eniipamd 3.6.0", "AddonVersion: 3.6.0")
    if variant.get("network") == "gr-vpc-cni":
        c = checks["assume-cluster-property"]
        assert c.get("undetermined") and "MetaFeatureParam" in " ".join(c["evidence"]) and "--confirm network-shared-eni" in c["hint"]
    else:
        passed_with("assume-cluster-property", "IsNonStaticIpMode: false", 'VpcCniType: "tke-route-eni"')
    passed_with("assume-sgp-addon-name", sgp_name)
    passed_with("assume-enforcing-mode-default", variant.get("enforcing-mode-default", "standard"))
    passed_with("assume-tkesubeni", "type's maximum" if variant.get("tkesubeni") == "type-max" else "family list")
    mode = {"ipvs": "Ipvs true", "ipvs-bpf": "kube-proxy-bpf", "iptables": "iptables"}.get(variant.get("kube-proxy"))
    if mode:
        passed_with("assume-kube-proxy-mode", mode)
    passed_with("assume-vpceni-kind", f"kind {variant.get('vpceni-kind', 'VpcENI')}")
    # one Pod (the Deployment's), on a node of the cluster: the listing of the nodes' ENIs holds its
    # sub-ENI exactly when the API lists sub-ENIs; otherwise it is looked up by id, and not found either
    if variant.get("subeni-listed") == "false":
        passed_with("assume-subeni-listed", "does not seem to list sub-ENIs", "held 0 of the 1 sub-ENIs",
                    "by id: 0 of the other 1 found")
    else:
        passed_with("assume-subeni-listed", "lists per-Pod sub-ENIs", "held 1 of the 1 sub-ENIs")
    assert checks["assume-addon-merge"]["status"] == "info"
    # only a delete would tell (subeni-delete): stated with the documents' evidence under every variant
    assert checks["leaks-delete-action"]["status"] == "info"
    assert "vpc:DeleteSubNetworkInterface" in " ".join(checks["leaks-delete-action"]["evidence"])
