"""The simulated data plane: do the kubelet's probes reach a sub-ENI Pod through its security groups?

Decided with ``sgpctl.core.traffic`` - the code ``sgpctl`` predicts with - over the cloud state's
rules, templates and ENIs: a probe is a TCP flow from the node's address to the Pod's IP on the
probe's port (HTTP, TCP and gRPC probes; exec probes need no network). Whether the Pod's groups see
it at all depends on the routing mode the Pod's datapath was set up with: the eniipamd add-on's
``vpcCni.trunkingEni.podSecurityGroupEnforcingMode`` as last seen settled (``Succeeded``) when the
kubelet set up the Pod's network, pinned on its sub-ENI, since the TKE document says a change "only
takes effect for incremental Pods". In standard routing node-to-Pod traffic bypasses the groups; in
strict routing it passes them, and a Pod whose groups drop its probes does not become Ready, as on a
real node:

- a failing readiness probe: the container is not ready, the Pod's Ready and ContainersReady
  conditions are False (``ContainersNotReady``);
- a failing startup probe: the container is not started either;
- a failing liveness probe: the container is not ready and a ``Killing`` event says it will be
  restarted (restarts themselves, and their back-off, are not simulated);
- each failing probe gets the kubelet's Warning event ``Unhealthy`` with the message the kubelet
  writes for a connection that times out (a DROP is silent), e.g. ``Readiness probe failed: dial tcp
  10.0.2.5:8080: i/o timeout``.

Re-evaluated whenever ``CloudState.rules_generation`` moves (rules, templates, an ENI's groups or
addresses changed): fixing the rules makes the Pod Ready again, as the next probe would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sgpctl.core.addon_values import mode_of
from sgpctl.core.annotations import uses_sub_eni
from sgpctl.core.traffic import (
    AddressTemplate,
    AddressTemplateGroup,
    Endpoint,
    Flow,
    GroupRules,
    Probe,
    RuleBook,
    ServiceTemplate,
    ServiceTemplateGroup,
    explain,
    probes,
)
from sgpctl.sandbox.controllers.cache import copy_of
from sgpctl.sandbox.controllers.world import ENIIPAMD_ADDON, NODES, PODS, World, log

COMPONENT = "kubelet"
ALL = ("probe-all",)


@dataclass(frozen=True)
class ProbeFailure:
    probe: Probe
    message: str

    @property
    def kind(self) -> str:
        return self.probe.kind


def _node_ip(node: dict) -> str:
    for addr in (node.get("status") or {}).get("addresses") or ():
        if addr.get("type") == "InternalIP":
            return addr.get("address")
    return ""


def failure_message(probe: Probe, pod_ip: str) -> str:
    """What the kubelet reports for a probe whose connection times out."""
    what = f"{probe.kind.capitalize()} probe failed: "
    target = f"{pod_ip}:{probe.port}"
    if probe.handler == "HTTP":
        scheme = (probe.scheme or "HTTP").lower()
        return what + (f'Get "{scheme}://{target}{probe.path or "/"}": context deadline exceeded '
                       f"(Client.Timeout exceeded while awaiting headers)")
    if probe.handler == "gRPC":
        return what + f'timeout: failed to connect service "{target}" within 1s'
    return what + f"dial tcp {target}: i/o timeout"


def _network_probes(pod: dict) -> list[Probe]:
    return [p for p in probes(pod) if p.port is not None and not p.host]


def probe_status(status: dict, failures: list[ProbeFailure], now: str) -> dict:
    """``status`` (a Running Pod's) with the containers whose probes fail not ready, and the Pod's
    Ready/ContainersReady conditions following them; with no failures, everything ready."""
    out = copy_of(status)
    failing: dict[str, set[str]] = {}
    for f in failures:
        failing.setdefault(f.probe.container, set()).add(f.kind)
    for c in out.get("containerStatuses") or ():
        kinds = failing.get(c.get("name"), set())
        c["ready"] = not kinds
        c["started"] = "startup" not in kinds
    for c in out.get("initContainerStatuses") or ():
        if c.get("name") in failing:
            c["ready"] = False
    unready = [c.get("name") for c in (out.get("containerStatuses") or ()) if not c.get("ready")]
    for cond in out.get("conditions") or ():
        if cond.get("type") not in ("Ready", "ContainersReady"):
            continue
        value = "False" if unready else "True"
        if cond.get("status") != value:
            cond["lastTransitionTime"] = now
        cond["status"] = value
        if unready:
            cond["reason"] = "ContainersNotReady"
            cond["message"] = f"containers with unready status: [{' '.join(unready)}]"
        else:
            cond.pop("reason", None)
            cond.pop("message", None)
    return out


class DataPlane:
    name = "dataplane"

    def __init__(self, world: World):
        self.world = world
        self._generation: int | None = None
        self._mode: str | None = None
        #: (namespace, name) -> the failures last reported, so events fire on a change only
        self._reported: dict[tuple[str, str], frozenset[tuple[str, str]]] = {}
        #: sub-ENI Pods with network probes
        self._tracked: set[tuple[str, str]] = set()
        #: rule books by (rules generation, groups)
        self._books: dict[tuple[int, tuple[str, ...]], RuleBook] = {}

    # --- what the kubelet asks -----------------------------------------------------------

    def routing_mode(self) -> str:
        """eniipamd's routing mode as last seen settled; before any, what its values say."""
        w = self.world
        addon = w.cloud.addon(w.cluster_id, ENIIPAMD_ADDON)
        if addon is not None and (addon.get("Phase") == "Succeeded" or self._mode is None):
            self._mode = mode_of(w.cloud.addon_values(w.cluster_id, ENIIPAMD_ADDON) or {})
        return self._mode or "standard"

    def started(self, pod: dict, node: dict, pod_ip: str) -> list[ProbeFailure]:
        """A sub-ENI Pod's network is up: pin the routing mode on its sub-ENI and say which probes fail."""
        eni_id = self._eni_id(pod)
        if eni_id is not None:
            self.world.cloud.pin_routing_mode(eni_id, self.routing_mode())
        failures = self.failures(pod, node, pod_ip)
        meta = pod["metadata"]
        self._reported[(meta.get("namespace") or "default", meta["name"])] = _keys(failures)
        return failures

    def failures(self, pod: dict, node: dict, pod_ip: str) -> list[ProbeFailure]:
        checks = _network_probes(pod)
        eni_id = self._eni_id(pod)
        if not checks or eni_id is None:
            return []
        w = self.world
        eni = w.cloud.eni(eni_id)
        if eni is None:
            return []
        groups = list(eni.get("GroupSet") or ())
        mode = w.cloud.pin_routing_mode(eni_id, self.routing_mode())
        meta = pod["metadata"]
        node_name = node["metadata"]["name"]
        me = Endpoint.sub_eni_pod(meta.get("namespace") or "default", meta["name"], pod_ip, node_name, groups, mode)
        kubelet = Endpoint.node_endpoint(node_name, _node_ip(node) or pod_ip)
        book = self._books.get((w.cloud.rules_generation, tuple(groups)))
        if book is None:
            book = self._books[(w.cloud.rules_generation, tuple(groups))] = self._book(groups)
        out = []
        for p in checks:
            decision = explain(kubelet, me, Flow("tcp", p.port, p.port), book)
            if decision.allowed is False:
                out.append(ProbeFailure(p, failure_message(p, pod_ip)))
            elif decision.allowed is None:  # the sandbox knows everything; say so if it ever does not
                log.warning("probe of %s/%s undecided: %s", meta.get("namespace"), meta["name"], decision.reason)
        return out

    def _eni_id(self, pod: dict) -> str | None:
        for v in self.world.cache.vpcenis_of(pod["metadata"].get("uid") or ""):
            eni_id = ((v.get("status") or {}).get("eni") or {}).get("eniID")
            if eni_id:
                return eni_id
        return None

    def _book(self, groups: list[str]) -> RuleBook:
        cloud = self.world.cloud
        found = {g: cloud.group_rules(g) for g in groups}
        rules = [GroupRules.from_api(g, r) for g, r in found.items() if r is not None]
        referenced = RuleBook.build(rules).referenced()[0]
        t = cloud.templates()
        return RuleBook.build(
            rules, cloud.group_members(referenced),
            [AddressTemplate.from_api(x) for x in t["address_templates"]],
            [AddressTemplateGroup.from_api(x) for x in t["address_template_groups"]],
            [ServiceTemplate.from_api(x) for x in t["service_templates"]],
            [ServiceTemplateGroup.from_api(x) for x in t["service_template_groups"]],
        )

    # --- the controller: look again when the rules change --------------------------------
    # Pods that could fail a probe (sub-ENI, a network probe) are tracked from Pod events, so a
    # change of rules looks at those only, not at every Pod of a 10,000-Pod region.

    def watches(self) -> dict:
        def pod_changed(event_type: str, obj: dict, old: dict | None):
            now = event_type != "DELETED" and _candidate(obj)
            if now != (old is not None and _candidate(old)) or event_type == "DELETED":
                meta = obj["metadata"]
                yield ("track", meta.get("namespace") or "default", meta["name"])
        return {PODS: pod_changed}

    def resync(self):
        for pod in self.world.cache.list(PODS):
            if _candidate(pod):
                yield ("track", pod["metadata"].get("namespace") or "default", pod["metadata"]["name"])
        yield ALL

    def tick(self) -> None:
        generation = self.world.cloud.rules_generation
        if generation != self._generation:
            self._generation = generation
            self._books.clear()
            if self._tracked:
                self.world.enqueue(self.name, ALL)

    def sync(self, key: Any) -> None:
        w = self.world
        if key[0] == "track":
            pod = w.cache.get(PODS, key[1], key[2])
            if pod is not None and _candidate(pod):
                self._tracked.add(key[1:])
            else:
                self._tracked.discard(key[1:])
                self._reported.pop(key[1:], None)
            return
        for ns, name in sorted(self._tracked):
            pod = w.cache.get(PODS, ns, name)
            status = (pod or {}).get("status") or {}
            if pod is None or status.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
                continue
            node = w.cache.get(NODES, "", (pod.get("spec") or {}).get("nodeName") or "")
            if node is not None and status.get("podIP"):
                self._recheck(pod, node, status["podIP"])

    def _recheck(self, pod: dict, node: dict, pod_ip: str) -> None:
        w = self.world
        failures = self.failures(pod, node, pod_ip)
        meta = pod["metadata"]
        key = (meta.get("namespace") or "default", meta["name"])
        if not w.write_status(PODS, pod, probe_status(pod.get("status") or {}, failures, w.now())):
            return
        before = self._reported.get(key, frozenset())
        self._reported[key] = _keys(failures)
        report(w, pod, [f for f in failures if (f.probe.container, f.kind) not in before])


def _candidate(pod: dict) -> bool:
    return uses_sub_eni(pod) and bool(_network_probes(pod))


def _keys(failures: list[ProbeFailure]) -> frozenset[tuple[str, str]]:
    return frozenset((f.probe.container, f.kind) for f in failures)


def report(world: World, pod: dict, failures: list[ProbeFailure]) -> None:
    """The kubelet's events for failing probes."""
    for f in failures:
        world.event(pod, "Unhealthy", f.message, type="Warning", component=COMPONENT)
        if f.kind in ("liveness", "startup"):
            world.event(pod, "Killing", f"Container {f.probe.container} failed {f.kind} probe, will be restarted",
                        component=COMPONENT)
