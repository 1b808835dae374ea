"""Security groups for Pods: create one idempotently by name (an existing group of that name is
reused), optionally with the rules a new group needs for kubelet probes and DNS (a new Tencent Cloud
security group denies everything until rules are added); list them; show one's rules in match order."""

from __future__ import annotations

from sgpctl.core.steps import CHANGED, FAILED, PLANNED, REFUSED, SKIPPED, DryRun, Outcome, Step, client_side
from sgpctl.errors import InputError
from sgpctl.workflows.clients import Cloud, VpcApi
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


def probe_and_dns_rules(node_cidrs: list[str], allow_probes: bool, allow_dns: bool):
    """Ingress TCP and UDP on every port from each node CIDR (kubelet probes, and Services that
    kube-proxy forwards from the nodes); egress TCP and UDP 53 anywhere (DNS). Ports are written
    ``1-65535``, never ``ALL``: whether the API takes ``ALL`` with TCP/UDP is not settled, an explicit
    range is valid under either reading (``core.traffic.fixes``)."""
    from sgpctl.cloud.types import SecurityGroupRule
    from sgpctl.core.traffic import ALL_TCP_UDP_PORTS

    ingress, egress = [], []
    if allow_probes:
        for cidr in node_cidrs:
            for proto in ("TCP", "UDP"):
                ingress.append(SecurityGroupRule(protocol=proto, port=ALL_TCP_UDP_PORTS, cidr_block=cidr,
                                                 description="kubelet probes from the nodes (sgpctl)"))
    if allow_dns:
        for proto in ("UDP", "TCP"):
            egress.append(SecurityGroupRule(protocol=proto, port="53", cidr_block="0.0.0.0/0", description="DNS (sgpctl)"))
    return ingress, egress


def node_probe_sources(view: ClusterView, cloud: Cloud, cluster_id: str) -> tuple[list[str], str]:
    """Where kubelet probes come from, as rule peers: the subnets of the cluster's VPC that hold the
    nodes (so nodes added to them later are allowed too); a node outside every subnet keeps its own
    /32. With a sentence saying which."""
    from sgpctl.workflows.traffic import node_subnets

    found = node_subnets(view, cloud, cluster_id)
    if not found.cidrs and not found.outside:
        return [], "the cluster has no node with an InternalIP: no probe rule to add"
    text = f"the nodes' subnets {', '.join(found.cidrs)}" if found.cidrs else ""
    if found.outside:
        text += ("; " if text else "") + f"{len(found.outside)} node(s) in no subnet of the VPC, by address: " \
                + ", ".join(found.outside)
    return found.rules_peers, text


def sg_create(vpc: VpcApi, name: str, *, description: str = "", tags: dict | None = None, dry_run: bool = False,
              node_cidrs: list[str] | None = None, allow_probes: bool = False, allow_dns: bool = False,
              node_sources: str = "") -> Outcome:
    """``node_cidrs``/``node_sources``: ``node_probe_sources``'s answer, with ``allow_probes``."""
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
            out.add(Step("security-group-rules", "probe/DNS rules", PLANNED,
                         f"would add {len(ingress)} ingress and {len(egress)} egress rule(s){_from(node_sources)}",
                         details=_rules(ingress, egress)))
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
        out.add(Step("security-group-rules", "probe/DNS rules", CHANGED,
                     f"added {len(ingress)} ingress and {len(egress)} egress rule(s){_from(node_sources)}",
                     details=_rules(ingress, egress)))
    return out


def _from(node_sources: str) -> str:
    return f" (probes from {node_sources})" if node_sources else ""


def _rules(ingress, egress) -> dict:
    return {"ingress": [r.to_api() for r in ingress], "egress": [r.to_api() for r in egress]}


# -- sg rules ------------------------------------------------------------------------------------

def _rule_dict(rule) -> dict:
    at, st = rule.address_template, rule.service_template
    return {"policyIndex": rule.policy_index, "action": rule.action, "protocol": rule.protocol, "port": rule.port,
            "cidrBlock": rule.cidr_block, "ipv6CidrBlock": rule.ipv6_cidr_block, "securityGroupId": rule.security_group_id,
            "addressTemplate": at.to_api() if at else None, "serviceTemplate": st.to_api() if st else None,
            "description": rule.description, "modifyTime": rule.modify_time,
            "service": rule.service_text(), "peer": rule.peer_text()}


def group_rules(vpc: VpcApi, group: str) -> dict:
    """`sg rules GROUP`: a group's rules (by id, or by its exact name) in the order they are matched,
    ingress then egress, with the ``Version`` they were read at."""
    from sgpctl.core import names
    from sgpctl.core.traffic import EGRESS, INGRESS
    from sgpctl.errors import RefusedError

    if names.id_pattern("sg").fullmatch(group):
        gid, name = group, None
    elif group.startswith("sg-"):
        raise InputError(f"GROUP {group!r} is not a security group id", hint="an id is sg- and 8 lowercase letters or "
                         "digits (e.g. sg-1a2b3c4d), or give the group's name")
    else:
        found = vpc.find_security_groups_by_name(group)
        if not found:
            raise RefusedError(f"no security group is named {group!r} in the region", hint="sgpctl sg list")
        if len(found) > 1:
            raise InputError(f"{len(found)} security groups are named {group!r}: "
                             f"{', '.join(g.security_group_id for g in found)}", hint="give the id: sgpctl sg rules sg-xxxxxxxx")
        gid, name = found[0].security_group_id, found[0].name
    rules = vpc.describe_security_group_policies([gid])
    if not rules:
        raise RefusedError(f"security group {gid} does not exist in the region", hint="sgpctl sg list")
    g = rules[0]
    return {"securityGroupId": gid, "name": name, "version": g.version,
            "ingress": [_rule_dict(x) for x in g.rules(INGRESS)], "egress": [_rule_dict(x) for x in g.rules(EGRESS)]}


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
