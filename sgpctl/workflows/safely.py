"""Mutating cloud calls whose outcome is unknown (a timeout or 5xx after the request was sent): the
cloud adapters never repeat them blindly (a second CreateSecurityGroup would make a duplicate), so
workflows look first whether the call took effect and only then try again."""

from __future__ import annotations

from typing import Callable, TypeVar

from sgpctl.cloud.errors import OutcomeUnknownError

T = TypeVar("T")


def create_once(do: Callable[[], T], find: Callable[[], T | None], attempts: int = 3) -> tuple[T, bool]:
    """(result, created_by_us). ``find`` returns what an earlier attempt created, or None."""
    for attempt in range(attempts):
        try:
            return do(), True
        except OutcomeUnknownError:
            found = find()
            if found is not None:
                return found, False
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def ensure(do: Callable[[], object], done: Callable[[], bool], attempts: int = 3) -> None:
    """Run ``do`` until ``done()`` says it took effect (for attach/install-like calls)."""
    for attempt in range(attempts):
        try:
            do()
            return
        except OutcomeUnknownError:
            if done():
                return
            if attempt == attempts - 1:
                raise
