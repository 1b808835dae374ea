"""SecurityGroupPolicy on a live cluster: list and get, apply (validate the whole file against the
cluster and the cloud first, then create or update each policy), delete, and rollout (rebuild the
stale Pods through their owners, as `kubectl rollout restart` does).

Reads go through the command's ``ClusterView``; writes through its client (``view.kube``, a
``KubeWriter``). Nothing is written until every document passed every check: a file is applied whole
or not at all."""

from __future__ import annotations

import copy
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sgpctl.core import allocation, matching
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.core.steps import CHANGED, FAILED, PLANNED, UNCHANGED, DryRun, Outcome, Step
from sgpctl.errors import InputError, KubeError, RefusedError, SgpctlError
from sgpctl.kube import resources as r
from sgpctl.workflows.clients import KubeWriter, VpcApi
from sgpctl.workflows.lease import writer_leases
from sgpctl.workflows.view import ClusterView
from sgpctl.workflows.waiting import Waiter

log = logging.getLogger("sgpctl.policies")

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


def _match_after(views: dict[str, ClusterView], policies: list[SecurityGroupPolicy],
                 limit: int) -> dict[str, matching.MatchResult]:
    """Per namespace (``views``: the view to read each one from), the Pods matched against the
    policies as they will be once the file is applied: read once, it answers both the per-ENI limit
    check and the stale-Pod report."""
    from sgpctl.workflows.sources import merge_policies

    results = {}
    for ns, view in sorted(views.items()):
        after = merge_policies(view.policies_in(ns), [p for p in policies if p.namespace == ns])
        results[ns] = matching.match(view.list(r.PODS, ns), after, view.list(r.SERVICEACCOUNTS, ns), sg_limit=limit)
    return results


def _fresh_views(kube: KubeWriter, namespaces: set[str]) -> dict[str, ClusterView]:
    """A new view of each namespace, its Pods and ServiceAccounts already being listed in the
    background while the policies are: one round trip, not three, while the Lease is held."""
    views = {}
    for ns in sorted(namespaces):
        views[ns] = ClusterView(kube, namespace=ns)
        views[ns].prefetch("pods", "serviceaccounts")
    return views


@dataclass(frozen=True)
class UnionOverLimit:
    """Pods that a set of policies selects together, whose union of groups is over the per-ENI limit."""

    namespace: str
    pods: tuple[str, ...]
    #: every policy selecting them (name order), and those of them the command writes
    policies: tuple[str, ...]
    ours: tuple[str, ...]
    groups: tuple[str, ...]
    limit: int

    @property
    def others(self) -> tuple[str, ...]:
        return tuple(p for p in self.policies if p not in self.ours)

    def pods_text(self, shown: int = 5) -> str:
        more = f" and {len(self.pods) - shown} more" if len(self.pods) > shown else ""
        return f"{len(self.pods)} Pod(s) in {self.namespace} ({', '.join(self.pods[:shown])}{more})"

    def to_dict(self) -> dict:
        return {"namespace": self.namespace, "pods": list(self.pods), "policies": list(self.policies),
                "appliedNow": list(self.ours), "groups": list(self.groups), "limit": self.limit}


def unions_over_limit(results: dict[str, matching.MatchResult], policies: list[SecurityGroupPolicy],
                      limit: int) -> list[UnionOverLimit]:
    """The unions over the limit that involve one of ``policies`` (one an unrelated pair of
    policies already breaks is not this command's to refuse)."""
    out = []
    for ns, result in results.items():
        ours = {p.name for p in policies if p.namespace == ns}
        by_name = {m.name: m for m in result.pods}
        for w in result.warnings:
            if w.code != "union-over-limit" or not w.pods or w.pods[0] not in by_name:
                continue
            first = by_name[w.pods[0]]
            if not ours & set(first.policies):
                continue
            out.append(UnionOverLimit(ns, tuple(w.pods), tuple(first.policies),
                                      tuple(p for p in first.policies if p in ours), tuple(first.expected_groups), limit))
    return out


def _refuse(problems: list[str], error=InputError, hint: str = "nothing was applied; fix the file or the cluster and retry"):
    """Every problem listed (``err.problems``), the first as the message."""
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    err = error(problems[0] + more, hint=hint)
    err.problems = problems  # type: ignore[attr-defined]
    raise err


def _union_refusal(u: UnionOverLimit) -> str:
    """A union the file would create: in the file alone it is the file's problem (exit 2); with a
    policy the cluster holds, the cluster's state refuses it (exit 1); either way, what to change."""
    text = f"{u.pods_text()} would get {len(u.groups)} security groups from "
    if u.others:
        text += f"{', '.join(u.others)} (in the cluster) and {', '.join(u.ours)} (this file)"
        fix = (f"use fewer groups in {', '.join(u.ours)}, or delete or edit one of {', '.join(u.others)} first "
               f"(sgpctl policy delete NAME -n {u.namespace})")
    else:
        text += ", ".join(u.ours)
        fix = "split the policies or use fewer groups"
    return f"{text}, over the limit of {u.limit} security groups per ENI; {fix}"


def apply_policies(view: ClusterView, vpc: VpcApi, policies: list[SecurityGroupPolicy], *, dry_run: bool = False,
                   namespace_default: str = "default", waiter: Waiter | None = None,
                   notify: Callable[[str], None] | None = None) -> Outcome:
    """Validate against the cluster and cloud, then create or update each policy as `kubectl apply`
    does, holding the namespaces' writer Leases (``workflows.lease``) from the read to the read-back.

    Problems of the file: InputError listing every one (exit 2), nothing written. A union over the
    per-ENI limit with policies the cluster holds: RefusedError (exit 1), nothing written. A policy
    created meanwhile is read and updated; an update that conflicts is read again and retried until
    the waiter's timeout. Afterwards the namespace is read again: each step says what is stored (and
    whether another writer changed it after us), and a union over the limit that racing writers made
    fails the ``per-eni-limit`` step (exit 1) naming the policies, the Pods and what to delete."""
    policies = [p.with_namespace(namespace_default) for p in policies]
    seen = set()
    for p in policies:
        if (p.namespace, p.name) in seen:
            raise InputError(f"{p.namespace}/{p.name} appears twice in the file", hint="keep one document per policy")
        seen.add((p.namespace, p.name))
    sgp = sgp_resource(view)
    check = check_against_cluster(view, vpc, policies)
    if check.problems:
        # The file's own problems, with the unions as the cluster is now: every problem at once.
        after = _match_after({ns: view for ns in check.namespaces}, policies, check.sg_limit)
        _refuse(check.problems + [_union_refusal(u) for u in unions_over_limit(after, policies, check.sg_limit)])
    if dry_run:
        out = _plan_apply(view, sgp, policies, check, DryRun.of(dry_run))
        out.extra["orderWarnings"] = group_order_warnings(view, vpc, policies, check)
        return out
    waiter = waiter or Waiter(timeout=60)
    deadline = waiter.clock() + waiter.timeout
    with writer_leases(view.kube, check.namespaces, waiter=waiter, notify=notify) as leases:
        # Read only now: the writers before us (under the Lease) have finished and are in what we read.
        views = _fresh_views(view.kube, check.namespaces)
        after = _match_after(views, policies, check.sg_limit)
        unions = unions_over_limit(after, policies, check.sg_limit)
        if unions:
            refusals = [_union_refusal(u) for u in unions]
            _refuse(refusals, RefusedError if any(u.others for u in unions) else InputError)
        out = Outcome("policy apply")
        known = {ns: {p.name for p in v.policies_in(ns)} for ns, v in views.items()}
        diffs = {(d.namespace, d.name): d for ns, v in views.items()
                 for d in diff_policies(v, [p for p in policies if p.namespace == ns])}
        written = _write_policies(views, sgp, policies, out, deadline, waiter)
        for step, p in zip(out.steps, policies):
            d = diffs.get((p.namespace, p.name))
            if d is not None and step.details.get("result") != "unchanged":
                step.details["changes"] = _change_lines(d)
        _read_back(view.kube, sgp, policies, written, out, check.sg_limit, known)
    notes = [f"{n}; the per-ENI limit was checked again after the write" for n in (lease.note() for lease in leases) if n]
    if notes:
        out.extra["notes"] = notes
    out.extra["orderWarnings"] = group_order_warnings(view, vpc, policies, check)
    view.forget()
    return out


def group_order_warnings(view: ClusterView, vpc: VpcApi, policies: list[SecurityGroupPolicy],
                         check: ApplyCheck) -> list[dict]:
    """Where the order of the groups the file gives Pods lets a DROP shadow a later group's ACCEPT
    for a flow the Pods need (``workflows.traffic.order_warnings``): a warning, never a refusal."""
    from sgpctl.workflows.traffic import order_warnings

    after = _match_after({ns: view for ns in check.namespaces}, policies, check.sg_limit)
    return order_warnings(view, vpc, after, policies)


def _plan_apply(view: ClusterView, sgp: r.Resource, policies: list[SecurityGroupPolicy], check: ApplyCheck,
                mode: DryRun = DryRun.CLIENT) -> Outcome:
    """--dry-run: the checks as the cluster is now, and what each policy would become, field by field
    (``diff_policies``). ``--dry-run=server`` also sends each write with ``dryRun=All``: the API server
    validates and admits it without storing it."""
    after = _match_after({ns: view for ns in check.namespaces}, policies, check.sg_limit)
    unions = unions_over_limit(after, policies, check.sg_limit)
    if unions:
        _refuse([_union_refusal(u) for u in unions], RefusedError if any(u.others for u in unions) else InputError)
    out = Outcome("policy apply", dry_run=mode)
    suffix = " (server dry run)" if mode is DryRun.SERVER else " (dry run)"
    for d in diff_policies(view, policies):
        p = next(q for q in policies if (q.namespace, q.name) == (d.namespace, d.name))
        step = out.add(Step(f"policy-{p.namespace}/{p.name}", f"SecurityGroupPolicy {p.namespace}/{p.name}",
                            UNCHANGED if d.result == "unchanged" else PLANNED,
                            f"securitygrouppolicy/{p.name} {d.result}" + ("" if d.result == "unchanged" else suffix),
                            details={"result": d.result}))
        if d.result != "unchanged":
            step.details["changes"] = _change_lines(d)
        if mode is DryRun.SERVER and d.result != "unchanged":
            existing, desired = view.get(sgp, p.name, p.namespace), _desired_object(p)
            if existing is None:
                view.kube.create(sgp, desired, p.namespace, dry_run=True)
            else:
                view.kube.replace(sgp, _updated(existing, desired), dry_run=True)
    out.steps.sort(key=lambda s: [f"policy-{q.namespace}/{q.name}" for q in policies].index(s.id))
    out.extra["stale"] = stale_after(after, policies)
    return out


def _change_lines(d) -> list[str]:
    """What a policy's write changes, field by field, and the Pods that get other groups once rebuilt."""
    return [f.text() for f in d.fields] + [c.text() for c in d.pods]


def _write_policies(views: dict[str, ClusterView], sgp: r.Resource, policies: list[SecurityGroupPolicy], out: Outcome,
                    deadline: float, waiter: Waiter) -> dict[tuple[str, str], dict]:
    """Create or update each policy in file order; (namespace, name) -> the object our write stored
    (for "unchanged": the object found). A failure after some writes says which were made."""
    written: dict[tuple[str, str], dict] = {}
    for i, p in enumerate(policies):
        step = out.add(Step(f"policy-{p.namespace}/{p.name}", f"SecurityGroupPolicy {p.namespace}/{p.name}"))
        view = views[p.namespace]
        try:
            result, stored = _create_or_update(view.kube, sgp, _desired_object(p), view.get(sgp, p.name, p.namespace),
                                               deadline, waiter)
        except SgpctlError as e:
            done = [s.description.split(" ", 1)[1] for s in out.steps[:i] if s.status == CHANGED]
            if done:
                e.message = f"{e.message} (stopped after writing {', '.join(done)}; " \
                            f"{len(policies) - i} of {len(policies)} policies not applied: rerun to converge)"
                e.args = (e.message,)
            raise
        written[(p.namespace, p.name)] = stored
        step.status = UNCHANGED if result == "unchanged" else CHANGED
        step.message = f"securitygrouppolicy/{p.name} {result}"
        step.details["result"] = result
    return written


def _create_or_update(kube: KubeWriter, sgp: r.Resource, desired: dict, existing: dict | None, deadline: float,
                      waiter: Waiter) -> tuple[str, dict]:
    """`kubectl apply` for one policy, safe against other writers: AlreadyExists on create means it was
    created meanwhile (read it and update it); Conflict on update, or NotFound, means it changed since
    we read it (read again). Returns (created|configured|unchanged, the stored object)."""
    name, ns = desired["metadata"]["name"], desired["metadata"]["namespace"]
    attempt = 0
    while True:
        try:
            if existing is None:
                return "created", kube.create(sgp, desired, ns)
            if _same(existing, desired):
                return "unchanged", existing
            return "configured", kube.replace(sgp, _updated(existing, desired))
        except KubeError as e:
            if e.status not in (404, 409):
                raise
            if waiter.clock() >= deadline:
                raise RefusedError(f"securitygrouppolicy {ns}/{name}: other writers kept changing it until the "
                                   f"timeout ({e.reason}); this apply did not write it",
                                   hint="rerun when they have finished, or wait longer with --timeout") from None
            log.debug("securitygrouppolicy %s/%s: %s, reading it again", ns, name, e.reason)
        attempt += 1
        # Writers that collided once would collide again in step: spread them out a little.
        waiter.sleep(random.uniform(0, min(0.05 * 2 ** attempt, 0.5)))
        existing = kube.get(sgp, name, ns)


def _updated(existing: dict, desired: dict) -> dict:
    """The stored object (its resourceVersion: a conflict if it moves) with our spec, labels and annotations."""
    obj = copy.deepcopy(existing)
    obj["spec"] = desired["spec"]
    meta = obj.setdefault("metadata", {})
    for key in ("labels", "annotations"):
        if desired["metadata"].get(key):
            meta[key] = {**(meta.get(key) or {}), **desired["metadata"][key]}
    return obj


def _read_back(kube: KubeWriter, sgp: r.Resource, policies: list[SecurityGroupPolicy],
               written: dict[tuple[str, str], dict], out: Outcome, limit: int, known: dict[str, set[str]]) -> None:
    """Read each namespace again (a fresh view, not the one we decided on) and make the report the
    truth: what is stored now, and whether every Pod still fits the per-ENI limit. ``known``: the
    policies each namespace held when we decided (what appeared since came from another writer)."""
    results: dict[str, matching.MatchResult] = {}
    for ns, fresh in _fresh_views(kube, {p.namespace for p in policies}).items():
        stored = {(o.get("metadata") or {}).get("name"): o for o in fresh.list(sgp)}
        for step, p in ((s, p) for s, p in zip(out.steps, policies) if p.namespace == ns):
            ours = written.get((ns, p.name))
            if ours is None:
                continue
            now = stored.get(p.name)
            if now is None:
                step.details["result"] = "deleted"
                step.message += ", then deleted by another writer"
            elif not _same(now, {"spec": ours.get("spec"), "metadata": _desired_object(p)["metadata"]}):
                step.details["result"] = "overwritten"
                step.details["stored"] = policy_row(now)
                groups = ", ".join(policy_row(now)["groupIds"]) or "none"
                step.message += f", then changed by another writer: it now holds security groups {groups}"
        results[ns] = matching.match(fresh.pods, fresh.policies, fresh.serviceaccounts, sg_limit=limit)
    unions = unions_over_limit(results, policies, limit)
    if unions:
        out.add(Step("per-eni-limit", "every Pod the policies select fits the per-ENI limit", FAILED,
                     "; ".join(_pushed_over(u, known.get(u.namespace, set())) for u in unions),
                     hint=f"delete or edit one of these policies so that the union fits, e.g. the one this apply "
                          f"wrote: sgpctl policy delete {unions[0].ours[0]} -n {unions[0].namespace}",
                     details={"unions": [u.to_dict() for u in unions]}))
    out.extra["stale"] = stale_after(results, policies)


def _pushed_over(u: UnionOverLimit, known: set[str]) -> str:
    new = [p for p in u.others if p not in known]
    who = (f"another writer applied {', '.join(new)} meanwhile" if new
           else f"another writer changed {', '.join(u.others) or ', '.join(u.ours)} meanwhile")
    return (f"{u.pods_text()} are now selected by {', '.join(u.policies)} and would get {len(u.groups)} "
            f"security groups, over the limit of {u.limit} per ENI: {who}")


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


def delete_policy(view: ClusterView, plan: Outcome, name: str, namespace: str, *, waiter: Waiter | None = None,
                  notify: Callable[[str], None] | None = None) -> Outcome:
    """Delete under the namespace's writer Lease (``workflows.lease``), so that no sgpctl apply
    decides on a picture this deletion changes halfway. Already gone: unchanged, and said so."""
    kube: KubeWriter = view.kube
    sgp = sgp_resource(view)
    with writer_leases(kube, [namespace], waiter=waiter or Waiter(timeout=60), notify=notify) as leases:
        deleted = kube.delete(sgp, name, namespace)
    view.forget()
    out = Outcome("policy delete", extra=dict(plan.extra))
    if deleted:
        out.add(Step(f"policy-{namespace}/{name}", f"delete {namespace}/{name}", CHANGED, f"securitygrouppolicy/{name} deleted"))
    else:
        out.add(Step(f"policy-{namespace}/{name}", f"delete {namespace}/{name}", UNCHANGED,
                     f"securitygrouppolicy/{name} was already deleted (by another writer)"))
    notes = [n for n in (lease.note() for lease in leases) if n]
    if notes:
        out.extra["notes"] = notes
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
