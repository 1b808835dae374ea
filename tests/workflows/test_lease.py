"""The writer Lease (``sgpctl.workflows.lease``) over the fake's Lease API, which keeps
resourceVersions and answers 409 as the API server does. Time is a fake clock that the waiter's
``sleep`` advances; another writer acts from inside that ``sleep`` (between two of our reads)."""

from __future__ import annotations

import re

import pytest

from sgpctl.errors import KubeError, RefusedError
from sgpctl.kube import resources as r
from sgpctl.workflows import lease as L
from sgpctl.workflows.waiting import Waiter
from tests.fakes import FakeKube

NS = "my-namespace"
EPOCH = 1_780_000_000.0  # the wall clock: 2026-05-28T20:26:40Z
ME = "laptop/4242/abcdef"


class Clock:
    def __init__(self):
        self.now = 0.0
        self.during_sleep = []  # callables run at each sleep: what other writers do meanwhile

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.01)
        for act in list(self.during_sleep):
            act()

    def wall(self) -> float:
        return EPOCH + self.now


@pytest.fixture
def clock():
    return Clock()


def waiter(clock, timeout=30.0, progress=None):
    return Waiter(timeout=timeout, clock=lambda: clock.now, sleep=clock.sleep, progress=progress or (lambda m: None))


def make(kube, clock, *, notify=None, timeout=30.0, progress=None, holder=ME):
    return L.WriterLease(kube, NS, waiter=waiter(clock, timeout, progress), holder=holder, notify=notify,
                         wall=clock.wall, renew=False)


def stored(kube):
    return kube.objects.get((r.LEASES.plural, NS, L.LEASE_NAME))


def other_writer(kube, holder="ci-runner/77/0a0b0c", renewed=EPOCH, duration=15, transitions=3):
    return kube.create_lease({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                              "metadata": {"name": L.LEASE_NAME},
                              "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                                       "renewTime": L.micro_time(renewed), "acquireTime": L.micro_time(renewed),
                                       "leaseTransitions": transitions}}, NS)


def renew_as_other(kube, clock):
    """The other holder renewing: a new renewTime (and resourceVersion) at every one of our sleeps."""
    def act():
        cur = kube.get_lease(L.LEASE_NAME, NS)
        kube.replace_lease({**cur, "spec": {**cur["spec"], "renewTime": L.micro_time(clock.wall())}}, NS)
    return act


def test_a_free_namespace_gets_a_new_lease_with_our_identity_and_ttl(clock):
    kube = FakeKube()
    lease = make(kube, clock)
    lease.acquire(deadline=30)
    spec = stored(kube)["spec"]
    assert lease.held and spec["holderIdentity"] == ME and spec["leaseDurationSeconds"] == 15
    # MicroTime as the API server writes it: six fractional digits, UTC.
    assert spec["renewTime"] == spec["acquireTime"] == "2026-05-28T20:26:40.000000Z"
    assert spec["leaseTransitions"] == 0
    assert stored(kube)["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "sgpctl"}
    lease.release()
    assert stored(kube)["spec"]["holderIdentity"] == "" and not lease.held


def test_the_identity_names_host_process_and_a_random_part():
    me = L.identity()
    host, pid, rand = me.split("/")
    assert host and int(pid) > 0 and re.fullmatch(r"[0-9a-f]{6}", rand)
    assert L.identity() != me


def test_a_released_lease_is_taken_at_once(clock):
    kube = FakeKube()
    other_writer(kube, holder="", transitions=4)
    lease = make(kube, clock)
    lease.acquire(deadline=30)
    assert clock.now == 0 and stored(kube)["spec"]["holderIdentity"] == ME
    assert stored(kube)["spec"]["leaseTransitions"] == 5  # client-go counts every change of holder


def test_a_live_holder_is_waited_for_and_named_until_the_deadline(clock):
    kube = FakeKube()
    other_writer(kube, renewed=EPOCH)
    clock.during_sleep.append(renew_as_other(kube, clock))
    notes, progress = [], []
    lease = make(kube, clock, notify=notes.append, timeout=40, progress=progress.append)
    with pytest.raises(RefusedError) as e:
        lease.acquire(deadline=40)
    assert clock.now >= 40  # waited the whole time: it kept renewing
    assert e.value.message.startswith("another sgpctl writer holds Lease my-namespace/sgpctl-policy-writer: "
                                      "ci-runner/77/0a0b0c, renewed ")
    assert "nothing was changed" in e.value.message and "--timeout" in e.value.hint
    # Said once on stderr (notify), shown on every poll of a terminal's transient line (progress).
    assert notes == ["waiting for Lease my-namespace/sgpctl-policy-writer, held by ci-runner/77/0a0b0c, renewed 0 s ago"]
    assert len(progress) > 5 and all("held by ci-runner/77/0a0b0c" in p for p in progress)
    assert stored(kube)["spec"]["holderIdentity"] == "ci-runner/77/0a0b0c"


def test_the_lease_is_taken_when_its_holder_finishes(clock):
    kube = FakeKube()
    other_writer(kube)

    def finish():
        if clock.now >= 3:
            cur = kube.get_lease(L.LEASE_NAME, NS)
            kube.replace_lease({**cur, "spec": {**cur["spec"], "holderIdentity": ""}}, NS)
            clock.during_sleep.clear()
    clock.during_sleep.append(finish)
    lease = make(kube, clock)
    lease.acquire(deadline=30)
    assert 3 <= clock.now < 5 and stored(kube)["spec"]["holderIdentity"] == ME


def test_a_lease_its_holder_stopped_renewing_long_ago_is_taken_over_at_once(clock):
    kube = FakeKube()
    other_writer(kube, renewed=EPOCH - 3600)  # a process killed an hour ago
    lease = make(kube, clock)
    lease.acquire(deadline=30)
    assert clock.now == 0 and stored(kube)["spec"]["holderIdentity"] == ME
    assert stored(kube)["spec"]["leaseTransitions"] == 4


def test_an_unrenewed_lease_is_taken_over_after_its_ttl_as_we_observe_it(clock):
    """Its renewTime is recent by our clock (the holder's clock may be ahead of ours), but it never
    changes: after leaseDurationSeconds of our own observation it is stale."""
    kube = FakeKube()
    other_writer(kube, renewed=EPOCH + 20, duration=15)
    lease = make(kube, clock)
    lease.acquire(deadline=60)
    assert 15 <= clock.now < 17 and stored(kube)["spec"]["holderIdentity"] == ME


def test_a_renewed_lease_is_not_taken_even_when_its_clock_is_behind_ours(clock):
    kube = FakeKube()
    other_writer(kube, renewed=EPOCH - 25)  # 25 s behind: within CLOCK_SKEW past its TTL

    def renew_behind():
        cur = kube.get_lease(L.LEASE_NAME, NS)
        kube.replace_lease({**cur, "spec": {**cur["spec"], "renewTime": L.micro_time(clock.wall() - 25)}}, NS)
    clock.during_sleep.append(renew_behind)
    with pytest.raises(RefusedError):
        make(kube, clock).acquire(deadline=45)
    assert stored(kube)["spec"]["holderIdentity"] == "ci-runner/77/0a0b0c"


def test_two_takers_at_once_one_wins_the_other_reads_again_and_waits(clock):
    """Between our read and our write another writer takes the free Lease: our write is a 409
    Conflict (its resourceVersion moved), we read again and find a live holder."""
    kube = FakeKube()
    other_writer(kube, holder="")
    real_replace = kube.replace_lease
    calls = []

    def replace(lease, namespace):
        if not calls:
            calls.append("raced")
            cur = kube.get_lease(L.LEASE_NAME, NS)
            real_replace({**cur, "spec": {**cur["spec"], "holderIdentity": "fast/1/111111",
                                          "renewTime": L.micro_time(clock.wall())}}, NS)
        return real_replace(lease, namespace)
    kube.replace_lease = replace
    clock.during_sleep.append(renew_as_other(kube, clock))
    notes = []
    with pytest.raises(RefusedError, match="fast/1/111111"):
        make(kube, clock, notify=notes.append, timeout=5).acquire(deadline=5)
    assert notes == ["waiting for Lease my-namespace/sgpctl-policy-writer, held by fast/1/111111, renewed 0 s ago"]


def test_a_create_race_is_read_again(clock):
    kube = FakeKube()
    real_create = kube.create_lease

    def create(lease, namespace):
        kube.create_lease = real_create
        other_writer(kube, holder="", transitions=0)  # created between our GET and our POST, and released
        return real_create(lease, namespace)
    kube.create_lease = create
    lease = make(kube, clock)
    lease.acquire(deadline=30)
    assert lease.held and stored(kube)["spec"]["holderIdentity"] == ME and stored(kube)["spec"]["leaseTransitions"] == 1


@pytest.mark.parametrize("mode, words", [
    ("forbidden", 'HTTP 403 Forbidden: leases.coordination.k8s.io is forbidden: User "dev" cannot get resource "leases"'),
    ("absent", "HTTP 404 NotFound: the server could not find the requested resource"),
])
def test_without_leases_the_command_goes_on_and_says_why(clock, mode, words):
    kube = FakeKube()
    kube.leases = mode
    lease = make(kube, clock)
    lease.acquire(deadline=30)
    assert not lease.held and clock.now == 0
    assert lease.unavailable.startswith("Lease my-namespace/sgpctl-policy-writer cannot be used (Kubernetes API: ")
    assert words in lease.unavailable
    assert lease.note() == lease.unavailable + ": went on without it"
    lease.release()  # nothing to release: no request
    assert stored(kube) is None


def test_other_errors_stop_the_command(clock):
    kube = FakeKube()

    def broken(name, namespace):
        raise KubeError(500, "InternalError", "etcdserver: request timed out")
    kube.get_lease = broken
    with pytest.raises(KubeError, match="etcdserver"):
        make(kube, clock).acquire(deadline=30)


def test_renewal_moves_renew_time_and_notices_a_takeover(clock):
    kube = FakeKube()
    lease = make(kube, clock)
    lease.acquire(deadline=30)
    clock.now = 5
    assert lease.renew_once()
    assert stored(kube)["spec"]["renewTime"] == "2026-05-28T20:26:45.000000Z"
    # Our renewals stalled past the TTL and another writer took over.
    cur = kube.get_lease(L.LEASE_NAME, NS)
    kube.replace_lease({**cur, "spec": {**cur["spec"], "holderIdentity": "thief/9/999999"}}, NS)
    assert not lease.renew_once()
    assert lease.lost_to == "thief/9/999999" and not lease.held
    assert "taken over by thief/9/999999" in lease.note()
    lease.release()  # not ours any more: left alone
    assert stored(kube)["spec"]["holderIdentity"] == "thief/9/999999"


def test_release_leaves_a_lease_someone_took_over_alone(clock):
    kube = FakeKube()
    lease = make(kube, clock)
    lease.acquire(deadline=30)
    cur = kube.get_lease(L.LEASE_NAME, NS)
    kube.replace_lease({**cur, "spec": {**cur["spec"], "holderIdentity": "next/2/222222"}}, NS)
    lease.release()  # our resourceVersion is stale: 409, read again, not ours
    assert stored(kube)["spec"]["holderIdentity"] == "next/2/222222"


def test_the_renewer_thread_renews_while_held_and_stops_on_release():
    import time

    kube = FakeKube()
    lease = L.WriterLease(kube, NS, waiter=Waiter(timeout=5), holder=ME, duration=1)
    lease.acquire(deadline=time.monotonic() + 5)
    first = stored(kube)["metadata"]["resourceVersion"]
    end = time.monotonic() + 10
    while stored(kube)["metadata"]["resourceVersion"] == first and time.monotonic() < end:
        time.sleep(0.05)
    assert stored(kube)["metadata"]["resourceVersion"] != first  # renewed (every duration/3)
    lease.release()
    assert not lease._renewer.is_alive() and stored(kube)["spec"]["holderIdentity"] == ""


def test_writer_leases_take_namespaces_in_name_order_and_release_all_on_error(clock):
    kube = FakeKube()
    taken = []
    real_create = kube.create_lease

    def create(lease, namespace):
        taken.append(namespace)
        return real_create(lease, namespace)
    kube.create_lease = create
    with pytest.raises(RuntimeError):
        with L.writer_leases(kube, ["b-ns", "a-ns", "b-ns"], waiter=waiter(clock), holder=ME) as leases:
            assert [x.namespace for x in leases] == ["a-ns", "b-ns"] and all(x.held for x in leases)
            raise RuntimeError("the write failed")
    assert taken == ["a-ns", "b-ns"]
    for ns in ("a-ns", "b-ns"):
        assert kube.objects[(r.LEASES.plural, ns, L.LEASE_NAME)]["spec"]["holderIdentity"] == ""


def test_parse_time_reads_what_other_writers_write():
    assert L.parse_time("2026-05-28T20:26:40.000000Z") == EPOCH
    assert L.parse_time("2026-05-28T20:26:40Z") == EPOCH
    assert L.parse_time("2026-05-28T22:26:40.5+02:00") == EPOCH + 0.5
    assert L.parse_time("yesterday") is None and L.parse_time(None) is None


def test_an_interrupt_while_taking_the_lease_still_releases_it(clock):
    """Ctrl-C after the server made us the holder but before its answer arrived: we never knew we
    held it, and release finds that out from the server."""
    kube = FakeKube()
    real_create = kube.create_lease

    def create(lease, namespace):
        real_create(lease, namespace)
        raise KeyboardInterrupt
    kube.create_lease = create
    lease = make(kube, clock)
    with pytest.raises(KeyboardInterrupt):
        lease.acquire(deadline=30)
    assert not lease.held and stored(kube)["spec"]["holderIdentity"] == ME
    lease.release()
    assert stored(kube)["spec"]["holderIdentity"] == ""
