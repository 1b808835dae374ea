"""Security groups for Pods: create one idempotently by name (an existing group of that name is
reused), optionally with the rules a new group needs for kubelet probes and DNS (a new Tencent Cloud
security group denies everything until rules are added)."""

from __future__ import annotations

from sgpctl.core.steps import CHANGED, FAILED, PLANNED, REFUSED, SKIPPED, DryRun, Outcome, Step, client_side
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


def sg_delete(vpc: VpcApi, view: ClusterView, group_id: str, *, dry_run: bool | DryRun = False) -> Outcome:
    """Delete a security group, with the care of a destructive step: never while an ENI still
    carries it (each is named: a Pod's sub-ENI, a leaked sub-ENI, a CVM's ENI) or a policy of the
    cluster names it (its Pods' sub-ENIs would fail); idempotent (a group already gone is "nothing
    to change"); read back. The API itself refuses a group that other groups' rules name."""
    from sgpctl.errors import CloudError

    out = Outcome("sg delete", dry_run=dry_run)
    step = out.add(Step("security-group", f"security group {group_id} is deleted"))
    found = vpc.describe_security_groups([group_id])
    if not found:
        step.message = f"security group {group_id} does not exist (already deleted): nothing to change"
        out.extra["securityGroup"] = None
        return out
    group = found[0]
    out.extra["securityGroup"] = group_dict(group)
    holders = _holders(vpc, view, group_id)
    out.extra["heldBy"] = holders
    naming = sorted(f"{p.namespace}/{p.name}" for p in view.policies_in(None) if group_id in p.group_ids)
    out.extra["policies"] = naming
    refusals = []
    if holders:
        refusals.append(Step("enis", f"no ENI carries {group_id}", REFUSED,
                             f"{len(holders)} ENI(s) still carry {group_id} ({group.name}): "
                             + "; ".join(h["description"] for h in holders[:10])
                             + (f"; and {len(holders) - 10} more (-o json lists all)" if len(holders) > 10 else ""),
                             "a Pod's sub-ENI: take the group out of its policy and rebuild the Pod (sgpctl policy "
                             "rollout); a leaked sub-ENI: sgpctl eni leaks --delete; a CVM's ENI: change its security "
                             "groups in the console"))
    if naming:
        refusals.append(Step("policies", f"no SecurityGroupPolicy names {group_id}", REFUSED,
                             f"{len(naming)} SecurityGroupPolicy(s) name {group_id}: {', '.join(naming)}; Pods they "
                             "select would fail to get a sub-ENI", "remove the group from them first (sgpctl policy apply -f FILE)"))
    if refusals:
        step.status, step.message = SKIPPED, f"not deleted: {group_id} ({group.name}) is in use"
        for s in refusals:
            out.add(s)
        return out
    if dry_run:
        step.status, step.message = PLANNED, f"would delete security group {group_id} ({group.name}): no ENI carries it"
        client_side(out, "VPC")
        return out
    try:
        existed = vpc.delete_security_group(group_id)
    except CloudError as e:
        step.status, step.message = FAILED, f"DeleteSecurityGroup: {e.code}: {e.api_message or e.message}"
        step.hint = ("other groups' rules may name it (the API refuses then): remove those rules first"
                     if e.category == "state" else e.hint)
        return out
    left = vpc.describe_security_groups([group_id])
    if left:
        step.status, step.message = FAILED, f"DeleteSecurityGroup answered, but {group_id} is still listed"
        return out
    step.status = CHANGED
    step.message = f"deleted security group {group_id} ({group.name}); read back: gone" if existed else \
        f"security group {group_id} was already gone"
    return out


def _holders(vpc: VpcApi, view: ClusterView, group_id: str) -> list[dict]:
    """The ENIs that carry the group, each described with what it belongs to as far as the
    cluster knows (a Pod through its VpcENI, a node through its instance)."""
    from sgpctl.core.leaks import named_eni
    from sgpctl.workflows.capacity import instance_id_of

    enis = vpc.describe_network_interfaces(filters={"groups.security-group-id": group_id})
    if not enis:
        return []
    pods = {}
    for v in view.vpcenis:
        labels = (v.get("metadata") or {}).get("labels") or {}
        eni = named_eni(v)
        if eni and isinstance(labels, dict):
            pods[eni] = f"{labels.get('tke.cloud.tencent.com/pod-namespace')}/{labels.get('tke.cloud.tencent.com/pod-name')}"
    nodes = {i: (n.get("metadata") or {}).get("name") for n in view.nodes if (i := instance_id_of(n))}
    out = []
    for e in sorted(enis, key=lambda e: e.eni_id):
        kind = {1: "primary ENI", 2: "sub-ENI"}.get(e.eni_type, "ENI")
        where = f"Pod {pods[e.eni_id]}" if e.eni_id in pods else (
            f"node {nodes[e.instance_id]}" if e.instance_id in nodes else (e.instance_id or "no instance"))
        out.append({"eniId": e.eni_id, "type": kind, "instanceId": e.instance_id, "pod": pods.get(e.eni_id),
                    "description": f"{e.eni_id} ({kind} of {where})"})
    return out
