"""Every node's kubelet, in one: starts bound Pods and frees what they held when they go.

A sub-ENI Pod whose security groups drop its probes (strict routing, see ``dataplane``) is Running
but not Ready, with the kubelet's ``Unhealthy`` events.

A bound Pending Pod gets its network first: a sub-ENI Pod from eniipamd (``eniipamd.setup``),
a hostNetwork Pod the node's IP, any other Pod an IP of its zone's Pod subnet (the shared ENI's
secondary IPs). Then it is Running and Ready with container statuses and Created/Started events.
A Job's Pod (restartPolicy Never or OnFailure, owned by a Job) then runs to completion: phase
Succeeded, its containers terminated with exit code 0 (reason Completed).
When eniipamd refuses, the Pod stays Pending with its containers waiting in
``ContainerCreating`` and a ``FailedCreatePodSandBox`` Warning event carrying eniipamd's
message, and is retried every ``retry_interval`` (and on ``settle()``), so fixing the cause
lets it start. A Pod deleted, or finished (Succeeded/Failed), gives back its IP and sub-ENI.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sgpctl.core.annotations import uses_sub_eni
from sgpctl.core.matching import FINISHED_PHASES
from sgpctl.sandbox.controllers.dataplane import DataPlane, probe_status, report
from sgpctl.sandbox.controllers.eniipamd import EniIpamd, NetworkSetupError
from sgpctl.sandbox.controllers.pods import completed_status, container_creating_status, running_status, sandbox_id
from sgpctl.sandbox.controllers.world import NODES, PODS, World, log

COMPONENT = "kubelet"
FALLBACK_POD_CIDR = "172.20.0.0/16"


def _starting(pod: dict) -> bool:
    return (bool((pod.get("spec") or {}).get("nodeName"))
            and (pod.get("status") or {}).get("phase", "Pending") == "Pending"
            and not (pod.get("metadata") or {}).get("deletionTimestamp"))


def _runs_to_completion(pod: dict) -> bool:
    """A running Pod of a Job: its containers finish (the sandbox runs no process, so at once)."""
    return ((pod.get("status") or {}).get("phase") == "Running"
            and (pod.get("spec") or {}).get("restartPolicy") in ("Never", "OnFailure")
            and any(r.get("kind") == "Job" and r.get("controller")
                    for r in (pod.get("metadata") or {}).get("ownerReferences") or ())
            and not (pod.get("metadata") or {}).get("deletionTimestamp"))


def _finished(pod: dict | None) -> bool:
    return bool(pod) and (pod.get("status") or {}).get("phase") in FINISHED_PHASES


def node_ip(node: dict) -> str:
    for addr in (node.get("status") or {}).get("addresses") or ():
        if addr.get("type") == "InternalIP":
            return addr.get("address")
    return node["metadata"]["name"]


def node_zone(node: dict) -> str | None:
    return ((node.get("metadata") or {}).get("labels") or {}).get("topology.kubernetes.io/zone")


class PodIPs:
    """Shared-ENI Pod IPs per zone: the first free address of the zone's Pod CIDR."""

    def __init__(self, cidrs: dict[str, str]):
        #: zone -> CIDR, read at allocation time (a scenario names its subnets after start-up)
        self._cidrs = cidrs
        self._used: set[str] = set()
        self._by_pod: dict[str, str] = {}
        self._cursor: dict[str, int] = {}

    def note(self, pod_uid: str, ip: str) -> None:
        self._used.add(ip)
        self._by_pod[pod_uid] = ip

    def allocate(self, pod_uid: str, zone: str | None) -> str:
        if pod_uid in self._by_pod:
            return self._by_pod[pod_uid]
        net = ipaddress.ip_network(self._cidrs.get(zone or "") or FALLBACK_POD_CIDR)
        key = str(net)
        size = net.num_addresses
        start = self._cursor.get(key, 4)
        for step in range(size):
            offset = (start + step) % size
            if offset < 4 or offset == size - 1:
                continue  # network, gateway and reserved addresses, broadcast
            ip = str(net.network_address + offset)
            if ip not in self._used:
                self._cursor[key] = offset + 1
                self.note(pod_uid, ip)
                return ip
        raise NetworkSetupError(f"no free IP address left in {net}")

    def release(self, pod_uid: str) -> None:
        ip = self._by_pod.pop(pod_uid, None)
        if ip is not None:
            self._used.discard(ip)


class Kubelet:
    name = "kubelet"

    def __init__(self, world: World, eniipamd: EniIpamd, dataplane: DataPlane | None = None):
        self.world = world
        self.eniipamd = eniipamd
        #: decides whether a sub-ENI Pod's probes get through its security groups
        self.dataplane = dataplane or DataPlane(world)
        self.ips = PodIPs(world.pod_cidrs)

    def watches(self) -> dict:
        def pod_changed(event_type: str, obj: dict, old: dict | None):
            meta = obj["metadata"]
            if event_type == "DELETED":
                yield ("gone", meta["uid"])
            elif _finished(obj) and not _finished(old):
                yield ("gone", meta["uid"])
            elif _starting(obj):
                yield ("start", meta.get("namespace") or "default", meta["name"])
            elif _runs_to_completion(obj):
                yield ("complete", meta.get("namespace") or "default", meta["name"])
        return {PODS: pod_changed}

    def resync(self):
        w = self.world
        for pod in w.cache.list(PODS):
            status = pod.get("status") or {}
            spec = pod.get("spec") or {}
            if status.get("podIP") and not spec.get("hostNetwork") and not uses_sub_eni(pod) \
                    and status.get("phase") not in FINISHED_PHASES:
                self.ips.note(pod["metadata"]["uid"], status["podIP"])
            if _starting(pod):
                yield ("start", pod["metadata"]["namespace"], pod["metadata"]["name"])
        for uid in self.eniipamd.orphans():
            yield ("gone", uid)

    def tick(self) -> None:
        pass

    def sync(self, key: Any) -> None:
        if key[0] == "gone":
            self.ips.release(key[1])
            if not self.eniipamd.teardown(key[1]):
                self.world.requeue_after(self.name, key, self.world.retry_interval)
            return
        _, ns, name = key
        w = self.world
        pod = w.cache.get(PODS, ns, name)
        if key[0] == "complete":
            if pod is not None and _runs_to_completion(pod):
                self._complete(pod)
            return
        if pod is None or not _starting(pod):
            return
        node = w.cache.get(NODES, "", pod["spec"]["nodeName"])
        if node is None:
            return  # a Pod bound to a node that does not exist stays Pending, as in a cluster
        host_ip = node_ip(node)
        try:
            if uses_sub_eni(pod):
                pod_ip = self.eniipamd.setup(pod, node)
            elif (pod.get("spec") or {}).get("hostNetwork"):
                pod_ip = host_ip
            else:
                pod_ip = self.ips.allocate(pod["metadata"]["uid"], node_zone(node))
        except NetworkSetupError as exc:
            self._container_creating(pod, host_ip, str(exc))
            w.requeue_after(self.name, key, w.retry_interval)
            return
        self._run(pod, host_ip, pod_ip, node)

    def _run(self, pod: dict, host_ip: str, pod_ip: str, node: dict) -> None:
        w = self.world
        status = running_status(pod, host_ip, pod_ip, w.now())
        failures = self.dataplane.started(pod, node, pod_ip) if uses_sub_eni(pod) else []
        if failures:
            status = probe_status(status, failures, w.now())
        if not w.write_status(PODS, pod, status):
            return
        for c in (pod.get("spec") or {}).get("containers") or ():
            w.event(pod, "Created", f"Created container {c.get('name')}", component=COMPONENT)
            w.event(pod, "Started", f"Started container {c.get('name')}", component=COMPONENT)
        report(w, pod, failures)

    def _complete(self, pod: dict) -> None:
        w = self.world
        if w.write_status(PODS, pod, completed_status(pod, w.now())):
            for c in (pod.get("spec") or {}).get("containers") or ():
                w.event(pod, "Completed", f"Container {c.get('name')} exited with code 0", component=COMPONENT)

    def _container_creating(self, pod: dict, host_ip: str, cause: str) -> None:
        w = self.world
        w.write_status(PODS, pod, container_creating_status(pod, host_ip, w.now()))
        message = (f"Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for "
                   f'sandbox "{sandbox_id(pod)}": plugin type="tke-eni-cni" failed (add): {cause}')
        log.info("pod %s/%s: %s", pod["metadata"]["namespace"], pod["metadata"]["name"], cause)
        w.event(pod, "FailedCreatePodSandBox", message, type="Warning", component=COMPONENT)


class PodGarbageCollector:
    """kube-controller-manager's pod GC for orphans: Pods bound to a node that no longer exists
    are deleted (their owners recreate them elsewhere)."""

    name = "podgc"

    def __init__(self, world: World):
        self.world = world

    def watches(self) -> dict:
        def node_gone(event_type: str, obj: dict, old: dict | None):
            if event_type == "DELETED":
                yield obj["metadata"]["name"]
        return {NODES: node_gone}

    def resync(self):
        w = self.world
        nodes = {n["metadata"]["name"] for n in w.cache.list(NODES)}
        orphaned = {(p.get("spec") or {}).get("nodeName") for p in w.cache.list(PODS)} - nodes - {None, ""}
        return sorted(orphaned)

    def tick(self) -> None:
        pass

    def sync(self, key: Any) -> None:
        w = self.world
        if w.cache.get(NODES, "", key) is not None:
            return
        for pod in w.cache.pods_on(key):
            w.delete(PODS, pod)
