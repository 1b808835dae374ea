"""The flows a Pod needs to work, derived from what the cluster says about it.

- **Probes**: the kubelet connects from the node's address to the Pod's IP on the probe's port, for
  HTTP (``httpGet``), TCP (``tcpSocket``) and gRPC (``grpc``) probes of every container (and of
  sidecar init containers, ``restartPolicy: Always``). A named port is the container's own port of
  that name (as the kubelet resolves it, falling back to a number written as a string). Exec probes
  need no flow; a probe with ``host`` set goes elsewhere and is noted, not checked.
- **DNS** (``dnsPolicy`` ClusterFirst, the default): UDP and TCP to the cluster DNS Service's IP
  *and* to its Pods' IPs on their target ports: kube-proxy rewrites the Service IP to a Pod IP, and
  which of the two a sub-ENI's groups see is not documented, so both must pass. ``None`` uses
  ``dnsConfig.nameservers``; ``Default`` uses the node's resolvers (not known here: noted).
- **Services** that select the Pod (same namespace, every selector pair matching), per port, on
  the target port (a named ``targetPort`` is a container port of that name and protocol):
  ClusterIP from the clients the caller knows (none known: noted); NodePort and LoadBalancer with
  ``externalTrafficPolicy: Cluster`` from every node (kube-proxy forwards from the node that took
  the connection, masquerading to its address); with ``Local``, or a LoadBalancer in TKE's
  CLB-to-Pod direct mode (annotation ``service.cloud.tencent.com/direct-access: "true"``), from the
  clients themselves: ``loadBalancerSourceRanges`` when set, anyone otherwise.
- **Declared egress**: the annotation ``sgpctl.io/egress`` lists what the Pod itself calls, as
  comma-separated ``PROTOCOL[:PORT[-PORT]]@ADDRESS`` items: ``tcp:443@10.0.0.0/8,udp:53@10.0.0.2,
  icmp@10.1.0.0/16`` (protocols tcp, udp, icmp; an address is an IP or CIDR, IPv4 or IPv6).
"""

from __future__ import annotations

import functools
import marshal
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Hashable, Iterable, Mapping, Sequence

from sgpctl.core.strict import _service_selects as service_selects
from sgpctl.core.traffic.explain import Endpoint, Flow
from sgpctl.core.traffic.space import parse_network, port_text

EGRESS_ANNOTATION = "sgpctl.io/egress"
DIRECT_ACCESS_ANNOTATION = "service.cloud.tencent.com/direct-access"
PROBE_KINDS = (("livenessProbe", "liveness"), ("readinessProbe", "readiness"), ("startupProbe", "startup"))
HANDLERS = (("httpGet", "HTTP"), ("tcpSocket", "TCP"), ("grpc", "gRPC"))
DNS_PORT = 53

PROBE = "probe"
DNS = "dns"
SERVICE = "service"
EGRESS = "egress"


@dataclass(frozen=True)
class Probe:
    """One network probe of one container: ``port`` resolved (None with ``problem`` when not)."""

    container: str
    kind: str  # liveness, readiness, startup
    handler: str  # HTTP, TCP, gRPC
    port: int | None
    path: str | None = None
    scheme: str | None = None
    host: str | None = None
    problem: str | None = None

    def describe(self) -> str:
        target = f":{self.port}" if self.port is not None else ""
        if self.handler == "HTTP":
            target = f"{self.scheme or 'HTTP'} GET {target}{self.path or '/'}"
        else:
            target = f"{self.handler} {target}"
        return f"{self.kind} probe of container {self.container} ({target})"


@dataclass(frozen=True)
class Need:
    """A flow the Pod needs. ``id`` is stable across runs (for checks); ``peer_cidrs``, when given,
    are what a rule allowing it should name instead of the peer's own address (the node subnets
    for node-sourced traffic, so the rule keeps working for new nodes)."""

    id: str
    kind: str
    description: str
    source: Endpoint
    destination: Endpoint
    flow: Flow
    peer_cidrs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "description": self.description, "from": self.source.ref,
                "to": self.destination.ref, "flow": self.flow.to_dict(), "peerCidrs": list(self.peer_cidrs)}


@dataclass
class PodNeeds:
    needs: list[Need] = field(default_factory=list)
    #: what could not be derived, and why (one line each)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClusterDns:
    """The cluster DNS: its Service (``service`` endpoint, ``ports`` as (protocol, port)) and its
    Pods with the port each listens on per (protocol, service port)."""

    service: Endpoint | None
    ports: tuple[tuple[str, int], ...] = (("udp", DNS_PORT), ("tcp", DNS_PORT))
    #: (endpoint, protocol, target port)
    pods: tuple[tuple[Endpoint, str, int], ...] = ()
    #: the subnets the DNS Pods draw their addresses from: a rule naming them survives the Pods moving
    pod_cidrs: tuple[str, ...] = ()

    @cached_property
    def flows(self) -> tuple[tuple[str, str, Endpoint, Flow, tuple[str, ...]], ...]:
        """What every ClusterFirst Pod's DNS needs are but their source, as (id, description, peer,
        flow, peer CIDRs): made once per cluster DNS (an evaluation makes its own), not once per Pod.
        Kept on the object rather than in a module cache keyed on it, which hashed it whole, every
        Endpoint in it, on each ask (doctor on 10,000 Pods: 224 asks, 15 ms under cProfile; 3 ms so)."""
        service = self.service
        assert service is not None  # dns_needs asks only with the Service known
        out = [(f"dns:{proto}:{service.ref}", f"DNS ({proto.upper()} {port}) to {service.ref}", service,
                Flow(proto, port, port), ()) for proto, port in self.ports]
        out += [(f"dns:{proto}:{ep.ref}", f"DNS ({proto.upper()} {target}) to {ep.ref}, behind {service.ref}", ep,
                 Flow(proto, target, target), _cidrs_holding(ep.address, self.pod_cidrs))
                for ep, proto, target in self.pods]
        return tuple(out)


# --- ports ---------------------------------------------------------------------------------------


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= 65535 else None
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if 0 < n <= 65535 else None


def _container_port(container: Mapping[str, Any], name: str, protocol: str | None = None) -> int | None:
    for p in container.get("ports") or ():
        if p.get("name") == name and (protocol is None or (p.get("protocol") or "TCP").upper() == protocol.upper()):
            return _as_int(p.get("containerPort"))
    return None


def resolve_target_port(service_port: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    """A Service port's target on this Pod: a number, or a named container port of the same
    protocol (as the endpoints controller matches it); absent means the Service port."""
    target = service_port.get("targetPort")
    if target is None or target == "":
        return _as_int(service_port.get("port"))
    if isinstance(target, int):
        return _as_int(target)
    protocol = service_port.get("protocol") or "TCP"
    for c in _containers(pod):
        found = _container_port(c, str(target), protocol)
        if found is not None:
            return found
    return None


def _containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = pod.get("spec") or {}
    sidecars = [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    return [*(spec.get("containers") or ()), *sidecars]


def probes(pod: Mapping[str, Any]) -> list[Probe]:
    """The Pod's network probes (exec probes need no flow and are left out)."""
    out: list[Probe] = []
    for c in _containers(pod):
        name = str(c.get("name") or "")
        for field_name, kind in PROBE_KINDS:
            probe = c.get(field_name)
            if not isinstance(probe, Mapping):
                continue
            for key, handler in HANDLERS:
                action = probe.get(key)
                if not isinstance(action, Mapping):
                    continue
                raw = action.get("port")
                port = _as_int(raw) if key == "grpc" or isinstance(raw, int) else (
                    _container_port(c, str(raw)) if raw is not None else None)
                if port is None and key != "grpc" and isinstance(raw, str):
                    port = _as_int(raw)  # the kubelet's last resort: a number written as a string
                problem = None if port is not None else f"port {raw!r} is not a number or a port of container {name}"
                out.append(Probe(name, kind, handler, port, action.get("path") if key == "httpGet" else None,
                                 action.get("scheme") if key == "httpGet" else None, action.get("host") or None,
                                 problem))
    return out


# --- the needs -----------------------------------------------------------------------------------


def _pod_ref(pod: Mapping[str, Any]) -> tuple[str, str]:
    meta = pod.get("metadata") or {}
    return meta.get("namespace") or "default", meta.get("name") or ""


def _cidrs_holding(address: str, cidrs: Sequence[str]) -> tuple[str, ...]:
    return _holding(address, tuple(cidrs))


@functools.lru_cache(maxsize=65536)
def _holding(address: str, cidrs: tuple[str, ...]) -> tuple[str, ...]:
    # Cached: every Pod's DNS needs ask it of the same few DNS Pods, every Service need of the same nodes.
    ip = parse_network(address)
    held = []
    for c in cidrs:
        net = parse_network(c)
        if ip is not None and net is not None and ip.version == net.version and ip.subnet_of(net):
            held.append(str(net))
    return tuple(held)


def probe_needs(pod: Mapping[str, Any], me: Endpoint, node: Endpoint | None, node_cidrs: Sequence[str] = ()) -> PodNeeds:
    out = PodNeeds()
    for p in probes(pod):
        if p.host:
            out.notes.append(f"{p.describe()} goes to host {p.host}, not to the Pod: not checked")
            continue
        if p.port is None:
            out.notes.append(f"{p.describe()}: {p.problem}; the kubelet cannot run it either")
            continue
        if node is None:
            out.notes.append(f"{p.describe()}: the Pod's node is not known: not checked")
            continue
        out.needs.append(Need(f"probe:{p.container}:{p.kind}:{p.port}", PROBE, f"{p.describe()} from {node.ref}",
                              node, me, Flow("tcp", p.port, p.port), _cidrs_holding(node.address, node_cidrs)))
    return out


def cluster_dns(service: Mapping[str, Any] | None, pods: Sequence[tuple[Mapping[str, Any], Endpoint]] = (),
                pod_cidrs: Sequence[str] = ()) -> ClusterDns:
    """The cluster DNS from its Service (``kube-system/kube-dns`` on TKE) and its Pods (with their
    endpoints), target ports resolved per Pod; ``pod_cidrs``: the subnets those Pods live in. Only
    the Service's ports 53 count: resolvers ask nothing else."""
    if service is None:
        return ClusterDns(None, pods=())
    spec = service.get("spec") or {}
    meta = service.get("metadata") or {}
    ref = f"service/{meta.get('namespace') or 'kube-system'}/{meta.get('name')}"
    ip = spec.get("clusterIP")
    endpoint = Endpoint.virtual(ip, ref) if parse_network(ip or "") is not None else None
    ports: list[tuple[str, int]] = []
    targets: list[tuple[Endpoint, str, int]] = []
    for sp in spec.get("ports") or ():
        proto = str(sp.get("protocol") or "TCP").lower()
        port = _as_int(sp.get("port"))
        # Resolvers ask on port 53 only; kube-dns also publishes CoreDNS's metrics (9153), no DNS.
        if proto not in ("tcp", "udp") or port != DNS_PORT:
            continue
        ports.append((proto, port))
        for pod, ep in pods:
            target = resolve_target_port(sp, pod)
            if target is not None:
                targets.append((ep, proto, target))
    return ClusterDns(endpoint, tuple(ports), tuple(targets), tuple(pod_cidrs))


def dns_needs(pod: Mapping[str, Any], me: Endpoint, dns: ClusterDns | None) -> PodNeeds:
    out = PodNeeds()
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "None":
        for ns_ip in (spec.get("dnsConfig") or {}).get("nameservers") or ():
            if parse_network(str(ns_ip)) is None:
                out.notes.append(f"dnsConfig nameserver {ns_ip!r} is not an IP address: not checked")
                continue
            server = Endpoint.external(str(ns_ip), ref=f"ip/{ns_ip}")
            for proto in ("udp", "tcp"):
                out.needs.append(Need(f"dns:{proto}:{ns_ip}", DNS, f"DNS ({proto.upper()}) to nameserver {ns_ip}",
                                      me, server, Flow(proto, DNS_PORT, DNS_PORT)))
        return out
    if policy == "Default":
        out.notes.append("dnsPolicy Default uses the node's resolvers, which are not known here: DNS not checked")
        return out
    if dns is None or dns.service is None:
        out.notes.append("the cluster DNS Service is not known: DNS not checked")
        return out
    out.needs.extend(Need(need_id, DNS, description, me, peer, flow, cidrs)
                     for need_id, description, peer, flow, cidrs in dns.flows)
    if not dns.pods:
        out.notes.append(f"the Pods behind {dns.service.ref} are not known: only its Service IP is checked")
    return out


def _anyone(service_ref: str, ranges: Sequence[str], v6: bool) -> list[Endpoint]:
    if ranges:
        return [Endpoint.external(r, ref=f"{service_ref} client range {r}") for r in ranges]
    everyone = "::/0" if v6 else "0.0.0.0/0"
    return [Endpoint.external(everyone, ref=f"clients of {service_ref} (anyone: no loadBalancerSourceRanges)")]


def service_needs(pod: Mapping[str, Any], me: Endpoint, services: Iterable[Mapping[str, Any]],
                  nodes: Sequence[Endpoint] = (), clients: Mapping[tuple[str, str], Sequence[Endpoint]] | None = None,
                  node_cidrs: Sequence[str] = ()) -> PodNeeds:
    out = PodNeeds()
    namespace, _ = _pod_ref(pod)
    v6 = parse_network(me.address).version == 6
    for svc in services:
        meta = svc.get("metadata") or {}
        spec = svc.get("spec") or {}
        if (meta.get("namespace") or "default") != namespace or not service_selects(svc, pod):
            continue
        name = meta.get("name") or ""
        ref = f"service/{namespace}/{name}"
        kind = spec.get("type") or "ClusterIP"
        if kind == "ExternalName":
            continue
        direct = str((meta.get("annotations") or {}).get(DIRECT_ACCESS_ANNOTATION, "")).lower() == "true"
        local = spec.get("externalTrafficPolicy") == "Local"
        for sp in spec.get("ports") or ():
            proto = str(sp.get("protocol") or "TCP").lower()
            label = f"{ref} port {sp.get('name') or sp.get('port')}"
            if proto not in ("tcp", "udp"):
                out.notes.append(f"{label}: protocol {proto.upper()} is not checked")
                continue
            target = resolve_target_port(sp, pod)
            if target is None:
                out.notes.append(f"{label}: targetPort {sp.get('targetPort')!r} is not a port of this Pod: no traffic reaches it")
                continue
            flow = Flow(proto, target, target)
            known = (clients or {}).get((namespace, name))
            if known:
                for c in known:
                    out.needs.append(Need(f"service:{namespace}/{name}:{proto}:{target}:from:{c.ref}", SERVICE,
                                          f"{label} ({proto.upper()} {target}) from client {c.ref}", c, me, flow))
            elif kind == "ClusterIP":
                out.notes.append(f"{label}: the clients of this ClusterIP Service are not known: not checked")
            if kind not in ("NodePort", "LoadBalancer"):
                continue
            if (direct and kind == "LoadBalancer") or local:
                why = "CLB-to-Pod direct access" if direct and kind == "LoadBalancer" else "externalTrafficPolicy Local"
                for c in _anyone(ref, spec.get("loadBalancerSourceRanges") or (), v6):
                    out.needs.append(Need(f"service:{namespace}/{name}:{proto}:{target}:from:{c.address}", SERVICE,
                                          f"{label} ({kind}, {why}: client addresses kept) from {c.address}",
                                          c, me, flow))
                if kind == "LoadBalancer":
                    out.notes.append(f"{label}: the load balancer's health checks come from addresses not known "
                                     f"here: not checked")
                continue
            for n in nodes:
                out.needs.append(Need(f"service:{namespace}/{name}:{proto}:{target}:from:{n.ref}", SERVICE,
                                      f"{label} ({kind} via kube-proxy on {n.ref}, {proto.upper()} {target})",
                                      n, me, flow, _cidrs_holding(n.address, node_cidrs)))
            if not nodes:
                out.notes.append(f"{label}: the nodes are not known: {kind} traffic not checked")
    return out


@dataclass(frozen=True)
class EgressItem:
    protocol: str
    lo: int
    hi: int
    address: str

    def text(self) -> str:
        ports = "" if self.protocol == "icmp" else f":{port_text(self.lo, self.hi)}"
        return f"{self.protocol}{ports}@{self.address}"


def parse_egress(text: str | None) -> tuple[list[EgressItem], list[str]]:
    """The ``sgpctl.io/egress`` annotation: (items, one problem per item that could not be read)."""
    items: list[EgressItem] = []
    problems: list[str] = []
    for raw in (text or "").replace("\n", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        service, at, address = item.partition("@")
        proto, colon, ports = service.strip().lower().partition(":")
        net = parse_network(address.strip())
        if not at or net is None:
            problems.append(f"{EGRESS_ANNOTATION} item {item!r}: expected PROTOCOL[:PORT[-PORT]]@IP-or-CIDR, "
                            f"e.g. tcp:443@10.0.0.0/8")
            continue
        if proto == "icmp":
            if colon:
                problems.append(f"{EGRESS_ANNOTATION} item {item!r}: icmp takes no port (write icmp@{address.strip()})")
                continue
            items.append(EgressItem("icmp", 0, 255, str(net)))
            continue
        if proto not in ("tcp", "udp"):
            problems.append(f"{EGRESS_ANNOTATION} item {item!r}: protocol must be tcp, udp or icmp")
            continue
        lo_text, dash, hi_text = ports.partition("-")
        lo, hi = _as_int(lo_text), _as_int(hi_text) if dash else _as_int(lo_text)
        if lo is None or hi is None or lo > hi:
            problems.append(f"{EGRESS_ANNOTATION} item {item!r}: {proto} needs a port or a range 1-65535 "
                            f"(e.g. {proto}:443@{address.strip()})")
            continue
        items.append(EgressItem(proto, lo, hi, str(net)))
    return items, problems


def egress_needs(pod: Mapping[str, Any], me: Endpoint) -> PodNeeds:
    out = PodNeeds()
    text = ((pod.get("metadata") or {}).get("annotations") or {}).get(EGRESS_ANNOTATION)
    items, problems = parse_egress(text)
    out.notes.extend(problems)
    v6 = parse_network(me.address).version == 6
    for item in items:
        if (parse_network(item.address).version == 6) != v6:
            out.notes.append(f"{EGRESS_ANNOTATION} item {item.text()}: not of the Pod's IP version: not checked")
            continue
        dest = Endpoint.external(item.address)
        proto = "icmpv6" if item.protocol == "icmp" and v6 else item.protocol
        out.needs.append(Need(f"egress:{item.text()}", EGRESS, f"declared egress {item.text()}", me, dest,
                              Flow(proto, item.lo, item.hi)))
    return out


def needs_key(pod: Mapping[str, Any]) -> Hashable:
    """All that ``pod_needs`` reads of the Pod's own object, as a key: Pods with equal keys (the
    replicas of one template, say) have the same needs but for their own endpoint, node and address.
    Kept next to ``pod_needs``: a field it starts reading belongs here too. (The values' ``marshal``
    bytes: equal bytes mean equal values, ``1`` and ``True`` apart; a difference in key order only
    splits a class. Format 2 writes no back-references, so the bytes do not hang on which objects
    the decoded JSON shares. Measured on 10,000 Pods: less than half of ``repr``'s cost, 17 ms against 39.)
    A Pod with a value marshal cannot write (a Mapping that is not a dict, a date YAML read) is a
    class of its own: a key equal to nothing else."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    containers = _containers(pod)
    # Of the containers, only what probes and target ports read.
    values = (meta.get("namespace") or "default", meta.get("labels"),
              [(c.get("name"), c.get("ports"), c.get("livenessProbe"), c.get("readinessProbe"), c.get("startupProbe"))
               for c in containers],
              spec.get("dnsPolicy"), spec.get("dnsConfig"), (meta.get("annotations") or {}).get(EGRESS_ANNOTATION))
    try:
        return marshal.dumps(values, 2)
    except ValueError:
        return object()


def pod_needs(pod: Mapping[str, Any], me: Endpoint, *, node: Endpoint | None = None, nodes: Sequence[Endpoint] = (),
              dns: ClusterDns | None = None, services: Iterable[Mapping[str, Any]] = (),
              clients: Mapping[tuple[str, str], Sequence[Endpoint]] | None = None,
              node_cidrs: Sequence[str] = ()) -> PodNeeds:
    """Everything above for one Pod (``me`` is its endpoint, ``node`` its node's)."""
    out = PodNeeds()
    for part in (probe_needs(pod, me, node, node_cidrs), dns_needs(pod, me, dns),
                 service_needs(pod, me, services, nodes, clients, node_cidrs), egress_needs(pod, me)):
        out.needs.extend(part.needs)
        out.notes.extend(part.notes)
    return out
