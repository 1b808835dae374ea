"""A performance smoke for the sandbox's large scenario: 10,000 Pods listed through the official
client in pages of 500. It checks completeness and order, never wall-clock time (bench/ measures that)."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from sgpctl.sandbox.kube import KubeStore
from sgpctl.sandbox.kube.testing import KubeSandbox

PODS = 10_000
NAMESPACES = 20


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    store = KubeStore()
    store.register_builtin()
    for n in range(NAMESPACES):
        store.create("namespaces", {"metadata": {"name": f"team-{n:02d}"}})
    for i in range(PODS):
        store.create("pods", {
            "metadata": {"name": f"pod-{i:05d}", "namespace": f"team-{i % NAMESPACES:02d}",
                         "labels": {"app": f"app-{i % 50}"},
                         "annotations": {"tke.cloud.tencent.com/networks": "tke-sub-eni"}},
            "spec": {"nodeName": f"node-{i % 500}", "containers": [{"name": "app", "image": "nginx:1.25"}]},
            "status": {"phase": "Running"}})
    with KubeSandbox(tmp_path_factory.mktemp("kube-perf"), store=store) as sandbox:
        yield sandbox


def test_list_10000_pods_in_pages_of_500(kube):
    v1 = client.CoreV1Api(kube.api_client())
    seen, token, pages, list_rv = [], None, 0, None
    while True:
        # Raw JSON instead of typed models: the models, not the server, would dominate the time.
        resp = v1.list_pod_for_all_namespaces(limit=500, _continue=token, _preload_content=False)
        page = json.loads(resp.data)
        pages += 1
        list_rv = list_rv or page["metadata"]["resourceVersion"]
        assert page["metadata"]["resourceVersion"] == list_rv  # every page is from one snapshot
        seen += [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert pages == PODS // 500 and len(seen) == PODS
    assert seen == sorted(seen) and len(set(seen)) == PODS


def test_full_list_and_selected_list(kube):
    v1 = client.CoreV1Api(kube.api_client())
    full = json.loads(v1.list_pod_for_all_namespaces(_preload_content=False).data)
    assert len(full["items"]) == PODS and full["kind"] == "PodList"
    selected = json.loads(v1.list_pod_for_all_namespaces(label_selector="app=app-7", field_selector="spec.nodeName=node-7",
                                                         _preload_content=False).data)
    # i % 50 == 7 and i % 500 == 7: i = 7, 507, 1007, ...
    assert [p["metadata"]["name"] for p in selected["items"]] == sorted(f"pod-{i:05d}" for i in range(7, PODS, 500))
    assert len(kube.store.list("pods", "team-03")) == PODS // NAMESPACES
