"""Fixtures shared by the sandbox tests (proxies are already stripped by tests/conftest.py)."""

from __future__ import annotations

import hashlib

import pytest

from sgpctl.sandbox.cloud.testkit import demo_state, serve


class Clock:
    """A clock that moves only when told: add-on phases change without sleeping."""

    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ns(kube, request):
    """A fresh namespace per test in the module's ``kube`` (a KubeSandbox), so tests do not see
    each other's objects."""
    # Unique per test, parametrized ones included: a deleted namespace stays Terminating for a moment.
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:6]
    name = request.node.name.replace("_", "-").replace("[", "-").lower()[:50].strip("-")
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name).strip("-") + "-" + digest
    kube.store.create("namespaces", {"metadata": {"name": name}})
    yield name
    kube.store.delete("namespaces", None, name)


@pytest.fixture
def core(sb):
    """A CoreV1Api on the module's ``sb`` (a running sandbox), closed after the test."""
    from kubernetes import client

    from tests.sandbox_support import kube_api_client

    api = kube_api_client(sb)
    yield client.CoreV1Api(api)
    api.close()


@pytest.fixture
def cloud():
    """The demo region's cloud endpoint on 127.0.0.1, add-on operations finishing at once.
    ``cloud.call(service, action, ...)`` answers through the official SDK client."""
    with serve(demo_state(addon_delay=0)) as rc:
        yield rc
