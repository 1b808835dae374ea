"""`sgpctl traffic explain` and `traffic check` end to end in the sandbox: security groups and rules made
through the VPC API (the official SDK), policies applied with sgpctl, Deployments placed on chosen nodes, and
the unchanged CLI asked. The expected answers are worked out from the rules below with Tencent Cloud's
semantics (first match decides, nothing matched drops, the TKE document's routing table), not read back
from the tool:

    group "api"     egress  0  ALL ACCEPT 0.0.0.0/0
                    ingress 0  TCP 8080 ACCEPT from members of group "client"
    group "client"  egress  0  ALL ACCEPT 0.0.0.0/0

    api Pod (group api, readiness probe on 8080) on node A; a client Pod on node B and one on node A;
    Service api: port 80 -> targetPort http (8080).

The switch story - `traffic check --routing strict` flags the probe, `routing set strict` refuses for it,
and the Pod rebuilt under strict routing is Running but not Ready until the suggested rule is added - is
the last test, on a sandbox of its own."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

from sgpctl.kube import resources as r
from sgpctl.kube.client import Kube
from tests.conftest import SandboxCli
from tests.sandbox_support import cloud_client, running_sandbox, sdk_request

NS = "shop"


@dataclass
class World:
    cli: SandboxCli
    kube: Kube
    api_group: str
    client_group: str
    node_a: str
    node_b: str
    subnet_a: str
    cluster_ip: str

    def pod(self, app: str, node: str | None = None) -> dict:
        pods = [p for p in self.kube.list(r.PODS, NS, label_selector=f"app={app}")
                if not p["metadata"].get("deletionTimestamp") and (node is None or p["spec"].get("nodeName") == node)]
        assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
        return pods[0]

    def ref(self, app: str, node: str | None = None) -> str:
        return f"pod/{NS}/{self.pod(app, node)['metadata']['name']}"


def make_group(sb, name: str, ingress: list[dict] = ()) -> str:
    vpc = cloud_client(sb, "vpc")
    gid = vpc.CreateSecurityGroup(sdk_request("vpc", "CreateSecurityGroup", GroupName=name,
                                              GroupDescription=f"{name} Pods")).SecurityGroup.SecurityGroupId
    add_rules(sb, gid, "Egress", [{"Protocol": "ALL", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}])
    if ingress:
        add_rules(sb, gid, "Ingress", list(ingress))
    return gid


def add_rules(sb, gid: str, direction: str, rules: list[dict], version: str | None = None) -> None:
    policy_set: dict = {direction: rules}
    if version is not None:
        policy_set["Version"] = version
    cloud_client(sb, "vpc").CreateSecurityGroupPolicies(sdk_request(
        "vpc", "CreateSecurityGroupPolicies", SecurityGroupId=gid, SecurityGroupPolicySet=policy_set))


def deployment(name: str, node: str, *, probe: bool = False, annotations: dict | None = None) -> dict:
    labels = {"app": name.split("-")[0]}
    container: dict = {"name": "app", "image": "nginx:1.25", "ports": [{"name": "http", "containerPort": 8080}]}
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}}
    meta: dict = {"labels": labels}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": 1, "selector": {"matchLabels": {**labels, "slot": name}},
                     "template": {"metadata": {**meta, "labels": {**labels, "slot": name}},
                                  "spec": {"terminationGracePeriodSeconds": 0, "nodeSelector": {"kubernetes.io/hostname": node},
                                           "containers": [container]}}}}


def settle_running(w: World, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        w.cli.sandbox.settle()
        pods = [p for p in w.kube.list(r.PODS, NS) if not p["metadata"].get("deletionTimestamp")]
        if len(pods) == count and all(p["status"].get("phase") == "Running" for p in pods):
            return
        assert time.monotonic() < deadline, [(p["metadata"]["name"], p["status"].get("phase")) for p in pods]
        time.sleep(0.05)


def build(cli: SandboxCli, tmp_path) -> World:
    sb = cli.sandbox
    assert cli("setup", "--yes").exit_code == 0
    kube = Kube.from_kubeconfig(cli.env["KUBECONFIG"])
    kube.create(r.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    client_group = make_group(sb, "client")
    api_group = make_group(sb, "api", [{"Protocol": "TCP", "Port": "8080", "SecurityGroupId": client_group,
                                        "Action": "ACCEPT", "PolicyDescription": "clients"}])
    policy = tmp_path / "policies.yaml"
    policy.write_text("\n---\n".join(
        f"apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1\nkind: SecurityGroupPolicy\n"
        f"metadata: {{name: {app}, namespace: {NS}}}\n"
        f"spec: {{podSelector: {{matchLabels: {{app: {app}}}}}, securityGroups: {{groupIds: [{gid}]}}}}\n"
        for app, gid in (("api", api_group), ("client", client_group))))
    assert cli("policy", "apply", "-f", str(policy)).exit_code == 0
    nodes = [n for n in kube.list(r.NODES) if int(n["status"]["allocatable"].get("tke.cloud.tencent.com/sub-eni", "0")) > 0]
    node_a, node_b = sorted(n["metadata"]["name"] for n in nodes)[:2]
    svc = kube.create(r.SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": NS},
                                   "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": "http"}]}}, NS)
    cluster_ip = svc["spec"]["clusterIP"]
    calls = {"sgpctl.io/egress": f"tcp:80@{cluster_ip}"}  # the clients declare what they call
    kube.create(r.DEPLOYMENTS, deployment("api", node_a, probe=True), NS)
    kube.create(r.DEPLOYMENTS, deployment("client-far", node_b, annotations=calls), NS)
    kube.create(r.DEPLOYMENTS, deployment("client-near", node_a, annotations=calls), NS)
    w = World(cli, kube, api_group, client_group, node_a, node_b, "", cluster_ip)
    settle_running(w, 3)
    w.subnet_a = next(s["CidrBlock"] for s in sb.cloud.subnets.values() if _in(node_a, s["CidrBlock"]))
    return w


def _in(ip: str, cidr: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with running_sandbox("default", addon_delay=0.05) as sb:
        sb.settle()
        tmp = tmp_path_factory.mktemp("traffic")
        yield build(SandboxCli(sb, tmp), tmp)


def explain(w: World, *args: str) -> tuple[int, dict]:
    res = w.cli("traffic", "explain", *args, "-o", "json")
    assert res.exit_code in (0, 1, 3), res.output
    return res.exit_code, res.json()


def hop(doc: dict, side: str) -> dict:
    return next(h for h in doc["hops"] if h["side"] == side)


# --- explain -------------------------------------------------------------------------------------


def test_pod_to_pod_across_nodes_is_decided_by_the_rule_that_names_the_clients_group(world):
    code, doc = explain(world, world.ref("client", world.node_b), world.ref("api"), "--port", "8080")
    assert code == 0 and doc["allowed"] is True and doc["filtered"] is True
    assert doc["decidedBy"] == {"securityGroupId": world.api_group, "direction": "ingress", "policyIndex": 0,
                                "action": "ACCEPT"}
    assert hop(doc, "source")["decidedBy"] == {"securityGroupId": world.client_group, "direction": "egress",
                                               "policyIndex": 0, "action": "ACCEPT"}
    assert hop(doc, "destination")["groups"] == [world.api_group]
    # another port: no rule of the api group matches, so it is dropped by default, no rule decided
    code, doc = explain(world, world.ref("client", world.node_b), world.ref("api"), "--port", "9090")
    assert code == 1 and doc["allowed"] is False and doc["decidedBy"] is None
    assert hop(doc, "destination")["verdict"] == f"no rule of {world.api_group} matched: dropped"
    # the rule to add names the client's group (the Pod's address would change when it is rebuilt)
    (fix,) = doc["fixes"]
    assert fix["request"]["SecurityGroupId"] == world.api_group
    assert fix["request"]["SecurityGroupPolicySet"]["Ingress"][0]["SecurityGroupId"] == world.client_group
    assert fix["request"]["SecurityGroupPolicySet"]["Ingress"][0]["Port"] == "9090"


def test_pods_on_one_node_bypass_their_groups_in_standard_routing_only(world):
    args = (world.ref("client", world.node_a), world.ref("api"), "--port", "9090")
    code, doc = explain(world, *args)
    assert code == 0 and doc["allowed"] is True and doc["filtered"] is False and doc["decidedBy"] is None
    assert "standard routing" in hop(doc, "destination")["why"]
    assert doc["routing"] == {"current": "standard", "settled": True, "whatIf": None}
    # the running Pods' mode is the current one, assumed: the answer says strict would differ
    assert any("had it been created under strict routing, this flow would be dropped" in a for a in doc["assumptions"])
    code, doc = explain(world, *args, "--routing", "strict")
    assert code == 1 and doc["allowed"] is False and doc["filtered"] is True
    assert hop(doc, "destination")["verdict"] == f"no rule of {world.api_group} matched: dropped"


def test_node_to_pod_in_standard_routing_is_not_filtered_and_in_strict_is_dropped(world):
    code, doc = explain(world, f"node/{world.node_a}", world.ref("api"), "--port", "8080")
    assert code == 0 and doc["filtered"] is False
    assert hop(doc, "source")["why"] == f"traffic within node {world.node_a} does not cross node/{world.node_a}'s ENI"
    code, doc = explain(world, f"node/{world.node_a}", world.ref("api"), "--port", "8080", "--routing", "strict")
    assert code == 1 and doc["filtered"] is True and doc["decidedBy"] is None
    (fix,) = doc["fixes"]
    rule = fix["request"]["SecurityGroupPolicySet"]["Ingress"][0]
    assert (rule["Protocol"], rule["Port"], rule["CidrBlock"]) == ("TCP", "8080", world.subnet_a)  # the node's subnet
    # another node's traffic to the Pod passes its groups in either mode: the same answer, no assumption
    code, doc = explain(world, f"node/{world.node_b}", world.ref("api"), "--port", "8080")
    assert code == 1 and doc["filtered"] is True and doc["assumptions"] == [
        f"node/{world.node_b} is not a sub-ENI Pod and its own groups are not known: assumed to let this traffic through"]
    # an address that is a node's is that node
    _, doc = explain(world, f"ip/{world.node_a}", world.ref("api"), "--port", "8080")
    assert doc["from"] == f"node/{world.node_a}" and doc["notes"] == [f"ip/{world.node_a} is node/{world.node_a}"]


def test_a_service_is_judged_on_its_ip_and_on_each_backend_on_the_target_port(world):
    code, doc = explain(world, world.ref("client", world.node_b), f"service/{NS}/api", "--port", "80")
    assert code == 0 and doc["allowed"] is True
    assert doc["service"]["clusterIP"] == world.cluster_ip and doc["service"]["backends"] == 1
    (backend,) = doc["backends"]
    assert backend["pod"] == world.ref("api") and backend["flow"] == {"protocol": "tcp", "port": "8080"}
    assert backend["decidedBy"] == {"securityGroupId": world.api_group, "direction": "ingress", "policyIndex": 0,
                                    "action": "ACCEPT"}
    # a Service that selects no ready Pod: its IP is reached, but nothing answers
    world.kube.create(r.SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nobody", "namespace": NS},
                                   "spec": {"selector": {"app": "nobody"}, "ports": [{"port": 80}]}}, NS)
    code, doc = explain(world, world.ref("client", world.node_b), f"service/{NS}/nobody", "--port", "80")
    assert code == 1 and doc["allowed"] is False and doc["backends"] == [] and doc["reason"].endswith("nothing answers")
    res = world.cli("traffic", "explain", world.ref("client", world.node_b), f"service/{NS}/api", "--port", "81")
    assert res.exit_code == 2 and "has no TCP port 81" in res.stderr and "80/TCP" in res.stderr
    table = world.cli("traffic", "explain", world.ref("client", world.node_b), f"service/{NS}/api", "--port", "80")
    assert table.stdout.startswith("ALLOWED: TCP 80 from ") and f"to backend {world.ref('api')} port 8080: allowed" in table.stdout


@pytest.mark.parametrize("args,message", [
    (["pod/shop", "NODE", "--port", "1"], "FROM 'pod/shop' names no namespace"),
    (["service/shop/api", "NODE", "--port", "1"], "a Service is a destination, not a source"),
    (["ip/10.0.0.300", "NODE", "--port", "1"], "is not an IP address or CIDR"),
    (["deployment/shop/api", "NODE", "--port", "1"], "FROM 'deployment/shop/api' is not an endpoint"),
    (["NODE", "pod/shop/nope"], "a tcp flow needs --port"),
    (["NODE", "pod/shop/nope", "--port", "70000"], "--port 70000 is out of range"),
    (["NODE", "pod/shop/nope", "--port", "1", "--protocol", "sctp"], "--protocol 'sctp' is not tcp, udp or icmp"),
    (["NODE", "pod/shop/nope", "--port", "1", "--routing", "loose"], "--routing 'loose' is not a routing mode"),
    (["ip/2001:db8::1", "POD", "--port", "80"], "are not of one IP version"),
    (["POD", "service/shop/api", "--protocol", "icmp"], "a Service takes TCP or UDP"),
])
def test_bad_endpoints_and_flows_are_bad_input(world, args, message):
    names = {"NODE": f"node/{world.node_a}", "POD": world.ref("api")}
    res = world.cli("traffic", "explain", *(names.get(a, a) for a in args))
    assert res.exit_code == 2 and message in res.stderr, res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("args,message", [
    (["NODE", "pod/shop/nope", "--port", "1"], "pod/shop/nope not found"),
    (["node/no-such-node", "NODE", "--port", "1"], "node/no-such-node not found"),
    (["NODE", "service/shop/nope", "--port", "80"], "service/shop/nope not found"),
])
def test_an_endpoint_that_is_not_there_is_not_found_exit_1(world, args, message):
    # the README's exit codes: something named that is not found is 1, bad input 2
    names = {"NODE": f"node/{world.node_a}"}
    res = world.cli("traffic", "explain", *(names.get(a, a) for a in args))
    assert res.exit_code == 1 and message in res.stderr, res.output


# --- check ---------------------------------------------------------------------------------------


def checks(doc: dict) -> dict[tuple[str, str], dict]:
    return {(cat["name"], c["id"]): c for cat in doc["categories"] for c in cat["checks"]}


def test_check_passes_in_standard_routing_and_flags_the_probe_strict_routing_would_break(world):
    res = world.cli("traffic", "check", "-n", NS, "-o", "json")
    assert res.exit_code == 0, res.output
    doc = res.json()
    api = f"{NS}/{world.pod('api')['metadata']['name']}"
    got = {k for k in checks(doc) if k[0] == api}
    # the probe, DNS to the Service and to its two Pods over both protocols, the Service from its two clients
    assert got == {(api, i) for i in ("probe-app-readiness-8080", "dns-udp-service", "dns-tcp-service", "dns-udp-pods",
                                      "dns-tcp-pods", "service-api-tcp-8080-from-clients")}
    assert all(c["status"] == "pass" for c in checks(doc).values())
    assert doc["routing"] == {"current": "standard", "settled": True, "whatIf": None}

    res = world.cli("traffic", "check", "-n", NS, "--routing", "strict", "-o", "json")
    assert res.exit_code == 1
    doc = res.json()
    failing = [k for k, c in checks(doc).items() if c["status"] == "fail"]
    assert failing == [(api, "probe-app-readiness-8080")]
    (fix,) = doc["fixes"]
    assert fix["checkIds"] == ["probe-app-readiness-8080"] and fix["policyIndex"] is None
    assert fix["pods"] == [api]
    assert fix["request"]["SecurityGroupPolicySet"]["Ingress"] == [
        {"Protocol": "TCP", "Port": "8080", "CidrBlock": world.subnet_a, "Action": "ACCEPT",
         "PolicyDescription": f"sgpctl: readiness probe of container app (HTTP GET :8080/healthz) from node/{world.node_a}"}]
    table = world.cli("traffic", "check", "-n", NS, "--routing", "strict")
    assert f"[FAIL] readiness probe of container app (HTTP GET :8080/healthz) from node/{world.node_a}" in table.stdout
    assert "hint: add ingress ACCEPT TCP:8080" in table.stdout
    assert "what if every Pod ran strict routing" in table.stderr


def test_sg_rules_lists_a_groups_rules_in_match_order(world):
    res = world.cli("sg", "rules", world.api_group, "-o", "json")
    assert res.exit_code == 0, res.output
    doc = res.json()
    assert [(x["policyIndex"], x["action"], x["protocol"], x["port"], x["securityGroupId"]) for x in doc["ingress"]] == [
        (0, "ACCEPT", "TCP", "8080", world.client_group)]
    assert [(x["action"], x["protocol"], x["cidrBlock"]) for x in doc["egress"]] == [("ACCEPT", "ALL", "0.0.0.0/0")]
    assert doc["version"] == "2"  # one request per direction, each a new version
    by_name = world.cli("sg", "rules", "api", "-o", "json").json()
    assert by_name["securityGroupId"] == world.api_group and by_name["name"] == "api"
    table = world.cli("sg", "rules", "client")
    assert "egress     0      ACCEPT  ALL      0.0.0.0/0" in table.stdout
    assert world.cli("sg", "rules", "sg-1").exit_code == 2
    assert world.cli("sg", "rules", "sg-zzzzzzzz").exit_code == 1


def test_verify_pod_reports_the_pods_traffic(world):
    name = world.pod("api")["metadata"]["name"]
    res = world.cli("verify", "pod", name, "-n", NS, "-o", "json")
    assert res.exit_code == 0, res.output
    traffic = res.json()["checks"][-1]
    assert traffic["id"] == "traffic" and traffic["status"] == "pass"
    assert "probe-app-readiness-8080" in traffic["message"]


def test_traffic_check_reads_each_collection_once_and_each_groups_rules_once(world):
    from collections import Counter

    from sgpctl.sandbox.requestlog import describe

    log = world.cli.sandbox.log
    mark = log.mark()
    assert world.cli("traffic", "check", "-A").exit_code == 0
    entries = [describe(e) for e in log.since(mark)]
    lists = Counter((e["resource"], e["namespace"], e.get("labelSelector"), e.get("fieldSelector"))
                    for e in entries if e["api"] == "kube" and e["verb"] == "list" and not e.get("continue"))
    assert {k: n for k, n in lists.items() if n > 1} == {}
    rules = Counter(e["params"]["SecurityGroupId"] for e in entries if e.get("action") == "DescribeSecurityGroupPolicies")
    assert rules == {world.api_group: 1, world.client_group: 1}
    assert not any(e["mutating"] for e in entries)
    # doctor's traffic and routing checks stand on one read of the rules, and on the ENIs verify took
    # from the leaks category's listing of the nodes' ENIs: every Pod runs on a node of the cluster,
    # so none is looked up by id
    mark = log.mark()
    world.cli("doctor")
    entries = [describe(e) for e in log.since(mark)]
    rules = Counter(e["params"]["SecurityGroupId"] for e in entries if e.get("action") == "DescribeSecurityGroupPolicies")
    assert rules == {world.api_group: 1, world.client_group: 1}
    by_id = [e for e in entries if e.get("action") == "DescribeNetworkInterfaces" and "NetworkInterfaceIds" in e["params"]]
    assert by_id == []


# --- the switch ------------------------------------------------------------------------------------


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or ())


def test_the_probe_strict_routing_breaks_breaks_in_the_sandbox_until_the_suggested_rule_is_added(sandbox_cli, tmp_path):
    cli = sandbox_cli("default")
    w = build(cli, tmp_path)
    old = w.pod("api")
    assert ready(old)

    # routing check finds the hazard from the real rules, and `routing set strict` refuses for it
    res = cli("routing", "check", "-o", "json")
    hazard = next(c for cat in res.json()["categories"] for c in cat["checks"] if c["id"] == "strict-probes-dns")
    assert hazard["status"] == "fail" and hazard["evidence"][0].startswith(f"{NS}/{old['metadata']['name']}: readiness probe")
    res = cli("routing", "set", "strict", "--yes")
    assert res.exit_code == 1 and "strict-probes-dns" in res.output

    assert cli("routing", "set", "strict", "--force", "--yes", "--timeout", "30").exit_code == 0
    # the running Pod keeps the routing it was created with: still Ready; the check says it assumed strict
    w.cli.sandbox.settle()
    assert ready(w.pod("api"))
    res = cli("traffic", "check", "-n", NS, "-o", "json")
    probe = checks(res.json())[(f"{NS}/{old['metadata']['name']}", "probe-app-readiness-8080")]
    assert probe["status"] == "fail" and any("had it been created under standard routing, this flow would be allowed" in e
                                             for e in probe["evidence"])

    # rebuilt under strict routing: Running, not Ready, as predicted; the Deployment keeps the old Pod
    # (one replica, the new one never Ready), as a real rollout would
    assert cli("policy", "rollout", "-n", NS, "--all", "--yes").exit_code == 0
    settle_running(w, 4)
    (new,) = [p for p in w.kube.list(r.PODS, NS, label_selector="app=api") if p["metadata"]["name"] != old["metadata"]["name"]]
    assert new["status"]["phase"] == "Running" and not ready(new) and ready(w.kube.get(r.PODS, old["metadata"]["name"], NS))
    new_ref = f"pod/{NS}/{new['metadata']['name']}"
    code, doc = explain(w, f"node/{w.node_a}", new_ref, "--port", "8080")
    assert code == 1 and doc["filtered"] is True and hop(doc, "destination")["why"].startswith("strict routing")

    # the rule sgpctl suggests (one for both Pods), sent as it is, makes the new Pod Ready and the rollout
    # completes; the checks then pass
    res = cli("traffic", "check", "-n", NS, "-o", "json")
    assert res.exit_code == 1
    (fix,) = {json.dumps(f["request"], sort_keys=True) for f in res.json()["fixes"]}
    request = json.loads(fix)
    add_rules(cli.sandbox, request["SecurityGroupId"], "Ingress", request["SecurityGroupPolicySet"]["Ingress"],
              request["SecurityGroupPolicySet"]["Version"])
    settle_running(w, 3)
    assert ready(w.pod("api")) and w.pod("api")["metadata"]["name"] == new["metadata"]["name"]
    assert cli("traffic", "check", "-n", NS).exit_code == 0
    assert json.loads(cli("routing", "check", "-o", "json").stdout)["ok"] is True


# --- policy apply, sg create ------------------------------------------------------------------------


def test_policy_apply_warns_when_a_drop_in_an_earlier_group_shadows_a_later_accept(world, tmp_path):
    deny = make_group(world.cli.sandbox, "deny-all-in", [{"Protocol": "ALL", "CidrBlock": "0.0.0.0/0", "Action": "DROP"}])
    doc = (f"apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1\nkind: SecurityGroupPolicy\n"
           f"metadata: {{name: api, namespace: {NS}}}\n"
           f"spec: {{podSelector: {{matchLabels: {{app: api}}}}, securityGroups: {{groupIds: [{deny}, {world.api_group}]}}}}\n")
    path = tmp_path / "order.yaml"
    path.write_text(doc)
    res = world.cli("policy", "apply", "-f", str(path), "--dry-run", "-o", "json")
    assert res.exit_code == 0, res.output
    warnings = res.json()["orderWarnings"]
    # the clients reach the api Pod through the ACCEPT of its own group, which the DROP of deny-all-in,
    # listed first, would shadow
    assert {(w["drop"]["securityGroupId"], w["accept"]["securityGroupId"], w["accept"]["policyIndex"]) for w in warnings} \
        == {(deny, world.api_group, 0)}
    assert all(w["pods"] == [f"{NS}/{world.pod('api')['metadata']['name']}"] for w in warnings)
    assert f"warning: service/{NS}/api port 80 (TCP 8080) from client pod/{NS}/" in res.stderr
    assert f"list {world.api_group} before {deny} in groupIds" in res.stderr
    path.write_text(doc.replace(f"[{deny}, {world.api_group}]", f"[{world.api_group}, {deny}]"))
    assert world.cli("policy", "apply", "-f", str(path), "--dry-run", "-o", "json").json()["orderWarnings"] == []


@pytest.mark.parametrize("port_all", ["accept", "reject"])
def test_sg_create_allows_the_node_subnets_with_explicit_ports_under_either_reading_of_port_all(sandbox_cli, port_all):
    import ipaddress

    cli = sandbox_cli("default", variants={"sg-port-all": port_all})
    res = cli("sg", "create", "probes", "--allow-node-probes", "--allow-dns", "-o", "json")
    assert res.exit_code == 0, res.output
    gid = res.json()["securityGroup"]["securityGroupId"]
    node_ips = [ipaddress.ip_address(n["metadata"]["name"]) for n in cli.sandbox.kube.list("nodes")]
    subnets = sorted({s["CidrBlock"] for s in cli.sandbox.cloud.subnets.values()
                      if any(ip in ipaddress.ip_network(s["CidrBlock"]) for ip in node_ips)})
    assert len(subnets) == 3  # the default scenario's nodes are in three zones
    rules = cli("sg", "rules", gid, "-o", "json").json()
    assert sorted((x["protocol"], x["port"], x["cidrBlock"]) for x in rules["ingress"]) == sorted(
        (p, "1-65535", c) for c in subnets for p in ("TCP", "UDP"))
    assert [(x["protocol"], x["port"], x["cidrBlock"]) for x in rules["egress"]] == [("UDP", "53", "0.0.0.0/0"),
                                                                                   ("TCP", "53", "0.0.0.0/0")]


# --- the habits of kubectl users and CI (#12) on the traffic commands and `sg rules` ---------------


@pytest.fixture(scope="module")
def shell_env(world, tmp_path_factory):
    """The environment of the installed CLI, kubectl and bash, for the world's sandbox."""
    from tests.sandbox_support import sandbox_env

    return sandbox_env(world.cli.sandbox, tmp_path_factory.mktemp("shell"))


def _pod_names(w: World) -> list[str]:
    return sorted(p["metadata"]["name"] for p in w.kube.list(r.PODS, NS) if not p["metadata"].get("deletionTimestamp"))


def test_global_options_after_the_subcommand_and_the_namespace_before_it(world, shell_env):
    from tests.sandbox_support import kubectl, sgpctl

    context = kubectl(shell_env, "config", "current-context").stdout.strip()
    doc = json.loads(sgpctl(shell_env, "traffic", "check", "-n", NS, "-o", "json", "--context", context).stdout)
    assert sorted(c["name"] for c in doc["categories"]) == [f"{NS}/{n}" for n in _pod_names(world)]
    # a value after the subcommand is used: a context the kubeconfig lacks fails as it does before it
    for args in (["traffic", "check", "-n", NS, "--context", "nope"],
                 ["traffic", "explain", f"node/{world.node_a}", world.ref("api"), "--port", "8080", "--context", "nope"]):
        res = sgpctl(shell_env, *args)
        assert res.returncode == 2 and "nope" in res.stderr, res.stderr
    res = sgpctl(shell_env, "sg", "rules", "api", "-o", "json", "--region", "ap-nowhere")
    assert res.returncode == 1 and "UnsupportedRegion" in res.stderr  # the region after the subcommand was used
    # -n before the subcommand scopes traffic check; explain takes no namespace and says so
    before = json.loads(sgpctl(shell_env, "-n", NS, "traffic", "check", "-o", "json").stdout)
    assert [c["name"] for c in before["categories"]] == [c["name"] for c in doc["categories"]]
    res = sgpctl(shell_env, "-n", NS, "traffic", "explain", f"node/{world.node_a}", world.ref("api"), "--port", "8080")
    assert res.returncode == 2 and "-n/--namespace does not apply to `sgpctl traffic explain`" in res.stderr


def test_traffic_check_junit_one_testcase_per_check_and_a_failure_for_the_dropped_probe(world, shell_env):
    import xml.etree.ElementTree as ET

    from tests.sandbox_support import sgpctl

    res = sgpctl(shell_env, "traffic", "check", "-n", NS, "--routing", "strict", "-o", "junit")
    assert res.returncode == 1, res.stderr
    root = ET.fromstring(res.stdout)
    api = f"{NS}/{world.pod('api')['metadata']['name']}"
    suites = {s.get("name"): s for s in root.findall("./testsuite")}
    assert sorted(suites) == [f"{NS}/{n}" for n in _pod_names(world)]  # a testsuite per Pod
    # the api Pod's six checks (as in the JSON test above), one testcase each; only the probe fails
    cases = {c.get("name").split(":")[0]: c for c in suites[api].findall("testcase")}
    assert set(cases) == {"probe-app-readiness-8080", "dns-udp-service", "dns-tcp-service", "dns-udp-pods",
                          "dns-tcp-pods", "service-api-tcp-8080-from-clients"}
    failure = cases["probe-app-readiness-8080"].find("failure")
    assert failure is not None and failure.get("message").startswith("dropped")
    assert f'"CidrBlock":"{world.subnet_a}"' in failure.text  # the rule to add, in the hint
    assert root.get("failures") == "1" and all(c.find("failure") is None for k, c in cases.items()
                                               if k != "probe-app-readiness-8080")
    assert int(root.get("tests")) == sum(len(s.findall("testcase")) for s in suites.values())


def test_traffic_check_name_and_custom_columns_list_the_pods_as_kubectl_does(world, shell_env):
    from tests.sandbox_support import kubectl, sgpctl

    ours = sgpctl(shell_env, "traffic", "check", "-n", NS, "-o", "name")
    theirs = kubectl(shell_env, "get", "pods", "-n", NS, "-o", "name")
    assert ours.returncode == 0 and sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
    ours = sgpctl(shell_env, "traffic", "check", "-n", NS, "-o", "custom-columns=POD:.name,NODE:.node,IP:.ip", "--no-headers")
    theirs = kubectl(shell_env, "get", "pods", "-n", NS, "--no-headers",
                     "-o", "custom-columns=POD:.metadata.name,NODE:.spec.nodeName,IP:.status.podIP")
    assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
    jp = sgpctl(shell_env, "traffic", "explain", f"node/{world.node_b}", world.ref("api"), "--port", "8080",
                "-o", "jsonpath={.allowed} {.hops[1].groups[0]}")
    assert jp.returncode == 1 and jp.stdout == f"false {world.api_group}"
    hops = sgpctl(shell_env, "traffic", "explain", f"node/{world.node_b}", world.ref("api"), "--port", "8080",
                  "-o", "custom-columns=SIDE:.side,DIRECTION:.direction")
    assert hops.stdout.splitlines()[1:] == ["source        egress", "destination   ingress"]
    junit = sgpctl(shell_env, "traffic", "explain", f"node/{world.node_b}", world.ref("api"), "--port", "8080", "-o", "junit")
    assert junit.returncode == 2 and "use -o json" in junit.stderr


def test_sg_rules_rows_in_every_form(world, shell_env):
    from tests.sandbox_support import sgpctl

    cc = sgpctl(shell_env, "sg", "rules", "api", "-o", "custom-columns=DIRECTION:.direction,INDEX:.policyIndex,"
                "ACTION:.action,PORT:.port,PEER:.securityGroupId", "--no-headers")
    assert [line.split() for line in cc.stdout.splitlines()] == [
        # a null peer prints <nil>, as kubectl prints a JSON null
        ["ingress", "0", "ACCEPT", "8080", world.client_group], ["egress", "0", "ACCEPT", "ALL", "<nil>"]]
    table = sgpctl(shell_env, "sg", "rules", "client", "--no-headers").stdout.splitlines()
    assert not any(line.startswith("DIRECTION") for line in table)
    assert table[-1].split() == ["egress", "0", "ACCEPT", "ALL", "0.0.0.0/0"]


def _at_80_columns(w: World, *args: str) -> tuple[int, str]:
    from sgpctl.cli.app import run
    from sgpctl.environment import Environment

    env = Environment.captured(w.cli.env, home=w.cli.home, stdout_isatty=True, no_color=True, width=80)
    return run(list(args), env), env.out()


def test_at_80_columns_the_traffic_answers_keep_names_whole(world):
    pod = world.ref("api")
    code, out = _at_80_columns(world, "traffic", "explain", f"node/{world.node_a}", pod, "--port", "8080",
                               "--routing", "strict")
    assert code == 1
    lines = out.splitlines()
    request = [line for line in lines if "CreateSecurityGroupPolicies {" in line]
    assert len(request) == 1 and json.loads(request[0].split("CreateSecurityGroupPolicies ", 1)[1])  # whole, to copy
    assert all(len(line) <= 80 for line in lines if line not in request), out
    assert sum(pod in line for line in lines) >= 2 and world.api_group in out  # whole names, never cut
    assert lines[1].startswith("    ")  # the verdict continues under itself
    code, out = _at_80_columns(world, "traffic", "check", "-n", NS, "--routing", "strict")
    assert code == 1 and all(len(line) <= 80 for line in out.splitlines() if " " in line.strip()), out
    assert f"{NS}/{world.pod('api')['metadata']['name']}" in out.splitlines()
    # sg rules: a long description goes under its row
    add_rules(world.cli.sandbox, world.client_group, "Ingress", [{
        "Protocol": "UDP", "Port": "5353", "CidrBlock": "10.0.0.0/8", "Action": "ACCEPT",
        "PolicyDescription": "multicast DNS from every address of the VPC, for the discovery of peers on the local link"}])
    code, out = _at_80_columns(world, "sg", "rules", "client")
    assert code == 0 and all(len(line) <= 80 for line in out.splitlines()), out
    assert "    DESCRIPTION: multicast DNS from every address of the VPC" in out
    assert any(line.split()[:5] == ["ingress", "0", "ACCEPT", "UDP:5353", "10.0.0.0/8"] for line in out.splitlines())


def test_completion_of_the_traffic_commands_through_bash_and_kubectl(world, shell_env):
    import shutil

    from tests.habits.test_completion import BIN, bash_complete

    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    pods = [f"pod/{NS}/{n}" for n in _pod_names(world)]
    assert bash_complete(shell_env, "sgpctl", "traffic", "explain", "") == ["ip/", "node/", "pod/"]
    assert bash_complete(shell_env, "sgpctl", "traffic", "explain", "x", "") == ["ip/", "node/", "pod/", "service/"]
    assert f"pod/{NS}/" in bash_complete(shell_env, "sgpctl", "traffic", "explain", "pod/")
    assert bash_complete(shell_env, "sgpctl", "traffic", "explain", f"pod/{NS}/") == pods
    assert bash_complete(shell_env, "sgpctl", "traffic", "explain", pods[0], f"service/{NS}/a") == [f"service/{NS}/api"]
    assert bash_complete(shell_env, "sgpctl", "traffic", "explain", f"node/{world.node_b}") == [f"node/{world.node_b}"]
    assert bash_complete(shell_env, "sgpctl", "traffic", "explain", "pod/Not_A_Namespace/") == []
    assert bash_complete(shell_env, "sgpctl", "traffic", "explain", "a", "b", "--protocol", "") == ["tcp", "udp", "icmp"]
    assert bash_complete(shell_env, "sgpctl", "traffic", "check", "--routing", "") == ["strict", "standard"]
    assert bash_complete(shell_env, "sgpctl", "traffic", "check", "-n", "sh") == [NS]
    kubectl = shutil.which("kubectl")
    if kubectl is not None and (BIN / "kubectl_complete-sgp").exists():
        import os
        import subprocess

        env = {**shell_env, "PATH": f"{BIN}{os.pathsep}{shell_env.get('PATH', '')}"}
        out = subprocess.run([kubectl, "__complete", "sgp", "traffic", "explain", "pod/sh"], env=env, capture_output=True,
                             text=True, timeout=60).stdout.splitlines()
        # one step, pod/shop/: no space after it (Cobra's NoSpace 2 with NoFileComp 4)
        assert out == [f"pod/{NS}/", ":6"]


def test_traffic_check_that_selects_no_pod_warns_and_says_where_the_policies_are(world):
    # the namespace "default" has no policy; "shop" has two: as `verify pods`, a warning, not a silent pass
    res = world.cli("traffic", "check", "-n", "default", "-o", "json")
    assert res.exit_code == 0, res.output
    (check,) = [c for cat in res.json()["categories"] for c in cat["checks"]]
    assert (check["id"], check["status"]) == ("pods-selected", "warn")
    assert check["hint"] == f"sgpctl traffic check -n {NS}" and check["evidence"] == [f"2 policies in namespace {NS}"]
    assert world.cli("traffic", "check", "-n", "default", "--fail-on", "warning").exit_code == 1
