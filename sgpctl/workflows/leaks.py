"""`sgpctl eni leaks`: the sub-ENIs of the cluster's nodes that no live Pod owns, and their safe removal.

One read (``find_leaks``), in this order so that a sub-ENI being created is seen with its VpcENI
rather than without: the nodes (a ``ClusterView``), the CVM instances TKE lists for the cluster
(only those nodes are in scope: a VPC is shared, and another cluster's sub-ENIs are never
touched), every ENI of those instances (DescribeNetworkInterfaces by ``attachment.instance-id``,
batched and paged), then the VpcENIs and Pods. ENIs that VpcENIs name but the listing lacks are
looked up by id (one call per 100). ``core.leaks.classify`` decides.

Removal (``remove_leaks``) follows ``core.leaks``' two-read rule: after the plan is confirmed it
waits until a second read can decide each leak (``--no-wait``: it does not wait, and leaves the
younger ones for a later run), reads again, and deletes - one DeleteNetworkInterface each - only
what both reads found without an owner and that had no owner for ``--older-than``. Which public
action deletes a sub-ENI is not documented: the first refusal stops the run, nothing more is
tried, and the outcome says what to do instead. Deleting twice is harmless (the second answer is
"not found"), so a rerun converges; what was deleted is read back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core import leaks as core
from sgpctl.core.checks import CategorySpec, CheckOutcome, CheckSpec, passed, undetermined, warned
from sgpctl.core.durations import format_age, format_duration
from sgpctl.core.steps import CHANGED, FAILED, PLANNED, REFUSED, SKIPPED, UNCHANGED, Outcome, Step
from sgpctl.errors import CloudError, ExitCode
from sgpctl.kube import resources as r
from sgpctl.workflows.capacity import instance_id_of
from sgpctl.workflows.clients import Cloud
from sgpctl.workflows.view import ClusterView

COMMAND = "eni leaks --delete"
#: what to do when no public action deletes a sub-ENI
INSTEAD = ("no public API action deleted the sub-ENI ({cause}); eniipamd deletes sub-ENIs with "
           "vpc:DeleteSubNetworkInterface, which the public API does not offer. Instead: delete them in the VPC "
           "console (Elastic Network Interface: {ids}), or submit a ticket to VPC listing them; "
           "and to stop new leaks, have the account added to VPC's client-token allowlist (a ticket, as the TKE "
           "document says)")


@dataclass
class NodeEnis:
    """The cloud half of ``find_leaks``: which nodes are the cluster's instances, and every ENI of
    those instances, listed at ``read_at``. ``doctor`` reads it in the background while its other
    checks run."""

    instances: dict[str, str]
    enis: list
    read_at: float
    notes: list[str] = field(default_factory=list)


def read_node_enis(nodes: Sequence[dict], cloud: Cloud, cluster_id: str, *,
                   clock: Callable[[], float] = time.time) -> NodeEnis:
    """The CVM instances TKE lists for the cluster among ``nodes``, and every ENI of them."""
    notes: list[str] = []
    instances: dict[str, str] = {}
    for node in nodes:
        name = str((node.get("metadata") or {}).get("name") or "")
        instance = instance_id_of(node)
        if instance is None:
            notes.append(f"node {name} has no qcloud providerID: its sub-ENIs are not looked at")
        else:
            instances[name] = instance
    members = {i.instance_id for i in cloud.tke.describe_cluster_instances(cluster_id)}
    for name, instance in sorted(instances.items()):
        if instance not in members:
            notes.append(f"node {name} ({instance}) is not an instance of cluster {cluster_id}: its sub-ENIs are not looked at")
    instances = {n: i for n, i in instances.items() if i in members}
    read_at = clock()
    enis = cloud.vpc.describe_instance_network_interfaces(sorted(instances.values())) if instances else []
    return NodeEnis(instances, enis, read_at, notes)


def find_leaks(view: ClusterView, cloud: Cloud, cluster_id: str, *, clock: Callable[[], float] = time.time,
               node_enis: NodeEnis | None = None, owners: core.Owners | None = None) -> core.LeakReport:
    """One read of the cluster's sub-ENIs (see the module's docstring); ``node_enis``: the nodes'
    ENIs when the caller read them already (``read_node_enis`` on ``view.nodes``); ``owners``: the
    view's ``owners_of``, when made already."""
    if node_enis is None:
        node_enis = read_node_enis(view.nodes, cloud, cluster_id, clock=clock)
    instances, enis = node_enis.instances, node_enis.enis
    served = view.serves(r.VPCENI_GROUP, r.VPCENI_KIND)
    index = owners if owners is not None else owners_of(view)
    view.vpcenis_by_pod()  # what cannot be read lands in view.problems
    unreadable = [p for p in view.problems if p.startswith("VpcENI ")]
    listed = {e.eni_id for e in enis}
    unlisted = sorted(index.naming.keys() - listed)
    found_by_id = cloud.vpc.describe_network_interfaces(unlisted, concurrency=4) if unlisted else []
    report = core.classify(instances=instances, enis=enis, index=index, read_at=node_enis.read_at,
                           found_by_id=found_by_id, vpcenis_served=served, unreadable=unreadable)
    report.finished_at = clock()
    report.notes[:0] = node_enis.notes
    if view.nodes and not instances:
        report.blockers.append(f"none of the {len(view.nodes)} node(s) is a CVM instance TKE lists for {cluster_id}: "
                               "is the kubeconfig context that cluster?")
    return report


def owners_of(view: ClusterView) -> core.Owners:
    """The view's VpcENIs and Pods indexed for ``classify`` (no ENI needed: doctor makes it while its
    listing runs)."""
    return core.index_owners(view.vpcenis, view.pods)


def report_exit_code(report: core.LeakReport) -> ExitCode:
    """1 when leaks or inconsistencies were found, else 3 when the listing cannot be trusted, else 0."""
    if report.leaks or report.inconsistencies:
        return ExitCode.FAILED
    return ExitCode.UNDETERMINED if report.blockers else ExitCode.OK


def _leak_step(leak: core.Leak) -> Step:
    return Step(f"delete-{leak.eni_id}", f"delete sub-ENI {_named(leak)}",
                details={"eniId": leak.eni_id, "node": leak.node, "securityGroups": list(leak.security_groups),
                         "reason": leak.reason})


def _named(leak: core.Leak) -> str:
    return f"{leak.eni_id} on {leak.node or leak.instance_id}"


def _say(step: Step, leak: core.Leak, status: str, text: str) -> None:
    step.status, step.message = status, f"{_named(leak)}: {text}"


def plan_removal(first: core.LeakReport, older_than: float, *, dry_run: bool = False) -> Outcome:
    """What ``remove_leaks`` would do after the first read: the plan shown before confirming (and
    the whole answer with ``--dry-run``)."""
    out = Outcome(COMMAND, dry_run=dry_run)
    out.extra.update(first.to_dict())
    if first.blockers:
        out.add(Step("listing", "tell which sub-ENIs are leaks", REFUSED, "; ".join(first.blockers),
                     "nothing is deleted while the listing cannot be trusted"))
        out.extra["undetermined"] = True
        return out
    for leak in first.leaks:
        step = out.add(_leak_step(leak))
        if leak.age is not None and leak.age >= older_than:
            _say(step, leak, PLANNED, f"{format_age(leak.age)} old: delete if a second read finds it still without an owner")
        else:
            age = "of unknown age" if leak.age is None else f"{format_age(leak.age)} old"
            wait = older_than if leak.age is None else older_than - leak.age
            _say(step, leak, PLANNED, f"{age}: delete if a second read in {format_age(wait)} (--older-than "
                                      f"{format_duration(older_than)}) finds it still without an owner")
    if not first.leaks:
        out.add(Step("leaks", "delete leaked sub-ENIs", UNCHANGED, "no leaked sub-ENI: nothing to delete"))
    return out


def remove_leaks(first: core.LeakReport, reread: Callable[[], core.LeakReport], cloud: Cloud, *, older_than: float,
                 wait: bool = True, pause: Callable[[float], None] = time.sleep) -> Outcome:
    """The two-read rule, then the deletes (see the module's docstring). ``pause(seconds)`` waits
    (the CLI shows progress); ``reread()`` makes the second read."""
    out = Outcome(COMMAND)
    out.extra.update(first.to_dict())
    if first.blockers:
        return plan_removal(first, older_than)
    if not first.leaks:
        out.add(Step("leaks", "delete leaked sub-ENIs", UNCHANGED, "no leaked sub-ENI: nothing to delete"))
        return out
    needed = core.wait_needed(first, older_than)
    if wait and needed > 0:
        pause(needed)
    second = reread()
    out.extra["secondRead"] = {"leaks": len(second.leaks), "apartSeconds": int(second.read_at - first.finished_at)}
    if second.blockers:
        out.add(Step("listing", "tell which sub-ENIs are leaks (second read)", REFUSED, "; ".join(second.blockers),
                     "nothing is deleted while the listing cannot be trusted"))
        out.extra["undetermined"] = True
        return out
    decisions = core.decide(first, second, older_than)
    stop: str | None = None
    deleted: list[str] = []
    for d in decisions:
        step = out.add(_leak_step(d.leak))
        if stop is not None:
            _say(step, d.leak, SKIPPED, f"not tried: {stop}")
            continue
        if not d.delete:
            _say(step, d.leak, SKIPPED, f"not deleted: {d.why}")
            continue
        try:
            existed = cloud.vpc.delete_network_interface(d.leak.eni_id)
        except CloudError as e:
            _say(step, d.leak, FAILED, f"DeleteNetworkInterface: {e.code}: {e.api_message or e.message}")
            if e.exit_code == ExitCode.UNDETERMINED:
                step.hint = e.hint
                out.extra["undetermined"] = True
                stop = f"{d.leak.eni_id} could not be deleted ({e.code})"
            else:
                ids = ", ".join(x.leak.eni_id for x in decisions if x.delete)
                step.hint = INSTEAD.format(cause=f"DeleteNetworkInterface answered {e.code}", ids=ids)
                out.extra["noPublicDeleteAction"] = True
                stop = f"the API refused to delete {d.leak.eni_id}"
            continue
        _say(step, d.leak, CHANGED if existed else UNCHANGED, f"deleted ({d.why})" if existed else "already gone")
        if existed:
            deleted.append(d.leak.eni_id)
    _read_back(out, cloud, deleted)
    return out


def _read_back(out: Outcome, cloud: Cloud, deleted: list[str]) -> None:
    if not deleted:
        return
    still = {e.eni_id: e for e in cloud.vpc.describe_network_interfaces(deleted, concurrency=4)}
    for step in out.steps:
        eni_id = step.details.get("eniId")
        if eni_id in still:
            state = still[eni_id].state or "unknown"
            step.message += f"; still listed right after (state {state}): the API may delete asynchronously - " \
                            "run `sgpctl eni leaks` again to see it gone"
        elif eni_id in deleted:
            step.message += "; read back: gone"
    out.extra["readBack"] = {"deleted": len(deleted), "stillListed": sorted(still)}


def removal_exit_code(outcome: Outcome) -> ExitCode:
    """3 when something could not be determined (listing untrusted, a delete not answered), else
    the outcome's own (1 when a delete failed)."""
    if outcome.extra.get("undetermined"):
        return ExitCode.UNDETERMINED
    return outcome.exit_code



# --------------------------------------------------------------------------------------------------
# doctor's `leaks` category
# --------------------------------------------------------------------------------------------------

CATEGORY = "leaks"


def leak_category(read: Callable[[Any], core.LeakReport], requires: tuple[str, ...] = ()) -> CategorySpec:
    """doctor's ``leaks`` checks over ``read(context)`` (one read, memoised by the context)."""
    def leaks(c: Any) -> CheckOutcome:
        report = read(c)
        if report.blockers and not report.leaks:
            return undetermined("; ".join(report.blockers), "see `sgpctl eni leaks`")
        if not report.leaks:
            return passed(f"no leaked sub-ENI ({report.sub_enis} sub-ENI(s) on {report.nodes} node(s))")
        evidence = [f"{x.eni_id} on {x.node or x.instance_id}: {x.reason}, {format_age(x.age)} old, "
                    f"groups {', '.join(x.security_groups) or '-'}" for x in report.leaks]
        return warned(f"{len(report.leaks)} sub-ENI(s) of the cluster's nodes have no live Pod: they hold the nodes' "
                      "sub-ENI quota and keep their security groups in use (the leaks the TKE document warns of "
                      "without VPC's client-token allowlist)",
                      "delete them safely: sgpctl eni leaks --delete (only what two reads find without an owner)",
                      evidence)

    def agree(c: Any) -> CheckOutcome:
        report = read(c)
        if not report.inconsistencies:
            return passed("every VpcENI's ENI exists and every Running sub-ENI Pod has a VpcENI")
        return warned(f"{len(report.inconsistencies)} inconsistenc{'y' if len(report.inconsistencies) == 1 else 'ies'} "
                      "between VpcENIs, sub-ENIs and Pods", "see `sgpctl eni leaks`; eniipamd repairs most on its own, "
                      "a Pod whose VpcENI names a missing ENI needs rebuilding (delete it; its owner recreates it)",
                      [i.message for i in report.inconsistencies])

    return CategorySpec(CATEGORY, (
        CheckSpec("leaks-sub-enis", "no sub-ENI of the cluster's nodes is left without a live Pod", leaks, requires=requires),
        CheckSpec("leaks-inconsistencies", "VpcENIs, sub-ENIs and Pods agree", agree, requires=requires),
    ))
