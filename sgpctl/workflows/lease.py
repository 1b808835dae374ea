"""One sgpctl writer of SecurityGroupPolicies per namespace at a time: a ``coordination.k8s.io`` Lease.

`policy apply`, `policy create` and `policy delete` read the namespace, decide, write and read back.
Two of them interleaved could each pass the per-ENI limit check and together push a Pod over it, so
each holds the namespace's Lease ``sgpctl-policy-writer`` from before its read until after its
read-back, and they run one after another.

The protocol is client-go's leader election (``k8s.io/client-go/tools/leaderelection``, LeaseLock):

- ``holderIdentity`` is ``host/pid/random``; ``leaseDurationSeconds`` 15, and a thread renews
  ``renewTime`` every third of that while the Lease is held.
- Every write carries the resourceVersion it read: of two processes taking the Lease at once, one
  gets 409 and reads again.
- A holder that stopped renewing is taken over once the Lease has not changed for its
  ``leaseDurationSeconds`` as this process observed it (client-go's rule: no trust in another
  host's clock), or at once when its ``renewTime`` is older than that plus ``CLOCK_SKEW`` by this
  host's clock (a holder that died long ago).
- On the way out (success, error, Ctrl-C, SIGTERM) the holder clears ``holderIdentity``, as
  client-go's ReleaseOnCancel does, so the next writer goes on at once.

Where the cluster does not serve Leases, or RBAC forbids them, writers go on without one
(``WriterLease.unavailable`` says why); the policy workflows re-check the per-ENI limit after every
write either way, so a race is still reported.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone

from sgpctl.errors import KubeError, RefusedError
from sgpctl.workflows.clients import LeaseApi
from sgpctl.workflows.waiting import Waiter

log = logging.getLogger("sgpctl.lease")

LEASE_NAME = "sgpctl-policy-writer"
LEASE_SECONDS = 15
#: how far another host's clock may be behind ours before its Lease looks expired by its renewTime
CLOCK_SKEW = 30.0
#: Lease MicroTime, as the API server writes it (exactly six fractional digits)
MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
#: answers that mean "this cluster will not give us a Lease": RBAC (403), not served (404 on create,
#: 405), and nothing more: anything else (401, 5xx, unreachable) stops the command as any request would
UNAVAILABLE = (403, 404, 405)


def identity() -> str:
    """``host/pid/random``: who holds the Lease, as a person reading ``kubectl get lease`` needs it."""
    return f"{socket.gethostname() or 'localhost'}/{os.getpid()}/{secrets.token_hex(3)}"


def micro_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime(MICRO_TIME)


def parse_time(text: object) -> float | None:
    """A Lease's MicroTime (any RFC 3339 form another writer may have used) as epoch seconds."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _spec(lease: dict | None) -> dict:
    spec = (lease or {}).get("spec")
    return spec if isinstance(spec, dict) else {}


def holder_of(lease: dict | None) -> str:
    holder = _spec(lease).get("holderIdentity")
    return holder if isinstance(holder, str) else ""


def _duration(lease: dict | None) -> float:
    value = _spec(lease).get("leaseDurationSeconds")
    return float(value) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else float(LEASE_SECONDS)


def _version(lease: dict | None) -> str | None:
    meta = (lease or {}).get("metadata")
    return meta.get("resourceVersion") if isinstance(meta, dict) else None


class WriterLease:
    """The writer Lease of one namespace. ``acquire`` holds it (or, where the cluster offers none,
    sets ``unavailable``); ``release`` lets it go. ``clock`` and ``sleep`` come from ``waiter``
    (monotonic; tests inject them), ``wall`` is the epoch clock written into the Lease."""

    def __init__(self, kube: LeaseApi, namespace: str, *, waiter: Waiter, holder: str | None = None,
                 notify: Callable[[str], None] | None = None, wall: Callable[[], float] = time.time,
                 duration: int = LEASE_SECONDS, renew: bool = True):
        self.kube = kube
        self.namespace = namespace
        self.waiter = waiter
        self.identity = holder or identity()
        self.notify = notify or (lambda message: None)
        self.wall = wall
        self.duration = duration
        self.renew = renew
        self.held = False
        #: why the command goes on without the Lease (None: it holds it, or has not asked yet)
        self.unavailable: str | None = None
        #: who took the Lease over while we held it (our renewals failed for a whole TTL)
        self.lost_to: str | None = None
        #: who held it when we started waiting (None: we did not wait)
        self.waited_for: str | None = None
        self._lease: dict | None = None
        #: a take was sent: the Lease may be ours even if its answer never arrived (an interrupt)
        self._sent = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @property
    def where(self) -> str:
        return f"Lease {self.namespace}/{LEASE_NAME}"

    # -- taking it -------------------------------------------------------------------------------
    def acquire(self, deadline: float) -> None:
        """Hold the Lease, waiting (until ``deadline`` on the waiter's clock) while another live
        writer holds it. Raises RefusedError when the deadline passes first."""
        seen: tuple[str | None, float] | None = None  # (resourceVersion, when we first saw it)
        announced = None
        interval = 0.05
        while True:
            try:
                current = self.kube.get_lease(LEASE_NAME, self.namespace)
                if current is None:
                    if self._take(None):
                        return
                    continue
                holder = holder_of(current)
                now = self.waiter.clock()
                if seen is None or seen[0] != _version(current):
                    seen = (_version(current), now)
                if not holder or holder == self.identity or self._expired(current, now - seen[1]):
                    if self._take(current):
                        return
                    continue
            except KubeError as e:
                if e.status in UNAVAILABLE:
                    self.unavailable = f"{self.where} cannot be used ({e.message})"
                    log.debug("%s: going on without it", self.unavailable)
                    return
                raise
            renewed = parse_time(_spec(current).get("renewTime"))
            since = f", renewed {max(0, self.wall() - renewed):.0f} s ago" if renewed is not None else ""
            if self.waiter.clock() >= deadline:
                raise RefusedError(
                    f"another sgpctl writer holds {self.where}: {holder}{since}; nothing was changed",
                    hint=f"retry when it has finished, or wait longer with --timeout (a Lease its holder no longer "
                         f"renews is taken over {_duration(current):.0f} s after its last renewal)")
            if holder != announced:
                announced = holder
                self.waited_for = self.waited_for or holder
                self.notify(f"waiting for {self.where}, held by {holder}{since}")
            self.waiter.progress(f"waiting for {self.where}, held by {holder}{since}")
            self.waiter.sleep(min(interval, max(0.0, deadline - self.waiter.clock())))
            interval = min(interval * 2, 1.0)

    def _expired(self, lease: dict, unchanged_for: float) -> bool:
        duration = _duration(lease)
        if unchanged_for >= duration:
            return True
        renewed = parse_time(_spec(lease).get("renewTime"))
        return renewed is not None and self.wall() - renewed > duration + CLOCK_SKEW

    def _take(self, current: dict | None) -> bool:
        """Create the Lease or take it over from ``current`` at its resourceVersion; False when
        another writer was faster (409) or it vanished meanwhile (404 on replace): read again."""
        now = micro_time(self.wall())
        spec = {"holderIdentity": self.identity, "leaseDurationSeconds": self.duration, "acquireTime": now,
                "renewTime": now}
        transitions = _spec(current).get("leaseTransitions")
        transitions = transitions if isinstance(transitions, int) and not isinstance(transitions, bool) else 0
        if current is not None and holder_of(current) != self.identity:
            transitions += 1
        spec["leaseTransitions"] = transitions
        self._sent = True
        try:
            if current is None:
                taken = self.kube.create_lease(
                    {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                     "metadata": {"name": LEASE_NAME, "labels": {"app.kubernetes.io/managed-by": "sgpctl"}},
                     "spec": spec}, self.namespace)
            else:
                taken = self.kube.replace_lease({**current, "spec": {**_spec(current), **spec}}, self.namespace)
        except KubeError as e:
            if e.status == 409 or (e.status == 404 and current is not None):
                return False
            raise
        with self._lock:
            self._lease = taken
        self.held = True
        if current is not None and holder_of(current) not in ("", self.identity):
            log.debug("%s: took it over from %s", self.where, holder_of(current))
        if self.renew:
            self._renewer = threading.Thread(target=self._renew_loop, name=f"sgpctl-lease-{self.namespace}", daemon=True)
            self._renewer.start()
        return True

    # -- keeping it ------------------------------------------------------------------------------
    def _renew_loop(self) -> None:
        while not self._stop.wait(self.duration / 3):
            try:
                if not self.renew_once():
                    return
            except Exception as e:  # noqa: BLE001 - a failed renewal is retried; past the TTL the Lease is lost
                log.debug("%s: renewal failed: %s", self.where, e)

    def renew_once(self) -> bool:
        """Write a new renewTime; False when the Lease is no longer ours (another writer took it)."""
        with self._lock:
            lease = self._lease
            if lease is None:
                return False
            try:
                self._lease = self.kube.replace_lease(
                    {**lease, "spec": {**_spec(lease), "renewTime": micro_time(self.wall())}}, self.namespace)
                return True
            except KubeError as e:
                if e.status not in (404, 409):
                    raise
            current = self.kube.get_lease(LEASE_NAME, self.namespace)
            if current is not None and holder_of(current) == self.identity:
                self._lease = current  # changed by someone else (a label), still ours: renew next time
                return True
            self.lost_to = holder_of(current) or "nobody (it was deleted)"
            self._lease = None
            self.held = False
            return False

    # -- letting it go ---------------------------------------------------------------------------
    def release(self) -> None:
        """Stop renewing and clear holderIdentity (only if the Lease is still ours). Never raises:
        a Lease left behind expires on its own."""
        self._stop.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join(timeout=5)
        with self._lock:
            lease, self._lease = self._lease, None
        held, self.held = self.held, False
        if not held:
            if not self._sent or self.lost_to:
                return
            try:  # interrupted while taking it: the server may have made us the holder
                lease = self.kube.get_lease(LEASE_NAME, self.namespace)
            except Exception as e:  # noqa: BLE001 - the Lease expires by itself
                log.debug("%s: release failed: %s", self.where, e)
                return
            if lease is None or holder_of(lease) != self.identity:
                return
        for _ in range(3):
            now = micro_time(self.wall())
            try:
                self.kube.replace_lease({**lease, "spec": {**_spec(lease), "holderIdentity": "", "leaseDurationSeconds": 1,
                                                          "acquireTime": now, "renewTime": now}}, self.namespace)
                return
            except KubeError as e:
                if e.status != 409:
                    log.debug("%s: release failed: %s", self.where, e)
                    return
                lease = self.kube.get_lease(LEASE_NAME, self.namespace)
                if lease is None or holder_of(lease) != self.identity:
                    return
            except Exception as e:  # noqa: BLE001 - unreachable now: the Lease expires by itself
                log.debug("%s: release failed: %s", self.where, e)
                return

    def note(self) -> str | None:
        """What the user should know about the Lease after the command, if anything."""
        if self.unavailable:
            return f"{self.unavailable}: went on without it"
        if self.lost_to:
            return f"{self.where} was taken over by {self.lost_to} while this command held it (its renewals failed)"
        return None


@contextlib.contextmanager
def writer_leases(kube: LeaseApi, namespaces: Iterable[str], *, waiter: Waiter,
                  notify: Callable[[str], None] | None = None, holder: str | None = None,
                  duration: int = LEASE_SECONDS) -> Iterator[list[WriterLease]]:
    """Hold the writer Lease of every namespace (in name order, so two writers of the same
    namespaces never wait for each other in a circle) for the ``with`` block; released on the way
    out, whatever ends the block. Waiting for all of them shares one deadline: the waiter's timeout."""
    deadline = waiter.clock() + waiter.timeout
    me = holder or identity()
    leases: list[WriterLease] = []
    try:
        for ns in sorted(set(namespaces)):
            lease = WriterLease(kube, ns, waiter=waiter, holder=me, notify=notify, duration=duration)
            leases.append(lease)
            lease.acquire(deadline)
        yield leases
    finally:
        for lease in reversed(leases):
            lease.release()
