"""One read of the cluster per command: ``ClusterView``.

Every workflow that looks at the cluster (verify, explain, capacity, routing, snat, doctor, the policy
workflows) reads it through a view, never through the Kubernetes adapter directly. A view lists each
collection the first time a workflow asks for it and never again in the same command (a namespace's
objects are answered from an all-namespace list already made), so commands that combine workflows -
`doctor` runs verify, routing and SNAT over one view - list each collection once. Matching runs once
per view (per per-ENI limit).

Reading is lenient: an object the API server accepted but sgpctl cannot interpret (a
SecurityGroupPolicy with ``securityGroups: 5``, a VpcENI whose status is not an object) is skipped and
named in ``problems`` (and ``notes``), and the command goes on; ``doctor`` and ``verify`` turn
``problems`` into a failed check.

The same class holds an offline snapshot (``ClusterView.of_snapshot``): ``policy explain`` and
``capacity`` run unchanged on either. Warning events are listed with
``fieldSelector=type=Warning,involvedObject.kind=Pod``: a cluster's other events are never read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sgpctl.core import matching
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.core.snapshot import Snapshot
from sgpctl.core.verify import vpceni_eni_id
from sgpctl.kube import resources as r
from sgpctl.kube.resources import Resource
from sgpctl.workflows.once import Once

#: the field selector of the only events sgpctl reads: why a Pod is stuck
POD_WARNINGS = "type=Warning,involvedObject.kind=Pod"

_SCOPE: Any = object()  # "the view's namespace"


def _meta(obj: dict) -> dict:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def object_key(obj: dict) -> tuple[str, str]:
    """(namespace, name) of a namespaced object; a missing namespace is ``default``, as the API server
    fills it in."""
    meta = _meta(obj)
    return meta.get("namespace") or "default", meta.get("name") or ""


class ClusterView:
    """The cluster as one command sees it. ``kube`` is a ``workflows.clients.KubeReader`` (None for a
    snapshot); ``namespace`` the scope of namespaced collections (None: all); ``pod_selector`` a label
    selector that narrows the Pods listed (``verify pods -l``)."""

    def __init__(self, kube: Any = None, *, namespace: str | None = None, pod_selector: str | None = None,
                 source: str = "", default_namespace: str | None = None, progress: Callable[[str], None] | None = None):
        self.kube = kube
        #: told what is being read ("reading pods"): a terminal shows it while a long read runs
        self.progress = progress or (lambda what: None)
        self.namespace = namespace
        self.pod_selector = pod_selector
        #: "cluster <server>" or "snapshot <files>"
        self.source = source or (f"cluster {kube.server}" if kube is not None else "")
        #: the namespace a command uses when neither -n nor -A is given (kubectl's context namespace)
        self.default_namespace = default_namespace
        #: security groups an ENI may carry: the matching warns about unions above it (``doctor``
        #: sets the cloud's answer before anything matches)
        self.sg_limit = matching.DEFAULT_SG_LIMIT
        #: what the user should know about the input (unknown kinds, CRD not served, objects skipped)
        self.notes: list[str] = []
        #: objects that could not be interpreted (each also a note)
        self.problems: list[str] = []
        self._lists: dict[tuple, list[dict]] = {}
        #: what was read or derived, by ``_once`` key: doctor reads ahead on several threads, and a
        #: second thread that asks waits for the first one's answer instead of reading again
        self._memo = Once(keep_failures=False)
        #: lists started in the background (``prefetch``), taken over by the first ``list`` of the same key
        self._pending: dict[tuple, Any] = {}
        #: a snapshot's recorded cloud answers (a capture's), which an offline command may replay
        self.recorded_calls: list[dict] = []

    @classmethod
    def of_snapshot(cls, snap: Snapshot, source: str) -> ClusterView:
        view = cls(None, source=source)
        view.notes.extend(snap.problems)
        for resource, items in ((r.PODS, snap.pods), (r.SERVICEACCOUNTS, snap.serviceaccounts), (r.NODES, snap.nodes),
                                (r.REPLICASETS, snap.replicasets), (r.DEPLOYMENTS, snap.deployments)):
            view._lists[(resource.plural, resource.group, None, None, None)] = list(items)
        view._memo.values[("policies", None)] = list(snap.policies)
        view._memo.values["vpcenis"] = list(snap.vpcenis)
        view.recorded_calls = list(snap.cloud_calls)
        return view

    # -- memo ------------------------------------------------------------------------------------
    def _once(self, key: Any, fn: Callable[[], Any]) -> Any:
        """``fn()``'s answer, remembered; made once even when several threads ask at once (a failure
        reaches those waiting, and the next call tries again)."""
        return self._memo.get(key, fn)

    def _ns(self, namespace: Any) -> str | None:
        return self.namespace if namespace is _SCOPE else namespace

    # -- generic reads ---------------------------------------------------------------------------
    def serves(self, group: str, kind: str) -> bool:
        if self.kube is None:
            return False
        return self._once(("serves", group, kind), lambda: self.kube.serves(group, kind))

    def resource(self, group: str, kind: str) -> Resource:
        return self.kube.resource(group, kind)

    def _key(self, resource: Resource, namespace: Any, label_selector: str | None, field_selector: str | None) -> tuple:
        ns = self._ns(namespace) if resource.namespaced else None
        return (resource.plural, resource.group, ns, label_selector, field_selector)

    def list(self, resource: Resource, namespace: Any = _SCOPE, *, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        """The objects of a collection (namespace: the view's scope unless given; None for all),
        listed once. A namespace already covered by an all-namespace list is answered from it."""
        key = self._key(resource, namespace, label_selector, field_selector)
        if key in self._lists:
            return self._lists[key]
        return self._once(("list", key), lambda: self._list(key, resource, label_selector, field_selector))

    def _list(self, key: tuple, resource: Resource, label_selector: str | None, field_selector: str | None) -> list[dict]:
        ns = key[2]
        wider = (resource.plural, resource.group, None, label_selector, field_selector)
        if key in self._pending or (self.kube is not None and not (ns is not None and wider in self._lists)):
            self.progress(f"reading {resource.plural}" + (f" in {ns}" if ns else ""))
        if key in self._pending:
            # A prefetch that failed is dropped, so the next read lists again (a brief error must not
            # fail every later check); threads asking meanwhile wait in _once for this one's answer.
            try:
                items = self._pending[key].result()
            except BaseException:
                self._pending.pop(key, None)
                raise
        elif ns is not None and wider in self._lists:
            items = [o for o in self._lists[wider] if object_key(o)[0] == ns]
        elif self.kube is None:
            items = []
        else:
            items = self.kube.list(resource, ns, label_selector=label_selector, field_selector=field_selector)
        self._lists[key] = items
        return items

    def prefetch(self, *collections: str) -> None:
        """Start listing these collections (names of the properties below: ``pods``,
        ``serviceaccounts``, ``replicasets``, ``nodes``, ``warning_events``) in the background, each
        once: on a real cluster every list is a round trip per page, and none waits for another."""
        if self.kube is None:
            return
        from concurrent.futures import ThreadPoolExecutor

        specs = {"pods": (r.PODS, _SCOPE, self.pod_selector, None), "serviceaccounts": (r.SERVICEACCOUNTS, _SCOPE, None, None),
                 "replicasets": (r.REPLICASETS, _SCOPE, None, None), "nodes": (r.NODES, None, None, None),
                 "warning_events": (r.EVENTS, _SCOPE, None, POD_WARNINGS)}
        wanted = []
        for name in collections:
            resource, namespace, label_selector, field_selector = specs[name]
            key = self._key(resource, namespace, label_selector, field_selector)
            if key not in self._lists and key not in self._pending:
                wanted.append((key, resource))
        if not wanted:
            return
        pool = ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="sgpctl-list")
        for key, resource in wanted:
            self._pending[key] = pool.submit(self.kube.list, resource, key[2], label_selector=key[3], field_selector=key[4])
        pool.shutdown(wait=False)

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> dict | None:
        """One object: from a list already made when there is one, else one GET (remembered)."""
        ns = namespace if resource.namespaced else None
        for key in ((resource.plural, resource.group, ns, None, None), (resource.plural, resource.group, None, None, None)):
            if key in self._lists:
                return next((o for o in self._lists[key] if _meta(o).get("name") == name
                             and (ns is None or object_key(o)[0] == ns)), None)
        if self.kube is None:
            return None
        return self._once(("get", resource.plural, resource.group, ns, name), lambda: self.kube.get(resource, name, ns))

    def version(self) -> dict:
        """The API server's version (``GET /version``), read once; empty for a snapshot."""
        if self.kube is None:
            return {}
        return self._once("version", self.kube.version)

    def forget(self) -> None:
        """Drop what was read (after the command changed the cluster)."""
        self._lists.clear()
        self._memo.clear()
        self._pending.clear()

    # -- the collections workflows use -----------------------------------------------------------
    @property
    def pods(self) -> list[dict]:
        return self.list(r.PODS, label_selector=self.pod_selector)

    @property
    def serviceaccounts(self) -> list[dict]:
        return self.list(r.SERVICEACCOUNTS)

    @property
    def replicasets(self) -> list[dict]:
        return self.list(r.REPLICASETS)

    @property
    def nodes(self) -> list[dict]:
        return self.list(r.NODES)

    @property
    def warning_events(self) -> list[dict]:
        return self.list(r.EVENTS, field_selector=POD_WARNINGS)

    @property
    def serves_policies(self) -> bool:
        return self.kube is None or self.serves(r.SGP_GROUP, r.SGP_KIND)

    def require_policies(self) -> Resource:
        """The SecurityGroupPolicy resource, or a refusal (exit 1: the cluster's state, not bad input)
        when the add-on's CRD is not served."""
        if not self.serves(r.SGP_GROUP, r.SGP_KIND):
            from sgpctl.errors import RefusedError

            raise RefusedError("the cluster does not serve SecurityGroupPolicy: the SecurityGroupPolicy add-on is not installed",
                               hint="run `sgpctl addon install` (or `sgpctl setup`) first")
        return self.resource(r.SGP_GROUP, r.SGP_KIND)

    @property
    def policies(self) -> list[SecurityGroupPolicy]:
        return self.policies_in(_SCOPE)

    def policies_in(self, namespace: Any = _SCOPE) -> list[SecurityGroupPolicy]:
        """The SecurityGroupPolicies of a namespace (the view's scope unless given), those that can be read."""
        ns = self._ns(namespace)

        def read() -> list[SecurityGroupPolicy]:
            wider = ("policies", None)
            if ns is not None and wider in self._memo.values:
                return [p for p in self._memo.values[wider] if p.namespace == ns]
            if not self.serves(r.SGP_GROUP, r.SGP_KIND):
                self._note_once("the cluster does not serve SecurityGroupPolicy (the add-on is not installed): no policies")
                return []
            out = []
            for obj in self.list(self.resource(r.SGP_GROUP, r.SGP_KIND), ns):
                try:
                    out.append(SecurityGroupPolicy.from_object(obj))
                except Exception as exc:  # noqa: BLE001 - one object the server accepted must not stop the command
                    ns_, name = object_key(obj)
                    self._problem(f"SecurityGroupPolicy {ns_}/{name} cannot be read ({type(exc).__name__}: {exc}): skipped")
            return out

        return self._once(("policies", ns), read)

    @property
    def vpcenis(self) -> list[dict]:
        """Every VpcENI (cluster-wide: the seed lists them without -n); none when eniipamd's CRD is
        not served."""
        def read() -> list[dict]:
            if not self.serves(r.VPCENI_GROUP, r.VPCENI_KIND):
                return []
            return self.list(self.resource(r.VPCENI_GROUP, r.VPCENI_KIND), None)

        return self._once("vpcenis", read)

    # -- derived, once per view ------------------------------------------------------------------
    def match(self, sg_limit: int | None = None) -> matching.MatchResult:
        """Every Pod of the view against its namespace's policies (the one matching of the command;
        ``sg_limit`` defaults to the view's)."""
        sg_limit = self.sg_limit if sg_limit is None else sg_limit
        return self._once(("match", sg_limit), lambda: matching.match(
            self.pods, self.policies, self.serviceaccounts, sg_limit=sg_limit, replicasets=self.replicasets))

    def pods_by_key(self) -> dict[tuple[str, str], dict]:
        return self._once("pods-by-key", lambda: {object_key(p): p for p in self.pods})

    def vpcenis_by_pod(self) -> dict[tuple[str, str], list[dict]]:
        """The VpcENIs labelled for each Pod (``tke.cloud.tencent.com/pod-namespace``/``pod-name``),
        oldest first."""
        from sgpctl.core.annotations import VPCENI_LABEL_POD_NAME, VPCENI_LABEL_POD_NAMESPACE

        def build() -> dict[tuple[str, str], list[dict]]:
            index: dict[tuple[str, str], list[dict]] = {}
            for o in self.readable_vpcenis(self.vpcenis):
                labels = _meta(o).get("labels") or {}
                key = (labels.get(VPCENI_LABEL_POD_NAMESPACE), labels.get(VPCENI_LABEL_POD_NAME))
                if key[0] and key[1]:
                    index.setdefault(key, []).append(o)
            for lst in index.values():
                lst.sort(key=lambda o: (str(_meta(o).get("creationTimestamp") or ""), str(_meta(o).get("name") or "")))
            return index

        return self._once("vpcenis-by-pod", build)

    def readable_vpcenis(self, items: list[dict]) -> list[dict]:
        """The VpcENIs of ``items`` sgpctl can interpret; each other one is named in ``problems``
        (a status, ENI or label set that is not an object, an ENI id that is not a string)."""
        out = []
        for o in items:
            try:
                if not isinstance(_meta(o).get("labels") or {}, dict):
                    raise TypeError("metadata.labels is not an object")
                eni_id = vpceni_eni_id(o)
                if eni_id is not None and not isinstance(eni_id, str):
                    raise TypeError(f"status.eni.eniID is {type(eni_id).__name__}, not a string")
                str(_meta(o).get("creationTimestamp") or "")
            except Exception as exc:  # noqa: BLE001 - skip what cannot be read, name it, go on
                self._problem(f"VpcENI {_meta(o).get('name') or '(unnamed)'} cannot be read "
                              f"({type(exc).__name__}: {exc}): skipped")
                continue
            out.append(o)
        return out

    def warnings_by_pod(self) -> dict[tuple[str, str], list[dict]]:
        """Each Pod's Warning events, oldest first."""
        def build() -> dict[tuple[str, str], list[dict]]:
            out: dict[tuple[str, str], list[dict]] = {}
            for e in self.warning_events:
                obj = e.get("involvedObject") or {}
                # The API server honours the field selector; a snapshot or an older server may not.
                if obj.get("kind") != "Pod" or e.get("type") != "Warning":
                    continue
                key = (obj.get("namespace") or _meta(e).get("namespace") or "default", obj.get("name"))
                out.setdefault(key, []).append(e)
            for lst in out.values():
                lst.sort(key=event_time)
            return out

        return self._once("warnings-by-pod", build)

    def latest_warning(self, key: tuple[str, str]) -> str | None:
        """Why a Pod is stuck: its latest Warning event, as ``reason: message``."""
        events = self.warnings_by_pod().get(key)
        if not events:
            return None
        e = events[-1]
        return f"{e.get('reason')}: {e.get('message')}"

    # -- problems --------------------------------------------------------------------------------
    def _problem(self, text: str) -> None:
        self.problems.append(text)
        self.notes.append(text)

    def _note_once(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def event_time(e: dict) -> str:
    return str(e.get("lastTimestamp") or e.get("eventTime") or _meta(e).get("creationTimestamp") or "")
