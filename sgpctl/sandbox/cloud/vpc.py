"""VPC 2017-03-12 actions: VPCs, subnets, security groups and their rules, ENIs, ENI and group limits.

Error codes follow the per-action VPC error lists of the official Go SDK (DescribeSecurityGroups,
DescribeSecurityGroupPolicies, CreateSecurityGroupPolicies, ModifyNetworkInterfaceAttribute,
DeleteNetworkInterface list ``ResourceNotFound`` and ``InvalidParameterValue.Malformed``, not the
``InvalidSecurityGroupID.*`` codes older notes named): ``InvalidParameter.Coexist`` (ids with Filters),
``InvalidParameter.FilterInvalidKey``, ``InvalidParameterValue.LimitExceeded`` (more than 100 ids),
``InvalidParameterValue.Range`` (Offset/Limit), ``InvalidParameterValue.Malformed`` (an id of the wrong
form, a bad number), ``ResourceNotFound`` (a well-formed id that does not exist),
``InvalidInstanceId.NotFound``, ``UnsupportedOperation`` / ``ResourceInUse`` (an ENI that cannot be
deleted).

Variants (``sgpctl.sandbox.variants``): ``subeni-listed`` and ``missing-eni-ids``
(DescribeNetworkInterfaces), ``sg-port-all`` (CreateSecurityGroupPolicies), ``subeni-delete``
(DeleteNetworkInterface).
"""

from __future__ import annotations

import ipaddress
import re

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


def _check_port(ctx: Ctx, direction: str, i: int, protocol: str, port) -> None:
    # The API doc: "Port takes a single port or a range (80, 8000-8010), and only for TCP or UDP"; the
    # model's doc also lists "all". Whether "ALL" passes for TCP/UDP is the variant sg-port-all; a
    # refusal is the plain InvalidParameterValue CreateSecurityGroupPolicies documents (the value is
    # well-formed, just not one this protocol takes).
    if (protocol in ("TCP", "UDP") and str(port or "").upper() == "ALL"
            and ctx.state.variant("sg-port-all") == "reject"):
        raise ApiError("InvalidParameterValue",
                       f"The value of parameter `{direction}.{i}.Port` (ALL) is invalid for protocol {protocol}: "
                       "give a port or a range such as 1-65535.")


def create_security_group_policies(ctx: Ctx, params: dict) -> dict:
    g = _group(ctx, require(params, "SecurityGroupId"))
    policy_set = require(params, "SecurityGroupPolicySet")
    rules = g["_policies"]
    version = policy_set.get("Version")
    if version not in (None, "") and version != rules["Version"]:
        raise ApiError("UnsupportedOperation.VersionMismatch",
                       f"The rules changed (version {rules['Version']}, not {version}); read them again.")
    added = False
    for direction in ("Ingress", "Egress"):
        for i, rule in enumerate(policy_set.get(direction) or []):
            action = str(rule.get("Action") or "").upper()
            if action not in ("ACCEPT", "DROP"):
                raise ApiError("InvalidParameterValue", f"`{direction}.Action` must be ACCEPT or DROP.")
            _check_port(ctx, direction, i, (rule.get("Protocol") or "ALL").upper(), rule.get("Port"))
            entry = {
                "Protocol": (rule.get("Protocol") or "ALL").upper(),
                "Port": rule.get("Port") or "ALL",
                "CidrBlock": rule.get("CidrBlock"),
                "Ipv6CidrBlock": rule.get("Ipv6CidrBlock"),
                "SecurityGroupId": rule.get("SecurityGroupId"),
                "Action": action,
                "PolicyDescription": rule.get("PolicyDescription") or "",
                "ModifyTime": ctx.state._time(),
            }
            rules[direction].append(entry)
            added = True
    if not added:
        raise ApiError("MissingParameter", "SecurityGroupPolicySet needs Ingress or Egress rules.")
    rules["Version"] = str(int(rules["Version"]) + 1)
    g["UpdateTime"] = ctx.state._time()
    return {}


def describe_security_group_policies(ctx: Ctx, params: dict) -> dict:
    g = _group(ctx, require(params, "SecurityGroupId"))
    rules = g["_policies"]

    def indexed(items: list[dict]) -> list[dict]:
        return [{**r, "PolicyIndex": i} for i, r in enumerate(items)]

    def v4(items):
        return sum(1 for r in items if r.get("CidrBlock") or not r.get("Ipv6CidrBlock"))

    def v6(items):
        return sum(1 for r in items if r.get("Ipv6CidrBlock"))

    return {
        "SecurityGroupPolicySet": {
            "Version": rules["Version"],
            "Ingress": indexed(rules["Ingress"]),
            "Egress": indexed(rules["Egress"]),
            "PolicyStatistics": {
                "IngressIPv4TotalCount": v4(rules["Ingress"]),
                "IngressIPv6TotalCount": v6(rules["Ingress"]),
                "EgressIPv4TotalCount": v4(rules["Egress"]),
                "EgressIPv6TotalCount": v6(rules["Egress"]),
            },
        }
    }


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
    return {"NetworkInterfaceSet": [_public(e) for e in enis[offset : offset + limit]], "TotalCount": len(enis)}


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
    "DescribeSecurityGroupLimits": describe_security_group_limits,
    "DescribeNetworkInterfaces": describe_network_interfaces,
    "DescribeNetworkInterfaceLimit": describe_network_interface_limit,
    "ModifyNetworkInterfaceAttribute": modify_network_interface_attribute,
    "DeleteNetworkInterface": delete_network_interface,
}
