"""Every exit code is decided in one place (httpie's ``tests/test_exit_status.py``): whatever a command
raises maps through ``cli/errors.py`` at the root group, and whatever it returns becomes the exit
status there. The command runs in-process in an Environment of its own; its workflow is replaced by
one that raises."""

from __future__ import annotations

import pytest

from sgpctl.cli.app import run
from sgpctl.environment import Environment
from sgpctl.errors import CloudError, ExitCode, InputError, KubeError, RefusedError, UndeterminedError


class TencentCloudSDKException(Exception):
    """Shaped like the SDK's exception (matched by module and name, never imported)."""

    __module__ = "tencentcloud.common.exception.tencent_cloud_sdk_exception"

    def __init__(self, code, message, request_id):
        super().__init__(message)
        self.code, self.message, self.requestId = code, message, request_id


CASES = [
    ("bad input", InputError("bad -l", hint="use kubectl's syntax"), 2, "error: bad -l", "hint: use kubectl's syntax"),
    ("refused", RefusedError("not confirmed"), 1, "error: not confirmed", None),
    ("undetermined", UndeterminedError("no credentials", hint="set them"), 3, "error: no credentials", "hint: set them"),
    ("cloud auth", CloudError("AuthFailure.SignatureExpire", "expired", "req-1"), 3,
     "error: AuthFailure.SignatureExpire: expired (request id req-1)", None),
    ("cloud not found", CloudError("ResourceNotFound.ClusterNotFound", "no cluster", "req-2"), 1,
     "error: ResourceNotFound.ClusterNotFound: no cluster (request id req-2)", None),
    ("kube forbidden", KubeError(403, "Forbidden", "pods is forbidden"), 3, "error: Kubernetes API: HTTP 403 Forbidden", None),
    ("kube not found", KubeError(404, "NotFound", "gone"), 1, "error: Kubernetes API: HTTP 404 NotFound", None),
    ("kube server error", KubeError(500, "InternalError", "boom"), 3, "error: Kubernetes API: HTTP 500", None),
    ("SDK exception", TencentCloudSDKException("AuthFailure", "bad signature", "req-3"), 3,
     "error: AuthFailure: bad signature (request id req-3)", None),
    ("unreachable", ConnectionError("refused"), 3, "error: cannot reach the server", "hint: check the endpoint"),
    ("a bug", ValueError("oops"), 1, "error: unexpected ValueError: oops", "hint: rerun with --debug"),
]


def run_raising(monkeypatch, exc: BaseException) -> tuple[int, Environment]:
    def raises(settings):
        raise exc

    monkeypatch.setattr("sgpctl.workflows.config.config_view", raises)
    env = Environment.captured({"HOME": "/nonexistent"}, home="/nonexistent")
    return run(["config", "view"], env), env


@pytest.mark.parametrize("name,exc,code,first,hint", CASES, ids=[c[0] for c in CASES])
def test_an_exception_maps_to_one_exit_code_and_one_line(monkeypatch, name, exc, code, first, hint):
    got, env = run_raising(monkeypatch, exc)
    assert got == code
    lines = env.err().splitlines()
    assert lines[0].startswith(first), lines
    if hint:
        assert lines[1].startswith(hint) and len(lines) == 2
    assert "Traceback" not in env.err() and env.out() == ""


def test_an_interrupt_exits_130_without_a_traceback(monkeypatch):
    # (the one line it prints is sgpctl.interrupts', once per process: tests/cli/test_signals.py)
    got, env = run_raising(monkeypatch, KeyboardInterrupt())
    assert got == 130 and "Traceback" not in env.err() and env.out() == ""


def test_debug_adds_the_traceback(monkeypatch):
    monkeypatch.setattr("sgpctl.workflows.config.config_view", lambda settings: 1 / 0)
    env = Environment.captured({}, home="/nonexistent")
    assert run(["--debug", "config", "view"], env) == 1
    assert "Traceback" in env.err() and env.err().rstrip().splitlines()[-2].startswith("error: unexpected ZeroDivisionError")


def test_a_closed_pipe_is_not_an_error(monkeypatch):
    got, env = run_raising(monkeypatch, BrokenPipeError())
    assert got == 0 and env.err() == ""


@pytest.mark.parametrize("argv,code", [
    (["version"], ExitCode.OK),
    (["--bogus"], ExitCode.USAGE),
    (["verify", "pods", "-n", "a", "-A"], ExitCode.USAGE),
    (["doctor", "--fail-on", "everything"], ExitCode.USAGE),
])
def test_usage_errors_and_success_through_the_same_root(argv, code):
    env = Environment.captured({}, home="/nonexistent")
    assert run(argv, env) == code


def test_a_returned_exit_code_is_the_exit_status(tmp_path):
    # policy validate returns 2 for a file with problems: no exception involved
    bad = tmp_path / "p.yaml"
    bad.write_text("just a string\n")
    env = Environment.captured({}, home=tmp_path)
    assert run(["policy", "validate", "-f", str(bad)], env) == ExitCode.USAGE
    assert "1 problem(s); nothing was applied" in env.err()


def test_the_garbage_collector_is_paused_and_the_switch_interval_short_for_a_command_and_restored(monkeypatch):
    import gc
    import sys

    seen = {}
    before = sys.getswitchinterval()

    def config_view(settings):
        seen["config"] = gc.isenabled()
        seen["config switch"] = sys.getswitchinterval()
        return []

    def render_scenarios(term, data):
        seen["sandbox"] = gc.isenabled()
        seen["sandbox switch"] = sys.getswitchinterval()

    monkeypatch.setattr("sgpctl.workflows.config.config_view", config_view)
    monkeypatch.setattr("sgpctl.render.sandbox.render_scenarios", render_scenarios)
    assert gc.isenabled()
    assert run(["config", "view"], Environment.captured({}, home="/nonexistent")) == 0
    assert run(["sandbox", "scenarios"], Environment.captured({}, home="/nonexistent")) == 0
    # paused, and its reader threads handed the GIL within 1 ms, for a command that reads a cluster;
    # not for the sandbox, which may serve for hours
    assert seen == {"config": False, "config switch": 0.001, "sandbox": True, "sandbox switch": before}
    assert gc.isenabled() and sys.getswitchinterval() == before
    run_raising(monkeypatch, ValueError("x"))
    assert gc.isenabled() and sys.getswitchinterval() == before  # restored after a failure too
