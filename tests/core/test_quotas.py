"""The TKE document's Trunking ENI quota table, and the order in which quota sources are trusted."""

from __future__ import annotations

import pytest

from sgpctl.core.allocation import node_quota
from sgpctl.core.annotations import RESOURCE_SUB_ENI
from sgpctl.core.quotas import (
    DEFAULT_QUOTA,
    LARGE_QUOTA,
    SUPPORTED_FAMILIES,
    cpu_from_instance_type,
    instance_family,
    table_quota,
)


@pytest.mark.parametrize("instance_type,family", [
    ("S5.LARGE8", "S5"),
    ("SA5.16XLARGE256", "SA5"),
    ("sa5.medium4", "SA5"),
    ("ITA5.8XLARGE128", "ITA5"),
    ("M8", "M8"),
])
def test_family_is_the_part_before_the_dot(instance_type, family):
    assert instance_family(instance_type) == family


@pytest.mark.parametrize("instance_type,cores", [
    ("S5.SMALL1", 1),
    ("S5.MEDIUM4", 2),
    ("S5.LARGE8", 4),
    ("S5.2XLARGE16", 8),
    ("S5.16XLARGE256", 64),
    ("IT5.21XLARGE320", 84),
    ("SA5.XLARGE", None),     # no confirmed Tencent spelling: not guessed
    ("SA5.HUGE", None),
    ("SA5", None),
])
def test_cores_from_the_size_name(instance_type, cores):
    assert cpu_from_instance_type(instance_type) == cores


def test_document_lists_eight_supported_families():
    assert SUPPORTED_FAMILIES == ("ITA5", "M8", "MA4", "MA5", "S8", "S9", "SA4", "SA5")
    assert (DEFAULT_QUOTA, LARGE_QUOTA) == (100, 256)


@pytest.mark.parametrize("family", ["ITA5", "M8", "MA4", "MA5", "S8", "S9", "SA4", "SA5"])
def test_every_supported_family_gets_the_default(family):
    assert table_quota(f"{family}.LARGE8") == 100


@pytest.mark.parametrize("instance_type,cpu,quota", [
    ("S5.LARGE8", None, 0),              # unsupported family: 0
    ("SA2.16XLARGE256", 64, 0),          # unsupported even with 64 cores
    ("SA5.16XLARGE256", None, 256),      # 64 cores read from the size name
    ("SA5.16XLARGE256", 32, 100),        # a known core count wins over the name
    ("SA5.8XLARGE64", 64, 256),
    ("SA5.32XLARGE512", None, 256),      # more than 64 cores is still the large tier
    ("S9.12XLARGE96", None, 100),        # 48 cores
    ("SA5.15XLARGE", None, 100),         # 60 cores
    ("SA5.XLARGE", None, 100),           # cores unknown: the default
])
def test_table_quota(instance_type, cpu, quota):
    assert table_quota(instance_type, cpu) == quota


def node(itype="SA5.LARGE8", allocatable=None, capacity_cpu=None, beta=False, name="n1"):
    labels = {}
    if itype:
        labels["beta.kubernetes.io/instance-type" if beta else "node.kubernetes.io/instance-type"] = itype
    status: dict = {}
    if allocatable is not None:
        status["allocatable"] = {RESOURCE_SUB_ENI: allocatable, "cpu": "3920m"}
    if capacity_cpu is not None:
        status["capacity"] = {"cpu": capacity_cpu}
    return {"metadata": {"name": name, "labels": labels}, "status": status}


QUOTA_CASES = [
    # (id, node, cloud_limits, cpu_by_type, (quota, source, supported, family))
    ("allocatable wins over cloud and table", node(allocatable="37"),
     {"SA5.LARGE8": (80, "DescribeNetworkInterfaceLimit")}, None, (37, "allocatable", True, "SA5")),
    ("allocatable 0 on a supported family", node(allocatable="0"), None, None, (0, "allocatable", True, "SA5")),
    ("unsupported family that reports a quota anyway counts as supported",
     node("S5.LARGE8", allocatable="20"), None, None, (20, "allocatable", True, "S5")),
    ("cloud figure with its source", node(), {"SA5.LARGE8": (80, "DescribeNetworkInterfaceLimit")}, None,
     (80, "DescribeNetworkInterfaceLimit", True, "SA5")),
    ("bare cloud figure is from DescribeVpcCniPodLimits", node(), {"SA5.LARGE8": 90}, None,
     (90, "DescribeVpcCniPodLimits", True, "SA5")),
    ("cloud figure for another type: the table", node(), {"SA5.2XLARGE16": 90}, None, (100, "table", True, "SA5")),
    ("table with CPU from CVM", node("SA5.8XLARGE64"), None, {"SA5.8XLARGE64": 64}, (256, "table", True, "SA5")),
    ("table with CPU from the node's capacity", node("SA5.FOO", capacity_cpu="64"), None, None,
     (256, "table", True, "SA5")),
    ("CVM's CPU wins over the node's capacity", node("SA5.FOO", capacity_cpu="64"), None, {"SA5.FOO": 8},
     (100, "table", True, "SA5")),
    ("unsupported family from the table", node("S5.LARGE8"), None, None, (0, "table", False, "S5")),
    ("beta instance-type label", node("SA4.LARGE8", beta=True), None, None, (100, "table", True, "SA4")),
    ("no instance type and no allocatable", node(None), None, None, (0, "unknown", False, None)),
    # TKESubENI is the type's maximum (the API's own example: 100 for SA2, which the document gives 0)
    ("TKESubENI alone never makes an unlisted family supported", node("SA2.LARGE8"),
     {"SA2.LARGE8": {"DescribeVpcCniPodLimits": 100}}, None, (0, "table", False, "SA2")),
    ("TKESubENI below the table bounds it", node(), {"SA5.LARGE8": {"DescribeVpcCniPodLimits": 60}}, None,
     (60, "DescribeVpcCniPodLimits", True, "SA5")),
    ("the smallest of TKESubENI and SubEniQuantity", node(),
     {"SA5.LARGE8": {"DescribeVpcCniPodLimits": 100, "DescribeNetworkInterfaceLimit": 30}}, None,
     (30, "DescribeNetworkInterfaceLimit", True, "SA5")),
    ("VPC's own quota enables an unlisted family (by ticket)", node("SA2.LARGE8"),
     {"SA2.LARGE8": {"DescribeVpcCniPodLimits": 100, "DescribeNetworkInterfaceLimit": 50}}, None,
     (50, "DescribeNetworkInterfaceLimit", True, "SA2")),
    ("VPC's 0 on an unlisted family", node("SA2.LARGE8"),
     {"SA2.LARGE8": {"DescribeVpcCniPodLimits": 100, "DescribeNetworkInterfaceLimit": 0}}, None,
     (0, "DescribeNetworkInterfaceLimit", False, "SA2")),
    ("on a tie the instance's own figure is named", node(),
     {"SA5.LARGE8": {"DescribeVpcCniPodLimits": 100, "DescribeNetworkInterfaceLimit": 100}}, None,
     (100, "DescribeNetworkInterfaceLimit", True, "SA5")),
]


@pytest.mark.parametrize("n,cloud,cpus,expected", [c[1:] for c in QUOTA_CASES], ids=[c[0] for c in QUOTA_CASES])
def test_node_quota_sources_in_order_of_trust(n, cloud, cpus, expected):
    q = node_quota(n, cloud, cpus)
    assert (q.quota, q.source, q.supported, q.family) == expected
    assert q.node == "n1"
