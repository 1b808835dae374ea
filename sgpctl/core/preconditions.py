"""The cluster preconditions of Trunking ENI (the TKE document, "Enabling Trunking ENI Feature For
Existing Clusters"): VPC-CNI network mode, shared ENI, static Pod IP, eniipamd 3.5.6 or later; and
whether Trunking ENI is on. Checks in the one model (``core.checks``): `enable-trunking` refuses on a
failed one, `trunking status` reports them, `doctor` runs the same specs in its network-mode and
trunking categories.

Pure: callers pass what TKE reported (DescribeClusters' ``Property``, DescribeIPAMD, the eniipamd
add-on version, eniipamd's effective values). A value TKE did not report makes its check undetermined,
never failed; how each is read from the answers is ``core.api_facts``, which `doctor`'s
api-assumptions category shows as well. An undetermined precondition stops `enable-trunking` before
it changes anything, unless the user confirmed it (``--confirm ID``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core.addon_values import ENABLE_SUB_ENI, values_get
from sgpctl.core.api_facts import Fact, confirm_hint, shared_eni, static_ip, trunking_on
from sgpctl.core.checks import CategorySpec, CheckOutcome, CheckResult, CheckSpec, failed, passed, run_checks, undetermined
from sgpctl.core.versions import MIN_ENIIPAMD_FOR_TRUNKING, at_least, format_version

CATEGORY = "network-mode"
ID_VPC_CNI = "network-vpc-cni"
ID_SHARED_ENI = "network-shared-eni"
ID_STATIC_IP = "network-static-ip"
ID_ENIIPAMD_VERSION = "eniipamd-version"


@dataclass(frozen=True)
class ClusterNetwork:
    """What TKE reports about the cluster's network (None: not reported). ``properties`` is
    DescribeClusters' ``Property`` (parsed); ``version`` how eniipamd's version was established (a
    ``core.api_facts.Fact``; without it ``eniipamd_version`` is taken as read)."""

    network_type: str | None
    ipamd_enabled: bool | None
    vpc_cni_disabled: bool | None
    vpc_cni_type: str | None
    non_static_ip: bool | None
    eniipamd_version: str | None
    eniipamd_installed: bool
    properties: Mapping[str, Any] = field(default_factory=dict)
    version: Fact | None = None

    def property(self) -> dict[str, Any]:
        """DescribeClusters' Property, or what the fields say of it when it was not kept."""
        if self.properties:
            return dict(self.properties)
        known = (("NetworkType", self.network_type), ("VpcCniType", self.vpc_cni_type),
                 ("IsNonStaticIpMode", self.non_static_ip))
        return {k: v for k, v in known if v is not None}


def _from_fact(fact: Fact, fail_hint: str, *, failed_when=False) -> CheckOutcome:
    """A precondition from a fact: not established -> undetermined (naming what settles it);
    ``failed_when`` the value that fails it."""
    if not fact.established:
        return undetermined(fact.message, fact.hint, list(fact.evidence))
    if fact.value == failed_when:
        return failed(fact.message, fail_hint, list(fact.evidence))
    return passed(fact.message, list(fact.evidence))


def check_vpc_cni(n: ClusterNetwork) -> CheckOutcome:
    evidence = [f"DescribeClusters Property.NetworkType: {n.network_type or '(none)'}",
                f"DescribeIPAMD EnableIPAMD: {json.dumps(n.ipamd_enabled)}, DisableVpcCniMode: {json.dumps(n.vpc_cni_disabled)}"]
    if n.network_type is None and n.ipamd_enabled is None:
        return undetermined("the cluster does not report its network mode", None, evidence)
    if n.network_type == "VPC-CNI":
        return passed("VPC-CNI", evidence)
    if bool(n.ipamd_enabled) and not n.vpc_cni_disabled:
        return passed(f"VPC-CNI (added to a {n.network_type} cluster)" if n.network_type else "VPC-CNI", evidence)
    return failed(f"network mode is {n.network_type or 'not VPC-CNI'}",
                  "Trunking ENI needs a VPC-CNI cluster; enable VPC-CNI in the TKE console "
                  "(Basic information > VPC-CNI) or create a VPC-CNI cluster", evidence)


def check_shared_eni(n: ClusterNetwork) -> CheckOutcome:
    return _from_fact(shared_eni(n.property()),
                      "Trunking ENI works only in shared-ENI mode (tke-route-eni); exclusive-ENI clusters are not supported")


def check_static_ip(n: ClusterNetwork) -> CheckOutcome:
    return _from_fact(static_ip(n.property()),
                      "Trunking ENI needs static Pod IP mode, which is chosen when the cluster is created: "
                      "use a cluster created with VPC-CNI shared ENI + static Pod IP")


def check_eniipamd_version(n: ClusterNetwork) -> CheckOutcome:
    minimum = format_version(MIN_ENIIPAMD_FOR_TRUNKING)
    if not n.eniipamd_installed:
        return failed("the eniipamd add-on is not installed", "enable VPC-CNI on the cluster; it installs eniipamd")
    fact = n.version
    if fact is not None and not fact.established:
        return undetermined(fact.message, fact.hint, list(fact.evidence))
    version = fact.value if fact is not None else n.eniipamd_version
    evidence = list(fact.evidence) if fact is not None else []
    notes = "".join(f" ({note})" for note in (fact.notes if fact is not None else ()))
    new_enough = at_least(version, MIN_ENIIPAMD_FOR_TRUNKING)
    if new_enough is None:
        return undetermined(f"eniipamd reports version {version!r}, which is not a version number",
                            confirm_hint(ID_ENIIPAMD_VERSION, "read the version in the TKE console (Add-on management > "
                                         "eniipamd)"), evidence)
    if new_enough:
        return passed(f"eniipamd {version}{notes}", evidence)
    return failed(f"eniipamd {version}{notes}",
                  f"upgrade eniipamd to {minimum} or later: TKE console > Add-on management > eniipamd > Upgrade", evidence)


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


def trunking_enabled(effective_values: Mapping[str, Any], hint: str | None = None,
                     ipamd_reports: bool | None = None) -> CheckOutcome:
    """Whether Trunking ENI is on: eniipamd's effective ``vpcCni.trunkingEni.enableSubEni`` (a key left
    unset takes the chart's default; a string "true" counts) and, when known, DescribeIPAMD's
    ``EnableTrunkingENI``; when the two disagree, undetermined (``core.api_facts.trunking_on``)."""
    fact = trunking_on(effective_values, ipamd_reports)
    if not fact.established:
        return undetermined(fact.message, fact.hint, list(fact.evidence))
    if fact.value:
        return passed(f"{ENABLE_SUB_ENI} is true" + (" (DescribeIPAMD agrees)" if ipamd_reports is not None else ""),
                      list(fact.evidence))
    value = values_get(effective_values, ENABLE_SUB_ENI)
    return failed(f"Trunking ENI is off ({ENABLE_SUB_ENI} is {value!r}): Pods cannot get sub-ENIs", hint, list(fact.evidence))
