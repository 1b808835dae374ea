"""Shared tail of every mutating command: render the Outcome, summarise on stderr, return the exit code."""

from __future__ import annotations

from sgpctl.errors import ExitCode


def finish(app, outcome, output) -> ExitCode:
    from sgpctl.render.steps import render_outcome

    data = outcome.to_dict()
    app.out.emit(data, output, lambda term: render_outcome(term, data))
    app.out.note(outcome.summary())
    return outcome.exit_code


def confirm_plan(app, steps, question: str, yes: bool) -> None:
    """Show the planned steps on stderr, then ask (``--yes`` answers; refused off a terminal)."""
    app.out.note("plan:")
    for s in steps:
        app.out.note(f"  ~ {s.message}")
    app.out.confirm(question, yes)
