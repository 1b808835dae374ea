"""Addresses and ports as sets, and the one operation evaluation needs: cut a box of traffic
(an address block times a port interval) along a rule's region into the part the rule matches
and the parts it does not.

A flow to a single address and port is a box of one point; a need such as "TCP 443 to
10.0.0.0/8" is a box of many. Rules match boxes whole, not at all, or in part; in part, the box
is split and each piece goes its own way down the rules, so "10.0.0.0/8 is allowed except
10.1.0.0/16, which rule 2 drops" comes out exactly.

Parsing follows the API's documented forms and returns None for anything else (the caller
treats such a rule as unknown, not as matching nothing):

- ``Port``: ``ALL`` (any case), ``80``, ``80,443``, ``3306-20000`` (and lists of those);
- ``CidrBlock``: an IPv4 CIDR or address; the SecurityGroupPolicy model says "0.0.0.0/n 都会映射为
  0.0.0.0/0" (every 0.0.0.0/n is taken as 0.0.0.0/0), so it is;
- address template entries: an IP, a CIDR or a range ``a-b``, IPv4 or IPv6.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: the whole port space (and ICMP type space fits in it)
ALL_PORTS: tuple[tuple[int, int], ...] = ((0, 65535),)


@functools.lru_cache(maxsize=65536)
def parse_network(text: str | None) -> Network | None:
    """An address or CIDR (host bits allowed, as the API accepts ``10.1.1.2/22``), or None. Cached:
    a check of 10,000 Pods reads the same few thousand addresses hundreds of thousands of times, and
    networks are immutable."""
    if not text:
        return None
    text = text.strip()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def cidr_block_networks(text: str | None, *, v6: bool) -> list[Network] | None:
    """``CidrBlock`` / ``Ipv6CidrBlock`` of a rule as networks; None when unreadable or of the
    wrong family."""
    net = parse_network(text)
    if net is None or (net.version == 6) != v6:
        return None
    if net.version == 4 and net.network_address == ipaddress.IPv4Address("0.0.0.0"):
        net = ipaddress.ip_network("0.0.0.0/0")
    return [net]


def address_entry_networks(entry: str) -> list[Network] | None:
    """An address template entry (IP, CIDR or range ``a-b``) as networks, or None."""
    text = entry.strip()
    if "-" in text and "/" not in text:
        first, _, last = text.partition("-")
        try:
            lo, hi = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
        except ValueError:
            return None
        if lo.version != hi.version or lo > hi:
            return None
        return list(ipaddress.summarize_address_range(lo, hi))
    net = parse_network(text)
    return None if net is None else [net]


def parse_ports(text: str | None) -> tuple[tuple[int, int], ...] | None:
    """``Port`` as inclusive intervals; ``ALL``/absent is every port; None when unreadable."""
    if text is None or not text.strip() or text.strip().upper() == "ALL":
        return ALL_PORTS
    out = []
    for part in text.split(","):
        part = part.strip()
        lo_text, dash, hi_text = part.partition("-")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if dash else lo
        except ValueError:
            return None
        if not (0 <= lo <= hi <= 65535):
            return None
        out.append((lo, hi))
    return tuple(out) if out else None


def port_text(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


@dataclass(frozen=True)
class Box:
    """A block of traffic: destination ports ``lo..hi`` to or from the addresses of ``network``."""

    network: Network
    lo: int
    hi: int

    def describe(self) -> str:
        return f"{self.network} port {port_text(self.lo, self.hi)}"


@dataclass(frozen=True)
class Region:
    """What a rule matches, for one protocol: ``networks`` x ``ports`` (None = every address of the
    flow's family)."""

    networks: tuple[Network, ...] | None
    ports: tuple[tuple[int, int], ...]

    def is_empty(self) -> bool:
        return self.networks == () or not self.ports


def _overlaps(a: Network, b: Network) -> bool:
    return a.version == b.version and (a.subnet_of(b) or b.subnet_of(a))


def _cut(box: Box, net: Network | None, lo: int, hi: int) -> tuple[Box | None, list[Box]]:
    """(the part of ``box`` inside ``net`` x [lo, hi], the parts outside)."""
    if net is not None and not _overlaps(box.network, net):
        return None, [box]
    if box.hi < lo or hi < box.lo:
        return None, [box]
    outside: list[Box] = []
    inner_net = box.network
    if net is not None and not box.network.subnet_of(net):
        inner_net = net  # net is strictly inside the box's network
        outside += [Box(n, box.lo, box.hi) for n in box.network.address_exclude(net)]
    if box.lo < lo:
        outside.append(Box(inner_net, box.lo, lo - 1))
    if hi < box.hi:
        outside.append(Box(inner_net, hi + 1, box.hi))
    return Box(inner_net, max(box.lo, lo), min(box.hi, hi)), outside


def split(box: Box, region: Region) -> tuple[list[Box], list[Box]]:
    """(pieces of ``box`` the region matches, pieces it does not); together they are ``box``."""
    nets: Iterable[Network | None] = region.networks if region.networks is not None else (None,)
    inside: list[Box] = []
    todo = [box]
    outside: list[Box] = []
    for net in nets:
        for lo, hi in region.ports:
            next_todo: list[Box] = []
            for piece in todo:
                hit, rest = _cut(piece, net, lo, hi)
                if hit is not None:
                    inside.append(hit)
                next_todo.extend(rest)
            todo = next_todo
            if not todo:
                return inside, outside
    outside.extend(todo)
    return inside, outside


def disjoint(box: Box, networks: tuple[Network, ...] | None, ports: tuple[tuple[int, int], ...] | None) -> bool:
    """Whether a box certainly misses a region of which only some dimensions are known."""
    if networks is not None and not any(_overlaps(box.network, n) for n in networks):
        return True
    if ports is not None and not any(not (box.hi < lo or hi < box.lo) for lo, hi in ports):
        return True
    return False
