"""CAM 2019-01-16 actions: policies, roles and role-policy attachments (CAM has no region).

Error codes come from the CAM errors the official SDKs list: ``FailedOperation.PolicyNameInUse``,
``InvalidParameter.PolicyNameError`` / ``PolicyDocumentError`` / ``VersionError`` /
``StatementError`` / ``EffectError`` / ``ActionError`` / ``ResourceError``,
``ResourceNotFound.PolicyIdNotFound``, ``InvalidParameter.PolicyIdNotExist``,
``InvalidParameter.RoleNotExist``, ``InvalidParameter.AttachmentFull``, ``InvalidParameter.ScopeError``.
"""

from __future__ import annotations

import json
import re

from .common import Ctx, one_of, require
from .errors import ApiError

POLICY_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")
MAX_ATTACHMENTS_PER_ROLE = 200
MAX_RP = 200


def _validate_document(document: str) -> None:
    try:
        doc = json.loads(document)
    except (TypeError, ValueError):
        raise ApiError("InvalidParameter.PolicyDocumentError", "PolicyDocument is not valid JSON.") from None
    if not isinstance(doc, dict):
        raise ApiError("InvalidParameter.PolicyDocumentError", "PolicyDocument must be a JSON object.")
    if str(doc.get("version", "")) != "2.0":
        raise ApiError("InvalidParameter.VersionError", "PolicyDocument needs \"version\": \"2.0\".")
    statements = doc.get("statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ApiError("InvalidParameter.StatementError", "PolicyDocument needs a non-empty \"statement\" list.")
    for st in statements:
        if not isinstance(st, dict):
            raise ApiError("InvalidParameter.StatementError", "Each statement must be a JSON object.")
        if str(st.get("effect", "")).lower() not in ("allow", "deny"):
            raise ApiError("InvalidParameter.EffectError", "A statement's \"effect\" must be allow or deny.")
        actions = st.get("action")
        if not actions or not all(isinstance(a, str) and a for a in (actions if isinstance(actions, list) else [actions])):
            raise ApiError("InvalidParameter.ActionError", "A statement needs \"action\": a string or a list of strings.")
        resources = st.get("resource")
        if not resources or not all(isinstance(r, str) and r for r in (resources if isinstance(resources, list) else [resources])):
            raise ApiError("InvalidParameter.ResourceError", "A statement needs \"resource\": a string or a list of strings.")


def _validate_name(name: str) -> None:
    if not POLICY_NAME.match(name):
        raise ApiError(
            "InvalidParameter.PolicyNameError",
            "PolicyName must be 1-128 characters of letters, digits and +=,.@_-",
        )


def _validate_description(description: str | None) -> None:
    if description is not None and len(description.encode("utf-8")) > 300:
        raise ApiError("InvalidParameter.DescriptionLengthOverlimit", "Description must be at most 300 bytes.")


def _paging(params: dict) -> tuple[int, int]:
    page = params.get("Page") or 1
    rp = params.get("Rp") or 20
    if page < 1:
        raise ApiError("InvalidParameter.ParamError", "Page starts at 1.")
    if not 1 <= rp <= MAX_RP:
        raise ApiError("InvalidParameter.ParamError", f"Rp must be in [1, {MAX_RP}].")
    return page, rp


def _policy(ctx: Ctx, policy_id: int, code: str = "ResourceNotFound.PolicyIdNotFound") -> dict:
    p = ctx.state.policies.get(policy_id)
    if p is None:
        raise ApiError(code, f"The policy {policy_id} does not exist.")
    return p


def _policy_by_ref(ctx: Ctx, params: dict, id_key: str = "PolicyId", name_key: str = "PolicyName") -> dict:
    key = one_of(params, id_key, name_key)
    if key == id_key:
        return _policy(ctx, params[id_key], "InvalidParameter.PolicyIdNotExist")
    for p in ctx.state.policies.values():
        if p["PolicyName"] == params[name_key]:
            return p
    raise ApiError("InvalidParameter.PolicyIdNotExist", f"The policy {params[name_key]!r} does not exist.")


def _attach_count(ctx: Ctx, policy_id: int) -> int:
    return sum(1 for a in ctx.state.attachments.values() if policy_id in a)


def create_policy(ctx: Ctx, params: dict) -> dict:
    name = require(params, "PolicyName")
    document = require(params, "PolicyDocument")
    _validate_name(name)
    _validate_description(params.get("Description"))
    _validate_document(document)
    pid = ctx.state.add_policy(name, document, params.get("Description") or "")
    return {"PolicyId": pid}


def list_policies(ctx: Ctx, params: dict) -> dict:
    scope = params.get("Scope") or "All"
    if scope not in ("All", "QCS", "Local"):
        raise ApiError("InvalidParameter.ScopeError", "Scope must be All, QCS or Local.")
    page, rp = _paging(params)
    keyword = (params.get("Keyword") or "").lower()
    items = [
        p for p in ctx.state.policies.values()
        if (scope == "All" or (scope == "QCS") == (p["Type"] == 2)) and keyword in p["PolicyName"].lower()
    ]
    items.sort(key=lambda p: p["PolicyId"], reverse=True)  # newest first, as the console lists them
    chosen = items[(page - 1) * rp : page * rp]
    return {
        "TotalNum": len(items),
        "List": [
            {
                "PolicyId": p["PolicyId"],
                "PolicyName": p["PolicyName"],
                "AddTime": p["AddTime"],
                "UpdateTime": p["UpdateTime"],
                "Type": p["Type"],
                "Description": p["Description"],
                "CreateMode": p["CreateMode"],
                "Attachments": _attach_count(ctx, p["PolicyId"]),
                "ServiceType": p["ServiceType"],
                "IsAttached": 1 if _attach_count(ctx, p["PolicyId"]) else 0,
                "Deactived": 0,
                "IsServiceLinkedPolicy": 0,
                "AttachEntityCount": _attach_count(ctx, p["PolicyId"]),
                "AttachEntityBoundaryCount": 0,
            }
            for p in chosen
        ],
    }


def get_policy(ctx: Ctx, params: dict) -> dict:
    p = _policy(ctx, require(params, "PolicyId"))
    return {
        "PolicyName": p["PolicyName"],
        "Description": p["Description"],
        "Type": p["Type"],
        "AddTime": p["AddTime"],
        "UpdateTime": p["UpdateTime"],
        "PolicyDocument": p["PolicyDocument"],
        "IsServiceLinkedRolePolicy": 0,
        "Tags": [],
    }


def update_policy(ctx: Ctx, params: dict) -> dict:
    if params.get("PolicyId") is not None:
        p = _policy(ctx, params["PolicyId"], "InvalidParameter.PolicyIdNotExist")
        new_name = params.get("PolicyName")
    else:
        p = _policy_by_ref(ctx, params)
        new_name = None
    if p["Type"] == 2:
        raise ApiError("FailedOperation", f"The preset policy {p['PolicyName']} cannot be modified.")
    if new_name is not None and new_name != p["PolicyName"]:
        _validate_name(new_name)
        if any(q["PolicyName"] == new_name for q in ctx.state.policies.values()):
            raise ApiError("FailedOperation.PolicyNameInUse", f"The policy name {new_name!r} is in use.")
        p["PolicyName"] = new_name
    if params.get("PolicyDocument") is not None:
        _validate_document(params["PolicyDocument"])
        p["PolicyDocument"] = params["PolicyDocument"]
    if params.get("Description") is not None:
        _validate_description(params["Description"])
        p["Description"] = params["Description"]
    p["UpdateTime"] = ctx.state._time()
    return {"PolicyId": p["PolicyId"]}


def delete_policy(ctx: Ctx, params: dict) -> dict:
    ids = require(params, "PolicyId")
    for pid in ids:
        p = _policy(ctx, pid)
        if p["Type"] == 2:
            raise ApiError("FailedOperation", f"The preset policy {p['PolicyName']} cannot be deleted.")
    for pid in ids:
        ctx.state.policies.pop(pid, None)
        for attached in ctx.state.attachments.values():
            attached.pop(pid, None)
    return {}


def _role(ctx: Ctx, params: dict, id_key: str, name_key: str) -> dict:
    key = one_of(params, id_key, name_key)
    if key == id_key:
        return ctx.state.find_role(role_id=params[id_key])
    return ctx.state.find_role(role_name=params[name_key])


def get_role(ctx: Ctx, params: dict) -> dict:
    role = _role(ctx, params, "RoleId", "RoleName")
    return {"RoleInfo": dict(role)}


def create_role(ctx: Ctx, params: dict) -> dict:
    name = require(params, "RoleName")
    require(params, "PolicyDocument")
    if not re.match(r"^[A-Za-z0-9+=,.@_-]{1,128}$", name):
        raise ApiError("InvalidParameter.RoleNameError", "RoleName must be 1-128 characters of letters, digits and +=,.@_-")
    rid = ctx.state.add_role(name, params.get("Description") or "")
    ctx.state.roles[rid]["PolicyDocument"] = params["PolicyDocument"]
    return {"RoleId": rid}


def attach_role_policy(ctx: Ctx, params: dict) -> dict:
    role = _role(ctx, params, "AttachRoleId", "AttachRoleName")
    policy = _policy_by_ref(ctx, params)
    attached = ctx.state.attachments.setdefault(role["RoleId"], {})
    if policy["PolicyId"] not in attached and len(attached) >= MAX_ATTACHMENTS_PER_ROLE:
        raise ApiError("InvalidParameter.AttachmentFull", f"The role {role['RoleName']} has {MAX_ATTACHMENTS_PER_ROLE} policies.")
    ctx.state.attach(role["RoleId"], policy["PolicyId"])
    return {}


def detach_role_policy(ctx: Ctx, params: dict) -> dict:
    role = _role(ctx, params, "DetachRoleId", "DetachRoleName")
    policy = _policy_by_ref(ctx, params)
    ctx.state.attachments.get(role["RoleId"], {}).pop(policy["PolicyId"], None)
    return {}


def list_attached_role_policies(ctx: Ctx, params: dict) -> dict:
    role = _role(ctx, params, "RoleId", "RoleName")
    page, rp = _paging(params)
    policy_type = params.get("PolicyType")
    if policy_type not in (None, "", "User", "QCS"):
        raise ApiError("InvalidParameter.ParamError", "PolicyType must be User or QCS.")
    keyword = (params.get("Keyword") or "").lower()
    items = []
    for pid, added in ctx.state.attachments.get(role["RoleId"], {}).items():
        p = ctx.state.policies.get(pid)
        if p is None:
            continue
        ptype = "QCS" if p["Type"] == 2 else "User"
        if policy_type and policy_type != ptype:
            continue
        if keyword not in p["PolicyName"].lower():
            continue
        items.append({
            "PolicyId": pid,
            "PolicyName": p["PolicyName"],
            "AddTime": added,
            "PolicyType": ptype,
            "CreateMode": p["CreateMode"],
            "Deactived": 0,
            "Description": p["Description"],
        })
    return {"List": items[(page - 1) * rp : page * rp], "TotalNum": len(items)}


ACTIONS = {
    "CreatePolicy": create_policy,
    "ListPolicies": list_policies,
    "GetPolicy": get_policy,
    "UpdatePolicy": update_policy,
    "DeletePolicy": delete_policy,
    "GetRole": get_role,
    "CreateRole": create_role,
    "AttachRolePolicy": attach_role_policy,
    "DetachRolePolicy": detach_role_policy,
    "ListAttachedRolePolicies": list_attached_role_policies,
}
