"""`sgpctl doctor`: one preflight over the whole setup, linkerd-style (see ``workflows.doctor``)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.options import FailOn, Output, fail_on_warning
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

HELP = """Check the whole setup, with a hint per problem.

Linkerd-style: settings, cloud access, network mode, CAM, trunking, add-on,
nodes, policies, Pods, routing, and the one manual item (the VPC client-token allowlist).

Categories run in order and print as they complete; every failure comes with a hint. A failure
skips only the checks it makes meaningless. Exit 0 when nothing failed (warnings allowed unless
--fail-on warning), 1 when a check failed, 3 when something could not be determined.

Categories: settings, cloud-access, network-mode, cam, trunking, addon, nodes, policies, pods,
routing, manual. Every cloud read is made at most once, and every cluster collection listed at most
once, per run.

Examples:

  sgpctl doctor

  sgpctl doctor --category cam --category trunking -o json

  sgpctl doctor --fail-on warning --ack manual-client-token-allowlist    # strict CI

A check that no API can answer (the client-token allowlist) can be acknowledged once confirmed by
hand: --ack ID, or SGPCTL_ACK=ID[,ID] in the environment; it then passes as acknowledged.
"""


def doctor(
    ctx: typer.Context,
    category: Annotated[Optional[list[str]], typer.Option("--category", "-c", metavar="NAME", help="Only this category (repeatable).")] = None,
    fail_on: FailOn = "error",
    ack: Annotated[Optional[list[str]], typer.Option("--ack", metavar="CHECK_ID", help="Acknowledge a check no API can answer, "
                                                                                        "confirmed by hand (repeatable; also SGPCTL_ACK).")] = None,
    output: Output = OutputFormat.table,
) -> ExitCode:
    from sgpctl.cli.context import get_app
    from sgpctl.workflows.doctor import DoctorContext, categories, check_acks, run_doctor, select

    strict = fail_on_warning(fail_on)
    select(categories(), category)  # an unknown category is bad input before any call
    app_ = get_app(ctx)
    acknowledged = check_acks([*(ack or []), *app_.settings.acknowledged()])
    context = DoctorContext(app_.settings, cloud_factory=app_.cloud, kube_factory=app_.kube)
    return app_.out.checks(run_doctor(context, category, acknowledged), output, fail_on_warning=strict)
