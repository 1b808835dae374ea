"""For a flow a Pod needs that its groups drop: the exact rule to add, where, and the check.

A fix is one CreateSecurityGroupPolicies request: an ACCEPT rule (one per peer CIDR) in one
direction of one group, at a ``PolicyIndex`` no DROP that decides the flow comes before:

- dropped by a rule: inserted at that rule's index in that rule's group (the API inserts at
  ``PolicyIndex``, "If you want to insert a rule before the first rule, enter 0; if you want to add a
  rule after the last rule, leave it empty"); when several rules drop parts of the flow, the
  earliest of them;
- dropped because nothing matched: appended to the first group (nothing before the end matched,
  so the new rule is reached).

The request carries the ``Version`` the rules were read at, so it fails instead of landing in a
list that changed meanwhile (the API documents Version for exactly that).

Ports are written explicitly: one port, or ``lo-hi``; all ports as ``1-65535``, never ``ALL``.
Whether the API accepts ``Port: ALL`` with TCP/UDP is not settled (its model says "all" is a form,
the Terraform provider refuses it), and an explicit range is valid under either reading.

The peer is the one the need names (``Need.peer_cidrs``, e.g. the node subnets), a Pod client's
first security group (a ``SecurityGroupId`` rule follows the Pod across IP changes), or the peer's
address.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

from sgpctl.core.traffic.evaluate import DROP
from sgpctl.core.traffic.explain import SUB_ENI, Endpoint, Hop, TrafficDecision
from sgpctl.core.traffic.model import API_DIRECTION, INGRESS, GroupRules, Rule, RuleBook
from sgpctl.core.traffic.space import parse_network, port_text

ALL_TCP_UDP_PORTS = "1-65535"
_API_PROTOCOL = {"tcp": "TCP", "udp": "UDP", "icmp": "ICMP", "icmpv6": "ICMPv6", "gre": "GRE"}


@dataclass(frozen=True)
class RuleFix:
    """Add ``rules`` (ACCEPT) to ``direction`` of ``security_group_id`` at ``policy_index`` (None:
    after the last rule), against the rules' ``version``."""

    security_group_id: str
    direction: str
    policy_index: int | None
    rules: tuple[Rule, ...]
    version: str | None
    reason: str

    def request(self) -> dict[str, Any]:
        """The CreateSecurityGroupPolicies parameters."""
        policy_set: dict[str, Any] = {}
        if self.version is not None:
            policy_set["Version"] = self.version
        policy_set[API_DIRECTION[self.direction]] = [
            replace(r, policy_index=self.policy_index).to_api() for r in self.rules]
        return {"SecurityGroupId": self.security_group_id, "SecurityGroupPolicySet": policy_set}

    def apply(self, book: RuleBook) -> RuleBook:
        """The book as it will be once the request succeeded (to show the fix works)."""
        current = book.groups[self.security_group_id]
        ordered = list(current.rules(self.direction))
        at = len(ordered) if self.policy_index is None else next(
            (i for i, r in enumerate(ordered) if (r.policy_index if r.policy_index is not None else i) >= self.policy_index),
            len(ordered))
        ordered[at:at] = list(self.rules)
        renumbered = tuple(replace(r, policy_index=i) for i, r in enumerate(ordered))
        changed = replace(current, **{self.direction: renumbered})
        return replace(book, groups={**book.groups, self.security_group_id: changed})

    def describe(self) -> str:
        where = "after the last rule" if self.policy_index is None else f"at index {self.policy_index}"
        rules = "; ".join(f"{r.service_text()} {r.peer_text()}" for r in self.rules)
        return f"add {self.direction} ACCEPT {rules} to {self.security_group_id} {where}"

    def to_dict(self) -> dict[str, Any]:
        return {"securityGroupId": self.security_group_id, "direction": self.direction,
                "policyIndex": self.policy_index, "version": self.version, "reason": self.reason,
                "rules": [r.to_api() for r in self.rules], "request": self.request(), "summary": self.describe()}


def _service(decision: TrafficDecision) -> tuple[str, str | None]:
    flow = decision.flow
    proto = _API_PROTOCOL[flow.protocol]
    if flow.protocol not in ("tcp", "udp"):
        return proto, None
    if flow.lo <= 1 and flow.hi == 65535:
        return proto, ALL_TCP_UDP_PORTS
    return proto, port_text(max(flow.lo, 1), flow.hi)


def _peer_rules(peer: Endpoint, peer_cidrs: Sequence[str], protocol: str, port: str | None,
                description: str) -> tuple[Rule, ...]:
    base = Rule(policy_index=None, action="ACCEPT", protocol=protocol, port=port, description=description)
    if peer_cidrs:
        out = []
        for c in peer_cidrs:
            v6 = parse_network(c).version == 6
            out.append(replace(base, ipv6_cidr_block=c) if v6 else replace(base, cidr_block=c))
        return tuple(out)
    if peer.kind == SUB_ENI and peer.groups and not peer.predicted:
        return (replace(base, security_group_id=peer.groups[0]),)
    net = parse_network(peer.address)
    return (replace(base, ipv6_cidr_block=str(net)) if net.version == 6 else replace(base, cidr_block=str(net)),)


def _placement(hop: Hop) -> tuple[str, int | None] | None:
    groups = hop.endpoint.groups or ()
    drops = [s for s in hop.segments if s.outcome == DROP]
    if not drops or not groups:
        return None
    decided = [s.decided_by for s in drops if s.decided_by is not None]
    if not decided:
        return groups[0], None
    first = min(decided, key=lambda r: (r.group_position, r.rule_position))
    return first.security_group_id, first.policy_index


def suggest_fixes(decision: TrafficDecision, book: RuleBook, *, peer_cidrs: Sequence[str] = (),
                  description: str = "") -> tuple[RuleFix, ...]:
    """One fix per hop that drops (part of) the flow; none for parts that could not be decided."""
    protocol, port = _service(decision)
    out = []
    for hop in decision.hops:
        if hop.allowed is not False:
            continue
        placed = _placement(hop)
        if placed is None:
            continue
        gid, index = placed
        peer = decision.source if hop.direction == INGRESS else decision.destination
        rules = _peer_rules(peer, peer_cidrs, protocol, port, description[:100])
        rules_of: GroupRules | None = book.groups.get(gid)
        out.append(RuleFix(gid, hop.direction, index, rules, rules_of.version if rules_of else None,
                           f"{hop.direction} of {hop.endpoint.ref}: {hop.verdict()}"))
    return tuple(out)
