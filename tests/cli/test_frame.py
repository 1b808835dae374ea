"""The CLI frame: help, exit codes, config view, the start-up import budget."""

import json
import subprocess
import sys

from typer.testing import CliRunner

from sgpctl.cli.app import app
from tests.support import clean_env

runner = CliRunner()


def test_help_lists_commands_and_options():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for word in ("--profile", "--region", "--cluster-id", "--kubeconfig", "--context", "--endpoint", "--debug", "--no-color", "config", "version"):
        assert word in r.output


def test_unknown_flag_is_a_usage_error():
    r = runner.invoke(app, ["--bogus"])
    assert r.exit_code == 2


def test_version_json():
    r = runner.invoke(app, ["version", "-o", "json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["version"]


def test_config_view_reports_sources_and_masks_secrets(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: cls-ab12cd34-context-default\n"
        "contexts:\n- name: cls-ab12cd34-context-default\n  context: {cluster: cls-ab12cd34, user: admin}\n"
        "clusters:\n- name: cls-ab12cd34\n  cluster: {server: 'https://1.2.3.4'}\nusers:\n- name: admin\n  user: {token: t}\n"
    )
    env = clean_env(
        HOME=str(tmp_path),
        TENCENTCLOUD_SECRET_ID="AKIDsecretidvalue",
        TENCENTCLOUD_SECRET_KEY="the-secret-key-value",
        TENCENTCLOUD_REGION="ap-guangzhou",
        KUBECONFIG=str(kubeconfig),
    )
    r = subprocess.run([sys.executable, "-m", "sgpctl", "config", "view", "-o", "json"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    settings = json.loads(r.stdout)["settings"]
    assert settings["region"] == {"value": "ap-guangzhou", "source": "env TENCENTCLOUD_REGION"}
    assert settings["context"]["value"] == "cls-ab12cd34-context-default"
    assert settings["clusterId"]["value"] == "cls-ab12cd34"
    assert settings["kubeServer"]["value"] == "https://1.2.3.4"
    assert "the-secret-key-value" not in r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "sgpctl", "--region", "ap-beijing", "config", "view", "-o", "json"], env=env, capture_output=True, text=True)
    assert json.loads(r.stdout)["settings"]["region"] == {"value": "ap-beijing", "source": "flag --region"}


def test_help_imports_no_sdk():
    """`sgpctl --help` (and so shell completion) must not import kubernetes, tencentcloud or yaml."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "sgpctl", "--help"], env=clean_env(), capture_output=True, text=True)
    assert r.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in r.stderr.splitlines() if "|" in line}
    assert "typer" in imported  # the measurement itself works
    assert not imported & {"kubernetes", "tencentcloud", "yaml", "requests", "urllib3"}, imported & {"kubernetes", "tencentcloud", "yaml", "requests", "urllib3"}


def test_missing_kubeconfig_is_input_error_naming_the_path(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sgpctl", "verify", "pods", "-A"], env=clean_env(HOME=str(tmp_path)),
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert f"no kubeconfig at {tmp_path}/.kube/config" in r.stderr and "Traceback" not in r.stderr


def test_unreachable_cloud_endpoint_is_exit_3_in_one_line(tmp_path):
    env = clean_env(HOME=str(tmp_path), TENCENTCLOUD_SECRET_ID="AKIDtest", TENCENTCLOUD_SECRET_KEY="k", SGPCTL_RETRY_BASE_DELAY="0")
    r = subprocess.run([sys.executable, "-m", "sgpctl", "--endpoint", "http://127.0.0.1:1", "cam", "status"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 3
    first, hint = r.stderr.strip().splitlines()
    assert first.endswith("gave up after 3 attempts and 0.0 s: connection refused") or "connection refused" in first
    assert "HTTPConnectionPool" not in first
    assert hint.startswith("hint: cannot reach http://127.0.0.1:1")


def test_bad_endpoint_url_is_input_error(tmp_path):
    env = clean_env(HOME=str(tmp_path), TENCENTCLOUD_SECRET_ID="AKIDtest", TENCENTCLOUD_SECRET_KEY="k")
    r = subprocess.run([sys.executable, "-m", "sgpctl", "--endpoint", "127.0.0.1:8443", "cam", "status"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "SGPCTL_ENDPOINT" in r.stderr


def test_works_as_a_kubectl_plugin(tmp_path):
    """kubectl runs `kubectl-sgp` from PATH for `kubectl sgp ...`; its help says so."""
    import os
    import shutil
    from pathlib import Path

    import pytest

    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    bin_dir = str(Path(sys.executable).parent)
    env = clean_env(HOME=str(tmp_path), PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    r = subprocess.run(["kubectl", "sgp", "version", "-o", "json"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["version"]
    r = subprocess.run(["kubectl", "sgp", "--help"], env=env, capture_output=True, text=True)
    assert r.stdout.startswith("Usage: kubectl sgp ")


_QUICK_EXIT = """
import atexit, sys, threading, time
from sgpctl.cli import app
atexit.register(lambda: print("exit handlers ran", file=sys.stderr))
if sys.argv[1] == "busy":
    threading.Thread(target=lambda: (time.sleep(0.5), print("the thread finished"))).start()
print("the report", end="")  # buffered: a pipe
app._quick_exit(3)
print(" ... and the ordinary exit")
sys.exit(4)
"""


def test_a_reporting_command_ends_without_teardown_but_with_its_output_and_exit_handlers():
    r = subprocess.run([sys.executable, "-c", _QUICK_EXIT, "idle"], env=clean_env(), capture_output=True, text=True)
    assert (r.returncode, r.stdout, r.stderr) == (3, "the report", "exit handlers ran\n")


def test_a_thread_still_running_gets_the_ordinary_exit():
    r = subprocess.run([sys.executable, "-c", _QUICK_EXIT, "busy"], env=clean_env(), capture_output=True, text=True)
    assert r.returncode == 4
    assert r.stdout == "the report ... and the ordinary exit\nthe thread finished\n"


def test_the_cloud_adapters_load_without_the_traffic_evaluator():
    # `verify pods` reads ENIs through the VPC adapter; importing core.traffic cost a tenth of its start-up
    code = "import sys, sgpctl.cloud.factory, sgpctl.cloud.vpc; print('sgpctl.core.traffic' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr


def test_the_commands_that_end_quickly_print_all_of_their_report_and_its_exit_code(sandbox_cli):
    """`verify pods` and `doctor` end their process without the interpreter's teardown: as a process
    (the console script's main) they print the same whole report, with the same exit code, as the
    command run in-process, where the ordinary return happens."""
    cli = sandbox_cli("strict-hazards")
    env = clean_env(**cli.env)
    for args in (["verify", "pods", "-A", "-o", "json"], ["doctor", "-o", "json"]):
        inside = cli(*args)
        r = subprocess.run([sys.executable, "-m", "sgpctl", *args], env=env, capture_output=True, text=True)
        assert r.returncode == inside.exit_code, r.stderr
        # the whole document, its last byte included: the same as the in-process command's
        assert json.loads(r.stdout) == inside.json()
