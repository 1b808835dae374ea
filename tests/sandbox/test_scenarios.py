"""Each scenario builds, starts, and holds what its description promises, in both halves of the
region (cloud state and Kubernetes objects), consistently."""

from __future__ import annotations

import json

import pytest

from sgpctl.core.annotations import RESOURCE_SUB_ENI
from sgpctl.core.quotas import table_quota
from sgpctl.sandbox.scenarios import SCENARIOS
from tests.sandbox_support import cloud_client, running_sandbox, sdk_request

SGP = "securitygrouppolicies.vpcresources.tke.cloud.tencent.com"


def cluster_property(sb) -> dict:
    tke = cloud_client(sb, "tke")
    (cluster,) = tke.DescribeClusters(sdk_request("tke", "DescribeClusters", ClusterIds=[sb.cluster_id])).Clusters
    return {"property": json.loads(cluster.Property), "proxy": cluster.ClusterNetworkSettings.KubeProxyMode}


def addon(sb, name: str) -> dict | None:
    return sb.cloud.addon(sb.cluster_id, name)


def test_every_scenario_is_listed_with_a_summary():
    assert list(SCENARIOS) == ["default", "legacy", "strict-hazards", "large", "fleet"]
    assert all(s.summary and "\n" not in s.summary for s in SCENARIOS.values())


@pytest.fixture(scope="module")
def default():
    with running_sandbox("default") as sb:
        yield sb


def test_default_meets_the_preconditions_and_nothing_is_set_up(default):
    sb = default
    assert sb.cluster_id.startswith("cls-") and len(sb.cluster_id) == 12 and sb.region == "ap-guangzhou"
    prop = cluster_property(sb)
    assert prop["property"]["NetworkType"] == "VPC-CNI"
    assert prop["property"]["VpcCniType"] == "tke-route-eni"
    assert prop["property"]["IsNonStaticIpMode"] is False
    eniipamd = addon(sb, "eniipamd")
    assert eniipamd["Phase"] == "Succeeded"
    assert tuple(int(x) for x in eniipamd["AddonVersion"].split(".")) >= (3, 5, 6)
    values = sb.cloud.addon_values(sb.cluster_id, "eniipamd")
    assert values["vpcCni"]["trunkingEni"]["enableSubEni"] is False
    assert values["agent"]["config"] == {**values["agent"]["config"], "disableTcpEarlyDemux": False,
                                         "disableUdpEarlyDemux": False}
    assert addon(sb, "securitygrouppolicy") is None
    assert sb.cloud.role("IPAMDofTKE_QCSRole") and sb.cloud.role("TKE_QCSRole")
    assert sb.cloud.policy_by_name("SubENIForIPAMD") is None
    assert sb.kube.get("customresourcedefinitions", None, "vpcenis.networking.tke.cloud.tencent.com")
    assert sb.kube.get("customresourcedefinitions", None, SGP) is None
    assert {g["SecurityGroupName"] for g in sb.cloud.security_groups.values()} >= {"default", "web"}


def test_default_nodes_match_their_cvm_instances_and_families(default):
    sb = default
    nodes = sb.kube.list("nodes")
    assert len(nodes) >= 5
    cvm = cloud_client(sb, "cvm")
    quotas = {}
    for node in nodes:
        labels = node["metadata"]["labels"]
        itype = labels["node.kubernetes.io/instance-type"]
        provider = node["spec"]["providerID"]
        assert provider.startswith("qcloud:///")
        zone_id, instance_id = provider[len("qcloud:///"):].split("/")
        assert labels["topology.kubernetes.io/zone"] == zone_id
        (inst,) = cvm.DescribeInstances(sdk_request("cvm", "DescribeInstances", InstanceIds=[instance_id])).InstanceSet
        assert inst.InstanceType == itype and inst.PrivateIpAddresses == [node["metadata"]["name"]]
        assert str(100000 + int(inst.Placement.Zone.rsplit("-", 1)[1])) == zone_id
        assert RESOURCE_SUB_ENI not in node["status"]["allocatable"]  # trunking is off
        quotas[itype] = table_quota(itype, inst.CPU)
    assert sorted(quotas.values()) == [0, 0, 100, 100, 256]


def test_default_system_workloads(default):
    sb = default
    ipamd = sb.kube.get("deployments.apps", "kube-system", "tke-eni-ipamd")
    version = addon(sb, "eniipamd")["AddonVersion"]
    assert ipamd["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":v{version}")
    agents = sb.kube.list("pods", "kube-system", label_selector="app=tke-eni-agent")
    assert len(agents) == len(sb.kube.list("nodes"))
    proxy = sb.kube.get("configmaps", "kube-system", "kube-proxy")
    assert 'mode: "iptables"' in proxy["data"]["config.conf"]
    assert sb.kube.get("daemonsets.apps", "kube-system", "kube-proxy")
    assert sb.kube.get("namespaces", None, "my-namespace")
    assert all(p["status"]["phase"] == "Running" for p in sb.kube.list("pods"))
    # The application that predates any policy.
    web = sb.kube.list("pods", "my-namespace", label_selector="app=web")
    assert len(web) == 2 and all(p["metadata"]["annotations"]["tke.cloud.tencent.com/networks"] == "tke-route-eni"
                                 for p in web)


def test_legacy_fails_the_version_and_static_ip_preconditions():
    with running_sandbox("legacy") as sb:
        assert addon(sb, "eniipamd")["AddonVersion"] == "3.5.2"
        assert cluster_property(sb)["property"]["IsNonStaticIpMode"] is True
        image = sb.kube.get("deployments.apps", "kube-system", "tke-eni-ipamd")["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.endswith(":v3.5.2")
        assert sb.kube.get("deployments.apps", "kube-system", "tke-eni-ip-scheduler") is None


def test_strict_hazards_has_the_setup_done_and_every_hazard():
    with running_sandbox("strict-hazards") as sb:
        assert cluster_property(sb)["proxy"] == "ipvs"
        assert 'mode: "ipvs"' in sb.kube.get("configmaps", "kube-system", "kube-proxy")["data"]["config.conf"]
        assert sb.kube.get("daemonsets.apps", "kube-system", "node-local-dns")
        assert sb.kube.get("daemonsets.apps", "kube-system", "ip-masq-agent")
        masq = sb.kube.get("configmaps", "kube-system", "ip-masq-agent-config")["data"]["config"]
        assert "NonMasqueradeCIDRs" in masq and "NonMasqueradeSrcCIDRs" not in masq
        (netpol,) = sb.kube.list("networkpolicies", "my-namespace")
        assert netpol["spec"]["podSelector"] == {"matchLabels": {"app": "my-app"}}
        lb = sb.kube.get("services", "my-namespace", "nginx-lb")
        assert lb["spec"]["type"] == "LoadBalancer" and lb["spec"]["externalTrafficPolicy"] == "Local"
        assert lb["spec"]["selector"] == {"app": "my-app"}
        # The setup: CAM attached to both roles, trunking on, the add-on with its CRD, a policy.
        for role in ("IPAMDofTKE_QCSRole", "TKE_QCSRole"):
            assert "SubENIForIPAMD" in sb.cloud.attached_policy_names(role)
        assert sb.cloud.trunking_enabled(sb.cluster_id)
        assert addon(sb, "securitygrouppolicy")["Phase"] == "Succeeded"
        (policy,) = sb.kube.list(SGP, "my-namespace")
        pods = sb.kube.list("pods", "my-namespace", label_selector="app=my-app")
        assert len(pods) == 2
        for p in pods:
            assert p["status"]["phase"] == "Running"
            assert p["metadata"]["annotations"]["tke.cloud.tencent.com/security-group-id"] == \
                ",".join(policy["spec"]["securityGroups"]["groupIds"])
        assert len(sb.kube.list("vpcenis")) == 2
        assert all(RESOURCE_SUB_ENI in n["status"]["allocatable"] for n in sb.kube.list("nodes"))


def test_large_has_10000_pods_each_with_its_sub_eni():
    with running_sandbox("large") as sb:
        nodes = sb.kube.list_entries("nodes")[0]
        assert len(nodes) == 500
        pods = [e.obj for e in sb.kube.list_entries("pods")[0] if e.obj["metadata"]["namespace"].startswith("team-")]
        assert len(pods) == 10_000
        vpcenis = sb.kube.list_entries("vpcenis")[0]
        assert len(vpcenis) == 10_000
        by_pod = {(v.obj["metadata"]["labels"]["tke.cloud.tencent.com/pod-namespace"],
                   v.obj["metadata"]["labels"]["tke.cloud.tencent.com/pod-name"]): v.obj for v in vpcenis}
        used: dict[str, int] = {}
        for p in pods[::97]:
            v = by_pod[(p["metadata"]["namespace"], p["metadata"]["name"])]
            eni = sb.cloud.eni(v["status"]["eni"]["eniID"])
            assert eni["GroupSet"] == p["metadata"]["annotations"]["tke.cloud.tencent.com/security-group-id"].split(",")
            assert eni["PrivateIpAddressSet"][0]["PrivateIpAddress"] == p["status"]["podIP"]
            # Made with eniipamd's client token (the Pod's uid): asking again finds the same sub-ENI.
            again = sb.cloud.create_sub_eni(p["metadata"]["uid"], v["spec"]["instanceID"], group_ids=eni["GroupSet"])
            assert again["NetworkInterfaceId"] == eni["NetworkInterfaceId"]
        assert sb.cloud.sub_eni_count() == 10_000
        for p in pods:
            used[p["spec"]["nodeName"]] = used.get(p["spec"]["nodeName"], 0) + 1
        quota = {n.obj["metadata"]["name"]: int(n.obj["status"]["allocatable"][RESOURCE_SUB_ENI]) for n in nodes}
        assert all(used[n] <= quota[n] for n in used)
        assert len(sb.kube.list(SGP)) == 40
        # The controllers agree that nothing is left to do (no rollout started by mistake).
        sb.settle()
        assert len(sb.kube.list_entries("replicasets.apps")[0]) == 100 + 3
