"""What applying policies would change, field by field, and which Pods would get other groups: the
answer of `policy diff` and of `policy apply --dry-run`. Pure: objects in, changes out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core import matching
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.core.selectors import label_selector_text

__all__ = ["FieldChange", "PodChange", "PolicyDiff", "field_changes", "pod_changes"]


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any

    def text(self) -> str:
        return f"{self.path}: {_show(self.path, self.before)} -> {_show(self.path, self.after)}"

    def to_dict(self) -> dict:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class PodChange:
    namespace: str
    name: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    #: the policies that select the Pod, before or after
    policies: tuple[str, ...] = ()

    def text(self) -> str:
        return f"pod/{self.name}: {_groups(self.before)} -> {_groups(self.after)}"

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "name": self.name, "before": list(self.before), "after": list(self.after)}


@dataclass
class PolicyDiff:
    namespace: str
    name: str
    #: created, configured or unchanged (kubectl's words)
    result: str
    fields: list[FieldChange] = field(default_factory=list)
    pods: list[PodChange] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "name": self.name, "result": self.result,
                "fields": [f.to_dict() for f in self.fields], "pods": [p.to_dict() for p in self.pods]}


def _groups(ids: Iterable[str]) -> str:
    ids = list(ids)
    return ",".join(ids) if ids else "(none)"


def _show(path: str, value: Any) -> str:
    if value is None:
        return "(unset)"
    if path.endswith("Selector"):
        return label_selector_text(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _spec(obj: Mapping | None) -> Mapping:
    spec = (obj or {}).get("spec")
    return spec if isinstance(spec, Mapping) else {}


def field_changes(existing: Mapping | None, desired: Mapping) -> list[FieldChange]:
    """The fields of a policy that applying ``desired`` over ``existing`` (None: not there yet)
    changes: the security groups, both selectors, and the labels and annotations it sets."""
    before, after = _spec(existing), _spec(desired)
    out = []

    def groups(spec: Mapping) -> list | None:
        sg = spec.get("securityGroups")
        ids = sg.get("groupIds") if isinstance(sg, Mapping) else None
        return list(ids) if isinstance(ids, list) else None

    if groups(before) != groups(after):
        out.append(FieldChange("spec.securityGroups.groupIds", groups(before) if existing is not None else None, groups(after)))
    for key in ("podSelector", "serviceAccountSelector"):
        if before.get(key) != after.get(key):
            out.append(FieldChange(f"spec.{key}", before.get(key), after.get(key)))
    old_meta = (existing or {}).get("metadata") or {}
    for key in ("labels", "annotations"):
        for k, v in sorted(((desired.get("metadata") or {}).get(key) or {}).items()):
            if (old_meta.get(key) or {}).get(k) != v:
                out.append(FieldChange(f"metadata.{key}.{k}", (old_meta.get(key) or {}).get(k), v))
    return out


def pod_changes(pods: Iterable[Mapping[str, Any]], serviceaccounts: Iterable[Mapping[str, Any]],
                before: list[SecurityGroupPolicy], after: list[SecurityGroupPolicy]) -> list[PodChange]:
    """The Pods whose groups (what the policies give them) differ between ``before`` and ``after``.
    Running Pods keep their groups until rebuilt: these are the groups they get once rebuilt."""
    pods, sas = list(pods), list(serviceaccounts)
    was = {(m.namespace, m.name): m for m in matching.match(pods, before, sas).pods}
    now = {(m.namespace, m.name): m for m in matching.match(pods, after, sas).pods}
    out = []
    for key in set(was) | set(now):
        old, new = was.get(key), now.get(key)
        if (new or old).phase in matching.FINISHED_PHASES:
            continue
        old_groups = tuple(old.expected_groups) if old else ()
        new_groups = tuple(new.expected_groups) if new else ()
        if old_groups != new_groups:
            by = tuple(sorted(set(new.policies if new else ()) | set(old.policies if old else ())))
            out.append(PodChange(key[0], key[1], old_groups, new_groups, by))
    return sorted(out, key=lambda p: (p.namespace, p.name))
