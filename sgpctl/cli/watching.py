"""``-w/--watch``: read again and again, and say what changed, as `kubectl get -w` does.

A command that can be watched passes ``watch(app, poll)`` a function that reads afresh and returns a
one-line summary and the state of each thing it reports (``{"my-namespace/web-1": "ok", ...}``). The
first read prints every state, later reads one line per thing whose state changed (``(gone)`` when it
went away): on a terminal and in a log alike. On a terminal the summary also stays on a live line
with the time it has been watching. Ctrl-C ends the watch (exit 130, as any interrupt).
"""

from __future__ import annotations

from collections.abc import Callable

from sgpctl.errors import ExitCode

#: seconds between reads
INTERVAL = 2.0


def watch(app, poll: Callable[[], tuple[str, dict[str, str]]], *, interval: float = INTERVAL) -> ExitCode:
    import gc

    # A watch serves until Ctrl-C: the cyclic collector, paused for a command that ends
    # (``Entry.runs_briefly``), runs again, or each read's cycles would pile up for hours.
    gc.enable()
    previous: dict[str, str] | None = None
    width = 0
    while True:
        summary, states = poll()
        before = previous or {}
        changed = [(key, states.get(key, "(gone)")) for key in sorted(set(states) | set(before))
                   if before.get(key) != states.get(key, "(gone)") or previous is None]
        if previous is None:
            width = max([len("NAME")] + [len(k) for k in states])
            if not app.out.no_headers:
                app.out.line(f"{'NAME'.ljust(width)}  STATE")
        app.out.lines(f"{key.ljust(width)}  {state}" for key, state in changed)
        previous = states
        app.out.progress(f"{summary} (watching; Ctrl-C stops)")
        app.env.sleep(interval)
