"""Durations as people type them (``90s``, ``10m``, ``1h30m``, ``2d``) and as kubectl shows ages
(``45s``, ``12m``, ``3h4m``, ``5d``).

Pure: the parser raises ``DurationError`` (a ``ValueError``) with a sentence and a hint, which the
option callback turns into exit 2. Every ``--timeout`` reads ``300``, ``300s``, ``5m``, ``1h30m``
(``sgpctl.cli.options.Timeout``), as kubectl's do.
"""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+")


class DurationError(ValueError):
    def __init__(self, message: str, hint: str = "e.g. 300, 90s, 5m, 1h30m, 2d"):
        super().__init__(message)
        self.message = message
        self.hint = hint


def parse_duration(text: str | int | float, *, field: str | None = None, minimum: float | None = None) -> float:
    """Seconds in ``text``: one or more ``<number><unit>`` parts, units ``s``, ``m``, ``h``, ``d``
    (``1h30m``); a bare number is seconds. ``field`` names the option in the message; less than
    ``minimum`` is an error too."""
    hint = f"e.g. {field} 300, {field} 90s, {field} 5m or {field} 1h30m" if field else "e.g. 300, 90s, 5m, 1h30m, 2d"
    if isinstance(text, bool):
        raise DurationError(f"{field + ' ' if field else ''}{text!r} is not a duration", hint)
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        value = str(text).strip().lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", value):
            seconds = float(value)
        elif not value or not _WHOLE.fullmatch(value):
            if field:
                raise DurationError(f"{field} {text!r} is not a duration", hint)
            raise DurationError(f"{text!r} is not a duration: use a number and a unit, e.g. 30s, 10m, 1h30m, 2d", hint)
        else:
            seconds = float(sum(float(n) * _UNITS[u] for n, u in _PART.findall(value)))
    if minimum is not None and seconds < minimum:
        raise DurationError(f"{field + ' ' if field else ''}{text!r} is shorter than {format_duration(minimum)}", hint)
    return seconds


def format_age(seconds: float | None) -> str:
    """kubectl's way: the two largest units below a day's precision (``45s``, ``12m``, ``3h4m``,
    ``5d``); ``-`` when unknown."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 600:
        m, rest = divmod(s, 60)
        return f"{m}m{rest}s" if rest else f"{m}m"
    if s < 3600:
        return f"{s // 60}m"
    if s < 8 * 3600:
        h, rest = divmod(s, 3600)
        return f"{h}h{rest // 60}m" if rest // 60 else f"{h}h"
    if s < 2 * 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def format_duration(seconds: float) -> str:
    """An option's value back as typed: ``600`` -> ``10m``, ``90`` -> ``90s``, ``5400`` -> ``1h30m``."""
    s = int(round(seconds))
    if s and s % 86400 == 0:
        return f"{s // 86400}d"
    if s >= 3600 and s % 60 == 0:
        h, m = divmod(s // 60, 60)
        return f"{h}h{m}m" if m else f"{h}h"
    if s >= 60 and s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"
