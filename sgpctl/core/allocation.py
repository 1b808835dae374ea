"""Sub-ENI quotas per node, current usage, and where Pods that need a sub-ENI would land.

One model shared by the capacity planner (predict), the sandbox's simulated scheduler and
eniipamd (decide), and verify (what a Pod should have):

- A node's quota is its reported allocatable ``tke.cloud.tencent.com/sub-eni``; a node that reports
  none has the smallest of the figures that apply: TKE ``DescribeVpcCniPodLimits`` (the type's
  maximum), VPC ``DescribeNetworkInterfaceLimit`` (the instance's quota) and the document's table
  (``quotas``), which VPC's own figure overrides (``node_quota``).
- Used = sub-ENIs held by Pods bound to the node that have not finished. Pods being deleted still
  count: the sub-ENI is released only once the Pod is gone.
- Placement treats each planned Pod as a new, unbound Pod (a rebuild replaces the old one, whose
  sub-ENI is therefore not counted) and picks, among the nodes it may schedule to, the one with
  the most free sub-ENIs, ties by node name - LeastAllocated scoring for this one resource.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from sgpctl.core.annotations import (
    RESOURCE_SUB_ENI,
    node_instance_type,
    pod_sub_eni_count,
    uses_sub_eni,
)
from sgpctl.core.matching import FINISHED_PHASES, gc_paused
from sgpctl.core.quotas import instance_family, is_supported_family, table_quota

SOURCE_ALLOCATABLE = "allocatable"
SOURCE_TKE_LIMITS = "DescribeVpcCniPodLimits"
SOURCE_VPC_LIMITS = "DescribeNetworkInterfaceLimit"
SOURCE_TABLE = "table"
SOURCE_UNKNOWN = "unknown"

REASON_INSUFFICIENT = "Insufficient " + RESOURCE_SUB_ENI

_EMPTY: Mapping[str, Any] = {}
#: taint effects that keep a Pod off a node unless tolerated; PreferNoSchedule only scores
_HARD_EFFECTS = frozenset({"NoSchedule", "NoExecute"})


@dataclass(slots=True)
class SubEniQuota:
    node: str
    instance_type: str | None
    family: str | None
    #: the family supports Trunking ENI by default, or the node reports a positive quota anyway
    supported: bool
    quota: int
    #: ``allocatable`` | ``DescribeVpcCniPodLimits`` | ``DescribeNetworkInterfaceLimit`` | ``table`` | ``unknown``
    source: str


@dataclass(slots=True)
class NodeUsage:
    quota: SubEniQuota
    used: int
    free: int
    #: ``namespace/name`` of the Pods holding the used sub-ENIs
    pods: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Placement:
    pod: str  # namespace/name
    node: str | None
    fits: bool
    reason: str | None


@dataclass
class Plan:
    placements: list[Placement]
    usage_after: dict[str, NodeUsage]

    def pending(self) -> list[Placement]:
        return [p for p in self.placements if not p.fits]


# --- quota -------------------------------------------------------------------------------------

def _int_quantity(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        pass
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return None


def _node_cpu(node: Mapping[str, Any]) -> int | None:
    """Whole cores from status.capacity.cpu ("64" or "64000m")."""
    raw = ((node.get("status") or _EMPTY).get("capacity") or _EMPTY).get("cpu")
    if raw is None:
        return None
    text = str(raw).strip()
    if text.endswith("m"):
        millis = _int_quantity(text[:-1])
        return None if millis is None else millis // 1000
    return _int_quantity(text)


def _name(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or _EMPTY).get("name") or ""


def node_quota(
    node: Mapping[str, Any],
    cloud_limits: Mapping[str, Any] | None = None,
    cpu_by_type: Mapping[str, int] | None = None,
) -> SubEniQuota:
    """The node's sub-ENI quota and where it came from.

    A node that reports allocatable ``tke.cloud.tencent.com/sub-eni`` has that quota: it is what
    eniipamd advertises to the scheduler, which never places a Pod beyond it. For any other node the
    quota is the smallest of the sources that apply (a plan must not promise room a node lacks):

    - ``DescribeVpcCniPodLimits`` ``TKESubENI``: the instance type's figure, which the API documents
      as the type's maximum (the official example answers 100 for a family the TKE document gives 0),
      so it bounds the quota and never makes a family supported by itself;
    - ``DescribeNetworkInterfaceLimit`` ``SubEniQuantity``: the instance's own quota in VPC;
    - the TKE document's table (``quotas``): 100, 256 from 64 cores, 0 for an unlisted family - except
      that it does not apply once VPC reports the instance's own quota (VPC enables families by ticket).

    ``cloud_limits`` maps instance type -> {source: figure} (a ``(quota, source)`` pair or a bare int,
    taken as DescribeVpcCniPodLimits', are accepted too). ``cpu_by_type`` (from CVM) decides the
    table's 64-core tier; without it the node's capacity, then the instance type's size name, are used.
    ``source`` names the source of the figure used (the most specific one on a tie).
    """
    name = _name(node)
    itype = node_instance_type(node)
    family = instance_family(itype) if itype else None
    default_supported = bool(itype) and is_supported_family(itype)

    allocatable = ((node.get("status") or _EMPTY).get("allocatable") or _EMPTY).get(RESOURCE_SUB_ENI)
    reported = _int_quantity(allocatable)
    if reported is not None:
        quota = max(reported, 0)
        return SubEniQuota(name, itype, family, default_supported or quota > 0, quota, SOURCE_ALLOCATABLE)
    if itype is None:
        return SubEniQuota(name, None, None, False, 0, SOURCE_UNKNOWN)
    figures = _figures((cloud_limits or _EMPTY).get(itype))
    vpc = figures.get(SOURCE_VPC_LIMITS)
    candidates = [(s, figures[s]) for s in (SOURCE_VPC_LIMITS, SOURCE_TKE_LIMITS) if figures.get(s) is not None]
    if vpc is None:
        cpu = (cpu_by_type or _EMPTY).get(itype)
        if cpu is None:
            cpu = _node_cpu(node)
        candidates.append((SOURCE_TABLE, table_quota(itype, cpu)))
    source, quota = min(candidates, key=lambda c: c[1])
    supported = default_supported or (vpc is not None and vpc > 0)
    return SubEniQuota(name, itype, family, supported, max(int(quota), 0), source)


def _figures(entry: Any) -> dict[str, int]:
    """A cloud_limits entry as {source: figure}."""
    if entry is None:
        return {}
    if isinstance(entry, int):
        return {SOURCE_TKE_LIMITS: entry}
    if isinstance(entry, tuple):
        quota, source = entry
        return {source: int(quota)}
    return {k: int(v) for k, v in dict(entry).items() if v is not None}


# --- usage -------------------------------------------------------------------------------------

def pod_key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or _EMPTY
    return f"{meta.get('namespace') or 'default'}/{meta.get('name') or ''}"


def held_sub_enis(pod: Mapping[str, Any]) -> int:
    """Sub-ENIs a Pod holds (or will hold once admitted): its request, or 1 when TKE annotated it
    as a sub-ENI Pod without a visible request. Finished Pods hold none."""
    if ((pod.get("status") or _EMPTY).get("phase")) in FINISHED_PHASES:
        return 0
    count = pod_sub_eni_count(pod)
    if count:
        return count
    return 1 if uses_sub_eni(pod) else 0


def node_usage(
    nodes: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    *,
    cloud_limits: Mapping[str, tuple[int, str]] | None = None,
    cpu_by_type: Mapping[str, int] | None = None,
    exclude: frozenset[str] | set[str] = frozenset(),
) -> dict[str, NodeUsage]:
    """Quota and sub-ENIs in use per node. Pods bound to nodes not listed are ignored;
    ``exclude`` names (``ns/name``) Pods not to count, e.g. those about to be rebuilt."""
    usage: dict[str, NodeUsage] = {}
    for node in nodes:
        q = node_quota(node, cloud_limits, cpu_by_type)
        usage[q.node] = NodeUsage(q, 0, q.quota, [])
    for pod in pods:
        node_name = (pod.get("spec") or _EMPTY).get("nodeName")
        if not node_name:
            continue
        u = usage.get(node_name)
        if u is None:
            continue
        held = held_sub_enis(pod)
        if not held:
            continue
        key = pod_key(pod)
        if key in exclude:
            continue
        u.used += held
        u.free = max(u.quota.quota - u.used, 0)
        u.pods.append(key)
    return usage


# --- scheduling filters ------------------------------------------------------------------------

def _node_ready(node: Mapping[str, Any]) -> bool:
    # A node without a Ready condition (trimmed snapshot, synthetic input) is given the benefit
    # of the doubt; only an explicit False/Unknown rules it out.
    for cond in (node.get("status") or _EMPTY).get("conditions") or ():
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return True


def _tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    for t in tolerations:
        effect = t.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        key = t.get("key")
        if t.get("operator") == "Exists":
            if not key or key == taint.get("key"):
                return True
            continue
        if key == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


_NO_CONSTRAINTS: tuple = ((), ())


def _constraints(pod: Mapping[str, Any]) -> tuple:
    """A hashable key for everything in the Pod that filters nodes, so Pods of one workload
    share one candidate set."""
    spec = pod.get("spec") or _EMPTY
    selector = spec.get("nodeSelector")
    tolerations = spec.get("tolerations")
    if not selector and not tolerations:
        return _NO_CONSTRAINTS
    selector = selector or _EMPTY
    tolerations = tolerations or ()
    return (
        tuple(sorted(selector.items())),
        tuple(sorted(tuple(sorted((k, str(v)) for k, v in t.items())) for t in tolerations)),
    )


def node_admits(node: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """The scheduler filters relevant here: cordon, readiness, nodeSelector, hard taints."""
    spec = node.get("spec") or _EMPTY
    if spec.get("unschedulable") or not _node_ready(node):
        return False
    pod_spec = pod.get("spec") or _EMPTY
    labels = (node.get("metadata") or _EMPTY).get("labels") or _EMPTY
    for k, v in (pod_spec.get("nodeSelector") or _EMPTY).items():
        if labels.get(k) != v:
            return False
    tolerations = pod_spec.get("tolerations") or ()
    for taint in spec.get("taints") or ():
        if taint.get("effect") in _HARD_EFFECTS and not _tolerates(tolerations, taint):
            return False
    return True


# --- choosing a node ---------------------------------------------------------------------------

class _Candidates:
    """Nodes one constraint set may use: a max-heap on free sub-ENIs with lazy updates."""

    __slots__ = ("names", "heap", "eligible", "with_quota", "zero_quota_families", "unsupported", "disabled")

    def __init__(self, names: list[str], usage: Mapping[str, NodeUsage]):
        self.names = frozenset(names)
        self.eligible = len(names)
        self.heap = [(-usage[n].free, n) for n in names if usage[n].free > 0]
        heapq.heapify(self.heap)
        # Quotas do not change while placing, so the failure explanation can be prepared once.
        self.with_quota = sum(1 for n in names if usage[n].quota.quota > 0)
        zero = [usage[n].quota for n in names if usage[n].quota.quota <= 0]
        self.zero_quota_families = sorted({q.family or "unknown type" for q in zero})
        # Quota 0 means two different things: a family without Trunking ENI support, or a
        # supported one whose node reports 0 (the feature is not enabled there yet).
        self.unsupported = sorted({q.family or "unknown type" for q in zero if not q.supported})
        self.disabled = sorted({q.family or "unknown type" for q in zero if q.supported})

    def best(self, usage: Mapping[str, NodeUsage], need: int) -> str | None:
        heap = self.heap
        while heap:
            neg_free, name = heap[0]
            actual = usage[name].free
            if -neg_free == actual:
                return name if actual >= need else None
            heapq.heappop(heap)
            # Free only shrinks between release() calls, and release() pushes a fresh entry, so
            # an entry above the truth is re-queued at the truth and one below it is a leftover.
            if -neg_free > actual > 0:
                heapq.heappush(heap, (-actual, name))
        return None

    def taken(self, name: str, free: int) -> None:
        """``name`` was just chosen from this heap's top: fix the entry in place rather than
        leaving a stale one to pop later."""
        heap = self.heap
        if heap and heap[0][1] == name:
            if free > 0:
                heapq.heapreplace(heap, (-free, name))
            else:
                heapq.heappop(heap)


class UsageIndex(Mapping[str, NodeUsage]):
    """Node usage plus per-constraint heaps, so choosing a node for each of many Pods costs
    O(log n) amortised instead of a scan. Record every change through ``take``/``release``."""

    def __init__(self, usage: Mapping[str, NodeUsage], nodes: Mapping[str, Mapping[str, Any]]):
        self.usage = dict(usage)
        self.nodes = nodes
        self._by_constraints: dict[tuple, _Candidates] = {}

    def __getitem__(self, name: str) -> NodeUsage:
        return self.usage[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.usage)

    def __len__(self) -> int:
        return len(self.usage)

    def candidates(self, pod: Mapping[str, Any]) -> _Candidates:
        key = _constraints(pod)
        c = self._by_constraints.get(key)
        if c is None:
            names = [n for n in sorted(self.usage) if n in self.nodes and node_admits(self.nodes[n], pod)]
            c = self._by_constraints[key] = _Candidates(names, self.usage)
        return c

    def _pick(self, pod: Mapping[str, Any]) -> tuple[_Candidates, int, str | None]:
        need = max(1, pod_sub_eni_count(pod))
        c = self.candidates(pod)
        return c, need, c.best(self.usage, need)

    def choose(self, pod: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """See ``choose_node``."""
        c, need, node = self._pick(pod)
        return (node, None) if node is not None else (None, _no_room_reason(c, need))

    def place(self, pod: Mapping[str, Any], key: str | None = None) -> tuple[str | None, str | None]:
        """Choose a node for ``pod`` and, if one fits, take its sub-ENIs there."""
        c, need, node = self._pick(pod)
        if node is None:
            return None, _no_room_reason(c, need)
        self.take(node, key if key is not None else pod_key(pod), need)
        c.taken(node, self.usage[node].free)
        return node, None

    def take(self, node: str, pod: str, count: int = 1) -> None:
        u = self.usage[node]
        u.used += count
        u.free = max(u.quota.quota - u.used, 0)
        u.pods.append(pod)

    def release(self, node: str, pod: str, count: int = 1) -> None:
        u = self.usage[node]
        if pod in u.pods:
            u.pods.remove(pod)
        u.used = max(u.used - count, 0)
        u.free = max(u.quota.quota - u.used, 0)
        if u.free > 0:
            for c in self._by_constraints.values():
                if node in c.names:
                    heapq.heappush(c.heap, (-u.free, node))


def _no_room_reason(c: _Candidates, need: int) -> str:
    if c.eligible == 0:
        return "no schedulable node admits the Pod (cordoned, NotReady, nodeSelector or taints)"
    supported = c.with_quota
    zero = ", ".join(c.zero_quota_families)
    if supported == 0:
        unsupported, disabled = ", ".join(c.unsupported), ", ".join(c.disabled)
        if not disabled:
            return f"no node of a supported instance family ({unsupported} quota 0)"
        if not unsupported:
            return f"no node has sub-ENI quota: {disabled} nodes report 0 (is the Trunking ENI enabled on them?)"
        return (f"no node has sub-ENI quota ({unsupported} not supported; {disabled} nodes report 0: "
                f"is the Trunking ENI enabled on them?)")
    if need > 1:
        return f"{REASON_INSUFFICIENT}: no node has {need} free sub-ENIs"
    text = (f"sub-ENI quota full on all {supported} supported nodes" if supported != 1
            else "sub-ENI quota full on the only supported node")
    others = c.eligible - supported
    if others:
        text += f" ({others} other node{'s have' if others != 1 else ' has'} quota 0: {zero})"
    return text


def choose_node(
    pod: Mapping[str, Any], candidates: Mapping[str, NodeUsage], nodes: Mapping[str, Mapping[str, Any]]
) -> tuple[str | None, str | None]:
    """(node, None) for the node the Pod would be bound to, or (None, why not). Does not commit:
    call ``take`` on a ``UsageIndex`` once the Pod is bound. Pass a ``UsageIndex`` when placing
    many Pods; a plain mapping is indexed afresh on every call."""
    index = candidates if isinstance(candidates, UsageIndex) else UsageIndex(candidates, nodes)
    return index.choose(pod)


def plan(
    pods_needing: Iterable[Mapping[str, Any]],
    nodes: Iterable[Mapping[str, Any]],
    existing_pods: Iterable[Mapping[str, Any]],
    *,
    cloud_limits: Mapping[str, tuple[int, str]] | None = None,
    cpu_by_type: Mapping[str, int] | None = None,
) -> Plan:
    """Place ``pods_needing`` one by one, in (namespace, name) order so the plan does not depend
    on input order. A planned Pod that also appears in ``existing_pods`` is its own replacement:
    the old incarnation's sub-ENI is not counted."""
    with gc_paused():
        return _plan(pods_needing, nodes, existing_pods, cloud_limits, cpu_by_type)


def _plan(
    pods_needing: Iterable[Mapping[str, Any]],
    nodes: Iterable[Mapping[str, Any]],
    existing_pods: Iterable[Mapping[str, Any]],
    cloud_limits: Mapping[str, tuple[int, str]] | None,
    cpu_by_type: Mapping[str, int] | None,
) -> Plan:
    node_list = list(nodes)
    node_map = {_name(n): n for n in node_list}
    keyed = sorted(((pod_key(p), p) for p in pods_needing), key=lambda kp: kp[0])
    usage = node_usage(node_list, existing_pods, cloud_limits=cloud_limits, cpu_by_type=cpu_by_type,
                       exclude={k for k, _ in keyed})
    index = UsageIndex(usage, node_map)
    placements: list[Placement] = []
    for key, pod in keyed:
        node, reason = index.place(pod, key)
        placements.append(Placement(key, node, node is not None, reason))
    return Plan(placements, index.usage)
