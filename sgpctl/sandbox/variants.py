"""Sandbox variants: each one alternative reading of a fact about the real Tencent Cloud / TKE APIs
that no public source settles (or that public sources contradict), so that sgpctl can be shown right
under every plausible reading before it meets a real account.

A variant is a key, its values, its default (what the sandbox did before variants existed) and one
sentence of meaning. ``REGISTRY`` holds them; ``sgpctl sandbox variants`` lists them::

    Sandbox("default", variants={"addon-merge": "shallow", "vpceni-kind": "VpcEni"})
    sgpctl sandbox up --variant addon-merge=shallow --variant vpceni-kind=VpcEni

The chosen values live in ``CloudState.variants`` (persisted with the state; only values that differ
from the default are kept) and each behaviour asks ``state.variant(key)`` where it happens: the TKE,
VPC and CVM action handlers (``sandbox/cloud/*``), ``CloudState`` (add-on updates), the simulated
eniipamd (sub-ENI leaks, the VpcENI kind). What a variant changes in the region the scenario built
(a cluster's network settings, a chart's name or defaults, the VpcENI CRD) is done once by
:func:`apply`, right after the scenario is built, so scenarios stay unaware of variants.

A region replayed from a capture (``sgpctl.sandbox.replay``) is not built by a scenario: it chooses the
variants its captured answers imply and does not run :func:`apply` (the answers already read that way).

Adding a variant: one ``Variant`` entry below, plus its behaviour where the reading matters (and, for
something the scenario builds, a step in :func:`apply`; when a captured answer shows the reading, its
inference in ``replay``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping

from sgpctl.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.sandbox.cloud.state import CloudState
    from sgpctl.sandbox.kube.store import KubeStore


@dataclass(frozen=True)
class Variant:
    key: str
    default: str
    meaning: str
    #: the allowed values; empty for a free-form value that ``pattern`` checks
    values: tuple[str, ...] = ()
    pattern: str = ""
    #: a free-form value's name and what it looks like, for messages and the listing
    placeholder: str = ""
    form: str = ""
    #: a free-form value other than the default, for hints and the test matrix
    example: str = ""

    def check(self, value: str) -> str:
        if self.values:
            if value not in self.values:
                raise InputError(f"variant {self.key} has no value {value!r}",
                                 hint=f"use one of: {', '.join(self.values)} (e.g. --variant {self.key}={self.values[-1]})")
        elif not re.fullmatch(self.pattern, value):
            raise InputError(f"variant {self.key} needs {self.placeholder}: {self.form}, not {value!r}",
                             hint=f"e.g. --variant {self.key}={self.example}")
        return value

    def to_dict(self) -> dict:
        return {"key": self.key, "values": list(self.values) or None,
                "valueForm": f"{self.placeholder}: {self.form}" if self.placeholder else None,
                "default": self.default, "meaning": self.meaning}

    def usage(self) -> str:
        """``key=a|b`` or ``key=NAME``."""
        return f"{self.key}={'|'.join(self.values) if self.values else self.placeholder}"

    def alternatives(self) -> tuple[str, ...]:
        """The values other than the default (a free-form variant: its example)."""
        return tuple(v for v in self.values if v != self.default) if self.values else (self.example,)


SGP_ADDON = "securitygrouppolicy"
ENIIPAMD = "eniipamd"
ENFORCING_MODE_PATH = ("vpcCni", "trunkingEni", "podSecurityGroupEnforcingMode")
#: one teardown in every this many leaks its sub-ENI without the client-token allowlist
LEAK_ONE_IN = 3

_VARIANTS = (
    Variant("addon-merge", "deep",
            "UpdateAddon with UpdateStrategy merge merges nested keys into the add-on's values (deep), "
            "or replaces each top-level key it is sent (shallow: the rest of that key's subtree is lost).",
            ("deep", "shallow")),
    Variant("sgp-addon-name", SGP_ADDON,
            "The SecurityGroupPolicy add-on's chart name in DescribeAddon, DescribeAddonValues, InstallAddon, "
            "UpdateAddon, DeleteAddon and GetTkeAppChartList (its console label stays SecurityGroupPolicy).",
            pattern=r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", placeholder="NAME",
            form="a chart name of lowercase letters, digits and -", example="sgp"),
    Variant("sgp-addon-listed", "true",
            "Whether GetTkeAppChartList lists the SecurityGroupPolicy chart (InstallAddon takes its name either way).",
            ("true", "false")),
    Variant("vpceni-kind", "VpcENI",
            "The kind of eniipamd's VpcENI CustomResourceDefinition; its singular and short name (vpceni) and "
            "plural (vpcenis) follow from it.",
            ("VpcENI", "VpcEni")),
    Variant("eniipamd-version", "addon",
            "DescribeAddon's AddonVersion (and the chart's LatestVersion) for eniipamd is the component version "
            "(3.6.0), or a chart version (1.4.2) while the kube-system/tke-eni-ipamd image tag carries the "
            "component version.",
            ("addon", "chart")),
    Variant("tkesubeni", "assigned",
            "DescribeVpcCniPodLimits' TKESubENI is the sub-ENI quota a node of the type is assigned (0 for families "
            "the TKE document does not list), or the instance type's maximum (100; 256 from 64 cores) whatever "
            "the family.",
            ("assigned", "type-max")),
    Variant("subeni-listed", "true",
            "Whether DescribeNetworkInterfaces returns per-Pod sub-ENIs (by id and in filtered listings).",
            ("true", "false")),
    Variant("sg-port-all", "accept",
            "Whether CreateSecurityGroupPolicies accepts a TCP or UDP rule with Port \"ALL\" (reject: "
            "InvalidParameterValue, as for any port that is neither a number nor a range).",
            ("accept", "reject")),
    Variant("network", "vpc-cni",
            "The cluster was created in VPC-CNI mode, or as a GR cluster with VPC-CNI added later "
            "(DescribeClusters' Property carries MetaFeatureParam and no VpcCniType or IsNonStaticIpMode).",
            ("vpc-cni", "gr-vpc-cni")),
    Variant("kube-proxy", "scenario",
            "The kube-proxy mode, encoded in DescribeClusters' ClusterNetworkSettings as the CreateCluster documentation "
            "says (iptables: neither Ipvs nor KubeProxyMode; ipvs: Ipvs true; ipvs-bpf: KubeProxyMode "
            "kube-proxy-bpf) and in the kube-proxy ConfigMap and DaemonSet; scenario keeps the scenario's own "
            "(KubeProxyMode spelled out, Ipvs true for ipvs).",
            ("scenario", "iptables", "ipvs", "ipvs-bpf")),
    Variant("enforcing-mode-default", "standard",
            "What eniipamd's DefaultValues (and a cluster that never set it) hold for "
            "vpcCni.trunkingEni.podSecurityGroupEnforcingMode.",
            pattern=r"[A-Za-z0-9._-]{1,32}", placeholder="VALUE", form="up to 32 letters, digits, '.', '_' or '-'",
            example="loose"),
    Variant("client-token-allowlist", "true",
            f"Whether the account is on VPC's client-token allowlist; without it eniipamd leaves a deleted Pod's "
            f"sub-ENI behind in one teardown out of every {LEAK_ONE_IN} (which one follows from the cluster id, "
            f"hence the seed), as the TKE document warns.",
            ("true", "false")),
    Variant("subeni-delete", "delete-network-interface",
            "Whether DeleteNetworkInterface deletes a per-Pod sub-ENI, or refuses it (none: UnsupportedOperation; "
            "the CAM policy's vpc:DeleteSubNetworkInterface has no public API).",
            ("delete-network-interface", "none")),
    Variant("missing-addon", "error",
            "DescribeAddon for a named add-on that is not installed answers ResourceNotFound (error) or an empty "
            "Addons list (empty).",
            ("error", "empty")),
    Variant("sgp-crd-schema", "none",
            "The schema of the SecurityGroupPolicy CRD the add-on installs: none (any body is stored) or strict "
            "(the AWS VPC resource controller's structural schema, which TKE's API mirrors: typed fields, 1 to 16 "
            "groupIds, unknown fields refused under kubectl's strict validation and pruned otherwise).",
            ("none", "strict")),
    Variant("vpc-time-zone", "utc",
            "The time zone of the times VPC writes without one (an ENI's CreatedTime and AttachTime, "
            "'2020-10-28 08:23:59'): UTC, or Beijing time (utc+8, Tencent Cloud's habit in its consoles).",
            ("utc", "utc+8")),
    Variant("leases", "served",
            "Whether the kubeconfig's user may use coordination.k8s.io Leases in a namespace (served); or RBAC forbids "
            "them (forbidden: HTTP 403, as for a sub-account whose TKE role grants no Leases; the preset roles' rules "
            "are not published); or the cluster does not serve the group (absent: 404).",
            ("served", "forbidden", "absent")),
    Variant("missing-eni-ids", "omit",
            "DescribeNetworkInterfaces with ids of which some do not exist leaves them out of the answer (omit) or "
            "fails with ResourceNotFound (error).",
            ("omit", "error")),
)

REGISTRY: dict[str, Variant] = {v.key: v for v in _VARIANTS}


def default(key: str) -> str:
    return REGISTRY[key].default


def validate(chosen: Mapping[str, str] | None) -> dict[str, str]:
    """The chosen values, checked, without those equal to the default (the canonical form the state
    keeps). InputError (exit 2) names the allowed keys or values."""
    out: dict[str, str] = {}
    for key, value in (chosen or {}).items():
        variant = REGISTRY.get(key)
        if variant is None:
            raise InputError(f"unknown sandbox variant {key!r}",
                             hint=f"known variants: {', '.join(REGISTRY)} (see `sgpctl sandbox variants`)")
        value = variant.check(str(value))
        if value != variant.default:
            out[key] = value
    return dict(sorted(out.items()))


def parse(items: Iterable[str]) -> dict[str, str]:
    """``["addon-merge=shallow", ...]`` (the repeated ``--variant`` option) -> validated mapping."""
    chosen: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key:
            raise InputError(f"--variant needs KEY=VALUE, not {item!r}", hint="e.g. --variant addon-merge=shallow")
        if key in chosen and chosen[key] != value:
            raise InputError(f"--variant {key} is given twice ({chosen[key]} and {value})", hint="give each key once")
        chosen[key] = value
    return validate(chosen)


def alternatives() -> list[tuple[str, str]]:
    """Every (key, value) that differs from the default: one sandbox each covers every reading."""
    return [(v.key, value) for v in _VARIANTS for value in v.alternatives()]


def spec(chosen: Mapping[str, str]) -> str:
    """``addon-merge=shallow,vpceni-kind=VpcEni`` (empty when every variant is at its default)."""
    return ",".join(f"{k}={v}" for k, v in sorted(chosen.items()))


def listing() -> list[dict]:
    return [v.to_dict() for v in _VARIANTS]


def describe_text() -> str:
    """What ``sgpctl sandbox variants`` prints: one entry per variant."""
    out = []
    for v in _VARIANTS:
        form = f"; {v.placeholder}: {v.form}" if v.placeholder else ""
        out.append(f"{v.usage()}  (default {v.default}{form})\n    {v.meaning}\n")
    return "".join(out)


# --- what a variant changes in the built region ----------------------------------------------


def apply(chosen: Mapping[str, str], cloud: "CloudState", kube: "KubeStore") -> None:
    """Make the region the scenario built follow the chosen readings. Called once, after the scenario
    is built and before the sandbox serves; the behaviours at request time ask the state instead."""
    cloud.variants = validate(chosen)
    with cloud.transaction():
        _rename_sgp_addon(cloud)
        _enforcing_mode_default(cloud)
        for cluster in cloud.clusters.values():
            _network(cloud, cluster)
            _kube_proxy_cloud(cloud, cluster)
    _kube_proxy_objects(cloud, kube)
    _vpceni_kind(cloud, kube)
    _sgp_crd_schema(cloud, kube)
    kube.set_leases(cloud.variant("leases"))


def _sgp_crd_schema(cloud: "CloudState", kube: "KubeStore") -> None:
    """The add-on creates its CRD with this schema from now on; one the scenario installed follows it."""
    from sgpctl.sandbox.kube.crds import SGP_RESOURCE, securitygrouppolicy_crd

    schema = cloud.variant("sgp-crd-schema")
    kube.sgp_crd_schema = schema
    crd = kube.get("customresourcedefinitions", None, SGP_RESOURCE)
    if crd is None or schema == "none":
        return
    wanted = securitygrouppolicy_crd(schema)["spec"]["versions"][0]["schema"]
    for version in crd["spec"]["versions"]:
        version["schema"] = wanted
    kube.update("customresourcedefinitions", crd)


def _rename_sgp_addon(cloud: "CloudState") -> None:
    name = cloud.variant("sgp-addon-name")
    if name == SGP_ADDON or SGP_ADDON not in cloud.charts:
        return
    if name in cloud.charts:
        raise InputError(f"variant sgp-addon-name={name} is the name of another chart",
                         hint=f"choose a name none of these charts has: {', '.join(sorted(cloud.charts))}")
    chart = cloud.charts.pop(SGP_ADDON)
    chart["Name"] = name
    cloud.charts[name] = chart
    for records in cloud.addon_records.values():
        if SGP_ADDON in records:
            record = records.pop(SGP_ADDON)
            record["AddonName"] = name
            records[name] = record
    for key in [k for k in cloud.addon_failures if k.endswith("/" + SGP_ADDON)]:
        cloud.addon_failures[key[: -len(SGP_ADDON)] + name] = cloud.addon_failures.pop(key)


def _enforcing_mode_default(cloud: "CloudState") -> None:
    value = cloud.variant("enforcing-mode-default")
    old = default("enforcing-mode-default")
    if value == old or ENIIPAMD not in cloud.charts:
        return
    _set_path(cloud.charts[ENIIPAMD]["_defaults"], ENFORCING_MODE_PATH, value)
    # A cluster whose values carry the old default never chose it: it shows the chart's default.
    for records in cloud.addon_records.values():
        record = records.get(ENIIPAMD)
        if record is not None and _get_path(record["Values"], ENFORCING_MODE_PATH) == old:
            _set_path(record["Values"], ENFORCING_MODE_PATH, value)


def _network(cloud: "CloudState", cluster: dict) -> None:
    if cloud.variant("network") != "gr-vpc-cni" or cluster["_network"].get("NetworkType") != "VPC-CNI":
        return
    static = not cluster["_network"].get("IsNonStaticIpMode", False)
    # karpenter-provider-tke's ClusterProperty: {FeatureType, NeedVpcLb, StaticMode}. FeatureType's values
    # are not public; "VPC-CNI" names the feature without claiming shared or exclusive ENI.
    cluster["_network"] = {"NetworkType": "GR",
                           "MetaFeatureParam": {"FeatureType": "VPC-CNI", "NeedVpcLb": False, "StaticMode": static}}
    settings = cluster["ClusterNetworkSettings"]
    settings["ClusterCIDR"] = settings.get("ClusterCIDR") or "172.16.0.0/16"
    cluster["_ipamd"]["DisableVpcCniMode"] = False  # VPC-CNI was added: eniipamd runs it


def _kube_proxy_cloud(cloud: "CloudState", cluster: dict) -> None:
    mode = cloud.variant("kube-proxy")
    if mode == "scenario":
        return
    settings = cluster["ClusterNetworkSettings"]
    # CreateCluster's ClusterAdvancedSettings.KubeProxyMode: "iptables: neither IPVS nor KubeProxyMode;
    # ipvs: IPVS true, KubeProxyMode not set; ipvs-bpf: KubeProxyMode kube-proxy-bpf".
    settings["Ipvs"] = mode == "ipvs"
    settings["KubeProxyMode"] = "kube-proxy-bpf" if mode == "ipvs-bpf" else None


def _kube_proxy_objects(cloud: "CloudState", kube: "KubeStore") -> None:
    mode = cloud.variant("kube-proxy")
    if mode == "scenario":
        return
    # IPVS-BPF is IPVS with an eBPF switch in the kernel module (Tencent's published design): kube-proxy
    # itself runs in ipvs mode there too.
    proxy_mode = "iptables" if mode == "iptables" else "ipvs"
    cm = kube.get("configmaps", "kube-system", "kube-proxy")
    if cm is not None:
        text = (cm.get("data") or {}).get("config.conf") or ""
        new_text = re.sub(r'(?m)^mode: .*$', f'mode: "{proxy_mode}"', text)
        if new_text != text:
            cm["data"]["config.conf"] = new_text
            kube.update("configmaps", cm)
    ds = kube.get("daemonsets.apps", "kube-system", "kube-proxy")
    if ds is not None:
        changed = False
        for c in ds["spec"]["template"]["spec"].get("containers") or ():
            args = [f"--proxy-mode={proxy_mode}" if a.startswith("--proxy-mode=") else a for a in c.get("args") or ()]
            if args != (c.get("args") or []):
                c["args"], changed = args, True
        if changed:
            kube.update("daemonsets.apps", ds)


def vpceni_kind(cloud: "CloudState") -> str:
    return cloud.variant("vpceni-kind")


def _vpceni_kind(cloud: "CloudState", kube: "KubeStore") -> None:
    from sgpctl.sandbox.kube.crds import VPCENI_RESOURCE, vpceni_crd

    kind = vpceni_kind(cloud)
    crd = kube.get("customresourcedefinitions", None, VPCENI_RESOURCE)
    if crd is None or crd["spec"]["names"]["kind"] == kind:
        return
    crd["spec"]["names"] = vpceni_crd(kind)["spec"]["names"]
    kube.update("customresourcedefinitions", crd)
    # What the scenario made before the CRD changed (the large scenario writes VpcENIs in bulk).
    for obj in kube.list(VPCENI_RESOURCE):
        if obj.get("kind") != kind:
            obj["kind"] = kind
            kube.update(VPCENI_RESOURCE, obj)


def _get_path(doc: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _set_path(doc: dict, path: tuple[str, ...], value) -> None:
    for key in path[:-1]:
        doc = doc.setdefault(key, {})
    doc[path[-1]] = value
