"""Human rendering of `sg list` and `sg rules`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def render_list(term: Terminal, groups: list[dict]) -> None:
    from sgpctl.render.terminal import Column

    term.table(["ID", "NAME", Column("DESCRIPTION", text=True), Column("CREATED", wide=True)],
               [(g["securityGroupId"], g["name"], g["description"] or "", g["createdTime"] or "") for g in groups])


def render_rules(term: Terminal, data: dict) -> None:
    name = f" ({data['name']})" if data.get("name") else ""
    term.line(f"{data['securityGroupId']}{name}: rules version {data['version'] or '-'}, matched top to bottom, "
              "first match decides, nothing matched: dropped")
    rows = [(direction, r["policyIndex"], r["action"] or "?", r["service"], r["peer"], r["description"] or "")
            for direction in ("ingress", "egress") for r in data[direction]]
    term.table(["DIRECTION", "INDEX", "ACTION", "SERVICE", "PEER", "DESCRIPTION"], rows)
