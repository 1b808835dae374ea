"""Human rendering of `eni leaks`: the leaked sub-ENIs, the reverse inconsistencies, and why the
listing could not be trusted when it could not."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal

DELETE_HINT = "sgpctl eni leaks --delete"


def render_leaks(term: Terminal, data: dict) -> None:
    """``data`` is ``core.leaks.LeakReport.to_dict()``."""
    leaks = data["leaks"]
    if leaks:
        term.table(["ENI", "NODE", "SECURITY GROUPS", "AGE", "REASON"],
                   [(x["eniId"], x["node"] or x["instanceId"], ",".join(x["securityGroups"]) or "-", x["age"] or "-",
                     x["reason"]) for x in leaks])
        for x in leaks:
            for line in x["evidence"]:
                if line != "no VpcENI names it":
                    term.line(f"  {x['eniId']}: {line}")
    if data["inconsistencies"]:
        if leaks:
            term.line()
        term.table(["INCONSISTENCY", "DETAIL"], [(i["kind"], i["message"]) for i in data["inconsistencies"]])
    for blocker in data.get("blockers") or []:
        term.line(f"cannot tell: {blocker}")
    if leaks or data["inconsistencies"]:
        term.line()
    term.line(summary(data))


def summary(data: dict) -> str:
    leaks, odd = len(data["leaks"]), len(data["inconsistencies"])
    scope = f"{data['subEnis']} sub-ENI(s) on {data['nodes']} node(s)"
    if data.get("blockers") and not leaks:
        return f"could not tell which sub-ENIs leaked ({scope})"
    head = f"{leaks} leaked sub-ENI(s)" if leaks else "no leaked sub-ENI"
    tail = f", {odd} inconsistenc{'y' if odd == 1 else 'ies'}" if odd else ""
    fix = f"; delete them safely: {DELETE_HINT}" if leaks else ""
    return f"{head}{tail} ({scope}){fix}"


def render_plan(term: Terminal, data: dict) -> None:
    """The plan of `--delete`, before the question (stderr)."""
    term.note("plan:")
    for s in data["steps"]:
        term.note(f"  ~ {s['message'] or s['description']}")
