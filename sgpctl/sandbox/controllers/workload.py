"""What the workload controllers (Deployments, ReplicaSets, StatefulSets, DaemonSets) share: keys
by namespace and name, the owner a Pod's controller reference names, and the watch wiring of a
controller that manages Pods it owns."""

from __future__ import annotations

from typing import Any, Iterator

from sgpctl.sandbox.controllers.names import generated_name
from sgpctl.sandbox.controllers.pods import pod_from_template
from sgpctl.sandbox.controllers.world import PODS, World
from sgpctl.sandbox.kube.resources import BUILTIN

Key = tuple[str, str]
_KINDS = {t.key: t.kind for t in BUILTIN}


def object_key(obj: dict) -> Key:
    return (obj["metadata"].get("namespace") or "default", obj["metadata"]["name"])


def owner_key(obj: dict, kind: str) -> Key | None:
    """The key of the ``kind`` object that controls ``obj`` (its controller owner reference)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller") and ref.get("kind") == kind:
            return (obj["metadata"].get("namespace") or "default", ref.get("name"))
    return None


class WorkloadController:
    """Syncs an object of ``resource`` when it changes and when a Pod it controls changes.
    Subclasses set ``resource`` (a built-in type's key) and implement ``reconcile(obj)``; the
    controller's ``name`` (the plural) and the ``kind`` its Pods' owner references name follow from it."""

    resource = ""

    def __init__(self, world: World):
        self.world = world
        self.name = self.resource.split(".")[0]
        self.kind = _KINDS[self.resource]

    def watches(self) -> dict:
        def own_changed(event_type: str, obj: dict, old: dict | None) -> Iterator[Key]:
            if event_type != "DELETED":
                yield object_key(obj)

        def pod_changed(event_type: str, obj: dict, old: dict | None) -> Iterator[Key]:
            owner = owner_key(obj, self.kind)
            if owner:
                yield owner
        return {self.resource: own_changed, PODS: pod_changed}

    def current(self, key: Key) -> dict | None:
        """The cached object to sync, or None when it is gone or being deleted (the garbage
        collector, not its controller, deals with it then)."""
        obj = self.world.cache.get(self.resource, *key)
        return None if obj is None or obj["metadata"].get("deletionTimestamp") else obj

    def resync(self) -> Iterator[Key]:
        for obj in self.world.cache.list(self.resource):
            yield object_key(obj)

    def tick(self) -> None:
        pass

    def create_pod(self, owner: dict, template: dict, component: str, *, failed_event: bool = False,
                   **pod_options: Any) -> None:
        """Creates a Pod of ``owner`` from ``template`` named ``<owner>-<5 random characters>``, drawing
        another name when that one is taken (as generateName does), and records ``SuccessfulCreate``.
        ``failed_event`` also records ``FailedCreate`` when the create fails otherwise (as the
        ReplicaSet controller does); ``pod_options`` go to ``pod_from_template``."""
        w = self.world
        for _ in range(5):
            name = generated_name(owner["metadata"]["name"] + "-", w.rng)
            pod = pod_from_template(owner, template, name, **pod_options)
            try:
                w.kube.create(PODS, pod)
            except Exception as exc:
                if getattr(exc, "reason", None) == "AlreadyExists":
                    continue
                if failed_event:
                    w.event(owner, "FailedCreate", f"Error creating: {getattr(exc, 'message', exc)}",
                            type="Warning", component=component)
                raise
            w.event(owner, "SuccessfulCreate", f"Created pod: {name}", component=component)
            return

    def sync(self, key: Key) -> None:
        obj = self.current(key)
        if obj is not None:
            self.reconcile(obj)

    def reconcile(self, obj: dict) -> None:  # pragma: no cover - every subclass has its own
        """Moves the world toward what ``obj`` (cached, not being deleted) asks for."""
        raise NotImplementedError
