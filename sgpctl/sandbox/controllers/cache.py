"""An informer cache: the objects the simulated controllers watch, as of the store's last commit.

The store calls its subscribers after every commit, under its lock and in commit order, so a
cache fed from that callback is never behind the store when a controller reads it. Controllers
read cached objects (shared dicts: never mutate them; ``copy_of`` first) and write through the
store; their own writes come back as events like anyone else's.

Lock order: the store's lock, then this cache's. The callback holds the store's lock when it
takes the cache's; so a controller must never call the store while it holds the cache's lock.
Every method here takes the lock only for its own duration.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Iterable

Key = tuple[str, str]  # (namespace or "", name)

def key_of(obj: dict) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def copy_of(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


def controller_uid(obj: dict) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref.get("uid")
    return None


class Cache:
    def __init__(self, resources: Iterable[str], vpceni_resource: str | None = None):
        self._lock = threading.Lock()
        self._objects: dict[str, dict[Key, dict]] = {r: {} for r in resources}
        self._vpceni = vpceni_resource
        #: controller owner uid -> {(resource, key)}
        self._owned: dict[str, set[tuple[str, Key]]] = {}
        #: node name -> pod keys bound to it
        self._pods_by_node: dict[str, set[Key]] = {}
        #: pod uid -> VpcENI keys that name it (spec.podUID)
        self._vpceni_by_pod: dict[str, set[Key]] = {}
        self._uids: dict[str, dict[str, Key]] = {r: {} for r in resources}

    def resources(self) -> list[str]:
        return list(self._objects)

    def watches(self, resource: str) -> bool:
        return resource in self._objects

    # --- feeding ---------------------------------------------------------------------------

    def apply(self, event_type: str, resource: str, obj: dict) -> dict | None:
        """Record an event; returns the previous version of the object (None if new)."""
        table = self._objects.get(resource)
        if table is None:
            return None
        key = key_of(obj)
        with self._lock:
            old = table.get(key)
            if old is not None:
                self._unindex(resource, key, old)
            if event_type == "DELETED":
                table.pop(key, None)
            else:
                table[key] = obj
                self._index(resource, key, obj)
            return old

    def _index(self, resource: str, key: Key, obj: dict) -> None:
        meta = obj.get("metadata") or {}
        if meta.get("uid"):
            self._uids[resource][meta["uid"]] = key
        owner = controller_uid(obj)
        if owner:
            self._owned.setdefault(owner, set()).add((resource, key))
        if resource == "pods":
            node = (obj.get("spec") or {}).get("nodeName")
            if node:
                self._pods_by_node.setdefault(node, set()).add(key)
        elif resource == self._vpceni:
            pod_uid = (obj.get("spec") or {}).get("podUID")
            if pod_uid:
                self._vpceni_by_pod.setdefault(pod_uid, set()).add(key)

    def _unindex(self, resource: str, key: Key, obj: dict) -> None:
        meta = obj.get("metadata") or {}
        if meta.get("uid"):
            self._uids[resource].pop(meta["uid"], None)
        owner = controller_uid(obj)
        if owner and owner in self._owned:
            self._owned[owner].discard((resource, key))
            if not self._owned[owner]:
                del self._owned[owner]
        if resource == "pods":
            node = (obj.get("spec") or {}).get("nodeName")
            if node and node in self._pods_by_node:
                self._pods_by_node[node].discard(key)
        elif resource == self._vpceni:
            pod_uid = (obj.get("spec") or {}).get("podUID")
            if pod_uid and pod_uid in self._vpceni_by_pod:
                self._vpceni_by_pod[pod_uid].discard(key)
                if not self._vpceni_by_pod[pod_uid]:
                    del self._vpceni_by_pod[pod_uid]

    def forget(self, resource: str) -> None:
        """Drop every object of a resource (its CRD was deleted)."""
        with self._lock:
            table = self._objects.get(resource)
            if table is None:
                return
            for key, obj in list(table.items()):
                self._unindex(resource, key, obj)
            table.clear()

    # --- reading ---------------------------------------------------------------------------

    def get(self, resource: str, namespace: str | None, name: str) -> dict | None:
        with self._lock:
            return self._objects.get(resource, {}).get((namespace or "", name))

    def by_uid(self, resource: str, uid: str) -> dict | None:
        with self._lock:
            key = self._uids.get(resource, {}).get(uid)
            return self._objects[resource].get(key) if key is not None else None

    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        """Objects in (namespace, name) order."""
        with self._lock:
            table = self._objects.get(resource, {})
            keys = sorted(k for k in table if namespace is None or k[0] == namespace)
            return [table[k] for k in keys]

    def count(self, resource: str) -> int:
        with self._lock:
            return len(self._objects.get(resource, {}))

    def owned(self, owner_uid: str, resource: str) -> list[dict]:
        with self._lock:
            refs = sorted(k for r, k in self._owned.get(owner_uid, ()) if r == resource)
            table = self._objects.get(resource, {})
            return [table[k] for k in refs if k in table]

    def pods_on(self, node: str) -> list[dict]:
        with self._lock:
            table = self._objects["pods"]
            return [table[k] for k in sorted(self._pods_by_node.get(node, ())) if k in table]

    def vpcenis_of(self, pod_uid: str) -> list[dict]:
        with self._lock:
            table = self._objects.get(self._vpceni or "", {})
            return [table[k] for k in sorted(self._vpceni_by_pod.get(pod_uid, ())) if k in table]
