"""Regions and VPCs of the sandbox's cloud endpoint: every real region answers (empty where the
sandbox holds nothing), only a name that is no region answers UnsupportedRegion with the real
API's text; TKE and CVM DescribeRegions; VPC DescribeVpcs. The real region list is read from the
installed SDK's CVM ZoneInfo documentation, independently of the sandbox's table."""

from __future__ import annotations

import re

import pytest

from sgpctl.sandbox.cloud.testkit import CLUSTER_ID, VPC_ID, request, sdk_client

# Seen on the real API (TencentCloud/tencentcloud-sdk-php#46).
UNSUPPORTED = ("UnsupportedRegion", "The action not support this region.")


def sdk_regions() -> set[str]:
    """The regions the SDK's CVM ZoneInfo docs list zones for (``<region>-<n>``)."""
    import tencentcloud.cvm.v20170312.models as cvm

    zones = re.findall(r"<li>\s*([a-z]+-[a-z-]+-\d+)", cvm.ZoneInfo.__init__.__doc__)
    return {z.rsplit("-", 1)[0] for z in zones}


def error(cloud, service: str, action: str, region: str, **params) -> tuple[str, str]:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    try:
        getattr(sdk_client(service, cloud.endpoint, region=region), action)(request(service, action, **params))
    except TencentCloudSDKException as exc:
        return exc.code, exc.message
    raise AssertionError(f"{action} in {region} succeeded")


def test_describe_regions_lists_every_real_region_in_tke_and_cvm(cloud):
    expected = sdk_regions()
    assert {"ap-guangzhou", "ap-shanghai", "ap-jakarta", "sa-saopaulo", "na-ashburn", "eu-frankfurt"} <= expected
    tke = cloud.call("tke", "DescribeRegions")
    assert {r.RegionName for r in tke.RegionInstanceSet} == expected and tke.TotalCount == len(expected)
    gz = next(r for r in tke.RegionInstanceSet if r.RegionName == "ap-guangzhou")
    assert (gz.RegionId, gz.Alias, gz.Status) == (1, "gz", "alluser")
    cvm = cloud.call("cvm", "DescribeRegions")
    assert {r.Region for r in cvm.RegionSet} == expected and cvm.TotalCount == len(expected)
    assert {r.RegionState for r in cvm.RegionSet} == {"AVAILABLE"}
    # The names of CVM's own example.
    names = {r.Region: r.RegionName for r in cvm.RegionSet}
    assert (names["ap-guangzhou"], names["ap-singapore"]) == ("华南地区(广州)", "亚太东南(新加坡)")


def test_describe_regions_needs_no_region(cloud):
    assert sdk_client("cvm", cloud.endpoint, region="").DescribeRegions(request("cvm", "DescribeRegions")).TotalCount
    assert sdk_client("tke", cloud.endpoint, region="").DescribeRegions(request("tke", "DescribeRegions")).TotalCount


@pytest.mark.parametrize("region", sorted(sdk_regions() - {"ap-guangzhou"}))
def test_every_other_real_region_answers_empty(cloud, region):
    for service, action, key in (("tke", "DescribeClusters", "Clusters"), ("vpc", "DescribeVpcs", "VpcSet"),
                                 ("vpc", "DescribeSecurityGroups", "SecurityGroupSet"),
                                 ("vpc", "DescribeNetworkInterfaces", "NetworkInterfaceSet"),
                                 ("cvm", "DescribeInstances", "InstanceSet")):
        resp = getattr(sdk_client(service, cloud.endpoint, region=region), action)(request(service, action))
        assert (resp.TotalCount, getattr(resp, key)) == (0, []), (service, action)
    # A cluster of another region is not found there.
    assert error(cloud, "tke", "DescribeClusterKubeconfig", region, ClusterId=CLUSTER_ID)[0] == \
        "ResourceNotFound.ClusterNotFound"


@pytest.mark.parametrize("region", ["ap-nowhere", "gz", "ap-guangzhou-3", "eu-moscow"])
def test_a_name_that_is_no_region_is_unsupported_with_the_real_text(cloud, region):
    # eu-moscow is retired: the SDK lists no zones there and DescribeRegions does not list it.
    assert error(cloud, "tke", "DescribeClusters", region) == UNSUPPORTED
    assert error(cloud, "vpc", "DescribeVpcs", region) == UNSUPPORTED


def test_describe_vpcs_lists_the_vpc_of_the_cluster(cloud):
    resp = cloud.call("vpc", "DescribeVpcs")
    assert resp.TotalCount == 1
    vpc = resp.VpcSet[0]
    assert (vpc.VpcId, vpc.CidrBlock, vpc.IsDefault) == (VPC_ID, "10.0.0.0/16", False)
    assert cloud.call("tke", "DescribeClusters").Clusters[0].ClusterNetworkSettings.VpcId == vpc.VpcId


def test_describe_vpcs_filters_ids_and_paging(cloud):
    cloud.state.add_vpc("vpc-other001", "staging network", "192.168.0.0/16")
    call = lambda **p: cloud.call("vpc", "DescribeVpcs", **p)  # noqa: E731
    assert call().TotalCount == 2
    # The official example filters a CIDR by its network address.
    by_cidr = call(Filters=[{"Name": "cidr-block", "Values": ["192.168.0.0", "10.9.0.0"]}])
    assert [v.VpcId for v in by_cidr.VpcSet] == ["vpc-other001"]
    assert [v.VpcId for v in call(Filters=[{"Name": "vpc-name", "Values": ["staging"]}]).VpcSet] == ["vpc-other001"]
    assert call(Filters=[{"Name": "is-default", "Values": ["false"]}]).TotalCount == 2
    assert [v.VpcId for v in call(VpcIds=[VPC_ID, "vpc-nothere1"]).VpcSet] == [VPC_ID]
    page = call(Limit="1", Offset="1")
    assert page.TotalCount == 2 and len(page.VpcSet) == 1
    assert cloud.error_code("vpc", "DescribeVpcs", VpcIds=[VPC_ID], Filters=[{"Name": "vpc-id", "Values": [VPC_ID]}]) \
        == "InvalidParameter.Coexist"
    assert cloud.error_code("vpc", "DescribeVpcs", VpcIds=["vpc-x"]) == "InvalidParameterValue.Malformed"
    assert cloud.error_code("vpc", "DescribeVpcs", Filters=[{"Name": "colour", "Values": ["x"]}]) \
        == "InvalidParameter.FilterInvalidKey"
    assert cloud.error_code("vpc", "DescribeVpcs", Limit="101") == "InvalidParameterValue.Range"


def test_a_state_saved_before_vpcs_were_kept_gets_them_from_its_subnets(cloud):
    from sgpctl.sandbox.cloud.state import CloudState

    saved = cloud.state.to_dict()
    del saved["vpcs"]
    vpcs = CloudState.from_dict(saved).vpcs
    # The demo subnets 10.0.1.0/24 and 10.0.2.0/24: the smallest network holding both.
    assert {v: d["CidrBlock"] for v, d in vpcs.items()} == {VPC_ID: "10.0.0.0/22"}
