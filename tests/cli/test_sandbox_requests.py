"""`sgpctl sandbox requests`: the running sandbox's request log for both APIs, through its control API,
as a user reads it after `sandbox up --detach` (and as a script counts what a command called)."""

from __future__ import annotations

import json
import os

import pytest

from sgpctl.cli.app import run
from sgpctl.environment import Environment
from sgpctl.sandbox.requestlog import RequestLog, describe

from tests.sandbox_support import sgpctl
from tests.support import clean_env


def test_kube_entries_say_verb_resource_namespace_and_later_pages():
    log = RequestLog()
    log.record("kube", "kube", "list", {"resource": "pods", "version": "v1", "namespace": "shop",
                                        "query": {"limit": "2", "labelSelector": "app=web"}}, False, "OK", 200)
    log.record("kube", "kube", "list", {"resource": "pods", "version": "v1", "namespace": "shop",
                                        "query": {"limit": "2", "continue": "abc"}}, False, "OK", 200)
    log.record("kube", "kube", "patch", {"resource": "deployments.apps", "namespace": "shop", "name": "web"}, True, "OK", 200)
    log.record("cloud", "vpc", "DescribeNetworkInterfaces", {"NetworkInterfaceIds": ["eni-1"], "SecretKey": "x"},
               False, "OK", 200)
    first, second, patch, cloud = (describe(e) for e in log.entries())
    assert {k: first[k] for k in ("api", "verb", "resource", "namespace", "service", "action", "status")} == {
        "api": "kube", "verb": "list", "resource": "pods", "namespace": "shop", "service": None, "action": None,
        "status": 200}
    assert first["labelSelector"] == "app=web" and "continue" not in first
    assert second["continue"] is True
    assert (patch["verb"], patch["name"], patch["mutating"]) == ("patch", "web", True)
    assert {k: cloud[k] for k in ("api", "verb", "resource", "service", "action", "status")} == {
        "api": "cloud", "verb": None, "resource": None, "service": "vpc", "action": "DescribeNetworkInterfaces",
        "status": 200}
    assert cloud["params"] == {"NetworkInterfaceIds": ["eni-1"]}  # never a secret


@pytest.fixture
def running(tmp_path):
    """An in-process sandbox serving from a state dir, its info file written as `sandbox up` writes it."""
    from sgpctl.cli.sandbox_cmd import write_info
    from sgpctl.sandbox.region import Sandbox
    from sgpctl.sandbox.runner import StateDir

    sd = StateDir.resolve(tmp_path / "sd")
    sb = Sandbox("default", state_dir=sd.path, addon_delay=0.05).start()
    try:
        sd.pid.write_text(f"{os.getpid()}\n")
        write_info(sd, sb)
        yield sb, sd
    finally:
        sb.stop()


def requests(sd, *more: str) -> tuple[int, Environment]:
    env = Environment.captured({}, home=sd.path)
    return run(["sandbox", "requests", "--state-dir", str(sd.path), *more], env), env


def test_lists_both_apis_and_marks_later_pages(running, tmp_path):
    from sgpctl.kube import resources as r
    from sgpctl.kube.client import Kube

    sb, sd = running
    code, env = requests(sd, "-o", "json")
    assert code == 0
    start = json.loads(env.out())["next"]
    kube = Kube.from_kubeconfig(str(sd.kubeconfig), page_size=2)
    pods = kube.list(r.PODS)
    assert len(pods) > 4  # several pages
    cli_env = Environment.captured(sandbox_vars(sb, sd), home=tmp_path)
    assert run(["cam", "status", "-o", "json"], cli_env) in (0, 1)

    code, env = requests(sd, "--since", str(start), "-o", "json")
    assert code == 0
    doc = json.loads(env.out())
    entries = doc["entries"]
    pages = [e for e in entries if e["api"] == "kube" and e["verb"] == "list" and e["resource"] == "pods"]
    assert len(pages) == -(-len(pods) // 2)
    assert "continue" not in pages[0] and all(p["continue"] is True for p in pages[1:])
    assert {e["action"] for e in entries if e["api"] == "cloud"} >= {"ListPolicies", "GetRole"}
    assert doc["next"] == entries[-1]["seq"] + 1
    assert sb.secret_key not in env.out() and sb.admin_token not in env.out()
    # and nothing after the last mark
    code, env = requests(sd, "--since", str(doc["next"]), "-o", "json")
    later = json.loads(env.out())["entries"]
    assert all(e["seq"] >= doc["next"] for e in later)


def test_the_table_names_what_was_called(running):
    sb, sd = running
    code, env = requests(sd)
    assert code == 0
    assert env.out().splitlines()[0].split() == ["SEQ", "API", "VERB/ACTION", "RESOURCE/SERVICE", "STATUS", "CODE"]
    assert "next:" in env.err()


def test_without_a_running_sandbox_it_is_bad_input(tmp_path):
    code, env = requests(type("SD", (), {"path": tmp_path / "none"})())
    assert code == 2 and "no sandbox is running" in env.err()


def sandbox_vars(sb, sd) -> dict[str, str]:
    return {**sb.env(), "KUBECONFIG": str(sd.kubeconfig), "SGPCTL_RETRY_BASE_DELAY": "0"}


def test_a_detached_sandbox_serves_its_log(tmp_path):
    """The real thing: `sandbox up --detach`, a command, `sandbox requests` - three processes."""
    env = sandbox_env_for(tmp_path)
    sd = tmp_path / "sd"
    up = sgpctl(env, "sandbox", "up", "--detach", "--state-dir", str(sd))
    assert up.returncode == 0, up.stderr
    try:
        from sgpctl.sandbox.runner import parse_env_text

        env.update(parse_env_text((sd / "env").read_text()))
        verify = sgpctl(env, "verify", "pods", "-A")
        assert verify.returncode == 1  # the add-on is not installed yet: refused, nothing read but discovery
        out = sgpctl(env, "sandbox", "requests", "--state-dir", str(sd), "-o", "json")
        assert out.returncode == 0, out.stderr
        entries = json.loads(out.stdout)["entries"]
        assert any(e["api"] == "kube" and e["verb"] == "discovery" for e in entries)
    finally:
        sgpctl(env, "sandbox", "down", "--state-dir", str(sd))


def sandbox_env_for(tmp_path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return clean_env(HOME=str(home))
