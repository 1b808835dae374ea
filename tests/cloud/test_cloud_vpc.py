"""VPC adapter: string Offset/Limit, batching by 100, narrowing on "not found", ENIs, limits."""

from __future__ import annotations

import json

import pytest

from sgpctl.cloud.types import EniLimit, NetworkInterface, SecurityGroup, SecurityGroupRule
from sgpctl.errors import CloudError
from tests.cloud.conftest import action_matcher, assert_headers, error_envelope, envelope, read_250_ids_in_three_calls


def sg(gid: str, name: str = "web") -> dict:
    return {"SecurityGroupId": gid, "SecurityGroupName": name, "SecurityGroupDesc": "d", "ProjectId": "0",
            "IsDefault": False, "CreatedTime": "t", "TagSet": [{"Key": "owner", "Value": "sgpctl"}]}


def sg_id(i: int) -> str:
    return f"sg-{i:08d}"


def test_create_security_group_body_and_result(api, session):
    api.reply("vpc", "CreateSecurityGroup", {"SecurityGroup": sg("sg-new00001", "pods-db")})

    got = session.vpc.create_security_group("pods-db", "Pods that talk to the DB", tags={"owner": "sgpctl"}, project_id=0)

    assert got == SecurityGroup("sg-new00001", "pods-db", "d", "0", False, "t", (("owner", "sgpctl"),))
    assert api.bodies("CreateSecurityGroup") == [
        '{"GroupName": "pods-db", "GroupDescription": "Pods that talk to the DB", "ProjectId": "0", '
        '"Tags": [{"Key": "owner", "Value": "sgpctl"}]}'
    ]
    assert_headers(api.calls()[0], "vpc", region="ap-guangzhou")


def test_create_security_group_minimal_body(api, session):
    api.reply("vpc", "CreateSecurityGroup", {"SecurityGroup": sg("sg-new00001", "x")})
    session.vpc.create_security_group("x")
    assert api.bodies("CreateSecurityGroup") == ['{"GroupName": "x", "GroupDescription": ""}']


def test_create_security_group_after_a_timeout_is_not_repeated(api, session):
    from sgpctl.cloud.errors import OutcomeUnknownError

    api.reply("vpc", "CreateSecurityGroup", status=502, body=b"<html>502 Bad Gateway</html>")
    with pytest.raises(OutcomeUnknownError) as e:
        session.vpc.create_security_group("x")
    assert len(api.calls("CreateSecurityGroup")) == 1
    assert e.value.code == "ServerNetworkError" and "502 Bad Gateway" in e.value.message


def test_describe_security_groups_250_ids_make_three_calls_with_string_paging(api, session):
    ids = [sg_id(i) for i in range(250)]
    for chunk in (ids[:100], ids[100:200], ids[200:]):
        api.reply("vpc", "DescribeSecurityGroups", {"TotalCount": len(chunk), "SecurityGroupSet": [sg(i) for i in chunk]})

    got = session.vpc.describe_security_groups(ids + ids[:10])  # duplicates are asked once

    assert [g.security_group_id for g in got] == ids
    bodies = [json.loads(b) for b in api.bodies("DescribeSecurityGroups")]
    assert [len(b["SecurityGroupIds"]) for b in bodies] == [100, 100, 50]
    assert bodies[2]["SecurityGroupIds"] == ids[200:]
    assert api.bodies("DescribeSecurityGroups")[0] == (
        '{"SecurityGroupIds": ' + json.dumps(ids[:100]) + ', "Offset": "0", "Limit": "100"}')


def test_describe_security_groups_by_name_and_filters_pages(api, session):
    api.reply("vpc", "DescribeSecurityGroups", {"TotalCount": 150, "SecurityGroupSet": [sg(sg_id(i), "pods") for i in range(100)]})
    api.reply("vpc", "DescribeSecurityGroups", {"TotalCount": 150, "SecurityGroupSet": [sg(sg_id(i), "pods") for i in range(100, 150)]})

    got = session.vpc.describe_security_groups(name="pods", filters={"tag-key": "owner"})

    assert len(got) == 150
    assert api.bodies("DescribeSecurityGroups") == [
        '{"Filters": [{"Name": "tag-key", "Values": ["owner"]}, {"Name": "security-group-name", "Values": ["pods"]}], '
        '"Offset": "0", "Limit": "100"}',
        '{"Filters": [{"Name": "tag-key", "Values": ["owner"]}, {"Name": "security-group-name", "Values": ["pods"]}], '
        '"Offset": "100", "Limit": "100"}',
    ]


def test_find_security_groups_by_name_is_exact(api, session):
    api.reply("vpc", "DescribeSecurityGroups", {"TotalCount": 2, "SecurityGroupSet": [sg("sg-a", "pods-db"), sg("sg-b", "pods-db-2")]})
    assert [g.security_group_id for g in session.vpc.find_security_groups_by_name("pods-db")] == ["sg-a"]


def test_ids_and_filters_together_are_refused(session):
    with pytest.raises(ValueError):
        session.vpc.describe_security_groups(["sg-1"], name="x")
    with pytest.raises(ValueError):
        session.vpc.describe_network_interfaces(["eni-1"], filters={"vpc-id": "vpc-1"})


def _sg_api_with_missing(api, existing: set[str], *, refuse_filter: bool = False):
    """A DescribeSecurityGroups that, like the real one, fails a query by ids when any id is unknown,
    while a filter on security-group-id just matches what exists."""

    def callback(request):
        body = json.loads(request.body)
        if "Filters" in body:
            if refuse_filter:
                return 200, {}, json.dumps(error_envelope("InvalidParameterValue.LimitExceeded", "too many values"))
            (f,) = body["Filters"]
            assert f["Name"] == "security-group-id"
            asked = [i for i in f["Values"] if i in existing]
        else:
            asked = body["SecurityGroupIds"]
            if any(i not in existing for i in asked):
                return 200, {}, json.dumps(error_envelope("InvalidSecurityGroupID.NotFound",
                                                          "The specified security group does not exist."))
        return 200, {}, json.dumps(envelope({"TotalCount": len(asked), "SecurityGroupSet": [sg(i) for i in asked]}))

    api.rsps.add_callback("POST", api.url("vpc"), callback=callback, content_type="application/json")


def test_find_missing_security_groups_asks_once_more_with_the_id_filter(api, session):
    ids = [sg_id(i) for i in range(150)]
    missing = {sg_id(2), sg_id(5), sg_id(120)}
    _sg_api_with_missing(api, set(ids) - missing)

    assert session.vpc.find_missing_security_groups(ids) == [sg_id(2), sg_id(5), sg_id(120)]
    bodies = [json.loads(b) for b in api.bodies("DescribeSecurityGroups")]
    # per batch: the id query fails, the filter query answers
    assert len(bodies) == 4
    assert bodies[1] == {"Filters": [{"Name": "security-group-id", "Values": ids[:100]}], "Offset": "0", "Limit": "100"}


def test_find_missing_security_groups_bisects_when_the_filter_is_refused(api, session):
    ids = [sg_id(i) for i in range(8)]
    missing = {sg_id(2), sg_id(5)}
    _sg_api_with_missing(api, set(ids) - missing, refuse_filter=True)

    assert session.vpc.find_missing_security_groups(ids) == [sg_id(2), sg_id(5)]
    # ids(8) fails, filter refused; halves of 4 (both fail), quarters of 2 (two fail), four singles
    assert len(api.calls()) == 1 + 1 + 2 + 4 + 4


def test_find_missing_security_groups_one_call_when_all_exist(api, session):
    ids = [sg_id(i) for i in range(40)]
    _sg_api_with_missing(api, set(ids))
    assert session.vpc.find_missing_security_groups(ids) == []
    assert len(api.calls()) == 1


def test_find_missing_uses_ids_named_in_the_error_message(api, session):
    api.fail("vpc", "DescribeSecurityGroups", "InvalidSecurityGroupID.NotFound", "security group sg-gone0001 not found")
    api.reply("vpc", "DescribeSecurityGroups", {"TotalCount": 2, "SecurityGroupSet": [sg("sg-keep0001"), sg("sg-keep0002")]})

    assert session.vpc.find_missing_security_groups(["sg-keep0001", "sg-gone0001", "sg-keep0002"]) == ["sg-gone0001"]
    assert [json.loads(b)["SecurityGroupIds"] for b in api.bodies("DescribeSecurityGroups")] == [
        ["sg-keep0001", "sg-gone0001", "sg-keep0002"], ["sg-keep0001", "sg-keep0002"]]


def test_find_missing_when_the_api_just_omits_unknown_ids(api, session):
    api.reply("vpc", "DescribeSecurityGroups", {"TotalCount": 1, "SecurityGroupSet": [sg("sg-keep0001")]})
    assert session.vpc.find_missing_security_groups(["sg-keep0001", "sg-gone0001"]) == ["sg-gone0001"]


def test_malformed_security_group_id_is_an_error(api, session):
    api.fail("vpc", "DescribeSecurityGroups", "InvalidSecurityGroupID.Malformed", "bad id", "req-mal")
    with pytest.raises(CloudError) as e:
        session.vpc.find_missing_security_groups(["sg-!!"])
    assert (e.value.code, e.value.request_id, e.value.exit_code) == ("InvalidSecurityGroupID.Malformed", "req-mal", 1)


def test_create_security_group_policies_one_call_per_direction(api, session):
    api.reply("vpc", "CreateSecurityGroupPolicies", {})
    api.reply("vpc", "CreateSecurityGroupPolicies", {})
    session.vpc.create_security_group_policies(
        "sg-new00001",
        ingress=[SecurityGroupRule("TCP", "8080", cidr_block="10.0.0.0/16", description="kubelet probes")],
        egress=[SecurityGroupRule("UDP", "53", cidr_block="0.0.0.0/0"), SecurityGroupRule("ALL", source_group_id="sg-new00001")],
    )
    assert api.bodies("CreateSecurityGroupPolicies") == [
        '{"SecurityGroupId": "sg-new00001", "SecurityGroupPolicySet": {"Ingress": [{"Protocol": "TCP", "Port": "8080", '
        '"CidrBlock": "10.0.0.0/16", "Action": "ACCEPT", "PolicyDescription": "kubelet probes"}]}}',
        '{"SecurityGroupId": "sg-new00001", "SecurityGroupPolicySet": {"Egress": [{"Protocol": "UDP", "Port": "53", '
        '"CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}, {"Protocol": "ALL", "SecurityGroupId": "sg-new00001", '
        '"Action": "ACCEPT"}]}}',
    ]


def eni(i: int) -> dict:
    return {"NetworkInterfaceId": f"eni-{i:08d}", "NetworkInterfaceName": "sub", "VpcId": "vpc-1", "SubnetId": "subnet-1",
            "GroupSet": ["sg-a", "sg-b"], "Primary": False, "State": "AVAILABLE", "EniType": 0, "Business": "cvm",
            "Zone": "ap-guangzhou-3", "MacAddress": "20:90:6F:F3:3D:BD",
            "PrivateIpAddressSet": [{"PrivateIpAddress": f"10.1.0.{i % 250}", "Primary": True}],
            "Attachment": {"InstanceId": "ins-1", "DeviceIndex": 1}}


def test_describe_network_interfaces_250_ids_are_three_calls(api, session):
    got = read_250_ids_in_three_calls(api, "vpc", "DescribeNetworkInterfaces", [f"eni-{i:08d}" for i in range(250)],
                                      ids_key="NetworkInterfaceIds", set_key="NetworkInterfaceSet", item=eni,
                                      read=session.vpc.describe_network_interfaces)

    assert got[0] == NetworkInterface("eni-00000000", "sub", "vpc-1", "subnet-1", ("sg-a", "sg-b"), ("10.1.0.0",), False,
                                      "AVAILABLE", 0, "cvm", "ap-guangzhou-3", "ins-1", 1, "20:90:6F:F3:3D:BD")


def test_describe_network_interfaces_returns_what_exists_when_the_api_omits(api, session):
    api.reply("vpc", "DescribeNetworkInterfaces", {"TotalCount": 1, "NetworkInterfaceSet": [eni(1)]})
    got = session.vpc.describe_network_interfaces(["eni-00000001", "eni-gone0001"])
    assert [e.eni_id for e in got] == ["eni-00000001"]
    assert len(api.calls()) == 1


def test_describe_network_interfaces_on_resource_not_found_asks_with_the_id_filter(api, session):
    existing = {"eni-a0000001", "eni-a0000002", "eni-a0000003"}

    def callback(request):
        body = json.loads(request.body)
        if "Filters" in body:
            asked = [i for i in body["Filters"][0]["Values"] if i in existing]
        else:
            asked = body["NetworkInterfaceIds"]
            if any(i not in existing for i in asked):
                return 200, {}, json.dumps(error_envelope("ResourceNotFound", "resource not found"))
        return 200, {}, json.dumps(envelope({"TotalCount": len(asked), "NetworkInterfaceSet": [
            {**eni(0), "NetworkInterfaceId": i} for i in asked]}))

    api.rsps.add_callback("POST", api.url("vpc"), callback=callback, content_type="application/json")
    got = session.vpc.describe_network_interfaces(["eni-a0000001", "eni-gone0001", "eni-a0000002", "eni-a0000003"])
    assert sorted(e.eni_id for e in got) == sorted(existing)
    assert api.bodies("DescribeNetworkInterfaces")[1] == (
        '{"Filters": [{"Name": "network-interface-id", "Values": ["eni-a0000001", "eni-gone0001", "eni-a0000002", '
        '"eni-a0000003"]}], "Offset": 0, "Limit": 100}')
    assert len(api.calls()) == 2


def test_describe_network_interfaces_by_filters(api, session):
    api.reply("vpc", "DescribeNetworkInterfaces", {"TotalCount": 1, "NetworkInterfaceSet": [eni(1)]})
    session.vpc.describe_network_interfaces(filters={"attachment.instance-id": "ins-1", "eni-type": ["0", "2"]})
    assert api.bodies("DescribeNetworkInterfaces") == [
        '{"Filters": [{"Name": "attachment.instance-id", "Values": ["ins-1"]}, {"Name": "eni-type", "Values": ["0", "2"]}], '
        '"Offset": 0, "Limit": 100}'
    ]


def test_describe_network_interface_limit(api, session):
    api.reply("vpc", "DescribeNetworkInterfaceLimit", {"EniQuantity": 4, "EniPrivateIpAddressQuantity": 10,
                                                       "ExtendEniQuantity": 0, "ExtendEniPrivateIpAddressQuantity": 0,
                                                       "SubEniQuantity": 16, "SubEniPrivateIpAddressQuantity": 1})
    got = session.vpc.describe_network_interface_limit("ins-1")
    assert api.bodies("DescribeNetworkInterfaceLimit") == ['{"InstanceId": "ins-1"}']
    assert got == EniLimit(4, 10, 0, 0, 16, 1)


@pytest.mark.parametrize("payload, expected", [
    ({"SecurityGroupLimitSet": {"InstanceSecurityGroupLimit": 10, "SecurityGroupLimit": 50}}, 10),
    ({"SecurityGroupLimitSet": {"SecurityGroupLimit": 50}}, 5),
    ({}, 5),
])
def test_describe_security_group_limit(api, session, payload, expected):
    api.reply("vpc", "DescribeSecurityGroupLimits", payload)
    assert session.vpc.describe_security_group_limit() == expected
    assert api.bodies("DescribeSecurityGroupLimits") == ["{}"]


def test_describe_network_interfaces_concurrently_keeps_order_and_one_call_per_100(api, session):
    ids = [f"eni-{i:08d}" for i in range(350)]

    def answer(request):
        asked = json.loads(request.body)["NetworkInterfaceIds"]
        body = envelope({"TotalCount": len(asked), "NetworkInterfaceSet": [eni(int(i[4:])) for i in asked]})
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    import responses

    api.rsps.add_callback(responses.POST, api.url("vpc"), callback=answer,
                          match=[action_matcher("DescribeNetworkInterfaces")])
    got = session.vpc.describe_network_interfaces(ids, concurrency=4)

    assert [e.eni_id for e in got] == ids
    sizes = sorted(len(json.loads(b)["NetworkInterfaceIds"]) for b in api.bodies("DescribeNetworkInterfaces"))
    assert sizes == [50, 100, 100, 100]


def test_describe_subnets_by_id_with_string_paging(api, session):
    from sgpctl.cloud.types import Subnet

    api.reply("vpc", "DescribeSubnets", {"TotalCount": 1, "SubnetSet": [
        {"SubnetId": "subnet-1", "SubnetName": "pods", "VpcId": "vpc-1", "CidrBlock": "10.0.32.0/20",
         "Zone": "ap-guangzhou-3", "AvailableIpAddressCount": 4000}]})
    got = session.vpc.describe_subnets(["subnet-1", "subnet-gone", "subnet-1"])
    assert got == [Subnet("subnet-1", "pods", "vpc-1", "10.0.32.0/20", "ap-guangzhou-3", 4000)]
    assert api.bodies("DescribeSubnets") == ['{"SubnetIds": ["subnet-1", "subnet-gone"], "Offset": "0", "Limit": "100"}']


def test_describe_subnets_of_a_vpc_by_filter_page_by_page(api, session):
    def subnet(i: int) -> dict:
        return {"SubnetId": f"subnet-{i:08d}", "VpcId": "vpc-1", "CidrBlock": f"10.{i // 256}.{i % 256}.0/24",
                "Zone": "ap-guangzhou-3"}

    api.reply("vpc", "DescribeSubnets", {"TotalCount": 130, "SubnetSet": [subnet(i) for i in range(100)]})
    api.reply("vpc", "DescribeSubnets", {"TotalCount": 130, "SubnetSet": [subnet(i) for i in range(100, 130)]})
    got = session.vpc.describe_subnets(filters={"vpc-id": "vpc-1"})
    assert [s.subnet_id for s in got] == [f"subnet-{i:08d}" for i in range(130)]
    assert got[129].cidr_block == "10.0.129.0/24"
    assert [json.loads(b) for b in api.bodies("DescribeSubnets")] == [
        {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}], "Offset": "0", "Limit": "100"},
        {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}], "Offset": "100", "Limit": "100"},
    ]
    with pytest.raises(ValueError):
        session.vpc.describe_subnets(["subnet-1"], filters={"vpc-id": "vpc-1"})
