"""Security groups for Pods: create one idempotently by name (an existing group of that name is
reused), optionally with the rules a new group needs for kubelet probes and DNS (a new Tencent Cloud
security group denies everything until rules are added)."""

from __future__ import annotations

from sgpctl.core.steps import CHANGED, PLANNED, Outcome, Step, client_side
from sgpctl.workflows.clients import VpcApi
from sgpctl.workflows.safely import create_once
from sgpctl.workflows.view import ClusterView


def group_dict(g) -> dict:
    return {"securityGroupId": g.security_group_id, "name": g.name, "description": g.description,
            "tags": g.tag_dict(), "createdTime": g.created_time}


def list_security_groups(vpc: VpcApi, name_prefix: str | None = None) -> list[dict]:
    """The region's security groups (those whose name starts with ``name_prefix``), by name."""
    groups = vpc.describe_security_groups()
    if name_prefix:
        groups = [g for g in groups if g.name.startswith(name_prefix)]
    return [group_dict(g) for g in sorted(groups, key=lambda g: g.name)]


def node_cidrs(view: ClusterView) -> list[str]:
    """Each node's InternalIP as a /32: where kubelet probes come from."""
    from sgpctl.kube import resources as r

    cidrs = []
    for node in view.list(r.NODES):
        for addr in (node.get("status") or {}).get("addresses") or []:
            if addr.get("type") == "InternalIP" and addr.get("address"):
                cidrs.append(f"{addr['address']}/32")
    return sorted(set(cidrs))


def probe_and_dns_rules(node_cidrs: list[str], allow_probes: bool, allow_dns: bool):
    from sgpctl.cloud.types import SecurityGroupRule

    ingress, egress = [], []
    if allow_probes:
        # kubelet probes come from the node itself: allow TCP and UDP from the nodes' addresses.
        for cidr in node_cidrs:
            for proto in ("TCP", "UDP"):
                ingress.append(SecurityGroupRule(protocol=proto, port="ALL", cidr_block=cidr, description="kubelet probes (sgpctl)"))
    if allow_dns:
        for proto in ("UDP", "TCP"):
            egress.append(SecurityGroupRule(protocol=proto, port="53", cidr_block="0.0.0.0/0", description="DNS (sgpctl)"))
    return ingress, egress


def sg_create(vpc: VpcApi, name: str, *, description: str = "", tags: dict | None = None, dry_run: bool = False,
              node_cidrs: list[str] | None = None, allow_probes: bool = False, allow_dns: bool = False) -> Outcome:
    out = Outcome("sg create", dry_run=dry_run)
    step = out.add(Step("security-group", f"security group {name} exists"))
    existing = sorted(vpc.find_security_groups_by_name(name), key=lambda g: (g.created_time or "", g.security_group_id))
    ingress, egress = probe_and_dns_rules(node_cidrs or [], allow_probes, allow_dns)
    if existing:
        group = existing[0]
        step.message = f"security group {name} exists: {group.security_group_id} (reused)"
        if len(existing) > 1:
            step.message += f"; {len(existing) - 1} more group(s) share the name: " + ", ".join(g.security_group_id for g in existing[1:])
        out.extra["securityGroup"] = group_dict(group)
        if ingress or egress:
            out.add(Step("security-group-rules", "probe/DNS rules", message="the group exists: rules left as they are "
                         "(add them in the console or delete the group to let sgpctl create it with rules)"))
        return out
    if dry_run:
        step.status, step.message = PLANNED, f"would create security group {name}"
        if ingress or egress:
            out.add(Step("security-group-rules", "probe/DNS rules", PLANNED, f"would add {len(ingress)} ingress and {len(egress)} egress rule(s)"))
        out.extra["securityGroup"] = None
        client_side(out, "VPC")
        return out
    def find():
        found = vpc.find_security_groups_by_name(name)
        return found[0] if found else None

    # GroupDescription is required by the API (an empty one is refused).
    description = description or f"Pod security group {name} (created by sgpctl)"
    group, created = create_once(lambda: vpc.create_security_group(name, description, tags or None), find)
    step.status, step.message = CHANGED, f"created security group {name}: {group.security_group_id}"
    if not created:
        step.message += " (the first request timed out but had created it)"
    out.extra["securityGroup"] = group_dict(group)
    if ingress or egress:
        vpc.create_security_group_policies(group.security_group_id, ingress=ingress, egress=egress)
        out.add(Step("security-group-rules", "probe/DNS rules", CHANGED, f"added {len(ingress)} ingress and {len(egress)} egress rule(s)"))
    return out
