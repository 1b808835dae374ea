"""`sgpctl sandbox up/env/status/down/scenarios`, through CliRunner and as subprocesses of the
installed sgpctl; and the unchanged CLI reaching a sandbox through its env file alone."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sgpctl.cli.app import app
from sgpctl.sandbox.runner import parse_env_text, port_free
from tests.sandbox_support import KUBECTL, SGPCTL, env_file_only, kubectl, running_sandbox, sgpctl
from tests.support import clean_env

runner = CliRunner()


def free_port_pair() -> int:
    """N such that N and N+1 are both free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and port_free(port) and port_free(port + 1):
            return port
    raise RuntimeError("no free port pair")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A HOME of the test's own: the sandbox must not write into ~/.kube or ~/.tccli."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.delenv("SGPCTL_SANDBOX_DIR", raising=False)
    yield home
    assert not (home / ".kube").exists() and not (home / ".tccli").exists()


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return clean_env(HOME=str(home), **extra)


# --- CliRunner --------------------------------------------------------------------------------


def test_scenarios_lists_each_with_one_line():
    r = runner.invoke(app, ["sandbox", "scenarios"])
    assert r.exit_code == 0
    lines = r.stdout.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == ["default", "legacy", "strict-hazards", "large", "fleet"]
    data = json.loads(runner.invoke(app, ["sandbox", "scenarios", "-o", "json"]).stdout)
    assert [d["name"] for d in data] == ["default", "legacy", "strict-hazards", "large", "fleet"]
    assert all(d["description"] for d in data)


@pytest.mark.parametrize("args, words", [
    (["--scenario", "nope"], "unknown scenario 'nope'"),
    (["--faults", "vpc:explode=1"], "bad --faults"),
    (["--port", "0"], "out of range"),
])
def test_bad_input_is_a_one_line_error_with_exit_2(tmp_path, home, args, words):
    r = runner.invoke(app, ["sandbox", "up", "--state-dir", str(tmp_path / "sd"), *args])
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0].startswith("error: ") and words in r.stderr.splitlines()[0]
    assert not (tmp_path / "sd" / "state.json").exists()


def test_port_in_use_is_refused(tmp_path, home):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = runner.invoke(app, ["sandbox", "up", "--state-dir", str(tmp_path / "sd"), "--port", str(port)])
    assert r.exit_code == 2 and f"port {port} on 127.0.0.1 is in use" in r.stderr


def test_env_without_a_sandbox_is_an_input_error(tmp_path, home):
    r = runner.invoke(app, ["sandbox", "env", "--state-dir", str(tmp_path / "none")])
    assert r.exit_code == 2 and "no sandbox env file" in r.stderr


def test_status_and_down_without_a_sandbox(tmp_path, home):
    r = runner.invoke(app, ["sandbox", "status", "--state-dir", str(tmp_path / "none"), "-o", "json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["running"] is False
    r = runner.invoke(app, ["sandbox", "down", "--state-dir", str(tmp_path / "none")])
    assert r.exit_code == 0 and "none is running" in r.stderr


def test_detached_lifecycle_through_cli_runner(tmp_path, home):
    sd = tmp_path / "sd"
    port = free_port_pair()
    r = runner.invoke(app, ["sandbox", "up", "--detach", "--state-dir", str(sd), "--port", str(port)])
    try:
        assert r.exit_code == 0, r.stderr
        assert f'eval "$(sgpctl sandbox env --state-dir {sd})"' in r.stderr
        status = json.loads(runner.invoke(app, ["sandbox", "status", "--state-dir", str(sd), "-o", "json"]).stdout)
        assert status["running"] is True and status["scenario"] == "default"
        assert (status["cloudPort"], status["kubePort"]) == (port, port + 1)
        assert status["cloudUrl"] == f"http://127.0.0.1:{port}"
        assert status["kubeUrl"] == f"https://127.0.0.1:{port + 1}"
        assert status["counts"]["nodes"] == 5
        again = runner.invoke(app, ["sandbox", "up", "--detach", "--state-dir", str(sd)])
        assert again.exit_code == 2 and "already running" in again.stderr
    finally:
        r = runner.invoke(app, ["sandbox", "down", "--state-dir", str(sd)])
    assert r.exit_code == 0 and "stopped" in r.stderr
    assert port_free(port) and port_free(port + 1)


# --- subprocess of the installed sgpctl -------------------------------------------------------


def test_installed_cli_up_env_status_down_and_resume(tmp_path, home):
    sd = tmp_path / "state"
    env = env_for(home)
    r = sgpctl(env, "sandbox", "up", "--detach", "--state-dir", str(sd))
    try:
        assert r.returncode == 0, r.stderr
        for name in ("env", "kubeconfig", "state.json", "sandbox.pid"):
            assert (sd / name).exists(), name
        for name in ("env", "kubeconfig"):
            assert stat.S_IMODE((sd / name).stat().st_mode) == 0o600
        exported = sgpctl(env, "sandbox", "env", "--state-dir", str(sd))
        assert exported.returncode == 0
        values = parse_env_text(exported.stdout)
        assert set(values) == {"KUBECONFIG", "SGPCTL_ENDPOINT", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY",
                               "TENCENTCLOUD_REGION", "SGPCTL_CLUSTER_ID"}
        assert values["KUBECONFIG"] == str(sd / "kubeconfig")
        assert all(line.startswith(("#", "export ")) for line in exported.stdout.splitlines())
        status = json.loads(sgpctl(env, "sandbox", "status", "--state-dir", str(sd), "-o", "json").stdout)
        assert status["running"] and status["pid"] == int((sd / "sandbox.pid").read_text())
        ports = (status["cloudPort"], status["kubePort"])
        # A change made through kubectl, to see it survive a restart.
        if KUBECTL:
            kenv = {**env, **values, "KUBECACHEDIR": str(tmp_path / "kc")}
            kubectl(kenv, "create", "namespace", "kept")
            kubectl(kenv, "label", "node", "--all", "pool=blue")
        down = sgpctl(env, "sandbox", "down", "--state-dir", str(sd))
        assert down.returncode == 0, down.stderr
        assert all(port_free(p) for p in ports)
        assert not (sd / "sandbox.pid").exists()
        assert json.loads(sgpctl(env, "sandbox", "status", "--state-dir", str(sd), "-o", "json").stdout)["running"] is False

        r = sgpctl(env, "sandbox", "up", "--detach", "--state-dir", str(sd))
        assert r.returncode == 0, r.stderr
        resumed = parse_env_text(sgpctl(env, "sandbox", "env", "--state-dir", str(sd)).stdout)
        assert resumed == values  # same credentials, cluster id, endpoint (the ports were free again)
        status = json.loads(sgpctl(env, "sandbox", "status", "--state-dir", str(sd), "-o", "json").stdout)
        assert (status["cloudPort"], status["kubePort"]) == ports
        if KUBECTL:
            assert kubectl(kenv, "get", "namespace", "kept", "-o", "name").stdout.strip() == "namespace/kept"
            labels = kubectl(kenv, "get", "nodes", "-l", "pool=blue", "-o", "name").stdout.split()
            assert len(labels) == 5
    finally:
        sgpctl(env, "sandbox", "down", "--state-dir", str(sd))


def test_default_state_dir_is_under_xdg_state_home(tmp_path, home):
    env = env_for(home)
    r = sgpctl(env, "sandbox", "up", "--detach")
    sd = home / ".local" / "state" / "sgpctl" / "sandbox"
    try:
        assert r.returncode == 0, r.stderr
        assert (sd / "env").exists() and (sd / "kubeconfig").exists()
        assert 'eval "$(sgpctl sandbox env)"' in r.stderr
        assert sgpctl(env, "sandbox", "env").stdout.startswith("# sgpctl sandbox")
    finally:
        sgpctl(env, "sandbox", "down")
    assert sorted(p.name for p in home.iterdir()) == [".local"]


def test_foreground_up_stops_on_ctrl_c_and_saves(tmp_path, home):
    sd = tmp_path / "fg"
    proc = subprocess.Popen([SGPCTL, "sandbox", "up", "--state-dir", str(sd), "--scenario", "legacy"],
                            env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (sd / "sandbox.json").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        info = json.loads((sd / "sandbox.json").read_text())
        assert info["pid"] == proc.pid and info["scenario"] == "legacy"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "is up" in err and "stopped; state saved" in err
    saved = json.loads((sd / "state.json").read_text())
    assert saved["sandbox"]["scenario"] == "legacy" and saved["counts"]["nodes"] == 5
    assert port_free(info["cloudPort"]) and port_free(info["kubePort"])
    assert not (sd / "sandbox.json").exists()


def test_resuming_with_another_scenario_needs_reset(tmp_path, home):
    sd = tmp_path / "sd"
    with running_sandbox("legacy", state_dir=sd):
        pass
    r = runner.invoke(app, ["sandbox", "up", "--detach", "--state-dir", str(sd), "--scenario", "default"])
    assert r.exit_code == 2 and "holds a sandbox of scenario 'legacy'" in r.stderr


# --- the unchanged CLI through the env file alone ---------------------------------------------


def test_unchanged_cli_reaches_the_sandbox_through_the_env_file_alone(tmp_path):
    with running_sandbox("default") as sb:
        env = env_file_only(sb, tmp_path)
        assert not any(k.lower().endswith("_proxy") for k in env)
        r = sgpctl(env, "config", "view", "-o", "json")
        assert r.returncode == 0, r.stderr
        settings = json.loads(r.stdout)["settings"]
        assert settings["endpoint"] == {"value": sb.cloud_url, "source": "env SGPCTL_ENDPOINT"}
        assert settings["secretId"]["source"].startswith("env TENCENTCLOUD_SECRET_ID")
        assert settings["clusterId"] == {"value": sb.cluster_id, "source": "env SGPCTL_CLUSTER_ID"}
        assert settings["kubeServer"]["value"] == sb.kube_url
        assert sb.secret_key not in r.stdout + r.stderr
        # A command that calls both APIs: the sandbox's request log sees it, signed with its keys.
        mark = sb.log.mark()
        r = sgpctl(env, "doctor", "-o", "json")
        assert r.returncode in (0, 1), r.stderr
        calls = sb.log.since(mark)
        assert {c["api"] for c in calls} == {"cloud", "kube"}
        assert all(c["code"] != "AuthFailure.SignatureFailure" for c in calls)

        # Both APIs in one command: the sandbox's nodes (Kubernetes) with their quotas (cloud, as
        # trunking is still off).
        mark = sb.log.mark()
        r = sgpctl(env, "capacity", "-o", "json")
        assert r.returncode == 0, r.stderr
        capacity = json.loads(r.stdout)
        assert {c["api"] for c in sb.log.since(mark)} == {"cloud", "kube"}
        assert sorted(n["node"] for n in capacity["nodes"]) == sorted(n["metadata"]["name"] for n in sb.kube.list("nodes"))
        assert capacity["totals"]["quota"] == 100 + 100 + 256  # SA5, S8 and the 64-core SA5; S5 and SA2 none

        # Answers only this sandbox can give. The cloud API: the cluster named in the env file,
        # its eniipamd as the scenario installed it, and a change made inside the sandbox.
        trunking = json.loads(sgpctl(env, "trunking", "status", "-o", "json").stdout)
        assert trunking["clusterId"] == sb.cluster_id
        assert (trunking["eniipamd"]["version"], trunking["eniipamd"]["phase"]) == ("3.6.0", "Succeeded")
        assert trunking["enabled"] is False
        assert all(p["ok"] for p in trunking["preconditions"])
        sb.cloud.update_addon(sb.cluster_id, "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
        sb.settle()
        r = sgpctl(env, "trunking", "status", "-o", "json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["enabled"] is True and json.loads(r.stdout)["describeIpamdEnableTrunkingEni"] is True
        assert not (Path(env["HOME"]) / ".kube").exists() and not (Path(env["HOME"]) / ".tccli").exists()
