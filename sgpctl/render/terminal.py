"""The one output facade (hatch's ``Application``): every byte a command writes goes through a
``Terminal`` built on the command's ``Environment``.

- ``emit(data, fmt, human)``: the command's result on stdout, as JSON/YAML (``render.output``) or, for
  ``-o table``, drawn by ``human(terminal)``.
- ``line``/``heading``/``table``: human output on stdout. Plain text: no markup is interpreted, and
  control characters in data (object names, event messages) are escaped so that data cannot drive the
  terminal. Tables are laid out once, column widths from the widest cell, like kubectl's.
- ``note``/``error``: diagnostics on stderr.
- ``status(...)``: a transient progress line on a terminal's stderr, nothing otherwise (CI logs
  stay clean). ``confirm(...)`` asks on a terminal and refuses without one unless ``--yes``.
- ``checks(...)``: a stream of ``core.checks`` results, linkerd-style (``render.check_output``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sgpctl.environment import Environment
from sgpctl.render.output import OutputFormat, serialize

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"

GLYPHS_TTY = {"pass": "√", "fail": "×", "warn": "‼", "skip": "-", "info": "i"}
GLYPHS_ASCII = {"pass": "[ok]", "fail": "[FAIL]", "warn": "[warn]", "skip": "[skip]", "info": "[info]"}


def clean(text: Any) -> str:
    """``text`` with control characters escaped (``\\x1b`` shown as such, never sent)."""
    text = str(text)
    if text.isprintable():
        return text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def layout(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """The lines of a table: columns two spaces apart, each as wide as its widest cell."""
    cells = [[clean("" if v is None else v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, v in enumerate(row):
            if len(v) > widths[i]:
                widths[i] = len(v)
    last = len(headers) - 1

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(v if i == last else v.ljust(widths[i]) for i, v in enumerate(row)).rstrip()

    return [fmt(headers)] + [fmt(row) for row in cells]


class Terminal:
    def __init__(self, env: Environment, *, no_color: bool = False):
        self.env = env
        self.no_color = no_color or env.no_color

    @property
    def color(self) -> bool:
        return self.env.stdout_isatty and not self.no_color

    def glyphs(self) -> dict[str, str]:
        """Status glyphs; plain ASCII when stdout is not a terminal (logs, CI) or colour is off."""
        return GLYPHS_TTY if self.color else GLYPHS_ASCII

    # -- the command's result --------------------------------------------------------------------
    def emit(self, data: Any, fmt: OutputFormat | str, human: Callable[[Terminal], None] | None = None) -> None:
        """``data`` as JSON or YAML, or ``human(self)`` draws it for ``-o table``."""
        fmt = OutputFormat(fmt)
        if fmt is OutputFormat.table and human is not None:
            human(self)
        else:
            self.env.stdout.write(serialize(data, OutputFormat.yaml if fmt is OutputFormat.yaml else OutputFormat.json))
        self.env.stdout.flush()

    def write(self, text: str) -> None:
        """Raw text on stdout, as given (for output that is itself data, e.g. `sandbox env`)."""
        self.env.stdout.write(text)
        self.env.stdout.flush()

    # -- human output on stdout ------------------------------------------------------------------
    def line(self, text: Any = "") -> None:
        self.env.stdout.write(clean(text) + "\n")

    def lines(self, texts: Iterable[Any]) -> None:
        self.env.stdout.write("".join(clean(t) + "\n" for t in texts))

    def heading(self, text: Any) -> None:
        self.line(text) if not self.color else self.env.stdout.write(f"{_BOLD}{clean(text)}{_RESET}\n")

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        out = layout(headers, rows)
        if self.color:
            out[0] = f"{_BOLD}{out[0]}{_RESET}"
        self.env.stdout.write("\n".join(out) + "\n")

    # -- diagnostics on stderr -------------------------------------------------------------------
    def note(self, text: Any) -> None:
        self.env.stderr.write(clean(text) + "\n")
        self.env.stderr.flush()

    def error(self, message: Any, hint: Any = None) -> None:
        self.note(f"error: {message}")
        if hint:
            self.note(f"hint: {hint}")

    def traceback(self, exc: BaseException) -> None:
        import traceback

        self.env.stderr.write("".join(traceback.format_exception(exc)))
        self.env.stderr.flush()

    @contextlib.contextmanager
    def status(self, text: str = "working") -> Iterator[Callable[[str], None]]:
        """Yields ``update(message)``: one transient line on a terminal's stderr, silent otherwise."""
        if not self.env.stderr_isatty:
            yield lambda message: None
            return
        from rich.console import Console  # lazy: only on a terminal

        spinner = Console(file=self.env.stderr, no_color=self.no_color, highlight=False).status(text)
        spinner.start()
        try:
            yield lambda message: spinner.update(message)
        finally:
            spinner.stop()

    def confirm(self, question: str, yes: bool) -> None:
        """Ask on a terminal; without one, refuse unless ``yes`` (``--yes``) was given."""
        from sgpctl.errors import RefusedError

        if yes:
            return
        if not self.env.stdin_isatty:
            raise RefusedError(f"{question} — not confirmed (no terminal to ask)", hint="pass --yes to confirm in scripts and CI")
        self.env.stderr.write(f"{clean(question)} [y/N]:")
        self.env.stderr.flush()
        try:
            answer = self.env.stdin.readline().strip().lower()
        except KeyboardInterrupt:
            self.env.stderr.write("\n")  # the prompt's line ends before the interrupt's message
            raise
        if answer not in ("y", "yes"):
            raise RefusedError("not confirmed; nothing was changed")

    # -- check results ---------------------------------------------------------------------------
    def checks(self, results, fmt: OutputFormat | str, *, fail_on_warning: bool = False, extra=None, document=None,
               footer: Callable[[Terminal], None] | None = None):
        """Stream ``core.checks`` results and return the exit code (``render.check_output.emit_checks``)."""
        from sgpctl.render.check_output import emit_checks

        return emit_checks(self, results, fmt, fail_on_warning=fail_on_warning, extra=extra, document=document,
                           footer=footer)
