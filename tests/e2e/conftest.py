"""End-to-end fixtures: a sandbox per test, and the unchanged CLI pointed at it through its
environment alone (what a user's shell would export from the sandbox's env file)."""

from __future__ import annotations

import pytest


@pytest.fixture
def sandbox(cli):
    return cli.sandbox


@pytest.fixture
def cli(sandbox_cli):
    return sandbox_cli("default")
