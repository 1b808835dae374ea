"""Human rendering of a mutating workflow's Outcome (steps with their status)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgpctl.core.steps import CHANGED, FAILED, FORCED, PLANNED, REFUSED, SKIPPED, UNCHANGED, UNDETERMINED

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal

MARKS = {UNCHANGED: "=", CHANGED: "+", PLANNED: "~", FAILED: "x", REFUSED: "x", SKIPPED: "-", FORCED: "!",
         UNDETERMINED: "?"}
WORDS = {UNCHANGED: "ok", CHANGED: "changed", PLANNED: "planned", FAILED: "FAILED", REFUSED: "REFUSED", SKIPPED: "skipped",
         FORCED: "FORCED", UNDETERMINED: "UNKNOWN"}
_PAD = " " * 11


def step_lines(step: dict) -> list[tuple[str, str]]:
    """A step as (first line, hanging indent) pairs: the mark, the word, the message; its hint beneath
    when it failed, was refused or forced."""
    out = [(f"{MARKS.get(step['status'], '?')} {WORDS.get(step['status'], step['status']):<8} "
            f"{step['message'] or step['description']}", _PAD)]
    for change in (step.get("details") or {}).get("changes") or []:
        out.append((f"{_PAD}~ {change}", _PAD + "  "))
    if step.get("hint") and step["status"] in (FAILED, REFUSED, FORCED, UNDETERMINED):
        out.append((f"{_PAD}hint: {step['hint']}", _PAD + "      "))
    return out


def render_step(term: Terminal, step: dict) -> None:
    for text, hanging in step_lines(step):
        term.wrapped(text, "", hanging)


def render_outcome(term: Terminal, data: dict, skip: int = 0) -> None:
    """The steps (after the first ``skip``, which were streamed as they finished)."""
    for s in data["steps"][skip:]:
        render_step(term, s)
