"""The object store behind the emulated Kubernetes API, usable in-process by simulated controllers.

See the package docstring (``sgpctl.sandbox.kube``) for the API as a whole. Implementation notes:

- One ``RLock`` guards everything. A write builds the new object, then commits it: the global
  resource version goes up by one, the object is stored as an immutable ``Entry`` (the dict and its
  compact JSON), and one event is appended to a bounded history. Nothing ever mutates a stored
  dict, so snapshots (for paginated lists) and watch events can share entries without copying.
- Reads hand out fresh copies (``json.loads`` of the cached JSON, faster than ``copy.deepcopy``);
  the HTTP layer skips even that and joins the cached JSON.
- Subscribers are called after a commit, under the lock and in commit order. A write made from
  inside a callback is committed at once but its own callbacks run after the current round, so
  every subscriber sees every event in resource-version order.
"""

from __future__ import annotations

import base64
import bisect
import binascii
import collections
import ipaddress
import itertools
import json
import logging
import secrets
import threading
import time
import uuid
from typing import Any, Callable, Iterable

from sgpctl.core import selectors

from . import admission, errors, fieldmanager, fieldselectors, patch as patches
from .admission import Request
from .defaults import apply_create_defaults, validate_metadata
from .errors import ApiError
from .crds import SGP_CRD_SCHEMAS
from .resources import BUILTIN, ResourceType, crd_problems, from_crd

__all__ = ["KubeStore", "Watcher", "ApiError", "PATCH_TYPES", "Request"]

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace or "", name)
Callback = Callable[[str, ResourceType, dict], None]
#: hook(operation "CREATE"|"UPDATE", resource_type, obj, old_obj_or_None) -> replacement obj or None
Admission = Callable[[str, ResourceType, dict, "dict | None"], "dict | None"]

#: accepted patch type names -> canonical short name
PATCH_TYPES = {
    "merge": "merge", "application/merge-patch+json": "merge",
    "json": "json", "application/json-patch+json": "json",
    "strategic": "strategic", "application/strategic-merge-patch+json": "strategic",
    "apply": "apply", "application/apply-patch+yaml": "apply",
}
_CUSTOM_PATCH_MEDIA = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
#: kube-apiserver's default --service-cluster-ip-range
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _clone_in(obj: Any) -> Any:
    """A private, JSON-clean copy of what a caller hands in (tuples become lists, and so on)."""
    try:
        return json.loads(json.dumps(obj))
    except (TypeError, ValueError) as exc:
        raise errors.bad_request(f"the object is not valid JSON: {exc}") from None


class Entry:
    """A stored object: never mutated once built. ``raw`` is its compact JSON."""

    __slots__ = ("obj", "raw")

    def __init__(self, obj: dict):
        self.obj = obj
        self.raw = _dumps(obj)

    def copy(self) -> dict:
        return json.loads(self.raw)


class Event:
    __slots__ = ("rv", "type", "rt", "key", "old", "new")

    def __init__(self, rv: int, type_: str, rt: ResourceType, key: Key, old: Entry | None, new: Entry):
        self.rv, self.type, self.rt, self.key, self.old, self.new = rv, type_, rt, key, old, new


class _Snapshot:
    __slots__ = ("changed", "keys", "entries")

    def __init__(self, changed: int, keys: list[Key], entries: list[Entry]):
        self.changed, self.keys, self.entries = changed, keys, entries


def _selector(label_selector: Any) -> selectors.Selector | None:
    if label_selector is None or label_selector == "":
        return None
    if isinstance(label_selector, selectors.Selector):
        return label_selector
    if isinstance(label_selector, dict):
        label_selector = ",".join(f"{k}={v}" for k, v in label_selector.items())
    try:
        return selectors.parse(label_selector)
    except selectors.SelectorError as exc:
        raise errors.bad_request(str(exc)) from None


def _field_selector(rt: ResourceType, field_selector: Any, label_text: str = "") -> fieldselectors.FieldSelector | None:
    if field_selector is None or field_selector == "":
        return None
    if isinstance(field_selector, fieldselectors.FieldSelector):
        fs = field_selector
    else:
        if isinstance(field_selector, dict):
            field_selector = ",".join(f"{k}={v}" for k, v in field_selector.items())
        try:
            fs = fieldselectors.parse(field_selector)
        except fieldselectors.FieldSelectorError as exc:
            raise errors.bad_request(str(exc)) from None
    bad = fs.check_supported(rt.kind)
    if bad is not None:
        gv = rt.api_version()
        raise errors.bad_request(
            f'Unable to find "{gv}, Resource={rt.plural}" that match label selector "{label_text}", '
            f'field selector "{fs.text}": field label not supported: {bad}')
    return fs


class Matcher:
    """Namespace + label selector + field selector, evaluated on stored objects."""

    __slots__ = ("rt", "namespace", "labels", "fields")

    def __init__(self, rt: ResourceType, namespace: str | None, label_selector: Any, field_selector: Any):
        self.rt = rt
        self.namespace = namespace or None
        self.labels = _selector(label_selector)
        self.fields = _field_selector(rt, field_selector, str(label_selector or ""))

    @property
    def selective(self) -> bool:
        return self.labels is not None or self.fields is not None

    def __call__(self, key: Key, obj: dict) -> bool:
        if self.namespace is not None and key[0] != self.namespace:
            return False
        if self.labels is not None and not self.labels.matches((obj.get("metadata") or {}).get("labels") or {}):
            return False
        if self.fields is not None and not self.fields.matches(self.rt.kind, obj):
            return False
        return True


LEASES_KEY = "leases.coordination.k8s.io"


class KubeStore:
    """Thread-safe in-memory Kubernetes object store with the apiserver's semantics."""

    def __init__(self, *, history: int = 10000, default_service_accounts: bool = True,
                 clock: Callable[[], float] = time.time, service_cidr: str = DEFAULT_SERVICE_CIDR,
                 namespace_cleanup_delay: float = 0.0, sgp_crd_schema: str = "none"):
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._clock = clock
        self._history = max(100, history)
        self._default_sas = default_service_accounts
        self._rv = 0
        self._types: dict[str, ResourceType] = {}
        self._objects: dict[str, dict[Key, Entry]] = {}
        self._keys: dict[str, list[Key]] = {}
        self._changed: dict[str, int] = {}
        self._snap: dict[str, _Snapshot] = {}
        self._old_snaps: collections.OrderedDict[tuple[str, int], _Snapshot] = collections.OrderedDict()
        self._events: list[Event] = []
        self._floor = 0  # the history holds every event with rv > floor
        self._owners: dict[str, set[tuple[str, Key]]] = {}
        self._terminating: set[str] = set()
        self._foreground: set[str] = set()
        self._subscribers: list[Callback] = []
        self._admission: list[Admission] = []
        self._pending: collections.deque[tuple[str, ResourceType, Entry]] = collections.deque()
        self._dispatching = False
        self._event_index: dict[tuple, Key] = {}
        #: seconds a deleted namespace stays Terminating, with its content, before the namespace
        #: controller deletes that content (0: at once, in the deleting call)
        self.namespace_cleanup_delay = namespace_cleanup_delay
        if sgp_crd_schema not in SGP_CRD_SCHEMAS:
            raise ValueError(f"sgp_crd_schema must be one of {', '.join(SGP_CRD_SCHEMAS)}, not {sgp_crd_schema!r}")
        #: the sandbox variant ``sgp-crd-schema``: which schema the SecurityGroupPolicy CRD is created with
        self.sgp_crd_schema = sgp_crd_schema
        #: the sandbox variant ``leases`` (``set_leases``): served, forbidden (RBAC) or absent
        self.leases = "served"
        #: the Service IP range (``--service-cluster-ip-range``): the sandbox's TKE cluster reports
        #: the same value as its ServiceCIDR
        self.service_cidr = str(ipaddress.ip_network(service_cidr))
        self._ip_cursor = 0
        self._port_counter = itertools.count(30000)
        self.closed = False

    def settings(self) -> dict[str, Any]:
        """The constructor settings a store rebuilt from this one's ``to_dict`` should get."""
        return {"namespace_cleanup_delay": self.namespace_cleanup_delay, "sgp_crd_schema": self.sgp_crd_schema,
                "service_cidr": self.service_cidr}

    # ------------------------------------------------------------------ types

    def register_builtin(self, *, system_namespaces: bool = True) -> None:
        """Serve the built-in types and create default, kube-system, kube-public, kube-node-lease."""
        with self._lock:
            for rt in BUILTIN:
                self._register(rt)
            if system_namespaces:
                for ns in _SYSTEM_NAMESPACES:
                    if self._entry_of(self._types["namespaces"], ("", ns)) is None:
                        self.create("namespaces", {"metadata": {"name": ns}})
            self._drain()

    def register(self, rt: ResourceType) -> None:
        with self._lock:
            self._register(rt)

    def _register(self, rt: ResourceType) -> None:
        old = self._types.get(rt.key)
        self._types[rt.key] = rt
        if old is None:
            self._objects[rt.key] = {}
            self._keys[rt.key] = []
            self._changed[rt.key] = self._rv
        self._cond.notify_all()

    def set_leases(self, mode: str) -> None:
        """The sandbox variant ``leases``: ``served``; ``forbidden``, every Lease request answered 403 as
        RBAC answers a user without rights on them (the server asks ``leases``); ``absent``, the
        ``coordination.k8s.io`` group is not served at all (gone from discovery, 404)."""
        with self._lock:
            self.leases = mode
            if mode == "absent" and LEASES_KEY in self._types:
                for table in (self._types, self._objects, self._keys, self._changed):
                    table.pop(LEASES_KEY, None)
                self._snap.pop(LEASES_KEY, None)
                self._cond.notify_all()

    def types(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def crds(self) -> dict[str, dict]:
        """name -> CustomResourceDefinition (the stored, read-only dicts)."""
        with self._lock:
            return {k[1]: e.obj for k, e in self._objects["customresourcedefinitions.apiextensions.k8s.io"].items()}

    def resource(self, group: str, version: str, plural: str) -> ResourceType | None:
        rt = self._types.get(errors.qualified(group, plural))
        return rt if rt is not None and version in rt.versions else None

    def resource_for_kind(self, group: str, kind: str) -> ResourceType | None:
        for rt in list(self._types.values()):
            if rt.group == group and rt.kind == kind:
                return rt
        return None

    def resolve(self, ref: Any) -> ResourceType:
        """A ResourceType from: a ResourceType; ``"pods"``, ``"deployments.apps"``, a kind (``"Pod"``)
        or a short name (``"sgp"``); ``(group, plural)`` or ``(group, version, plural)``.
        Unknown -> ApiError 404 (the server's "could not find the requested resource")."""
        types = self._types
        if isinstance(ref, ResourceType):
            rt = types.get(ref.key)
        elif isinstance(ref, tuple):
            group, plural = (ref[0], ref[-1])
            rt = types.get(errors.qualified(group, plural))
            if rt is not None and len(ref) == 3 and ref[1] not in rt.versions:
                rt = None
        elif isinstance(ref, str):
            rt = types.get(ref)
            if rt is None:
                # Core first, then registration order: "events" means core events, as for kubectl.
                for cand in types.values():
                    if ref in (cand.plural, cand.kind, cand.singular) or ref in cand.short_names:
                        rt = cand
                        break
        else:
            rt = None
        if rt is None:
            raise errors.no_route()
        return rt

    # ------------------------------------------------------------------ reads

    @property
    def resource_version(self) -> int:
        return self._rv

    def _entry_of(self, rt: ResourceType, key: Key) -> Entry | None:
        table = self._objects.get(rt.key)
        return table.get(key) if table is not None else None

    def _key(self, rt: ResourceType, namespace: str | None, name: str) -> Key:
        return ((namespace or "default") if rt.namespaced else "", name)

    def get_entry(self, resource: Any, namespace: str | None, name: str) -> Entry | None:
        with self._lock:
            rt = self.resolve(resource)
            return self._entry_of(rt, self._key(rt, namespace, name))

    def get(self, resource: Any, namespace: str | None, name: str) -> dict | None:
        """A copy of the object, or None. ``namespace`` is ignored for cluster-scoped types."""
        entry = self.get_entry(resource, namespace, name)
        return entry.copy() if entry is not None else None

    def list(self, resource: Any, namespace: str | None = None, label_selector: Any = None,
             field_selector: Any = None) -> list[dict]:
        """Copies of the matching objects, ordered by (namespace, name). Selectors are strings in
        kubectl syntax, dicts of equalities, or parsed selectors; a bad one raises ApiError 400."""
        entries, _, _, _ = self.list_entries(resource, namespace, label_selector, field_selector)
        # One parse of the joined JSON is cheaper than a parse (or deepcopy) per object.
        return json.loads(b"[" + b",".join(e.raw for e in entries) + b"]")

    def _snapshot(self, rt: ResourceType) -> _Snapshot:
        snap = self._snap.get(rt.key)
        changed = self._changed[rt.key]
        if snap is None or snap.changed != changed:
            keys = list(self._keys[rt.key])
            table = self._objects[rt.key]
            snap = _Snapshot(changed, keys, [table[k] for k in keys])
            self._snap[rt.key] = snap
        return snap

    def list_entries(self, resource: Any, namespace: str | None = None, label_selector: Any = None,
                     field_selector: Any = None, limit: int | None = None,
                     continue_token: str | None = None) -> tuple[list[Entry], int, str | None, int | None]:
        """One page: (entries, list resourceVersion, continue token or None, remainingItemCount or None).
        Pages of one list come from one snapshot, so they are consistent, as from etcd."""
        with self._lock:
            rt = self.resolve(resource)
            match = Matcher(rt, namespace if rt.namespaced else None, label_selector, field_selector)
            start: Key | None = None
            if continue_token:
                list_rv, start = self._decode_continue(continue_token)
                snap = self._old_snaps.get((rt.key, list_rv))
                if snap is None:
                    if list_rv < self._floor:
                        raise errors.gone(
                            "The provided continue parameter is too old to display a consistent list result. "
                            "You can start a new list without the continue parameter.")
                    snap = self._snapshot(rt)
            else:
                list_rv = self._rv
                snap = self._snapshot(rt)
        keys, entries = snap.keys, snap.entries
        lo, hi = 0, len(keys)
        if match.namespace is not None:
            lo = bisect.bisect_left(keys, (match.namespace, ""))
            hi = bisect.bisect_left(keys, (match.namespace + "\x00", ""))
        if start is not None:
            lo = max(lo, bisect.bisect_right(keys, start))
        out: list[Entry] = []
        name = match.fields.name() if match.fields is not None else None
        pinned_ns = match.namespace if rt.namespaced else ""
        if name is not None and pinned_ns is not None:
            # metadata.name pins at most one key: no scan (kubectl delete --wait lists like this).
            i = bisect.bisect_left(keys, (pinned_ns, name), lo, hi)
            if i < hi and keys[i] == (pinned_ns, name) and match(keys[i], entries[i].obj):
                out.append(entries[i])
            return out, list_rv, None, None
        i = lo
        if match.selective or match.namespace is not None or limit:
            while i < hi:
                e = entries[i]
                if match(keys[i], e.obj):
                    out.append(e)
                    if limit and len(out) >= limit:
                        i += 1
                        break
                i += 1
        else:
            out = entries[lo:hi]
            i = hi
        token = remaining = None
        if limit and i < hi:
            token = self._encode_continue(list_rv, keys[i - 1])
            with self._lock:
                self._old_snaps[(rt.key, list_rv)] = snap
                self._old_snaps.move_to_end((rt.key, list_rv))
                while len(self._old_snaps) > 32:
                    self._old_snaps.popitem(last=False)
            if not match.selective:
                remaining = hi - i
        return out, list_rv, token, remaining

    @staticmethod
    def _encode_continue(rv: int, key: Key) -> str:
        data = {"v": "meta.k8s.io/v1", "rv": rv, "start": list(key)}
        return base64.urlsafe_b64encode(_dumps(data)).decode().rstrip("=")

    @staticmethod
    def _decode_continue(token: str) -> tuple[int, Key]:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if data.get("v") != "meta.k8s.io/v1":
                raise ValueError("unknown version")
            ns, name = data["start"]
            return int(data["rv"]), (str(ns), str(name))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise errors.bad_request(f"continue key is not valid: {exc}") from None

    # ------------------------------------------------------------------ commit machinery

    def _now(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._clock()))

    def _commit(self, rt: ResourceType, type_: str, key: Key, obj: dict, old: Entry | None) -> Entry:
        self._rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self._rv)
        entry = Entry(obj)
        table, keys = self._objects[rt.key], self._keys[rt.key]
        if type_ == "DELETED":
            del table[key]
            del keys[bisect.bisect_left(keys, key)]
        else:
            if old is None:
                bisect.insort(keys, key)
            table[key] = entry
        self._changed[rt.key] = self._rv
        if old is not None:
            self._unindex_owners(rt, key, old.obj)
        if type_ != "DELETED":
            self._index_owners(rt, key, obj)
        self._events.append(Event(self._rv, type_, rt, key, old, entry))
        if len(self._events) > 2 * self._history:
            drop = len(self._events) - self._history
            self._floor = self._events[drop - 1].rv
            del self._events[:drop]
        self._pending.append((type_, rt, entry))
        self._cond.notify_all()
        return entry

    def _index_owners(self, rt: ResourceType, key: Key, obj: dict) -> None:
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
            uid = ref.get("uid") if isinstance(ref, dict) else None
            if uid:
                self._owners.setdefault(uid, set()).add((rt.key, key))

    def _unindex_owners(self, rt: ResourceType, key: Key, obj: dict) -> None:
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
            uid = ref.get("uid") if isinstance(ref, dict) else None
            deps = self._owners.get(uid) if uid else None
            if deps is not None:
                deps.discard((rt.key, key))
                if not deps:
                    del self._owners[uid]

    def _drain(self) -> None:
        if self._dispatching:
            return
        self._dispatching = True
        try:
            while self._pending:
                type_, rt, entry = self._pending.popleft()
                for callback in list(self._subscribers):
                    try:
                        callback(type_, rt, entry.copy())
                    except Exception:  # a broken controller must not break the API server
                        log.exception("kube store subscriber failed on %s %s", type_, rt.key)
        finally:
            self._dispatching = False

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(event_type, resource_type, obj_copy)`` after every commit; returns an
        unsubscribe function. Runs under the store lock: queue work, do not block."""
        return self._add_hook(self._subscribers, callback)

    def _add_hook(self, hooks: list, hook: Any) -> Callable[[], None]:
        with self._lock:
            hooks.append(hook)

        def remove() -> None:
            with self._lock:
                if hook in hooks:
                    hooks.remove(hook)
        return remove

    # ------------------------------------------------------------------ admission

    def add_admission(self, hook: Admission) -> Callable[[], None]:
        """Register a mutating/validating admission hook; returns a function that removes it.

        ``hook(operation, resource_type, obj, old)`` runs on every create and main-resource update
        (not on status/scale/binding), after defaulting and before the object is stored, under
        the store lock, like a mutating webhook. ``obj`` is the hook's to change: return it (or a
        replacement) to change what is stored, None to leave it; raise ``ApiError`` to refuse the
        request (the client gets that error). The create response and the first watch event
        already show what the hook did. Name and namespace cannot be changed."""
        return self._add_hook(self._admission, hook)

    def _admit(self, operation: str, rt: ResourceType, obj: dict, old: Entry | dict | None, key: Key) -> dict:
        old_obj = old.obj if isinstance(old, Entry) else old
        for hook in list(self._admission):
            result = hook(operation, rt, obj, json.loads(_dumps(old_obj)) if old_obj is not None else None)
            if result is not None:
                obj = _clone_in(result)
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(meta, dict) or meta.get("name") != key[1] or (rt.namespaced and meta.get("namespace") != key[0]):
            raise errors.internal("Internal error occurred: admission changed the object's name or namespace")
        problems = validate_metadata(rt, obj)
        if problems:
            raise errors.invalid(rt.group, rt.kind, key[1], problems)
        return obj

    # ------------------------------------------------------------------ create

    def _allocate(self, what: str) -> Any:
        if what == "clusterIP":
            return self._allocate_cluster_ip()
        return next(self._port_counter)

    def _allocate_cluster_ip(self) -> str:
        """A free address of the Service CIDR. Like kube-apiserver (KEP-3070), dynamic addresses
        come from above a low band kept for Services that ask for one (the first address is the
        ``kubernetes`` Service's, the tenth usually the DNS Service's), the low band only when the
        rest is full; the network and broadcast addresses are never used."""
        net = ipaddress.ip_network(self.service_cidr)
        size = net.num_addresses
        band = min(max(16, size // 16), 256)
        if band >= size - 2:
            band = 1
        used = {(e.obj.get("spec") or {}).get("clusterIP") for e in self._objects["services"].values()}
        upper = range(band, size - 1)
        for i in range(len(upper)):
            ip = str(net[upper[(self._ip_cursor + i) % len(upper)]])
            if ip not in used:
                self._ip_cursor += i + 1
                return ip
        for offset in range(1, band):
            ip = str(net[offset])
            if ip not in used:
                return ip
        raise errors.internal(f"Internal error occurred: failed to allocate a serviceIP: range is full "
                              f"({self.service_cidr})")

    def create(self, resource: Any, obj: dict, *, dry_run: bool = False, keep_status: bool = True,
               request: Request | None = None, version: str | None = None) -> dict:
        """Create and return the stored object (a copy). The namespace comes from
        ``obj.metadata.namespace`` (default "default"); ``generateName`` is honoured. The API layer
        passes ``keep_status=False`` so a client cannot create objects with a status of its choosing;
        in-process callers (controllers) keep the status they give. With a ``request`` (what the
        HTTP layer passes) the body is decoded, defaulted and validated as kube-apiserver does, and
        its field manager recorded; in-process writes skip that."""
        with self._lock:
            try:
                rt = self.resolve(resource)
                return self._create(rt, _clone_in(obj), dry_run=dry_run, keep_status=keep_status, request=request,
                                    version=version).copy()
            finally:
                self._drain()

    def _create(self, rt: ResourceType, obj: dict, *, dry_run: bool = False, keep_status: bool = True,
                request: Request | None = None, version: str | None = None, applied: bool = False) -> Entry:
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
            raise errors.bad_request("the object provided is not a valid object: metadata must be an object")
        meta = obj.setdefault("metadata", {})
        self._check_type(rt, obj, version)
        if request is not None:
            obj = admission.decode(rt, obj, request, self._crd_of(rt), version or rt.version)
            obj["apiVersion"] = rt.api_version()
            meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = self._generate_name(rt, meta)
        problems = validate_metadata(rt, obj)
        if problems:
            raise errors.invalid(rt.group, rt.kind, meta.get("name") or meta.get("generateName") or "", problems)
        key = self._key(rt, meta.get("namespace"), meta["name"])
        if rt.namespaced:
            self._check_namespace(key[0])
        if key in self._objects[rt.key]:
            raise errors.already_exists(rt.group, rt.plural, key[1])
        if rt.key == "customresourcedefinitions.apiextensions.k8s.io":
            self._check_crd(obj, None)
        for f in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(f, None)
        if not applied:
            meta.pop("managedFields", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self._now()
        if rt.generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if not keep_status and rt.drop_status_on_create:
            obj.pop("status", None)
        apply_create_defaults(rt, obj, self._allocate)
        if self._admission:
            obj = self._admit("CREATE", rt, obj, None, key)
        if request is not None:
            admission.check(rt, obj, None, request)
            self._check_custom(rt, obj)
            if not applied:
                fieldmanager.record_update(None, obj, request.field_manager, rt.api_version(version), None,
                                           rt.has_status)
        if dry_run:
            return Entry(obj)
        entry = self._commit(rt, "ADDED", key, obj, None)
        self._after_create(rt, entry)
        return entry

    def _crd_of(self, rt: ResourceType) -> dict | None:
        if rt.crd is None:
            return None
        entry = self._objects["customresourcedefinitions.apiextensions.k8s.io"].get(("", rt.crd))
        return entry.obj if entry is not None else None

    def _check_custom(self, rt: ResourceType, obj: dict) -> None:
        """What apiextensions checks on a custom resource besides its schema: metadata.name rules."""

    def _check_type(self, rt: ResourceType, obj: dict, version: str | None = None) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version not in {rt.api_version(v) for v in rt.versions}:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({rt.api_version()})")
        if kind and kind != rt.kind:
            raise errors.bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})")
        obj["apiVersion"] = rt.api_version()
        obj["kind"] = rt.kind

    def _generate_name(self, rt: ResourceType, meta: dict) -> str:
        base = meta["generateName"][:58]
        for _ in range(8):
            name = base + "".join(secrets.choice(_GENERATE_ALPHABET) for _ in range(5))
            if self._key(rt, meta.get("namespace"), name) not in self._objects[rt.key]:
                return name
        raise errors.already_exists(rt.group, rt.plural, base)

    def _check_namespace(self, namespace: str) -> None:
        ns_type = self._types.get("namespaces")
        if ns_type is None:
            return
        ns = self._objects["namespaces"].get(("", namespace))
        if ns is None:
            raise errors.not_found("", "namespaces", namespace)
        if namespace in self._terminating:
            raise errors.ApiError(
                403, "Forbidden",
                f"unable to create new content in namespace {namespace} because it is being terminated",
                {"name": namespace, "kind": "namespaces"})

    def _check_crd(self, obj: dict, old: dict | None) -> None:
        name = (obj.get("metadata") or {}).get("name", "")
        problems = crd_problems(obj)
        if old is not None:
            for path, get in (("spec.group", lambda o: o["spec"].get("group")),
                              ("spec.names.plural", lambda o: o["spec"]["names"].get("plural")),
                              ("spec.scope", lambda o: o["spec"].get("scope"))):
                try:
                    if get(obj) != get(old):
                        problems.append((path, f'Invalid value: "{get(obj)}": field is immutable'))
                except (KeyError, TypeError, AttributeError):
                    pass
        if not problems and old is None:
            rt = from_crd(obj)
            existing = self._types.get(rt.key)
            if existing is not None and existing.crd is None:
                problems.append(("spec.names.plural", f'Invalid value: "{rt.plural}": conflicts with a built-in type'))
        if problems:
            raise errors.invalid("apiextensions.k8s.io", "CustomResourceDefinition", name, problems)

    def _after_create(self, rt: ResourceType, entry: Entry) -> None:
        if rt.key == "customresourcedefinitions.apiextensions.k8s.io":
            self._register(from_crd(entry.obj))
        elif rt.key == "namespaces" and self._default_sas and "serviceaccounts" in self._types:
            ns = entry.obj["metadata"]["name"]
            if (ns, "default") not in self._objects["serviceaccounts"]:
                self._create(self._types["serviceaccounts"], {"metadata": {"name": "default", "namespace": ns}})

    # ------------------------------------------------------------------ update / patch

    def update(self, resource: Any, obj: dict, subresource: str | None = None, *, dry_run: bool = False,
               request: Request | None = None, version: str | None = None) -> dict:
        """Replace an object (PUT). A ``metadata.resourceVersion`` in ``obj`` must be the current one
        (else ApiError 409 Conflict); without one the update is unconditional. With
        ``subresource="status"`` only the status changes; otherwise, for types with a status
        subresource, the status is kept. A no-op update changes nothing (no new resourceVersion)."""
        with self._lock:
            try:
                rt = self.resolve(resource)
                obj = _clone_in(obj)
                meta = obj.get("metadata") if isinstance(obj, dict) else None
                if not isinstance(meta, dict) or not meta.get("name"):
                    raise errors.invalid(rt.group, rt.kind, "", [("metadata.name", "Required value: name is required")])
                key = self._key(rt, meta.get("namespace"), meta["name"])
                current = self._entry_of(rt, key)
                if current is None:
                    raise errors.not_found(rt.group, rt.plural, key[1])
                return self._update(rt, key, current, obj, subresource, dry_run, request, version).copy()
            finally:
                self._drain()

    def _update(self, rt: ResourceType, key: Key, current: Entry, obj: dict, subresource: str | None,
                dry_run: bool, request: Request | None = None, version: str | None = None,
                applied: bool = False) -> Entry:
        new = self._prepare_update(rt, current.obj, obj, subresource, request, version)
        if request is not None and not applied:
            fieldmanager.record_update(current.obj, new, request.field_manager, rt.api_version(version), subresource,
                                       rt.has_status)
        elif request is None or subresource is not None:
            # in-process writers and status writes do not reset what managers own
            mf = current.obj["metadata"].get("managedFields")
            if mf is not None and request is None:
                new["metadata"]["managedFields"] = mf
        return self._finish_update(rt, key, current, new, dry_run)

    def _prepare_update(self, rt: ResourceType, current: dict, obj: dict, subresource: str | None,
                        request: Request | None = None, version: str | None = None) -> dict:
        cur_meta = current["metadata"]
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            raise errors.bad_request("the object provided is not a valid object: metadata must be an object")
        rv = meta.get("resourceVersion")
        if rv not in (None, "") and str(rv) != cur_meta["resourceVersion"]:
            raise errors.conflict(rt.group, rt.plural, cur_meta["name"])
        uid = meta.get("uid")
        if uid and uid != cur_meta["uid"]:
            raise errors.conflict(rt.group, rt.plural, cur_meta["name"],
                                  f"Precondition failed: UID in precondition: {uid}, UID in object meta: {cur_meta['uid']}")
        if meta.get("name") != cur_meta["name"] or (rt.namespaced and meta.get("namespace", cur_meta["namespace"])
                                                   != cur_meta["namespace"]):
            raise errors.bad_request("the name or namespace of the object does not match the one being updated")
        if subresource == "status":
            new = json.loads(_dumps(current))
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            return new
        self._check_type(rt, obj, version)
        if request is not None:
            obj = admission.decode(rt, obj, request, self._crd_of(rt), version or rt.version)
            obj["apiVersion"] = rt.api_version()
            meta = obj.setdefault("metadata", {})
            admission.update_defaults(rt, obj, current, request)
            if cur_meta.get("deletionTimestamp"):
                new_finalizers = set(meta.get("finalizers") or ()) - set(cur_meta.get("finalizers") or ())
                if new_finalizers:
                    raise errors.invalid(rt.group, rt.kind, cur_meta["name"], [(
                        "metadata.finalizers", "Forbidden: no new finalizers can be added if the object is being "
                                               "deleted, found new finalizers " + json.dumps(sorted(new_finalizers)))])
        new = obj
        for f in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                  "namespace"):
            if f in cur_meta:
                meta[f] = cur_meta[f]
            else:
                meta.pop(f, None)
        meta["resourceVersion"] = cur_meta["resourceVersion"]
        if self._admission:
            new = self._admit("UPDATE", rt, new, current, (cur_meta.get("namespace") or "", cur_meta["name"]))
            meta = new["metadata"]
        if rt.has_status:
            if "status" in current:
                new["status"] = current["status"]
            else:
                new.pop("status", None)
        problems = validate_metadata(rt, new)
        if problems:
            raise errors.invalid(rt.group, rt.kind, cur_meta["name"], problems)
        admission.check(rt, new, current, request)
        if rt.key == "customresourcedefinitions.apiextensions.k8s.io":
            self._check_crd(new, current)
        if rt.generation and self._spec_changed(rt, current, new):
            meta["generation"] = int(cur_meta.get("generation") or 0) + 1
        return new

    @staticmethod
    def _spec_changed(rt: ResourceType, old: dict, new: dict) -> bool:
        skip = ("metadata", "kind", "apiVersion", "status") if rt.has_status else ("metadata", "kind", "apiVersion")
        keys = (set(old) | set(new)) - set(skip)
        return any(old.get(k) != new.get(k) for k in keys)

    def _finish_update(self, rt: ResourceType, key: Key, current: Entry, new: dict, dry_run: bool) -> Entry:
        new["metadata"]["resourceVersion"] = current.obj["metadata"]["resourceVersion"]
        if new == current.obj:
            return current  # the real server does not write (nor bump the resourceVersion) on a no-op
        if dry_run:
            return Entry(new)
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            # The last finalizer is gone: the object goes away now.
            return self._remove(rt, key, current, new)
        entry = self._commit(rt, "MODIFIED", key, new, current)
        if rt.key == "customresourcedefinitions.apiextensions.k8s.io":
            self._register(from_crd(entry.obj))
        return entry

    def patch(self, resource: Any, namespace: str | None, name: str, patch: Any, patch_type: str = "merge",
              subresource: str | None = None, *, dry_run: bool = False, field_manager: str | None = None,
              request: Request | None = None, version: str | None = None) -> dict:
        """Patch an object. ``patch_type``: "merge" (RFC 7386), "json" (RFC 6902), "strategic"
        (built-in types only: custom resources answer 415 like the real server) or "apply"
        (server-side apply: creates a missing object; field ownership in managedFields, conflicts
        unless ``request.force``, fields this manager stopped applying removed). A resourceVersion
        inside the patch is a precondition."""
        with self._lock:
            try:
                rt = self.resolve(resource)
                key = self._key(rt, namespace, name)
                if request is None and field_manager:
                    request = None if PATCH_TYPES.get(patch_type) != "apply" else Request(field_manager=field_manager)
                if request is not None and field_manager:
                    request.field_manager = field_manager
                return self._patch(rt, key, patch, patch_type, subresource, dry_run, request, version).copy()
            finally:
                self._drain()

    def _patch(self, rt: ResourceType, key: Key, patch: Any, patch_type: str, subresource: str | None,
               dry_run: bool, request: Request | None, version: str | None) -> Entry:
        kind = PATCH_TYPES.get(patch_type)
        if kind is None or (kind == "strategic" and not rt.strategic):
            raise errors.unsupported_media_type(patch_type, _CUSTOM_PATCH_MEDIA if not rt.strategic
                                                else tuple(k for k in PATCH_TYPES if "/" in k))
        current = self._entry_of(rt, key)
        if kind == "apply":
            return self._apply(rt, key, current, patch, subresource, dry_run, request, version)
        if current is None:
            raise errors.not_found(rt.group, rt.plural, key[1])
        try:
            if kind == "merge":
                if not isinstance(patch, dict):
                    raise patches.PatchError("a merge patch must be a JSON object", malformed=True)
                patched = patches.merge_patch(current.obj, patch)
            elif kind == "json":
                patched = patches.json_patch(current.obj, patch)
            else:
                patched = patches.strategic_merge_patch(current.obj, patch, rt.kind)
        except patches.PatchError as exc:
            if exc.malformed:
                raise errors.bad_request(exc.message) from None
            raise errors.ApiError(422, "Invalid", exc.message, {}) from None
        if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
            raise errors.ApiError(422, "Invalid", "the patched object has no metadata", {})
        if request is not None and patched.get("metadata", {}).get("name") != key[1]:
            raise errors.bad_request(f"the name of the object ({patched['metadata'].get('name')}) does not match "
                                     f"the name on the URL ({key[1]})")
        return self._update(rt, key, current, patched, subresource, dry_run, request, version)

    def _apply(self, rt: ResourceType, key: Key, current: Entry | None, config: Any, subresource: str | None,
               dry_run: bool, request: Request | None, version: str | None) -> Entry:
        if request is None or not request.field_manager:
            raise errors.bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                                     "is required for apply patch")
        if not isinstance(config, dict):
            raise errors.bad_request("the applied configuration must be an object")
        config = _clone_in(config)
        self._check_type(rt, config, version)
        if rt.crd is None or self._crd_of(rt) is not None:
            config = admission.decode(rt, config, request, self._crd_of(rt), version or rt.version)
        config.pop("apiVersion", None)
        config.pop("kind", None)
        meta = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
        if meta.get("name") not in (None, key[1]):
            raise errors.bad_request(f"the name of the object ({meta.get('name')}) does not match the name on the "
                                     f"URL ({key[1]})")
        api_version = rt.api_version(version)
        if current is None:
            if subresource is not None:
                raise errors.not_found(rt.group, rt.plural, key[1])
            obj = fieldmanager.apply(None, config, request.field_manager, api_version, None, rt.has_status,
                                     force=True)
            obj.setdefault("metadata", {})["name"] = key[1]
            if rt.namespaced:
                obj["metadata"]["namespace"] = key[0]
            obj["apiVersion"], obj["kind"] = api_version, rt.kind
            return self._create(rt, obj, dry_run=dry_run, keep_status=False, request=request, version=version,
                                applied=True)
        rv = meta.get("resourceVersion")
        if rv not in (None, "") and str(rv) != current.obj["metadata"]["resourceVersion"]:
            raise errors.conflict(rt.group, rt.plural, key[1])
        merged = fieldmanager.apply(current.obj, config, request.field_manager, api_version, subresource,
                                    rt.has_status, force=request.force)
        merged["apiVersion"], merged["kind"] = api_version, rt.kind
        merged["metadata"]["resourceVersion"] = current.obj["metadata"]["resourceVersion"]
        return self._update(rt, key, current, merged, subresource, dry_run, request, version, applied=True)

    # ------------------------------------------------------------------ subresources

    def bind(self, namespace: str, name: str, node_name: str, *, dry_run: bool = False) -> dict:
        """The pods/binding subresource: set spec.nodeName (once) and the PodScheduled condition."""
        with self._lock:
            try:
                rt = self.resolve("pods")
                key = (namespace, name)
                current = self._entry_of(rt, key)
                if current is None:
                    raise errors.not_found("", "pods", name)
                assigned = (current.obj.get("spec") or {}).get("nodeName")
                if assigned:
                    raise errors.ApiError(409, "Conflict", f'Operation cannot be fulfilled on pods/binding "{name}": '
                                          f'pod {name} is already assigned to node "{assigned}"',
                                          {"name": name, "kind": "pods/binding"})
                new = current.copy()
                new.setdefault("spec", {})["nodeName"] = node_name
                conditions = [c for c in (new.setdefault("status", {}).get("conditions") or ())
                              if c.get("type") != "PodScheduled"]
                conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                   "lastTransitionTime": self._now()})
                new["status"]["conditions"] = conditions
                return self._finish_update(rt, key, current, new, dry_run).copy()
            finally:
                self._drain()

    def get_scale(self, resource: Any, namespace: str | None, name: str) -> dict:
        with self._lock:
            rt = self.resolve(resource)
            entry = self._entry_of(rt, self._key(rt, namespace, name))
            if entry is None or "scale" not in rt.subresources:
                raise errors.not_found(rt.group, rt.plural, name)
            return self._scale_of(entry.obj)

    @staticmethod
    def _scale_of(obj: dict) -> dict:
        meta = obj["metadata"]
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        try:
            selector = str(selectors.from_label_selector(spec.get("selector")))
        except selectors.SelectorError:
            selector = ""
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in meta},
                "spec": {"replicas": spec.get("replicas", 0)},
                "status": {"replicas": status.get("replicas", 0), "selector": selector}}

    def update_scale(self, resource: Any, namespace: str | None, name: str, scale: dict | None = None, *,
                     patch: Any = None, patch_type: str = "merge", dry_run: bool = False) -> dict:
        """PUT (``scale``) or PATCH (``patch``) the scale subresource; returns the new Scale."""
        with self._lock:
            try:
                rt = self.resolve(resource)
                key = self._key(rt, namespace, name)
                current = self._entry_of(rt, key)
                if current is None or "scale" not in rt.subresources:
                    raise errors.not_found(rt.group, rt.plural, name)
                old_scale = self._scale_of(current.obj)
                if patch is not None:
                    kind = PATCH_TYPES.get(patch_type)
                    try:
                        if kind == "json":
                            scale = patches.json_patch(old_scale, patch)
                        elif kind in ("merge", "strategic", "apply") and isinstance(patch, dict):
                            scale = patches.merge_patch(old_scale, patch)
                        else:
                            raise errors.unsupported_media_type(patch_type, _CUSTOM_PATCH_MEDIA)
                    except patches.PatchError as exc:
                        raise errors.ApiError(422, "Invalid", exc.message) from None
                scale = _clone_in(scale or {})
                replicas = (scale.get("spec") or {}).get("replicas")
                if not isinstance(replicas, int) or replicas < 0:
                    raise errors.invalid("autoscaling", "Scale", name, [
                        ("spec.replicas", f"Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0")])
                new = current.copy()
                new["metadata"]["resourceVersion"] = (scale.get("metadata") or {}).get("resourceVersion") or \
                    current.obj["metadata"]["resourceVersion"]
                new.setdefault("spec", {})["replicas"] = replicas
                entry = self._update(rt, key, current, new, None, dry_run)
                return self._scale_of(entry.obj)
            finally:
                self._drain()

    # ------------------------------------------------------------------ delete

    def delete(self, resource: Any, namespace: str | None, name: str, propagation: str | None = "Background", *,
               preconditions: dict | None = None, dry_run: bool = False) -> dict:
        """Delete and return the object's last state. Dependents (objects whose ownerReferences name
        its uid) are deleted after it ("Background"), before it ("Foreground"), or have that owner
        reference removed ("Orphan"). An object with finalizers only gets a deletionTimestamp; it
        goes when an update removes the last finalizer. A namespace takes everything in it along."""
        with self._lock:
            try:
                rt = self.resolve(resource)
                key = self._key(rt, namespace, name)
                entry = self._entry_of(rt, key)
                if entry is None:
                    raise errors.not_found(rt.group, rt.plural, name)
                self._check_preconditions(rt, entry.obj, preconditions)
                if dry_run:
                    return entry.copy()
                if propagation not in (None, "", "Background", "Foreground", "Orphan"):
                    raise errors.bad_request(f'Unsupported value: "{propagation}": supported values: '
                                             '"Foreground", "Background", "Orphan"')
                return self._delete(rt, key, entry, propagation or "Background").copy()
            finally:
                self._drain()

    def _check_preconditions(self, rt: ResourceType, obj: dict, pre: dict | None) -> None:
        if not pre:
            return
        meta = obj["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise errors.conflict(rt.group, rt.plural, meta["name"],
                                  f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta['uid']}")
        if pre.get("resourceVersion") and str(pre["resourceVersion"]) != meta["resourceVersion"]:
            raise errors.conflict(rt.group, rt.plural, meta["name"],
                                  f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                                  f"ResourceVersion in object meta: {meta['resourceVersion']}")

    def delete_collection(self, resource: Any, namespace: str | None = None, label_selector: Any = None,
                          field_selector: Any = None, propagation: str | None = "Background", *,
                          dry_run: bool = False) -> list[dict]:
        with self._lock:
            try:
                rt = self.resolve(resource)
                entries, _, _, _ = self.list_entries(rt, namespace, label_selector, field_selector)
                out = []
                for e in entries:
                    meta = e.obj["metadata"]
                    key = self._key(rt, meta.get("namespace"), meta["name"])
                    current = self._entry_of(rt, key)
                    if current is not None:
                        out.append(current.copy() if dry_run else self._delete(rt, key, current,
                                                                                propagation or "Background").copy())
                return out
            finally:
                self._drain()

    def _delete(self, rt: ResourceType, key: Key, entry: Entry, propagation: str) -> Entry:
        if rt.key == "namespaces":
            return self._delete_namespace(key[1], entry)
        uid = entry.obj["metadata"]["uid"]
        if propagation == "Orphan":
            self._orphan(uid)
        elif propagation == "Foreground" and uid not in self._foreground:
            # Owner-reference cycles exist in the wild; the guard keeps them from recursing forever.
            self._foreground.add(uid)
            try:
                self._delete_dependents(uid, "Foreground")
            finally:
                self._foreground.discard(uid)
            current = self._entry_of(rt, key)
            if current is None:  # a cycle deleted it already
                return entry
            entry = current
        meta = entry.obj["metadata"]
        if meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return entry
            new = entry.copy()
            new["metadata"]["deletionTimestamp"] = self._now()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            return self._commit(rt, "MODIFIED", key, new, entry)
        final = entry.copy()
        return self._remove(rt, key, entry, final, propagation)

    def _remove(self, rt: ResourceType, key: Key, current: Entry, final: dict, propagation: str = "Background") -> Entry:
        if rt.key == "customresourcedefinitions.apiextensions.k8s.io":
            self._drop_custom_type(current.obj)
        entry = self._commit(rt, "DELETED", key, final, current)
        if propagation != "Orphan":
            self._delete_dependents(final["metadata"]["uid"], propagation)
        if rt.namespaced and key[0] in self._terminating:
            self._finish_namespace(key[0])
        return entry

    def _delete_dependents(self, uid: str, propagation: str) -> None:
        for type_key, key in sorted(self._owners.get(uid, ())):
            rt = self._types.get(type_key)
            dep = self._entry_of(rt, key) if rt is not None else None
            if dep is not None:
                self._delete(rt, key, dep, propagation)

    def _orphan(self, uid: str) -> None:
        for type_key, key in sorted(self._owners.get(uid, ())):
            rt = self._types[type_key]
            dep = self._entry_of(rt, key)
            if dep is None:
                continue
            new = dep.copy()
            refs = [r for r in new["metadata"].get("ownerReferences") or () if r.get("uid") != uid]
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences", None)
            self._commit(rt, "MODIFIED", key, new, dep)

    def _drop_custom_type(self, crd: dict) -> None:
        try:
            rt = self._types.get(from_crd(crd).key)
        except (KeyError, StopIteration, TypeError):
            return
        if rt is None or rt.crd != crd["metadata"]["name"]:
            return
        for key in list(self._keys[rt.key]):
            current = self._objects[rt.key][key]
            self._commit(rt, "DELETED", key, current.copy(), current)
        del self._types[rt.key], self._objects[rt.key], self._keys[rt.key], self._changed[rt.key]
        self._snap.pop(rt.key, None)
        self._cond.notify_all()

    def _delete_namespace(self, name: str, entry: Entry) -> Entry:
        rt = self._types["namespaces"]
        if name not in self._terminating:
            self._terminating.add(name)
            new = entry.copy()
            new["metadata"]["deletionTimestamp"] = self._now()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["status"] = {"phase": "Terminating", "conditions": [
                {"type": "NamespaceDeletionContentFailure", "status": "False", "reason": "ContentDeleted",
                 "message": "All content successfully deleted, may be waiting on finalization",
                 "lastTransitionTime": self._now()}]}
            entry = self._commit(rt, "MODIFIED", ("", name), new, entry)
            if self.namespace_cleanup_delay > 0:
                self._schedule_namespace_cleanup(name)
                return entry
        elif self.namespace_cleanup_delay > 0:
            return entry
        return self._clean_namespace(name, entry)

    def _schedule_namespace_cleanup(self, name: str) -> None:
        def run() -> None:
            with self._lock:
                try:
                    current = self._objects["namespaces"].get(("", name))
                    if current is not None and name in self._terminating and not self.closed:
                        self._clean_namespace(name, current)
                finally:
                    self._drain()
        timer = threading.Timer(self.namespace_cleanup_delay, run)
        timer.daemon = True
        timer.start()

    def _clean_namespace(self, name: str, entry: Entry) -> Entry:
        """The namespace controller's work: delete everything in the namespace; it goes when empty."""
        for t in list(self._types.values()):
            if not t.namespaced or t.key not in self._objects:
                continue
            keys = self._keys[t.key]
            lo = bisect.bisect_left(keys, (name, ""))
            hi = bisect.bisect_left(keys, (name + "\x00", ""))
            for key in keys[lo:hi]:
                dep = self._entry_of(t, key)
                if dep is not None:
                    self._delete(t, key, dep, "Background")
        return self._finish_namespace(name) or self._objects["namespaces"].get(("", name)) or entry

    def _finish_namespace(self, name: str) -> Entry | None:
        for t in self._types.values():
            if t.namespaced and t.key in self._keys:
                keys = self._keys[t.key]
                i = bisect.bisect_left(keys, (name, ""))
                if i < len(keys) and keys[i][0] == name:
                    return None
        rt = self._types["namespaces"]
        current = self._objects["namespaces"].get(("", name))
        self._terminating.discard(name)
        if current is None:
            return None
        final = current.copy()
        final["spec"] = {}
        return self._commit(rt, "DELETED", ("", name), final, current)

    # ------------------------------------------------------------------ events (core/v1 Event)

    def add_event(self, namespace: str, involved_object: dict, reason: str, message: str, type: str = "Normal",
                  component: str = "sandbox") -> dict:
        """Record a core/v1 Event about ``involved_object`` (any stored object dict). Repeats of the
        same reason and message about the same object bump ``count`` instead of adding events."""
        meta = involved_object.get("metadata") or {}
        ref = {"kind": involved_object.get("kind"), "namespace": meta.get("namespace") or namespace,
               "name": meta.get("name"), "uid": meta.get("uid"), "apiVersion": involved_object.get("apiVersion"),
               "resourceVersion": meta.get("resourceVersion")}
        ref = {k: v for k, v in ref.items() if v}
        ident = (namespace, ref.get("uid") or ref.get("name"), ref.get("kind"), reason, message, type, component)
        with self._lock:
            try:
                rt = self._types["events"]
                now = self._now()
                key = self._event_index.get(ident)
                current = self._entry_of(rt, key) if key is not None else None
                if current is not None:
                    new = current.copy()
                    new["count"] = int(new.get("count") or 1) + 1
                    new["lastTimestamp"] = now
                    return self._commit(rt, "MODIFIED", key, new, current).copy()
                stamp = time.time_ns()
                while (namespace, f"{ref.get('name') or 'event'}.{stamp:x}") in self._objects["events"]:
                    stamp += 1
                obj = {"metadata": {"name": f"{ref.get('name') or 'event'}.{stamp:x}", "namespace": namespace},
                       "involvedObject": ref, "reason": reason, "message": message, "type": type, "count": 1,
                       "firstTimestamp": now, "lastTimestamp": now, "source": {"component": component},
                       "reportingComponent": component, "reportingInstance": ""}
                entry = self._create(rt, obj)
                if len(self._event_index) > 10000:
                    self._event_index.clear()
                self._event_index[ident] = (namespace, entry.obj["metadata"]["name"])
                return entry.copy()
            finally:
                self._drain()

    # ------------------------------------------------------------------ watch

    def watcher(self, resource: Any, namespace: str | None = None, resource_version: str | None = None,
                label_selector: Any = None, field_selector: Any = None) -> "Watcher":
        """A watch from ``resource_version`` (None or "0": synthetic ADDED events for what exists now,
        then changes). Raises ApiError 410 when that version is older than the kept history."""
        with self._lock:
            rt = self.resolve(resource)
            match = Matcher(rt, namespace if rt.namespaced else None, label_selector, field_selector)
            initial: list[tuple[str, Entry]] = []
            if resource_version in (None, "", "0"):
                entries, rv, _, _ = self.list_entries(rt, namespace, match.labels, match.fields)
                initial = [("ADDED", e) for e in entries]
            else:
                try:
                    rv = int(resource_version)
                except ValueError:
                    raise errors.bad_request(f'invalid resource version "{resource_version}"') from None
                if rv < self._floor:
                    raise errors.gone(f"too old resource version: {rv} ({self._floor + 1})")
            return Watcher(self, rt, match, rv, initial)

    def _events_after(self, rv: int) -> list[Event]:
        if rv < self._floor:
            raise errors.gone(f"too old resource version: {rv} ({self._floor + 1})")
        i = bisect.bisect_right(self._events, rv, key=lambda e: e.rv)
        return self._events[i:]

    def wake(self) -> None:
        """Wake waiting watchers so they notice a server that is shutting down."""
        with self._lock:
            self._cond.notify_all()

    def close(self) -> None:
        """Wake every watcher and end its stream (server shutdown)."""
        with self._lock:
            self.closed = True
            self._cond.notify_all()

    # ------------------------------------------------------------------ persistence

    def to_dict(self) -> dict:
        """Everything needed to resume: the resource version and every object (CRDs first)."""
        with self._lock:
            order = sorted(self._types.values(), key=lambda t: (t.key != "namespaces",
                           t.key != "customresourcedefinitions.apiextensions.k8s.io"))
            objects = [{"resource": t.key, "object": e.copy()}
                       for t in order for e in (self._objects[t.key][k] for k in self._keys[t.key])]
            return {"version": 1, "resourceVersion": self._rv, "objects": objects}

    @classmethod
    def from_dict(cls, data: dict, **kwargs: Any) -> "KubeStore":
        """A store holding what ``to_dict`` saved. Watches from older versions get 410 Gone."""
        store = cls(**kwargs)
        with store._lock:
            for rt in BUILTIN:
                store._register(rt)
            for item in data.get("objects") or ():
                rt = store._types.get(item["resource"])
                if rt is None:
                    log.warning("dropping stored %s: its type is not served", item["resource"])
                    continue
                obj = item["object"]
                meta = obj["metadata"]
                key = store._key(rt, meta.get("namespace"), meta["name"])
                entry = Entry(obj)
                store._objects[rt.key][key] = entry
                bisect.insort(store._keys[rt.key], key)
                store._index_owners(rt, key, obj)
                if rt.key == "customresourcedefinitions.apiextensions.k8s.io":
                    store._register(from_crd(obj))
                if rt.key == "namespaces" and meta.get("deletionTimestamp"):
                    store._terminating.add(meta["name"])
                    if store.namespace_cleanup_delay > 0:
                        store._schedule_namespace_cleanup(meta["name"])
            store._port_counter = itertools.count(30000 + len(store._objects["services"]) * 4)
            store._rv = int(data.get("resourceVersion") or 0)
            store._floor = store._rv
            for k in store._changed:
                store._changed[k] = store._rv
        return store


class Watcher:
    """One watch stream: ``next(timeout)`` returns the next events as (type, Entry) pairs, already
    filtered and translated (an object that stops matching the selectors arrives as DELETED, one
    that starts matching as ADDED). ``ended`` turns true when the store closes or the type goes."""

    def __init__(self, store: KubeStore, rt: ResourceType, match: Matcher, rv: int,
                 initial: list[tuple[str, Entry]]):
        self.store = store
        self.rt = rt
        self.match = match
        self.rv = rv
        self._initial = initial
        self.ended = False

    def next(self, timeout: float) -> list[tuple[str, Entry]]:
        """Events, or [] after ``timeout`` seconds without any. Raises ApiError 410 if the history
        moved past this watch."""
        if self._initial:
            out, self._initial = self._initial, []
            return out
        store = self.store
        with store._cond:
            events = store._events_after(self.rv)
            if not events and not self._gone():
                store._cond.wait(timeout)
                events = store._events_after(self.rv)
            if self._gone():
                self.ended = True
            if events:
                self.rv = events[-1].rv
        return self._translate(events)

    def _gone(self) -> bool:
        return self.store.closed or self.rt.key not in self.store._types

    def _translate(self, events: Iterable[Event]) -> list[tuple[str, Entry]]:
        out = []
        key_of = self.rt.key
        match = self.match
        for ev in events:
            if ev.rt.key != key_of:
                continue
            now = match(ev.key, ev.new.obj)
            if ev.type == "MODIFIED":
                before = match(ev.key, ev.old.obj) if ev.old is not None else False
                if now and before:
                    out.append(("MODIFIED", ev.new))
                elif now:
                    out.append(("ADDED", ev.new))
                elif before:
                    out.append(("DELETED", ev.new))
            elif now:
                out.append((ev.type, ev.new))
        return out
