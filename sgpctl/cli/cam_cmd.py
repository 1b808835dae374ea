from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, check_cam_policy_name, check_plain_name
from sgpctl.render.output import OutputFormat, emit

app = typer.Typer(help="CAM authorization for eniipamd (the SubENIForIPAMD policy and its two roles).", no_args_is_help=True)

PolicyName = Annotated[str, typer.Option("--policy-name", help="Custom policy name.", callback=check_cam_policy_name)]
Roles = Annotated[Optional[list[str]], typer.Option("--role", help="Role to attach the policy to (repeatable; default IPAMDofTKE_QCSRole and TKE_QCSRole).", callback=check_plain_name)]


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
    output: Output = OutputFormat.table,
) -> None:
    """Create the custom policy (vpc:CreateSubNetworkInterface, vpc:DeleteSubNetworkInterface,
    cvm:CheckNetworkInterfaceSecurityGroupReady on resource *) unless a compliant one of that name
    exists, and attach it to IPAMDofTKE_QCSRole and TKE_QCSRole unless already attached.
    A second run changes nothing.

    Example: sgpctl cam setup --dry-run
    """
    from sgpctl.cli.outcome import finish
    from sgpctl.workflows.cam import cam_setup

    outcome = cam_setup(get_app(ctx).cloud().cam, policy_name=policy_name, roles=_roles(role), dry_run=dry_run, update_policy=update_policy)
    finish(outcome, output)


@app.command("status")
def status(ctx: typer.Context, policy_name: PolicyName = "SubENIForIPAMD", role: Roles = None, output: Output = OutputFormat.table) -> None:
    """Report the policy id, the actions it grants or lacks, and its attachment per role (exit 1 when incomplete).

    Example: sgpctl cam status -o json
    """
    from sgpctl.workflows.cam import cam_status

    st = cam_status(get_app(ctx).cloud().cam, policy_name, _roles(role))
    data = st.to_dict()

    def table() -> None:
        from sgpctl.render.tables import line, print_table

        line(f"policy {policy_name}: " + (f"id {st.policy_id}" if st.policy_id else "not found"))
        for a in st.actions_present:
            line(f"  allows   {a}")
        for a in st.actions_missing:
            line(f"  MISSING  {a}")
        print_table(["ROLE", "EXISTS", "POLICY ATTACHED"], [(r.role, "yes" if r.exists else "NO", "yes" if r.attached else "NO") for r in st.roles])

    emit(data, output, table)
    if not st.ok:
        from sgpctl.render.console import note

        note("CAM authorization is incomplete: run `sgpctl cam setup`")
        raise typer.Exit(1)
