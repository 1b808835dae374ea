"""Which SecurityGroupPolicies select each Pod, the groups it should have, and whether it is stale.

Rules (TKE mirrors the AWS VPC resource controller, ``pkg/utils/helper.go``; adopted where the
TKE document is silent):

- A policy selects only Pods in its own namespace; hostNetwork Pods never.
- A policy with neither selector, or with no groupIds, selects nothing (and is warned about).
- With one selector set, it must match; with both, both must (AND). ``{}`` matches everything.
- ``serviceAccountSelector`` matches the labels of the Pod's ServiceAccount
  (``spec.serviceAccountName``, default ``default``). AWS reads that ServiceAccount and, when it
  is missing, refuses the Pod outright. A Pod that exists without its ServiceAccount (deleted
  afterwards, or left out of a snapshot) therefore has no defined answer; we treat its labels as
  unknown: a serviceAccountSelector - even ``{}`` - does not match it, podSelector-only policies
  still do, and a ``serviceaccount-not-found`` warning names the Pods.
- Several policies: groupIds concatenated in policy-name order, de-duplicated, first wins.

Staleness ("drift"): policies select a Pod that has no sub-ENI network annotation (it was
created before them, or not admitted through them); its annotated groups are not the expected
set; or it carries a sub-ENI but no policy selects it any more. Groups are compared as sets: the
order TKE writes them in is not documented, and a reordering alone is not worth a rebuild.
Finished Pods (Succeeded/Failed) hold no sub-ENI and are never stale.

Performance: Pods of one ReplicaSet share labels and ServiceAccount, so every policy is evaluated
once per distinct (namespace, labels, ServiceAccount) and the answer is shared.
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from sgpctl.core.annotations import (
    ANNOTATION_NETWORKS,
    ANNOTATION_SECURITY_GROUPS,
    is_sub_eni_network,
    parse_group_ids,
)

if TYPE_CHECKING:  # matching only reads attributes; importing for types keeps core acyclic
    from sgpctl.core.policy import SecurityGroupPolicy

DEFAULT_SG_LIMIT = 5
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})
DEFAULT_SERVICE_ACCOUNT = "default"

REASON_NOT_ANNOTATED = "not annotated"
REASON_GROUPS_DIFFER = "groups differ"
REASON_NO_POLICY = "no policy matches any more"
REASON_CREATED_BEFORE = "created before policy {}"

_EMPTY: Mapping[str, Any] = {}
_NO_LABELS: frozenset = frozenset()
# pod-template-hash is a decimal FNV hash written in Kubernetes' vowel-free "safe" alphabet;
# at least 6 characters keeps ordinary name parts such as "-db" or "-v2" from looking like one.
_RS_HASH_SUFFIX = re.compile(r"^(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}$")


@dataclass(slots=True)
class PodMatch:
    namespace: str
    name: str
    node: str | None
    #: (kind, name) of the controlling owner; a ReplicaSet is resolved to its Deployment
    owner: tuple[str, str] | None
    #: names of the policies that select the Pod, in name order
    policies: tuple[str, ...]
    expected_groups: tuple[str, ...]
    annotated_groups: tuple[str, ...] | None
    stale: bool
    stale_reason: str | None
    host_network: bool
    phase: str | None
    created: str | None


@dataclass(slots=True)
class PolicyWarning:
    #: ``selects-nothing``, ``no-selector``, ``no-groups``, ``multiple-policies``,
    #: ``union-over-limit``, ``serviceaccount-not-found``
    code: str
    message: str
    policy: str | None
    namespace: str | None
    #: names of the Pods concerned (all in ``namespace``)
    pods: tuple[str, ...] = ()


@dataclass
class MatchResult:
    #: Pods a policy selects or that carry a sub-ENI annotation, in input order
    pods: list[PodMatch]
    #: every policy (namespace, name) -> the Pods it selects (possibly none)
    by_policy: dict[tuple[str, str], list[PodMatch]]
    warnings: list[PolicyWarning] = field(default_factory=list)

    def stale(self) -> list[PodMatch]:
        return [p for p in self.pods if p.stale]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while building many small objects.

    Matching and planning allocate a few objects per Pod and create no reference cycles, yet with
    a whole cluster's Pods alive every automatic full collection walks all of them: measured, that
    is a quarter to a third of ``plan``'s time at 100,000 Pods. Reference counting still frees
    everything; the collector is restored (if it was on) as soon as the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- single-Pod evaluation (the definition; match() is the fast equivalent) -------------------

def _is_usable(policy: SecurityGroupPolicy) -> bool:
    has_selector = policy.pod_selector is not None or policy.service_account_selector is not None
    return has_selector and bool(policy.group_ids)


def _pod_namespace(meta: Mapping[str, Any]) -> str:
    return meta.get("namespace") or "default"


def _policy_namespace(policy: SecurityGroupPolicy) -> str:
    # A policy document may leave its namespace out (callers should apply the kubectl context's
    # with ``with_namespace``); without one it lands in "default", as kubectl would put it.
    return policy.namespace or "default"


def _service_account_name(spec: Mapping[str, Any]) -> str:
    # serviceAccount is the deprecated alias the API still fills in.
    return spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT


def policy_matches_pod(
    policy: SecurityGroupPolicy, pod: Mapping[str, Any], sa_labels: Mapping[str, str] | None
) -> bool:
    """Whether ``policy`` selects ``pod``. ``sa_labels`` are the labels of the Pod's
    ServiceAccount, or None when that ServiceAccount is unknown."""
    meta = pod.get("metadata") or _EMPTY
    spec = pod.get("spec") or _EMPTY
    if _pod_namespace(meta) != _policy_namespace(policy) or spec.get("hostNetwork"):
        return False
    if not _is_usable(policy):
        return False
    if policy.pod_selector is not None and not policy.pod_selector.matches(meta.get("labels") or {}):
        return False
    sa_selector = policy.service_account_selector
    if sa_selector is not None and (sa_labels is None or not sa_selector.matches(sa_labels)):
        return False
    return True


def _union(policies: Iterable[SecurityGroupPolicy]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for p in policies:
        for g in p.group_ids:
            seen.setdefault(g, None)
    return tuple(seen)


def _sa_labels_index(serviceaccounts: Mapping | Iterable[dict]) -> dict[tuple[str, str], Mapping]:
    items = serviceaccounts.values() if isinstance(serviceaccounts, Mapping) else serviceaccounts
    index: dict[tuple[str, str], Mapping] = {}
    for sa in items:
        meta = sa.get("metadata") or _EMPTY
        index[(_pod_namespace(meta), meta.get("name") or "")] = meta.get("labels") or {}
    return index


def expected_groups(
    pod: Mapping[str, Any],
    policies: Iterable[SecurityGroupPolicy],
    serviceaccounts: Mapping[tuple[str, str], dict] | Iterable[dict],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(security groups the Pod should get, names of the policies that select it).

    For one Pod. Pass ServiceAccounts as a mapping to avoid re-indexing them on every call; for
    many Pods use ``match``, which evaluates each distinct label set once."""
    meta = pod.get("metadata") or _EMPTY
    key = (_pod_namespace(meta), _service_account_name(pod.get("spec") or _EMPTY))
    if isinstance(serviceaccounts, Mapping):
        sa = serviceaccounts.get(key)
        sa_labels = None if sa is None else ((sa.get("metadata") or _EMPTY).get("labels") or {})
    else:
        sa_labels = _sa_labels_index(serviceaccounts).get(key)
    selected = sorted(
        (p for p in _dedupe(policies) if policy_matches_pod(p, pod, sa_labels)), key=lambda p: p.name
    )
    return _union(selected), tuple(p.name for p in selected)


def _dedupe(policies: Iterable[SecurityGroupPolicy]) -> list[SecurityGroupPolicy]:
    """One policy per (namespace, name): the first seen. The same object loaded from two
    snapshot files must not count twice."""
    seen: dict[tuple[str, str], SecurityGroupPolicy] = {}
    for p in policies:
        seen.setdefault((_policy_namespace(p), p.name), p)
    return list(seen.values())


# --- timestamps and owners ---------------------------------------------------------------------

@lru_cache(maxsize=65536)
def _instant(ts: str | None) -> datetime | None:
    """RFC 3339 to an aware datetime. Plain string order is wrong once fractional seconds appear."""
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts)
    except ValueError:
        return None


def _controller_ref(meta: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for ref in meta.get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def _resolve_owner(
    ns: str,
    meta: Mapping[str, Any],
    replicasets: Mapping[tuple[str, str], Mapping[str, Any]],
    cache: dict[tuple[str, str, str], tuple[str, str]],
) -> tuple[str, str] | None:
    ref = _controller_ref(meta)
    if ref is None:
        return None
    kind, name = ref.get("kind") or "", ref.get("name") or ""
    if kind != "ReplicaSet":
        return (kind, name)
    key = (ns, kind, name)
    owner = cache.get(key)
    if owner is None:
        owner = _replicaset_owner(ns, name, meta, replicasets)
        cache[key] = owner
    return owner


def _replicaset_owner(
    ns: str, name: str, pod_meta: Mapping[str, Any], replicasets: Mapping[tuple[str, str], Mapping]
) -> tuple[str, str]:
    rs = replicasets.get((ns, name))
    if rs is not None:
        rs_ref = _controller_ref(rs.get("metadata") or _EMPTY)
        return (rs_ref.get("kind") or "", rs_ref.get("name") or "") if rs_ref else ("ReplicaSet", name)
    # The ReplicaSet object is unknown: fall back to the Deployment naming convention.
    template_hash = (pod_meta.get("labels") or _EMPTY).get("pod-template-hash")
    if template_hash and name.endswith("-" + template_hash) and len(name) > len(template_hash) + 1:
        return ("Deployment", name[: -len(template_hash) - 1])
    m = _RS_HASH_SUFFIX.match(name)
    if m:
        return ("Deployment", m.group(1))
    return ("ReplicaSet", name)


def pod_owner(pod: Mapping[str, Any], replicasets: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> tuple[str, str] | None:
    """(kind, name) of the workload that controls a Pod, a ReplicaSet resolved to its Deployment
    (through ``replicasets``, keyed by (namespace, name), else the naming convention)."""
    meta = pod.get("metadata") or _EMPTY
    return _resolve_owner(_pod_namespace(meta), meta, replicasets or {}, {})


# --- the fast, whole-cluster evaluation ---------------------------------------------------------

class _Combo:
    """One distinct set of policies selecting a Pod, with everything derived from it."""

    __slots__ = ("policies", "names", "groups", "group_set", "lists", "pods")

    def __init__(self, policies: tuple[SecurityGroupPolicy, ...], lists: list[list[PodMatch]]):
        self.policies = policies
        self.names = tuple(p.name for p in policies)
        self.groups = _union(policies)
        self.group_set = frozenset(self.groups)
        self.lists = lists  # the by_policy lists this combination's Pods go into
        self.pods: list[str] = []


class _NamespaceMatcher:
    __slots__ = ("ns", "policies", "lists", "needs_sa", "sa_labels", "known_sa", "cache", "combos", "missing_sa")

    def __init__(self, ns: str, policies: list[SecurityGroupPolicy], lists: list[list[PodMatch]],
                 sa_labels: Mapping[tuple[str, str], Mapping], known_sa: set[str]):
        self.ns = ns
        self.policies = policies  # usable ones, in name order
        self.lists = lists
        self.needs_sa = any(p.service_account_selector is not None for p in policies)
        self.sa_labels = sa_labels
        self.known_sa = known_sa  # ServiceAccount names that exist in this namespace
        self.cache: dict[tuple, _Combo | None] = {}
        self.combos: dict[tuple[int, ...], _Combo] = {}
        self.missing_sa: dict[str, list[str]] = {}

    def lookup(self, labels: Mapping[str, str] | None, sa_name: str, pod_name: str) -> _Combo | None:
        labels_key = frozenset(labels.items()) if labels else _NO_LABELS
        sa_key = sa_name if self.needs_sa else None
        key = (labels_key, sa_key)
        try:
            combo = self.cache[key]
        except KeyError:
            combo = self.cache[key] = self._evaluate(labels or {}, sa_key)
        if sa_key is not None and sa_key not in self.known_sa:
            self.missing_sa.setdefault(sa_key, []).append(pod_name)
        return combo

    def _evaluate(self, labels: Mapping[str, str], sa_name: str | None) -> _Combo | None:
        sa = self.sa_labels.get((self.ns, sa_name)) if sa_name is not None else None
        hits = []
        for i, p in enumerate(self.policies):
            if p.pod_selector is not None and not p.pod_selector.matches(labels):
                continue
            sas = p.service_account_selector
            if sas is not None and (sa is None or not sas.matches(sa)):
                continue
            hits.append(i)
        if not hits:
            return None
        key = tuple(hits)
        combo = self.combos.get(key)
        if combo is None:
            combo = self.combos[key] = _Combo(
                tuple(self.policies[i] for i in key), [self.lists[i] for i in key]
            )
        return combo


def _stale_reason(combo: _Combo | None, sub_eni: bool, annotated: tuple[str, ...] | None,
                  created: str | None) -> str | None:
    if combo is None:
        return REASON_NO_POLICY if sub_eni else None
    if not sub_eni:
        pod_instant = _instant(created)
        if pod_instant is not None:
            for p in combo.policies:
                policy_instant = _instant(p.creation_timestamp)
                if policy_instant is not None and pod_instant < policy_instant:
                    return REASON_CREATED_BEFORE.format(p.name)
        return REASON_NOT_ANNOTATED
    if annotated is None or frozenset(annotated) != combo.group_set:
        return REASON_GROUPS_DIFFER
    return None


def match(
    pods: Iterable[dict],
    policies: Iterable[SecurityGroupPolicy],
    serviceaccounts: Iterable[dict],
    *,
    sg_limit: int = DEFAULT_SG_LIMIT,
    replicasets: Iterable[dict] = (),
) -> MatchResult:
    """Match every Pod against every policy of its namespace; see the module doc for the rules."""
    with gc_paused():
        return _match(pods, policies, serviceaccounts, sg_limit, replicasets)


def _match(
    pods: Iterable[dict],
    policies: Iterable[SecurityGroupPolicy],
    serviceaccounts: Iterable[dict],
    sg_limit: int,
    replicasets: Iterable[dict],
) -> MatchResult:
    all_policies = sorted(_dedupe(policies), key=lambda p: (_policy_namespace(p), p.name))
    sa_labels = _sa_labels_index(serviceaccounts)
    rs_index = {}
    for rs in replicasets:
        meta = rs.get("metadata") or _EMPTY
        rs_index[(_pod_namespace(meta), meta.get("name") or "")] = rs

    by_policy: dict[tuple[str, str], list[PodMatch]] = {
        (_policy_namespace(p), p.name): [] for p in all_policies
    }
    grouped: dict[str, list[SecurityGroupPolicy]] = {}
    for p in all_policies:
        if _is_usable(p):
            grouped.setdefault(_policy_namespace(p), []).append(p)
    sa_names: dict[str, set[str]] = {}
    for sa_ns, sa_name in sa_labels:
        sa_names.setdefault(sa_ns, set()).add(sa_name)
    matchers = {
        ns: _NamespaceMatcher(ns, pols, [by_policy[(ns, p.name)] for p in pols], sa_labels, sa_names.get(ns, set()))
        for ns, pols in grouped.items()
    }

    owner_cache: dict[tuple[str, str, str], tuple[str, str]] = {}
    # Pods of one workload carry the same annotation text: parse each distinct one once.
    groups_cache: dict[str | None, tuple[str, ...] | None] = {None: None}
    result: list[PodMatch] = []
    for pod in pods:
        meta = pod.get("metadata") or _EMPTY
        ns = meta.get("namespace") or "default"
        annotations = meta.get("annotations") or _EMPTY
        matcher = matchers.get(ns)
        networks = annotations.get(ANNOTATION_NETWORKS)
        if matcher is None and not networks:
            continue  # the common case in namespaces without policies: decide without parsing
        spec = pod.get("spec") or _EMPTY
        host = bool(spec.get("hostNetwork"))
        name = meta.get("name") or ""
        combo = None
        if matcher is not None and not host:
            combo = matcher.lookup(meta.get("labels"), _service_account_name(spec), name)
        sub_eni = is_sub_eni_network(networks)
        if combo is None and not sub_eni:
            continue

        status = pod.get("status") or _EMPTY
        phase = status.get("phase")
        created = meta.get("creationTimestamp")
        raw_groups = annotations.get(ANNOTATION_SECURITY_GROUPS)
        try:
            annotated = groups_cache[raw_groups]
        except KeyError:
            annotated = groups_cache[raw_groups] = parse_group_ids(raw_groups)
        reason = None
        if not host and phase not in FINISHED_PHASES:
            reason = _stale_reason(combo, sub_eni, annotated, created)
        pm = PodMatch(
            ns, name, spec.get("nodeName"), _resolve_owner(ns, meta, rs_index, owner_cache),
            combo.names if combo else (), combo.groups if combo else (), annotated,
            reason is not None, reason, host, phase, created,
        )
        result.append(pm)
        if combo is not None:
            for lst in combo.lists:
                lst.append(pm)
            combo.pods.append(name)

    return MatchResult(result, by_policy, _warnings(all_policies, by_policy, matchers, sg_limit))


def _warnings(
    policies: list[SecurityGroupPolicy],
    by_policy: Mapping[tuple[str, str], list[PodMatch]],
    matchers: Mapping[str, _NamespaceMatcher],
    sg_limit: int,
) -> list[PolicyWarning]:
    out: list[PolicyWarning] = []
    for p in policies:
        ns = _policy_namespace(p)
        where = f"policy {ns}/{p.name}"
        if p.pod_selector is None and p.service_account_selector is None:
            out.append(PolicyWarning(
                "no-selector",
                f"{where} has neither podSelector nor serviceAccountSelector: it selects no Pod",
                p.name, ns))
        if not p.group_ids:
            out.append(PolicyWarning(
                "no-groups", f"{where} has no securityGroups.groupIds: it selects no Pod",
                p.name, ns))
        if _is_usable(p) and not by_policy[(ns, p.name)]:
            out.append(PolicyWarning(
                "selects-nothing", f"{where} selects no Pod in namespace {ns}",
                p.name, ns))
    for ns in sorted(matchers):
        m = matchers[ns]
        for combo in sorted(m.combos.values(), key=lambda c: c.names):
            if not combo.pods:
                continue
            pods = tuple(combo.pods)
            listed = ", ".join(combo.names)
            if len(combo.names) > 1:
                out.append(PolicyWarning(
                    "multiple-policies",
                    f"{len(pods)} Pod(s) in {ns} match {len(combo.names)} policies ({listed}): "
                    f"their groups are combined in policy-name order",
                    None, ns, pods))
            if len(combo.groups) > sg_limit:
                out.append(PolicyWarning(
                    "union-over-limit",
                    f"{len(pods)} Pod(s) in {ns} selected by {listed} would get "
                    f"{len(combo.groups)} security groups ({', '.join(combo.groups)}), "
                    f"over the limit of {sg_limit} per ENI",
                    combo.names[0] if len(combo.names) == 1 else None, ns, pods))
        for sa_name in sorted(m.missing_sa):
            pods = tuple(m.missing_sa[sa_name])
            out.append(PolicyWarning(
                "serviceaccount-not-found",
                f"ServiceAccount {ns}/{sa_name} of {len(pods)} Pod(s) is unknown: "
                f"serviceAccountSelector policies cannot match them",
                None, ns, pods))
    return out


# -- why a policy selects nothing ------------------------------------------------------------------

def near_misses(policy: SecurityGroupPolicy, pods: Iterable[Mapping[str, Any]],
                serviceaccounts: Iterable[Mapping[str, Any]], limit: int = 3) -> list[str]:
    """Why ``policy`` selects no Pod, from the Pods it nearly selects (``pods`` of every namespace
    available): Pods elsewhere that its selectors would match (a policy applies in its own namespace
    only), Pods of its namespace that match one selector but not the other, and label keys of its
    selectors that the namespace's Pods carry with other values. At most ``limit`` examples per kind."""
    if not _is_usable(policy):
        return ["it has no selector or no security group, so it selects nothing"]
    ns = _policy_namespace(policy)
    sa_index = _sa_labels_index(serviceaccounts)
    live = [p for p in pods if not ((p.get("spec") or _EMPTY).get("hostNetwork"))
            and (p.get("status") or _EMPTY).get("phase") not in FINISHED_PHASES]
    pod_sel, sa_sel = policy.pod_selector, policy.service_account_selector
    out: list[str] = []

    def labels_of(pod):
        return (pod.get("metadata") or _EMPTY).get("labels") or {}

    def sa_of(pod):
        meta, spec = pod.get("metadata") or _EMPTY, pod.get("spec") or _EMPTY
        return _service_account_name(spec), sa_index.get((_pod_namespace(meta), _service_account_name(spec)))

    def name(pod):
        meta = pod.get("metadata") or _EMPTY
        return f"{_pod_namespace(meta)}/{meta.get('name')}"

    elsewhere = [p for p in live if _pod_namespace(p.get("metadata") or _EMPTY) != ns
                 and (pod_sel is None or pod_sel.matches(labels_of(p)))
                 and (sa_sel is None or (sa_of(p)[1] is not None and sa_sel.matches(sa_of(p)[1])))]
    if elsewhere:
        shown = ", ".join(name(p) for p in elsewhere[:limit]) + (f" and {len(elsewhere) - limit} more" if len(elsewhere) > limit else "")
        out.append(f"Pods in other namespaces match its selectors ({shown}), but a policy applies only in its own "
                   f"namespace {ns}: create it there")
    here = [p for p in live if _pod_namespace(p.get("metadata") or _EMPTY) == ns]
    if pod_sel is not None and sa_sel is not None:
        half = []
        for p in here:
            pod_ok = pod_sel.matches(labels_of(p))
            sa_name, sa_labels = sa_of(p)
            sa_ok = sa_labels is not None and sa_sel.matches(sa_labels)
            if pod_ok and not sa_ok:
                why = (f"its ServiceAccount {sa_name} does not exist" if sa_labels is None else
                       f"its ServiceAccount {sa_name} does not match serviceAccountSelector {sa_sel}")
                half.append(f"{name(p)} matches podSelector but {why}")
            elif sa_ok and not pod_ok:
                half.append(f"{name(p)} matches serviceAccountSelector but not podSelector {pod_sel}")
        out += half[:limit]
    for selector, what, values_of in ((pod_sel, "Pods", lambda p: labels_of(p)),
                                      (sa_sel, "ServiceAccounts", lambda p: sa_of(p)[1] or {})):
        if selector is None or selector.empty():
            continue
        for req in selector.requirements:
            if req.operator not in ("=", "==", "in"):
                continue
            seen: dict[str, int] = {}
            for p in here:
                value = values_of(p).get(req.key)
                if value is not None and value not in req.values:
                    seen[value] = seen.get(value, 0) + 1
            if seen:
                found = ", ".join(f"{req.key}={v} ({n})" for v, n in sorted(seen.items())[:limit])
                wanted = ",".join(req.values)
                out.append(f"{what} in {ns} carry {found}; the policy wants {req.key}={wanted}")
    if not out:
        out.append(f"no Pod in {ns} carries the labels it selects ({pod_sel or sa_sel})" if here
                   else f"there is no running Pod in namespace {ns}")
    return out
