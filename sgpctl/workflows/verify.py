"""`verify pod` / `verify pods`: policy -> Pod annotation -> VpcENI -> the cloud ENI, for one Pod or for
every Pod a policy selects.

Cost is a constant number of Kubernetes list calls (each paginated, each collection once per view)
plus one DescribeNetworkInterfaces per 100 ENIs, never a call per Pod. The cloud lookups start as soon
as the VpcENIs are known and run while the rest of the cluster is read and matched: on a real network
both are round trips, and neither waits for the other."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core import matching
from sgpctl.core.allocation import node_quota
from sgpctl.core.annotations import VPCENI_LABEL_POD_NAME, VPCENI_LABEL_POD_NAMESPACE, uses_sub_eni
from sgpctl.core.checks import CheckResult, Status, exit_code
from sgpctl.core.api_facts import Fact, subeni_listed
from sgpctl.core.verify import (ENI_NOT_LISTED, ENI_NOT_LOOKED_UP, ENI_PENDING, EniFacts, PodVerification, newest_eni_id,
                                 settle_eni, verify_pod)
from sgpctl.errors import ExitCode, InputError, RefusedError
from sgpctl.kube import resources as r
from sgpctl.workflows.clients import Cloud, VpcApi
from sgpctl.workflows.view import ClusterView, object_key

#: DescribeNetworkInterfaces batches in flight at once (each is a round trip to the cloud)
ENI_CONCURRENCY = 4
ID_POLICIES_READABLE = "policies-readable"


def policies_readable(view: ClusterView, category: str = "policies") -> CheckResult | None:
    """A failed check naming the SecurityGroupPolicies (and VpcENIs) the view could not read, or None."""
    if not view.problems:
        return None
    return CheckResult(ID_POLICIES_READABLE, "every SecurityGroupPolicy and VpcENI can be read", Status.FAIL,
                       f"{len(view.problems)} object(s) the API server accepted cannot be interpreted: they were skipped, "
                       "so the Pods they concern are judged without them",
                       "fix or delete them (kubectl edit / kubectl delete); `kubectl get sgp -A -o yaml` shows them",
                       list(view.problems), category=category)


@dataclass
class VerifyReport:
    pods: list[PodVerification] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: objects that could not be read (a failed check of their own)
    problems: list[str] = field(default_factory=list)
    problem_check: CheckResult | None = None
    #: a warning when nothing was selected: an empty result must not pass silently (--fail-on warning)
    empty_check: CheckResult | None = None
    #: whether DescribeNetworkInterfaces lists sub-ENIs, as this lookup showed
    subenis_listed: Fact | None = None

    def summary(self) -> dict:
        by_ns: dict[str, dict] = {}
        for p in self.pods:
            s = by_ns.setdefault(p.namespace, {"namespace": p.namespace, "pods": 0, "ok": 0, "stale": 0, "failed": 0,
                                               "undetermined": 0, "warnings": 0})
            s["pods"] += 1
            if p.ok and p.undetermined:
                s["undetermined"] += 1
            elif p.ok:
                s["ok"] += 1
            elif p.stale:
                s["stale"] += 1
            else:
                s["failed"] += 1
            if p.warnings:
                s["warnings"] += 1
        totals = {k: sum(s[k] for s in by_ns.values()) for k in ("pods", "ok", "stale", "failed", "undetermined", "warnings")}
        return {**totals, "namespaces": [by_ns[k] for k in sorted(by_ns)]}

    def results(self) -> Iterator[CheckResult]:
        """The report as check results: the unreadable objects (if any), then one result per Pod."""
        if self.problem_check is not None:
            yield self.problem_check
        if self.empty_check is not None:
            yield self.empty_check
        for p in self.pods:
            yield p.summary()

    def next_steps(self, limit: int = 5) -> list[str]:
        """The commands that fix what failed, each once, most Pods first: the table's "next:" lines."""
        counts: dict[str, int] = {}
        for p in self.pods:
            if not p.ok:
                hint = p.summary().hint
                if hint:
                    counts[hint] = counts.get(hint, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        return [f"{hint} ({n} Pod{'s' if n > 1 else ''})" for hint, n in ranked[:limit]]

    def exit_code(self, fail_on_warning: bool = False) -> ExitCode:
        checks = [c for p in self.pods for c in p.checks]
        extra = [c for c in (self.problem_check, self.empty_check) if c is not None]
        return exit_code(checks + extra, fail_on_warning)

    def ok(self, fail_on_warning: bool = False) -> bool:
        return self.exit_code(fail_on_warning) == ExitCode.OK

    def to_dict(self, fail_on_warning: bool = False) -> dict:
        out = {"ok": self.ok(fail_on_warning), "summary": self.summary(), "pods": [p.to_dict() for p in self.pods],
               "notes": self.notes}
        if self.empty_check is not None:
            out["warnings"] = [self.empty_check.to_dict()]
        if self.problems:
            out["problems"] = self.problems
        return out


@dataclass
class _EniLookup:
    facts: dict[str, EniFacts]
    #: the ENIs looked for that the caller's listing held (None: no listing was used)
    listed: frozenset[str] | None = None


def _eni_facts(vpc: VpcApi, eni_ids: list[str], listing: Callable[[], Iterable] | None = None) -> _EniLookup:
    """The ENIs' facts: those ``listing()`` holds (ENIs read already, e.g. doctor's listing of the
    nodes' ENIs), the others looked up by id. A listing that failed is not used: its reader reports
    the failure, and every ENI is looked up by id."""
    wanted = sorted(set(eni_ids))
    listed: dict[str, Any] = {}
    used = False
    if listing is not None and wanted:
        try:
            enis = listing()
        except Exception:  # noqa: BLE001 - reported by the listing's own reader (doctor's leaks checks)
            enis = None
        if enis is not None:
            used = True
            keep = set(wanted)
            listed = {e.eni_id: e for e in enis if e.eni_id in keep}
    rest = [i for i in wanted if i not in listed]
    found = vpc.describe_network_interfaces(rest, concurrency=ENI_CONCURRENCY) if rest else []
    facts = {e.eni_id: EniFacts(e.eni_id, tuple(e.security_group_ids)) for e in (*listed.values(), *found)}
    return _EniLookup(facts, frozenset(listed) if used else None)


def _node_facts(nodes: list[dict]) -> dict[str, tuple[str | None, bool | None]]:
    facts = {}
    for n in nodes:
        q = node_quota(n)
        facts[q.node] = (q.family, (q.supported and q.quota > 0) if q.instance_type else None)
    return facts


def _eni_ids(eni_of: dict[tuple[str, str], str | None], wanted) -> list[str]:
    """The ENI each wanted Pod uses (``eni_of``: each Pod's newest VpcENI's)."""
    return sorted({e for key, e in eni_of.items() if e and wanted(key)})


def _pods_enis(view: ClusterView) -> tuple[dict[tuple[str, str], list[dict]], dict[tuple[str, str], str | None]]:
    """Each Pod's VpcENIs, and the ENI it uses (its newest VpcENI's)."""
    vindex = view.vpcenis_by_pod()
    return vindex, {key: newest_eni_id(lst) for key, lst in vindex.items()}


def _lookup_in_background(vpc: VpcApi, eni_ids: list[str], listing: Callable[[], Iterable] | None) -> Future:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sgpctl-eni")
    future = pool.submit(_eni_facts, vpc, eni_ids, listing)
    pool.shutdown(wait=False)
    return future


def verify_pods(view: ClusterView, vpc: VpcApi, *, policy: str | None = None, expect_sg: list[str] | None = None,
                sg_limit: int = matching.DEFAULT_SG_LIMIT, listing: Callable[[], Iterable] | None = None) -> VerifyReport:
    """Every Pod of the view that a policy selects (or that carries a policy's groups); with
    ``policy``, only the Pods that policy selects. ``listing``: a callable giving ENIs the caller
    listed already (``NetworkInterface``s; doctor's listing of the nodes' ENIs, waited for in the
    background): the Pods' ENIs it holds are taken from it, only the others are looked up by id."""
    view.require_policies()
    # The cloud lookups start as soon as the VpcENIs are known; the rest of the cluster is read and
    # matched meanwhile. Without -l/--policy every VpcENI of the scope belongs to a Pod in it; with
    # them, the Pods are listed first.
    policies = view.policies
    if policy and not any(p.name == policy for p in policies):
        where = f"{view.namespace}/{policy}" if view.namespace else repr(policy)
        raise RefusedError(f"SecurityGroupPolicy {where} not found", hint="list them with `sgpctl policy list -A`")
    everything = ("pods", "serviceaccounts", "replicasets", "nodes", "warning_events")
    if view.pod_selector or policy:
        view.prefetch(*everything)
        in_scope = {object_key(p) for p in view.pods}
        vindex, eni_of = _pods_enis(view)
        lookup = _lookup_in_background(vpc, _eni_ids(eni_of, lambda key: key in in_scope), listing)
    else:
        # The lookups are the longest wait: they start first, the other lists right after.
        vindex, eni_of = _pods_enis(view)
        lookup = _lookup_in_background(vpc, _eni_ids(eni_of, lambda key: view.namespace is None or key[0] == view.namespace),
                                        listing)
        view.prefetch(*everything)
    result = view.match(sg_limit)
    selected = [m for m in result.pods
                if ((policy is None and (m.policies or m.annotated_groups is not None)) or (policy and policy in m.policies))
                and m.phase not in matching.FINISHED_PHASES]  # finished Pods hold no sub-ENI: nothing to verify
    nodes_facts = _node_facts(view.nodes)
    view.warnings_by_pod()
    pods_by_key = view.pods_by_key()
    # Every Pod is verified while the cloud answers; its eni-groups check is settled once it has.
    verified = []
    for m in sorted(selected, key=lambda m: (m.namespace, m.name)):
        key = (m.namespace, m.name)
        family, supported = nodes_facts.get(m.node, (None, None)) if m.node else (None, None)
        verified.append(verify_pod(
            namespace=m.namespace, name=m.name, pod=pods_by_key.get(key), policies=m.policies, expected=m.expected_groups,
            stale=m.stale, stale_reason=m.stale_reason, vpcenis=vindex.get(key, []),
            eni=ENI_PENDING if eni_of.get(key) else ENI_NOT_LOOKED_UP,
            node_family=family, node_supported=supported, expect_sg=expect_sg,
            pending_reason=view.latest_warning(key),
        ))
    looked = lookup.result()
    facts = looked.facts
    report = VerifyReport(notes=list(view.notes), problems=list(view.problems), problem_check=policies_readable(view))
    wanted_ids = {eni_of.get((m.namespace, m.name)) for m in selected} - {None}
    # Whether DescribeNetworkInterfaces lists per-Pod sub-ENIs is not documented: when it finds none of
    # them, their groups cannot be checked there (undetermined), rather than N identical failures.
    from_listing = None if looked.listed is None else len(wanted_ids & looked.listed)
    listed = subeni_listed(len(wanted_ids), len(wanted_ids & set(facts)), from_listing)
    report.subenis_listed = listed
    for v in verified:
        if v.eni_id:
            settle_eni(v, facts.get(v.eni_id) if listed.value is not False else ENI_NOT_LISTED)
    report.pods = verified
    if listed.value is False:
        report.notes.append(listed.message + "; " + (listed.hint or ""))
    if not selected:
        from sgpctl.workflows.explain import nothing_selected

        report.empty_check = nothing_selected(view, policy)
    return report


def verify_one(view: ClusterView, vpc: VpcApi, name: str, namespace: str, *,
               expect_sg: list[str] | None = None, cloud: Cloud | None = None,
               cluster_id: str | None = None) -> PodVerification:
    """One Pod: the same checks, reading only that Pod's namespace (and its VpcENI by labels); with
    ``cloud``, the ``traffic`` check too (its needs against its groups' rules)."""
    pod = view.get(r.PODS, name, namespace)
    if pod is None:
        return verify_pod(namespace=namespace, name=name, pod=None)
    result = _verify_one(view, vpc, pod, name, namespace, expect_sg)
    if cloud is not None:
        from sgpctl.workflows.traffic import pod_traffic_check

        result.checks.append(pod_traffic_check(view, cloud, cluster_id, namespace, name))
    return result


def _verify_one(view: ClusterView, vpc: VpcApi, pod: dict, name: str, namespace: str,
                expect_sg: list[str] | None) -> PodVerification:
    policies = view.policies_in(namespace) if view.serves(r.SGP_GROUP, r.SGP_KIND) else []
    result = matching.match([pod], policies, view.list(r.SERVICEACCOUNTS, namespace))
    m = result.pods[0] if result.pods else None
    vpcenis: list[dict] = []
    if uses_sub_eni(pod) and view.serves(r.VPCENI_GROUP, r.VPCENI_KIND):
        selector = f"{VPCENI_LABEL_POD_NAME}={name},{VPCENI_LABEL_POD_NAMESPACE}={namespace}"
        listed = view.list(view.resource(r.VPCENI_GROUP, r.VPCENI_KIND), None, label_selector=selector)
        vpcenis = sorted(view.readable_vpcenis(listed),
                         key=lambda o: (str(o["metadata"].get("creationTimestamp") or ""), str(o["metadata"].get("name"))))
    eni_id = newest_eni_id(vpcenis)
    facts = _eni_facts(vpc, [eni_id] if eni_id else []).facts
    node_name = (pod.get("spec") or {}).get("nodeName")
    family = supported = None
    if node_name:
        node = view.get(r.NODES, node_name)
        if node:
            family, supported = _node_facts([node]).get(node_name, (None, None))
    reason = view.latest_warning((namespace, name)) if (pod.get("status") or {}).get("phase") != "Running" else None
    result = verify_pod(
        namespace=namespace, name=name, pod=pod,
        policies=m.policies if m else (), expected=m.expected_groups if m else (),
        stale=m.stale if m else False, stale_reason=m.stale_reason if m else None,
        vpcenis=vpcenis, eni=facts.get(eni_id) if eni_id else ENI_NOT_LOOKED_UP,
        node_family=family, node_supported=supported, expect_sg=expect_sg,
        pending_reason=reason,
    )
    unreadable = policies_readable(view, result.checks[0].category if result.checks else f"{namespace}/{name}")
    if unreadable is not None:
        result.checks.append(unreadable)
    return result
