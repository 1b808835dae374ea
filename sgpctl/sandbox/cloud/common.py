"""Small helpers the action handlers share: the request context, paging, filters, id formats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .errors import ApiError, invalid_value, missing

if TYPE_CHECKING:  # pragma: no cover
    from .state import CloudState

SG_ID = re.compile(r"^sg-[0-9a-z]{8}$")
ENI_ID = re.compile(r"^eni-[0-9a-z]{8}$")
INSTANCE_ID = re.compile(r"^ins-[0-9a-z]{8}$")
CLUSTER_ID = re.compile(r"^cls-[0-9a-z]{8}$")


@dataclass
class Ctx:
    """One API call as a handler sees it."""

    state: "CloudState"
    service: str
    action: str
    region: str | None
    request_id: str
    secret_id: str


Handler = Callable[[Ctx, dict], dict]


def require(params: dict, name: str) -> Any:
    value = params.get(name)
    if value is None or value == "" or value == []:
        raise missing(name)
    return value


def int_param(params: dict, name: str, default: int, *, minimum: int = 0, maximum: int | None = None,
              code: str = "InvalidParameterValue") -> int:
    """An integer parameter that some APIs (VPC Offset/Limit) take as a string."""
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(f"{code}.Malformed" if code == "InvalidParameterValue" else code,
                       f"The value of parameter `{name}` is not an integer: {raw!r}.") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"[{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise ApiError("InvalidParameterValue.Range", f"The value of parameter `{name}` ({value}) must be in {bound}.")
    return value


def page(items: list, offset: int, limit: int) -> list:
    return items[offset : offset + limit]


def filters_of(params: dict, known: Iterable[str], *, code: str = "InvalidParameter.FilterInvalidKey",
               prefixes: Iterable[str] = ()) -> list[tuple[str, list[str]]]:
    """``Filters`` as ``(name, values)`` pairs; an unknown name raises ``code``."""
    out = []
    known = set(known)
    prefixes = tuple(prefixes)
    for i, f in enumerate(params.get("Filters") or []):
        name = f.get("Name")
        values = f.get("Values")
        if not name:
            raise missing(f"Filters.{i}.Name")
        if name not in known and not (prefixes and name.startswith(prefixes)):
            raise ApiError(code, f"The filter name `{name}` is not supported; supported: {', '.join(sorted(known))}.")
        if values is None:
            raise missing(f"Filters.{i}.Values")
        out.append((name, [str(v) for v in values]))
    return out


def check_ids(ids: list[str], pattern: re.Pattern, code: str, what: str) -> None:
    for i in ids:
        if not isinstance(i, str) or not pattern.match(i):
            raise ApiError(code, f"The {what} `{i}` is malformed.")


def at_most(name: str, values: list, limit: int, code: str = "InvalidParameterValue.LimitExceeded") -> None:
    if len(values) > limit:
        raise ApiError(code, f"The parameter `{name}` takes at most {limit} values, got {len(values)}.")


def one_of(params: dict, *names: str) -> str:
    """The name of the first of ``names`` given; MissingParameter naming them all otherwise."""
    for n in names:
        if params.get(n) not in (None, ""):
            return n
    raise ApiError("MissingParameter", f"The request needs one of {', '.join('`%s`' % n for n in names)}.")


def bad_value(name: str, why: str) -> ApiError:
    return invalid_value(name, why)
