"""Output formats. Machine output (JSON, YAML) is written straight to stdout, never through Rich:
piped, Rich wraps long lines and eats ``[bracketed]`` text as markup."""

from __future__ import annotations

import enum
import json
import sys
from typing import Any, Callable


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    yaml = "yaml"


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=_default) + "\n"


def to_yaml(data: Any) -> str:
    import yaml  # lazy: start-up time

    # Round-trip through JSON so dataclass-ish values and tuples become plain YAML.
    plain = json.loads(json.dumps(data, default=_default))
    return yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


def emit(data: Any, fmt: OutputFormat | str, table: Callable[[], None] | None = None, *, stream=None) -> None:
    """Write ``data`` as JSON or YAML, or call ``table()`` to draw the human form."""
    fmt = OutputFormat(fmt)
    out = stream or sys.stdout
    if fmt is OutputFormat.json:
        out.write(to_json(data))
    elif fmt is OutputFormat.yaml:
        out.write(to_yaml(data))
    elif table is not None:
        table()
    else:
        out.write(to_json(data))
    out.flush()
