from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import Confirm, DryRun, Output, Yes, check_plain_name
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

HELP = """CAM, Trunking ENI and the add-on, in order.

Runs the cloud half of the TKE procedure in order: CAM authorization (cam setup), Trunking ENI
(enable-trunking), the SecurityGroupPolicy add-on (addon install). Prints the plan first, asks before
changing anything (--yes in scripts), skips what is already done and reports the outcome per step.
Every fact the plan stands on is established before the first change: a precondition the API does
not report stops it (check it, then --confirm ID), and so does an add-on name it cannot discover
(--addon-name, or `sgpctl config set sgp-addon-name NAME`). eniipamd's values are saved to a backup
file before they change (path printed).

Example: sgpctl setup --dry-run; sgpctl setup --yes
"""


def setup(
    ctx: typer.Context,
    dry_run: DryRun = False,
    yes: Yes = False,
    addon_name: Annotated[Optional[str], typer.Option("--addon-name", help="The SecurityGroupPolicy add-on's API name (default: the sgp-addon-name setting, else discovered).", callback=check_plain_name)] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each add-on.", min=1)] = 600,
    confirm: Confirm = None,
    output: Output = OutputFormat.table,
) -> ExitCode:
    from functools import partial

    from sgpctl.cli.outcome import confirm_plan, finish
    from sgpctl.core.steps import PLANNED
    from sgpctl.workflows.setup import run_setup
    from sgpctl.workflows.trunking import confirmable

    confirmed = confirmable(confirm)
    app_ = get_app(ctx)
    cloud, kube, cluster_id = app_.cloud(), app_.kube(), app_.settings.require_cluster_id()
    run = partial(run_setup, cloud, kube, cluster_id, addon_name=addon_name, setting=app_.settings.sgp_addon_name(),
                  confirmed=confirmed, backups=app_.backups())
    plan = run(dry_run=True)
    planned = [s for s in plan.steps if s.status == PLANNED]
    if dry_run or not plan.ok or not planned:
        return finish(app_, plan, output)
    confirm_plan(app_, planned, f"apply {len(planned)} change(s) to cluster {cluster_id}?", yes)
    with app_.waiter(timeout) as waiter:
        outcome = run(waiter=waiter)
    return finish(app_, outcome, output)
