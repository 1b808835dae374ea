"""Add-on values (the nested JSON of TKE DescribeAddonValues / UpdateAddon) addressed by dotted keys.

The seed names eniipamd settings as dotted keys (``vpcCni.trunkingEni.enableSubEni``); the API takes
nested objects and, with ``UpdateStrategy=merge``, deep-merges them into the values already set. So a
change is sent as ``patch_for(key, value)`` and what the add-on will hold afterwards is
``values_merge(current, patch)``.

Decisions:
- A literal dot inside one key is written ``\\.`` (Helm's ``--set`` escape), so keys such as
  ``tke.cloud.tencent.com/x`` stay addressable.
- ``values_merge`` follows Helm's value coalescing, as the sandbox's emulated UpdateAddon does:
  mappings merge key by key, anything else (lists included) replaces, and ``None`` deletes the key.
  How the real UpdateAddon treats ``null`` is unconfirmed; sgpctl never sends one.
- The chart's types for the seed keys are unconfirmed (``true`` or ``"true"``?), so a write keeps the
  type already stored: ``coerce_like(existing, new)``.
- ``mode_of`` reads ``vpcCni.trunkingEni.podSecurityGroupEnforcingMode`` exactly: only ``strict``
  is strict. Whether eniipamd accepts ``Strict`` is unconfirmed, and claiming strict mode that the
  agent does not apply is the worse mistake. Pass the effective values (DefaultValues merged with
  Values) when the chart's default matters.
- How deep UpdateAddon's ``merge`` goes is unconfirmed (nested keys merged, or each top-level key sent
  replaced). ``subtree_patch`` builds the patch that ends the same under both readings: every
  top-level key it touches is sent whole, with the change applied, so what the add-on holds
  afterwards is ``replaced_top_level(current, patch)`` either way. ``leaf_diff`` compares two value
  documents leaf by leaf, the read-back after every write.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any, Literal

from sgpctl.errors import InputError

__all__ = [
    "DEMUX_KEYS",
    "DISABLE_TCP_EARLY_DEMUX",
    "DISABLE_UDP_EARLY_DEMUX",
    "ENABLE_SUB_ENI",
    "ENFORCING_MODE",
    "coerce_like",
    "dotted",
    "is_true",
    "leaf_diff",
    "leaves",
    "mode_of",
    "patch_for",
    "routing_patch",
    "routing_values",
    "replaced_top_level",
    "split_key",
    "subtree_patch",
    "values_get",
    "values_merge",
    "values_set",
]

ENABLE_SUB_ENI = "vpcCni.trunkingEni.enableSubEni"
ENFORCING_MODE = "vpcCni.trunkingEni.podSecurityGroupEnforcingMode"
DISABLE_TCP_EARLY_DEMUX = "agent.config.disableTcpEarlyDemux"
DISABLE_UDP_EARLY_DEMUX = "agent.config.disableUdpEarlyDemux"
DEMUX_KEYS = (DISABLE_TCP_EARLY_DEMUX, DISABLE_UDP_EARLY_DEMUX)

Mode = Literal["strict", "standard"]
#: the routing modes of Trunking ENI Pods (eniipamd's podSecurityGroupEnforcingMode)
MODES: tuple[Mode, ...] = ("strict", "standard")


def routing_mode(value: str, *, flag: str = "") -> Mode:
    """``value`` when it names a routing mode; otherwise bad input naming ``flag`` (or the argument)."""
    if value in MODES:
        return value  # type: ignore[return-value]
    if flag:
        raise InputError(f"{flag} {value!r} is not a routing mode", hint=f"use {flag} strict or {flag} standard")
    raise InputError(f"unknown routing mode {value!r}", hint="use strict or standard")

_MISSING = object()
_UNESCAPED_DOT = re.compile(r"(?<!\\)\.")


def split_key(dotted: str) -> list[str]:
    """``"a.b\\.c"`` -> ``["a", "b.c"]``. Empty parts are an input error."""
    if not isinstance(dotted, str) or not dotted:
        raise InputError(f"invalid values key {dotted!r}: expected a dotted key such as {ENABLE_SUB_ENI}")
    parts = [p.replace("\\.", ".") for p in _UNESCAPED_DOT.split(dotted)]
    if any(p == "" for p in parts):
        raise InputError(f"invalid values key {dotted!r}: empty part between dots")
    return parts


def values_get(values: Mapping[str, Any] | None, dotted: str, default: Any = None) -> Any:
    """The value at ``dotted``, or ``default`` when any part is missing or a parent is not a mapping."""
    node: Any = values
    for part in split_key(dotted):
        if not isinstance(node, Mapping):
            return default
        node = node.get(part, _MISSING)
        if node is _MISSING:
            return default
    return node


def patch_for(dotted: str, value: Any) -> dict[str, Any]:
    """The nested object that sets one dotted key: ``patch_for("a.b", 1) == {"a": {"b": 1}}``."""
    out: Any = copy.deepcopy(value)
    for part in reversed(split_key(dotted)):
        out = {part: out}
    return out


def values_merge(base: Mapping[str, Any] | None, patch: Mapping[str, Any] | None) -> dict[str, Any]:
    """A new dict: ``patch`` deep-merged into ``base`` (neither is modified)."""
    out = copy.deepcopy(dict(base or {}))
    for key, value in (patch or {}).items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = values_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def values_set(values: Mapping[str, Any] | None, dotted: str, value: Any) -> dict[str, Any]:
    """A new dict with ``dotted`` set to ``value``; refuses to replace a non-mapping parent."""
    parts = split_key(dotted)
    node: Any = values or {}
    for i, part in enumerate(parts[:-1]):
        node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None and not isinstance(node, Mapping):
            parent = ".".join(parts[: i + 1])
            raise InputError(
                f"cannot set {dotted}: {parent} holds {type(node).__name__} {node!r}, not an object"
            )
    return values_merge(values, patch_for(dotted, value))


def is_true(value: Any) -> bool:
    """True for ``True`` and the string ``"true"`` (any case): charts store booleans either way."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def coerce_like(existing: Any, new: Any) -> Any:
    """``new`` in the type of ``existing`` where the two are interchangeable spellings of one value:
    a chart that stores ``"true"`` keeps a string, one that stores ``true`` keeps a boolean.
    Anything else (no existing value, or types that do not translate) returns ``new`` unchanged."""
    if existing is None or type(existing) is type(new):
        return new
    if isinstance(existing, str):
        if isinstance(new, bool):
            # Lower case, as YAML and Go's strconv.FormatBool write booleans.
            return "true" if new else "false"
        if isinstance(new, (int, float)):
            return str(new)
        return new
    if isinstance(existing, bool):
        if is_true(new):
            return True
        if _is_false(new):
            return False
        return new
    if isinstance(existing, int) and isinstance(new, str) and re.fullmatch(r"[+-]?\d+", new.strip()):
        return int(new)
    return new


def mode_of(values: Mapping[str, Any] | None) -> Mode:
    """``strict`` when podSecurityGroupEnforcingMode is exactly ``strict``; anything else (absent
    included: the seed's default) is ``standard``."""
    return "strict" if values_get(values, ENFORCING_MODE) == "strict" else "standard"


def routing_values(values: Mapping[str, Any] | None, mode: Mode, standard_value: str = "standard") -> dict[str, Any]:
    """The dotted keys that switch routing to ``mode``, each with its value (types kept as stored in
    ``values``).

    strict sets the mode ``strict`` and both demux settings true (the seed's steps 3.2 and 3.3);
    standard sets only the mode, to ``standard_value`` (what eniipamd's DefaultValues hold: the seed
    names no value for it), and leaves demux alone: early demux off is harmless in standard mode, and
    turning it back on is not part of the documented procedure.
    """
    routing_mode(mode)
    wanted: list[tuple[str, Any]] = [(ENFORCING_MODE, "strict" if mode == "strict" else standard_value)]
    if mode == "strict":
        wanted += [(key, True) for key in DEMUX_KEYS]
    return {key: coerce_like(values_get(values, key), value) for key, value in wanted}


def routing_patch(values: Mapping[str, Any] | None, mode: Mode, standard_value: str = "standard") -> dict[str, Any]:
    """``routing_values`` as one nested merge patch of those keys alone."""
    patch: dict[str, Any] = {}
    for key, value in routing_values(values, mode, standard_value).items():
        patch = values_merge(patch, patch_for(key, value))
    return patch


# --- whole-subtree writes and leaf-by-leaf read-backs -------------------------------------------

Path = tuple[str, ...]
#: a leaf that one side of a comparison does not have
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "(absent)"})()


def dotted(path: Path) -> str:
    """``("a", "b.c")`` -> ``"a.b\\.c"``: the inverse of ``split_key``."""
    return ".".join(p.replace(".", "\\.") for p in path)


def leaves(values: Mapping[str, Any] | None, prefix: Path = ()) -> dict[Path, Any]:
    """Every leaf of a value document by path. A leaf is anything but a non-empty mapping: a
    scalar, ``None``, a list (compared whole, as UpdateAddon replaces lists), or an empty mapping."""
    out: dict[Path, Any] = {}
    for key, value in (values or {}).items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            out.update(leaves(value, path))
        else:
            out[path] = value
    return out


def leaf_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[tuple[Path, Any, Any]]:
    """``(path, before, after)`` for every leaf that differs, ``ABSENT`` on the side that lacks it;
    sorted by path. ``True`` and ``1`` differ (JSON does not mix them up either)."""
    a, b = leaves(before), leaves(after)
    out = []
    for path in sorted(a.keys() | b.keys()):
        x, y = a.get(path, ABSENT), b.get(path, ABSENT)
        if x is ABSENT or y is ABSENT or type(x) is not type(y) or x != y:
            out.append((path, x, y))
    return out


def subtree_patch(current: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The patch that sets each dotted key of ``changes`` and sends every top-level key it touches
    whole (``current``'s subtree with the changes applied): UpdateAddon's merge gives the same
    result with it whether it merges nested keys or replaces each top-level key sent."""
    wanted: dict[str, Any] = copy.deepcopy(dict(current or {}))
    tops: list[str] = []
    for key, value in changes.items():
        wanted = values_set(wanted, key, value)
        top = split_key(key)[0]
        if top not in tops:
            tops.append(top)
    return {top: wanted[top] for top in tops}


def replaced_top_level(current: Mapping[str, Any] | None, patch: Mapping[str, Any]) -> dict[str, Any]:
    """What the add-on holds after a patch of whole top-level subtrees under the shallow reading of
    merge (each top-level key sent replaces the one held); under the deep reading it is the same
    when every subtree sent holds every leaf of the one it replaces (``subtree_patch`` does)."""
    out = copy.deepcopy(dict(current or {}))
    out.update(copy.deepcopy(dict(patch)))
    return out
