"""Machine output: JSON and YAML documents, written as text, never through a terminal library
(which would wrap long lines and read ``[bracketed]`` text as markup).

JSON is indented down to the records: an object whose members are plain values, or lists and objects
of plain values (a check with its evidence, a step), is one line, and so is a list of plain values (a
Pod's groups); a list of objects takes one line per object. Every one-line record is encoded by the standard library's C
encoder: ``json.dumps(indent=...)`` falls back to the pure-Python encoder, which took most of
`verify pods -A -o json`'s time on 10,000 Pods."""

from __future__ import annotations

import enum
import json
from json.encoder import c_make_encoder, encode_basestring
from typing import Any


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    yaml = "yaml"


def _default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


# One C encoder, made once: ``json.JSONEncoder.encode`` builds a new one on every call, which cost more
# than the encoding for the 90,000 small records of `verify pods -A -o json` on 10,000 Pods. No cycle
# check (``markers=None``): documents are trees.
_C_ENCODE = c_make_encoder(None, _default, encode_basestring, None, ": ", ", ", False, False, True) if c_make_encoder \
    else json.JSONEncoder(ensure_ascii=False, default=_default, separators=(", ", ": ")).iterencode
_LITERALS = {True: "true", False: "false", None: "null"}


def _one_line(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is bool or value is None:
        return _LITERALS[value]
    if kind is int:
        return int.__repr__(value)
    return "".join(_C_ENCODE(value, 0))


def _flat(value: dict | list | tuple) -> bool:
    for v in (value.values() if type(value) is dict else value):
        kind = type(v)
        if (kind is dict or kind is list or kind is tuple) and v:
            return False
    return True


def _is_record(value: dict | list | tuple) -> bool:
    """One line: a list of plain values, or an object whose members are plain values or such lists and
    objects. A list of objects always takes one line per object."""
    if type(value) is not dict:
        return _flat(value)
    for v in value.values():
        kind = type(v)
        if (kind is dict or kind is list or kind is tuple) and v and not _flat(v):
            return False
    return True


_SCALARS = (str, int, float, bool, type(None))


def _write(value: Any, indent: str, parts: list[str], keys: dict[str, str]) -> None:
    kind = type(value)
    if kind is not dict and kind is not list and kind is not tuple and hasattr(value, "to_dict"):
        value = value.to_dict()
        kind = type(value)
    if (kind is not dict and kind is not list and kind is not tuple) or not value or _is_record(value):
        parts.append(_one_line(value))
        return
    inner = indent + "  "
    sep = "\n" + inner
    if kind is dict:
        parts.append("{")
        for key, item in value.items():
            # Keys repeat from record to record (10,000 Pods have the same ten): encode each once.
            encoded = keys.get(key)
            if encoded is None:
                encoded = keys[key] = encode_basestring(str(key)) + ": "
            parts.append(sep)
            parts.append(encoded)
            sep = ",\n" + inner
            if type(item) in _SCALARS:
                parts.append(_one_line(item))
            else:
                _write(item, inner, parts, keys)
        parts.append("\n" + indent + "}")
    else:
        parts.append("[")
        for item in value:
            parts.append(sep)
            sep = ",\n" + inner
            if type(item) is dict and _is_record(item):  # the common case, a list of records: one line each
                parts.append("".join(_C_ENCODE(item, 0)))
            else:
                _write(item, inner, parts, keys)
        parts.append("\n" + indent + "]")


def to_json(data: Any) -> str:
    parts: list[str] = []
    _write(data, "", parts, {})
    parts.append("\n")
    return "".join(parts)


def to_yaml(data: Any) -> str:
    import yaml  # lazy: start-up time

    # Round-trip through JSON so dataclass-ish values and tuples become plain YAML.
    plain = json.loads(json.dumps(data, default=_default))
    return yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, default_flow_style=False)


def serialize(data: Any, fmt: OutputFormat | str) -> str:
    """``data`` as a JSON or YAML document."""
    return to_yaml(data) if OutputFormat(fmt) is OutputFormat.yaml else to_json(data)
