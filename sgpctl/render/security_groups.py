"""Human rendering of `sg list`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def render_list(term: Terminal, groups: list[dict]) -> None:
    from sgpctl.render.terminal import Column

    term.table(["ID", "NAME", Column("DESCRIPTION", text=True), Column("CREATED", wide=True)],
               [(g["securityGroupId"], g["name"], g["description"] or "", g["createdTime"] or "") for g in groups])
