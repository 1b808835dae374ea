"""Field ownership (``metadata.managedFields``) and server-side apply, as structured-merge-diff does
it for the common cases.

A field set is a set of paths; a path is a tuple of elements ``f:<field>``, ``k:<json key>`` (an item
of a list merged by key, e.g. containers by ``name``), or ``v:<json value>`` (an item of a set-like
list of scalars such as ``finalizers``); any other list is atomic (owned as a whole). managedFields
store the sets as FieldsV1 trees (``{"f:data": {"f:a": {}}}``).

- ``record_update``: a create, update or patch made by manager M takes the fields it changed (and
  every other manager loses them), without conflicts.
- ``apply``: server-side apply by M merges the applied configuration into the live object; a field
  the configuration sets to another value than the live one, owned by someone else, is a conflict
  (409 ``Apply failed with 1 conflict: conflict with "kubectl": .data.b``) unless forced, which moves
  ownership; fields M applied before and no longer applies are removed when nobody else owns them.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from .errors import ApiError

Path = tuple[str, ...]

#: list fields merged by key (everything else is atomic, or a set when listed in SET_LISTS)
LIST_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",),
    "env": ("name",), "volumes": ("name",), "volumeMounts": ("mountPath",), "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",), "conditions": ("type",), "ownerReferences": ("uid",), "hostAliases": ("ip",),
    "resourceClaims": ("name",), "schedulingGates": ("name",),
}
SET_LISTS = {"finalizers"}
#: never owned by anyone: identity and server-kept metadata
_UNMANAGED_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                   "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}


def _keys_for(field: str, items: list) -> tuple[str, ...] | None:
    if field == "ports" and items and all(isinstance(i, dict) for i in items):
        first = items[0]
        if "containerPort" in first:
            return ("containerPort", "protocol")
        if "port" in first:
            return ("port", "protocol")
        return None
    keys = LIST_KEYS.get(field)
    if keys and all(isinstance(i, dict) and keys[0] in i for i in items):
        return keys
    return None


def _item_key(item: dict, keys: tuple[str, ...]) -> str:
    values = {}
    for k in keys:
        value = item.get(k)
        if value is None and k == "protocol":
            value = "TCP"
        if value is not None:
            values[k] = value
    return "k:" + json.dumps(values, separators=(",", ":"), sort_keys=True)


def field_set(obj: Any, *, top: bool = True, has_status: bool = False) -> set[Path]:
    """Leaf paths of ``obj`` (and the paths of keyed list items)."""
    out: set[Path] = set()

    def walk(value: Any, path: Path, field: str) -> None:
        if isinstance(value, dict):
            if not value and path:
                out.add(path)
            for k, v in value.items():
                walk(v, path + (f"f:{k}",), k)
        elif isinstance(value, list):
            keys = _keys_for(field, value)
            if keys is not None:
                for item in value:
                    item_path = path + (_item_key(item, keys),)
                    out.add(item_path)
                    for k, v in item.items():
                        walk(v, item_path + (f"f:{k}",), k)
            elif field in SET_LISTS and all(not isinstance(v, (dict, list)) for v in value):
                out.update(path + ("v:" + json.dumps(v),) for v in value)
            else:
                out.add(path)
        else:
            out.add(path)

    if not isinstance(obj, dict):
        return out
    for k, v in obj.items():
        if top and k in ("apiVersion", "kind"):
            continue
        if top and k == "status" and has_status:
            continue
        if top and k == "metadata" and isinstance(v, dict):
            for mk, mv in v.items():
                if mk not in _UNMANAGED_META:
                    walk(mv, ("f:metadata", f"f:{mk}"), mk)
            continue
        walk(v, (f"f:{k}",), k)
    return out


def value_at(obj: Any, path: Path) -> Any:
    node = obj
    for el in path:
        kind, _, rest = el.partition(":")
        if kind == "f":
            if not isinstance(node, dict) or rest not in node:
                return _MISSING
            node = node[rest]
        elif kind == "k":
            want = json.loads(rest)
            if not isinstance(node, list):
                return _MISSING
            node = next((i for i in node if isinstance(i, dict) and all(
                (i.get(k) if not (k == "protocol" and i.get(k) is None) else "TCP") == v for k, v in want.items())),
                _MISSING)
            if node is _MISSING:
                return _MISSING
        elif kind == "v":
            want = json.loads(rest)
            return want if isinstance(node, list) and want in node else _MISSING
    return node


_MISSING = object()


def _remove(obj: Any, path: Path) -> None:
    node = obj
    for el in path[:-1]:
        kind, _, rest = el.partition(":")
        if kind == "f":
            node = node.get(rest) if isinstance(node, dict) else None
        elif kind == "k":
            want = json.loads(rest)
            node = next((i for i in node or () if isinstance(i, dict) and all(
                (i.get(k) if not (k == "protocol" and i.get(k) is None) else "TCP") == v for k, v in want.items())),
                None)
        if node is None:
            return
    kind, _, rest = path[-1].partition(":")
    if kind == "f" and isinstance(node, dict):
        node.pop(rest, None)
    elif kind in ("k", "v") and isinstance(node, list):
        want = json.loads(rest)
        for i, item in enumerate(node):
            if (kind == "v" and item == want) or (kind == "k" and isinstance(item, dict) and all(
                    (item.get(k) if not (k == "protocol" and item.get(k) is None) else "TCP") == v
                    for k, v in want.items())):
                del node[i]
                break


def path_text(path: Path) -> str:
    """structured-merge-diff's text of a path: ``.spec.containers[name="nginx"].image``."""
    out = ""
    for el in path:
        kind, _, rest = el.partition(":")
        if kind == "f":
            out += "." + rest
        elif kind == "k":
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(rest).items()) + "]"
        else:
            out += f"[={rest}]"
    return out


# ------------------------------------------------------------------------------------------------
# FieldsV1 trees
# ------------------------------------------------------------------------------------------------


def to_tree(paths: set[Path]) -> dict:
    tree: dict = {}
    for path in sorted(paths):
        node = tree
        for el in path:
            node = node.setdefault(el, {})
        if node:
            node["."] = {}
    # an item or map that has children and is owned itself carries ".": {}
    for path in paths:
        node = tree
        for el in path:
            node = node[el]
        if node and "." not in node:
            node["."] = {}
    return tree


def from_tree(tree: dict) -> set[Path]:
    out: set[Path] = set()

    def walk(node: dict, path: Path) -> None:
        if not node or "." in node:
            if path:
                out.add(path)
        for k, v in node.items():
            if k != ".":
                walk(v, path + (k,))
    walk(tree or {}, ())
    return out


# ------------------------------------------------------------------------------------------------
# managedFields entries
# ------------------------------------------------------------------------------------------------


def _entries(obj: dict) -> list[dict]:
    return [e for e in (obj.get("metadata") or {}).get("managedFields") or () if isinstance(e, dict)]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _set_entries(obj: dict, entries: list[dict]) -> None:
    entries = [e for e in entries if (e.get("fieldsV1") or {})]
    meta = obj.setdefault("metadata", {})
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)


def _same_manager(e: dict, manager: str, operation: str, api_version: str, subresource: str | None) -> bool:
    return (e.get("manager") == manager and e.get("operation") == operation and
            (operation == "Apply" or e.get("apiVersion") == api_version) and
            (e.get("subresource") or None) == (subresource or None))


def record_update(old: dict | None, new: dict, manager: str, api_version: str, subresource: str | None,
                  has_status: bool) -> None:
    """Give ``manager`` (operation Update) the fields that differ between ``old`` and ``new``."""
    status_only = subresource == "status"
    entries = _entries(old) if old is not None else []
    before = field_set(old, has_status=has_status and not status_only) if old is not None else set()
    after = field_set(new, has_status=has_status and not status_only)
    if status_only:
        before = {p for p in before if p[:1] == ("f:status",)}
        after = {p for p in after if p[:1] == ("f:status",)}
    changed = {p for p in after if p not in before or value_at(old, p) != value_at(new, p)}
    gone = before - after
    mine = None
    kept = []
    for e in entries:
        paths = from_tree(e.get("fieldsV1") or {}) - changed - gone
        if _same_manager(e, manager, "Update", api_version, subresource):
            mine = paths
            continue
        kept.append(dict(e, fieldsV1=to_tree(paths)))
    paths = (mine or set()) | changed
    if paths:
        kept.append(_entry(manager, "Update", api_version, subresource, paths))
    _set_entries(new, kept)


def _entry(manager: str, operation: str, api_version: str, subresource: str | None, paths: set) -> dict:
    """A managedFields entry: ``manager`` owns ``paths`` through ``operation`` (now)."""
    entry = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": _now(),
             "fieldsType": "FieldsV1", "fieldsV1": to_tree(paths)}
    if subresource:
        entry["subresource"] = subresource
    return entry


def _merge(live: Any, config: Any, field: str = "") -> Any:
    if isinstance(config, dict) and isinstance(live, dict):
        out = dict(live)
        for k, v in config.items():
            out[k] = _merge(live.get(k), v, k) if k in live else copy.deepcopy(v)
        return out
    if isinstance(config, list) and isinstance(live, list):
        keys = _keys_for(field, config) if config else None
        if keys is not None and _keys_for(field, live) in (keys, None):
            result = [copy.deepcopy(i) for i in live]
            for item in config:
                k = _item_key(item, keys)
                pos = next((i for i, cur in enumerate(result) if isinstance(cur, dict) and _item_key(cur, keys) == k),
                           None)
                if pos is None:
                    result.append(copy.deepcopy(item))
                else:
                    result[pos] = _merge(result[pos], item)
            return result
        if field in SET_LISTS:
            return list(live) + [v for v in config if v not in live]
    return copy.deepcopy(config)


def apply(live: dict | None, config: dict, manager: str, api_version: str, subresource: str | None,
          has_status: bool, *, force: bool) -> dict:
    """The object after ``manager`` applies ``config`` to ``live`` (None: it does not exist yet),
    with managedFields updated. Raises ApiError 409 on conflicts unless ``force``."""
    status_only = subresource == "status"
    live = copy.deepcopy(live) if live is not None else {}
    applied = field_set(config, has_status=has_status and not status_only)
    if status_only:
        applied = {p for p in applied if p[:1] == ("f:status",)}
    entries = _entries(live)
    conflicts: list[tuple[str, Path, dict]] = []
    previous: set[Path] = set()
    others: list[tuple[dict, set[Path]]] = []
    for e in entries:
        paths = from_tree(e.get("fieldsV1") or {})
        if _same_manager(e, manager, "Apply", api_version, subresource):
            previous = paths
            continue
        others.append((e, paths))
        for p in sorted(paths & applied):
            if value_at(live, p) != value_at(config, p):
                conflicts.append((e.get("manager", ""), p, e))
    if conflicts and not force:
        raise conflict_error(conflicts)
    merged = _merge(live, {k: v for k, v in config.items() if k != "metadata"})
    meta_config = config.get("metadata") or {}
    if isinstance(meta_config, dict):
        merged_meta = merged.setdefault("metadata", {})
        for k, v in meta_config.items():
            if k not in _UNMANAGED_META:
                merged_meta[k] = _merge(merged_meta.get(k), v, k) if k in merged_meta else copy.deepcopy(v)
    owned_by_others = set()
    for _, paths in others:
        owned_by_others |= paths
    for p in sorted(previous - applied, key=len, reverse=True):
        if p not in owned_by_others:
            _remove(merged, p)
            _prune_empty(merged, p[:-1])
    taken = {p for _, p, _ in conflicts} if force else set()
    kept = []
    for e, paths in others:
        kept.append(dict(e, fieldsV1=to_tree(paths - taken)))
    kept.append(_entry(manager, "Apply", api_version, subresource, applied))
    _set_entries(merged, kept)
    return merged


def _prune_empty(obj: Any, path: Path) -> None:
    """A map emptied by removing fields goes too (the applier no longer sets anything under it)."""
    while path:
        node = value_at(obj, path)
        if isinstance(node, dict) and not node and path[-1].startswith("f:"):
            _remove(obj, path)
            path = path[:-1]
        else:
            return


def conflict_error(conflicts: list[tuple[str, Path, dict]]) -> ApiError:
    def who(e: dict) -> str:
        text = json.dumps(e.get("manager", ""))
        if e.get("subresource"):
            text += f' with subresource "{e["subresource"]}"'
        if e.get("operation") == "Update":
            text += f" using {e.get('apiVersion', '')}"
        return text

    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {who(e)}", "field": path_text(p)}
              for _, p, e in conflicts]
    if len(conflicts) == 1:
        _, p, e = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {who(e)}: {path_text(p)}"
    else:
        by_manager: dict[str, list[str]] = {}
        for _, p, e in conflicts:
            by_manager.setdefault(who(e), []).append(path_text(p))
        lines = []
        for m in sorted(by_manager):
            lines.append(f"conflicts with {m}:")
            lines += [f"- {p}" for p in by_manager[m]]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def manager_from_user_agent(user_agent: str | None) -> str:
    """The manager of a request that names none: its User-Agent up to the first "/" (128 chars at most)."""
    return (user_agent or "unknown").split("/", 1)[0][:128] or "unknown"
