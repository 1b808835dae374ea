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
    from sgpctl.render.terminal import Column

    name = f" ({data['name']})" if data.get("name") else ""
    term.wrapped(f"{data['securityGroupId']}{name}: rules version {data['version'] or '-'}, matched top to bottom, "
                 "first match decides, nothing matched: dropped", "", "  ")
    rows = [(r["direction"], r["policyIndex"], r["action"] or "?", r["service"], r["peer"], r["description"] or "")
            for r in rules_of(data)]
    term.table(["DIRECTION", "INDEX", "ACTION", "SERVICE", "PEER", Column("DESCRIPTION", text=True)], rows)


def rules_of(data: dict) -> list[dict]:
    """`sg rules`' rules in match order, ingress then egress, each with its direction: the rows of
    the table and of -o custom-columns."""
    return [{"direction": direction, **r} for direction in ("ingress", "egress") for r in data[direction]]
