"""VPC adapter (``vpc`` 2017-03-12, regional). Reach it as ``session.vpc``.

API::

    create_security_group(name, description="", tags=None, project_id=None) -> SecurityGroup
    describe_security_groups(ids=None, *, name=None, filters=None) -> list[SecurityGroup]
    find_security_groups_by_name(name) -> list[SecurityGroup]           # exact name match
    find_missing_security_groups(ids) -> list[str]                      # ids that do not exist, input order
    create_security_group_policies(group_id, ingress=(), egress=())     # SecurityGroupRule items
    describe_security_group_policies(group_ids, concurrency=8) -> list[GroupRules]   # missing groups left out
    describe_address_templates(ids=None) -> list[AddressTemplate]
    describe_address_template_groups(ids=None) -> list[AddressTemplateGroup]
    describe_service_templates(ids=None) -> list[ServiceTemplate]
    describe_service_template_groups(ids=None) -> list[ServiceTemplateGroup]
    describe_rule_book(group_ids, known_enis=(), concurrency=8, eni_addresses=()) -> RuleBook  # all core.traffic needs
    describe_subnets(ids=None, filters=None) -> list[Subnet]            # by id, or e.g. {"vpc-id": ...}
    describe_network_interfaces(ids=None, filters=None) -> list[NetworkInterface]
    describe_instance_network_interfaces(instance_ids, concurrency=4) -> list[NetworkInterface]   # every ENI of them
    delete_network_interface(eni_id) -> bool                            # False: it did not exist
    delete_security_group(group_id) -> bool                             # False: it did not exist
    describe_network_interface_limit(instance_id) -> EniLimit
    describe_security_group_limit() -> int                              # groups per instance, 5 if unsaid

``filters`` is a mapping of API filter names to one value or a list of values (OR-ed), e.g.
``{"vpc-id": "vpc-1", "eni-type": "2"}``. Ids and filters cannot be combined (the API refuses).

Request bodies (what a fake must accept):
``CreateSecurityGroup {"GroupName", "GroupDescription", "ProjectId"? (str), "Tags"? [{"Key","Value"}]}``;
``DescribeSecurityGroups {"SecurityGroupIds"? | "Filters"?, "Offset": "0", "Limit": "100"}`` (Offset and
Limit are *strings* in this API's model); ``CreateSecurityGroupPolicies {"SecurityGroupId",
"SecurityGroupPolicySet": {"Ingress": [...]}}`` and a second call for ``"Egress"`` (the API takes one
direction per request); ``DescribeNetworkInterfaces {"NetworkInterfaceIds"? | "Filters"?, "Offset": 0,
"Limit": 100}`` (integers here); ``DescribeNetworkInterfaceLimit {"InstanceId"}``;
``DescribeSecurityGroupLimits {}``; ``DeleteNetworkInterface {"NetworkInterfaceId"}``;
``DeleteSecurityGroup {"SecurityGroupId"}``; ``DescribeSubnets {"SubnetIds"? | "Filters"?, "Offset": "0",
"Limit": "100"}`` (strings); ``DescribeSecurityGroupPolicies {"SecurityGroupId"}`` (one group per
call: the API's shape); ``DescribeAddressTemplates`` / ``DescribeAddressTemplateGroups`` /
``DescribeServiceTemplates`` / ``DescribeServiceTemplateGroups`` ``{"Filters"?: [{"Name":
"address-template-id" | "address-template-group-id" | "service-template-id" |
"service-template-group-id", "Values": [<= 100 ids]}], "Offset": "0", "Limit": "100"}`` (strings
again).

The types the rule and template calls return are ``core.traffic``'s (re-exported by
``cloud.types``): the evaluator consumes them as they come.

Ids are de-duplicated and sent 100 per call with ``Limit`` 100 (the default Limit is 20: without it a
100-id query would come back a fifth full), so ``n`` ids cost ``ceil(n/100)`` calls.

Ids that do not exist: DescribeSecurityGroups fails the whole call with ``ResourceNotFound`` (its
documented code; older notes said ``InvalidSecurityGroupID.NotFound``, which is accepted too, and a
malformed id is ``InvalidParameterValue.Malformed``); for DescribeNetworkInterfaces the API reference
lists ``ResourceNotFound`` and the Terraform provider accepts either that error or the id's absence from
``NetworkInterfaceSet`` after deleting an ENI. Both adapters handle both behaviours and return what
exists; callers compare the result's ids with what they asked for (an ENI id absent from the result is
"not found in VPC"). Cheapest correct way on a "not found" error for a batch: if the message names ids,
set them aside and re-query the rest; otherwise ask once more with the id *filter*
(``security-group-id`` / ``network-interface-id``, which matches what exists and cannot fail on unknown
ids), so a batch costs 1 call when nothing is missing and 2 when something is; only if the API refuses
that filter (``InvalidParameter*``...) is the batch bisected (about ``2·k·log2(100)`` calls for ``k``
missing ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

from sgpctl.cloud.paging import batched, fetch_tolerating_missing, ids_in_message, paginate_offset, unique
from sgpctl.cloud.params import Adapter, FilterSpec, filters_param, tags_param
from sgpctl.cloud.types import EniLimit, NetworkInterface, SecurityGroup, SecurityGroupRule, Subnet

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.core.traffic.model import AddressTemplate, AddressTemplateGroup, GroupRules, RuleBook, ServiceTemplate, ServiceTemplateGroup
from sgpctl.errors import CloudError

DEFAULT_INSTANCE_SECURITY_GROUP_LIMIT = 5
#: instances whose ENIs one DescribeNetworkInterfaces asks for (``attachment.instance-id``): the
#: limit on a filter's values is not documented for this action; 5 keeps well below any plausible one
INSTANCES_PER_CALL = 5
#: groups whose members one DescribeNetworkInterfaces asks for (the filter's value limit is not
#: documented; 10 keeps well below any plausible one)
MEMBER_GROUPS_PER_CALL = 10

SG_MISSING_CODES = ("InvalidSecurityGroupID.NotFound", "InvalidSecurityGroupId.NotFound")
ENI_MISSING_CODES = ("InvalidNetworkInterfaceId.NotFound", "InvalidParameterValue.NetworkInterfaceNotFound")


def _missing(codes: tuple[str, ...]):
    def is_missing(e: Exception) -> bool:
        code = getattr(e, "code", "") or ""
        return isinstance(e, CloudError) and (code in codes or code == "ResourceNotFound" or code.startswith("ResourceNotFound."))

    return is_missing


def _named(pattern: str):
    return lambda e: ids_in_message(getattr(e, "api_message", ""), pattern)


def _filter_refused(e: Exception) -> bool:
    """The id-filter fallback was rejected as a request (too many values...): bisect instead."""
    code = getattr(e, "code", "") or ""
    return isinstance(e, CloudError) and code.startswith(("InvalidParameter", "InvalidFilter", "UnknownParameter",
                                                          "UnsupportedOperation", "MissingParameter"))


class VpcAdapter(Adapter):
    service = "vpc"

    # -- security groups ------------------------------------------------------------------------
    def create_security_group(self, name: str, description: str = "", tags: Mapping[str, str] | None = None,
                              project_id: str | int | None = None) -> SecurityGroup:
        params: dict = {"GroupName": name, "GroupDescription": description or ""}
        if project_id is not None:
            params["ProjectId"] = str(project_id)
        if tags:
            params["Tags"] = tags_param(tags)
        d = self._call("CreateSecurityGroup", params)
        group = d.get("SecurityGroup") or {}
        if not group.get("SecurityGroupId"):
            raise CloudError("InvalidResponse", "CreateSecurityGroup answered without a SecurityGroupId",
                             d.get("RequestId"), action="CreateSecurityGroup")
        return _security_group(group)

    def describe_security_groups(self, ids: Iterable[str] | None = None, *, name: str | None = None,
                                 filters: FilterSpec | None = None) -> list[SecurityGroup]:
        if ids is not None and (name or filters):
            raise ValueError("DescribeSecurityGroups takes ids or filters, not both")
        if ids is not None:
            out: list[SecurityGroup] = []
            for batch in batched(unique(ids), 100):
                found, _ = fetch_tolerating_missing(
                    batch,
                    lambda b: self._security_groups({"SecurityGroupIds": b}),
                    _missing(SG_MISSING_CODES),
                    _named(r"sg-[0-9a-z]+"),
                    fallback=lambda b: self._security_groups({"Filters": filters_param({"security-group-id": b})}),
                    fallback_refused=_filter_refused,
                )
                out.extend(found)
            return out
        spec = dict(filters or {})
        if name:
            spec["security-group-name"] = name
        return self._security_groups({"Filters": filters_param(spec)} if spec else {})

    def _security_groups(self, selector: dict) -> list[SecurityGroup]:
        def fetch(offset: int, limit: int):
            d = self._call("DescribeSecurityGroups", {**selector, "Offset": str(offset), "Limit": str(limit)})
            return [_security_group(g) for g in d.get("SecurityGroupSet") or []], d.get("TotalCount")

        return paginate_offset(fetch, limit=100)

    def find_security_groups_by_name(self, name: str) -> list[SecurityGroup]:
        return [g for g in self.describe_security_groups(name=name) if g.name == name]

    def find_missing_security_groups(self, ids: Iterable[str]) -> list[str]:
        wanted = unique(ids)
        present = {g.security_group_id for g in self.describe_security_groups(wanted)}
        return [i for i in wanted if i not in present]

    def create_security_group_policies(self, group_id: str, ingress: Iterable[SecurityGroupRule] = (),
                                       egress: Iterable[SecurityGroupRule] = ()) -> None:
        for direction, rules in (("Ingress", list(ingress)), ("Egress", list(egress))):
            if rules:
                self._call("CreateSecurityGroupPolicies", {
                    "SecurityGroupId": group_id,
                    "SecurityGroupPolicySet": {direction: [r.to_api() for r in rules]},
                })

    def describe_security_group_limit(self) -> int:
        d = self._call("DescribeSecurityGroupLimits", {})
        limit = (d.get("SecurityGroupLimitSet") or {}).get("InstanceSecurityGroupLimit")
        return int(limit) if limit else DEFAULT_INSTANCE_SECURITY_GROUP_LIMIT

    # -- rules and templates (what core.traffic evaluates) ----------------------------------------
    def describe_security_group_policies(self, group_ids: Iterable[str], *, concurrency: int = 8) -> list[GroupRules]:
        """Each group's rules with their ``Version``, in the ids' order. The API takes one group per
        call, so the calls run ``concurrency`` at a time; a group that does not exist is left out
        (compare the result's ids with the ones asked for)."""
        from sgpctl.core.traffic.model import GroupRules

        is_missing = _missing(SG_MISSING_CODES)

        def one(group_id: str) -> GroupRules | None:
            try:
                d = self._call("DescribeSecurityGroupPolicies", {"SecurityGroupId": group_id})
            except CloudError as e:
                if is_missing(e):
                    return None
                raise
            policy_set = d.get("SecurityGroupPolicySet")
            if policy_set is None:
                raise CloudError("InvalidResponse", "DescribeSecurityGroupPolicies answered without a "
                                 "SecurityGroupPolicySet", d.get("RequestId"), action="DescribeSecurityGroupPolicies")
            return GroupRules.from_api(group_id, policy_set)

        return [g for g in self._concurrently(one, unique(group_ids), concurrency) if g is not None]

    def _templates(self, action: str, key: str, id_filter: str, parse, ids: Iterable[str] | None) -> list:
        def listing(selector: dict) -> list:
            def fetch(offset: int, limit: int):
                d = self._call(action, {**selector, "Offset": str(offset), "Limit": str(limit)})
                return [parse(x) for x in d.get(key) or []], d.get("TotalCount")

            return paginate_offset(fetch, limit=100)

        if ids is None:
            return listing({})
        return [t for batch in batched(unique(ids), 100)
                for t in listing({"Filters": filters_param({id_filter: batch})})]

    def describe_address_templates(self, ids: Iterable[str] | None = None) -> list[AddressTemplate]:
        """IP address templates by id (all of them without ids); unknown ids are simply absent."""
        from sgpctl.core.traffic.model import AddressTemplate

        return self._templates("DescribeAddressTemplates", "AddressTemplateSet", "address-template-id",
                               AddressTemplate.from_api, ids)

    def describe_address_template_groups(self, ids: Iterable[str] | None = None) -> list[AddressTemplateGroup]:
        from sgpctl.core.traffic.model import AddressTemplateGroup

        return self._templates("DescribeAddressTemplateGroups", "AddressTemplateGroupSet",
                               "address-template-group-id", AddressTemplateGroup.from_api, ids)

    def describe_service_templates(self, ids: Iterable[str] | None = None) -> list[ServiceTemplate]:
        from sgpctl.core.traffic.model import ServiceTemplate

        return self._templates("DescribeServiceTemplates", "ServiceTemplateSet", "service-template-id",
                               ServiceTemplate.from_api, ids)

    def describe_service_template_groups(self, ids: Iterable[str] | None = None) -> list[ServiceTemplateGroup]:
        from sgpctl.core.traffic.model import ServiceTemplateGroup

        return self._templates("DescribeServiceTemplateGroups", "ServiceTemplateGroupSet",
                               "service-template-group-id", ServiceTemplateGroup.from_api, ids)

    def describe_rule_book(self, group_ids: Iterable[str], known_enis: Iterable[NetworkInterface] = (), *,
                           concurrency: int = 8, eni_addresses: Iterable[str] = ()) -> RuleBook:
        """The rules of ``group_ids`` and everything they refer to: the templates and template
        groups they name, and the private addresses of the ENIs bound to the groups their
        ``SecurityGroupId`` rules name. ``known_enis`` are ENIs the caller described (its Pods'
        sub-ENIs): they count as members of the groups they carry even if the listing by group
        leaves them out (whether it shows sub-ENIs is not documented). ``eni_addresses`` are
        addresses the caller knows to be on ENIs the listing does show (nodes' primary ENIs, Pods on
        a node's ENIs). With the ENIs found bound to referenced groups, all these are the addresses
        whose bindings are known (``RuleBook.known_addresses``): only another kind of resource (a
        load balancer, a database) can make an unknown address a member."""
        from sgpctl.core.traffic.model import RuleBook

        known_enis = list(known_enis)
        rules = self.describe_security_group_policies(group_ids, concurrency=concurrency)
        sgs, at, atg, st, stg = RuleBook.build(rules).referenced()
        address_groups = self.describe_address_template_groups(sorted(atg)) if atg else []
        service_groups = self.describe_service_template_groups(sorted(stg)) if stg else []
        at.update(i for g in address_groups for i in g.template_ids)
        st.update(i for g in service_groups for i in g.template_ids)
        members: dict[str, set[str]] = {g: set() for g in sgs}
        known = {ip for e in known_enis for ip in e.private_ips} | set(eni_addresses)
        listed = []
        for batch in batched(sorted(sgs), MEMBER_GROUPS_PER_CALL):
            listed.extend(self.describe_network_interfaces(filters={"groups.security-group-id": batch}))
        for eni in [*listed, *known_enis]:
            known.update(eni.private_ips)
            for g in set(eni.security_group_ids) & members.keys():
                members[g].update(eni.private_ips)
        return RuleBook.build(
            rules, members,
            self.describe_address_templates(sorted(at)) if at else [], address_groups,
            self.describe_service_templates(sorted(st)) if st else [], service_groups,
            known_addresses=known,
        )

    # -- subnets ---------------------------------------------------------------------------------
    def describe_subnets(self, ids: Iterable[str] | None = None, filters: FilterSpec | None = None) -> list[Subnet]:
        """Subnets by id (100 per call; like DescribeSecurityGroups, Offset/Limit are strings), or
        every subnet the filters match (``{"vpc-id": "vpc-1"}``: a VPC's subnets), page by page.
        Ids the VPC does not know are simply absent from the result."""
        if ids is not None and filters:
            raise ValueError("DescribeSubnets takes ids or filters, not both")
        if ids is None:
            def fetch(offset: int, limit: int):
                d = self._call("DescribeSubnets", {**({"Filters": filters_param(filters)} if filters else {}),
                                                   "Offset": str(offset), "Limit": str(limit)})
                return [_subnet(x) for x in d.get("SubnetSet") or []], d.get("TotalCount")

            return paginate_offset(fetch, limit=100)
        out: list[Subnet] = []
        for batch in batched(unique(ids), 100):
            d = self._call("DescribeSubnets", {"SubnetIds": batch, "Offset": "0", "Limit": "100"})
            out.extend(_subnet(x) for x in d.get("SubnetSet") or [])
        return out

    # -- network interfaces ---------------------------------------------------------------------
    def describe_network_interfaces(self, ids: Iterable[str] | None = None,
                                    filters: FilterSpec | None = None, *, concurrency: int = 1) -> list[NetworkInterface]:
        """``concurrency`` > 1 sends that many 100-id batches at once (results keep the ids' order):
        against the real API each call costs a round trip, so 10,000 ENIs take 100 of them. The
        retry policy absorbs the throttling a burst may meet."""
        if ids is not None and filters:
            raise ValueError("DescribeNetworkInterfaces takes ids or filters, not both")
        if ids is not None:
            def one_batch(batch: list[str]) -> list[NetworkInterface]:
                found, _ = fetch_tolerating_missing(
                    batch,
                    lambda b: self._enis({"NetworkInterfaceIds": b}),
                    _missing(ENI_MISSING_CODES),
                    _named(r"eni-[0-9a-z]+"),
                    fallback=lambda b: self._enis({"Filters": filters_param({"network-interface-id": b})}),
                    fallback_refused=_filter_refused,
                )
                return found

            batches = list(batched(unique(ids), 100))
            return [eni for found in self._concurrently(one_batch, batches, concurrency) for eni in found]
        return self._enis({"Filters": filters_param(filters)} if filters else {})

    def _enis(self, selector: dict) -> list[NetworkInterface]:
        def fetch(offset: int, limit: int):
            d = self._call("DescribeNetworkInterfaces", {**selector, "Offset": offset, "Limit": limit})
            return [_eni(e) for e in d.get("NetworkInterfaceSet") or []], d.get("TotalCount")

        return paginate_offset(fetch, limit=100)

    def describe_instance_network_interfaces(self, instance_ids: Iterable[str], *,
                                             concurrency: int = 4) -> list[NetworkInterface]:
        """Every ENI attached to these CVM instances (primary, secondary and relayed sub-ENIs):
        ``attachment.instance-id`` filters of ``INSTANCES_PER_CALL`` ids, each paged, ``concurrency``
        calls at a time."""
        batches = list(batched(unique(instance_ids), INSTANCES_PER_CALL))
        found = self._concurrently(lambda b: self._enis({"Filters": filters_param({"attachment.instance-id": b})}),
                                   batches, concurrency)
        return [eni for page in found for eni in page]

    def delete_network_interface(self, eni_id: str) -> bool:
        """Delete an ENI. Deleting twice leaves the same state (the second answer is "not found"),
        so a lost answer is retried; False when it did not exist. Whether the API deletes a per-Pod
        sub-ENI is not documented: a refusal is raised as the API's ``CloudError``."""
        return self._delete("DeleteNetworkInterface", {"NetworkInterfaceId": eni_id}, ENI_MISSING_CODES)

    def delete_security_group(self, group_id: str) -> bool:
        """Delete a security group (the API refuses one that another group's rules name); False when
        it did not exist. Retried like ``delete_network_interface``."""
        return self._delete("DeleteSecurityGroup", {"SecurityGroupId": group_id}, SG_MISSING_CODES)

    def _delete(self, action: str, params: dict, missing_codes: tuple[str, ...]) -> bool:
        try:
            self._call(action, params, idempotent=True)
        except CloudError as e:
            if _missing(missing_codes)(e):
                return False
            raise
        return True

    def describe_network_interface_limit(self, instance_id: str) -> EniLimit:
        d = self._call("DescribeNetworkInterfaceLimit", {"InstanceId": instance_id})
        return EniLimit(
            eni_quantity=d.get("EniQuantity"),
            eni_private_ip_quantity=d.get("EniPrivateIpAddressQuantity"),
            extend_eni_quantity=d.get("ExtendEniQuantity"),
            extend_eni_private_ip_quantity=d.get("ExtendEniPrivateIpAddressQuantity"),
            sub_eni_quantity=d.get("SubEniQuantity"),
            sub_eni_private_ip_quantity=d.get("SubEniPrivateIpAddressQuantity"),
        )


def _security_group(g: dict) -> SecurityGroup:
    return SecurityGroup(
        security_group_id=g.get("SecurityGroupId") or "",
        name=g.get("SecurityGroupName") or "",
        description=g.get("SecurityGroupDesc"),
        project_id=None if g.get("ProjectId") is None else str(g.get("ProjectId")),
        is_default=g.get("IsDefault"),
        created_time=g.get("CreatedTime"),
        tags=tuple((t.get("Key") or "", t.get("Value") or "") for t in g.get("TagSet") or []),
    )


def _subnet(x: dict) -> Subnet:
    return Subnet(subnet_id=x.get("SubnetId") or "", name=x.get("SubnetName"), vpc_id=x.get("VpcId"),
                  cidr_block=x.get("CidrBlock"), zone=x.get("Zone"), available_ips=x.get("AvailableIpAddressCount"))


def _eni(e: dict) -> NetworkInterface:
    attachment = e.get("Attachment") or {}
    return NetworkInterface(
        eni_id=e.get("NetworkInterfaceId") or "",
        name=e.get("NetworkInterfaceName"),
        vpc_id=e.get("VpcId"),
        subnet_id=e.get("SubnetId"),
        security_group_ids=tuple(e.get("GroupSet") or ()),
        private_ips=tuple(ip.get("PrivateIpAddress") for ip in e.get("PrivateIpAddressSet") or []
                          if ip.get("PrivateIpAddress")),
        primary=e.get("Primary"),
        state=e.get("State"),
        eni_type=e.get("EniType"),
        business=e.get("Business"),
        zone=e.get("Zone"),
        instance_id=attachment.get("InstanceId") or None,
        device_index=attachment.get("DeviceIndex"),
        mac=e.get("MacAddress"),
        created_time=e.get("CreatedTime"),
    )


ADAPTER = VpcAdapter
