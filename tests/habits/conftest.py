"""Issue #12, "the habits of kubectl users and CI hold everywhere": one sandbox per module, set up as
the TKE document leaves a cluster (a security group, the document's policy, two nginx Pods running
with their own sub-ENIs), read by the tests that only read it. Tests that change things start their
own sandbox (``sandbox_cli``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SandboxCli
from tests.sandbox_support import running_sandbox, sandbox_env, sgp_ready, sgpctl

ROOT = Path(__file__).resolve().parents[2]
NS = "my-namespace"


def nginx(name: str = "nginx", labels: dict | None = None, replicas: int = 2, ns: str = NS) -> dict:
    labels = labels or {"app": "my-app"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}}}}


def running(sb: Any, selector: dict, count: int, ns: str = NS, timeout: float = 20.0) -> list[dict]:
    """The Running Pods carrying ``selector``'s labels, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        sb.settle()
        pods = [p for p in sb.kube.list("pods", ns)
                if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
                and (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
        if len(pods) >= count:
            return sorted(pods, key=lambda p: p["metadata"]["name"])
        assert time.monotonic() < deadline, "Pods did not come up"
        time.sleep(0.05)


@dataclass
class World:
    sb: Any
    env: dict[str, str]       # for the installed CLI and kubectl (subprocesses)
    cli: SandboxCli           # the CLI in-process
    group: str
    policy_file: Path
    pods: list[str]
    tmp: Path


def build_world(sb: Any, tmp: Path) -> World:
    sgp_ready(sb)
    env = sandbox_env(sb, tmp)
    cli = SandboxCli(sb, tmp / "inproc")
    group = sgpctl(env, "sg", "create", "web-pods").stdout.strip()
    assert group.startswith("sg-"), group
    policy = tmp / "policy.yaml"
    policy.write_text((ROOT / "examples" / "policy.yaml").read_text().replace("sg-xxxxyyyy", group))
    applied = sgpctl(env, "policy", "apply", "-f", str(policy))
    assert applied.returncode == 0, applied.stderr
    sb.kube.create("deployments.apps", nginx())
    pods = [p["metadata"]["name"] for p in running(sb, {"app": "my-app"}, 2)]
    return World(sb, env, cli, group, policy, pods, tmp)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A verified cluster, shared by the module's read-only tests."""
    with running_sandbox("default", addon_delay=0.05) as sb:
        sb.settle()
        yield build_world(sb, tmp_path_factory.mktemp("world"))


@pytest.fixture
def fresh_interrupts(monkeypatch):
    """The interrupt line is printed once per process (sgpctl.interrupts): a test that reads it gets
    a process state of its own."""
    from sgpctl import interrupts

    monkeypatch.setattr(interrupts, "_state", interrupts._State())
