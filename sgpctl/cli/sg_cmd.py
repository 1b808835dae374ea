from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import DryRun, Output, Yes, check_plain_name
from sgpctl.errors import ExitCode, InputError
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Security groups for Pods: create, list, delete, rules.\n\nIn the cluster's region.", no_args_is_help=True)


def _tags(pairs: list[str] | None) -> dict:
    tags = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--tag {pair!r} is not key=value", hint="e.g. --tag team=payments")
        tags[key] = value
    return tags


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Security group name (<= 60 characters).", callback=check_plain_name)],
    description: Annotated[str, typer.Option("--description", help="Description (<= 100 characters).")] = "",
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Tag key=value (repeatable).")] = None,
    allow_node_probes: Annotated[bool, typer.Option("--allow-node-probes", help="Allow TCP/UDP from the subnets of the cluster's nodes (kubelet probes; new nodes in them too).")] = False,
    allow_dns: Annotated[bool, typer.Option("--allow-dns", help="Allow egress TCP/UDP 53 (DNS).")] = False,
    dry_run: DryRun = False,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Create a security group, idempotent by name: an existing group of that name is reused and
    reported, never duplicated. Prints its id. A new group denies everything: --allow-node-probes
    and --allow-dns add the rules Pods usually need: TCP and UDP 1-65535 in from each subnet of the
    cluster's VPC that holds a node (DescribeSubnets; so nodes added later are allowed too; needs
    the cluster id), and TCP and UDP 53 out.

    Example: sgpctl sg create web-pods --allow-node-probes --allow-dns -o json
    """
    from sgpctl.cli.outcome import finish
    from sgpctl.workflows.security_groups import node_probe_sources, sg_create

    if not name or len(name) > 60:
        raise InputError(f"security group name {name!r} must be 1 to 60 characters")
    if len(description) > 100:
        raise InputError("--description must be at most 100 characters")
    app_ = get_app(ctx)
    tags = _tags(tag)
    cidrs, sources = [], ""
    if allow_node_probes:
        cidrs, sources = node_probe_sources(app_.view(None), app_.cloud(), app_.settings.require_cluster_id())
    outcome = sg_create(app_.cloud().vpc, name, description=description, tags=tags, dry_run=dry_run,
                        node_cidrs=cidrs, allow_probes=allow_node_probes, allow_dns=allow_dns, node_sources=sources)
    if output in (OutputFormat.table, OutputFormat.wide) and outcome.extra.get("securityGroup"):
        # The id alone on stdout, for scripts: GROUP=$(sgpctl sg create NAME)
        app_.out.write(outcome.extra["securityGroup"]["securityGroupId"] + "\n")
        for s in outcome.steps:
            app_.out.note(s.message)
        return outcome.exit_code
    return finish(app_, outcome, output)


@app.command("list")
def list_(
    ctx: typer.Context,
    name_prefix: Annotated[Optional[str], typer.Option("--name-prefix", help="Only groups whose name starts with this.")] = None,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """List security groups in the region.

    Example: sgpctl sg list --name-prefix web -o json
    """
    from sgpctl.render.security_groups import render_list
    from sgpctl.workflows.security_groups import list_security_groups

    app_ = get_app(ctx)
    data = {"securityGroups": list_security_groups(app_.cloud().vpc, name_prefix)}
    app_.out.emit(data, output, lambda term: render_list(term, data["securityGroups"]), kind="securitygroup")
    return ExitCode.OK


@app.command("rules")
def rules(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(metavar="GROUP", help="Security group id (sg-...) or exact name.", callback=check_plain_name)],
    output: Output = OutputFormat.table,
) -> ExitCode:
    """List a security group's rules in the order they are matched (PolicyIndex, top to bottom):
    ingress, then egress, each with its action, protocol and port (or service template) and peer
    (CIDR, a group's members, or an address template), and the rules' Version (which a change
    must carry).

    Example: sgpctl sg rules sg-1a2b3c4d -o json
    """
    from sgpctl.render.security_groups import render_rules, rules_of
    from sgpctl.workflows.security_groups import group_rules

    app_ = get_app(ctx)
    data = group_rules(app_.cloud().vpc, group)
    app_.out.emit(data, output, lambda term: render_rules(term, data), items=rules_of)
    return ExitCode.OK
def _check_group_id(ctx: typer.Context, param: typer.CallbackParam, value):
    from sgpctl.core import names

    if value is None or ctx.resilient_parsing:
        return value
    return names.security_group_id(value, "GROUP")


@app.command("delete")
def delete(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(metavar="GROUP", help="Security group id (sg-xxxxxxxx).", callback=_check_group_id)],
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Delete a security group, never while something uses it. Refuses, naming each one, while ENIs
    still carry it (a Pod's sub-ENI, a leaked sub-ENI, a CVM's ENI) or a SecurityGroupPolicy of the
    cluster names it. Asks first (--yes in scripts), reads back that it is gone; a group already
    gone is "nothing to change".

    Example: sgpctl sg delete sg-1a2b3c4d --dry-run
    """
    from sgpctl.cli.outcome import mutate
    from sgpctl.workflows.security_groups import sg_delete

    app_ = get_app(ctx)
    vpc = app_.cloud().vpc

    def question(plan) -> str:
        name = (plan.extra.get("securityGroup") or {}).get("name")
        return f"delete security group {group} ({name})? A deleted group cannot be recovered"

    return mutate(app_, lambda mode: sg_delete(vpc, app_.view(None), group, dry_run=mode),
                  lambda waiter, on_step: sg_delete(vpc, app_.view(None), group),
                  dry_run=dry_run, yes=yes, output=output, question=question)
