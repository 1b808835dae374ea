"""TKE 2018-05-25 actions: clusters, eniipamd view, add-ons, charts, Pod limits, cluster nodes,
cluster access (endpoints, kubeconfig, status) and regions.

A cluster that does not exist (in the request's region) answers
``ResourceNotFound.ClusterNotFound``. The add-on actions document almost no error codes in the
official SDKs; the sandbox's choices: a named add-on that is not installed ->
``ResourceNotFound`` (or an empty list under the variant ``missing-addon=empty``); installing an
installed add-on -> ``ResourceInUse``; changing an add-on while an operation runs ->
``FailedOperation.TaskAlreadyRunning`` (a code of TKE's error list, but what the real API answers
then is unknown: UpdateAddon's documented errors are only ``UnknownParameter``); an unknown chart ->
``InvalidParameter.Param``.

DescribeAddonValues' ``Values`` is the rendered document (the values set over the chart's defaults, as
the API documents: "会使用已设置的参数和chart里的默认参数做渲染"), ``DefaultValues`` the chart's defaults.

Variants (``sgpctl.sandbox.variants``): ``missing-addon``, ``sgp-addon-listed`` (GetTkeAppChartList),
``eniipamd-version`` (AddonVersion and LatestVersion of eniipamd as a chart version, see
:func:`chart_version`; a region replayed from a capture shows the chart versions it saw,
``CloudState.chart_versions``), ``tkesubeni`` (DescribeVpcCniPodLimits; an instance type with captured
``_pod_limits`` answers those). The others change the region itself (``variants.apply``) or ``CloudState``.

Cluster access follows the API docs: DescribeClusterKubeconfig returns the calling account's own
kubeconfig with an x509 client certificate (issued by the cluster's CA on the first call, valid 20
years, the same afterwards; the account owner gets cluster-admin), named as TKE names it (cluster
``cls-xxxxxxxx``, user ``<uin>``, context ``cls-xxxxxxxx-<uin>-context-default``). The sandbox
serves a cluster's kube-apiserver at one loopback address, so the intranet and the extranet
endpoint are the same ``127.0.0.1:PORT`` and ``IsExtranet`` picks between two equal answers; a
real cluster may have only one of them enabled (the other kubeconfig then names a default domain
that does not resolve), and real endpoints are IPs on port 443 where the sandbox needs
``host:port``. A cluster with no served kube-apiserver (a cloud endpoint run alone) reports empty
endpoints and a kubeconfig pointing at its default domain ``cls-xxxxxxxx.ccs.tencent-cloud.com``,
as the docs describe for a disabled endpoint.
"""

from __future__ import annotations

import json

from sgpctl.core import quotas

from . import regions
from .common import Ctx, filters_of, int_param, require
from .errors import ApiError
from .state import ACCOUNT_UIN

IPAMD = "eniipamd"


def chart_version(component: str) -> str:
    """eniipamd's component version as a chart version under ``eniipamd-version=chart``: an arbitrary
    invertible renumbering (3.6.0 -> 1.4.2); what matters is that it is not the component's version.
    Versions it cannot renumber (not X.Y.Z with X, Y >= 2) stay as they are."""
    parts = component.lstrip("v").split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or int(parts[0]) < 2 or int(parts[1]) < 2:
        return component
    x, y, z = (int(p) for p in parts)
    return f"{x - 2}.{y - 2}.{z + 2}"


def component_version(chart: str) -> str:
    """The inverse of :func:`chart_version`."""
    parts = chart.lstrip("v").split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or int(parts[2]) < 2:
        return chart
    x, y, z = (int(p) for p in parts)
    return f"{x + 2}.{y + 2}.{z - 2}"


def _shown_version(ctx: Ctx, name: str, version: str) -> str:
    if name == IPAMD and version and ctx.state.variant("eniipamd-version") == "chart":
        return ctx.state.chart_versions.get(version) or chart_version(version)
    return version


def _sent_version(ctx: Ctx, name: str, version: str | None) -> str | None:
    if name == IPAMD and version and ctx.state.variant("eniipamd-version") == "chart":
        known = {chart: component for component, chart in ctx.state.chart_versions.items()}
        return known.get(version) or component_version(version)
    return version


def _limit(params: dict, maximum: int = 100) -> tuple[int, int]:
    offset = int_param(params, "Offset", 0)
    limit = int_param(params, "Limit", 20, minimum=1, maximum=maximum)
    return offset, limit


def _cluster_view(ctx: Ctx, c: dict) -> dict:
    out = {k: v for k, v in c.items() if not k.startswith("_")}
    out["Property"] = ctx.state.cluster_property(c)
    out["ClusterNodeNum"] = len(c["_instances"])
    return out


def describe_clusters(ctx: Ctx, params: dict) -> dict:
    offset, limit = _limit(params)
    ids = params.get("ClusterIds") or []
    clusters = [c for c in ctx.state.clusters.values() if c["_region"] == ctx.region]
    if ids:
        clusters = [c for c in clusters if c["ClusterId"] in ids]
    for name, values in filters_of(params, ("ClusterName", "ClusterType", "ClusterStatus", "vpc-id"),
                                   code="InvalidParameter.Param"):
        if name == "vpc-id":
            clusters = [c for c in clusters if c["ClusterNetworkSettings"]["VpcId"] in values]
        else:
            clusters = [c for c in clusters if c[name] in values]
    return {"TotalCount": len(clusters), "Clusters": [_cluster_view(ctx, c) for c in clusters[offset : offset + limit]]}


def describe_ipamd(ctx: Ctx, params: dict) -> dict:
    c = ctx.state._cluster(require(params, "ClusterId"), ctx.region)
    addon = ctx.state.addon(c["ClusterId"], IPAMD)
    if addon is None:
        return {"EnableIPAMD": False, "EnableCustomizedPodCidr": False, "DisableVpcCniMode": False,
                "EnableTrunkingENI": False}
    ipamd = c["_ipamd"]
    phase = {"Succeeded": "running", "Installing": "initializing", "Upgrading": "upgrading",
             "Terminating": "terminating"}.get(addon["Phase"], "failed")
    return {
        "EnableIPAMD": True,
        "EnableCustomizedPodCidr": ipamd["EnableCustomizedPodCidr"],
        "DisableVpcCniMode": ipamd["DisableVpcCniMode"],
        "Phase": phase,
        "Reason": addon["Reason"] if phase == "failed" else "",
        "SubnetIds": list(ipamd["SubnetIds"]),
        "ClaimExpiredDuration": ipamd["ClaimExpiredDuration"],
        "EnableTrunkingENI": _trunking_reported(ipamd, ctx.state.trunking_enabled(c["ClusterId"])),
    }


def _trunking_reported(ipamd: dict, enabled: bool) -> bool:
    # A replayed account whose DescribeIPAMD disagreed with eniipamd's values keeps disagreeing until the
    # values change (``sandbox.replay``).
    reported = ipamd.get("_reported_trunking")
    return bool(reported["value"]) if reported and reported.get("while") == enabled else enabled


def _addon_out(ctx: Ctx, view: dict) -> dict:
    return {
        "AddonName": view["AddonName"],
        "AddonVersion": _shown_version(ctx, view["AddonName"], view["AddonVersion"]),
        "RawValues": ctx.state.encode_raw_values(view["Values"]),
        "Phase": view["Phase"],
        "Reason": view["Reason"],
        "CreateTime": view["CreateTime"],
    }


def describe_addon(ctx: Ctx, params: dict) -> dict:
    cluster_id = require(params, "ClusterId")
    ctx.state._cluster(cluster_id, ctx.region)
    name = params.get("AddonName")
    if not name:
        return {"Addons": [_addon_out(ctx, a) for a in ctx.state.addons(cluster_id)]}
    view = ctx.state.addon(cluster_id, name)
    if view is None:
        if ctx.state.variant("missing-addon") == "empty":
            return {"Addons": []}
        raise ApiError("ResourceNotFound", f"The addon {name!r} is not installed in cluster {cluster_id}.")
    return {"Addons": [_addon_out(ctx, view)]}


def describe_addon_values(ctx: Ctx, params: dict) -> dict:
    cluster_id = require(params, "ClusterId")
    name = require(params, "AddonName")
    ctx.state._cluster(cluster_id, ctx.region)
    chart = ctx.state.charts.get(name)
    if chart is None and ctx.state.addon(cluster_id, name) is None:
        raise ApiError("ResourceUnavailable", f"There is no addon named {name!r}.")
    defaults = chart["_defaults"] if chart else {}
    values = ctx.state.addon_values(cluster_id, name)
    return {
        "Values": json.dumps(values) if values is not None else "",
        "DefaultValues": json.dumps(defaults),
    }


def install_addon(ctx: Ctx, params: dict) -> dict:
    ctx.state.install_addon(
        require(params, "ClusterId"),
        require(params, "AddonName"),
        _sent_version(ctx, params["AddonName"], params.get("AddonVersion") or None),
        ctx.state.decode_raw_values(params.get("RawValues")),
        region=ctx.region,
        dry_run=bool(params.get("DryRun")),
    )
    return {}


def update_addon(ctx: Ctx, params: dict) -> dict:
    if not params.get("AddonVersion") and not params.get("RawValues"):
        raise ApiError("MissingParameter", "UpdateAddon needs `AddonVersion` or `RawValues`.")
    raw = params.get("RawValues")
    ctx.state.update_addon(
        require(params, "ClusterId"),
        require(params, "AddonName"),
        _sent_version(ctx, params["AddonName"], params.get("AddonVersion") or None),
        ctx.state.decode_raw_values(raw) if raw else None,
        params.get("UpdateStrategy") or "merge",
        region=ctx.region,
        dry_run=bool(params.get("DryRun")),
    )
    return {}


def delete_addon(ctx: Ctx, params: dict) -> dict:
    ctx.state.delete_addon(require(params, "ClusterId"), require(params, "AddonName"), region=ctx.region)
    return {}


def get_tke_app_chart_list(ctx: Ctx, params: dict) -> dict:
    kind = params.get("Kind")
    cluster_type = params.get("ClusterType") or "tke"
    hidden = ctx.state.variant("sgp-addon-name") if ctx.state.variant("sgp-addon-listed") == "false" else None
    charts = [
        {"Name": c["Name"], "Label": c["Label"], "LatestVersion": _shown_version(ctx, c["Name"], c["LatestVersion"])}
        for c in ctx.state.charts.values()
        if (not kind or c["_kind"] == kind) and cluster_type in c["_cluster_types"] and c["Name"] != hidden
    ]
    return {"AppCharts": charts}


def _pod_limits(ctx: Ctx, t: dict) -> dict:
    if t.get("_pod_limits") is not None:
        return dict(t["_pod_limits"])  # what a captured region answered (``sandbox.replay``)
    # Only TKESubENI feeds sgpctl's logic; the other three are plausible figures from the ENI count
    # and IPs per ENI a CVM of this size gets. TKESubENI is the type's assigned quota (the document's
    # table: 0 for unlisted families), or under tkesubeni=type-max what the API documents, "the
    # maximum the type supports" (the official example answers 100 for SA2, an unlisted family).
    cpu = t["CPU"]
    enis = max(2, min(8, cpu // 2 + 1))
    ips = max(6, min(30, cpu * 2))
    return {
        "TKERouteENINonStaticIP": (enis - 1) * ips,
        "TKERouteENIStaticIP": (enis - 1) * (ips - 1),
        "TKEDirectENI": enis - 1,
        "TKESubENI": (quotas.LARGE_QUOTA if cpu >= quotas.LARGE_QUOTA_MIN_CPU else quotas.DEFAULT_QUOTA)
        if ctx.state.variant("tkesubeni") == "type-max" else ctx.state.type_sub_eni_quota(t["InstanceType"], cpu),
    }


def describe_vpc_cni_pod_limits(ctx: Ctx, params: dict) -> dict:
    zone = params.get("Zone")
    family = params.get("InstanceFamily")
    itype = params.get("InstanceType")
    zones = ctx.state.regions.get(ctx.region, [])
    out = []
    for t in ctx.state.instance_types.values():
        if family and t["InstanceFamily"] != family.upper():
            continue
        if itype and t["InstanceType"] != itype:
            continue
        for z in t["Zones"]:
            if z in zones and (not zone or z == zone):
                out.append({"Zone": z, "InstanceFamily": t["InstanceFamily"], "InstanceType": t["InstanceType"],
                            "PodLimits": _pod_limits(ctx, t)})
    return {"TotalCount": len(out), "PodLimitsInstanceSet": out}


def describe_cluster_instances(ctx: Ctx, params: dict) -> dict:
    c = ctx.state._cluster(require(params, "ClusterId"), ctx.region)
    offset, limit = _limit(params)
    role = params.get("InstanceRole") or "WORKER"
    ids = params.get("InstanceIds") or []
    nodes = list(c["_instances"].values())
    if role != "ALL":
        nodes = [n for n in nodes if n["InstanceRole"] == role]
    if ids:
        nodes = [n for n in nodes if n["InstanceId"] in ids]
    for name, values in filters_of(params, ("nodepool-id", "nodepool-instance-type", "instance-state"),
                                   code="InvalidParameter.Param"):
        if name == "nodepool-id":
            nodes = [n for n in nodes if n["NodePoolId"] in values]
        elif name == "instance-state":
            nodes = [n for n in nodes if n["InstanceState"] in values]
        else:
            nodes = [n for n in nodes if ctx.state.instances[n["InstanceId"]]["InstanceType"] in values]
    out = []
    for n in nodes[offset : offset + limit]:
        inst = ctx.state.instances.get(n["InstanceId"], {})
        out.append({
            "InstanceId": n["InstanceId"],
            "InstanceRole": n["InstanceRole"],
            "FailedReason": "",
            "InstanceState": n["InstanceState"],
            "DrainStatus": "",
            "CreatedTime": n["CreatedTime"],
            "LanIP": (inst.get("PrivateIpAddresses") or [None])[0],
            "NodePoolId": n["NodePoolId"] or "",
            "AutoscalingGroupId": "",
        })
    return {"TotalCount": len(nodes), "InstanceSet": out}


# --- cluster access and regions -----------------------------------------------------------------


def cluster_domain(cluster_id: str) -> str:
    """TKE's default API server domain of a cluster (DescribeClusterEndpoints.ClusterDomain)."""
    return f"{cluster_id}.ccs.tencent-cloud.com"


def describe_cluster_endpoints(ctx: Ctx, params: dict) -> dict:
    c = ctx.state._cluster(require(params, "ClusterId"), ctx.region)
    endpoint = c.get("_endpoint") or {}
    address = endpoint.get("Address") or ""
    return {
        "CertificationAuthority": endpoint.get("CertificationAuthority") or "",
        "ClusterExternalEndpoint": address,
        "ClusterIntranetEndpoint": address,
        "ClusterDomain": cluster_domain(c["ClusterId"]),
        "ClusterExternalACL": ["0.0.0.0/0"] if address else [],
        "ClusterExternalDomain": "",
        "ClusterIntranetDomain": "",
        "SecurityGroup": "",
        "ClusterIntranetSubnetId": c["ClusterNetworkSettings"].get("SubnetId") or "",
        "IntranetSecurityGroup": "",
    }


def describe_cluster_kubeconfig(ctx: Ctx, params: dict) -> dict:
    from sgpctl.sandbox.kube import tls
    from sgpctl.sandbox.kube.kubeconfig import Access, client_certificate_credentials, render

    c = ctx.state._cluster(require(params, "ClusterId"), ctx.region)
    cluster_id = c["ClusterId"]
    directory = ctx.state.tls_dir or tls.process_dir()
    issued = tls.client_certificate(directory, cluster_id, ACCOUNT_UIN, now=ctx.state.clock())
    if issued is None:
        raise ApiError("InternalError", "sandbox: cannot issue a client certificate: the openssl command is "
                                        "missing or failed (install openssl)")
    endpoint = c.get("_endpoint")
    if endpoint and endpoint.get("Address"):
        server, ca = f"https://{endpoint['Address']}", endpoint.get("CertificationAuthority")
    else:
        server, ca = f"https://{cluster_domain(cluster_id)}", tls.cluster_ca(directory, cluster_id)[0].read_bytes()
    context = f"{cluster_id}-{ACCOUNT_UIN}-context-default"
    access = Access(cluster=cluster_id, server=server, user=ACCOUNT_UIN, context=context,
                    credentials=client_certificate_credentials(*issued), ca_pem=ca)
    return {"Kubeconfig": render([access], context)}


def describe_cluster_status(ctx: Ctx, params: dict) -> dict:
    ids = params.get("ClusterIds") or []
    clusters = [c for c in ctx.state.clusters.values()
                if c["_region"] == ctx.region and (not ids or c["ClusterId"] in ids)]
    out = []
    for c in clusters:
        states = [n["InstanceState"] for n in c["_instances"].values()]
        running, failed = states.count("running"), states.count("failed")
        out.append({
            "ClusterId": c["ClusterId"],
            "ClusterState": c["ClusterStatus"],
            "ClusterInstanceState": "AllNormal" if not failed else "AllAbnormal" if not running else "PartialAbnormal",
            "ClusterBMonitor": True,
            "ClusterInitNodeNum": states.count("initializing"),
            "ClusterRunningNodeNum": running,
            "ClusterFailedNodeNum": failed,
            "ClusterClosedNodeNum": 0,
            "ClusterClosingNodeNum": 0,
            "ClusterDeletionProtection": c["DeletionProtection"],
            "ClusterAuditEnabled": False,
        })
    return {"ClusterStatusSet": out, "TotalCount": len(out)}


def describe_regions(ctx: Ctx, params: dict) -> dict:
    out = [{"RegionName": r.name, "RegionId": r.region_id, "Status": "alluser", "FeatureGates": "{}",
            "Alias": r.alias, "Remark": ""} for r in regions.REGIONS.values()]
    return {"TotalCount": len(out), "RegionInstanceSet": out}


ACTIONS = {
    "DescribeClusters": describe_clusters,
    "DescribeIPAMD": describe_ipamd,
    "DescribeAddon": describe_addon,
    "DescribeAddonValues": describe_addon_values,
    "InstallAddon": install_addon,
    "UpdateAddon": update_addon,
    "DeleteAddon": delete_addon,
    "GetTkeAppChartList": get_tke_app_chart_list,
    "DescribeVpcCniPodLimits": describe_vpc_cni_pod_limits,
    "DescribeClusterInstances": describe_cluster_instances,
    "DescribeClusterEndpoints": describe_cluster_endpoints,
    "DescribeClusterKubeconfig": describe_cluster_kubeconfig,
    "DescribeClusterStatus": describe_cluster_status,
    "DescribeRegions": describe_regions,
}
