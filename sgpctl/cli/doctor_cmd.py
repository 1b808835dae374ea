"""`sgpctl doctor`: one preflight over the whole setup, linkerd-style (see ``workflows.doctor``)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.fleet import NO_FLEET, FleetOptions, fleet_options
from sgpctl.cli.options import FailOn, Output, fail_on_warning
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

HELP = """Check the whole setup, with a hint per problem.

Linkerd-style: settings, cloud access, network mode, CAM, trunking, add-on,
nodes, policies, Pods, routing, the traffic the policy Pods need (`sgpctl traffic check -A`), leaked
sub-ENIs, the one manual item (the VPC client-token allowlist), and which reading of the Tencent Cloud
API facts no public source settles this account follows (api-assumptions: each with the response field
and value that decided it).

Categories run in order and print as they complete; every failure comes with a hint. A failure
skips only the checks it makes meaningless. Exit 0 when nothing failed (warnings allowed unless
--fail-on warning), 1 when a check failed, 3 when something could not be determined.

Categories: settings, cloud-access, network-mode, cam, trunking, addon, nodes, policies, pods,
routing, traffic, leaks, manual, api-assumptions. Every cloud read is made at most once, and every
cluster collection listed at most once, per run.

Examples:

  sgpctl doctor

  sgpctl doctor --category cam --category trunking -o json

  sgpctl doctor -c api-assumptions      # which reading of the API this account follows

  sgpctl doctor --fail-on warning --ack manual-client-token-allowlist    # strict CI

  sgpctl doctor --all-clusters --regions ap-guangzhou,ap-shanghai -o json

A check that no API can answer (the client-token allowlist) can be acknowledged once confirmed by
hand: --ack ID, or SGPCTL_ACK=ID[,ID] in the environment; it then passes as acknowledged.
"""


@fleet_options
def doctor(
    ctx: typer.Context,
    category: Annotated[Optional[list[str]], typer.Option("--category", "-c", metavar="NAME", help="Only this category (repeatable).")] = None,
    fail_on: FailOn = "error",
    ack: Annotated[Optional[list[str]], typer.Option("--ack", metavar="CHECK_ID", help="Acknowledge a check no API can answer, "
                                                                                        "confirmed by hand (repeatable; also SGPCTL_ACK).")] = None,
    output: Output = OutputFormat.table,
    fleet: FleetOptions = NO_FLEET,
) -> ExitCode:
    from sgpctl.cli.context import get_app
    from sgpctl.workflows.doctor import DoctorContext, categories, check_acks, run_doctor, select

    strict = fail_on_warning(fail_on)
    select(categories(), category)  # an unknown category is bad input before any call
    app_ = get_app(ctx)
    acknowledged = check_acks([*(ack or []), *app_.settings.acknowledged()])

    def context_of(a, info=None):
        return DoctorContext(a.settings, cloud_factory=a.cloud, kube_factory=a.kube, wall_clock=a.env.wall_clock,
                             context_info=info)

    if fleet.active:
        from sgpctl.cli.fleet import run_fleet_command
        from sgpctl.core.checks import group_results, to_json
        from sgpctl.workflows.fleet import check_result

        def per_cluster(a):
            results = list(run_doctor(context_of(a, a.context_info()), category, acknowledged))
            return check_result(results, to_json(group_results(results), strict), fail_on_warning=strict)

        return run_fleet_command(app_, fleet, per_cluster, output)
    return app_.out.checks(run_doctor(context_of(app_), category, acknowledged), output, fail_on_warning=strict)
