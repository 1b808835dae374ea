"""Shared tail of every mutating command: render the Outcome, summarise on stderr, set the exit code."""

from __future__ import annotations

import contextlib

import typer

from sgpctl.errors import ExitCode
from sgpctl.render.output import emit


def finish(outcome, output) -> None:
    from sgpctl.render.console import note
    from sgpctl.render.steps import render_outcome

    data = outcome.to_dict()
    emit(data, output, lambda: render_outcome(data))
    note(outcome.summary())
    if not outcome.ok:
        raise typer.Exit(int(ExitCode.FAILED))


@contextlib.contextmanager
def progress_waiter(timeout: float, interval: float = 2.0):
    """A Waiter whose progress is one transient line on stderr when it is a terminal, silent
    otherwise (CI logs stay clean)."""
    from sgpctl.render.console import err, is_tty
    from sgpctl.workflows.waiting import Waiter

    if not is_tty():
        yield Waiter(timeout=timeout, interval=interval)
        return
    status = err().status("working")
    status.start()
    try:
        yield Waiter(timeout=timeout, interval=interval, progress=lambda message: status.update(message))
    finally:
        status.stop()


def confirm(question: str, yes: bool) -> None:
    """Ask on a TTY; without a TTY, refuse unless --yes was given."""
    from sgpctl.errors import RefusedError
    from sgpctl.render.console import is_tty

    if yes:
        return
    import sys

    if not is_tty(sys.stdin):
        raise RefusedError(f"{question} — not confirmed (no terminal to ask)", hint="pass --yes to confirm in scripts and CI")
    if not typer.confirm(question, default=False, err=True):
        raise RefusedError("not confirmed; nothing was changed")
