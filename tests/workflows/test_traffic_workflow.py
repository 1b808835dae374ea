"""`traffic check`, the doctor/routing/verify checks built on it, `sg create --allow-node-probes`, `sg
rules` and the group-order warning of `policy apply`, over the fakes of ``tests/fakes.py``.

The world: nodes n1 (10.0.0.10) and n2 (10.0.0.11) in subnet 10.0.0.0/24 of the cluster's VPC; a Pod web-1
of policy web on n1, on its sub-ENI with group sg-web00001, with a readiness probe on 8080; CoreDNS (a
Pod on n2's shared ENI) behind kube-system/kube-dns 172.16.0.10, UDP and TCP 53. The rules of sg-web00001
are given per test; expected answers follow from them with Tencent Cloud's semantics (first match
decides; nothing matched: dropped; standard routing does not filter a Pod and its own node)."""

from __future__ import annotations

import json

import pytest

from sgpctl.cloud.types import GroupRules
from sgpctl.core.checks import Status
from sgpctl.core.traffic import Endpoint, Flow, Need
from sgpctl.errors import CloudError, InputError, RefusedError
from sgpctl.kube import resources as r
from sgpctl.workflows import traffic
from sgpctl.workflows.view import ClusterView
from tests.fakes import CLUSTER_ID, SGP, VPCENI, FakeCloud, FakeKube, eniipamd, node, pod, policy

WEB = "sg-web00001"
EVERYTHING_OUT = {"PolicyIndex": 0, "Protocol": "ALL", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}


def rules(gid: str, *, ingress=(), egress=(EVERYTHING_OUT,), version: str = "3") -> GroupRules:
    return GroupRules.from_api(gid, {"Version": version, "Ingress": list(ingress), "Egress": list(egress)})


def with_ip(n: dict, ip: str) -> dict:
    n["status"]["addresses"] = [{"type": "InternalIP", "address": ip}]
    return n


def probed(p: dict, port: int = 8080) -> dict:
    p["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": port}]
    p["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}}
    return p


def world(mode: str = "standard", *, ingress=(), egress=(EVERYTHING_OUT,)) -> tuple[FakeKube, FakeCloud]:
    kube, cloud = FakeKube(), FakeCloud()
    eniipamd(cloud, values={"vpcCni": {"trunkingEni": {"enableSubEni": True, "podSecurityGroupEnforcingMode": mode}}})
    cloud.subnets = {"subnet-nodes001": "10.0.0.0/24", "subnet-pods0001": "10.0.1.0/24"}
    kube.add(r.NODES, with_ip(node("n1", "SA5.2XLARGE16"), "10.0.0.10"))
    kube.add(r.NODES, with_ip(node("n2", "SA5.2XLARGE16"), "10.0.0.11"))
    kube.add(SGP, policy("web", "shop", groups=(WEB,)))
    kube.add(r.PODS, probed(pod("web-1", "shop", ip="10.0.1.10", node="n1", sub_eni=True, groups=WEB)))
    kube.add(VPCENI, {"metadata": {"name": "vpceni-web-1", "labels": {"tke.cloud.tencent.com/pod-name": "web-1",
                                                                       "tke.cloud.tencent.com/pod-namespace": "shop"}},
                      "status": {"eni": {"eniID": "eni-web00001"}}})
    cloud.vpc.enis["eni-web00001"] = (WEB,)
    cloud.vpc.eni_ips["eni-web00001"] = ("10.0.1.10",)
    cloud.vpc.group_rules[WEB] = rules(WEB, ingress=ingress, egress=egress)
    kube.add(r.SERVICES, {"metadata": {"name": "kube-dns", "namespace": "kube-system"},
                          "spec": {"clusterIP": "172.16.0.10", "selector": {"k8s-app": "kube-dns"},
                                   "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                                             {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}})
    kube.add(r.PODS, pod("coredns-1", "kube-system", labels={"k8s-app": "kube-dns"}, ip="10.0.1.50", node="n2"))
    return kube, cloud


def check(kube, cloud, what_if=None, namespace=None) -> traffic.TrafficReport:
    return traffic.traffic_check(ClusterView(kube, namespace=namespace), cloud, CLUSTER_ID, what_if=what_if)


def statuses(report: traffic.TrafficReport) -> dict[str, str]:
    return {f"{c.category} {c.id}": str(c.status) for c in report.results()}


# --- the routing mode ------------------------------------------------------------------------------


@pytest.mark.parametrize("routing,exists,expected", [
    (traffic.Routing("standard"), True, ("standard", True)),     # a running Pod: the mode of its creation is unknown
    (traffic.Routing("standard"), False, ("standard", False)),   # a Pod yet to be made gets the current mode
    (traffic.Routing("strict", settled=False), False, ("strict", True)),  # unless eniipamd is rolling out a change
    (traffic.Routing("standard", what_if="strict"), True, ("strict", False)),
    (traffic.Routing(None), True, (None, True)),
])
def test_a_pods_routing_mode_and_whether_it_is_assumed(routing, exists, expected):
    assert routing.for_pod(exists=exists) == expected


def test_an_unknown_what_if_mode_is_bad_input():
    with pytest.raises(InputError):
        traffic.Routing("standard").with_what_if("loose")


# --- traffic check ----------------------------------------------------------------------------------


def test_in_standard_routing_the_probe_from_its_own_node_is_not_filtered():
    kube, cloud = world("standard")  # no ingress rule at all
    report = check(kube, cloud)
    assert statuses(report) == {"shop/web-1 probe-c-readiness-8080": "pass", "shop/web-1 dns-udp-service": "pass",
                                "shop/web-1 dns-tcp-service": "pass", "shop/web-1 dns-udp-pods": "pass",
                                "shop/web-1 dns-tcp-pods": "pass"}
    probe = next(c for c in report.results() if c.id.startswith("probe"))
    assert probe.message == "not filtered by the Pod's groups"
    # the running Pod's mode is assumed; strict would drop the probe, and the check says so
    assert probe.evidence == ["assumed: pod/shop/web-1 is taken to run standard routing, the current mode: the mode in "
                              "force when it was created cannot be read; had it been created under strict routing, "
                              "this flow would be dropped"]
    assert report.exit_code() == 0


def test_what_if_strict_drops_the_probe_and_says_which_rule_to_add_where():
    kube, cloud = world("standard", ingress=[{"PolicyIndex": 0, "Protocol": "TCP", "Port": "8080",
                                              "CidrBlock": "192.168.0.0/16", "Action": "ACCEPT"}])
    report = check(kube, cloud, what_if="strict")
    failed = [c for c in report.results() if c.status is Status.FAIL]
    assert [c.id for c in failed] == ["probe-c-readiness-8080"]
    assert failed[0].message == f"dropped: ingress of pod/shop/web-1: no rule of {WEB} matched: dropped"
    assert failed[0].evidence == []  # forced mode: nothing assumed
    (fix,) = report.fixes()
    # nothing matched, so the ACCEPT goes after the last rule; the source is the node's subnet, not its address
    assert fix["checkIds"] == ["probe-c-readiness-8080"] and fix["pods"] == ["shop/web-1"]
    assert fix["request"] == {"SecurityGroupId": WEB, "SecurityGroupPolicySet": {"Version": "3", "Ingress": [
        {"Protocol": "TCP", "Port": "8080", "CidrBlock": "10.0.0.0/24", "Action": "ACCEPT",
         "PolicyDescription": "sgpctl: readiness probe of container c (HTTP GET :8080/healthz) from node/n1"}]}}
    assert failed[0].hint.startswith(f"add ingress ACCEPT TCP:8080 10.0.0.0/24 to {WEB} after the last rule: "
                                     f"CreateSecurityGroupPolicies {{")
    doc = report.to_dict()
    assert doc["ok"] is False and doc["routing"] == {"current": "standard", "settled": True, "whatIf": "strict"}
    assert doc["summary"] == {"pods": 1, "checks": 5, "failed": 1, "undetermined": 0}
    (web,) = doc["pods"]
    assert web["groups"] == [WEB] and web["eniId"] == "eni-web00001" and web["routing"] == "strict"
    assert [n["status"] for n in web["needs"] if n["checkId"] == "probe-c-readiness-8080"] == ["fail"]


def test_a_drop_rule_decides_and_the_fix_goes_before_it():
    kube, cloud = world("strict", ingress=[
        {"PolicyIndex": 0, "Protocol": "TCP", "Port": "443", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"},
        {"PolicyIndex": 1, "Protocol": "ALL", "CidrBlock": "10.0.0.0/16", "Action": "DROP"}])
    report = check(kube, cloud)
    probe = next(c for c in report.results() if c.id.startswith("probe"))
    assert probe.status is Status.FAIL and f"dropped by {WEB} ingress rule 1 (DROP ALL 10.0.0.0/16)" in probe.message
    (fix,) = report.fixes()
    assert fix["policyIndex"] == 1  # inserted where the DROP is: the API inserts at PolicyIndex


def test_dns_dropped_by_egress_fails_with_the_rule_for_the_service_ip_and_the_dns_pods_subnet():
    kube, cloud = world("standard", egress=[{"PolicyIndex": 0, "Protocol": "UDP", "Port": "53", "CidrBlock": "0.0.0.0/0",
                                             "Action": "ACCEPT"}])
    report = check(kube, cloud)
    st = statuses(report)
    assert st["shop/web-1 dns-udp-service"] == "pass" and st["shop/web-1 dns-tcp-service"] == "fail"
    # CoreDNS runs on n2, another node: its traffic is filtered in standard routing too
    assert st["shop/web-1 dns-udp-pods"] == "pass" and st["shop/web-1 dns-tcp-pods"] == "fail"
    peers = sorted(f["rules"][0]["CidrBlock"] for f in report.fixes())
    assert peers == ["10.0.1.0/24", "172.16.0.10/32"]  # the DNS Pods' subnet; the Service IP itself


def test_a_pod_not_yet_on_its_sub_eni_is_judged_on_its_predicted_groups():
    kube, cloud = world("standard")
    kube.add(r.PODS, pod("web-old", "shop", ip="10.0.1.11", node="n2"))  # created before the policy
    report = check(kube, cloud)
    (old,) = [p for p in report.to_dict()["pods"] if p["name"] == "web-old"]
    assert old["groups"] == [WEB] and old["groupsPredicted"] is True and old["eniId"] is None
    assert old["routing"] == "standard" and old["routingAssumed"] is False  # a new Pod gets the current mode


def test_a_client_that_declares_a_service_is_checked_on_the_pods_it_reaches():
    kube, cloud = world("standard", ingress=[{"PolicyIndex": 0, "Protocol": "TCP", "Port": "8080",
                                              "SecurityGroupId": "sg-clnt0001", "Action": "ACCEPT"}])
    kube.add(r.SERVICES, {"metadata": {"name": "web", "namespace": "shop"},
                          "spec": {"clusterIP": "172.16.0.80", "selector": {"app": "web"},
                                   "ports": [{"port": 80, "targetPort": "http"}]}})
    member = pod("client-1", "shop", labels={"app": "client"}, ip="10.0.1.20", node="n2")
    member["metadata"]["annotations"] = {"sgpctl.io/egress": "tcp:80@172.16.0.80"}
    stranger = pod("client-2", "shop", labels={"app": "client"}, ip="10.0.1.21", node="n2")
    stranger["metadata"]["annotations"] = {"sgpctl.io/egress": "tcp:80@172.16.0.80/32"}
    kube.add(r.PODS, member)
    kube.add(r.PODS, stranger)
    cloud.vpc.enis["eni-node0002"] = ("sg-clnt0001",)
    cloud.vpc.eni_ips["eni-node0002"] = ("10.0.1.20",)  # client-1's address is on an ENI bound to sg-clnt0001
    report = check(kube, cloud)
    svc = next(c for c in report.results() if c.id == "service-web-tcp-8080-from-clients")
    assert svc.status is Status.FAIL and svc.description == "service/shop/web port 80 (TCP 8080) from 2 client Pods"
    assert "1 of 2 flows dropped; service/shop/web port 80 (TCP 8080) from client pod/shop/client-2" in svc.message


def test_check_reads_each_collection_once_and_the_rules_once_per_group():
    kube, cloud = world("standard")
    for i in range(20):
        kube.add(r.PODS, pod(f"web-{i + 2}", "shop", ip=f"10.0.1.{30 + i}", node="n1", sub_eni=True, groups=WEB))
    check(kube, cloud)
    assert sorted(set(kube.lists)) == sorted(kube.lists)
    actions = [a for _, a, _ in cloud.log]
    assert actions.count("DescribeSecurityGroupPolicies") == 1
    assert actions.count("DescribeNetworkInterfaces") == 1 and actions.count("DescribeSubnets") == 1


# --- routing check, doctor, verify pod ----------------------------------------------------------------


def test_strict_hazards_are_the_flows_only_standard_routing_lets_through():
    kube, cloud = world("standard", egress=[{"PolicyIndex": 0, "Protocol": "UDP", "Port": "53", "CidrBlock": "0.0.0.0/0",
                                             "Action": "ACCEPT"}])
    facts = traffic.gather(ClusterView(kube), cloud, CLUSTER_ID)
    outcome = traffic.strict_hazards(facts)
    # the probe from n1 passes only because standard routing does not filter it; TCP DNS (to the Service IP and
    # to CoreDNS on n2) is dropped in either mode: `traffic check`'s business, not a hazard of the switch
    assert outcome.status is Status.FAIL
    assert outcome.evidence == [f"shop/web-1: readiness probe of container c (HTTP GET :8080/healthz) from node/n1: "
                                f"ingress of pod/shop/web-1: no rule of {WEB} matched: dropped"]
    assert outcome.message.startswith("strict routing would drop 1 kubelet probe or DNS flow(s)")
    assert "more dropped under either mode" not in outcome.message
    # CoreDNS on web-1's own node: standard routing does not filter DNS to it, strict lets UDP through and drops TCP
    kube.add(r.PODS, pod("coredns-2", "kube-system", labels={"k8s-app": "kube-dns"}, ip="10.0.1.51", node="n1"))
    outcome = traffic.strict_hazards(traffic.gather(ClusterView(kube), cloud, CLUSTER_ID))
    assert [e.split(": ")[1] for e in outcome.evidence] == [
        "readiness probe of container c (HTTP GET :8080/healthz) from node/n1",
        "DNS (TCP 53) to pod/kube-system/coredns-2, behind service/kube-system/kube-dns"]
    assert outcome.hint.startswith(f"add ingress ACCEPT TCP:8080 10.0.0.0/24 to {WEB}")


def test_verify_pod_traffic_check_passes_skips_and_cannot_determine():
    from sgpctl.errors import ExitCode

    kube, cloud = world("standard")
    result = traffic.pod_traffic_check(ClusterView(kube), cloud, CLUSTER_ID, "shop", "web-1")
    assert result.id == "traffic" and result.status is Status.PASS and "5 checks" in result.message
    kube.add(r.PODS, pod("plain", "shop", labels={"app": "other"}, ip="10.0.1.99", node="n1"))
    plain = traffic.pod_traffic_check(ClusterView(kube), cloud, CLUSTER_ID, "shop", "plain")
    assert plain.status is Status.SKIP and not plain.undetermined and "no security groups of its own" in plain.message
    cloud.failing["DescribeSecurityGroupPolicies"] = CloudError("AuthFailure.UnauthorizedOperation", "no permission", "req-1")
    assert CloudError("AuthFailure.UnauthorizedOperation", "x").exit_code == ExitCode.UNDETERMINED
    denied = traffic.pod_traffic_check(ClusterView(kube), cloud, CLUSTER_ID, "shop", "web-1")
    assert denied.undetermined and "no permission" in denied.message


# --- policy apply: the order of the groups ------------------------------------------------------------


def order_world(groups: tuple[str, ...]):
    kube, cloud = world("standard")
    kube.objects.pop(("securitygrouppolicies", "shop", "web"))
    cloud.vpc.group_rules["sg-deny0001"] = rules("sg-deny0001", ingress=[
        {"PolicyIndex": 0, "Protocol": "ALL", "CidrBlock": "10.0.0.0/16", "Action": "DROP"}])
    cloud.vpc.group_rules["sg-allw0001"] = rules("sg-allw0001", ingress=[
        {"PolicyIndex": 0, "Protocol": "TCP", "Port": "8080", "CidrBlock": "10.0.0.0/24", "Action": "ACCEPT"}])
    from sgpctl.core import matching
    from sgpctl.core.policy import SecurityGroupPolicy

    p = SecurityGroupPolicy.from_object(policy("web", "shop", groups=groups))
    view = ClusterView(kube)
    after = {"shop": matching.match(view.list(r.PODS, "shop"), [p], [])}
    return traffic.order_warnings(view, cloud.vpc, after, [p])


def test_a_drop_in_an_earlier_group_shadowing_a_later_accept_is_a_warning():
    (w,) = order_world(("sg-deny0001", "sg-allw0001"))
    assert w["pods"] == ["shop/web-1"]
    assert w["drop"] == {"securityGroupId": "sg-deny0001", "direction": "ingress", "policyIndex": 0, "action": "DROP"}
    assert w["accept"] == {"securityGroupId": "sg-allw0001", "direction": "ingress", "policyIndex": 0, "action": "ACCEPT"}
    assert "list sg-allw0001 before sg-deny0001 in groupIds" in w["message"]
    assert w["message"].endswith("(on the Pod's own node this flow passes its groups under strict routing only)")
    assert order_world(("sg-allw0001", "sg-deny0001")) == []  # the ACCEPT comes first: no shadowing


# --- sg create, sg rules ------------------------------------------------------------------------------


def test_node_probe_sources_are_the_nodes_subnets_and_a_node_outside_them_by_address():
    from sgpctl.workflows.security_groups import node_probe_sources, sg_create

    kube, cloud = world()
    kube.add(r.NODES, with_ip(node("n3", "SA5.2XLARGE16"), "192.168.9.9"))
    cidrs, text = node_probe_sources(ClusterView(kube), cloud, CLUSTER_ID)
    assert cidrs == ["10.0.0.0/24", "192.168.9.9/32"]
    assert text == "the nodes' subnets 10.0.0.0/24; 1 node(s) in no subnet of the VPC, by address: 192.168.9.9"
    out = sg_create(cloud.vpc, "pods", node_cidrs=cidrs, allow_probes=True, allow_dns=True, node_sources=text)
    made = cloud.vpc.rules["sg-fake0001"]
    assert [(x.protocol, x.port, x.cidr_block) for x in made] == [
        ("TCP", "1-65535", "10.0.0.0/24"), ("UDP", "1-65535", "10.0.0.0/24"),
        ("TCP", "1-65535", "192.168.9.9/32"), ("UDP", "1-65535", "192.168.9.9/32"),
        ("UDP", "53", "0.0.0.0/0"), ("TCP", "53", "0.0.0.0/0")]
    assert "ALL" not in json.dumps([x.to_api() for x in made])
    assert out.steps[-1].message == f"added 4 ingress and 2 egress rule(s) (probes from {text})"


def test_sg_rules_by_id_and_by_name_in_match_order():
    from sgpctl.workflows.security_groups import group_rules

    cloud = FakeCloud()
    cloud.vpc.groups = {WEB: "web", "sg-web00002": "twin", "sg-web00003": "twin"}
    cloud.vpc.group_rules[WEB] = GroupRules.from_api(WEB, {"Version": "7", "Ingress": [
        {"PolicyIndex": 1, "Protocol": "ALL", "CidrBlock": "0.0.0.0/0", "Action": "DROP"},
        {"PolicyIndex": 0, "Protocol": "TCP", "Port": "80,443", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}]})
    doc = group_rules(cloud.vpc, WEB)
    assert [(x["policyIndex"], x["action"], x["service"]) for x in doc["ingress"]] == [(0, "ACCEPT", "TCP:80,443"),
                                                                                       (1, "DROP", "ALL")]
    assert doc["version"] == "7" and doc["egress"] == []
    assert group_rules(cloud.vpc, "web")["securityGroupId"] == WEB
    with pytest.raises(InputError, match="2 security groups are named 'twin'"):
        group_rules(cloud.vpc, "twin")
    with pytest.raises(InputError, match="is not a security group id"):
        group_rules(cloud.vpc, "sg-12")
    with pytest.raises(RefusedError, match="sg-none0001 does not exist"):
        group_rules(cloud.vpc, "sg-none0001")


# --- stable check ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize("need_id,kind,source,destination,expected", [
    ("probe:app:liveness:8080", "probe", Endpoint.node_endpoint("n1", "10.0.0.1"), None, "probe-app-liveness-8080"),
    ("dns:udp:service/kube-system/kube-dns", "dns", None, Endpoint.virtual("172.16.0.10", "service/kube-system/kube-dns"),
     "dns-udp-service"),
    ("dns:tcp:pod/kube-system/coredns-abc", "dns", None, Endpoint.eni_pod("kube-system", "coredns-abc", "10.0.1.5", "n2"),
     "dns-tcp-pods"),
    ("dns:udp:10.0.0.2", "dns", None, Endpoint.external("10.0.0.2"), "dns-udp-nameserver-10-0-0-2"),
    ("service:shop/web:tcp:8080:from:node/n1", "service", Endpoint.node_endpoint("n1", "10.0.0.1"), None,
     "service-web-tcp-8080-from-nodes"),
    ("service:shop/web:tcp:8080:from:0.0.0.0/0", "service", Endpoint.external("0.0.0.0/0"), None,
     "service-web-tcp-8080-from-sources"),
    ("egress:tcp:443@10.0.0.0/8", "egress", None, Endpoint.external("10.0.0.0/8"), "egress-tcp-443-10-0-0-0-8"),
])
def test_check_ids_are_kebab_case_and_do_not_name_what_changes(need_id, kind, source, destination, expected):
    me = Endpoint.sub_eni_pod("shop", "web-1", "10.0.1.10", "n1", [WEB], "strict")
    proto = "udp" if ":udp:" in need_id else "tcp"
    need = Need(need_id, kind, "d", source or me, destination or me, Flow(proto, 1, 1))
    assert traffic.check_key(need) == expected


def test_without_the_routing_mode_a_flow_within_a_node_is_decided_only_when_both_modes_agree():
    kube, cloud = world("standard")  # no ingress rule: the probe from n1 passes only in standard routing
    # verify pod without a cluster id: eniipamd's values cannot be read
    result = traffic.pod_traffic_check(ClusterView(kube), cloud, None, "shop", "web-1")
    assert result.undetermined and "pod/shop/web-1: the routing mode is not known" in result.evidence[0]
    assert "passes under standard routing" not in result.evidence[0]  # the wording is the decision's own
    assert "allowed under standard routing, dropped under strict" in result.evidence[0]
    # with an ingress rule for the node's subnet both modes agree: decided
    cloud.vpc.group_rules[WEB] = rules(WEB, ingress=[{"PolicyIndex": 0, "Protocol": "TCP", "Port": "8080",
                                                      "CidrBlock": "10.0.0.0/24", "Action": "ACCEPT"}])
    assert traffic.pod_traffic_check(ClusterView(kube), cloud, None, "shop", "web-1").status is Status.PASS


def add_web_pod(kube, cloud, name: str, ip: str, node_name: str, ns: str = "shop", labels=None, groups: str = WEB):
    """Another probed Pod of ``world``'s kind (same spec as web-1), on its own sub-ENI."""
    eni = "eni-" + name.replace("-", "").rjust(8, "0")  # web-2: eni-000web2, web-20: eni-00web20
    kube.add(r.PODS, probed(pod(name, ns, labels, ip=ip, node=node_name, sub_eni=True, groups=groups)))
    kube.add(VPCENI, {"metadata": {"name": f"vpceni-{name}", "labels": {"tke.cloud.tencent.com/pod-name": name,
                                                                         "tke.cloud.tencent.com/pod-namespace": ns}},
                      "status": {"eni": {"eniID": eni}}})
    cloud.vpc.enis[eni] = tuple(groups.split(","))
    cloud.vpc.eni_ips[eni] = (ip,)


def test_rule_book_decisions_are_made_once_per_class_not_once_per_pod(monkeypatch):
    """50 Pods of one policy (one group set) on two nodes need 250 flows, but they fall into six
    classes of (groups, direction, protocol, peer block): the probe from n1 and from n2 (ingress), DNS
    over UDP and TCP to the Service IP and to the CoreDNS Pod (egress). Each class is decided, and
    its verdict worded, once: a return of the per-Pod cost shows here as 250 calls."""
    import importlib

    chain = importlib.import_module("sgpctl.core.traffic.evaluate")  # the modules, not the functions they export
    explain = importlib.import_module("sgpctl.core.traffic.explain")

    kube, cloud = world()
    for i in range(2, 51):
        add_web_pod(kube, cloud, f"web-{i}", f"10.0.1.{100 + i}", "n1" if i % 2 else "n2")
    calls = {"decisions": 0, "verdicts": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(chain, "_evaluate_chain", counted("decisions", chain._evaluate_chain))
    monkeypatch.setattr(explain, "_verdict", counted("verdicts", explain._verdict))
    report = check(kube, cloud, what_if="strict")  # strict: the probe from the Pod's own node is filtered too
    assert len(report.pods) == 50 and sum(len(p.results) for p in report.pods) == 250
    # sg-web00001 accepts everything out and nothing in: every probe is dropped, all DNS passes
    by_status = {(c.id, str(c.status)) for c in report.results()}
    assert by_status == {("probe-c-readiness-8080", "fail"), ("dns-udp-service", "pass"), ("dns-tcp-service", "pass"),
                         ("dns-udp-pods", "pass"), ("dns-tcp-pods", "pass")}
    assert calls == {"decisions": 6, "verdicts": 6}


def test_a_pod_is_judged_on_its_own_only_when_its_checks_are_shown(monkeypatch):
    """doctor's traffic-needs on 51 Pods of one group set: web-1..web-50 (probed, on n1 and n2) pass
    in standard routing; odd-1 on n1 is also selected by the NodePort Service odd (TCP 9090), which
    sg-web00001 (no ingress rule) drops from n2 (from n1, its own node, standard routing does not
    filter it). The summary names the one failing check; the decisions are bound only to the first
    Pod (by name) of each class: odd-1, web-1 (on n1) and web-10 (on n2, where CoreDNS runs), not to
    the 48 others, until `traffic check` shows every Pod's checks: then each is judged and named."""
    import importlib

    explain = importlib.import_module("sgpctl.core.traffic.explain")
    kube, cloud = world("standard")
    for i in range(2, 51):
        add_web_pod(kube, cloud, f"web-{i}", f"10.0.1.{100 + i}", "n1" if i % 2 else "n2")
    add_web_pod(kube, cloud, "odd-1", "10.0.1.200", "n1", labels={"app": "web", "role": "odd"})
    kube.add(r.SERVICES, {"metadata": {"name": "odd", "namespace": "shop"},
                          "spec": {"type": "NodePort", "selector": {"role": "odd"}, "clusterIP": "172.16.0.20",
                                   "ports": [{"name": "api", "port": 9090, "protocol": "TCP"}]}})
    bound: set[str] = set()
    original = explain._bound

    def spy(shared, source, destination):
        bound.update(e.ref for e in (source, destination) if e.ref.startswith("pod/shop/"))
        return original(shared, source, destination)

    monkeypatch.setattr(explain, "_bound", spy)
    facts = traffic.gather(ClusterView(kube), cloud, CLUSTER_ID)
    report = traffic.evaluate(facts)
    outcome = traffic.summary_outcome(report)

    assert outcome.status is Status.FAIL
    assert outcome.message == ("1 failing check(s) in 1 of 51 policy Pods: flows they need are dropped by their "
                               "security groups (standard routing)")
    assert outcome.evidence == [
        "shop/odd-1: service-odd-tcp-9090-from-nodes: 1 of 2 flows dropped; service/shop/odd port api (NodePort via "
        f"kube-proxy on node/n2, TCP 9090): dropped: ingress of pod/shop/odd-1: no rule of {WEB} matched: dropped"]
    assert bound <= {"pod/shop/odd-1", "pod/shop/web-1", "pod/shop/web-10"}

    shown = report.results()  # `traffic check`: every Pod's checks
    assert {c.category for c in shown} == {"shop/odd-1", *(f"shop/web-{i}" for i in range(1, 51))}
    assert {f"pod/shop/web-{i}" for i in range(2, 51)} - {"pod/shop/web-10"} <= bound
    assert [c.category for c in shown if c.status is Status.FAIL] == ["shop/odd-1"]


def summary(kube, cloud, namespace=None):
    """doctor's traffic-needs: the summary made from the classes of Pods."""
    return traffic.summary_outcome(traffic.evaluate(traffic.gather(ClusterView(kube, namespace=namespace), cloud,
                                                                   CLUSTER_ID)))


def test_pods_of_one_spec_on_the_dns_pods_node_and_off_it_are_judged_apart():
    """web-0 (n2, CoreDNS's node) and web-1 (n1) have one spec and group; sg-web00001 lets out DNS
    to the Service IP only. Standard routing does not filter web-0's DNS to CoreDNS on its own node;
    web-1's crosses nodes and is dropped: the Pods differ only by their node, and so do the answers
    (web-0, judged first, must not answer for web-1)."""
    dns_only = [{"PolicyIndex": i, "Protocol": proto, "Port": "53", "CidrBlock": "172.16.0.10/32", "Action": "ACCEPT"}
                for i, proto in enumerate(("UDP", "TCP"))]
    kube, cloud = world("standard", egress=dns_only)
    add_web_pod(kube, cloud, "web-0", "10.0.1.12", "n2")
    outcome = summary(kube, cloud)
    assert outcome.status is Status.FAIL
    assert outcome.message == ("2 failing check(s) in 1 of 2 policy Pods: flows they need are dropped by their "
                               "security groups (standard routing)")
    assert [line.split(":", 2)[:2] for line in outcome.evidence] == [["shop/web-1", " dns-udp-pods"],
                                                                     ["shop/web-1", " dns-tcp-pods"]]


def test_pods_of_one_spec_whose_peer_filters_by_address_are_judged_apart():
    """`traffic check -n shop`: CoreDNS runs on a sub-ENI of its own (sg-dns00001, outside the view,
    so not judged itself) that lets DNS in from 10.0.1.10 alone. web-1 (10.0.1.10) and web-2
    (10.0.1.12) share a spec, a node and a group: only web-2's DNS to the CoreDNS Pod is dropped, at
    CoreDNS's ingress, which decides on the Pod's address."""
    dns = "sg-dns00001"
    kube, cloud = world("standard")
    add_web_pod(kube, cloud, "web-2", "10.0.1.12", "n1")
    add_web_pod(kube, cloud, "coredns-1", "10.0.1.50", "n2", ns="kube-system", labels={"k8s-app": "kube-dns"},
                groups=dns)
    cloud.vpc.group_rules[dns] = rules(dns, ingress=[{"PolicyIndex": i, "Protocol": proto, "Port": "53",
                                                      "CidrBlock": "10.0.1.10/32", "Action": "ACCEPT"}
                                                     for i, proto in enumerate(("UDP", "TCP"))])
    outcome = summary(kube, cloud, namespace="shop")
    assert outcome.message == ("2 failing check(s) in 1 of 2 policy Pods: flows they need are dropped by their "
                               "security groups (standard routing)")
    assert [line.split(":", 2)[:2] for line in outcome.evidence] == [["shop/web-2", " dns-udp-pods"],
                                                                     ["shop/web-2", " dns-tcp-pods"]]
    assert f"ingress of pod/kube-system/coredns-1: no rule of {dns} matched: dropped" in outcome.evidence[0]


def test_pods_of_one_spec_probed_from_different_node_addresses_are_judged_apart_under_strict_routing():
    """Strict routing filters the kubelet's probe from the Pod's own node, so its answer hangs on the
    node's address: sg-web00001 accepts TCP 8080 from n1 (10.0.0.10) only. web-1 on n1 and web-2 on
    n3 (10.0.0.12; neither node runs CoreDNS) differ in nothing else: web-2's probe alone is dropped."""
    kube, cloud = world("strict", ingress=[{"PolicyIndex": 0, "Protocol": "TCP", "Port": "8080",
                                            "CidrBlock": "10.0.0.10/32", "Action": "ACCEPT"}])
    kube.add(r.NODES, with_ip(node("n3", "SA5.2XLARGE16"), "10.0.0.12"))
    add_web_pod(kube, cloud, "web-2", "10.0.1.12", "n3")
    outcome = summary(kube, cloud)
    assert outcome.message == ("1 failing check(s) in 1 of 2 policy Pods: flows they need are dropped by their "
                               "security groups (strict routing)")
    assert outcome.evidence == [f"shop/web-2: probe-c-readiness-8080: dropped: ingress of pod/shop/web-2: no rule "
                                f"of {WEB} matched: dropped"]


def test_a_decision_made_once_per_class_names_each_pod_and_its_own_node():
    """Three Pods of one group set under strict routing: web-1 and web-3 on n1, web-2 on n2. The only
    ingress rule accepts TCP 8080 from n1's address, so the kubelet's probe reaches the Pods on n1 and
    is dropped at web-2. web-3's decision is web-1's class (same groups, routing, node and probe
    source): it must still name web-3, its address and its own hop; web-2's class differs only by the
    probe's source block, and it must not borrow n1's answer."""
    kube, cloud = world("standard", ingress=[{"PolicyIndex": 0, "Protocol": "TCP", "Port": "8080",
                                              "CidrBlock": "10.0.0.10/32", "Action": "ACCEPT"}])
    for name, ip, node_name in (("web-2", "10.0.1.12", "n2"), ("web-3", "10.0.1.13", "n1")):
        add_web_pod(kube, cloud, name, ip, node_name)
    report = check(kube, cloud, what_if="strict")
    probes = {p.side.key[1]: next(res for res in p.results if res.need.kind == "probe") for p in report.pods}
    assert {name: res.status for name, res in probes.items()} == {"web-1": "pass", "web-2": "fail", "web-3": "pass"}

    web3 = probes["web-3"].decision.to_dict()
    assert (web3["from"], web3["to"], web3["allowed"], web3["filtered"]) == ("node/n1", "pod/shop/web-3", True, True)
    node_hop, pod_hop = web3["hops"]
    assert (node_hop["endpoint"], node_hop["filtered"], node_hop["why"]) == (
        "node/n1", False, "traffic within node n1 does not cross node/n1's ENI")
    assert (pod_hop["endpoint"], pod_hop["address"], pod_hop["direction"], pod_hop["allowed"], pod_hop["why"]) == (
        "pod/shop/web-3", "10.0.1.13", "ingress", True, "strict routing: pod/shop/web-3's groups filter traffic on its "
                                                        "own node too")
    assert web3["reason"].startswith("TCP 8080 from node/n1 to pod/shop/web-3 is allowed: egress of node/n1: not "
                                     "filtered: traffic within node n1 does not cross node/n1's ENI; ingress of "
                                     "pod/shop/web-3: accepted by sg-web00001 ingress rule 0 ")

    (web2,) = [p for p in report.to_dict()["pods"] if p["name"] == "web-2"]
    (need,) = [n for n in web2["needs"] if n["kind"] == "probe"]
    assert (need["from"], need["to"], need["status"]) == ("node/n2", "pod/shop/web-2", "fail")
    assert need["decision"]["allowed"] is False and need["decision"]["decidedBy"] is None
    assert need["decision"]["reason"] == f"ingress of pod/shop/web-2: no rule of {WEB} matched: dropped"
    assert [c.category for c in report.results() if c.status is Status.FAIL] == ["shop/web-2"]
    # doctor's summary, from the classes: web-2's probe comes from n2's address, so web-1 does not answer for it
    assert traffic.summary_outcome(report).message == (
        "1 failing check(s) in 1 of 3 policy Pods: flows they need are dropped by their security groups (what if "
        "every Pod ran strict routing (after a switch and a rebuild); now: standard routing)")

    # DNS to the CoreDNS Pod on n2, which is on its node's ENI with groups not known: the words
    # name CoreDNS (shared by the class), never another Pod of the class
    dns = {p.side.key[1]: next(res for res in p.results if res.need.id.startswith("dns") and
                               res.need.destination.ref == "pod/kube-system/coredns-1" and
                               res.need.flow.protocol == "udp") for p in report.pods}
    for name in ("web-1", "web-3"):
        d = dns[name].decision.to_dict()
        assert (d["from"], d["allowed"], d["hops"][0]["endpoint"], d["hops"][0]["address"]) == (
            f"pod/shop/{name}", True, f"pod/shop/{name}", {"web-1": "10.0.1.10", "web-3": "10.0.1.13"}[name])
        assert d["assumptions"] == ["pod/kube-system/coredns-1 is not a sub-ENI Pod and its own groups are not "
                                    "known: assumed to let this traffic through"]


def test_the_needs_derived_for_a_class_are_reused_only_for_the_pod_and_mode_they_were_derived_for():
    """A Judging derives the first Pod's needs of a spec to find its class's peers, and hands them to
    that Pod's judging. web-1, web-2 and web-3 share one spec: whatever order the Pods are asked in,
    each one's needs name that Pod and its address, as a Judging that derived nothing first finds
    them; a Pod asked in another mode gets needs in that mode."""
    kube, cloud = world()
    add_web_pod(kube, cloud, "web-2", "10.0.1.12", "n2")
    add_web_pod(kube, cloud, "web-3", "10.0.1.13", "n1")
    facts = traffic.gather(ClusterView(kube), cloud, CLUSTER_ID)
    sides = {s.key[1]: s for s in facts.pods}
    assert sorted(sides) == ["web-1", "web-2", "web-3"]

    def named(needs):
        return sorted((n.id, n.source.ref, n.destination.ref, n.destination.address) for n in needs.needs)

    judging = traffic.Judging(facts, None)
    for side in sides.values():
        judging.class_key(side)  # derives web-1's needs once, for the class's peers
    for name in ("web-3", "web-2", "web-1"):  # web-1 last: the others must not be handed its needs
        fresh = traffic.Judging(facts, None).needs(sides[name])
        assert named(judging.needs(sides[name])) == named(fresh)
        probe = next(n for n in fresh.needs if n.kind == "probe")
        assert (probe.destination.ref, probe.destination.address) == (
            f"pod/shop/{name}", {"web-1": "10.0.1.10", "web-2": "10.0.1.12", "web-3": "10.0.1.13"}[name])

    judging = traffic.Judging(facts, None)
    judging.class_key(sides["web-1"])
    strict = sides["web-1"].in_mode("strict")
    probe = next(n for n in judging.needs(strict).needs if n.kind == "probe")
    assert probe.destination.routing == "strict"
