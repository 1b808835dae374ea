"""Endpoints and EndpointSlices of Services with a selector, as the endpoints and
endpointslice controllers keep them: every Pod the selector matches that has an IP, ready ones
as addresses and the others as notReadyAddresses (``ready: false`` in the slice), with the
Service's ports resolved against the Pod's container ports (a named ``targetPort``). The slice
is ``<service>-<5 chars>``, labelled ``kubernetes.io/service-name`` and owned by the Service.
"""

from __future__ import annotations

from typing import Any

from sgpctl.core import selectors
from sgpctl.sandbox.controllers.cache import copy_of
from sgpctl.sandbox.controllers.names import generated_name
from sgpctl.sandbox.controllers.pods import is_ready
from sgpctl.sandbox.controllers.workload import object_key
from sgpctl.sandbox.controllers.world import ENDPOINTS, ENDPOINTSLICES, PODS, SERVICES

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


def _target(port: dict, pod: dict) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    for c in (pod.get("spec") or {}).get("containers") or ():
        for p in c.get("ports") or ():
            if p.get("name") == target:
                return p.get("containerPort")
    try:
        return int(str(target))
    except ValueError:
        return None


class EndpointsController:
    name = "endpoints"

    def __init__(self, world: Any):
        self.world = world

    def watches(self) -> dict:
        def service_changed(event_type: str, obj: dict, old: dict | None):
            yield object_key(obj)

        def pod_changed(event_type: str, obj: dict, old: dict | None):
            ns = obj["metadata"].get("namespace") or "default"
            labels = [(obj.get("metadata") or {}).get("labels") or {}]
            if old is not None:
                labels.append((old.get("metadata") or {}).get("labels") or {})
            for svc in self.world.cache.list(SERVICES, ns):
                sel = (svc.get("spec") or {}).get("selector")
                if sel and any(all(lab.get(k) == v for k, v in sel.items()) for lab in labels):
                    yield object_key(svc)
        return {SERVICES: service_changed, PODS: pod_changed}

    def resync(self):
        for svc in self.world.cache.list(SERVICES):
            yield object_key(svc)

    def tick(self) -> None:
        pass

    def sync(self, key: Any) -> None:
        w = self.world
        ns, name = key
        svc = w.cache.get(SERVICES, ns, name)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            return  # the garbage collector takes the slices (owned); Endpoints go with the Service
        spec = svc.get("spec") or {}
        selector = spec.get("selector")
        if not selector:
            return  # endpoints of selector-less Services are the user's
        sel = selectors.from_label_selector({"matchLabels": selector})
        pods = [p for p in w.cache.list(PODS, ns)
                if sel.matches((p.get("metadata") or {}).get("labels") or {})
                and (p.get("status") or {}).get("podIP")
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
                and not p["metadata"].get("deletionTimestamp")]
        ports = spec.get("ports") or []
        self._endpoints(svc, pods, ports)
        self._slice(svc, pods, ports)

    def _address(self, pod: dict) -> dict:
        out = {"ip": pod["status"]["podIP"], "targetRef": {
            "kind": "Pod", "namespace": pod["metadata"]["namespace"], "name": pod["metadata"]["name"],
            "uid": pod["metadata"]["uid"]}}
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            out["nodeName"] = node
        return out

    def _endpoints(self, svc: dict, pods: list[dict], ports: list[dict]) -> None:
        w = self.world
        meta = svc["metadata"]
        subsets = []
        by_ports: dict[tuple, dict] = {}
        for pod in sorted(pods, key=lambda p: p["status"]["podIP"]):
            resolved = tuple((p.get("name"), _target(p, pod), p.get("protocol", "TCP")) for p in ports)
            subset = by_ports.setdefault(resolved, {"ports": [
                {k: v for k, v in (("name", n), ("port", port), ("protocol", proto)) if v is not None}
                for n, port, proto in resolved]})
            subset.setdefault("addresses" if is_ready(pod) else "notReadyAddresses", []).append(self._address(pod))
        subsets = [s for s in by_ports.values()]
        body = {"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                             "labels": dict(meta.get("labels") or {})}}
        if subsets:
            body["subsets"] = subsets
        current = w.cache.get(ENDPOINTS, meta["namespace"], meta["name"])
        if current is None:
            try:
                w.kube.create(ENDPOINTS, body)
            except Exception as exc:
                if getattr(exc, "reason", None) != "AlreadyExists":
                    raise
            return
        if current.get("subsets") != body.get("subsets"):
            new = copy_of(current)
            new.pop("subsets", None)
            if subsets:
                new["subsets"] = subsets
            w.kube.update(ENDPOINTS, new)

    def _slice(self, svc: dict, pods: list[dict], ports: list[dict]) -> None:
        w = self.world
        meta = svc["metadata"]
        endpoints = []
        for pod in sorted(pods, key=lambda p: p["status"]["podIP"]):
            ready = is_ready(pod)
            ep = {"addresses": [pod["status"]["podIP"]],
                  "conditions": {"ready": ready, "serving": ready, "terminating": False},
                  "targetRef": {"kind": "Pod", "namespace": pod["metadata"]["namespace"],
                                "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}}
            if (pod.get("spec") or {}).get("nodeName"):
                ep["nodeName"] = pod["spec"]["nodeName"]
            endpoints.append(ep)
        slice_ports = []
        for p in ports:
            resolved = _target(p, pods[0]) if pods else None
            entry = {"name": p.get("name") or "", "protocol": p.get("protocol", "TCP")}
            if resolved is not None:
                entry["port"] = resolved
            slice_ports.append(entry)
        existing = [s for s in w.cache.owned(meta["uid"], ENDPOINTSLICES)]
        if existing:
            current = existing[0]
            if current.get("endpoints") != endpoints or current.get("ports") != slice_ports:
                new = copy_of(current)
                new["endpoints"], new["ports"] = endpoints, slice_ports
                w.kube.update(ENDPOINTSLICES, new)
            return
        body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                "metadata": {"name": generated_name(meta["name"] + "-", w.rng), "namespace": meta["namespace"],
                             "labels": {SERVICE_NAME_LABEL: meta["name"], MANAGED_BY: "endpointslice-controller.k8s.io"},
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": meta["name"],
                                                  "uid": meta["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}]},
                "endpoints": endpoints, "ports": slice_ports}
        w.kube.create(ENDPOINTSLICES, body)
