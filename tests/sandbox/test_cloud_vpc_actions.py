"""VPC actions of the sandbox through the official VpcClient, and the ENI state methods the
simulated eniipamd uses."""

from __future__ import annotations


import pytest

from sgpctl.sandbox.cloud.errors import ApiError


def sub_eni(cloud, token, node="ins-sa5node1", groups=("sg-app00001",), name="pod-a"):
    return cloud.state.create_sub_eni(token, node, None, None, list(groups), name)


# --- security groups ----------------------------------------------------------------------------


def test_create_security_group(cloud):
    sg = cloud.call("vpc", "CreateSecurityGroup", GroupName="pods-db", GroupDescription="db pods", ProjectId="0",
                    Tags=[{"Key": "team", "Value": "db"}]).SecurityGroup
    assert sg.SecurityGroupId.startswith("sg-") and len(sg.SecurityGroupId) == 11
    assert sg.SecurityGroupId[3:].isalnum() and sg.SecurityGroupId == sg.SecurityGroupId.lower()
    assert (sg.SecurityGroupName, sg.SecurityGroupDesc, sg.IsDefault) == ("pods-db", "db pods", False)
    assert [(t.Key, t.Value) for t in sg.TagSet] == [("team", "db")]
    assert cloud.state.security_group(sg.SecurityGroupId)["SecurityGroupName"] == "pods-db"
    assert cloud.error_code("vpc", "CreateSecurityGroup", GroupName="x" * 61, GroupDescription="d") == "InvalidParameterValue.TooLong"
    assert cloud.error_code("vpc", "CreateSecurityGroup", GroupName="no-description") == "MissingParameter"


def test_security_group_quota(cloud):
    cloud.state.options["security_group_limit"] = 3
    cloud.call("vpc", "CreateSecurityGroup", GroupName="third", GroupDescription="d")
    assert cloud.error_code("vpc", "CreateSecurityGroup", GroupName="fourth", GroupDescription="d") == "LimitExceeded"


def test_describe_security_groups_by_id_and_errors(cloud):
    resp = cloud.call("vpc", "DescribeSecurityGroups", SecurityGroupIds=["sg-app00001", "sg-node0001"])
    assert [g.SecurityGroupId for g in resp.SecurityGroupSet] == ["sg-app00001", "sg-node0001"]
    assert resp.TotalCount == 2
    # The codes DescribeSecurityGroups documents (Go SDK error list): unknown id, malformed id.
    assert cloud.error_code("vpc", "DescribeSecurityGroups", SecurityGroupIds=["sg-app00001", "sg-zzzzzzzz"]) == "ResourceNotFound"
    assert cloud.error_code("vpc", "DescribeSecurityGroups", SecurityGroupIds=["sg-APP"]) == "InvalidParameterValue.Malformed"
    assert cloud.error_code("vpc", "DescribeSecurityGroups", SecurityGroupIds=["sg-app00001"],
                   Filters=[{"Name": "security-group-name", "Values": ["app"]}]) == "InvalidParameter.Coexist"
    assert cloud.error_code("vpc", "DescribeSecurityGroups", SecurityGroupIds=[f"sg-{i:08d}" for i in range(101)]) == "InvalidParameterValue.LimitExceeded"


def test_describe_security_groups_filters(cloud):
    def ids(*filters):
        resp = cloud.call("vpc", "DescribeSecurityGroups", Filters=[{"Name": n, "Values": v} for n, v in filters])
        return sorted(g.SecurityGroupId for g in resp.SecurityGroupSet)

    assert ids(("security-group-name", ["app"])) == ["sg-app00001"]
    assert ids(("security-group-id", ["sg-node0001", "sg-app00001"])) == ["sg-app00001", "sg-node0001"]
    assert ids(("tag-key", ["team"])) == ["sg-app00001"]
    assert ids(("tag:team", ["web"])) == ["sg-app00001"]
    assert ids(("tag:team", ["db"])) == []
    assert ids(("security-group-name", ["app", "tke-node"]), ("tag-key", ["team"])) == ["sg-app00001"]
    assert cloud.error_code("vpc", "DescribeSecurityGroups", Filters=[{"Name": "colour", "Values": ["red"]}]) == "InvalidParameter.FilterInvalidKey"


def test_describe_security_groups_paging_with_string_offsets(cloud):
    for i in range(5):
        cloud.call("vpc", "CreateSecurityGroup", GroupName=f"g{i}", GroupDescription="d")
    first = cloud.call("vpc", "DescribeSecurityGroups", Offset="0", Limit="4")
    second = cloud.call("vpc", "DescribeSecurityGroups", Offset="4", Limit="4")
    assert first.TotalCount == second.TotalCount == 7
    assert len(first.SecurityGroupSet) == 4 and len(second.SecurityGroupSet) == 3
    assert not {g.SecurityGroupId for g in first.SecurityGroupSet} & {g.SecurityGroupId for g in second.SecurityGroupSet}
    assert cloud.error_code("vpc", "DescribeSecurityGroups", Limit="101") == "InvalidParameterValue.Range"
    assert cloud.error_code("vpc", "DescribeSecurityGroups", Limit="ten") == "InvalidParameterValue.Malformed"


def test_security_group_policies(cloud):
    cloud.call("vpc", "CreateSecurityGroupPolicies", SecurityGroupId="sg-app00001", SecurityGroupPolicySet={
        "Ingress": [{"Protocol": "TCP", "Port": "80,443", "CidrBlock": "10.0.0.0/16", "Action": "ACCEPT",
                     "PolicyDescription": "web"}]})
    cloud.call("vpc", "CreateSecurityGroupPolicies", SecurityGroupId="sg-app00001", SecurityGroupPolicySet={
        "Version": "1", "Egress": [{"Protocol": "ALL", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}]})
    rules = cloud.call("vpc", "DescribeSecurityGroupPolicies", SecurityGroupId="sg-app00001").SecurityGroupPolicySet
    assert rules.Version == "2"
    assert [(r.Protocol, r.Port, r.CidrBlock, r.Action, r.PolicyIndex) for r in rules.Ingress] == [
        ("TCP", "80,443", "10.0.0.0/16", "ACCEPT", 0)]
    assert [(r.Protocol, r.Port, r.Action) for r in rules.Egress] == [("ALL", "ALL", "ACCEPT")]
    assert rules.PolicyStatistics.IngressIPv4TotalCount == 1 and rules.PolicyStatistics.EgressIPv4TotalCount == 1
    stale = {"Version": "1", "Ingress": [{"Protocol": "TCP", "Port": "22", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}]}
    assert cloud.error_code("vpc", "CreateSecurityGroupPolicies", SecurityGroupId="sg-app00001",
                   SecurityGroupPolicySet=stale) == "UnsupportedOperation.VersionMismatch"
    assert cloud.error_code("vpc", "CreateSecurityGroupPolicies", SecurityGroupId="sg-app00001", SecurityGroupPolicySet={
        "Ingress": [{"Protocol": "TCP", "Action": "MAYBE"}]}) == "InvalidParameterValue"
    assert cloud.error_code("vpc", "DescribeSecurityGroupPolicies", SecurityGroupId="sg-zzzzzzzz") == "ResourceNotFound"
    assert cloud.error_code("vpc", "DescribeSecurityGroupPolicies", SecurityGroupId="sg-1") == "InvalidParameterValue.Malformed"
    assert cloud.error_code("vpc", "CreateSecurityGroupPolicies", SecurityGroupId="sg-zzzzzzzz", SecurityGroupPolicySet={
        "Ingress": [{"Protocol": "TCP", "Port": "80", "Action": "ACCEPT"}]}) == "ResourceNotFound"


def test_security_group_limits(cloud):
    limits = cloud.call("vpc", "DescribeSecurityGroupLimits").SecurityGroupLimitSet
    assert limits.InstanceSecurityGroupLimit == 5 and limits.SecurityGroupLimit == 50


# --- ENIs ---------------------------------------------------------------------------------------


def test_primary_enis_exist_for_every_instance(cloud):
    resp = cloud.call("vpc", "DescribeNetworkInterfaces", Filters=[{"Name": "eni-type", "Values": ["1"]}])
    assert resp.TotalCount == 3
    by_node = {e.Attachment.InstanceId: e for e in resp.NetworkInterfaceSet}
    eni = by_node["ins-sa5node1"]
    assert eni.Primary is True and eni.EniType == 1 and eni.GroupSet == ["sg-node0001"]
    assert eni.PrivateIpAddressSet[0].PrivateIpAddress == "10.0.2.10" and eni.Attachment.DeviceIndex == 0
    assert eni.NetworkInterfaceId.startswith("eni-") and eni.Zone == "ap-guangzhou-4"


def test_sub_enis_are_idempotent_by_client_token_and_visible(cloud):
    a = sub_eni(cloud, "tok-pod-a")
    again = sub_eni(cloud, "tok-pod-a", groups=["sg-node0001"])  # same token: the same ENI, unchanged
    assert again["NetworkInterfaceId"] == a["NetworkInterfaceId"] and again["GroupSet"] == ["sg-app00001"]
    b = sub_eni(cloud, "tok-pod-b", groups=["sg-app00001", "sg-node0001"], name="pod-b")
    resp = cloud.call("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=[a["NetworkInterfaceId"], b["NetworkInterfaceId"]])
    got = {e.NetworkInterfaceId: e for e in resp.NetworkInterfaceSet}
    assert got[b["NetworkInterfaceId"]].GroupSet == ["sg-app00001", "sg-node0001"]
    sub = got[a["NetworkInterfaceId"]]
    # EniType 2 is the SDK's "中继网卡" (relayed ENI): what VPC calls a sub-ENI.
    assert sub.Attachment.InstanceId == "ins-sa5node1" and sub.EniType == 2 and sub.Primary is False
    assert sub.NetworkInterfaceName == "pod-a" and "sub-ENI of trunk eni-" in sub.NetworkInterfaceDescription
    assert sub.PrivateIpAddressSet[0].PrivateIpAddress.startswith("10.0.2.")  # from the node's subnet
    subs = cloud.call("vpc", "DescribeNetworkInterfaces", Filters=[
        {"Name": "eni-type", "Values": ["2"]}, {"Name": "attachment.instance-id", "Values": ["ins-sa5node1"]}])
    assert sorted(e.NetworkInterfaceId for e in subs.NetworkInterfaceSet) == sorted(
        [a["NetworkInterfaceId"], b["NetworkInterfaceId"]])
    # The trunk is a secondary ENI (EniType 0) of the node: the trunk flag is not a type.
    trunk = cloud.call("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=[a["_trunk"]]).NetworkInterfaceSet[0]
    assert trunk.EniType == 0 and trunk.Attachment.InstanceId == "ins-sa5node1"


def test_sub_eni_refusals(cloud):
    with pytest.raises(ApiError) as exc:
        sub_eni(cloud, "t1", groups=["sg-zzzzzzzz"])
    assert exc.value.code == "ResourceNotFound"
    with pytest.raises(ApiError) as exc:
        sub_eni(cloud, "t2", node="ins-nothere1")
    assert exc.value.code == "InvalidInstanceId.NotFound"
    with pytest.raises(ApiError) as exc:
        sub_eni(cloud, "t3", node="ins-s5node01")  # S5 is not a supported family: quota 0
    assert exc.value.code == "LimitExceeded"
    with pytest.raises(ApiError) as exc:
        sub_eni(cloud, "t4", groups=["sg-app00001"] * 1 + [f"sg-x000000{i}" for i in range(5)])
    assert exc.value.code == "LimitExceeded"


def test_sub_eni_quota_is_enforced(cloud):
    cloud.state.set_sub_eni_quota("ins-sa5node1", 2)
    sub_eni(cloud, "q1")
    sub_eni(cloud, "q2")
    with pytest.raises(ApiError) as exc:
        sub_eni(cloud, "q3")
    assert exc.value.code == "LimitExceeded"
    assert cloud.call("vpc", "DescribeNetworkInterfaceLimit", InstanceId="ins-sa5node1").SubEniQuantity == 2


def test_network_interface_limit(cloud):
    big = cloud.call("vpc", "DescribeNetworkInterfaceLimit", InstanceId="ins-s8big001")
    assert big.SubEniQuantity == 256 and big.EniQuantity >= 2
    assert cloud.call("vpc", "DescribeNetworkInterfaceLimit", InstanceId="ins-sa5node1").SubEniQuantity == 100
    assert cloud.call("vpc", "DescribeNetworkInterfaceLimit", InstanceId="ins-s5node01").SubEniQuantity == 0
    assert cloud.error_code("vpc", "DescribeNetworkInterfaceLimit", InstanceId="ins-nothere1") == "InvalidInstanceId.NotFound"
    assert cloud.error_code("vpc", "DescribeNetworkInterfaceLimit", InstanceId="bogus") == "InvalidParameterValue.Malformed"


def test_describe_network_interfaces_filters(cloud):
    a = sub_eni(cloud, "f1", groups=["sg-app00001"], name="pod-a")

    def ids(*filters):
        resp = cloud.call("vpc", "DescribeNetworkInterfaces", Filters=[{"Name": n, "Values": v} for n, v in filters], Limit=100)
        return {e.NetworkInterfaceId for e in resp.NetworkInterfaceSet}

    assert ids(("groups.security-group-id", ["sg-app00001"])) == {a["NetworkInterfaceId"]}
    assert ids(("network-interface-name", ["pod-a"])) == {a["NetworkInterfaceId"]}
    assert a["NetworkInterfaceId"] in ids(("attachment.instance-id", ["ins-sa5node1"]))
    assert len(ids(("vpc-id", ["vpc-demo0001"]))) == 5  # 3 primaries, 1 trunk, 1 sub-ENI
    assert ids(("subnet-id", ["subnet-aaaa1111"]), ("eni-type", ["1"])) == {
        e["NetworkInterfaceId"] for e in cloud.state.enis.values() if e["SubnetId"] == "subnet-aaaa1111" and e["_kind"] == "primary"}
    assert ids(("network-interface-id", [a["NetworkInterfaceId"]])) == {a["NetworkInterfaceId"]}
    assert cloud.error_code("vpc", "DescribeNetworkInterfaces", Filters=[{"Name": "colour", "Values": ["x"]}]) == "InvalidParameter.FilterInvalidKey"


def test_describe_network_interfaces_ids_paging_and_limits(cloud):
    made = [sub_eni(cloud, f"p{i}", name=f"pod-{i}")["NetworkInterfaceId"] for i in range(7)]
    resp = cloud.call("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=made, Limit=100)
    assert [e.NetworkInterfaceId for e in resp.NetworkInterfaceSet] == made and resp.TotalCount == 7
    seen, offset = [], 0
    while True:
        page = cloud.call("vpc", "DescribeNetworkInterfaces", Filters=[{"Name": "eni-type", "Values": ["2"]}],
                          Offset=offset, Limit=3)
        seen += [e.NetworkInterfaceId for e in page.NetworkInterfaceSet]
        offset += 3
        if offset >= page.TotalCount:
            break
    assert seen == made
    assert cloud.error_code("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=made[:1],
                   Filters=[{"Name": "vpc-id", "Values": ["v"]}]) == "InvalidParameter.Coexist"
    assert cloud.error_code("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=[f"eni-{i:08d}" for i in range(101)]) == "InvalidParameterValue.LimitExceeded"
    assert cloud.error_code("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=["eni-BAD"]) == "InvalidParameterValue.Malformed"
    assert cloud.error_code("vpc", "DescribeNetworkInterfaces", Limit=101) == "InvalidParameterValue.Range"


def test_missing_and_hidden_sub_enis_follow_the_variants(cloud):
    a = sub_eni(cloud, "h1")["NetworkInterfaceId"]
    assert cloud.state.delete_eni(a) is True and cloud.state.delete_eni(a) is False
    assert cloud.call("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=[a]).NetworkInterfaceSet == []
    cloud.state.variants["missing-eni-ids"] = "error"
    assert cloud.error_code("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=[a]) == "ResourceNotFound"
    del cloud.state.variants["missing-eni-ids"]
    b = sub_eni(cloud, "h2")["NetworkInterfaceId"]
    cloud.state.variants["subeni-listed"] = "false"
    assert cloud.call("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=[b]).TotalCount == 0


def test_modify_network_interface_attribute_changes_groups_behind_the_tools_back(cloud):
    a = sub_eni(cloud, "m1")["NetworkInterfaceId"]
    cloud.call("vpc", "ModifyNetworkInterfaceAttribute", NetworkInterfaceId=a, SecurityGroupIds=["sg-node0001"],
               NetworkInterfaceName="renamed")
    eni = cloud.call("vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=[a]).NetworkInterfaceSet[0]
    assert eni.GroupSet == ["sg-node0001"] and eni.NetworkInterfaceName == "renamed"
    cloud.state.set_eni_groups(a, ["sg-app00001", "sg-node0001"])
    assert cloud.state.eni(a)["GroupSet"] == ["sg-app00001", "sg-node0001"]
    assert cloud.error_code("vpc", "ModifyNetworkInterfaceAttribute", NetworkInterfaceId=a, SecurityGroupIds=["sg-zzzzzzzz"]) == "ResourceNotFound"
    assert cloud.error_code("vpc", "ModifyNetworkInterfaceAttribute", NetworkInterfaceId="eni-zzzzzzzz") == "ResourceNotFound"
    assert cloud.error_code("vpc", "ModifyNetworkInterfaceAttribute", NetworkInterfaceId="x") == "InvalidParameterValue.Malformed"


def test_primary_eni_groups_are_the_instances_groups(cloud):
    primary = cloud.state.enis_of_instance("ins-s5node01", kind="primary")[0]["NetworkInterfaceId"]
    cloud.call("vpc", "ModifyNetworkInterfaceAttribute", NetworkInterfaceId=primary, SecurityGroupIds=["sg-app00001"])
    assert cloud.call("cvm", "DescribeInstances", InstanceIds=["ins-s5node01"]).InstanceSet[0].SecurityGroupIds == ["sg-app00001"]
    with pytest.raises(ApiError):
        cloud.state.delete_eni(primary)


def test_describe_subnets_by_id_and_filter_through_the_adapter():
    """The production adapter against the sandbox: ids it knows come back with their CIDRs, others are absent."""
    import os

    from sgpctl.cli.context import App
    from sgpctl.settings import RootFlags
    from tests.sandbox_support import running_sandbox

    with running_sandbox("default") as sb:
        saved = dict(os.environ)
        try:
            os.environ.update(sb.env())
            vpc = App(RootFlags()).cloud().vpc
            known = sorted(sb.cloud.subnets)[:2]
            got = vpc.describe_subnets(known + ["subnet-zzzzzzzz"])
            assert sorted(s.subnet_id for s in got) == known
            assert all(s.cidr_block == sb.cloud.subnets[s.subnet_id]["CidrBlock"] for s in got)
        finally:
            os.environ.clear()
            os.environ.update(saved)
