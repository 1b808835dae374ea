"""CVM 2017-03-12 actions: DescribeInstances, DescribeInstanceTypeConfigs and DescribeRegions
(every real region, ``regions.REGIONS``; DescribeZones is not emulated: the numeric zone ids of
most regions are not known here).

Error codes from the CVM error lists of the official SDKs: ``InvalidInstanceId.Malformed``,
``InvalidParameterValue.LimitExceeded`` (more than 100 ids, Limit above 100),
``InvalidParameterCoexistInstanceIdsFilters``, ``InvalidFilter``,
``InvalidFilterValue.LimitExceeded``. Unknown but well-formed instance ids are simply absent
from the answer, as on the real API.
"""

from __future__ import annotations

from sgpctl.core import quotas

from . import regions
from .common import INSTANCE_ID, Ctx, at_most, check_ids, filters_of, int_param
from .errors import ApiError

INSTANCE_FILTERS = (
    "zone", "instance-id", "instance-type", "instance-family", "instance-name", "instance-state",
    "vpc-id", "subnet-id", "private-ip-address", "security-group-id", "instance-charge-type",
)


def _instance_view(ctx: Ctx, inst: dict) -> dict:
    out = {k: v for k, v in inst.items() if not k.startswith("_")}
    out["SecurityGroupIds"] = ctx.state.instance_groups(inst["InstanceId"])
    return out


def _matches(ctx: Ctx, inst: dict, name: str, values: list[str]) -> bool:
    if name == "zone":
        return inst["Placement"]["Zone"] in values
    if name == "instance-id":
        return inst["InstanceId"] in values
    if name == "instance-type":
        return inst["InstanceType"] in values
    if name == "instance-family":
        return quotas.instance_family(inst["InstanceType"]) in values
    if name == "instance-name":
        return inst["InstanceName"] in values
    if name == "instance-state":
        return inst["InstanceState"] in values
    if name == "vpc-id":
        return inst["VirtualPrivateCloud"]["VpcId"] in values
    if name == "subnet-id":
        return inst["VirtualPrivateCloud"]["SubnetId"] in values
    if name == "private-ip-address":
        return any(ip in values for ip in inst["PrivateIpAddresses"])
    if name == "security-group-id":
        return any(g in values for g in ctx.state.instance_groups(inst["InstanceId"]))
    return inst["InstanceChargeType"] in values


def describe_instances(ctx: Ctx, params: dict) -> dict:
    ids = params.get("InstanceIds") or []
    if ids and params.get("Filters"):
        raise ApiError("InvalidParameterCoexistInstanceIdsFilters", "`InstanceIds` and `Filters` cannot be given together.")
    at_most("InstanceIds", ids, 100)
    check_ids(ids, INSTANCE_ID, "InvalidInstanceId.Malformed", "instance id")
    offset = int_param(params, "Offset", 0)
    limit = int_param(params, "Limit", 20, minimum=1)
    if limit > 100:
        raise ApiError("InvalidParameterValue.LimitExceeded", "`Limit` must be at most 100.")
    instances = [i for i in ctx.state.instances.values() if i["_region"] == ctx.region]
    if ids:
        wanted = set(ids)
        instances = [i for i in instances if i["InstanceId"] in wanted]
    for name, values in filters_of(params, INSTANCE_FILTERS, code="InvalidFilter"):
        instances = [i for i in instances if _matches(ctx, i, name, values)]
    return {"TotalCount": len(instances), "InstanceSet": [_instance_view(ctx, i) for i in instances[offset : offset + limit]]}


def describe_instance_type_configs(ctx: Ctx, params: dict) -> dict:
    filters = filters_of(params, ("zone", "instance-family", "instance-type"), code="InvalidFilter")
    for name, values in filters:
        if len(values) > 1:
            raise ApiError("InvalidFilterValue.LimitExceeded", f"The filter `{name}` takes one value.")
    wanted = {name: values[0] for name, values in filters if values}
    zones = ctx.state.regions.get(ctx.region, [])
    out = []
    for t in ctx.state.instance_types.values():
        if "instance-family" in wanted and t["InstanceFamily"] != wanted["instance-family"]:
            continue
        if "instance-type" in wanted and t["InstanceType"] != wanted["instance-type"]:
            continue
        for z in t["Zones"]:
            if z not in zones or ("zone" in wanted and z != wanted["zone"]):
                continue
            out.append({
                "Zone": z, "InstanceType": t["InstanceType"], "InstanceFamily": t["InstanceFamily"],
                "GPU": 0, "CPU": t["CPU"], "Memory": t["Memory"], "FPGA": 0, "GpuCount": 0.0,
            })
    return {"InstanceTypeConfigSet": out}


def describe_regions(ctx: Ctx, params: dict) -> dict:
    out = [{"Region": r.name, "RegionName": r.description, "RegionState": "AVAILABLE"}
           for r in regions.REGIONS.values()]
    return {"TotalCount": len(out), "RegionSet": out}


ACTIONS = {
    "DescribeRegions": describe_regions,
    "DescribeInstances": describe_instances,
    "DescribeInstanceTypeConfigs": describe_instance_type_configs,
}
