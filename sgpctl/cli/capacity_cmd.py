from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.fleet import NO_FLEET, FleetOptions, fleet_options
from sgpctl.cli.options import Output
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

HELP = """Sub-ENI quota and usage; --plan predicts.

Sub-ENI capacity per node and instance type: family supported, quota and its source
(node allocatable, DescribeVpcCniPodLimits, DescribeNetworkInterfaceLimit, or the TKE table), used,
free, and cluster totals.

With --plan FILE, a what-if for a policy file: the Pods its policies would put on sub-ENIs once
applied and the Pods rebuilt, where each would land, and which would stay Pending and why.

Works on the live cluster (the cloud fills in quotas nodes do not report yet), or offline with
--snapshot (a file of `sgpctl capture` brings the cloud's answers along, so the quotas are the live ones).

Examples:

  sgpctl capacity -o json

  sgpctl capacity --plan examples/policy.yaml

  sgpctl capacity --snapshot examples/snapshot.yaml --plan examples/policy.yaml

  sgpctl capacity --all-clusters --regions all
"""


@fleet_options
def capacity(
    ctx: typer.Context,
    plan: Annotated[Optional[str], typer.Option("--plan", metavar="POLICY_FILE", help="Policy file (or -) to plan for, as if applied now.")] = None,
    snapshot: Annotated[Optional[list[str]], typer.Option("--snapshot", metavar="FILE", help="Offline cluster snapshot file; repeatable.")] = None,
    output: Output = OutputFormat.table,
    fleet: FleetOptions = NO_FLEET,
) -> ExitCode:
    from sgpctl.cli.context import get_app
    from sgpctl.render.capacity import render_capacity
    from sgpctl.workflows.capacity import capacity_report
    from sgpctl.workflows.sources import from_snapshot, load_policy_files, require_valid

    app_ = get_app(ctx)
    # Bad input is refused before the cluster is read.
    policies = require_valid(load_policy_files([plan], app_.env.stdin)) if plan else None
    if fleet.active:
        from sgpctl.cli.fleet import refuse_with_fleet, run_fleet_command
        from sgpctl.workflows.fleet import ClusterResult

        refuse_with_fleet(fleet, "--snapshot", bool(snapshot))

        def per_cluster(a):
            planned = [p.with_namespace(a.context_namespace()) for p in policies] if policies else None
            data = capacity_report(a.view(None), cloud=a.cloud_or_none(), plan=planned, plan_source=plan or "")
            t = data["totals"]
            line = (f"{t['nodes']} node(s), {t['supportedNodes']} with sub-ENI quota: quota {t['quota']}, "
                    f"used {t['used']}, free {t['free']}")
            if "plan" in data:
                line += f"; plan: {data['plan']['fits']} fit, {len(data['plan']['wouldStayPending'])} would stay Pending"
            return ClusterResult(data, ExitCode.OK, line, list(data["notes"]))

        return run_fleet_command(app_, fleet, per_cluster, output)
    if snapshot:
        view = from_snapshot(snapshot, app_.env.stdin)
        cloud = app_.recorded_cloud(view.recorded_calls) if view.recorded_calls else None
    else:
        view, cloud = app_.view(None), app_.cloud_or_none()
        if policies:
            ns = app_.context_namespace()
            policies = [p.with_namespace(ns) for p in policies]
    data = capacity_report(view, cloud=cloud, plan=policies, plan_source=plan or "")
    app_.out.emit(data, output, lambda term: render_capacity(term, data))
    return ExitCode.OK
