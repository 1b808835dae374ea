"""Human rendering of `cam status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def render_status(term: Terminal, data: dict) -> None:
    term.line(f"policy {data['policyName']}: " + (f"id {data['policyId']}" if data["policyId"] else "not found"))
    for a in data["actionsPresent"]:
        term.line(f"  allows   {a}")
    for a in data["actionsMissing"]:
        term.line(f"  MISSING  {a}")
    from sgpctl.render.terminal import Column

    term.table(["ROLE", "EXISTS", "POLICY ATTACHED", Column("NEXT", text=True)],
               [(r["role"], "yes" if r["exists"] else "NO", "yes" if r["attached"] else "NO", r.get("next") or "")
                for r in data["roles"]])


def states(data: dict) -> tuple[str, dict[str, str]]:
    """What `cam status -w` follows: the policy, its missing actions, each role's attachment."""
    out = {f"policy {data['policyName']}": f"id {data['policyId']}" if data["policyId"] else "not found"}
    if data["actionsMissing"]:
        out["missing actions"] = ", ".join(data["actionsMissing"])
    for r in data["roles"]:
        out[f"role {r['role']}"] = "attached" if r["attached"] else ("exists, not attached" if r["exists"] else "missing")
    return ("CAM authorization complete" if data.get("ok") else "CAM authorization incomplete"), out
