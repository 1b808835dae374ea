import pytest

from sgpctl.core.cam_policy import REQUIRED_ACTIONS, granted_actions, missing_actions, seed_document, with_actions

CREATE, DELETE, CHECK = REQUIRED_ACTIONS


def test_seed_document_grants_everything():
    assert missing_actions(seed_document()) == []


@pytest.mark.parametrize("doc,missing", [
    # the seed's document with keys in another order and a single string action
    ({"statement": [{"resource": "*", "effect": "Allow", "action": [CREATE, DELETE]}, {"effect": "allow", "action": CHECK, "resource": ["*"]}], "version": "2.0"}, []),
    ({"version": "2.0", "statement": [{"effect": "allow", "action": ["vpc:*", "cvm:*"], "resource": ["*"]}]}, []),
    ({"version": "2.0", "statement": [{"effect": "allow", "action": ["*"], "resource": ["*"]}]}, []),
    ({"version": "2.0", "statement": [{"effect": "allow", "action": [CREATE, DELETE], "resource": ["*"]}]}, [CHECK]),
    # a resource narrower than * does not do: the controller acts on any sub-ENI
    ({"version": "2.0", "statement": [{"effect": "allow", "action": list(REQUIRED_ACTIONS), "resource": ["qcs::vpc::uin/1:eni/eni-1"]}]}, list(REQUIRED_ACTIONS)),
    ({"version": "2.0", "statement": [{"effect": "allow", "action": list(REQUIRED_ACTIONS), "resource": ["*"], "condition": {"ip_equal": {"qcs:ip": "10.0.0.1"}}}]}, list(REQUIRED_ACTIONS)),
    ({"version": "2.0", "statement": [{"effect": "allow", "action": ["*"], "resource": ["*"]}, {"effect": "deny", "action": ["vpc:DeleteSubNetworkInterface"], "resource": ["*"]}]}, [DELETE]),
    ({"version": "2.0", "statement": [{"effect": "allow", "action": ["VPC:createsubnetworkinterface", DELETE, CHECK], "resource": ["*"]}]}, []),
    ({"version": "2.0", "statement": [{"effect": "allow", "action": ["name/vpc:CreateSubNetworkInterface", "name/vpc:DeleteSubNetworkInterface", "name/cvm:*"], "resource": ["*"]}]}, []),
    ("not a document", list(REQUIRED_ACTIONS)),
    ({}, list(REQUIRED_ACTIONS)),
])
def test_missing_actions(doc, missing):
    assert missing_actions(doc) == missing


def test_with_actions_keeps_the_users_statements():
    doc = {"version": "2.0", "statement": [{"effect": "allow", "action": ["cos:GetObject"], "resource": ["*"]}]}
    updated = with_actions(doc, [CHECK])
    assert updated["statement"][0] == doc["statement"][0]
    assert granted_actions(updated) == [CHECK]
    assert doc["statement"] == [{"effect": "allow", "action": ["cos:GetObject"], "resource": ["*"]}]  # not mutated
