"""The adapter calls behind `eni leaks`, `sg delete` and the fleet options: the exact bodies the SDK
sends, batching and paging, and "not found" read as gone."""

from __future__ import annotations

import json

import pytest

from sgpctl.cloud.types import ClusterEndpoints, Region
from sgpctl.errors import CloudError


def eni(i: int, instance: str) -> dict:
    return {"NetworkInterfaceId": f"eni-{i:08d}", "GroupSet": ["sg-web00001"], "PrivateIpAddressSet": [],
            "Attachment": {"InstanceId": instance, "DeviceIndex": 1}, "EniType": 2, "Primary": False,
            "CreatedTime": "2026-02-01 08:00:00"}


def test_enis_of_12_instances_take_three_filtered_calls_of_5_5_2_each_paged(api, session):
    instances = [f"ins-{i:08d}" for i in range(12)]
    api.reply("vpc", "DescribeNetworkInterfaces", {"TotalCount": 150, "NetworkInterfaceSet": [eni(i, instances[0]) for i in range(100)]})
    api.reply("vpc", "DescribeNetworkInterfaces", {"TotalCount": 150, "NetworkInterfaceSet": [eni(i, instances[0]) for i in range(100, 150)]})
    api.reply("vpc", "DescribeNetworkInterfaces", {"TotalCount": 1, "NetworkInterfaceSet": [eni(150, instances[5])]})
    api.reply("vpc", "DescribeNetworkInterfaces", {"TotalCount": 0, "NetworkInterfaceSet": []})

    got = session.vpc.describe_instance_network_interfaces(instances + instances[:3], concurrency=1)

    assert len(got) == 151 and got[0].created_time == "2026-02-01 08:00:00" and got[0].eni_type == 2
    bodies = [json.loads(b) for b in api.bodies("DescribeNetworkInterfaces")]
    assert [b["Filters"] for b in bodies] == [
        [{"Name": "attachment.instance-id", "Values": instances[:5]}],
        [{"Name": "attachment.instance-id", "Values": instances[:5]}],
        [{"Name": "attachment.instance-id", "Values": instances[5:10]}],
        [{"Name": "attachment.instance-id", "Values": instances[10:]}],
    ]
    assert [(b["Offset"], b["Limit"]) for b in bodies] == [(0, 100), (100, 100), (0, 100), (0, 100)]


def test_delete_network_interface_and_security_group(api, session):
    api.reply("vpc", "DeleteNetworkInterface", {})
    api.fail("vpc", "DeleteNetworkInterface", "ResourceNotFound", "gone")
    api.reply("vpc", "DeleteSecurityGroup", {})
    api.fail("vpc", "DeleteSecurityGroup", "ResourceNotFound", "gone")
    assert session.vpc.delete_network_interface("eni-00000001") is True
    assert session.vpc.delete_network_interface("eni-00000001") is False   # already gone
    assert session.vpc.delete_security_group("sg-00000001") is True
    assert session.vpc.delete_security_group("sg-00000001") is False
    assert api.bodies("DeleteNetworkInterface") == ['{"NetworkInterfaceId": "eni-00000001"}'] * 2
    assert api.bodies("DeleteSecurityGroup") == ['{"SecurityGroupId": "sg-00000001"}'] * 2


def test_a_refused_sub_eni_delete_is_the_apis_error(api, session):
    api.fail("vpc", "DeleteNetworkInterface", "UnsupportedOperation", "relayed ENI")
    with pytest.raises(CloudError) as e:
        session.vpc.delete_network_interface("eni-00000001")
    assert e.value.code == "UnsupportedOperation" and len(api.calls("DeleteNetworkInterface")) == 1


def test_a_delete_whose_answer_was_lost_is_sent_again(api, session):
    api.reply("vpc", "DeleteNetworkInterface", status=502, body=b"<html>502</html>")
    api.fail("vpc", "DeleteNetworkInterface", "ResourceNotFound", "gone")
    assert session.vpc.delete_network_interface("eni-00000001") is False   # the first one deleted it
    assert len(api.calls("DeleteNetworkInterface")) == 2


def cluster(cid: str) -> dict:
    return {"ClusterId": cid, "ClusterName": cid[-4:], "ClusterNetworkSettings": {"VpcId": "vpc-1"},
            "Property": json.dumps({"NetworkType": "VPC-CNI"})}


def test_describe_clusters_pages_every_cluster_of_the_region(api, session):
    api.reply("tke", "DescribeClusters", {"TotalCount": 101, "Clusters": [cluster(f"cls-{i:08d}") for i in range(100)]})
    api.reply("tke", "DescribeClusters", {"TotalCount": 101, "Clusters": [cluster("cls-00000100")]})
    got = session.tke.describe_clusters()
    assert len(got) == 101 and got[0].name == "0000" and got[0].network_type == "VPC-CNI"
    assert api.bodies("DescribeClusters") == ['{"Offset": 0, "Limit": 100}', '{"Offset": 100, "Limit": 100}']


def test_endpoints_kubeconfig_and_regions(api, session):
    api.reply("tke", "DescribeClusterEndpoints", {"ClusterIntranetEndpoint": "10.0.0.5", "ClusterExternalEndpoint": "",
                                                  "ClusterDomain": "cls-00000001.ccs.tencent-cloud.com",
                                                  "ClusterExternalDomain": "", "ClusterIntranetDomain": ""})
    api.reply("tke", "DescribeClusterKubeconfig", {"Kubeconfig": "apiVersion: v1\n"})
    api.reply("tke", "DescribeRegions", {"TotalCount": 2, "RegionInstanceSet": [
        {"RegionName": "ap-guangzhou", "RegionId": 1, "Status": "alluser"}, {"RegionName": "ap-x", "RegionId": 2}]})

    got = session.tke.describe_cluster_endpoints("cls-00000001")
    assert got == ClusterEndpoints("cls-00000001", None, "10.0.0.5", "cls-00000001.ccs.tencent-cloud.com")
    assert got.addresses() == ("10.0.0.5", "cls-00000001.ccs.tencent-cloud.com")
    assert session.tke.describe_cluster_kubeconfig("cls-00000001", extranet=True) == "apiVersion: v1\n"
    assert api.bodies("DescribeClusterKubeconfig") == ['{"ClusterId": "cls-00000001", "IsExtranet": true}']
    assert session.tke.describe_regions() == [Region("ap-guangzhou", "alluser"), Region("ap-x")]
