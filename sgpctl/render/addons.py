"""Human rendering of `addon status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def render_status(term: Terminal, data: dict) -> None:
    from sgpctl.render.terminal import Column

    term.table(["ADD-ON", "INSTALLED", "VERSION", "PHASE", Column("REASON", text=True), Column("NEXT", text=True)],
               [(a["name"], "yes" if a["installed"] else "NO", a["version"] or "-", a["phase"] or "-", a["reason"] or "",
                 a.get("next") or "") for a in data["addons"]])
    served = data["securityGroupPolicyServed"]
    term.line(f"SecurityGroupPolicy CRD served: {'yes' if served else 'NO'}"
              + ("" if served else "; next: sgpctl addon install (once installed, the add-on serves it)"))


def states(data: dict) -> tuple[str, dict[str, str]]:
    """What `addon status -w` follows: each add-on's version and phase, and whether the CRD is served."""
    out = {a["name"]: (f"{a['version'] or '-'} {a['phase'] or '-'}" + (f" ({a['reason']})" if a["reason"] else ""))
           if a["installed"] else "not installed" for a in data["addons"]}
    out["securitygrouppolicy CRD"] = "served" if data["securityGroupPolicyServed"] else "not served"
    summary = "; ".join(f"{a['name']} {a['phase'] or 'not installed'}" for a in data["addons"])
    return summary, out
