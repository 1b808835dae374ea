"""The cluster preconditions of Trunking ENI (the TKE document, "Enabling Trunking ENI Feature For
Existing Clusters"): VPC-CNI network mode, shared ENI, static Pod IP, eniipamd 3.5.6 or later.

Pure: callers pass what TKE reported (DescribeClusters' ``Property``, DescribeIPAMD, the eniipamd
add-on version). Used by `enable-trunking` (to refuse) and `doctor` (to report)."""

from __future__ import annotations

from dataclasses import dataclass

from sgpctl.core.versions import MIN_ENIIPAMD_FOR_TRUNKING, at_least, format_version


@dataclass(frozen=True)
class Condition:
    id: str
    description: str
    #: True met, False not met, None could not be determined
    ok: bool | None
    message: str
    hint: str | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "description": self.description, "ok": self.ok, "message": self.message, "hint": self.hint}


def trunking_preconditions(
    *,
    network_type: str | None,
    ipamd_enabled: bool | None,
    vpc_cni_disabled: bool | None,
    vpc_cni_type: str | None,
    non_static_ip: bool | None,
    eniipamd_version: str | None,
    eniipamd_installed: bool,
) -> list[Condition]:
    out = []
    vpc_cni = network_type == "VPC-CNI" or (bool(ipamd_enabled) and not vpc_cni_disabled)
    if network_type is None and ipamd_enabled is None:
        out.append(Condition("network-vpc-cni", "VPC-CNI network mode", None, "the cluster does not report its network mode"))
    else:
        out.append(Condition(
            "network-vpc-cni", "VPC-CNI network mode", vpc_cni,
            "VPC-CNI" if vpc_cni else f"network mode is {network_type or 'not VPC-CNI'}",
            None if vpc_cni else "Trunking ENI needs a VPC-CNI cluster; enable VPC-CNI in the TKE console "
                                 "(Basic information > VPC-CNI) or create a VPC-CNI cluster",
        ))
    if vpc_cni_type is None:
        out.append(Condition("network-shared-eni", "shared ENI (tke-route-eni)", None, "the cluster does not report its VPC-CNI mode"))
    else:
        shared = vpc_cni_type == "tke-route-eni"
        out.append(Condition(
            "network-shared-eni", "shared ENI (tke-route-eni)", shared,
            "shared ENI" if shared else f"VPC-CNI mode is {vpc_cni_type} (exclusive ENI)",
            None if shared else "Trunking ENI works only in shared-ENI mode (tke-route-eni); exclusive-ENI clusters are not supported",
        ))
    if non_static_ip is None:
        out.append(Condition("network-static-ip", "static Pod IP", None, "the cluster does not report whether Pod IPs are static"))
    else:
        out.append(Condition(
            "network-static-ip", "static Pod IP", not non_static_ip,
            "static Pod IP" if not non_static_ip else "the cluster uses non-static Pod IPs",
            None if not non_static_ip else "Trunking ENI needs static Pod IP mode, which is chosen when the cluster is created: "
                                           "use a cluster created with VPC-CNI shared ENI + static Pod IP",
        ))
    minimum = format_version(MIN_ENIIPAMD_FOR_TRUNKING)
    if not eniipamd_installed:
        out.append(Condition("eniipamd-version", f"eniipamd {minimum} or later", False, "the eniipamd add-on is not installed",
                             "enable VPC-CNI on the cluster; it installs eniipamd"))
    else:
        new_enough = at_least(eniipamd_version, MIN_ENIIPAMD_FOR_TRUNKING)
        if new_enough is None:
            out.append(Condition("eniipamd-version", f"eniipamd {minimum} or later", None,
                                 f"eniipamd reports version {eniipamd_version!r}, which is not a version number"))
        else:
            out.append(Condition(
                "eniipamd-version", f"eniipamd {minimum} or later", new_enough,
                f"eniipamd {eniipamd_version}",
                None if new_enough else f"upgrade eniipamd to {minimum} or later: TKE console > Add-on management > eniipamd > Upgrade",
            ))
    return out
