"""Request checking and response shaping against the installed tencentcloud SDK's models.

The SDK's models are the only machine-readable API schema at hand: every ``<Action>Request``
and ``<Action>Response`` class names its fields (``self._Name``) and documents each field's
type in its ``__init__`` docstring (``:type Name: str | int | bool | float | list of str |
list of Filter | :class:`tencentcloud.vpc.v20170312.models.SecurityGroup` ...``).

* :func:`check_request` refuses what the real API refuses before any action logic runs: an
  unknown parameter (at any depth: ``Filters.0.Nmae``) -> ``UnknownParameter``; a value of the
  wrong type (a string where a list is expected, an int where a string is) ->
  ``InvalidParameter``; a negative value in a ``list of int non-negative`` ->
  ``InvalidParameterValue``.
* :func:`query_to_params` rebuilds nested parameters from a GET query (the SDK flattens
  ``{"Filters": [{"Name": "x"}]}`` to ``Filters.0.Name=x``) and converts the strings to the
  model's types.
* :func:`shape_response` makes a handler's dict carry every field the ``<Action>Response``
  model defines (``None`` where the handler has nothing), recursively into nested models, drops
  internal keys (those starting with ``_``), and raises :class:`ShapeError` for any other key
  the model does not define, so a misspelt field fails loudly instead of being dropped by the
  SDK's ``_deserialize``.
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

#: service -> (API version, SDK models module, regional?)
SERVICES: dict[str, tuple[str, str, bool]] = {
    "cam": ("2019-01-16", "tencentcloud.cam.v20190116.models", False),
    "tke": ("2018-05-25", "tencentcloud.tke.v20180525.models", True),
    "vpc": ("2017-03-12", "tencentcloud.vpc.v20170312.models", True),
    "cvm": ("2017-03-12", "tencentcloud.cvm.v20170312.models", True),
}

_TYPE_LINE = re.compile(r":type (\w+):\s*(.+)")
_CLASS_REF = re.compile(r":class:`[\w.]+\.(\w+)`")


class ShapeError(Exception):
    """A handler produced a field the SDK's response model does not define (a sandbox bug)."""


@dataclass(frozen=True)
class TypeSpec:
    kind: str  # "str", "int", "bool", "float", "model", "list", "any"
    model: str | None = None  # class name when kind == "model"
    item: "TypeSpec | None" = None  # element type when kind == "list"
    non_negative: bool = False


def _parse_type(text: str) -> TypeSpec:
    text = text.strip()
    if text.startswith("list of "):
        inner = text[len("list of ") :].strip()
        non_negative = inner.endswith(" non-negative")
        if non_negative:
            inner = inner[: -len(" non-negative")].strip()
        return TypeSpec("list", item=_parse_type(inner), non_negative=non_negative)
    m = _CLASS_REF.match(text)
    if m:
        return TypeSpec("model", model=m.group(1))
    if text in ("str", "int", "bool", "float"):
        return TypeSpec(text)
    if re.fullmatch(r"[A-Z]\w*", text):
        return TypeSpec("model", model=text)
    return TypeSpec("any")


@functools.lru_cache(maxsize=None)
def _module(service: str):
    return importlib.import_module(SERVICES[service][1])


def model_class(service: str, name: str):
    cls = getattr(_module(service), name, None)
    return cls if isinstance(cls, type) else None


@functools.lru_cache(maxsize=None)
def fields(service: str, class_name: str) -> dict[str, TypeSpec]:
    """Field name -> type, in the model's declaration order (``RequestId`` included)."""
    cls = model_class(service, class_name)
    if cls is None:
        raise KeyError(f"{service} has no model {class_name}")
    declared = dict(_TYPE_LINE.findall(cls.__init__.__doc__ or ""))
    out: dict[str, TypeSpec] = {}
    for attr in vars(cls()):
        if attr == "_headers" or not attr.startswith("_"):
            continue
        name = attr[1:]
        out[name] = _parse_type(declared.get(name, "any"))
    return out


def has_action(service: str, action: str) -> bool:
    return model_class(service, f"{action}Request") is not None


# --- request checking -------------------------------------------------------------------------


def _type_name(spec: TypeSpec) -> str:
    if spec.kind == "list":
        return f"list of {_type_name(spec.item)}" if spec.item else "list"
    if spec.kind == "model":
        return f"object {spec.model}"
    return spec.kind


def _json_type(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _wrong_type(path: str, spec: TypeSpec, value: Any) -> ApiError:
    return ApiError(
        "InvalidParameter",
        f"The type of parameter `{path}` is invalid: expected {_type_name(spec)}, got {_json_type(value)}.",
    )


def _check_value(service: str, path: str, spec: TypeSpec, value: Any) -> None:
    if value is None or spec.kind == "any":
        return
    kind = spec.kind
    if kind == "str":
        if not isinstance(value, str):
            raise _wrong_type(path, spec, value)
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(path, spec, value)
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong_type(path, spec, value)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise _wrong_type(path, spec, value)
    elif kind == "list":
        if not isinstance(value, list):
            raise _wrong_type(path, spec, value)
        for i, item in enumerate(value):
            _check_value(service, f"{path}.{i}", spec.item, item)
            if spec.non_negative and isinstance(item, int) and item < 0:
                raise ApiError("InvalidParameterValue", f"The value of parameter `{path}.{i}` must not be negative.")
    elif kind == "model":
        if not isinstance(value, dict):
            raise _wrong_type(path, spec, value)
        _check_object(service, spec.model, value, path + ".")


def _check_object(service: str, class_name: str, obj: dict, prefix: str) -> None:
    known = fields(service, class_name)
    for key, value in obj.items():
        spec = known.get(key)
        if spec is None or key == "RequestId":
            raise ApiError("UnknownParameter", f"The parameter `{prefix}{key}` is not recognized.")
        _check_value(service, prefix + key, spec, value)


def check_request(service: str, action: str, params: dict) -> dict:
    """Validate ``params`` against ``<action>Request``; returns them unchanged."""
    if not isinstance(params, dict):
        raise ApiError("InvalidParameter", "The request parameters must be a JSON object.")
    _check_object(service, f"{action}Request", params, "")
    return params


# --- GET query parameters ---------------------------------------------------------------------


def _unflatten(pairs: list[tuple[str, str]]) -> dict:
    root: dict = {}
    for key, value in pairs:
        parts = key.split(".")
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:  # "A=1" and "A.B=2" in one query
                raise ApiError("InvalidParameter", f"The parameter `{key}` is malformed.")
    return _listify(root, "")


def _listify(node: Any, path: str) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        indexes = sorted(int(k) for k in node)
        if indexes != list(range(len(indexes))):
            raise ApiError("InvalidParameter", f"The list parameter `{path.rstrip('.')}` has gaps in its indexes.")
        return [_listify(node[str(i)], f"{path}{i}.") for i in indexes]
    return {k: _listify(v, f"{path}{k}.") for k, v in node.items()}


_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def _coerce(service: str, path: str, spec: TypeSpec, value: Any) -> Any:
    kind = spec.kind
    if kind == "list":
        if isinstance(value, list):
            return [_coerce(service, f"{path}.{i}", spec.item, v) for i, v in enumerate(value)]
        return value  # a scalar where a list belongs: check_request reports it
    if kind == "model":
        if isinstance(value, dict):
            known = fields(service, spec.model)
            return {k: _coerce(service, f"{path}.{k}", known[k], v) if k in known else v for k, v in value.items()}
        return value
    if not isinstance(value, str):
        return value
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError:
        raise ApiError("InvalidParameter", f"The type of parameter `{path}` is invalid: expected {kind}.") from None
    if kind == "bool":
        low = value.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ApiError("InvalidParameter", f"The type of parameter `{path}` is invalid: expected bool.")
    return value


def query_to_params(service: str, action: str, pairs: list[tuple[str, str]]) -> dict:
    """Nested, typed parameters from the ``(key, value)`` pairs of a GET query string."""
    params = _unflatten(pairs)
    known = fields(service, f"{action}Request")
    return {k: _coerce(service, k, known[k], v) if k in known else v for k, v in params.items()}


# --- response shaping -------------------------------------------------------------------------


def _shape_value(service: str, path: str, spec: TypeSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.kind == "model" and isinstance(value, dict):
        return _shape_object(service, spec.model, value, path + ".")
    if spec.kind == "list" and isinstance(value, list) and spec.item is not None and spec.item.kind == "model":
        return [_shape_value(service, f"{path}.{i}", spec.item, v) for i, v in enumerate(value)]
    return value


def _shape_object(service: str, class_name: str, data: dict, prefix: str) -> dict:
    known = fields(service, class_name)
    for key in data:
        if key not in known and not key.startswith("_"):
            raise ShapeError(f"{class_name} has no field {prefix}{key}")
    return {name: _shape_value(service, prefix + name, spec, data.get(name)) for name, spec in known.items()}


def shape_response(service: str, action: str, data: dict) -> dict:
    """``data`` with every field of ``<action>Response`` (RequestId left for the caller)."""
    shaped = _shape_object(service, f"{action}Response", data, "")
    shaped.pop("RequestId", None)
    return shaped


def shape(service: str, class_name: str, data: dict) -> dict:
    """Shape one nested object (e.g. a ``NetworkInterface``) the same way."""
    return _shape_object(service, class_name, data, "")


def prune_response(service: str, action: str, data: dict) -> tuple[dict, list[str]]:
    """An answer as an API sent it, without the fields ``<action>Response`` does not define at any depth
    (a newer API than the installed SDK knows), and the paths of those left out (``Clusters[].NewField``).
    What a region replayed from a capture can serve: ``shape_response`` refuses unknown fields."""
    dropped: list[str] = []

    def one(class_name: str, obj: dict, prefix: str) -> dict:
        known = fields(service, class_name)
        out = {}
        for key, value in obj.items():
            if key not in known:
                if f"{prefix}{key}" not in dropped:
                    dropped.append(f"{prefix}{key}")
                continue
            out[key] = value_of(known[key], value, prefix + key)
        return out

    def value_of(spec: TypeSpec, value: Any, path: str) -> Any:
        if spec.kind == "model" and isinstance(value, dict):
            return one(spec.model, value, path + ".")
        if spec.kind == "list" and isinstance(value, list) and spec.item is not None and spec.item.kind == "model":
            return [value_of(spec.item, v, path + "[]") for v in value]
        return value

    if model_class(service, f"{action}Response") is None:
        return {}, [f"{action} (not an action of the installed SDK)"]
    return one(f"{action}Response", data, ""), dropped
