"""Just enough OpenAPI v3 for ``kubectl apply``/``create``/``replace`` to run without ``--validate=false``.

kubectl 1.32 validates with the server: before sending ``?fieldValidation=Strict`` it checks, in the
OpenAPI v3 document of the object's group-version, that the PATCH operation of a path tagged with the
object's ``x-kubernetes-group-version-kind`` lists a ``fieldValidation`` query parameter. Without
OpenAPI v3 it falls back to ``/openapi/v2``, and without either it refuses the command. So each
served group-version gets a document whose paths carry exactly that: GVK-tagged operations with
the parameter, and no schemas. The PATCH operations declare no request body on purpose: kubectl then
computes strategic merge patches from its compiled-in types (exact for built-ins) instead of from
schemas this server does not have. ``/openapi/v2`` is not served (404), so ``kubectl explain``
does not work. ``fieldValidation`` is accepted and not enforced.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .resources import ResourceType

_FIELD_VALIDATION = {
    "name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True},
    "description": "fieldValidation instructs the server on how to handle objects in the request "
                   "containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.",
}


def gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def gv_document(group: str, version: str, types: list[ResourceType], kube_version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rt in types:
        if rt.group != group or version not in rt.versions:
            continue
        gvk = {"group": group, "version": version, "kind": rt.kind}
        base = "/" + gv_path(group, version)
        prefix = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"

        def op(action: str, params: list | None = None) -> dict[str, Any]:
            return {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": action,
                    "parameters": params or [], "responses": {"200": {"description": "OK"}}}

        paths[prefix] = {"get": op("list"), "post": op("post", [_FIELD_VALIDATION])}
        item = {"get": op("get"), "put": op("put", [_FIELD_VALIDATION]),
                "patch": op("patch", [_FIELD_VALIDATION]), "delete": op("delete")}
        paths[prefix + "/{name}"] = item
        if rt.has_status:
            paths[prefix + "/{name}/status"] = {"get": op("get"), "put": op("put", [_FIELD_VALIDATION]),
                                                "patch": op("patch", [_FIELD_VALIDATION])}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": kube_version},
            "paths": paths, "components": {"schemas": {}}}


def _digest(doc: dict) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()


def index_document(types: list[ResourceType], kube_version: str) -> dict[str, Any]:
    """``/openapi/v3``: one entry per served group-version; the hash changes when its types do."""
    gvs: list[tuple[str, str]] = []
    for rt in types:
        for v in rt.versions:
            if (rt.group, v) not in gvs:
                gvs.append((rt.group, v))
    paths = {}
    for group, version in gvs:
        doc = gv_document(group, version, types, kube_version)
        paths[gv_path(group, version)] = {
            "serverRelativeURL": f"/openapi/v3/{gv_path(group, version)}?hash={_digest(doc)}"}
    return {"paths": paths}
