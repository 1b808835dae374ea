"""The three patch formats kube-apiserver accepts, on plain JSON-like dicts.

- ``merge_patch(target, patch)``: JSON merge patch, RFC 7386 (``application/merge-patch+json``).
- ``json_patch(target, ops)``: JSON patch, RFC 6902 (``application/json-patch+json``), all six ops.
- ``strategic_merge_patch(target, patch, kind)``: the subset of Kubernetes' strategic merge patch
  (``application/strategic-merge-patch+json``) that kubectl actually sends for built-in types:
  lists merged by their ``patchMergeKey`` (containers by name, env by name, container ports by
  containerPort, volumeMounts by mountPath, ...), merged primitive lists (finalizers), and the
  directives ``$patch: replace|delete|merge``, ``$retainKeys``, ``$deleteFromPrimitiveList/<f>`` and
  ``$setElementOrder/<f>``. Lists the table below does not know are replaced, as for atomic lists.

Every function returns a new value and leaves its arguments alone. Failures raise ``PatchError``
(the server answers 422 for a patch that cannot apply, 400 for one it cannot read).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["PatchError", "merge_patch", "json_patch", "strategic_merge_patch", "STRATEGIC_KINDS"]


class PatchError(ValueError):
    def __init__(self, message: str, *, malformed: bool = False):
        super().__init__(message)
        self.message = message
        #: True when the patch document itself is unreadable (HTTP 400, not 422)
        self.malformed = malformed


# ------------------------------------------------------------------------------------------------
# RFC 7386
# ------------------------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    return _merge_patch(copy.deepcopy(target), patch)


def _merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = target if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


# ------------------------------------------------------------------------------------------------
# RFC 6902
# ------------------------------------------------------------------------------------------------


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str):
        raise PatchError(f"invalid JSON pointer {path!r}", malformed=True)
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'JSON pointer must be empty or start with a "/": {path!r}', malformed=True)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list, token: str, *, allow_end: bool) -> int:
    if allow_end and token == "-":
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r}")
    i = int(token)
    if i > len(container) or (i == len(container) and not allow_end):
        raise PatchError(f"array index {i} out of bounds")
    return i


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f"doc is missing path: {path}")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, allow_end=False)]
        else:
            raise PatchError(f"doc is missing path: {path}")
    return node


def _location(doc: Any, path: str) -> tuple[dict | list, str] | None:
    """The container ``path`` points into and the last token, or None for the whole document."""
    tokens = _pointer(path)
    if not tokens:
        return None
    parent = _parent(doc, tokens, path)
    if not isinstance(parent, (dict, list)):
        raise PatchError(f"doc is missing path: {path}")
    return parent, tokens[-1]


def _get(doc: Any, path: str) -> Any:
    location = _location(doc, path)
    if location is None:
        return doc
    parent, last = location
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"doc is missing path: {path}")
        return parent[last]
    return parent[_index(parent, last, allow_end=False)]


def _add(doc: Any, path: str, value: Any) -> Any:
    location = _location(doc, path)
    if location is None:
        return value
    parent, last = location
    if isinstance(parent, dict):
        parent[last] = value
    else:
        parent.insert(_index(parent, last, allow_end=True), value)
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    location = _location(doc, path)
    if location is None:
        raise PatchError("cannot remove the whole document")
    parent, last = location
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"unable to remove nonexistent key: {last}: missing value")
        return doc, parent.pop(last)
    return doc, parent.pop(_index(parent, last, allow_end=False))


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations", malformed=True)
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError(f"invalid json patch operation {op!r}", malformed=True)
        name, path = op["op"], op.get("path")
        if name in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f'missing value for "{name}" operation', malformed=True)
        if name == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif name == "remove":
            doc, _ = _remove(doc, path)
        elif name == "replace":
            _get(doc, path)  # RFC 6902: the target location must exist
            if _pointer(path):
                doc, _ = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif name == "move":
            src = op.get("from")
            if path != src and isinstance(path, str) and isinstance(src, str) and path.startswith(src + "/"):
                raise PatchError(f"cannot move {src} into its own child {path}")
            doc, value = _remove(doc, src)
            doc = _add(doc, path, value)
        elif name == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from"))))
        elif name == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {name}", malformed=True)
    return doc


# ------------------------------------------------------------------------------------------------
# Strategic merge patch
# ------------------------------------------------------------------------------------------------

# A schema node is a dict of field name -> Field; only fields that need something other than
# "maps merge recursively, lists are replaced" are listed.


class Field:
    __slots__ = ("merge_key", "merge", "fields")

    def __init__(self, fields: dict[str, "Field"] | None = None, *, merge: bool = False, merge_key: str | None = None):
        self.fields = fields or {}
        self.merge = merge          # patchStrategy: merge (lists)
        self.merge_key = merge_key  # patchMergeKey (lists of maps); None = list of primitives


def _obj(**fields: Field) -> Field:
    return Field(fields)


def _list(key: str | None, **fields: Field) -> Field:
    return Field(fields, merge=True, merge_key=key)


_META = _obj(finalizers=_list(None), ownerReferences=_list("uid"))
_CONTAINER = _obj(
    env=_list("name"),
    ports=_list("containerPort"),
    volumeMounts=_list("mountPath"),
    volumeDevices=_list("devicePath"),
)
_POD_SPEC = _obj(
    containers=_list("name", **_CONTAINER.fields),
    initContainers=_list("name", **_CONTAINER.fields),
    ephemeralContainers=_list("name", **_CONTAINER.fields),
    volumes=_list("name"),
    imagePullSecrets=_list("name"),
    hostAliases=_list("ip"),
    topologySpreadConstraints=_list("topologyKey"),
    resourceClaims=_list("name"),
    schedulingGates=_list("name"),
)
_TEMPLATE = _obj(metadata=_META, spec=_POD_SPEC)
_CONDITIONS = _obj(conditions=_list("type"))
_WORKLOAD = _obj(metadata=_META, spec=_obj(template=_TEMPLATE), status=_CONDITIONS)

#: kinds that take strategic merge patches, with their merge metadata
STRATEGIC_KINDS: dict[str, Field] = {
    "Pod": _obj(metadata=_META, spec=_POD_SPEC,
                status=_obj(conditions=_list("type"), podIPs=_list("ip"), hostIPs=_list("ip"))),
    "Node": _obj(metadata=_META, status=_obj(conditions=_list("type"), addresses=_list("type"))),
    "Service": _obj(metadata=_META, spec=_obj(ports=_list("port")), status=_CONDITIONS),
    "Deployment": _WORKLOAD,
    "ReplicaSet": _WORKLOAD,
    "DaemonSet": _WORKLOAD,
    "StatefulSet": _WORKLOAD,
    "Namespace": _obj(metadata=_META, status=_CONDITIONS),
    "CustomResourceDefinition": _obj(metadata=_META, status=_CONDITIONS),
}
_PLAIN = _obj(metadata=_META)

_DIRECTIVE = "$patch"
_RETAIN = "$retainKeys"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"
_ORDER = "$setElementOrder/"


def strategic_merge_patch(target: dict, patch: dict, kind: str) -> dict:
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object", malformed=True)
    schema = STRATEGIC_KINDS.get(kind, _PLAIN)
    return _merge_map(copy.deepcopy(target) if isinstance(target, dict) else {}, patch, schema)


def _merge_map(original: dict, patch: dict, schema: Field) -> dict:
    directive = patch.get(_DIRECTIVE)
    if directive == "replace":
        return _strip({k: v for k, v in patch.items() if k != _DIRECTIVE}, schema)
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive!r}")

    retain = patch.get(_RETAIN)
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError(f"invalid $retainKeys: {retain!r}")
        original = {k: v for k, v in original.items() if k in retain}

    orders: dict[str, list] = {}
    for key, value in patch.items():
        if key.startswith(_DELETE_PRIMITIVE):
            name = key[len(_DELETE_PRIMITIVE):]
            if isinstance(original.get(name), list) and isinstance(value, list):
                original[name] = [x for x in original[name] if x not in value]
        elif key.startswith(_ORDER):
            orders[key[len(_ORDER):]] = value if isinstance(value, list) else []

    for key, value in patch.items():
        if key in (_DIRECTIVE, _RETAIN) or key.startswith((_DELETE_PRIMITIVE, _ORDER)):
            continue
        sub = schema.fields.get(key, _PLAIN_FIELD)
        if value is None:
            original.pop(key, None)
        elif isinstance(value, dict):
            current = original.get(key)
            original[key] = _merge_map(current if isinstance(current, dict) else {}, value, sub)
        elif isinstance(value, list):
            current = original.get(key)
            original[key] = _merge_list(current if isinstance(current, list) else [], value, sub)
        else:
            original[key] = value

    for name, order in orders.items():
        if isinstance(original.get(name), list):
            original[name] = _apply_order(original[name], order, schema.fields.get(name, _PLAIN_FIELD))
    return original


_PLAIN_FIELD = Field()


def _strip(value: Any, schema: Field) -> Any:
    """A patch value placed where nothing was: its directives must not reach the stored object."""
    if isinstance(value, dict):
        return _merge_map({}, value, schema)
    if isinstance(value, list):
        return _merge_list([], value, schema)
    return value


def _merge_list(original: list, patch: list, schema: Field) -> list:
    if not schema.merge:
        return [_strip(v, schema) for v in patch]
    if schema.merge_key is None:
        # A merged list of primitives: union, original order first.
        if any(isinstance(v, dict) and v.get(_DIRECTIVE) == "replace" for v in patch):
            return [v for v in patch if not isinstance(v, dict)]
        result = list(original)
        for v in patch:
            if v not in result:
                result.append(v)
        return result

    key = schema.merge_key
    if any(isinstance(v, dict) and v.get(_DIRECTIVE) == "replace" for v in patch):
        return [_strip(v, schema) for v in patch if not (isinstance(v, dict) and v.get(_DIRECTIVE) == "replace")]
    result = [copy.deepcopy(v) for v in original]
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"expected a map in the list merged by {key!r}, got {item!r}")
        if key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {key}")
        pos = next((i for i, v in enumerate(result) if isinstance(v, dict) and v.get(key) == item[key]), None)
        if item.get(_DIRECTIVE) == "delete":
            if pos is not None:
                result.pop(pos)
            continue
        if pos is None:
            result.append(_merge_map({}, item, schema))
        else:
            result[pos] = _merge_map(result[pos], item, schema)
    return result


def _apply_order(items: list, order: list, schema: Field) -> list:
    """$setElementOrder: listed elements in the given order, then the ones only the server had."""
    key = schema.merge_key

    def ident(v: Any) -> Any:
        return v.get(key) if key is not None and isinstance(v, dict) else v

    wanted = [ident(v) for v in order]
    listed = sorted((v for v in items if ident(v) in wanted), key=lambda v: wanted.index(ident(v)))
    return listed + [v for v in items if ident(v) not in wanted]
