"""SecurityGroupPolicy on a live cluster: apply (validate the whole file against the cluster and the
cloud first, then create or update each policy), delete, and rollout (rebuild the stale Pods through
their owners, as `kubectl rollout restart` does).

Nothing is written until every document passed every check: a file is applied whole or not at all."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sgpctl.core import allocation, matching
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.errors import InputError, KubeError, RefusedError
from sgpctl.kube import resources as r
from sgpctl.workflows.steps import CHANGED, PLANNED, UNCHANGED, Outcome, Step

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ROLLABLE = {"Deployment": r.DEPLOYMENTS, "StatefulSet": r.STATEFULSETS, "DaemonSet": r.DAEMONSETS}


def sgp_resource(kube):
    if not kube.serves(r.SGP_GROUP, r.SGP_KIND):
        raise InputError("the cluster does not serve SecurityGroupPolicy: the SecurityGroupPolicy add-on is not installed",
                         hint="run `sgpctl addon install` (or `sgpctl setup`) first")
    return kube.resource(r.SGP_GROUP, r.SGP_KIND)


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ApplyCheck:
    problems: list[str] = field(default_factory=list)
    sg_limit: int = matching.DEFAULT_SG_LIMIT
    #: namespaces of the file's policies that exist in the cluster
    namespaces: set[str] = field(default_factory=set)


def check_against_cluster(kube, vpc, policies: list[SecurityGroupPolicy]) -> ApplyCheck:
    """Every cluster and cloud check `policy apply` makes before writing: namespaces exist, every
    group exists in the region (one DescribeSecurityGroups per 100 ids), and the union of groups
    each affected Pod would get fits the per-ENI limit."""
    check = ApplyCheck()
    for ns in sorted({p.namespace for p in policies}):
        if kube.get(r.NAMESPACES, ns) is not None:
            check.namespaces.add(ns)
        else:
            names = ", ".join(p.name for p in policies if p.namespace == ns)
            check.problems.append(f"namespace {ns!r} does not exist (policies: {names}); create it first: kubectl create namespace {ns}")
    all_ids = sorted({g for p in policies for g in p.group_ids})
    missing = set(vpc.find_missing_security_groups(all_ids)) if all_ids else set()
    for p in policies:
        for g in p.group_ids:
            if g in missing:
                check.problems.append(f"{p.namespace}/{p.name}: security group {g} does not exist in the cluster's region; "
                                      "Pods would be stuck at sub-ENI creation (create it: sgpctl sg create NAME)")
    check.sg_limit = vpc.describe_security_group_limit() or matching.DEFAULT_SG_LIMIT
    for p in policies:
        # Even before any Pod matches: every Pod this policy will select would fail at ENI creation.
        if len(p.group_ids) > check.sg_limit:
            check.problems.append(f"{p.namespace}/{p.name}: {len(p.group_ids)} security groups, more than the "
                                  f"{check.sg_limit} an ENI can carry; use at most {check.sg_limit}")
    return check


def _match_after(kube, sgp, policies: list[SecurityGroupPolicy], namespaces: set[str],
                 limit: int) -> dict[str, matching.MatchResult]:
    """Per namespace, the Pods matched against the policies as they will be once the file is
    applied: read once, it answers both the per-ENI limit check and the stale-Pod report."""
    from sgpctl.workflows.sources import merge_policies

    results = {}
    for ns in sorted(namespaces):
        existing = [SecurityGroupPolicy.from_object(o) for o in kube.list(sgp, ns)]
        after = merge_policies(existing, [p for p in policies if p.namespace == ns])
        results[ns] = matching.match(kube.list(r.PODS, ns), after, kube.list(r.SERVICEACCOUNTS, ns), sg_limit=limit)
    return results


def _union_problems(results: dict[str, matching.MatchResult], limit: int) -> list[str]:
    return [f"{w.message} (limit {limit} security groups per ENI); split the policies or use fewer groups"
            for result in results.values() for w in result.warnings if w.code == "union-over-limit"]


def _desired_object(p: SecurityGroupPolicy) -> dict:
    obj = p.to_object()
    meta = p.raw.get("metadata") or {} if isinstance(p.raw, dict) else {}
    for key in ("labels", "annotations"):
        if meta.get(key):
            obj["metadata"][key] = dict(meta[key])
    return obj


def _same(existing: dict, desired: dict) -> bool:
    if existing.get("spec") != desired.get("spec"):
        return False
    meta = existing.get("metadata") or {}
    for key in ("labels", "annotations"):
        for k, v in (desired["metadata"].get(key) or {}).items():
            if (meta.get(key) or {}).get(k) != v:
                return False
    return True


def apply_policies(kube, vpc, policies: list[SecurityGroupPolicy], *, dry_run: bool = False, namespace_default: str = "default") -> Outcome:
    """Validate against the cluster and cloud, then create/update each policy (kubectl's
    created/configured/unchanged). Raises InputError listing every problem when any check fails."""
    policies = [p.with_namespace(namespace_default) for p in policies]
    seen = set()
    for p in policies:
        if (p.namespace, p.name) in seen:
            raise InputError(f"{p.namespace}/{p.name} appears twice in the file", hint="keep one document per policy")
        seen.add((p.namespace, p.name))
    sgp = sgp_resource(kube)
    check = check_against_cluster(kube, vpc, policies)
    after = _match_after(kube, sgp, policies, check.namespaces, check.sg_limit)
    check.problems += _union_problems(after, check.sg_limit)
    if check.problems:
        err = InputError(check.problems[0] + (f" (and {len(check.problems) - 1} more problems)" if len(check.problems) > 1 else ""),
                         hint="nothing was applied; fix the file or the cluster and retry")
        err.problems = check.problems  # type: ignore[attr-defined]
        raise err

    out = Outcome("policy apply", dry_run=dry_run)
    for p in policies:
        desired = _desired_object(p)
        key = f"{p.namespace}/{p.name}"
        step = out.add(Step(f"policy-{key}", f"SecurityGroupPolicy {key}"))
        existing = kube.get(sgp, p.name, p.namespace)
        if existing is None:
            step.details["result"] = "created"
            if dry_run:
                step.status, step.message = PLANNED, f"securitygrouppolicy/{p.name} created (dry run)"
            else:
                kube.create(sgp, desired, p.namespace)
                step.status, step.message = CHANGED, f"securitygrouppolicy/{p.name} created"
            continue
        if _same(existing, desired):
            step.status, step.message = UNCHANGED, f"securitygrouppolicy/{p.name} unchanged"
            step.details["result"] = "unchanged"
            continue
        step.details["result"] = "configured"
        if dry_run:
            step.status, step.message = PLANNED, f"securitygrouppolicy/{p.name} configured (dry run)"
            continue
        _update_with_retry(kube, sgp, existing, desired)
        step.status, step.message = CHANGED, f"securitygrouppolicy/{p.name} configured"
    out.extra["stale"] = stale_after(after, policies)
    return out


def _update_with_retry(kube, sgp, existing: dict, desired: dict, attempts: int = 3) -> dict:
    """PUT with the resourceVersion read; on a conflict (someone wrote in between) re-read and retry."""
    for attempt in range(attempts):
        obj = copy.deepcopy(existing)
        obj["spec"] = desired["spec"]
        meta = obj.setdefault("metadata", {})
        for key in ("labels", "annotations"):
            if desired["metadata"].get(key):
                meta[key] = {**(meta.get(key) or {}), **desired["metadata"][key]}
        try:
            return kube.replace(sgp, obj)
        except KubeError as e:
            if e.status != 409 or attempt == attempts - 1:
                raise
            existing = kube.get(sgp, desired["metadata"]["name"], desired["metadata"]["namespace"]) or existing
    raise AssertionError("unreachable")


def stale_after(results: dict[str, matching.MatchResult], policies: list[SecurityGroupPolicy]) -> dict:
    """The existing Pods the applied policies now select but that keep their old groups."""
    by_ns = {}
    for ns, result in results.items():
        names = {p.name for p in policies if p.namespace == ns}
        stale = [m.name for m in result.stale() if set(m.policies) & names]
        if stale:
            by_ns[ns] = {"pods": stale, "rebuild": f"sgpctl policy rollout -n {ns}"}
    return by_ns


# -- delete ------------------------------------------------------------------------------------------

def pods_keeping_groups(kube, sgp, name: str, namespace: str) -> list[str]:
    policies = [SecurityGroupPolicy.from_object(o) for o in kube.list(sgp, namespace)]
    result = matching.match(kube.list(r.PODS, namespace), policies, kube.list(r.SERVICEACCOUNTS, namespace))
    return sorted(m.name for m in result.pods if name in m.policies and m.annotated_groups is not None
                  and m.phase not in matching.FINISHED_PHASES)


# -- rollout -----------------------------------------------------------------------------------------

@dataclass
class RolloutPlan:
    namespace: str
    policy: str | None
    owners: list[dict] = field(default_factory=list)      # {kind, name, pods}
    bare_pods: list[str] = field(default_factory=list)
    unsupported: list[dict] = field(default_factory=list)  # {kind, name, pods}
    pending: list[dict] = field(default_factory=list)      # capacity: {pod, reason}
    stale: int = 0
    #: every Pod the plan rebuilds (uid -> name): waiting ends when none of them is left
    uids: dict = field(default_factory=dict)
    every_sub_eni_pod: bool = False

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "policy": self.policy, "stalePods": self.stale, "owners": self.owners,
                "barePods": self.bare_pods, "unsupported": self.unsupported, "wouldStayPending": self.pending}


def plan_rollout(kube, namespace: str, policy: str | None = None, *, every_sub_eni_pod: bool = False) -> RolloutPlan:
    """The stale Pods (or, with ``every_sub_eni_pod``, every running Pod a policy selects or that is
    on a sub-ENI: what a routing-mode switch needs, since only new Pods get the new scheme) and the
    owners that rebuild them."""
    sgp = sgp_resource(kube)
    policies = [SecurityGroupPolicy.from_object(o) for o in kube.list(sgp, namespace)]
    if policy and not any(p.name == policy for p in policies):
        raise InputError(f"SecurityGroupPolicy {policy!r} not found in namespace {namespace}", hint="sgpctl policy list -n " + namespace)
    pods = kube.list(r.PODS, namespace)
    result = matching.match(pods, policies, kube.list(r.SERVICEACCOUNTS, namespace), replicasets=kube.list(r.REPLICASETS, namespace))
    if every_sub_eni_pod:
        candidates = [m for m in result.pods if m.phase not in matching.FINISHED_PHASES and (m.policies or m.annotated_groups is not None)]
    else:
        candidates = result.stale()
    stale = [m for m in candidates if policy is None or policy in m.policies]
    plan = RolloutPlan(namespace, policy, stale=len(stale), every_sub_eni_pod=every_sub_eni_pod)
    owners: dict[tuple[str, str], list[str]] = {}
    for m in stale:
        if m.owner is None:
            plan.bare_pods.append(m.name)
        elif m.owner[0] in ROLLABLE:
            owners.setdefault(m.owner, []).append(m.name)
        else:
            plan.unsupported.append({"kind": m.owner[0], "name": m.owner[1], "pods": [m.name]})
    plan.owners = [{"kind": k, "name": n, "pods": sorted(ps)} for (k, n), ps in sorted(owners.items())]
    # Only Pods that will ask for a sub-ENI once rebuilt need room.
    index = {p["metadata"]["name"]: p for p in pods}
    plan.uids = {index[m.name]["metadata"].get("uid"): m.name for m in stale if m.name in index}
    needing = [index[m.name] for m in stale if m.policies and m.name in index]
    cap = allocation.plan(needing, kube.list(r.NODES), kube.list(r.PODS))
    plan.pending = [{"pod": p.pod, "reason": p.reason} for p in cap.pending()]
    return plan


def execute_rollout(kube, plan: RolloutPlan, *, delete_bare_pods: bool = False) -> Outcome:
    out = Outcome("policy rollout")
    stamp = now_rfc3339()
    for o in plan.owners:
        res = ROLLABLE[o["kind"]]
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        kube.patch(res, o["name"], patch, plan.namespace, patch_type="strategic")
        out.add(Step(f"restart-{o['kind'].lower()}-{o['name']}", f"restart {o['kind'].lower()}/{o['name']}", CHANGED,
                     f"{o['kind'].lower()}/{o['name']} restarted ({len(o['pods'])} stale Pod(s))"))
    for name in plan.bare_pods:
        if delete_bare_pods:
            kube.delete(r.PODS, name, plan.namespace)
            out.add(Step(f"delete-pod-{name}", f"delete bare Pod {name}", CHANGED, f"pod/{name} deleted (it has no owner to recreate it)"))
        else:
            out.add(Step(f"delete-pod-{name}", f"bare Pod {name}", UNCHANGED, f"pod/{name} has no owner: left alone (pass --delete-bare-pods)"))
    for u in plan.unsupported:
        out.add(Step(f"owner-{u['kind']}-{u['name']}", f"{u['kind']}/{u['name']}", UNCHANGED,
                     f"{u['kind'].lower()}/{u['name']} cannot be restarted by sgpctl: rebuild its Pods yourself"))
    return out


def wait_rollout(kube, plan: RolloutPlan, waiter, *, delete_bare_pods: bool = False) -> bool:
    """Until every Pod the plan rebuilds is gone (by uid: a StatefulSet's new Pod keeps the old
    name) and the restarted workloads' new Pods are no longer Pending."""
    owned = {n for o in plan.owners for n in o["pods"]} | (set(plan.bare_pods) if delete_bare_pods else set())
    waiting_for = {uid for uid, name in plan.uids.items() if name in owned}
    owners = {(o["kind"], o["name"]) for o in plan.owners}

    def probe():
        pods = kube.list(r.PODS, plan.namespace)
        left = [p["metadata"]["name"] for p in pods if p["metadata"].get("uid") in waiting_for]
        if left:
            return False, left
        pending = [p["metadata"]["name"] for p in pods if (p.get("status") or {}).get("phase") == "Pending"
                   and not (p.get("metadata") or {}).get("deletionTimestamp") and matching.pod_owner(p) in owners]
        return not pending, pending

    done, _ = waiter.until(probe, "the rebuilt Pods")
    if not done:
        raise RefusedError("timed out waiting for the rollout", hint="check `kubectl rollout status` of the owners and `sgpctl verify pods`")
    return done
