"""Which sub-ENIs of a cluster's nodes no live Pod owns, and when one may be deleted.

Ownership (the seed's chain, read backwards): eniipamd records each Pod's sub-ENI in a VpcENI
labelled ``tke.cloud.tencent.com/pod-namespace``/``pod-name`` whose ``status.eni.eniID`` names it.
A sub-ENI of one of the cluster's nodes (``EniType`` 2, the relayed ENI) is a **leak** when

- ``no-vpceni``: no VpcENI names it (what the missing client-token allowlist leaves behind), or
- ``pod-gone``: the VpcENIs that name it all name Pods that do not exist (or a newer Pod of the
  same name: another ``spec.podUID``).

A Pod that has finished still exists: its sub-ENI is not counted (eniipamd frees it when it goes).

The reverse inconsistencies: ``vpceni-without-eni`` (a VpcENI names an ENI the cloud does not
have), ``eni-not-on-node`` (the ENI exists, but not among the ENIs the VpcENI's cluster nodes
list), ``pod-without-vpceni`` (a Running sub-ENI Pod no VpcENI names).

What makes the listing untrustworthy (``LeakReport.blockers``; nothing is deleted while any holds):
the VpcENI CRD is not served or a VpcENI cannot be read (ownership unknown); VpcENIs name ENIs
and DescribeNetworkInterfaces lists none of them (the API does not list sub-ENIs); an ENI a VpcENI
names is not in the node listing or has an ``EniType`` other than 2 (the listing is not what this
module assumes).

**When a leak may be deleted** (``decide``): only if it has had no owner for at least
``older_than``, shown one of two ways, and a second read made right before deleting finds it still
without one:

- its age: an ENI that has existed that long is not being created (the one moment a live Pod's
  sub-ENI lacks its VpcENI: eniipamd writes the VpcENI right after creating the sub-ENI), or
- two reads ``older_than`` apart that both found it without an owner.

Age. ``CreatedTime`` (``2020-10-28 08:23:59``) carries no time zone, and which one the API writes
is not documented (Beijing time, UTC+8, is Tencent Cloud's habit; UTC is possible). It is read
against the VpcENIs of the same listing: eniipamd creates a VpcENI only after the sub-ENI it names,
so for every such pair ``CreatedTime`` read as UTC minus the VpcENI's ``creationTimestamp`` is at
most the zone's offset. The largest of these differences (less ``CLOCK_MARGIN`` for the two
services' clocks) is the smallest offset the data allows, i.e. the *youngest* reading: ages are
never overstated, whatever the zone. Without such a pair the age is unknown (``None``) and only
two reads can show a leak old enough. Ages also assume this machine's clock is right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sgpctl.core.annotations import (
    VPCENI_LABEL_POD_NAME,
    VPCENI_LABEL_POD_NAMESPACE,
    uses_sub_eni,
)
from sgpctl.core.durations import format_age, format_duration
from sgpctl.core.matching import FINISHED_PHASES
from sgpctl.core.verify import vpceni_eni_id

#: ``EniType`` of a relayed ENI ("中继网卡"), the per-Pod sub-ENI
SUB_ENI_TYPE = 2
DEFAULT_OLDER_THAN = 600.0
#: below this an ENI being created (sub-ENI made, VpcENI not yet written) could pass for a leak
MIN_OLDER_THAN = 60.0
#: how far apart the VPC's and the Kubernetes API server's clocks may be
CLOCK_MARGIN = 60.0
#: time zone offsets in use anywhere (UTC-12 to UTC+14): the bounds of any reading
_ZONES = (-12 * 3600.0, 14 * 3600.0)

NO_VPCENI = "no-vpceni"
POD_GONE = "pod-gone"
VPCENI_WITHOUT_ENI = "vpceni-without-eni"
ENI_NOT_ON_NODE = "eni-not-on-node"
POD_WITHOUT_VPCENI = "pod-without-vpceni"

_EMPTY: Mapping[str, Any] = {}
_NAIVE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$")
_EPOCH = datetime(1970, 1, 1)


# --------------------------------------------------------------------------------------------------
# times
# --------------------------------------------------------------------------------------------------

def naive_as_utc(text: str | None) -> float | None:
    """``2020-10-28 08:23:59`` read as if it were UTC (epoch seconds), or None when it is not of
    that form. A time that names its zone (``...Z``, ``+08:00``) is not naive: see ``aware``."""
    m = _NAIVE.match(str(text or "").strip())
    if not m:
        return None
    try:
        # once per listed ENI a VpcENI names when there is a leak (the zone reading, after the
        # listing): fromisoformat reads the digits in C (timeit: 1.1 us a call, 3.1-3.4 us through
        # int() per group and datetime())
        return (datetime.fromisoformat(m.string) - _EPOCH).total_seconds()
    except ValueError:
        pass  # not a date (February 30), or digits \d accepts but fromisoformat does not
    y, mo, d, h, mi, s = (int(g) for g in m.groups())
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def aware(text: str | None) -> float | None:
    """An RFC 3339 time with its zone (Kubernetes' ``creationTimestamp``), or None."""
    if type(text) is str and len(text) == 20 and text[19] == "Z" and text.count("Z") == 1 and not text[0].isspace():
        # Kubernetes' own form (2026-02-01T00:00:05Z), once per VpcENI of the zone reading:
        # fromisoformat reads the Z itself (Python 3.11), without the general path's pattern test
        # and replace (timeit: 0.75 us a call, 1.2 us that way)
        try:
            return datetime.fromisoformat(text).timestamp()
        except ValueError:
            return None
    value = str(text or "").strip()
    if not value or _NAIVE.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def created_at(text: str | None, zone_offset: float | None) -> float | None:
    """When an ENI was created, under the zone reading ``zone_offset`` (seconds east of UTC);
    a ``CreatedTime`` that names its zone needs none."""
    exact = aware(text)
    if exact is not None:
        return exact
    naive = naive_as_utc(text)
    if naive is None or zone_offset is None:
        return None
    return naive - zone_offset


def youngest_zone_offset(pairs: Iterable[tuple[str | None, str | None]]) -> float | None:
    """The smallest zone offset the pairs (ENI ``CreatedTime``, the ``creationTimestamp`` of a
    VpcENI naming it) allow: ENI times read with it are the latest they can be. None without a
    usable pair. See the module's docstring."""
    bound = None
    for eni_time, vpceni_time in pairs:
        naive, later = naive_as_utc(eni_time), aware(vpceni_time)
        if naive is None or later is None:
            continue
        diff = naive - later
        bound = diff if bound is None else max(bound, diff)
    if bound is None:
        return None
    return min(max(bound - CLOCK_MARGIN, _ZONES[0]), _ZONES[1])


# --------------------------------------------------------------------------------------------------
# the findings
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Leak:
    eni_id: str
    instance_id: str
    node: str | None
    security_groups: tuple[str, ...]
    reason: str
    evidence: tuple[str, ...] = ()
    created_time: str | None = None
    #: seconds since creation under the youngest zone reading; None when unknown
    age: float | None = None

    def to_dict(self) -> dict:
        return {"eniId": self.eni_id, "node": self.node, "instanceId": self.instance_id,
                "securityGroups": list(self.security_groups), "age": format_age(self.age) if self.age is not None else None,
                "ageSeconds": None if self.age is None else int(self.age), "createdTime": self.created_time,
                "reason": self.reason, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class Inconsistency:
    kind: str
    message: str
    eni_id: str | None = None
    vpceni: str | None = None
    pod: str | None = None
    node: str | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "eniId": self.eni_id, "vpceni": self.vpceni,
                "pod": self.pod, "node": self.node}


@dataclass
class LeakReport:
    """One read: what was found at ``read_at`` (epoch seconds, when it began: ages are measured from
    there, never overstated); ``finished_at`` when it ended (two reads count as apart from the end of
    the first to the beginning of the second)."""

    read_at: float
    leaks: list[Leak] = field(default_factory=list)
    inconsistencies: list[Inconsistency] = field(default_factory=list)
    #: why the listing cannot be trusted to delete from (empty: it can)
    blockers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: sub-ENIs of the nodes in scope, owned or not
    sub_enis: int = 0
    nodes: int = 0
    #: the zone reading the leaks' ages use (``youngest_zone_offset``); None without a leak
    zone_offset: float | None = None
    finished_at: float = 0.0

    def __post_init__(self) -> None:
        self.finished_at = self.finished_at or self.read_at

    def by_eni(self) -> dict[str, Leak]:
        return {leak.eni_id: leak for leak in self.leaks}

    def to_dict(self) -> dict:
        return {"leaks": [leak.to_dict() for leak in self.leaks],
                "inconsistencies": [i.to_dict() for i in self.inconsistencies],
                "subEnis": self.sub_enis, "nodes": self.nodes, "blockers": list(self.blockers),
                "notes": list(self.notes)}


# --------------------------------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------------------------------

def _is_map(value: Any) -> bool:
    # dict first: the ABC check behind isinstance(x, Mapping) is most of the cost on 10,000 objects
    return type(value) is dict or isinstance(value, Mapping)


def named_eni(vpceni: Mapping[str, Any]) -> str | None:
    """The ENI id a VpcENI names, or None when it names none or cannot be read (such VpcENIs are
    the view's problems, which block deleting)."""
    try:
        eni_id = vpceni_eni_id(vpceni)
    except (AttributeError, TypeError):
        return None
    return eni_id if isinstance(eni_id, str) else None


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if _is_map(meta) else _EMPTY


def _evidence(name: Any, pod: tuple[str, str] | None, exists: bool, want: str | None, have: Any) -> str:
    """Why a VpcENI (``metadata.name`` ``name``) does not own the ENI it names: it names no Pod,
    or its Pod does not exist, or that Pod's ``metadata.uid`` (``have``) is not the ``spec.podUID``
    it names (``want``)."""
    shown = name or "(unnamed)"
    if pod is None:
        return f"VpcENI {shown} names no Pod (no pod-namespace/pod-name labels)"
    if not exists:
        return f"VpcENI {shown} names Pod {pod[0]}/{pod[1]}, which does not exist"
    return f"VpcENI {shown} names Pod {pod[0]}/{pod[1]} with uid {want}; the Pod of that name now is {have}"


def _running(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status")
    return _is_map(status) and status.get("phase") == "Running"


#: one VpcENI's word on the ENI it names, as ``index_owners`` read it: (the VpcENI, the Pod its
#: pod-namespace/pod-name labels name or None, why it does not own the ENI or "" when it does)
Claim = tuple[Mapping[str, Any], "tuple[str, str] | None", str]


@dataclass
class Owners:
    """What ``classify`` reads of the VpcENIs and Pods, indexed (``index_owners``): it needs no ENI
    listing, so a caller can make it while the listing runs."""

    #: ENI id -> a claim (``Claim``) of each VpcENI that names it, in the VpcENIs' order
    naming: dict[str, list[Claim]]
    #: the ENI ids a VpcENI names whose Pod exists (with the uid it names, when both are set)
    owned: set[str]
    #: running Pods on a sub-ENI that no VpcENI names, in the Pods' order: (key, node)
    unnamed: list[tuple[tuple[str, str], str | None]]


def index_owners(vpcenis: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]]) -> Owners:
    """The VpcENIs by the ENI they name, each read against the Pods (``classify``'s first half)."""
    # Each field is read inline, once: on 10,000 Pods and VpcENIs the helpers per field (_meta,
    # _is_map, _pod_key, _owner) led cProfile's list. Each Pod key is looked up once, by the VpcENI
    # naming it, which marks its entry: a second lookup per running Pod (of an equal, not the same,
    # key) cost ~7 ms of thread CPU.
    #: Pod key -> [its metadata.uid, whether a VpcENI names it, the key]; Pods of one key share it
    by_key: dict[tuple[str, str], list] = {}
    #: each Pod's entry, in the Pods' order
    entries: list[list] = []
    for p in pods:
        meta = p.get("metadata")
        if type(meta) is not dict and not _is_map(meta):
            meta = _EMPTY
        key = (str(meta.get("namespace") or "default"), str(meta.get("name") or ""))
        entry = by_key.setdefault(key, [None, False, key])
        entry[0] = meta.get("uid")
        entries.append(entry)
    naming: dict[str, list[Claim]] = {}
    owned: set[str] = set()
    for v in vpcenis:
        meta = v.get("metadata")
        if type(meta) is not dict and not _is_map(meta):
            meta = _EMPTY
        labels = meta.get("labels")
        if type(labels) is not dict and not _is_map(labels):
            labels = _EMPTY
        ns, name = labels.get(VPCENI_LABEL_POD_NAMESPACE), labels.get(VPCENI_LABEL_POD_NAME)
        pod = (str(ns), str(name)) if ns and name else None
        entry = None if pod is None else by_key.get(pod)
        if entry is not None:
            entry[1] = True
        eni_id = named_eni(v)
        if not eni_id:
            continue
        want = None
        if entry is not None:
            spec = v.get("spec")
            want = spec.get("podUID") if type(spec) is dict or _is_map(spec) else None
            want = str(want) if want else None
        # its Pod exists and has the uid it names, when both are set
        alive = entry is not None and not (want and entry[0] and want != entry[0])
        claim = (v, pod, "" if alive else _evidence(meta.get("name"), pod, entry is not None, want, entry and entry[0]))
        claims = naming.setdefault(eni_id, [claim])
        if claims[-1] is not claim:  # another VpcENI named it first
            claims.append(claim)
        if alive:
            owned.add(eni_id)
    # the phase and the annotations are read only of the few Pods no VpcENI names
    unnamed = [(entry[2], (p.get("spec") or _EMPTY).get("nodeName")) for p, entry in zip(pods, entries)
               if not entry[1] and _running(p) and uses_sub_eni(p)]
    return Owners(naming, owned, unnamed)


class Classifier:
    """``classify`` in two steps: ``add`` the listing (page by page as it arrives, if need be; an ENI
    listed twice counts as listed last), then ``report``."""

    def __init__(self, index: Owners, instances: Mapping[str, str], read_at: float):
        self.index, self.instances, self.read_at = index, instances, read_at
        self._node_of = {instance: node for node, instance in instances.items()}
        #: ENI id -> (the ENI, whether it is a sub-ENI); an ENI listed twice counts as listed last
        self._listed: dict[str, tuple[Any, bool]] = {}

    def add(self, enis: Iterable[Any]) -> Classifier:
        """Take listed ENIs (those of instances out of scope are ignored)."""
        node_of, listed = self._node_of, self._listed
        for e in enis:
            if e.instance_id in node_of:
                listed[e.eni_id] = (e, e.eni_type == SUB_ENI_TYPE and not e.primary)
        return self

    def report(self, *, found_by_id: Sequence[Any] = (), vpcenis_served: bool = True,
               unreadable: Sequence[str] = ()) -> LeakReport:
        """The read of what was added (see ``classify`` for the arguments)."""
        index, read_at = self.index, self.read_at
        report = LeakReport(read_at=read_at, nodes=len(self.instances))
        if not vpcenis_served:
            report.blockers.append("the cluster does not serve VpcENI (eniipamd's CRD): which sub-ENIs Pods own cannot be read")
        if unreadable:
            report.blockers.append(f"{len(unreadable)} VpcENI(s) cannot be read: the ENIs they name are unknown")
        subs, unowned, other = 0, [], []
        owned, naming = index.owned, index.naming
        for eni_id, (eni, sub) in self._listed.items():
            if sub:
                subs += 1
                if eni_id not in owned:
                    unowned.append((eni_id, eni))
            elif eni_id in naming:
                other.append(eni_id)
        report.sub_enis = subs
        if unowned:
            # Only the leaks' ages read it: without a leak, the 10,000 pairs of `large` are not
            # parsed (23-25 ms of thread CPU, 47-49 ms before the parsers above were made faster).
            report.zone_offset = youngest_zone_offset(
                (eni.created_time, _meta(vpceni).get("creationTimestamp"))
                for eni_id, (eni, _) in self._listed.items() for vpceni, _, _ in index.naming.get(eni_id, ()))
        self._reverse(report, other, {e.eni_id: e for e in found_by_id})
        for eni_id, eni in sorted(unowned, key=lambda pair: pair[0]):
            claims = index.naming.get(eni_id, ())
            created = created_at(eni.created_time, report.zone_offset)
            report.leaks.append(Leak(
                eni_id=eni_id, instance_id=eni.instance_id, node=self._node_of.get(eni.instance_id),
                security_groups=tuple(eni.security_group_ids or ()), reason=POD_GONE if claims else NO_VPCENI,
                evidence=tuple(seen for _, _, seen in claims) or ("no VpcENI names it",),
                created_time=eni.created_time, age=None if created is None else max(0.0, read_at - created)))
        for key, node in index.unnamed:
            if vpcenis_served and (node is None or node in self.instances):
                report.inconsistencies.append(Inconsistency(
                    POD_WITHOUT_VPCENI, f"Pod {key[0]}/{key[1]} runs on a sub-ENI (tke-sub-eni) but no VpcENI names it",
                    pod=f"{key[0]}/{key[1]}", node=node))
        if report.zone_offset is None and report.leaks:
            report.notes.append("the leaks' age is unknown: CreatedTime carries no time zone and no ENI that a VpcENI "
                                "names was listed to read it against; deleting waits for two reads --older-than apart")
        return report

    def _reverse(self, report: LeakReport, other: Sequence[str], by_id: Mapping[str, Any]) -> None:
        """The VpcENIs' side: ENIs they name that the listing lacks, and whether the listing is what
        this module assumes. ``other``: those it lists with another ``EniType``."""
        naming, listed = self.index.naming, self._listed
        missing, elsewhere, wrong_type = [], [], []
        # only the ENIs named but not listed as sub-ENIs have anything to say: sorted, just those
        for eni_id in sorted((naming.keys() - listed.keys()).union(other)):
            if eni_id in listed:
                wrong_type.append(f"{eni_id} (EniType {listed[eni_id][0].eni_type})")
                continue
            vpceni, key, _ = naming[eni_id][0]
            name = _meta(vpceni).get("name")
            pod = f"{key[0]}/{key[1]}" if key else None
            found = by_id.get(eni_id)
            if found is None:
                missing.append(Inconsistency(VPCENI_WITHOUT_ENI, f"VpcENI {name} names {eni_id}, which does not exist in VPC",
                                             eni_id=eni_id, vpceni=name, pod=pod))
                continue
            node = self._node_of.get(found.instance_id)
            if node is not None:
                # On a node in scope, yet the listing by instance left it out: the listing is incomplete.
                report.blockers.append(f"{eni_id}, named by VpcENI {name}, is attached to a node's instance "
                                       f"{found.instance_id} but DescribeNetworkInterfaces did not list it there")
            elsewhere.append(Inconsistency(
                ENI_NOT_ON_NODE, f"VpcENI {name} names {eni_id}, attached to {found.instance_id or 'no instance'}, "
                "which is not one of the cluster's nodes", eni_id=eni_id, vpceni=name, pod=pod, node=node))
        if naming and not report.sub_enis and len(missing) == len(naming):
            # Every ENI the VpcENIs name is absent, by instance and by id: the API does not list sub-ENIs.
            report.blockers.append(f"DescribeNetworkInterfaces lists none of the {len(naming)} sub-ENI(s) VpcENIs name: "
                                   "the API does not show per-Pod sub-ENIs here, so leaks cannot be found")
            return
        if wrong_type:
            report.blockers.append(f"ENIs that VpcENIs name are listed with an EniType other than {SUB_ENI_TYPE}: "
                                   + ", ".join(wrong_type[:5]))
        report.inconsistencies.extend(missing)
        report.inconsistencies.extend(elsewhere)


def classify(*, instances: Mapping[str, str], enis: Sequence[Any], read_at: float, index: Owners | None = None,
             vpcenis: Sequence[Mapping[str, Any]] | None = None, pods: Sequence[Mapping[str, Any]] | None = None,
             found_by_id: Sequence[Any] = (), vpcenis_served: bool = True, unreadable: Sequence[str] = ()) -> LeakReport:
    """One read of the cluster's sub-ENIs.

    ``instances``: node name -> CVM instance id, for the nodes in scope; ``enis``: what
    DescribeNetworkInterfaces lists for those instances (objects with ``eni_id``, ``instance_id``,
    ``eni_type``, ``primary``, ``security_group_ids``, ``created_time``); the VpcENIs and Pods as
    ``index`` (``index_owners``) or as ``vpcenis`` and ``pods``, one or the other; ``found_by_id``:
    ENIs that VpcENIs name, looked up by id because the listing lacked them; ``unreadable``:
    VpcENIs the view could not interpret."""
    if index is None:
        if vpcenis is None or pods is None:
            raise TypeError("classify needs index, or vpcenis and pods")
        index = index_owners(vpcenis, pods)
    elif vpcenis is not None or pods is not None:
        raise TypeError("classify takes index, or vpcenis and pods: not both")
    return Classifier(index, instances, read_at).add(enis).report(
        found_by_id=found_by_id, vpcenis_served=vpcenis_served, unreadable=unreadable)


# --------------------------------------------------------------------------------------------------
# the two-read rule
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    leak: Leak
    delete: bool
    why: str


def wait_needed(first: LeakReport, older_than: float) -> float:
    """Seconds after the first read until a second read can decide every leak it found: none for
    leaks already ``older_than`` old, the time until they are for the younger ones, ``older_than``
    for those of unknown age."""
    need = 0.0
    for leak in first.leaks:
        if leak.age is None:
            need = max(need, older_than)
        else:
            need = max(need, older_than - leak.age)
    return max(0.0, need)


def decide(first: LeakReport, second: LeakReport, older_than: float) -> list[Decision]:
    """For each leak of the first read: delete it now, or not and why (see the module's docstring)."""
    apart = second.read_at - first.finished_at
    again = second.by_eni()
    out = []
    for leak in first.leaks:
        now = again.get(leak.eni_id)
        if now is None:
            out.append(Decision(leak, False, "owned or gone on the second read"))
        elif now.age is not None and now.age >= older_than:
            out.append(Decision(now, True, f"without an owner on both reads and {format_age(now.age)} old "
                                           f"(at least {format_duration(older_than)})"))
        elif apart >= older_than:
            out.append(Decision(now, True, f"without an owner on two reads {format_age(apart)} apart"))
        else:
            age = "of unknown age" if now.age is None else f"{format_age(now.age)} old"
            out.append(Decision(now, False, f"{age}, and the reads were {format_age(apart)} apart: less than "
                                            f"--older-than {format_duration(older_than)}; run again later"))
    return out
