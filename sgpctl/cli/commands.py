"""Which command modules make up the CLI. Each module defines a Typer app or commands; importing one
must stay cheap (no SDK imports at module level)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from sgpctl.cli import (
        addon_cmd,
        cam_cmd,
        capacity_cmd,
        config_cmd,
        demo_cmd,
        doctor_cmd,
        policy_cmd,
        routing_cmd,
        sandbox_cmd,
        setup_cmd,
        sg_cmd,
        snat_cmd,
        trunking_cmd,
        verify_cmd,
        version_cmd,
    )

    app.command("demo", help=demo_cmd.HELP)(demo_cmd.demo)
    # In the order of the TKE procedure, then the tools around it.
    app.command("setup", help=setup_cmd.HELP)(setup_cmd.setup)
    app.add_typer(cam_cmd.app, name="cam")
    app.command("enable-trunking", help=trunking_cmd.ENABLE_HELP)(trunking_cmd.enable_trunking)
    app.add_typer(trunking_cmd.app, name="trunking")
    app.add_typer(addon_cmd.app, name="addon")
    app.add_typer(sg_cmd.app, name="sg")
    app.add_typer(policy_cmd.app, name="policy")
    app.add_typer(verify_cmd.app, name="verify")
    app.add_typer(routing_cmd.app, name="routing")
    app.add_typer(snat_cmd.app, name="snat")
    app.command("doctor", help=doctor_cmd.HELP)(doctor_cmd.doctor)
    app.command("capacity", help=capacity_cmd.HELP)(capacity_cmd.capacity)
    app.add_typer(sandbox_cmd.app, name="sandbox")
    app.add_typer(config_cmd.app, name="config")
    app.command("version", help=version_cmd.HELP)(version_cmd.version)
