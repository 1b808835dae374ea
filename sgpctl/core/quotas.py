"""The Trunking ENI (sub-ENI) quota table from the TKE SecurityGroupPolicy document.

The document says: 100 sub-ENIs per node by default, up to 256 on 64-core models, and only the
families below are supported by default; every other family gets quota 0 until VPC enables it
by ticket. This table is the last resort: a node's reported allocatable and the cloud's
per-instance figures are trusted first (see ``allocation.node_quota``).
"""

from __future__ import annotations

import re

SUPPORTED_FAMILIES: tuple[str, ...] = ("ITA5", "M8", "MA4", "MA5", "S8", "S9", "SA4", "SA5")
DEFAULT_QUOTA = 100
LARGE_QUOTA = 256
#: "a maximum of 256 is supported for 64C models": read as 64 cores *or more*, since the
#: document names no larger tier and a bigger model cannot plausibly get less than a 64C one.
LARGE_QUOTA_MIN_CPU = 64

# Tencent CVM size names encode the core count: SMALL = 1, MEDIUM = 2, LARGE = 4 and
# <N>XLARGE = 4*N cores; the trailing number is memory in GB. Checked against published
# specifications: S5.MEDIUM4 = 2C4G, S5.LARGE8 = 4C8G, S5.2XLARGE16 = 8C16G,
# IT5.8XLARGE128 = 32C, IT5.21XLARGE320 = 84C, S5.16XLARGE256 = 64C (CVM DescribeZoneInstanceConfigInfos).
# A bare "XLARGE" has no Tencent spelling we could confirm, so it stays unknown rather than guessed.
_SIZE = re.compile(r"^(?:(SMALL|MEDIUM|LARGE)|(\d+)XLARGE)\d*$")
_NAMED_SIZES = {"SMALL": 1, "MEDIUM": 2, "LARGE": 4}


def instance_family(instance_type: str) -> str:
    """``"S5.LARGE8"`` -> ``"S5"``; ``"sa5.16xlarge256"`` -> ``"SA5"``."""
    return instance_type.strip().split(".", 1)[0].upper()


def cpu_from_instance_type(instance_type: str) -> int | None:
    """Cores implied by the size part of a Tencent instance type, or None when it does not say."""
    parts = instance_type.strip().upper().split(".", 1)
    if len(parts) != 2:
        return None
    m = _SIZE.match(parts[1])
    if not m:
        return None
    if m.group(1):
        return _NAMED_SIZES[m.group(1)]
    n = int(m.group(2))
    return 4 * n if n > 0 else None


def is_supported_family(instance_type: str) -> bool:
    return instance_family(instance_type) in SUPPORTED_FAMILIES


def table_quota(instance_type: str, cpu: int | None = None) -> int:
    """The document's quota for this instance type. ``cpu`` (from CVM or the node) wins over the
    size name; when neither tells the core count, a supported family gets the default 100."""
    if not is_supported_family(instance_type):
        return 0
    cores = cpu if cpu is not None else cpu_from_instance_type(instance_type)
    if cores is not None and cores >= LARGE_QUOTA_MIN_CPU:
        return LARGE_QUOTA
    return DEFAULT_QUOTA
