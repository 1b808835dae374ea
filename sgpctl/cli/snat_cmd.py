"""`sgpctl snat ...`: the SNAT audit for strict-mode Pods."""

from __future__ import annotations

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import Output
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Audit SNAT (ip-masq-agent) for Pods in strict routing mode.", no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context, output: Output = OutputFormat.table) -> None:
    """Would the egress of strict-mode Pods be SNATed? Strict routing breaks when it is.

    Looks for ip-masq-agent (DaemonSet kube-system/ip-masq-agent, or the add-on), parses
    kube-system/ip-masq-agent-config (NonMasqueradeCIDRs, NonMasqueradeSrcCIDRs; either key spelling)
    and decides for eniipamd's subnets and the strict-mode Pods' IPs whether their traffic would be
    masqueraded, with the exact ConfigMap change that exempts them. Without SNAT those Pods need a
    NAT gateway to reach the internet. Exit 1 when they would be SNATed or the configuration is invalid.

    Example: sgpctl snat check -o json
    """
    from sgpctl.core.checks import run_checks
    from sgpctl.render.console import note
    from sgpctl.render.doctor import emit_checks
    from sgpctl.workflows import snat
    from sgpctl.workflows.routing import read_strict_mode_pods

    app_ = get_app(ctx)
    kube, cloud, cluster_id = app_.kube(), app_.cloud(), app_.settings.require_cluster_id()
    pods, _, notes = read_strict_mode_pods(kube)
    audit = snat.gather(kube, cloud, cluster_id, pods)
    code = emit_checks(run_checks(snat.snat_categories(), audit), output, extra={"audit": audit.to_dict()})
    for n in notes + audit.notes:
        note(f"note: {n}")
    if code:
        raise typer.Exit(code)
