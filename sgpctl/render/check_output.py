"""The output of every command that reports checks (``doctor``, ``verify``, ``routing check``, ``snat
check``): linkerd's table, streamed as results arrive, or one JSON/YAML document at the end.

    <category>
    ----------
    <glyph> <description>
        <message>
        - <evidence>
        hint: <hint>            (or "see: <url>" when the hint is a link)

    Status check results are <glyph>

Results are written as they arrive (the runner yields them one by one), so a slow cloud call shows
progress instead of a frozen screen. Text goes through ``Terminal.clean``: object names and ConfigMap
contents are never markup, and control characters in them are escaped so that data cannot drive the
terminal.

What is shown beneath a line: for ``fail``, ``warn`` and ``info`` the message, up to ``MAX_EVIDENCE``
evidence lines (JSON has them all) and the hint; for ``skip`` the reason (and hint); for ``pass``
only a hint, when the check left one (a note such as "without SNAT, use a NAT gateway").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sgpctl.core.checks import CheckResult, Status, exit_code, to_json
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal

__all__ = ["MAX_EVIDENCE", "CheckTableRenderer", "emit_checks"]

MAX_EVIDENCE = 10
INDENT = "    "
_URL = re.compile(r"https?://\S+")


class CheckTableRenderer:
    """Feed results with ``add`` as they come; ``finish`` writes the status line and returns the exit code.
    On a terminal, text is wrapped at its width with a hanging indent (never inside a word)."""

    def __init__(self, term: Terminal, *, fail_on_warning: bool = False):
        from sgpctl.render.terminal import clean, wrap

        self.term = term
        self.clean = clean
        self.wrap = wrap
        self.width = term.width
        self.glyphs = term.glyphs()
        self.fail_on_warning = fail_on_warning
        self.results: list[CheckResult] = []
        self._category: str | None = None
        self._buffer: list[str] = []

    def _line(self, text: str = "") -> None:
        self._buffer.append(text + "\n")

    def _block(self, label: str, text: str) -> None:
        lines = self.clean(text).split("\n")
        pad = INDENT + " " * len(label)
        first = True
        for line in lines:
            if not line and not first:
                self._line("")
                continue
            if self.width:
                for part in self.wrap(line, self.width, INDENT + label if first else pad, pad):
                    self._line(part)
            else:
                self._line((INDENT + label if first else pad) + line)
            first = False

    def _evidence(self, evidence: list[str] | dict[str, Any]) -> None:
        items = [f"{k}: {v}" for k, v in evidence.items()] if isinstance(evidence, Mapping) else list(evidence)
        for item in items[:MAX_EVIDENCE]:
            self._block("- ", str(item))
        if len(items) > MAX_EVIDENCE:
            self._line(f"{INDENT}- ... and {len(items) - MAX_EVIDENCE} more (-o json shows all)")

    def _hint(self, hint: str) -> None:
        if _URL.fullmatch(hint.strip()):
            self._block("see: ", hint.strip())
        else:
            self._block("hint: ", hint)

    def add(self, result: CheckResult) -> None:
        if result.category != self._category:
            if self._category is not None:
                self._line()
            name = self.clean(result.category)
            self._line(name)
            self._line("-" * len(name))
            self._category = result.category
        glyph = self.glyphs[result.status.value]
        head = f"{glyph} {self.clean(result.description)}" + (" (acknowledged)" if result.acknowledged else "")
        if self.width:
            for part in self.wrap(head, self.width, "", " " * (len(glyph) + 1)):
                self._line(part)
        else:
            self._line(head)
        if result.status is not Status.PASS:
            if result.message:
                self._block("", result.message)
            if result.status is not Status.SKIP and result.evidence:
                self._evidence(result.evidence)
        if result.hint:
            self._hint(result.hint)
        self.results.append(result)

    def flush(self) -> None:
        if self._buffer:
            self.term.write("".join(self._buffer))
            self._buffer.clear()

    def finish(self, footer: Callable[[Terminal], None] | None = None) -> ExitCode:
        code = exit_code(self.results, self.fail_on_warning)
        if self.results:
            self._line()
        self.flush()
        if footer is not None:
            footer(self.term)
        glyph = self.glyphs["pass" if code == ExitCode.OK else "fail"]
        self._line(f"Status check results are {glyph}{counts(self.results)}")
        self.flush()
        return code


def counts(results: list[CheckResult]) -> str:
    """" (2 failed, 1 warning, 28 passed, 1 could not be determined)": what the status line adds."""
    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    by = {status: sum(1 for r in results if r.status is status and not r.undetermined) for status in Status}
    unknown = sum(1 for r in results if r.undetermined)
    parts = [n(by[Status.FAIL], "failed", "failed"), n(by[Status.WARN], "warning", "warnings"),
             n(by[Status.PASS], "passed", "passed"), n(by[Status.INFO], "note", "notes"),
             n(by[Status.SKIP], "skipped", "skipped"), n(unknown, "could not be determined", "could not be determined")]
    shown = [p for p in parts if not p.startswith("0 ")]
    return f" ({', '.join(shown)})" if shown else ""


def _all_checks(doc: dict) -> list:
    return [c for category in doc.get("categories") or [] for c in category.get("checks") or []]


def emit_checks(term: Terminal, results: Iterable[CheckResult], output: OutputFormat | str, *,
                fail_on_warning: bool = False, extra: Mapping[str, Any] | None = None,
                document: Callable[[list[CheckResult]], Any] | None = None,
                footer: Callable[[Terminal], None] | None = None, items=None, kind: str | None = None) -> ExitCode:
    """Render ``results`` (a generator is drawn and flushed result by result as it yields, a list at
    once) and return the exit code (``core.checks.exit_code``).

    JSON/YAML (and the forms computed from them): ``document(results)`` when given (a command with its
    own contract, e.g. verify), else ``core.checks.to_json`` with ``extra`` keys beside ``ok`` and
    ``categories``; ``-o name``/``custom-columns`` list its checks (or ``items``). JUnit: one testcase
    per result (``render.junit``). The table shows neither; ``footer(term)`` draws what a command adds
    under its results."""
    from sgpctl.render.output import parse_output

    spec = parse_output(output)
    if spec.form is OutputFormat.junit:
        from sgpctl.render.junit import checks_report

        items_ = list(results)
        term.write(checks_report(term.command, items_, fail_on_warning))
        return exit_code(items_, fail_on_warning)
    if spec.human:
        renderer = CheckTableRenderer(term, fail_on_warning=fail_on_warning)
        # A generator is drawn line by line as it yields (a slow check shows progress); results
        # already at hand (a list: verify's 10,000 Pods) are written at once.
        streaming = not isinstance(results, (list, tuple))
        for result in results:
            renderer.add(result)
            if streaming:
                renderer.flush()
        return renderer.finish(footer)
    listed = list(results)
    if document is not None:
        doc = document(listed)
    else:
        doc = to_json(listed, fail_on_warning)
        for key, value in (extra or {}).items():
            doc.setdefault(key, value)
        if items is None:
            items, kind = _all_checks, kind or "check"
    term.emit(doc, spec, items=items, kind=kind)
    return exit_code(listed, fail_on_warning)
