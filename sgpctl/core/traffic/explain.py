"""Will this flow pass, and which rule decides? One flow between two endpoints, decided hop by hop.

A flow from A to B meets at most two filters: the egress rules of A's ENI and the ingress rules of
B's ENI, each decided on its own ENI with that ENI's groups in bound order. Groups are stateful:
the reply of an allowed request is allowed whatever the rules say about the reverse direction
(``reply_to``).

Whether a hop is filtered at all depends on what the endpoint is and on the routing mode (the TKE
document, "Data Plane Solution"):

=========================  ==================================  ==================================
endpoint (``kind``)        same node as the peer               another node / outside
=========================  ==================================  ==================================
``sub-eni`` Pod, standard  not filtered                        filtered by the Pod's groups
``sub-eni`` Pod, strict    filtered by the Pod's groups        filtered by the Pod's groups
``eni`` (a node, or a      not filtered (host-local traffic)   filtered by the ENI's groups when
plain Pod on its node's                                        they are known; else assumed open
ENI)
``external`` (an address)  -                                   filtered only when its groups are
                                                               given; else assumed open
``virtual`` (a Service IP) not filtered: no ENI holds it      not filtered
=========================  ==================================  ==================================

A node's own groups are not applied to traffic with its own Pods (the document names only the Pod's
groups for that path). The routing mode of a Pod is the one in force when it was created (the
document: a change "only takes effect for incremental Pods"). For a Pod not created yet, its groups are a prediction (the
policies' ``groupIds`` in ``core.matching`` order) and the decision says so.

The decision's ``allowed`` is True, False, or None when it hangs on something the rule book does
not hold (a template, a referenced group's members, a group's rules): ``reason`` and each hop's
``unknowns`` name it. ``decidedBy`` is the rule that dropped the flow (the first hop that dropped it,
egress first), or, when it passes, the rule that accepted it at the last filtered hop; null when no
rule decided (nothing filtered it, or no rule matched and it was dropped by default).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Sequence

from sgpctl.core.traffic.evaluate import ACCEPT, DROP, RuleRef, Segment, Unknown, evaluate_chain
from sgpctl.core.traffic.model import EGRESS, INGRESS, RuleBook
from sgpctl.core.traffic.rules import PROTOCOLS
from sgpctl.core.traffic.space import Box, parse_network, port_text

SUB_ENI = "sub-eni"
ENI = "eni"
EXTERNAL = "external"
VIRTUAL = "virtual"
KINDS = (SUB_ENI, ENI, EXTERNAL, VIRTUAL)
STRICT = "strict"
STANDARD = "standard"
#: the ICMP type a flow without one stands for: echo request, what ping sends
ICMP_ECHO_REQUEST = 8
ICMPV6_ECHO_REQUEST = 128
#: address blocks named in a verdict before the rest is counted
MAX_LISTED = 4


@dataclass(frozen=True)
class Endpoint:
    """One end of a flow. ``address`` is an IP or a CIDR; ``node`` the node it runs on (a node's
    own name for a node); ``groups`` its ENI's security groups in bound order, None when not known."""

    ref: str
    address: str
    kind: str = EXTERNAL
    node: str | None = None
    groups: tuple[str, ...] | None = None
    #: for a sub-ENI Pod: the routing mode in force when it was created (None: not known)
    routing: str | None = None
    #: the groups are a prediction (the Pod does not exist yet)
    predicted: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"endpoint kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if parse_network(self.address) is None:
            raise ValueError(f"endpoint {self.ref}: {self.address!r} is not an IP address or CIDR")
        if self.routing not in (None, STRICT, STANDARD):
            raise ValueError(f"routing mode {self.routing!r} is not {STRICT} or {STANDARD}")

    @classmethod
    def sub_eni_pod(cls, namespace: str, name: str, ip: str, node: str | None, groups: Sequence[str] | None,
                    routing: str | None, *, predicted: bool = False) -> "Endpoint":
        return cls(f"pod/{namespace}/{name}", ip, SUB_ENI, node, None if groups is None else tuple(groups),
                   routing, predicted)

    @classmethod
    def eni_pod(cls, namespace: str, name: str, ip: str, node: str | None,
                node_groups: Sequence[str] | None = None) -> "Endpoint":
        """A Pod on its node's shared ENI (or hostNetwork): filtered, if at all, by that ENI's groups."""
        return cls(f"pod/{namespace}/{name}", ip, ENI, node, None if node_groups is None else tuple(node_groups))

    @classmethod
    def node_endpoint(cls, name: str, ip: str, groups: Sequence[str] | None = None) -> "Endpoint":
        return cls(f"node/{name}", ip, ENI, name, None if groups is None else tuple(groups))

    @classmethod
    def external(cls, address: str, groups: Sequence[str] | None = None, ref: str | None = None) -> "Endpoint":
        return cls(ref or f"ip/{address}", address, EXTERNAL, None, None if groups is None else tuple(groups))

    @classmethod
    def virtual(cls, address: str, ref: str) -> "Endpoint":
        """A Service's cluster IP: no ENI holds it (kube-proxy rewrites it on the client's node)."""
        return cls(ref, address, VIRTUAL)

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "address": self.address, "kind": self.kind, "node": self.node,
                "groups": None if self.groups is None else list(self.groups), "routing": self.routing,
                "groupsPredicted": self.predicted}


@dataclass(frozen=True)
class Flow:
    """Protocol (``tcp``, ``udp``, ``icmp``, ``icmpv6``, ``gre``) and destination ports ``lo..hi``
    (for ICMP: the type; GRE has none)."""

    protocol: str
    lo: int = 0
    hi: int = 0

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol {self.protocol!r} is not one of {', '.join(PROTOCOLS)}")
        if not (0 <= self.lo <= self.hi <= 65535):
            raise ValueError(f"ports {self.lo}-{self.hi} are not a range within 0-65535")

    @classmethod
    def of(cls, protocol: str, port: int | None = None, *, ipv6: bool = False) -> "Flow":
        """A flow as a user names it: ``tcp`` + port; ``icmp`` (over IPv6: ICMPv6) with an
        optional type, echo request by default."""
        proto = protocol.strip().lower()
        if proto == "icmp" and ipv6:
            proto = "icmpv6"
        if proto in ("icmp", "icmpv6"):
            default = ICMPV6_ECHO_REQUEST if proto == "icmpv6" else ICMP_ECHO_REQUEST
            t = default if port is None else port
            return cls(proto, t, t)
        if proto == "gre":
            return cls(proto, 0, 0)
        if port is None:
            raise ValueError(f"a {proto} flow needs a port")
        return cls(proto, port, port)

    def describe(self) -> str:
        if self.protocol in ("tcp", "udp"):
            return f"{self.protocol.upper()} {port_text(self.lo, self.hi)}"
        if self.protocol == "gre":
            return "GRE"
        return f"{self.protocol.upper()} type {port_text(self.lo, self.hi)}"

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "port": port_text(self.lo, self.hi)}


@dataclass(frozen=True)
class Part:
    """Pieces of a hop's traffic that fare alike."""

    outcome: str | None
    action: str
    decided_by: RuleRef | None
    unknowns: tuple[Unknown, ...]
    boxes: tuple[Box, ...]

    def traffic(self) -> list[str]:
        """The pieces as ``addresses port(s)``, adjacent address blocks joined."""
        by_ports: dict[tuple[int, int], list] = {}
        for b in self.boxes:
            by_ports.setdefault((b.lo, b.hi), []).append(b.network)
        out = []
        for (lo, hi), nets in sorted(by_ports.items()):
            for v in (4, 6):
                same = [n for n in nets if n.version == v]
                out += [f"{n} port {port_text(lo, hi)}" for n in ipaddress.collapse_addresses(same)]
        return out

    def describe_traffic(self) -> str:
        items = self.traffic()
        if len(items) > MAX_LISTED:
            return f"{', '.join(items[:MAX_LISTED])} and {len(items) - MAX_LISTED} more blocks"
        return ", ".join(items)

    def to_dict(self) -> dict[str, Any]:
        return {"traffic": self.traffic(), "action": self.outcome,
                "decidedBy": self.decided_by.to_dict() if self.decided_by else None}


@dataclass(frozen=True)
class Hop:
    """One side's filter: the ``source``'s egress or the ``destination``'s ingress."""

    side: str
    endpoint: Endpoint
    direction: str
    filtered: bool
    #: why the hop is (not) filtered, as a key of ``_WHY``: worded (``why``) only when asked, since
    #: the words name the endpoint and most decisions are never shown
    case: str
    segments: tuple[Segment, ...] = ()
    #: ``verdict()`` made already: it depends only on the segments and the groups, which every Pod
    #: of a group set shares, so ``_hop`` makes it once per rule-book decision (``_chain``)
    known_verdict: str | None = field(default=None, compare=False, repr=False)
    #: ``(allowed, decided_by)`` made already, likewise once per rule-book decision
    known_outcome: tuple[bool | None, RuleRef | None] | None = field(default=None, compare=False, repr=False)

    @property
    def why(self) -> str:
        return _WHY[self.case].format(ref=self.endpoint.ref, node=self.endpoint.node)

    @property
    def allowed(self) -> bool | None:
        if not self.filtered:
            return True
        return self.known_outcome[0] if self.known_outcome is not None else _allowed(self.segments)

    @property
    def decided_by(self) -> RuleRef | None:
        """The rule that decided (the first dropping segment's if any dropped)."""
        if not self.filtered:
            return None
        return self.known_outcome[1] if self.known_outcome is not None else _decider(self.segments)

    def unknowns(self) -> list[str]:
        seen: dict[str, None] = {}
        for s in self.segments:
            if not s.determined:
                for u in s.unknowns:
                    seen.setdefault(u.describe(), None)
        return list(seen)

    def parts(self) -> list["Part"]:
        """The segments merged by how they fare (same outcome, same deciding rule)."""
        return _parts(self.segments)

    def verdict(self) -> str:
        if not self.filtered:
            return f"not filtered: {self.why}"
        if self.known_verdict is not None:
            return self.known_verdict
        return _verdict(self.segments, self.endpoint.groups)

    def to_dict(self) -> dict[str, Any]:
        decided = self.decided_by
        out: dict[str, Any] = {
            "side": self.side,
            "endpoint": self.endpoint.ref,
            "address": self.endpoint.address,
            "direction": self.direction,
            "filtered": self.filtered,
            "why": self.why,
            "groups": None if self.endpoint.groups is None else list(self.endpoint.groups),
            "groupsPredicted": self.endpoint.predicted,
            "allowed": self.allowed,
            "decidedBy": decided.to_dict() if decided else None,
            "verdict": self.verdict(),
        }
        parts = self.parts() if self.filtered else []
        if len(parts) > 1:
            out["parts"] = [p.to_dict() for p in parts]
        unknowns = self.unknowns()
        if unknowns:
            out["unknowns"] = unknowns
        return out


def _allowed(segments: Sequence[Segment]) -> bool | None:
    """A filtered hop's answer: dropped when a part of its traffic is, allowed when every part is."""
    outcomes = [s.outcome for s in segments]
    if any(o == DROP for o in outcomes):
        return False
    if all(o == ACCEPT for o in outcomes):
        return True
    return None


def _decider(segments: Sequence[Segment]) -> RuleRef | None:
    if not segments:
        return None
    dropped = [s for s in segments if s.outcome == DROP]
    return (dropped or list(segments))[0].decided_by


def _parts(segments: Sequence[Segment]) -> list[Part]:
    merged: dict[tuple, list[Box]] = {}
    for s in segments:
        key = (s.outcome, s.action, s.decided_by, tuple(u for u in s.unknowns) if not s.determined else ())
        merged.setdefault(key, []).append(s.box)
    return [Part(outcome, action, decided, unknowns, tuple(boxes))
            for (outcome, action, decided, unknowns), boxes in merged.items()]


def _verdict(segments: Sequence[Segment], groups: Sequence[str] | None) -> str:
    """A filtered hop's verdict: how each part of its traffic fares, and by which rule."""
    parts = _parts(segments)
    texts = []
    for p in parts:
        where = "" if len(parts) == 1 else f"{p.describe_traffic()}: "
        if p.decided_by is None:
            text = f"no rule of {', '.join(groups or ()) or 'its groups'} matched: dropped"
        else:
            text = f"{'accepted' if p.action == ACCEPT else 'dropped'} by {p.decided_by.describe()}"
        if p.outcome is None:
            text += " - unless an earlier rule that could not be evaluated matched"
        texts.append(where + text)
    return "; ".join(texts)


@dataclass(frozen=True)
class TrafficDecision:
    source: Endpoint
    destination: Endpoint
    flow: Flow
    allowed: bool | None
    filtered: bool
    decided_by: RuleRef | None
    hops: tuple[Hop, ...]
    assumptions: tuple[str, ...] = ()
    reply: bool = False
    #: the reason when it is not the hops' (a reply's, an undecided routing mode's); else None
    stated_reason: str | None = None

    @cached_property
    def reason(self) -> str:
        """What decided, in words: made when asked (it names both ends, and a check that passes
        never shows it)."""
        if self.stated_reason is not None:
            return self.stated_reason
        return _reason(self.source, self.destination, self.flow, self.hops, self.allowed, self.filtered)

    @property
    def predicted(self) -> bool:
        return self.source.predicted or self.destination.predicted

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "filtered": self.filtered,
            "decidedBy": self.decided_by.to_dict() if self.decided_by else None,
            "hops": [h.to_dict() for h in self.hops],
            "reason": self.reason,
            "from": self.source.ref,
            "to": self.destination.ref,
            "flow": self.flow.to_dict(),
            "reply": self.reply,
            "predicted": self.predicted,
            "assumptions": list(self.assumptions),
        }


#: a hop's ``why``, by its ``case`` (``ref``: the endpoint's, ``node``: its node)
_WHY = {
    "standard-own-node": "standard routing: traffic between a Pod and its own node, or Pods on one node, does not "
                         "pass {ref}'s security groups",
    "strict-own-node": "strict routing: {ref}'s groups filter traffic on its own node too",
    "other-node": "{ref}'s sub-ENI groups filter traffic to and from other nodes",
    "service-ip": "{ref} is a Service IP: no ENI holds it, so no group filters it there",
    "within-node": "traffic within node {node} does not cross {ref}'s ENI",
    "no-pod-groups": "{ref} is not filtered by Pod security groups",
    "leaves-node": "{ref}'s ENI groups filter traffic that leaves its node",
}
UNKNOWN_GROUPS = "+unknown-groups"
_WHY.update({case + UNKNOWN_GROUPS: _WHY[case] + "; its groups are not known" for case in ("strict-own-node", "other-node")})


def _same_node(a: Endpoint, b: Endpoint) -> bool:
    return a.node is not None and a.node == b.node


def _unfiltered(me: Endpoint, same: bool) -> str | None:
    """Why a hop of ``me`` is not filtered (a ``_WHY`` case; ``same``: the peer is on its node), or
    None when its groups filter it."""
    if me.kind == SUB_ENI:
        return "standard-own-node" if same and me.routing == STANDARD else None
    if me.kind == VIRTUAL:
        return "service-ip"
    if me.kind == ENI and same:
        return "within-node"
    if me.groups is None:
        return "no-pod-groups"
    return None


def _hop(side: str, me: Endpoint, peer: Endpoint, direction: str, flow: Flow, book: RuleBook,
         assumptions: list[str]) -> Hop:
    same = _same_node(me, peer)
    unfiltered = _unfiltered(me, same)
    if unfiltered == "no-pod-groups":
        assumptions.append(f"{me.ref} is not a sub-ENI Pod and its own groups are not known: assumed to let "
                           f"this traffic through")
    if unfiltered is not None:
        return Hop(side, me, direction, False, unfiltered)
    if me.kind != SUB_ENI:
        return Hop(side, me, direction, True, "leaves-node", *_chain(book, me.groups, direction, flow, peer))
    if same and me.routing is None:
        assumptions.append(f"the routing mode {me.ref} was created under is not known: its groups are "
                           f"applied (as in strict routing)")
    why = "strict-own-node" if same else "other-node"
    if me.groups is None:
        return Hop(side, me, direction, True, why + UNKNOWN_GROUPS,
                   (Segment(_box(peer, flow), DROP, None, (_unknown_groups(me),)),))
    if me.predicted:
        assumptions.append(f"{me.ref}'s groups {', '.join(me.groups)} are a prediction, not read from its ENI "
                           f"(policies' groupIds in policy-name order, or its annotation)")
    return Hop(side, me, direction, True, why, *_chain(book, me.groups, direction, flow, peer))


def _shape(me: Endpoint, peer: Endpoint) -> tuple:
    """All that a hop of ``me`` towards ``peer`` depends on but the endpoints' names: the peer's
    address only when the hop is filtered (its block is then matched against the rules)."""
    same = _same_node(me, peer)
    return (me.kind, me.routing, me.groups, me.predicted, same, None if _unfiltered(me, same) else peer.address)


def _with_endpoint(hop: Hop, me: Endpoint) -> Hop:
    """``hop`` for another endpoint of its class. Through the constructor, positionally: a copy of
    the instance's ``__dict__`` was a third of the cost (measured: 0.5 against 1.6 us a hop, +2 ms
    in doctor on 10,000 Pods, +0.13 s in `traffic check -A -o json` on them), but would carry over
    anything a Hop came to keep besides its fields (were it to cache words naming its endpoint, say)
    and break with slots; ``dataclasses.replace`` costs twice the constructor."""
    return Hop(hop.side, me, hop.direction, hop.filtered, hop.case, hop.segments, hop.known_verdict,
               hop.known_outcome)


def _bound(shared: TrafficDecision, source: Endpoint, destination: Endpoint) -> TrafficDecision:
    """``shared``, a decision of the same class (``_shape``), for these endpoints."""
    first, second = shared.hops
    hops = (_with_endpoint(first, source), _with_endpoint(second, destination))
    return TrafficDecision(source, destination, shared.flow, shared.allowed, shared.filtered, shared.decided_by, hops,
                           shared.assumptions)


def _chain(book: RuleBook, groups: tuple[str, ...], direction: str, flow: Flow,
           peer: Endpoint) -> tuple[tuple[Segment, ...], str, tuple[bool | None, RuleRef | None]]:
    """The rule-book decision of a filtered hop, its verdict and its (allowed, decided_by): they
    depend only on the groups, the direction and the peer's block of traffic, so they are made once
    per such class (kept in ``book.memo``, as ``evaluate_chain`` keeps its own) and shared by every
    Pod in it."""
    box = _box(peer, flow)
    key = ("hop", groups, direction, flow.protocol, box)
    found = book.memo.get(key)
    if found is None:
        segments = evaluate_chain(book, groups, direction, flow.protocol, box)
        found = book.memo[key] = (segments, _verdict(segments, groups), (_allowed(segments), _decider(segments)))
    return found


def _unknown_groups(me: Endpoint) -> Unknown:
    return Unknown("?", f"the security groups of {me.ref} are not known", None)


def _box(peer: Endpoint, flow: Flow) -> Box:
    return Box(parse_network(peer.address), flow.lo, flow.hi)


def explain(source: Endpoint, destination: Endpoint, flow: Flow, book: RuleBook) -> TrafficDecision:
    """Whether ``flow`` from ``source`` reaches ``destination``, and which rules decide."""
    src_net, dst_net = parse_network(source.address), parse_network(destination.address)
    if src_net.version != dst_net.version:
        raise ValueError(f"{source.ref} ({source.address}) and {destination.ref} ({destination.address}) "
                         f"are not of one IP version")
    if flow.protocol == "icmp" and src_net.version == 6:
        flow = replace(flow, protocol="icmpv6")
    # Every Pod of a class (groups, routing, node, peer block) gets the same decision: made once
    # (kept in ``book.memo``) and bound to each Pod's endpoints. The class also records which ends
    # its words name beyond the hops' ``why`` (an assumption, unknown groups): those ends' names
    # are then part of the key (the one CoreDNS Pod the DNS flows of every Pod name, say).
    shape = ("decision", flow, _shape(source, destination), _shape(destination, source))
    named = book.memo.get(shape)
    if named is not None:
        shared = book.memo.get((shape, source.ref if named[0] else None, destination.ref if named[1] else None))
        if shared is not None:
            return _bound(shared, source, destination)
    assumptions: list[str] = []
    made, names = [], []
    for side, me, peer, direction in (("source", source, destination, EGRESS),
                                      ("destination", destination, source, INGRESS)):
        before = len(assumptions)
        hop = _hop(side, me, peer, direction, flow, book, assumptions)
        made.append(hop)
        names.append(len(assumptions) > before or hop.case.endswith(UNKNOWN_GROUPS))
    hops = tuple(made)
    filtered = any(h.filtered for h in hops)
    verdicts = [h.allowed for h in hops]
    if any(v is False for v in verdicts):
        allowed: bool | None = False
    elif all(v is True for v in verdicts):
        allowed = True
    else:
        allowed = None
    decided = _decided_by(hops, allowed)
    decision = TrafficDecision(source, destination, flow, allowed, filtered, decided, hops,
                               tuple(dict.fromkeys(assumptions)))
    book.memo[shape] = named = tuple(names)
    book.memo[(shape, source.ref if named[0] else None, destination.ref if named[1] else None)] = decision
    return decision


def _decided_by(hops: Sequence[Hop], allowed: bool | None) -> RuleRef | None:
    if allowed is False:
        return next(h for h in hops if h.allowed is False).decided_by
    if allowed is True:
        filtered = [h for h in hops if h.filtered]
        return filtered[-1].decided_by if filtered else None
    return None


def _reason(source: Endpoint, destination: Endpoint, flow: Flow, hops: Sequence[Hop], allowed: bool | None,
            filtered: bool) -> str:
    what = f"{flow.describe()} from {source.ref} to {destination.ref}"
    if not filtered:
        return f"{what} passes: no security group filters it ({'; '.join(h.why for h in hops)})"
    details = "; ".join(f"{h.direction} of {h.endpoint.ref}: {h.verdict()}" for h in hops)
    if allowed is True:
        return f"{what} is allowed: {details}"
    if allowed is False:
        return f"{what} is dropped: {details}"
    unknowns = [u for h in hops for u in h.unknowns()]
    return f"{what} could not be decided: {'; '.join(unknowns)} ({details})"


def reply_to(decision: TrafficDecision) -> TrafficDecision:
    """The reply direction of a request: groups are stateful, so the reply passes exactly when the
    request did, whatever the rules of the reverse direction say."""
    state = {True: "allowed", False: "not allowed", None: "not decided"}[decision.allowed]
    reason = (f"reply of {decision.flow.describe()} from {decision.destination.ref} to {decision.source.ref}: "
              f"security groups are stateful, so it follows the request, which is {state}")
    return replace(decision, source=decision.destination, destination=decision.source, reply=True, stated_reason=reason)


__all__ = ["ENI", "EXTERNAL", "KINDS", "STANDARD", "STRICT", "SUB_ENI", "VIRTUAL", "Endpoint", "Flow", "Hop", "TrafficDecision",
           "explain", "reply_to"]
