"""Item 1: flags as a kubectl user types them, through the installed CLI: global options after the
subcommand, -n/-A before it, -f repeated / a directory / -R / -, durations, --dry-run[=client|server],
--version, help that shows words rather than Python types."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess

import pytest

from sgpctl.core.durations import DurationError, parse_duration
from tests.habits.conftest import NS, build_world
from tests.sandbox_support import SGPCTL, running_sandbox, sgpctl
from tests.support import clean_env


def _bare(env: dict[str, str], *drop: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in drop}


def test_global_options_go_after_the_subcommand(world):
    env = _bare(world.env, "KUBECONFIG", "SGPCTL_ENDPOINT", "SGPCTL_CLUSTER_ID")
    kubeconfig, endpoint = world.env["KUBECONFIG"], world.env["SGPCTL_ENDPOINT"]
    context = sgpctl(world.env, "config", "view", "-o", "jsonpath={.settings.context.value}").stdout
    r = sgpctl(env, "verify", "pods", "-A", "--context", context, "--kubeconfig", kubeconfig, "--endpoint", endpoint,
               "--debug", "--no-color", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert sorted(p["name"] for p in json.loads(r.stdout)["pods"]) == world.pods
    assert "debug: sgpctl.kube" in r.stderr  # --debug after the subcommand turned the API log on
    # the same for a cloud command, and a value given later on the line wins
    r = sgpctl(env, "--cluster-id", "cls-aaaaaaaa", "--kubeconfig", kubeconfig, "trunking", "status",
               "--cluster-id", world.sb.cluster_id, "--endpoint", endpoint, "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["clusterId"] == world.sb.cluster_id


def test_namespace_and_all_namespaces_before_the_subcommand(world):
    mine = json.loads(sgpctl(world.env, "-n", NS, "verify", "pods", "-o", "json").stdout)
    assert sorted(p["name"] for p in mine["pods"]) == world.pods
    every = json.loads(sgpctl(world.env, "-A", "policy", "list", "-o", "json").stdout)
    assert [p["name"] for p in every["policies"]] == ["my-security-group-policy"]
    elsewhere = json.loads(sgpctl(world.env, "-n", "default", "verify", "pods", "-o", "json").stdout)
    assert elsewhere["pods"] == []
    # a command without a namespace refuses it rather than ignore it
    r = sgpctl(world.env, "-n", NS, "doctor")
    assert r.returncode == 2 and "-n/--namespace does not apply to `sgpctl doctor`" in r.stderr


def _policy(name: str, ns: str = NS) -> str:
    return (f"apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1\nkind: SecurityGroupPolicy\n"
            f"metadata: {{name: {name}, namespace: {ns}}}\n"
            "spec:\n  podSelector: {matchLabels: {app: x}}\n  securityGroups: {groupIds: [sg-1a2b3c4d]}\n")


def _valid(out: str) -> list[str]:
    return sorted(p["name"] for p in json.loads(out)["policies"])


def test_f_repeats_reads_directories_recursively_and_stdin_once(tmp_path):
    env = clean_env(HOME=str(tmp_path))
    d = tmp_path / "pols"
    (d / "sub").mkdir(parents=True)
    (d / "a.yaml").write_text(_policy("a"))
    (d / "b.yml").write_text(_policy("b"))
    (d / "c.json").write_text(json.dumps({"apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1",
                                          "kind": "SecurityGroupPolicy", "metadata": {"name": "c", "namespace": NS},
                                          "spec": {"podSelector": {}, "securityGroups": {"groupIds": ["sg-1a2b3c4d"]}}}))
    (d / "notes.txt").write_text("not a manifest")
    (d / "sub" / "d.yaml").write_text(_policy("d"))
    run = lambda *args, input=None: subprocess.run([SGPCTL, "policy", "validate", *args, "-o", "json"], env=env,  # noqa: E731
                                                   input=input, capture_output=True, text=True)
    assert _valid(run("-f", str(d / "a.yaml"), "-f", str(d / "b.yml")).stdout) == ["a", "b"]
    assert _valid(run("-f", str(d)).stdout) == ["a", "b", "c"]
    assert _valid(run("-f", str(d), "-R").stdout) == ["a", "b", "c", "d"]
    assert _valid(run("-f", "-", "-f", str(d / "sub"), input=_policy("e")).stdout) == ["d", "e"]
    twice = run("-f", "-", "-f", "-", input=_policy("e"))
    assert twice.returncode == 2 and "stdin can be read once" in twice.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = run("-f", str(empty))
    assert none.returncode == 2 and "holds no .yaml, .yml or .json file" in none.stderr
    dup = run("-f", str(d / "a.yaml"), "-f", str(d / "a.yaml"))
    assert dup.returncode == 2 and "defined twice" in dup.stderr


@pytest.mark.parametrize("text,seconds", [("300", 300), ("300s", 300), ("5m", 300), ("1h30m", 5400), ("1.5m", 90),
                                          ("2h", 7200), ("90s", 90), (42, 42)])
def test_durations(text, seconds):
    assert parse_duration(text, field="--timeout", minimum=1) == seconds


@pytest.mark.parametrize("text", ["5x", "m5", "", "-5", "0", "250ms", "5 m", "1h30"])
def test_bad_durations(text):
    with pytest.raises(DurationError):
        parse_duration(text, field="--timeout", minimum=1)


def test_durations_on_the_command_line(world):
    ok = sgpctl(world.env, "policy", "rollout", "-n", NS, "--timeout", "5m", "--dry-run")
    assert ok.returncode == 0, ok.stderr
    bad = sgpctl(world.env, "policy", "rollout", "-n", NS, "--timeout", "5 minutes", "--dry-run")
    assert bad.returncode == 2 and "--timeout '5 minutes' is not a duration" in bad.stderr
    assert "hint: see `sgpctl policy rollout --help`" in bad.stderr


def test_version_flag():
    r = subprocess.run([SGPCTL, "--version"], env=clean_env(), capture_output=True, text=True)
    from sgpctl import __version__

    assert r.returncode == 0 and r.stdout.startswith(f"sgpctl {__version__} ")


def _leaves(command, path):
    subs = getattr(command, "commands", None)
    if subs:
        for name, sub in subs.items():
            yield from _leaves(sub, f"{path} {name}")
    else:
        yield path


def test_help_shows_words_not_python_types(tmp_path):
    from sgpctl.cli.app import run
    from sgpctl.cli.commands import COMMANDS, load
    from sgpctl.environment import Environment

    paths = [p for e in COMMANDS for p in _leaves(load(e.name), e.name)]
    assert "verify pods" in paths and len(paths) > 30
    helps = {}
    for path in paths:  # in process: the same Click help, without one interpreter start per command
        env, printed = Environment.captured(clean_env(), home=tmp_path), io.StringIO()
        with contextlib.redirect_stdout(printed):  # Click writes help to the process's stdout
            assert run([*path.split(), "--help"], env) == 0, path
        helps[path] = printed.getvalue()
        assert not re.search(r"<(str|int|float|list\[|Path|OutputFormat|float range|int range)", helps[path]), (path, helps[path])
    # and one through the installed executable, as a user runs it
    installed = subprocess.run([SGPCTL, "policy", "apply", "--help"], env=clean_env(), capture_output=True, text=True)
    assert installed.returncode == 0 and installed.stdout == helps["policy apply"]
    assert "-f, --filename FILE" in helps["policy apply"]
    assert "--timeout DURATION" in helps["routing set"]
    assert "-n, --namespace NAMESPACE" in helps["verify pods"]
    assert "-o, --output FORMAT" in helps["doctor"] and "jsonpath=EXPR" in helps["doctor"]
    assert "strict|standard" in helps["routing set"] and "strict|standard <" not in helps["routing set"]
    assert "may also go here" in helps["cam status"]


def test_dry_run_client_and_server(tmp_path):
    """--dry-run (client) sends no change; --dry-run=server sends each change with dryRun=All (Kubernetes)
    or DryRun (TKE), and nothing is created; a value only with `=`."""
    with running_sandbox("default", addon_delay=0.05) as sb:
        sb.settle()
        w = build_world(sb, tmp_path)
        created = w.policy_file.read_text().replace("my-security-group-policy", "server-side")
        new = tmp_path / "new.yaml"
        new.write_text(created)
        mark = sb.log.mark()
        client = sgpctl(w.env, "policy", "apply", "-f", str(new), "--dry-run", "-o", "json")
        assert client.returncode == 0 and json.loads(client.stdout)["dryRunMode"] == "client"
        assert [e for e in sb.log.since(mark) if e["mutating"]] == []
        server = sgpctl(w.env, "policy", "apply", "-f", str(new), "--dry-run=server", "-o", "json")
        assert server.returncode == 0, server.stderr
        doc = json.loads(server.stdout)
        assert doc["dryRun"] is True and doc["dryRunMode"] == "server"
        assert doc["steps"][0]["message"] == "securitygrouppolicy/server-side created (server dry run)"
        assert "server dry run" in server.stderr
        posts = [e for e in sb.log.since(mark, api="kube") if e["action"] == "create"]
        assert len(posts) == 1 and posts[0]["params"]["query"].get("dryRun") == "All"
        assert sgpctl(w.env, "policy", "get", "server-side", "-n", NS).returncode == 1  # nothing was created
        # TKE's DryRun on the add-on calls: enable-trunking would change eniipamd
        sb.cloud.update_addon(sb.cluster_id, "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": False}}})
        sb.settle()
        mark = sb.log.mark()
        trunk = sgpctl(w.env, "enable-trunking", "--dry-run=server", "-o", "json")
        assert trunk.returncode == 0, trunk.stderr
        (update,) = sb.log.since(mark, api="cloud", action="UpdateAddon")
        assert update["params"]["DryRun"] is True
        assert json.loads(sgpctl(w.env, "trunking", "status", "-o", "json").stdout)["enabled"] is False
        bad = sgpctl(w.env, "policy", "apply", "-f", str(new), "--dry-run=maybe")
        assert bad.returncode == 2 and "--dry-run=maybe is not a dry-run mode" in bad.stderr
        # without `=` the next word stays an argument
        kept = sgpctl(w.env, "policy", "delete", "--dry-run", "my-security-group-policy", "-n", NS)
        assert kept.returncode == 0 and "would be deleted" in kept.stdout
