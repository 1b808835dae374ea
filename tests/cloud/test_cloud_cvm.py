"""CVM adapter: batching, Limit 100, family derivation, type configs."""

from __future__ import annotations

import json

from sgpctl.cloud.types import Instance, InstanceTypeConfig
from tests.cloud.conftest import assert_headers, read_250_ids_in_three_calls


def inst(i: int, itype: str = "S5.LARGE8") -> dict:
    return {"InstanceId": f"ins-{i:08d}", "InstanceType": itype, "CPU": 4, "Memory": 8, "InstanceName": f"n{i}",
            "InstanceState": "RUNNING", "Placement": {"Zone": "ap-guangzhou-3", "ProjectId": 0},
            "PrivateIpAddresses": [f"10.0.1.{i % 250}"], "SecurityGroupIds": ["sg-node"],
            "VirtualPrivateCloud": {"VpcId": "vpc-1", "SubnetId": "subnet-1"}}


def test_describe_instances_250_ids_three_calls(api, session):
    got = read_250_ids_in_three_calls(api, "cvm", "DescribeInstances", [f"ins-{i:08d}" for i in range(250)],
                                      ids_key="InstanceIds", set_key="InstanceSet", item=inst,
                                      read=session.cvm.describe_instances)

    assert got[0] == Instance("ins-00000000", "S5.LARGE8", "S5", 4, 8, "ap-guangzhou-3", ("10.0.1.0",), "vpc-1",
                              "subnet-1", ("sg-node",), "RUNNING", "n0")
    assert_headers(api.calls()[0], "cvm", region="ap-guangzhou")


def test_describe_instances_by_filters_pages(api, session):
    api.reply("cvm", "DescribeInstances", {"TotalCount": 101, "InstanceSet": [inst(i) for i in range(100)]})
    api.reply("cvm", "DescribeInstances", {"TotalCount": 101, "InstanceSet": [inst(100, "SA2.22XLARGE224")]})
    got = session.cvm.describe_instances(filters={"vpc-id": "vpc-1"})
    assert (len(got), got[-1].family) == (101, "SA2")
    assert api.bodies("DescribeInstances") == [
        '{"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}], "Offset": 0, "Limit": 100}',
        '{"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}], "Offset": 100, "Limit": 100}',
    ]


def test_describe_instances_unknown_id_error_is_narrowed(api, session):
    api.fail("cvm", "DescribeInstances", "InvalidInstanceId.NotFound", "The instance `ins-gone0001` does not exist.")
    api.reply("cvm", "DescribeInstances", {"TotalCount": 1, "InstanceSet": [inst(1)]})
    got = session.cvm.describe_instances(["ins-00000001", "ins-gone0001"])
    assert [i.instance_id for i in got] == ["ins-00000001"]
    assert json.loads(api.bodies("DescribeInstances")[1])["InstanceIds"] == ["ins-00000001"]


def test_describe_instance_type_configs(api, session):
    api.reply("cvm", "DescribeInstanceTypeConfigs", {"InstanceTypeConfigSet": [
        {"Zone": "ap-guangzhou-3", "InstanceType": "S5.LARGE8", "InstanceFamily": "S5", "CPU": 4, "Memory": 8, "GPU": 0}]})
    api.reply("cvm", "DescribeInstanceTypeConfigs", {"InstanceTypeConfigSet": []})

    got = session.cvm.describe_instance_type_configs(family="S5", zone="ap-guangzhou-3")
    session.cvm.describe_instance_type_configs()

    assert got == [InstanceTypeConfig("S5.LARGE8", "S5", 4, 8, "ap-guangzhou-3", 0)]
    assert api.bodies("DescribeInstanceTypeConfigs") == [
        '{"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}, {"Name": "instance-family", "Values": ["S5"]}]}',
        "{}",
    ]
