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


# --------------------------------------------------------------------------------------------------
# times
# --------------------------------------------------------------------------------------------------

def naive_as_utc(text: str | None) -> float | None:
    """``2020-10-28 08:23:59`` read as if it were UTC (epoch seconds), or None when it is not of
    that form. A time that names its zone (``...Z``, ``+08:00``) is not naive: see ``aware``."""
    m = _NAIVE.match(str(text or "").strip())
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups())
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def aware(text: str | None) -> float | None:
    """An RFC 3339 time with its zone (Kubernetes' ``creationTimestamp``), or None."""
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


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if _is_map(meta) else _EMPTY


def named_eni(vpceni: Mapping[str, Any]) -> str | None:
    """The ENI id a VpcENI names, or None when it names none or cannot be read (such VpcENIs are
    the view's problems, which block deleting)."""
    try:
        eni_id = vpceni_eni_id(vpceni)
    except (AttributeError, TypeError):
        return None
    return eni_id if isinstance(eni_id, str) else None


def _pod_key(vpceni: Mapping[str, Any]) -> tuple[str, str] | None:
    labels = _meta(vpceni).get("labels")
    labels = labels if _is_map(labels) else _EMPTY
    ns, name = labels.get(VPCENI_LABEL_POD_NAMESPACE), labels.get(VPCENI_LABEL_POD_NAME)
    return (str(ns), str(name)) if ns and name else None


def _pod_uid_of(vpceni: Mapping[str, Any]) -> str | None:
    spec = vpceni.get("spec")
    uid = spec.get("podUID") if _is_map(spec) else None
    return str(uid) if uid else None


def _owner(vpceni: Mapping[str, Any], key: tuple[str, str] | None,
           pods: Mapping[tuple[str, str], Mapping[str, Any]]) -> tuple[bool, str]:
    """(whether the VpcENI's Pod exists, what was seen); ``key``: the VpcENI's ``_pod_key``."""
    name = _meta(vpceni).get("name") or "(unnamed)"
    if key is None:
        return False, f"VpcENI {name} names no Pod (no pod-namespace/pod-name labels)"
    pod = pods.get(key)
    if pod is None:
        return False, f"VpcENI {name} names Pod {key[0]}/{key[1]}, which does not exist"
    want, have = _pod_uid_of(vpceni), _meta(pod).get("uid")
    if want and have and want != have:
        return False, f"VpcENI {name} names Pod {key[0]}/{key[1]} with uid {want}; the Pod of that name now is {have}"
    return True, f"VpcENI {name} names Pod {key[0]}/{key[1]}"


@dataclass
class Owners:
    """What ``classify`` reads of the cluster, indexed (``index_owners``): it needs no ENI listing, so a
    caller can make it while the listing runs."""

    pods_by_key: dict[tuple[str, str], Mapping[str, Any]]
    #: ENI id -> the VpcENIs that name it
    naming: dict[str, list[Mapping[str, Any]]]
    #: id(VpcENI) -> its Pod's key, read once
    key_of: dict[int, tuple[str, str] | None]
    #: running Pods on a sub-ENI that no VpcENI names, in the Pods' order: (key, node)
    unnamed: list[tuple[tuple[str, str], str | None]]
    #: id(VpcENI) -> (whether its Pod exists, what was seen): ``_owner``
    owner_of: dict[int, tuple[bool, str]]


def index_owners(vpcenis: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]]) -> Owners:
    """The VpcENIs by the ENI they name and the Pods by key (``classify``'s first half)."""
    pods_by_key = {(str(_meta(p).get("namespace") or "default"), str(_meta(p).get("name") or "")): p for p in pods}
    naming: dict[str, list[Mapping[str, Any]]] = {}
    key_of: dict[int, tuple[str, str] | None] = {}
    for v in vpcenis:
        key_of[id(v)] = _pod_key(v)
        eni_id = named_eni(v)
        if eni_id:
            naming.setdefault(eni_id, []).append(v)
    named_by_pod = {key for key in key_of.values() if key is not None}
    unnamed = []
    for p in pods:
        meta = _meta(p)
        key = (str(meta.get("namespace") or "default"), str(meta.get("name") or ""))
        status = p.get("status") if _is_map(p.get("status")) else _EMPTY
        if uses_sub_eni(p) and status.get("phase") == "Running" and key not in named_by_pod:
            unnamed.append((key, (p.get("spec") or _EMPTY).get("nodeName")))
    owner_of = {id(v): _owner(v, key_of[id(v)], pods_by_key) for vs in naming.values() for v in vs}
    return Owners(pods_by_key, naming, key_of, unnamed, owner_of)


def classify(*, instances: Mapping[str, str], enis: Sequence[Any], vpcenis: Sequence[Mapping[str, Any]],
             pods: Sequence[Mapping[str, Any]], read_at: float, found_by_id: Sequence[Any] = (),
             vpcenis_served: bool = True, unreadable: Sequence[str] = (), index: Owners | None = None) -> LeakReport:
    """One read of the cluster's sub-ENIs.

    ``instances``: node name -> CVM instance id, for the nodes in scope; ``enis``: what
    DescribeNetworkInterfaces lists for those instances (objects with ``eni_id``, ``instance_id``,
    ``eni_type``, ``primary``, ``security_group_ids``, ``created_time``); ``found_by_id``: ENIs
    that VpcENIs name, looked up by id because the listing lacked them; ``unreadable``: VpcENIs
    the view could not interpret; ``index``: ``index_owners(vpcenis, pods)`` when made already."""
    index = index if index is not None else index_owners(vpcenis, pods)
    report = LeakReport(read_at=read_at, nodes=len(instances))
    node_of = {instance: node for node, instance in instances.items()}
    listed = {e.eni_id: e for e in enis if e.instance_id in node_of}
    subs = {i: e for i, e in listed.items() if e.eni_type == SUB_ENI_TYPE and not e.primary}
    report.sub_enis = len(subs)
    if not vpcenis_served:
        report.blockers.append("the cluster does not serve VpcENI (eniipamd's CRD): which sub-ENIs Pods own cannot be read")
    if unreadable:
        report.blockers.append(f"{len(unreadable)} VpcENI(s) cannot be read: the ENIs they name are unknown")

    naming, key_of = index.naming, index.key_of
    report.zone_offset = youngest_zone_offset(
        (listed[i].created_time, _meta(v).get("creationTimestamp")) for i, vs in naming.items() if i in listed for v in vs)

    _reverse(report, naming, key_of, listed, subs, {e.eni_id: e for e in found_by_id}, node_of)
    for eni_id, eni in sorted(subs.items()):
        owners = naming.get(eni_id, [])
        seen = [index.owner_of[id(v)] for v in owners]
        if any(alive for alive, _ in seen):
            continue
        created = created_at(eni.created_time, report.zone_offset)
        report.leaks.append(Leak(
            eni_id=eni_id, instance_id=eni.instance_id, node=node_of.get(eni.instance_id),
            security_groups=tuple(eni.security_group_ids or ()), reason=POD_GONE if owners else NO_VPCENI,
            evidence=tuple(text for _, text in seen) or ("no VpcENI names it",),
            created_time=eni.created_time, age=None if created is None else max(0.0, read_at - created)))
    for key, node in index.unnamed:
        if vpcenis_served and (node is None or node in instances):
            report.inconsistencies.append(Inconsistency(
                POD_WITHOUT_VPCENI, f"Pod {key[0]}/{key[1]} runs on a sub-ENI (tke-sub-eni) but no VpcENI names it",
                pod=f"{key[0]}/{key[1]}", node=node))
    if report.zone_offset is None and report.leaks:
        report.notes.append("the leaks' age is unknown: CreatedTime carries no time zone and no ENI that a VpcENI "
                            "names was listed to read it against; deleting waits for two reads --older-than apart")
    return report


def _reverse(report: LeakReport, naming: Mapping[str, list[Mapping[str, Any]]], key_of: Mapping[int, Any],
             listed: Mapping[str, Any], subs: Mapping[str, Any], by_id: Mapping[str, Any],
             node_of: Mapping[str, str]) -> None:
    """The VpcENIs' side: ENIs they name that the listing lacks, and whether the listing is what
    this module assumes."""
    missing, elsewhere, wrong_type = [], [], []
    for eni_id, owners in sorted(naming.items()):
        if eni_id in listed:
            if eni_id not in subs:
                wrong_type.append(f"{eni_id} (EniType {listed[eni_id].eni_type})")
            continue
        name = _meta(owners[0]).get("name")
        key = key_of[id(owners[0])]
        pod = f"{key[0]}/{key[1]}" if key else None
        found = by_id.get(eni_id)
        if found is None:
            missing.append(Inconsistency(VPCENI_WITHOUT_ENI, f"VpcENI {name} names {eni_id}, which does not exist in VPC",
                                         eni_id=eni_id, vpceni=name, pod=pod))
            continue
        node = node_of.get(found.instance_id)
        if node is not None:
            # On a node in scope, yet the listing by instance left it out: the listing is incomplete.
            report.blockers.append(f"{eni_id}, named by VpcENI {name}, is attached to a node's instance "
                                   f"{found.instance_id} but DescribeNetworkInterfaces did not list it there")
        elsewhere.append(Inconsistency(
            ENI_NOT_ON_NODE, f"VpcENI {name} names {eni_id}, attached to {found.instance_id or 'no instance'}, "
            "which is not one of the cluster's nodes", eni_id=eni_id, vpceni=name, pod=pod, node=node))
    if naming and not subs and len(missing) == len(naming):
        # Every ENI the VpcENIs name is absent, by instance and by id: the API does not list sub-ENIs.
        report.blockers.append(f"DescribeNetworkInterfaces lists none of the {len(naming)} sub-ENI(s) VpcENIs name: "
                               "the API does not show per-Pod sub-ENIs here, so leaks cannot be found")
        return
    if wrong_type:
        report.blockers.append(f"ENIs that VpcENIs name are listed with an EniType other than {SUB_ENI_TYPE}: "
                               + ", ".join(wrong_type[:5]))
    report.inconsistencies.extend(missing)
    report.inconsistencies.extend(elsewhere)


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
