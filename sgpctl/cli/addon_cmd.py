from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, Timeout, Wait, Watch, Yes, check_plain_name
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
    force: Annotated[bool, typer.Option("--force", help="Install even while Trunking ENI is off (asks for the cluster id to be typed).")] = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Install the SecurityGroupPolicy add-on; already installed: nothing to do (it still checks that
    the CRD is served). Refuses while Trunking ENI is off unless --force. The plan is shown and
    confirmed first (--yes in scripts). Waits (unless --no-wait) for Succeeded and for the cluster to
    serve the CRD. Reports InstallFailed with its reason (exit 1).

    Example: sgpctl addon install --wait --timeout 5m
    """
    from sgpctl.cli.outcome import mutate
    from sgpctl.workflows.addons import addon_install

    app_ = get_app(ctx)
    tke, kube, cluster_id = app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id()
    return mutate(
        app_,
        lambda mode: addon_install(tke, kube, cluster_id, name=name, version=version, wait=False, dry_run=mode, force=force),
        lambda waiter, on_step: addon_install(tke, kube, cluster_id, name=name, version=version, wait=wait, waiter=waiter,
                                              force=force),
        dry_run=dry_run, yes=yes, output=output, timeout=timeout, cluster_id=cluster_id,
        question=f"install the SecurityGroupPolicy add-on in cluster {cluster_id}?",
    )


@app.command("status")
def status(ctx: typer.Context, name: Name = None, watch: Watch = False, output: Output = OutputFormat.table) -> ExitCode:
    """Version, phase and reason of eniipamd and the SecurityGroupPolicy add-on, and whether the
    cluster serves the SecurityGroupPolicy CRD (exit 1 unless both are Succeeded and served). -w
    follows the phases until Ctrl-C.

    Example: sgpctl addon status -w
    """
    from sgpctl.render.addons import render_status, states
    from sgpctl.workflows.addons import addons_status

    app_ = get_app(ctx)
    if watch:
        from sgpctl.cli.watching import watch as follow

        return follow(app_, lambda: states(addons_status(app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id(),
                                                         name=name)))
    data = addons_status(app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id(), name=name)
    app_.out.emit(data, output, lambda term: render_status(term, data))
    return ExitCode.OK if data["ok"] else ExitCode.FAILED
