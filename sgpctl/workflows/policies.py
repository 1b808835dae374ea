"""SecurityGroupPolicy on a live cluster: list and get, apply (validate the whole file against the
cluster and the cloud first, then create or update each policy), delete, and rollout (rebuild the
stale Pods through their owners, as `kubectl rollout restart` does).

Reads go through the command's ``ClusterView``; writes through its client (``view.kube``, a
``KubeWriter``). Nothing is written until every document passed every check: a file is applied whole
or not at all."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sgpctl.core import allocation, matching
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.core.steps import CHANGED, FAILED, PLANNED, UNCHANGED, DryRun, Outcome, Step
from sgpctl.errors import InputError, KubeError, RefusedError
from sgpctl.kube import resources as r
from sgpctl.workflows.clients import KubeWriter, VpcApi
from sgpctl.workflows.view import ClusterView
from sgpctl.workflows.waiting import Waiter

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ROLLABLE = {"Deployment": r.DEPLOYMENTS, "StatefulSet": r.STATEFULSETS, "DaemonSet": r.DAEMONSETS}


def sgp_resource(view: ClusterView) -> r.Resource:
    return view.require_policies()


# -- list, get -----------------------------------------------------------------------------------

def policy_row(o: dict) -> dict:
    """A policy object as the row `policy list` and `policy get` show (what the server holds, even
    when odd: the listing must not fail on one malformed object)."""
    spec = o.get("spec") if isinstance(o.get("spec"), dict) else {}
    meta = o.get("metadata") or {}
    groups = spec.get("securityGroups")
    ids = groups.get("groupIds") if isinstance(groups, dict) else None
    return {"namespace": meta.get("namespace"), "name": meta.get("name"),
            "groupIds": [str(g) for g in ids] if isinstance(ids, list) else [],
            "podSelector": spec.get("podSelector"), "serviceAccountSelector": spec.get("serviceAccountSelector"),
            "creationTimestamp": meta.get("creationTimestamp")}


def list_policies(view: ClusterView) -> list[dict]:
    """Every SecurityGroupPolicy in the view's scope, as rows, by namespace and name."""
    items = view.list(sgp_resource(view))
    return [policy_row(o) for o in sorted(items, key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]))]


def policy_from_flags(name: str, namespace: str, pod_selector: str | None, sa_selector: str | None,
                      groups: list[str] | None) -> tuple[dict, list[SecurityGroupPolicy]]:
    """`policy create`: the document built from kubectl-style selectors, validated like a file's."""
    from sgpctl.core.policy import build_policy, validate_documents
    from sgpctl.core.selectors import SelectorError

    if not pod_selector and pod_selector != "" and sa_selector is None:
        raise InputError("give --pod-selector and/or --sa-selector", hint='e.g. --pod-selector app=web (or "" for every Pod)')
    if not groups:
        raise InputError("give at least one --sg", hint="e.g. --sg sg-1a2b3c4d")
    try:
        obj = build_policy(name, namespace, pod_selector, sa_selector, groups)
    except SelectorError as e:
        raise InputError(f"{e.field or 'selector'}: {e.message}", hint="use kubectl's selector syntax, e.g. app=web,tier in (a,b)") from None
    result = validate_documents([obj])
    if not result.ok:
        raise InputError("; ".join(str(p) for p in result.problems), hint="fix the flags and retry")
    return obj, result.policies


def get_policy(view: ClusterView, name: str, namespace: str) -> dict:
    obj = view.get(sgp_resource(view), name, namespace)
    if obj is None:
        raise RefusedError(f"SecurityGroupPolicy {namespace}/{name} not found", hint=f"sgpctl policy list -n {namespace}")
    return obj


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ApplyCheck:
    problems: list[str] = field(default_factory=list)
    sg_limit: int = matching.DEFAULT_SG_LIMIT
    #: namespaces of the file's policies that exist in the cluster
    namespaces: set[str] = field(default_factory=set)


def check_against_cluster(view: ClusterView, vpc: VpcApi, policies: list[SecurityGroupPolicy]) -> ApplyCheck:
    """Every cluster and cloud check `policy apply` makes before writing: namespaces exist, every
    group exists in the region (one DescribeSecurityGroups per 100 ids), and the union of groups
    each affected Pod would get fits the per-ENI limit."""
    check = ApplyCheck()
    for ns in sorted({p.namespace for p in policies}):
        if view.get(r.NAMESPACES, ns) is not None:
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


def _match_after(view: ClusterView, policies: list[SecurityGroupPolicy], namespaces: set[str],
                 limit: int) -> dict[str, matching.MatchResult]:
    """Per namespace, the Pods matched against the policies as they will be once the file is
    applied: read once, it answers both the per-ENI limit check and the stale-Pod report."""
    from sgpctl.workflows.sources import merge_policies

    results = {}
    for ns in sorted(namespaces):
        after = merge_policies(view.policies_in(ns), [p for p in policies if p.namespace == ns])
        results[ns] = matching.match(view.list(r.PODS, ns), after, view.list(r.SERVICEACCOUNTS, ns), sg_limit=limit)
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


def apply_policies(view: ClusterView, vpc: VpcApi, policies: list[SecurityGroupPolicy], *, dry_run: bool = False,
                   namespace_default: str = "default") -> Outcome:
    """Validate against the cluster and cloud, then create/update each policy (kubectl's
    created/configured/unchanged). Raises InputError listing every problem when any check fails."""
    policies = [p.with_namespace(namespace_default) for p in policies]
    seen = set()
    for p in policies:
        if (p.namespace, p.name) in seen:
            raise InputError(f"{p.namespace}/{p.name} appears twice in the file", hint="keep one document per policy")
        seen.add((p.namespace, p.name))
    sgp = sgp_resource(view)
    kube: KubeWriter = view.kube
    check = check_against_cluster(view, vpc, policies)
    after = _match_after(view, policies, check.namespaces, check.sg_limit)
    check.problems += _union_problems(after, check.sg_limit)
    if check.problems:
        err = InputError(check.problems[0] + (f" (and {len(check.problems) - 1} more problems)" if len(check.problems) > 1 else ""),
                         hint="nothing was applied; fix the file or the cluster and retry")
        err.problems = check.problems  # type: ignore[attr-defined]
        raise err

    mode = DryRun.of(dry_run)
    server = " (server dry run)" if mode is DryRun.SERVER else " (dry run)"
    out = Outcome("policy apply", dry_run=mode)
    diffs = {(d.namespace, d.name): d for d in diff_policies(view, policies)}
    for p in policies:
        desired = _desired_object(p)
        key = f"{p.namespace}/{p.name}"
        step = out.add(Step(f"policy-{key}", f"SecurityGroupPolicy {key}"))
        diff = diffs[(p.namespace, p.name)]
        if diff.result != "unchanged":
            # What changes, field by field, and the Pods that get other groups once rebuilt.
            step.details["changes"] = [f.text() for f in diff.fields] + [c.text() for c in diff.pods]
        existing = view.get(sgp, p.name, p.namespace)
        if existing is None:
            step.details["result"] = "created"
            if mode:
                if mode is DryRun.SERVER:
                    kube.create(sgp, desired, p.namespace, dry_run=True)
                step.status, step.message = PLANNED, f"securitygrouppolicy/{p.name} created{server}"
            else:
                kube.create(sgp, desired, p.namespace)
                step.status, step.message = CHANGED, f"securitygrouppolicy/{p.name} created"
            continue
        if _same(existing, desired):
            step.status, step.message = UNCHANGED, f"securitygrouppolicy/{p.name} unchanged"
            step.details["result"] = "unchanged"
            continue
        step.details["result"] = "configured"
        if mode:
            if mode is DryRun.SERVER:
                _update_with_retry(kube, sgp, existing, desired, dry_run=True)
            step.status, step.message = PLANNED, f"securitygrouppolicy/{p.name} configured{server}"
            continue
        _update_with_retry(kube, sgp, existing, desired)
        step.status, step.message = CHANGED, f"securitygrouppolicy/{p.name} configured"
    out.extra["stale"] = stale_after(after, policies)
    view.forget()
    return out


def diff_policies(view: ClusterView, policies: list[SecurityGroupPolicy], *, namespace_default: str = "default") -> list:
    """`policy diff`: per policy of the file, created/configured/unchanged, the fields that change
    (``core.policy_diff.field_changes``) and the Pods whose groups change (``pod_changes``)."""
    from sgpctl.core.policy_diff import PolicyDiff, field_changes, pod_changes
    from sgpctl.workflows.sources import merge_policies

    policies = [p.with_namespace(namespace_default) for p in policies]
    sgp = sgp_resource(view)
    out = []
    for ns in sorted({p.namespace for p in policies}):
        here = [p for p in policies if p.namespace == ns]
        before = view.policies_in(ns)
        pods = pod_changes(view.list(r.PODS, ns), view.list(r.SERVICEACCOUNTS, ns), before, merge_policies(before, here))
        for p in sorted(here, key=lambda p: p.name):
            existing = view.get(sgp, p.name, ns)
            desired = _desired_object(p)
            fields = field_changes(existing, desired)
            result = "created" if existing is None else ("unchanged" if _same(existing, desired) else "configured")
            mine = [c for c in pods if p.name in c.policies]
            out.append(PolicyDiff(ns, p.name, result, fields if result != "unchanged" else [], mine))
    return out


def _update_with_retry(kube, sgp, existing: dict, desired: dict, attempts: int = 3, *, dry_run: bool = False) -> dict:
    """PUT with the resourceVersion read; on a conflict (someone wrote in between) re-read and retry."""
    for attempt in range(attempts):
        obj = copy.deepcopy(existing)
        obj["spec"] = desired["spec"]
        meta = obj.setdefault("metadata", {})
        for key in ("labels", "annotations"):
            if desired["metadata"].get(key):
                meta[key] = {**(meta.get(key) or {}), **desired["metadata"][key]}
        try:
            return kube.replace(sgp, obj, dry_run=dry_run)
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

def pods_keeping_groups(view: ClusterView, name: str, namespace: str) -> list[str]:
    """The running Pods of the namespace that carry the groups this policy gave them: they keep them
    until rebuilt, whatever happens to the policy."""
    result = matching.match(view.list(r.PODS, namespace), view.policies_in(namespace), view.list(r.SERVICEACCOUNTS, namespace))
    return sorted(m.name for m in result.pods if name in m.policies and m.annotated_groups is not None
                  and m.phase not in matching.FINISHED_PHASES)


def plan_delete(view: ClusterView, name: str, namespace: str, dry_run: bool | DryRun = True) -> Outcome:
    """`policy delete --dry-run`: what would be deleted, and the Pods that keep the policy's groups
    (``--dry-run=server``: the API server is sent the delete with ``dryRun=All``)."""
    get_policy(view, name, namespace)
    mode = DryRun.of(dry_run) or DryRun.CLIENT
    out = Outcome("policy delete", dry_run=mode, extra={"podsKeepingGroups": pods_keeping_groups(view, name, namespace)})
    step = out.add(Step(f"policy-{namespace}/{name}", f"delete {namespace}/{name}", PLANNED,
                        f"securitygrouppolicy/{name} would be deleted"))
    if mode is DryRun.SERVER:
        view.kube.delete(sgp_resource(view), name, namespace, dry_run=True)
        step.message += " (the API server accepted the delete in a dry run)"
    return out


def delete_policy(view: ClusterView, plan: Outcome, name: str, namespace: str) -> Outcome:
    kube: KubeWriter = view.kube
    kube.delete(sgp_resource(view), name, namespace)
    view.forget()
    out = Outcome("policy delete", extra=dict(plan.extra))
    out.add(Step(f"policy-{namespace}/{name}", f"delete {namespace}/{name}", CHANGED, f"securitygrouppolicy/{name} deleted"))
    return out


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
    #: Pods whose ENI carries other groups than their annotation (changed behind the controller's
    #: back): rebuilding gives them a new sub-ENI with the right ones
    drifted: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "policy": self.policy, "stalePods": self.stale, "owners": self.owners,
                "barePods": self.bare_pods, "unsupported": self.unsupported, "wouldStayPending": self.pending,
                "driftedPods": self.drifted}


def drifted_pods(view: ClusterView, vpc: VpcApi, policy: str | None = None) -> set[str]:
    """The Pods whose ENI, in VPC, does not carry the groups of their annotation (`verify`'s eni-groups
    check fails): someone changed the ENI, or it is gone."""
    from sgpctl.core.checks import Status
    from sgpctl.workflows.verify import verify_pods

    report = verify_pods(view, vpc, policy=policy)
    return {p.name for p in report.pods if any(c.id == "eni-groups" and c.status is Status.FAIL for c in p.checks)}


def plan_rollout(view: ClusterView, namespace: str, policy: str | None = None, *,
                 every_sub_eni_pod: bool = False, vpc: VpcApi | None = None) -> RolloutPlan:
    """The stale Pods (or, with ``every_sub_eni_pod``, every running Pod a policy selects or that is
    on a sub-ENI: what a routing-mode switch needs, since only new Pods get the new scheme) and the
    owners that rebuild them. With ``vpc``, also the Pods whose ENI groups drifted (``drifted_pods``)."""
    sgp_resource(view)
    # Room on the nodes depends on every Pod; the namespace's Pods come from the same list.
    every_pod = view.list(r.PODS, None)
    policies = view.policies_in(namespace)
    if policy and not any(p.name == policy for p in policies):
        raise RefusedError(f"SecurityGroupPolicy {namespace}/{policy} not found", hint="sgpctl policy list -n " + namespace)
    pods = view.list(r.PODS, namespace)
    result = matching.match(pods, policies, view.list(r.SERVICEACCOUNTS, namespace),
                            replicasets=view.list(r.REPLICASETS, namespace))
    drifted = drifted_pods(view, vpc, policy) if vpc is not None and not every_sub_eni_pod else set()
    if every_sub_eni_pod:
        candidates = [m for m in result.pods if m.phase not in matching.FINISHED_PHASES and (m.policies or m.annotated_groups is not None)]
    else:
        candidates = result.stale() + [m for m in result.pods if m.name in drifted and not m.stale]
    stale = [m for m in candidates if policy is None or policy in m.policies]
    plan = RolloutPlan(namespace, policy, stale=len(stale), every_sub_eni_pod=every_sub_eni_pod,
                       drifted=sorted(m.name for m in stale if m.name in drifted))
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
    cap = allocation.plan(needing, view.nodes, every_pod)
    plan.pending = [{"pod": p.pod, "reason": p.reason} for p in cap.pending()]
    return plan


def require_room(plan: RolloutPlan) -> None:
    """Refuse a rollout whose rebuilt Pods would not fit on any node's sub-ENI quota."""
    if plan.pending:
        raise RefusedError(f"{len(plan.pending)} rebuilt Pod(s) would not fit on any node's sub-ENI quota",
                           hint="add nodes of a supported family (sgpctl capacity) or scale down, then retry")


def rollout_outcome(plan: RolloutPlan, *, delete_bare_pods: bool = False, dry_run: bool | DryRun = True,
                    kube: KubeWriter | None = None) -> Outcome:
    """The plan as a dry-run outcome: a planned restart per owner, and what happens to bare Pods.
    ``--dry-run=server`` sends each restart (and delete) with ``dryRun=All`` through ``kube``."""
    mode = DryRun.of(dry_run) or DryRun.CLIENT
    server = mode is DryRun.SERVER and kube is not None
    out = Outcome("policy rollout", dry_run=mode, extra={"plan": plan.to_dict()})
    stamp = now_rfc3339()
    for o in plan.owners:
        kind = o["kind"].lower()
        step = out.add(Step(f"restart-{kind}-{o['name']}", f"restart {kind}/{o['name']}", PLANNED,
                            f"would restart {kind}/{o['name']} ({len(o['pods'])} Pod(s): {', '.join(o['pods'])})"))
        if server:
            kube.patch(ROLLABLE[o["kind"]], o["name"], _restart_patch(stamp), plan.namespace, patch_type="strategic",
                       dry_run=True)
            step.message += " (the API server accepted the restart in a dry run)"
    for b in plan.bare_pods:
        step = out.add(Step(f"delete-pod-{b}", f"bare Pod {b}", PLANNED if delete_bare_pods else UNCHANGED,
                            f"would delete pod/{b}" if delete_bare_pods else f"pod/{b} has no owner: left alone (pass --delete-bare-pods)"))
        if server and delete_bare_pods:
            kube.delete(r.PODS, b, plan.namespace, dry_run=True)
            step.message += " (the API server accepted the delete in a dry run)"
    return out


def _restart_patch(stamp: str) -> dict:
    """What `kubectl rollout restart` sends: a new annotation on the Pod template."""
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}


def run_rollout(view: ClusterView, vpc: VpcApi, plan: RolloutPlan, *, delete_bare_pods: bool = False,
                wait: bool = False, waiter: Waiter | None = None) -> Outcome:
    """Rebuild; with ``wait``, follow the rollout and verify the Pods it made (a step of its own)."""
    kube: KubeWriter = view.kube
    out = execute_rollout(kube, plan, delete_bare_pods=delete_bare_pods)
    out.extra["plan"] = plan.to_dict()
    view.forget()
    if wait:
        from sgpctl.workflows.verify import verify_pods

        wait_rollout(kube, plan, waiter or Waiter(), delete_bare_pods=delete_bare_pods)
        report = verify_pods(ClusterView(kube, namespace=plan.namespace), vpc, policy=plan.policy)
        out.extra["verify"] = report.to_dict()
        summary = report.summary()
        out.add(Step("verify", "the rebuilt Pods verify", CHANGED if report.ok() else FAILED,
                     f"{summary['ok']} of {summary['pods']} Pods verified"))
    return out


def execute_rollout(kube: KubeWriter, plan: RolloutPlan, *, delete_bare_pods: bool = False) -> Outcome:
    out = Outcome("policy rollout")
    stamp = now_rfc3339()
    for o in plan.owners:
        kube.patch(ROLLABLE[o["kind"]], o["name"], _restart_patch(stamp), plan.namespace, patch_type="strategic")
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


def wait_rollout(kube: KubeWriter, plan: RolloutPlan, waiter: Waiter, *, delete_bare_pods: bool = False) -> bool:
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
