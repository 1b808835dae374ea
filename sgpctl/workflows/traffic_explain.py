"""`traffic explain FROM TO`: one flow between two endpoints the user names (``pod/NS/NAME``,
``node/NAME``, ``ip/ADDR``; the destination may be ``service/NS/NAME``), decided hop by hop with
``core.traffic`` over the same reads as `traffic check` (``workflows.traffic``): the Pods' ENIs,
one rules read for their groups, and, for a node source, the VPC's subnets (the rule to add names
the node's subnet).

- An ``ip/`` address that is a node's or a running Pod's is that node or Pod (and the answer says so).
- A Service is resolved to its IP and its ready Pods on the target port of the named port: which of
  the two addresses a Pod's egress groups see behind kube-proxy is not documented, so both are
  judged, and the flow passes only when every path does (kube-proxy picks any backend).
- The exit code is the answer: 0 passes, 1 dropped, 3 could not be decided.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from sgpctl.core import matching
from sgpctl.core.annotations import uses_sub_eni
from sgpctl.core.traffic import Endpoint, Flow, Need, NeedResult, TrafficDecision, resolve_target_port
from sgpctl.core.traffic.needs import service_selects
from sgpctl.core.traffic.space import parse_network
from sgpctl.errors import ExitCode, InputError, RefusedError
from sgpctl.kube import resources as r
from sgpctl.workflows.clients import Cloud
from sgpctl.workflows.traffic import (
    Routing,
    SideBuilder,
    decide,
    eni_groups,
    holding,
    node_endpoints,
    node_ip,
    read_routing,
    rule_book,
    vpc_subnet_cidrs,
)
from sgpctl.workflows.view import ClusterView, object_key


REF_KINDS = ("pod", "node", "ip", "service")


@dataclass(frozen=True)
class Ref:
    """An endpoint as the user named it: ``pod/NS/NAME``, ``node/NAME``, ``ip/ADDR`` or ``service/NS/NAME``."""

    kind: str
    name: str
    namespace: str | None = None

    @property
    def text(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


def parse_ref(text: str, field: str, *, allow_service: bool = False) -> Ref:
    """Raises InputError (exit 2) naming ``field`` and the forms it takes."""
    from sgpctl.core import names

    forms = "pod/NAMESPACE/NAME, node/NAME, ip/ADDRESS" + (" or service/NAMESPACE/NAME" if allow_service else "")
    kind, _, rest = (text or "").partition("/")
    kind = {"po": "pod", "pods": "pod", "no": "node", "nodes": "node", "svc": "service", "services": "service"}.get(kind, kind)
    if kind not in REF_KINDS or not rest:
        raise InputError(f"{field} {text!r} is not an endpoint", hint=f"name one as {forms}")
    if kind == "service" and not allow_service:
        raise InputError(f"{field} {text!r}: a Service is a destination, not a source",
                         hint="name one of its Pods (pod/NAMESPACE/NAME) as the source")
    if kind == "ip":
        if parse_network(rest) is None:
            raise InputError(f"{field} {text!r}: {rest!r} is not an IP address or CIDR", hint="e.g. ip/10.0.1.5 or ip/10.0.0.0/16")
        return Ref("ip", str(parse_network(rest)) if "/" in rest else rest.strip())
    if kind == "node":
        return Ref("node", names.object_name("", "Node", rest, field))
    namespace, _, name = rest.partition("/")
    if not name:
        raise InputError(f"{field} {text!r} names no namespace", hint=f"write {kind}/NAMESPACE/NAME")
    kind_name = "Pod" if kind == "pod" else "Service"
    return Ref(kind, names.object_name("", kind_name, name, field), names.namespace(namespace, field))


@dataclass
class Explanation:
    """One flow explained; for a Service destination, the flow to its IP and to each backend Pod."""

    routing: Routing
    result: NeedResult
    #: ref -> how the endpoint was found (groups read from the ENI, predicted, an address resolved...)
    notes: list[str] = field(default_factory=list)
    service: dict | None = None
    backends: list[tuple[str, NeedResult]] = field(default_factory=list)

    @property
    def decisions(self) -> list[TrafficDecision]:
        return [self.result.decision, *(b.decision for _, b in self.backends)]

    @property
    def allowed(self) -> bool | None:
        if self.service is not None and not self.backends:
            return False  # nothing answers behind the Service (the reason says so)
        verdicts = [d.allowed for d in self.decisions]
        if any(v is False for v in verdicts):
            return False
        return True if all(v is True for v in verdicts) else None

    def exit_code(self) -> ExitCode:
        return {True: ExitCode.OK, False: ExitCode.FAILED, None: ExitCode.UNDETERMINED}[self.allowed]

    def fixes(self) -> list:
        return list({json.dumps(f.request(), sort_keys=True): f
                     for res in [self.result, *(b for _, b in self.backends)] for f in res.fixes}.values())

    def reason(self) -> str:
        if self.service is None:
            return self.result.decision.reason
        dropped = [(ref, b) for ref, b in self.backends if b.decision.allowed is False]
        unknown = [(ref, b) for ref, b in self.backends if b.decision.allowed is None]
        first = self.result.decision
        what = f"{first.flow.describe()} from {first.source.ref} to {self.service['ref']}"
        if first.allowed is False:
            return f"{what} is dropped on its way to the Service IP: {first.reason}"
        if not self.backends:
            return f"{what}: the Service has no ready backend Pod: nothing answers"
        if dropped:
            part = "every backend" if len(dropped) == len(self.backends) else \
                f"{len(dropped)} of {len(self.backends)} backends (connections to them fail, to the others pass)"
            return f"{what} is dropped for {part}: {dropped[0][1].decision.reason}"
        if unknown or first.allowed is None:
            return f"{what} could not be decided: {(unknown[0][1].decision if unknown else first).reason}"
        return (f"{what} is allowed to its IP and to each of its {len(self.backends)} backends (which address a "
                f"Pod's groups see behind kube-proxy is not documented, so both are judged)")

    def to_dict(self) -> dict[str, Any]:
        d = self.result.decision.to_dict()
        dropped = next((x for x in self.decisions if x.allowed is False), None)
        d.update({"allowed": self.allowed, "filtered": any(x.filtered for x in self.decisions),
                  "decidedBy": (dropped.decided_by.to_dict() if dropped and dropped.decided_by else
                                None if dropped or self.service else d["decidedBy"]),
                  "reason": self.reason(), "routing": self.routing.to_dict(),
                  "fixes": [f.to_dict() for f in self.fixes()], "notes": self.notes})
        if self.service is not None:
            d["to"] = self.service["ref"]
            d["service"] = self.service
            d["backends"] = [{"pod": ref, **b.decision.to_dict(), "fixes": [f.to_dict() for f in b.fixes]}
                             for ref, b in self.backends]
        return d


def _find(view: ClusterView, ref: Ref) -> dict:
    resource = {"pod": r.PODS, "node": r.NODES, "service": r.SERVICES}[ref.kind]
    obj = view.get(resource, ref.name, ref.namespace)
    if obj is None:
        where = f" -n {ref.namespace}" if ref.namespace else ""
        # exit 1, as everything named that is not found (the README's exit codes), not bad input
        raise RefusedError(f"{ref.text} not found", hint=f"kubectl get {resource.plural}{where}")
    return obj


def _holder(view: ClusterView, address: str) -> tuple[str, dict] | None:
    """The node or Pod (not hostNetwork) whose address this is."""
    for n in view.nodes:
        if node_ip(n) == address:
            return "node", n
    for p in view.pods:
        status, spec = p.get("status") or {}, p.get("spec") or {}
        if status.get("podIP") == address and not spec.get("hostNetwork") and status.get("phase") not in matching.FINISHED_PHASES:
            return "pod", p
    return None


def explain_flow(view: ClusterView, cloud: Cloud, cluster_id: str | None, source: str, destination: str, *,
                 protocol: str = "tcp", port: int | None = None, what_if: str | None = None) -> Explanation:
    """`traffic explain FROM TO`: whether the flow passes, hop by hop, and the rule to add if not."""
    src_ref = parse_ref(source, "FROM")
    dst_ref = parse_ref(destination, "TO", allow_service=True)
    protocol = (protocol or "tcp").lower()
    if protocol not in ("tcp", "udp", "icmp"):
        raise InputError(f"--protocol {protocol!r} is not tcp, udp or icmp", hint="e.g. --protocol udp")
    if protocol in ("tcp", "udp") and port is None:
        raise InputError(f"a {protocol} flow needs --port", hint="e.g. --port 8080")
    lowest, highest = (0, 255) if protocol == "icmp" else (1, 65535)
    if port is not None and not lowest <= port <= highest:
        raise InputError(f"--port {port} is out of range", hint="a port is 1-65535 (for icmp, a type 0-255)")
    routing = read_routing(cloud.tke, cluster_id).with_what_if(what_if)
    notes: list[str] = []
    objs: dict[str, tuple[str, dict | str]] = {}
    for label, ref in (("from", src_ref), ("to", dst_ref)):
        if ref.kind == "ip":
            held = _holder(view, ref.name) if parse_network(ref.name).num_addresses == 1 else None
            if held is not None:
                kind, obj = held
                key = object_key(obj)
                notes.append(f"{ref.text} is {'node/' + key[1] if kind == 'node' else f'pod/{key[0]}/{key[1]}'}")
                objs[label] = (kind, obj)
            else:
                objs[label] = ("ip", ref.name)
        else:
            objs[label] = (ref.kind, _find(view, ref))
    service = None
    backends: list[tuple[dict, int]] = []
    if objs["to"][0] == "service":
        if protocol == "icmp":
            raise InputError("a Service takes TCP or UDP", hint="use --protocol tcp or udp with a Service")
        service, backends = _service_backends(view, objs["to"][1], protocol, port)
    pods = [o for k, o in objs.values() if k == "pod"] + [p for p, _ in backends]
    for kind, obj in objs.values():
        if kind == "pod" and not (obj.get("status") or {}).get("podIP"):
            key = object_key(obj)
            raise InputError(f"pod/{key[0]}/{key[1]} has no IP address yet", hint="wait until it is Running (kubectl get pod -w)")
    keys = {object_key(p): p for p in pods}
    groups, eni_ids, enis = eni_groups(view, cloud.vpc, [k for k, p in keys.items() if uses_sub_eni(p)])
    builder = SideBuilder(view, replace(routing, what_if=None), groups, eni_ids)
    sides = {k: builder.side(p).in_mode(what_if) for k, p in keys.items()}
    nodes = node_endpoints(view.nodes)

    def endpoint(kind: str, obj) -> Endpoint:
        if kind == "pod":
            return sides[object_key(obj)].endpoint
        if kind == "node":
            name = (obj.get("metadata") or {}).get("name")
            if name not in nodes:
                raise InputError(f"node/{name} has no InternalIP address", hint="kubectl get node -o wide")
            return nodes[name]
        return Endpoint.external(obj)

    src = endpoint(*objs["from"])
    for s in sides.values():
        if s.endpoint.predicted:
            notes.append(f"{s.endpoint.ref}: groups {', '.join(s.endpoint.groups or ())} predicted (not on a sub-ENI yet)")
    book = rule_book(cloud.vpc, sides.values(), enis, nodes.values())
    peer_cidrs: tuple[str, ...] = ()
    if objs["from"][0] == "node" and cluster_id:
        peer_cidrs = tuple(holding([src.address], vpc_subnet_cidrs(cloud, cluster_id))[0])
    assumed = {s.endpoint.ref for s in sides.values() if s.routing_assumed}
    ipv6 = parse_network(src.address).version == 6

    def judge(dst: Endpoint, p: int | None, what: str) -> NeedResult:
        flow = Flow.of(protocol, p, ipv6=ipv6)
        need = Need(f"explain:{what}", "explain", f"{flow.describe()} from {src.ref} to {what}", src, dst, flow, peer_cidrs)
        try:
            return decide(need, book, assumed)
        except ValueError as e:  # e.g. an IPv4 and an IPv6 end
            raise InputError(f"{src.ref} to {what}: {e}", hint="name two ends of one IP version") from None

    if service is None:
        dst = endpoint(*objs["to"])
        return Explanation(routing, judge(dst, port, dst.ref), notes)
    svc_ep = Endpoint.virtual(service["clusterIP"], service["ref"]) if service["clusterIP"] else None
    first = judge(svc_ep, port, service["ref"]) if svc_ep is not None else None
    judged = [(sides[object_key(p)].endpoint.ref, judge(sides[object_key(p)].endpoint, target, sides[object_key(p)].endpoint.ref))
              for p, target in backends]
    if first is None:
        if not judged:
            raise InputError(f"{service['ref']} is headless and has no ready backend Pod", hint="nothing answers on it")
        first = judged[0][1]
    return Explanation(routing, first, notes, service, judged)


def _service_backends(view: ClusterView, svc: dict, protocol: str, port: int | None) -> tuple[dict, list[tuple[dict, int]]]:
    ns, name = object_key(svc)
    spec = svc.get("spec") or {}
    ports = spec.get("ports") or []
    chosen = next((p for p in ports if int(p.get("port") or 0) == port
                   and str(p.get("protocol") or "TCP").lower() == protocol), None)
    if chosen is None:
        listed = ", ".join(f"{p.get('port')}/{p.get('protocol') or 'TCP'}" for p in ports) or "none"
        raise InputError(f"service/{ns}/{name} has no {protocol.upper()} port {port}", hint=f"its ports: {listed}")
    backends = []
    for p in view.list(r.PODS, ns):
        status = p.get("status") or {}
        if not service_selects(svc, p) or status.get("phase") != "Running" or not status.get("podIP"):
            continue
        target = resolve_target_port(chosen, p)
        if target is not None:
            backends.append((p, target))
    ip = spec.get("clusterIP")
    info = {"ref": f"service/{ns}/{name}", "clusterIP": ip if ip and parse_network(ip) is not None else None,
            "port": port, "protocol": protocol, "targetPort": chosen.get("targetPort"), "type": spec.get("type") or "ClusterIP",
            "backends": len(backends)}
    return info, sorted(backends, key=lambda b: object_key(b[0]))
