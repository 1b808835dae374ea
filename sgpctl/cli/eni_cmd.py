"""`sgpctl eni ...`: the sub-ENIs of the cluster's nodes (leaks)."""

from __future__ import annotations

from typing import Annotated

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.fleet import NO_FLEET, FleetOptions, fleet_options
from sgpctl.cli.options import DryRun, Output, Yes
from sgpctl.errors import ExitCode, InputError
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Sub-ENIs of the cluster's nodes: leaks.\n\nPer-Pod sub-ENIs that no live Pod owns, and their safe removal.",
                  no_args_is_help=True)


def older_than_seconds(value: str) -> float:
    from sgpctl.core.durations import format_duration, parse_duration
    from sgpctl.core.leaks import MIN_OLDER_THAN

    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise InputError(f"--older-than: {e}", hint="e.g. --older-than 10m") from None
    if seconds < MIN_OLDER_THAN:
        raise InputError(f"--older-than {value} is shorter than {format_duration(MIN_OLDER_THAN)}: a sub-ENI being "
                         "created (its VpcENI not yet written) could pass for a leak",
                         hint=f"use --older-than {format_duration(MIN_OLDER_THAN)} or more")
    return seconds


@app.command("leaks")
@fleet_options
def leaks(
    ctx: typer.Context,
    older_than: Annotated[str, typer.Option("--older-than", metavar="DURATION",
                                            help="Delete only what has had no owner this long (shown by its age or by two reads this far apart).")] = "10m",
    delete: Annotated[bool, typer.Option("--delete", help="Delete the leaks, conservatively (plan, confirmation, second read).")] = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="With --delete: wait until a second read can decide the younger leaks (at most --older-than).")] = True,
    output: Output = OutputFormat.table,
    fleet: FleetOptions = NO_FLEET,
) -> ExitCode:
    """Sub-ENIs of the cluster's nodes that no live Pod owns, and the reverse inconsistencies.

    Lists every ENI of the cluster's nodes (DescribeNetworkInterfaces by instance, batched and
    paged; only the CVM instances TKE lists for the cluster) and finds the per-Pod sub-ENIs no
    VpcENI names, or whose VpcENI's Pod is gone; and VpcENIs whose ENI does not exist, and Running
    sub-ENI Pods without a VpcENI. Each leak with its node, security groups, age and evidence.
    Exit 0 clean, 1 leaks or inconsistencies found, 3 when the listing cannot be trusted.

    --delete removes them conservatively: a plan, confirmation on a terminal (--yes in scripts),
    then only sub-ENIs without an owner on two reads, and for --older-than (default 10m) - shown
    by their age (CreatedTime, read in the youngest time zone the data allows, and this machine's
    clock) or by two reads that far apart: it waits for the second read unless --no-wait.
    Idempotent. Which public API action deletes a sub-ENI is not documented (sgpctl uses
    DeleteNetworkInterface): at the first refusal it stops and says what to do instead.

    Examples:

      sgpctl eni leaks -o json

      sgpctl eni leaks --delete --dry-run

      sgpctl eni leaks --delete --yes --older-than 30m

      sgpctl eni leaks --all-clusters --regions all

    Over a fleet it reports; --delete is one cluster at a time.
    """
    from sgpctl.cli.outcome import finish
    from sgpctl.render.leaks import render_leaks, render_plan, summary
    from sgpctl.workflows.leaks import find_leaks, plan_removal, remove_leaks, removal_exit_code, report_exit_code

    older = older_than_seconds(older_than)
    if not delete and (dry_run or yes):
        raise InputError(f"{'--dry-run' if dry_run else '--yes'} goes with --delete", hint="sgpctl eni leaks --delete --dry-run")
    app_ = get_app(ctx)
    if fleet.active:
        from sgpctl.cli.fleet import refuse_with_fleet, run_fleet_command
        from sgpctl.workflows.fleet import ClusterResult

        refuse_with_fleet(fleet, "--delete", delete)

        def per_cluster(a):
            report = find_leaks(a.view(None), a.cloud(), a.settings.require_cluster_id(), clock=a.env.wall_clock)
            data = report.to_dict()
            details = [f"{x['eniId']} on {x['node']}: {x['reason']}, {x['age'] or '-'} old" for x in data["leaks"]]
            details += [i["message"] for i in data["inconsistencies"]] + [f"cannot tell: {b}" for b in report.blockers]
            return ClusterResult(data, report_exit_code(report), summary(data), details + report.notes)

        return run_fleet_command(app_, fleet, per_cluster, output)
    cloud, cluster_id, clock = app_.cloud(), app_.settings.require_cluster_id(), app_.env.wall_clock
    first = find_leaks(app_.view(None), cloud, cluster_id, clock=clock)
    for note in first.notes:
        app_.out.note(f"note: {note}")
    if not delete:
        data = first.to_dict()
        app_.out.emit(data, output, lambda term: render_leaks(term, data))
        if output != OutputFormat.table:
            app_.out.note(summary(data))
        return report_exit_code(first)
    plan = plan_removal(first, older, dry_run=dry_run or True)
    if dry_run or not plan.ok or not first.leaks:
        # A real run that refused or had nothing to delete reports as the real run it was (dryRun false).
        report = plan if dry_run else plan.refused_run()
        code = finish(app_, report, output)
        return ExitCode.UNDETERMINED if plan.extra.get("undetermined") else code
    render_plan(app_.out, plan.to_dict())
    app_.out.confirm(f"delete up to {len(first.leaks)} leaked sub-ENI(s) of cluster {cluster_id}, each only if a second "
                     "read finds it still without an owner", yes)
    with app_.out.status("waiting for the second read") as update:
        outcome = remove_leaks(first, lambda: find_leaks(app_.view(None), cloud, cluster_id, clock=clock), cloud,
                               older_than=older, wait=wait, pause=lambda s: _pause(app_.env, s, update))
    finish(app_, outcome, output)
    return removal_exit_code(outcome)


def _pause(env, seconds: float, update) -> None:
    """Sleep ``seconds`` in short steps, saying when the second read comes."""
    from sgpctl.core.durations import format_age

    end = env.clock() + seconds
    while (left := end - env.clock()) > 0:
        update(f"second read in {format_age(left)} (Ctrl-C stops; nothing deleted yet)")
        env.sleep(min(left, 5.0))
