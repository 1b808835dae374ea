"""The official kubernetes Python client against the sandbox API server (real HTTPS, real client code)."""

from __future__ import annotations

import json
import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from sgpctl.sandbox.kube.crds import securitygrouppolicy_crd, vpceni_crd
from sgpctl.sandbox.kube.testing import KubeSandbox

SGP = ("vpcresources.tke.cloud.tencent.com", "v1beta1", "securitygrouppolicies")


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        import os

        for var in list(os.environ):
            if var.lower().endswith("_proxy"):
                mp.delenv(var)
        with KubeSandbox(tmp_path_factory.mktemp("kube-client")) as sandbox:
            yield sandbox


@pytest.fixture(scope="module")
def api(kube):
    return kube.api_client()


def pod(name, labels=None, node=None):
    spec = {"containers": [{"name": "c", "image": "nginx:1.25"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}}, "spec": spec}


def status_of(exc: ApiException) -> dict:
    return json.loads(exc.body)


def test_pod_crud(api, ns):
    v1 = client.CoreV1Api(api)
    created = v1.create_namespaced_pod(ns, pod("p1", {"app": "web"}))
    assert created.metadata.uid and created.status.phase == "Pending"
    got = v1.read_namespaced_pod("p1", ns)
    assert got.metadata.resource_version == created.metadata.resource_version
    got.metadata.labels["tier"] = "fe"
    replaced = v1.replace_namespaced_pod("p1", ns, got)
    assert replaced.metadata.labels == {"app": "web", "tier": "fe"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    v1.delete_namespaced_pod("p1", ns)
    with pytest.raises(ApiException) as info:
        v1.read_namespaced_pod("p1", ns)
    assert info.value.status == 404
    assert status_of(info.value) == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                     "message": 'pods "p1" not found', "reason": "NotFound", "code": 404,
                                     "details": {"name": "p1", "kind": "pods"}}


def test_create_answers_201_and_duplicates_409(api, ns):
    v1 = client.CoreV1Api(api)
    _, code, _ = v1.create_namespaced_config_map_with_http_info(ns, {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    assert code == 201
    with pytest.raises(ApiException) as info:
        v1.create_namespaced_config_map(ns, {"metadata": {"name": "cm"}})
    assert info.value.status == 409 and status_of(info.value)["reason"] == "AlreadyExists"


def test_create_in_missing_namespace_is_404(api):
    with pytest.raises(ApiException) as info:
        client.CoreV1Api(api).create_namespaced_pod("does-not-exist", pod("p"))
    assert info.value.status == 404 and status_of(info.value)["message"] == 'namespaces "does-not-exist" not found'


def test_stale_update_is_409_conflict(api, ns):
    v1 = client.CoreV1Api(api)
    cm = v1.create_namespaced_config_map(ns, {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    v1.patch_namespaced_config_map("cm", ns, {"data": {"a": "2"}})
    cm.data = {"a": "3"}
    with pytest.raises(ApiException) as info:
        v1.replace_namespaced_config_map("cm", ns, cm)
    body = status_of(info.value)
    assert info.value.status == 409 and body["reason"] == "Conflict"
    assert "the object has been modified; please apply your changes to the latest version and try again" \
        in body["message"]


def test_label_and_field_selectors(api, ns):
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_pod(ns, pod("a", {"app": "web"}, node="n1"))
    v1.create_namespaced_pod(ns, pod("b", {"app": "web"}))
    v1.create_namespaced_pod(ns, pod("c", {"app": "db"}, node="n1"))
    names = lambda r: [p.metadata.name for p in r.items]  # noqa: E731
    assert names(v1.list_namespaced_pod(ns, label_selector="app=web")) == ["a", "b"]
    assert names(v1.list_namespaced_pod(ns, label_selector="app notin (web)")) == ["c"]
    assert names(v1.list_namespaced_pod(ns, field_selector="spec.nodeName=n1,metadata.name!=c")) == ["a"]
    assert names(v1.list_pod_for_all_namespaces(field_selector=f"metadata.namespace={ns},status.phase=Pending")) \
        == ["a", "b", "c"]

    with pytest.raises(ApiException) as bad_labels:
        v1.list_namespaced_pod(ns, label_selector="app in (web")
    assert bad_labels.value.status == 400 and status_of(bad_labels.value)["reason"] == "BadRequest"
    with pytest.raises(ApiException) as bad_field:
        v1.list_namespaced_pod(ns, field_selector="spec.image=x")
    assert bad_field.value.status == 400
    assert "field label not supported: spec.image" in status_of(bad_field.value)["message"]


def test_pagination_with_continue(api, ns):
    v1 = client.CoreV1Api(api)
    for i in range(7):
        v1.create_namespaced_config_map(ns, {"metadata": {"name": f"cm-{i}"}})
    names, token, pages = [], None, 0
    while True:
        page = v1.list_namespaced_config_map(ns, limit=3, _continue=token)
        pages += 1
        names += [c.metadata.name for c in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(names)
    assert pages == 3 and names == [f"cm-{i}" for i in range(7)]
    with pytest.raises(ApiException) as info:
        v1.list_namespaced_config_map(ns, limit=3, _continue="garbage")
    assert info.value.status == 400


def test_watch_streams_events(api, ns):
    v1 = client.CoreV1Api(api)
    start = v1.list_namespaced_pod(ns).metadata.resource_version
    events = []

    def consume():
        w = watch.Watch()
        for ev in w.stream(v1.list_namespaced_pod, ns, resource_version=start, timeout_seconds=5):
            events.append((ev["type"], ev["object"].metadata.name))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    v1.create_namespaced_pod(ns, pod("w1"))
    v1.patch_namespaced_pod("w1", ns, {"metadata": {"labels": {"x": "y"}}})
    v1.delete_namespaced_pod("w1", ns)
    t.join(timeout=10)
    assert events == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_watch_without_resource_version_starts_with_existing_objects(api, ns):
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_config_map(ns, {"metadata": {"name": "existing"}})
    seen = [(e["type"], e["object"].metadata.name)
            for e in watch.Watch().stream(v1.list_namespaced_config_map, ns, timeout_seconds=1)]
    assert seen == [("ADDED", "existing")]


def test_deployment_delete_cascades(api, ns):
    apps, v1 = client.AppsV1Api(api), client.CoreV1Api(api)
    d = apps.create_namespaced_deployment(ns, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}})
    assert d.metadata.generation == 1 and d.spec.replicas == 1
    owner = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": d.metadata.uid, "controller": True}]
    rs = apps.create_namespaced_replica_set(ns, {"metadata": {"name": "web-1", "ownerReferences": owner},
                                                 "spec": {"selector": {"matchLabels": {"app": "web"}},
                                                          "template": {"metadata": {"labels": {"app": "web"}},
                                                                       "spec": {"containers": [
                                                                           {"name": "c", "image": "x:1"}]}}}})
    rs_owner = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": rs.metadata.uid}]
    v1.create_namespaced_pod(ns, dict(pod("web-1-a"), metadata={"name": "web-1-a", "ownerReferences": rs_owner}))
    apps.delete_namespaced_deployment("web", ns, body=client.V1DeleteOptions(propagation_policy="Foreground"))
    assert apps.list_namespaced_replica_set(ns).items == [] and v1.list_namespaced_pod(ns).items == []


def test_crd_created_resources_are_served_and_discoverable(api, kube, ns):
    ext = client.ApiextensionsV1Api(api)
    ext.create_custom_resource_definition(securitygrouppolicy_crd())
    try:
        groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
        assert groups["vpcresources.tke.cloud.tencent.com"].preferred_version.version == "v1beta1"
        entry = client.CustomObjectsApi(api).get_api_resources(*SGP[:2]).resources[0]
        assert (entry.name, entry.kind, entry.namespaced, entry.short_names) == (
            "securitygrouppolicies", "SecurityGroupPolicy", True, ["sgp"])

        co = client.CustomObjectsApi(api)
        body = {"apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
                "metadata": {"name": "allow-web"},
                "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "securityGroups": {"groupIds": ["sg-1"]}}}
        created = co.create_namespaced_custom_object(*SGP[:2], ns, SGP[2], body)
        assert created["metadata"]["generation"] == 1  # a body: the server answered 201
        listed = co.list_namespaced_custom_object(*SGP[:2], ns, SGP[2], label_selector="")
        assert [o["metadata"]["name"] for o in listed["items"]] == ["allow-web"]
        assert listed["kind"] == "SecurityGroupPolicyList"
        patched = co.patch_namespaced_custom_object(*SGP[:2], ns, SGP[2], "allow-web",
                                                    {"spec": {"securityGroups": {"groupIds": ["sg-2"]}}})
        assert patched["spec"]["securityGroups"]["groupIds"] == ["sg-2"] and patched["metadata"]["generation"] == 2
    finally:
        ext.delete_custom_resource_definition("securitygrouppolicies.vpcresources.tke.cloud.tencent.com")
    with pytest.raises(ApiException) as gone:
        client.CustomObjectsApi(api).list_namespaced_custom_object(*SGP[:2], ns, SGP[2])
    assert gone.value.status == 404


def test_cluster_scoped_custom_object_with_status_subresource(api, kube):
    client.ApiextensionsV1Api(api).create_custom_resource_definition(vpceni_crd())
    co = client.CustomObjectsApi(api)
    group, version, plural = "networking.tke.cloud.tencent.com", "v1", "vpcenis"
    try:
        created = co.create_cluster_custom_object(group, version, plural, {
            "apiVersion": f"{group}/{version}", "kind": "VpcENI",
            "metadata": {"name": "eni-a", "labels": {"tke.cloud.tencent.com/pod-name": "p"}},
            "status": {"eni": {"eniID": "eni-client-set"}}})
        assert "status" not in created  # an API create cannot choose the status
        co.patch_cluster_custom_object_status(group, version, plural, "eni-a", {"status": {"eni": {"eniID": "eni-1"}}})
        main = co.patch_cluster_custom_object(group, version, plural, "eni-a", {"status": {"eni": {"eniID": "x"}}})
        assert main["status"]["eni"]["eniID"] == "eni-1"  # the main resource ignores status
        found = co.list_cluster_custom_object(group, version, plural, label_selector="tke.cloud.tencent.com/pod-name=p")
        assert [o["metadata"]["name"] for o in found["items"]] == ["eni-a"]
    finally:
        client.ApiextensionsV1Api(api).delete_custom_resource_definition(f"{plural}.{group}")


def test_strategic_merge_patch_through_the_client(api, ns):
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(ns, {
        "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [
                     {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]}]}}}})
    # The client sends strategic merge patches for dict bodies on built-in types.
    d = apps.patch_namespaced_deployment("d", ns, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "B", "value": "2"}]}]}}}})
    env = d.spec.template.spec.containers[0].env
    assert [(e.name, e.value) for e in env] == [("A", "1"), ("B", "2")]


@pytest.mark.parametrize("token", ["wrong", ""])
def test_wrong_or_missing_token_is_401(kube, tmp_path, token):
    from kubernetes import config

    path = tmp_path / "kubeconfig"
    kube.server.write_kubeconfig(path, token=token)
    bad = config.new_client_from_config(config_file=str(path), context="sandbox")
    with pytest.raises(ApiException) as info:
        client.CoreV1Api(bad).list_namespace()
    assert info.value.status == 401 and status_of(info.value)["reason"] == "Unauthorized"
