"""linkerd-style rendering of check results (``doctor``, ``routing check``, ``snat check``).

    <category>
    ----------
    <glyph> <description>
        <message>
        - <evidence>
        hint: <hint>            (or "see: <url>" when the hint is a link)

    Status check results are <glyph>

Results are written as they arrive (the runner yields them one by one), so a slow cloud call shows
progress instead of a frozen screen. Output is plain text on the given stream: nothing passes through
Rich, so object names and ConfigMap contents are never read as markup; control characters in them are
escaped so that data cannot drive the terminal.

What is shown beneath a line: for ``fail``, ``warn`` and ``info`` the message, up to ``MAX_EVIDENCE``
evidence lines (JSON has them all) and the hint; for ``skip`` the reason (and hint); for ``pass``
only a hint, when the check left one (a note such as "without SNAT, use a NAT gateway").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from sgpctl.core.checks import Category, CheckResult, Status, overall_exit_code, to_json

__all__ = ["MAX_EVIDENCE", "CheckTableRenderer", "render_checks", "render_json"]

MAX_EVIDENCE = 10
INDENT = "    "
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(text: Any) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _default_glyphs() -> dict[str, str]:
    from sgpctl.render.console import glyphs

    return glyphs()


class CheckTableRenderer:
    """Feed results with ``add`` as they come; ``finish`` writes the status line and returns the exit code."""

    def __init__(self, stream: TextIO, glyphs: Mapping[str, str] | None = None, *, fail_on_warning: bool = False):
        self.stream = stream
        self.glyphs = dict(glyphs) if glyphs is not None else _default_glyphs()
        self.fail_on_warning = fail_on_warning
        self.results: list[CheckResult] = []
        self._category: str | None = None

    def _line(self, text: str = "") -> None:
        self.stream.write(text + "\n")

    def _block(self, label: str, text: str) -> None:
        lines = _clean(text).split("\n")
        pad = INDENT + " " * len(label)
        self._line(INDENT + label + lines[0])
        for more in lines[1:]:
            self._line(pad + more if more else "")

    def _evidence(self, evidence: list[str] | dict[str, Any]) -> None:
        items = [f"{k}: {v}" for k, v in evidence.items()] if isinstance(evidence, Mapping) else list(evidence)
        for item in items[:MAX_EVIDENCE]:
            self._block("- ", str(item))
        if len(items) > MAX_EVIDENCE:
            self._line(f"{INDENT}- ... and {len(items) - MAX_EVIDENCE} more (-o json shows all)")

    def _hint(self, hint: str) -> None:
        if re.fullmatch(r"https?://\S+", hint.strip()):
            self._block("see: ", hint.strip())
        else:
            self._block("hint: ", hint)

    def add(self, result: CheckResult) -> None:
        if result.category != self._category:
            if self._category is not None:
                self._line()
            name = _clean(result.category)
            self._line(name)
            self._line("-" * len(name))
            self._category = result.category
        self._line(f"{self.glyphs[result.status.value]} {_clean(result.description)}")
        if result.status is not Status.PASS:
            if result.message:
                self._block("", result.message)
            if result.status is not Status.SKIP and result.evidence:
                self._evidence(result.evidence)
        if result.hint:
            self._hint(result.hint)
        self.stream.flush()
        self.results.append(result)

    def finish(self) -> int:
        code = overall_exit_code(self.results, self.fail_on_warning)
        glyph = self.glyphs["pass" if code == 0 else "fail"]
        unknown = sum(1 for r in self.results if r.undetermined)
        suffix = f" ({unknown} could not be determined)" if unknown else ""
        if self.results:
            self._line()
        self._line(f"Status check results are {glyph}{suffix}")
        self.stream.flush()
        return code


def render_checks(
    results: Iterable[CheckResult],
    stream: TextIO,
    glyphs: Mapping[str, str] | None = None,
    *,
    fail_on_warning: bool = False,
) -> tuple[list[CheckResult], int]:
    """Draw each result as it is produced, then the status line. Returns (results, exit code)."""
    renderer = CheckTableRenderer(stream, glyphs, fail_on_warning=fail_on_warning)
    for result in results:
        renderer.add(result)
    code = renderer.finish()
    return renderer.results, code


def render_json(
    results: Iterable[CheckResult | Category], stream: TextIO, *, fail_on_warning: bool = False
) -> int:
    """The JSON document (``core.checks.to_json``) on ``stream``. Returns the exit code."""
    from sgpctl.render.output import to_json as dumps

    items = list(results)
    doc = to_json(items, fail_on_warning)
    stream.write(dumps(doc))
    stream.flush()
    return overall_exit_code(items, fail_on_warning)
