"""Each variant's answer, through the official SDK against a running sandbox: it differs as the
variant's reading says, and without the variant the answer is the one the sandbox always gave."""

from __future__ import annotations

import base64
import json

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.sandbox_support import cloud_client, group_id, running_sandbox, sdk_request, sgp_ready

ENABLE_SUB_ENI = {"vpcCni": {"trunkingEni": {"enableSubEni": True}}}


def call(sb, service: str, action: str, **params):
    return getattr(cloud_client(sb, service), action)(sdk_request(service, action, **params))


def error_code(sb, service: str, action: str, **params) -> str:
    with pytest.raises(TencentCloudSDKException) as e:
        call(sb, service, action, **params)
    return e.value.code


def values(sb, name: str = "eniipamd") -> tuple[dict, dict]:
    got = call(sb, "tke", "DescribeAddonValues", ClusterId=sb.cluster_id, AddonName=name)
    return json.loads(got.Values or "{}"), json.loads(got.DefaultValues or "{}")


def b64(doc: dict) -> str:
    return base64.b64encode(json.dumps(doc).encode()).decode()


def chart_names(sb, kind: str | None = None) -> list[str]:
    params = {"Kind": kind} if kind else {}
    return [c.Name for c in call(sb, "tke", "GetTkeAppChartList", **params).AppCharts]


@pytest.fixture(scope="module")
def plain():
    """The default scenario without variants (read-only tests)."""
    with running_sandbox("default") as sb:
        yield sb


# --- add-ons ---------------------------------------------------------------------------------


@pytest.mark.parametrize("merge", ["deep", "shallow"])
def test_addon_merge_keeps_or_drops_the_rest_of_a_top_level_key(merge):
    with running_sandbox("default", variants={"addon-merge": merge}, addon_delay=0) as sb:
        before, _ = values(sb)
        assert before["vpcCni"]["eniMode"] == "tke-route-eni" and before["vpcCni"]["maxEniPerNode"] == 0
        call(sb, "tke", "UpdateAddon", ClusterId=sb.cluster_id, AddonName="eniipamd", RawValues=b64(ENABLE_SUB_ENI),
             UpdateStrategy="merge")
        after, defaults = values(sb)
    assert after["vpcCni"]["trunkingEni"]["enableSubEni"] is True
    assert after["agent"] == before["agent"] and after["ipamd"] == before["ipamd"]  # keys not sent stay
    if merge == "deep":
        assert after["vpcCni"] == {**before["vpcCni"], "trunkingEni": {**before["vpcCni"]["trunkingEni"], "enableSubEni": True}}
    else:
        # Only the chart's defaults are left under vpcCni besides what was sent: the cluster's own
        # settings (its ENI mode, the max ENIs per node, the security-group switch) are gone.
        assert "eniMode" not in after["vpcCni"] and "maxEniPerNode" not in after["vpcCni"]
        assert after["vpcCni"]["securityGroups"] == defaults["vpcCni"]["securityGroups"]


def test_sgp_addon_name_renames_the_chart_everywhere():
    with running_sandbox("default", variants={"sgp-addon-name": "sgp"}, addon_delay=0) as sb:
        network = call(sb, "tke", "GetTkeAppChartList", Kind="network").AppCharts
        sgp = next(c for c in network if c.Name == "sgp")
        assert sgp.Label == "SecurityGroupPolicy" and "securitygrouppolicy" not in chart_names(sb)
        assert error_code(sb, "tke", "InstallAddon", ClusterId=sb.cluster_id,
                          AddonName="securitygrouppolicy") == "InvalidParameter.Param"
        call(sb, "tke", "InstallAddon", ClusterId=sb.cluster_id, AddonName="sgp")
        sb.settle()
        (addon,) = call(sb, "tke", "DescribeAddon", ClusterId=sb.cluster_id, AddonName="sgp").Addons
        assert addon.AddonName == "sgp" and addon.Phase == "Succeeded"
        assert error_code(sb, "tke", "DescribeAddon", ClusterId=sb.cluster_id,
                          AddonName="securitygrouppolicy") == "ResourceNotFound"
        # The add-on under its other name still brings the SecurityGroupPolicy CRD.
        assert sb.kube.get("customresourcedefinitions", None,
                           "securitygrouppolicies.vpcresources.tke.cloud.tencent.com") is not None


def test_the_default_sgp_chart_name(plain):
    assert "securitygrouppolicy" in chart_names(plain, "network") and "sgp" not in chart_names(plain)


def test_sgp_addon_listed_false_hides_the_chart_but_it_installs():
    with running_sandbox("default", variants={"sgp-addon-listed": "false"}, addon_delay=0) as sb:
        for kind in ("network", None):
            charts = call(sb, "tke", "GetTkeAppChartList", **({"Kind": kind} if kind else {})).AppCharts
            assert not [c for c in charts if "securitygroup" in f"{c.Name} {c.Label}".lower()]
        assert "eniipamd" in chart_names(sb, "network")
        call(sb, "tke", "InstallAddon", ClusterId=sb.cluster_id, AddonName="securitygrouppolicy")
        sb.settle()
        (addon,) = call(sb, "tke", "DescribeAddon", ClusterId=sb.cluster_id, AddonName="securitygrouppolicy").Addons
        assert addon.Phase == "Succeeded"


def _image_tag(sb) -> str:
    deploy = sb.kube.get("deployments.apps", "kube-system", "tke-eni-ipamd")
    return deploy["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]


def test_eniipamd_version_chart_reports_a_chart_version_while_the_image_tag_has_the_component():
    with running_sandbox("default", variants={"eniipamd-version": "chart"}, addon_delay=0) as sb:
        (addon,) = call(sb, "tke", "DescribeAddon", ClusterId=sb.cluster_id, AddonName="eniipamd").Addons
        assert addon.AddonVersion == "1.4.2" and _image_tag(sb) == "v3.6.0"
        latest = next(c for c in call(sb, "tke", "GetTkeAppChartList").AppCharts if c.Name == "eniipamd")
        assert latest.LatestVersion == "1.5.4"  # the chart of component 3.7.2
        # Upgrading to the chart version the list offers rolls the component's image.
        call(sb, "tke", "UpdateAddon", ClusterId=sb.cluster_id, AddonName="eniipamd", AddonVersion="1.5.4")
        sb.settle()
        (addon,) = call(sb, "tke", "DescribeAddon", ClusterId=sb.cluster_id, AddonName="eniipamd").Addons
        assert addon.AddonVersion == "1.5.4" and _image_tag(sb) == "v3.7.2"


def test_eniipamd_version_default_is_the_component_version(plain):
    (addon,) = call(plain, "tke", "DescribeAddon", ClusterId=plain.cluster_id, AddonName="eniipamd").Addons
    assert addon.AddonVersion == "3.6.0" and _image_tag(plain) == "v3.6.0"
    latest = next(c for c in call(plain, "tke", "GetTkeAppChartList").AppCharts if c.Name == "eniipamd")
    assert latest.LatestVersion == "3.7.2"


@pytest.mark.parametrize("mode, expected", [
    # assigned: the TKE document's quota (0 for the unlisted S5 and SA2 families, 256 from 64 cores)
    ("assigned", {"SA2.LARGE8": 0, "S5.16XLARGE256": 0, "SA5.2XLARGE16": 100, "SA5.16XLARGE256": 256}),
    # type-max: what the type supports whatever its family (the official example: 100 for SA2)
    ("type-max", {"SA2.LARGE8": 100, "S5.16XLARGE256": 256, "SA5.2XLARGE16": 100, "SA5.16XLARGE256": 256}),
])
def test_tkesubeni(mode, expected):
    with running_sandbox("default", variants={"tkesubeni": mode}) as sb:
        got = {}
        for itype in expected:
            rows = call(sb, "tke", "DescribeVpcCniPodLimits", InstanceType=itype).PodLimitsInstanceSet
            got[itype] = {r.PodLimits.TKESubENI for r in rows}
    assert got == {k: {v} for k, v in expected.items()}


@pytest.mark.parametrize("mode, shown", [("standard", "standard"), ("loose", "loose")])
def test_enforcing_mode_default(mode, shown):
    with running_sandbox("default", variants={"enforcing-mode-default": mode}) as sb:
        current, defaults = values(sb)
    assert defaults["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] == shown
    assert current["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] == shown


# --- cluster -----------------------------------------------------------------------------------


def _cluster(sb):
    (c,) = call(sb, "tke", "DescribeClusters", ClusterIds=[sb.cluster_id]).Clusters
    return c


def test_network_gr_vpc_cni_carries_meta_feature_param_and_no_vpc_cni_type():
    with running_sandbox("default", variants={"network": "gr-vpc-cni"}) as sb:
        c = _cluster(sb)
        prop = json.loads(c.Property)
        ipamd = call(sb, "tke", "DescribeIPAMD", ClusterId=sb.cluster_id)
    assert prop["NetworkType"] == "GR" and "VpcCniType" not in prop and "IsNonStaticIpMode" not in prop
    assert prop["MetaFeatureParam"]["StaticMode"] is True  # the scenario's static Pod IPs
    assert c.ClusterNetworkSettings.ClusterCIDR  # a GR cluster has its own CIDR
    assert ipamd.EnableIPAMD is True and ipamd.DisableVpcCniMode is False


def test_network_default_is_a_vpc_cni_cluster(plain):
    prop = json.loads(_cluster(plain).Property)
    assert (prop["NetworkType"], prop["VpcCniType"], prop["IsNonStaticIpMode"]) == ("VPC-CNI", "tke-route-eni", False)
    assert "MetaFeatureParam" not in prop


def _kube_proxy_mode_in_cluster(sb) -> tuple[str, list[str]]:
    cm = sb.kube.get("configmaps", "kube-system", "kube-proxy")["data"]["config.conf"]
    mode = next(line.split(":", 1)[1].strip().strip('"') for line in cm.splitlines() if line.startswith("mode:"))
    ds = sb.kube.get("daemonsets.apps", "kube-system", "kube-proxy")
    flags = [a for a in ds["spec"]["template"]["spec"]["containers"][0]["args"] if a.startswith("--proxy-mode=")]
    return mode, flags


@pytest.mark.parametrize("scenario, mode, ipvs, kube_proxy_mode, in_cluster", [
    # The CreateCluster documentation's encoding: iptables sets neither, ipvs sets IPVS, ipvs-bpf sets
    # KubeProxyMode=kube-proxy-bpf (kube-proxy itself runs IPVS there).
    ("strict-hazards", "iptables", False, None, "iptables"),
    ("default", "ipvs", True, None, "ipvs"),
    ("default", "ipvs-bpf", False, "kube-proxy-bpf", "ipvs"),
    # without the variant: the scenario's own, KubeProxyMode spelled out
    ("default", "scenario", False, "iptables", "iptables"),
    ("strict-hazards", "scenario", True, "ipvs", "ipvs"),
])
def test_kube_proxy(scenario, mode, ipvs, kube_proxy_mode, in_cluster):
    with running_sandbox(scenario, variants={"kube-proxy": mode}) as sb:
        settings = _cluster(sb).ClusterNetworkSettings
        assert (settings.Ipvs, settings.KubeProxyMode) == (ipvs, kube_proxy_mode)
        assert _kube_proxy_mode_in_cluster(sb) == (in_cluster, [f"--proxy-mode={in_cluster}"])


# --- VPC ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["accept", "reject"])
def test_sg_port_all(mode):
    with running_sandbox("default", variants={"sg-port-all": mode}) as sb:
        web = group_id(sb, "web")

        def add(**rule):
            call(sb, "vpc", "CreateSecurityGroupPolicies", SecurityGroupId=web, SecurityGroupPolicySet={
                "Ingress": [{"CidrBlock": "10.0.0.0/8", "Action": "ACCEPT", **rule}]})

        add(Protocol="TCP", Port="1-65535")  # an explicit range passes under either reading
        add(Protocol="ICMP")
        if mode == "reject":
            with pytest.raises(TencentCloudSDKException) as e:
                add(Protocol="UDP", Port="ALL")
            assert e.value.code == "InvalidParameterValue" and "1-65535" in e.value.message
        else:
            add(Protocol="UDP", Port="ALL")
        rules = call(sb, "vpc", "DescribeSecurityGroupPolicies", SecurityGroupId=web).SecurityGroupPolicySet.Ingress
    assert [(r.Protocol, r.Port) for r in rules] == [("TCP", "1-65535"), ("ICMP", "ALL")] + (
        [("UDP", "ALL")] if mode == "accept" else [])


@pytest.fixture(scope="module")
def hazards_sub_enis():
    """strict-hazards' two nginx sub-ENIs, under each subeni-listed reading."""
    out = {}
    for listed in ("true", "false"):
        with running_sandbox("strict-hazards", variants={"subeni-listed": listed}) as sb:
            ids = [v["status"]["eni"]["eniID"] for v in sb.kube.list("vpcenis.networking.tke.cloud.tencent.com")]
            assert len(ids) == 2 and all(sb.cloud.eni(i) for i in ids)  # they exist in the cloud
            by_id = call(sb, "vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=ids).NetworkInterfaceSet
            listed_subs = call(sb, "vpc", "DescribeNetworkInterfaces",
                               Filters=[{"Name": "eni-type", "Values": ["2"]}]).NetworkInterfaceSet
            primaries = call(sb, "vpc", "DescribeNetworkInterfaces",
                             Filters=[{"Name": "eni-type", "Values": ["1"]}]).NetworkInterfaceSet
            out[listed] = (ids, by_id, listed_subs, primaries)
    return out


def test_subeni_listed(hazards_sub_enis):
    ids, by_id, subs, primaries = hazards_sub_enis["true"]
    assert sorted(e.NetworkInterfaceId for e in by_id) == sorted(ids) and {e.EniType for e in by_id} == {2}
    assert sorted(e.NetworkInterfaceId for e in subs) == sorted(ids)
    ids, by_id, subs, primaries = hazards_sub_enis["false"]
    assert by_id == [] and subs == []
    assert len(primaries) == 5  # the nodes' own ENIs are listed either way


@pytest.mark.parametrize("mode", ["delete-network-interface", "none"])
def test_subeni_delete(mode):
    with running_sandbox("strict-hazards", variants={"subeni-delete": mode}) as sb:
        eni = sb.kube.list("vpcenis.networking.tke.cloud.tencent.com")[0]["status"]["eni"]["eniID"]
        instance = sb.cloud.eni(eni)["Attachment"]["InstanceId"]
        primary = sb.cloud.enis_of_instance(instance, kind="primary")[0]["NetworkInterfaceId"]
        assert error_code(sb, "vpc", "DeleteNetworkInterface", NetworkInterfaceId=primary) == "UnsupportedOperation"
        if mode == "none":
            assert error_code(sb, "vpc", "DeleteNetworkInterface", NetworkInterfaceId=eni) == "UnsupportedOperation"
            assert sb.cloud.eni(eni) is not None
        else:
            call(sb, "vpc", "DeleteNetworkInterface", NetworkInterfaceId=eni)
            assert call(sb, "vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=[eni]).NetworkInterfaceSet == []
            assert error_code(sb, "vpc", "DeleteNetworkInterface", NetworkInterfaceId=eni) == "ResourceNotFound"
        assert error_code(sb, "vpc", "DeleteNetworkInterface", NetworkInterfaceId="eni-1") == "InvalidParameterValue.Malformed"


def test_missing_addon_and_missing_eni_ids_are_variants_too(plain):
    assert error_code(plain, "tke", "DescribeAddon", ClusterId=plain.cluster_id,
                      AddonName="securitygrouppolicy") == "ResourceNotFound"
    with running_sandbox("default", variants={"missing-addon": "empty", "missing-eni-ids": "error"}) as sb:
        assert call(sb, "tke", "DescribeAddon", ClusterId=sb.cluster_id, AddonName="securitygrouppolicy").Addons == []
        assert error_code(sb, "vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=["eni-zzzzzzzz"]) == "ResourceNotFound"
    assert call(plain, "vpc", "DescribeNetworkInterfaces", NetworkInterfaceIds=["eni-zzzzzzzz"]).NetworkInterfaceSet == []


def test_sgp_ready_helper_follows_the_chart_name():
    with running_sandbox("default", variants={"sgp-addon-name": "sgp"}, addon_delay=0) as sb:
        sgp_ready(sb)
        assert [a.AddonName for a in call(sb, "tke", "DescribeAddon", ClusterId=sb.cluster_id).Addons] == ["eniipamd", "sgp"]
