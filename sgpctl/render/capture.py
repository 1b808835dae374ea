"""What `sgpctl capture` says about the file it wrote (on stderr: stdout may be the capture itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def capture_summary(term: Terminal, summary: dict, path: str | None) -> None:
    objects = summary["objects"]
    kinds = ", ".join(f"{n} {kind}" for kind, n in objects.items())
    scope = f"namespace {summary['namespace']}" if summary["namespace"] else "all namespaces"
    errors = f", {summary['cloudErrors']} of them errors" if summary["cloudErrors"] else ""
    term.note(f"captured cluster {summary['clusterId']} ({summary['region']}, {scope}): "
              f"{sum(objects.values())} objects ({kinds or 'none'}) and {summary['cloudCalls']} cloud answers{errors}, "
              f"format {summary['formatVersion']}" + (f", to {path}" if path else ""))
    term.note("secrets, tokens and Secret objects are not in it"
              + ("; names of namespaces and their objects are hashed" if summary["namesHashed"] else
                 "; names are kept (--redact-names hashes them)"))
    for problem in summary["problems"]:
        term.note(f"note: not captured: {problem}")
    if summary["problems"]:
        term.note(f"the capture is partial: {len(summary['problems'])} read(s) failed (listed above)")
