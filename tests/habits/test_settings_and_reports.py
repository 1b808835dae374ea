"""Items 2 and 3: one resolver for every setting (what `config view` shows is what the commands use,
the cluster id inferred from a TKE kube context included), and true reports: ``dryRun`` from the flag,
a real run with nothing to change still runs its read-only checks, and the README's exit codes per
command family (not found, missing add-on, refused, undetermined, bad input)."""

from __future__ import annotations

import json

import pytest

from tests.habits.conftest import NS
from tests.sandbox_support import running_sandbox, sandbox_env, sgpctl


def _without_cluster_id(env):
    return {k: v for k, v in env.items() if k != "SGPCTL_CLUSTER_ID"}


def test_the_cluster_id_inferred_from_the_kube_context_is_used_by_every_command(world):
    env = _without_cluster_id(world.env)
    view = json.loads(sgpctl(env, "config", "view", "-o", "json").stdout)["settings"]
    context = view["context"]["value"]
    assert view["clusterId"] == {"value": world.sb.cluster_id, "source": f"inferred from kube context {context}"}
    status = sgpctl(env, "trunking", "status", "-o", "json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["clusterId"] == world.sb.cluster_id
    doctor = json.loads(sgpctl(env, "doctor", "-c", "settings", "-o", "json").stdout)
    (check,) = [c for c in doctor["categories"][0]["checks"] if c["id"] == "settings-cluster-id"]
    assert check["status"] == "pass" and "inferred from kube context" in check["message"]
    # a flag still wins, and config view says so
    flagged = json.loads(sgpctl(env, "--cluster-id", "cls-aaaaaaaa", "config", "view", "-o", "json").stdout)
    assert flagged["settings"]["clusterId"] == {"value": "cls-aaaaaaaa", "source": "flag --cluster-id"}


def test_without_a_tke_context_the_hint_says_how_to_give_the_id(world, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(open(world.env["KUBECONFIG"]).read().replace(f"{world.sb.cluster_id}-context-default", "plain"))
    env = {**_without_cluster_id(world.env), "KUBECONFIG": str(kubeconfig)}
    view = json.loads(sgpctl(env, "config", "view", "-o", "json").stdout)["settings"]
    # the cluster entry is still named after the id: TKE names both
    assert view["clusterId"]["source"] == "inferred from kube context plain"
    bare = tmp_path / "bare"
    bare.write_text(kubeconfig.read_text().replace(world.sb.cluster_id, "prod"))
    env["KUBECONFIG"] = str(bare)
    assert json.loads(sgpctl(env, "config", "view", "-o", "json").stdout)["settings"]["clusterId"]["value"] is None
    r = sgpctl(env, "trunking", "status")
    assert r.returncode == 2 and "no cluster id" in r.stderr and "context named after the cluster" in r.stderr


def test_dry_run_in_the_report_comes_from_the_flag(world):
    for command in (["setup", "--yes"], ["routing", "set", "standard", "--yes"], ["policy", "rollout", "-n", NS, "--yes"],
                    ["cam", "setup", "--yes"], ["enable-trunking", "--yes"], ["addon", "install", "--yes"]):
        real = sgpctl(world.env, *command, "-o", "json")
        assert real.returncode == 0, (command, real.stderr)
        doc = json.loads(real.stdout)
        assert doc["dryRun"] is False and doc["changed"] is False and "dryRunMode" not in doc, command
        assert "nothing to change" in real.stderr and "dry run" not in real.stderr, command
        dry = json.loads(sgpctl(world.env, *command, "--dry-run", "-o", "json").stdout)
        assert dry["dryRun"] is True and dry["dryRunMode"] == "client", command


def test_nothing_to_change_still_checks_that_the_crd_is_served(sandbox_cli):
    cli = sandbox_cli("default")
    assert cli("setup", "--yes").exit_code == 0
    again = cli("setup", "--yes", "-o", "json")
    crd = next(s for s in again.json()["steps"] if s["id"] == "addon/sgp-crd-served")
    assert crd["status"] == "unchanged" and crd["message"] == "SecurityGroupPolicy is served"
    # the check really asks the API server (the sandbox's add-on would put a deleted CRD back)
    mark = cli.sandbox.log.mark()
    assert cli("setup", "--yes").exit_code == 0
    asked = [e for e in cli.sandbox.log.since(mark, api="kube")
             if "vpcresources.tke.cloud.tencent.com" in str(e["params"].get("path", ""))]
    assert asked and not [e for e in cli.sandbox.log.since(mark) if e["mutating"]]


@pytest.fixture(scope="module")
def bare_default(tmp_path_factory):
    """A cluster before `sgpctl setup`: the SecurityGroupPolicy add-on is not installed."""
    with running_sandbox("default", addon_delay=0.05) as sb:
        sb.settle()
        yield sandbox_env(sb, tmp_path_factory.mktemp("bare"))


@pytest.mark.parametrize("command", [
    ["policy", "list", "-A"], ["policy", "apply", "-f", "{policy}"], ["verify", "pods", "-A"], ["policy", "rollout", "-n", NS],
    ["traffic", "check", "-A"],
])
def test_exit_1_when_the_add_on_is_missing(bare_default, world, command):
    args = [a.replace("{policy}", str(world.policy_file)) for a in command]
    r = sgpctl(bare_default, *args)
    assert r.returncode == 1, r.stderr
    assert "the SecurityGroupPolicy add-on is not installed" in r.stderr and "sgpctl addon install" in r.stderr


@pytest.mark.parametrize("command", [
    ["policy", "get", "nope", "-n", NS], ["policy", "delete", "nope", "-n", NS, "--yes"], ["policy", "explain", "nope", "-n", NS],
    ["verify", "pods", "--policy", "nope", "-n", NS], ["policy", "rollout", "nope", "-n", NS], ["verify", "pod", "nope", "-n", NS],
    ["traffic", "explain", "ip/10.0.0.1", f"pod/{NS}/nope", "--port", "80"],
])
def test_exit_1_when_something_is_not_found(world, command):
    r = sgpctl(world.env, *command)
    assert r.returncode == 1, r.stderr
    assert "not found" in r.stdout + r.stderr


def test_exit_1_when_refused(tmp_path):
    with running_sandbox("legacy", addon_delay=0.05) as sb:
        sb.settle()
        env = sandbox_env(sb, tmp_path)
        for command in (["setup", "--yes"], ["enable-trunking", "--yes"]):
            r = sgpctl(env, *command, "-o", "json")
            assert r.returncode == 1, (command, r.stderr)
            assert "non-static Pod IPs" in r.stdout and "nothing was changed" in r.stderr
            assert json.loads(r.stdout)["dryRun"] is False
        assert [e for e in sb.log.entries() if e["mutating"]] == []


def test_exit_3_when_it_cannot_be_determined(world, tmp_path):
    unreachable_cloud = {**world.env, "SGPCTL_ENDPOINT": "http://127.0.0.1:1", "SGPCTL_RETRY_MAX_ATTEMPTS": "1"}
    r = sgpctl(unreachable_cloud, "trunking", "status")
    assert r.returncode == 3, r.stderr
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(open(world.env["KUBECONFIG"]).read().replace(world.sb.kube_url, "https://127.0.0.1:1"))
    r = sgpctl({**world.env, "KUBECONFIG": str(kubeconfig)}, "policy", "list", "-A")
    assert r.returncode == 3 and "cannot reach the Kubernetes API server" in r.stderr


@pytest.mark.parametrize("command", [["verify", "pods", "-o", "xml"], ["routing", "set", "strict", "--timeout", "soon"],
                                     ["policy", "list", "-n", "Not_A_Namespace"], ["verify", "pods", "-l", "a in"]])
def test_exit_2_on_bad_input(world, command):
    mark = world.sb.log.mark()
    r = sgpctl(world.env, *command)
    assert r.returncode == 2 and r.stderr.startswith("error: ")
    assert world.sb.log.since(mark) == []
