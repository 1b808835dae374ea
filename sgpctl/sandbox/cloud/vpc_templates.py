"""VPC 2017-03-12: IP address templates, protocol-port templates and their groups (Create and
Describe), which security-group rules may name as their peer (``AddressTemplate``) or service
(``ServiceTemplate``).

Entries follow CreateAddressTemplate ("支持 IP、CIDR、IP 范围": an IP, a CIDR or a range ``a-b``) and
CreateServiceTemplate (``TCP:8080``, ``tcp:80,443``, ``udp:3306-20000``, ``tcp:all``, ``icmp``,
``gre``). Describe takes the documented filters (``address-template-id``, ``address-template-name``,
``address-ip``; ``service-template-id``, ``service-template-name``, ``service-port``; and the
``-group-`` ones), ``Offset``/``Limit`` as strings (Limit at most 100), and pages like the other
VPC describes. Templates are per region.
"""

from __future__ import annotations

from sgpctl.core.traffic import space as traffic_space
from sgpctl.core.traffic.rules import PROTOCOLS

from .common import Ctx, filters_of, int_param, require
from .errors import ApiError

ADDRESS = "address"
SERVICE = "service"


def _public(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def _tags(params: dict) -> dict[str, str]:
    return {t.get("Key"): t.get("Value") or "" for t in params.get("Tags") or [] if t.get("Key")}


def _entries(params: dict, plain: str, extra: str, item: str) -> list[dict]:
    """``plain`` (list of str) or ``extra`` (list of {item, Description}), one required."""
    entries = [{item: v} for v in params.get(plain) or []]
    entries += [{item: e.get(item), "Description": e.get("Description")} for e in params.get(extra) or []]
    if not entries:
        raise ApiError("MissingParameter", f"One of `{plain}` and `{extra}` is required.")
    return entries


def _valid_service(entry: str) -> bool:
    proto, colon, ports = entry.replace(" ", "").lower().partition(":")
    if proto not in PROTOCOLS or proto == "icmpv6":
        return False
    if not colon:
        return True
    return traffic_space.parse_ports(ports) is not None


def create_address_template(ctx: Ctx, params: dict) -> dict:
    name = require(params, "AddressTemplateName")
    entries = _entries(params, "Addresses", "AddressesExtra", "Address")
    for e in entries:
        if not e["Address"] or traffic_space.address_entry_networks(str(e["Address"])) is None:
            raise ApiError("InvalidParameterValue", f"The address {e['Address']!r} is not an IP, a CIDR or a range a-b.")
    tid = ctx.state.add_template(ADDRESS, name, entries, region=ctx.region, tags=_tags(params))
    return {"AddressTemplate": _public(ctx.state.address_templates[tid])}


def create_service_template(ctx: Ctx, params: dict) -> dict:
    name = require(params, "ServiceTemplateName")
    entries = _entries(params, "Services", "ServicesExtra", "Service")
    for e in entries:
        if not e["Service"] or not _valid_service(str(e["Service"])):
            raise ApiError("InvalidParameterValue", f"The service {e['Service']!r} is not PROTOCOL[:PORTS] "
                           f"(tcp, udp, icmp, gre).")
    tid = ctx.state.add_template(SERVICE, name, entries, region=ctx.region, tags=_tags(params))
    return {"ServiceTemplate": _public(ctx.state.service_templates[tid])}


def _members(ctx: Ctx, table: dict, ids: list[str], what: str) -> None:
    if not ids:
        raise ApiError("MissingParameter", f"A {what} group needs at least one {what}.")
    for i in ids:
        t = table.get(i)
        if t is None or t["_region"] != ctx.region:
            raise ApiError("ResourceNotFound", f"The {what} {i} does not exist.")


def _address_group_view(ctx: Ctx, g: dict) -> dict:
    items = []
    for tid in g["AddressTemplateIdSet"]:
        t = ctx.state.address_templates.get(tid) or {}
        items.append({"AddressTemplateId": tid, "AddressTemplateName": t.get("AddressTemplateName"),
                      "UpdatedTime": t.get("UpdatedTime")})
    return {**_public(g), "AddressTemplateSet": items}


def _service_group_view(ctx: Ctx, g: dict) -> dict:
    return {**_public(g), "ServiceTemplateSet": [_public(ctx.state.service_templates[t])
                                                 for t in g["ServiceTemplateIdSet"] if t in ctx.state.service_templates]}


def create_address_template_group(ctx: Ctx, params: dict) -> dict:
    name = require(params, "AddressTemplateGroupName")
    ids = list(dict.fromkeys(params.get("AddressTemplateIds") or []))
    _members(ctx, ctx.state.address_templates, ids, "IP address template")
    gid = ctx.state.add_template_group(ADDRESS, name, ids, region=ctx.region, tags=_tags(params))
    return {"AddressTemplateGroup": _address_group_view(ctx, ctx.state.address_template_groups[gid])}


def create_service_template_group(ctx: Ctx, params: dict) -> dict:
    name = require(params, "ServiceTemplateGroupName")
    ids = list(dict.fromkeys(params.get("ServiceTemplateIds") or []))
    _members(ctx, ctx.state.service_templates, ids, "protocol port template")
    gid = ctx.state.add_template_group(SERVICE, name, ids, region=ctx.region, tags=_tags(params))
    return {"ServiceTemplateGroup": _service_group_view(ctx, ctx.state.service_template_groups[gid])}


def _describe(ctx: Ctx, params: dict, table: dict, filters: dict, set_key: str, view) -> dict:
    offset = int_param(params, "Offset", 0)
    limit = int_param(params, "Limit", 20, minimum=1, maximum=100)
    items = [x for x in table.values() if x["_region"] == ctx.region]
    for name, values in filters_of(params, filters):
        items = [x for x in items if filters[name](x, values)]
    return {set_key: [view(x) for x in items[offset: offset + limit]], "TotalCount": len(items)}


def _ip_in(template: dict, values: list[str]) -> bool:
    for v in values:
        ip = traffic_space.parse_network(v)
        for entry in template["AddressSet"]:
            nets = traffic_space.address_entry_networks(entry) or []
            if ip is not None and any(ip.version == n.version and ip.subnet_of(n) for n in nets):
                return True
    return False


ADDRESS_FILTERS = {
    "address-template-id": lambda t, v: t["AddressTemplateId"] in v,
    "address-template-name": lambda t, v: t["AddressTemplateName"] in v,
    "address-ip": _ip_in,
}
ADDRESS_GROUP_FILTERS = {
    "address-template-group-id": lambda t, v: t["AddressTemplateGroupId"] in v,
    "address-template-group-name": lambda t, v: t["AddressTemplateGroupName"] in v,
}
SERVICE_FILTERS = {
    "service-template-id": lambda t, v: t["ServiceTemplateId"] in v,
    "service-template-name": lambda t, v: t["ServiceTemplateName"] in v,
    "service-port": lambda t, v: any(p in s for s in t["ServiceSet"] for p in v),
}
SERVICE_GROUP_FILTERS = {
    "service-template-group-id": lambda t, v: t["ServiceTemplateGroupId"] in v,
    "service-template-group-name": lambda t, v: t["ServiceTemplateGroupName"] in v,
}


def describe_address_templates(ctx: Ctx, params: dict) -> dict:
    return _describe(ctx, params, ctx.state.address_templates, ADDRESS_FILTERS, "AddressTemplateSet", _public)


def describe_address_template_groups(ctx: Ctx, params: dict) -> dict:
    return _describe(ctx, params, ctx.state.address_template_groups, ADDRESS_GROUP_FILTERS,
                     "AddressTemplateGroupSet", lambda g: _address_group_view(ctx, g))


def describe_service_templates(ctx: Ctx, params: dict) -> dict:
    return _describe(ctx, params, ctx.state.service_templates, SERVICE_FILTERS, "ServiceTemplateSet", _public)


def describe_service_template_groups(ctx: Ctx, params: dict) -> dict:
    return _describe(ctx, params, ctx.state.service_template_groups, SERVICE_GROUP_FILTERS,
                     "ServiceTemplateGroupSet", lambda g: _service_group_view(ctx, g))


ACTIONS = {
    "CreateAddressTemplate": create_address_template,
    "DescribeAddressTemplates": describe_address_templates,
    "CreateAddressTemplateGroup": create_address_template_group,
    "DescribeAddressTemplateGroups": describe_address_template_groups,
    "CreateServiceTemplate": create_service_template,
    "DescribeServiceTemplates": describe_service_templates,
    "CreateServiceTemplateGroup": create_service_template_group,
    "DescribeServiceTemplateGroups": describe_service_template_groups,
}
