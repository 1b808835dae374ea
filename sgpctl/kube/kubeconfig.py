"""Read kubeconfig the way kubectl does (KUBECONFIG may list several files; the first file that sets a
value wins), without touching the kubernetes client's global state.

Every kubeconfig file is read through :func:`read_kubeconfig` first: bounded (``sgpctl.inputs``,
``sgpctl.core.loading``) and checked for the shape the kubernetes client expects, so a malformed file,
a directory or ``/etc/hostname`` is one InputError (exit 2) naming the file and the problem, never an
exception from inside the client."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sgpctl.core.redact import redact_url_credentials
from sgpctl.errors import InputError
from sgpctl.settings import infer_cluster_id

_HINT = "fix the file, or pass --kubeconfig FILE / set KUBECONFIG (for TKE: download the cluster's kubeconfig in the console)"
# section -> the key of each entry's body, and the fields of that body that must be strings
_SECTIONS = {
    "clusters": ("cluster", ("server", "certificate-authority", "certificate-authority-data", "tls-server-name", "proxy-url")),
    "contexts": ("context", ("cluster", "user", "namespace")),
    "users": ("user", ("token", "tokenFile", "client-certificate", "client-certificate-data", "client-key",
                       "client-key-data", "username", "password")),
}


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


def read_kubeconfig(path: str) -> dict:
    """One kubeconfig file as a mapping ({} when empty), or InputError naming the file and the problem."""
    from sgpctl.core.loading import CONFIG_LIMITS, LoadError, load_yaml
    from sgpctl.inputs import read_text

    text = read_text(os.path.expanduser(path), max_bytes=CONFIG_LIMITS.max_bytes, what="kubeconfig", hint=_HINT)
    try:
        doc = load_yaml(text, path, CONFIG_LIMITS)
    except LoadError as e:
        raise InputError(f"kubeconfig {e.message}", hint=_HINT) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(f"kubeconfig {path}: not a kubeconfig: it holds {_kind(doc)}, expected a mapping with "
                         "clusters, contexts and users", hint=_HINT)
    problem = _shape_problem(doc)
    if problem:
        raise InputError(f"kubeconfig {path}: {problem}", hint=_HINT)
    return doc


def _kind(value: Any) -> str:
    from sgpctl.core.selectors import type_name

    if value is None:
        return "nothing"
    name = type_name(value)
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _shape_problem(doc: dict) -> str | None:
    """The first place where ``doc`` is not shaped like a kubeconfig (kubectl's field names)."""
    for key in ("current-context", "kind", "apiVersion"):
        if doc.get(key) is not None and not isinstance(doc[key], str):
            return f"{key} must be a string, found {_kind(doc[key])}"
    if doc.get("preferences") is not None and not isinstance(doc["preferences"], dict):
        return f"preferences must be a mapping, found {_kind(doc['preferences'])}"
    for section, (body_key, string_fields) in _SECTIONS.items():
        entries = doc.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            return f"{section} must be a list, found {_kind(entries)}"
        for i, entry in enumerate(entries):
            where = f"{section}[{i}]"
            if not isinstance(entry, dict):
                return f"{where} must be a mapping with name and {body_key}, found {_kind(entry)}"
            if not isinstance(entry.get("name"), str) or not entry["name"]:
                return f"{where}.name must be a non-empty string"
            body = entry.get(body_key)
            if body is None:
                continue
            if not isinstance(body, dict):
                return f"{where}.{body_key} must be a mapping, found {_kind(body)}"
            for field in string_fields:
                if body.get(field) is not None and not isinstance(body[field], str):
                    return f"{where}.{body_key}.{field} must be a string, found {_kind(body[field])}"
    return None


def existing_paths(value: str | None) -> list[str]:
    """The files of a KUBECONFIG value that exist (kubectl skips the missing ones)."""
    return [p for p in kubeconfig_paths(value) if os.path.lexists(os.path.expanduser(p))]


def load_merged(value: str | None) -> tuple[dict, list[str]]:
    """Merge the kubeconfig files as kubectl does; returns (config, errors)."""
    merged: dict = {"clusters": [], "contexts": [], "users": []}
    seen = {"clusters": set(), "contexts": set(), "users": set()}
    errors: list[str] = []
    for path in existing_paths(value):
        try:
            doc = read_kubeconfig(path)
        except InputError as e:
            errors.append(e.message)
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
    server = cluster.get("server")
    return ContextInfo(
        path=path,
        context=name,
        cluster=cluster_name,
        server=redact_url_credentials(server) if isinstance(server, str) else None,
        user=ctx.get("user"),
        namespace=ctx.get("namespace"),
        cluster_id=infer_cluster_id(name, cluster_name),
        error=errors[0] if errors else None,
    )
