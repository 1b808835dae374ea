"""An offline cluster snapshot: the decoded output of
``kubectl get pods,serviceaccounts,nodes,securitygrouppolicies -A -o yaml`` (and friends).

Reading the file is the caller's job (core does no I/O): :func:`snapshot_documents` decodes its text
through the bounded loader, :func:`load_snapshot` sorts the objects by kind. Input
may be ``kind: List`` documents, typed lists as the API returns them (``PodList`` whose items
carry no ``kind``), single objects, or any mix over several files. Anything not understood is
kept in ``other`` and described in ``problems``; loading never stops at a bad item.

A capture (``sgpctl capture``, ``core.capture``) is read as its Kubernetes objects; the kinds it holds
that a snapshot does not use go to ``other`` without a problem line, and its recorded cloud answers to
``cloud_calls`` (``capacity`` replays them for the quotas).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sgpctl.core import capture

if TYPE_CHECKING:
    from sgpctl.core.policy import SecurityGroupPolicy

SGP_GROUP = "vpcresources.tke.cloud.tencent.com"

_BUCKETS = {
    "pod": "pods",
    "serviceaccount": "serviceaccounts",
    "node": "nodes",
    "replicaset": "replicasets",
    "deployment": "deployments",
    # TKE spells the kind VpcENI; accept any case.
    "vpceni": "vpcenis",
}


@dataclass
class Snapshot:
    pods: list[dict] = field(default_factory=list)
    serviceaccounts: list[dict] = field(default_factory=list)
    nodes: list[dict] = field(default_factory=list)
    policies: list[SecurityGroupPolicy] = field(default_factory=list)
    replicasets: list[dict] = field(default_factory=list)
    deployments: list[dict] = field(default_factory=list)
    vpcenis: list[dict] = field(default_factory=list)
    #: objects of kinds sgpctl does not use, kept so nothing silently disappears
    other: list[dict] = field(default_factory=list)
    #: one line per item that was not understood or was dropped, saying where it was
    problems: list[str] = field(default_factory=list)
    #: the recorded cloud calls of the captures among the documents (``core.capture``'s ``cloud``)
    cloud_calls: list[dict] = field(default_factory=list)


def _group(api_version: Any) -> str:
    text = str(api_version or "")
    return text.split("/", 1)[0] if "/" in text else ""


class _Loader:
    def __init__(self) -> None:
        self.snap = Snapshot()
        self._seen: dict[tuple[str, str, str], Any] = {}

    def document(self, doc: Any, where: str) -> None:
        if doc is None:
            return  # an empty YAML document ("---" at the end of a file)
        if not isinstance(doc, dict):
            self.snap.problems.append(f"{where}: expected an object or a List, got {type(doc).__name__}")
            return
        kind = doc.get("kind")
        if kind == capture.KIND:
            problem = capture.capture_problem(doc)
            if problem:
                self.snap.problems.append(f"{where}: {problem}")
                return
            self.snap.cloud_calls.extend(c for c in doc["cloud"] if isinstance(c, dict))
            for i, item in enumerate(doc["kubernetes"]["objects"]):
                self.item(item, f"{where}, object {i + 1}", captured=True)
            return
        if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
            # A typed list (PodList) from the API leaves kind/apiVersion off its items.
            item_kind = kind[: -len("List")] or None
            items = doc.get("items") or []
            if not isinstance(items, list):
                self.snap.problems.append(f"{where}: items of {kind} is not a list")
                return
            for i, item in enumerate(items):
                if isinstance(item, dict) and not item.get("kind") and item_kind:
                    item = {"kind": item_kind, "apiVersion": doc.get("apiVersion"), **item}
                self.item(item, f"{where}, item {i + 1}")
            return
        self.item(doc, where)

    def item(self, obj: Any, where: str, *, captured: bool = False) -> None:
        snap = self.snap
        if not isinstance(obj, dict):
            snap.problems.append(f"{where}: expected an object, got {type(obj).__name__}")
            return
        kind = obj.get("kind")
        if not isinstance(kind, str) or not kind:
            snap.problems.append(f"{where}: object without a kind")
            snap.other.append(obj)
            return
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        ident = (kind.lower(), str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        label = f"{kind} {ident[1] + '/' if ident[1] else ''}{ident[2]}"
        if ident[2] and ident in self._seen:
            # The same object from two files: identical copies are harmless, different ones are
            # reported because only the first is used.
            if self._seen[ident] != obj:
                snap.problems.append(f"{where}: {label} appears again with different content; kept the first")
            return
        self._seen[ident] = obj

        lowered = kind.lower()
        if lowered == "securitygrouppolicy":
            self.policy(obj, where, label)
        elif lowered in _BUCKETS:
            getattr(snap, _BUCKETS[lowered]).append(obj)
        else:
            if not captured:  # a capture holds what the other commands read, on purpose
                snap.problems.append(f"{where}: {label} ({obj.get('apiVersion') or 'no apiVersion'}) is not a kind "
                                     "sgpctl uses")
            snap.other.append(obj)

    def policy(self, obj: dict, where: str, label: str) -> None:
        from sgpctl.core.policy import SecurityGroupPolicy

        group = _group(obj.get("apiVersion"))
        if group != SGP_GROUP:
            self.snap.problems.append(
                f"{where}: {label} has apiVersion {obj.get('apiVersion')!r}, not {SGP_GROUP}/...: not a TKE policy"
            )
            self.snap.other.append(obj)
            return
        from sgpctl.core.policy import PolicyObjectError

        try:
            self.snap.policies.append(SecurityGroupPolicy.from_object(obj))
        except PolicyObjectError as exc:  # a malformed policy is one problem line, not the end of loading
            self.snap.problems.append(f"{where}: {exc}")
            self.snap.other.append(obj)


SNAPSHOT_HINT = ("a snapshot is the output of `kubectl get pods,serviceaccounts,nodes,securitygrouppolicies -A -o yaml`, "
                 "or a file of `sgpctl capture`")


def snapshot_documents(text: str, source: str) -> list[Any]:
    """The non-empty documents of a snapshot file's text, through the bounded loader
    (``SNAPSHOT_LIMITS``); a LoadError (exit 2) names the file, the line and the problem."""
    from sgpctl.core.loading import SNAPSHOT_LIMITS, LoadError, load_json, load_yaml_all

    if text.lstrip().startswith("{"):
        # JSON (`kubectl get -o json`, a capture): parsed as such, many times faster than as YAML.
        try:
            return [load_json(text, source, SNAPSHOT_LIMITS)]
        except LoadError:
            pass  # a YAML flow mapping, or broken JSON: the YAML loader says where
    try:
        return load_yaml_all(text, source, SNAPSHOT_LIMITS)
    except LoadError as e:
        e.hint = e.hint or SNAPSHOT_HINT
        raise


def load_snapshot(objs: Iterable[Any], *, names: Sequence[str] | None = None) -> Snapshot:
    """Sort decoded documents into a Snapshot. ``names`` (one per document, e.g. file names)
    only make problem messages point at the right place."""
    loader = _Loader()
    for i, doc in enumerate(objs):
        where = names[i] if names is not None and i < len(names) else f"document {i + 1}"
        loader.document(doc, where)
    return loader.snap
