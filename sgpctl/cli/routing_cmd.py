"""`sgpctl routing ...`: strict/standard routing of Trunking ENI Pods (check, set, status)."""

from __future__ import annotations

from typing import Annotated

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import AllNamespaces, DryRun, FailOn, Namespace, Output, Yes, fail_on_warning, namespace_scope
from sgpctl.render.output import OutputFormat, emit

app = typer.Typer(help="Strict or standard routing for Pods with their own security groups.", no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context, namespace: Namespace = None, all_namespaces: AllNamespaces = False,
          fail_on: FailOn = "error",
          output: Output = OutputFormat.table) -> None:
    """Would strict routing break anything? The six limits, each with evidence and a fix.

    Checks the six limits of the TKE document for the Pods strict routing applies to (selected by a policy, now or once rebuilt, or already on a sub-ENI):
    Node LocalDNS, NetworkPolicies selecting them, kube-proxy in IPVS mode, NodePort/LoadBalancer
    Services with externalTrafficPolicy: Local reaching them, early demux, and SNAT of their egress.
    Each check names the objects and how to fix them. Exit 1 when strict routing would break something.

    The whole cluster by default (the mode is cluster-wide); -n narrows the Pods, Services and
    NetworkPolicies to one namespace.

    Example: sgpctl routing check -o json
    """
    from sgpctl.render.doctor import emit_checks
    from sgpctl.workflows.routing import extra_json, gather, routing_categories
    from sgpctl.core.checks import run_checks

    app_ = get_app(ctx)
    namespace_scope(app_, namespace, all_namespaces)  # the -n/-A combination; the default scope is the cluster
    facts = gather(app_.kube(), app_.cloud(), app_.settings.require_cluster_id(), namespace)
    code = emit_checks(run_checks(routing_categories(), facts), output, extra=extra_json(facts),
                       fail_on_warning=fail_on_warning(fail_on))
    _notes(facts.notes + facts.snat.notes)
    if code:
        raise typer.Exit(code)


def _notes(notes) -> None:
    from sgpctl.render.console import note

    for n in notes:
        note(f"note: {n}")


@app.command("set")
def set_(
    ctx: typer.Context,
    mode: Annotated[str, typer.Argument(help="strict or standard.", metavar="strict|standard")],
    dry_run: DryRun = False,
    yes: Yes = False,
    force: Annotated[bool, typer.Option("--force", help="Switch to strict even while `routing check` fails.")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for eniipamd to roll out and read the values back.")] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait.", min=1)] = 600,
    output: Output = OutputFormat.table,
) -> None:
    """Switch to strict or standard routing (one merge update of eniipamd's values).

    Sets eniipamd's vpcCni.trunkingEni.podSecurityGroupEnforcingMode
    (and, for strict, agent.config.disableTcpEarlyDemux and disableUdpEarlyDemux to true) with one
    merge update that keeps every other value. Refuses strict while `routing check` fails, unless
    --force. Asks first (the change affects every new Pod in the cluster; --yes in scripts), waits for
    eniipamd, and lists the running Pods that keep the old scheme until rebuilt. Idempotent.

    Example: sgpctl routing set strict --dry-run
    """
    from sgpctl.cli.outcome import confirm, finish, progress_waiter
    from sgpctl.errors import InputError
    from sgpctl.render.console import note
    from sgpctl.workflows.routing import MODES, apply_routing, plan_routing, routing_outcome

    if mode not in MODES:
        raise InputError(f"unknown routing mode {mode!r}", hint="use strict or standard")
    app_ = get_app(ctx)
    cloud, cluster_id = app_.cloud(), app_.settings.require_cluster_id()
    plan = plan_routing(app_.kube(), cloud, cluster_id, mode)
    preview = routing_outcome(plan, dry_run=True, force=force)
    if dry_run or not preview.ok or plan.nothing_to_change:
        finish(preview, output)
        _rebuild_notes(preview, note)
        return
    note("plan:")
    for s in preview.steps:
        if s.status == "planned":
            note(f"  ~ {s.message}")
    confirm(f"switch cluster {cluster_id} to {mode} routing? Every Pod created from now on gets it", yes)
    with progress_waiter(timeout) as waiter:
        outcome = apply_routing(cloud.tke, plan, force=force, wait=wait, waiter=waiter)
    finish(outcome, output)
    _rebuild_notes(outcome, note)


def _rebuild_notes(outcome, note) -> None:
    rebuild = outcome.extra.get("rebuild") or []
    if not rebuild:
        return
    verb = "would keep" if outcome.dry_run else "keep"
    for e in rebuild:
        names = ", ".join(e["pods"][:10]) + (" ..." if len(e["pods"]) > 10 else "")
        note(f"{len(e['pods'])} running Pod(s) in {e['namespace']} {verb} the old routing until rebuilt: {names}")
        for c in e["commands"]:
            note(f"  rebuild: {c}")


@app.command("status")
def status(ctx: typer.Context, output: Output = OutputFormat.table) -> None:
    """The routing mode, the three eniipamd values behind it, and eniipamd's phase.


    Example: sgpctl routing status -o json
    """
    from sgpctl.workflows.routing import routing_status

    app_ = get_app(ctx)
    data = routing_status(app_.cloud().tke, app_.settings.require_cluster_id())

    def table() -> None:
        from sgpctl.render.tables import line, print_table

        e = data["eniipamd"]
        if not e["installed"]:
            line("routing: unknown (the eniipamd add-on is not installed)")
            return
        line(f"routing: {data['mode']}; eniipamd {e['version'] or '-'} {e['phase'] or '-'}" + (f" ({e['reason']})" if e["reason"] else ""))
        print_table(["VALUE", "SETTING"], [(k, _plain(v)) for k, v in data["values"].items()])

    emit(data, output, table)
    if not data["ok"]:
        raise typer.Exit(1)


def _plain(value) -> str:
    if value is None:
        return "not set"
    return str(value).lower() if isinstance(value, bool) else str(value)
