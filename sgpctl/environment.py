"""The process boundary as one object (httpie's ``Environment``): the streams, whether they are
terminals, colour, width, the environment variables, the home directory and the clock.

``main()`` builds it from the real process (``Environment.from_process()``); tests and ``sgpctl demo``
build their own (``Environment.captured(environ=...)``) and pass it in, so nothing patches
``os.environ`` or ``sys.stdout`` to run a command. Everything that reads the environment, writes to a
terminal or waits takes it from here: settings (``environ``, ``home``), the output facade
(``render.terminal.Terminal``: streams, ``color``, ``width``), waiting (``clock``, ``sleep``) and ages
(``wall_clock``).
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


@dataclass
class Environment:
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    environ: Mapping[str, str] = field(default_factory=dict)
    home: Path = field(default_factory=Path.home)
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    #: --no-color or NO_COLOR (https://no-color.org): no colour, no terminal glyphs
    no_color: bool = False
    #: columns of the terminal; None when output is not a terminal (tables take their natural width)
    width: int | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    #: the time of day (epoch seconds), for ages of cloud resources
    wall_clock: Callable[[], float] = time.time

    @classmethod
    def from_process(cls) -> Environment:
        environ = dict(os.environ)
        width = None
        if _isatty(sys.stdout):
            import shutil

            width = shutil.get_terminal_size().columns
        return cls(
            stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr, environ=environ,
            home=Path(environ.get("HOME") or Path.home()),
            stdin_isatty=_isatty(sys.stdin), stdout_isatty=_isatty(sys.stdout), stderr_isatty=_isatty(sys.stderr),
            no_color="NO_COLOR" in environ, width=width,
        )

    @classmethod
    def captured(cls, environ: Mapping[str, str] | None = None, *, home: Path | str | None = None, stdin: str = "",
                 **kw) -> Environment:
        """In-memory streams (read them with ``.out()`` and ``.err()``), no terminal, the given
        variables only: what tests and ``sgpctl demo`` run commands in."""
        env = dict(environ or {})
        home_path = Path(home) if home is not None else Path(env.get("HOME") or Path.home())
        kw.setdefault("no_color", "NO_COLOR" in env)
        return cls(stdin=io.StringIO(stdin), stdout=io.StringIO(), stderr=io.StringIO(), environ=env, home=home_path, **kw)

    @property
    def color(self) -> bool:
        """Colour and terminal glyphs on stdout: only on a terminal, and never when asked not to."""
        return self.stdout_isatty and not self.no_color

    def out(self) -> str:
        """What was written to stdout (captured environments only)."""
        return self.stdout.getvalue()  # type: ignore[attr-defined]

    def err(self) -> str:
        """What was written to stderr (captured environments only)."""
        return self.stderr.getvalue()  # type: ignore[attr-defined]


def flush_process_streams() -> None:
    """Write out what the process's stdout and stderr still buffer (before an exit that skips the
    interpreter's teardown, which would do it)."""
    sys.stdout.flush()
    sys.stderr.flush()
