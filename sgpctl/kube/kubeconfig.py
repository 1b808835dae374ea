"""Read kubeconfig the way kubectl does (KUBECONFIG may list several files; the first file that sets a
value wins), without touching the kubernetes client's global state."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sgpctl.settings import infer_cluster_id


@dataclass(frozen=True)
class ContextInfo:
    path: str
    context: str | None = None
    cluster: str | None = None
    server: str | None = None
    user: str | None = None
    namespace: str | None = None
    cluster_id: str | None = None
    error: str | None = None


def kubeconfig_paths(value: str | None) -> list[str]:
    if not value:
        return []
    return [p for p in value.split(os.pathsep) if p]


def load_merged(value: str | None) -> tuple[dict, list[str]]:
    """Merge the kubeconfig files as kubectl does; returns (config, errors)."""
    import yaml  # lazy

    merged: dict = {"clusters": [], "contexts": [], "users": []}
    seen = {"clusters": set(), "contexts": set(), "users": set()}
    errors: list[str] = []
    for path in kubeconfig_paths(value):
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as f:
                doc = yaml.safe_load(f) or {}
        except FileNotFoundError:
            continue
        except (OSError, yaml.YAMLError) as e:
            errors.append(f"{path}: {e}".splitlines()[0])
            continue
        if not isinstance(doc, dict):
            errors.append(f"{path}: not a kubeconfig mapping")
            continue
        if doc.get("current-context") and "current-context" not in merged:
            merged["current-context"] = doc["current-context"]
        for key in ("clusters", "contexts", "users"):
            for item in doc.get(key) or []:
                if isinstance(item, dict) and item.get("name") not in seen[key]:
                    seen[key].add(item.get("name"))
                    merged[key].append(item)
    return merged, errors


def current_context_info(value: str | None, context: str | None = None) -> ContextInfo:
    path = value or ""
    merged, errors = load_merged(value)
    name = context or merged.get("current-context")
    if not name:
        return ContextInfo(path=path, error=errors[0] if errors else None)
    ctx = next((c.get("context") or {} for c in merged["contexts"] if c.get("name") == name), None)
    if ctx is None:
        return ContextInfo(path=path, context=name, error=f"context {name!r} not found in kubeconfig")
    cluster_name = ctx.get("cluster")
    cluster = next((c.get("cluster") or {} for c in merged["clusters"] if c.get("name") == cluster_name), {})
    return ContextInfo(
        path=path,
        context=name,
        cluster=cluster_name,
        server=cluster.get("server"),
        user=ctx.get("user"),
        namespace=ctx.get("namespace"),
        cluster_id=infer_cluster_id(name, cluster_name),
        error=errors[0] if errors else None,
    )
