from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.options import Output
from sgpctl.render.output import OutputFormat, emit

HELP = """Sub-ENI capacity per node and instance type: family supported, quota and its source
(node allocatable, cloud API, or the TKE table), used, free, and cluster totals.

Works on the live cluster, or offline with --snapshot.

Example: sgpctl capacity --snapshot examples/snapshot.yaml -o json
"""


def capacity(
    ctx: typer.Context,
    snapshot: Annotated[Optional[list[str]], typer.Option("--snapshot", help="Offline cluster snapshot file; repeatable.")] = None,
    output: Output = OutputFormat.table,
) -> None:
    from sgpctl.cli.policy_cmd import cluster_view
    from sgpctl.render.explain import render_capacity
    from sgpctl.workflows.capacity import capacity as run

    view = cluster_view(ctx, snapshot, None)
    data = run(view)
    emit(data, output, lambda: render_capacity(data))
