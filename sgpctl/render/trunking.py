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
    term.table(["PRECONDITION", "MET", "DETAIL"], [(c["description"], glyphs[c["status"]], c["message"]) for c in data["preconditions"]])
