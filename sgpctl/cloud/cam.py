"""CAM adapter (``cam`` 2019-01-16, no region). Reach it as ``session.cam``.

API (all raise ``CloudError`` on API failure; mutating calls may raise ``OutcomeUnknownError``)::

    list_policies(scope="Local", keyword=None) -> list[Policy]        # ListPolicies, every page (Rp=200)
    find_policy_by_name(name) -> Policy | None                        # exact, case-sensitive name match
    get_policy(policy_id) -> PolicyDetail                             # document parsed to a dict
    create_policy(name, document: dict, description="") -> int        # the new PolicyId
    update_policy(policy_id, document: dict, description=None)        # replaces the whole document
    get_role(name) -> Role | None                                     # None: role does not exist
    attach_role_policy(policy_id, role_name)
    list_attached_role_policies(role_name) -> list[AttachedPolicy]    # every page (Rp=200)

Request bodies (what a fake must accept): ``ListPolicies {"Rp", "Page", "Scope", "Keyword"?}``,
``GetPolicy {"PolicyId"}``, ``CreatePolicy {"PolicyName", "PolicyDocument", "Description"}``,
``UpdatePolicy {"PolicyId", "Description"?, "PolicyDocument"}``, ``GetRole {"RoleName"}``,
``AttachRolePolicy {"PolicyId", "AttachRoleName"}``, ``ListAttachedRolePolicies {"Page", "Rp",
"RoleName"}``. ``PolicyDocument`` is compact JSON (``json.dumps(..., separators=(",", ":"))``).

Facts these rely on: no API looks a policy up by exact name, so ``find_policy_by_name`` pages through
``Scope=Local, Keyword=<name>`` (a substring search) and compares names. GetPolicy returns the
document as a JSON string, with ``/`` escaped as ``\\/`` (tccli's example); a URL-encoded document is
also accepted (tccli's UpdatePolicy example sends one, so CAM stores what it was given). Actions in a
returned document may carry a ``name/`` prefix (``name/cos:*``): compare actions after stripping it.
GetRole's only documented "missing" code is ``InvalidParameter.RoleNotExist`` (Go SDK error list); the
Terraform provider also treats ``ResourceNotFound*`` as "role absent", and so does ``get_role``.
``UpdatePolicy`` is idempotent (the same full document twice is one state), so it is retried like a
read; ``CreatePolicy`` is not (names are unique: a blind repeat after a lost answer meets
``FailedOperation.PolicyNameInUse``), nor is ``AttachRolePolicy`` (its idempotency is unconfirmed).
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from sgpctl.cloud.params import Adapter
from sgpctl.cloud.paging import paginate_page
from sgpctl.cloud.types import AttachedPolicy, Policy, PolicyDetail, Role
from sgpctl.errors import CloudError, ExitCode

ROLE_MISSING_CODES = ("InvalidParameter.RoleNotExist",)


def compact_json(document: dict) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def parse_policy_document(raw: str | None) -> dict:
    """The API's PolicyDocument string -> dict (plain JSON, or URL-encoded JSON). ValueError if neither."""
    text = (raw or "").strip()
    for candidate in (text, unquote(text)):
        try:
            doc = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(doc, dict):
            return doc
    raise ValueError("not a JSON object")


class CamAdapter(Adapter):
    service = "cam"

    # -- policies -------------------------------------------------------------------------------
    def list_policies(self, scope: str = "Local", keyword: str | None = None) -> list[Policy]:
        def fetch(page: int, rp: int):
            params = {"Rp": rp, "Page": page, "Scope": scope}
            if keyword:
                params["Keyword"] = keyword
            data = self._call("ListPolicies", params)
            return [_policy(p) for p in data.get("List") or []], data.get("TotalNum")

        return paginate_page(fetch, rp=200)

    def find_policy_by_name(self, name: str) -> Policy | None:
        for policy in self.list_policies("Local", keyword=name):
            if policy.name == name:
                return policy
        return None

    def get_policy(self, policy_id: int) -> PolicyDetail:
        data = self._call("GetPolicy", {"PolicyId": int(policy_id)})
        raw = data.get("PolicyDocument") or ""
        try:
            document = parse_policy_document(raw)
        except ValueError:
            err = CloudError("InvalidResponse", f"policy {policy_id} has a document that is not JSON: {raw[:80]!r}",
                             data.get("RequestId"), action="GetPolicy",
                             hint="inspect the policy in the CAM console; sgpctl will not overwrite what it cannot read")
            err.exit_code = ExitCode.UNDETERMINED
            raise err from None
        return PolicyDetail(
            policy_id=int(policy_id),
            name=data.get("PolicyName") or "",
            document=document,
            raw_document=raw,
            description=data.get("Description"),
            type=data.get("Type"),
            add_time=data.get("AddTime"),
            update_time=data.get("UpdateTime"),
        )

    def create_policy(self, name: str, document: dict, description: str = "") -> int:
        params = {"PolicyName": name, "PolicyDocument": compact_json(document), "Description": description or ""}
        data = self._call("CreatePolicy", params)
        policy_id = data.get("PolicyId")
        if policy_id is None:
            raise CloudError("InvalidResponse", "CreatePolicy answered without a PolicyId", data.get("RequestId"),
                             action="CreatePolicy")
        return int(policy_id)

    def update_policy(self, policy_id: int, document: dict, description: str | None = None) -> None:
        params: dict = {"PolicyId": int(policy_id), "PolicyDocument": compact_json(document)}
        if description is not None:
            params["Description"] = description
        self._call("UpdatePolicy", params, idempotent=True)

    # -- roles ----------------------------------------------------------------------------------
    def get_role(self, name: str) -> Role | None:
        try:
            data = self._call("GetRole", {"RoleName": name})
        except CloudError as e:
            if e.code in ROLE_MISSING_CODES or e.code == "ResourceNotFound" or e.code.startswith("ResourceNotFound."):
                return None
            raise
        info = data.get("RoleInfo") or {}
        if not info.get("RoleId") and not info.get("RoleName"):
            return None
        return Role(
            role_id=str(info.get("RoleId") or ""),
            name=info.get("RoleName") or name,
            description=info.get("Description"),
            role_type=info.get("RoleType"),
            add_time=info.get("AddTime"),
        )

    def attach_role_policy(self, policy_id: int, role_name: str) -> None:
        self._call("AttachRolePolicy", {"PolicyId": int(policy_id), "AttachRoleName": role_name})

    def list_attached_role_policies(self, role_name: str) -> list[AttachedPolicy]:
        def fetch(page: int, rp: int):
            data = self._call("ListAttachedRolePolicies", {"Page": page, "Rp": rp, "RoleName": role_name})
            return [_attached(p) for p in data.get("List") or []], data.get("TotalNum")

        return paginate_page(fetch, rp=200)


def _policy(p: dict) -> Policy:
    return Policy(
        policy_id=int(p.get("PolicyId") or 0),
        name=p.get("PolicyName") or "",
        type=p.get("Type"),
        description=p.get("Description"),
        add_time=p.get("AddTime"),
        create_mode=p.get("CreateMode"),
    )


def _attached(p: dict) -> AttachedPolicy:
    return AttachedPolicy(
        policy_id=int(p.get("PolicyId") or 0),
        name=p.get("PolicyName") or "",
        policy_type=p.get("PolicyType"),
        add_time=p.get("AddTime"),
        create_mode=p.get("CreateMode"),
    )


ADAPTER = CamAdapter
