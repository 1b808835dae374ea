"""Human rendering of `sandbox status`, `sandbox scenarios` and `sandbox requests`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def _pairs(term: Terminal, rows: list[tuple[str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    term.lines(f"{k.ljust(width)}  {v}" for k, v in rows)


def render_status(term: Terminal, data: dict, variants: str | None = None) -> None:
    rows = [("state dir", data["stateDir"]),
            ("running", f"yes (pid {data['pid']})" if data["running"] else "no")]
    clusters = data.get("clusters") or []
    fleet = len(clusters) > 1
    for label, key in (("scenario", "scenario"), ("cluster", "clusterId"), ("region", "region"),
                       ("cloud API", "cloudUrl"), ("Kubernetes API", "kubeUrl"), ("faults", "faults"),
                       ("env file", "envFile"), ("saved at", "savedAt")):
        if data.get(key) and not (fleet and key in ("clusterId", "region", "kubeUrl")):
            rows.append((label, str(data[key])))
    if variants:
        rows.append(("variants", variants))
    if fleet:
        width = max(len(c["region"]) for c in clusters)
        for c in clusters:
            where = c.get("kubeUrl") or f"port {c.get('kubePort')}"
            down = "" if c.get("reachable", True) else " (made unreachable)"
            rows.append(("cluster", f"{c['clusterId']}  {c['region'].ljust(width)}  {where}{down}"))
    if not data["running"] and data.get("cloudPort"):
        kube_ports = ", ".join(str(c.get("kubePort")) for c in clusters) or str(data["kubePort"])
        rows.append(("last ports", f"{data['cloudPort']} (cloud), {kube_ports} (Kubernetes)"))
    counts = data.get("counts") or {}
    if counts:
        rows.append(("objects", ", ".join(f"{v} {k}" for k, v in counts.items())))
    if not data["hasState"] and not data["running"]:
        rows.append(("state", "none yet (sgpctl sandbox up)"))
    _pairs(term, rows)


def render_scenarios(term: Terminal, data: list[dict]) -> None:
    _pairs(term, [(d["name"], d["description"]) for d in data])


def render_requests(term: Terminal, data: dict) -> None:
    rows = []
    for e in data["entries"]:
        if e["api"] == "kube":
            what = e["verb"] or ""
            target = (f"{e['namespace']}/" if e["namespace"] else "") + (e["resource"] or e.get("path") or "")
            if e.get("name"):
                target += f"/{e['name']}"
            if e.get("continue"):
                target += " (next page)"
        else:
            what, target = e["action"] or "", e["service"] or ""
        rows.append((e["seq"], e["api"], what, target, e["status"], e["code"]))
    term.table(["SEQ", "API", "VERB/ACTION", "RESOURCE/SERVICE", "STATUS", "CODE"], rows)
    term.note(f"next: {data['next']} (--since {data['next']} shows only what comes after)")


def render_replay(term: Terminal, capture: dict, evidence: list[str]) -> None:
    """What `sandbox up --from-capture` says before the usage: whose capture, and the readings chosen."""
    scope = capture.get("scope") or {}
    term.note(f"sgpctl sandbox: replaying the capture of {scope.get('clusterId')} ({scope.get('region')}, "
              f"captured {capture.get('capturedAt') or '?'} by sgpctl {capture.get('sgpctlVersion') or '?'})")
    for line in evidence:
        term.note(f"  {line}")
