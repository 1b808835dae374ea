"""`sgpctl routing ...`: strict/standard routing of Trunking ENI Pods (check, set, status)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.fleet import NO_FLEET, FleetOptions, fleet_options
from sgpctl.cli.options import (AllNamespaces, DryRun, FailOn, Namespace, Output, Timeout, Wait, Watch, Yes, check_plain_name,
                                fail_on_warning, namespace_scope)
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Strict routing: check the limits, switch.\n\nStrict or standard routing for Pods with their own security groups.", no_args_is_help=True)


@app.command("check")
@fleet_options
def check(ctx: typer.Context, namespace: Namespace = None, all_namespaces: AllNamespaces = False,
          fail_on: FailOn = "error",
          output: Output = OutputFormat.table, fleet: FleetOptions = NO_FLEET) -> ExitCode:
    """Would strict routing break anything? The six limits, each with evidence and a fix.

    Checks the six limits of the TKE document for the Pods strict routing applies to (selected by a policy, now or once rebuilt, or already on a sub-ENI):
    Node LocalDNS, NetworkPolicies selecting them, kube-proxy in IPVS mode, NodePort/LoadBalancer
    Services with externalTrafficPolicy: Local reaching them, early demux, and SNAT of their egress.
    Each check names the objects and how to fix them. Exit 1 when strict routing would break something.

    The whole cluster by default (the mode is cluster-wide); -n narrows the Pods, Services and
    NetworkPolicies to one namespace.

    Examples:

      sgpctl routing check -o json

      sgpctl routing check --all-clusters
    """
    from sgpctl.core.checks import run_checks
    from sgpctl.workflows.routing import extra_json, gather, routing_categories

    strict = fail_on_warning(fail_on)
    app_ = get_app(ctx)
    if fleet.active:
        from sgpctl.cli.fleet import fleet_scope, run_fleet_command
        from sgpctl.core.checks import to_json
        from sgpctl.workflows.fleet import check_result

        scope = fleet_scope(namespace, all_namespaces, all_by_default=True)

        def per_cluster(a):
            facts = gather(a.view(scope(a)), a.cloud(), a.settings.require_cluster_id())
            results = list(run_checks(routing_categories(), facts))
            return check_result(results, {**to_json(results, strict), **extra_json(facts)}, fail_on_warning=strict,
                                notes=facts.notes + facts.snat.notes)

        return run_fleet_command(app_, fleet, per_cluster, output)
    # The mode is cluster-wide: the default scope is every namespace, not the context's.
    scope = namespace_scope(app_, namespace, all_namespaces, all_by_default=True)
    facts = gather(app_.view(scope), app_.cloud(), app_.settings.require_cluster_id())
    code = app_.out.checks(run_checks(routing_categories(), facts), output, extra=extra_json(facts), fail_on_warning=strict)
    for n in facts.notes + facts.snat.notes:
        app_.out.note(f"note: {n}")
    return code


@app.command("set")
def set_(
    ctx: typer.Context,
    mode: Annotated[str, typer.Argument(help="strict or standard.", metavar="strict|standard")],
    dry_run: DryRun = False,
    yes: Yes = False,
    force: Annotated[bool, typer.Option("--force", help="Switch to strict even while `routing check` fails (names each failed "
                                                        "limit and asks for the cluster id to be typed).")] = False,
    value: Annotated[Optional[str], typer.Option(
        "--value", metavar="VALUE", callback=check_plain_name,
        help="standard only: the podSecurityGroupEnforcingMode value that means standard routing (default: "
             "eniipamd's DefaultValues; needed when they hold none).")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for eniipamd to roll out and read the values back.")] = True,
    timeout: Timeout = 600,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Switch to strict or standard routing (one merge update of eniipamd's values).

    Sets eniipamd's vpcCni.trunkingEni.podSecurityGroupEnforcingMode
    (and, for strict, agent.config.disableTcpEarlyDemux and disableUdpEarlyDemux to true) with one
    merge update that sends vpcCni (and agent) whole, so every other value stays whatever the API's
    merge does; the values are saved to a backup file first (path printed) and every one is read back
    (any other difference: exit 1 and the `sgpctl addon restore` command). standard writes the value
    eniipamd's DefaultValues hold (the document names only strict); when they hold none it stops
    until --value names it. Refuses strict while `routing check` fails, unless --force. Asks first
    (the change affects every new Pod in the cluster; --yes in scripts), waits for eniipamd, and lists
    the running Pods that keep the old scheme until rebuilt. Idempotent.

    Example: sgpctl routing set strict --dry-run
    """
    from sgpctl.cli.outcome import mutate
    from sgpctl.errors import InputError
    from sgpctl.render.routing import rebuild_notes
    from sgpctl.core.addon_values import routing_mode
    from sgpctl.workflows.routing import apply_routing, plan_routing, preview_routing

    routing_mode(mode)
    app_ = get_app(ctx)
    cloud, cluster_id = app_.cloud(), app_.settings.require_cluster_id()
    if value is not None and mode != "standard":
        raise InputError("--value applies to `routing set standard` only", hint="drop --value")
    plan = plan_routing(app_.view(None), cloud, cluster_id, mode, standard_value=value)
    return mutate(
        app_,
        lambda dry: preview_routing(cloud.tke, plan, dry_run=dry, force=force),
        lambda waiter, on_step: apply_routing(cloud.tke, plan, force=force, wait=wait, waiter=waiter, backups=app_.backups()),
        dry_run=dry_run, yes=yes, output=output, timeout=timeout, cluster_id=cluster_id,
        question=f"switch cluster {cluster_id} to {mode} routing? Every Pod created from now on gets it",
        after=lambda outcome: rebuild_notes(app_.out, outcome),
    )


@app.command("status")
def status(ctx: typer.Context, watch: Watch = False, output: Output = OutputFormat.table) -> ExitCode:
    """The routing mode, the three eniipamd values behind it, and eniipamd's phase (exit 1 when
    eniipamd is missing or failed). -w follows them until Ctrl-C (after `routing set --no-wait`).

    Example: sgpctl routing status -o json
    """
    from sgpctl.render.routing import render_status, states
    from sgpctl.workflows.routing import routing_status

    app_ = get_app(ctx)
    if watch:
        from sgpctl.cli.watching import watch as follow

        return follow(app_, lambda: states(routing_status(app_.cloud().tke, app_.settings.require_cluster_id())))
    data = routing_status(app_.cloud().tke, app_.settings.require_cluster_id())
    app_.out.emit(data, output, lambda term: render_status(term, data))
    return ExitCode.OK if data["ok"] else ExitCode.FAILED
