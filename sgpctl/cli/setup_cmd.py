from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, Yes, check_plain_name
from sgpctl.render.output import OutputFormat

HELP = """Run the cloud half of the TKE procedure in order: CAM authorization (cam setup), Trunking ENI
(enable-trunking), the SecurityGroupPolicy add-on (addon install). Prints the plan first, asks before
changing anything (--yes in scripts), skips what is already done and reports the outcome per step.

Example: sgpctl setup --dry-run; sgpctl setup --yes
"""


def setup(
    ctx: typer.Context,
    dry_run: DryRun = False,
    yes: Yes = False,
    addon_name: Annotated[Optional[str], typer.Option("--addon-name", help="The SecurityGroupPolicy add-on's API name (default: discovered).", callback=check_plain_name)] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each add-on.", min=1)] = 600,
    output: Output = OutputFormat.table,
) -> None:
    from sgpctl.cli.outcome import confirm, finish, progress_waiter
    from sgpctl.render.console import note
    from sgpctl.workflows.setup import run_setup
    from sgpctl.workflows.steps import PLANNED

    app_ = get_app(ctx)
    cloud, kube, cluster_id = app_.cloud(), app_.kube(), app_.settings.require_cluster_id()
    plan = run_setup(cloud, kube, cluster_id, dry_run=True, addon_name=addon_name)
    planned = [s for s in plan.steps if s.status == PLANNED]
    if dry_run or not plan.ok or not planned:
        finish(plan, output)
        return
    note("plan:")
    for s in planned:
        note(f"  ~ {s.message}")
    confirm(f"apply {len(planned)} change(s) to cluster {cluster_id}?", yes)
    with progress_waiter(timeout) as waiter:
        outcome = run_setup(cloud, kube, cluster_id, waiter=waiter, addon_name=addon_name)
    finish(outcome, output)
