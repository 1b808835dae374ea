"""`sgpctl policy ...`: validate, explain (and, on a live cluster, apply/create/list/get/delete/rollout)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import AllNamespaces, Namespace, Output, check_policy_name, namespace_scope
from sgpctl.errors import ExitCode, InputError
from sgpctl.render.output import OutputFormat, emit

app = typer.Typer(help="Validate, explain and manage SecurityGroupPolicy objects.", no_args_is_help=True)

PolicyFile = Annotated[str, typer.Option("-f", "--filename", help="Policy file (multi-document YAML), or - for stdin.")]
Snapshot = Annotated[Optional[list[str]], typer.Option("--snapshot", help="Offline cluster snapshot (`kubectl get pods,serviceaccounts,nodes,securitygrouppolicies -A -o yaml`); repeatable.")]


@app.command("validate")
def validate(policy_file: PolicyFile, output: Output = OutputFormat.table) -> None:
    """Validate SecurityGroupPolicy documents offline; every problem in the file is listed.

    Exit 0 when valid, 2 when any document has a problem.

    Example: sgpctl policy validate -f examples/policy.yaml
    """
    from sgpctl.workflows.sources import load_policy_file

    result = load_policy_file(policy_file)
    data = {
        "valid": result.ok,
        "policies": [{"namespace": p.namespace, "name": p.name, "groupIds": list(p.group_ids)} for p in result.policies],
        "problems": [p.to_dict() for p in result.problems],
    }

    def table() -> None:
        from sgpctl.render.tables import line

        if result.ok:
            names = ", ".join(f"{p.namespace}/{p.name}" for p in result.policies)
            line(f"{len(result.policies)} SecurityGroupPolicy document(s) valid: {names}")

    emit(data, output, table)
    if not result.ok:
        from sgpctl.render.console import note

        for problem in result.problems:
            note(f"error: {problem}")
        note(f"{len(result.problems)} problem(s); nothing was applied")
        raise typer.Exit(int(ExitCode.USAGE))


def scope(namespace: str | None, all_namespaces: bool, default: str | None) -> set[str] | None:
    """-n/-A for explain, whose default namespace depends on the source (a snapshot has no context)."""
    if namespace and all_namespaces:
        raise InputError("-n/--namespace and -A/--all-namespaces are mutually exclusive", hint="pass one of them")
    if all_namespaces:
        return None
    if namespace:
        return {namespace}
    return {default} if default else None


def cluster_view(ctx: typer.Context, snapshot: list[str] | None, namespace: str | None):
    """The cluster picture: the snapshot files when given, else the live cluster."""
    from sgpctl.workflows import sources

    if snapshot:
        return sources.from_snapshot(snapshot)
    app_ = get_app(ctx)
    view = sources.from_cluster(app_.kube(), namespace)
    view.default_namespace = app_.context_namespace()
    return view


@app.command("explain")
def explain(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="Explain only this policy (in the namespace given by -n).", callback=check_policy_name)] = None,
    policy_file: Annotated[Optional[str], typer.Option("-f", "--filename", help="Explain the policies in this file as if applied.")] = None,
    snapshot: Snapshot = None,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    sg_limit: Annotated[int, typer.Option("--sg-limit", help="Security groups allowed per ENI.", min=1)] = 5,
    output: Output = OutputFormat.table,
) -> None:
    """Explain what policies do: the Pods each selects (with owners), each Pod's resulting groups,
    stale Pods (created before the policy, or with other groups), warnings, and where the Pods that
    need a sub-ENI would fit. Works on the live cluster, or offline with --snapshot.

    Without -n/-A: the namespaces of the -f file's policies, else the context's namespace
    (a snapshot: all namespaces).

    Examples:

      sgpctl policy explain -f examples/policy.yaml --snapshot examples/snapshot.yaml -A

      sgpctl policy explain my-security-group-policy -n my-namespace -o json
    """
    from sgpctl.render.explain import render_explain
    from sgpctl.workflows.explain import explain as run
    from sgpctl.workflows.sources import load_policy_file, require_valid

    subject = require_valid(load_policy_file(policy_file)) if policy_file else None
    if name and subject is not None:
        raise InputError("give a policy NAME or -f FILE, not both", hint="sgpctl policy explain NAME -n NS, or -f FILE")
    view = cluster_view(ctx, snapshot, None if all_namespaces else namespace)
    if subject is not None and not namespace and not all_namespaces:
        namespaces = {p.namespace for p in subject}
    else:
        namespaces = scope(namespace, all_namespaces, view.default_namespace)
    if name:
        ns = namespace or view.default_namespace
        matches = [p for p in view.policies if p.name == name and (ns is None or p.namespace == ns)]
        if not matches:
            raise InputError(f"SecurityGroupPolicy {name!r} not found in namespace {ns or '(any)'}",
                             hint="list them with `sgpctl policy list -A`")
        subject = matches
    result = run(view, subject=subject, namespaces=namespaces, sg_limit=sg_limit).to_dict()
    emit(result, output, lambda: render_explain(result))


def _context_namespace(ctx) -> str:
    return get_app(ctx).context_namespace()


def _report_input_problems(e: InputError) -> None:
    from sgpctl.render.console import note

    for problem in getattr(e, "problems", [])[1:]:
        note(f"error: {problem}")


def _apply(ctx, policies, dry_run: bool, output) -> None:
    from sgpctl.cli.outcome import finish
    from sgpctl.render.console import note
    from sgpctl.workflows.policies import apply_policies

    app_ = get_app(ctx)
    try:
        outcome = apply_policies(app_.kube(), app_.cloud().vpc, policies, dry_run=dry_run, namespace_default=_context_namespace(ctx))
    except InputError as e:
        _report_input_problems(e)
        raise
    finish(outcome, output)
    for ns, info in (outcome.extra.get("stale") or {}).items():
        note(f"{len(info['pods'])} existing Pod(s) in {ns} keep their old security groups until rebuilt: {info['rebuild']}")


@app.command("apply")
def apply(ctx: typer.Context, policy_file: PolicyFile, dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate everything and print what would change; write nothing.")] = False,
          output: Output = OutputFormat.table) -> None:
    """Create or update the SecurityGroupPolicies in a file, after validating the whole file: the
    schema, then against the cluster and the cloud (namespaces exist, the add-on is installed, every
    security group exists in the region, each affected Pod's union of groups fits the per-ENI limit).
    Any problem: exit 2 and nothing is written. Reports created/configured/unchanged per policy and
    how many existing Pods are now stale (policies apply only to Pods created after them).

    Example: sgpctl policy apply -f examples/policy.yaml --dry-run
    """
    from sgpctl.workflows.sources import load_policy_file

    result = load_policy_file(policy_file)
    if not result.ok:
        from sgpctl.render.console import note

        for problem in result.problems:
            note(f"error: {problem}")
        note(f"{len(result.problems)} problem(s); nothing was applied")
        raise typer.Exit(int(ExitCode.USAGE))
    _apply(ctx, result.policies, dry_run, output)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Policy name.", callback=check_policy_name)],
    namespace: Namespace = None,
    pod_selector: Annotated[Optional[str], typer.Option("--pod-selector", help="Pod label selector, kubectl syntax (\"\" selects every Pod).")] = None,
    sa_selector: Annotated[Optional[str], typer.Option("--sa-selector", help="ServiceAccount label selector, kubectl syntax.")] = None,
    sg: Annotated[Optional[list[str]], typer.Option("--sg", help="Security group id (repeatable, in priority order).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With -o yaml: print the policy; otherwise validate and show what would change.")] = False,
    output: Output = OutputFormat.table,
) -> None:
    """Build a SecurityGroupPolicy from kubectl-style selectors and apply it (the same checks as
    `policy apply`). `--dry-run -o yaml` prints the YAML without contacting anything.

    Example: sgpctl policy create web -n shop --pod-selector app=web --sg sg-1a2b3c4d --dry-run -o yaml
    """
    from sgpctl.core.policy import build_policy, validate_documents
    from sgpctl.core.selectors import SelectorError

    if not pod_selector and pod_selector != "" and sa_selector is None:
        raise InputError("give --pod-selector and/or --sa-selector", hint='e.g. --pod-selector app=web (or "" for every Pod)')
    if not sg:
        raise InputError("give at least one --sg", hint="e.g. --sg sg-1a2b3c4d")
    ns = namespace or _context_namespace(ctx)
    try:
        obj = build_policy(name, ns, pod_selector, sa_selector, sg)
    except SelectorError as e:
        raise InputError(f"{e.field or 'selector'}: {e.message}", hint="use kubectl's selector syntax, e.g. app=web,tier in (a,b)") from None
    result = validate_documents([obj])
    if not result.ok:
        raise InputError("; ".join(str(p) for p in result.problems), hint="fix the flags and retry")
    if dry_run and output == OutputFormat.yaml:
        from sgpctl.render.output import to_yaml

        sys.stdout.write(to_yaml(obj))
        return
    _apply(ctx, result.policies, dry_run, output)


def _policy_row(o: dict) -> dict:
    spec = o.get("spec") or {}
    meta = o.get("metadata") or {}
    return {"namespace": meta.get("namespace"), "name": meta.get("name"),
            "groupIds": list((spec.get("securityGroups") or {}).get("groupIds") or []),
            "podSelector": spec.get("podSelector"), "serviceAccountSelector": spec.get("serviceAccountSelector"),
            "creationTimestamp": meta.get("creationTimestamp")}


def _selector_text(obj) -> str:
    from sgpctl.core.selectors import from_label_selector

    if obj is None:
        return "-"
    try:
        text = str(from_label_selector(obj))
    except Exception:  # noqa: BLE001 - show what the server holds, even if odd
        return str(obj)
    return text or "(all)"


@app.command("list")
def list_(ctx: typer.Context, namespace: Namespace = None, all_namespaces: AllNamespaces = False, output: Output = OutputFormat.table) -> None:
    """List SecurityGroupPolicies.

    Example: sgpctl policy list -A
    """
    from sgpctl.workflows.policies import sgp_resource

    ns = namespace_scope(get_app(ctx), namespace, all_namespaces)
    kube = get_app(ctx).kube()
    items = sorted(kube.list(sgp_resource(kube), ns), key=lambda o: (o["metadata"].get("namespace"), o["metadata"]["name"]))
    rows = [_policy_row(o) for o in items]

    def table() -> None:
        from sgpctl.render.tables import print_table

        print_table(["NAMESPACE", "NAME", "GROUPS", "POD SELECTOR", "SA SELECTOR", "CREATED"],
                    [(x["namespace"], x["name"], ",".join(x["groupIds"]), _selector_text(x["podSelector"]),
                      _selector_text(x["serviceAccountSelector"]), x["creationTimestamp"] or "") for x in rows])

    emit({"policies": rows}, output, table)


@app.command("get")
def get(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Policy name.", callback=check_policy_name)], namespace: Namespace = None, output: Output = OutputFormat.table) -> None:
    """Show one SecurityGroupPolicy (-o yaml prints the object as the cluster holds it).

    Example: sgpctl policy get my-security-group-policy -n my-namespace -o yaml
    """
    from sgpctl.workflows.policies import sgp_resource

    ns = namespace or _context_namespace(ctx)
    kube = get_app(ctx).kube()
    obj = kube.get(sgp_resource(kube), name, ns)
    if obj is None:
        from sgpctl.errors import RefusedError

        raise RefusedError(f"SecurityGroupPolicy {ns}/{name} not found", hint=f"sgpctl policy list -n {ns}")
    row = _policy_row(obj)

    def table() -> None:
        from sgpctl.render.tables import line

        line(f"{row['namespace']}/{row['name']}: groups {','.join(row['groupIds'])}; pods {_selector_text(row['podSelector'])}; "
             f"service accounts {_selector_text(row['serviceAccountSelector'])}; created {row['creationTimestamp']}")

    emit(obj, output, table)


@app.command("delete")
def delete(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Policy name.", callback=check_policy_name)], namespace: Namespace = None,
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (required when not on a TTY).")] = False,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would happen; delete nothing.")] = False,
           output: Output = OutputFormat.table) -> None:
    """Delete a SecurityGroupPolicy. Running Pods keep their groups until rebuilt: they are listed.

    Example: sgpctl policy delete my-security-group-policy -n my-namespace --yes
    """
    from sgpctl.cli.outcome import confirm, finish
    from sgpctl.errors import RefusedError
    from sgpctl.render.console import note
    from sgpctl.workflows.policies import pods_keeping_groups, sgp_resource
    from sgpctl.workflows.steps import CHANGED, PLANNED, Outcome, Step

    ns = namespace or _context_namespace(ctx)
    kube = get_app(ctx).kube()
    sgp = sgp_resource(kube)
    if kube.get(sgp, name, ns) is None:
        raise RefusedError(f"SecurityGroupPolicy {ns}/{name} not found", hint=f"sgpctl policy list -n {ns}")
    keeping = pods_keeping_groups(kube, sgp, name, ns)
    out = Outcome("policy delete", dry_run=dry_run, extra={"podsKeepingGroups": keeping})
    if keeping:
        note(f"{len(keeping)} running Pod(s) keep the policy's groups until rebuilt: {', '.join(keeping[:10])}"
             + (" ..." if len(keeping) > 10 else ""))
    if dry_run:
        out.add(Step(f"policy-{ns}/{name}", f"delete {ns}/{name}", PLANNED, f"securitygrouppolicy/{name} would be deleted"))
    else:
        confirm(f"delete SecurityGroupPolicy {ns}/{name}?", yes)
        kube.delete(sgp, name, ns)
        out.add(Step(f"policy-{ns}/{name}", f"delete {ns}/{name}", CHANGED, f"securitygrouppolicy/{name} deleted"))
    finish(out, output)


@app.command("rollout")
def rollout(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="Only the Pods this policy selects (default: every stale Pod in the namespace).", callback=check_policy_name)] = None,
    namespace: Namespace = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; rebuild nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (required when not on a TTY).")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the rollout, then verify the new Pods.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait with --wait.", min=1)] = 600,
    delete_bare_pods: Annotated[bool, typer.Option("--delete-bare-pods", help="Also delete stale Pods that have no owner (they are not recreated).")] = False,
    every_pod: Annotated[bool, typer.Option("--all", help="Rebuild every Pod policies select or that is on a sub-ENI, stale or not "
                                                          "(after `sgpctl routing set`: only new Pods get the new routing).")] = False,
    output: Output = OutputFormat.table,
) -> None:
    """Rebuild the stale Pods (created before the policy, or with other groups), or with --all every
    Pod on a sub-ENI, through their owners:
    a restart annotation on the Pod template of Deployments, StatefulSets and DaemonSets, as
    `kubectl rollout restart` does. Shows the plan and asks first; refuses when the capacity plan says
    the rebuilt Pods would not fit.

    Example: sgpctl policy rollout -n my-namespace --yes --wait
    """
    from sgpctl.cli.outcome import confirm, finish, progress_waiter
    from sgpctl.errors import RefusedError
    from sgpctl.render.console import note
    from sgpctl.workflows.policies import execute_rollout, plan_rollout, wait_rollout
    from sgpctl.workflows.steps import PLANNED, Outcome, Step

    ns = namespace or _context_namespace(ctx)
    app_ = get_app(ctx)
    kube = app_.kube()
    plan = plan_rollout(kube, ns, name, every_sub_eni_pod=every_pod)
    planned = Outcome("policy rollout", dry_run=True, extra={"plan": plan.to_dict()})
    for o in plan.owners:
        planned.add(Step(f"restart-{o['kind'].lower()}-{o['name']}", f"restart {o['kind'].lower()}/{o['name']}", PLANNED,
                         f"would restart {o['kind'].lower()}/{o['name']} ({len(o['pods'])} stale Pod(s): {', '.join(o['pods'])})"))
    for b in plan.bare_pods:
        planned.add(Step(f"delete-pod-{b}", f"bare Pod {b}", PLANNED if delete_bare_pods else "unchanged",
                         f"would delete pod/{b}" if delete_bare_pods else f"pod/{b} has no owner: left alone (pass --delete-bare-pods)"))
    if plan.pending:
        for p in plan.pending:
            note(f"would stay Pending: {p['pod']}: {p['reason']}")
        raise RefusedError(f"{len(plan.pending)} rebuilt Pod(s) would not fit on any node's sub-ENI quota",
                           hint="add nodes of a supported family (sgpctl capacity) or scale down, then retry")
    if dry_run or not plan.owners and not (plan.bare_pods and delete_bare_pods):
        if not plan.stale:
            note(f"no {'sub-ENI' if every_pod else 'stale'} Pods in {ns}" + (f" for policy {name}" if name else ""))
        finish(planned, output)
        return
    for s in planned.steps:
        note(f"  ~ {s.message}")
    confirm(f"rebuild {plan.stale} {'' if every_pod else 'stale '}Pod(s) in {ns}?", yes)
    outcome = execute_rollout(kube, plan, delete_bare_pods=delete_bare_pods)
    outcome.extra["plan"] = plan.to_dict()
    if wait:
        from sgpctl.workflows.verify import verify_pods

        with progress_waiter(timeout) as waiter:
            wait_rollout(kube, plan, waiter, delete_bare_pods=delete_bare_pods)
        report = verify_pods(kube, app_.cloud().vpc, namespace=ns, policy=name)
        outcome.extra["verify"] = report.to_dict()
        outcome.add(Step("verify", "the rebuilt Pods verify", "changed" if report.ok() else "failed",
                         f"{report.summary()['ok']} of {report.summary()['pods']} Pods verified"))
    finish(outcome, output)
