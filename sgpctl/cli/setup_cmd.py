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
changing anything (--yes in scripts), skips what is already done and reports each step as it
finishes. With nothing to change it still checks that the cluster serves SecurityGroupPolicy.

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
    from sgpctl.cli.outcome import mutate
    from sgpctl.workflows.setup import run_setup

    app_ = get_app(ctx)
    cloud, kube, cluster_id = app_.cloud(), app_.kube(), app_.settings.require_cluster_id()
    region = app_.settings.region.value
    return mutate(
        app_,
        lambda mode: run_setup(cloud, kube, cluster_id, dry_run=mode, addon_name=addon_name),
        lambda waiter, on_step: run_setup(cloud, kube, cluster_id, waiter=waiter, addon_name=addon_name, on_step=on_step),
        dry_run=dry_run, yes=yes, output=output, timeout=timeout,
        question=f"apply these changes to cluster {cluster_id} in {region} (the CAM ones are account-wide)?",
    )
