"""All terminal output goes through here. Consoles are built lazily: a Console created at import time
would bind the real stderr and escape typer's CliRunner (see the facts file)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

_no_color = False


def configure(no_color: bool) -> None:
    global _no_color
    _no_color = no_color or "NO_COLOR" in os.environ


def _console(file) -> "Console":
    from rich.console import Console

    # Piped output (CI logs, grep) must not be cut at Rich's default 80 columns: let tables take
    # their natural width there; on a terminal, fit the terminal.
    width = None if is_tty(file) else int(os.environ.get("COLUMNS") or 0) or 512
    return Console(file=file, no_color=_no_color, highlight=False, soft_wrap=False, width=width)


def out() -> "Console":
    """Human-readable data (tables) on stdout."""
    return _console(sys.stdout)


def err() -> "Console":
    """Diagnostics, progress and notes on stderr."""
    return _console(sys.stderr)


def is_tty(stream=None) -> bool:
    stream = stream or sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def note(message: str) -> None:
    """A one-line diagnostic on stderr (plain text: never parsed as markup)."""
    from rich.text import Text

    err().print(Text(message), soft_wrap=True)  # one line, however long: scripts read it line by line


def glyphs(stream=None) -> dict[str, str]:
    """Status glyphs; plain ASCII when the stream (default stdout) is not a terminal (logs, CI)."""
    if is_tty(stream or sys.stdout) and not _no_color:
        return {"pass": "√", "fail": "×", "warn": "‼", "skip": "-", "info": "i"}
    return {"pass": "[ok]", "fail": "[FAIL]", "warn": "[warn]", "skip": "[skip]", "info": "[info]"}
