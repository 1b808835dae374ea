from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, Timeout, Wait, check_plain_name
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Install the SecurityGroupPolicy add-on; status.\n\nThe SecurityGroupPolicy add-on, and eniipamd's state.", no_args_is_help=True)

Name = Annotated[Optional[str], typer.Option("--name", help="The add-on's API name (default: discovered; the name is undocumented, "
                                                             "usually securitygrouppolicy).", callback=check_plain_name)]


@app.command("install")
def install(
    ctx: typer.Context,
    name: Name = None,
    version: Annotated[Optional[str], typer.Option("--version", help="Add-on version (default: the latest).")] = None,
    wait: Wait = True,
    timeout: Timeout = 600,
    force: Annotated[bool, typer.Option("--force", help="Install even while Trunking ENI is off.")] = False,
    dry_run: DryRun = False,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Install the SecurityGroupPolicy add-on; already installed: nothing to do. Refuses while
    Trunking ENI is off unless --force. Waits (unless --no-wait) for Succeeded and for the cluster to
    serve the CRD. Reports InstallFailed with its reason (exit 1).

    Example: sgpctl addon install --wait --timeout 300
    """
    from sgpctl.cli.outcome import finish
    from sgpctl.workflows.addons import addon_install

    app_ = get_app(ctx)
    with app_.waiter(timeout) as waiter:
        outcome = addon_install(app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id(), name=name, version=version,
                                wait=wait, waiter=waiter, dry_run=dry_run, force=force)
    return finish(app_, outcome, output)


@app.command("status")
def status(ctx: typer.Context, name: Name = None, output: Output = OutputFormat.table) -> ExitCode:
    """Version, phase and reason of eniipamd and the SecurityGroupPolicy add-on, and whether the
    cluster serves the SecurityGroupPolicy CRD (exit 1 unless both are Succeeded and served).

    Example: sgpctl addon status -o json
    """
    from sgpctl.render.addons import render_status
    from sgpctl.workflows.addons import addons_status

    app_ = get_app(ctx)
    data = addons_status(app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id(), name=name)
    app_.out.emit(data, output, lambda term: render_status(term, data))
    return ExitCode.OK if data["ok"] else ExitCode.FAILED
