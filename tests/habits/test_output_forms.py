"""Item 4: kubectl's output forms on every reporting command, implemented once in the output path.

kubectl is the oracle: on the same SecurityGroupPolicy objects, `-o jsonpath`, `-o name` and
`-o custom-columns` (with and without --no-headers) print what kubectl prints. JUnit is parsed with
an XML parser. Tables at 80 columns keep identifiers whole."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from sgpctl.cli.app import run
from sgpctl.environment import Environment
from tests.habits.conftest import NS
from tests.sandbox_support import kubectl, sgpctl

POLICY = "my-security-group-policy"
SGP = "securitygrouppolicies.vpcresources.tke.cloud.tencent.com"


@pytest.mark.parametrize("template", [
    "{.metadata.name}",
    "{.spec.securityGroups.groupIds}",
    "{.spec.securityGroups.groupIds[0]}",
    "{.spec.podSelector}",
    '{.metadata.namespace}{"/"}{.metadata.name}{"\\n"}',
    "{.spec.podSelector.matchLabels.app} {.kind}",
    "{..app}",
])
def test_jsonpath_prints_what_kubectl_prints(world, template):
    ours = sgpctl(world.env, "policy", "get", POLICY, "-n", NS, "-o", f"jsonpath={template}")
    theirs = kubectl(world.env, "get", SGP, POLICY, "-n", NS, "-o", f"jsonpath={template}")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


def test_name_prints_what_kubectl_prints(world):
    ours = sgpctl(world.env, "policy", "list", "-A", "-o", "name")
    theirs = kubectl(world.env, "get", SGP, "-A", "-o", "name")
    assert ours.returncode == 0 and ours.stdout == theirs.stdout == f"securitygrouppolicy.vpcresources.tke.cloud.tencent.com/{POLICY}\n"
    got = sgpctl(world.env, "policy", "get", POLICY, "-n", NS, "-o", "name")
    assert got.stdout == theirs.stdout


@pytest.mark.parametrize("headers", [[], ["--no-headers"]])
def test_custom_columns_print_what_kubectl_prints(world, headers):
    spec = "NAME:.metadata.name,GROUPS:.spec.securityGroups.groupIds,SEL:.spec.podSelector,NONE:.spec.nothing"
    ours = sgpctl(world.env, "policy", "get", POLICY, "-n", NS, "-o", f"custom-columns={spec}", *headers)
    theirs = kubectl(world.env, "get", SGP, POLICY, "-n", NS, "-o", f"custom-columns={spec}", *headers)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


def test_every_form_applies_to_sgpctls_own_documents(world):
    doc = json.loads(sgpctl(world.env, "verify", "pods", "-A", "-o", "json").stdout)
    names = [p["name"] for p in doc["pods"]]
    assert sorted(names) == world.pods
    jp = sgpctl(world.env, "verify", "pods", "-A", "-o", "jsonpath={.pods[*].name}")
    assert jp.returncode == 0 and jp.stdout == " ".join(names)
    name = sgpctl(world.env, "verify", "pods", "-A", "-o", "name")
    assert name.stdout.splitlines() == [f"pod/{n}" for n in names]
    cc = sgpctl(world.env, "verify", "pods", "-A", "-o", "custom-columns=POD:.name,ENI:.eniId,OK:.ok", "--no-headers")
    rows = [line.split() for line in cc.stdout.splitlines()]
    assert rows == [[p["name"], p["eniId"], "true"] for p in doc["pods"]]
    # a mutating command's steps, and a check command's checks
    steps = sgpctl(world.env, "policy", "apply", "-f", str(world.policy_file), "-o", "jsonpath={.steps[*].status}")
    assert steps.stdout == "unchanged"
    checks = sgpctl(world.env, "doctor", "-c", "settings", "-o", "name")
    assert checks.stdout.splitlines() == ["check/settings-credentials", "check/settings-region", "check/settings-cluster-id",
                                          "check/settings-kubeconfig", "check/settings-context-cluster"]


def test_wide_adds_columns_and_no_headers_drops_the_header(world):
    table = sgpctl(world.env, "policy", "list", "-n", NS).stdout.splitlines()
    wide = sgpctl(world.env, "policy", "list", "-n", NS, "-o", "wide").stdout.splitlines()
    bare = sgpctl(world.env, "policy", "list", "-n", NS, "--no-headers").stdout.splitlines()
    assert "CREATED" not in table[0] and "CREATED" in wide[0]
    assert len(bare) == 1 and bare[0].split()[:3] == [NS, POLICY, world.group]


def test_a_bad_template_is_bad_input_before_anything_is_sent(world):
    mark = world.sb.log.mark()
    r = sgpctl(world.env, "policy", "apply", "-f", str(world.policy_file), "-o", "jsonpath={.steps[")
    assert r.returncode == 2 and "jsonpath" in r.stderr and r.stdout == ""
    assert world.sb.log.since(mark) == []
    assert sgpctl(world.env, "policy", "list", "-o", "custom-columns=NAME").returncode == 2
    assert sgpctl(world.env, "version", "-o", "junit").returncode == 2  # reports no checks


def _junit(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    return root


def _cases(root: ET.Element) -> list[ET.Element]:
    return root.findall("./testsuite/testcase")


def test_junit_for_verify_one_testcase_per_pod(world):
    r = sgpctl(world.env, "verify", "pods", "-A", "-o", "junit")
    assert r.returncode == 0, r.stderr
    root = _junit(r.stdout)
    cases = _cases(root)
    assert sorted(c.get("name").split(":")[0] for c in cases) == [f"pod-{p}" for p in world.pods]
    assert root.get("tests") == "2" and root.get("failures") == "0"
    one = _junit(sgpctl(world.env, "verify", "pod", world.pods[0], "-n", NS, "-o", "junit").stdout)
    assert [c.get("name").split(":")[0] for c in _cases(one)] == [
        "pod-exists", "host-network", "network-annotation", "sub-eni-resource", "security-groups", "vpceni", "eni-groups",
        "node-family", "traffic"]  # traffic: the flows the Pod needs (#13), one testcase too


def test_junit_for_doctor_marks_failures_warnings_and_acknowledgements(world):
    r = sgpctl(world.env, "doctor", "-c", "settings", "-c", "manual", "-o", "junit", "--fail-on", "warning")
    root = _junit(r.stdout)
    by = {c.get("name").split(":")[0]: c for c in _cases(root)}
    allowlist = by["manual-client-token-allowlist"]
    failure = allowlist.find("failure")
    assert failure is not None and "cannot be read through any API" in failure.get("message")
    assert "hint: submit a ticket" in failure.text
    assert r.returncode == 1 and root.get("failures") == "1"
    # without --fail-on warning a warning passes, with its text in system-out
    soft = _junit(sgpctl(world.env, "doctor", "-c", "manual", "-o", "junit").stdout)
    (case,) = _cases(soft)
    assert case.find("failure") is None and case.find("system-out").text.startswith("warning:")
    acked = _junit(sgpctl(world.env, "doctor", "-c", "manual", "-o", "junit", "--fail-on", "warning",
                          "--ack", "manual-client-token-allowlist").stdout)
    assert acked.get("failures") == "0"


@pytest.mark.parametrize("command", [["routing", "check"], ["snat", "check"]])
def test_junit_for_routing_and_snat_checks(world, command):
    r = sgpctl(world.env, *command, "-o", "junit")
    root = _junit(r.stdout)
    doc = json.loads(sgpctl(world.env, *command, "-o", "json").stdout)
    ids = [c["id"] for cat in doc["categories"] for c in cat["checks"]]
    assert [c.get("name").split(":")[0] for c in _cases(root)] == ids
    failed = [c["id"] for cat in doc["categories"] for c in cat["checks"] if c["status"] == "fail"]
    assert int(root.get("failures")) == len(failed)


def test_junit_for_policy_validate_a_failure_per_problem(world, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(world.policy_file.read_text().replace("podSelector", "podSelectr"))
    r = sgpctl(world.env, "policy", "validate", "-f", str(world.policy_file), "-f", str(bad), "-o", "junit")
    root = _junit(r.stdout)
    cases = _cases(root)
    passed = [c for c in cases if c.find("failure") is None]
    failures = [c.find("failure").get("message") for c in cases if c.find("failure") is not None]
    problems = json.loads(sgpctl(world.env, "policy", "validate", "-f", str(world.policy_file), "-f", str(bad),
                                 "-o", "json").stdout)["problems"]
    assert len(passed) == 1 and len(failures) == len(problems) >= 1
    assert any("podSelectr" in f and str(bad) in f for f in failures) and r.returncode == 2


def _at_80_columns(world, *args) -> tuple[int, str]:
    env = Environment.captured(world.cli.env, home=world.cli.home, stdout_isatty=True, no_color=True, width=80)
    code = run(list(args), env)
    return code, env.out()


def test_at_80_columns_identifiers_stay_whole_and_text_wraps_with_a_hanging_indent(world):
    code, out = _at_80_columns(world, "verify", "pods", "-A")
    for pod in world.pods:
        assert pod in out
    code, out = _at_80_columns(world, "doctor", "-c", "manual")
    lines = out.splitlines()
    message = [line for line in lines if line.startswith("    the VPC client-token")]
    assert message, out
    i = lines.index(message[0])
    assert lines[i + 1].startswith("    ") and not lines[i + 1].startswith("    hint")  # continued under the message
    assert all(len(line) <= 80 for line in lines)
    # config view: long sources go under their row, the values stay whole
    code, out = _at_80_columns(world, "config", "view")
    assert world.cli.env["KUBECONFIG"] in out
    assert all(len(line) <= 80 or " " not in line.strip() for line in out.splitlines())


def test_long_reasons_go_under_the_row_at_80_columns(world, tmp_path):
    # A second policy over the running Pods: they become stale, with a long reason and a rebuild command.
    extra = sgpctl(world.env, "sg", "create", "explain-extra").stdout.strip()
    other = tmp_path / "more.yaml"
    other.write_text(world.policy_file.read_text().replace("my-security-group-policy", "more-groups-for-the-same-pods")
                     .replace(world.group, extra))
    code, out = _at_80_columns(world, "policy", "explain", "-f", str(other))
    assert code == 0
    stale_rows = [line for line in out.splitlines() if line.startswith(NS)]
    for pod in world.pods:
        assert any(pod in row for row in stale_rows), out
    assert "    REASON: " in out and "    REBUILD WITH: sgpctl policy rollout -n my-namespace" in out
    assert all(len(line) <= 80 for line in out.splitlines() if " " in line.strip())
