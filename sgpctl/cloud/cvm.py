"""CVM adapter (``cvm`` 2017-03-12, regional). Reach it as ``session.cvm``.

API::

    describe_instances(ids=None, filters=None) -> list[Instance]
    describe_instance_type_configs(family=None, instance_type=None, zone=None) -> list[InstanceTypeConfig]

Request bodies (what a fake must accept): ``DescribeInstances {"InstanceIds"? | "Filters"?, "Offset",
"Limit": 100}`` (ids de-duplicated, 100 per call; unknown ids are left out of the result, and an
``InvalidInstanceId.NotFound`` error for a batch is narrowed as in the VPC adapter);
``DescribeInstanceTypeConfigs {"Filters"?: [zone, instance-family, instance-type]}`` (one value each:
the API allows one value per filter).

``Instance.family`` is ``InstanceType.split(".")[0]`` (the API has no family field); use ``cpu`` rather
than parsing the size out of the type name (``SA2.22XLARGE224`` has 90 cores).
"""

from __future__ import annotations

from typing import Iterable

from sgpctl.cloud.paging import batched, fetch_tolerating_missing, ids_in_message, paginate_offset, unique
from sgpctl.cloud.params import Adapter, FilterSpec, filters_param, optional
from sgpctl.core.quotas import instance_family
from sgpctl.cloud.types import Instance, InstanceTypeConfig
from sgpctl.errors import CloudError

INSTANCE_MISSING_CODES = ("InvalidInstanceId.NotFound", "ResourceNotFound.InvalidInstanceIdNotFound")


def family_of(instance_type: str | None) -> str | None:
    return instance_family(instance_type) if instance_type else None


class CvmAdapter(Adapter):
    service = "cvm"

    def describe_instances(self, ids: Iterable[str] | None = None, filters: FilterSpec | None = None) -> list[Instance]:
        if ids is not None and filters:
            raise ValueError("DescribeInstances takes ids or filters, not both")
        if ids is None:
            return self._instances({"Filters": filters_param(filters)} if filters else {})
        out: list[Instance] = []
        for batch in batched(unique(ids), 100):
            found, _ = fetch_tolerating_missing(
                batch,
                lambda b: self._instances({"InstanceIds": b}),
                lambda e: isinstance(e, CloudError) and e.code in INSTANCE_MISSING_CODES,
                lambda e: ids_in_message(getattr(e, "api_message", ""), r"ins-[0-9a-z]+"),
            )
            out.extend(found)
        return out

    def _instances(self, selector: dict) -> list[Instance]:
        def fetch(offset: int, limit: int):
            d = self._call("DescribeInstances", {**selector, "Offset": offset, "Limit": limit})
            return [_instance(i) for i in d.get("InstanceSet") or []], d.get("TotalCount")

        return paginate_offset(fetch, limit=100)

    def describe_instance_type_configs(self, family: str | None = None, instance_type: str | None = None,
                                       zone: str | None = None) -> list[InstanceTypeConfig]:
        spec = optional(**{"zone": zone, "instance-family": family, "instance-type": instance_type})
        d = self._call("DescribeInstanceTypeConfigs", {"Filters": filters_param(spec)} if spec else {})
        return [
            InstanceTypeConfig(
                instance_type=c.get("InstanceType") or "",
                family=c.get("InstanceFamily") or family_of(c.get("InstanceType")),
                cpu=c.get("CPU"),
                memory=c.get("Memory"),
                zone=c.get("Zone"),
                gpu=c.get("GPU"),
            )
            for c in d.get("InstanceTypeConfigSet") or []
        ]


def _instance(i: dict) -> Instance:
    vpc = i.get("VirtualPrivateCloud") or {}
    placement = i.get("Placement") or {}
    return Instance(
        instance_id=i.get("InstanceId") or "",
        instance_type=i.get("InstanceType"),
        family=family_of(i.get("InstanceType")),
        cpu=i.get("CPU"),
        memory=i.get("Memory"),
        zone=placement.get("Zone"),
        private_ips=tuple(i.get("PrivateIpAddresses") or ()),
        vpc_id=vpc.get("VpcId"),
        subnet_id=vpc.get("SubnetId"),
        security_group_ids=tuple(i.get("SecurityGroupIds") or ()),
        state=i.get("InstanceState"),
        name=i.get("InstanceName"),
    )


ADAPTER = CvmAdapter
