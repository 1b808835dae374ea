"""Properties of security-group evaluation that hold for any rules (hypothesis), over a small
universe (addresses in 10.0.0.0/28, ports 1-12) where random rules overlap often."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from sgpctl.core.traffic import (
    Endpoint,
    Flow,
    GroupRules,
    Rule,
    RuleBook,
    evaluate_chain,
    explain,
    suggest_fixes,
)
from sgpctl.core.traffic.space import Box

BASE = int(ipaddress.ip_address("10.0.0.0"))
PROTOCOLS = ["TCP", "UDP", "ICMP", "ALL"]


@st.composite
def cidrs(draw):
    prefix = draw(st.integers(28, 32))
    host = draw(st.integers(0, 15))
    return str(ipaddress.ip_network(f"{ipaddress.ip_address(BASE + host)}/{prefix}", strict=False))


@st.composite
def ports(draw):
    kind = draw(st.sampled_from(["ALL", "one", "list", "range"]))
    if kind == "ALL":
        return "ALL"
    a, b = sorted(draw(st.lists(st.integers(1, 12), min_size=2, max_size=2)))
    return {"one": str(a), "list": f"{a},{b}", "range": f"{a}-{b}"}[kind]


@st.composite
def rules(draw):
    proto = draw(st.sampled_from(PROTOCOLS))
    return Rule(policy_index=None, action=draw(st.sampled_from(["ACCEPT", "DROP"])), protocol=proto,
                port=draw(ports()) if proto in ("TCP", "UDP") else ("ALL" if proto == "ALL" else None),
                cidr_block=draw(cidrs()))


def numbered(rs):
    return tuple(Rule(**{**r.__dict__, "policy_index": i}) for i, r in enumerate(rs))


@st.composite
def books(draw, max_groups=3):
    n = draw(st.integers(1, max_groups))
    groups = []
    for i in range(n):
        groups.append(GroupRules(f"sg-{i}", "1", ingress=numbered(draw(st.lists(rules(), max_size=5))),
                                 egress=numbered(draw(st.lists(rules(), max_size=5)))))
    return RuleBook.build(groups)


flows = st.builds(lambda proto, port: Flow.of(proto, port if proto != "icmp" else None),
                  st.sampled_from(["tcp", "udp", "icmp"]), st.integers(1, 12))
sources = st.integers(0, 15).map(lambda h: str(ipaddress.ip_address(BASE + h)))


def pod(book):
    return Endpoint.sub_eni_pod("ns", "p", "10.9.0.1", "n1", list(book.groups), "strict")


def decide(book, src, flow):
    return explain(Endpoint.external(src), pod(book), flow, book)


def with_rule_appended(book, gid, rule):
    g = book.groups[gid]
    new = GroupRules(gid, g.version, numbered(g.ingress + (rule,)), g.egress)
    return RuleBook.build([new if x.security_group_id == gid else x for x in book.groups.values()])


@settings(max_examples=150, deadline=None)
@given(books(), sources, flows, rules())
def test_an_accept_after_the_last_rule_never_denies_what_was_allowed(book, src, flow, extra):
    before = decide(book, src, flow)
    last = list(book.groups)[-1]
    after = decide(with_rule_appended(book, last, Rule(**{**extra.__dict__, "action": "ACCEPT"})), src, flow)
    if before.allowed:
        assert after.allowed is True
    assert after.allowed is True or after.allowed == before.allowed


@settings(max_examples=150, deadline=None)
@given(books(max_groups=2), books(max_groups=1), sources, flows)
def test_appending_a_group_never_changes_a_flow_a_rule_decided(book, extra, src, flow):
    before = decide(book, src, flow)
    tail = GroupRules("sg-tail", "1", extra.groups["sg-0"].ingress, extra.groups["sg-0"].egress)
    bigger = RuleBook.build([*book.groups.values(), tail])
    after = decide(bigger, src, flow)
    if before.decided_by is not None:
        assert after.allowed == before.allowed
        assert after.decided_by == before.decided_by


@settings(max_examples=100, deadline=None)
@given(books(), sources, flows)
def test_evaluation_is_deterministic(book, src, flow):
    assert decide(book, src, flow).to_dict() == decide(book, src, flow).to_dict()


@settings(max_examples=100, deadline=None)
@given(books(), st.sampled_from(["tcp", "udp", "icmp"]))
def test_a_block_decides_each_address_and_port_as_that_one_alone(book, protocol):
    # Evaluating 10.0.0.0/28 x ports 1-12 at once (split where rules cut it) agrees with every
    # (address, port) on its own.
    box = Box(ipaddress.ip_network("10.0.0.0/28"), 1, 12)
    segments = evaluate_chain(book, list(book.groups), "ingress", protocol, box)
    assert sum(s.box.network.num_addresses * (s.box.hi - s.box.lo + 1) for s in segments) == 16 * 12
    for host in range(0, 16, 3):
        ip = ipaddress.ip_address(BASE + host)
        for port in range(1, 13):
            [seg] = [s for s in segments if ip in s.box.network and s.box.lo <= port <= s.box.hi]
            alone = decide(book, str(ip), Flow(protocol, port, port)).hops[1]
            assert (seg.action, seg.decided_by) == (alone.segments[0].action, alone.segments[0].decided_by)


@settings(max_examples=150, deadline=None)
@given(books(), sources, flows)
def test_the_suggested_fix_lets_the_flow_through_and_nothing_else_changes(book, src, flow):
    before = decide(book, src, flow)
    if before.allowed is not False:
        return
    fixes = suggest_fixes(before, book)
    assert fixes, before.reason
    fixed = book
    for fix in fixes:
        fixed = fix.apply(fixed)
    assert decide(fixed, src, flow).allowed is True
    # every other source that was allowed stays allowed
    for host in range(16):
        other = str(ipaddress.ip_address(BASE + host))
        if decide(book, other, flow).allowed:
            assert decide(fixed, other, flow).allowed is True


# --- addresses: read exactly as ipaddress reads them ----------------------------------------------

OCTETS = ["0", "00", "01", "1", "9", "10", "99", "100", "199", "249", "255", "256", "300", "999", "1000", "",
          "a", "0x1", "+1", "-1", " 1", "١", "²", "1_0"]


@given(st.lists(st.sampled_from(OCTETS), min_size=1, max_size=5), st.sampled_from(["", " ", "/32", "/24", "/33"]))
@settings(max_examples=500, deadline=None)
def test_an_address_is_read_as_ipaddress_reads_it(octets, tail):
    """For any text (leading zeros, more than 255, non-ASCII digits, a prefix, spaces) the network
    read from a Pod's or node's address, or the refusal, is the standard library's."""
    from sgpctl.core.traffic.space import parse_network

    text = ".".join(octets) + tail
    try:
        expected = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        expected = None
    parse_network.cache_clear()
    assert parse_network(text) == expected
