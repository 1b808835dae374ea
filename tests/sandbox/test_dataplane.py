"""The sandbox's simulated data plane, end to end through the official clients: groups and rules
made with the VPC API, the routing mode switched with the TKE API, Pods read with the kubernetes
client. A Pod with a readiness probe and a group without an ACCEPT for its node is Ready in standard
routing (node-to-Pod traffic bypasses the Pod's groups), stays Ready after the switch to strict (the
mode is the one its network was set up with), and once rebuilt under strict routing is Running but
not Ready, with the kubelet's Unhealthy event - exactly what sgpctl's own prediction (core.traffic
over the rules its VPC adapter reads) says, and the rule it suggests makes the Pod Ready."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pytest
from kubernetes import client

from sgpctl.cloud.session import CloudSession
from sgpctl.core.traffic import Endpoint, Probe, check_needs, pod_needs
from sgpctl.sandbox.controllers.dataplane import failure_message
from tests.sandbox_support import cloud_client, create_sgp, running_sandbox, sdk_request, sgp_ready

NS = "my-namespace"


def deployment(probe: dict, name: str = "probed") -> dict:
    labels = {"app": "my-app"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "terminationGracePeriodSeconds": 0,
                         "containers": [{"name": "nginx", "image": "nginx:1.7.9",
                                         "ports": [{"name": "http", "containerPort": 80}], **probe}]}}}}


@pytest.fixture
def sb():
    with running_sandbox("default", addon_delay=0.05) as sandbox:
        sgp_ready(sandbox)
        yield sandbox


def make_group(sb, *ingress: dict) -> str:
    """A group through the VPC API: all egress allowed, the given ingress rules."""
    vpc = cloud_client(sb, "vpc")
    gid = vpc.CreateSecurityGroup(sdk_request("vpc", "CreateSecurityGroup", GroupName="probe-test",
                                              GroupDescription="pods")).SecurityGroup.SecurityGroupId
    vpc.CreateSecurityGroupPolicies(sdk_request("vpc", "CreateSecurityGroupPolicies", SecurityGroupId=gid,
                                                SecurityGroupPolicySet={"Egress": [
                                                    {"Protocol": "ALL", "Port": "ALL", "CidrBlock": "0.0.0.0/0",
                                                     "Action": "ACCEPT"}]}))
    if ingress:
        vpc.CreateSecurityGroupPolicies(sdk_request("vpc", "CreateSecurityGroupPolicies", SecurityGroupId=gid,
                                                    SecurityGroupPolicySet={"Ingress": list(ingress)}))
    return gid


def set_routing(sb, mode: str) -> None:
    raw = base64.b64encode(json.dumps({"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": mode}},
                                       "agent": {"config": {"disableTcpEarlyDemux": True,
                                                            "disableUdpEarlyDemux": True}}}).encode()).decode()
    cloud_client(sb, "tke").UpdateAddon(sdk_request("tke", "UpdateAddon", ClusterId=sb.cluster_id,
                                                    AddonName="eniipamd", RawValues=raw, UpdateStrategy="merge"))
    sb.settle()


def the_pod(core):
    [pod] = [p for p in core.list_namespaced_pod(NS, label_selector="app=my-app").items
             if not p.metadata.deletion_timestamp]
    return pod


def ready(pod) -> bool:
    return next(c.status for c in pod.status.conditions if c.type == "Ready") == "True"


def unhealthy(core, pod) -> list[str]:
    return [e.message for e in core.list_namespaced_event(NS).items
            if e.involved_object.name == pod.metadata.name and e.reason == "Unhealthy" and e.type == "Warning"]


def rebuild(sb, core) -> None:
    core.delete_namespaced_pod(the_pod(core).metadata.name, NS)
    sb.settle()


@dataclass(frozen=True)
class _Creds:
    secret_id: str
    secret_key: str
    token: str | None = None


READINESS = {"readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}}}
NOT_THE_NODES = {"Protocol": "TCP", "Port": "80", "CidrBlock": "192.168.0.0/16", "Action": "ACCEPT"}


def test_probe_dropped_by_the_pods_group_breaks_readiness_only_under_strict_routing(sb, core):
    gid = make_group(sb, NOT_THE_NODES)
    create_sgp(sb, "probe-policy", [gid])
    client.AppsV1Api(core.api_client).create_namespaced_deployment(NS, deployment(READINESS))
    sb.settle()

    # standard routing: the kubelet's probe from the Pod's own node does not pass the Pod's group
    pod = the_pod(core)
    assert pod.metadata.annotations["tke.cloud.tencent.com/security-group-id"] == gid
    assert pod.status.phase == "Running" and ready(pod) and unhealthy(core, pod) == []

    # the switch to strict changes nothing for the Pod that exists, even when its rules change
    set_routing(sb, "strict")
    vpc = cloud_client(sb, "vpc")
    vpc.CreateSecurityGroupPolicies(sdk_request("vpc", "CreateSecurityGroupPolicies", SecurityGroupId=gid,
                                                SecurityGroupPolicySet={"Ingress": [
                                                    {"Protocol": "UDP", "Port": "9", "CidrBlock": "10.9.9.9",
                                                     "Action": "DROP"}]}))
    sb.settle()
    assert ready(the_pod(core))

    # sgpctl predicts, for a Pod created under strict routing, that this probe is dropped
    session = CloudSession(_Creds(sb.secret_id, sb.secret_key), sb.region, sb.cloud_url)
    book = session.vpc.describe_rule_book([gid])
    pod = the_pod(core)
    node = core.read_node(pod.spec.node_name)
    node_ip = next(a.address for a in node.status.addresses if a.type == "InternalIP")
    pod_dict = core.api_client.sanitize_for_serialization(pod)
    future = Endpoint.sub_eni_pod(NS, pod.metadata.name, pod.status.pod_ip, pod.spec.node_name, [gid], "strict",
                                  predicted=True)
    subnets = [s.cidr_block for s in session.vpc.describe_subnets(sorted(sb.cloud.subnets))]
    needs = pod_needs(pod_dict, future, node=Endpoint.node_endpoint(pod.spec.node_name, node_ip), node_cidrs=subnets)
    [probe] = check_needs([n for n in needs.needs if n.kind == "probe"], book)
    assert probe.status == "fail" and probe.decision.decided_by is None  # no rule of the group matched

    # rebuilt under strict routing: Running, not Ready, and the kubelet says why
    rebuild(sb, core)
    pod = the_pod(core)
    assert pod.status.phase == "Running" and not ready(pod)
    cond = next(c for c in pod.status.conditions if c.type == "Ready")
    assert (cond.reason, cond.message) == ("ContainersNotReady", "containers with unready status: [nginx]")
    assert [c.ready for c in pod.status.container_statuses] == [False]
    assert unhealthy(core, pod) == [
        f'Readiness probe failed: Get "http://{pod.status.pod_ip}:80/healthz": context deadline exceeded '
        f"(Client.Timeout exceeded while awaiting headers)"]

    # the rule sgpctl suggests, sent as it is, makes the Pod Ready: the data plane looks again
    [fix] = probe.fixes
    # the node's subnet, not the node's address: the rule keeps working for new nodes there
    assert fix.rules[0].cidr_block in subnets and fix.rules[0].port == "80"
    vpc.CreateSecurityGroupPolicies(sdk_request("vpc", "CreateSecurityGroupPolicies", **fix.request()))
    sb.settle()
    pod = the_pod(core)
    assert ready(pod) and [c.ready for c in pod.status.container_statuses] == [True]


def test_standard_routing_never_filters_probes_and_no_probe_means_ready(sb, core):
    gid = make_group(sb)  # not a single ingress rule: everything from outside is dropped
    create_sgp(sb, "probe-policy", [gid])
    apps = client.AppsV1Api(core.api_client)
    apps.create_namespaced_deployment(NS, deployment({"livenessProbe": {"tcpSocket": {"port": 80}}}))
    sb.settle()
    assert ready(the_pod(core))
    set_routing(sb, "strict")
    rebuild(sb, core)
    pod = the_pod(core)
    assert not ready(pod)
    assert unhealthy(core, pod) == [f"Liveness probe failed: dial tcp {pod.status.pod_ip}:80: i/o timeout"]
    killing = [e.message for e in core.list_namespaced_event(NS).items
               if e.involved_object.name == pod.metadata.name and e.reason == "Killing"]
    assert killing == ["Container nginx failed liveness probe, will be restarted"]
    # the Pod's sub-ENI given a group that lets its node in: the data plane looks again
    [vpceni] = client.CustomObjectsApi(core.api_client).list_cluster_custom_object(
        "networking.tke.cloud.tencent.com", "v1", "vpcenis",
        label_selector=f"tke.cloud.tencent.com/pod-name={pod.metadata.name}")["items"]
    lets_nodes_in = make_group(sb, {"Protocol": "TCP", "Port": "80", "CidrBlock": "10.0.0.0/16", "Action": "ACCEPT"})
    sb.settle()
    assert not ready(the_pod(core))
    cloud_client(sb, "vpc").ModifyNetworkInterfaceAttribute(sdk_request(
        "vpc", "ModifyNetworkInterfaceAttribute", NetworkInterfaceId=vpceni["status"]["eni"]["eniID"],
        SecurityGroupIds=[lets_nodes_in]))
    sb.settle()
    assert ready(the_pod(core))
    # an exec probe needs no network: a Pod with one is Ready even under strict routing
    apps.delete_namespaced_deployment("probed", NS)
    sb.settle()
    apps.create_namespaced_deployment(NS, deployment({"readinessProbe": {"exec": {"command": ["true"]}}},
                                                     name="exec"))
    sb.settle()
    assert ready(the_pod(core))


def test_failure_messages_follow_the_kubelet():
    assert failure_message(Probe("c", "startup", "gRPC", 50051), "10.0.0.5") == \
        'Startup probe failed: timeout: failed to connect service "10.0.0.5:50051" within 1s'
    assert failure_message(Probe("c", "readiness", "HTTP", 8443, "/", "HTTPS"), "10.0.0.5") == \
        'Readiness probe failed: Get "https://10.0.0.5:8443/": context deadline exceeded ' \
        '(Client.Timeout exceeded while awaiting headers)'
