"""Plain, frozen dataclasses the cloud adapters return. No SDK types ever leave ``sgpctl.cloud``.

Sequences are tuples (so the objects are hashable and cannot be mutated by accident); optional API
fields that the cloud may omit are ``None`` rather than a guessed default. Field names are snake_case
versions of the API's, documented where the meaning is not obvious.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Security-group rules and templates are core.traffic's own plain types: the evaluator consumes
# them as the VPC adapter returns them, so they are defined once, there. Re-exported on first use:
# importing core.traffic (the whole evaluator) was a tenth of `verify pods`' start-up, which needs
# none of it.
_TRAFFIC_TYPES = ("AddressTemplate", "AddressTemplateGroup", "AddressTemplateRef", "GroupRules", "Rule", "RuleBook",
                  "ServiceTemplate", "ServiceTemplateGroup", "ServiceTemplateRef")


def __getattr__(name: str) -> Any:
    if name in _TRAFFIC_TYPES:
        from sgpctl.core.traffic import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# -- CAM ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """One ListPolicies entry. ``type``: 1 custom, 2 preset (QCS)."""

    policy_id: int
    name: str
    type: int | None = None
    description: str | None = None
    add_time: str | None = None
    create_mode: int | None = None


@dataclass(frozen=True)
class PolicyDetail:
    """GetPolicy. ``document`` is the parsed policy document (lowercase keys: ``version``,
    ``statement``...); ``raw_document`` is the string the API returned."""

    policy_id: int
    name: str
    document: dict = field(hash=False)
    raw_document: str = ""
    description: str | None = None
    type: int | None = None
    add_time: str | None = None
    update_time: str | None = None


@dataclass(frozen=True)
class Role:
    role_id: str
    name: str
    description: str | None = None
    role_type: str | None = None
    add_time: str | None = None


@dataclass(frozen=True)
class AttachedPolicy:
    """One ListAttachedRolePolicies entry. ``policy_type``: ``User`` (custom) or ``QCS`` (preset)."""

    policy_id: int
    name: str
    policy_type: str | None = None
    add_time: str | None = None
    create_mode: int | None = None


# -- TKE ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """DescribeClusters, with ``Property`` (a JSON string in the API) parsed into ``properties``.

    ``network_type``: ``GR``, ``VPC-CNI``, ``CiliumOverlay``...; ``vpc_cni_type``: ``tke-route-eni``
    (shared ENI) or ``tke-direct-eni`` (exclusive); ``non_static_ip``: ``IsNonStaticIpMode``
    (False = static Pod IP). Each is None when the cluster does not say.
    """

    cluster_id: str
    name: str | None
    version: str | None
    status: str | None
    vpc_id: str | None
    kube_proxy_mode: str | None
    ipvs: bool | None
    network_type: str | None
    vpc_cni_type: str | None
    non_static_ip: bool | None
    cluster_type: str | None = None
    properties: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Ipamd:
    """DescribeIPAMD: the eniipamd component as TKE's control plane sees it (read-only)."""

    enabled: bool | None
    disable_vpc_cni_mode: bool | None
    phase: str | None
    reason: str | None
    subnet_ids: tuple[str, ...] = ()
    claim_expired_duration: str | None = None
    trunking_enabled: bool | None = None
    customized_pod_cidr: bool | None = None


@dataclass(frozen=True)
class Addon:
    """DescribeAddon entry. ``version`` has any leading ``v`` removed; ``raw_values`` is the decoded
    base64 JSON of ``RawValues`` (None when absent or undecodable). ``phase``: Installing, Upgrading,
    Terminating, Succeeded, InstallFailed, UpgradFailed (sic)."""

    name: str
    version: str | None
    phase: str | None
    reason: str | None
    raw_values: dict | None = field(default=None, hash=False)
    create_time: str | None = None


@dataclass(frozen=True)
class AddonValues:
    """DescribeAddonValues: ``values`` are the rendered values, i.e. those set over the chart's defaults
    (the API documents ``Values`` as rendered from the set parameters and the chart's defaults; empty
    when not installed), ``defaults`` the chart's defaults."""

    values: dict = field(hash=False)
    defaults: dict = field(hash=False)


@dataclass(frozen=True)
class Chart:
    name: str
    label: str | None
    latest_version: str | None


@dataclass(frozen=True)
class PodLimits:
    """DescribeVpcCniPodLimits entry. ``sub_eni`` (TKESubENI) is the per-instance-type trunking sub-ENI
    limit; the others are Pod limits of the other VPC-CNI modes."""

    zone: str | None
    instance_family: str | None
    instance_type: str | None
    route_eni_non_static_ip: int | None
    route_eni_static_ip: int | None
    direct_eni: int | None
    sub_eni: int | None


@dataclass(frozen=True)
class ClusterInstance:
    """DescribeClusterInstances entry (no instance type: use CVM or the node label)."""

    instance_id: str
    role: str | None
    state: str | None
    lan_ip: str | None
    node_pool_id: str | None = None
    failed_reason: str | None = None
    drain_status: str | None = None


@dataclass(frozen=True)
class ClusterEndpoints:
    """DescribeClusterEndpoints: where the cluster's kube-apiserver answers. Each address is an IP or a
    domain, with or without a port (443 when absent); None when not enabled."""

    cluster_id: str
    external: str | None = None
    intranet: str | None = None
    domain: str | None = None
    external_domain: str | None = None
    intranet_domain: str | None = None

    def addresses(self) -> tuple[str, ...]:
        return tuple(a for a in (self.intranet, self.external, self.domain, self.intranet_domain,
                                 self.external_domain) if a)


@dataclass(frozen=True)
class Region:
    """TKE DescribeRegions entry."""

    name: str
    status: str | None = None
    alias: str | None = None


# -- VPC ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecurityGroup:
    security_group_id: str
    name: str
    description: str | None = None
    project_id: str | None = None
    is_default: bool | None = None
    created_time: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    def tag_dict(self) -> dict[str, str]:
        return dict(self.tags)


@dataclass(frozen=True)
class SecurityGroupRule:
    """One allow/deny rule for CreateSecurityGroupPolicies. Exactly one of ``cidr_block``,
    ``ipv6_cidr_block`` and ``source_group_id`` names the peer. ``port`` (``"53"``, ``"8000-8010"``,
    ``"ALL"``) is only accepted with TCP/UDP by the API; leave it None for ICMP/ALL. Whether the
    API accepts ``"ALL"`` with TCP/UDP is not settled (the model lists "all" as a form; the Terraform
    provider refuses it and omits the port instead): ``"1-65535"`` means every port under either
    reading, and is what ``core.traffic`` suggests."""

    protocol: str
    port: str | None = None
    cidr_block: str | None = None
    ipv6_cidr_block: str | None = None
    source_group_id: str | None = None
    action: str = "ACCEPT"
    description: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Protocol": self.protocol}
        if self.port is not None:
            out["Port"] = self.port
        if self.cidr_block is not None:
            out["CidrBlock"] = self.cidr_block
        if self.ipv6_cidr_block is not None:
            out["Ipv6CidrBlock"] = self.ipv6_cidr_block
        if self.source_group_id is not None:
            out["SecurityGroupId"] = self.source_group_id
        out["Action"] = self.action
        if self.description is not None:
            out["PolicyDescription"] = self.description
        return out


@dataclass(frozen=True)
class Subnet:
    """DescribeSubnets entry."""

    subnet_id: str
    name: str | None
    vpc_id: str | None
    cidr_block: str | None
    zone: str | None
    available_ips: int | None = None


@dataclass(frozen=True)
class NetworkInterface:
    """DescribeNetworkInterfaces entry. ``eni_type``: 0 secondary, 1 primary, 2 relayed ENI ("中继网卡",
    a per-Pod sub-ENI; a trunk ENI is a secondary ENI with the trunk flag, which is not returned);
    ``instance_id`` / ``device_index`` come from ``Attachment`` (None when not attached)."""

    eni_id: str
    name: str | None
    vpc_id: str | None
    subnet_id: str | None
    security_group_ids: tuple[str, ...]
    private_ips: tuple[str, ...]
    primary: bool | None = None
    state: str | None = None
    eni_type: int | None = None
    business: str | None = None
    zone: str | None = None
    instance_id: str | None = None
    device_index: int | None = None
    mac: str | None = None
    #: ``CreatedTime`` as the API writes it (``2020-10-28 08:23:59``: no time zone, see ``core.leaks``)
    created_time: str | None = None


@dataclass(frozen=True)
class EniLimit:
    """DescribeNetworkInterfaceLimit for one CVM instance (or ENI)."""

    eni_quantity: int | None
    eni_private_ip_quantity: int | None
    extend_eni_quantity: int | None
    extend_eni_private_ip_quantity: int | None
    sub_eni_quantity: int | None
    sub_eni_private_ip_quantity: int | None


# -- CVM ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """DescribeInstances entry. ``family`` is derived: ``InstanceType.split(".")[0]`` (the API has no
    family field); ``cpu`` is cores, ``memory`` GiB; ``private_ips`` are the primary ENI's."""

    instance_id: str
    instance_type: str | None
    family: str | None
    cpu: int | None
    memory: int | None
    zone: str | None
    private_ips: tuple[str, ...]
    vpc_id: str | None
    subnet_id: str | None
    security_group_ids: tuple[str, ...]
    state: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class InstanceTypeConfig:
    instance_type: str
    family: str | None
    cpu: int | None
    memory: int | None
    zone: str | None
    gpu: int | None = None
