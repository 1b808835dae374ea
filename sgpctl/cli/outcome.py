"""Shared tail of every mutating command: render the Outcome, summarise on stderr, return the exit code."""

from __future__ import annotations

from sgpctl.errors import ExitCode


def finish(app, outcome, output) -> ExitCode:
    """The outcome in the form ``-o`` asked for (``-o junit``: one testcase per step), then its summary
    on stderr. A form that cannot be applied to the result (a jsonpath index out of range) is reported
    after the summary, which says what was done."""
    from sgpctl.render.output import OutputFormat, parse_output
    from sgpctl.render.steps import render_outcome

    data = outcome.to_dict()
    spec = parse_output(output)
    try:
        if spec.form is OutputFormat.junit:
            from sgpctl.render.junit import steps_report

            app.out.write(steps_report(app.out.command, data))
        else:
            app.out.emit(data, spec, lambda term: render_outcome(term, data), items="steps", kind="step")
    finally:
        app.out.note(outcome.summary())
    return outcome.exit_code
