"""``pods/log``: what the simulated kubelet did for a container, as log lines.

No process runs in the sandbox, so a container's log is its kubelet's story: the events recorded
about the Pod (scheduled, network set up or refused, created, started, completed) and a closing
line that says the container is simulated. ``kubectl logs`` options that matter are honoured:
``container``, ``tailLines``, ``timestamps``, ``sinceSeconds``, ``previous`` (never any), ``follow``
(the stream ends after the lines: nothing more will come).
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from . import errors


def _container_names(pod: dict) -> list[str]:
    spec = pod.get("spec") or {}
    return [c.get("name", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]


def _parse(ts: str | None) -> float:
    try:
        return float(calendar.timegm(time.strptime(ts or "", "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return 0.0


def pod_log(store: Any, pod: dict, query: dict, now: float) -> bytes:
    meta = pod["metadata"]
    names = _container_names(pod)
    container = query.get("container") or ""
    if not container:
        if len(names) != 1:
            raise errors.bad_request(f"a container name must be specified for pod {meta['name']}, choose one of: "
                                     f"[{' '.join(names)}]")
        container = names[0]
    if container not in names:
        raise errors.bad_request(f"container {container} is not valid for pod {meta['name']}")
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    statuses += (pod.get("status") or {}).get("initContainerStatuses") or []
    status = next((s for s in statuses if s.get("name") == container), None)
    state = (status or {}).get("state") or {}
    if _truthy(query.get("previous")):
        raise errors.bad_request(f'previous terminated container "{container}" in pod "{meta["name"]}" not found')
    if not status or "waiting" in state:
        reason = ((state.get("waiting") or {}).get("reason")) or "ContainerCreating"
        raise errors.bad_request(f'container "{container}" in pod "{meta["name"]}" is waiting to start: {reason}')
    events = store.list("events", meta.get("namespace"), field_selector={"involvedObject.uid": meta.get("uid", "")})
    lines: list[tuple[str, str]] = []
    for ev in sorted(events, key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"])):
        message = ev.get("message") or ""
        if ev.get("reason") in ("Created", "Started", "Pulled", "Killing") and container not in message:
            continue
        who = (ev.get("source") or {}).get("component") or ev.get("reportingComponent") or "sandbox"
        lines.append((ev.get("firstTimestamp") or "", f"[sandbox {who}] {ev.get('reason')}: {message}"))
    started = (state.get("running") or state.get("terminated") or {}).get("startedAt") or meta.get("creationTimestamp")
    lines.append((started or "", f"[sandbox kubelet] container {container} (image {status.get('image')}) is simulated: "
                                 "no process runs, so it writes no log of its own"))
    terminated = state.get("terminated")
    if terminated:
        lines.append((terminated.get("finishedAt") or "", f"[sandbox kubelet] container {container} exited with code "
                                                          f"{terminated.get('exitCode', 0)} ({terminated.get('reason')})"))
    since = _int(query.get("sinceSeconds"))
    if since is not None:
        lines = [(ts, text) for ts, text in lines if _parse(ts) >= now - since]
    tail = _int(query.get("tailLines"))
    if tail is not None and tail >= 0:
        lines = lines[len(lines) - tail:] if tail else []
    stamps = _truthy(query.get("timestamps"))
    text = "".join(f"{ts.replace('Z', '.000000000Z')} {line}\n" if stamps else f"{line}\n" for ts, line in lines)
    limit = _int(query.get("limitBytes"))
    data = text.encode()
    return data[:limit] if limit else data


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        raise errors.bad_request(f'invalid value "{value}"') from None
