"""Human rendering of `routing status` and the rebuild notes of `routing set`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def _plain(value) -> str:
    if value is None:
        return "not set"
    return str(value).lower() if isinstance(value, bool) else str(value)


def render_status(term: Terminal, data: dict) -> None:
    e = data["eniipamd"]
    if not e["installed"]:
        term.line("routing: unknown (the eniipamd add-on is not installed)")
        return
    term.line(f"routing: {data['mode']}; eniipamd {e['version'] or '-'} {e['phase'] or '-'}" + (f" ({e['reason']})" if e["reason"] else ""))
    term.table(["VALUE", "SETTING"], [(k, _plain(v)) for k, v in data["values"].items()])


def states(data: dict) -> tuple[str, dict[str, str]]:
    """What `routing status -w` follows: the mode, eniipamd's phase, the three values."""
    e = data["eniipamd"]
    phase = e["phase"] or "not installed"
    out = {"routing": data.get("mode") or "unknown", "eniipamd": phase}
    out.update({k: _plain(v) for k, v in (data.get("values") or {}).items()})
    return f"routing {out['routing']}; eniipamd {phase}", out


def rebuild_notes(term: Terminal, outcome) -> None:
    """The running Pods that keep the old routing until rebuilt, and the commands that rebuild them."""
    rebuild = outcome.extra.get("rebuild") or [] if outcome.ok else []  # refused: nothing was switched
    verb = "would keep" if outcome.dry_run else "keep"
    for e in rebuild:
        names = ", ".join(e["pods"][:10]) + (" ..." if len(e["pods"]) > 10 else "")
        term.note(f"{len(e['pods'])} running Pod(s) in {e['namespace']} {verb} the old routing until rebuilt: {names}")
        for c in e["commands"]:
            term.note(f"  rebuild: {c}")
