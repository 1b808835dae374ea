"""The one output facade (hatch's ``Application``): every byte a command writes goes through a
``Terminal`` built on the command's ``Environment``.

- ``emit(data, fmt, human)``: the command's result on stdout in the form ``-o`` asked for
  (``render.output``: JSON, YAML, name, jsonpath, custom-columns) or, for ``-o table``/``-o wide``,
  drawn by ``human(terminal)``; ``checks(...)`` does the same for check results (and ``-o junit``).
- ``line``/``heading``/``table``: human output on stdout. Plain text: no markup is interpreted, and
  control characters in data (object names, event messages) are escaped so that data cannot drive the
  terminal. Tables are laid out once, column widths from the widest cell, like kubectl's; identifiers
  are never cut: on a terminal too narrow for a table, its free-text columns (``Column(text=True)``)
  move under their row, wrapped with a hanging indent. ``Column(wide=True)`` only shows with ``-o
  wide``; ``--no-headers`` (``no_headers``) drops the header line.
- ``note``/``error``: diagnostics on stderr.
- ``status(...)``/``progress(...)``: a transient progress line with the elapsed time on a terminal's
  stderr, nothing otherwise (CI logs stay clean); it clears itself before anything else is written.
  ``confirm(...)`` asks on a terminal and refuses without one unless ``--yes``; ``confirm_typed``
  asks for a word (the cluster id) to be typed.
"""

from __future__ import annotations

import contextlib
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sgpctl.environment import Environment
from sgpctl.render.output import OutputFormat, form_text, parse_output, serialize

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


@dataclass(frozen=True)
class Column:
    """A table column: ``wide`` ones show only with ``-o wide``; ``text`` ones hold free text (a
    reason, a message), which moves under its row when the table does not fit the terminal."""

    title: str
    wide: bool = False
    text: bool = False


def layout(headers: Sequence[str] | None, rows: Iterable[Sequence[Any]]) -> list[str]:
    """The lines of a table: columns two spaces apart, each as wide as its widest cell (no header
    line when ``headers`` is None)."""
    cells = [[clean("" if v is None else v) for v in row] for row in rows]
    n = len(headers) if headers is not None else max((len(r) for r in cells), default=0)
    widths = [len(h) for h in headers] if headers is not None else [0] * n
    for row in cells:
        for i, v in enumerate(row):
            if len(v) > widths[i]:
                widths[i] = len(v)
    last = n - 1

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(v if i == last else v.ljust(widths[i]) for i, v in enumerate(row)).rstrip()

    return ([fmt(headers)] if headers is not None else []) + [fmt(row) for row in cells]


def wrap(text: str, width: int | None, indent: str = "", hanging: str | None = None) -> list[str]:
    """``text`` in lines of at most ``width`` columns, broken only at spaces (an identifier is never
    cut; one longer than the line stands alone), continuation lines indented by ``hanging``."""
    hanging = indent if hanging is None else hanging
    if not width:
        return [indent + text]
    lines = textwrap.wrap(text, width=max(width, len(hanging) + 20), initial_indent=indent, subsequent_indent=hanging,
                          break_long_words=False, break_on_hyphens=False)
    return lines or [indent.rstrip()]


class _Elapsed:
    """A spinner's text, rendered at each refresh with the seconds since it started (and the limit)."""

    def __init__(self, text: str, clock: Callable[[], float], limit: float | None):
        self.text, self.clock, self.limit = text, clock, limit
        self.started = clock()

    def __rich__(self) -> str:
        elapsed = int(self.clock() - self.started)
        return f"{self.text} ({elapsed}s" + (f" of {int(self.limit)}s)" if self.limit else ")")


class Terminal:
    def __init__(self, env: Environment, *, no_color: bool = False):
        self.env = env
        self.no_color = no_color or env.no_color
        #: --no-headers: tables (and custom-columns) without their header line
        self.no_headers = False
        #: set while a human renderer draws for -o wide
        self.wide = False
        #: the command line's path ("sgpctl doctor"): names JUnit reports
        self.command = "sgpctl"
        self._spinner: Any = None
        self._spinner_text: _Elapsed | None = None

    @property
    def color(self) -> bool:
        return self.env.stdout_isatty and not self.no_color

    @property
    def width(self) -> int | None:
        """Columns of the terminal; None when stdout is not one (lines are never wrapped then)."""
        return self.env.width if self.env.stdout_isatty else None

    def glyphs(self) -> dict[str, str]:
        """Status glyphs; plain ASCII when stdout is not a terminal (logs, CI) or colour is off."""
        return GLYPHS_TTY if self.color else GLYPHS_ASCII

    # -- the command's result --------------------------------------------------------------------
    def emit(self, data: Any, fmt: OutputFormat | str, human: Callable[[Terminal], None] | None = None, *,
             items: str | Callable[[Any], list] | None = None, kind: str | None = None) -> None:
        """``data`` in the form ``-o`` asked for; for ``-o table``/``wide`` ``human(self)`` draws it.
        ``items`` (a key or a function) and ``kind`` say what ``-o name`` and ``custom-columns`` list
        (``render.output.items_of``, ``name_of``); most documents need neither."""
        from sgpctl.errors import InputError

        spec = parse_output(fmt)
        if spec.human and human is not None:
            self.wide = spec.form is OutputFormat.wide
            try:
                human(self)
            finally:
                self.wide = False
        elif spec.human or spec.form in (OutputFormat.json, OutputFormat.yaml):
            self.write(serialize(data, OutputFormat.yaml if spec.form is OutputFormat.yaml else OutputFormat.json))
        elif spec.form is OutputFormat.junit:
            raise InputError(f"-o junit: `{self.command}` reports no checks",
                             hint="JUnit is for verify, doctor, routing check, snat check, traffic check, policy validate and the "
                                  "commands that change things; use -o json here")
        else:
            self.write(form_text(data, spec, items=items, kind=kind, no_headers=self.no_headers))
        self.env.stdout.flush()

    def write(self, text: str) -> None:
        """Raw text on stdout, as given (for output that is itself data, e.g. `sandbox env`)."""
        self.quiet()
        self.env.stdout.write(text)
        self.env.stdout.flush()

    # -- human output on stdout ------------------------------------------------------------------
    def line(self, text: Any = "") -> None:
        self.quiet()
        self.env.stdout.write(clean(text) + "\n")

    def lines(self, texts: Iterable[Any]) -> None:
        self.quiet()
        self.env.stdout.write("".join(clean(t) + "\n" for t in texts))

    def heading(self, text: Any) -> None:
        lines = wrap(clean(text), self.width, "", "  ")
        if self.color:
            lines = [f"{_BOLD}{line}{_RESET}" for line in lines]
        self.write("".join(line + "\n" for line in lines))

    def wrapped(self, text: Any, indent: str = "", hanging: str | None = None) -> None:
        """Free text on stdout, wrapped at the terminal's width with a hanging indent."""
        self.lines(wrap(clean(text), self.width, indent, hanging))

    def table(self, columns: Sequence[str | Column], rows: Iterable[Sequence[Any]]) -> None:
        cols = [c if isinstance(c, Column) else Column(c) for c in columns]
        keep = [i for i, c in enumerate(cols) if self.wide or not c.wide]
        cols = [cols[i] for i in keep]
        cells = [[clean("" if row[i] is None else row[i]) for i in keep] for row in rows]
        headers = [c.title for c in cols]
        out = layout(headers, cells)
        width = self.width
        text_columns = [i for i, c in enumerate(cols) if c.text]
        if width and not self.wide and text_columns and any(len(line) > width for line in out):
            # Identifiers stay whole on the row; the free text goes beneath it.
            inline = [i for i, c in enumerate(cols) if not c.text]
            out = layout([headers[i] for i in inline], [[r[i] for i in inline] for r in cells])
            rows_out = [out[0]]
            for row, line in zip(cells, out[1:]):
                rows_out.append(line)
                for i in text_columns:
                    if row[i] and row[i] != "-":
                        label = f"{headers[i]}: "
                        rows_out.extend(wrap(label + row[i], width, "    ", "    " + " " * len(label)))
            out = rows_out
        if self.no_headers:
            out = out[1:]
        elif self.color and out:
            out[0] = f"{_BOLD}{out[0]}{_RESET}"
        self.write("\n".join(out) + "\n" if out else "")

    # -- diagnostics on stderr -------------------------------------------------------------------
    def note(self, text: Any) -> None:
        self.quiet()
        self.env.stderr.write(clean(text) + "\n")
        self.env.stderr.flush()

    def alert(self, text: Any) -> None:
        """A diagnostic that must stand out (a check that --force goes past): red on a colour terminal."""
        if self.env.stderr_isatty and not self.no_color:
            self.quiet()
            self.env.stderr.write(f"\x1b[31m{clean(text)}{_RESET}\n")
            self.env.stderr.flush()
        else:
            self.note(text)

    def error(self, message: Any, hint: Any = None) -> None:
        self.note(f"error: {message}")
        if hint:
            self.note(f"hint: {hint}")

    def traceback(self, exc: BaseException) -> None:
        import traceback

        self.quiet()
        self.env.stderr.write("".join(traceback.format_exception(exc)))
        self.env.stderr.flush()

    # -- progress ----------------------------------------------------------------------------------
    def progress(self, text: str, limit: float | None = None) -> None:
        """Show (or change) the one transient progress line, with the elapsed time, on a terminal's
        stderr; nothing otherwise. It goes away by itself before the next write."""
        if not self.env.stderr_isatty:
            return
        if self._spinner is None:
            from rich.console import Console  # lazy: only on a terminal

            self._spinner_text = _Elapsed(text, self.env.clock, limit)
            # The Environment decided that stderr is a terminal (force it: Rich would ask the stream again).
            console = Console(file=self.env.stderr, no_color=self.no_color, highlight=False, force_terminal=True)
            self._spinner = console.status(self._spinner_text)
            self._spinner.start()
        elif self._spinner_text is not None:
            if self._spinner_text.limit != limit:  # another wait: its own clock
                self._spinner_text.started = self.env.clock()
            self._spinner_text.text, self._spinner_text.limit = text, limit

    def quiet(self) -> None:
        """Clear the progress line (before anything is written)."""
        if self._spinner is not None:
            spinner, self._spinner, self._spinner_text = self._spinner, None, None
            spinner.stop()

    @contextlib.contextmanager
    def status(self, text: str = "working", limit: float | None = None) -> Iterator[Callable[[str], None]]:
        """Yields ``update(message)``: one transient line (with the elapsed time, and ``limit`` seconds
        when given) on a terminal's stderr, silent otherwise."""
        if not self.env.stderr_isatty:
            yield lambda message: None
            return
        self.progress(text, limit)
        try:
            yield lambda message: self.progress(message, limit)
        finally:
            self.quiet()

    # -- questions -------------------------------------------------------------------------------
    def _ask(self, prompt: str) -> str:
        self.quiet()
        self.env.stderr.write(prompt)
        self.env.stderr.flush()
        try:
            return self.env.stdin.readline().strip()
        except KeyboardInterrupt:
            self.env.stderr.write("\n")  # the prompt's line ends before the interrupt's message
            raise

    def confirm(self, question: str, yes: bool) -> None:
        """Ask on a terminal; without one, refuse unless ``yes`` (``--yes``) was given."""
        from sgpctl.errors import RefusedError

        if yes:
            return
        if not self.env.stdin_isatty:
            raise RefusedError(f"{question} — not confirmed (no terminal to ask)", hint="pass --yes to confirm in scripts and CI")
        if self._ask(f"{clean(question)} [y/N]:").lower() not in ("y", "yes"):
            raise RefusedError("not confirmed; nothing was changed")

    def confirm_typed(self, question: str, word: str, yes: bool) -> None:
        """For a risky step: ask for ``word`` (the cluster id) to be typed, as `gh repo delete` does;
        without a terminal, refuse unless ``yes``."""
        from sgpctl.errors import RefusedError

        if yes:
            return
        if not self.env.stdin_isatty:
            raise RefusedError(f"{question} — not confirmed (no terminal to ask)",
                               hint="pass --yes to confirm in scripts and CI")
        if self._ask(f"{clean(question)}\ntype {word} to confirm: ") != word:
            raise RefusedError(f"{word} was not typed; nothing was changed")

    # -- check results ---------------------------------------------------------------------------
    def checks(self, results, fmt: OutputFormat | str, *, fail_on_warning: bool = False, extra=None, document=None,
               footer: Callable[[Terminal], None] | None = None, items=None, kind: str | None = None):
        """Stream ``core.checks`` results and return the exit code (``render.check_output.emit_checks``)."""
        from sgpctl.render.check_output import emit_checks

        return emit_checks(self, results, fmt, fail_on_warning=fail_on_warning, extra=extra, document=document,
                           footer=footer, items=items, kind=kind)
