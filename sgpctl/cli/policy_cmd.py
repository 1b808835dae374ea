"""`sgpctl policy ...`: validate, explain (and, on a live cluster, apply/create/list/get/delete/rollout)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.fleet import NO_FLEET, FleetOptions, fleet_options
from sgpctl.cli.options import (AllNamespaces, Files, Namespace, OptionalFiles, Output, Recursive, Timeout, Yes, check_policy_name,
                                namespace_scope, timeout_option)
from sgpctl.core.policy import NAME_KIND
from sgpctl.errors import ExitCode, InputError
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Validate, explain, apply, roll out policies.\n\nValidate, explain and manage SecurityGroupPolicy objects.", no_args_is_help=True)

Snapshot = Annotated[Optional[list[str]], typer.Option("--snapshot", help="Offline cluster snapshot (`kubectl get pods,serviceaccounts,nodes,securitygrouppolicies -A -o yaml`, or a file of `sgpctl capture`); repeatable.")]
Name = Annotated[str, typer.Argument(help="Policy name.", callback=check_policy_name)]
WriteTimeout = timeout_option("How long to wait for other sgpctl writers of the namespace (its writer Lease) and to "
                              "retry updates that conflict with other writers: 60, 90s, 5m.")


def _problems(app_, problems) -> ExitCode:
    """Every problem of a file on stderr, and exit 2: nothing was applied."""
    for problem in problems:
        app_.out.note(f"error: {problem}")
    app_.out.note(f"{len(problems)} problem(s); nothing was applied")
    return ExitCode.USAGE


@app.command("validate")
def validate(ctx: typer.Context, policy_file: Files, recursive: Recursive = False,
             output: Output = OutputFormat.table) -> ExitCode:
    """Validate SecurityGroupPolicy documents offline; every problem in every file is listed. -f may
    repeat and name directories (-R: their subdirectories too).

    Exit 0 when valid, 2 when any document has a problem.

    Example: sgpctl policy validate -f examples/policy.yaml
    """
    from sgpctl.render.policies import render_validation
    from sgpctl.workflows.sources import load_policy_files

    app_ = get_app(ctx)
    result = load_policy_files(policy_file, app_.env.stdin, recursive=recursive)
    data = {
        "valid": result.ok,
        "policies": [{"namespace": p.namespace, "name": p.name, "groupIds": list(p.group_ids)} for p in result.policies],
        "problems": [p.to_dict() for p in result.problems],
    }
    if output == OutputFormat.junit:
        from sgpctl.workflows.sources import validation_checks

        # One testcase per valid policy and one failure per problem, for CI.
        app_.out.checks(validation_checks(result), output)
    else:
        app_.out.emit(data, output, lambda term: render_validation(term, data), kind=NAME_KIND)
    return ExitCode.OK if result.ok else _problems(app_, result.problems)


def _view(app_, snapshot: list[str] | None, namespace: str | None):
    """The cluster picture: the snapshot files when given, else the live cluster."""
    if snapshot:
        from sgpctl.workflows.sources import from_snapshot

        return from_snapshot(snapshot, app_.env.stdin)
    view = app_.view(namespace)
    view.default_namespace = app_.context_namespace()
    return view


@app.command("explain")
@fleet_options
def explain(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="Explain only this policy (in the namespace given by -n).", callback=check_policy_name)] = None,
    policy_file: OptionalFiles = None,
    recursive: Recursive = False,
    snapshot: Snapshot = None,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    sg_limit: Annotated[int, typer.Option("--sg-limit", help="Security groups allowed per ENI.", min=1)] = 5,
    output: Output = OutputFormat.table,
    fleet: FleetOptions = NO_FLEET,
) -> ExitCode:
    """Explain what policies do: the Pods each selects (with owners), each Pod's resulting groups,
    stale Pods (created before the policy, or with other groups), warnings, and where the Pods that
    need a sub-ENI would fit. Works on the live cluster, or offline with --snapshot.

    Without -n/-A: the namespaces of the -f file's policies, else the context's namespace
    (a snapshot: all namespaces).

    Examples:

      sgpctl policy explain -f examples/policy.yaml --snapshot examples/snapshot.yaml -A

      sgpctl policy explain my-security-group-policy -n my-namespace -o json

      sgpctl policy explain -f policy.yaml -A --clusters cls-1a2b3c4d,cls-5e6f7a8b
    """
    from sgpctl.render.explain import render_explain
    from sgpctl.workflows.explain import explain_scope
    from sgpctl.workflows.sources import load_policy_files, require_valid

    app_ = get_app(ctx)
    if namespace and all_namespaces:
        namespace_scope(app_, namespace, all_namespaces)  # refuses the pair
    subject = require_valid(load_policy_files(policy_file, app_.env.stdin, recursive=recursive)) if policy_file else None
    if name and subject is not None:
        raise InputError("give a policy NAME or -f FILE, not both", hint="sgpctl policy explain NAME -n NS, or -f FILE")
    if fleet.active:
        from sgpctl.cli.fleet import refuse_with_fleet, run_fleet_command
        from sgpctl.workflows.fleet import ClusterResult

        refuse_with_fleet(fleet, "--snapshot", bool(snapshot))

        def per_cluster(a):
            data = explain_scope(_view(a, None, None if all_namespaces else namespace), name=name, subject=subject,
                                 namespace=namespace, all_namespaces=all_namespaces, sg_limit=sg_limit).to_dict()
            s = data["summary"]
            return ClusterResult(data, ExitCode.OK, f"{s['policies']} policy(ies) select {s['selectedPods']} Pod(s); "
                                 f"{s['stalePods']} stale, {s['wouldStayPending']} would stay Pending, {s['warnings']} warning(s)",
                                 [w["message"] for w in data["warnings"]])

        return run_fleet_command(app_, fleet, per_cluster, output)
    view = _view(app_, snapshot, None if all_namespaces else namespace)
    result = explain_scope(view, name=name, subject=subject, namespace=namespace, all_namespaces=all_namespaces,
                           sg_limit=sg_limit).to_dict()
    app_.out.emit(result, output, lambda term: render_explain(term, result))
    return ExitCode.OK


def _lease_notice(app_):
    """Where waiting for another writer is said once on stderr: without a terminal (with one, the
    waiter's transient line says it)."""
    return None if app_.env.stderr_isatty else app_.out.note


def _apply(app_, policies, dry_run: bool, output, timeout: float = 60) -> ExitCode:
    from sgpctl.cli.outcome import finish
    from sgpctl.errors import SgpctlError
    from sgpctl.workflows.policies import apply_policies

    try:
        with app_.waiter(timeout) as waiter:
            outcome = apply_policies(app_.view(None), app_.cloud().vpc, policies, dry_run=dry_run,
                                     namespace_default=app_.context_namespace(), waiter=waiter,
                                     notify=_lease_notice(app_))
    except SgpctlError as e:
        # Every problem on its own line; the first is the error's message (the one mapping prints it).
        for problem in getattr(e, "problems", [])[1:]:
            app_.out.note(f"error: {problem}")
        raise
    for note in outcome.extra.get("notes") or ():
        app_.out.note(f"note: {note}")
    code = finish(app_, outcome, output)
    for ns, info in (outcome.extra.get("stale") or {}).items():
        app_.out.note(f"{len(info['pods'])} existing Pod(s) in {ns} keep their old security groups until rebuilt: {info['rebuild']}")
    for w in outcome.extra.get("orderWarnings") or ():
        pods = f" ({len(w['pods'])} Pod(s): {', '.join(w['pods'][:3])}{', ...' if len(w['pods']) > 3 else ''})" if w["pods"] else ""
        app_.out.note(f"warning: {w['message']}{pods}")
    return code


@app.command("apply")
def apply(ctx: typer.Context, policy_file: Files, recursive: Recursive = False,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate everything and print what would change; write "
                                                                 "nothing. --dry-run=server also has the API server "
                                                                 "validate each write (dryRun=All).")] = False,
          output: Output = OutputFormat.table, timeout: WriteTimeout = 60) -> ExitCode:
    """Create or update the SecurityGroupPolicies in a file, after validating the whole file: the
    schema, then against the cluster and the cloud (namespaces exist, the add-on is installed, every
    security group exists in the region, each affected Pod's union of groups fits the per-ENI limit).
    Any problem: exit 2 and nothing is written; a union over the limit with policies the cluster
    already holds: exit 1, nothing written. Reports created/configured/unchanged per policy as the
    cluster holds it afterwards (and when another writer changed it after this apply), and how many
    existing Pods are now stale (policies apply only to Pods created after them), and warns when the
    order of a Pod's groups lets a DROP in an earlier group shadow a later group's ACCEPT for a flow
    the Pods need (probes, DNS, their Services): groups are matched in bound order.

    Concurrent writers: sgpctl's writers of a namespace take turns on its Lease
    `sgpctl-policy-writer` (where the cluster offers Leases); a policy created or changed meanwhile
    is read again and updated; the per-ENI limit is checked again after the write (exit 1 naming
    the policies when another writer pushed a Pod over it).

    Example: sgpctl policy apply -f examples/policy.yaml --dry-run
    """
    from sgpctl.workflows.sources import load_policy_files

    app_ = get_app(ctx)
    result = load_policy_files(policy_file, app_.env.stdin, recursive=recursive)
    if not result.ok:
        return _problems(app_, result.problems)
    return _apply(app_, result.policies, dry_run, output, timeout)


@app.command("diff")
def diff(ctx: typer.Context, policy_file: Files, recursive: Recursive = False,
         output: Output = OutputFormat.table) -> ExitCode:
    """Show what `policy apply` would change, reading only: per policy created, configured or
    unchanged; each changed field (security groups, selectors, labels) before -> after; and the Pods
    whose groups would change (they get them once rebuilt: sgpctl policy rollout).

    Exit 0 when nothing would change, 1 when something would (as `kubectl diff`), 2 on bad input.

    Example: sgpctl policy diff -f examples/policy.yaml
    """
    from sgpctl.render.policies import render_diff
    from sgpctl.workflows.policies import diff_policies
    from sgpctl.workflows.sources import load_policy_files

    app_ = get_app(ctx)
    result = load_policy_files(policy_file, app_.env.stdin, recursive=recursive)
    if not result.ok:
        return _problems(app_, result.problems)
    diffs = diff_policies(app_.view(None), result.policies, namespace_default=app_.context_namespace())
    data = {"changed": any(d.result != "unchanged" for d in diffs), "policies": [d.to_dict() for d in diffs]}
    app_.out.emit(data, output, lambda term: render_diff(term, diffs), kind=NAME_KIND)
    return ExitCode.FAILED if data["changed"] else ExitCode.OK


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    namespace: Namespace = None,
    pod_selector: Annotated[Optional[str], typer.Option("--pod-selector", help="Pod label selector, kubectl syntax (\"\" selects every Pod).")] = None,
    sa_selector: Annotated[Optional[str], typer.Option("--sa-selector", help="ServiceAccount label selector, kubectl syntax.")] = None,
    sg: Annotated[Optional[list[str]], typer.Option("--sg", help="Security group id (repeatable, in priority order).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With -o yaml: print the policy; otherwise validate and show what would change.")] = False,
    output: Output = OutputFormat.table,
    timeout: WriteTimeout = 60,
) -> ExitCode:
    """Build a SecurityGroupPolicy from kubectl-style selectors and apply it (the same checks as
    `policy apply`). `--dry-run -o yaml` prints the YAML without contacting anything.

    Example: sgpctl policy create web -n shop --pod-selector app=web --sg sg-1a2b3c4d --dry-run -o yaml
    """
    from sgpctl.workflows.policies import policy_from_flags

    app_ = get_app(ctx)
    ns = namespace or app_.context_namespace()
    obj, policies = policy_from_flags(name, ns, pod_selector, sa_selector, sg)
    if dry_run and output == OutputFormat.yaml:
        app_.out.emit(obj, output)
        return ExitCode.OK
    return _apply(app_, policies, dry_run, output, timeout)


@app.command("list")
def list_(ctx: typer.Context, namespace: Namespace = None, all_namespaces: AllNamespaces = False,
          output: Output = OutputFormat.table) -> ExitCode:
    """List SecurityGroupPolicies.

    Example: sgpctl policy list -A
    """
    from sgpctl.render.policies import render_list
    from sgpctl.workflows.policies import list_policies

    app_ = get_app(ctx)
    rows = list_policies(app_.view(namespace_scope(app_, namespace, all_namespaces)))
    app_.out.emit({"policies": rows}, output, lambda term: render_list(term, rows), kind=NAME_KIND)
    return ExitCode.OK


@app.command("get")
def get(ctx: typer.Context, name: Name, namespace: Namespace = None, output: Output = OutputFormat.table) -> ExitCode:
    """Show one SecurityGroupPolicy (-o yaml prints the object as the cluster holds it).

    Example: sgpctl policy get my-security-group-policy -n my-namespace -o yaml
    """
    from sgpctl.render.policies import render_one
    from sgpctl.workflows.policies import get_policy, policy_row

    app_ = get_app(ctx)
    ns = namespace or app_.context_namespace()
    obj = get_policy(app_.view(ns), name, ns)
    app_.out.emit(obj, output, lambda term: render_one(term, policy_row(obj)))
    return ExitCode.OK


@app.command("delete")
def delete(ctx: typer.Context, name: Name, namespace: Namespace = None, yes: Yes = False,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would happen; delete nothing.")] = False,
           output: Output = OutputFormat.table, timeout: WriteTimeout = 60) -> ExitCode:
    """Delete a SecurityGroupPolicy. Running Pods keep their groups until rebuilt: they are listed.

    Example: sgpctl policy delete my-security-group-policy -n my-namespace --yes
    """
    from sgpctl.cli.outcome import mutate
    from sgpctl.render.policies import keeping_note
    from sgpctl.workflows.policies import delete_policy, plan_delete

    app_ = get_app(ctx)
    ns = namespace or app_.context_namespace()
    view = app_.view(ns)

    def plan(mode):
        planned = plan_delete(view, name, ns, mode)
        keeping_note(app_.out, planned.extra["podsKeepingGroups"])
        return planned

    def run(waiter, on_step):
        outcome = delete_policy(view, plan_delete(view, name, ns), name, ns, waiter=waiter, notify=_lease_notice(app_))
        for note in outcome.extra.get("notes") or ():
            app_.out.note(f"note: {note}")
        return outcome

    return mutate(app_, plan, run, dry_run=dry_run, yes=yes, output=output, timeout=timeout,
                  question=f"delete SecurityGroupPolicy {ns}/{name}?")


@app.command("rollout")
def rollout(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="Only the Pods this policy selects (default: every stale Pod in the namespace).", callback=check_policy_name)] = None,
    namespace: Namespace = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; rebuild nothing.")] = False,
    yes: Yes = False,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the rollout, then verify the new Pods.")] = False,
    timeout: Timeout = 600,
    delete_bare_pods: Annotated[bool, typer.Option("--delete-bare-pods", help="Also delete stale Pods that have no owner (they are not recreated).")] = False,
    every_pod: Annotated[bool, typer.Option("--all", help="Rebuild every Pod policies select or that is on a sub-ENI, stale or not "
                                                          "(after `sgpctl routing set`: only new Pods get the new routing).")] = False,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Rebuild the stale Pods (created before the policy, or with other groups) and the Pods whose
    ENI groups drifted in VPC (changed behind the controller's back), or with --all every Pod on a
    sub-ENI, through their owners:
    a restart annotation on the Pod template of Deployments, StatefulSets and DaemonSets, as
    `kubectl rollout restart` does. Shows the plan and asks first; refuses when the capacity plan says
    the rebuilt Pods would not fit.

    Example: sgpctl policy rollout -n my-namespace --yes --wait
    """
    from sgpctl.cli.outcome import mutate
    from sgpctl.workflows.policies import plan_rollout, require_room, rollout_outcome, run_rollout

    app_ = get_app(ctx)
    ns = namespace or app_.context_namespace()
    view = app_.view(ns)
    # The ENIs' groups in VPC show the Pods whose groups drifted; without credentials they go unchecked.
    vpc = app_.cloud().vpc if app_.settings.try_credentials() is not None else None
    if vpc is None:
        app_.out.note("note: no Tencent Cloud credentials: Pods whose ENI groups drifted are not looked for")
    plan = plan_rollout(view, ns, name, every_sub_eni_pod=every_pod, vpc=vpc)
    for p in plan.pending:
        app_.out.note(f"would stay Pending: {p['pod']}: {p['reason']}")
    require_room(plan)
    if not plan.stale:
        app_.out.note(f"no {'sub-ENI' if every_pod else 'stale or drifted'} Pods in {ns}" + (f" for policy {name}" if name else ""))
    for pod in plan.drifted:
        app_.out.note(f"pod/{pod}: its ENI's security groups drifted from its annotation: rebuilding gives it a new sub-ENI")
    kind = "" if every_pod else "stale "
    return mutate(
        app_,
        lambda mode: rollout_outcome(plan, delete_bare_pods=delete_bare_pods, dry_run=mode, kube=view.kube),
        lambda waiter, on_step: run_rollout(view, app_.cloud().vpc if wait else None, plan, delete_bare_pods=delete_bare_pods,
                                            wait=wait, waiter=waiter),
        dry_run=dry_run, yes=yes, output=output, timeout=timeout,
        question=f"rebuild {plan.stale} {kind}Pod(s) in {ns} through their owners?",
    )
