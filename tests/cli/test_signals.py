"""SIGINT and SIGTERM through the installed CLI: exit 130/143 with one line and no traceback, during
start-up (the imports), in the middle of a command, with a change in flight (then it says the change
may have been applied, and a rerun converges), and at a confirmation prompt.

Start-up is found without timing: sgpctl's handlers are installed before its heavy imports, and the
kernel shows them in /proc/<pid>/status (SigCgt); the signal is sent the moment they appear, while
typer, click and rich are still being imported.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.sandbox_support import SGPCTL, running_sandbox, sandbox_env, sgp_ready

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = {signal.SIGINT: (130, "interrupted"), signal.SIGTERM: (143, "terminated")}


def _default_signals():
    # The test runner may ignore or catch them; the CLI must start as a shell would start it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start(args, env, **kw) -> subprocess.Popen:
    return subprocess.Popen([SGPCTL, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_signals, **kw)


def caught_signals(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return int(line.split()[1], 16)
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def wait_for(condition, timeout: float = 30.0, interval: float = 0.0005) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(interval)


def assert_one_line(proc: subprocess.Popen, signum: int, suffix: str = "") -> str:
    out, err = proc.communicate(timeout=60)
    code, word = EXPECTED[signum]
    assert proc.returncode == code, (proc.returncode, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    lines = err.splitlines()
    assert lines == [lines[0]] and lines[0].startswith(word + suffix), err
    return lines[0]


@pytest.fixture
def offline_env(tmp_path):
    from tests.support import clean_env

    return clean_env(HOME=str(tmp_path))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_start_up_is_one_line_and_no_traceback(signum, offline_env):
    for _ in range(3):
        proc = start(["policy", "validate", "-f", str(EXAMPLES / "policy.yaml")], offline_env)
        # SIGTERM's bit (15) appears only when sgpctl's handler is installed: Python never catches it.
        wait_for(lambda: caught_signals(proc.pid) & (1 << (signal.SIGTERM - 1)) or proc.poll() is not None)
        assert proc.poll() is None, "the command finished before its handlers were seen"
        proc.send_signal(signum)
        assert assert_one_line(proc, signum) == EXPECTED[signum][1]


def test_signals_at_many_points_are_one_line(offline_env):
    """Spread over the whole run of a short command. Once sgpctl's handlers are installed (seen in
    SigCgt just before the signal is sent), every signal gives its exit code and one line. Before
    that, Python has not yet run any of sgpctl's code (interpreter start-up and site imports) and the
    signal is Python's own to handle; those samples are only counted."""
    outcomes = []
    for i in range(12):
        signum = (signal.SIGINT, signal.SIGTERM)[i % 2]
        proc = start(["policy", "validate", "-f", str(EXAMPLES / "policy.yaml")], offline_env)
        time.sleep(0.03 * i)
        installed = bool(caught_signals(proc.pid) & (1 << (signal.SIGTERM - 1)))
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        if not installed:
            outcomes.append("before sgpctl")
            continue
        if proc.returncode == 0:
            outcomes.append("finished")
            continue
        code, word = EXPECTED[signum]
        assert proc.returncode == code and err == word + "\n", (proc.returncode, err)
        outcomes.append("handled")
    assert outcomes.count("handled") >= 3, outcomes


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox("default") as sb:
        sgp_ready(sb)
        yield sb


def _mutating_requests(sb, mark):
    return [e for e in sb.log.since(mark) if e["mutating"]]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_change_in_flight_may_have_been_applied_and_a_rerun_converges(signum, sandbox, tmp_path):
    sb = sandbox
    name = f"sig-{signum.name.lower()}"
    env = sandbox_env(sb, tmp_path, SGPCTL_RETRY_BASE_DELAY="0")
    sb.faults.set("vpc.CreateSecurityGroup:latency=20000ms")
    arrived = threading.Event()
    decide = sb.faults.decide

    def watching(service, action):  # the sandbox has the create in hand: it is in flight
        if action == "CreateSecurityGroup":
            arrived.set()
        return decide(service, action)

    sb.faults.decide = watching
    try:
        proc = start(["sg", "create", name], env)
        wait_for(lambda: arrived.is_set() or proc.poll() is not None)
        proc.send_signal(signum)
        line = assert_one_line(proc, signum, " while a change was in flight (CreateSecurityGroup)")
        assert line.endswith(": it may have been applied: rerun to converge")
    finally:
        del sb.faults.decide
        sb.faults.set("")
    rerun = subprocess.run([SGPCTL, "sg", "create", name, "-o", "json"], env=env, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert [g for g in sb.cloud.security_groups.values() if g["SecurityGroupName"] == name].__len__() == 1


def test_ctrl_c_at_a_confirmation_prompt(sandbox, tmp_path):
    import pty

    sb = sandbox
    from tests.sandbox_support import create_sgp

    create_sgp(sb, "prompted", ["sg-1a2b3c4d"])
    env = sandbox_env(sb, tmp_path)
    master, slave = pty.openpty()
    try:
        proc = start(["policy", "delete", "prompted", "-n", "my-namespace"], env, stdin=slave)
        os.close(slave)
        buffer = bytearray()
        fd = proc.stderr.fileno()
        os.set_blocking(fd, False)

        def prompted():
            try:
                buffer.extend(os.read(fd, 65536))
            except BlockingIOError:
                pass
            return b"[y/N]" in buffer or proc.poll() is not None

        wait_for(prompted, interval=0.01)
        assert proc.poll() is None, buffer.decode()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        os.set_blocking(fd, True)
        err = (bytes(buffer) + proc.stderr.buffer.read()).decode()
    finally:
        os.close(master)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Aborted" not in err
    assert err.endswith("[y/N]:\ninterrupted\n"), err  # the prompt, then the one line on its own
    assert sb.kube.get("securitygrouppolicies.vpcresources.tke.cloud.tencent.com", "my-namespace", "prompted") is not None


def test_a_signal_the_parent_ignores_stays_ignored(offline_env):
    """nohup and background jobs start commands with SIGINT ignored: sgpctl, like Python itself,
    keeps ignoring it and finishes its work."""
    def ignore_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    proc = subprocess.Popen([SGPCTL, "policy", "validate", "-f", str(EXAMPLES / "policy.yaml")], env=offline_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ignore_sigint)
    wait_for(lambda: caught_signals(proc.pid) & (1 << (signal.SIGTERM - 1)) or proc.poll() is not None)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "1 SecurityGroupPolicy document(s) valid" in out, err


def test_the_kube_adapter_marks_its_changes_in_flight_and_not_its_reads():
    """What the line says depends on what was in flight when the signal came: a write of the
    Kubernetes adapter is, a read is not (the cloud side is shown end to end above)."""
    from types import SimpleNamespace

    from sgpctl import interrupts
    from sgpctl.kube import resources as r
    from sgpctl.kube.client import Kube

    seen = []

    class Response:
        status, reason, data = 200, "OK", b"{}"

        def read(self):
            return self.data

        def getheaders(self):
            return {}

    class ApiClient:
        configuration = SimpleNamespace(host="https://127.0.0.1:9")

        def update_params_for_auth(self, *args):
            pass

        def call_api(self, method, url, **kw):
            seen.append((method, interrupts.message()))
            return Response()

    kube = Kube(ApiClient())
    kube.get(r.CONFIGMAPS, "cm", "ns")
    kube.create(r.CONFIGMAPS, {"metadata": {"name": "cm", "namespace": "ns"}})
    kube.delete(r.CONFIGMAPS, "cm", "ns")
    assert seen[0] == ("GET", "interrupted") or seen[0][1].startswith("interrupted after")
    assert seen[1] == ("POST", "interrupted while a change was in flight (POST /api/v1/namespaces/ns/configmaps): "
                               "it may have been applied: rerun to converge")
    assert seen[2][1].startswith("interrupted while a change was in flight (DELETE /api/v1/namespaces/ns/configmaps/cm)")
    assert interrupts.message().startswith("interrupted after ")  # nothing in flight now, changes were sent
    # sgpctl's writer Lease is bookkeeping: taking or releasing it is not the user's change
    sent = interrupts._state.sent
    kube.get_lease("sgpctl-policy-writer", "ns")
    kube.create_lease({"metadata": {"name": "sgpctl-policy-writer"}}, "ns")
    kube.replace_lease({"metadata": {"name": "sgpctl-policy-writer"}}, "ns")
    assert [method for method, _ in seen[3:]] == ["GET", "POST", "PUT"]
    assert not any(line.startswith("interrupted while") for _, line in seen[3:]) and interrupts._state.sent == sent


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_after_the_command_returned_still_ends_with_one_line(signum):
    """Between the command's return and the process's end (Python joins threads and flushes streams
    there) a signal must not raise into the interpreter's shutdown, where Python prints "Exception
    ignored" and a traceback: the process ends at once with its line and code."""
    import sys

    script = ("import os, signal, sys\n"
              "from sgpctl import interrupts\n"
              "interrupts.install(); interrupts.running(); interrupts.stopped()\n"
              f"os.kill(os.getpid(), {int(signum)})\n"
              "sys.exit(0)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_default_signals)
    assert_one_line(proc, signum)
