from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, Timeout, Wait, Watch, Yes, check_plain_name
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Install the SecurityGroupPolicy add-on; status; restore values.\n\nThe SecurityGroupPolicy add-on, eniipamd's state, and putting an add-on's values back from a backup.", no_args_is_help=True)

Name = Annotated[Optional[str], typer.Option("--name", help="The SecurityGroupPolicy add-on's API name (default: the sgp-addon-name "
                                                             "setting, else discovered; no public source names it).",
                                             callback=check_plain_name)]


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
    serve the CRD. Reports InstallFailed with its reason (exit 1). The add-on's API name is --name,
    else the sgp-addon-name setting, else discovered (installed add-ons, then the chart list); when
    nothing matches it stops (exit 3) and names the charts it saw.

    Example: sgpctl addon install --wait --timeout 5m
    """
    from sgpctl.cli.outcome import mutate
    from sgpctl.workflows.addons import addon_install

    app_ = get_app(ctx)
    tke, kube, cluster_id = app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id()
    setting = app_.settings.sgp_addon_name()
    return mutate(
        app_,
        lambda mode: addon_install(tke, kube, cluster_id, name=name, setting=setting, version=version, wait=False,
                                   dry_run=mode, force=force),
        lambda waiter, on_step: addon_install(tke, kube, cluster_id, name=name, setting=setting, version=version,
                                              wait=wait, waiter=waiter, force=force),
        dry_run=dry_run, yes=yes, output=output, timeout=timeout, cluster_id=cluster_id,
        question=f"install the SecurityGroupPolicy add-on in cluster {cluster_id}?",
    )


@app.command("status")
def status(ctx: typer.Context, name: Name = None, watch: Watch = False, output: Output = OutputFormat.table) -> ExitCode:
    """Version, phase and reason of eniipamd and the SecurityGroupPolicy add-on, and whether the
    cluster serves the SecurityGroupPolicy CRD (exit 1 unless both are Succeeded and served; 3 when
    the add-on's name cannot be established: pass --name). -w follows the phases until Ctrl-C.

    Example: sgpctl addon status -w
    """
    from sgpctl.render.addons import render_status, states
    from sgpctl.workflows.addons import addons_status

    app_ = get_app(ctx)
    if watch:
        from sgpctl.cli.watching import watch as follow

        return follow(app_, lambda: states(addons_status(app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id(),
                                                         name=name, setting=app_.settings.sgp_addon_name())))
    data = addons_status(app_.cloud().tke, app_.kube(), app_.settings.require_cluster_id(), name=name,
                         setting=app_.settings.sgp_addon_name())
    app_.out.emit(data, output, lambda term: render_status(term, data))
    return ExitCode.OK if data["ok"] else ExitCode.FAILED


@app.command("restore")
def restore(
    ctx: typer.Context,
    addon: Annotated[str, typer.Argument(help="The add-on whose values to put back (e.g. eniipamd).", metavar="NAME",
                                         callback=check_plain_name)],
    from_: Annotated[str, typer.Option("--from", metavar="FILE", help="A backup sgpctl wrote before changing the values "
                                                                       "(its path was printed then).")],
    dry_run: DryRun = False,
    yes: Yes = False,
    wait: Wait = True,
    timeout: Timeout = 600,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Put an add-on's values back to those of a backup.

    Every change sgpctl makes to an add-on's values is preceded by a backup under
    $XDG_STATE_HOME/sgpctl/backups (default ~/.local/state/sgpctl/backups). This sends, in one merge
    update, each top-level key whose values differ from the backup's, whole, as the backup holds it;
    it first saves the current values to a new backup, asks before changing anything (--yes in
    scripts), waits for the add-on and reads every value back (exit 1 and the differences when one
    reads otherwise). Idempotent: values already as in the backup change nothing. A top-level key the
    backup lacks is left as it is (no merge update removes a key).

    Example: sgpctl addon restore eniipamd --from ~/.local/state/sgpctl/backups/cls-xxxxxxxx/eniipamd-20250101T120000Z.json --dry-run
    """
    from sgpctl.backups import load_backup
    from sgpctl.cli.outcome import mutate
    from sgpctl.workflows.values_write import restore_values

    app_ = get_app(ctx)
    backup = load_backup(from_, stdin=app_.env.stdin)
    cluster_id = app_.settings.require_cluster_id()
    tke = app_.cloud().tke

    def plan(mode):
        with app_.waiter(timeout) as waiter:
            return restore_values(tke, cluster_id, addon, backup, from_, backups=None, waiter=waiter, dry_run=mode)

    return mutate(app_, plan,
                  lambda waiter, on_step: restore_values(tke, cluster_id, addon, backup, from_, backups=app_.backups(),
                                                         waiter=waiter, wait=wait),
                  dry_run=dry_run, yes=yes, output=output, timeout=timeout,
                  question=f"restore add-on {addon}'s values on cluster {cluster_id}?")
