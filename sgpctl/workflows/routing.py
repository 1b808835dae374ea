"""Strict and standard routing of Trunking ENI Pods (the TKE document, "Data Plane Solution" and "How
to Enable Strict Routing"): `routing check`, `routing set`, `routing status`.

`routing check` reads the cluster once - a constant number of Kubernetes list calls and a handful of
cloud reads, whatever the cluster's size - and runs the six strict-mode limits of ``core.strict`` over
the Pods strict routing would apply to: those a policy selects (now, or once rebuilt) and those
already on a sub-ENI. `routing set` switches eniipamd's values with one merge update that keeps every
other value, refusing strict mode while a limit would break something.

Decisions:
- The scope is the whole cluster unless ``-n`` narrows it: the mode is cluster-wide.
- Early demux is the one limit `routing set strict` fixes itself (it sets both values with the
  mode), so before the switch an unset demux is a warning, not a failure, and never blocks the switch.
  Once the cluster runs strict, it fails like the others.
- The value that means standard routing is not published (the seed names only ``strict``):
  `routing set standard` writes what eniipamd's DefaultValues hold, and stops (exit 3) when they hold
  none, until ``--value`` names it (``core.api_facts.standard_mode_value``).
- The switch is one write through ``workflows.values_write``: a backup, a patch that sends vpcCni
  and agent whole (safe whatever UpdateAddon's merge does), every leaf read back.
- "Only new Pods get the new scheme" (seed): after a switch, the Running Pods on a sub-ENI are listed
  with the command that rebuilds them through their owners (`sgpctl policy rollout --all`: these
  Pods are not stale, so a plain rollout would leave them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core import matching, strict
from sgpctl.core.addon_values import (
    DEMUX_KEYS,
    ENFORCING_MODE,
    is_true,
    routing_mode,
    routing_values,
    subtree_patch,
    values_get,
)
from sgpctl.core.api_facts import standard_mode_value
from sgpctl.core.annotations import uses_sub_eni
from sgpctl.core.checks import (
    CategorySpec,
    CheckOutcome,
    CheckResult,
    CheckSpec,
    Status,
    noted,
    passed,
    run_checks,
    undetermined,
    warned,
)
from sgpctl.errors import RefusedError
from sgpctl.workflows import snat as snat_flow
from sgpctl.workflows.clients import Cloud, TkeApi
from sgpctl.workflows.view import ClusterView
from sgpctl.workflows.addons import ENIIPAMD, FAILED_PHASES, SUCCEEDED, EniipamdValues, read_eniipamd, wait_for_addon
from sgpctl.core.steps import CHANGED, FORCED, PLANNED, REFUSED, UNCHANGED, DryRun, Outcome, Step
from sgpctl.workflows.waiting import Waiter

ROUTING_KEYS = (ENFORCING_MODE, *DEMUX_KEYS)
KUBE_SYSTEM = "kube-system"
KUBE_PROXY = "kube-proxy"

CATEGORY_ROUTING = "routing"
CATEGORY_STRICT = "strict routing compatibility"
ID_MODE = "routing-mode"
ID_PROBES_DNS = "strict-probes-dns"

ROLLABLE_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


# --------------------------------------------------------------------------------------------------
# What the cluster holds
# --------------------------------------------------------------------------------------------------

@dataclass
class RoutingFacts:
    cluster_id: str
    namespace: str | None
    eniipamd: EniipamdValues
    #: the strict-mode Pods (API dicts) and their matches, same order
    pods: list[dict]
    matches: list[matching.PodMatch]
    inputs: strict.StrictInputs
    snat: snat_flow.SnatAudit
    notes: list[str] = field(default_factory=list)
    #: the traffic facts (``workflows.traffic.TrafficFacts``) of the same Pods, read on first use
    traffic: Callable[[], Any] | None = None

    @property
    def mode(self) -> str:
        return self.eniipamd.mode


def gather(view: ClusterView, cloud: Cloud, cluster_id: str, *, cluster=None, addons=None,
           ipamd=None, eniipamd: EniipamdValues | None = None, traffic: Callable[[], Any] | None = None) -> RoutingFacts:
    """Everything `routing check` decides on, from the view (Pods, policies, ServiceAccounts,
    Services, NetworkPolicies, kube-system's DaemonSets and two ConfigMaps: each read once) and five
    cloud reads, whatever the number of Pods; the Pods' rules (``workflows.traffic.gather``) when the
    probe and DNS check first needs them. A caller that has read DescribeClusters, DescribeAddon,
    DescribeIPAMD, eniipamd's values or the traffic facts already passes the answers."""
    from sgpctl.kube import resources as r

    notes: list[str] = []
    tke = cloud.tke
    cluster = cluster if cluster is not None else tke.describe_cluster(cluster_id)
    addons = addons if addons is not None else tke.describe_addons(cluster_id)
    addon_names = [a.name for a in addons]
    eni = eniipamd if eniipamd is not None else read_eniipamd(tke, cluster_id, addons)
    if not eni.state.installed:
        notes.append("the eniipamd add-on is not installed: its values (routing mode, early demux) cannot be read")

    strict_pods, matches, more = snat_flow.strict_mode_pods(view)
    notes += more
    daemonsets = view.list(r.DAEMONSETS, KUBE_SYSTEM)
    audit = snat_flow.gather(view, cloud, cluster_id, strict_pods, addon_names=addon_names, ipamd=ipamd)
    inputs = strict.StrictInputs(
        pods=strict_pods,
        services=view.list(r.SERVICES),
        network_policies=view.list(r.NETWORKPOLICIES),
        daemonsets=daemonsets,
        kube_proxy_configmap=view.get(r.CONFIGMAPS, KUBE_PROXY, KUBE_SYSTEM),
        kube_proxy_mode=cluster.kube_proxy_mode,
        ipvs=cluster.ipvs,
        eniipamd_values=eni.effective if eni.state.installed else None,
        addon_names=addon_names,
        snat=audit.verdict,
    )
    if traffic is None:
        from sgpctl.workflows import traffic as traffic_flow

        traffic = _once(lambda: traffic_flow.gather(view, cloud, cluster_id, cluster=cluster, eniipamd=eni))
    return RoutingFacts(cluster_id, view.namespace, eni, strict_pods, matches, inputs, audit, notes, traffic)


def _once(fn: Callable[[], Any]) -> Callable[[], Any]:
    done: list = []

    def get() -> Any:
        if not done:
            done.append(fn())
        return done[0]
    return get


# --------------------------------------------------------------------------------------------------
# As checks
# --------------------------------------------------------------------------------------------------

def describe_value(value: Any) -> str:
    return "not set" if value is None else repr(value) if isinstance(value, str) else str(value).lower()


def check_mode(facts: RoutingFacts) -> CheckOutcome:
    eni = facts.eniipamd
    if not eni.state.installed:
        return undetermined("the eniipamd add-on is not installed: the routing mode cannot be read",
                            "enable VPC-CNI on the cluster (it installs eniipamd)")
    evidence = [f"{k}: {describe_value(v)}" for k, v in eni.routing_values().items()]
    evidence.append(f"eniipamd {eni.state.version or '-'} {eni.state.phase or '-'}")
    scope = f"in namespace {facts.namespace}" if facts.namespace else "in the cluster"
    n = len(facts.pods)
    return noted(f"{eni.mode} routing; {n} strict-mode Pod{'' if n == 1 else 's'} {scope} "
                 "(selected by a policy or on a sub-ENI)", None, evidence)


def _wrap(spec: CheckSpec, transform: Callable[[Any, CheckOutcome], CheckOutcome]) -> CheckSpec:
    run = spec.run
    return dataclasses.replace(spec, run=lambda ctx: transform(ctx, run(ctx)))


def _demux_before_switch(get_facts: Callable[[Any], RoutingFacts]):
    def transform(ctx, outcome: CheckOutcome) -> CheckOutcome:
        if outcome.status is Status.FAIL and get_facts(ctx).mode != "strict":
            return warned(outcome.message + " - `sgpctl routing set strict` sets both together with the mode",
                          "a manual switch must set them too (the TKE document, steps 3.2 and 3.3)", outcome.evidence)
        return outcome
    return transform


def _informational_in_standard(get_facts: Callable[[Any], RoutingFacts]):
    """For `doctor`: in standard mode the limits are not problems yet, only what a switch would meet."""
    def transform(ctx, outcome: CheckOutcome) -> CheckOutcome:
        if get_facts(ctx).mode == "strict" or outcome.status in (Status.PASS, Status.INFO):
            return outcome
        return noted(f"standard routing, so not a problem now; strict routing would meet this: {outcome.message}",
                     outcome.hint, outcome.evidence)
    return transform


def check_probes_dns(facts: RoutingFacts) -> CheckOutcome:
    """The kubelet probes and DNS of the strict-mode Pods, judged on their groups' real rules."""
    from sgpctl.workflows.traffic import strict_hazards

    if facts.traffic is None or not facts.pods:
        return passed("no Pod that strict routing applies to")
    return strict_hazards(facts.traffic())


def routing_categories(get_facts: Callable[[Any], RoutingFacts] = lambda ctx: ctx, *,
                       requires: Sequence[str] = (), for_doctor: bool = False) -> list[CategorySpec]:
    """``routing-mode`` and the seven ``strict-*`` checks (the document's six limits, and the probes
    and DNS the Pods' groups would drop). For `routing check` the limits are judged as if switching to
    strict now; for `doctor` (``for_doctor``) they only fail once the cluster is strict."""
    req = tuple(requires)
    mode = CheckSpec(ID_MODE, "eniipamd's routing mode", lambda ctx: check_mode(get_facts(ctx)), requires=req)
    probes_dns = CheckSpec(ID_PROBES_DNS, "the Pods' groups let their kubelet probes and DNS through in strict routing",
                           lambda ctx: check_probes_dns(get_facts(ctx)), requires=req)
    specs = []
    for spec in (*strict.strict_specs(lambda ctx: get_facts(ctx).inputs, requires=req), probes_dns):
        if spec.id == strict.ID_EARLY_DEMUX:
            spec = _wrap(spec, _demux_before_switch(get_facts))
        if for_doctor:
            spec = _wrap(spec, _informational_in_standard(get_facts))
        specs.append(spec)
    if for_doctor:
        return [CategorySpec(CATEGORY_ROUTING, (mode, *specs))]
    return [CategorySpec(CATEGORY_ROUTING, (mode,)), CategorySpec(CATEGORY_STRICT, tuple(specs))]


def check_results(facts: RoutingFacts) -> list[CheckResult]:
    return list(run_checks(routing_categories(), facts))


def blocking(results: Sequence[CheckResult]) -> list[CheckResult]:
    """The limits that would break strict routing (early demux excluded: the switch sets it)."""
    return [r for r in results if r.status is Status.FAIL and r.id != strict.ID_EARLY_DEMUX]


def extra_json(facts: RoutingFacts) -> dict:
    eni = facts.eniipamd
    return {
        "clusterId": facts.cluster_id,
        "namespace": facts.namespace,
        "mode": eni.mode if eni.state.installed else None,
        "values": eni.routing_values() if eni.state.installed else None,
        "strictPods": [f"{m.namespace}/{m.name}" for m in facts.matches],
        "snat": facts.snat.to_dict(),
        "notes": facts.notes + facts.snat.notes,
    }


# --------------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------------

def routing_status(tke: TkeApi, cluster_id: str) -> dict:
    eni = read_eniipamd(tke, cluster_id)
    return {
        "ok": eni.state.installed and eni.state.phase not in FAILED_PHASES,
        "clusterId": cluster_id,
        "mode": eni.mode if eni.state.installed else None,
        "values": eni.routing_values() if eni.state.installed else None,
        "eniipamd": eni.state.to_dict(),
    }


# --------------------------------------------------------------------------------------------------
# Set
# --------------------------------------------------------------------------------------------------

def rebuild_list(pods: Sequence[dict], matches: Sequence[matching.PodMatch]) -> list[dict]:
    """Per namespace, the Running Pods on a sub-ENI (they keep the routing they started with) and
    the command that rebuilds them through their owners."""
    running = {((p.get("metadata") or {}).get("namespace") or "default", (p.get("metadata") or {}).get("name"))
               for p in pods if uses_sub_eni(p) and (p.get("status") or {}).get("phase") == "Running"}
    by_ns: dict[str, dict] = {}
    for m in matches:
        if (m.namespace, m.name) not in running:
            continue
        entry = by_ns.setdefault(m.namespace, {"namespace": m.namespace, "pods": [], "owners": [], "barePods": []})
        entry["pods"].append(m.name)
        if m.owner and m.owner[0] in ROLLABLE_KINDS:
            ref = f"{m.owner[0].lower()}/{m.owner[1]}"
            if ref not in entry["owners"]:
                entry["owners"].append(ref)
        else:
            entry["barePods"].append(m.name)
    out = []
    for ns in sorted(by_ns):
        e = by_ns[ns]
        e["pods"].sort()
        e["owners"].sort()
        commands = []
        if e["owners"] or e["barePods"]:
            bare = " --delete-bare-pods" if e["barePods"] else ""
            # No --yes: the command shows its plan and asks (rebuilding every Pod is not a paste-and-go step).
            commands.append(f"sgpctl policy rollout -n {ns} --all{bare}")
        e["commands"] = commands
        out.append(e)
    return out


@dataclass
class RoutingPlan:
    cluster_id: str
    target: str
    facts: RoutingFacts
    #: the strict-mode checks (target strict only)
    results: list[CheckResult] = field(default_factory=list)
    #: the patch one UpdateAddon would send (whole top-level subtrees, the changes applied)
    patch: dict = field(default_factory=dict)
    #: (key, current, wanted) for each value that changes
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    #: the dotted keys that change, with their new values
    wanted: dict = field(default_factory=dict)

    @property
    def blocking(self) -> list[CheckResult]:
        return blocking(self.results)

    @property
    def nothing_to_change(self) -> bool:
        return not self.changes

    def rebuild(self) -> list[dict]:
        return rebuild_list(self.facts.pods, self.facts.matches)


def plan_routing(view: ClusterView, cloud: Cloud, cluster_id: str, target: str, *,
                 standard_value: str | None = None) -> RoutingPlan:
    """What `routing set` would change; UndeterminedError (exit 3) when switching to standard and the
    value that means it cannot be established (no ``standard_value`` and no DefaultValues entry)."""
    from sgpctl.errors import UndeterminedError

    routing_mode(target)
    facts = gather(view, cloud, cluster_id)
    eni = facts.eniipamd
    if not eni.state.installed:
        raise RefusedError("the eniipamd add-on is not installed: there is no routing mode to set",
                           hint="enable VPC-CNI on the cluster (it installs eniipamd)")
    plan = RoutingPlan(cluster_id, target, facts)
    if target == "strict":
        plan.results = check_results(facts)
    effective = eni.effective
    if target == "standard" and not standard_value:
        fact = standard_mode_value(eni.defaults)
        if not fact.established:
            raise UndeterminedError(fact.message, hint=fact.hint)
        standard_value = fact.value
    for key, wanted in routing_values(effective, target, standard_value or "standard").items():
        current = values_get(effective, key)
        same = current == wanted or (key in DEMUX_KEYS and is_true(current) and is_true(wanted))
        if not same:
            plan.changes.append((key, current, wanted))
            plan.wanted[key] = wanted
    plan.patch = subtree_patch(effective, plan.wanted) if plan.changes else {}
    return plan


def _changes_text(changes: Sequence[tuple[str, Any, Any]]) -> str:
    return ", ".join(f"{k}: {describe_value(old)} -> {describe_value(new)}" for k, old, new in changes)


def _compatibility_step(plan: RoutingPlan, force: bool) -> Step | None:
    if plan.target != "strict":
        return None
    step = Step("routing-compatibility", "strict routing breaks nothing (`sgpctl routing check`)")
    bad = plan.blocking
    unknown = [r.id for r in plan.results if r.undetermined]
    if bad:
        listed = ", ".join(_broken(r) for r in bad)
        step.details = {"failedChecks": [r.id for r in bad], "messages": {r.id: r.message for r in bad},
                        "overridden": [_overridden(r) for r in bad]}
        if plan.nothing_to_change:
            step.message = f"already strict, though `routing check` fails: {listed}"
            step.hint = "see `sgpctl routing check`"
        elif force:
            step.status = FORCED
            step.message = f"--force: switching although strict routing would break {_things(len(bad))}: {listed}"
            step.hint = "`sgpctl routing check` shows each one and its fix"
        else:
            step.status = REFUSED
            step.message = f"strict routing would break {_things(len(bad))}: {listed}"
            step.hint = (f"fix each one (`sgpctl routing check` shows what and how: {', '.join(r.id for r in bad)}), "
                         "or pass --force to switch anyway")
    else:
        step.message = "`routing check` passes" + (f" (could not determine: {', '.join(unknown)})" if unknown else "")
    return step


def _broken(result: CheckResult) -> str:
    """A failed limit by what it concerns ("Node LocalDNS"), not by its id; ``_overridden`` adds what
    the cluster holds that breaks it."""
    return result.description.split(" (")[0]


def _things(n: int) -> str:
    return "1 thing" if n == 1 else f"{n} things"


def _overridden(result: CheckResult) -> str:
    objects = [str(e) for e in result.evidence] if isinstance(result.evidence, list) else []
    shown = "; ".join(objects[:2]) + (f"; and {len(objects) - 2} more" if len(objects) > 2 else "")
    return f"{_broken(result)}: {shown}" if shown else _broken(result)


def preview_routing(tke: TkeApi, plan: RoutingPlan, *, dry_run: bool | DryRun, force: bool = False) -> Outcome:
    """The plan as a dry-run outcome; ``--dry-run=server`` also sends the UpdateAddon with ``DryRun``
    (TKE checks it and changes nothing)."""
    out = routing_outcome(plan, dry_run=dry_run, force=force)
    step = next(s for s in out.steps if s.id == "eniipamd-routing-values")
    if DryRun.of(dry_run) is DryRun.SERVER and step.status == PLANNED:
        from sgpctl.workflows.values_write import dry_run_values

        dry_run_values(tke, plan.cluster_id, ENIIPAMD, plan.wanted)
        step.message += " (TKE accepted the UpdateAddon in a dry run)"
    return out


def routing_outcome(plan: RoutingPlan, *, dry_run: bool | DryRun, force: bool = False) -> Outcome:
    """The outcome before anything changes: refused, nothing to change, or (dry run) the plan."""
    out = Outcome(f"routing set {plan.target}", dry_run=dry_run)
    compat = _compatibility_step(plan, force)
    if compat is not None:
        out.add(compat)
    step = out.add(Step("eniipamd-routing-values", f"eniipamd routing values are {plan.target}"))
    step.details = {"patch": plan.patch}
    if compat is not None and compat.status == REFUSED:
        step.status, step.message = "skipped", "not changed: strict routing would break something"
    elif plan.nothing_to_change:
        step.message = f"routing is already {plan.target}: nothing to change"
    else:
        step.status = PLANNED
        step.message = (f"would set {_changes_text(plan.changes)} (backup first; one merge update sending "
                        f"{', '.join(sorted(plan.patch))} whole, so every other value stays whatever the merge does)")
    out.extra["rebuild"] = plan.rebuild() if not plan.nothing_to_change else []
    return out


def apply_routing(tke: TkeApi, plan: RoutingPlan, *, force: bool = False, wait: bool = True,
                  waiter: Waiter | None = None, backups=None) -> Outcome:
    """Write the values (``workflows.values_write``: backup, one whole-subtree merge update, every leaf
    read back) and list the Pods that keep the old scheme."""
    from sgpctl.workflows.values_write import write_values

    out = routing_outcome(plan, dry_run=False, force=force)
    state = plan.facts.eniipamd.state
    if not out.ok:
        return out
    if plan.nothing_to_change:
        if wait and state.phase != SUCCEEDED and state.phase not in FAILED_PHASES:
            # An earlier switch may still be rolling out: a rerun follows it rather than say "done".
            wait_for_addon(tke, plan.cluster_id, ENIIPAMD, waiter or Waiter(), what="eniipamd to finish rolling out")
        return out
    step = next(s for s in out.steps if s.id == "eniipamd-routing-values")
    if state.phase in FAILED_PHASES:
        step.status, step.message = REFUSED, f"eniipamd is {state.phase}: {state.reason or 'no reason given'}"
        step.hint = "fix the add-on first (TKE console > Add-on management > eniipamd)"
        return out
    if backups is None:
        raise ValueError("apply_routing needs a BackupStore to change values")
    written = write_values(tke, plan.cluster_id, ENIIPAMD, plan.wanted, backups=backups, waiter=waiter or Waiter(),
                           wait=wait, reason=f"before routing set {plan.target}: {_changes_text(plan.changes)}")
    step.status, step.message, step.hint = written.status, written.message, written.hint
    step.details = written.details()
    if written.status != CHANGED:
        return out
    rebuild = out.extra["rebuild"]
    pods = sum(len(e["pods"]) for e in rebuild)
    out.add(Step("rebuild-pods", "Pods created before the switch keep their routing", UNCHANGED,
                 f"only new Pods get {plan.target} routing; {pods} running Pod(s) on a sub-ENI keep the old scheme until rebuilt"
                 if pods else f"only new Pods get {plan.target} routing; no running Pod on a sub-ENI needs a rebuild",
                 "; ".join(c for e in rebuild for c in e["commands"]) or None))
    return out
