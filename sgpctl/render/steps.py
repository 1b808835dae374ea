"""Human rendering of a mutating workflow's Outcome (steps with their status)."""

from __future__ import annotations

from sgpctl.workflows.steps import CHANGED, FAILED, PLANNED, REFUSED, SKIPPED, UNCHANGED

MARKS = {UNCHANGED: "=", CHANGED: "+", PLANNED: "~", FAILED: "x", REFUSED: "x", SKIPPED: "-"}
WORDS = {UNCHANGED: "ok", CHANGED: "changed", PLANNED: "planned", FAILED: "FAILED", REFUSED: "REFUSED", SKIPPED: "skipped"}


def render_outcome(data: dict) -> None:
    from sgpctl.render.tables import line

    for s in data["steps"]:
        line(f"{MARKS.get(s['status'], '?')} {WORDS.get(s['status'], s['status']):<8} {s['message'] or s['description']}")
        if s.get("hint") and s["status"] in (FAILED, REFUSED):
            line(f"           hint: {s['hint']}")
