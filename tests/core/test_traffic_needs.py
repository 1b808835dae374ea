"""The flows a Pod needs (probes, DNS, Services, declared egress), the rule that would let a dropped
one through, and shadowing between a policy's groups. Expected values are worked out by hand from
the Kubernetes API semantics named in each test (kubelet probe port resolution, the endpoints
controller's named targetPort, dnsPolicy) and from the VPC API's CreateSecurityGroupPolicies."""

from __future__ import annotations

import pytest

from sgpctl.core.traffic import (
    Endpoint,
    Flow,
    GroupRules,
    RuleBook,
    check_needs,
    cluster_dns,
    explain,
    find_shadowing,
    parse_egress,
    pod_needs,
    probes,
    suggest_fixes,
)

N1 = Endpoint.node_endpoint("n1", "10.0.1.10")
N2 = Endpoint.node_endpoint("n2", "10.0.2.10")
NODE_SUBNETS = ["10.0.1.0/24", "10.0.2.0/24"]


def make_pod(containers=None, *, annotations=None, labels=None, **spec):
    return {"metadata": {"namespace": "web", "name": "web-0", "labels": labels or {"app": "web"},
                         "annotations": annotations or {}},
            "spec": {"containers": containers or [{"name": "app"}], **spec}}


def me(groups=("sg-a",), routing="strict"):
    return Endpoint.sub_eni_pod("web", "web-0", "10.0.1.23", "n1", list(groups), routing)


def group(gid, ingress=(), egress=(), version="4"):
    return GroupRules.from_api(gid, {"Version": version, "Ingress": list(ingress), "Egress": list(egress)})


# --- probes --------------------------------------------------------------------------------------

def test_probe_ports_are_resolved_like_the_kubelet_does():
    pod = make_pod([
        {"name": "app", "ports": [{"name": "http", "containerPort": 8080}, {"name": "admin", "containerPort": 9000}],
         "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
         "livenessProbe": {"tcpSocket": {"port": 9000}},
         "startupProbe": {"exec": {"command": ["cat", "/tmp/ok"]}}},
        {"name": "grpc", "livenessProbe": {"grpc": {"port": 50051}},
         "readinessProbe": {"tcpSocket": {"port": "8081"}}},      # a number written as a string
    ], initContainers=[
        {"name": "sidecar", "restartPolicy": "Always", "readinessProbe": {"tcpSocket": {"port": 15020}}},
        {"name": "setup", "readinessProbe": {"tcpSocket": {"port": 1}}},  # not a sidecar: never probed
    ])
    got = [(p.container, p.kind, p.handler, p.port) for p in probes(pod)]
    assert got == [("app", "liveness", "TCP", 9000), ("app", "readiness", "HTTP", 8080),
                   ("grpc", "liveness", "gRPC", 50051), ("grpc", "readiness", "TCP", 8081),
                   ("sidecar", "readiness", "TCP", 15020)]


def test_probe_needs_come_from_the_pods_node_with_the_node_subnet_as_the_rule_peer():
    pod = make_pod([{"name": "app", "readinessProbe": {"httpGet": {"port": 8080}}}])
    needs = pod_needs(pod, me(), node=N1, node_cidrs=NODE_SUBNETS, dns=None)
    probe = [n for n in needs.needs if n.kind == "probe"]
    assert len(probe) == 1
    n = probe[0]
    assert (n.id, n.source.ref, n.destination.ref, n.flow) == ("probe:app:readiness:8080", "node/n1",
                                                                "pod/web/web-0", Flow("tcp", 8080, 8080))
    assert n.peer_cidrs == ("10.0.1.0/24",)  # the subnet holding n1's address, not n2's


def test_probes_that_need_no_pod_flow_are_noted():
    pod = make_pod([{"name": "app", "ports": [],
                     "livenessProbe": {"httpGet": {"port": 80, "host": "example.internal"}},
                     "readinessProbe": {"httpGet": {"port": "metrics"}}}])
    needs = pod_needs(pod, me(), node=N1, dns=None)
    assert [n for n in needs.needs if n.kind == "probe"] == []
    assert any("goes to host example.internal" in x for x in needs.notes)
    assert any("'metrics' is not a number or a port of container app" in x for x in needs.notes)


# --- DNS -----------------------------------------------------------------------------------------

KUBE_DNS = {"metadata": {"namespace": "kube-system", "name": "kube-dns"},
            "spec": {"clusterIP": "172.17.0.10", "selector": {"k8s-app": "kube-dns"},
                     "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"},
                               {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": "dns-tcp"}]}}
COREDNS = {"metadata": {"namespace": "kube-system", "name": "coredns-0"},
           "spec": {"containers": [{"name": "coredns", "ports": [
               {"name": "dns", "containerPort": 5353, "protocol": "UDP"},
               {"name": "dns-tcp", "containerPort": 5353, "protocol": "TCP"}]}]}}
COREDNS_EP = Endpoint.eni_pod("kube-system", "coredns-0", "10.0.2.50", "n2")


def test_cluster_dns_needs_the_service_ip_and_its_pods_on_their_target_ports():
    dns = cluster_dns(KUBE_DNS, [(COREDNS, COREDNS_EP)])
    needs = pod_needs(make_pod(), me(), node=N1, dns=dns)
    got = sorted((n.destination.ref, n.destination.address, n.flow.protocol, n.flow.lo) for n in needs.needs)
    assert got == [("pod/kube-system/coredns-0", "10.0.2.50", "tcp", 5353),
                   ("pod/kube-system/coredns-0", "10.0.2.50", "udp", 5353),
                   ("service/kube-system/kube-dns", "172.17.0.10", "tcp", 53),
                   ("service/kube-system/kube-dns", "172.17.0.10", "udp", 53)]
    assert all(n.source.ref == "pod/web/web-0" and n.kind == "dns" for n in needs.needs)


def test_the_metrics_port_of_kube_dns_is_no_dns_need():
    # CoreDNS's kube-dns Service also publishes metrics on TCP 9153 (the CoreDNS Helm chart and kubeadm's
    # manifest); resolvers only ever ask on port 53.
    with_metrics = {**KUBE_DNS, "spec": {**KUBE_DNS["spec"], "ports": [
        *KUBE_DNS["spec"]["ports"], {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}}
    dns = cluster_dns(with_metrics, [(COREDNS, COREDNS_EP)])
    assert dns.ports == (("udp", 53), ("tcp", 53))
    assert sorted({n.flow.lo for n in pod_needs(make_pod(), me(), node=N1, dns=dns).needs}) == [53, 5353]


def test_a_fix_for_dns_pods_names_their_subnet():
    dns = cluster_dns(KUBE_DNS, [(COREDNS, COREDNS_EP)], pod_cidrs=["10.0.1.0/24", "10.0.2.0/24"])
    results = check_needs(pod_needs(make_pod(), me(), node=N1, dns=dns).needs, RuleBook.build([group("sg-a")]))
    pod_fixes = [r.fixes[0] for r in results if r.need.destination.ref == "pod/kube-system/coredns-0"]
    assert [(f.direction, f.rules[0].protocol, f.rules[0].port, f.rules[0].cidr_block) for f in pod_fixes] == [
        ("egress", "UDP", "5353", "10.0.2.0/24"), ("egress", "TCP", "5353", "10.0.2.0/24")]


def test_dns_policy_none_uses_the_nameservers_and_default_is_noted():
    pod = make_pod(dnsPolicy="None", dnsConfig={"nameservers": ["10.0.0.2"]})
    needs = pod_needs(pod, me(), node=N1, dns=cluster_dns(KUBE_DNS))
    assert sorted((n.destination.address, n.flow.protocol) for n in needs.needs) == [("10.0.0.2", "tcp"),
                                                                                     ("10.0.0.2", "udp")]
    default = pod_needs(make_pod(dnsPolicy="Default"), me(), node=N1, dns=cluster_dns(KUBE_DNS))
    assert default.needs == [] and any("node's resolvers" in x for x in default.notes)


def test_the_service_ip_hop_is_never_filtered_and_the_pod_egress_is():
    dns = cluster_dns(KUBE_DNS)
    book = RuleBook.build([group("sg-a")])
    results = check_needs(pod_needs(make_pod(), me(), node=N1, dns=dns).needs, book)
    assert [r.status for r in results] == ["fail", "fail"]
    hop = results[0].decision.hops[1]
    assert hop.filtered is False and "Service IP" in hop.why


# --- Services ------------------------------------------------------------------------------------

def svc(name="web", type_="ClusterIP", selector=None, ports=None, annotations=None, **spec):
    return {"metadata": {"namespace": "web", "name": name, "annotations": annotations or {}},
            "spec": {"type": type_, "selector": {"app": "web"} if selector is None else selector,
                     "ports": ports or [{"port": 80, "targetPort": "http"}], **spec}}


SERVED = make_pod([{"name": "app", "ports": [{"name": "http", "containerPort": 8080},
                                             {"name": "http", "containerPort": 8443, "protocol": "UDP"}]}])


def service_needs_of(*services, clients=None, nodes=(N1, N2)):
    return pod_needs(SERVED, me(), node=N1, nodes=list(nodes), services=list(services), clients=clients,
                     node_cidrs=NODE_SUBNETS, dns=None)


def test_nodeport_is_needed_from_every_node_on_the_named_target_port():
    needs = service_needs_of(svc(type_="NodePort"))
    got = [(n.source.ref, n.flow, n.peer_cidrs) for n in needs.needs]
    # "http" resolves to the TCP port of that name (the endpoints controller matches name and protocol)
    assert got == [("node/n1", Flow("tcp", 8080, 8080), ("10.0.1.0/24",)),
                   ("node/n2", Flow("tcp", 8080, 8080), ("10.0.2.0/24",))]


def test_cluster_ip_needs_known_clients_and_notes_unknown_ones():
    client = Endpoint.sub_eni_pod("web", "client-0", "10.0.2.30", "n2", ["sg-client"], "standard")
    needs = service_needs_of(svc(), clients={("web", "web"): [client]})
    assert [(n.source.ref, n.flow.lo) for n in needs.needs] == [("pod/web/client-0", 8080)]
    unknown = service_needs_of(svc())
    assert unknown.needs == [] and any("clients of this ClusterIP Service are not known" in x for x in unknown.notes)


@pytest.mark.parametrize("service,sources", [
    (svc(type_="LoadBalancer", externalTrafficPolicy="Local"), ["0.0.0.0/0"]),
    (svc(type_="LoadBalancer", externalTrafficPolicy="Local", loadBalancerSourceRanges=["203.0.113.0/24"]),
     ["203.0.113.0/24"]),
    (svc(type_="LoadBalancer", annotations={"service.cloud.tencent.com/direct-access": "true"},
         loadBalancerSourceRanges=["198.51.100.0/24", "203.0.113.0/24"]), ["198.51.100.0/24", "203.0.113.0/24"]),
    (svc(type_="LoadBalancer"), ["10.0.1.10", "10.0.2.10"]),    # through NodePort: from the nodes
])
def test_load_balancer_sources(service, sources):
    needs = service_needs_of(service)
    assert [n.source.address for n in needs.needs] == sources
    assert all(n.flow == Flow("tcp", 8080, 8080) for n in needs.needs)


def test_services_that_do_not_select_the_pod_are_ignored():
    other_ns = svc(type_="NodePort")
    other_ns["metadata"]["namespace"] = "other"
    needs = service_needs_of(other_ns, svc(name="db", type_="NodePort", selector={"app": "db"}),
                             svc(name="none", type_="NodePort", selector={}))
    assert needs.needs == []


def test_target_port_absent_means_the_service_port_and_unknown_names_are_noted():
    needs = service_needs_of(svc(type_="NodePort", ports=[{"port": 9090}]), nodes=(N1,))
    assert [n.flow.lo for n in needs.needs] == [9090]
    missing = service_needs_of(svc(type_="NodePort", ports=[{"port": 80, "targetPort": "grpc"}]))
    assert missing.needs == [] and any("targetPort 'grpc' is not a port of this Pod" in x for x in missing.notes)


# --- declared egress -----------------------------------------------------------------------------

def test_egress_annotation_items_and_problems():
    items, problems = parse_egress("tcp:443@10.0.0.0/8, udp:5000-5010@10.2.0.5,icmp@10.1.0.0/16\n"
                                   "tcp@10.0.0.1, sctp:1@10.0.0.1, tcp:443@nowhere, icmp:8@10.0.0.1")
    assert [i.text() for i in items] == ["tcp:443@10.0.0.0/8", "udp:5000-5010@10.2.0.5/32", "icmp@10.1.0.0/16"]
    assert len(problems) == 4
    assert "tcp needs a port" in problems[0] and "protocol must be tcp, udp or icmp" in problems[1]


def test_declared_egress_becomes_needs_checked_against_the_pods_egress():
    pod = make_pod(annotations={"sgpctl.io/egress": "tcp:443@10.0.0.0/8"})
    book = RuleBook.build([group("sg-a", egress=[{"Protocol": "TCP", "Port": "443", "CidrBlock": "10.0.0.0/16",
                                                  "Action": "ACCEPT", "PolicyIndex": 0}])])
    [result] = check_needs(pod_needs(pod, me(), node=N1, dns=None).needs, book)
    assert result.status == "fail"  # only 10.0.0.0/16 of the declared /8 is allowed
    [fix] = result.fixes
    assert fix.request() == {"SecurityGroupId": "sg-a", "SecurityGroupPolicySet": {"Version": "4", "Egress": [
        {"Protocol": "TCP", "Port": "443", "CidrBlock": "10.0.0.0/8", "Action": "ACCEPT",
         "PolicyDescription": "sgpctl: declared egress tcp:443@10.0.0.0/8"}]}}


# --- fixes ---------------------------------------------------------------------------------------

PROBE_POD = make_pod([{"name": "app", "readinessProbe": {"tcpSocket": {"port": 8080}}}])


def probe_result(book, groups=("sg-a",)):
    [result] = check_needs(pod_needs(PROBE_POD, me(groups), node=N1, node_cidrs=NODE_SUBNETS, dns=None).needs, book)
    return result


def test_fix_for_a_default_drop_appends_to_the_first_group():
    book = RuleBook.build([group("sg-a"), group("sg-b")])
    result = probe_result(book, ("sg-a", "sg-b"))
    [fix] = result.fixes
    assert fix.request() == {"SecurityGroupId": "sg-a", "SecurityGroupPolicySet": {"Version": "4", "Ingress": [
        {"Protocol": "TCP", "Port": "8080", "CidrBlock": "10.0.1.0/24", "Action": "ACCEPT",
         "PolicyDescription": "sgpctl: readiness probe of container app (TCP :8080) from node/n1"}]}}
    assert explain(result.need.source, result.need.destination, result.need.flow, fix.apply(book)).allowed is True


def test_fix_goes_before_the_drop_that_decides():
    book = RuleBook.build([
        group("sg-a", ingress=[{"PolicyIndex": 0, "Protocol": "TCP", "Port": "22", "CidrBlock": "0.0.0.0/0",
                                "Action": "ACCEPT"}]),
        group("sg-b", ingress=[{"PolicyIndex": 0, "Protocol": "UDP", "Port": "ALL", "CidrBlock": "0.0.0.0/0",
                                "Action": "ACCEPT"},
                               {"PolicyIndex": 1, "Protocol": "ALL", "Port": "ALL", "CidrBlock": "10.0.0.0/8",
                                "Action": "DROP"}])])
    result = probe_result(book, ("sg-a", "sg-b"))
    assert result.decision.decided_by.to_dict() == {"securityGroupId": "sg-b", "direction": "ingress",
                                                    "policyIndex": 1, "action": "DROP"}
    [fix] = result.fixes
    assert (fix.security_group_id, fix.direction, fix.policy_index) == ("sg-b", "ingress", 1)
    assert fix.request()["SecurityGroupPolicySet"]["Ingress"][0]["PolicyIndex"] == 1
    fixed = fix.apply(book)
    assert explain(result.need.source, result.need.destination, result.need.flow, fixed).allowed is True
    # the DROP is still there, one place down
    assert [r.action for r in fixed.groups["sg-b"].rules("ingress")] == ["ACCEPT", "ACCEPT", "DROP"]


def test_fix_ports_are_explicit_never_all():
    book = RuleBook.build([group("sg-a")])
    d = explain(Endpoint.external("10.0.0.5"), me(), Flow("tcp", 0, 65535), book)
    [fix] = suggest_fixes(d, book)
    assert fix.rules[0].port == "1-65535"
    icmp = explain(Endpoint.external("10.0.0.5"), me(), Flow.of("icmp"), book)
    [fix] = suggest_fixes(icmp, book)
    assert fix.rules[0].to_api() == {"Protocol": "ICMP", "CidrBlock": "10.0.0.5/32", "Action": "ACCEPT"}


def test_fix_names_a_pod_client_by_its_group_and_ipv6_by_ipv6_cidr():
    book = RuleBook.build([group("sg-a")])
    client = Endpoint.sub_eni_pod("web", "c", "10.0.2.30", "n2", ["sg-client", "sg-x"], "standard")
    [_, fix] = suggest_fixes(explain(client, me(), Flow.of("tcp", 80), RuleBook.build([group("sg-a"),
                                                                                       group("sg-client"),
                                                                                       group("sg-x")])), book)
    assert fix.rules[0].security_group_id == "sg-client" and fix.rules[0].cidr_block is None
    v6 = Endpoint.sub_eni_pod("web", "web-0", "2402:4e00::23", "n1", ["sg-a"], "strict")
    [fix] = suggest_fixes(explain(Endpoint.external("2402:4e00::9"), v6, Flow.of("tcp", 80), book), book)
    assert fix.rules[0].ipv6_cidr_block == "2402:4e00::9/128"


def test_no_fix_is_offered_when_the_outcome_cannot_be_decided():
    book = RuleBook.build([group("sg-a", ingress=[{"Protocol": "TCP", "Port": "8080", "Action": "ACCEPT",
                                                  "SecurityGroupId": "sg-unknown"}])])
    result = probe_result(book)
    assert result.status == "undetermined" and result.fixes == ()


# --- shadowing -----------------------------------------------------------------------------------

DENY_ALL = group("sg-deny", ingress=[{"PolicyIndex": 0, "Protocol": "ALL", "Port": "ALL", "CidrBlock": "0.0.0.0/0",
                                      "Action": "DROP"}])
ALLOW_PROBES = group("sg-probes", ingress=[{"PolicyIndex": 0, "Protocol": "TCP", "Port": "8080",
                                            "CidrBlock": "10.0.1.0/24", "Action": "ACCEPT"}])


def test_a_drop_in_an_earlier_group_shadowing_a_later_accept_is_found():
    book = RuleBook.build([DENY_ALL, ALLOW_PROBES])
    needs = pod_needs(PROBE_POD, me(("sg-deny", "sg-probes")), node=N1, dns=None).needs
    [s] = find_shadowing(needs, book)
    assert (s.drop.security_group_id, s.accept.security_group_id) == ("sg-deny", "sg-probes")
    assert s.accept.group_position == 1
    assert "list sg-probes before sg-deny in groupIds" in s.message()
    # the other order: no shadowing, and the probe passes
    swapped = pod_needs(PROBE_POD, me(("sg-probes", "sg-deny")), node=N1, dns=None).needs
    assert find_shadowing(swapped, book) == []
    assert [r.status for r in check_needs(swapped, book)] == ["pass"]


def test_no_shadowing_where_no_later_group_would_accept():
    book = RuleBook.build([DENY_ALL, group("sg-other")])
    needs = pod_needs(PROBE_POD, me(("sg-deny", "sg-other")), node=N1, dns=None).needs
    assert find_shadowing(needs, book) == []


# --- a Pod as an endpoint ------------------------------------------------------------------------

def test_pod_endpoint_groups_from_the_eni_or_predicted_from_the_policies():
    from sgpctl.core.policy import SecurityGroupPolicy
    from sgpctl.core.traffic import pod_endpoint

    def policy(name, groups):
        return SecurityGroupPolicy.from_object({
            "metadata": {"namespace": "web", "name": name},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "securityGroups": {"groupIds": groups}}})

    policies = [policy("b", ["sg-b", "sg-a"]), policy("a", ["sg-a", "sg-c"])]
    running = make_pod(annotations={"tke.cloud.tencent.com/networks": "tke-sub-eni",
                                    "tke.cloud.tencent.com/security-group-id": "sg-x,sg-y"}, nodeName="n1")
    running["status"] = {"podIP": "10.0.1.23"}
    ep = pod_endpoint(running, routing="strict", eni_groups=["sg-y", "sg-x"])
    assert (ep.kind, ep.groups, ep.predicted, ep.node) == ("sub-eni", ("sg-y", "sg-x"), False, "n1")
    ep = pod_endpoint(running, routing="strict")
    assert (ep.groups, ep.predicted) == (("sg-x", "sg-y"), True)  # the annotation, not confirmed
    plain = make_pod(nodeName="n1")
    plain["status"] = {"podIP": "10.0.1.24"}
    # selected but created before the policies: rebuilt, it gets a-policy's groups then b-policy's new ones
    ep = pod_endpoint(plain, routing="standard", policies=policies)
    assert (ep.kind, ep.groups, ep.predicted) == ("sub-eni", ("sg-a", "sg-c", "sg-b"), True)
    ep = pod_endpoint(plain, routing="standard", node_groups=["sg-node"])
    assert (ep.kind, ep.groups) == ("eni", ("sg-node",))
    with pytest.raises(ValueError):
        pod_endpoint(make_pod(), routing="strict")


# --- the key of a Pod's needs, and what is made once per cluster DNS ---------------------------


def _decoded(pod: dict) -> dict:
    """The Pod as the API client hands it over: decoded from its own JSON text (no shared objects)."""
    import json

    return json.loads(json.dumps(pod))


def _probed(port=8080, **kwargs):
    return make_pod([{"name": "app", "ports": [{"name": "http", "containerPort": port}],
                      "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}}], **kwargs)


def test_needs_key_is_equal_for_replicas_and_differs_where_the_needs_can():
    from sgpctl.core.traffic import needs_key

    a, b = _decoded(_probed()), _decoded(_probed())
    b["metadata"]["name"], b["status"] = "web-1", {"podIP": "10.0.1.24"}  # another replica: name and address
    b["spec"]["nodeName"] = "n2"
    assert needs_key(a) == needs_key(b)
    # each of these changes what pod_needs derives (a probe's port; which Services select it; the
    # egress it declares; its DNS), so none may share the key
    other_port = _decoded(_probed(port=9090))
    other_labels = _decoded(_probed(labels={"app": "api"}))
    egress = _decoded(_probed(annotations={"sgpctl.io/egress": "tcp:443@10.0.0.0/8"}))
    dns = _decoded(_probed(dnsPolicy="Default"))
    keys = [needs_key(p) for p in (a, other_port, other_labels, egress, dns)]
    assert len(set(keys)) == 5
    # a port written as true is no port 1: equal in Python (True == 1), apart in the key
    one, true = _decoded(_probed(port=1)), _decoded(_probed(port=1))
    true["spec"]["containers"][0]["ports"][0]["containerPort"] = True
    assert needs_key(one) != needs_key(true)


def test_a_pod_with_a_value_marshal_cannot_write_is_a_class_of_its_own():
    """A label YAML read as a date (``release: 2024-01-01`` unquoted in a snapshot file): the key
    cannot be its bytes, so it is one no other Pod, not even an equal one, shares."""
    import datetime

    from sgpctl.core.traffic import needs_key

    dated = _probed(labels={"app": "web", "release": datetime.date(2024, 1, 1)})
    twin = _probed(labels={"app": "web", "release": datetime.date(2024, 1, 1)})
    assert needs_key(dated) != needs_key(twin)
    assert needs_key(dated) != needs_key(_probed(labels={"app": "web", "release": "2024-01-01"}))
    # its needs are still derived in full
    needs = pod_needs(dated, me(), node=N1)
    assert [(n.kind, n.flow.lo) for n in needs.needs] == [("probe", 8080)]


def test_the_cluster_dns_flows_are_made_once_per_cluster_dns_and_each_has_its_own():
    """Each evaluation makes its own ClusterDns (its DNS Pods in its routing mode): the flows every
    Pod's DNS needs share are made once for it, and a ClusterDns with other Pods has other flows."""
    dns = cluster_dns(KUBE_DNS, [(COREDNS, COREDNS_EP)])
    first = pod_needs(make_pod(), me(), node=N1, dns=dns)
    second = pod_needs(make_pod(), me(("sg-b",)), node=N1, dns=dns)
    assert [n.destination for n in first.needs] == [n.destination for n in second.needs]
    assert dns.flows is dns.flows
    moved = Endpoint.eni_pod("kube-system", "coredns-0", "10.0.3.50", "n3")
    other = cluster_dns(KUBE_DNS, [(COREDNS, moved)])
    got = sorted((n.destination.ref, n.destination.address) for n in pod_needs(make_pod(), me(), dns=other).needs)
    assert got == [("pod/kube-system/coredns-0", "10.0.3.50"), ("pod/kube-system/coredns-0", "10.0.3.50"),
                   ("service/kube-system/kube-dns", "172.17.0.10"), ("service/kube-system/kube-dns", "172.17.0.10")]
