from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, check_plain_name
from sgpctl.render.output import OutputFormat, emit

app = typer.Typer(help="The SecurityGroupPolicy add-on (and eniipamd's state).", no_args_is_help=True)

Name = Annotated[Optional[str], typer.Option("--name", help="The add-on's API name (default: discovered; the name is undocumented, "
                                                             "usually securitygrouppolicy).", callback=check_plain_name)]


@app.command("install")
def install(
    ctx: typer.Context,
    name: Name = None,
    version: Annotated[Optional[str], typer.Option("--version", help="Add-on version (default: the latest).")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for Succeeded and for the CRD to be served.")] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait.", min=1)] = 600,
    force: Annotated[bool, typer.Option("--force", help="Install even while Trunking ENI is off.")] = False,
    dry_run: DryRun = False,
    output: Output = OutputFormat.table,
) -> None:
    """Install the SecurityGroupPolicy add-on; already installed: nothing to do. Refuses while
    Trunking ENI is off unless --force. Reports InstallFailed with its reason (exit 1).

    Example: sgpctl addon install --wait --timeout 300
    """
    from sgpctl.cli.outcome import finish, progress_waiter
    from sgpctl.workflows.addons import addon_install

    app_ = get_app(ctx)
    with progress_waiter(timeout) as waiter:
        outcome = addon_install(app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id(), name=name, version=version,
                                wait=wait, waiter=waiter, dry_run=dry_run, force=force)
    finish(outcome, output)


@app.command("status")
def status(ctx: typer.Context, name: Name = None, output: Output = OutputFormat.table) -> None:
    """Version, phase and reason of eniipamd and the SecurityGroupPolicy add-on, and whether the
    cluster serves the SecurityGroupPolicy CRD (exit 1 unless both are Succeeded and served).

    Example: sgpctl addon status -o json
    """
    from sgpctl.workflows.addons import addons_status

    app_ = get_app(ctx)
    data = addons_status(app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id(), name=name)

    def table() -> None:
        from sgpctl.render.tables import line, print_table

        print_table(["ADD-ON", "INSTALLED", "VERSION", "PHASE", "REASON"],
                    [(a["name"], "yes" if a["installed"] else "NO", a["version"] or "-", a["phase"] or "-", a["reason"] or "") for a in data["addons"]])
        line(f"SecurityGroupPolicy CRD served: {'yes' if data['securityGroupPolicyServed'] else 'NO'}")

    emit(data, output, table)
    if not data["ok"]:
        raise typer.Exit(1)
