from __future__ import annotations

from typing import Annotated

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output
from sgpctl.render.output import OutputFormat, emit

app = typer.Typer(help="Trunking ENI (eniipamd vpcCni.trunkingEni.enableSubEni).", no_args_is_help=True)

ENABLE_HELP = """Enable Trunking ENI on the cluster: check the preconditions (VPC-CNI, shared ENI, static Pod IP,
eniipamd 3.5.6 or later; refuses naming each failed one), then set eniipamd's
vpcCni.trunkingEni.enableSubEni to true with a merge update that keeps every other value, and wait
until the add-on is Succeeded and the value reads back true. Idempotent.

Example: sgpctl enable-trunking --dry-run
"""


def enable_trunking(
    ctx: typer.Context,
    dry_run: DryRun = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for eniipamd to roll out.")] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait.", min=1)] = 600,
    output: Output = OutputFormat.table,
) -> None:
    from sgpctl.cli.outcome import finish, progress_waiter
    from sgpctl.workflows.trunking import enable_trunking as run

    app_ = get_app(ctx)
    cluster_id = app_.settings.require_cluster_id()
    with progress_waiter(timeout) as waiter:
        outcome = run(app_.cloud().tke, cluster_id, kube=_kube_or_none(app_), dry_run=dry_run, wait=wait, waiter=waiter)
    finish(outcome, output)


def _kube_or_none(app_):
    """The cluster is only a fallback source (eniipamd's image tag): work without it."""
    try:
        return app_.kube()
    except Exception:  # noqa: BLE001 - no kubeconfig is fine here
        return None


@app.command("status")
def status(ctx: typer.Context, output: Output = OutputFormat.table) -> None:
    """Whether Trunking ENI is on (eniipamd values and phase) and the cluster's preconditions.

    Example: sgpctl trunking status -o json
    """
    from sgpctl.workflows.trunking import trunking_status

    app_ = get_app(ctx)
    st = trunking_status(app_.cloud().tke, app_.settings.require_cluster_id(), _kube_or_none(app_))
    data = st.to_dict()

    def table() -> None:
        from sgpctl.render.tables import line, print_table

        eni = st.addon
        line(f"trunking: {'enabled' if st.enabled else 'DISABLED'} ({'vpcCni.trunkingEni.enableSubEni'}={st.value!r}); "
             f"eniipamd {eni.get('version') or '-'} {eni.get('phase') or 'not installed'}")
        print_table(["PRECONDITION", "MET", "DETAIL"], [(c.description, {True: "yes", False: "NO", None: "?"}[c.ok], c.message) for c in st.preconditions])

    emit(data, output, table)
    if not st.ok:
        raise typer.Exit(1)
