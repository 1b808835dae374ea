"""TKE adapter (``tke`` 2018-05-25, regional). Reach it as ``session.tke``.

API::

    describe_cluster(cluster_id) -> Cluster            # CloudError ResourceNotFound.ClusterNotFound if absent
    describe_ipamd(cluster_id) -> Ipamd
    describe_addons(cluster_id, name=None) -> list[Addon]   # [] when the add-on is not installed
    get_addon(cluster_id, name) -> Addon | None
    describe_addon_values(cluster_id, name) -> AddonValues
    install_addon(cluster_id, name, version=None, values=None, dry_run=False)
    update_addon(cluster_id, name, version=None, values=None, strategy="merge", dry_run=False)
    delete_addon(cluster_id, name)
    get_app_chart_list(kind=None, cluster_type="tke", arch=None) -> list[Chart]
    describe_vpc_cni_pod_limits(zone=None, family=None, instance_type=None) -> list[PodLimits]
    describe_cluster_instances(cluster_id, instance_ids=None) -> list[ClusterInstance]   # pages after the first, 4 at once
    describe_clusters(cluster_ids=None) -> list[Cluster]                # every cluster of the region, paged
    describe_cluster_endpoints(cluster_id) -> ClusterEndpoints          # where its kube-apiserver answers
    describe_cluster_kubeconfig(cluster_id, extranet=False) -> str      # kubeconfig text (credentials!)
    describe_regions() -> list[Region]

Request bodies (what a fake must accept): ``DescribeClusters {"ClusterIds": [id]}``,
``DescribeIPAMD {"ClusterId"}``, ``DescribeAddon {"ClusterId", "AddonName"?}``,
``DescribeAddonValues {"ClusterId", "AddonName"}``, ``InstallAddon {"ClusterId", "AddonName",
"AddonVersion"?, "RawValues"?, "DryRun"? (only when true)}``, ``UpdateAddon {"ClusterId", "AddonName",
"AddonVersion"?, "RawValues"?, "UpdateStrategy", "DryRun"?}``, ``DeleteAddon {"ClusterId", "AddonName"}``,
``GetTkeAppChartList {"Kind"?, "Arch"?, "ClusterType"}``, ``DescribeClusters {"ClusterIds"?, "Offset",
"Limit": 100}`` (listing), ``DescribeClusterEndpoints {"ClusterId"}``, ``DescribeClusterKubeconfig
{"ClusterId", "IsExtranet"?}``, ``DescribeRegions {}``, ``DescribeVpcCniPodLimits {"Zone"?,
"InstanceFamily"?, "InstanceType"?}``, ``DescribeClusterInstances {"ClusterId", "Offset", "Limit": 100,
"InstanceIds"?}`` (ids batched by 100, each batch paged). ``RawValues`` is base64 of compact JSON.

Facts: a missing cluster shows as an empty ``Clusters`` list from DescribeClusters or as one of the
``*ClusterNotFound`` codes the SDK lists (``InvalidParameter.``, ``ResourceNotFound.``, ``FailedOperation.``,
``InternalError.ClusterNotFound``); either way the ``CloudError`` hints at --cluster-id/SGPCTL_CLUSTER_ID
and --region. A missing add-on is ``ResourceNotFound`` (any sub-code except a cluster one) *or*
an empty ``Addons`` list: both mean "absent". No mutation is repeated after it may have reached the
server: ``InstallAddon``, ``DeleteAddon`` and ``UpdateAddon`` raise ``OutcomeUnknownError`` when the
answer was lost (a second ``UpdateAddon`` while the first rolls out may be refused, with a code no
source documents, or start a second rollout), so the caller re-reads the add-on's phase and values
first.
"""

from __future__ import annotations

import base64
import json

from sgpctl.cloud.params import Adapter, optional
from sgpctl.cloud.errors import hint_for, is_cluster_not_found
from sgpctl.cloud.paging import batched, paginate_offset, unique
from sgpctl.cloud.types import Addon, AddonValues, Chart, Cluster, ClusterEndpoints, ClusterInstance, Ipamd, PodLimits, Region
from sgpctl.errors import CloudError

#: pages of one listing fetched at once once the first page's TotalCount is known
PAGES_AT_ONCE = 4


def encode_values(values: dict) -> str:
    """Add-on values -> ``RawValues`` (base64 of compact JSON)."""
    return base64.b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()


def decode_values(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        doc = json.loads(base64.b64decode(raw, validate=False).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def _json_object(text: str | None) -> dict:
    if not text:
        return {}
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def strip_v(version: str | None) -> str | None:
    if version and version[:1] in ("v", "V") and version[1:2].isdigit():
        return version[1:]
    return version


def _addon_absent(code: str) -> bool:
    return (code == "ResourceNotFound" or code.startswith("ResourceNotFound.")) and not is_cluster_not_found(code)


def _addon_change(cluster_id: str, name: str, version: str | None, values: dict | None, dry_run: bool,
                  **extra: str) -> dict:
    """The body of InstallAddon/UpdateAddon: version and values only when given, DryRun only when true."""
    params: dict = {"ClusterId": cluster_id, "AddonName": name}
    if version:
        params["AddonVersion"] = version
    if values is not None:
        params["RawValues"] = encode_values(values)
    params.update(extra)
    if dry_run:
        params["DryRun"] = True
    return params


class TkeAdapter(Adapter):
    service = "tke"

    # -- cluster --------------------------------------------------------------------------------
    def describe_cluster(self, cluster_id: str) -> Cluster:
        data = self._call("DescribeClusters", {"ClusterIds": [cluster_id]})
        found = [c for c in data.get("Clusters") or [] if c.get("ClusterId") == cluster_id]
        if not found:
            code = "ResourceNotFound.ClusterNotFound"
            raise CloudError(
                code, f"cluster {cluster_id} not found", data.get("RequestId"), action="DescribeClusters",
                hint=hint_for(code, service="tke", action="DescribeClusters", endpoint=None, region=self.session.region),
            )
        return _cluster(found[0])

    def describe_clusters(self, cluster_ids: list[str] | None = None) -> list[Cluster]:
        """Every cluster of the region the credentials see (or those of ``cluster_ids`` that exist),
        paged 100 at a time."""
        def fetch(offset: int, limit: int):
            params: dict = {"Offset": offset, "Limit": limit}
            if cluster_ids:
                params["ClusterIds"] = list(cluster_ids)
            d = self._call("DescribeClusters", params)
            return [_cluster(c) for c in d.get("Clusters") or []], d.get("TotalCount")

        return paginate_offset(fetch, limit=100)

    def describe_cluster_endpoints(self, cluster_id: str) -> ClusterEndpoints:
        d = self._call("DescribeClusterEndpoints", {"ClusterId": cluster_id})
        return ClusterEndpoints(
            cluster_id=cluster_id,
            external=d.get("ClusterExternalEndpoint") or None,
            intranet=d.get("ClusterIntranetEndpoint") or None,
            domain=d.get("ClusterDomain") or None,
            external_domain=d.get("ClusterExternalDomain") or None,
            intranet_domain=d.get("ClusterIntranetDomain") or None,
        )

    def describe_cluster_kubeconfig(self, cluster_id: str, extranet: bool = False) -> str:
        """The cluster's kubeconfig (YAML text, with credentials: callers keep it in memory)."""
        params: dict = {"ClusterId": cluster_id}
        if extranet:
            params["IsExtranet"] = True
        d = self._call("DescribeClusterKubeconfig", params)
        text = d.get("Kubeconfig")
        if not text:
            raise CloudError("InvalidResponse", f"DescribeClusterKubeconfig answered without a Kubeconfig for {cluster_id}",
                             d.get("RequestId"), action="DescribeClusterKubeconfig")
        return text

    def describe_regions(self) -> list[Region]:
        """The regions TKE offers (``Status`` ``alluser``: open to every account)."""
        d = self._call("DescribeRegions", {})
        return [Region(name=r.get("RegionName") or "", status=r.get("Status"), alias=r.get("Alias"))
                for r in d.get("RegionInstanceSet") or [] if r.get("RegionName")]

    def describe_ipamd(self, cluster_id: str) -> Ipamd:
        d = self._call("DescribeIPAMD", {"ClusterId": cluster_id})
        return Ipamd(
            enabled=d.get("EnableIPAMD"),
            disable_vpc_cni_mode=d.get("DisableVpcCniMode"),
            phase=d.get("Phase"),
            reason=d.get("Reason"),
            subnet_ids=tuple(d.get("SubnetIds") or ()),
            claim_expired_duration=d.get("ClaimExpiredDuration"),
            trunking_enabled=d.get("EnableTrunkingENI"),
            customized_pod_cidr=d.get("EnableCustomizedPodCidr"),
        )

    def describe_cluster_instances(self, cluster_id: str, instance_ids: list[str] | None = None) -> list[ClusterInstance]:
        def pages(ids: list[str] | None) -> list[ClusterInstance]:
            def fetch(offset: int, limit: int):
                params: dict = {"ClusterId": cluster_id, "Offset": offset, "Limit": limit}
                if ids:
                    params["InstanceIds"] = ids
                d = self._call("DescribeClusterInstances", params)
                return [_cluster_instance(i) for i in d.get("InstanceSet") or []], d.get("TotalCount")

            # the first page's TotalCount tells the other pages' offsets: they need not wait for each other
            return paginate_offset(fetch, limit=100,
                                   map_pages=lambda fn, offsets: self._concurrently(fn, offsets, PAGES_AT_ONCE))

        if instance_ids is None:
            return pages(None)
        out: list[ClusterInstance] = []
        for batch in batched(unique(instance_ids), 100):
            out.extend(pages(batch))
        return out

    # -- add-ons --------------------------------------------------------------------------------
    def describe_addons(self, cluster_id: str, name: str | None = None) -> list[Addon]:
        params = {"ClusterId": cluster_id}
        if name:
            params["AddonName"] = name
        try:
            d = self._call("DescribeAddon", params)
        except CloudError as e:
            if name and _addon_absent(e.code):
                return []
            raise
        addons = [_addon(a) for a in d.get("Addons") or []]
        return [a for a in addons if a.name == name] if name else addons

    def get_addon(self, cluster_id: str, name: str) -> Addon | None:
        found = self.describe_addons(cluster_id, name)
        return found[0] if found else None

    def describe_addon_values(self, cluster_id: str, name: str) -> AddonValues:
        d = self._call("DescribeAddonValues", {"ClusterId": cluster_id, "AddonName": name})
        return AddonValues(values=_json_object(d.get("Values")), defaults=_json_object(d.get("DefaultValues")))

    def install_addon(self, cluster_id: str, name: str, version: str | None = None,
                      values: dict | None = None, dry_run: bool = False) -> None:
        self._call("InstallAddon", _addon_change(cluster_id, name, version, values, dry_run))

    def update_addon(self, cluster_id: str, name: str, version: str | None = None, values: dict | None = None,
                     strategy: str = "merge", dry_run: bool = False) -> None:
        if not version and values is None:
            raise ValueError("update_addon needs a version or values")
        if strategy not in ("merge", "replace"):
            raise ValueError("strategy must be 'merge' or 'replace'")
        self._call("UpdateAddon", _addon_change(cluster_id, name, version, values, dry_run, UpdateStrategy=strategy))

    def delete_addon(self, cluster_id: str, name: str) -> None:
        self._call("DeleteAddon", {"ClusterId": cluster_id, "AddonName": name})

    def get_app_chart_list(self, kind: str | None = None, cluster_type: str = "tke", arch: str | None = None) -> list[Chart]:
        d = self._call("GetTkeAppChartList", optional(Kind=kind, Arch=arch, ClusterType=cluster_type))
        return [Chart(name=c.get("Name") or "", label=c.get("Label"), latest_version=c.get("LatestVersion"))
                for c in d.get("AppCharts") or []]

    # -- instance-type limits -------------------------------------------------------------------
    def describe_vpc_cni_pod_limits(self, zone: str | None = None, family: str | None = None,
                                    instance_type: str | None = None) -> list[PodLimits]:
        d = self._call("DescribeVpcCniPodLimits", optional(Zone=zone, InstanceFamily=family, InstanceType=instance_type))
        out = []
        for item in d.get("PodLimitsInstanceSet") or []:
            limits = item.get("PodLimits") or {}
            out.append(PodLimits(
                zone=item.get("Zone"),
                instance_family=item.get("InstanceFamily"),
                instance_type=item.get("InstanceType"),
                route_eni_non_static_ip=limits.get("TKERouteENINonStaticIP"),
                route_eni_static_ip=limits.get("TKERouteENIStaticIP"),
                direct_eni=limits.get("TKEDirectENI"),
                sub_eni=limits.get("TKESubENI"),
            ))
        # the API may answer with other families or zones than asked for
        return [
            p for p in out
            if (not zone or p.zone == zone)
            and (not family or (p.instance_family or "").upper() == family.upper())
            and (not instance_type or (p.instance_type or "").upper() == instance_type.upper())
        ]


def _cluster(c: dict) -> Cluster:
    net = c.get("ClusterNetworkSettings") or {}
    prop = _json_object(c.get("Property"))
    return Cluster(
        cluster_id=c.get("ClusterId") or "",
        name=c.get("ClusterName"),
        version=c.get("ClusterVersion"),
        status=c.get("ClusterStatus"),
        vpc_id=net.get("VpcId"),
        kube_proxy_mode=net.get("KubeProxyMode"),
        ipvs=net.get("Ipvs"),
        network_type=prop.get("NetworkType"),
        vpc_cni_type=prop.get("VpcCniType"),
        non_static_ip=_bool(prop.get("IsNonStaticIpMode")),
        cluster_type=c.get("ClusterType"),
        properties=prop,
    )


def _addon(a: dict) -> Addon:
    return Addon(
        name=a.get("AddonName") or "",
        version=strip_v(a.get("AddonVersion")),
        phase=a.get("Phase"),
        reason=a.get("Reason"),
        raw_values=decode_values(a.get("RawValues")),
        create_time=a.get("CreateTime"),
    )


def _cluster_instance(i: dict) -> ClusterInstance:
    return ClusterInstance(
        instance_id=i.get("InstanceId") or "",
        role=i.get("InstanceRole"),
        state=i.get("InstanceState"),
        lan_ip=i.get("LanIP"),
        node_pool_id=i.get("NodePoolId"),
        failed_reason=i.get("FailedReason"),
        drain_status=i.get("DrainStatus"),
    )


ADAPTER = TkeAdapter
