"""Pods as controllers make them and as kubelet reports them: built from templates, ranked,
and given the statuses ``kubectl get pods`` shows (Running, ContainerCreating)."""

from __future__ import annotations

import hashlib
from typing import Any

from sgpctl.core.matching import FINISHED_PHASES
from sgpctl.sandbox.controllers.cache import copy_of

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def owner_reference(owner: dict) -> dict:
    return {"apiVersion": owner.get("apiVersion") or "apps/v1", "kind": owner["kind"],
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def pod_from_template(owner: dict, template: dict, name: str, *, labels: dict | None = None,
                      node_name: str | None = None, spec_extra: dict | None = None) -> dict:
    """A Pod as a workload controller creates it from ``template`` (copied)."""
    template = copy_of(template or {})
    tmeta = template.get("metadata") or {}
    meta: dict[str, Any] = {
        "name": name,
        "namespace": owner["metadata"].get("namespace") or "default",
        "labels": {**(tmeta.get("labels") or {}), **(labels or {})},
        "ownerReferences": [owner_reference(owner)],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    spec = template.get("spec") or {}
    spec.update(spec_extra or {})
    if node_name:
        spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def is_active(pod: dict) -> bool:
    """Counts towards a workload's replicas: not finished, not being deleted."""
    return ((pod.get("status") or {}).get("phase") not in FINISHED_PHASES
            and not (pod.get("metadata") or {}).get("deletionTimestamp"))


def is_ready(pod: dict) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def deletion_order(pods: list[dict]) -> list[dict]:
    """Pods in the order a ReplicaSet deletes them when scaling down (controller.ActivePods):
    unscheduled before scheduled, Pending before Running, not ready before ready, newest first."""
    def rank(p: dict):
        status = p.get("status") or {}
        created = (p.get("metadata") or {}).get("creationTimestamp") or ""
        return (bool((p.get("spec") or {}).get("nodeName")), _PHASE_RANK.get(status.get("phase"), 1),
                is_ready(p), _inverted(created), p["metadata"]["name"])
    return sorted(pods, key=rank)


def _inverted(text: str) -> tuple:
    return tuple(-ord(c) for c in text)


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def sandbox_id(pod: dict) -> str:
    return _digest("sandbox", pod["metadata"].get("uid") or pod["metadata"]["name"])


def _image_id(image: str) -> str:
    ref = image.split("@", 1)[0]
    repo = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
    if "/" not in repo:
        repo = "docker.io/library/" + repo
    elif "." not in repo.split("/", 1)[0]:
        repo = "docker.io/" + repo
    return f"{repo}@sha256:{_digest('image', image)}"


def _conditions(now: str, *, ready: bool, reason: str | None = None, message: str | None = None,
                previous: list[dict] | None = None) -> list[dict]:
    # Keep transition times of conditions whose status did not change.
    before = {c.get("type"): c for c in previous or ()}

    def cond(type_: str, status: bool, **extra: Any) -> dict:
        text = "True" if status else "False"
        old = before.get(type_)
        since = old.get("lastTransitionTime") if old and old.get("status") == text else now
        out = {"type": type_, "status": text, "lastProbeTime": None, "lastTransitionTime": since}
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    not_ready = {} if ready else {"reason": reason, "message": message}
    return [
        cond("PodReadyToStartContainers", ready),
        cond("Initialized", True),
        cond("Ready", ready, **not_ready),
        cond("ContainersReady", ready, **not_ready),
        cond("PodScheduled", True),
    ]


def running_status(pod: dict, host_ip: str, pod_ip: str, now: str) -> dict:
    status = copy_of(pod.get("status") or {})
    spec = pod.get("spec") or {}
    started = status.get("startTime") or now
    status.update({
        "phase": "Running",
        "conditions": _conditions(now, ready=True, previous=status.get("conditions")),
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
        "startTime": started,
    })
    status["containerStatuses"] = [{
        "name": c.get("name"), "image": c.get("image"), "imageID": _image_id(c.get("image") or ""),
        "containerID": "containerd://" + _digest("container", pod["metadata"].get("uid") or "", c.get("name") or ""),
        "ready": True, "started": True, "restartCount": 0, "lastState": {},
        "state": {"running": {"startedAt": now}},
    } for c in spec.get("containers") or ()]
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [{
            "name": c.get("name"), "image": c.get("image"), "imageID": _image_id(c.get("image") or ""),
            "containerID": "containerd://" + _digest("init", pod["metadata"].get("uid") or "", c.get("name") or ""),
            "ready": True, "started": False, "restartCount": 0, "lastState": {},
            "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": now}},
        } for c in spec["initContainers"]]
    return status


def completed_status(pod: dict, now: str) -> dict:
    """A Pod whose containers all exited 0: phase Succeeded, not ready (reason PodCompleted)."""
    status = copy_of(pod.get("status") or {})
    previous = {c.get("type"): c for c in status.get("conditions") or ()}
    conditions = []
    for c in _conditions(now, ready=False, reason="PodCompleted", previous=status.get("conditions")):
        if c["type"] in ("Initialized", "PodScheduled") and c["type"] in previous:
            c = previous[c["type"]]
        if c["type"] == "Initialized":
            c = dict(c, reason="PodCompleted")
        conditions.append(c)
    status["phase"] = "Succeeded"
    status["conditions"] = conditions
    for cs in status.get("containerStatuses") or ():
        started = ((cs.get("state") or {}).get("running") or {}).get("startedAt") or now
        cs.update({"ready": False, "started": False, "state": {"terminated": {
            "exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": now,
            "containerID": cs.get("containerID")}}})
    return status


def container_creating_status(pod: dict, host_ip: str, now: str) -> dict:
    """kubelet's view while the sandbox (network) cannot be set up: phase Pending, every
    container waiting with reason ContainerCreating."""
    status = copy_of(pod.get("status") or {})
    spec = pod.get("spec") or {}
    names = [c.get("name") for c in spec.get("containers") or ()]
    status.update({
        "phase": "Pending",
        "conditions": _conditions(now, ready=False, reason="ContainersNotReady",
                                  message=f"containers with unready status: [{' '.join(names)}]",
                                  previous=status.get("conditions")),
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "startTime": status.get("startTime") or now,
    })
    status["containerStatuses"] = [{
        "name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": False, "started": False,
        "restartCount": 0, "lastState": {}, "state": {"waiting": {"reason": "ContainerCreating"}},
    } for c in spec.get("containers") or ()]
    return status


def is_container_creating(pod: dict) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    return any(((s.get("state") or {}).get("waiting") or {}).get("reason") == "ContainerCreating" for s in statuses)
