"""Tencent Cloud security-group semantics for Pods: will a flow pass, which rule decides, what do
Pods need, and what to add. Pure: no I/O, no SDK.

    book = RuleBook.build(groups=[GroupRules.from_api("sg-a", policy_set)], members={...}, ...)
    d = explain(Endpoint.node_endpoint("n1", "10.0.1.10"),
                Endpoint.sub_eni_pod("web", "web-0", "10.0.1.23", "n1", ["sg-a"], "strict"),
                Flow.of("tcp", 8080), book)
    d.allowed, d.decided_by, d.to_dict()

    needs = pod_needs(pod, me, node=node_ep, nodes=node_eps, dns=cluster_dns(svc, dns_pods), services=svcs)
    results = check_needs(needs.needs, book)      # NeedResult: status, decision, fixes (RuleFix)
    find_shadowing(needs.needs, book)             # DROP in an earlier group over an ACCEPT in a later one

Modules: ``model`` (rules and templates as the API has them, ``RuleBook``), ``endpoints`` (a Pod's
groups: from its ENI, or predicted from the policies), ``space`` (address and
port sets), ``rules`` (what one rule matches), ``evaluate`` (one ENI, one direction), ``explain``
(a flow, hop by hop, with the routing mode), ``needs`` (probes, DNS, Services, declared egress),
``fixes`` (the rule to add), ``check`` (needs against rules; shadowing).
"""

from sgpctl.core.traffic.check import FAIL, PASS, UNDETERMINED, NeedResult, Shadowing, check_needs, find_shadowing
from sgpctl.core.traffic.endpoints import pod_endpoint
from sgpctl.core.traffic.evaluate import ACCEPT, DROP, RuleRef, Segment, Unknown, evaluate_chain
from sgpctl.core.traffic.explain import (
    ENI,
    EXTERNAL,
    STANDARD,
    STRICT,
    SUB_ENI,
    VIRTUAL,
    Endpoint,
    Flow,
    Hop,
    TrafficDecision,
    explain,
    reply_to,
)
from sgpctl.core.traffic.fixes import ALL_TCP_UDP_PORTS, RuleFix, suggest_fixes
from sgpctl.core.traffic.model import (
    EGRESS,
    INGRESS,
    AddressTemplate,
    AddressTemplateGroup,
    AddressTemplateRef,
    GroupRules,
    Rule,
    RuleBook,
    ServiceTemplate,
    ServiceTemplateGroup,
    ServiceTemplateRef,
)
from sgpctl.core.traffic.needs import (
    EGRESS_ANNOTATION,
    ClusterDns,
    Need,
    PodNeeds,
    Probe,
    cluster_dns,
    needs_key,
    parse_egress,
    pod_needs,
    probes,
    resolve_target_port,
)

__all__ = [
    "ACCEPT", "ALL_TCP_UDP_PORTS", "DROP", "EGRESS", "EGRESS_ANNOTATION", "ENI", "EXTERNAL", "FAIL", "INGRESS",
    "PASS", "STANDARD", "STRICT", "SUB_ENI", "UNDETERMINED", "VIRTUAL",
    "AddressTemplate", "AddressTemplateGroup", "AddressTemplateRef", "ClusterDns", "Endpoint", "Flow", "GroupRules",
    "Hop", "Need", "NeedResult", "PodNeeds", "Probe", "Rule", "RuleBook", "RuleFix", "RuleRef", "Segment",
    "ServiceTemplate", "ServiceTemplateGroup", "ServiceTemplateRef", "Shadowing", "TrafficDecision", "Unknown",
    "check_needs", "cluster_dns", "evaluate_chain", "explain", "find_shadowing", "needs_key", "parse_egress", "pod_endpoint", "pod_needs",
    "probes", "reply_to", "resolve_target_port", "suggest_fixes",
]
