"""Human rendering of `verify pod` and `verify pods` beyond their check results: the Pod's chain of
groups, and the per-namespace summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.core.verify import PodVerification
    from sgpctl.render.terminal import Terminal


def pod_footer(v: PodVerification):
    def draw(term: Terminal) -> None:
        term.line(f"Pod {v.namespace}/{v.name} on {v.node or '(not scheduled)'}: {v.verdict()}")
        term.line(f"  {v.chain()}")
        term.line()
    return draw


def pods_line(s: dict) -> str:
    unknown = s.get("undetermined", 0)
    return f"{s['pods']} Pods: {s['ok']} ok, {s['stale']} stale, {s['failed']} failed" + (f", {unknown} undetermined" if unknown else "")


def pod_state(v: PodVerification) -> str:
    """A Pod's verdict and why, in a few words (what `verify pods -w` prints when it changes)."""
    result = v.summary()
    return v.verdict() + (f": {result.message}" if result.message else "")


def pods_footer(summary: dict, notes: list[str], next_steps: list[str] = ()):
    def draw(term: Terminal) -> None:
        s = summary
        unknown = s.get("undetermined", 0)
        if s["namespaces"]:
            columns = ["NAMESPACE", "PODS", "OK", "STALE", "FAILED"] + (["UNDETERMINED"] if unknown else []) + ["WITH WARNINGS"]
            term.table(columns, [(n["namespace"], n["pods"], n["ok"], n["stale"], n["failed"],
                                  *((n.get("undetermined", 0),) if unknown else ()), n["warnings"]) for n in s["namespaces"]])
        term.line(pods_line(s))
        for note in notes:
            term.line(f"note: {note}")
        for step in next_steps:
            term.wrapped(f"next: {step}", "", "      ")
        term.line()
    return draw
