"""The sandbox's state directory, its files, and the background process behind ``up --detach``.

Layout of a state directory (default ``$XDG_STATE_HOME/sgpctl/sandbox``, i.e.
``~/.local/state/sgpctl/sandbox``; ``--state-dir`` or ``SGPCTL_SANDBOX_DIR`` override it; never
``~/.kube`` or ``~/.tccli``)::

    kubeconfig      a kubeconfig for the sandbox's Kubernetes APIs (a context per cluster, bearer tokens), 0600
    env             shell ``export`` lines (KUBECONFIG, SGPCTL_ENDPOINT, TENCENTCLOUD_*, SGPCTL_CLUSTER_ID), 0600
    state.json      everything needed to resume: scenario, credentials, ports, CloudState, each cluster's
                    KubeStore, 0600
    sandbox.json    the running process: pid, ports, URLs, scenario, clusters and object counts (gone when stopped)
    clusters/       each cluster's client CA and the client certificates DescribeClusterKubeconfig issued
    sandbox.pid     the running process's pid (gone when stopped)
    sandbox.log     stdout and stderr of a detached sandbox

A sandbox writes ``state.json`` when it stops (Ctrl-C, SIGTERM from ``down``) and, while it runs,
at most every few seconds after a change, so even a killed sandbox resumes close to where it was.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from sgpctl.errors import InputError, RefusedError

STATE_DIR_ENV = "SGPCTL_SANDBOX_DIR"
#: 2: a list of clusters (each with its KubeStore); 1 (one cluster, its store at the top) still loads
STATE_VERSION = 2
_LOADABLE_VERSIONS = (1, 2)
ENV_KEYS = (
    "KUBECONFIG",
    "SGPCTL_ENDPOINT",
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_REGION",
    "SGPCTL_CLUSTER_ID",
)


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]).expanduser()
    base = env.get("XDG_STATE_HOME") or os.path.join(env.get("HOME") or str(Path.home()), ".local", "state")
    return Path(base).expanduser() / "sgpctl" / "sandbox"


@dataclass(frozen=True)
class StateDir:
    path: Path

    @classmethod
    def resolve(cls, value: str | os.PathLike | None) -> "StateDir":
        return cls(Path(value).expanduser().absolute() if value else default_state_dir().absolute())

    @property
    def kubeconfig(self) -> Path:
        return self.path / "kubeconfig"

    @property
    def env(self) -> Path:
        return self.path / "env"

    @property
    def state(self) -> Path:
        return self.path / "state.json"

    @property
    def info(self) -> Path:
        return self.path / "sandbox.json"

    @property
    def pid(self) -> Path:
        return self.path / "sandbox.pid"

    @property
    def log(self) -> Path:
        return self.path / "sandbox.log"

    def ensure(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)


# --- files -------------------------------------------------------------------------------------

def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600: these files hold the sandbox's secret key and token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def env_text(env: Mapping[str, str]) -> str:
    lines = ["# sgpctl sandbox: load with  eval \"$(sgpctl sandbox env)\"  or  . ./env"]
    lines += [f"export {k}={shlex.quote(str(env[k]))}" for k in ENV_KEYS if k in env]
    return "\n".join(lines) + "\n"


def parse_env_text(text: str) -> dict[str, str]:
    """The variables of an env file written by :func:`env_text` (``export K=V`` lines, shell-quoted)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line)
        if words and words[0] == "export":
            words = words[1:]
        for w in words:
            k, eq, v = w.partition("=")
            if eq:
                out[k] = v
    return out


def read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read {path}: {e}", hint="remove the file or use another --state-dir") from None


def save_state(sd: StateDir, state: dict) -> None:
    write_private(sd.state, json.dumps({"version": STATE_VERSION, **state}, separators=(",", ":")))


def load_state(sd: StateDir) -> dict | None:
    data = read_json(sd.state)
    if data is None:
        return None
    if data.get("version") not in _LOADABLE_VERSIONS:
        raise InputError(f"{sd.state} was written by another sandbox version",
                         hint="start afresh with `sgpctl sandbox up --reset`")
    return data


def saved_clusters(state: dict) -> list[dict]:
    """The clusters of a saved state (``clusterId``, ``region``, ``kubeToken``, ``kubePort``,
    ``podCidrs``, ``vpcCni``, ``kube``), also from a version-1 state's single cluster."""
    if "clusters" in state:
        return list(state["clusters"])
    meta = state.get("sandbox") or {}
    return [{"clusterId": meta["clusterId"], "region": meta.get("region"), "kubeToken": meta["kubeToken"],
             "kubePort": meta.get("kubePort"), "podCidrs": meta.get("podCidrs") or {},
             "vpcCni": meta.get("vpcCni", True), "kube": state["kube"]}]


def reset(sd: StateDir) -> None:
    for p in (sd.state, sd.env, sd.kubeconfig):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


# --- processes and ports -----------------------------------------------------------------------

def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own detached child not yet reaped) is not running.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def running_pid(sd: StateDir) -> int | None:
    """The pid of the sandbox serving from this directory, or None (a stale pid file is ignored)."""
    try:
        pid = int(sd.pid.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_port(port: int) -> None:
    if not 0 < port < 65535:
        raise InputError(f"port {port} is out of range", hint="the cloud API takes --port N and Kubernetes N+1")
    if not port_free(port):
        raise InputError(f"port {port} on 127.0.0.1 is in use", hint="choose another --port or stop what holds it")


def answers(url: str, timeout: float = 0.5) -> bool:
    """Whether an HTTP server answers at ``url`` (any status counts: the sandbox's APIs
    refuse unauthenticated requests, which is an answer)."""
    import ssl

    # A liveness probe of our own loopback server: its self-signed certificate is not the point.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def spawn_detached(sd: StateDir, argv: list[str], timeout: float = 60.0) -> dict:
    """Start ``sgpctl sandbox up`` (foreground form, ``argv`` are its options) as a background
    process in its own session and return its info once both endpoints answer."""
    sd.ensure()
    log = open(sd.log, "ab")
    offset = log.tell()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sgpctl", "sandbox", "up", "--state-dir", str(sd.path), *argv],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env=env, close_fds=True,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            message, hint = child_error(sd, offset)
            if code == 2:
                raise InputError(message or f"exit status {code}", hint=hint)
            raise RefusedError(f"the sandbox did not start: {message or f'exit status {code}'}",
                               hint=hint or f"see {sd.log}")
        info = read_json(sd.info) if sd.info.exists() else None
        if info and info.get("pid") == proc.pid and answers(info["kubeUrl"] + "/version") \
                and answers(info["cloudUrl"] + "/"):
            return info
        time.sleep(0.05)
    stop_pid(proc.pid, timeout=5)
    raise RefusedError(f"the sandbox did not answer within {timeout:.0f} s", hint=f"see {sd.log}")


def child_error(sd: StateDir, offset: int) -> tuple[str, str | None]:
    """The ``error:``/``hint:`` lines the detached process wrote after ``offset`` of its log."""
    try:
        with open(sd.log, "rb") as f:
            f.seek(offset)
            lines = [ln.strip() for ln in f.read().decode(errors="replace").splitlines() if ln.strip()]
    except FileNotFoundError:
        return "", None
    message = next((ln[len("error: "):] for ln in reversed(lines) if ln.startswith("error: ")), "")
    hint = next((ln[len("hint: "):] for ln in reversed(lines) if ln.startswith("hint: ")), None)
    return message or (lines[-1] if lines else ""), hint


def stop_pid(pid: int, timeout: float = 15.0) -> bool:
    """SIGTERM (the sandbox saves its state and exits), then SIGKILL after ``timeout``.
    True when it stopped gracefully."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    _reap(pid)
    return False


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def describe(sd: StateDir) -> dict[str, Any]:
    """What ``sandbox status`` reports: the running process's info, or the saved state's summary."""
    pid = running_pid(sd)
    info = read_json(sd.info) if pid else None
    state = None
    out: dict[str, Any] = {"stateDir": str(sd.path), "running": bool(pid and info), "pid": pid if info else None}
    if info:
        for key in ("scenario", "clusterId", "region", "cloudUrl", "kubeUrl", "cloudPort", "kubePort",
                    "startedAt", "faults", "variants", "counts", "clusters"):
            out[key] = info.get(key)
    else:
        state = load_state(sd)
        if state:
            meta = state.get("sandbox") or {}
            clusters = [{"clusterId": c["clusterId"], "region": c.get("region") or meta.get("region"),
                         "kubePort": c.get("kubePort")} for c in saved_clusters(state)]
            out.update(scenario=meta.get("scenario"), clusterId=meta.get("clusterId"), region=meta.get("region"),
                       variants=meta.get("variants") or {},
                       cloudPort=meta.get("cloudPort"), kubePort=clusters[0]["kubePort"] if clusters else None,
                       counts=state.get("counts"), savedAt=state.get("savedAt"), clusters=clusters)
    out["envFile"] = str(sd.env) if sd.env.exists() else None
    out["kubeconfig"] = str(sd.kubeconfig) if sd.kubeconfig.exists() else None
    out["hasState"] = sd.state.exists()
    return out
