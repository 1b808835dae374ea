"""What a write that comes through the API (not from an in-process controller) goes through, in
kube-apiserver's order: decode against the schema (type errors, unknown fields, pruning), default,
validate, check immutable fields. ``Request`` carries the request's options and collects the
warnings the HTTP layer sends back as ``Warning:`` headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import errors, schema, validation
from .defaults import apply_update_defaults
from .resources import ResourceType


@dataclass
class Request:
    #: Strict, Warn (the server's default) or Ignore
    field_validation: str = "Warn"
    #: the field manager named by the request (``?fieldManager=``), or one derived from its User-Agent
    field_manager: str = ""
    #: ``?force=true`` on a server-side apply
    force: bool = False
    warnings: list[str] = field(default_factory=list)


def decode(rt: ResourceType, obj: dict, request: Request | None, crd: dict | None, version: str) -> dict:
    """``obj`` decoded as the server decodes a request body (raises ApiError 400/422)."""
    if request is None:
        return obj
    if rt.crd is None:
        return schema.decode_builtin(obj, rt.group, version, rt.kind, request.field_validation, request.warnings)
    if crd is None:
        return obj
    served = next((v for v in (crd.get("spec") or {}).get("versions") or () if v.get("name") == version), None)
    if served is None:
        return obj
    pruned, problems = schema.decode_custom(obj, served, rt.kind, version, request.field_validation,
                                            request.warnings)
    if problems:
        name = (obj.get("metadata") or {}).get("name") or ""
        raise errors.invalid(rt.group, rt.kind, name, problems)
    return pruned


def check(rt: ResourceType, obj: dict, old: dict | None, request: Request | None) -> None:
    """Semantic validation (and, for updates, immutable fields); raises ApiError 422."""
    if request is None:
        return
    problems = validation.problems(rt, obj)
    if old is not None:
        problems += validation.immutable(rt, old, obj)
    if problems:
        raise errors.invalid(rt.group, rt.kind, (obj.get("metadata") or {}).get("name") or "", problems)


def update_defaults(rt: ResourceType, obj: dict, old: dict, request: Request | None) -> None:
    if request is None:
        return
    apply_update_defaults(rt, obj)
    if rt.key == "services":
        # PrepareForUpdate: allocated values the body leaves out are kept, not freed.
        spec, old_spec = obj.get("spec"), old.get("spec") or {}
        if isinstance(spec, dict):
            for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                if key not in spec and key in old_spec:
                    spec[key] = old_spec[key]
            if spec.get("clusterIP") != old_spec.get("clusterIP") and spec.get("clusterIPs") == old_spec.get("clusterIPs") \
                    and spec.get("clusterIPs"):
                spec["clusterIPs"] = [spec.get("clusterIP")] + list(spec["clusterIPs"][1:])
