"""The view is read from several threads at once (doctor's reads ahead): each collection is still
listed once, and what is derived from it made once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from sgpctl.errors import KubeError
from sgpctl.kube import resources as r
from sgpctl.workflows.view import ClusterView

from tests.fakes import FakeKube


class SlowKube(FakeKube):
    """Each list waits until every reader has asked (or a short while), so the reads overlap."""

    def __init__(self, readers: int, fail: bool = False):
        super().__init__()
        self.arrived = threading.Barrier(readers)
        self.fail = fail

    def list(self, resource, namespace=None, **kwargs):
        try:
            self.arrived.wait(timeout=0.5)  # the others are asking meanwhile (timeout: they wait on us)
        except threading.BrokenBarrierError:
            pass
        if self.fail:
            self.calls += 1
            raise KubeError(500, "InternalError", "boom")
        return super().list(resource, namespace, **kwargs)


def _at_once(n: int, fn):
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(fn) for _ in range(n)]
    return [f.exception() or f.result() for f in futures]


def test_a_collection_asked_for_by_several_threads_at_once_is_listed_once():
    kube = SlowKube(3)
    kube.add(r.SERVICES, {"metadata": {"name": "web", "namespace": "shop"}, "spec": {"clusterIP": "10.1.0.1"}})
    view = ClusterView(kube)
    answers = _at_once(3, lambda: view.list(r.SERVICES, None))
    assert kube.lists == [("services", None)]
    assert [[s["metadata"]["name"] for s in a] for a in answers] == [["web"]] * 3


def test_a_failed_list_reaches_every_thread_waiting_and_the_next_call_lists_again():
    kube = SlowKube(2, fail=True)
    view = ClusterView(kube)
    answers = _at_once(2, lambda: view.list(r.SERVICES, None))
    assert all(isinstance(a, KubeError) for a in answers)
    assert kube.calls == 1
    kube.fail = False
    assert view.list(r.SERVICES, None) == []
    assert kube.calls == 2


def test_the_matching_is_made_once_when_threads_ask_at_once(monkeypatch):
    from sgpctl.core import matching

    made = []
    real = matching.match

    def counting(*args, **kwargs):
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(matching, "match", counting)
    view = ClusterView(SlowKube(4))
    results = _at_once(4, view.match)
    assert len(made) == 1 and all(m is results[0] for m in results)


@pytest.fixture(autouse=True)
def _no_stray_threads():
    before = threading.active_count()
    yield
    assert threading.active_count() <= before + 1  # the prefetch pool's workers end with their lists


class OnceFailingKube(FakeKube):
    """The first list fails (a brief 500), the next ones answer."""

    def __init__(self):
        super().__init__()
        self.failed = False

    def list(self, resource, namespace=None, **kwargs):
        if not self.failed:
            self.failed = True
            self.calls += 1
            raise KubeError(500, "InternalError", "transient")
        return super().list(resource, namespace, **kwargs)


def test_a_prefetched_list_that_failed_is_listed_again_on_the_next_read():
    kube = OnceFailingKube()
    kube.add(r.NODES, {"metadata": {"name": "node-1"}})
    view = ClusterView(kube)
    view.prefetch("nodes")
    with pytest.raises(KubeError):
        view.nodes
    assert [n["metadata"]["name"] for n in view.nodes] == ["node-1"]
