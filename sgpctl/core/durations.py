"""Durations as kubectl and Go write them: ``300`` (seconds), ``300s``, ``5m``, ``1h30m``, ``1.5m``,
``250ms``. Pure: the CLI turns ``DurationError`` into a usage error."""

from __future__ import annotations

import re

__all__ = ["DurationError", "parse_duration", "format_duration"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")


class DurationError(ValueError):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message = message
        self.hint = hint


def parse_duration(value: str | int | float, *, field: str = "--timeout", minimum: float = 1.0) -> float:
    """Seconds. A bare number is seconds; otherwise one or more number+unit parts (``h``, ``m``, ``s``,
    ``ms``) that add up, as Go's ``time.ParseDuration``. Less than ``minimum`` is an error."""
    hint = f"e.g. {field} 300, {field} 90s, {field} 5m or {field} 1h30m"
    if isinstance(value, bool):
        raise DurationError(f"{field} {value!r} is not a duration", hint)
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip()
        if _NUMBER.fullmatch(text):
            seconds = float(text)
        else:
            pos, seconds = 0, 0.0
            for m in _PART.finditer(text):
                if m.start() != pos:
                    break
                seconds += float(m.group(1)) * _UNITS[m.group(2)]
                pos = m.end()
            if pos != len(text) or not text:
                raise DurationError(f"{field} {value!r} is not a duration", hint)
    if seconds < minimum:
        raise DurationError(f"{field} {value!r} is shorter than {format_duration(minimum)}", hint)
    return seconds


def format_duration(seconds: float) -> str:
    """``90`` -> ``1m30s``; whole seconds, as Go prints them."""
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    parts = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s or not (h or m) else "")
    return parts
