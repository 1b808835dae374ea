"""Request-parameter builders shared by the adapters."""

from __future__ import annotations

from typing import Mapping, Sequence

#: ``{"vpc-id": "vpc-1", "eni-type": ["0", "2"]}``: each filter's values are OR-ed, filters AND-ed
FilterSpec = Mapping[str, "str | Sequence[str]"]


def filters_param(filters: FilterSpec | None) -> list[dict]:
    out = []
    for name, values in (filters or {}).items():
        if isinstance(values, str):
            values = [values]
        out.append({"Name": name, "Values": [str(v) for v in values]})
    return out


def tags_param(tags: Mapping[str, str] | None) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in (tags or {}).items()]
