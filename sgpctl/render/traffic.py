"""Human rendering of `traffic explain` and the footer of `traffic check`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal

VERDICT = {True: "ALLOWED", False: "DROPPED", None: "UNDECIDED"}


def _groups(hop: dict[str, Any]) -> str:
    groups = hop.get("groups")
    if not hop.get("filtered") or groups is None:
        return ""
    text = ", ".join(groups) or "no groups"
    return f" [{text}{' (predicted)' if hop.get('groupsPredicted') else ''}]"


def _hops(term: Terminal, decision: dict[str, Any], indent: str) -> None:
    for hop in decision["hops"]:
        _text(term, f"{hop['direction']} of {hop['endpoint']}{_groups(hop)}: {hop['verdict']}", indent)
    for a in decision.get("assumptions") or ():
        _text(term, f"assumed: {a}", indent)


def _text(term: Terminal, text: str, indent: str) -> None:
    """One statement, wrapped at the terminal's width under its own start (names are never cut)."""
    term.wrapped(text, indent, indent + "    ")


def render_explain(term: Terminal, data: dict[str, Any]) -> None:
    """``data``: ``workflows.traffic.Explanation.to_dict()``."""
    _text(term, f"{VERDICT[data['allowed']]}: {data['reason']}", "")
    routing = data["routing"]
    mode = routing["whatIf"] or routing["current"] or "unknown"
    term.line(f"  routing: {mode}" + (" (what if: --routing)" if routing["whatIf"] else
                                      "" if routing["settled"] else " (eniipamd is rolling out a change)"))
    if data.get("service") is None:
        _hops(term, data, "  ")
    else:
        svc = data["service"]
        if svc["clusterIP"]:
            _text(term, f"to {svc['ref']} at {svc['clusterIP']}:{svc['port']}:", "  ")
            _hops(term, data, "    ")
        for b in data["backends"]:
            _text(term, f"to backend {b['pod']} port {b['flow']['port']}: {VERDICT[b['allowed']].lower()}", "  ")
            _hops(term, b, "    ")
    for n in data.get("notes") or ():
        _text(term, f"note: {n}", "  ")
    for f in data.get("fixes") or ():
        _text(term, f"fix: {f['summary']}", "  ")
        # The request stays on one line, whatever the width: it is copied as it is.
        term.line(f"       CreateSecurityGroupPolicies {_compact(f['request'])}")


def _compact(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def check_summary(report) -> str:
    """`traffic check`'s one line: the routing it judged under and the counts (also a fleet row's)."""
    s = report.summary()
    return (f"{report.routing.describe()}: {s['pods']} Pod(s), {s['checks']} check(s), {s['failed']} failed, "
            f"{s['undetermined']} undetermined")


def check_footer(report) -> Any:
    """The lines under `traffic check`'s results: the routing it judged under, the counts, notes."""
    def draw(term: Terminal) -> None:
        term.note(check_summary(report))
        for n in report.notes:
            term.note(f"note: {n}")
        seen: dict[str, list[str]] = {}
        for p in report.pods:
            for n in p.notes:
                seen.setdefault(n, []).append(p.ref)
        for n, pods in seen.items():
            term.note(f"note: {pods[0]}: {n}" if len(pods) == 1 else f"note: {len(pods)} Pods ({pods[0]}, ...): {n}")
    return draw
