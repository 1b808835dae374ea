"""The narrow client Protocols of ``sgpctl.workflows.clients``: the real adapters and the test fakes
implement every method with the same parameters (names, kinds, order), so a fake cannot drift from
the adapter it stands for without this failing."""

from __future__ import annotations

import inspect

import pytest

from sgpctl.cloud.cam import CamAdapter
from sgpctl.cloud.cvm import CvmAdapter
from sgpctl.cloud.session import CloudSession
from sgpctl.cloud.tke import TkeAdapter
from sgpctl.cloud.vpc import VpcAdapter
from sgpctl.kube.client import Kube
from sgpctl.workflows import clients

from tests.fakes import FakeCam, FakeCloud, FakeCvm, FakeKube, FakeTke, FakeVpc

PAIRS = [
    (clients.KubeWriter, Kube, FakeKube),
    (clients.LeaseApi, Kube, FakeKube),
    (clients.TkeApi, TkeAdapter, FakeTke),
    (clients.VpcApi, VpcAdapter, FakeVpc),
    (clients.CamApi, CamAdapter, FakeCam),
    (clients.Cloud, CloudSession, FakeCloud),
    (clients.CaptureVpc, VpcAdapter, FakeVpc),
    (clients.CaptureCam, CamAdapter, FakeCam),
    (clients.CvmApi, CvmAdapter, FakeCvm),
    (clients.CaptureCloud, CloudSession, FakeCloud),
]


def members(protocol) -> list[str]:
    names = set()
    for klass in protocol.__mro__:
        if klass in (object,) or klass.__name__ in ("Protocol", "Generic"):
            continue
        names |= {n for n, v in vars(klass).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    return sorted(names)


def shape(fn) -> list[tuple[str, str]]:
    """Parameter names and kinds, self dropped; ``**_`` catch-alls are not allowed to hide a mismatch."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    return [(p.name, p.kind.name) for p in params]


@pytest.mark.parametrize("protocol,real,fake", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_adapter_and_fake_implement_the_protocol(protocol, real, fake):
    for name in members(protocol):
        wanted = getattr(protocol, name)
        for impl in (real, fake):
            got = inspect.getattr_static(impl, name, None)
            if isinstance(wanted, property):
                # An attribute (tke, vpc, cam), checked through its own Protocol; the fake sets it per instance.
                assert got is not None or hasattr(FakeCloud(), name), f"{impl.__name__} lacks {name}"
                continue
            assert got is not None, f"{impl.__name__} lacks {name} of {protocol.__name__}"
            assert shape(got) == shape(wanted), f"{impl.__name__}.{name}{inspect.signature(got)} is not {protocol.__name__}.{name}{inspect.signature(wanted)}"


def test_kube_attributes_the_views_use():
    kube = FakeKube()
    assert isinstance(kube, clients.KubeReader) and isinstance(FakeCloud(), clients.Cloud)
    assert {"server", "calls"} <= set(vars(kube))


def test_fake_kube_honours_field_selectors():
    from sgpctl.kube import resources as r

    kube = FakeKube()
    kube.add(r.EVENTS, {"metadata": {"name": "a", "namespace": "shop"}, "type": "Warning", "involvedObject": {"kind": "Pod"}})
    kube.add(r.EVENTS, {"metadata": {"name": "b", "namespace": "shop"}, "type": "Normal", "involvedObject": {"kind": "Pod"}})
    kube.add(r.EVENTS, {"metadata": {"name": "c", "namespace": "shop"}, "type": "Warning", "involvedObject": {"kind": "Node"}})
    names = [e["metadata"]["name"] for e in kube.list(r.EVENTS, field_selector="type=Warning,involvedObject.kind=Pod")]
    assert names == ["a"]
    assert [e["metadata"]["name"] for e in kube.list(r.EVENTS, field_selector="type!=Warning")] == ["b"]
