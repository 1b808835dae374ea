"""Human rendering of `sandbox status`, `sandbox scenarios` and `sandbox requests`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def _pairs(term: Terminal, rows: list[tuple[str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    term.lines(f"{k.ljust(width)}  {v}" for k, v in rows)


def render_status(term: Terminal, data: dict) -> None:
    rows = [("state dir", data["stateDir"]),
            ("running", f"yes (pid {data['pid']})" if data["running"] else "no")]
    for label, key in (("scenario", "scenario"), ("cluster", "clusterId"), ("region", "region"),
                       ("cloud API", "cloudUrl"), ("Kubernetes API", "kubeUrl"), ("faults", "faults"),
                       ("env file", "envFile"), ("saved at", "savedAt")):
        if data.get(key):
            rows.append((label, str(data[key])))
    if not data["running"] and data.get("cloudPort"):
        rows.append(("last ports", f"{data['cloudPort']} (cloud), {data['kubePort']} (Kubernetes)"))
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
