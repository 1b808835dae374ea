from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, Watch, Yes, check_cam_policy_name, check_plain_name
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="The SubENIForIPAMD policy and its two roles.\n\nCAM authorization for eniipamd: the custom policy of the three sub-ENI actions, attached to IPAMDofTKE_QCSRole and TKE_QCSRole.", no_args_is_help=True)

PolicyName = Annotated[str, typer.Option("--policy-name", help="Custom policy name.", callback=check_cam_policy_name)]
Roles = Annotated[Optional[list[str]], typer.Option("--role", help="Role the policy is attached to (repeatable; default IPAMDofTKE_QCSRole and TKE_QCSRole).", callback=check_plain_name)]


def _roles(roles):
    from sgpctl.core.cam_policy import ROLES

    return tuple(roles) if roles else ROLES


@app.command("setup")
def setup(
    ctx: typer.Context,
    policy_name: PolicyName = "SubENIForIPAMD",
    role: Roles = None,
    update_policy: Annotated[bool, typer.Option("--update-policy", help="Add missing actions to an existing policy of that name.")] = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Create the custom policy (vpc:CreateSubNetworkInterface, vpc:DeleteSubNetworkInterface,
    cvm:CheckNetworkInterfaceSecurityGroupReady on resource *) unless a compliant one of that name
    exists, and attach it to IPAMDofTKE_QCSRole and TKE_QCSRole unless already attached. The change
    is account-wide: the plan is shown and confirmed first (--yes in scripts). A second run changes
    nothing.

    Example: sgpctl cam setup --dry-run
    """
    from sgpctl.cli.outcome import mutate
    from sgpctl.workflows.cam import cam_setup

    app_ = get_app(ctx)
    cam, roles = app_.cloud().cam, _roles(role)
    return mutate(
        app_,
        lambda mode: cam_setup(cam, policy_name=policy_name, roles=roles, dry_run=mode, update_policy=update_policy),
        lambda waiter, on_step: cam_setup(cam, policy_name=policy_name, roles=roles, update_policy=update_policy),
        dry_run=dry_run, yes=yes, output=output,
        question=f"change CAM for the whole account (policy {policy_name}, roles {', '.join(roles)})?",
    )


@app.command("status")
def status(ctx: typer.Context, policy_name: PolicyName = "SubENIForIPAMD", role: Roles = None, watch: Watch = False,
           output: Output = OutputFormat.table) -> ExitCode:
    """Report the policy id, the actions it grants or lacks, and its attachment per role (exit 1 when
    incomplete). -w follows them until Ctrl-C.

    Example: sgpctl cam status -o json
    """
    from sgpctl.render.cam import render_status, states
    from sgpctl.workflows.cam import cam_status

    app_ = get_app(ctx)
    if watch:
        from sgpctl.cli.watching import watch as follow

        return follow(app_, lambda: states(cam_status(app_.cloud().cam, policy_name, _roles(role)).to_dict()))
    st = cam_status(app_.cloud().cam, policy_name, _roles(role))
    data = st.to_dict()
    app_.out.emit(data, output, lambda term: render_status(term, data))
    if not st.ok:
        app_.out.note("CAM authorization is incomplete: run `sgpctl cam setup`")
        return ExitCode.FAILED
    return ExitCode.OK
