from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import Confirm, DryRun, Output, Timeout, Yes, check_plain_name
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

HELP = """CAM, Trunking ENI and the add-on, in order.

Runs the cloud half of the TKE procedure in order: CAM authorization (cam setup), Trunking ENI
(enable-trunking), the SecurityGroupPolicy add-on (addon install). Prints the plan first, asks before
changing anything (--yes in scripts), skips what is already done and reports each step as it
finishes; with nothing to change it still checks that the cluster serves SecurityGroupPolicy.
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
    timeout: Timeout = 600,
    confirm: Confirm = None,
    output: Output = OutputFormat.table,
) -> ExitCode:
    from functools import partial

    from sgpctl.cli.outcome import mutate
    from sgpctl.workflows.setup import run_setup
    from sgpctl.workflows.trunking import confirmable

    confirmed = confirmable(confirm)
    app_ = get_app(ctx)
    cloud, kube, cluster_id = app_.cloud(), app_.kube(), app_.settings.require_cluster_id()
    run = partial(run_setup, cloud, kube, cluster_id, addon_name=addon_name, setting=app_.settings.sgp_addon_name(),
                  confirmed=confirmed, backups=app_.backups())
    region = app_.settings.region.value
    return mutate(
        app_,
        lambda mode: run(dry_run=mode),
        lambda waiter, on_step: run(waiter=waiter, on_step=on_step),
        dry_run=dry_run, yes=yes, output=output, timeout=timeout,
        question=f"apply these changes to cluster {cluster_id} in {region} (the CAM ones are account-wide)?",
    )
