"""The simulated TKE controllers, driven through the official clients: the tencentcloud SDK for
CAM/TKE/VPC and the kubernetes client for Pods, Deployments and custom objects.

The TKE procedure from the seed document, step by step, with what each step changes in the
cluster: trunking -> node allocatable; the SecurityGroupPolicy add-on -> the CRD; a policy and a
Deployment -> annotated Pods, sub-ENIs with the policy's groups, VpcENI objects; and eniipamd's
refusals (no CAM policy, a missing security group, no quota) until the cause is fixed.
"""

from __future__ import annotations

import base64
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from sgpctl.core.annotations import RESOURCE_SUB_ENI
from sgpctl.sandbox import scenarios
from sgpctl.sandbox.kube.crds import SGP_RESOURCE
from tests.sandbox_support import SGP_GROUP_VERSION, cloud_client, group_id, kube_api_client, running_sandbox
from tests.sandbox_support import create_sgp, sdk_request, sgp_ready
from tests.sandbox_support import sgp_policy as policy

NS = "my-namespace"
SGP = SGP_GROUP_VERSION
VPCENI = ("networking.tke.cloud.tencent.com", "v1", "vpcenis")
SUB_ENI_ACTIONS = ["vpc:CreateSubNetworkInterface", "vpc:DeleteSubNetworkInterface",
                   "cvm:CheckNetworkInterfaceSecurityGroupReady"]


def b64(values: dict) -> str:
    return base64.b64encode(json.dumps(values).encode()).decode()


def nginx_deployment(name: str = "nginx", labels: dict | None = None, replicas: int = 2, **spec) -> dict:
    labels = labels or {"app": "my-app"}
    pod_spec = {"containers": [{"name": "nginx", "image": "nginx:1.7.9", "ports": [{"containerPort": 80}]}],
                "terminationGracePeriodSeconds": 0, **spec}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": pod_spec}}}


def pods_of(core: client.CoreV1Api, selector: str, ns: str = NS) -> list:
    return core.list_namespaced_pod(ns, label_selector=selector).items


def warnings_for(core: client.CoreV1Api, pod_name: str, ns: str = NS) -> list:
    return [e for e in core.list_namespaced_event(ns).items
            if e.type == "Warning" and e.involved_object.name == pod_name]


def enable_trunking_and_addon(sb) -> None:
    """The TKE steps through the official TkeClient: trunking on (merge), the SGP add-on installed."""
    tke = cloud_client(sb, "tke")
    tke.UpdateAddon(sdk_request("tke", "UpdateAddon", ClusterId=sb.cluster_id, AddonName="eniipamd",
                                RawValues=b64({"vpcCni": {"trunkingEni": {"enableSubEni": True}}}),
                                UpdateStrategy="merge"))
    tke.InstallAddon(sdk_request("tke", "InstallAddon", ClusterId=sb.cluster_id, AddonName="securitygrouppolicy"))
    sb.settle()


def attach_cam_policy(sb) -> None:
    cam = cloud_client(sb, "cam")
    doc = {"version": "2.0", "statement": [{"action": SUB_ENI_ACTIONS, "effect": "allow", "resource": ["*"]}]}
    pid = cam.CreatePolicy(sdk_request("cam", "CreatePolicy", PolicyName="SubENIForIPAMD",
                                       PolicyDocument=json.dumps(doc))).PolicyId
    for role in ("IPAMDofTKE_QCSRole", "TKE_QCSRole"):
        cam.AttachRolePolicy(sdk_request("cam", "AttachRolePolicy", PolicyId=pid, AttachRoleName=role))


@pytest.fixture
def sb():
    with running_sandbox("default", addon_delay=0.05) as sandbox:
        yield sandbox


@pytest.fixture
def api(sb):
    api = kube_api_client(sb)
    yield api
    api.close()


def test_the_documented_procedure_end_to_end(sb, api):
    core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
    vpc = cloud_client(sb, "vpc")

    # Before trunking: no node advertises sub-ENIs and there is no SecurityGroupPolicy type.
    assert all(RESOURCE_SUB_ENI not in (n.status.allocatable or {}) for n in core.list_node().items)
    with pytest.raises(ApiException) as missing:
        custom.list_namespaced_custom_object(*SGP, NS, "securitygrouppolicies")
    assert missing.value.status == 404

    enable_trunking_and_addon(sb)
    quotas = {n.metadata.labels["node.kubernetes.io/instance-type"]: n.status.allocatable.get(RESOURCE_SUB_ENI)
              for n in core.list_node().items}
    assert quotas == {"SA5.2XLARGE16": "100", "S8.2XLARGE16": "100", "SA5.16XLARGE256": "256",
                      "S5.LARGE8": "0", "SA2.LARGE8": "0"}

    # A Pod that exists before the policy.
    core.create_namespaced_pod(NS, {"metadata": {"name": "early", "labels": {"app": "my-app"}},
                                    "spec": {"containers": [{"name": "c", "image": "nginx:1.7.9"}]}})
    sb.settle()
    early_before = core.read_namespaced_pod("early", NS)

    web = vpc.CreateSecurityGroup(sdk_request("vpc", "CreateSecurityGroup", GroupName="my-app",
                                              GroupDescription="pods of my-app")).SecurityGroup.SecurityGroupId
    db = group_id(sb, "db")
    custom.create_namespaced_custom_object(*SGP, NS, "securitygrouppolicies", policy("b-policy", [web, db]))
    custom.create_namespaced_custom_object(*SGP, NS, "securitygrouppolicies", policy("a-policy", [db]))
    apps.create_namespaced_deployment(NS, nginx_deployment())
    sb.settle()

    # No CAM policy yet: the Pods are admitted and bound, but eniipamd cannot create sub-ENIs.
    pods = pods_of(core, "app=my-app,pod-template-hash")
    assert len(pods) == 2
    for p in pods:
        assert p.metadata.annotations["tke.cloud.tencent.com/networks"] == "tke-sub-eni"
        # The union of the groups in policy-name order: a-policy first, duplicates dropped.
        assert p.metadata.annotations["tke.cloud.tencent.com/security-group-id"] == f"{db},{web}"
        c0 = p.spec.containers[0].resources
        assert c0.requests[RESOURCE_SUB_ENI] == "1" and c0.limits[RESOURCE_SUB_ENI] == "1"
        assert p.spec.node_name and p.status.phase == "Pending"
        assert p.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
        events = warnings_for(core, p.metadata.name)
        assert [e.reason for e in events] == ["FailedCreatePodSandBox"]
        assert "failed to create sub eni" in events[0].message and "UnauthorizedOperation" in events[0].message
    assert custom.list_cluster_custom_object(*VPCENI)["items"] == []

    attach_cam_policy(sb)
    sb.settle()
    pods = pods_of(core, "app=my-app,pod-template-hash")
    assert [p.status.phase for p in pods] == ["Running", "Running"]
    by_eni = {}
    for p in pods:
        assert p.status.pod_ip and all(c.ready for c in p.status.container_statuses)
        items = custom.list_cluster_custom_object(
            *VPCENI, label_selector=f"tke.cloud.tencent.com/pod-name={p.metadata.name},"
                                    f"tke.cloud.tencent.com/pod-namespace={NS}")["items"]
        assert len(items) == 1
        eni_id = items[0]["status"]["eni"]["eniID"]
        by_eni[eni_id] = p
        assert items[0]["status"]["eni"]["primaryIP"] == p.status.pod_ip
    enis = vpc.DescribeNetworkInterfaces(sdk_request("vpc", "DescribeNetworkInterfaces",
                                                     NetworkInterfaceIds=sorted(by_eni))).NetworkInterfaceSet
    assert sorted(e.NetworkInterfaceId for e in enis) == sorted(by_eni)
    for e in enis:
        assert e.GroupSet == [db, web]
        assert e.PrivateIpAddressSet[0].PrivateIpAddress == by_eni[e.NetworkInterfaceId].status.pod_ip
        # The sub-ENI hangs off the node the Pod runs on.
        node = core.read_node(by_eni[e.NetworkInterfaceId].spec.node_name)
        assert node.spec.provider_id.endswith("/" + e.Attachment.InstanceId)

    # The Pod from before the policies is untouched: no sub-ENI, no groups, same version.
    early = core.read_namespaced_pod("early", NS)
    assert early.metadata.annotations.get("tke.cloud.tencent.com/networks") == "tke-route-eni"
    assert "tke.cloud.tencent.com/security-group-id" not in early.metadata.annotations
    assert RESOURCE_SUB_ENI not in (early.spec.containers[0].resources.requests or {})
    assert early.metadata.resource_version == early_before.metadata.resource_version

    # Deleting a Pod frees its sub-ENI and VpcENI; its replacement gets new ones.
    gone_eni, gone_pod = sorted(by_eni.items())[0]
    core.delete_namespaced_pod(gone_pod.metadata.name, NS)
    sb.settle()
    left = vpc.DescribeNetworkInterfaces(sdk_request("vpc", "DescribeNetworkInterfaces",
                                                     NetworkInterfaceIds=[gone_eni])).NetworkInterfaceSet
    assert left == []
    assert custom.list_cluster_custom_object(
        *VPCENI, label_selector=f"tke.cloud.tencent.com/pod-name={gone_pod.metadata.name}")["items"] == []
    pods = pods_of(core, "app=my-app,pod-template-hash")
    assert len(pods) == 2 and all(p.status.phase == "Running" for p in pods)
    assert len(custom.list_cluster_custom_object(*VPCENI)["items"]) == 2


def test_pod_over_the_node_quota_stays_pending_with_failed_scheduling(sb, api):
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    sgp_ready(sb)
    # Give SA5.2XLARGE16 a quota of 2 (a per-type override, as VPC can grant) and pin Pods there.
    sb.cloud.add_instance_type("SA5.2XLARGE16", 8, 16, sub_eni_quota=2)
    sb.resync()
    sb.settle()
    node = next(n for n in core.list_node().items
                if n.metadata.labels["node.kubernetes.io/instance-type"] == "SA5.2XLARGE16")
    assert node.status.allocatable[RESOURCE_SUB_ENI] == "2"
    create_sgp(sb, "p", [group_id(sb, "web")])
    apps.create_namespaced_deployment(NS, nginx_deployment(
        replicas=3, nodeSelector={"kubernetes.io/hostname": node.metadata.name}))
    sb.settle()
    pods = pods_of(core, "app=my-app")
    running = [p for p in pods if p.status.phase == "Running"]
    pending = [p for p in pods if p.status.phase == "Pending"]
    assert len(running) == 2 and len(pending) == 1
    stuck = pending[0]
    assert stuck.spec.node_name is None
    cond = next(c for c in stuck.status.conditions if c.type == "PodScheduled")
    expected = ("0/5 nodes are available: 1 Insufficient tke.cloud.tencent.com/sub-eni, "
                "4 node(s) didn't match Pod's node affinity/selector.")
    assert (cond.status, cond.reason, cond.message) == ("False", "Unschedulable", expected)
    events = [e for e in core.list_namespaced_event(NS).items if e.involved_object.name == stuck.metadata.name]
    assert [(e.type, e.reason, e.message) for e in events] == [("Warning", "FailedScheduling", expected)]

    # Freeing a sub-ENI on the node lets a Pending Pod in.
    core.delete_namespaced_pod(running[0].metadata.name, NS)
    sb.settle()
    phases = sorted(p.status.phase for p in pods_of(core, "app=my-app"))
    assert phases == ["Pending", "Running", "Running"]


def test_pods_on_unsupported_families_cannot_get_sub_enis(sb, api):
    core = client.CoreV1Api(api)
    sgp_ready(sb)
    create_sgp(sb, "p", [group_id(sb, "web")])
    s5 = next(n.metadata.name for n in core.list_node().items
              if n.metadata.labels["node.kubernetes.io/instance-type"] == "S5.LARGE8")
    core.create_namespaced_pod(NS, {"metadata": {"name": "pinned", "labels": {"app": "my-app"}},
                                    "spec": {"nodeSelector": {"kubernetes.io/hostname": s5},
                                             "containers": [{"name": "c", "image": "nginx:1.7.9"}]}})
    sb.settle()
    pod = core.read_namespaced_pod("pinned", NS)
    assert pod.status.phase == "Pending" and pod.spec.node_name is None
    assert next(c for c in pod.status.conditions if c.type == "PodScheduled").message == (
        "0/5 nodes are available: 1 Insufficient tke.cloud.tencent.com/sub-eni, "
        "4 node(s) didn't match Pod's node affinity/selector.")


def test_missing_security_group_keeps_pod_creating_until_the_group_exists(sb, api):
    core = client.CoreV1Api(api)
    sgp_ready(sb)
    ghost = "sg-0ghost00"
    create_sgp(sb, "p", [group_id(sb, "web"), ghost])
    core.create_namespaced_pod(NS, {"metadata": {"name": "app", "labels": {"app": "my-app"}},
                                    "spec": {"containers": [{"name": "c", "image": "nginx:1.7.9"}]}})
    sb.settle()
    pod = core.read_namespaced_pod("app", NS)
    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
    (event,) = warnings_for(core, "app")
    assert event.reason == "FailedCreatePodSandBox"
    assert f"security group {ghost} not found" in event.message
    assert "Code=ResourceNotFound" in event.message
    sb.settle()  # a retry of the same cause counts up on the same event
    (event,) = warnings_for(core, "app")
    assert event.count >= 2

    sb.cloud.add_security_group("late", "created after the policy", group_id=ghost)
    sb.settle()
    pod = core.read_namespaced_pod("app", NS)
    assert pod.status.phase == "Running"
    (vpceni,) = sb.kube.list("vpcenis", label_selector="tke.cloud.tencent.com/pod-name=app")
    assert sb.cloud.eni(vpceni["status"]["eni"]["eniID"])["GroupSet"] == [group_id(sb, "web"), ghost]


def test_without_the_sgp_addon_or_trunking_pods_get_no_sub_eni(sb, api):
    core = client.CoreV1Api(api)
    b = scenarios.Builder(cloud=sb.cloud, kube=sb.kube, rng=None, cluster_id=sb.cluster_id)
    b.sub_eni_policy()
    sb.cloud.install_addon(sb.cluster_id, "securitygrouppolicy")  # add-on, but trunking still off
    sb.settle()
    create_sgp(sb, "p", [group_id(sb, "web")])
    core.create_namespaced_pod(NS, {"metadata": {"name": "a", "labels": {"app": "my-app"}},
                                    "spec": {"containers": [{"name": "c", "image": "nginx:1.7.9"}]}})
    sb.settle()
    pod = core.read_namespaced_pod("a", NS)
    assert pod.metadata.annotations["tke.cloud.tencent.com/networks"] == "tke-route-eni"
    assert pod.status.phase == "Running" and sb.kube.list("vpcenis") == []


def test_host_network_pods_never_get_sub_enis(sb, api):
    core = client.CoreV1Api(api)
    sgp_ready(sb)
    create_sgp(sb, "p", [group_id(sb, "web")], {})
    core.create_namespaced_pod(NS, {"metadata": {"name": "host", "labels": {"app": "my-app"}},
                                    "spec": {"hostNetwork": True,
                                             "containers": [{"name": "c", "image": "nginx:1.7.9"}]}})
    sb.settle()
    pod = core.read_namespaced_pod("host", NS)
    assert "tke.cloud.tencent.com/networks" not in (pod.metadata.annotations or {})
    assert pod.status.phase == "Running" and pod.status.pod_ip == pod.status.host_ip


def test_finished_pods_free_their_sub_eni(sb, api):
    core = client.CoreV1Api(api)
    sgp_ready(sb)
    create_sgp(sb, "p", [group_id(sb, "web")])
    core.create_namespaced_pod(NS, {"metadata": {"name": "job", "labels": {"app": "my-app"}},
                                    "spec": {"restartPolicy": "Never",
                                             "containers": [{"name": "c", "image": "busybox:1.36"}]}})
    sb.settle()
    (vpceni,) = sb.kube.list("vpcenis")
    eni_id = vpceni["status"]["eni"]["eniID"]
    core.patch_namespaced_pod_status("job", NS, {"status": {"phase": "Succeeded"}})
    sb.settle()
    assert sb.kube.list("vpcenis") == [] and sb.cloud.eni(eni_id) is None
    assert core.read_namespaced_pod("job", NS).status.phase == "Succeeded"


def test_sub_eni_leaks_while_cam_denies_deletion_and_is_freed_once_allowed(sb, api):
    core = client.CoreV1Api(api)
    sgp_ready(sb)
    create_sgp(sb, "p", [group_id(sb, "web")])
    core.create_namespaced_pod(NS, {"metadata": {"name": "a", "labels": {"app": "my-app"}},
                                    "spec": {"containers": [{"name": "c", "image": "nginx:1.7.9"}]}})
    sb.settle()
    (vpceni,) = sb.kube.list("vpcenis")
    cam = cloud_client(sb, "cam")
    policy_id = sb.cloud.policy_by_name("SubENIForIPAMD")["PolicyId"]
    cam.DetachRolePolicy(sdk_request("cam", "DetachRolePolicy", PolicyId=policy_id, DetachRoleName="TKE_QCSRole"))
    core.delete_namespaced_pod("a", NS)
    sb.settle()
    # The Pod is gone but its VpcENI and sub-ENI are not: a leak a tool must be able to find.
    assert [v["metadata"]["name"] for v in sb.kube.list("vpcenis")] == [vpceni["metadata"]["name"]]
    assert sb.cloud.eni(vpceni["status"]["eni"]["eniID"]) is not None
    cam.AttachRolePolicy(sdk_request("cam", "AttachRolePolicy", PolicyId=policy_id, AttachRoleName="TKE_QCSRole"))
    sb.settle()
    assert sb.kube.list("vpcenis") == [] and sb.cloud.eni(vpceni["status"]["eni"]["eniID"]) is None


def test_deleting_the_sgp_addon_removes_the_crd_and_its_policies(sb, api):
    sgp_ready(sb)
    custom = client.CustomObjectsApi(api)
    custom.create_namespaced_custom_object(*SGP, NS, "securitygrouppolicies", policy("p", [group_id(sb, "web")]))
    tke = cloud_client(sb, "tke")
    tke.DeleteAddon(sdk_request("tke", "DeleteAddon", ClusterId=sb.cluster_id, AddonName="securitygrouppolicy"))
    sb.settle()
    assert sb.kube.get("customresourcedefinitions", None, SGP_RESOURCE) is None
    with pytest.raises(ApiException) as info:
        custom.list_namespaced_custom_object(*SGP, NS, "securitygrouppolicies")
    assert info.value.status == 404
    # Installing it again brings an empty CRD back.
    tke.InstallAddon(sdk_request("tke", "InstallAddon", ClusterId=sb.cluster_id, AddonName="securitygrouppolicy"))
    sb.settle()
    assert custom.list_namespaced_custom_object(*SGP, NS, "securitygrouppolicies")["items"] == []


def test_trunking_takes_effect_only_once_the_addon_update_has_finished():
    with running_sandbox("default", addon_delay=30) as sb:
        sb.cloud.update_addon(sb.cluster_id, "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
        assert sb.cloud.addon(sb.cluster_id, "eniipamd")["Phase"] == "Upgrading"
        assert all(RESOURCE_SUB_ENI not in n["status"]["allocatable"] for n in sb.kube.list("nodes"))
        with pytest.raises(TimeoutError):
            sb.settle(timeout=0.3)


def test_same_seed_same_region():
    with running_sandbox("default", seed=7) as a:
        names_a = sorted(p["metadata"]["name"] for p in a.kube.list("pods"))
        cluster_a = a.cluster_id
    with running_sandbox("default", seed=7) as b:
        names_b = sorted(p["metadata"]["name"] for p in b.kube.list("pods"))
        assert (b.cluster_id, names_b) == (cluster_a, names_a)
        assert (b.secret_id, b.secret_key) != (a.secret_id, a.secret_key)
