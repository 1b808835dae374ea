from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.options import Output
from sgpctl.render.output import OutputFormat, emit

HELP = """Sub-ENI capacity per node and instance type: family supported, quota and its source
(node allocatable, DescribeVpcCniPodLimits, DescribeNetworkInterfaceLimit, or the TKE table), used,
free, and cluster totals.

With --plan FILE, a what-if for a policy file: the Pods its policies would put on sub-ENIs once
applied and the Pods rebuilt, where each would land, and which would stay Pending and why.

Works on the live cluster (the cloud fills in quotas nodes do not report yet), or offline with
--snapshot.

Examples:

  sgpctl capacity -o json

  sgpctl capacity --plan examples/policy.yaml

  sgpctl capacity --snapshot examples/snapshot.yaml --plan examples/policy.yaml
"""


def capacity(
    ctx: typer.Context,
    plan: Annotated[Optional[str], typer.Option("--plan", metavar="POLICY_FILE", help="Policy file (or -) to plan for, as if applied now.")] = None,
    snapshot: Annotated[Optional[list[str]], typer.Option("--snapshot", metavar="FILE", help="Offline cluster snapshot file; repeatable.")] = None,
    output: Output = OutputFormat.table,
) -> None:
    from sgpctl.render.console import note
    from sgpctl.render.explain import render_capacity
    from sgpctl.workflows import capacity as flow
    from sgpctl.workflows.sources import load_policy_file, require_valid

    # Bad input is refused before the cluster is read.
    policies = require_valid(load_policy_file(plan)) if plan else None
    limits: dict = {}
    if snapshot:
        from sgpctl.workflows.sources import from_snapshot

        view = from_snapshot(snapshot)
    else:
        from sgpctl.cli.context import get_app

        app_ = get_app(ctx)
        view, limits = flow.live_view(app_.kube(), _cloud_or_none(app_, note))
        if policies:
            ns = app_.context_namespace()
            policies = [p.with_namespace(ns) for p in policies]
    data = flow.capacity(view, cloud_limits=limits)
    if policies is not None:
        data["plan"] = flow.plan_policies(view, policies, source=plan, cloud_limits=limits)

    def table() -> None:
        render_capacity(data)
        if "plan" in data:
            _render_plan(data["plan"])

    emit(data, output, table)


def _cloud_or_none(app_, note):
    """Cloud quotas are a refinement: without credentials the table still answers."""
    from sgpctl.errors import SgpctlError

    try:
        app_.settings.credentials()
        return app_.cloud()
    except SgpctlError as e:
        note(f"note: quotas not read from the cloud ({e.message}): nodes without allocatable use the TKE table")
        return None


def _render_plan(p: dict) -> None:
    from sgpctl.render.tables import line, print_table

    line()
    line(f"plan for {p['file']} ({', '.join(p['policies']) or 'no policy'}): {p['needSubEni']} Pod(s) would need a sub-ENI, "
         f"{p['fits']} fit, {len(p['wouldStayPending'])} would stay Pending")
    if p["placements"]:
        print_table(["POD", "NODE", "FITS", "REASON"],
                    [(x["pod"], x["node"] or "-", "yes" if x["fits"] else "NO", x["reason"] or "") for x in p["placements"]])
    for w in p.get("warnings") or []:
        line(f"warning: {w['message']}")
