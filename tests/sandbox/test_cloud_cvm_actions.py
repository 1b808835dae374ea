"""CVM actions of the sandbox through the official CvmClient."""

from __future__ import annotations


def test_describe_instances_fields(cloud):
    inst = cloud.call("cvm", "DescribeInstances", InstanceIds=["ins-s8big001"]).InstanceSet[0]
    assert (inst.InstanceType, inst.CPU, inst.Memory) == ("S8.16XLARGE256", 64, 256)
    assert inst.Placement.Zone == "ap-guangzhou-3"
    assert inst.PrivateIpAddresses == ["10.0.1.11"]
    assert inst.SecurityGroupIds == ["sg-node0001"]
    assert (inst.VirtualPrivateCloud.VpcId, inst.VirtualPrivateCloud.SubnetId) == ("vpc-demo0001", "subnet-aaaa1111")
    assert inst.InstanceState == "RUNNING"


def test_unknown_ids_are_absent_not_errors(cloud):
    resp = cloud.call("cvm", "DescribeInstances", InstanceIds=["ins-s5node01", "ins-zzzzzzzz"])
    assert resp.TotalCount == 1 and [i.InstanceId for i in resp.InstanceSet] == ["ins-s5node01"]


def test_describe_instances_errors(cloud):
    assert cloud.error_code("cvm", "DescribeInstances", InstanceIds=["i-123"]) == "InvalidInstanceId.Malformed"
    assert cloud.error_code("cvm", "DescribeInstances", InstanceIds=[f"ins-{i:08d}" for i in range(101)]) == "InvalidParameterValue.LimitExceeded"
    assert cloud.error_code("cvm", "DescribeInstances", InstanceIds=["ins-s5node01"],
                   Filters=[{"Name": "zone", "Values": ["ap-guangzhou-3"]}]) == "InvalidParameterCoexistInstanceIdsFilters"
    assert cloud.error_code("cvm", "DescribeInstances", Filters=[{"Name": "colour", "Values": ["x"]}]) == "InvalidFilter"
    assert cloud.error_code("cvm", "DescribeInstances", Limit=101) == "InvalidParameterValue.LimitExceeded"


def test_describe_instances_filters_and_paging(cloud):
    def ids(name, values):
        resp = cloud.call("cvm", "DescribeInstances", Filters=[{"Name": name, "Values": values}])
        return sorted(i.InstanceId for i in resp.InstanceSet)

    assert ids("zone", ["ap-guangzhou-3"]) == ["ins-s5node01", "ins-s8big001"]
    assert ids("instance-family", ["SA5"]) == ["ins-sa5node1"]
    assert ids("instance-type", ["S5.LARGE8"]) == ["ins-s5node01"]
    assert ids("private-ip-address", ["10.0.2.10"]) == ["ins-sa5node1"]
    assert ids("vpc-id", ["vpc-other"]) == []
    assert ids("security-group-id", ["sg-node0001"]) == ["ins-s5node01", "ins-s8big001", "ins-sa5node1"]
    first = cloud.call("cvm", "DescribeInstances", Limit=2)
    second = cloud.call("cvm", "DescribeInstances", Limit=2, Offset=2)
    assert first.TotalCount == second.TotalCount == 3
    assert len(first.InstanceSet) + len(second.InstanceSet) == 3


def test_instance_type_configs(cloud):
    resp = cloud.call("cvm", "DescribeInstanceTypeConfigs", Filters=[{"Name": "instance-family", "Values": ["SA2"]}])
    by_type = {(c.InstanceType, c.Zone): c for c in resp.InstanceTypeConfigSet}
    assert by_type[("SA2.22XLARGE224", "ap-guangzhou-3")].CPU == 90  # not what the size name suggests
    assert {c.InstanceFamily for c in resp.InstanceTypeConfigSet} == {"SA2"}
    one = cloud.call("cvm", "DescribeInstanceTypeConfigs", Filters=[
        {"Name": "instance-type", "Values": ["S5.LARGE8"]}, {"Name": "zone", "Values": ["ap-guangzhou-4"]}])
    assert [(c.InstanceType, c.Zone, c.CPU, c.Memory) for c in one.InstanceTypeConfigSet] == [
        ("S5.LARGE8", "ap-guangzhou-4", 4, 8)]
    assert cloud.error_code("cvm", "DescribeInstanceTypeConfigs", Filters=[{"Name": "zone", "Values": ["a", "b"]}]) == "InvalidFilterValue.LimitExceeded"
    assert cloud.error_code("cvm", "DescribeInstanceTypeConfigs", Filters=[{"Name": "gpu", "Values": ["1"]}]) == "InvalidFilter"
