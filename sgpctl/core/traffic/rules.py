"""What one rule matches, for one protocol: its region, or "unknown" and why.

Semantics (Tencent Cloud VPC API, SecurityGroupPolicy and CreateSecurityGroupPolicies docs):

- ``Protocol`` is TCP, UDP, ICMP, ICMPv6, GRE or ALL (any case). ``Port`` counts only for TCP and
  UDP ("这个参数只有在协议为 TCP 或 UDP 时才可用"); ALL means every protocol and port. ICMP matches
  IPv4 ICMP, ICMPv6 the IPv6 one ("IPv6CidrBlock and ICMP are mutually exclusive; to use them,
  enter ICMPV6").
- ``ServiceTemplate`` replaces Protocol + Port: its entries are ``proto[:ports]`` (``tcp:80``,
  ``tcp:80,443``, ``udp:3306-20000``, ``tcp:all``, ``icmp``, ``gre``). Whether ports on an ICMP
  entry (``icmp:10-30``, which Terraform's docs show) are ICMP types is not documented: such an
  entry is unknown for ICMP traffic.
- The peer is ``CidrBlock``, ``Ipv6CidrBlock``, ``SecurityGroupId`` (the private addresses of what
  is bound to that group) or ``AddressTemplate`` (an address template or a group of them).

Anything the rule depends on that the ``RuleBook`` does not hold (a template, a referenced
group's members) or cannot be read makes the rule unknown: it may or may not match.
"""

from __future__ import annotations

from dataclasses import dataclass

from sgpctl.core.traffic.model import Rule, RuleBook
from sgpctl.core.traffic.space import (
    ALL_PORTS,
    Network,
    Region,
    address_entry_networks,
    cidr_block_networks,
    parse_network,
    parse_ports,
)

PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6", "gre")
_PORTED = ("tcp", "udp")


@dataclass(frozen=True)
class Compiled:
    """``region`` when known. Otherwise ``why`` says what is unknown, and ``networks``/``ports``
    keep whichever dimension is known (None when that one is unknown too), so a box that
    certainly misses the known part is still a certain miss."""

    region: Region | None
    why: str | None = None
    networks: tuple[Network, ...] | None = None
    ports: tuple[tuple[int, int], ...] | None = None
    #: outside a known region, only these addresses are certain misses (None: all of the outside
    #: is); the rest may still match (a group's members that no ENI listing shows)
    certain_misses: tuple[Network, ...] | None = None
    #: why the rest of the outside may match
    why_outside: str | None = None


_NO_MATCH = Region((), ())


def _service_entry(entry: str, protocol: str) -> tuple[tuple[tuple[int, int], ...] | None, str | None]:
    """(ports this entry matches for ``protocol`` (empty: none), why unknown)."""
    text = entry.replace(" ", "").lower()
    proto, _, ports = text.partition(":")
    if proto == "all":
        return ALL_PORTS, None
    if proto not in PROTOCOLS:
        return None, f"service entry {entry!r} is not a protocol this tool knows"
    if proto != protocol:
        return (), None
    if proto in _PORTED:
        parsed = parse_ports(ports or "all")
        return (parsed, None) if parsed is not None else (None, f"service entry {entry!r} has unreadable ports")
    if ports and ports != "all":
        return None, f"service entry {entry!r}: whether its numbers are ICMP types is not documented"
    return ALL_PORTS, None


def _templates(one: str | None, group_id: str | None, groups, templates, what: str) -> tuple[list | None, str | None]:
    """The templates a rule names: one template, a group's, or both; None and why when one of
    them is not in the book."""
    ids = [one] if one else []
    if group_id:
        group = groups.get(group_id)
        if group is None:
            return None, f"{what} template group {group_id} is not known"
        ids.extend(group.template_ids)
    found = []
    for tid in ids:
        template = templates.get(tid)
        if template is None:
            return None, f"{what} template {tid} is not known"
        found.append(template)
    return found, None


def _template_ports(rule: Rule, protocol: str, book: RuleBook) -> tuple[tuple[tuple[int, int], ...] | None, str | None]:
    ref = rule.service_template
    templates, why = _templates(ref.service_id, ref.service_group_id, book.service_template_groups,
                                book.service_templates, "service")
    if templates is None:
        return None, why
    ports: list[tuple[int, int]] = []
    for template in templates:
        for entry in template.services:
            got, why = _service_entry(entry, protocol)
            if got is None:
                return None, why
            ports.extend(got)
    return tuple(ports), None


def _ports(rule: Rule, protocol: str, book: RuleBook) -> tuple[tuple[tuple[int, int], ...] | None, str | None]:
    """Ports (or ICMP types) of ``protocol`` the rule matches; () for none; None when unknown."""
    if rule.service_template is not None:
        return _template_ports(rule, protocol, book)
    proto = (rule.protocol or "").strip().lower()
    if proto == "all":
        return ALL_PORTS, None
    if proto not in PROTOCOLS:
        return None, f"protocol {rule.protocol!r} is not one the API documents"
    if proto != protocol:
        return (), None
    if proto in _PORTED:
        parsed = parse_ports(rule.port)
        return (parsed, None) if parsed is not None else (None, f"port {rule.port!r} is unreadable")
    return ALL_PORTS, None


def _template_networks(rule: Rule, book: RuleBook) -> tuple[tuple[Network, ...] | None, str | None]:
    ref = rule.address_template
    templates, why = _templates(ref.address_id, ref.address_group_id, book.address_template_groups,
                                book.address_templates, "address")
    if templates is None:
        return None, why
    nets: list[Network] = []
    for template in templates:
        for entry in template.addresses:
            got = address_entry_networks(entry)
            if got is None:
                return None, f"address template {template.template_id} entry {entry!r} is not an IP, CIDR or range"
            nets.extend(got)
    return tuple(nets), None


def _addresses(addresses) -> tuple[Network, ...]:
    nets = [parse_network(a) for a in sorted(addresses)]
    return tuple(n for n in nets if n is not None)


def _networks(rule: Rule, book: RuleBook) -> tuple[tuple[Network, ...] | None, str | None]:
    if rule.cidr_block is not None:
        got = cidr_block_networks(rule.cidr_block, v6=False)
        return (tuple(got), None) if got is not None else (None, f"CidrBlock {rule.cidr_block!r} is unreadable")
    if rule.ipv6_cidr_block is not None:
        got = cidr_block_networks(rule.ipv6_cidr_block, v6=True)
        return (tuple(got), None) if got is not None else (None, f"Ipv6CidrBlock {rule.ipv6_cidr_block!r} is unreadable")
    if rule.security_group_id is not None:
        members = book.members.get(rule.security_group_id)
        if members is None:
            return None, f"what is bound to {rule.security_group_id} is not known"
        return _addresses(members), None
    if rule.address_template is not None:
        return _template_networks(rule, book)
    return None, "the rule names no source or destination"


def compile_rule(rule: Rule, protocol: str, book: RuleBook) -> Compiled:
    ports, why_ports = _ports(rule, protocol, book)
    if ports == ():
        return Compiled(_NO_MATCH)
    networks, why_nets = _networks(rule, book)
    partial = rule.security_group_id is not None and networks is not None and book.known_addresses is not None
    if networks == () and not partial:
        return Compiled(_NO_MATCH)
    if ports is None or networks is None:
        return Compiled(None, why_ports or why_nets, networks, ports)
    if partial:
        return Compiled(Region(networks, ports), certain_misses=_addresses(book.known_addresses),
                        why_outside=f"{rule.security_group_id} may be bound to resources no ENI listing shows "
                                    f"(a load balancer, a database)")
    return Compiled(Region(networks, ports))


def action_of(rule: Rule) -> str | None:
    """``ACCEPT`` or ``DROP`` (the API's examples also write lower case); None if neither."""
    action = (rule.action or "").strip().upper()
    return action if action in ("ACCEPT", "DROP") else None
