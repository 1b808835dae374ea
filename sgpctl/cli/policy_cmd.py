"""`sgpctl policy ...`: validate, explain (and, on a live cluster, apply/create/list/get/delete/rollout)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import AllNamespaces, Namespace, Output
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
    from sgpctl.kube.kubeconfig import current_context_info

    view = sources.from_cluster(app_.kube(), namespace)
    info = current_context_info(app_.settings.kubeconfig.value, app_.settings.context.value)
    view.default_namespace = info.namespace or "default"
    return view


@app.command("explain")
def explain(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="Explain only this policy (in the namespace given by -n).")] = None,
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


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
