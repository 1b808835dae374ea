from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, check_plain_name
from sgpctl.errors import InputError
from sgpctl.render.output import OutputFormat, emit

app = typer.Typer(help="Security groups for Pods (in the cluster's region).", no_args_is_help=True)


def _tags(pairs: list[str] | None) -> dict:
    tags = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--tag {pair!r} is not key=value", hint="e.g. --tag team=payments")
        tags[key] = value
    return tags


def _node_cidrs(app_) -> list[str]:
    from sgpctl.kube import resources as r

    cidrs = []
    for node in app_.kube().list(r.NODES):
        for addr in (node.get("status") or {}).get("addresses") or []:
            if addr.get("type") == "InternalIP" and addr.get("address"):
                cidrs.append(f"{addr['address']}/32")
    return sorted(set(cidrs))


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Security group name (<= 60 characters).", callback=check_plain_name)],
    description: Annotated[str, typer.Option("--description", help="Description (<= 100 characters).")] = "",
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Tag key=value (repeatable).")] = None,
    allow_node_probes: Annotated[bool, typer.Option("--allow-node-probes", help="Allow TCP/UDP from the cluster's nodes (kubelet probes).")] = False,
    allow_dns: Annotated[bool, typer.Option("--allow-dns", help="Allow egress TCP/UDP 53 (DNS).")] = False,
    dry_run: DryRun = False,
    output: Output = OutputFormat.table,
) -> None:
    """Create a security group, idempotent by name: an existing group of that name is reused and
    reported, never duplicated. Prints its id. A new group denies everything: --allow-node-probes
    and --allow-dns add the rules Pods usually need.

    Example: sgpctl sg create web-pods --allow-node-probes --allow-dns -o json
    """
    from sgpctl.cli.outcome import finish
    from sgpctl.workflows.security_groups import sg_create

    if not name or len(name) > 60:
        raise InputError(f"security group name {name!r} must be 1 to 60 characters")
    if len(description) > 100:
        raise InputError("--description must be at most 100 characters")
    app_ = get_app(ctx)
    tags = _tags(tag)
    cidrs = _node_cidrs(app_) if allow_node_probes else []
    outcome = sg_create(app_.cloud().vpc, name, description=description, tags=tags, dry_run=dry_run,
                        node_cidrs=cidrs, allow_probes=allow_node_probes, allow_dns=allow_dns)
    if output == OutputFormat.table and outcome.extra.get("securityGroup"):
        import sys

        sys.stdout.write(outcome.extra["securityGroup"]["securityGroupId"] + "\n")
        from sgpctl.render.console import note

        for s in outcome.steps:
            note(s.message)
        return
    finish(outcome, output)


@app.command("list")
def list_(
    ctx: typer.Context,
    name_prefix: Annotated[Optional[str], typer.Option("--name-prefix", help="Only groups whose name starts with this.")] = None,
    output: Output = OutputFormat.table,
) -> None:
    """List security groups in the region.

    Example: sgpctl sg list --name-prefix web -o json
    """
    from sgpctl.workflows.security_groups import group_dict

    groups = get_app(ctx).cloud().vpc.describe_security_groups()
    if name_prefix:
        groups = [g for g in groups if g.name.startswith(name_prefix)]
    data = {"securityGroups": [group_dict(g) for g in sorted(groups, key=lambda g: g.name)]}

    def table() -> None:
        from sgpctl.render.tables import print_table

        print_table(["ID", "NAME", "DESCRIPTION", "CREATED"], [(g["securityGroupId"], g["name"], g["description"] or "", g["createdTime"] or "") for g in data["securityGroups"]])

    emit(data, output, table)
