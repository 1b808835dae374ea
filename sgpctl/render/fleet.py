"""Human rendering of a command run over a fleet (``workflows.fleet.FleetReport.to_view()``): one
row per cluster, then what each cluster that is not fine has to say, then the regions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgpctl.errors import ExitCode

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal

MAX_DETAILS = 10
STATUS = {ExitCode.OK: "ok", ExitCode.FAILED: "FAIL", ExitCode.USAGE: "FAIL", ExitCode.UNDETERMINED: "UNKNOWN"}


def status_of(c: dict) -> str:
    return "ERROR" if c["error"] is not None else STATUS.get(c["exitCode"], "FAIL")


def render_fleet(term: Terminal, view: dict) -> None:
    clusters = view["clusters"]
    rows = [(c["clusterId"], c["name"] or "-", c["region"] or "-", status_of(c),
             c["error"] if c["error"] is not None else c["summary"]) for c in clusters]
    if rows:
        term.table(["CLUSTER", "NAME", "REGION", "STATUS", "SUMMARY"], rows)
    for c in clusters:
        if c["error"] is None and c["exitCode"] == ExitCode.OK and not c["details"]:
            continue
        term.line()
        where = ", ".join(x for x in (c["name"], c["region"], c["access"]) if x)
        term.line(f"{c['clusterId']} ({where}): {status_of(c)}")
        if c["error"] is not None:
            term.line(f"    {c['error']}")
            if c["hint"]:
                term.line(f"    hint: {c['hint']}")
        for line in c["details"][:MAX_DETAILS]:
            term.line(f"    {line}")
        if len(c["details"]) > MAX_DETAILS:
            term.line(f"    ... and {len(c['details']) - MAX_DETAILS} more (-o json shows all)")
    term.line()
    term.line(f"regions: {regions_line(view['regions'])}")
    term.line(summary(clusters))


def regions_line(regions: list[dict]) -> str:
    """The regions with clusters, those that could not be listed, and how many others had none."""
    shown = [f"{r['region']} ({r['clusters']} cluster{'s' if r['clusters'] != 1 else ''})" for r in regions
             if "error" not in r and r["clusters"]]
    shown += [f"{r['region']} (not listed: {r['error']})" for r in regions if "error" in r]
    empty = [r["region"] for r in regions if "error" not in r and not r["clusters"]]
    if empty:
        shown.append(f"{empty[0]} (no cluster)" if len(empty) == 1 else f"{len(empty)} more with no cluster")
    return ", ".join(shown) or "-"


def summary(clusters: list[dict]) -> str:
    counts: dict[str, int] = {}
    for c in clusters:
        counts[status_of(c)] = counts.get(status_of(c), 0) + 1
    words = {"ok": "ok", "FAIL": "failed", "UNKNOWN": "could not be determined", "ERROR": "could not run"}
    parts = [f"{counts[k]} {words[k]}" for k in ("ok", "FAIL", "UNKNOWN", "ERROR") if counts.get(k)]
    n = len(clusters)
    return f"{n} cluster{'s' if n != 1 else ''}: {', '.join(parts) or 'none found'}"
