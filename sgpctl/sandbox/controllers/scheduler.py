"""A kube-scheduler stand-in: binds Pending Pods that have no node.

Pods that request ``tke.cloud.tencent.com/sub-eni`` are placed by ``sgpctl.core.allocation``
(the same code ``sgpctl capacity`` predicts with): the node with the most free sub-ENIs among
those the Pod may run on. Other Pods are spread: the admitting node with the fewest Pods, ties
by name. A Pod that fits nowhere stays Pending with ``PodScheduled=False`` (reason
``Unschedulable``) and a ``FailedScheduling`` Warning event worded as kube-scheduler words it::

    0/5 nodes are available: 2 Insufficient tke.cloud.tencent.com/sub-eni, 3 node(s) didn't match Pod's node affinity/selector.

Unschedulable Pods are tried again when something that could make room happens: a Pod is
deleted or finishes, or a node changes.
"""

from __future__ import annotations

from typing import Any

from sgpctl.core.allocation import REASON_INSUFFICIENT, UsageIndex, choose_node, node_admits, node_usage, pod_key
from sgpctl.core.annotations import pod_sub_eni_count, requests_sub_eni
from sgpctl.core.matching import FINISHED_PHASES
from sgpctl.sandbox.controllers.cache import copy_of
from sgpctl.sandbox.controllers.world import NODES, PODS, World

COMPONENT = "default-scheduler"
SCHEDULER_NAME = "default-scheduler"


def _unbound_pending(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    meta = pod.get("metadata") or {}
    return (not spec.get("nodeName") and (pod.get("status") or {}).get("phase", "Pending") == "Pending"
            and not meta.get("deletionTimestamp")
            and spec.get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME)


def _allocatable_pods(node: dict) -> int | None:
    raw = ((node.get("status") or {}).get("allocatable") or {}).get("pods")
    try:
        return int(str(raw)) if raw is not None else None
    except ValueError:
        return None


def _selector_matches(node: dict, pod: dict) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in ((pod.get("spec") or {}).get("nodeSelector") or {}).items())


def _rejection(node: dict, pod: dict) -> str:
    """Why a node that ``node_admits`` refused is out, in kube-scheduler's words (message only:
    the decision itself is ``core.allocation.node_admits``)."""
    if (node.get("spec") or {}).get("unschedulable"):
        return "node(s) were unschedulable"
    if not _selector_matches(node, pod):
        return "node(s) didn't match Pod's node affinity/selector"
    for cond in (node.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready" and cond.get("status") != "True":
            return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
    return "node(s) had untolerated taint(s)"


def fit_error(total: int, reasons: dict[str, int]) -> str:
    parts = sorted(f"{n} {r}" for r, n in reasons.items())
    return f"0/{total} nodes are available: {', '.join(parts)}."


class Scheduler:
    name = "scheduler"

    def __init__(self, world: World):
        self.world = world
        self._unschedulable: set[tuple[str, str]] = set()

    def watches(self) -> dict:
        def pod_changed(event_type: str, obj: dict, old: dict | None):
            key = (obj["metadata"].get("namespace") or "default", obj["metadata"]["name"])
            if event_type != "DELETED" and _unbound_pending(obj):
                if not (old is not None and _unbound_pending(old) and key in self._unschedulable):
                    yield key
            freed = event_type == "DELETED" or (
                (obj.get("status") or {}).get("phase") in FINISHED_PHASES
                and (old is None or (old.get("status") or {}).get("phase") not in FINISHED_PHASES))
            if freed and self._unschedulable:
                yield "retry"

        def node_changed(event_type: str, obj: dict, old: dict | None):
            if self._unschedulable:
                yield "retry"
        return {PODS: pod_changed, NODES: node_changed}

    def resync(self):
        for pod in self.world.cache.list(PODS):
            if _unbound_pending(pod):
                yield (pod["metadata"]["namespace"], pod["metadata"]["name"])

    def tick(self) -> None:
        pass

    def sync(self, key: Any) -> None:
        if key == "retry":
            keys = sorted(self._unschedulable)
            self._unschedulable.clear()
            self._schedule(keys)
        else:
            self._schedule([key])

    def _schedule(self, keys: list[tuple[str, str]]) -> None:
        w = self.world
        pods = []
        for ns, name in keys:
            pod = w.cache.get(PODS, ns, name)
            if pod is not None and _unbound_pending(pod):
                pods.append(pod)
            else:
                self._unschedulable.discard((ns, name))
        if not pods:
            return
        nodes = {n["metadata"]["name"]: n for n in w.cache.list(NODES)}
        all_pods = w.cache.list(PODS)
        index = None
        counts: dict[str, int] = {}
        for p in all_pods:
            n = (p.get("spec") or {}).get("nodeName")
            if n and (p.get("status") or {}).get("phase") not in FINISHED_PHASES:
                counts[n] = counts.get(n, 0) + 1
        for pod in pods:
            if requests_sub_eni(pod):
                if index is None:
                    index = UsageIndex(node_usage(nodes.values(), all_pods), nodes)
                node, _ = choose_node(pod, index, nodes)
                if node is not None and not self._room_for_pod(nodes[node], counts):
                    node = None
                if node is None:
                    self._unschedulable_pod(pod, self._sub_eni_reasons(pod, nodes, index, counts), len(nodes))
                    continue
                index.take(node, pod_key(pod), max(1, pod_sub_eni_count(pod)))
            else:
                node = self._spread(pod, nodes, counts)
                if node is None:
                    self._unschedulable_pod(pod, self._plain_reasons(pod, nodes, counts), len(nodes))
                    continue
            counts[node] = counts.get(node, 0) + 1
            self._bind(pod, node)

    @staticmethod
    def _room_for_pod(node: dict, counts: dict[str, int]) -> bool:
        limit = _allocatable_pods(node)
        return limit is None or counts.get(node["metadata"]["name"], 0) < limit

    def _spread(self, pod: dict, nodes: dict[str, dict], counts: dict[str, int]) -> str | None:
        best = None
        for name in sorted(nodes):
            node = nodes[name]
            if not node_admits(node, pod) or not self._room_for_pod(node, counts):
                continue
            if best is None or counts.get(name, 0) < counts.get(best, 0):
                best = name
        return best

    def _plain_reasons(self, pod: dict, nodes: dict[str, dict], counts: dict[str, int]) -> dict[str, int]:
        reasons: dict[str, int] = {}
        for node in nodes.values():
            r = _rejection(node, pod) if not node_admits(node, pod) else "Too many pods"
            reasons[r] = reasons.get(r, 0) + 1
        return reasons

    def _sub_eni_reasons(self, pod: dict, nodes: dict[str, dict], index: UsageIndex,
                         counts: dict[str, int]) -> dict[str, int]:
        need = max(1, pod_sub_eni_count(pod))
        reasons: dict[str, int] = {}
        for name, node in nodes.items():
            if not node_admits(node, pod):
                r = _rejection(node, pod)
            elif index[name].free < need:
                r = REASON_INSUFFICIENT
            else:
                r = "Too many pods"
            reasons[r] = reasons.get(r, 0) + 1
        return reasons

    def _unschedulable_pod(self, pod: dict, reasons: dict[str, int], total: int) -> None:
        w = self.world
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        self._unschedulable.add(key)
        message = fit_error(total, reasons) if total else "no nodes available to schedule pods"
        conditions = (pod.get("status") or {}).get("conditions") or []
        current = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
        if not (current and current.get("status") == "False" and current.get("message") == message):
            status = copy_of(pod.get("status") or {})
            status["phase"] = "Pending"
            status["conditions"] = [c for c in conditions if c.get("type") != "PodScheduled"] + [{
                "type": "PodScheduled", "status": "False", "lastProbeTime": None,
                "lastTransitionTime": w.now(), "reason": "Unschedulable", "message": message}]
            w.write_status(PODS, pod, status)  # conflict or gone: the next event brings it back
        w.event(pod, "FailedScheduling", message, type="Warning", component=COMPONENT)

    def _bind(self, pod: dict, node: str) -> None:
        w = self.world
        meta = pod["metadata"]
        self._unschedulable.discard((meta["namespace"], meta["name"]))
        try:
            w.kube.bind(meta["namespace"], meta["name"], node)
        except Exception as exc:
            if getattr(exc, "reason", None) in ("Conflict", "NotFound"):
                return
            raise
        w.event(pod, "Scheduled", f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
                component=COMPONENT)
