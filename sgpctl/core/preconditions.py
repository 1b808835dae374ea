"""The cluster preconditions of Trunking ENI (the TKE document, "Enabling Trunking ENI Feature For
Existing Clusters"): VPC-CNI network mode, shared ENI, static Pod IP, eniipamd 3.5.6 or later; and
whether Trunking ENI is on. Checks in the one model (``core.checks``): `enable-trunking` refuses on a
failed one, `trunking status` reports them, `doctor` runs the same specs in its network-mode and
trunking categories.

Pure: callers pass what TKE reported (DescribeClusters' ``Property``, DescribeIPAMD, the eniipamd
add-on version, eniipamd's effective values). A value TKE did not report makes its check undetermined,
never failed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sgpctl.core.addon_values import ENABLE_SUB_ENI, is_true, values_get
from sgpctl.core.checks import CategorySpec, CheckOutcome, CheckResult, CheckSpec, failed, passed, run_checks, undetermined
from sgpctl.core.versions import MIN_ENIIPAMD_FOR_TRUNKING, at_least, format_version

CATEGORY = "network-mode"
ID_VPC_CNI = "network-vpc-cni"
ID_SHARED_ENI = "network-shared-eni"
ID_STATIC_IP = "network-static-ip"
ID_ENIIPAMD_VERSION = "eniipamd-version"


@dataclass(frozen=True)
class ClusterNetwork:
    """What TKE reports about the cluster's network (None: not reported)."""

    network_type: str | None
    ipamd_enabled: bool | None
    vpc_cni_disabled: bool | None
    vpc_cni_type: str | None
    non_static_ip: bool | None
    eniipamd_version: str | None
    eniipamd_installed: bool


def check_vpc_cni(n: ClusterNetwork) -> CheckOutcome:
    if n.network_type is None and n.ipamd_enabled is None:
        return undetermined("the cluster does not report its network mode")
    if n.network_type == "VPC-CNI" or (bool(n.ipamd_enabled) and not n.vpc_cni_disabled):
        return passed("VPC-CNI")
    return failed(f"network mode is {n.network_type or 'not VPC-CNI'}",
                  "Trunking ENI needs a VPC-CNI cluster; enable VPC-CNI in the TKE console "
                  "(Basic information > VPC-CNI) or create a VPC-CNI cluster")


def check_shared_eni(n: ClusterNetwork) -> CheckOutcome:
    if n.vpc_cni_type is None:
        return undetermined("the cluster does not report its VPC-CNI mode")
    if n.vpc_cni_type == "tke-route-eni":
        return passed("shared ENI")
    return failed(f"VPC-CNI mode is {n.vpc_cni_type} (exclusive ENI)",
                  "Trunking ENI works only in shared-ENI mode (tke-route-eni); exclusive-ENI clusters are not supported")


def check_static_ip(n: ClusterNetwork) -> CheckOutcome:
    if n.non_static_ip is None:
        return undetermined("the cluster does not report whether Pod IPs are static")
    if not n.non_static_ip:
        return passed("static Pod IP")
    return failed("the cluster uses non-static Pod IPs",
                  "Trunking ENI needs static Pod IP mode, which is chosen when the cluster is created: "
                  "use a cluster created with VPC-CNI shared ENI + static Pod IP")


def check_eniipamd_version(n: ClusterNetwork) -> CheckOutcome:
    minimum = format_version(MIN_ENIIPAMD_FOR_TRUNKING)
    if not n.eniipamd_installed:
        return failed("the eniipamd add-on is not installed", "enable VPC-CNI on the cluster; it installs eniipamd")
    new_enough = at_least(n.eniipamd_version, MIN_ENIIPAMD_FOR_TRUNKING)
    if new_enough is None:
        return undetermined(f"eniipamd reports version {n.eniipamd_version!r}, which is not a version number")
    if new_enough:
        return passed(f"eniipamd {n.eniipamd_version}")
    return failed(f"eniipamd {n.eniipamd_version}",
                  f"upgrade eniipamd to {minimum} or later: TKE console > Add-on management > eniipamd > Upgrade")


def precondition_specs(get: Callable[[Any], ClusterNetwork] = lambda ctx: ctx,
                       requires: Sequence[str] = ()) -> list[CheckSpec]:
    """The four preconditions as check specs; ``get(context)`` gives the ClusterNetwork."""
    req = tuple(requires)
    minimum = format_version(MIN_ENIIPAMD_FOR_TRUNKING)
    table = [
        (ID_VPC_CNI, "the cluster runs VPC-CNI", check_vpc_cni),
        (ID_SHARED_ENI, "VPC-CNI uses shared ENIs (tke-route-eni)", check_shared_eni),
        (ID_STATIC_IP, "Pods have static IPs", check_static_ip),
        (ID_ENIIPAMD_VERSION, f"eniipamd is {minimum} or later", check_eniipamd_version),
    ]
    return [CheckSpec(i, d, (lambda ctx, fn=fn: fn(get(ctx))), requires=req) for i, d, fn in table]


def trunking_preconditions(network: ClusterNetwork) -> list[CheckResult]:
    return list(run_checks([CategorySpec(CATEGORY, tuple(precondition_specs()))], network))


def trunking_enabled(effective_values: Mapping[str, Any], hint: str | None = None) -> CheckOutcome:
    """Whether eniipamd's effective ``vpcCni.trunkingEni.enableSubEni`` is true (a key left unset takes
    the chart's default; a string "true" counts)."""
    value = values_get(effective_values, ENABLE_SUB_ENI)
    if is_true(value):
        return passed(f"{ENABLE_SUB_ENI} is true")
    return failed(f"Trunking ENI is off ({ENABLE_SUB_ENI} is {value!r}): Pods cannot get sub-ENIs", hint)
