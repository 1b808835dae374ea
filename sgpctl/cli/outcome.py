"""The shape every mutating command shares (``mutate``), and its tail (``finish``): render the Outcome,
summarise on stderr, return the exit code.

``mutate(app, plan, run, ...)`` is the one confirmation policy:

1. ``plan(mode)`` computes what would change, from reads (``--dry-run=server`` also lets the APIs
   check each change). With ``--dry-run`` that is the report.
2. A plan that refuses is reported as the refused real run (nothing was done, ``dryRun`` false).
3. Nothing to change: the real run goes ahead without a question: it changes nothing, but runs its
   read-only checks (a lost CRD does not pass as "nothing to change").
4. Otherwise the plan goes to stderr and the question is asked on a terminal (``--yes`` in scripts and
   CI). A plan with ``forced`` steps (``--force`` went past a failed check) lists each overridden
   check and asks for the cluster id to be typed.
5. The real run: on a terminal its steps print as they finish, a spinner with the elapsed time shows
   the waits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sgpctl.errors import ExitCode


class StepStream:
    """Writes each step as soon as it is known (human output only), and remembers how many it wrote
    so that ``finish`` does not write them again."""

    def __init__(self, app, output):
        from sgpctl.render.output import parse_output

        self.app = app
        self.human = parse_output(output).human
        self.written = 0

    def __call__(self, step) -> None:
        if self.human:
            from sgpctl.render.steps import render_step

            render_step(self.app.out, step.to_dict())
            self.written += 1


def finish(app, outcome, output, stream: StepStream | None = None) -> ExitCode:
    """The outcome in the form ``-o`` asked for (``-o junit``: one testcase per step), then its summary
    on stderr. A form that cannot be applied to the result (a jsonpath index out of range) is reported
    after the summary, which says what was done."""
    from sgpctl.render.output import OutputFormat, parse_output
    from sgpctl.render.steps import render_outcome

    data = outcome.to_dict()
    spec = parse_output(output)
    skip = stream.written if stream is not None else 0
    try:
        if spec.form is OutputFormat.junit:
            from sgpctl.render.junit import steps_report

            app.out.write(steps_report(app.out.command, data))
        else:
            app.out.emit(data, spec, lambda term: render_outcome(term, data, skip), items="steps", kind="step")
    finally:
        app.out.note(outcome.summary())
    return outcome.exit_code


def show_plan(app, plan) -> None:
    """The planned and forced steps on stderr (forced ones in red on a terminal, naming each check
    that --force goes past)."""
    from sgpctl.core.steps import FORCED, PLANNED

    app.out.note("plan:")
    for s in plan.steps:
        if s.status == PLANNED:
            app.out.note(f"  ~ {s.message}")
        elif s.status == FORCED:
            app.out.alert(f"  ! FORCED: {s.message}")
            for name in s.details.get("overridden") or []:
                app.out.alert(f"      - {name}")


def mutate(app, plan: Callable[[Any], Any], run: Callable[[Any, Callable], Any], *, dry_run, yes: bool, output,
           question: str | Callable[[Any], str], cluster_id: str | None = None, timeout: float = 600.0,
           after: Callable[[Any], None] | None = None) -> ExitCode:
    """The confirmation policy of every mutating command (see the module's docstring). ``plan(mode)``
    returns the dry-run Outcome; ``run(waiter, on_step)`` the real one; ``question`` is asked (a
    function of the plan when it names what the plan found); ``after(outcome)`` adds notes."""
    from sgpctl.core.steps import PLANNED, DryRun

    mode = DryRun.of(dry_run)
    planned = plan(mode or DryRun.CLIENT)
    if mode or not planned.ok:
        report = planned if mode else planned.refused_run()
        code = finish(app, report, output)
        if after:
            after(report)
        return code
    if any(s.status == PLANNED for s in planned.steps) or planned.forced:
        question = question(planned) if callable(question) else question
        show_plan(app, planned)
        if planned.forced and cluster_id:
            overridden = sum(len(s.details.get("overridden") or [None]) for s in planned.forced)
            app.out.confirm_typed(f"{question} (--force goes past {overridden} failed check(s) listed above)", cluster_id, yes)
        else:
            app.out.confirm(question, yes)
    stream = StepStream(app, output)
    with app.waiter(timeout) as waiter:
        outcome = run(waiter, stream)
    code = finish(app, outcome, output, stream)
    if after:
        after(outcome)
    return code
