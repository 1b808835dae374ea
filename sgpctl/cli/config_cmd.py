from __future__ import annotations

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import Output
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Resolved settings and their sources.\n\nShow how sgpctl resolves its settings.", no_args_is_help=True)


@app.command("view")
def view(ctx: typer.Context, output: Output = OutputFormat.table) -> ExitCode:
    """Show each resolved setting and where it came from (flag, environment, tccli profile,
    kubeconfig, default). Secrets are masked.

    Example: sgpctl --profile prod config view -o json
    """
    from sgpctl.render.settings import render_settings
    from sgpctl.workflows.config import config_view

    app_ = get_app(ctx)
    rows = config_view(app_.settings)
    data = {"settings": {r["name"]: {"value": r["value"], "source": r["source"]} for r in rows}}
    app_.out.emit(data, output, lambda term: render_settings(term, rows))
    return ExitCode.OK
