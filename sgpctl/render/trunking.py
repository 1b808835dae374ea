"""Human rendering of `trunking status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def render_status(term: Terminal, data: dict) -> None:
    eni = data["eniipamd"]
    term.line(f"trunking: {'enabled' if data['enabled'] else 'DISABLED'} ({data['key']}={data['value']!r}); "
              f"eniipamd {eni.get('version') or '-'} {eni.get('phase') or 'not installed'}")
    glyphs = term.glyphs()
    term.table(["PRECONDITION", "MET", "DETAIL"], [(c["description"], glyphs[c["status"]], c["message"]) for c in data["preconditions"]])


def states(data: dict) -> tuple[str, dict[str, str]]:
    """What `trunking status -w` follows: the switch and eniipamd's phase."""
    eni = data["eniipamd"]
    switch = "enabled" if data["enabled"] else "disabled"
    phase = eni.get("phase") or "not installed"
    return f"trunking {switch}; eniipamd {phase}", {"trunking": switch, "eniipamd": f"{eni.get('version') or '-'} {phase}"}
