"""The sandbox's security-group rule and template actions, through the official SDK: Version on
every change, PolicyIndex insertion, the documented exclusions, delete/replace/modify, templates;
and sgpctl's own VPC adapter reading them back into a rule book core.traffic decides with."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sgpctl.cloud.session import CloudSession
from sgpctl.core.traffic import Endpoint, Flow, explain
from sgpctl.sandbox.cloud.testkit import REGION, SECRET_ID, SECRET_KEY

SG = "sg-app00001"


def rules(cloud, gid=SG):
    got = cloud.call("vpc", "DescribeSecurityGroupPolicies", SecurityGroupId=gid).SecurityGroupPolicySet
    return got


def create(cloud, direction="Ingress", gid=SG, version=None, **rule):
    policy_set = {direction: [rule]}
    if version is not None:
        policy_set["Version"] = version
    return cloud.call("vpc", "CreateSecurityGroupPolicies", SecurityGroupId=gid, SecurityGroupPolicySet=policy_set)


def summary(policy_set, direction="Ingress"):
    return [(r.PolicyIndex, r.Protocol, r.Port, r.CidrBlock, r.Action) for r in getattr(policy_set, direction)]


def test_every_change_bumps_the_version_and_a_stale_version_is_refused(cloud):
    assert rules(cloud).Version == "0"
    create(cloud, Protocol="TCP", Port="80", CidrBlock="10.0.0.0/8", Action="ACCEPT")
    create(cloud, Protocol="TCP", Port="443", CidrBlock="10.0.0.0/8", Action="ACCEPT", version="1")
    assert rules(cloud).Version == "2"
    cloud.call("vpc", "ReplaceSecurityGroupPolicy", SecurityGroupId=SG, SecurityGroupPolicySet={
        "Version": "2", "Ingress": [{"PolicyIndex": 0, "Protocol": "UDP", "Port": "53", "CidrBlock": "10.0.0.2",
                                     "Action": "ACCEPT"}]})
    cloud.call("vpc", "DeleteSecurityGroupPolicies", SecurityGroupId=SG,
               SecurityGroupPolicySet={"Ingress": [{"PolicyIndex": 1}]})
    assert rules(cloud).Version == "4"
    assert summary(rules(cloud)) == [(0, "UDP", "53", "10.0.0.2", "ACCEPT")]
    # a writer that read version 2 must not land its change in the list as it is now
    assert cloud.error_code("vpc", "CreateSecurityGroupPolicies", SecurityGroupId=SG, SecurityGroupPolicySet={
        "Version": "2", "Ingress": [{"Protocol": "TCP", "Port": "1", "CidrBlock": "10.0.0.1", "Action": "DROP"}]}
    ) == "UnsupportedOperation.VersionMismatch"


def test_policy_index_inserts_and_empty_appends(cloud):
    create(cloud, Protocol="TCP", Port="1", CidrBlock="10.0.0.1", Action="ACCEPT")
    create(cloud, Protocol="TCP", Port="2", CidrBlock="10.0.0.2", Action="ACCEPT")
    create(cloud, Protocol="TCP", Port="3", CidrBlock="10.0.0.3", Action="DROP", PolicyIndex=0)
    create(cloud, Protocol="TCP", Port="4", CidrBlock="10.0.0.4", Action="DROP", PolicyIndex=2)
    assert [(i, p) for i, _, p, _, _ in summary(rules(cloud))] == [(0, "3"), (1, "1"), (2, "4"), (3, "2")]
    assert cloud.error_code("vpc", "CreateSecurityGroupPolicies", SecurityGroupId=SG, SecurityGroupPolicySet={
        "Ingress": [{"PolicyIndex": 9, "Protocol": "TCP", "Port": "5", "CidrBlock": "10.0.0.5", "Action": "DROP"}]}
    ) == "InvalidParameterValue.Range"


@pytest.mark.parametrize("policy_set,code", [
    ({"Ingress": [{"Protocol": "TCP", "Port": "1", "CidrBlock": "10.0.0.1", "Action": "ACCEPT"}],
      "Egress": [{"Protocol": "TCP", "Port": "1", "CidrBlock": "10.0.0.1", "Action": "ACCEPT"}]},
     "InvalidParameter.Coexist"),                                          # one direction per request
    ({"Ingress": [{"Protocol": "TCP", "Port": "1", "CidrBlock": "10.0.0.1", "SecurityGroupId": SG,
                   "Action": "ACCEPT"}]}, "InvalidParameter.Coexist"),     # peers are exclusive
    ({"Ingress": [{"Protocol": "TCP", "Port": "1", "ServiceTemplate": {"ServiceId": "ppm-x"},
                   "CidrBlock": "10.0.0.1", "Action": "ACCEPT"}]}, "InvalidParameter.Coexist"),
    ({"Ingress": [{"Protocol": "ICMP", "Ipv6CidrBlock": "::/0", "Action": "ACCEPT"}]}, "InvalidParameterValue"),
    ({"Ingress": [{"Protocol": "TCP", "Port": "80", "CidrBlock": "10.0.0.300", "Action": "ACCEPT"}]},
     "InvalidParameterValue.Malformed"),
    ({"Ingress": [{"Protocol": "TCP", "Port": "80-", "CidrBlock": "10.0.0.1", "Action": "ACCEPT"}]},
     "InvalidParameterValue"),
    ({"Ingress": [{"Protocol": "SCTP", "Port": "80", "CidrBlock": "10.0.0.1", "Action": "ACCEPT"}]},
     "InvalidParameterValue"),
    ({"Ingress": [{"Protocol": "TCP", "Port": "80", "Action": "ACCEPT"}]}, "MissingParameter"),
    ({"Ingress": [{"Protocol": "ALL", "AddressTemplate": {"AddressId": "ipm-nothere"}, "Action": "ACCEPT"}]},
     "ResourceNotFound"),
    ({"Ingress": [{"Protocol": "TCP", "Port": "80", "SecurityGroupId": "sg-gone0001", "Action": "ACCEPT"}]},
     "ResourceNotFound"),
])
def test_documented_refusals_change_nothing(cloud, policy_set, code):
    assert cloud.error_code("vpc", "CreateSecurityGroupPolicies", SecurityGroupId=SG,
                            SecurityGroupPolicySet=policy_set) == code
    assert rules(cloud).Version == "0" and rules(cloud).Ingress == []


def test_delete_by_matching_the_rule_and_modify_resets(cloud):
    create(cloud, Protocol="TCP", Port="80", CidrBlock="10.0.0.0/8", Action="ACCEPT")
    create(cloud, Protocol="TCP", Port="22", CidrBlock="10.0.0.0/8", Action="DROP")
    cloud.call("vpc", "DeleteSecurityGroupPolicies", SecurityGroupId=SG, SecurityGroupPolicySet={
        "Ingress": [{"Protocol": "tcp", "Port": "22", "CidrBlock": "10.0.0.0/8", "Action": "drop"}]})
    assert summary(rules(cloud)) == [(0, "TCP", "80", "10.0.0.0/8", "ACCEPT")]
    assert cloud.error_code("vpc", "DeleteSecurityGroupPolicies", SecurityGroupId=SG, SecurityGroupPolicySet={
        "Ingress": [{"Protocol": "TCP", "Port": "22", "CidrBlock": "10.0.0.0/8", "Action": "DROP"}]}) == "ResourceNotFound"
    cloud.call("vpc", "ModifySecurityGroupPolicies", SecurityGroupId=SG, SecurityGroupPolicySet={
        "Egress": [{"Protocol": "ALL", "Port": "ALL", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}]})
    now = rules(cloud)
    assert now.Ingress == [] and summary(now, "Egress") == [(0, "ALL", "ALL", "0.0.0.0/0", "ACCEPT")]
    cloud.call("vpc", "ModifySecurityGroupPolicies", SecurityGroupId=SG, SecurityGroupPolicySet={"Version": "0"})
    assert rules(cloud).Egress == []


def test_describe_filters(cloud):
    create(cloud, Protocol="TCP", Port="80", CidrBlock="10.0.0.0/8", Action="ACCEPT")
    create(cloud, Protocol="UDP", Port="53", CidrBlock="10.0.0.2", Action="DROP")
    create(cloud, "Egress", Protocol="ALL", Port="ALL", CidrBlock="0.0.0.0/0", Action="ACCEPT")

    def described(*filters):
        got = cloud.call("vpc", "DescribeSecurityGroupPolicies", SecurityGroupId=SG,
                         Filters=[{"Name": n, "Values": v} for n, v in filters]).SecurityGroupPolicySet
        return summary(got), summary(got, "Egress")

    assert described(("poly", ["DROP"])) == ([(1, "UDP", "53", "10.0.0.2", "DROP")], [])
    assert described(("direction", ["OUTBOUND"])) == ([], [(0, "ALL", "ALL", "0.0.0.0/0", "ACCEPT")])
    assert described(("protocol-type", ["TCP"]), ("ip", ["10.0"])) == ([(0, "TCP", "80", "10.0.0.0/8", "ACCEPT")], [])


def test_templates_create_describe_and_use(cloud):
    ipm = cloud.call("vpc", "CreateAddressTemplate", AddressTemplateName="clients",
                     Addresses=["10.0.3.0/24", "10.0.4.10-10.0.4.20"]).AddressTemplate
    assert ipm.AddressTemplateId.startswith("ipm-") and ipm.AddressSet == ["10.0.3.0/24", "10.0.4.10-10.0.4.20"]
    ppm = cloud.call("vpc", "CreateServiceTemplate", ServiceTemplateName="web",
                     Services=["tcp:80,443", "udp:53"]).ServiceTemplate
    ipmg = cloud.call("vpc", "CreateAddressTemplateGroup", AddressTemplateGroupName="all",
                      AddressTemplateIds=[ipm.AddressTemplateId]).AddressTemplateGroup
    assert ipmg.AddressTemplateGroupId.startswith("ipmg-")
    assert ipmg.AddressTemplateSet[0].AddressTemplateId == ipm.AddressTemplateId
    found = cloud.call("vpc", "DescribeAddressTemplates", Filters=[{"Name": "address-ip", "Values": ["10.0.4.15"]}])
    assert [t.AddressTemplateId for t in found.AddressTemplateSet] == [ipm.AddressTemplateId]
    assert cloud.call("vpc", "DescribeAddressTemplates",
                      Filters=[{"Name": "address-ip", "Values": ["10.0.4.21"]}]).TotalCount == 0
    assert cloud.error_code("vpc", "CreateAddressTemplate", AddressTemplateName="x", Addresses=["example.com"]) \
        == "InvalidParameterValue"
    assert cloud.error_code("vpc", "CreateServiceTemplate", ServiceTemplateName="x", Services=["http:80"]) \
        == "InvalidParameterValue"
    create(cloud, AddressTemplate={"AddressGroupId": ipmg.AddressTemplateGroupId},
           ServiceTemplate={"ServiceId": ppm.ServiceTemplateId}, Action="ACCEPT")
    [r] = rules(cloud).Ingress
    assert (r.AddressTemplate.AddressGroupId, r.ServiceTemplate.ServiceId, r.Protocol, r.Port) == (
        ipmg.AddressTemplateGroupId, ppm.ServiceTemplateId, None, None)


@dataclass(frozen=True)
class _Creds:
    secret_id: str = SECRET_ID
    secret_key: str = SECRET_KEY
    token: str | None = None


def test_sgpctl_reads_the_rules_back_into_a_rule_book_that_decides_like_the_docs(cloud):
    ipm = cloud.call("vpc", "CreateAddressTemplate", AddressTemplateName="lb", Addresses=["192.168.0.0/24"]).AddressTemplate
    ppm = cloud.call("vpc", "CreateServiceTemplate", ServiceTemplateName="web", Services=["tcp:8080"]).ServiceTemplate
    create(cloud, Protocol="TCP", Port="8080", SecurityGroupId="sg-node0001", Action="ACCEPT")
    create(cloud, AddressTemplate={"AddressId": ipm.AddressTemplateId},
           ServiceTemplate={"ServiceId": ppm.ServiceTemplateId}, Action="ACCEPT")
    create(cloud, Protocol="ALL", Port="ALL", CidrBlock="0.0.0.0/0", Action="DROP", PolicyIndex=0)

    session = CloudSession(_Creds(), REGION, f"http://{cloud.endpoint}")
    book = session.vpc.describe_rule_book([SG])

    assert book.groups[SG].version == "3"
    # sg-node0001 holds the three nodes' primary ENIs (the demo region)
    assert book.members["sg-node0001"] == frozenset({"10.0.1.10", "10.0.2.10", "10.0.1.11"})
    pod = Endpoint.sub_eni_pod("web", "web-0", "10.0.2.50", "n-sa5", [SG], "strict")
    node = Endpoint.node_endpoint("n-s5", "10.0.1.10")
    dropped = explain(node, pod, Flow.of("tcp", 8080), book)
    assert dropped.allowed is False and dropped.decided_by.policy_index == 0  # the DROP inserted first
    cloud.call("vpc", "DeleteSecurityGroupPolicies", SecurityGroupId=SG,
               SecurityGroupPolicySet={"Ingress": [{"PolicyIndex": 0}]})
    book = session.vpc.describe_rule_book([SG])
    assert explain(node, pod, Flow.of("tcp", 8080), book).allowed is True
    assert explain(Endpoint.external("192.168.0.7"), pod, Flow.of("tcp", 8080), book).allowed is True


def test_templates_survive_a_save_and_an_older_save_still_loads():
    from sgpctl.sandbox.cloud.state import CloudState
    from sgpctl.sandbox.cloud.testkit import demo_state

    state = demo_state()
    ipm = state.add_template("address", "a", [{"Address": "10.0.0.1"}])
    ppmg = state.add_template_group("service", "g", [state.add_template("service", "s", [{"Service": "tcp:1"}])])
    saved = state.to_dict()
    restored = CloudState.from_dict(saved)
    assert restored.address_templates[ipm]["AddressSet"] == ["10.0.0.1"]
    assert restored.service_template_groups[ppmg]["ServiceTemplateGroupName"] == "g"
    older = {k: v for k, v in saved.items() if "template" not in k}
    assert CloudState.from_dict(older).address_templates == {}
