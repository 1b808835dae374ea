"""VpcENIs the API server accepted but sgpctl cannot interpret (a status that is not an object, an
ENI that is not one, an ENI id that is not a string), beside the good ones eniipamd made: every
command that reads VpcENIs skips them naming each, and goes on; `verify pod` and `verify pods` fail
their "can be read" check instead of crashing. A VpcENI without any status yet (just created) is
normal and not a problem."""

from __future__ import annotations

import pytest

from sgpctl.sandbox.kube.crds import VPCENI_RESOURCE
from tests.sandbox_support import sgpctl, sandbox_env

NS = "my-namespace"
BROKEN = {"bad-status": "broken", "bad-eni": {"eni": 5}, "bad-eni-id": {"eni": {"eniID": 5}}}
READ = "every SecurityGroupPolicy and VpcENI can be read"


@pytest.fixture
def hazards(sandbox_cli):
    cli = sandbox_cli("strict-hazards")
    pods = sorted(p["metadata"]["name"] for p in cli.sandbox.kube.list("pods", NS))
    for i, (name, status) in enumerate([*BROKEN.items(), ("no-status-yet", None)]):
        obj = {"apiVersion": "networking.tke.cloud.tencent.com/v1", "kind": "VpcENI",
               "metadata": {"name": name, "labels": {"tke.cloud.tencent.com/pod-namespace": NS,
                                                     "tke.cloud.tencent.com/pod-name": pods[0]}}}
        if status is not None:
            obj["status"] = status
        cli.sandbox.kube.create(VPCENI_RESOURCE, obj)
    cli.pods = pods
    return cli


def test_verify_pods_names_each_and_verifies_the_pods_with_the_good_ones(hazards):
    r = hazards("verify", "pods", "-A", "-o", "json")
    assert r.exit_code == 1 and "Traceback" not in r.output and "unexpected" not in r.output
    doc = r.json()
    assert doc["summary"]["pods"] == 2
    assert sorted(p.split(" cannot be read")[0] for p in doc["problems"]) == [f"VpcENI {n}" for n in sorted(BROKEN)]
    assert "VpcENI bad-eni-id cannot be read (TypeError: status.eni.eniID is int, not a string): skipped" in doc["problems"]
    # the other Pod has only eniipamd's VpcENI: it verifies
    other = next(p for p in doc["pods"] if p["name"] == hazards.pods[1])
    assert other["ok"] is True


def test_verify_pod_fails_its_read_check_instead_of_crashing(hazards, tmp_path):
    r = hazards("verify", "pod", hazards.pods[0], "-n", NS, "-o", "json")
    assert r.exit_code == 1 and "unexpected" not in r.output, r.output
    checks = {c["id"]: c for c in r.json()["checks"]}
    assert checks["policies-readable"]["status"] == "fail"
    assert checks["policies-readable"]["message"].startswith("3 object(s) the API server accepted cannot be interpreted")
    table = hazards("verify", "pod", hazards.pods[0], "-n", NS).stdout
    for line in ("VpcENI bad-eni cannot be read (AttributeError: 'int' object has no attribute 'get'): skipped",
                 "VpcENI bad-eni-id cannot be read (TypeError: status.eni.eniID is int, not a string): skipped",
                 "VpcENI bad-status cannot be read (AttributeError: 'str' object has no attribute 'get'): skipped"):
        assert line in table
    # the same through the installed executable, as a user runs it
    p = sgpctl(sandbox_env(hazards.sandbox, tmp_path), "verify", "pod", hazards.pods[0], "-n", NS)
    assert p.returncode == 1 and "Traceback" not in p.stderr and "unexpected" not in p.stderr
    assert f"[FAIL] {READ}" in p.stdout


@pytest.mark.parametrize("args", [("doctor", "--category", "pods"), ("capacity",), ("policy", "explain", "-A")],
                         ids=["doctor", "capacity", "explain"])
def test_the_other_readers_go_on(hazards, args):
    r = hazards(*args)
    assert r.exit_code in (0, 1) and "Traceback" not in r.output and "unexpected" not in r.output, r.output
