"""Shared test fixtures. No test reaches beyond 127.0.0.1: proxies are stripped from every
environment the tests build, because the SDK sends even loopback calls to an HTTP proxy."""

from __future__ import annotations

import os

import pytest



@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    for var in list(os.environ):
        if var.lower().endswith("_proxy"):
            monkeypatch.delenv(var, raising=False)

