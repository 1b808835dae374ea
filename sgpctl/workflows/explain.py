"""`policy explain`: what policies do to a cluster — selected Pods and their owners, resulting groups,
stale Pods, warnings, and where the Pods that need a sub-ENI would fit. Pure over a ClusterView."""

from __future__ import annotations

from dataclasses import dataclass, field

from sgpctl.core import allocation, matching
from sgpctl.core.checks import CheckResult, Status
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.errors import RefusedError
from sgpctl.workflows.view import ClusterView


@dataclass
class ExplainResult:
    source: str
    namespaces: list[str] | None  # None: all
    policies: list[dict]
    stale: list[dict]
    placement: dict
    warnings: list[dict]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "namespaces": self.namespaces,
            "summary": {
                "policies": len(self.policies),
                "selectedPods": sum(p["selectedPods"] for p in self.policies),
                "stalePods": len(self.stale),
                "needSubEni": self.placement["needed"],
                "wouldStayPending": len(self.placement["pending"]),
                "warnings": len(self.warnings),
            },
            "policies": self.policies,
            "stale": self.stale,
            "placement": self.placement,
            "warnings": self.warnings,
            "notes": self.notes,
        }


def owner_text(owner: tuple[str, str] | None) -> str | None:
    return f"{owner[0]}/{owner[1]}" if owner else None


def rollout_command(namespace: str, policy: str | None = None) -> str:
    return f"sgpctl policy rollout {policy + ' ' if policy else ''}-n {namespace}"


def pod_dict(m: matching.PodMatch) -> dict:
    return {
        "namespace": m.namespace,
        "name": m.name,
        "owner": owner_text(m.owner),
        "node": m.node,
        "phase": m.phase,
        "policies": list(m.policies),
        "expectedSecurityGroups": list(m.expected_groups),
        "annotatedSecurityGroups": list(m.annotated_groups) if m.annotated_groups is not None else None,
        "stale": m.stale,
        "staleReason": m.stale_reason,
    }


def why_no_pods(view: ClusterView, policy: SecurityGroupPolicy) -> list[str]:
    """Why ``policy`` selects no Pod: its nearest misses among every namespace's Pods
    (``core.matching.near_misses``)."""
    from sgpctl.kube import resources as r

    return matching.near_misses(policy, view.list(r.PODS, None), view.list(r.SERVICEACCOUNTS, None))


def explain(
    view: ClusterView,
    *,
    subject: list[SecurityGroupPolicy] | None = None,
    namespaces: set[str] | None = None,
    sg_limit: int = matching.DEFAULT_SG_LIMIT,
    cloud_limits: dict | None = None,
) -> ExplainResult:
    """Explain ``subject`` policies (default: every policy in the view) within ``namespaces``
    (None: all). Matching uses the policies the cluster would have with ``subject`` applied."""
    from sgpctl.workflows.sources import merge_policies

    if subject is not None:
        # A policy from a file is explained as if applied now: every existing Pod predates it.
        import dataclasses
        from datetime import datetime, timezone

        # Sub-second precision: a Pod created within the current second still predates "now".
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        subject = [p if p.creation_timestamp else dataclasses.replace(p, creation_timestamp=now) for p in subject]
    policies = merge_policies(view.policies, subject) if subject is not None else list(view.policies)

    def in_scope(ns: str) -> bool:
        return namespaces is None or ns in namespaces

    pods = [p for p in view.pods if in_scope((p.get("metadata") or {}).get("namespace") or "default")]
    scoped = [p for p in policies if in_scope(p.namespace)]
    result = matching.match(pods, scoped, view.serviceaccounts, sg_limit=sg_limit, replicasets=view.replicasets)
    shown = subject if subject is not None else scoped
    shown_keys = {(p.namespace, p.name) for p in shown if in_scope(p.namespace)}

    policy_rows = []
    for p in sorted(shown, key=lambda p: (p.namespace, p.name)):
        if (p.namespace, p.name) not in shown_keys:
            continue
        selected = result.by_policy.get((p.namespace, p.name), [])
        row = {
            "namespace": p.namespace,
            "name": p.name,
            "groupIds": list(p.group_ids),
            "podSelector": p.raw.get("spec", {}).get("podSelector") if isinstance(p.raw, dict) else None,
            "serviceAccountSelector": p.raw.get("spec", {}).get("serviceAccountSelector") if isinstance(p.raw, dict) else None,
            "selectedPods": len(selected),
            "stalePods": sum(1 for m in selected if m.stale),
            "pods": [pod_dict(m) for m in selected],
        }
        if not selected:
            row["whyNoPods"] = why_no_pods(view, p)
        policy_rows.append(row)

    stale = []
    for m in result.stale():
        d = pod_dict(m)
        d["rebuild"] = rollout_command(m.namespace)
        stale.append(d)

    # Pods that would need a sub-ENI once rebuilt: selected now but not holding one yet.
    index = {(p.get("metadata", {}).get("namespace") or "default", p.get("metadata", {}).get("name")): p for p in pods}
    needing = [index[(m.namespace, m.name)] for m in result.pods
               if m.policies and m.stale and (m.namespace, m.name) in index]
    plan = allocation.plan(needing, view.nodes, view.pods, cloud_limits=cloud_limits)
    placement = {
        "needed": len(needing),
        "fits": sum(1 for p in plan.placements if p.fits),
        "placements": [{"pod": p.pod, "node": p.node, "fits": p.fits, "reason": p.reason} for p in plan.placements],
        "pending": [{"pod": p.pod, "reason": p.reason} for p in plan.pending()],
    }
    warnings = [
        {"code": w.code, "message": w.message, "policy": w.policy, "namespace": w.namespace, "pods": list(w.pods)}
        for w in result.warnings
        if (w.namespace is None or in_scope(w.namespace))
    ]
    return ExplainResult(
        source=view.source,
        namespaces=sorted(namespaces) if namespaces is not None else None,
        policies=policy_rows,
        stale=stale,
        placement=placement,
        warnings=warnings,
        notes=list(view.notes),
    )


def explain_scope(view: ClusterView, *, name: str | None = None, subject: list[SecurityGroupPolicy] | None = None,
                  namespace: str | None = None, all_namespaces: bool = False,
                  sg_limit: int = matching.DEFAULT_SG_LIMIT) -> ExplainResult:
    """`policy explain`'s choice of what to explain: the policy ``name`` (in ``namespace``, else the
    view's default namespace), the ``subject`` policies of a file, or every policy; within -n, -A, or
    by default the file's namespaces, else the view's default namespace (a snapshot has none: all)."""
    if subject is not None and not namespace and not all_namespaces:
        namespaces = {p.namespace for p in subject}
    elif all_namespaces:
        namespaces = None
    elif namespace:
        namespaces = {namespace}
    else:
        namespaces = {view.default_namespace} if view.default_namespace else None
    if name:
        ns = namespace or view.default_namespace
        matches = [p for p in view.policies if p.name == name and (ns is None or p.namespace == ns)]
        if not matches:
            raise RefusedError(f"SecurityGroupPolicy {ns + '/' + name if ns else repr(name)} not found",
                               hint="list them with `sgpctl policy list -A`")
        subject = matches
    return explain(view, subject=subject, namespaces=namespaces, sg_limit=sg_limit)


def nothing_selected(view: ClusterView, policy: str | None, *, command: str = "sgpctl verify pods",
                     description: str = "the policies select Pods to verify") -> CheckResult:
    """A warning for a run that verified (or, for `traffic check`, ``command``, checked) no Pod, saying
    where the policies are (or why the one named selects nothing)."""
    where = f" in namespace {view.namespace}" if view.namespace else ""
    scope = f"policy {policy}" if policy else "a SecurityGroupPolicy"
    message, hint, evidence = f"no Pod{where} is selected by {scope}" + (f" (-l {view.pod_selector})" if view.pod_selector else ""), None, []
    if policy:
        subject = next((p for p in view.policies if p.name == policy), None)
        if subject is not None:
            evidence = why_no_pods(view, subject)
            hint = f"sgpctl policy explain {policy} -n {subject.namespace}"
    elif view.namespace is not None:
        elsewhere: dict[str, int] = {}
        for p in view.policies_in(None):
            if p.namespace != view.namespace:
                elsewhere[p.namespace] = elsewhere.get(p.namespace, 0) + 1
        if elsewhere:
            evidence = [f"{n} polic{'y' if n == 1 else 'ies'} in namespace {ns}" for ns, n in sorted(elsewhere.items())]
            first = sorted(elsewhere)[0]
            hint = f"{command} -n {first}" + (" (or -A)" if len(elsewhere) > 1 else "")
        else:
            hint = "no namespace has a SecurityGroupPolicy: create one (sgpctl policy apply -f FILE)"
    else:
        hint = "no Pod runs under a policy yet: sgpctl policy explain -A shows what the policies select"
    return CheckResult("pods-selected", description, Status.WARN, message, hint, evidence,
                       category=view.namespace or "all namespaces")
