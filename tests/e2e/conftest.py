"""End-to-end fixtures: a sandbox per test, and the unchanged CLI pointed at it through the
environment alone (what a user's shell would export from the sandbox's env file)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from sgpctl.cli.app import app

# Retries of the cloud adapters: no sleeping in tests (the sandbox's faults still exercise them).
FAST_RETRIES = {"SGPCTL_RETRY_BASE_DELAY": "0", "SGPCTL_RETRY_MAX_DELAY": "0", "SGPCTL_RETRY_MAX_ATTEMPTS": "30"}


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class Cli:
    def __init__(self, sandbox, monkeypatch, tmp_path):
        self.sandbox = sandbox
        sandbox.write_files(tmp_path)
        env = dict(sandbox.env())
        env["KUBECONFIG"] = str(tmp_path / "kubeconfig")
        for k in list(os.environ):
            if k.lower().endswith("_proxy") or k.startswith(("TENCENTCLOUD_", "TCCLI_", "SGPCTL_")) or k == "KUBECONFIG":
                monkeypatch.delenv(k, raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))
        for k, v in {**env, **FAST_RETRIES}.items():
            monkeypatch.setenv(k, v)
        self.env = env
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        r = self.runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return Result(r.exit_code, r.stdout, r.stderr)


def start_sandbox(scenario: str = "default", **kw):
    from sgpctl.sandbox.region import Sandbox

    kw.setdefault("addon_delay", 0.05)
    return Sandbox(scenario, **kw).start()


@pytest.fixture
def sandbox():
    sb = start_sandbox("default")
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def cli(sandbox, monkeypatch, tmp_path):
    return Cli(sandbox, monkeypatch, tmp_path)
