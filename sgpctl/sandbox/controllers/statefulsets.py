"""StatefulSets and DaemonSets, simple versions.

StatefulSet: Pods ``<name>-0`` .. ``<name>-(n-1)``. With ``OrderedReady`` (the default) Pod i is
created only when Pods 0..i-1 are Ready, scale-down removes the highest ordinal first, one at
a time, and a template change (``kubectl rollout restart``) replaces Pods from the highest
ordinal down, one at a time, each once the others are Ready. ``Parallel`` creates and deletes
without waiting. Revisions are ``<name>-<template hash>`` in the ``controller-revision-hash``
label, and a ControllerRevision of that name is kept per template (``revisions``), so ``kubectl
rollout history`` and ``rollout undo`` work.

DaemonSet: one Pod per node it may run on (nodeSelector and taints via
``core.allocation.node_admits``; cordoned and NotReady nodes still get one, as DaemonSet Pods
tolerate that), bound directly to its node. A template change replaces Pods one node at a
time (``maxUnavailable: 1``).
"""

from __future__ import annotations


from sgpctl.core.allocation import node_admits
from sgpctl.sandbox.controllers.cache import copy_of
from sgpctl.sandbox.controllers.names import template_hash
from sgpctl.sandbox.controllers.pods import is_active, is_ready, pod_from_template
from sgpctl.sandbox.controllers.revisions import ensure_revision
from sgpctl.sandbox.controllers.workload import WorkloadController, object_key
from sgpctl.sandbox.controllers.world import DAEMONSETS, NODES, PODS, STATEFULSETS

REVISION_LABEL = "controller-revision-hash"
STS_POD_NAME = "statefulset.kubernetes.io/pod-name"
POD_INDEX = "apps.kubernetes.io/pod-index"
TEMPLATE_GENERATION = "pod-template-generation"
STS_COMPONENT = "statefulset-controller"
DS_COMPONENT = "daemonset-controller"


def _revision(pod: dict) -> str | None:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL)


class StatefulSetController(WorkloadController):
    resource = STATEFULSETS

    def reconcile(self, sts: dict) -> None:
        w = self.world
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        name = sts["metadata"]["name"]
        update_revision = f"{name}-{template_hash(spec.get('template') or {})}"
        ensure_revision(w, sts, update_revision, update_revision)
        ordered = (spec.get("podManagementPolicy") or "OrderedReady") == "OrderedReady"
        pods: dict[int, dict] = {}
        for p in w.cache.owned(sts["metadata"]["uid"], PODS):
            ordinal = _ordinal(p["metadata"]["name"], name)
            if ordinal is not None:
                pods[ordinal] = p
        self._converge(sts, pods, replicas, update_revision, ordered)
        pods = {o: p for o, p in ((_ordinal(p["metadata"]["name"], name), p)
                                  for p in w.cache.owned(sts["metadata"]["uid"], PODS)) if o is not None}
        self._status(sts, pods, replicas, update_revision)

    def _converge(self, sts: dict, pods: dict[int, dict], replicas: int, update_revision: str, ordered: bool) -> None:
        w = self.world
        # Pods that finished are replaced, as the StatefulSet controller does.
        for ordinal, pod in sorted(pods.items()):
            if not is_active(pod) and not pod["metadata"].get("deletionTimestamp"):
                w.delete(PODS, pod)
                return
        for ordinal in range(replicas):
            pod = pods.get(ordinal)
            if pod is None:
                self._create(sts, ordinal, update_revision)
                if ordered:
                    return
                continue
            if ordered and not is_ready(pod):
                return
        extra = sorted((o for o in pods if o >= replicas), reverse=True)
        for ordinal in extra:
            w.delete(PODS, pods[ordinal])
            w.event(sts, "SuccessfulDelete", f"delete Pod {pods[ordinal]['metadata']['name']} in StatefulSet "
                    f"{sts['metadata']['name']} successful", component=STS_COMPONENT)
            if ordered:
                return
        strategy = ((sts.get("spec") or {}).get("updateStrategy") or {})
        if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        if not all(is_ready(pods[o]) for o in range(replicas) if o in pods):
            return
        for ordinal in range(replicas - 1, partition - 1, -1):
            pod = pods.get(ordinal)
            if pod is not None and _revision(pod) != update_revision:
                w.delete(PODS, pod)
                return

    def _create(self, sts: dict, ordinal: int, revision: str) -> None:
        w = self.world
        name = f"{sts['metadata']['name']}-{ordinal}"
        spec = sts.get("spec") or {}
        extra = {"hostname": name}
        if spec.get("serviceName"):
            extra["subdomain"] = spec["serviceName"]
        pod = pod_from_template(sts, spec.get("template") or {}, name, spec_extra=extra,
                                labels={REVISION_LABEL: revision, STS_POD_NAME: name, POD_INDEX: str(ordinal)})
        try:
            w.kube.create(PODS, pod)
        except Exception as exc:
            if getattr(exc, "reason", None) == "AlreadyExists":
                return
            raise
        w.event(sts, "SuccessfulCreate", f"create Pod {name} in StatefulSet {sts['metadata']['name']} successful",
                component=STS_COMPONENT)

    def _status(self, sts: dict, pods: dict[int, dict], replicas: int, update_revision: str) -> None:
        old = sts.get("status") or {}
        active = [p for p in pods.values() if is_active(p)]
        updated = sum(1 for p in active if _revision(p) == update_revision)
        current_revision = old.get("currentRevision") or update_revision
        if updated == replicas and len(active) == replicas:
            current_revision = update_revision
        current = sum(1 for p in active if _revision(p) == current_revision)
        ready = sum(1 for p in active if is_ready(p))
        status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(active),
                  "readyReplicas": ready, "currentReplicas": current, "updatedReplicas": updated,
                  "currentRevision": current_revision, "updateRevision": update_revision,
                  "collisionCount": 0, "availableReplicas": ready}
        status = {k: v for k, v in status.items() if v or k in ("observedGeneration", "replicas", "collisionCount")}
        self.world.write_status(STATEFULSETS, sts, status)


def _ordinal(pod_name: str, sts_name: str) -> int | None:
    prefix = sts_name + "-"
    if not pod_name.startswith(prefix):
        return None
    rest = pod_name[len(prefix):]
    return int(rest) if rest.isdigit() else None


#: what the DaemonSet controller adds to every DaemonSet Pod
DAEMON_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)


class DaemonSetController(WorkloadController):
    resource = DAEMONSETS

    def watches(self) -> dict:
        routes = super().watches()

        def node_changed(event_type: str, obj: dict, old: dict | None):
            if event_type in ("ADDED", "DELETED") or (old is not None and (
                    (old.get("metadata") or {}).get("labels") != (obj.get("metadata") or {}).get("labels")
                    or (old.get("spec") or {}).get("taints") != (obj.get("spec") or {}).get("taints"))):
                for ds in self.world.cache.list(DAEMONSETS):
                    yield object_key(ds)
        routes[NODES] = node_changed
        return routes

    def reconcile(self, ds: dict) -> None:
        w = self.world
        spec = ds.get("spec") or {}
        template = copy_of(spec.get("template") or {})
        tspec = template.setdefault("spec", {})
        tolerations = list(tspec.get("tolerations") or ())
        for t in DAEMON_TOLERATIONS:
            if t not in tolerations:
                tolerations.append(t)
        tspec["tolerations"] = tolerations
        revision = template_hash(spec.get("template") or {})
        ensure_revision(w, ds, f"{ds['metadata']['name']}-{revision}", revision)
        probe = {"spec": tspec}
        nodes = {}
        for node in w.cache.list(NODES):
            # DaemonSet Pods run on cordoned and NotReady nodes too: judge labels and taints only.
            relaxed = {"metadata": node.get("metadata") or {},
                       "spec": {"taints": (node.get("spec") or {}).get("taints") or []}}
            if node_admits(relaxed, probe):
                nodes[node["metadata"]["name"]] = node
        by_node: dict[str, list[dict]] = {}
        for p in w.cache.owned(ds["metadata"]["uid"], PODS):
            by_node.setdefault((p.get("spec") or {}).get("nodeName") or "", []).append(p)
        for node_name, pods in sorted(by_node.items()):
            if node_name not in nodes:
                for p in pods:
                    w.delete(PODS, p)
            else:
                for p in pods:
                    if not is_active(p):
                        w.delete(PODS, p)
                for p in [p for p in pods if is_active(p)][1:]:
                    w.delete(PODS, p)
        for node_name in sorted(nodes):
            if not any(is_active(p) for p in by_node.get(node_name, ())):
                self.create_pod(ds, template, DS_COMPONENT, node_name=node_name, labels={
                    REVISION_LABEL: revision, TEMPLATE_GENERATION: str(ds["metadata"].get("generation", 1))})
        # Rolling update: one outdated Pod at a time, while every other Pod is Ready.
        current = [p for ps in by_node.values() for p in ps if is_active(p)
                   and (p.get("spec") or {}).get("nodeName") in nodes]
        outdated = sorted((p for p in current if _revision(p) != revision), key=lambda p: p["metadata"]["name"])
        if outdated and all(is_ready(p) for p in current) and len(current) >= len(nodes):
            w.delete(PODS, outdated[0])
        pods = [p for p in w.cache.owned(ds["metadata"]["uid"], PODS) if is_active(p)]
        self._status(ds, pods, nodes, revision)

    def _status(self, ds: dict, pods: list[dict], nodes: dict[str, dict], revision: str) -> None:
        on_nodes = [p for p in pods if (p.get("spec") or {}).get("nodeName") in nodes]
        scheduled = len({p["spec"]["nodeName"] for p in on_nodes})
        ready = sum(1 for p in on_nodes if is_ready(p))
        status = {"currentNumberScheduled": scheduled, "desiredNumberScheduled": len(nodes),
                  "numberMisscheduled": len(pods) - len(on_nodes), "numberReady": ready,
                  "observedGeneration": ds["metadata"].get("generation", 1),
                  "updatedNumberScheduled": sum(1 for p in on_nodes if _revision(p) == revision),
                  "numberAvailable": ready, "numberUnavailable": max(len(nodes) - ready, 0)}
        status = {k: v for k, v in status.items()
                  if v or k in ("currentNumberScheduled", "desiredNumberScheduled", "numberMisscheduled",
                                "numberReady", "observedGeneration")}
        self.world.write_status(DAEMONSETS, ds, status)
