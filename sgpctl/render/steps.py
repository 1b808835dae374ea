"""Human rendering of a mutating workflow's Outcome (steps with their status)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgpctl.core.steps import CHANGED, FAILED, PLANNED, REFUSED, SKIPPED, UNCHANGED, UNDETERMINED

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal

MARKS = {UNCHANGED: "=", CHANGED: "+", PLANNED: "~", FAILED: "x", REFUSED: "x", SKIPPED: "-", UNDETERMINED: "?"}
WORDS = {UNCHANGED: "ok", CHANGED: "changed", PLANNED: "planned", FAILED: "FAILED", REFUSED: "REFUSED", SKIPPED: "skipped",
         UNDETERMINED: "UNKNOWN"}


def render_outcome(term: Terminal, data: dict) -> None:
    for s in data["steps"]:
        term.line(f"{MARKS.get(s['status'], '?')} {WORDS.get(s['status'], s['status']):<8} {s['message'] or s['description']}")
        if s.get("hint") and s["status"] in (FAILED, REFUSED, UNDETERMINED):
            term.line(f"           hint: {s['hint']}")
