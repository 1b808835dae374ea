from __future__ import annotations

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import Output
from sgpctl.render.output import OutputFormat, emit

app = typer.Typer(help="Show how sgpctl resolves its settings.", no_args_is_help=True)


@app.command("view")
def view(ctx: typer.Context, output: Output = OutputFormat.table) -> None:
    """Show each resolved setting and where it came from (flag, environment, tccli profile,
    kubeconfig, default). Secrets are masked.

    Example: sgpctl --profile prod config view -o json
    """
    from sgpctl.kube.kubeconfig import current_context_info

    settings = get_app(ctx).settings
    rows = settings.describe()
    info = current_context_info(settings.kubeconfig.value, settings.context.value)
    for row in rows:
        if row["name"] == "context" and row["value"] is None and info.context:
            row.update(value=info.context, source=f"kubeconfig current-context ({info.path})")
        if row["name"] == "clusterId" and row["value"] is None and info.cluster_id:
            row.update(value=info.cluster_id, source=f"kubeconfig context {info.context}")
    rows.append({"name": "kubeServer", "value": info.server, "source": f"kubeconfig cluster {info.cluster}" if info.cluster else "not set"})
    if info.error:
        rows.append({"name": "kubeconfigError", "value": info.error, "source": info.path})
    data = {"settings": {r["name"]: {"value": r["value"], "source": r["source"]} for r in rows}}

    def table() -> None:
        from rich.table import Table

        from sgpctl.render.console import out

        t = Table("SETTING", "VALUE", "SOURCE", box=None, pad_edge=False)
        for r in rows:
            t.add_row(r["name"], "" if r["value"] is None else str(r["value"]), r["source"])
        out().print(t)

    emit(data, output, table)
