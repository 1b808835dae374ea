"""Human rendering of `trunking status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgpctl.core.addon_values import ENABLE_SUB_ENI

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal
    from sgpctl.workflows.trunking import TrunkingStatus


def render_status(term: Terminal, st: TrunkingStatus) -> None:
    eni = st.addon
    term.line(f"trunking: {'enabled' if st.enabled else 'DISABLED'} ({ENABLE_SUB_ENI}={st.value!r}); "
              f"eniipamd {eni.get('version') or '-'} {eni.get('phase') or 'not installed'}")
    glyphs = term.glyphs()
    term.table(["PRECONDITION", "MET", "DETAIL"],
               [(c.description, glyphs[c.status.value], c.message) for c in st.preconditions])
