"""Deployments and ReplicaSets, as kube-controller-manager runs them (the parts that matter here).

Deployment: the ReplicaSet for the current Pod template is ``<deployment>-<pod-template-hash>``;
a changed template (``kubectl rollout restart`` sets ``kubectl.kubernetes.io/restartedAt``)
makes a new one. ``RollingUpdate`` follows the real arithmetic: ``maxSurge`` (rounded up) extra
Pods may exist, and old Pods are removed only while at least ``replicas - maxUnavailable``
(rounded down) Pods stay available. With the defaults (25 %/25 %) and one replica, the new Pod
is created first and the old one deleted once the new one is Ready; a new Pod that cannot
start (Unschedulable, ContainerCreating) leaves the old ones running and the rollout stuck, and
``Progressing`` turns ``ProgressDeadlineExceeded`` after ``progressDeadlineSeconds``, as in a
cluster. ``Recreate`` scales the old ReplicaSets to 0, waits for their Pods to go, then scales
up. Status (replicas, updated/ready/available/unavailable, observedGeneration, Available and
Progressing conditions, revision annotations) is what ``kubectl rollout status`` reads.

ReplicaSet: keeps ``spec.replicas`` active Pods named ``<replicaset>-<5 chars>``; scales down
in ``controller.ActivePods`` order (unscheduled, Pending, not ready, newest first).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from sgpctl.sandbox.controllers.cache import controller_uid, copy_of
from sgpctl.sandbox.controllers.names import template_hash
from sgpctl.sandbox.controllers.pods import deletion_order, is_active, is_ready, owner_reference
from sgpctl.sandbox.controllers.workload import WorkloadController, object_key, owner_key
from sgpctl.sandbox.controllers.world import DEPLOYMENTS, PODS, REPLICASETS

REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
DEPLOYMENT_COMPONENT = "deployment-controller"
REPLICASET_COMPONENT = "replicaset-controller"
_PERCENT = re.compile(r"^(\d+)%$")


def resolve_fraction(value: Any, total: int, round_up: bool) -> int:
    if value is None:
        value = "25%"
    if isinstance(value, int):
        return max(value, 0)
    m = _PERCENT.match(str(value).strip())
    if not m:
        try:
            return max(int(str(value)), 0)
        except ValueError:
            return 0
    exact = total * int(m.group(1)) / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def surge_and_unavailable(deployment: dict) -> tuple[int, int]:
    spec = deployment.get("spec") or {}
    desired = int(spec.get("replicas", 1))
    rolling = ((spec.get("strategy") or {}).get("rollingUpdate") or {})
    surge = resolve_fraction(rolling.get("maxSurge"), desired, True)
    unavailable = resolve_fraction(rolling.get("maxUnavailable"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, desired)


def _ready_pods_since(pods: list[dict], min_ready: int, now: float) -> int:
    if not min_ready:
        return sum(1 for p in pods if is_ready(p))
    count = 0
    for p in pods:
        if not is_ready(p):
            continue
        since = next((c.get("lastTransitionTime") for c in p["status"].get("conditions") or ()
                      if c.get("type") == "Ready"), None)
        try:
            t = datetime.fromisoformat(str(since).replace("Z", "+00:00")).timestamp()
        except ValueError:
            t = now
        if now - t >= min_ready:
            count += 1
    return count


class ReplicaSetController(WorkloadController):
    resource = REPLICASETS

    def reconcile(self, rs: dict) -> None:
        w = self.world
        pods = [p for p in w.cache.owned(rs["metadata"]["uid"], PODS) if is_active(p)]
        want = int((rs.get("spec") or {}).get("replicas", 1))
        if len(pods) < want:
            for _ in range(want - len(pods)):
                self.create_pod(rs, (rs.get("spec") or {}).get("template") or {}, REPLICASET_COMPONENT,
                                failed_event=True)
        elif len(pods) > want:
            for pod in deletion_order(pods)[: len(pods) - want]:
                if not w.delete(PODS, pod):
                    continue
                w.event(rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                        component=REPLICASET_COMPONENT)
        self._update_status(rs, pods)

    def _update_status(self, rs: dict, pods: list[dict]) -> None:
        w = self.world
        spec = rs.get("spec") or {}
        selector_labels = ((spec.get("selector") or {}).get("matchLabels") or {})
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        ready = sum(1 for p in pods if is_ready(p))
        available = _ready_pods_since(pods, int(spec.get("minReadySeconds") or 0), w.clock())
        fully = sum(1 for p in pods
                    if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in template_labels.items()))
        status = {"replicas": len(pods), "fullyLabeledReplicas": fully, "readyReplicas": ready,
                  "availableReplicas": available, "observedGeneration": rs["metadata"].get("generation", 1)}
        del selector_labels
        # Kubernetes omits zero counts (omitempty) except replicas.
        status = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        if not w.write_status(REPLICASETS, rs, status):
            w.enqueue(self.name, object_key(rs))


class DeploymentController(WorkloadController):
    resource = DEPLOYMENTS

    def watches(self) -> dict:
        routes = super().watches()  # the Deployment itself, and the ReplicaSets it controls

        def rs_changed(event_type: str, obj: dict, old: dict | None):
            owner = owner_key(obj, "Deployment")
            if owner:
                yield owner

        def pod_changed(event_type: str, obj: dict, old: dict | None):
            # Recreate waits for old Pods to be gone, and a ReplicaSet's status lags its Pods.
            if event_type == "DELETED":
                rs_key = owner_key(obj, "ReplicaSet")
                if rs_key:
                    rs = self.world.cache.get(REPLICASETS, *rs_key)
                    owner = owner_key(rs, "Deployment") if rs else None
                    if owner:
                        yield owner
        routes.update({REPLICASETS: rs_changed, PODS: pod_changed})
        return routes

    # --- sync --------------------------------------------------------------------------

    def reconcile(self, d: dict) -> None:
        w = self.world
        spec = d.get("spec") or {}
        desired = int(spec.get("replicas", 1))
        all_rs = sorted(w.cache.owned(d["metadata"]["uid"], REPLICASETS), key=_revision)
        collisions = int((d.get("status") or {}).get("collisionCount") or 0)
        template = spec.get("template") or {}
        wanted_hash = template_hash(template, collisions)
        new_rs = next((rs for rs in all_rs if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == wanted_hash), None)
        old_rs = [rs for rs in all_rs if rs is not new_rs]
        max_revision = max((_revision(rs) for rs in old_rs), default=0)
        created = False
        if new_rs is None and not spec.get("paused"):
            new_rs, collisions = self._create_rs(d, wanted_hash, max_revision + 1, desired, old_rs, collisions)
            created = new_rs is not None
        elif new_rs is not None and _revision(new_rs) <= max_revision:
            # The template went back to an older ReplicaSet's (rollback): it becomes the newest revision.
            new_rs = self._annotate_rs(new_rs, {REVISION: str(max_revision + 1)})
        if new_rs is not None and not spec.get("paused"):
            strategy = (spec.get("strategy") or {}).get("type") or "RollingUpdate"
            if strategy == "Recreate":
                new_rs = self._recreate(d, new_rs, old_rs, desired)
            else:
                new_rs = self._rolling(d, new_rs, old_rs, desired)
            self._cleanup(d, old_rs)
        self._update_status(d, new_rs, old_rs, desired, collisions, created)

    def _create_rs(self, d: dict, template_hash_: str, revision: int, desired: int, old_rs: list[dict],
                   collisions: int) -> tuple[dict | None, int]:
        w = self.world
        spec = d["spec"]
        template = copy_of(spec.get("template") or {})
        tmeta = template.setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), HASH_LABEL: template_hash_}
        selector = copy_of(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: template_hash_}
        surge, _ = surge_and_unavailable(d)
        strategy = (spec.get("strategy") or {}).get("type") or "RollingUpdate"
        if strategy == "Recreate" and any(_spec_replicas(rs) for rs in old_rs):
            replicas = 0
        elif strategy == "Recreate":
            replicas = desired
        else:
            current_total = sum(_spec_replicas(rs) for rs in old_rs)
            replicas = max(0, min(desired, desired + surge - current_total)) if old_rs else desired
        rs = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {
                "name": f"{d['metadata']['name']}-{template_hash_}",
                "namespace": d["metadata"]["namespace"],
                "labels": dict(tmeta["labels"]),
                "annotations": {REVISION: str(revision), DESIRED: str(desired), MAX_REPLICAS: str(desired + surge)},
                "ownerReferences": [owner_reference(d)],
            },
            "spec": {"replicas": replicas, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                     "selector": selector, "template": template},
        }
        try:
            made = w.kube.create(REPLICASETS, rs)
        except Exception as exc:
            if getattr(exc, "reason", None) != "AlreadyExists":
                raise
            existing = w.kube.get(REPLICASETS, d["metadata"]["namespace"], rs["metadata"]["name"])
            if existing is not None and controller_uid(existing) != d["metadata"]["uid"]:
                return None, collisions + 1  # a hash collision: the next sync uses a new hash
            return existing, collisions
        w.event(d, "ScalingReplicaSet", f"Scaled up replica set {rs['metadata']['name']} from 0 to {replicas}",
                component=DEPLOYMENT_COMPONENT)
        return made, collisions

    def _annotate_rs(self, rs: dict, annotations: dict) -> dict:
        new = copy_of(rs)
        new["metadata"].setdefault("annotations", {}).update(annotations)
        return self.world.kube.update(REPLICASETS, new)

    def _scale(self, d: dict, rs: dict, replicas: int) -> dict:
        current = _spec_replicas(rs)
        if current == replicas:
            return rs
        new = copy_of(rs)
        new["spec"]["replicas"] = replicas
        surge, _ = surge_and_unavailable(d)
        desired = int(d["spec"].get("replicas", 1))
        new["metadata"].setdefault("annotations", {}).update({DESIRED: str(desired), MAX_REPLICAS: str(desired + surge)})
        made = self.world.kube.update(REPLICASETS, new)
        verb = "up" if replicas > current else "down"
        self.world.event(d, "ScalingReplicaSet",
                         f"Scaled {verb} replica set {rs['metadata']['name']} from {current} to {replicas}",
                         component=DEPLOYMENT_COMPONENT)
        return made

    def _rolling(self, d: dict, new_rs: dict, old_rs: list[dict], desired: int) -> dict:
        surge, max_unavailable = surge_and_unavailable(d)
        # Scale the new ReplicaSet up, within the surge.
        new_replicas = _spec_replicas(new_rs)
        if new_replicas > desired:
            new_rs = self._scale(d, new_rs, desired)
        elif new_replicas < desired:
            total = sum(_spec_replicas(rs) for rs in old_rs) + new_replicas
            up = min(desired + surge - total, desired - new_replicas)
            if up > 0:
                new_rs = self._scale(d, new_rs, new_replicas + up)
        # Scale old ReplicaSets down while enough Pods stay available.
        old_total = sum(_spec_replicas(rs) for rs in old_rs)
        if old_total == 0:
            return new_rs
        min_available = desired - max_unavailable
        new_unavailable = _spec_replicas(new_rs) - _status(new_rs, "availableReplicas")
        all_total = old_total + _spec_replicas(new_rs)
        # First the old Pods that are not available anyway (they do not count towards availability).
        cleanup = all_total - min_available - new_unavailable
        scaled = {rs["metadata"]["name"]: _spec_replicas(rs) for rs in old_rs}
        for rs in old_rs:
            if cleanup <= 0:
                break
            unhealthy = _spec_replicas(rs) - _status(rs, "availableReplicas")
            if unhealthy <= 0:
                continue
            step = min(unhealthy, cleanup)
            cleanup -= step
            scaled[rs["metadata"]["name"]] -= step
        all_available = sum(_status(rs, "availableReplicas") for rs in old_rs) + _status(new_rs, "availableReplicas")
        room = all_available - min_available
        for rs in old_rs:
            if room <= 0:
                break
            replicas = scaled[rs["metadata"]["name"]]
            if replicas <= 0:
                continue
            step = min(replicas, room)
            room -= step
            scaled[rs["metadata"]["name"]] -= step
        for rs in old_rs:
            self._scale(d, rs, scaled[rs["metadata"]["name"]])
        return new_rs

    def _recreate(self, d: dict, new_rs: dict, old_rs: list[dict], desired: int) -> dict:
        w = self.world
        for rs in old_rs:
            if _spec_replicas(rs):
                self._scale(d, rs, 0)
        for rs in old_rs:
            if any(is_active(p) for p in w.cache.owned(rs["metadata"]["uid"], PODS)):
                return new_rs
        return self._scale(d, new_rs, desired)

    def _cleanup(self, d: dict, old_rs: list[dict]) -> None:
        limit = int((d.get("spec") or {}).get("revisionHistoryLimit", 10))
        idle = [rs for rs in old_rs if not _spec_replicas(rs) and not _status(rs, "replicas")]
        for rs in idle[: max(len(idle) - limit, 0)]:
            self.world.delete(REPLICASETS, rs)

    def _update_status(self, d: dict, new_rs: dict | None, old_rs: list[dict], desired: int, collisions: int,
                       created: bool) -> None:
        w = self.world
        all_rs = old_rs + ([new_rs] if new_rs is not None else [])
        # Read the ReplicaSets again: scaling above changed them.
        all_rs = [w.cache.get(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs for rs in all_rs]
        if new_rs is not None:
            new_rs = all_rs[-1]
        replicas = sum(_status(rs, "replicas") for rs in all_rs)
        updated = _status(new_rs, "replicas") if new_rs is not None else 0
        ready = sum(_status(rs, "readyReplicas") for rs in all_rs)
        available = sum(_status(rs, "availableReplicas") for rs in all_rs)
        total_spec = sum(_spec_replicas(rs) for rs in all_rs)
        _, max_unavailable = surge_and_unavailable(d)
        old = d.get("status") or {}
        now = w.now()
        generation = d["metadata"].get("generation", 1)
        status: dict[str, Any] = {"observedGeneration": generation, "replicas": replicas, "updatedReplicas": updated,
                                  "readyReplicas": ready, "availableReplicas": available,
                                  "unavailableReplicas": max(total_spec - available, 0)}
        status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
        if collisions:
            status["collisionCount"] = collisions
        conditions = {c.get("type"): c for c in old.get("conditions") or ()}
        conditions["Available"] = _condition(
            "Available", conditions.get("Available"), available >= desired - max_unavailable,
            "MinimumReplicasAvailable" if available >= desired - max_unavailable else "MinimumReplicasUnavailable",
            "Deployment has minimum availability." if available >= desired - max_unavailable
            else "Deployment does not have minimum availability.", now)
        rs_name = new_rs["metadata"]["name"] if new_rs is not None else d["metadata"]["name"]
        complete = (new_rs is not None and updated == desired and replicas == desired and available == desired)
        counts = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas")
        moved = any(old.get(k, 0) != status.get(k, 0) for k in counts) or created
        progressing = conditions.get("Progressing")
        deadline = (d.get("spec") or {}).get("progressDeadlineSeconds", 600)
        if (d.get("spec") or {}).get("paused"):
            conditions["Progressing"] = _condition("Progressing", progressing, None, "DeploymentPaused", "Deployment is paused", now,
                                                   status_text="Unknown")
        elif complete:
            conditions["Progressing"] = _condition("Progressing", progressing, True, "NewReplicaSetAvailable",
                                                   f'ReplicaSet "{rs_name}" has successfully progressed.', now,
                                                   touch=moved)
        elif created:
            conditions["Progressing"] = _condition("Progressing", progressing, True, "NewReplicaSetCreated",
                                                   f'Created new replica set "{rs_name}"', now, touch=True)
        elif moved or progressing is None or progressing.get("reason") == "NewReplicaSetAvailable":
            conditions["Progressing"] = _condition("Progressing", progressing, True, "ReplicaSetUpdated",
                                                   f'ReplicaSet "{rs_name}" is progressing.', now, touch=True)
        elif progressing.get("reason") != "ProgressDeadlineExceeded" and _older_than(
                progressing.get("lastUpdateTime"), deadline, w.clock()):
            conditions["Progressing"] = _condition("Progressing", progressing, False, "ProgressDeadlineExceeded",
                                                   f'ReplicaSet "{rs_name}" has timed out progressing.', now)
        status["conditions"] = [conditions[t] for t in ("Available", "Progressing") if t in conditions]
        if not complete and not (d.get("spec") or {}).get("paused"):
            w.requeue_after(self.name, object_key(d), float(deadline) + 0.5)
        revision = str(_revision(new_rs)) if new_rs is not None else None
        if revision and (d["metadata"].get("annotations") or {}).get(REVISION) != revision:
            new = copy_of(d)
            new["metadata"].setdefault("annotations", {})[REVISION] = revision
            d = w.kube.update(DEPLOYMENTS, new)
        if not w.write_status(DEPLOYMENTS, d, status):
            w.enqueue(self.name, object_key(d))


def _spec_replicas(rs: dict | None) -> int:
    return int(((rs or {}).get("spec") or {}).get("replicas", 0) or 0)


def _status(rs: dict | None, field: str) -> int:
    return int(((rs or {}).get("status") or {}).get(field, 0) or 0)


def _revision(rs: dict | None) -> int:
    try:
        return int(((rs or {}).get("metadata") or {}).get("annotations", {}).get(REVISION, 0))
    except (TypeError, ValueError):
        return 0


def _older_than(ts: str | None, seconds: float, now: float) -> bool:
    if not ts:
        return False
    try:
        t = datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    return now - t > seconds


def _condition(type_: str, old: dict | None, ok: bool | None, reason: str, message: str, now: str, *,
               touch: bool = False, status_text: str | None = None) -> dict:
    text = status_text or ("True" if ok else "False")
    changed = old is None or old.get("status") != text
    same = not changed and old.get("reason") == reason and old.get("message") == message
    if same and not touch:
        return old
    return {"type": type_,
            "status": text,
            "lastUpdateTime": now if (touch or not same) else old.get("lastUpdateTime", now),
            "lastTransitionTime": now if changed else old.get("lastTransitionTime", now),
            "reason": reason, "message": message}
