"""`sgpctl snat ...`: the SNAT audit for strict-mode Pods."""

from __future__ import annotations

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import FailOn, Output, fail_on_warning
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Would strict-mode Pods' egress be SNATed?\n\nAudit SNAT (ip-masq-agent) for Pods in strict routing mode.", no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context, fail_on: FailOn = "error", output: Output = OutputFormat.table) -> ExitCode:
    """Would the egress of strict-mode Pods be SNATed? Strict routing breaks when it is.

    Looks for ip-masq-agent (DaemonSet kube-system/ip-masq-agent, or the add-on), parses
    kube-system/ip-masq-agent-config (NonMasqueradeCIDRs, NonMasqueradeSrcCIDRs; either key spelling)
    and decides for eniipamd's subnets and the strict-mode Pods' IPs whether their traffic would be
    masqueraded, with the exact ConfigMap change that exempts them. Without SNAT those Pods need a
    NAT gateway to reach the internet. Exit 1 when they would be SNATed or the configuration is invalid
    (or, with --fail-on warning, when the agent ignores part of it), 3 when it could not be determined.

    Example: sgpctl snat check -o json
    """
    from sgpctl.core.checks import run_checks
    from sgpctl.workflows import snat

    strict = fail_on_warning(fail_on)
    app_ = get_app(ctx)
    audit, notes = snat.audit_strict_pods(app_.view(None), app_.cloud(), app_.settings.require_cluster_id())
    code = app_.out.checks(run_checks(snat.snat_categories(), audit), output, fail_on_warning=strict,
                           extra={"audit": audit.to_dict()})
    for n in notes + audit.notes:
        app_.out.note(f"note: {n}")
    return code
