"""Tencent Cloud security-group semantics, one documented rule per table. Every expected value is
worked out by hand from the source named above its table.

Sources (short names used below):
- [ORDER]    Tencent Cloud "Security Group Overview" (product/213/12452, product/215/38750): rules are
             prioritized top to bottom; once a rule matches, later rules are not matched.
- [DEFAULT]  product/213/18197: a security group with no rules rejects all traffic.
- [BOUND]    CVM AssociateSecurityGroups (product/1026/31282): several groups are matched in their
             binding order as the priority order.
- [STATEFUL] "Security Group Overview": groups are stateful; the reply to allowed traffic is allowed.
- [MODEL]    VPC API SecurityGroupPolicy data structure (SDK models.py): Protocol TCP/UDP/ICMP/ICMPv6/
             ALL; Port all, discrete ports, range; CidrBlock "0.0.0.0/n 都会映射为0.0.0.0/0";
             SecurityGroupId, AddressTemplate (AddressId / AddressGroupId), ServiceTemplate
             (ServiceId / ServiceGroupId); Action ACCEPT or DROP.
- [CREATE]   CreateSecurityGroupPolicies (product/215/15807): Port only with TCP or UDP; "IPv6CidrBlock
             and ICMP are mutually exclusive; to use them, enter ICMPV6"; Protocol GRE; the API's
             examples write "accept" and "All" in lower/mixed case.
- [TEMPLATE] CreateAddressTemplate (IP, CIDR, IP range) and CreateServiceTemplate ("TCP:8080",
             echoed "tcp: 8080"; single, multiple, consecutive and all ports; TCP, UDP, ICMP, GRE).
- [TKE]      the TKE document "Using SecurityGroupPolicy for Pods on TKE", Data Plane Solution: standard
             routing - Pod<->own node and Pods on one node do not pass the Pod's groups; strict - they
             do; across nodes both modes filter.
"""

from __future__ import annotations

import pytest

from sgpctl.core.traffic import (
    AddressTemplate,
    AddressTemplateGroup,
    Endpoint,
    Flow,
    GroupRules,
    RuleBook,
    ServiceTemplate,
    ServiceTemplateGroup,
    explain,
    reply_to,
)

POD_IP = "10.1.0.20"
NODE1, NODE2 = "10.0.1.10", "10.0.2.10"


def rule(action="ACCEPT", proto="TCP", port="80", cidr=None, **extra):
    r = {"Protocol": proto, "Port": port, "Action": action, **extra}
    if cidr is not None:
        r["CidrBlock"] = cidr
    return r


def group(gid, ingress=(), egress=(), version="1"):
    return GroupRules.from_api(gid, {"Version": version, "Ingress": list(ingress), "Egress": list(egress)})


def pod(groups, *, node="n1", routing="standard", ip=POD_IP):
    return Endpoint.sub_eni_pod("web", "web-0", ip, node, groups, routing)


def ingress_to_pod(book, src_ip, flow, groups=("sg-a",)):
    return explain(Endpoint.external(src_ip), pod(list(groups)), flow, book)


# --- [ORDER] within one group the first matching rule decides ----------------------------------

ORDER_CASES = [
    # (ingress rules of sg-a, source, port, allowed, deciding PolicyIndex)
    ([rule("DROP", cidr="10.0.0.0/24", PolicyIndex=0), rule("ACCEPT", cidr="10.0.0.0/8", PolicyIndex=1)],
     "10.0.0.5", 80, False, 0),
    ([rule("DROP", cidr="10.0.0.0/24", PolicyIndex=0), rule("ACCEPT", cidr="10.0.0.0/8", PolicyIndex=1)],
     "10.9.0.5", 80, True, 1),
    ([rule("ACCEPT", cidr="10.0.0.0/8", PolicyIndex=0), rule("DROP", cidr="10.0.0.0/24", PolicyIndex=1)],
     "10.0.0.5", 80, True, 0),
    # listed out of order: PolicyIndex is the order, not the list position
    ([rule("ACCEPT", cidr="10.0.0.0/8", PolicyIndex=1), rule("DROP", cidr="10.0.0.0/24", PolicyIndex=0)],
     "10.0.0.5", 80, False, 0),
    # a rule for another port is passed over
    ([rule("DROP", port="443", cidr="0.0.0.0/0", PolicyIndex=0), rule("ACCEPT", cidr="10.0.0.0/8", PolicyIndex=1)],
     "10.0.0.5", 80, True, 1),
]


@pytest.mark.parametrize("rules,src,port,allowed,index", ORDER_CASES)
def test_first_matching_rule_decides(rules, src, port, allowed, index):
    book = RuleBook.build([group("sg-a", ingress=rules)])
    d = ingress_to_pod(book, src, Flow.of("tcp", port))
    assert d.allowed is allowed
    assert d.decided_by.to_dict() == {"securityGroupId": "sg-a", "direction": "ingress", "policyIndex": index,
                                      "action": "ACCEPT" if allowed else "DROP"}


# --- [BOUND] several groups: bound order is priority order ---------------------------------------

DROPPER = group("sg-drop", ingress=[rule("DROP", cidr="0.0.0.0/0", PolicyIndex=0)])
ACCEPTER = group("sg-acc", ingress=[rule("ACCEPT", cidr="10.0.0.0/8", PolicyIndex=0)])
EMPTY = group("sg-empty")


@pytest.mark.parametrize("order,allowed,decider", [
    (("sg-drop", "sg-acc"), False, "sg-drop"),   # a DROP in the first beats an ACCEPT in the second
    (("sg-acc", "sg-drop"), True, "sg-acc"),
    (("sg-empty", "sg-acc"), True, "sg-acc"),    # nothing in the first matches: the second decides
    (("sg-empty", "sg-drop", "sg-acc"), False, "sg-drop"),
])
def test_groups_are_matched_in_bound_order(order, allowed, decider):
    book = RuleBook.build([DROPPER, ACCEPTER, EMPTY])
    d = ingress_to_pod(book, "10.0.0.5", Flow.of("tcp", 80), order)
    assert d.allowed is allowed
    assert d.decided_by.security_group_id == decider
    assert d.hops[1].to_dict()["groups"] == list(order)


# --- [DEFAULT] no matching rule drops ------------------------------------------------------------

@pytest.mark.parametrize("rules", [
    [],                                                          # a group without rules
    [rule("ACCEPT", port="443", cidr="0.0.0.0/0")],              # only other ports
    [rule("ACCEPT", cidr="192.168.0.0/16")],                     # only other sources
    [rule("ACCEPT", proto="UDP", cidr="0.0.0.0/0")],             # only another protocol
])
def test_traffic_no_rule_matches_is_dropped(rules):
    book = RuleBook.build([group("sg-a", ingress=rules)])
    d = ingress_to_pod(book, "10.0.0.5", Flow.of("tcp", 80))
    assert d.allowed is False
    assert d.decided_by is None
    assert d.hops[1].verdict() == "no rule of sg-a matched: dropped"
    assert d.to_dict()["decidedBy"] is None


# --- [STATEFUL] a reply follows its request ------------------------------------------------------

def test_reply_to_an_allowed_request_is_allowed_although_no_rule_allows_that_direction():
    # sg-a accepts TCP 80 in and has no egress rule at all: a new connection out is dropped...
    book = RuleBook.build([group("sg-a", ingress=[rule("ACCEPT", cidr="0.0.0.0/0")])])
    client = Endpoint.external("10.0.0.5")
    request = explain(client, pod(["sg-a"]), Flow.of("tcp", 80), book)
    assert request.allowed is True
    outgoing = explain(pod(["sg-a"]), client, Flow.of("tcp", 80), book)
    assert outgoing.allowed is False
    # ...but the reply to the accepted request goes back.
    reply = reply_to(request)
    assert reply.allowed is True and reply.reply is True
    assert reply.source.ref == "pod/web/web-0" and reply.destination.ref == "ip/10.0.0.5"
    assert "stateful" in reply.reason


def test_reply_to_a_dropped_request_is_not_allowed():
    book = RuleBook.build([group("sg-a", egress=[rule("ACCEPT", proto="ALL", port="ALL", cidr="0.0.0.0/0")])])
    request = ingress_to_pod(book, "10.0.0.5", Flow.of("tcp", 80))
    assert request.allowed is False
    assert reply_to(request).allowed is False


# --- [MODEL] SecurityGroupId references: what is bound to the referenced group -------------------

def test_security_group_reference_matches_the_members_of_that_group():
    book = RuleBook.build([group("sg-a", ingress=[rule("ACCEPT", SecurityGroupId="sg-clients")])],
                          members={"sg-clients": ["10.0.3.7", "10.0.3.8"]})
    assert ingress_to_pod(book, "10.0.3.8", Flow.of("tcp", 80)).allowed is True
    other = ingress_to_pod(book, "10.0.3.9", Flow.of("tcp", 80))
    assert other.allowed is False and other.decided_by is None


@pytest.mark.parametrize("members,src,allowed", [
    (["10.0.3.7"], "10.0.3.7", True),     # a member
    (["10.0.3.7"], "10.0.3.8", False),    # its ENI was described and is not bound to sg-clients
    (["10.0.3.7"], "10.0.3.9", None),     # no ENI of ours: a load balancer bound to sg-clients could hold it
    ([], "10.0.3.9", None),
])
def test_non_members_are_certain_only_for_addresses_whose_bindings_are_known(members, src, allowed):
    book = RuleBook.build([group("sg-a", ingress=[rule("ACCEPT", SecurityGroupId="sg-clients")])],
                          members={"sg-clients": members}, known_addresses=["10.0.3.7", "10.0.3.8"])
    assert ingress_to_pod(book, src, Flow.of("tcp", 80)).allowed is allowed


def test_unknown_members_of_a_referenced_group_leave_the_flow_undecided():
    book = RuleBook.build([group("sg-a", ingress=[rule("ACCEPT", SecurityGroupId="sg-clients")])])
    d = ingress_to_pod(book, "10.0.3.8", Flow.of("tcp", 80))
    assert d.allowed is None
    assert "what is bound to sg-clients is not known" in d.reason
    assert d.to_dict()["allowed"] is None


def test_an_unknown_rule_that_would_decide_the_same_way_does_not_matter():
    # The unknown rule is a DROP and nothing else matches: dropped either way.
    book = RuleBook.build([group("sg-a", ingress=[rule("DROP", SecurityGroupId="sg-unknown")])])
    assert ingress_to_pod(book, "10.0.3.8", Flow.of("tcp", 80)).allowed is False


def test_an_unknown_rule_for_another_port_is_certainly_passed_over():
    book = RuleBook.build([group("sg-a", ingress=[rule("DROP", port="22", SecurityGroupId="sg-unknown"),
                                                  rule("ACCEPT", cidr="0.0.0.0/0")])])
    assert ingress_to_pod(book, "10.0.3.8", Flow.of("tcp", 80)).allowed is True


def test_a_group_whose_rules_are_not_known_leaves_the_flow_undecided():
    book = RuleBook.build([group("sg-b", ingress=[rule("ACCEPT", cidr="0.0.0.0/0")])])
    d = ingress_to_pod(book, "10.0.0.5", Flow.of("tcp", 80), ("sg-a", "sg-b"))
    assert d.allowed is None and "the rules of sg-a are not known" in d.reason


# --- [MODEL] [TEMPLATE] address and service templates --------------------------------------------

TEMPLATES = dict(
    address_templates=[AddressTemplate("ipm-1", "one", ("10.0.0.7", "10.2.0.0/16", "10.3.0.10-10.3.0.20")),
                       AddressTemplate("ipm-2", "two", ("192.168.1.1",))],
    address_template_groups=[AddressTemplateGroup("ipmg-1", "both", ("ipm-1", "ipm-2"))],
    service_templates=[ServiceTemplate("ppm-web", "web", ("tcp: 8080", "TCP:80,443")),
                       ServiceTemplate("ppm-db", "db", ("tcp:3306-3307", "udp:all")),
                       ServiceTemplate("ppm-ping", "ping", ("icmp",))],
    service_template_groups=[ServiceTemplateGroup("ppmg-1", "all", ("ppm-web", "ppm-db"))],
)


@pytest.mark.parametrize("peer,service,src,flow,allowed", [
    ({"AddressId": "ipm-1"}, None, "10.0.0.7", ("tcp", 80), True),        # an IP entry
    ({"AddressId": "ipm-1"}, None, "10.2.9.9", ("tcp", 80), True),        # a CIDR entry
    ({"AddressId": "ipm-1"}, None, "10.3.0.20", ("tcp", 80), True),       # a range entry, its last address
    ({"AddressId": "ipm-1"}, None, "10.3.0.21", ("tcp", 80), False),      # just past the range
    ({"AddressId": "ipm-1"}, None, "192.168.1.1", ("tcp", 80), False),    # only in the other template
    ({"AddressGroupId": "ipmg-1"}, None, "192.168.1.1", ("tcp", 80), True),  # the group holds both
    (None, {"ServiceId": "ppm-web"}, "10.0.0.7", ("tcp", 8080), True),    # "tcp: 8080" as the API echoes it
    (None, {"ServiceId": "ppm-web"}, "10.0.0.7", ("tcp", 443), True),     # a port list
    (None, {"ServiceId": "ppm-web"}, "10.0.0.7", ("udp", 443), False),    # another protocol
    (None, {"ServiceId": "ppm-db"}, "10.0.0.7", ("tcp", 3307), True),     # a port range
    (None, {"ServiceId": "ppm-db"}, "10.0.0.7", ("udp", 9999), True),     # udp:all
    (None, {"ServiceGroupId": "ppmg-1"}, "10.0.0.7", ("udp", 5), True),   # via the group
    (None, {"ServiceId": "ppm-ping"}, "10.0.0.7", ("icmp", None), True),
])
def test_templates(peer, service, src, flow, allowed):
    r = {"Action": "ACCEPT", "PolicyIndex": 0}
    r.update({"AddressTemplate": peer} if peer else {"CidrBlock": "0.0.0.0/0"})
    r.update({"ServiceTemplate": service} if service else {"Protocol": "ALL", "Port": "ALL"})
    book = RuleBook.build([group("sg-a", ingress=[r])], **TEMPLATES)
    d = ingress_to_pod(book, src, Flow.of(*flow))
    assert d.allowed is allowed


def test_a_template_the_book_does_not_hold_leaves_the_flow_undecided():
    book = RuleBook.build([group("sg-a", ingress=[{"Action": "ACCEPT", "AddressTemplate": {"AddressId": "ipm-gone"},
                                                   "Protocol": "ALL", "Port": "ALL"}])])
    d = ingress_to_pod(book, "10.0.0.7", Flow.of("tcp", 80))
    assert d.allowed is None and "address template ipm-gone is not known" in d.reason


# --- [MODEL] [CREATE] protocols, ports, IPv6, ICMP, case -----------------------------------------

@pytest.mark.parametrize("proto,port,flow,allowed", [
    ("TCP", "ALL", ("tcp", 65535), True),
    ("TCP", "all", ("tcp", 1), True),
    ("TCP", "80", ("tcp", 80), True),
    ("TCP", "80", ("tcp", 81), False),
    ("TCP", "80,443", ("tcp", 443), True),
    ("TCP", "80,443", ("tcp", 442), False),
    ("TCP", "3306-20000", ("tcp", 3306), True),
    ("TCP", "3306-20000", ("tcp", 20000), True),
    ("TCP", "3306-20000", ("tcp", 3305), False),
    ("TCP", "3306-20000", ("tcp", 20001), False),
    ("UDP", "53", ("tcp", 53), False),
    ("tcp", "80", ("tcp", 80), True),                 # the API's examples write protocols in any case
    ("ALL", "ALL", ("gre", None), True),              # ALL is every protocol
    ("ALL", "ALL", ("icmp", None), True),
    ("ICMP", None, ("icmp", None), True),             # ICMP has no port
    ("ICMP", None, ("tcp", 80), False),
    ("TCP", "80", ("icmp", None), False),
    ("GRE", None, ("gre", None), True),
    ("GRE", None, ("udp", 4789), False),
])
def test_protocols_and_port_forms(proto, port, flow, allowed):
    book = RuleBook.build([group("sg-a", ingress=[rule("ACCEPT", proto=proto, port=port, cidr="10.0.0.0/8")])])
    assert ingress_to_pod(book, "10.0.0.5", Flow.of(*flow)).allowed is allowed


def test_lower_case_action_counts():
    book = RuleBook.build([group("sg-a", ingress=[rule("accept", cidr="10.0.0.0/8")])])
    assert ingress_to_pod(book, "10.0.0.5", Flow.of("tcp", 80)).allowed is True


def test_zero_network_of_any_length_is_everything():
    # [MODEL] "0.0.0.0/n 都会映射为0.0.0.0/0": 0.0.0.0/8 matches 10.0.0.5 although 10/8 is outside it.
    book = RuleBook.build([group("sg-a", ingress=[rule("ACCEPT", cidr="0.0.0.0/8")])])
    assert ingress_to_pod(book, "10.0.0.5", Flow.of("tcp", 80)).allowed is True


@pytest.mark.parametrize("rules,flow,allowed", [
    ([{"Protocol": "TCP", "Port": "80", "Ipv6CidrBlock": "2402:4e00::/32", "Action": "ACCEPT"}], ("tcp", 80), True),
    ([{"Protocol": "TCP", "Port": "80", "Ipv6CidrBlock": "2400::/16", "Action": "ACCEPT"}], ("tcp", 80), False),
    # an IPv4 rule never matches IPv6 traffic, not even 0.0.0.0/0
    ([{"Protocol": "ALL", "Port": "ALL", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}], ("tcp", 80), False),
    # ICMP over IPv6 is ICMPv6: an ICMP rule does not match it, an ICMPv6 rule does
    ([{"Protocol": "ICMP", "Ipv6CidrBlock": "::/0", "Action": "ACCEPT"}], ("icmp", None), False),
    ([{"Protocol": "ICMPv6", "Ipv6CidrBlock": "::/0", "Action": "ACCEPT"}], ("icmp", None), True),
])
def test_ipv6(rules, flow, allowed):
    book = RuleBook.build([group("sg-a", ingress=rules)])
    dst = pod(["sg-a"], ip="2402:4e00:1::20")
    d = explain(Endpoint.external("2402:4e00:9::5"), dst, Flow.of(*flow), book)
    assert d.allowed is allowed


def test_an_ipv4_rule_does_not_match_ipv6_and_vice_versa_for_egress():
    book = RuleBook.build([group("sg-a", egress=[{"Protocol": "ALL", "Port": "ALL", "Ipv6CidrBlock": "::/0",
                                                  "Action": "ACCEPT"}])])
    src = pod(["sg-a"])
    assert explain(src, Endpoint.external("10.0.0.5"), Flow.of("tcp", 80), book).allowed is False


def test_unknown_protocol_in_a_rule_is_not_guessed():
    book = RuleBook.build([group("sg-a", ingress=[rule("ACCEPT", proto="SCTP", cidr="0.0.0.0/0")])])
    d = ingress_to_pod(book, "10.0.0.5", Flow.of("tcp", 80))
    assert d.allowed is None and "protocol 'SCTP'" in d.reason


# --- [TKE] routing modes: which hops are filtered at all -----------------------------------------

NO_RULES = RuleBook.build([group("sg-a"), group("sg-b")])  # both groups drop everything


@pytest.mark.parametrize("routing,src_node,filtered,allowed", [
    ("standard", "n1", False, True),   # the Pod's own node, standard: not filtered
    ("strict", "n1", True, False),     # the Pod's own node, strict: the Pod's groups decide
    ("standard", "n2", True, False),   # another node: filtered in both modes
    ("strict", "n2", True, False),
])
def test_node_to_pod(routing, src_node, filtered, allowed):
    node = Endpoint.node_endpoint(src_node, NODE1 if src_node == "n1" else NODE2)
    d = explain(node, pod(["sg-a"], node="n1", routing=routing), Flow.of("tcp", 8080), NO_RULES)
    assert (d.filtered, d.allowed) == (filtered, allowed)
    assert d.hops[0].filtered is False  # a node is not filtered by Pod groups (assumed, and said)
    if not filtered:
        assert "standard routing" in d.hops[1].why


@pytest.mark.parametrize("routing,same_node,filtered", [
    ("standard", True, False),
    ("strict", True, True),
    ("standard", False, True),
    ("strict", False, True),
])
def test_pod_to_pod(routing, same_node, filtered):
    a = Endpoint.sub_eni_pod("web", "a", "10.1.0.21", "n1", ["sg-a"], routing)
    b = Endpoint.sub_eni_pod("web", "b", "10.1.0.22", "n1" if same_node else "n2", ["sg-b"], routing)
    d = explain(a, b, Flow.of("tcp", 80), NO_RULES)
    assert d.filtered is filtered
    assert [h.filtered for h in d.hops] == [filtered, filtered]
    assert d.allowed is (not filtered)
    if filtered:
        assert d.decided_by is None  # dropped by default: sg-a's egress has no rule
        assert d.hops[0].direction == "egress" and d.hops[1].direction == "ingress"


def test_each_side_is_decided_on_its_own_eni():
    # a's egress accepts, b's ingress drops: dropped at b, and the reason names both hops.
    book = RuleBook.build([group("sg-a", egress=[rule("ACCEPT", cidr="0.0.0.0/0")]),
                           group("sg-b", ingress=[rule("DROP", cidr="10.1.0.21")])])
    a = Endpoint.sub_eni_pod("web", "a", "10.1.0.21", "n1", ["sg-a"], "standard")
    b = Endpoint.sub_eni_pod("web", "b", "10.1.0.22", "n2", ["sg-b"], "standard")
    d = explain(a, b, Flow.of("tcp", 80), book)
    assert [h.allowed for h in d.hops] == [True, False]
    assert d.decided_by.to_dict() == {"securityGroupId": "sg-b", "direction": "ingress", "policyIndex": 0,
                                      "action": "DROP"}
    assert "egress of pod/web/a: accepted by sg-a" in d.reason and "ingress of pod/web/b: dropped by sg-b" in d.reason


def test_json_contract_keys():
    d = explain(Endpoint.node_endpoint("n1", NODE1), pod(["sg-a"], routing="strict"), Flow.of("tcp", 80), NO_RULES)
    out = d.to_dict()
    assert {"allowed", "filtered", "decidedBy", "hops", "reason"} <= set(out)
    assert out["allowed"] is False and out["filtered"] is True and out["decidedBy"] is None
    assert [h["side"] for h in out["hops"]] == ["source", "destination"]
    assert out["hops"][1]["verdict"] == "no rule of sg-a matched: dropped"


def test_a_predicted_pod_says_so():
    book = RuleBook.build([group("sg-a", ingress=[rule("ACCEPT", port="8080", cidr="10.0.0.0/8")])])
    future = Endpoint.sub_eni_pod("web", "web-new", POD_IP, "n1", ["sg-a"], "strict", predicted=True)
    d = explain(Endpoint.node_endpoint("n1", NODE1), future, Flow.of("tcp", 8080), book)
    assert d.allowed is True and d.predicted is True and d.to_dict()["predicted"] is True
    assert any("are a prediction, not read from its ENI" in a for a in d.assumptions)


def test_a_cidr_source_is_split_where_rules_cut_it():
    book = RuleBook.build([group("sg-a", ingress=[rule("DROP", cidr="10.0.0.0/24", PolicyIndex=0),
                                                  rule("ACCEPT", cidr="10.0.0.0/8", PolicyIndex=1)])])
    d = ingress_to_pod(book, "10.0.0.0/8", Flow.of("tcp", 80))
    assert d.allowed is False  # part of the block is dropped
    parts = d.hops[1].parts()
    dropped = [p for p in parts if p.outcome == "DROP"]
    assert [p.traffic() for p in dropped] == [["10.0.0.0/24 port 80"]]
    accepted = [p for p in parts if p.outcome == "ACCEPT"]
    assert sum(b.network.num_addresses for p in accepted for b in p.boxes) == 2 ** 24 - 256


def test_a_decision_bound_to_another_endpoint_of_its_class_keeps_every_field_of_the_hop_but_the_endpoint():
    """``explain`` decides a class of flows once and binds the hops to each Pod's endpoint: the bound
    hop must equal the hop with only its endpoint replaced, whatever fields a Hop has (each set to a
    value of its own here, so a field left out or passed in the wrong place shows)."""
    import dataclasses
    import importlib

    explain_module = importlib.import_module("sgpctl.core.traffic.explain")
    hop_type = explain_module.Hop
    values = {f.name: f"value-of-{f.name}" for f in dataclasses.fields(hop_type)}
    first = Endpoint.sub_eni_pod("web", "web-0", "10.0.1.23", "n1", ["sg-a"], "strict")
    other = Endpoint.sub_eni_pod("web", "web-1", "10.0.1.24", "n1", ["sg-a"], "strict")
    hop = hop_type(**{**values, "endpoint": first})
    bound = explain_module._with_endpoint(hop, other)
    assert bound == dataclasses.replace(hop, endpoint=other)
    assert {f.name: getattr(bound, f.name) for f in dataclasses.fields(hop_type)} == {**values, "endpoint": other}
