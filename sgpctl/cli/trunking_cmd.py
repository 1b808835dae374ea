from __future__ import annotations

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import Confirm, DryRun, Output, Timeout, Wait, Watch, Yes
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Whether Trunking ENI is on, and why not.\n\nTrunking ENI is eniipamd's vpcCni.trunkingEni.enableSubEni; `sgpctl enable-trunking` switches it on.", no_args_is_help=True)

ENABLE_HELP = """Check the preconditions, switch Trunking ENI on.

Enables Trunking ENI on the cluster: checks the preconditions (VPC-CNI, shared ENI, static Pod IP,
eniipamd 3.5.6 or later, read from the tke-eni-ipamd image tag; refuses naming each failed one, and
stops when one cannot be established until you check it and pass --confirm ID). Then saves eniipamd's
values to a backup file (path printed), sets vpcCni.trunkingEni.enableSubEni to true with one merge
update that sends vpcCni whole (so every other value stays, however the API merges), waits until the
add-on is Succeeded, reads every value back (any other difference: exit 1 and the `sgpctl addon
restore` command) and checks DescribeIPAMD agrees. Idempotent.
The switch is cluster-wide (eniipamd rolls out): the plan is shown and confirmed first (--yes in
scripts).

Example: sgpctl enable-trunking --dry-run; sgpctl enable-trunking --confirm network-shared-eni
"""


def _view_or_none(app_):
    """The cluster is only a fallback source (eniipamd's image tag): work without it."""
    kube = app_.kube_or_none()
    return app_.view(None, kube=kube) if kube is not None else None


def enable_trunking(
    ctx: typer.Context,
    dry_run: DryRun = False,
    yes: Yes = False,
    wait: Wait = True,
    timeout: Timeout = 600,
    confirm: Confirm = None,
    output: Output = OutputFormat.table,
) -> ExitCode:
    from sgpctl.cli.outcome import mutate
    from sgpctl.workflows.trunking import confirmable, enable_trunking as run

    confirmed = confirmable(confirm)
    app_ = get_app(ctx)
    cluster_id = app_.settings.require_cluster_id()
    tke, view = app_.cloud().tke, _view_or_none(app_)
    return mutate(
        app_,
        lambda mode: run(tke, cluster_id, view=view, dry_run=mode, wait=False, confirmed=confirmed),
        lambda waiter, on_step: run(tke, cluster_id, view=view, wait=wait, waiter=waiter, backups=app_.backups(),
                                    confirmed=confirmed),
        dry_run=dry_run, yes=yes, output=output, timeout=timeout,
        question=f"switch Trunking ENI on in cluster {cluster_id}? eniipamd rolls out the new value",
    )


@app.command("status")
def status(ctx: typer.Context, watch: Watch = False, output: Output = OutputFormat.table) -> ExitCode:
    """Whether Trunking ENI is on (eniipamd values and phase, cross-checked with DescribeIPAMD's
    EnableTrunkingENI) and the cluster's preconditions (exit 1 unless it is on and eniipamd Succeeded;
    3 when the two sources disagree). -w follows it until Ctrl-C.

    Example: sgpctl trunking status -o json
    """
    from sgpctl.render.trunking import render_status, states
    from sgpctl.workflows.trunking import trunking_status

    app_ = get_app(ctx)
    if watch:
        from sgpctl.cli.watching import watch as follow

        return follow(app_, lambda: states(trunking_status(app_.cloud().tke, app_.settings.require_cluster_id(),
                                                           _view_or_none(app_)).to_dict()))
    st = trunking_status(app_.cloud().tke, app_.settings.require_cluster_id(), _view_or_none(app_))
    data = st.to_dict()
    app_.out.emit(data, output, lambda term: render_status(term, data))
    if not st.determined:
        return ExitCode.UNDETERMINED
    return ExitCode.OK if st.ok else ExitCode.FAILED
