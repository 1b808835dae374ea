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


def optional(**params) -> dict:
    """Request parameters without the unset ones (None or ""): the API treats an absent optional
    parameter as "not filtered", but may reject an empty value."""
    return {k: v for k, v in params.items() if v is not None and v != ""}


class Adapter:
    """The shape every service adapter shares: its service name and the session's one call path."""

    service: str

    def __init__(self, session):
        self.session = session

    def _call(self, action: str, params: dict, **kw) -> dict:
        return self.session.call(self.service, action, params, **kw)

    def _concurrently(self, fn, items: list, concurrency: int) -> list:
        """``[fn(x) for x in items]``, ``concurrency`` calls at a time, results in ``items``' order."""
        if concurrency <= 1 or len(items) <= 1:
            return [fn(x) for x in items]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
            return list(pool.map(fn, items))
