"""Shared test fixtures. No test reaches beyond 127.0.0.1: proxies are stripped from every
environment the tests build, because the SDK sends even loopback calls to an HTTP proxy.

``sandbox_cli`` is the one way tests run the CLI against a sandbox: each command runs in-process
(``sgpctl.cli.app.run``) in an ``Environment`` of its own that holds only the sandbox's variables
(endpoint, credentials, region, cluster id, KUBECONFIG), fast retries and a HOME inside the test's
tmp_path. Nothing of the developer's shell - TENCENTCLOUD_*, TCCLI_*, SGPCTL_*, KUBECONFIG, ~/.tccli,
~/.kube - reaches the command, and nothing patches the process to get there.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests on a shared 2-core CI machine: how fast examples are generated says nothing about
# the code under test, so Hypothesis's too_slow health check must not fail a run that was merely
# slowed down by its neighbours. Each test's own @settings still sets its examples and deadline.
settings.register_profile("sgpctl", suppress_health_check=[HealthCheck.too_slow], deadline=None, print_blob=True)
settings.load_profile("sgpctl")

# Retries of the cloud adapters: no sleeping in tests (the sandbox's faults still exercise them).
FAST_RETRIES = {"SGPCTL_RETRY_BASE_DELAY": "0", "SGPCTL_RETRY_MAX_DELAY": "0", "SGPCTL_RETRY_MAX_ATTEMPTS": "30"}


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    for var in list(os.environ):
        if var.lower().endswith("_proxy"):
            monkeypatch.delenv(var, raising=False)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self):
        return json.loads(self.stdout)


class SandboxCli:
    """``cli("verify", "pods", "-A")`` runs sgpctl against ``sandbox`` and returns a ``Result``."""

    def __init__(self, sandbox, directory: Path, **environ: str):
        self.sandbox = sandbox
        sandbox.write_files(directory)
        self.home = directory / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = {**sandbox.env(), "KUBECONFIG": str(directory / "kubeconfig"), "HOME": str(self.home),
                    **FAST_RETRIES, **environ}

    def environment(self, stdin: str = ""):
        from sgpctl.environment import Environment

        return Environment.captured(self.env, home=self.home, stdin=stdin)

    def __call__(self, *args: str, input: str | None = None) -> Result:
        from sgpctl.cli.app import run

        env = self.environment(input or "")
        code = run(list(args), env)
        return Result(code, env.out(), env.err())

    def __getattr__(self, name: str):
        # The sandbox's own attributes (cloud, kube, log, settle, cluster_id, ...) on the same object.
        return getattr(self.sandbox, name)


@pytest.fixture
def sandbox_cli(tmp_path):
    """A factory: ``sandbox_cli("strict-hazards", addon_delay=0.1, **sandbox_kw)`` starts a sandbox of
    that scenario (settled) and returns a ``SandboxCli`` for it; every sandbox stops after the test."""
    from sgpctl.sandbox.region import Sandbox

    started = []

    def make(scenario: str = "default", *, env: dict[str, str] | None = None, **kw) -> SandboxCli:
        kw.setdefault("addon_delay", 0.05)
        sb = Sandbox(scenario, **kw).start()
        started.append(sb)
        sb.settle()
        return SandboxCli(sb, tmp_path / f"sandbox-{len(started)}", **(env or {}))

    yield make
    for sb in started:
        sb.stop()
