"""Field selectors (``?fieldSelector=spec.nodeName=n1,status.phase!=Running``) as the server reads them.

Grammar (k8s.io/apimachinery/pkg/fields): terms joined by ``,`` (AND), each ``field=value``,
``field==value`` or ``field!=value``; ``\\,``, ``\\=`` and ``\\\\`` escape those characters in values.
Which fields a resource supports is the server's business: every resource knows ``metadata.name``
and ``metadata.namespace``; the rest is per kind (``SUPPORTED_FIELDS``). A field a resource does not
support is a 400, as in a real cluster (``field label not supported: <field>``); a missing value
reads as ``""`` so ``spec.nodeName=`` finds unscheduled Pods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["FieldSelector", "FieldSelectorError", "parse", "SUPPORTED_FIELDS", "field_value"]


class FieldSelectorError(ValueError):
    pass


def _path(*keys: str) -> Callable[[dict], Any]:
    def get(obj: dict) -> Any:
        node: Any = obj
        for k in keys:
            if not isinstance(node, dict):
                return None
            node = node.get(k)
        return node
    return get


def _bool(getter: Callable[[dict], Any]) -> Callable[[dict], Any]:
    # Go formats booleans as "true"/"false" in field sets; a missing bool is false.
    return lambda obj: "true" if getter(obj) else "false"


_COMMON = {"metadata.name": _path("metadata", "name"), "metadata.namespace": _path("metadata", "namespace")}

#: kind -> field -> getter; the fields kube-apiserver 1.30 registers for each kind
SUPPORTED_FIELDS: dict[str, dict[str, Callable[[dict], Any]]] = {
    "Pod": {
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "spec.hostNetwork": _bool(_path("spec", "hostNetwork")),
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    "Node": {"spec.unschedulable": _bool(_path("spec", "unschedulable"))},
    "Namespace": {"status.phase": _path("status", "phase")},
    "Secret": {"type": _path("type")},
    "ReplicaSet": {"status.replicas": lambda o: str((o.get("status") or {}).get("replicas", 0))},
    "Event": {
        "involvedObject.kind": _path("involvedObject", "kind"),
        "involvedObject.namespace": _path("involvedObject", "namespace"),
        "involvedObject.name": _path("involvedObject", "name"),
        "involvedObject.uid": _path("involvedObject", "uid"),
        "involvedObject.apiVersion": _path("involvedObject", "apiVersion"),
        "involvedObject.resourceVersion": _path("involvedObject", "resourceVersion"),
        "involvedObject.fieldPath": _path("involvedObject", "fieldPath"),
        "reason": _path("reason"),
        "reportingComponent": _path("reportingComponent"),
        "source": _path("source", "component"),
        "type": _path("type"),
    },
}


def field_value(kind: str, field: str, obj: dict) -> str | None:
    """The value a field selector compares, or None when ``kind`` does not support ``field``."""
    getter = _COMMON.get(field) or SUPPORTED_FIELDS.get(kind, {}).get(field)
    if getter is None:
        return None
    value = getter(obj)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Term:
    field: str
    equal: bool
    value: str


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[Term, ...] = ()
    text: str = ""

    def empty(self) -> bool:
        return not self.terms

    def check_supported(self, kind: str) -> str | None:
        """The first field ``kind`` does not support, or None."""
        for t in self.terms:
            if t.field not in _COMMON and t.field not in SUPPORTED_FIELDS.get(kind, {}):
                return t.field
        return None

    def matches(self, kind: str, obj: dict) -> bool:
        for t in self.terms:
            value = field_value(kind, t.field, obj)
            if value is None or (value == t.value) != t.equal:
                return False
        return True

    def name(self) -> str | None:
        """The name a ``metadata.name=x`` term pins (lets a lookup skip the scan)."""
        for t in self.terms:
            if t.field == "metadata.name" and t.equal:
                return t.value
        return None


def _split(text: str, sep: str) -> list[str]:
    parts, cur, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if c == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\":
            if i + 1 >= len(value) or value[i + 1] not in "\\,=":
                raise FieldSelectorError(f"invalid field selector: invalid escape sequence in {value!r}")
            out.append(value[i + 1])
            i += 2
            continue
        if c in ",=":
            raise FieldSelectorError(f"invalid field selector: unescaped {c!r} in {value!r}")
        out.append(c)
        i += 1
    return "".join(out)


def parse(text: str | None) -> FieldSelector:
    if not text:
        return FieldSelector()
    terms = []
    for part in _split(text, ","):
        if not part:
            continue
        for op, equal in (("!=", False), ("==", True), ("=", True)):
            pos = _find_unescaped(part, op)
            if pos >= 0:
                terms.append(Term(part[:pos].strip(), equal, _unescape(part[pos + len(op):])))
                break
        else:
            raise FieldSelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
    return FieldSelector(tuple(terms), text)


def _find_unescaped(text: str, op: str) -> int:
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(op, i):
            return i
        i += 1
    return -1
