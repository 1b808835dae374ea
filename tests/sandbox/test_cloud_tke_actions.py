"""TKE actions of the sandbox through the official TkeClient, including add-on phases."""

from __future__ import annotations

import base64
import json
import time

import pytest

from sgpctl.core import quotas
from sgpctl.sandbox.cloud.testkit import CLUSTER_ID, demo_state, serve


@pytest.fixture
def cloud(clock):
    """Add-on operations take 0.3 s of the manual clock."""
    with serve(demo_state(addon_delay=0.3, clock=clock)) as rc:
        yield rc


def b64(values: dict) -> str:
    return base64.b64encode(json.dumps(values).encode()).decode()


def unb64(raw: str) -> dict:
    return json.loads(base64.b64decode(raw))


def test_describe_clusters_property_and_network_settings(cloud):
    cloud.state.add_cluster("cls-ipvs0001", "ipvs", "1.28.3", "vpc-demo0001", non_static_ip=True,
                            kube_proxy_mode="ipvs", vpc_cni_type="tke-direct-eni")
    resp = cloud.call("tke", "DescribeClusters", ClusterIds=[CLUSTER_ID, "cls-ipvs0001", "cls-missing0"])
    assert resp.TotalCount == 2
    by_id = {c.ClusterId: c for c in resp.Clusters}
    demo, ipvs = by_id[CLUSTER_ID], by_id["cls-ipvs0001"]
    assert json.loads(demo.Property) == {"NetworkType": "VPC-CNI", "VpcCniType": "tke-route-eni",
                                         "IsNonStaticIpMode": False, "NodeNameType": "lan-ip"}
    assert demo.ClusterNetworkSettings.KubeProxyMode == "iptables" and demo.ClusterNetworkSettings.Ipvs is False
    assert demo.ClusterNodeNum == 3 and demo.ClusterStatus == "Running"
    assert json.loads(ipvs.Property)["IsNonStaticIpMode"] is True
    assert json.loads(ipvs.Property)["VpcCniType"] == "tke-direct-eni"
    assert ipvs.ClusterNetworkSettings.Ipvs is True and ipvs.ClusterNetworkSettings.KubeProxyMode == "ipvs"


def test_describe_clusters_paging_and_limits(cloud):
    for i in range(4):
        cloud.state.add_cluster(f"cls-extra00{i}", f"extra-{i}", "1.30.0", "vpc-demo0001")
    first = cloud.call("tke", "DescribeClusters", Limit=2, Offset=0)
    rest = cloud.call("tke", "DescribeClusters", Limit=100, Offset=2)
    assert first.TotalCount == rest.TotalCount == 5
    assert len(first.Clusters) == 2 and len(rest.Clusters) == 3
    assert cloud.error_code("tke", "DescribeClusters", Limit=101) == "InvalidParameterValue.Range"
    named = cloud.call("tke", "DescribeClusters", Filters=[{"Name": "ClusterName", "Values": ["extra-2"]}])
    assert [c.ClusterId for c in named.Clusters] == ["cls-extra002"]


def test_describe_ipamd_follows_eniipamd_values(cloud, clock):
    ipamd = cloud.call("tke", "DescribeIPAMD", ClusterId=CLUSTER_ID)
    assert ipamd.EnableIPAMD is True and ipamd.DisableVpcCniMode is False and ipamd.Phase == "running"
    assert ipamd.EnableTrunkingENI is False and ipamd.SubnetIds == ["subnet-aaaa1111", "subnet-bbbb2222"]
    cloud.call("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd",
               RawValues=b64({"vpcCni": {"trunkingEni": {"enableSubEni": True}}}))
    clock.advance(1)
    assert cloud.call("tke", "DescribeIPAMD", ClusterId=CLUSTER_ID).EnableTrunkingENI is True
    assert cloud.state.trunking_enabled(CLUSTER_ID)
    assert cloud.error_code("tke", "DescribeIPAMD", ClusterId="cls-missing0") == "ResourceNotFound.ClusterNotFound"


def test_describe_ipamd_without_eniipamd(cloud):
    cloud.state.add_cluster("cls-gr000001", "gr", "1.30.0", "vpc-demo0001", network_type="GR")
    ipamd = cloud.call("tke", "DescribeIPAMD", ClusterId="cls-gr000001")
    assert ipamd.EnableIPAMD is False and ipamd.Phase is None


def test_describe_addon_all_named_and_missing(cloud):
    addons = cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID).Addons
    assert [a.AddonName for a in addons] == ["eniipamd"]
    one = cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd").Addons[0]
    assert one.AddonVersion == "3.6.0" and one.Phase == "Succeeded" and unb64(one.RawValues) == {}
    assert cloud.error_code("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="securitygrouppolicy") == "ResourceNotFound"
    cloud.state.variants["missing-addon"] = "empty"
    assert cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="securitygrouppolicy").Addons == []
    assert cloud.error_code("tke", "DescribeAddon", ClusterId="cls-missing0") == "ResourceNotFound.ClusterNotFound"


def test_install_passes_through_installing_before_succeeded(cloud, clock):
    cloud.call("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="securitygrouppolicy")
    phase = cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="securitygrouppolicy").Addons[0]
    assert phase.Phase == "Installing" and phase.AddonVersion == "1.1.0"  # the chart's latest
    clock.advance(0.2)
    assert cloud.state.addon(CLUSTER_ID, "securitygrouppolicy")["Phase"] == "Installing"
    clock.advance(0.2)
    assert cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="securitygrouppolicy").Addons[0].Phase == "Succeeded"
    assert cloud.error_code("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="securitygrouppolicy") == "ResourceInUse"


def test_install_with_the_real_clock_and_a_small_delay():
    """The default clock: a short real delay, polled the way a --wait loop polls."""
    with serve(demo_state(addon_delay=0.05)) as rc:
        rc.call("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="cbs")
        phases = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            phases.append(rc.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="cbs").Addons[0].Phase)
            if phases[-1] == "Succeeded":
                break
            time.sleep(0.01)
        assert phases[0] == "Installing" and phases[-1] == "Succeeded"


def test_install_values_version_dry_run_and_unknown_chart(cloud, clock):
    cloud.call("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="ip-masq-agent", AddonVersion="1.1.0",
               RawValues=b64({"config": {"NonMasqueradeCIDRs": ["10.0.0.0/8"]}}), DryRun=True)
    assert cloud.state.addon(CLUSTER_ID, "ip-masq-agent") is None
    cloud.call("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="ip-masq-agent", AddonVersion="1.1.0",
               RawValues=b64({"config": {"NonMasqueradeCIDRs": ["10.0.0.0/8"]}}))
    clock.advance(1)
    addon = cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="ip-masq-agent").Addons[0]
    assert addon.AddonVersion == "1.1.0" and unb64(addon.RawValues) == {"config": {"NonMasqueradeCIDRs": ["10.0.0.0/8"]}}
    assert cloud.error_code("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="no-such-chart") == "InvalidParameter.Param"
    assert cloud.error_code("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="cbs", RawValues="%%%") == "InvalidParameterValue"
    assert cloud.error_code("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="cbs", RawValues=b64([1])) == "InvalidParameterValue"
    assert cloud.error_code("tke", "InstallAddon", ClusterId="cls-missing0", AddonName="cbs") == "ResourceNotFound.ClusterNotFound"


def test_update_merge_then_replace(cloud, clock):
    cloud.call("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd",
               RawValues=b64({"vpcCni": {"trunkingEni": {"enableSubEni": True}}}))
    assert cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd").Addons[0].Phase == "Upgrading"
    assert cloud.error_code("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd", AddonVersion="3.7.0") == "FailedOperation.TaskAlreadyRunning"
    clock.advance(0.5)
    cloud.call("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd", UpdateStrategy="merge",
               RawValues=b64({"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "strict"}}}))
    clock.advance(0.5)
    merged = unb64(cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd").Addons[0].RawValues)
    assert merged == {"vpcCni": {"trunkingEni": {"enableSubEni": True, "podSecurityGroupEnforcingMode": "strict"}}}
    cloud.call("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd", UpdateStrategy="replace",
               RawValues=b64({"agent": {"config": {"disableTcpEarlyDemux": True}}}), AddonVersion="3.7.2")
    clock.advance(0.5)
    addon = cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd").Addons[0]
    assert unb64(addon.RawValues) == {"agent": {"config": {"disableTcpEarlyDemux": True}}}
    assert addon.AddonVersion == "3.7.2" and addon.Phase == "Succeeded"
    assert cloud.error_code("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd") == "MissingParameter"
    assert cloud.error_code("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd", AddonVersion="1",
                   UpdateStrategy="patch") == "InvalidParameterValue"
    assert cloud.error_code("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="cbs", AddonVersion="1") == "ResourceNotFound"


def test_update_dry_run_changes_nothing(cloud, clock):
    cloud.call("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd", DryRun=True,
               RawValues=b64({"vpcCni": {"trunkingEni": {"enableSubEni": True}}}))
    assert cloud.state.addon(CLUSTER_ID, "eniipamd")["Phase"] == "Succeeded"
    assert not cloud.state.trunking_enabled(CLUSTER_ID)


def test_describe_addon_values_renders_set_values_over_defaults(cloud, clock):
    cloud.call("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd",
               RawValues=b64({"vpcCni": {"trunkingEni": {"enableSubEni": True}}}))
    clock.advance(1)
    resp = cloud.call("tke", "DescribeAddonValues", ClusterId=CLUSTER_ID, AddonName="eniipamd")
    values, defaults = json.loads(resp.Values), json.loads(resp.DefaultValues)
    assert values["vpcCni"]["trunkingEni"] == {"enableSubEni": True, "podSecurityGroupEnforcingMode": "standard"}
    assert defaults["vpcCni"]["trunkingEni"]["enableSubEni"] is False
    assert values["agent"] == defaults["agent"]
    not_installed = cloud.call("tke", "DescribeAddonValues", ClusterId=CLUSTER_ID, AddonName="securitygrouppolicy")
    assert not_installed.Values == "" and json.loads(not_installed.DefaultValues) == {"replicaCount": 2}
    assert cloud.error_code("tke", "DescribeAddonValues", ClusterId=CLUSTER_ID, AddonName="nothing") == "ResourceUnavailable"


def test_delete_passes_through_terminating(cloud, clock):
    cloud.call("tke", "DeleteAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd")
    assert cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd").Addons[0].Phase == "Terminating"
    clock.advance(0.3)
    assert cloud.error_code("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd") == "ResourceNotFound"
    assert cloud.error_code("tke", "DeleteAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd") == "ResourceNotFound"


def test_armed_failure_ends_in_install_failed_with_reason(cloud, clock):
    cloud.state.fail_next_addon_operation(CLUSTER_ID, "securitygrouppolicy", "image pull failed")
    cloud.call("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="securitygrouppolicy")
    clock.advance(1)
    addon = cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="securitygrouppolicy").Addons[0]
    assert addon.Phase == "InstallFailed" and addon.Reason == "image pull failed"
    cloud.state.fail_next_addon_operation(CLUSTER_ID, "eniipamd", "helm upgrade timed out")
    cloud.call("tke", "UpdateAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd", AddonVersion="3.7.2")
    clock.advance(1)
    assert cloud.call("tke", "DescribeAddon", ClusterId=CLUSTER_ID, AddonName="eniipamd").Addons[0].Phase == "UpgradFailed"


def test_chart_list_by_kind(cloud):
    network = cloud.call("tke", "GetTkeAppChartList", Kind="network", ClusterType="tke").AppCharts
    by_name = {c.Name: c for c in network}
    assert {"eniipamd", "securitygrouppolicy", "ip-masq-agent"} <= set(by_name)
    assert by_name["securitygrouppolicy"].Label == "SecurityGroupPolicy"
    assert "nodelocaldns" not in by_name
    everything = {c.Name for c in cloud.call("tke", "GetTkeAppChartList").AppCharts}
    assert "nodelocaldns" in everything and "cbs" in everything
    assert cloud.call("tke", "GetTkeAppChartList", ClusterType="eks").AppCharts == []


def test_pod_limits_use_the_core_quota_table(cloud):
    resp = cloud.call("tke", "DescribeVpcCniPodLimits", Zone="ap-guangzhou-3")
    assert resp.TotalCount == len(resp.PodLimitsInstanceSet) > 10
    for item in resp.PodLimitsInstanceSet:
        cpu = cloud.state.instance_types[item.InstanceType]["CPU"]
        assert item.PodLimits.TKESubENI == quotas.table_quota(item.InstanceType, cpu)
        assert item.Zone == "ap-guangzhou-3"
    sa5 = cloud.call("tke", "DescribeVpcCniPodLimits", InstanceFamily="SA5").PodLimitsInstanceSet
    assert {i.InstanceFamily for i in sa5} == {"SA5"}
    big = cloud.call("tke", "DescribeVpcCniPodLimits", InstanceType="S8.16XLARGE256", Zone="ap-guangzhou-4").PodLimitsInstanceSet
    assert [i.PodLimits.TKESubENI for i in big] == [256]
    s6 = cloud.call("tke", "DescribeVpcCniPodLimits", InstanceType="S6.LARGE8", Zone="ap-guangzhou-4").PodLimitsInstanceSet
    assert [i.PodLimits.TKESubENI for i in s6] == [0]
    sa2 = cloud.call("tke", "DescribeVpcCniPodLimits", InstanceType="SA2.22XLARGE224", Zone="ap-guangzhou-4").PodLimitsInstanceSet
    assert sa2[0].PodLimits.TKESubENI == 0  # SA2 is not a supported family, whatever its size


def test_pod_limits_override(cloud):
    cloud.state.add_instance_type("S6.4XLARGE32", 16, 32, sub_eni_quota=50)  # enabled by ticket
    item = cloud.call("tke", "DescribeVpcCniPodLimits", InstanceType="S6.4XLARGE32").PodLimitsInstanceSet
    assert {i.PodLimits.TKESubENI for i in item} == {50} and len(item) == 3  # one per zone


def test_cluster_instances_paging_and_filters(cloud):
    resp = cloud.call("tke", "DescribeClusterInstances", ClusterId=CLUSTER_ID, Limit=2)
    assert resp.TotalCount == 3 and len(resp.InstanceSet) == 2
    rest = cloud.call("tke", "DescribeClusterInstances", ClusterId=CLUSTER_ID, Limit=2, Offset=2)
    ids = [i.InstanceId for i in resp.InstanceSet + rest.InstanceSet]
    assert sorted(ids) == ["ins-s5node01", "ins-s8big001", "ins-sa5node1"]
    one = cloud.call("tke", "DescribeClusterInstances", ClusterId=CLUSTER_ID, InstanceIds=["ins-sa5node1"]).InstanceSet
    assert [(i.InstanceId, i.LanIP, i.InstanceRole, i.InstanceState) for i in one] == [
        ("ins-sa5node1", "10.0.2.10", "WORKER", "running")]
    pool = cloud.call("tke", "DescribeClusterInstances", ClusterId=CLUSTER_ID,
                      Filters=[{"Name": "nodepool-id", "Values": ["np-big"]}]).InstanceSet
    assert [i.InstanceId for i in pool] == ["ins-s8big001"]
    assert cloud.call("tke", "DescribeClusterInstances", ClusterId=CLUSTER_ID, InstanceRole="MASTER").TotalCount == 0
    assert cloud.error_code("tke", "DescribeClusterInstances", ClusterId="cls-missing0") == "ResourceNotFound.ClusterNotFound"


def test_addon_callbacks_fire_on_start_and_on_noticed_end(cloud, clock):
    seen = []
    cloud.state.on_addon_change(lambda cluster, name, phase: seen.append((cluster, name, phase)))
    cloud.call("tke", "InstallAddon", ClusterId=CLUSTER_ID, AddonName="cbs")
    clock.advance(1)
    cloud.state.addon(CLUSTER_ID, "cbs")  # a controller polling notices the end
    assert seen == [(CLUSTER_ID, "cbs", "Installing"), (CLUSTER_ID, "cbs", "Succeeded")]
