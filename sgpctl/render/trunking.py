"""Human rendering of `trunking status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def render_status(term: Terminal, data: dict) -> None:
    eni = data["eniipamd"]
    state = {True: "enabled", False: "DISABLED", None: "UNKNOWN"}[data["enabled"]]
    ipamd = data.get("describeIpamdEnableTrunkingEni")
    term.line(f"trunking: {state} ({data['key']}={data['value']!r}"
              + (f", DescribeIPAMD EnableTrunkingENI={str(ipamd).lower()}" if ipamd is not None else "")
              + f"); eniipamd {eni.get('version') or '-'} {eni.get('phase') or 'not installed'}")
    if data["enabled"] is None and data.get("message"):
        term.line(f"  {data['message']}")
    glyphs = term.glyphs()
    from sgpctl.render.terminal import Column

    term.table(["PRECONDITION", "MET", Column("DETAIL", text=True), Column("NEXT", text=True)],
               [(c["description"], glyphs[c["status"]], c["message"], c["hint"] if c["status"] != "pass" else "")
                for c in data["preconditions"]])
    if not data["enabled"]:
        term.line("next: sgpctl enable-trunking")


def states(data: dict) -> tuple[str, dict[str, str]]:
    """What `trunking status -w` follows: the switch and eniipamd's phase."""
    eni = data["eniipamd"]
    switch = "enabled" if data["enabled"] else "disabled"
    phase = eni.get("phase") or "not installed"
    return f"trunking {switch}; eniipamd {phase}", {"trunking": switch, "eniipamd": f"{eni.get('version') or '-'} {phase}"}
