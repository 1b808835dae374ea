"""eniipamd's Pod webhook is a mutating admission hook: the Pod a client gets back from its
create, and the ADDED event a watcher sees, already carry the annotations and the sub-ENI
resource; Pods that existed before a policy are never changed by it."""

from __future__ import annotations

import json
import queue
import threading

import pytest
from kubernetes import client, watch

from sgpctl.core.annotations import ANNOTATION_NETWORKS, ANNOTATION_SECURITY_GROUPS, RESOURCE_SUB_ENI
from tests.sandbox_support import SGP_GROUP_VERSION as SGP
from tests.sandbox_support import KUBECTL, group_id, kube_api_client, kubectl, running_sandbox, sandbox_env, sgp_ready
from tests.sandbox_support import sgp_policy as policy

NS = "my-namespace"

POD_YAML = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: from-kubectl
  namespace: {NS}
  labels:
    app: my-app
spec:
  containers:
  - name: nginx
    image: nginx:1.7.9
"""


def pod(name: str, labels: dict | None = None) -> dict:
    return {"metadata": {"name": name, "labels": labels or {"app": "my-app"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.7.9"}]}}


@pytest.fixture(scope="module")
def sb():
    """SGP set up, one policy selecting app=my-app (module-wide: each test uses its own Pods)."""
    with running_sandbox("default", addon_delay=0.05) as sandbox:
        sgp_ready(sandbox)
        api = kube_api_client(sandbox)
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            *SGP, NS, "securitygrouppolicies", policy("p", [group_id(sandbox, "web"), group_id(sandbox, "db")]))
        api.close()
        sandbox.settle()
        yield sandbox


def assert_mutated(obj: dict, sb) -> None:
    annotations = obj["metadata"]["annotations"]
    assert annotations[ANNOTATION_NETWORKS] == "tke-sub-eni"
    assert annotations[ANNOTATION_SECURITY_GROUPS] == f"{group_id(sb, 'web')},{group_id(sb, 'db')}"
    resources = obj["spec"]["containers"][0]["resources"]
    assert resources["requests"][RESOURCE_SUB_ENI] == "1" and resources["limits"][RESOURCE_SUB_ENI] == "1"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_create_returns_the_admitted_pod(sb, tmp_path):
    out = kubectl(sandbox_env(sb, tmp_path), "create", "-f", "-", "-o", "json", input=POD_YAML).stdout
    assert_mutated(json.loads(out), sb)


def test_official_client_create_returns_the_admitted_pod(sb, core):
    created = core.create_namespaced_pod(NS, pod("from-client"))
    assert_mutated(core.api_client.sanitize_for_serialization(created), sb)


def test_a_watch_started_before_the_create_sees_added_with_the_mutation(sb, core):
    rv = core.list_namespaced_pod(NS).metadata.resource_version
    events: queue.Queue = queue.Queue()
    w = watch.Watch()

    def follow() -> None:
        for ev in w.stream(core.list_namespaced_pod, NS, field_selector="metadata.name=watched",
                           resource_version=rv, timeout_seconds=20, _preload_content=False):
            events.put((ev["type"], ev["raw_object"]))
            w.stop()

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    core.create_namespaced_pod(NS, pod("watched"))
    kind, obj = events.get(timeout=20)
    t.join(timeout=20)
    assert kind == "ADDED"
    assert_mutated(obj, sb)


def test_a_pod_older_than_its_policy_is_never_changed(sb, core):
    core.create_namespaced_pod(NS, pod("older", {"app": "later"}))
    sb.settle()
    custom = client.CustomObjectsApi(core.api_client)
    custom.create_namespaced_custom_object(*SGP, NS, "securitygrouppolicies",
                                           dict(policy("later", [group_id(sb, "db")], {"app": "later"})))
    sb.settle()
    # Updating the Pod afterwards (a label, as kubectl label does) is no create: still no sub-ENI.
    core.patch_namespaced_pod("older", NS, {"metadata": {"labels": {"touched": "yes"}}})
    sb.settle()
    older = core.read_namespaced_pod("older", NS)
    assert older.metadata.annotations[ANNOTATION_NETWORKS] == "tke-route-eni"
    assert ANNOTATION_SECURITY_GROUPS not in older.metadata.annotations
    assert RESOURCE_SUB_ENI not in (older.spec.containers[0].resources.requests or {})
    assert older.status.phase == "Running"
    assert sb.kube.list("vpcenis", label_selector="tke.cloud.tencent.com/pod-name=older") == []
    # A new Pod with the same labels is selected: the policy itself works.
    new = core.create_namespaced_pod(NS, pod("newer", {"app": "later"}))
    assert new.metadata.annotations[ANNOTATION_SECURITY_GROUPS] == group_id(sb, "db")
