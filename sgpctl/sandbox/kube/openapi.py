"""The OpenAPI documents: ``/openapi/v3`` (an index, then one document per group-version) and
``/openapi/v2`` (one document), with the schemas of every served kind, so ``kubectl explain`` works for
built-in kinds (schemas shipped in ``schemas/``) and for CRDs (their ``openAPIV3Schema``).

kubectl 1.32 validates with the server: before sending ``?fieldValidation=Strict`` it checks, in the
OpenAPI v3 document of the object's group-version, that the PATCH operation of a path tagged with the
object's ``x-kubernetes-group-version-kind`` lists a ``fieldValidation`` query parameter. The PATCH
operations declare no request body on purpose: kubectl then computes strategic merge patches from its
compiled-in types (exact for built-ins), as the shipped schemas carry no patch-merge keys.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from . import schema
from .resources import ResourceType

_FIELD_VALIDATION = {
    "name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True},
    "description": "fieldValidation instructs the server on how to handle objects in the request "
                   "containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.",
}


def gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _definitions(group: str | None, version: str | None, types: list[ResourceType],
                 crds: dict[str, dict]) -> dict[str, dict]:
    """v2 definitions of the kinds served at group/version (every kind when None), with what they reach."""
    defs = dict(schema.builtin()["definitions"])
    roots = []
    for rt in types:
        for v in rt.versions:
            if group is not None and (rt.group != group or v != version):
                continue
            if rt.crd is None:
                name = schema.root_definition(rt.group, v, rt.kind)
                if name:
                    roots.append(name)
                continue
            crd = crds.get(rt.crd)
            served = next((x for x in ((crd or {}).get("spec") or {}).get("versions") or () if x.get("name") == v), None)
            if served is not None:
                name = schema.crd_definition_name(crd, v)
                defs[name] = schema.crd_definition(crd, served)
                roots.append(name)
    return {name: defs[name] for name in schema.reachable(roots, defs)}


def gv_document(group: str, version: str, types: list[ResourceType], kube_version: str,
                crds: dict[str, dict] | None = None) -> dict[str, Any]:
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
    schemas = {name: schema.v3_schema(d) for name, d in _definitions(group, version, types, crds or {}).items()}
    quantity = schemas.get("io.k8s.apimachinery.pkg.api.resource.Quantity")
    if quantity is not None:  # OpenAPI v3 says what JSON takes: a string or a number
        schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"] = {
            "description": quantity["description"], "oneOf": [{"type": "string"}, {"type": "number"}]}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": kube_version},
            "paths": paths, "components": {"schemas": schemas}}


def v2_document(types: list[ResourceType], kube_version: str, crds: dict[str, dict]) -> dict[str, Any]:
    """``/openapi/v2``: every served kind's definition (what ``kubectl explain --output
    plaintext-openapiv2`` and older clients read)."""
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": kube_version}, "paths": {},
            "definitions": _definitions(None, None, types, crds)}


def _digest(doc: dict) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()


def index_document(types: list[ResourceType], kube_version: str, crds: dict[str, dict] | None = None) -> dict[str, Any]:
    """``/openapi/v3``: one entry per served group-version; the hash changes when its types do."""
    gvs: list[tuple[str, str]] = []
    for rt in types:
        for v in rt.versions:
            if (rt.group, v) not in gvs:
                gvs.append((rt.group, v))
    paths = {}
    for group, version in gvs:
        doc = gv_document(group, version, types, kube_version, crds)
        paths[gv_path(group, version)] = {
            "serverRelativeURL": f"/openapi/v3/{gv_path(group, version)}?hash={_digest(doc)}"}
    return {"paths": paths}
