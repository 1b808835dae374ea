"""CAM adapter: exact request bodies, paging, and the not-found conventions."""

from __future__ import annotations

import json

import pytest

from sgpctl.cloud.types import AttachedPolicy, Policy
from sgpctl.errors import CloudError, ExitCode
from tests.cloud.conftest import assert_headers

SEED_DOC = {
    "version": "2.0",
    "statement": [{
        "effect": "allow",
        "action": ["vpc:CreateSubNetworkInterface", "vpc:DeleteSubNetworkInterface",
                   "cvm:CheckNetworkInterfaceSecurityGroupReady"],
        "resource": ["*"],
    }],
}
SEED_DOC_COMPACT = ('{"version":"2.0","statement":[{"effect":"allow","action":["vpc:CreateSubNetworkInterface",'
                    '"vpc:DeleteSubNetworkInterface","cvm:CheckNetworkInterfaceSecurityGroupReady"],'
                    '"resource":["*"]}]}')


def policy(pid: int, name: str) -> dict:
    return {"PolicyId": pid, "PolicyName": name, "Type": 1, "Description": "", "AddTime": "2024-01-01 00:00:00"}


def test_list_policies_reads_every_page_without_a_region_header(api, session):
    page1 = [policy(i, f"p{i}") for i in range(1, 201)]
    page2 = [policy(i, f"p{i}") for i in range(201, 401)]
    page3 = [policy(401, "p401")]
    for items in (page1, page2, page3):
        api.reply("cam", "ListPolicies", {"TotalNum": 401, "List": items})

    got = session.cam.list_policies()

    assert [p.policy_id for p in got] == list(range(1, 402))
    assert api.bodies("ListPolicies") == [
        '{"Rp": 200, "Page": 1, "Scope": "Local"}',
        '{"Rp": 200, "Page": 2, "Scope": "Local"}',
        '{"Rp": 200, "Page": 3, "Scope": "Local"}',
    ]
    for call in api.calls():
        assert call.request.url == "https://cam.tencentcloudapi.com/"
        assert_headers(call, "cam", region=None)


def test_find_policy_by_name_compares_names_exactly_across_pages(api, session):
    # Keyword is a substring search: near-misses come first, the exact name is on page 2
    near = [policy(i, f"SubENIForIPAMD-copy{i}") for i in range(200)]
    api.reply("cam", "ListPolicies", {"TotalNum": 202, "List": near})
    api.reply("cam", "ListPolicies", {"TotalNum": 202, "List": [policy(7, "subeniforipamd"), policy(99, "SubENIForIPAMD")]})

    found = session.cam.find_policy_by_name("SubENIForIPAMD")

    assert found == Policy(99, "SubENIForIPAMD", type=1, description="", add_time="2024-01-01 00:00:00")
    assert api.bodies("ListPolicies") == [
        '{"Rp": 200, "Page": 1, "Scope": "Local", "Keyword": "SubENIForIPAMD"}',
        '{"Rp": 200, "Page": 2, "Scope": "Local", "Keyword": "SubENIForIPAMD"}',
    ]


def test_find_policy_by_name_returns_none_when_only_similar_names_exist(api, session):
    api.reply("cam", "ListPolicies", {"TotalNum": 1, "List": [policy(5, "SubENIForIPAMD2")]})
    assert session.cam.find_policy_by_name("SubENIForIPAMD") is None


def test_get_policy_parses_the_document_string_with_escaped_slashes(api, session):
    raw = '{"version":"2.0","statement":[{"effect":"allow","action":["name\\/vpc:CreateSubNetworkInterface"],"resource":["*"]}]}'
    api.reply("cam", "GetPolicy", {"PolicyName": "SubENIForIPAMD", "PolicyDocument": raw, "Type": 1,
                                   "Description": "d", "AddTime": "a", "UpdateTime": "u"})

    detail = session.cam.get_policy(42)

    assert api.bodies("GetPolicy") == ['{"PolicyId": 42}']
    assert detail.policy_id == 42 and detail.name == "SubENIForIPAMD"
    assert detail.document["statement"][0]["action"] == ["name/vpc:CreateSubNetworkInterface"]
    assert detail.raw_document == raw


def test_get_policy_accepts_a_url_encoded_document(api, session):
    encoded = "%7B%22version%22%3A%222.0%22%2C%22statement%22%3A%5B%5D%7D"
    api.reply("cam", "GetPolicy", {"PolicyName": "x", "PolicyDocument": encoded})
    assert session.cam.get_policy(1).document == {"version": "2.0", "statement": []}


def test_get_policy_refuses_a_document_it_cannot_parse(api, session):
    api.reply("cam", "GetPolicy", {"PolicyName": "x", "PolicyDocument": "not json"}, request_id="req-doc")
    with pytest.raises(CloudError) as e:
        session.cam.get_policy(1)
    assert e.value.code == "InvalidResponse" and e.value.request_id == "req-doc"
    assert e.value.exit_code == ExitCode.UNDETERMINED


def test_get_policy_missing_is_a_cloud_error_with_hint(api, session):
    api.fail("cam", "GetPolicy", "ResourceNotFound.PolicyIdNotFound", "policy not found", "req-nf")
    with pytest.raises(CloudError) as e:
        session.cam.get_policy(3)
    assert (e.value.code, e.value.request_id, e.value.exit_code) == ("ResourceNotFound.PolicyIdNotFound", "req-nf", 1)
    assert "does not exist" in e.value.hint


def test_create_policy_sends_the_document_as_compact_json(api, session):
    api.reply("cam", "CreatePolicy", {"PolicyId": 1234})

    pid = session.cam.create_policy("SubENIForIPAMD", SEED_DOC, "for eniipamd")

    assert pid == 1234
    (body,) = api.bodies("CreatePolicy")
    assert body == json.dumps({"PolicyName": "SubENIForIPAMD", "PolicyDocument": SEED_DOC_COMPACT,
                               "Description": "for eniipamd"})


def test_create_policy_name_in_use_is_not_retried(api, session):
    api.fail("cam", "CreatePolicy", "FailedOperation.PolicyNameInUse", "name in use")
    with pytest.raises(CloudError) as e:
        session.cam.create_policy("SubENIForIPAMD", SEED_DOC)
    assert e.value.code == "FailedOperation.PolicyNameInUse"
    assert len(api.calls("CreatePolicy")) == 1


def test_update_policy_sends_id_and_document_and_description_only_when_given(api, session):
    api.reply("cam", "UpdatePolicy", {"PolicyId": 9})
    api.reply("cam", "UpdatePolicy", {"PolicyId": 9})
    session.cam.update_policy(9, SEED_DOC)
    session.cam.update_policy(9, {"version": "2.0", "statement": []}, description="new")
    assert api.bodies("UpdatePolicy") == [
        json.dumps({"PolicyId": 9, "PolicyDocument": SEED_DOC_COMPACT}),
        '{"PolicyId": 9, "Description": "new", "PolicyDocument": "{\\"version\\":\\"2.0\\",\\"statement\\":[]}"}',
    ]


def test_get_role_found(api, session):
    api.reply("cam", "GetRole", {"RoleInfo": {"RoleId": "4611686018427945536", "RoleName": "TKE_QCSRole",
                                              "Description": "svc", "RoleType": "system", "AddTime": "t"}})
    role = session.cam.get_role("TKE_QCSRole")
    assert api.bodies("GetRole") == ['{"RoleName": "TKE_QCSRole"}']
    assert (role.role_id, role.name, role.role_type) == ("4611686018427945536", "TKE_QCSRole", "system")


@pytest.mark.parametrize("code", ["InvalidParameter.RoleNotExist", "ResourceNotFound.NotFound"])
def test_get_role_missing_is_none(api, session, code):
    api.fail("cam", "GetRole", code, "role not exist")
    assert session.cam.get_role("IPAMDofTKE_QCSRole") is None


def test_get_role_other_errors_propagate(api, session):
    api.fail("cam", "GetRole", "AuthFailure.UnauthorizedOperation", "no", "req-auth")
    with pytest.raises(CloudError) as e:
        session.cam.get_role("TKE_QCSRole")
    assert e.value.exit_code == ExitCode.UNDETERMINED
    assert e.value.hint == "the credentials lack permission for cam:GetRole; grant it in CAM"


def test_attach_role_policy(api, session):
    api.reply("cam", "AttachRolePolicy", {})
    session.cam.attach_role_policy(1234, "IPAMDofTKE_QCSRole")
    assert api.bodies("AttachRolePolicy") == ['{"PolicyId": 1234, "AttachRoleName": "IPAMDofTKE_QCSRole"}']


def test_list_attached_role_policies_pages(api, session):
    first = [{"PolicyId": i, "PolicyName": f"p{i}", "PolicyType": "QCS", "AddTime": "t", "CreateMode": 2}
             for i in range(200)]
    api.reply("cam", "ListAttachedRolePolicies", {"TotalNum": 201, "List": first})
    api.reply("cam", "ListAttachedRolePolicies", {"TotalNum": 201, "List": [
        {"PolicyId": 1234, "PolicyName": "SubENIForIPAMD", "PolicyType": "User", "AddTime": "t", "CreateMode": 1}]})

    got = session.cam.list_attached_role_policies("TKE_QCSRole")

    assert len(got) == 201
    assert got[-1] == AttachedPolicy(1234, "SubENIForIPAMD", policy_type="User", add_time="t", create_mode=1)
    assert api.bodies("ListAttachedRolePolicies") == [
        '{"Page": 1, "Rp": 200, "RoleName": "TKE_QCSRole"}',
        '{"Page": 2, "Rp": 200, "RoleName": "TKE_QCSRole"}',
    ]
