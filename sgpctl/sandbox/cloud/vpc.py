"""VPC 2017-03-12 actions: VPCs, subnets, security groups and their rules, ENIs, ENI and group limits
(address and protocol-port templates are in ``vpc_templates``).

Rules: every change bumps the group's ``Version`` (and ``CloudState.rules_generation``, which the
simulated data plane watches); a request that carries a ``Version`` other than the current one fails
with ``UnsupportedOperation.VersionMismatch``, as the API's Version is documented to guard against.

Error codes follow the per-action VPC error lists of the official Go SDK (DescribeSecurityGroups,
DescribeSecurityGroupPolicies, CreateSecurityGroupPolicies, ModifyNetworkInterfaceAttribute,
DeleteNetworkInterface list ``ResourceNotFound`` and ``InvalidParameterValue.Malformed``, not the
``InvalidSecurityGroupID.*`` codes older notes named): ``InvalidParameter.Coexist`` (ids with Filters),
``InvalidParameter.FilterInvalidKey``, ``InvalidParameterValue.LimitExceeded`` (more than 100 ids),
``InvalidParameterValue.Range`` (Offset/Limit), ``InvalidParameterValue.Malformed`` (an id of the wrong
form, a bad number), ``ResourceNotFound`` (a well-formed id that does not exist),
``InvalidInstanceId.NotFound``, ``UnsupportedOperation`` / ``ResourceInUse`` (an ENI that cannot be
deleted, a security group still in use).

Variants (``sgpctl.sandbox.variants``): ``subeni-listed`` and ``missing-eni-ids``
(DescribeNetworkInterfaces), ``sg-port-all`` (CreateSecurityGroupPolicies), ``subeni-delete``
(DeleteNetworkInterface).
"""

from __future__ import annotations

import ipaddress
import re

from sgpctl.core.traffic import space as traffic_space

from .common import ENI_ID, INSTANCE_ID, SG_ID, Ctx, at_most, check_ids, filters_of, int_param, require
from .errors import ApiError, missing

MAX_IDS = 100

SG_FILTERS = ("security-group-id", "security-group-name", "project-id", "tag-key")
ENI_FILTERS = (
    "vpc-id", "subnet-id", "network-interface-id", "attachment.instance-id", "groups.security-group-id",
    "network-interface-name", "network-interface-description", "eni-type", "is-primary", "address-ip", "tag-key",
)


def _coexist(params: dict, ids_key: str) -> list[str]:
    ids = params.get(ids_key) or []
    if ids and params.get("Filters"):
        raise ApiError("InvalidParameter.Coexist", f"`{ids_key}` and `Filters` cannot be given together.")
    at_most(ids_key, ids, MAX_IDS)
    return ids


def _listing(params: dict, ids_key: str, pattern: re.Pattern, what: str) -> tuple[list[str], int, int]:
    """The ids (not with Filters, at most 100, well-formed) and the Offset/Limit page of a Describe call."""
    ids = _coexist(params, ids_key)
    check_ids(ids, pattern, "InvalidParameterValue.Malformed", what)
    return ids, int_param(params, "Offset", 0), int_param(params, "Limit", 20, minimum=1, maximum=100)


def _public(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def _tags_match(tagset: list[dict], name: str, values: list[str]) -> bool:
    if name == "tag-key":
        return any(t["Key"] in values for t in tagset)
    key = name[len("tag:"):]
    return any(t["Key"] == key and t["Value"] in values for t in tagset)


# --- security groups ----------------------------------------------------------------------------


def create_security_group(ctx: Ctx, params: dict) -> dict:
    name = require(params, "GroupName")
    # Required by the docs; whether an empty remark passes is unconfirmed, so only absence fails.
    description = params.get("GroupDescription")
    if description is None:
        raise missing("GroupDescription")
    if len(name) > 60:
        raise ApiError("InvalidParameterValue.TooLong", "GroupName must be at most 60 characters.")
    if len(description) > 100:
        raise ApiError("InvalidParameterValue.TooLong", "GroupDescription must be at most 100 characters.")
    in_region = sum(1 for g in ctx.state.security_groups.values() if g["_region"] == ctx.region)
    if in_region >= int(ctx.state.options["security_group_limit"]):
        raise ApiError("LimitExceeded", f"The region already has {in_region} security groups.")
    tags = {}
    for i, t in enumerate(params.get("Tags") or []):
        if not t.get("Key"):
            raise missing(f"Tags.{i}.Key")
        tags[t["Key"]] = t.get("Value") or ""
    gid = ctx.state.add_security_group(name, description, region=ctx.region, tags=tags,
                                       project_id=params.get("ProjectId") or "0")
    return {"SecurityGroup": _public(ctx.state.security_groups[gid])}


def describe_security_groups(ctx: Ctx, params: dict) -> dict:
    ids = _coexist(params, "SecurityGroupIds")
    check_ids(ids, SG_ID, "InvalidParameterValue.Malformed", "security group id")
    offset = int_param(params, "Offset", 0)
    limit = int_param(params, "Limit", 20, minimum=1, maximum=100)
    groups = [g for g in ctx.state.security_groups.values() if g["_region"] == ctx.region]
    if ids:
        by_id = {g["SecurityGroupId"]: g for g in groups}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise ApiError("ResourceNotFound", f"The security group {missing[0]} does not exist.")
        groups = [by_id[i] for i in dict.fromkeys(ids)]
    for name, values in filters_of(params, SG_FILTERS, prefixes=("tag:",)):
        if name == "security-group-id":
            groups = [g for g in groups if g["SecurityGroupId"] in values]
        elif name == "security-group-name":
            groups = [g for g in groups if g["SecurityGroupName"] in values]
        elif name == "project-id":
            groups = [g for g in groups if g["ProjectId"] in values]
        else:
            groups = [g for g in groups if _tags_match(g["TagSet"], name, values)]
    return {"SecurityGroupSet": [_public(g) for g in groups[offset : offset + limit]], "TotalCount": len(groups)}


def _group(ctx: Ctx, gid: str) -> dict:
    return ctx.state._group(gid, ctx.region)


def _check_port(ctx: Ctx, path: str, protocol: str | None, port) -> None:
    # The API doc: "Port takes a single port or a range (80, 8000-8010), and only for TCP or UDP"; the
    # model's doc also lists "all". Whether "ALL" passes for TCP/UDP is the variant sg-port-all; a
    # refusal is the plain InvalidParameterValue CreateSecurityGroupPolicies documents (the value is
    # well-formed, just not one this protocol takes).
    if (protocol in ("TCP", "UDP") and str(port or "").upper() == "ALL"
            and ctx.state.variant("sg-port-all") == "reject"):
        raise ApiError("InvalidParameterValue",
                       f"The value of parameter `{path}.Port` (ALL) is invalid for protocol {protocol}: "
                       "give a port or a range such as 1-65535.")


RULE_PROTOCOLS = ("TCP", "UDP", "ICMP", "ICMPV6", "GRE", "ALL")
DIRECTIONS = ("Ingress", "Egress")
#: a rule's peer: exactly one of these (CreateSecurityGroupPolicies: "mutually exclusive")
PEER_KEYS = ("CidrBlock", "Ipv6CidrBlock", "SecurityGroupId", "AddressTemplate")


def _check_version(rules: dict, policy_set: dict) -> None:
    version = policy_set.get("Version")
    if version not in (None, "") and str(version) != rules["Version"]:
        raise ApiError("UnsupportedOperation.VersionMismatch",
                       f"The rules changed (version {rules['Version']}, not {version}); read them again.")


def _template_exists(ctx: Ctx, table: dict, tid: str | None) -> bool:
    t = table.get(tid or "")
    return t is not None and t["_region"] == ctx.region


def _policy_entry(ctx: Ctx, path: str, rule: dict) -> dict:
    """A rule as CreateSecurityGroupPolicies documents it, checked, in the shape it is stored in."""
    action = str(rule.get("Action") or "").upper()
    if action not in ("ACCEPT", "DROP"):
        raise ApiError("InvalidParameterValue", f"`{path}.Action` must be ACCEPT or DROP.")
    peers = [k for k in PEER_KEYS if rule.get(k) not in (None, "", {})]
    if len(peers) > 1:
        raise ApiError("InvalidParameter.Coexist", f"`{path}`: {' and '.join(peers)} cannot be given together.")
    if not peers:
        raise ApiError("MissingParameter", f"`{path}` needs one of {', '.join(PEER_KEYS)}.")
    service = rule.get("ServiceTemplate") or None
    if service and (rule.get("Protocol") or rule.get("Port")):
        raise ApiError("InvalidParameter.Coexist", f"`{path}`: Protocol/Port and ServiceTemplate cannot be given together.")
    protocol = None if service else (rule.get("Protocol") or "ALL").upper()
    if protocol is not None and protocol not in RULE_PROTOCOLS:
        raise ApiError("InvalidParameterValue", f"`{path}.Protocol` must be one of {', '.join(RULE_PROTOCOLS)}.")
    _check_port(ctx, path, protocol, rule.get("Port"))
    port = None if service else (rule.get("Port") or "ALL")
    if port is not None and traffic_space.parse_ports(port) is None:
        raise ApiError("InvalidParameterValue", f"`{path}.Port` {port!r} is not ALL, a port, a list or a range.")
    peer = peers[0]
    if peer in ("CidrBlock", "Ipv6CidrBlock"):
        if traffic_space.cidr_block_networks(rule[peer], v6=peer == "Ipv6CidrBlock") is None:
            raise ApiError("InvalidParameterValue.Malformed", f"`{path}.{peer}` {rule[peer]!r} is not a valid "
                           f"{'IPv6' if peer == 'Ipv6CidrBlock' else 'IPv4'} address or CIDR.")
        if peer == "Ipv6CidrBlock" and protocol == "ICMP":
            raise ApiError("InvalidParameterValue", f"`{path}`: an IPv6 rule takes ICMPV6, not ICMP.")
    elif peer == "SecurityGroupId":
        _group(ctx, rule[peer])
    else:
        at = rule[peer]
        if not (_template_exists(ctx, ctx.state.address_templates, at.get("AddressId"))
                or _template_exists(ctx, ctx.state.address_template_groups, at.get("AddressGroupId"))):
            raise ApiError("ResourceNotFound", f"`{path}.AddressTemplate` names no IP address template or group.")
    if service and not (_template_exists(ctx, ctx.state.service_templates, service.get("ServiceId"))
                        or _template_exists(ctx, ctx.state.service_template_groups, service.get("ServiceGroupId"))):
        raise ApiError("ResourceNotFound", f"`{path}.ServiceTemplate` names no protocol port template or group.")
    entry = {
        "Protocol": protocol,
        "Port": port,
        "CidrBlock": rule.get("CidrBlock") or None,
        "Ipv6CidrBlock": rule.get("Ipv6CidrBlock") or None,
        "SecurityGroupId": rule.get("SecurityGroupId") or None,
        "Action": action,
        "PolicyDescription": rule.get("PolicyDescription") or "",
        "ModifyTime": ctx.state._time(),
    }
    if peer == "AddressTemplate":
        entry["AddressTemplate"] = {k: v for k, v in rule[peer].items() if v}
    if service:
        entry["ServiceTemplate"] = {k: v for k, v in service.items() if v}
    return entry


def _one_direction(policy_set: dict, what: str) -> str:
    given = [d for d in DIRECTIONS if policy_set.get(d)]
    if not given:
        raise ApiError("MissingParameter", f"SecurityGroupPolicySet needs Ingress or Egress rules {what}.")
    if len(given) > 1:
        # "一次请求中只能创建单个方向的规则" (one direction per request)
        raise ApiError("InvalidParameter.Coexist", f"Ingress and Egress rules cannot be {what} in one request.")
    return given[0]


def _one_direction_edit(ctx: Ctx, params: dict, what: str) -> tuple[dict, str, list[dict], list[dict]]:
    """(group, direction, the request's rules, the group's current rules of that direction) for a
    request that changes one direction, its Version checked."""
    g = _group(ctx, require(params, "SecurityGroupId"))
    policy_set = require(params, "SecurityGroupPolicySet")
    _check_version(g["_policies"], policy_set)
    direction = _one_direction(policy_set, what)
    return g, direction, policy_set[direction], list(g["_policies"][direction])


def create_security_group_policies(ctx: Ctx, params: dict) -> dict:
    """Appends the rules, or inserts them at ``PolicyIndex`` ("If you want to insert a rule before the
    first rule, enter 0; if you want to add a rule after the last rule, leave it empty"; all rules of
    one request share that index)."""
    g, direction, items, current = _one_direction_edit(ctx, params, "created")
    entries = [_policy_entry(ctx, f"SecurityGroupPolicySet.{direction}.{i}", r) for i, r in enumerate(items)]
    indexes = {r.get("PolicyIndex") for r in items}
    if len(indexes) > 1:
        raise ApiError("InvalidParameterValue", "The rules of one request must share one PolicyIndex.")
    index = indexes.pop()
    if index is None:
        index = len(current)
    elif not 0 <= index <= len(current):
        raise ApiError("InvalidParameterValue.Range",
                       f"PolicyIndex {index} is outside 0..{len(current)} (the {direction} rules there are).")
    current[index:index] = entries
    ctx.state.set_group_rules(g["SecurityGroupId"], direction, current)
    return {}


def _matches(entry: dict, wanted: dict) -> bool:
    """Rule-match deletion: ``Action``, ``Protocol``, ``CidrBlock``, ``Port`` and whatever else is given
    must equal the stored rule's."""
    for key, value in wanted.items():
        if key in ("PolicyIndex", "ModifyTime", "PolicyDescription") or value in (None, "", {}):
            continue
        have = entry.get(key)
        if key in ("Action", "Protocol", "Port"):
            if str(have or "").upper() != str(value).upper():
                return False
        elif isinstance(value, dict):
            if {k: v for k, v in (have or {}).items() if v} != {k: v for k, v in value.items() if v}:
                return False
        elif have != value:
            return False
    return True


def delete_security_group(ctx: Ctx, params: dict) -> dict:
    """Refused (``ResourceInUse``) while another group's rules name it, as the API documents, and -
    the sandbox's reading, since the documentation is silent - while an ENI carries it."""
    gid = _group(ctx, require(params, "SecurityGroupId"))["SecurityGroupId"]
    with ctx.state.transaction():
        referring = sorted(g["SecurityGroupId"] for g in ctx.state.security_groups.values() if g["SecurityGroupId"] != gid
                           and any(rule.get("SecurityGroupId") == gid for direction in DIRECTIONS
                                   for rule in g["_policies"].get(direction) or ()))
        if referring:
            raise ApiError("ResourceInUse", f"The security group {gid} is referenced by rules of {', '.join(referring)}.")
        holders = sorted(e["NetworkInterfaceId"] for e in ctx.state.enis.values() if gid in e["GroupSet"])
        if holders:
            raise ApiError("ResourceInUse", f"The security group {gid} is bound to {len(holders)} network interface(s), "
                                            f"e.g. {', '.join(holders[:3])}.")
        ctx.state.remove_security_group(gid)
    return {}


def delete_security_group_policies(ctx: Ctx, params: dict) -> dict:
    """By ``PolicyIndex`` or by matching the rule (one way per request, one direction)."""
    g, direction, items, current = _one_direction_edit(ctx, params, "deleted")
    by_index = [r.get("PolicyIndex") is not None for r in items]
    if any(by_index) and not all(by_index):
        raise ApiError("InvalidParameter.Coexist", "Delete by PolicyIndex or by rule, not both in one request.")
    if all(by_index):
        doomed = {r["PolicyIndex"] for r in items}
        if any(not 0 <= i < len(current) for i in doomed):
            raise ApiError("InvalidParameterValue.Range", f"A PolicyIndex is outside 0..{len(current) - 1}.")
    else:
        doomed = set()
        for r in items:
            hits = [i for i, e in enumerate(current) if _matches(e, r)]
            if not hits:
                raise ApiError("ResourceNotFound", f"No {direction} rule of {g['SecurityGroupId']} matches {r}.")
            doomed.update(hits)
    ctx.state.set_group_rules(g["SecurityGroupId"], direction, [e for i, e in enumerate(current) if i not in doomed])
    return {}


def modify_security_group_policies(ctx: Ctx, params: dict) -> dict:
    """Resets the group's rules: both directions are replaced by the ones given, in their order;
    ``Version`` "0" clears everything (the API's documented reset)."""
    g = _group(ctx, require(params, "SecurityGroupId"))
    policy_set = require(params, "SecurityGroupPolicySet")
    gid = g["SecurityGroupId"]
    if str(policy_set.get("Version")) == "0":
        for direction in DIRECTIONS:
            ctx.state.set_group_rules(gid, direction, [])
        return {}
    new = {}
    for direction in DIRECTIONS:
        items = policy_set.get(direction) or []
        if any(r.get("PolicyIndex") is not None for r in items):
            raise ApiError("InvalidParameter", "ModifySecurityGroupPolicies does not take PolicyIndex.")
        new[direction] = [_policy_entry(ctx, f"SecurityGroupPolicySet.{direction}.{i}", r) for i, r in enumerate(items)]
    for direction in DIRECTIONS:
        ctx.state.set_group_rules(gid, direction, new[direction])
    return {}


def replace_security_group_policy(ctx: Ctx, params: dict) -> dict:
    """Replaces the one rule at ``PolicyIndex`` of one direction."""
    g, direction, items, current = _one_direction_edit(ctx, params, "replaced")
    if len(items) != 1 or items[0].get("PolicyIndex") is None:
        raise ApiError("InvalidParameter", "ReplaceSecurityGroupPolicy replaces one rule, named by its PolicyIndex.")
    index = items[0]["PolicyIndex"]
    if not 0 <= index < len(current):
        raise ApiError("InvalidParameterValue.Range", f"PolicyIndex {index} is outside 0..{len(current) - 1}.")
    current[index] = _policy_entry(ctx, f"SecurityGroupPolicySet.{direction}.0", items[0])
    ctx.state.set_group_rules(g["SecurityGroupId"], direction, current)
    return {}


POLICY_FILTERS = ("security-group-id", "ip", "address-module", "service-module", "protocol-type", "port", "poly",
                  "direction", "description")


def _policy_filtered(entry: dict, direction: str, name: str, values: list[str]) -> bool:
    low = [v.lower() for v in values]
    if name == "security-group-id":
        return entry.get("SecurityGroupId") in values
    if name == "ip":  # fuzzy, IPv4 and IPv6
        text = f"{entry.get('CidrBlock') or ''} {entry.get('Ipv6CidrBlock') or ''}"
        return any(v in text for v in values)
    if name == "address-module":
        return bool(set((entry.get("AddressTemplate") or {}).values()) & set(values))
    if name == "service-module":
        return bool(set((entry.get("ServiceTemplate") or {}).values()) & set(values))
    if name == "protocol-type":
        return str(entry.get("Protocol") or "").lower() in low
    if name == "port":  # fuzzy; ALL asks for every port
        return "all" in low or any(v in str(entry.get("Port") or "") for v in values)
    if name == "poly":
        return "all" in low or entry["Action"].lower() in low
    if name == "direction":
        return "all" in low or {"Ingress": "inbound", "Egress": "outbound"}[direction] in low
    return any(v in (entry.get("PolicyDescription") or "") for v in values)  # description: fuzzy


def describe_security_group_policies(ctx: Ctx, params: dict) -> dict:
    g = _group(ctx, require(params, "SecurityGroupId"))
    policy_set = ctx.state.group_rules(g["SecurityGroupId"])
    filters = filters_of(params, POLICY_FILTERS)
    for direction in DIRECTIONS:
        policy_set[direction] = [e for e in policy_set[direction]
                                 if all(_policy_filtered(e, direction, n, v) for n, v in filters)]

    def v4(items):
        return sum(1 for r in items if not r.get("Ipv6CidrBlock"))

    def v6(items):
        return sum(1 for r in items if r.get("Ipv6CidrBlock"))

    policy_set["PolicyStatistics"] = {
        "IngressIPv4TotalCount": v4(policy_set["Ingress"]),
        "IngressIPv6TotalCount": v6(policy_set["Ingress"]),
        "EgressIPv4TotalCount": v4(policy_set["Egress"]),
        "EgressIPv6TotalCount": v6(policy_set["Egress"]),
    }
    return {"SecurityGroupPolicySet": policy_set}


def describe_security_group_limits(ctx: Ctx, params: dict) -> dict:
    return {
        "SecurityGroupLimitSet": {
            "SecurityGroupLimit": int(ctx.state.options["security_group_limit"]),
            "SecurityGroupPolicyLimit": 100,
            "ReferedSecurityGroupLimit": 10,
            "SecurityGroupInstanceLimit": 2000,
            "InstanceSecurityGroupLimit": int(ctx.state.options["instance_security_group_limit"]),
            "SecurityGroupExtendedPolicyLimit": 0,
            "SecurityGroupReferedCvmAndEniLimit": 2000,
            "SecurityGroupReferedSvcLimit": 2000,
        }
    }


# --- ENIs ---------------------------------------------------------------------------------------


def _eni_matches(eni: dict, name: str, values: list[str]) -> bool:
    if name == "vpc-id":
        return eni["VpcId"] in values
    if name == "subnet-id":
        return eni["SubnetId"] in values
    if name == "network-interface-id":
        return eni["NetworkInterfaceId"] in values
    if name == "attachment.instance-id":
        return eni["Attachment"]["InstanceId"] in values
    if name == "groups.security-group-id":
        return any(g in values for g in eni["GroupSet"])
    if name == "network-interface-name":
        return eni["NetworkInterfaceName"] in values
    if name == "network-interface-description":
        return eni["NetworkInterfaceDescription"] in values
    if name == "eni-type":
        return str(eni["EniType"]) in values
    if name == "is-primary":
        return str(eni["Primary"]).lower() == values[0].lower() if values else True
    if name == "address-ip":
        ips = [a["PrivateIpAddress"] for a in eni["PrivateIpAddressSet"]]
        if len(values) == 1:
            return any(ip.endswith(values[0]) for ip in ips)
        return any(ip in values for ip in ips)
    return _tags_match(eni["TagSet"], name, values)


def describe_network_interfaces(ctx: Ctx, params: dict) -> dict:
    ids, offset, limit = _listing(params, "NetworkInterfaceIds", ENI_ID, "network interface id")
    visible_sub = ctx.state.variant("subeni-listed") == "true"

    def visible(e: dict | None) -> bool:
        return e is not None and e["_region"] == ctx.region and (visible_sub or e["_kind"] != "sub")

    if ids:
        # By id: look each up, so a call for 100 ids costs the same in a region of 10,000 ENIs.
        found = {i: ctx.state.enis.get(i) for i in dict.fromkeys(ids)}
        missing = [i for i, e in found.items() if not visible(e)]
        if missing and ctx.state.variant("missing-eni-ids") == "error":
            raise ApiError("ResourceNotFound", f"The network interface {missing[0]} does not exist.")
        enis = [e for e in found.values() if visible(e)]
    else:
        enis = [e for e in ctx.state.enis.values() if visible(e)]
    for name, values in filters_of(params, ENI_FILTERS, prefixes=("tag:",)):
        enis = [e for e in enis if _eni_matches(e, name, values)]
    return {"NetworkInterfaceSet": [_eni_out(ctx, e) for e in enis[offset : offset + limit]], "TotalCount": len(enis)}


def _eni_out(ctx: Ctx, eni: dict) -> dict:
    """An ENI as the API shows it: times without a zone, in the zone of the variant ``vpc-time-zone``
    (the state keeps them in UTC)."""
    out = _public(eni)
    if ctx.state.variant("vpc-time-zone") == "utc+8":
        out["CreatedTime"] = _shifted(out.get("CreatedTime"), 8)
        out["Attachment"] = {**out["Attachment"], "AttachTime": _shifted(out["Attachment"].get("AttachTime"), 8)}
    return out


def _shifted(text: str | None, hours: int) -> str | None:
    from datetime import datetime, timedelta

    if not text:
        return text
    return (datetime.strptime(text, "%Y-%m-%d %H:%M:%S") + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


def describe_network_interface_limit(ctx: Ctx, params: dict) -> dict:
    ref = require(params, "InstanceId")
    if ENI_ID.match(ref):
        eni = ctx.state.enis.get(ref)
        if eni is None or eni["_region"] != ctx.region:
            raise ApiError("ResourceNotFound", f"The network interface {ref} does not exist.")
        ref = eni["Attachment"]["InstanceId"]
    elif not INSTANCE_ID.match(ref):
        raise ApiError("InvalidParameterValue.Malformed", f"`InstanceId` {ref!r} is neither an instance nor an ENI id.")
    inst = ctx.state.instances.get(ref)
    if inst is None or inst["_region"] != ctx.region:
        raise ApiError("InvalidInstanceId.NotFound", f"The instance {ref} does not exist.")
    cpu = inst["CPU"]
    return {
        "EniQuantity": max(2, min(8, cpu // 2 + 1)),
        "EniPrivateIpAddressQuantity": max(6, min(30, cpu * 2)),
        "ExtendEniQuantity": 0,
        "ExtendEniPrivateIpAddressQuantity": 0,
        "SubEniQuantity": ctx.state.sub_eni_quota(ref),
        "SubEniPrivateIpAddressQuantity": 1,
    }


def modify_network_interface_attribute(ctx: Ctx, params: dict) -> dict:
    eni_id = require(params, "NetworkInterfaceId")
    check_ids([eni_id], ENI_ID, "InvalidParameterValue.Malformed", "network interface id")
    eni = ctx.state.enis.get(eni_id)
    if eni is None or eni["_region"] != ctx.region:
        raise ApiError("ResourceNotFound", f"The network interface {eni_id} does not exist.")
    if params.get("SecurityGroupIds") is not None:
        ctx.state.set_eni_groups(eni_id, params["SecurityGroupIds"])
    if params.get("NetworkInterfaceName") is not None:
        if len(params["NetworkInterfaceName"]) > 60:
            raise ApiError("InvalidParameterValue.TooLong", "NetworkInterfaceName must be at most 60 characters.")
        eni["NetworkInterfaceName"] = params["NetworkInterfaceName"]
    if params.get("NetworkInterfaceDescription") is not None:
        eni["NetworkInterfaceDescription"] = params["NetworkInterfaceDescription"]
    return {}


def delete_network_interface(ctx: Ctx, params: dict) -> dict:
    """A secondary ENI is deleted; the primary ENI and a trunk ENI that carries sub-ENIs are refused. A
    per-Pod sub-ENI is deleted, or refused with ``UnsupportedOperation`` under ``subeni-delete=none``
    (eniipamd deletes them through the non-public DeleteSubNetworkInterface)."""
    eni_id = require(params, "NetworkInterfaceId")
    check_ids([eni_id], ENI_ID, "InvalidParameterValue.Malformed", "network interface id")
    eni = ctx.state.enis.get(eni_id)
    if eni is None or eni["_region"] != ctx.region:
        raise ApiError("ResourceNotFound", f"The network interface {eni_id} does not exist.")
    kind = eni["_kind"]
    if kind == "primary":
        raise ApiError("UnsupportedOperation", f"The primary network interface {eni_id} cannot be deleted.")
    if kind == "sub" and ctx.state.variant("subeni-delete") == "none":
        raise ApiError("UnsupportedOperation",
                       f"The network interface {eni_id} is a relayed (sub) ENI; DeleteNetworkInterface does not delete it.")
    if kind == "trunk" and ctx.state.sub_eni_count(eni["Attachment"]["InstanceId"]):
        raise ApiError("ResourceInUse", f"The network interface {eni_id} still carries sub-ENIs.")
    ctx.state.delete_eni(eni_id)
    return {}


SUBNET_ID = re.compile(r"^subnet-[0-9a-z]{8}$")


def describe_subnets(ctx: Ctx, params: dict) -> dict:
    ids, offset, limit = _listing(params, "SubnetIds", SUBNET_ID, "subnet id")
    subnets = [x for x in ctx.state.subnets.values() if ctx.state.region_of_zone(x["Zone"]) == ctx.region]
    if ids:
        # Like DescribeNetworkInterfaces by id: unknown ids are absent from the answer.
        wanted = set(ids)
        subnets = [x for x in subnets if x["SubnetId"] in wanted]
    for name, values in filters_of(params, SUBNET_FILTERS):
        key = {"subnet-id": "SubnetId", "vpc-id": "VpcId", "cidr-block": "CidrBlock", "zone": "Zone"}[name]
        subnets = [x for x in subnets if x[key] in values]
    out = []
    for x in subnets[offset : offset + limit]:
        net = ipaddress.ip_network(x["CidrBlock"])
        out.append({"SubnetId": x["SubnetId"], "VpcId": x["VpcId"], "SubnetName": x.get("SubnetName") or x["SubnetId"],
                    "CidrBlock": x["CidrBlock"], "Zone": x["Zone"], "IsDefault": False,
                    # VPC keeps the network, gateway, broadcast and two more addresses of every subnet.
                    "AvailableIpAddressCount": max(net.num_addresses - 5, 0),
                    "TotalIpAddressCount": net.num_addresses, "CreatedTime": x.get("CreatedTime") or "2026-01-01 00:00:00"})
    return {"SubnetSet": out, "TotalCount": len(subnets)}


SUBNET_FILTERS = ("subnet-id", "vpc-id", "cidr-block", "zone")


# --- VPCs ---------------------------------------------------------------------------------------

VPC_ID = re.compile(r"^vpc-[0-9a-z]{8}$")
VPC_FILTERS = ("vpc-name", "is-default", "vpc-id", "cidr-block", "tag-key")


def _vpc_matches(vpc: dict, name: str, values: list[str]) -> bool:
    if name == "vpc-name":  # documented as a fuzzy match
        return any(v in vpc["VpcName"] for v in values)
    if name == "is-default":
        return str(vpc["IsDefault"]).lower() in (v.lower() for v in values)
    if name == "vpc-id":
        return vpc["VpcId"] in values
    if name == "cidr-block":
        # The official example filters "10.0.0.0" and finds "10.0.0.0/16": a value matches the
        # CIDR or its network address.
        return vpc["CidrBlock"] in values or vpc["CidrBlock"].split("/")[0] in values
    return _tags_match(vpc["TagSet"], name, values)


def describe_vpcs(ctx: Ctx, params: dict) -> dict:
    ids, offset, limit = _listing(params, "VpcIds", VPC_ID, "VPC id")
    vpcs = [v for v in ctx.state.vpcs.values() if v["_region"] == ctx.region]
    if ids:
        # Like DescribeSubnets by id: unknown ids are absent from the answer.
        wanted = set(ids)
        vpcs = [v for v in vpcs if v["VpcId"] in wanted]
    for name, values in filters_of(params, VPC_FILTERS, prefixes=("tag:",)):
        vpcs = [v for v in vpcs if _vpc_matches(v, name, values)]
    return {"VpcSet": [_public(v) for v in vpcs[offset : offset + limit]], "TotalCount": len(vpcs)}


ACTIONS = {
    "DescribeVpcs": describe_vpcs,
    "DescribeSubnets": describe_subnets,
    "CreateSecurityGroup": create_security_group,
    "DescribeSecurityGroups": describe_security_groups,
    "CreateSecurityGroupPolicies": create_security_group_policies,
    "DescribeSecurityGroupPolicies": describe_security_group_policies,
    "DeleteSecurityGroup": delete_security_group,
    "DeleteSecurityGroupPolicies": delete_security_group_policies,
    "ModifySecurityGroupPolicies": modify_security_group_policies,
    "ReplaceSecurityGroupPolicy": replace_security_group_policy,
    "DescribeSecurityGroupLimits": describe_security_group_limits,
    "DescribeNetworkInterfaces": describe_network_interfaces,
    "DescribeNetworkInterfaceLimit": describe_network_interface_limit,
    "ModifyNetworkInterfaceAttribute": modify_network_interface_attribute,
    "DeleteNetworkInterface": delete_network_interface,
}


from .vpc_templates import ACTIONS as _TEMPLATE_ACTIONS  # noqa: E402  (they share this service's table)

ACTIONS.update(_TEMPLATE_ACTIONS)
