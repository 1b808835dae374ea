"""Variants seen through the Kubernetes side: the VpcENI CRD's kind (discovery, objects, kubectl) and
eniipamd without the VPC client-token allowlist leaving deleted Pods' sub-ENIs behind, countable
through the cloud API."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.sandbox_support import (
    KUBECTL,
    cloud_client,
    kube_api_client,
    kubectl,
    running_sandbox,
    sandbox_env,
    sdk_request,
)

NS = "my-namespace"
VPCENI = ("networking.tke.cloud.tencent.com", "v1", "vpcenis")


def vpceni_resource(api):
    found = client.CustomObjectsApi(api).get_api_resources(VPCENI[0], VPCENI[1])
    (res,) = [r for r in found.resources if r.name == "vpcenis"]
    return res


@pytest.mark.parametrize("kind", ["VpcENI", "VpcEni"])
def test_vpceni_kind_in_discovery_objects_and_kubectl(kind, tmp_path):
    with running_sandbox("strict-hazards", variants={"vpceni-kind": kind}) as sb:
        api = kube_api_client(sb)
        res = vpceni_resource(api)
        assert (res.kind, res.singular_name, res.short_names, res.namespaced) == (kind, "vpceni", ["vpceni"], False)
        items = client.CustomObjectsApi(api).list_cluster_custom_object(*VPCENI)["items"]
        assert len(items) == 2 and {i["kind"] for i in items} == {kind}
        # Pods made after the start get VpcENIs of the same kind from the running eniipamd.
        apps = client.AppsV1Api(api)
        apps.patch_namespaced_deployment_scale("nginx", NS, {"spec": {"replicas": 3}})
        sb.settle()
        items = client.CustomObjectsApi(api).list_cluster_custom_object(*VPCENI)["items"]
        assert len(items) == 3 and {i["kind"] for i in items} == {kind}
        if KUBECTL:
            env = sandbox_env(sb, tmp_path)
            out = kubectl(env, "get", "vpceni", "-o", "jsonpath={.items[*].kind}").stdout.split()
            assert out == [kind] * 3


def _leaks(sb) -> list[str]:
    """Sub-ENIs the cloud lists that no VpcENI names (read through the APIs, not the state)."""
    vpc = cloud_client(sb, "vpc")
    subs = vpc.DescribeNetworkInterfaces(sdk_request("vpc", "DescribeNetworkInterfaces", Limit=100, Filters=[
        {"Name": "eni-type", "Values": ["2"]}])).NetworkInterfaceSet
    named = {i["status"]["eni"]["eniID"] for i in
             client.CustomObjectsApi(kube_api_client(sb)).list_cluster_custom_object(*VPCENI)["items"]}
    return sorted(e.NetworkInterfaceId for e in subs if e.NetworkInterfaceId not in named)


def _scale_up_then_down(sb, up: int) -> list:
    apps = client.AppsV1Api(kube_api_client(sb))
    apps.patch_namespaced_deployment_scale("nginx", NS, {"spec": {"replicas": up}})
    sb.settle(timeout=15)
    pods = client.CoreV1Api(kube_api_client(sb)).list_namespaced_pod(NS, label_selector="app=my-app").items
    assert len(pods) == up and all(p.status.phase == "Running" for p in pods)
    apps.patch_namespaced_deployment_scale("nginx", NS, {"spec": {"replicas": 1}})
    sb.settle(timeout=15)
    return client.CoreV1Api(kube_api_client(sb)).list_namespaced_pod(NS, label_selector="app=my-app").items


def test_without_the_client_token_allowlist_some_deleted_pods_leave_their_sub_eni(tmp_path):
    for seed in (0, 1):  # another seed moves which teardowns leak, not how many
        with running_sandbox("strict-hazards", variants={"client-token-allowlist": "false"}, seed=seed) as sb:
            assert _leaks(sb) == []
            (live,) = _scale_up_then_down(sb, 10)  # 9 Pods deleted: one teardown in every 3 leaks
            leaked = _leaks(sb)
            assert len(leaked) == 3
            live_eni = client.CustomObjectsApi(kube_api_client(sb)).list_cluster_custom_object(*VPCENI)["items"]
            assert [v["metadata"]["labels"]["tke.cloud.tencent.com/pod-name"] for v in live_eni] == [live.metadata.name]
            # A leaked sub-ENI keeps its groups and its place on the node.
            for eni_id in leaked:
                eni = sb.cloud.eni(eni_id)
                assert eni["GroupSet"] and eni["Attachment"]["InstanceId"]


def test_with_the_allowlist_no_sub_eni_is_left_behind():
    with running_sandbox("strict-hazards") as sb:
        _scale_up_then_down(sb, 10)
        assert _leaks(sb) == []
        assert sb.cloud.sub_eni_count() == 1
