"""The real Tencent Cloud regions, so the sandbox answers every one of them like the real API.

The region names and zones are the public regions the installed SDK's CVM ``ZoneInfo.Zone``
docstring lists zones for (sold-out zones included, as CVM still lists them); the numeric
``RegionId`` is Tencent's (terraform-provider-tencentcloud ``services/tcr`` ``RegionIdMap``);
the descriptions are CVM ``DescribeRegions``' (tccli example and API docs). ``alias`` is the short
name TKE puts in ``topology.kubernetes.io/region`` node labels and ``RegionInstance.Alias``:
``gz``/``sh``/``bj`` are seen on real nodes, the others follow Tencent's domain short names and are
unconfirmed (nothing in sgpctl reads them).

A request for a region in this table is served (empty where the sandbox holds nothing); any
other name answers ``UnsupportedRegion`` with the text the real API sends (a real response seen
in TencentCloud/tencentcloud-sdk-php#46: "The action not support this region."). Retired regions
the Go SDK still names (``eu-moscow``, ``na-toronto``, ``ap-guangzhou-open``) are not listed by
DescribeRegions any more, so they are treated as not real: what the real API answers for them
is unconfirmed.

``ZoneId`` (TKE's numeric zone in node labels and providerIDs, e.g. ``100003``) is known for the
regions the sandbox builds clusters in (``zone_base``); elsewhere it is None, which is also why
CVM DescribeZones is not emulated.
"""

from __future__ import annotations

from dataclasses import dataclass

UNSUPPORTED_REGION = "UnsupportedRegion"
UNSUPPORTED_REGION_MESSAGE = "The action not support this region."


@dataclass(frozen=True)
class Region:
    name: str
    region_id: int
    alias: str
    description: str
    zones: tuple[int, ...]
    zone_base: int | None = None

    def zone_names(self) -> list[str]:
        return [f"{self.name}-{n}" for n in self.zones]


REGIONS: dict[str, Region] = {r.name: r for r in (
    Region("ap-guangzhou", 1, "gz", "华南地区(广州)", (1, 2, 3, 4, 6, 7), zone_base=100000),
    Region("ap-shanghai", 4, "sh", "华东地区(上海)", (2, 3, 4, 5, 8), zone_base=200000),
    Region("ap-nanjing", 33, "nj", "华东地区(南京)", (1, 2, 3)),
    Region("ap-beijing", 8, "bj", "华北地区(北京)", (1, 3, 4, 5, 6, 7)),
    Region("ap-chengdu", 16, "cd", "西南地区(成都)", (1, 2)),
    Region("ap-chongqing", 19, "cq", "西南地区(重庆)", (1,)),
    Region("ap-hongkong", 5, "hk", "港澳台地区(中国香港)", (1, 2, 3)),
    Region("ap-shanghai-fsi", 7, "shjr", "华东地区(上海金融)", (2, 3, 4)),
    Region("ap-shenzhen-fsi", 11, "szjr", "华南地区(深圳金融)", (1, 2, 3)),
    Region("ap-singapore", 9, "sg", "亚太东南(新加坡)", (1, 2, 3, 4)),
    Region("ap-bangkok", 23, "th", "亚太东南(曼谷)", (1, 2)),
    Region("ap-jakarta", 72, "jkt", "亚太东南(雅加达)", (1, 2)),
    Region("ap-seoul", 18, "kr", "亚太东北(首尔)", (1, 2)),
    Region("ap-tokyo", 25, "jp", "亚太东北(东京)", (1, 2)),
    Region("ap-mumbai", 21, "in", "亚太南部(孟买)", (1, 2)),
    Region("na-siliconvalley", 15, "usw", "美国西部(硅谷)", (1, 2)),
    Region("na-ashburn", 22, "use", "美国东部(弗吉尼亚)", (1, 2)),
    Region("eu-frankfurt", 17, "de", "欧洲地区(法兰克福)", (1, 2)),
    Region("sa-saopaulo", 74, "sao", "南美地区(圣保罗)", (1,)),
)}


def is_real(name: str | None) -> bool:
    return name in REGIONS


def region_of_zone(zone: str) -> Region | None:
    name, _, number = zone.rpartition("-")
    region = REGIONS.get(name)
    return region if region is not None and number.isdigit() and int(number) in region.zones else None


def zone_id(zone: str) -> str:
    """``ap-guangzhou-3`` -> ``100003``: the numeric zone TKE puts in node labels and providerIDs.
    ValueError for a zone whose region's numbering the sandbox does not know."""
    region = region_of_zone(zone)
    if region is None or region.zone_base is None:
        raise ValueError(f"no known numeric zone id for {zone!r}")
    return str(region.zone_base + int(zone.rsplit("-", 1)[1]))
