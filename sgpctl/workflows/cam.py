"""CAM authorization for eniipamd: the SubENIForIPAMD policy attached to IPAMDofTKE_QCSRole and
TKE_QCSRole (the TKE document, "Trunking ENI Related API Authorization").

Checks before it changes: an existing custom policy of that name is reused when its document grants
the three actions; a policy that lacks some is reported (or, with ``update_policy``, extended). A
second run changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sgpctl.core import cam_policy
from sgpctl.errors import CloudError
from sgpctl.workflows.clients import CamApi
from sgpctl.workflows.safely import create_once, ensure
from sgpctl.core.steps import CHANGED, FAILED, PLANNED, REFUSED, SKIPPED, UNCHANGED, Outcome, Step, client_side

ROLE_HINT = ("authorize TKE's service role: open the TKE console once (it asks to grant TKE_QCSRole) or create "
             "the role in CAM > Roles; IPAMDofTKE_QCSRole is created when VPC-CNI (eniipamd) is enabled on a cluster")


@dataclass
class RoleStatus:
    role: str
    exists: bool
    attached: bool

    def to_dict(self) -> dict:
        nxt = None if self.attached else (ROLE_HINT if not self.exists else "sgpctl cam setup")
        return {"role": self.role, "exists": self.exists, "attached": self.attached, "next": nxt}


@dataclass
class CamStatus:
    policy_name: str
    policy_id: int | None
    actions_present: list[str] = field(default_factory=list)
    actions_missing: list[str] = field(default_factory=list)
    roles: list[RoleStatus] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.policy_id is not None and not self.actions_missing and all(r.exists and r.attached for r in self.roles)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "policyName": self.policy_name,
            "policyId": self.policy_id,
            "actionsPresent": self.actions_present,
            "actionsMissing": self.actions_missing,
            "roles": [r.to_dict() for r in self.roles],
        }


def _attached(cam: CamApi, role: str, policy_id: int) -> bool:
    return any(p.policy_id == policy_id for p in cam.list_attached_role_policies(role))


def cam_status(cam: CamApi, policy_name: str = cam_policy.POLICY_NAME, roles: tuple[str, ...] = cam_policy.ROLES) -> CamStatus:
    policy = cam.find_policy_by_name(policy_name)
    status = CamStatus(policy_name, policy.policy_id if policy else None)
    if policy is not None:
        doc = cam.get_policy(policy.policy_id).document
        status.actions_present = cam_policy.granted_actions(doc)
        status.actions_missing = cam_policy.missing_actions(doc)
    else:
        status.actions_missing = list(cam_policy.REQUIRED_ACTIONS)
    for role in roles:
        exists = cam.get_role(role) is not None
        attached = exists and policy is not None and _attached(cam, role, policy.policy_id)
        status.roles.append(RoleStatus(role, exists, attached))
    return status


def cam_setup(
    cam: CamApi,
    *,
    policy_name: str = cam_policy.POLICY_NAME,
    roles: tuple[str, ...] = cam_policy.ROLES,
    dry_run: bool = False,
    update_policy: bool = False,
) -> Outcome:
    out = Outcome("cam setup", dry_run=dry_run)
    try:
        return _cam_setup(cam, out, policy_name, roles, dry_run, update_policy)
    finally:
        client_side(out, "CAM")


def _cam_setup(cam: CamApi, out: Outcome, policy_name: str, roles: tuple[str, ...], dry_run: bool,
               update_policy: bool) -> Outcome:
    # Roles first: attaching to a missing role cannot succeed, and creating a policy for nothing
    # would leave debris behind.
    missing_roles = [r for r in roles if cam.get_role(r) is None]
    policy = cam.find_policy_by_name(policy_name)
    step = out.add(Step("cam-policy", f"custom policy {policy_name} grants {', '.join(cam_policy.REQUIRED_ACTIONS)}"))
    if missing_roles:
        for r in missing_roles:
            out.add(Step(f"cam-role-{r}", f"role {r} exists", REFUSED, f"role {r} does not exist", ROLE_HINT))
        step.status, step.message = SKIPPED, "not reached: a role is missing"
        return out

    policy_id = policy.policy_id if policy else None
    if policy is None:
        if dry_run:
            step.status, step.message = PLANNED, f"would create custom policy {policy_name}"
        else:
            policy_id, created = _create_policy(cam, policy_name)
            step.status = CHANGED if created else UNCHANGED
            step.message = (f"created custom policy {policy_name} (id {policy_id})" if created
                            else f"custom policy {policy_name} appeared meanwhile (id {policy_id}); reusing it")
            if not created:
                _check_document(cam, policy_id, policy_name, step, update_policy, dry_run)
    else:
        step.message = f"custom policy {policy_name} exists (id {policy_id})"
        _check_document(cam, policy_id, policy_name, step, update_policy, dry_run)
    step.details = {"policyId": policy_id}
    if step.status in (FAILED, REFUSED):
        for r in roles:
            out.add(Step(f"cam-attach-{r}", f"{policy_name} attached to {r}", SKIPPED, "not reached: the policy is not compliant"))
        return out

    for role in roles:
        st = out.add(Step(f"cam-attach-{role}", f"{policy_name} attached to {role}"))
        if policy_id is not None and _attached(cam, role, policy_id):
            st.message = f"already attached to {role}"
            continue
        if dry_run:
            st.status, st.message = PLANNED, f"would attach {policy_name} to {role}"
            continue
        ensure(lambda: cam.attach_role_policy(policy_id, role), lambda: _attached(cam, role, policy_id))
        # AttachRolePolicy's idempotency is not documented: confirm by reading back.
        if not _attached(cam, role, policy_id):
            st.status, st.message = FAILED, f"attached {policy_name} to {role}, but it is not listed afterwards"
            st.hint = "check the role in the CAM console; rerun `sgpctl cam setup`"
            continue
        st.status, st.message = CHANGED, f"attached {policy_name} to {role}"
    return out


def _create_policy(cam: CamApi, name: str) -> tuple[int, bool]:
    def find():
        found = cam.find_policy_by_name(name)
        return found.policy_id if found else None

    try:
        return create_once(lambda: cam.create_policy(name, cam_policy.seed_document(), cam_policy.DESCRIPTION), find)
    except CloudError as e:
        # Another run (or a retried request that did land) created it first: use that one.
        if e.code != "FailedOperation.PolicyNameInUse":
            raise
        existing = cam.find_policy_by_name(name)
        if existing is None:
            raise
        return existing.policy_id, False


def _check_document(cam: CamApi, policy_id: int, name: str, step: Step, update_policy: bool, dry_run: bool) -> None:
    detail = cam.get_policy(policy_id)
    missing = cam_policy.missing_actions(detail.document)
    if not missing:
        step.status = UNCHANGED if step.status != CHANGED else step.status
        return
    if not update_policy:
        step.status = REFUSED
        step.message = f"custom policy {name} (id {policy_id}) does not allow {', '.join(missing)}"
        step.hint = "rerun with --update-policy to add them, or pass --policy-name to use another policy"
        step.details = {"missingActions": missing}
        return
    if dry_run:
        step.status, step.message = PLANNED, f"would add {', '.join(missing)} to custom policy {name}"
        return
    cam.update_policy(policy_id, cam_policy.with_actions(detail.document, missing))
    if cam_policy.missing_actions(cam.get_policy(policy_id).document):
        step.status, step.message = FAILED, f"updated custom policy {name}, but it still lacks actions"
        return
    step.status, step.message = CHANGED, f"added {', '.join(missing)} to custom policy {name} (id {policy_id})"
