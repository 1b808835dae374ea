"""How each unconfirmed fact about the real Tencent Cloud / TKE API is established from an account's
own answers: one pure function per fact, called by the workflows that depend on it and by `doctor`'s
``api-assumptions`` category (``workflows.assumptions``), so both read a fact the same way.

Each returns a :class:`Fact`: the value the answers establish (None when they cannot), which reading
of the API that is, the evidence that decided it (the response field and its value) and, when the
fact is not established, what settles it. ``sandbox variants`` plays each alternative reading.

Readings and how they are told apart:

- eniipamd's version (variant ``eniipamd-version``): TKE documents it in the image tag of
  ``kube-system/deploy/tke-eni-ipamd``; DescribeAddon's ``AddonVersion`` may be the chart's version.
  The image tag decides; a different AddonVersion is said, not used; AddonVersion alone decides
  nothing.
- static Pod IP and shared ENI (variant ``network``): a cluster created as VPC-CNI has
  ``Property.IsNonStaticIpMode`` and ``VpcCniType``; a GR cluster with VPC-CNI added later carries
  ``MetaFeatureParam{FeatureType, NeedVpcLb, StaticMode}`` instead, which tells static IP but not the
  ENI mode.
- Trunking ENI on (no variant: two sources the API has): eniipamd's values
  ``vpcCni.trunkingEni.enableSubEni`` and DescribeIPAMD's ``EnableTrunkingENI`` must agree.
- the value meaning standard routing (variant ``enforcing-mode-default``): DescribeAddonValues'
  ``DefaultValues`` for ``vpcCni.trunkingEni.podSecurityGroupEnforcingMode``; the seed names only
  ``strict``.
- the SecurityGroupPolicy add-on's name (variants ``sgp-addon-name``, ``sgp-addon-listed``):
  installed add-ons, then GetTkeAppChartList; nothing matching means not established.
- whether DescribeNetworkInterfaces lists per-Pod sub-ENIs (variant ``subeni-listed``): looking up
  the sub-ENIs the VpcENIs name; some found means it does, none of several means it likely does not
  (their groups cannot be checked there), none to look up tells nothing.
- which public action deletes a sub-ENI (variant ``subeni-delete``): no read tells; stated with the
  documents' evidence (``subeni_delete_action``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core.addon_values import ENABLE_SUB_ENI, ENFORCING_MODE, is_true, leaf_diff, leaves, values_get
from sgpctl.core.quotas import SUPPORTED_FAMILIES, instance_family
from sgpctl.core.versions import parse_version

__all__ = [
    "Fact",
    "eniipamd_version",
    "static_ip",
    "shared_eni",
    "trunking_on",
    "standard_mode_value",
    "sgp_addon_name",
    "looks_like_sgp",
    "confirm_hint",
    "subeni_listed",
    "merge_depth",
    "subeni_delete_action",
    "values_rendered",
    "tkesubeni_meaning",
    "port_all",
    "kube_proxy_reading",
    "vpceni_kind",
]


@dataclass(frozen=True)
class Fact:
    #: a stable kebab-case id (the check's in `doctor -c api-assumptions`)
    id: str
    #: what the answers establish (None: not established)
    value: Any
    #: the reading of the API this is, in a few words (None: not established)
    reading: str | None
    message: str
    evidence: tuple[str, ...] = ()
    #: what settles it when it is not established
    hint: str | None = None
    #: True when the answers disagree with each other (not merely silent)
    conflict: bool = False
    #: extra facts worth a line of their own (e.g. AddonVersion differs from the image tag)
    notes: tuple[str, ...] = field(default=())

    @property
    def established(self) -> bool:
        return self.value is not None


def confirm_hint(check_id: str, how: str) -> str:
    """The hint of a precondition that could not be established: how to find out, and the flag that
    records the answer."""
    return f"{how}; if it holds, run again with --confirm {check_id}"


# --- eniipamd's version ---------------------------------------------------------------------------

def eniipamd_version(addon_version: str | None, image_tag: str | None, image_problem: str | None = None) -> Fact:
    """``image_tag``: of ``kube-system/deploy/tke-eni-ipamd``'s first container (None when it could not
    be read; ``image_problem`` says why)."""
    evidence = [f"DescribeAddon eniipamd AddonVersion: {addon_version or '(empty)'}",
                f"kube-system/deploy/tke-eni-ipamd image tag: {image_tag or '(' + (image_problem or 'not read') + ')'}"]
    tag = image_tag.lstrip("vV") if image_tag else None
    if tag and parse_version(tag) is not None:
        notes = ()
        if addon_version and parse_version(addon_version) != parse_version(tag):
            notes = (f"DescribeAddon's AddonVersion {addon_version} differs from the tke-eni-ipamd image tag "
                     f"{image_tag}: AddonVersion is not the component's version here (a chart version); "
                     "sgpctl uses the image tag, where TKE documents the version",)
        reading = "AddonVersion is a chart version; the image tag is the component's" if notes else \
            "AddonVersion and the image tag agree"
        return Fact("eniipamd-version", tag, reading, f"eniipamd {tag} (image tag)", tuple(evidence), notes=notes)
    why = f"the tke-eni-ipamd image tag {image_tag!r} is not a version" if image_tag else \
        f"the tke-eni-ipamd image tag could not be read ({image_problem or 'no cluster access'})"
    return Fact("eniipamd-version", None, None,
                f"eniipamd's version is unknown: {why}, and AddonVersion "
                f"{addon_version or '(empty)'} may be the chart's version rather than the component's",
                tuple(evidence),
                confirm_hint("eniipamd-version", "give sgpctl the cluster's kubeconfig (--kubeconfig/--context) so "
                             "it reads the image tag, or read it yourself: kubectl -n kube-system get deploy "
                             "tke-eni-ipamd -o jsonpath='{..image}'"))


# --- the cluster's network (DescribeClusters' Property) -------------------------------------------

def _property_evidence(prop: Mapping[str, Any], *keys: str) -> list[str]:
    out = [f"DescribeClusters Property.{k}: {json.dumps(prop[k])}" for k in keys if k in prop]
    return out or [f"DescribeClusters Property has none of {', '.join(keys)}"]


def _meta(prop: Mapping[str, Any]) -> Mapping[str, Any] | None:
    meta = prop.get("MetaFeatureParam")
    if isinstance(meta, str):  # a JSON string inside the JSON string, should TKE nest it so
        try:
            meta = json.loads(meta)
        except ValueError:
            return None
    return meta if isinstance(meta, Mapping) else None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def static_ip(prop: Mapping[str, Any]) -> Fact:
    """Whether Pods get static IPs: ``IsNonStaticIpMode`` (a cluster created as VPC-CNI), else
    ``MetaFeatureParam.StaticMode`` (a GR cluster with VPC-CNI added)."""
    non_static = _as_bool(prop.get("IsNonStaticIpMode"))
    if non_static is not None:
        return Fact("network-static-ip", not non_static, "Property.IsNonStaticIpMode (a cluster created as VPC-CNI)",
                    "static Pod IP" if not non_static else "non-static Pod IPs",
                    tuple(_property_evidence(prop, "IsNonStaticIpMode")))
    meta = _meta(prop)
    mode = _as_bool(meta.get("StaticMode")) if meta is not None else None
    if mode is not None:
        return Fact("network-static-ip", mode, "Property.MetaFeatureParam.StaticMode (VPC-CNI added to a GR cluster)",
                    "static Pod IP" if mode else "non-static Pod IPs",
                    (f"DescribeClusters Property.MetaFeatureParam: {json.dumps(meta, sort_keys=True)}",))
    return Fact("network-static-ip", None, None, "the cluster reports neither IsNonStaticIpMode nor "
                "MetaFeatureParam.StaticMode: whether Pod IPs are static is unknown",
                tuple(_property_evidence(prop, "IsNonStaticIpMode", "MetaFeatureParam", "NetworkType")),
                confirm_hint("network-static-ip", "check Pod IP mode in the TKE console (cluster > Basic "
                             "information > VPC-CNI: static IP)"))


def shared_eni(prop: Mapping[str, Any]) -> Fact:
    """Whether VPC-CNI uses shared ENIs (``VpcCniType`` ``tke-route-eni``). A GR cluster with VPC-CNI
    added reports no VpcCniType: EnableVpcCniNetworkType takes either mode, so it is not established."""
    kind = prop.get("VpcCniType")
    if isinstance(kind, str) and kind:
        return Fact("network-shared-eni", kind == "tke-route-eni", "Property.VpcCniType",
                    "shared ENI" if kind == "tke-route-eni" else f"VPC-CNI mode {kind} (exclusive ENI)",
                    tuple(_property_evidence(prop, "VpcCniType")))
    meta = _meta(prop)
    where = (f"a GR cluster with VPC-CNI added (MetaFeatureParam {json.dumps(meta, sort_keys=True)}) reports no VpcCniType"
             if meta is not None else "the cluster reports no VpcCniType")
    return Fact("network-shared-eni", None, None, f"whether VPC-CNI uses shared ENIs is unknown: {where}",
                tuple(_property_evidence(prop, "VpcCniType", "MetaFeatureParam", "NetworkType")),
                confirm_hint("network-shared-eni", "check the VPC-CNI mode in the TKE console (cluster > Basic "
                             "information: shared ENI, multiple IPs)"))


# --- Trunking ENI on or off ------------------------------------------------------------------------

def trunking_on(effective_values: Mapping[str, Any] | None, ipamd_reports: bool | None) -> Fact:
    """eniipamd's ``vpcCni.trunkingEni.enableSubEni`` (effective: over the chart's defaults) and
    DescribeIPAMD's ``EnableTrunkingENI``; when both are known they must agree."""
    value = values_get(effective_values, ENABLE_SUB_ENI)
    on = is_true(value)
    evidence = (f"eniipamd values {ENABLE_SUB_ENI}: {json.dumps(value)}",
                f"DescribeIPAMD EnableTrunkingENI: {json.dumps(ipamd_reports)}" if ipamd_reports is not None
                else "DescribeIPAMD does not report EnableTrunkingENI")
    if ipamd_reports is not None and bool(ipamd_reports) != on:
        return Fact("trunking-flag", None, None,
                    f"eniipamd's values say {ENABLE_SUB_ENI} is {json.dumps(value)} but DescribeIPAMD says "
                    f"EnableTrunkingENI is {json.dumps(ipamd_reports)}: whether Trunking ENI is on is unknown",
                    evidence, "if eniipamd is rolling out, wait and run again; otherwise compare eniipamd's "
                    "parameters in the TKE console (Add-on management > eniipamd) with the cluster's Trunking "
                    "ENI switch", conflict=True)
    reading = "both agree" if ipamd_reports is not None else "eniipamd's values only"
    return Fact("trunking-flag", on, reading, "Trunking ENI is on" if on else "Trunking ENI is off", evidence)


# --- the value that means standard routing ---------------------------------------------------------

def standard_mode_value(defaults: Mapping[str, Any] | None) -> Fact:
    """What to write for standard routing: the chart's default of podSecurityGroupEnforcingMode (the
    seed names only ``strict``; the other value is not published)."""
    value = values_get(defaults, ENFORCING_MODE)
    evidence = (f"DescribeAddonValues DefaultValues {ENFORCING_MODE}: {json.dumps(value)}",)
    if isinstance(value, str) and value and value != "strict":
        return Fact("enforcing-mode-default", value, "the chart's default", f"standard routing is {value!r} "
                    "(eniipamd's default)", evidence)
    why = "hold none" if value is None else f"hold {json.dumps(value)}"
    return Fact("enforcing-mode-default", None, None,
                f"eniipamd's DefaultValues {why} for {ENFORCING_MODE}: the value that means standard routing is unknown",
                evidence, "find the value in eniipamd's parameters (TKE console > Add-on management > eniipamd), then "
                "run `sgpctl routing set standard --value VALUE`")


# --- the SecurityGroupPolicy add-on's name ---------------------------------------------------------

def looks_like_sgp(name: str | None, label: str | None = None) -> bool:
    text = f"{name or ''} {label or ''}".lower().replace("-", "").replace("_", "")
    return "securitygroup" in text


def sgp_addon_name(installed: Sequence[str], charts: Iterable[tuple[str, str | None]] | None,
                   setting: tuple[str, str] | None = None) -> Fact:
    """``installed``: DescribeAddon's add-on names; ``charts``: GetTkeAppChartList's (name, label)
    (None when not read: the installed add-ons decided); ``setting``: (name, where it came from) when
    the user named it."""
    if setting is not None:
        name, source = setting
        return Fact("sgp-addon-name", name, f"named by {source}", f"SecurityGroupPolicy add-on {name} ({source})",
                    (f"{source}: {name}",))
    mine = [n for n in installed if looks_like_sgp(n)]
    if len(mine) == 1:
        return Fact("sgp-addon-name", mine[0], "an installed add-on", f"SecurityGroupPolicy add-on {mine[0]} (installed)",
                    (f"DescribeAddon: {mine[0]} is installed and its name matches 'securitygroup'",))
    chart_list = list(charts or ())
    matching = sorted({n for n, label in chart_list if looks_like_sgp(n, label)})
    if not mine and len(matching) == 1:
        label = next((lb for n, lb in chart_list if n == matching[0]), None)
        return Fact("sgp-addon-name", matching[0], "a chart of GetTkeAppChartList",
                    f"SecurityGroupPolicy add-on {matching[0]} (chart list)",
                    (f"GetTkeAppChartList: chart {matching[0]} (label {label!r}) matches 'securitygroup'",))
    found = mine or matching
    seen = sorted({n for n, _ in chart_list})
    if found:
        problem = f"several add-ons match 'securitygroup' ({', '.join(found)})"
    else:
        problem = ("no installed add-on and no chart matches 'securitygroup' (charts seen: "
                   f"{', '.join(seen) or 'none'})")
    return Fact("sgp-addon-name", None, None,
                f"the SecurityGroupPolicy add-on's API name is unknown: {problem}",
                (f"DescribeAddon: {', '.join(installed) or 'no add-on'}",
                 f"GetTkeAppChartList: {', '.join(seen) or 'no chart'}"),
                "find its name in the TKE console (Add-on management: SecurityGroupPolicy), then pass --addon-name "
                "NAME (`addon` commands: --name) or save it: sgpctl config set sgp-addon-name NAME")


# --- whether DescribeNetworkInterfaces lists sub-ENIs ----------------------------------------------

def subeni_listed(looked_up: int, found: int, from_listing: int | None = None) -> Fact:
    """From one verify's lookup: ``looked_up`` sub-ENI ids the VpcENIs name, ``found`` of them answered
    by DescribeNetworkInterfaces; ``from_listing``: how many of them a listing of the nodes' ENIs (by
    ``attachment.instance-id``, doctor's) held already, the others then looked up by id (None: all by id)."""
    if from_listing is None:
        evidence: tuple[str, ...] = (f"DescribeNetworkInterfaces: {found} of the {looked_up} sub-ENIs the VpcENIs name found",)
    else:
        evidence = (f"DescribeNetworkInterfaces by attachment.instance-id (the listing of the nodes' ENIs) held "
                    f"{from_listing} of the {looked_up} sub-ENIs the VpcENIs name",)
        if looked_up > from_listing:
            evidence += (f"DescribeNetworkInterfaces by id: {found - from_listing} of the other "
                         f"{looked_up - from_listing} found",)
    if looked_up == 0:
        return Fact("subeni-listed", None, None, "no VpcENI names a sub-ENI yet: whether DescribeNetworkInterfaces "
                    "lists sub-ENIs cannot be told", evidence)
    if found:
        return Fact("subeni-listed", True, "DescribeNetworkInterfaces lists sub-ENIs",
                    "DescribeNetworkInterfaces lists per-Pod sub-ENIs", evidence)
    return Fact("subeni-listed", False, "DescribeNetworkInterfaces does not list sub-ENIs",
                f"DescribeNetworkInterfaces found none of the {looked_up} sub-ENIs the VpcENIs name: this account's VPC "
                "API does not seem to list sub-ENIs, so their security groups cannot be checked there", evidence,
                "check one sub-ENI's security groups in the ENI console (the TKE document's own check)")


# --- facts sgpctl does not depend on, shown for the record -----------------------------------------

def merge_depth() -> Fact:
    """UpdateAddon's ``merge``: nested keys merged, or each top-level key sent replaced. No read tells
    (only a write would), and sgpctl needs neither: it sends whole top-level subtrees and reads every
    leaf back (``workflows.values_write``)."""
    return Fact("addon-merge", None, None,
                "how deep UpdateAddon's merge goes cannot be read without a write; sgpctl does not depend on it: it "
                "sends every top-level key it changes whole and compares every value after the update",
                ("UpdateAddon UpdateStrategy merge: documented as adding or updating the parameters sent "
                 "(depth not stated)",))


def subeni_delete_action() -> Fact:
    """Which public action deletes a per-Pod sub-ENI. The CAM policy the TKE document has users create
    grants ``vpc:DeleteSubNetworkInterface`` (eniipamd's action, in no public API or SDK);
    DeleteNetworkInterface is documented for elastic network interfaces ("cannot be deleted while bound
    to a CVM"), sub-ENIs unmentioned. No read
    tells (only a delete would), and only `eni leaks --delete` depends on it: it uses
    DeleteNetworkInterface, stops at the first refusal and says what to do instead."""
    return Fact("subeni-delete", None, None,
                "which public API action deletes a per-Pod sub-ENI is not documented and cannot be read without a "
                "delete: `sgpctl eni leaks --delete` uses DeleteNetworkInterface and stops at its first refusal",
                ("CAM policy SubENIForIPAMD (the TKE document's): vpc:DeleteSubNetworkInterface, an action no public "
                 "API or SDK has",
                 "DeleteNetworkInterface: documented for elastic network interfaces (one bound to a CVM cannot be "
                 "deleted); relayed sub-ENIs (EniType 2), which hang off a node's trunk ENI, are not mentioned"),
                "if DeleteNetworkInterface is refused, delete leaked sub-ENIs in the VPC console or by a ticket to VPC")


def values_rendered(raw_values: Mapping[str, Any] | None, values: Mapping[str, Any] | None,
                    defaults: Mapping[str, Any] | None) -> Fact:
    """Whether DescribeAddonValues' ``Values`` is rendered (the values set over the chart's defaults,
    as documented) or only the values set (DescribeAddon's ``RawValues``). sgpctl merges the defaults
    under ``Values`` either way."""
    set_leaves, value_leaves, default_leaves = leaves(raw_values), leaves(values), leaves(defaults)
    from_defaults = [p for p in value_leaves if p not in set_leaves and p in default_leaves]
    evidence = (f"DescribeAddon RawValues: {len(set_leaves)} values set" if raw_values is not None
                else "DescribeAddon RawValues: (none)",
                f"DescribeAddonValues Values: {len(value_leaves)} values, DefaultValues: {len(default_leaves)}")
    if raw_values is None:
        return Fact("addon-values-rendered", None, None, "DescribeAddon answers no RawValues: whether Values is "
                    "rendered cannot be told (sgpctl merges DefaultValues under Values, right either way)", evidence)
    if from_defaults:
        path = ".".join(from_defaults[0])
        return Fact("addon-values-rendered", True, "Values is rendered (set values over the chart's defaults)",
                    "DescribeAddonValues' Values holds the chart's defaults too (rendered)",
                    evidence + (f"{path} is in Values and DefaultValues but not in RawValues",))
    missing = [p for p in default_leaves if p not in value_leaves]
    if missing and not leaf_diff(raw_values, values):
        return Fact("addon-values-rendered", False, "Values holds only the values set",
                    "DescribeAddonValues' Values equals RawValues: only the values set (sgpctl merges DefaultValues "
                    "under it)", evidence + (f"{'.'.join(missing[0])} is in DefaultValues only",))
    return Fact("addon-values-rendered", None, None, "the answers cannot tell whether Values is rendered (every "
                "default is also set); sgpctl merges DefaultValues under Values, right either way", evidence)


def tkesubeni_meaning(limits: Iterable[tuple[str, int | None]]) -> Fact:
    """DescribeVpcCniPodLimits' ``TKESubENI`` for types of families the TKE document does not list:
    above 0 means it is the type's maximum, 0 that it is the quota assigned. sgpctl takes the
    smallest source and never lets TKESubENI alone make a family supported, right either way."""
    unlisted = sorted({(t, n) for t, n in limits if n is not None and instance_family(t) not in SUPPORTED_FAMILIES})
    listed_note = f"the TKE document lists {', '.join(SUPPORTED_FAMILIES)}"
    above = [(t, n) for t, n in unlisted if n > 0]
    if above:
        t, n = above[0]
        return Fact("tkesubeni", "type-max", "TKESubENI is the instance type's maximum",
                    f"TKESubENI is the instance type's maximum, not the quota assigned: {t} answers {n} though its family "
                    f"{instance_family(t)} gets 0 by default", (f"DescribeVpcCniPodLimits {t} TKESubENI: {n}", listed_note))
    if unlisted:
        t, n = unlisted[0]
        return Fact("tkesubeni", "assigned", "TKESubENI is the quota assigned",
                    f"TKESubENI follows the TKE document's family list ({t} answers 0)",
                    (f"DescribeVpcCniPodLimits {t} TKESubENI: {n}", listed_note))
    return Fact("tkesubeni", None, None, "DescribeVpcCniPodLimits answers no type of an unlisted family: what "
                "TKESubENI means cannot be told (sgpctl uses the smallest quota source either way)", (listed_note,))


def port_all(rules: Iterable[tuple[str, str | None, str | None]]) -> Fact:
    """Whether the API accepts TCP/UDP rules sent with ``Port: "ALL"``: (group id, protocol, port) of
    rules that exist. A read never settles it: a TCP/UDP rule described with Port ALL shows how the API
    describes an all-ports rule, but it may have been created without a Port at all. sgpctl does not
    depend on it: every TCP/UDP rule it writes for all ports (`sg create --allow-node-probes`, the
    rules `traffic check` suggests) says ``1-65535``, valid under either reading."""
    ours = ("sgpctl does not depend on it: it writes every all-ports TCP/UDP rule as 1-65535 (sg create "
            "--allow-node-probes, the rules traffic check suggests), valid under either reading")
    seen = [(g, proto, port) for g, proto, port in rules
            if (proto or "").upper() in ("TCP", "UDP") and (port or "").upper() == "ALL"]
    if seen:
        g, proto, port = seen[0]
        return Fact("sg-port-all", None, None,
                    f"security group {g} holds a {proto} rule described with Port {port}: that is how the API "
                    "describes an all-ports rule, but the rule may have been created without a Port, so whether "
                    f"a request with Port ALL is accepted cannot be told from a read; {ours}",
                    (f"DescribeSecurityGroupPolicies {g}: Protocol {proto}, Port {port}",))
    return Fact("sg-port-all", None, None, "no TCP or UDP rule with Port ALL among the groups read: whether the API "
                f"accepts one cannot be told; {ours}",
                ("DescribeSecurityGroupPolicies: no TCP/UDP rule with Port ALL",))


def kube_proxy_reading(kube_proxy_mode: str | None, ipvs: bool | None) -> Fact:
    """How DescribeClusters encodes kube-proxy's mode: ``Ipvs`` true (ipvs, as CreateCluster documents),
    ``KubeProxyMode`` ``kube-proxy-bpf`` (IPVS-BPF, counted as IPVS), ``ipvs`` spelled out, or neither
    (iptables)."""
    from sgpctl.core.strict import says_ipvs

    evidence = (f"DescribeClusters ClusterNetworkSettings.KubeProxyMode: {json.dumps(kube_proxy_mode)}",
                f"DescribeClusters ClusterNetworkSettings.Ipvs: {json.dumps(ipvs)}")
    mode = (kube_proxy_mode or "").strip().lower()
    if mode == "kube-proxy-bpf":
        return Fact("kube-proxy", "ipvs-bpf", "KubeProxyMode kube-proxy-bpf (IPVS-BPF)",
                    "kube-proxy runs IPVS-BPF (KubeProxyMode kube-proxy-bpf): counted as IPVS for strict routing", evidence)
    if says_ipvs(mode) or ipvs:
        how = "Ipvs true" if ipvs and not says_ipvs(mode) else f"KubeProxyMode {kube_proxy_mode}"
        return Fact("kube-proxy", "ipvs", how, f"kube-proxy runs IPVS ({how})", evidence)
    if kube_proxy_mode is None and ipvs is None:
        return Fact("kube-proxy", None, None, "DescribeClusters reports neither KubeProxyMode nor Ipvs: the mode is "
                    "read from the kube-proxy ConfigMap and DaemonSet instead", evidence)
    return Fact("kube-proxy", "iptables", "neither Ipvs nor an IPVS KubeProxyMode",
                f"kube-proxy runs iptables (KubeProxyMode {kube_proxy_mode or 'unset'}, Ipvs {json.dumps(ipvs)})", evidence)


def vpceni_kind(served: tuple[str, str, str] | None, wanted: str) -> Fact:
    """The VpcENI kind as discovery found it: (group/version, plural, kind), or None when not served."""
    if served is None:
        return Fact("vpceni-kind", None, None, "the cluster does not serve VpcENI: its kind's spelling cannot be "
                    "read (sgpctl finds it by kind in any case, singular or short name)",
                    (f"API discovery: no resource of kind {wanted} (any case) or short name {wanted.lower()}",))
    group_version, plural, kind = served
    return Fact("vpceni-kind", kind, f"kind {kind}", f"VpcENI is served as kind {kind} ({plural}.{group_version})",
                (f"API discovery {group_version}: {plural}, kind {kind}",))
