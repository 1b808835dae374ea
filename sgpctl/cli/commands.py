"""Which command modules make up the CLI. Each module defines a Typer app or commands; importing one
must stay cheap (no SDK imports at module level)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from sgpctl.cli import capacity_cmd, config_cmd, policy_cmd, sandbox_cmd, version_cmd

    app.add_typer(config_cmd.app, name="config")
    app.add_typer(policy_cmd.app, name="policy")
    app.command("capacity", help=capacity_cmd.HELP)(capacity_cmd.capacity)
    app.add_typer(sandbox_cmd.app, name="sandbox")
    app.command("version", help=version_cmd.HELP)(version_cmd.version)
