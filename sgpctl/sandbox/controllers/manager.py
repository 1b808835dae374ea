"""Runs the simulated controllers: one worker thread, fed by the store's events and a periodic tick.

Each controller names the resources it watches and maps an event to the keys it must sync
(level-triggered, as client-go controllers: a key means "look at this object again", so several
events for one object collapse into one sync). Keys are processed in FIFO order from one thread,
so given the order of events the outcome is deterministic. A failed sync is retried after
``retry_interval``; controllers ask for later visits with ``requeue_after`` (e.g. a Pod stuck in
ContainerCreating, a rollout's progress deadline).

``settle()`` is what tests use instead of sleeping: it forces every delayed visit to happen now,
then waits until the queue is empty, no sync is running, and no add-on operation is in flight.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterable, Protocol

from sgpctl.sandbox.controllers.cache import Cache
from sgpctl.sandbox.controllers.world import World

log = logging.getLogger("sgpctl.sandbox.controllers")

Mapper = Callable[[str, dict, "dict | None"], Iterable[Any]]


class Controller(Protocol):
    name: str

    def watches(self) -> dict[str, Mapper]: ...

    def sync(self, key: Any) -> None: ...

    def resync(self) -> Iterable[Any]: ...

    def tick(self) -> None: ...


class ControllerManager:
    def __init__(self, world: World, controllers: list[Controller], *, tick_interval: float = 0.05,
                 admit: Callable[[dict], "dict | None"] | None = None):
        self.world = world
        #: TKE's mutating webhook for new Pods, registered with the store by attach()
        self.admit = admit
        self.controllers = {c.name: c for c in controllers}
        self.tick_interval = tick_interval
        self._cond = threading.Condition()
        self._queue: OrderedDict[tuple[str, Any], None] = OrderedDict()
        self._delayed: list[tuple[float, int, str, Any]] = []
        self._seq = itertools.count()
        self._routes: dict[str, list[tuple[str, Mapper]]] = {}
        for c in controllers:
            for resource, mapper in c.watches().items():
                self._routes.setdefault(resource, []).append((c.name, mapper))
        self._busy = False
        self._kicks_requested = 0
        self._kicks_done = 0
        self._thread: threading.Thread | None = None
        self._running = False
        self._unsubscribe: Callable[[], None] | None = None
        self._remove_admission: Callable[[], None] | None = None
        world.enqueue = self.enqueue
        world.requeue_after = self.requeue_after
        #: incremented on every store event: lets the region know when to save
        self.changes = 0

    # --- feeding -------------------------------------------------------------------------

    def attach(self, *, reconcile: bool = True) -> None:
        """Subscribe to the store, register the Pod webhook, and fill the cache with what the
        store holds now. With ``reconcile`` False the controllers learn what is there (the resync
        passes run for what they note, e.g. the Pod IPs in use) but act on none of it: they act
        only on what changes from now on (a region replayed from a capture starts as captured)."""
        cache: Cache = self.world.cache
        self._unsubscribe = self.world.kube.subscribe(self._on_event)
        if self.admit is not None:
            self._remove_admission = self.world.kube.add_admission(self._admit_pod)
        for resource in cache.resources():
            try:
                entries = self.world.kube.list_entries(resource)[0]
            except Exception:  # the type is not served (yet): its CRD will announce it
                continue
            # The store's own (never mutated) dicts: no copy of 10,000 Pods at start-up. The cache
            # is read-only for controllers anyway.
            for entry in entries:
                cache.apply("ADDED", resource, entry.obj)
        for c in self.controllers.values():
            for key in c.resync():
                self.enqueue(c.name, key)
        if not reconcile:
            with self._cond:
                self._queue.clear()
                self._delayed.clear()

    def _on_event(self, event_type: str, rt: Any, obj: dict) -> None:
        resource = rt.key
        self.changes += 1
        cache = self.world.cache
        if resource == "customresourcedefinitions.apiextensions.k8s.io" and event_type == "DELETED":
            served = self._served_by(obj)
            if served and cache.watches(served):
                cache.forget(served)
        old = cache.apply(event_type, resource, obj) if cache.watches(resource) else None
        routes = self._routes.get(resource)
        if not routes:
            return
        for name, mapper in routes:
            try:
                keys = list(mapper(event_type, obj, old))
            except Exception:
                log.exception("controller %s could not map a %s event", name, resource)
                continue
            for key in keys:
                self.enqueue(name, key)

    def _admit_pod(self, operation: str, rt: Any, obj: dict, old: "dict | None") -> "dict | None":
        """The store's admission phase, for Pod creates only (TKE's webhook never touches an
        existing Pod). It runs under the store's lock, where the cache is current, so the create
        response and the watch's ADDED event already carry the mutation. A failing hook lets the
        Pod through unchanged (failurePolicy: Ignore), as a broken controller must not break the API."""
        if operation != "CREATE" or rt.key != "pods":
            return None
        try:
            return self.admit(obj)
        except Exception:
            log.exception("pod admission failed for %s", (obj.get("metadata") or {}).get("name"))
            return None

    @staticmethod
    def _served_by(crd: dict) -> str | None:
        spec = crd.get("spec") or {}
        plural = (spec.get("names") or {}).get("plural")
        group = spec.get("group")
        return f"{plural}.{group}" if plural and group else None

    def enqueue(self, controller: str, key: Any) -> None:
        with self._cond:
            self._queue[(controller, key)] = None
            self._cond.notify_all()

    def requeue_after(self, controller: str, key: Any, delay: float) -> None:
        with self._cond:
            heapq.heappush(self._delayed, (time.monotonic() + max(delay, 0.0), next(self._seq), controller, key))
            self._cond.notify_all()

    # --- running -------------------------------------------------------------------------

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="sandbox-controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._remove_admission is not None:
            self._remove_admission()
            self._remove_admission = None

    def converge(self, timeout: float = 30.0) -> None:
        """Run the controllers in the calling thread until nothing is left to do (used to build
        a scenario before the servers start; not while the worker thread runs)."""
        deadline = time.monotonic() + timeout
        while True:
            self._promote_delayed(everything=True)
            self._tick()
            did = self._drain(deadline)
            with self._cond:
                idle = not self._queue and not self.world.addons.transition
            if idle and not did:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"controllers did not converge within {timeout} s: {self.pending()}")
            if self.world.addons.transition and not did:
                time.sleep(0.01)

    def _loop(self) -> None:
        next_tick = 0.0
        while True:
            with self._cond:
                if not self._running:
                    return
                if not self._queue and self._kicks_requested <= self._kicks_done:
                    wait = max(0.0, next_tick - time.monotonic())
                    if self._delayed:
                        wait = min(wait, max(0.0, self._delayed[0][0] - time.monotonic()))
                    if wait > 0:
                        self._cond.wait(wait)
                kicks = self._kicks_requested
                kicked = kicks > self._kicks_done
            if kicked:
                self._promote_delayed(everything=True)
            now = time.monotonic()
            if kicked or now >= next_tick:
                self._tick()
                next_tick = now + self.tick_interval
            self._promote_delayed(everything=False)
            self._drain(None)
            with self._cond:
                if kicked and not self._queue:
                    self._kicks_done = max(self._kicks_done, kicks)
                self._cond.notify_all()

    def _promote_delayed(self, *, everything: bool) -> None:
        now = time.monotonic()
        with self._cond:
            while self._delayed and (everything or self._delayed[0][0] <= now):
                _, _, controller, key = heapq.heappop(self._delayed)
                self._queue[(controller, key)] = None

    def _tick(self) -> None:
        with self._cond:
            self._busy = True
        try:
            for c in self.controllers.values():
                try:
                    c.tick()
                except Exception:
                    log.exception("controller %s tick failed", c.name)
        finally:
            with self._cond:
                self._busy = False

    def _drain(self, deadline: float | None) -> bool:
        did = False
        while True:
            with self._cond:
                if not self._queue or not (self._running or self._thread is None):
                    self._busy = False
                    return did
                (controller, key), _ = self._queue.popitem(last=False)
                self._busy = True
            did = True
            try:
                self.controllers[controller].sync(key)
            except Exception:
                log.exception("controller %s failed to sync %r; retrying", controller, key)
                self.requeue_after(controller, key, self.world.retry_interval)
            if deadline is not None and time.monotonic() > deadline:
                with self._cond:
                    self._busy = False
                return did

    # --- waiting -------------------------------------------------------------------------

    def settle(self, timeout: float = 5.0) -> None:
        """Run every delayed visit now and wait until the controllers have nothing left to do."""
        if self._thread is None:
            self.converge(timeout)
            return
        deadline = time.monotonic() + timeout
        with self._cond:
            self._kicks_requested += 1
            mine = self._kicks_requested
            self._cond.notify_all()
            while True:
                done = (self._kicks_done >= mine and not self._queue and not self._busy
                        and not self.world.addons.transition)
                if done:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"sandbox controllers still busy after {timeout} s: {self._pending_locked()}")
                self._cond.wait(min(left, self.tick_interval))

    def pending(self) -> str:
        with self._cond:
            return self._pending_locked()

    def _pending_locked(self) -> str:
        items = [f"{c}:{k}" for c, k in list(self._queue)[:5]]
        parts = []
        if items:
            parts.append(f"{len(self._queue)} queued ({', '.join(items)})")
        if self._busy:
            parts.append("a sync is running")
        if self.world.addons.transition:
            parts.append("an add-on operation is in progress")
        return "; ".join(parts) or "nothing"
