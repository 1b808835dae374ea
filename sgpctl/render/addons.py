"""Human rendering of `addon status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def render_status(term: Terminal, data: dict) -> None:
    term.table(["ADD-ON", "INSTALLED", "VERSION", "PHASE", "REASON"],
               [(a["name"], "yes" if a["installed"] else "NO", a["version"] or "-", a["phase"] or "-", a["reason"] or "")
                for a in data["addons"]])
    term.line(f"SecurityGroupPolicy CRD served: {'yes' if data['securityGroupPolicyServed'] else 'NO'}")
