"""TKE adapter: exact request bodies, Property parsing, add-on absence, RawValues encoding."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from sgpctl.cloud.types import Addon, AddonValues, Chart, ClusterInstance, PodLimits
from sgpctl.errors import CloudError, ExitCode
from tests.cloud.conftest import assert_headers

CLUSTER = {
    "ClusterId": "cls-abcd1234",
    "ClusterName": "prod",
    "ClusterVersion": "1.30.0",
    "ClusterStatus": "Running",
    "ClusterType": "MANAGED_CLUSTER",
    "ClusterNetworkSettings": {"VpcId": "vpc-1", "Ipvs": True, "KubeProxyMode": "ipvs", "Cni": True},
    "Property": json.dumps({"NodeNameType": "lan-ip", "NetworkType": "VPC-CNI", "VpcCniType": "tke-route-eni",
                            "IsNonStaticIpMode": False}),
}


def b64(values: dict) -> str:
    return base64.b64encode(json.dumps(values).encode()).decode()


def test_describe_cluster_parses_network_settings_and_property(api, session):
    api.reply("tke", "DescribeClusters", {"TotalCount": 1, "Clusters": [CLUSTER]})

    c = session.tke.describe_cluster("cls-abcd1234")

    assert api.bodies("DescribeClusters") == ['{"ClusterIds": ["cls-abcd1234"]}']
    assert_headers(api.calls()[0], "tke", region="ap-guangzhou")
    assert api.calls()[0].request.url == "https://tke.tencentcloudapi.com/"
    assert (c.cluster_id, c.name, c.version, c.status, c.vpc_id) == ("cls-abcd1234", "prod", "1.30.0", "Running", "vpc-1")
    assert (c.kube_proxy_mode, c.ipvs) == ("ipvs", True)
    assert (c.network_type, c.vpc_cni_type, c.non_static_ip) == ("VPC-CNI", "tke-route-eni", False)


@pytest.mark.parametrize("prop, expected", [
    ('{"NetworkType":"GR"}', ("GR", None, None)),
    ('{"NetworkType":"VPC-CNI","VpcCniType":"tke-direct-eni","IsNonStaticIpMode":"true"}',
     ("VPC-CNI", "tke-direct-eni", True)),
    ("", (None, None, None)),
    ("not json", (None, None, None)),
])
def test_describe_cluster_property_variants(api, session, prop, expected):
    api.reply("tke", "DescribeClusters", {"TotalCount": 1, "Clusters": [{**CLUSTER, "Property": prop}]})
    c = session.tke.describe_cluster("cls-abcd1234")
    assert (c.network_type, c.vpc_cni_type, c.non_static_ip) == expected


def test_describe_cluster_empty_set_is_not_found_with_cluster_id_hint(api, session):
    api.reply("tke", "DescribeClusters", {"TotalCount": 0, "Clusters": []}, request_id="req-empty")
    with pytest.raises(CloudError) as e:
        session.tke.describe_cluster("cls-missing1")
    err = e.value
    assert err.code == "ResourceNotFound.ClusterNotFound" and err.request_id == "req-empty"
    assert "cls-missing1" in err.message and "--cluster-id/SGPCTL_CLUSTER_ID" in err.hint
    assert "ap-guangzhou" in err.hint
    assert err.exit_code == ExitCode.FAILED


def test_cluster_not_found_codes_of_other_actions_get_the_same_hint(api, session):
    api.fail("tke", "DescribeIPAMD", "InvalidParameter.ClusterNotFound", "cluster not found", "req-x")
    with pytest.raises(CloudError) as e:
        session.tke.describe_ipamd("cls-missing1")
    assert "--cluster-id/SGPCTL_CLUSTER_ID" in e.value.hint
    assert len(api.calls()) == 1


def test_internal_error_cluster_not_found_is_not_retried(api, session):
    api.fail("tke", "DescribeIPAMD", "InternalError.ClusterNotFound", "cluster not found")
    with pytest.raises(CloudError):
        session.tke.describe_ipamd("cls-missing1")
    assert len(api.calls()) == 1


def test_describe_ipamd(api, session):
    api.reply("tke", "DescribeIPAMD", {"EnableIPAMD": True, "DisableVpcCniMode": False, "Phase": "running",
                                      "Reason": "", "SubnetIds": ["subnet-1"], "ClaimExpiredDuration": "300s",
                                      "EnableTrunkingENI": False, "EnableCustomizedPodCidr": False})
    ipamd = session.tke.describe_ipamd("cls-abcd1234")
    assert api.bodies("DescribeIPAMD") == ['{"ClusterId": "cls-abcd1234"}']
    assert (ipamd.enabled, ipamd.disable_vpc_cni_mode, ipamd.phase, ipamd.trunking_enabled) == (True, False, "running", False)
    assert ipamd.subnet_ids == ("subnet-1",)


def test_describe_addons_decodes_raw_values_and_strips_v(api, session):
    values = {"vpcCni": {"trunkingEni": {"enableSubEni": False}}}
    api.reply("tke", "DescribeAddon", {"Addons": [
        {"AddonName": "eniipamd", "AddonVersion": "v3.6.1", "RawValues": b64(values), "Phase": "Succeeded",
         "Reason": "", "CreateTime": "t"},
        {"AddonName": "securitygrouppolicy", "AddonVersion": "1.0.2", "RawValues": "", "Phase": "Installing"},
    ]})

    addons = session.tke.describe_addons("cls-abcd1234")

    assert api.bodies("DescribeAddon") == ['{"ClusterId": "cls-abcd1234"}']
    assert addons[0] == Addon("eniipamd", "3.6.1", "Succeeded", "", values, "t")
    assert addons[0].raw_values == values
    assert (addons[1].version, addons[1].raw_values) == ("1.0.2", None)


def test_get_addon_sends_the_name(api, session):
    api.reply("tke", "DescribeAddon", {"Addons": [{"AddonName": "eniipamd", "AddonVersion": "3.5.6", "Phase": "Succeeded"}]})
    addon = session.tke.get_addon("cls-abcd1234", "eniipamd")
    assert api.bodies("DescribeAddon") == ['{"ClusterId": "cls-abcd1234", "AddonName": "eniipamd"}']
    assert addon.version == "3.5.6"


@pytest.mark.parametrize("how", ["ResourceNotFound", "ResourceNotFound.KubeResourceNotFound", "empty"])
def test_get_addon_absent_both_ways(api, session, how):
    if how == "empty":
        api.reply("tke", "DescribeAddon", {"Addons": []})
    else:
        api.fail("tke", "DescribeAddon", how, "addon not found")
    assert session.tke.get_addon("cls-abcd1234", "securitygrouppolicy") is None


def test_get_addon_missing_cluster_is_an_error_not_absence(api, session):
    api.fail("tke", "DescribeAddon", "ResourceNotFound.ClusterNotFound", "no cluster")
    with pytest.raises(CloudError) as e:
        session.tke.get_addon("cls-missing1", "eniipamd")
    assert "--cluster-id" in e.value.hint


def test_describe_addon_values(api, session):
    api.reply("tke", "DescribeAddonValues", {"Values": '{"vpcCni":{"trunkingEni":{"enableSubEni":true}}}',
                                            "DefaultValues": '{"vpcCni":{"trunkingEni":{"enableSubEni":false}}}'})
    got = session.tke.describe_addon_values("cls-abcd1234", "eniipamd")
    assert api.bodies("DescribeAddonValues") == ['{"ClusterId": "cls-abcd1234", "AddonName": "eniipamd"}']
    assert got == AddonValues({"vpcCni": {"trunkingEni": {"enableSubEni": True}}},
                              {"vpcCni": {"trunkingEni": {"enableSubEni": False}}})


def test_describe_addon_values_not_installed_is_empty(api, session):
    api.reply("tke", "DescribeAddonValues", {"Values": "", "DefaultValues": "{}"})
    assert session.tke.describe_addon_values("cls-abcd1234", "x") == AddonValues({}, {})


def test_install_addon_bodies(api, session):
    api.reply("tke", "InstallAddon", {})
    api.reply("tke", "InstallAddon", {})
    session.tke.install_addon("cls-abcd1234", "securitygrouppolicy")
    session.tke.install_addon("cls-abcd1234", "securitygrouppolicy", version="1.0.2", values={"a": 1}, dry_run=True)
    assert api.bodies("InstallAddon") == [
        '{"ClusterId": "cls-abcd1234", "AddonName": "securitygrouppolicy"}',
        '{"ClusterId": "cls-abcd1234", "AddonName": "securitygrouppolicy", "AddonVersion": "1.0.2", '
        '"RawValues": "eyJhIjoxfQ==", "DryRun": true}',
    ]


def test_update_addon_merges_base64_of_compact_json(api, session):
    api.reply("tke", "UpdateAddon", {})
    session.tke.update_addon("cls-abcd1234", "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
    (body,) = api.bodies("UpdateAddon")
    raw = base64.b64encode(b'{"vpcCni":{"trunkingEni":{"enableSubEni":true}}}').decode()
    assert body == ('{"ClusterId": "cls-abcd1234", "AddonName": "eniipamd", "RawValues": "' + raw
                    + '", "UpdateStrategy": "merge"}')


def test_update_addon_version_only_and_replace(api, session):
    api.reply("tke", "UpdateAddon", {})
    session.tke.update_addon("cls-abcd1234", "eniipamd", version="3.6.1", strategy="replace", dry_run=True)
    assert api.bodies("UpdateAddon") == [
        '{"ClusterId": "cls-abcd1234", "AddonName": "eniipamd", "AddonVersion": "3.6.1", '
        '"UpdateStrategy": "replace", "DryRun": true}'
    ]


def test_update_addon_needs_something_to_change(session):
    with pytest.raises(ValueError):
        session.tke.update_addon("cls-abcd1234", "eniipamd")


@pytest.mark.parametrize("lost", ["http500", "dropped"])
def test_update_addon_whose_answer_was_lost_is_not_sent_again(api, session, lost):
    # A second UpdateAddon while the first rolls out may be refused or start another rollout: the
    # caller must look at the add-on first, so the adapter reports "outcome unknown" after one call.
    from sgpctl.cloud.errors import OutcomeUnknownError

    if lost == "http500":
        api.reply("tke", "UpdateAddon", status=500, body="oops")
    else:
        api.reply("tke", "UpdateAddon", body=requests.exceptions.ConnectionError(
            "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"))
    api.reply("tke", "UpdateAddon", {})
    with pytest.raises(OutcomeUnknownError) as e:
        session.tke.update_addon("cls-abcd1234", "eniipamd", values={"a": 1})
    assert len(api.calls("UpdateAddon")) == 1
    assert e.value.exit_code == 3 and "may or may not have been applied" in e.value.hint


def test_delete_addon(api, session):
    api.reply("tke", "DeleteAddon", {})
    session.tke.delete_addon("cls-abcd1234", "securitygrouppolicy")
    assert api.bodies("DeleteAddon") == ['{"ClusterId": "cls-abcd1234", "AddonName": "securitygrouppolicy"}']


def test_get_app_chart_list(api, session):
    api.reply("tke", "GetTkeAppChartList", {"AppCharts": [
        {"Name": "securitygrouppolicy", "Label": "SecurityGroupPolicy", "LatestVersion": "1.0.2"}]})
    api.reply("tke", "GetTkeAppChartList", {"AppCharts": []})
    charts = session.tke.get_app_chart_list(kind="network")
    session.tke.get_app_chart_list(kind="network", arch="amd64")
    assert charts == [Chart("securitygrouppolicy", "SecurityGroupPolicy", "1.0.2")]
    assert api.bodies("GetTkeAppChartList") == [
        '{"Kind": "network", "ClusterType": "tke"}',
        '{"Kind": "network", "Arch": "amd64", "ClusterType": "tke"}',
    ]


def limits(zone, family, itype, sub):
    return {"Zone": zone, "InstanceFamily": family, "InstanceType": itype,
            "PodLimits": {"TKERouteENINonStaticIP": 20, "TKERouteENIStaticIP": 19, "TKEDirectENI": 7, "TKESubENI": sub}}


def test_describe_vpc_cni_pod_limits_filters_client_side(api, session):
    api.reply("tke", "DescribeVpcCniPodLimits", {"TotalCount": 3, "PodLimitsInstanceSet": [
        limits("ap-guangzhou-3", "S5", "S5.LARGE8", 16),
        limits("ap-guangzhou-3", "SA2", "SA2.LARGE8", 24),
        limits("ap-guangzhou-4", "S5", "S5.LARGE8", 16),
    ]})
    got = session.tke.describe_vpc_cni_pod_limits(zone="ap-guangzhou-3", family="S5")
    assert api.bodies("DescribeVpcCniPodLimits") == ['{"Zone": "ap-guangzhou-3", "InstanceFamily": "S5"}']
    assert got == [PodLimits("ap-guangzhou-3", "S5", "S5.LARGE8", 20, 19, 7, 16)]


def test_describe_vpc_cni_pod_limits_by_type(api, session):
    api.reply("tke", "DescribeVpcCniPodLimits", {"PodLimitsInstanceSet": [limits("z", "S5", "S5.LARGE8", 16),
                                                                         limits("z", "S5", "S5.2XLARGE16", 32)]})
    got = session.tke.describe_vpc_cni_pod_limits(instance_type="S5.2XLARGE16")
    assert api.bodies("DescribeVpcCniPodLimits") == ['{"InstanceType": "S5.2XLARGE16"}']
    assert [p.sub_eni for p in got] == [32]


def node(i: int) -> dict:
    return {"InstanceId": f"ins-{i:08d}", "InstanceRole": "WORKER", "InstanceState": "running",
            "LanIP": f"10.0.0.{i % 250}", "NodePoolId": "np-1"}


def test_describe_cluster_instances_pages_by_100(api, session):
    """The first page's TotalCount (250) tells the other two offsets: they are asked for at once,
    so each answer follows the Offset it was asked with, and the result keeps the listing's order."""
    import json as _json

    from tests.cloud.conftest import action_matcher, envelope

    def answer(request):
        offset = _json.loads(request.body)["Offset"]
        return 200, {}, _json.dumps(envelope({"TotalCount": 250, "InstanceSet": [node(i) for i in range(offset, min(offset + 100, 250))]}))

    api.rsps.add_callback("POST", api.url("tke"), callback=answer, content_type="application/json",
                          match=[action_matcher("DescribeClusterInstances")])

    got = session.tke.describe_cluster_instances("cls-abcd1234")

    assert [i.instance_id for i in got] == [f"ins-{i:08d}" for i in range(250)]
    assert got[0] == ClusterInstance("ins-00000000", "WORKER", "running", "10.0.0.0", "np-1")
    bodies = api.bodies("DescribeClusterInstances")
    assert bodies[0] == '{"ClusterId": "cls-abcd1234", "Offset": 0, "Limit": 100}'
    assert sorted(bodies[1:]) == [
        '{"ClusterId": "cls-abcd1234", "Offset": 100, "Limit": 100}',
        '{"ClusterId": "cls-abcd1234", "Offset": 200, "Limit": 100}',
    ]


def test_describe_cluster_instances_by_ids(api, session):
    api.reply("tke", "DescribeClusterInstances", {"TotalCount": 2, "InstanceSet": [node(1), node(2)]})
    got = session.tke.describe_cluster_instances("cls-abcd1234", ["ins-00000001", "ins-00000002", "ins-00000001"])
    assert [i.instance_id for i in got] == ["ins-00000001", "ins-00000002"]
    assert api.bodies("DescribeClusterInstances") == [
        '{"ClusterId": "cls-abcd1234", "Offset": 0, "Limit": 100, "InstanceIds": ["ins-00000001", "ins-00000002"]}'
    ]
