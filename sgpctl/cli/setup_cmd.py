from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, Timeout, Yes, check_plain_name
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

HELP = """CAM, Trunking ENI and the add-on, in order.

Runs the cloud half of the TKE procedure in order: CAM authorization (cam setup), Trunking ENI
(enable-trunking), the SecurityGroupPolicy add-on (addon install). Prints the plan first, asks before
changing anything (--yes in scripts), skips what is already done and reports the outcome per step.

Example: sgpctl setup --dry-run; sgpctl setup --yes
"""


def setup(
    ctx: typer.Context,
    dry_run: DryRun = False,
    yes: Yes = False,
    addon_name: Annotated[Optional[str], typer.Option("--addon-name", help="The SecurityGroupPolicy add-on's API name (default: discovered).", callback=check_plain_name)] = None,
    timeout: Timeout = 600,
    output: Output = OutputFormat.table,
) -> ExitCode:
    from sgpctl.cli.outcome import finish
    from sgpctl.core.steps import PLANNED
    from sgpctl.workflows.setup import run_setup

    app_ = get_app(ctx)
    cloud, kube, cluster_id = app_.cloud(), app_.kube(), app_.settings.require_cluster_id()
    plan = run_setup(cloud, kube, cluster_id, dry_run=True, addon_name=addon_name)
    planned = [s for s in plan.steps if s.status == PLANNED]
    if dry_run or not plan.ok or not planned:
        return finish(app_, plan, output)
    app_.out.note("plan:")
    for s in planned:
        app_.out.note(f"  ~ {s.message}")
    app_.out.confirm(f"apply {len(planned)} change(s) to cluster {cluster_id}?", yes)
    with app_.waiter(timeout) as waiter:
        outcome = run_setup(cloud, kube, cluster_id, waiter=waiter, addon_name=addon_name)
    return finish(app_, outcome, output)
