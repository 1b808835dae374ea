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


_ONE_LINE = json.JSONEncoder(ensure_ascii=False, default=_default, separators=(", ", ": "))
_CONTAINERS = (dict, list, tuple)


def _flat(value: dict | list | tuple) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return not any(v and isinstance(v, _CONTAINERS) for v in items)


def _is_record(value: dict | list | tuple) -> bool:
    """One line: a list of plain values, or an object whose members are plain values or such lists and
    objects. A list of objects always takes one line per object."""
    if not isinstance(value, dict):
        return _flat(value)
    return all(not (v and isinstance(v, _CONTAINERS)) or _flat(v) for v in value.values())


def _write(value: Any, indent: str, parts: list[str]) -> None:
    if hasattr(value, "to_dict") and not isinstance(value, _CONTAINERS):
        value = value.to_dict()
    if not value or not isinstance(value, _CONTAINERS) or _is_record(value):
        parts.append(_ONE_LINE.encode(value))
        return
    inner = indent + "  "
    if isinstance(value, dict):
        parts.append("{")
        first = True
        for key, item in value.items():
            parts.append("\n" + inner if first else ",\n" + inner)
            first = False
            parts.append(_ONE_LINE.encode(str(key)) + ": ")
            _write(item, inner, parts)
        parts.append("\n" + indent + "}")
    else:  # a list or a tuple
        parts.append("[")
        for i, item in enumerate(value):
            parts.append(("\n" if i == 0 else ",\n") + inner)
            _write(item, inner, parts)
        parts.append("\n" + indent + "]")


def to_json(data: Any) -> str:
    parts: list[str] = []
    _write(data, "", parts)
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
