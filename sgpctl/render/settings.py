"""Human rendering of `config view`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def render_settings(term: Terminal, rows: list[dict]) -> None:
    from sgpctl.render.terminal import Column

    term.table(["SETTING", "VALUE", Column("SOURCE", text=True)], [(r["name"], "" if r["value"] is None else str(r["value"]), r["source"]) for r in rows])
