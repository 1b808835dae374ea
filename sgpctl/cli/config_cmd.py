from __future__ import annotations

import typer

from sgpctl.cli.context import get_app
from typing import Annotated

from sgpctl.cli.options import DryRun, Output, check_plain_name
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Resolved settings and their sources.\n\nShow how sgpctl resolves its settings; set its own.", no_args_is_help=True)

SettingName = Annotated[str, typer.Argument(metavar="NAME", help="The setting: sgp-addon-name (the SecurityGroupPolicy "
                                                                  "add-on's API name, which no public source names).")]


@app.command("view")
def view(ctx: typer.Context, output: Output = OutputFormat.table) -> ExitCode:
    """Show each resolved setting and where it came from (flag, environment, tccli profile,
    kubeconfig, sgpctl's settings file, default). Secrets are masked.

    Example: sgpctl --profile prod config view -o json
    """
    from sgpctl.render.settings import render_settings
    from sgpctl.workflows.config import config_view

    app_ = get_app(ctx)
    rows = config_view(app_.settings)
    data = {"settings": {r["name"]: {"value": r["value"], "source": r["source"]} for r in rows}}
    app_.out.emit(data, output, lambda term: render_settings(term, rows))
    return ExitCode.OK


@app.command("set")
def set_(ctx: typer.Context, name: SettingName,
         value: Annotated[str, typer.Argument(metavar="VALUE", help="Its value.", callback=check_plain_name)],
         dry_run: DryRun = False, output: Output = OutputFormat.table) -> ExitCode:
    """Save one of sgpctl's own settings in $XDG_CONFIG_HOME/sgpctl/config.json (default
    ~/.config/sgpctl/config.json). A flag (e.g. --addon-name) and the environment
    (SGPCTL_SGP_ADDON_NAME) still win over it; `config view` shows which applies.

    Example: sgpctl config set sgp-addon-name securitygrouppolicy
    """
    from sgpctl.cli.outcome import finish
    from sgpctl.workflows.config import set_user_setting

    app_ = get_app(ctx)
    return finish(app_, set_user_setting(app_.settings, name, value, dry_run=dry_run), output)


@app.command("unset")
def unset(ctx: typer.Context, name: SettingName, dry_run: DryRun = False, output: Output = OutputFormat.table) -> ExitCode:
    """Remove one of sgpctl's own settings from its settings file.

    Example: sgpctl config unset sgp-addon-name
    """
    from sgpctl.cli.outcome import finish
    from sgpctl.workflows.config import set_user_setting

    app_ = get_app(ctx)
    return finish(app_, set_user_setting(app_.settings, name, None, dry_run=dry_run), output)
