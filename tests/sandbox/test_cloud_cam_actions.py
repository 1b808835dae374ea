"""CAM actions of the sandbox through the official CamClient."""

from __future__ import annotations

import json

import pytest


DOC = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": [
    "vpc:CreateSubNetworkInterface", "vpc:DeleteSubNetworkInterface", "cvm:CheckNetworkInterfaceSecurityGroupReady"],
    "resource": ["*"]}]})


def test_create_get_and_name_in_use(cloud):
    pid = cloud.call("cam", "CreatePolicy", PolicyName="SubENIForIPAMD", PolicyDocument=DOC, Description="sub-ENI").PolicyId
    got = cloud.call("cam", "GetPolicy", PolicyId=pid)
    assert got.PolicyName == "SubENIForIPAMD" and json.loads(got.PolicyDocument) == json.loads(DOC)
    assert got.Type == 1 and got.Description == "sub-ENI"
    assert cloud.error_code("cam", "CreatePolicy", PolicyName="SubENIForIPAMD", PolicyDocument=DOC) == "FailedOperation.PolicyNameInUse"


@pytest.mark.parametrize(
    "name,document,expected",
    [
        ("bad name!", DOC, "InvalidParameter.PolicyNameError"),
        ("x" * 129, DOC, "InvalidParameter.PolicyNameError"),
        ("ok", "{not json", "InvalidParameter.PolicyDocumentError"),
        ("ok", json.dumps({"statement": [{"effect": "allow", "action": "*", "resource": "*"}]}), "InvalidParameter.VersionError"),
        ("ok", json.dumps({"version": "2.0", "statement": []}), "InvalidParameter.StatementError"),
        ("ok", json.dumps({"version": "2.0", "statement": [{"effect": "maybe", "action": "*", "resource": "*"}]}), "InvalidParameter.EffectError"),
        ("ok", json.dumps({"version": "2.0", "statement": [{"effect": "allow", "resource": "*"}]}), "InvalidParameter.ActionError"),
        ("ok", json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "*"}]}), "InvalidParameter.ResourceError"),
    ],
)
def test_create_policy_validation(cloud, name, document, expected):
    assert cloud.error_code("cam", "CreatePolicy", PolicyName=name, PolicyDocument=document) == expected


def test_missing_required_parameters(cloud):
    assert cloud.error_code("cam", "CreatePolicy", PolicyName="x") == "MissingParameter"
    assert cloud.error_code("cam", "GetPolicy") == "MissingParameter"
    assert cloud.error_code("cam", "AttachRolePolicy", PolicyName="QcloudVPCFullAccess") == "MissingParameter"


def test_get_unknown_policy(cloud):
    assert cloud.error_code("cam", "GetPolicy", PolicyId=1) == "ResourceNotFound.PolicyIdNotFound"


def test_list_policies_scope_keyword_and_paging(cloud):
    cloud.call("cam", "CreatePolicy", PolicyName="SubENIForIPAMD", PolicyDocument=DOC)
    cloud.call("cam", "CreatePolicy", PolicyName="SubENIForIPAMD-old", PolicyDocument=DOC)
    local = cloud.call("cam", "ListPolicies", Scope="Local", Keyword="SubENIForIPAMD")
    assert local.TotalNum == 2 and {p.PolicyName for p in local.List} == {"SubENIForIPAMD", "SubENIForIPAMD-old"}
    assert all(p.Type == 1 for p in local.List)
    qcs = cloud.call("cam", "ListPolicies", Scope="QCS", Rp=5, Page=1)
    assert qcs.TotalNum > 10 and len(qcs.List) == 5 and all(p.Type == 2 for p in qcs.List)
    names, page = [], 1
    while True:
        resp = cloud.call("cam", "ListPolicies", Scope="All", Rp=4, Page=page)
        names += [p.PolicyName for p in resp.List]
        if page * 4 >= resp.TotalNum:
            break
        page += 1
    assert len(names) == resp.TotalNum == len(set(names)) == qcs.TotalNum + 2
    assert cloud.error_code("cam", "ListPolicies", Scope="Mine") == "InvalidParameter.ScopeError"
    assert cloud.error_code("cam", "ListPolicies", Rp=201) == "InvalidParameter.ParamError"


def test_update_policy_by_id_and_by_name(cloud):
    pid = cloud.call("cam", "CreatePolicy", PolicyName="p1", PolicyDocument=DOC).PolicyId
    new_doc = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": ["vpc:*"], "resource": ["*"]}]})
    assert cloud.call("cam", "UpdatePolicy", PolicyId=pid, PolicyDocument=new_doc).PolicyId == pid
    assert json.loads(cloud.call("cam", "GetPolicy", PolicyId=pid).PolicyDocument)["statement"][0]["action"] == ["vpc:*"]
    cloud.call("cam", "UpdatePolicy", PolicyName="p1", Description="changed")
    assert cloud.call("cam", "GetPolicy", PolicyId=pid).Description == "changed"
    assert cloud.error_code("cam", "UpdatePolicy", PolicyId=42, PolicyDocument=new_doc) == "InvalidParameter.PolicyIdNotExist"
    assert cloud.error_code("cam", "UpdatePolicy", PolicyName="p1", PolicyDocument="{") == "InvalidParameter.PolicyDocumentError"


def test_preset_policies_cannot_be_changed(cloud):
    preset = cloud.state.policy_by_name("QcloudVPCFullAccess")["PolicyId"]
    assert cloud.error_code("cam", "UpdatePolicy", PolicyId=preset, Description="x") == "FailedOperation"
    assert cloud.error_code("cam", "DeletePolicy", PolicyId=[preset]) == "FailedOperation"


def test_delete_policy_detaches_it(cloud):
    pid = cloud.call("cam", "CreatePolicy", PolicyName="gone", PolicyDocument=DOC).PolicyId
    cloud.call("cam", "AttachRolePolicy", PolicyId=pid, AttachRoleName="TKE_QCSRole")
    cloud.call("cam", "DeletePolicy", PolicyId=[pid])
    assert cloud.error_code("cam", "GetPolicy", PolicyId=pid) == "ResourceNotFound.PolicyIdNotFound"
    assert "gone" not in cloud.state.attached_policy_names("TKE_QCSRole")


def test_get_role_by_name_and_id(cloud):
    info = cloud.call("cam", "GetRole", RoleName="IPAMDofTKE_QCSRole").RoleInfo
    assert info.RoleName == "IPAMDofTKE_QCSRole" and info.RoleType == "system"
    assert cloud.call("cam", "GetRole", RoleId=info.RoleId).RoleInfo.RoleName == "IPAMDofTKE_QCSRole"
    assert cloud.error_code("cam", "GetRole", RoleName="Nope") == "InvalidParameter.RoleNotExist"


def test_create_role(cloud):
    trust = json.dumps({"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow",
                                                          "principal": {"service": "cvm.qcloud.com"}}]})
    rid = cloud.call("cam", "CreateRole", RoleName="MyRole", PolicyDocument=trust).RoleId
    assert cloud.call("cam", "GetRole", RoleId=rid).RoleInfo.PolicyDocument == trust
    assert cloud.error_code("cam", "CreateRole", RoleName="MyRole", PolicyDocument=trust) == "InvalidParameter.RoleNameInUse"


def test_attach_list_detach(cloud):
    pid = cloud.call("cam", "CreatePolicy", PolicyName="SubENIForIPAMD", PolicyDocument=DOC).PolicyId
    role_id = cloud.call("cam", "GetRole", RoleName="TKE_QCSRole").RoleInfo.RoleId
    cloud.call("cam", "AttachRolePolicy", PolicyId=pid, AttachRoleName="TKE_QCSRole")
    cloud.call("cam", "AttachRolePolicy", PolicyName="SubENIForIPAMD", AttachRoleId=role_id)  # again: no duplicate
    listed = cloud.call("cam", "ListAttachedRolePolicies", RoleName="TKE_QCSRole", Page=1, Rp=20)
    assert sorted(p.PolicyName for p in listed.List) == ["QcloudAccessForTKERole", "SubENIForIPAMD"]
    assert listed.TotalNum == 2
    assert {p.PolicyName: p.PolicyType for p in listed.List} == {"QcloudAccessForTKERole": "QCS", "SubENIForIPAMD": "User"}
    user_only = cloud.call("cam", "ListAttachedRolePolicies", RoleId=role_id, Page=1, Rp=20, PolicyType="User")
    assert [p.PolicyName for p in user_only.List] == ["SubENIForIPAMD"]
    first = cloud.call("cam", "ListAttachedRolePolicies", RoleName="TKE_QCSRole", Page=1, Rp=1)
    second = cloud.call("cam", "ListAttachedRolePolicies", RoleName="TKE_QCSRole", Page=2, Rp=1)
    assert first.TotalNum == 2 and len(first.List) == len(second.List) == 1
    assert first.List[0].PolicyName != second.List[0].PolicyName
    assert cloud.state.role_allows("TKE_QCSRole", "vpc:CreateSubNetworkInterface")
    cloud.call("cam", "DetachRolePolicy", PolicyId=pid, DetachRoleName="TKE_QCSRole")
    assert cloud.call("cam", "ListAttachedRolePolicies", RoleName="TKE_QCSRole", Page=1, Rp=20).TotalNum == 1
    assert not cloud.state.role_allows("TKE_QCSRole", "vpc:CreateSubNetworkInterface")


def test_attach_errors(cloud):
    assert cloud.error_code("cam", "AttachRolePolicy", PolicyName="QcloudVPCFullAccess", AttachRoleName="Nope") == "InvalidParameter.RoleNotExist"
    assert cloud.error_code("cam", "AttachRolePolicy", PolicyId=7, AttachRoleName="TKE_QCSRole") == "InvalidParameter.PolicyIdNotExist"
    assert cloud.error_code("cam", "ListAttachedRolePolicies", RoleName="Nope") == "InvalidParameter.RoleNotExist"
