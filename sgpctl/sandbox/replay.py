"""A region built from a capture (``sgpctl capture``, format ``core.capture``): ``sgpctl sandbox up
--from-capture FILE`` or ``Sandbox(capture=document)``. A real account becomes a reproducible offline case:
sgpctl, kubectl and the SDKs meet the answers the account gave.

The captured answers become the region's state, and the sandbox's own handlers answer from it:

=============================  ===========================================================================
DescribeClusters               the cluster (every field, ``Property`` as given), in the captured region
DescribeIPAMD                  its subnets, claim duration, VPC-CNI and Pod CIDR switches (and a trunking
                               switch that disagreed with eniipamd's values)
DescribeClusterInstances       its nodes
DescribeAddon / Values         each add-on: version, phase (an operation in flight finishes after the
                               add-on delay), the values set, the chart's defaults
GetTkeAppChartList             the charts, those of the ``network`` kind as such
DescribeVpcCniPodLimits        per instance type and zone, the four figures as answered
CVM DescribeInstances          the nodes' instances, with DescribeNetworkInterfaceLimit's SubEniQuantity
                               (theirs, else a node's of the same type) as their sub-ENI quota
DescribeNetworkInterfaces      the ENIs as answered (ids, groups, addresses); a node's primary ENI and a
                               trunk ENI a VpcENI names that were not captured are made up, holding the
                               instance's groups
DescribeSecurityGroups/...     the groups, their rules (with ``Version``), the templates they name
DescribeSubnets, DescribeVpcs  as answered
DescribeSecurityGroupLimits    the per-ENI and per-region limits
CAM                            the custom policies (documents where captured), the two roles and what is
                               attached to them; preset policies by name
Kubernetes                     every object as listed (resource versions kept), the CRDs first
=============================  ===========================================================================

The variant readings (``sandbox.variants``) the answers imply are chosen, each with its evidence:
``eniipamd-version=chart`` when AddonVersion is not the ``tke-eni-ipamd`` image tag (the versions seen
are kept in ``CloudState.chart_versions``), ``network=gr-vpc-cni`` for a ``Property`` with
``MetaFeatureParam`` and no ``VpcCniType``, ``kube-proxy`` from ClusterNetworkSettings, ``vpceni-kind``
from the VpcENI CRD, ``sgp-addon-name`` and ``sgp-addon-listed`` from the add-ons and charts,
``missing-addon`` and ``missing-eni-ids`` from how a read of something absent was answered, ``tkesubeni``
from the families the TKE document gives no sub-ENI, ``subeni-listed`` from whether the sub-ENIs VpcENIs
name were returned, ``enforcing-mode-default`` and ``sgp-crd-schema`` from eniipamd's defaults and the
SecurityGroupPolicy CRD, ``leases`` from how the list of the writer Leases was answered
(``kubernetes.access``), ``vpc-time-zone`` from how far the sub-ENIs' ``CreatedTime`` is ahead of their
VpcENIs' ``creationTimestamp`` (the state keeps UTC, the handler shows the account's zone again). ``addon-merge``, ``sg-port-all``, ``client-token-allowlist`` and
``subeni-delete`` show in no read: they keep their defaults, as does any reading the capture does not
show (each is named in the evidence; ``--variant`` cannot be combined with a capture: the answers decide).

The region starts as captured: the simulated controllers learn the objects but act on none of them (a
Pod stuck in ContainerCreating stays so, a VpcENI without its Pod stays); they act on what changes from
then on (apply a policy, create a Deployment, and its Pods get sub-ENIs). What cannot be reproduced is
named in the evidence: a DescribeAddonValues whose ``Values`` are not the set values over the defaults is
served rendered; answer fields the installed SDK's models do not define are left out. A DescribeIPAMD
whose ``EnableTrunkingENI`` disagreed with eniipamd's values keeps disagreeing until the values change.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core import capture as fmt
from sgpctl.core.addon_values import values_merge
from sgpctl.core.quotas import SUPPORTED_FAMILIES, instance_family
from sgpctl.core.versions import image_tag
from sgpctl.errors import InputError

SCENARIO = "capture"
ENIIPAMD = "eniipamd"
IPAMD_IMAGE = ("kube-system", "tke-eni-ipamd")
TRANSITIONS = {"Installing": "install", "Upgrading": "upgrade", "Terminating": "delete"}
ENFORCING_MODE = ("vpcCni", "trunkingEni", "podSecurityGroupEnforcingMode")
DEFAULT_SERVICE_CIDR = "172.17.0.0/20"
_EMPTY_DOCUMENT = json.dumps({"version": "2.0", "statement": []})


@dataclass
class Plan:
    """What a Sandbox builds from a capture."""

    cluster_id: str
    region: str
    #: ``CloudState.to_dict()``'s shape
    cloud: dict
    #: ``KubeStore.to_dict()``'s shape
    kube: dict
    service_cidr: str
    pod_cidrs: dict[str, str]
    vpc_cni: bool
    #: ENIs to make once the state exists (``CloudState.add_eni`` keyword arguments)
    enis_to_add: list[dict] = field(default_factory=list)
    variants: dict[str, str] = field(default_factory=dict)
    #: why each variant was chosen, and what is not reproduced
    evidence: list[str] = field(default_factory=list)


def load(text: str, source: str) -> dict:
    """A capture file's text -> its document (bounded JSON); InputError (exit 2) for anything else."""
    from sgpctl.core.loading import SNAPSHOT_LIMITS, LoadError, load_json

    try:
        doc = load_json(text, source, SNAPSHOT_LIMITS)
    except LoadError as e:
        raise InputError(str(e), hint="give a file written by `sgpctl capture`") from None
    check(doc, source)
    return doc


def check(doc: Any, source: str = "the capture") -> None:
    problem = fmt.capture_problem(doc)
    if problem:
        raise InputError(f"{source}: {problem}", hint="give a file written by `sgpctl capture -o FILE`")


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def _strip_v(version: Any) -> str:
    text = str(version or "")
    return text[1:] if text[:1] in ("v", "V") and text[1:2].isdigit() else text


class _Answers:
    """The captured calls, each answer pruned to what the installed SDK's response model defines (the
    sandbox serves nothing else); ``dropped`` names what was left out."""

    def __init__(self, doc: dict):
        from sgpctl.sandbox.cloud.models import prune_response

        self.doc = doc
        self.dropped: list[str] = []
        self._answers: dict[tuple[str, str], list[tuple[dict, dict]]] = {}
        for call in doc.get("cloud") or ():
            if not isinstance(call, dict) or not isinstance(call.get("response"), dict):
                continue
            service, action = call.get("service"), call.get("action")
            try:
                response, dropped = prune_response(service, action, call["response"])
            except KeyError:
                response, dropped = {}, [f"{action} (a service the sandbox does not serve)"]
            self.dropped += [f"{service}.{action} {d}" for d in dropped if f"{service}.{action} {d}" not in self.dropped]
            self._answers.setdefault((service, action), []).append((call.get("params") or {}, response))

    def all(self, service: str, action: str) -> list[tuple[dict, dict]]:
        return list(self._answers.get((service, action), ()))

    def items(self, service: str, action: str, key: str, id_key: str) -> dict[str, dict]:
        """Every item of ``key`` over the answers of one action, by ``id_key`` (the last answer wins)."""
        out: dict[str, dict] = {}
        for _, response in self.all(service, action):
            for item in response.get(key) or ():
                if isinstance(item, dict) and item.get(id_key) is not None:
                    out[str(item[id_key])] = item
        return out

    def errors(self, service: str, action: str) -> list[tuple[dict, dict]]:
        return fmt.errors(self.doc, service, action)


def plan(doc: dict, *, seed: int = 0, addon_delay: float = 0.3) -> Plan:
    """Read a capture (already checked) into what the Sandbox builds."""
    from sgpctl.sandbox.cloud.state import CloudState

    from sgpctl.sandbox.cloud import regions

    check(doc)
    scope = doc["scope"]
    cluster_id, region = scope["clusterId"], scope["region"]
    if not regions.is_real(region):
        raise InputError(f"the capture is of region {region!r}, which the sandbox does not emulate",
                         hint=f"the sandbox answers in: {', '.join(regions.REGIONS)}")
    a = _Answers(doc)
    objects = [o for o in doc["kubernetes"]["objects"] if isinstance(o, dict)]
    evidence: list[str] = []

    cluster = next((c for _, r in a.all("tke", "DescribeClusters") for c in r.get("Clusters") or ()
                    if isinstance(c, dict) and c.get("ClusterId") == cluster_id), None)
    if cluster is None:
        raise InputError(f"the capture holds no DescribeClusters answer for {cluster_id}",
                         hint="capture again: `sgpctl capture` needs DescribeClusters to answer")
    instances = {k: _strip_none(v) for k, v in a.items("cvm", "DescribeInstances", "InstanceSet", "InstanceId").items()}
    subnets = a.items("vpc", "DescribeSubnets", "SubnetSet", "SubnetId")
    enis = {k: _strip_none(v) for k, v in
            a.items("vpc", "DescribeNetworkInterfaces", "NetworkInterfaceSet", "NetworkInterfaceId").items()}
    zones = _zones(region, instances, subnets, enis, a)

    base = CloudState(region, zones, addon_delay=addon_delay, seed=seed).to_dict()
    state = dict(base)
    state["variants"] = {}
    variants: dict[str, str] = {}

    addons, charts, chart_versions = _addons(a, objects, variants, evidence)
    state["addon_records"] = {cluster_id: addons}
    if a.all("tke", "GetTkeAppChartList"):
        state["charts"] = charts
    else:
        state["charts"] = {**base["charts"], **charts}
        evidence.append("no GetTkeAppChartList answer: the sandbox's chart catalogue stands in")
    state["chart_versions"] = chart_versions
    state["clusters"] = {cluster_id: _cluster(cluster, region, a)}
    state["instance_types"] = _instance_types(a, instances, base["instance_types"], evidence)
    state["instances"] = _instances(instances, region, a)
    state["subnets"] = {k: {f: v.get(f) for f in ("SubnetId", "VpcId", "CidrBlock", "Zone", "SubnetName", "CreatedTime")}
                        for k, v in subnets.items()}
    state["vpcs"] = {k: {**_strip_none(v), "_region": region} for k, v in a.items("vpc", "DescribeVpcs", "VpcSet", "VpcId").items()}
    state["security_groups"] = _security_groups(a, region)
    for key, action, set_key, id_key in (
            ("address_templates", "DescribeAddressTemplates", "AddressTemplateSet", "AddressTemplateId"),
            ("address_template_groups", "DescribeAddressTemplateGroups", "AddressTemplateGroupSet", "AddressTemplateGroupId"),
            ("service_templates", "DescribeServiceTemplates", "ServiceTemplateSet", "ServiceTemplateId"),
            ("service_template_groups", "DescribeServiceTemplateGroups", "ServiceTemplateGroupSet", "ServiceTemplateGroupId")):
        state[key] = {k: {**_strip_none(v), "_region": region} for k, v in a.items("vpc", action, set_key, id_key).items()}
    vpcenis = [o for o in objects if str(o.get("kind")).lower() == "vpceni"]
    state["enis"], state["client_tokens"], to_add = _enis(enis, vpcenis, state["instances"], region)
    for _, response in a.all("vpc", "DescribeSecurityGroupLimits"):
        limits_set = response.get("SecurityGroupLimitSet") or {}
        options = dict(state["options"])
        if limits_set.get("InstanceSecurityGroupLimit") is not None:
            options["instance_security_group_limit"] = int(limits_set["InstanceSecurityGroupLimit"])
        if limits_set.get("SecurityGroupLimit") is not None:
            options["security_group_limit"] = int(limits_set["SecurityGroupLimit"])
        state["options"] = options
    _cam(a, state, base, evidence)
    _ipamd_trunking(a, state, cluster_id, evidence)

    _infer_variants(a, cluster, objects, state, enis, vpcenis, variants, evidence, doc["kubernetes"])
    from sgpctl.sandbox import variants as variants_mod

    state["variants"] = variants_mod.validate(variants)
    if a.dropped:
        evidence.append("left out, unknown to the installed SDK's models (a newer API): " + ", ".join(a.dropped))
    service_cidr = _service_cidr(cluster, evidence)
    ipamd = state["clusters"][cluster_id]["_ipamd"]
    return Plan(cluster_id, region, state, _kube(objects, evidence), service_cidr,
                _pod_cidrs(ipamd.get("SubnetIds") or (), subnets), _vpc_cni(cluster, a), to_add,
                dict(state["variants"]), evidence)


# --------------------------------------------------------------------------------------------------
# Cloud
# --------------------------------------------------------------------------------------------------

def _service_cidr(cluster: dict, evidence: list[str]) -> str:
    """The range the replayed API server gives new Services their IPs from: the cluster's ServiceCIDR."""
    import ipaddress

    given = (cluster.get("ClusterNetworkSettings") or {}).get("ServiceCIDR")
    try:
        return str(ipaddress.ip_network(str(given)))
    except ValueError:
        evidence.append(f"ServiceCIDR {given!r} is not a network: new Services get IPs from {DEFAULT_SERVICE_CIDR}")
        return DEFAULT_SERVICE_CIDR


def _zones(region: str, instances: dict, subnets: dict, enis: dict, a: _Answers) -> list[str]:
    zones: list[str] = []
    for z in ([i.get("Placement", {}).get("Zone") for i in instances.values()]
              + [s.get("Zone") for s in subnets.values()] + [e.get("Zone") for e in enis.values()]
              + [p.get("Zone") for _, r in a.all("tke", "DescribeVpcCniPodLimits") for p in r.get("PodLimitsInstanceSet") or ()]):
        if isinstance(z, str) and z and z not in zones:
            zones.append(z)
    return zones or [f"{region}-1"]


def _cluster(c: dict, region: str, a: _Answers) -> dict:
    record = {k: v for k, v in _strip_none(c).items() if k not in ("Property", "ClusterNodeNum")}
    try:
        network = json.loads(c.get("Property") or "{}")
    except ValueError:
        network = {}
    record["_region"] = region
    record["_network"] = network if isinstance(network, dict) else {}
    ipamd = next((r for _, r in a.all("tke", "DescribeIPAMD")), {})
    settings = record.setdefault("ClusterNetworkSettings", {})
    record["_ipamd"] = {
        "SubnetIds": list(ipamd.get("SubnetIds") or settings.get("Subnets") or []),
        "ClaimExpiredDuration": ipamd.get("ClaimExpiredDuration") or "",
        "DisableVpcCniMode": bool(ipamd.get("DisableVpcCniMode")),
        "EnableCustomizedPodCidr": bool(ipamd.get("EnableCustomizedPodCidr")),
    }
    members = a.items("tke", "DescribeClusterInstances", "InstanceSet", "InstanceId")
    record["_instances"] = {k: {"InstanceId": k, "InstanceRole": m.get("InstanceRole") or "WORKER",
                                "InstanceState": m.get("InstanceState") or "running",
                                "NodePoolId": m.get("NodePoolId") or None, "CreatedTime": m.get("CreatedTime") or ""}
                            for k, m in members.items()}
    record["_endpoint"] = None
    record.setdefault("DeletionProtection", False)
    return record


def _ipamd_trunking(a: _Answers, state: dict, cluster_id: str, evidence: list[str]) -> None:
    """DescribeIPAMD's EnableTrunkingENI as answered, where it disagrees with eniipamd's values (until
    they change): the disagreement is what a command reads."""
    from sgpctl.core.addon_values import ENABLE_SUB_ENI, is_true, values_get

    reported = next((r.get("EnableTrunkingENI") for _, r in a.all("tke", "DescribeIPAMD")), None)
    record = state["addon_records"][cluster_id].get(ENIIPAMD)
    if reported is None or record is None:
        return
    defaults = (state["charts"].get(ENIIPAMD) or {}).get("_defaults") or {}
    enabled = is_true(values_get(values_merge(defaults, record["Values"]), ENABLE_SUB_ENI))
    if bool(reported) != enabled:
        state["clusters"][cluster_id]["_ipamd"]["_reported_trunking"] = {"while": enabled, "value": bool(reported)}
        evidence.append(f"DescribeIPAMD's EnableTrunkingENI is {str(bool(reported)).lower()} while eniipamd's "
                        f"values say {str(enabled).lower()}: served so until the values change")


def _eniipamd_tag(objects: list[dict]) -> str | None:
    ns, name = IPAMD_IMAGE
    for o in objects:
        meta = o.get("metadata") or {}
        if o.get("kind") == "Deployment" and meta.get("namespace") == ns and meta.get("name") == name:
            containers = (((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
            if containers:
                tag = image_tag(containers[0].get("image"))
                return _strip_v(tag) if tag else None
    return None


def _addons(a: _Answers, objects: list[dict], variants: dict, evidence: list[str]):
    """(add-on records, charts, eniipamd's chart versions) from DescribeAddon, DescribeAddonValues and
    GetTkeAppChartList; chooses ``eniipamd-version=chart`` when AddonVersion is not the image tag."""
    from sgpctl.sandbox.cloud.tke import chart_version, component_version

    values: dict[str, dict] = {}
    for params, response in a.all("tke", "DescribeAddonValues"):
        values[params.get("AddonName")] = response
    installed = {}
    for params, response in a.all("tke", "DescribeAddon"):
        if not params.get("AddonName"):
            for x in response.get("Addons") or ():
                installed[x.get("AddonName")] = x
    chart_versions: dict[str, str] = {}
    tag = _eniipamd_tag(objects)
    eni = installed.get(ENIIPAMD)
    if eni is not None and tag and eni.get("AddonVersion") and _strip_v(eni["AddonVersion"]) != tag:
        variants["eniipamd-version"] = "chart"
        chart_versions[tag] = eni["AddonVersion"]
        evidence.append(f"eniipamd-version=chart: DescribeAddon's AddonVersion {eni['AddonVersion']} is not the "
                        f"kube-system/tke-eni-ipamd image tag v{tag}")
    elif eni is not None and tag and eni.get("AddonVersion"):
        evidence.append(f"eniipamd-version=addon: DescribeAddon's AddonVersion {eni['AddonVersion']} is the "
                        f"kube-system/tke-eni-ipamd image tag")
    records: dict[str, dict] = {}
    for name, x in installed.items():
        if not name:
            continue
        answered = values.get(name) or {}
        defaults = _json_object(answered.get("DefaultValues"))
        rendered = _json_object(answered.get("Values")) if answered.get("Values") else None
        raw = _base64_object(x.get("RawValues"))
        set_values = raw if raw is not None else (rendered or {})
        if rendered is not None and values_merge(defaults, set_values) != rendered:
            evidence.append(f"add-on {name}: DescribeAddonValues' Values are not the set values (RawValues) over the "
                            "defaults; the replay serves what it answered as the values set")
            set_values = rendered
        phase = x.get("Phase") or "Succeeded"
        version = x.get("AddonVersion") or ""
        if name == ENIIPAMD and variants.get("eniipamd-version") == "chart":
            version = tag or version
        records[name] = {"AddonName": name, "AddonVersion": version, "Values": set_values,
                         "CreateTime": x.get("CreateTime") or "", "Phase": "Succeeded" if phase in TRANSITIONS else phase,
                         "Reason": x.get("Reason") or "", "_op": TRANSITIONS.get(phase), "_since": time.time(),
                         "_defaults": defaults}
    charts: dict[str, dict] = {}
    network = {c.get("Name") for p, r in a.all("tke", "GetTkeAppChartList") if p.get("Kind") == "network"
               for c in r.get("AppCharts") or ()}
    for _, response in a.all("tke", "GetTkeAppChartList"):
        for c in response.get("AppCharts") or ():
            name = c.get("Name")
            if not name or name in charts:
                continue
            latest = c.get("LatestVersion") or ""
            if name == ENIIPAMD and variants.get("eniipamd-version") == "chart" and latest:
                component = next((k for k, v in chart_versions.items() if v == latest), None)
                if component is None:
                    guess = component_version(latest)
                    component = guess if chart_version(guess) == latest else latest
                    chart_versions.setdefault(component, latest)
                latest = component
            charts[name] = {"Name": name, "Label": c.get("Label") or name, "LatestVersion": latest,
                            "_kind": "network" if name in network else "other", "_defaults": {},
                            "_cluster_types": ["tke"]}
    for name, record in records.items():
        defaults = record.pop("_defaults")
        chart = charts.get(name)
        if chart is None:
            chart = charts[name] = {"Name": name, "Label": name, "LatestVersion": record["AddonVersion"],
                                    "_kind": "other", "_defaults": {}, "_cluster_types": ["tke"], "_unlisted": True}
        chart["_defaults"] = defaults
    for name, answered in values.items():
        if name in charts and name not in records:
            charts[name]["_defaults"] = _json_object(answered.get("DefaultValues"))
    return records, charts, chart_versions


def _json_object(text: Any) -> dict:
    if isinstance(text, dict):
        return text
    try:
        doc = json.loads(text) if isinstance(text, str) and text.strip() else {}
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _base64_object(raw: Any) -> dict | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        doc = json.loads(base64.b64decode(raw).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def _instance_types(a: _Answers, instances: dict, preset: dict, evidence: list[str]) -> dict:
    """The instance types DescribeVpcCniPodLimits answered for (each with the figures it gave and the zones
    it named); without that answer the sandbox's table, and the nodes' types."""
    sizes = {i.get("InstanceType"): (i.get("CPU"), i.get("Memory")) for i in instances.values()}

    def record(itype: str, family: str | None, zones: list[str], pod_limits: dict | None) -> dict:
        cpu, memory = sizes.get(itype) or ((preset.get(itype) or {}).get("CPU"), (preset.get(itype) or {}).get("Memory"))
        return {"InstanceType": itype, "InstanceFamily": family or instance_family(itype), "CPU": int(cpu or 0),
                "Memory": int(memory or 0), "Zones": zones, "_all_zones": False, "_sub_eni_quota": None,
                "_pod_limits": pod_limits}

    answers = a.all("tke", "DescribeVpcCniPodLimits")
    if not answers:
        out = dict(preset)
        for i in instances.values():
            itype, zone = i.get("InstanceType"), (i.get("Placement") or {}).get("Zone")
            if itype and itype not in out:
                out[itype] = record(itype, None, [zone] if zone else [], None)
        evidence.append("no DescribeVpcCniPodLimits answer: the TKE table stands in")
        return out
    out: dict[str, dict] = {}
    for _, response in answers:
        for p in response.get("PodLimitsInstanceSet") or ():
            itype, zone, limits = p.get("InstanceType"), p.get("Zone"), _strip_none(p.get("PodLimits") or {})
            if not itype:
                continue
            t = out.setdefault(itype, record(itype, p.get("InstanceFamily"), [], limits))
            if zone and zone not in t["Zones"]:
                t["Zones"].append(zone)
            if limits != t["_pod_limits"]:
                evidence.append(f"DescribeVpcCniPodLimits gave {itype} different figures in {zone}: the first are served")
    return out


def _instances(instances: dict, region: str, a: _Answers) -> dict:
    """The nodes' instances, each with the sub-ENI quota DescribeNetworkInterfaceLimit gave it (or, when
    it was not asked, gave a node of its type)."""
    quota: dict[str, int] = {}
    quota_of_type: dict[str, int] = {}
    for params, response in a.all("vpc", "DescribeNetworkInterfaceLimit"):
        asked = instances.get(params.get("InstanceId"))
        if asked and response.get("SubEniQuantity") is not None:
            quota[params["InstanceId"]] = int(response["SubEniQuantity"])
            quota_of_type.setdefault(asked.get("InstanceType"), int(response["SubEniQuantity"]))
    out = {}
    for iid, i in instances.items():
        record = {k: v for k, v in i.items() if k != "SecurityGroupIds"}
        record.setdefault("Placement", {})
        record.setdefault("VirtualPrivateCloud", {})
        record.setdefault("PrivateIpAddresses", [])
        record["_region"] = region
        record["_sub_eni_quota"] = quota.get(iid, quota_of_type.get(i.get("InstanceType")))
        record["_groups"] = list(i.get("SecurityGroupIds") or [])
        out[iid] = record
    return out


def _security_groups(a: _Answers, region: str) -> dict:
    rules: dict[str, dict] = {}
    for params, response in a.all("vpc", "DescribeSecurityGroupPolicies"):
        policy_set = response.get("SecurityGroupPolicySet") or {}
        rules[params.get("SecurityGroupId")] = {
            "Version": str(policy_set.get("Version") or "0"),
            "Ingress": [_rule(r) for r in policy_set.get("Ingress") or ()],
            "Egress": [_rule(r) for r in policy_set.get("Egress") or ()],
        }
    out = {}
    for gid, g in a.items("vpc", "DescribeSecurityGroups", "SecurityGroupSet", "SecurityGroupId").items():
        out[gid] = {**_strip_none(g), "_region": region,
                    "_policies": rules.get(gid) or {"Version": "0", "Ingress": [], "Egress": []}}
    return out


def _rule(r: dict) -> dict:
    out = {k: v for k, v in _strip_none(r).items() if k != "PolicyIndex"}
    for k in ("AddressTemplate", "ServiceTemplate"):
        if isinstance(out.get(k), dict):
            out[k] = {x: y for x, y in out[k].items() if y}
            if not out[k]:
                del out[k]
    return out


def _enis(enis: dict, vpcenis: list[dict], instances: dict, region: str) -> tuple[dict, dict, list[dict]]:
    """(ENI records, client tokens, ENIs to make) from the captured ENIs and the VpcENIs naming them."""
    sub_of: dict[str, tuple[str | None, str | None]] = {}  # eni -> (trunk, pod uid)
    trunks: dict[str, str] = {}  # trunk eni -> instance
    for v in vpcenis:
        spec, status = v.get("spec") or {}, (v.get("status") or {}).get("eni") or {}
        eni_id = status.get("eniID")
        trunk = status.get("trunkENIID") or spec.get("trunkENIID")
        if eni_id:
            sub_of[eni_id] = (trunk, spec.get("podUID"))
        if trunk and spec.get("instanceID"):
            trunks[trunk] = spec["instanceID"]
    records, tokens = {}, {}
    for eni_id, e in enis.items():
        attachment = dict(e.get("Attachment") or {})
        attachment.setdefault("InstanceId", "")
        kind = ("primary" if e.get("Primary") else "trunk" if eni_id in trunks
                else "sub" if eni_id in sub_of or e.get("EniType") == 2 else "secondary")
        trunk, uid = sub_of.get(eni_id, (None, None))
        records[eni_id] = {**e, "Attachment": attachment, "PrivateIpAddressSet": list(e.get("PrivateIpAddressSet") or []),
                           "GroupSet": list(e.get("GroupSet") or []), "TagSet": list(e.get("TagSet") or []),
                           "_region": region, "_kind": kind, "_client_token": uid, "_trunk": trunk}
        if kind == "sub" and uid:
            tokens[uid] = eni_id
    to_add = []
    have_primary = {e["Attachment"]["InstanceId"] for e in records.values() if e["_kind"] == "primary"}
    def placed(i: dict) -> bool:  # what CloudState.add_eni needs of an instance
        return bool(i.get("VirtualPrivateCloud", {}).get("SubnetId") and i.get("Placement", {}).get("Zone"))

    for iid, i in instances.items():
        if iid not in have_primary and placed(i):
            ips = i.get("PrivateIpAddresses") or [None]
            to_add.append({"kind": "primary", "instance_id": iid, "groups": i.get("_groups") or [], "ip": ips[0],
                           "name": "Primary ENI", "device_index": 0})
    for trunk, iid in sorted(trunks.items()):
        if trunk not in records and iid in instances and placed(instances[iid]):
            to_add.append({"kind": "trunk", "instance_id": iid, "eni_id": trunk, "groups": instances[iid].get("_groups") or [],
                           "name": "trunk-eni", "description": f"trunk ENI of {iid}", "device_index": 1})
    return records, tokens, to_add


def _cam(a: _Answers, state: dict, base: dict, evidence: list[str]) -> None:
    presets = {p["PolicyName"]: p for p in base["policies"] if p.get("Type") == 2}
    documents = {int(p.get("PolicyId")): r.get("PolicyDocument") for p, r in a.all("cam", "GetPolicy")
                 if p.get("PolicyId") is not None}
    policies: dict[int, dict] = {}
    for _, response in a.all("cam", "ListPolicies"):
        for p in response.get("List") or ():
            if p.get("PolicyId") is None:
                continue
            pid = int(p["PolicyId"])
            policies[pid] = {"PolicyId": pid, "PolicyName": p.get("PolicyName") or str(pid),
                             "PolicyDocument": documents.get(pid) or _EMPTY_DOCUMENT,
                             "Description": p.get("Description") or "", "Type": p.get("Type") or 1,
                             "CreateMode": p.get("CreateMode") or 2, "ServiceType": p.get("ServiceType"),
                             "AddTime": p.get("AddTime") or "", "UpdateTime": p.get("UpdateTime") or ""}
    roles: dict[str, dict] = {}
    for params, response in a.all("cam", "GetRole"):
        info = response.get("RoleInfo")
        if isinstance(info, dict) and info.get("RoleId"):
            roles[str(info["RoleId"])] = _strip_none(info)
    by_name = {r["RoleName"]: rid for rid, r in roles.items()}
    attachments: dict[str, dict[str, str]] = {rid: {} for rid in roles}
    for params, response in a.all("cam", "ListAttachedRolePolicies"):
        rid = by_name.get(params.get("RoleName"))
        if rid is None:
            continue
        for p in response.get("List") or ():
            if p.get("PolicyId") is None:
                continue
            pid = int(p["PolicyId"])
            attachments[rid][str(pid)] = p.get("AddTime") or ""
            if pid in policies:
                continue
            preset = presets.get(p.get("PolicyName"))
            policies[pid] = {**(preset or {}), "PolicyId": pid, "PolicyName": p.get("PolicyName") or str(pid),
                             "Type": 2 if p.get("PolicyType") == "QCS" else 1,
                             "CreateMode": p.get("CreateMode") or (1 if p.get("PolicyType") == "QCS" else 2),
                             "Description": p.get("Description") or (preset or {}).get("Description") or "",
                             "PolicyDocument": documents.get(pid) or (preset or {}).get("PolicyDocument") or _EMPTY_DOCUMENT,
                             "AddTime": (preset or {}).get("AddTime") or "", "UpdateTime": (preset or {}).get("UpdateTime") or ""}
    names = {p["PolicyName"] for p in policies.values()}
    kept = [p for p in base["policies"] if p["PolicyName"] not in names and p["PolicyId"] not in policies]
    state["policies"] = kept + sorted(policies.values(), key=lambda p: p["PolicyId"])
    state["roles"] = list(roles.values())
    state["attachments"] = attachments
    counters = dict(state["counters"])
    counters["policy"] = max([counters["policy"], *(p["PolicyId"] for p in state["policies"])])
    counters["role"] = max([counters["role"], *(int(r) for r in roles if str(r).isdigit())])
    state["counters"] = counters


# --------------------------------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------------------------------

def _infer_variants(a: _Answers, cluster: dict, objects: list[dict], state: dict, enis: dict, vpcenis: list[dict],
                    variants: dict, evidence: list[str], doc_kube: dict) -> None:
    from sgpctl.sandbox import variants as variants_mod

    def choose(key: str, value: str, why: str) -> None:
        try:
            variants_mod.REGISTRY[key].check(value)
        except InputError:
            evidence.append(f"{key}: {why}, which no variant value plays: served as captured")
            return
        if value != variants_mod.default(key):
            variants[key] = value
        evidence.append(f"{key}={value}: {why}")

    try:
        prop = json.loads(cluster.get("Property") or "{}")
    except ValueError:
        prop = {}
    if isinstance(prop, dict) and "MetaFeatureParam" in prop and not prop.get("VpcCniType"):
        choose("network", "gr-vpc-cni", "Property carries MetaFeatureParam and no VpcCniType")
    elif isinstance(prop, dict) and prop.get("VpcCniType"):
        choose("network", "vpc-cni", f"Property carries VpcCniType {prop['VpcCniType']}")
    settings = cluster.get("ClusterNetworkSettings") or {}
    mode, ipvs = settings.get("KubeProxyMode"), settings.get("Ipvs")
    if mode == "kube-proxy-bpf":
        choose("kube-proxy", "ipvs-bpf", "ClusterNetworkSettings.KubeProxyMode is kube-proxy-bpf")
    elif not mode:
        choose("kube-proxy", "ipvs" if ipvs else "iptables",
               f"ClusterNetworkSettings has no KubeProxyMode and Ipvs {str(bool(ipvs)).lower()}")
    else:
        choose("kube-proxy", "scenario", f"ClusterNetworkSettings spells KubeProxyMode {mode!r}")

    crds = {((o.get("spec") or {}).get("group")): o for o in objects if o.get("kind") == "CustomResourceDefinition"}
    from sgpctl.sandbox.kube.crds import SGP_RESOURCE, VPCENI_RESOURCE

    vpceni_crd = crds.get(VPCENI_RESOURCE.split(".", 1)[1])
    if vpceni_crd is not None:
        kind = ((vpceni_crd.get("spec") or {}).get("names") or {}).get("kind") or ""
        choose("vpceni-kind", kind, f"the VpcENI CRD declares kind {kind}")
    sgp_crd = crds.get(SGP_RESOURCE.split(".", 1)[1])
    if sgp_crd is not None:
        versions = (sgp_crd.get("spec") or {}).get("versions") or [{}]
        schema = ((versions[0].get("schema") or {}).get("openAPIV3Schema") or {})
        structural = bool(((schema.get("properties") or {}).get("spec") or {}).get("properties"))
        choose("sgp-crd-schema", "strict" if structural else "none",
               "the SecurityGroupPolicy CRD " + ("has a structural schema" if structural else "accepts any spec"))

    addons = state["addon_records"].get(cluster.get("ClusterId"), {})
    charts = state["charts"]
    sgp, why = _sgp_addon(addons, charts, sgp_crd)
    listed = [n for n, c in charts.items() if not c.get("_unlisted") and _is_sgp(n, c.get("Label"))]
    name = sgp or (listed[0] if listed else None)
    if name:
        choose("sgp-addon-name", name, why if sgp else f"GetTkeAppChartList lists the SecurityGroupPolicy chart as {name}")
    if sgp and a.all("tke", "GetTkeAppChartList"):
        choose("sgp-addon-listed", "false" if charts[sgp].get("_unlisted") else "true",
               f"GetTkeAppChartList {'does not list' if charts[sgp].get('_unlisted') else 'lists'} the installed {sgp}")
    for chart in charts.values():
        chart.pop("_unlisted", None)
    for params, response in a.all("tke", "DescribeAddon"):
        if params.get("AddonName") and params["AddonName"] not in addons and not response.get("Addons"):
            choose("missing-addon", "empty", f"DescribeAddon for {params['AddonName']}, not installed, answered an empty list")
    for params, error in a.errors("tke", "DescribeAddon"):
        if params.get("AddonName") and str(error.get("code", "")).startswith("ResourceNotFound"):
            choose("missing-addon", "error", f"DescribeAddon for {params['AddonName']}, not installed, "
                                             f"answered {error.get('code')}")

    unsupported = [(t, p) for _, r in a.all("tke", "DescribeVpcCniPodLimits") for p in r.get("PodLimitsInstanceSet") or ()
                   if (t := p.get("InstanceType")) and instance_family(t) not in SUPPORTED_FAMILIES]
    nonzero = [t for t, p in unsupported if ((p.get("PodLimits") or {}).get("TKESubENI") or 0) > 0]
    if nonzero:
        choose("tkesubeni", "type-max", f"TKESubENI is above 0 for {nonzero[0]}, a family the TKE document gives no "
                                        "sub-ENI")
    elif unsupported:
        choose("tkesubeni", "assigned", f"TKESubENI is 0 for {unsupported[0][0]}, a family the TKE document gives no sub-ENI")

    named = {(v.get("status") or {}).get("eni", {}).get("eniID") for v in vpcenis} - {None}
    if named and a.all("vpc", "DescribeNetworkInterfaces") + a.errors("vpc", "DescribeNetworkInterfaces"):
        found = named & set(enis)
        choose("subeni-listed", "true" if found else "false",
               f"DescribeNetworkInterfaces returned {len(found)} of the {len(named)} sub-ENIs VpcENIs name")
    for params, error in a.errors("vpc", "DescribeNetworkInterfaces"):
        if params.get("NetworkInterfaceIds") and str(error.get("code", "")).startswith("ResourceNotFound"):
            choose("missing-eni-ids", "error", f"DescribeNetworkInterfaces by id answered {error.get('code')}")
            break

    eni = state["charts"].get(ENIIPAMD) or {}
    default_mode = eni.get("_defaults") or {}
    for key in ENFORCING_MODE:
        default_mode = default_mode.get(key) if isinstance(default_mode, dict) else None
    if isinstance(default_mode, str) and default_mode:
        choose("enforcing-mode-default", default_mode,
               f"eniipamd's DefaultValues hold podSecurityGroupEnforcingMode {default_mode!r}")
    zone = _vpc_time_zone(state["enis"], vpcenis)
    if zone is not None:
        value, why = zone
        choose("vpc-time-zone", value, why)
        if value == "utc+8":  # the state keeps UTC; the handler shows it in the account's zone again
            for eni in state["enis"].values():
                eni["CreatedTime"] = _shifted(eni.get("CreatedTime"), -8)
                attachment = eni.get("Attachment") or {}
                if attachment.get("AttachTime"):
                    attachment["AttachTime"] = _shifted(attachment["AttachTime"], -8)
    leases = [x for x in (doc_kube.get("access") or ()) if isinstance(x, dict)
              and str(x.get("resource", "")).startswith("leases.")]
    for status, value in ((403, "forbidden"), (404, "absent"), (200, "served")):
        hit = next((x for x in leases if x.get("status") == status), None)
        if hit is not None:
            choose("leases", value, f"listing the Leases of namespace {hit.get('namespace')} answered {status}")
            break
    decided = {line.split("=", 1)[0].split(":", 1)[0] for line in evidence}
    for key in variants_mod.REGISTRY:
        if key not in decided:
            evidence.append(f"{key}: no read shows it; the default ({variants_mod.default(key)}) is played")


def _vpc_time_zone(enis: dict, vpcenis: list[dict]) -> tuple[str, str] | None:
    """The zone VPC writes times in, from how far each sub-ENI's CreatedTime (no zone) is ahead of the
    creationTimestamp (UTC) of the VpcENI that names it: about 0 (utc) or about 8 hours (utc+8)."""
    from sgpctl.core.leaks import aware, naive_as_utc

    diffs = []
    for v in vpcenis:
        eni = enis.get(((v.get("status") or {}).get("eni") or {}).get("eniID") or "")
        created, named = naive_as_utc((eni or {}).get("CreatedTime")), aware((v.get("metadata") or {}).get("creationTimestamp"))
        if created is not None and named is not None:
            diffs.append(created - named)
    if not diffs:
        return None
    hours = sorted(diffs)[len(diffs) // 2] / 3600
    for value, offset in (("utc", 0), ("utc+8", 8)):
        if abs(hours - offset) < 1:
            return value, (f"the sub-ENIs' CreatedTime is {hours:+.1f} h from the creationTimestamp of the VpcENIs "
                           f"naming them (median of {len(diffs)})")
    return None


def _shifted(text: Any, hours: int) -> Any:
    from datetime import datetime, timedelta

    try:
        return (datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S") + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text


def _sgp_addon(addons: dict, charts: dict, crd: dict | None) -> tuple[str | None, str]:
    """The installed SecurityGroupPolicy add-on and how it was told: by its name, by the Helm release
    that installed the CRD, or as the only installed add-on the chart list lacks while the CRD is served."""
    named = next((n for n in addons if _is_sgp(n)), None)
    if named:
        return named, f"the SecurityGroupPolicy add-on is installed as {named}"
    if crd is None:
        return None, ""
    release = ((crd.get("metadata") or {}).get("annotations") or {}).get("meta.helm.sh/release-name")
    if release in addons:
        return release, f"the SecurityGroupPolicy CRD was installed by the Helm release {release}, an installed add-on"
    unlisted = [n for n in addons if charts.get(n, {}).get("_unlisted") and n != ENIIPAMD]
    if len(unlisted) == 1:
        return unlisted[0], (f"{unlisted[0]} is the only installed add-on GetTkeAppChartList does not list, and the "
                             "cluster serves SecurityGroupPolicy")
    return None, ""


def _is_sgp(name: Any, label: Any = None) -> bool:
    text = f"{name or ''} {label or ''}".lower().replace("-", "").replace("_", "")
    return "securitygroup" in text


# --------------------------------------------------------------------------------------------------
# Kubernetes
# --------------------------------------------------------------------------------------------------

def _kube(objects: list[dict], evidence: list[str]) -> dict:
    from sgpctl.sandbox.kube.resources import BUILTIN, from_crd

    types = {(rt.group, rt.kind): rt.key for rt in BUILTIN}
    crds = [o for o in objects if o.get("kind") == "CustomResourceDefinition"]
    for crd in crds:
        try:
            rt = from_crd(crd)
        except (KeyError, StopIteration, TypeError):
            evidence.append(f"CRD {(crd.get('metadata') or {}).get('name')} cannot be served: dropped")
            continue
        types[(rt.group, rt.kind)] = rt.key
    items, rv, dropped = [], 0, {}
    order = {"Namespace": 0, "CustomResourceDefinition": 1}
    for obj in sorted(objects, key=lambda o: order.get(str(o.get("kind")), 2)):
        api_version = str(obj.get("apiVersion") or "")
        group = api_version.split("/", 1)[0] if "/" in api_version else ""
        key = types.get((group, obj.get("kind")))
        meta = obj.get("metadata") or {}
        if key is None or not meta.get("name"):
            dropped[str(obj.get("kind"))] = dropped.get(str(obj.get("kind")), 0) + 1
            continue
        items.append({"resource": key, "object": obj})
        try:
            rv = max(rv, int(meta.get("resourceVersion") or 0))
        except ValueError:
            pass
    for kind, n in sorted(dropped.items()):
        evidence.append(f"{n} object(s) of kind {kind} cannot be served: left out")
    return {"version": 1, "resourceVersion": rv, "objects": items}


def _pod_cidrs(subnet_ids, subnets: dict) -> dict[str, str]:
    from sgpctl.sandbox.cloud import regions

    out = {}
    for sid in subnet_ids:
        s = subnets.get(sid)
        if s and s.get("Zone") and s.get("CidrBlock"):
            try:
                out.setdefault(regions.zone_id(s["Zone"]), s["CidrBlock"])
            except (KeyError, ValueError):
                continue
    return out


def _vpc_cni(cluster: dict, a: _Answers) -> bool:
    try:
        prop = json.loads(cluster.get("Property") or "{}")
    except ValueError:
        prop = {}
    if isinstance(prop, dict) and (prop.get("NetworkType") == "VPC-CNI" or "MetaFeatureParam" in prop):
        return True
    return any(r.get("EnableIPAMD") and not r.get("DisableVpcCniMode") for _, r in a.all("tke", "DescribeIPAMD"))

