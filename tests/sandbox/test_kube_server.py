"""Wire-level behaviour of the sandbox Kubernetes API: what any client (not only ours) relies on."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time

import pytest

from sgpctl.sandbox.faults import Faults
from sgpctl.sandbox.kube import KubeStore
from sgpctl.sandbox.kube.crds import securitygrouppolicy_crd
from sgpctl.sandbox.kube.testing import KubeSandbox
from sgpctl.sandbox.requestlog import RequestLog

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io," \
               "application/json"


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    with KubeSandbox(tmp_path_factory.mktemp("kube-server"), faults=Faults(), log=RequestLog()) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _no_faults(kube):
    kube.faults.clear()
    yield
    kube.faults.clear()


class Conn:
    """One keep-alive HTTPS connection that trusts the sandbox certificate."""

    def __init__(self, kube, token: str | None = "default"):
        ctx = ssl.create_default_context(cadata=kube.server.ca_pem.decode())
        self.http = http.client.HTTPSConnection("127.0.0.1", kube.server.port, context=ctx, timeout=10)
        self.token = kube.token if token == "default" else token

    def __call__(self, method, path, body=None, content_type="application/json", accept="application/json"):
        headers = {"Accept": accept}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        self.http.request(method, path, body=data, headers=headers)
        resp = self.http.getresponse()
        raw = resp.read()
        return resp.status, resp, (json.loads(raw) if raw and raw[:1] in b"{[" else raw)


@pytest.fixture
def conn(kube):
    c = Conn(kube)
    yield c
    c.http.close()


def test_version_is_public_and_realistic(kube):
    status, _, body = Conn(kube, token=None)("GET", "/version")
    assert status == 200 and body["gitVersion"] == "v1.30.0-tke.1" and (body["major"], body["minor"]) == ("1", "30")


def test_everything_else_needs_the_token(kube):
    for token in (None, "wrong"):
        status, _, body = Conn(kube, token=token)("GET", "/api/v1/namespaces")
        assert status == 401 and body["reason"] == "Unauthorized" and body["kind"] == "Status"


def test_discovery_documents(conn):
    status, _, api = conn("GET", "/api")
    assert status == 200 and api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    _, _, core = conn("GET", "/api/v1")
    entries = {r["name"]: r for r in core["resources"]}
    assert entries["pods"]["shortNames"] == ["po"] and entries["pods"]["namespaced"] is True
    assert entries["pods/binding"]["verbs"] == ["create"] and entries["pods/status"]["kind"] == "Pod"
    assert entries["nodes"]["namespaced"] is False and "watch" in entries["nodes"]["verbs"]
    _, _, groups = conn("GET", "/apis")
    names = [g["name"] for g in groups["groups"]]
    assert names[0] == "apps" and {"networking.k8s.io", "apiextensions.k8s.io", "batch", "rbac.authorization.k8s.io",
                                   "autoscaling", "policy", "coordination.k8s.io", "discovery.k8s.io",
                                   "authentication.k8s.io", "authorization.k8s.io"} <= set(names)
    _, _, apps = conn("GET", "/apis/apps/v1")
    scale = next(r for r in apps["resources"] if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    status, _, group = conn("GET", "/apis/apps")
    assert status == 200 and group["preferredVersion"]["groupVersion"] == "apps/v1"
    status, _, missing = conn("GET", "/apis/nope.example.com/v1")
    assert status == 404 and missing["reason"] == "NotFound"


def test_openapi_v3_follows_crds(kube, conn):
    _, _, index = conn("GET", "/openapi/v3")
    assert "apis/vpcresources.tke.cloud.tencent.com/v1beta1" not in index["paths"]
    kube.store.create("customresourcedefinitions", securitygrouppolicy_crd())
    try:
        _, _, index = conn("GET", "/openapi/v3")
        url = index["paths"]["apis/vpcresources.tke.cloud.tencent.com/v1beta1"]["serverRelativeURL"]
        status, _, doc = conn("GET", url)
        item = doc["paths"]["/apis/vpcresources.tke.cloud.tencent.com/v1beta1/namespaces/{namespace}/"
                            "securitygrouppolicies/{name}"]
        assert item["patch"]["x-kubernetes-group-version-kind"] == {
            "group": "vpcresources.tke.cloud.tencent.com", "version": "v1beta1", "kind": "SecurityGroupPolicy"}
        assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in item["patch"]["parameters"])
    finally:
        kube.store.delete("customresourcedefinitions", None, "securitygrouppolicies.vpcresources.tke.cloud.tencent.com")
    assert conn("GET", "/openapi/v2")[0] == 200


def test_table_output_for_pods(kube, conn):
    kube.store.create("pods", {"metadata": {"name": "tbl", "namespace": "default"},
                               "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
                               "status": {"phase": "Pending", "containerStatuses": [
                                   {"name": "a", "ready": True, "restartCount": 2,
                                    "state": {"running": {}}},
                                   {"name": "b", "ready": False, "restartCount": 1,
                                    "state": {"waiting": {"reason": "ContainerCreating"}}}]}})
    try:
        status, _, table = conn("GET", "/api/v1/namespaces/default/pods/tbl", accept=TABLE_ACCEPT)
        assert status == 200 and table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
        assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
            "Name", "Ready", "Status", "Restarts", "Age"]
        assert table["rows"][0]["cells"][:4] == ["tbl", "1/2", "ContainerCreating", "3"]
        assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
        _, _, plain = conn("GET", "/api/v1/namespaces/default/pods/tbl")
        assert plain["kind"] == "Pod"
    finally:
        kube.store.delete("pods", "default", "tbl")


def test_keep_alive_and_content_length(conn):
    for _ in range(3):
        status, resp, body = conn("GET", "/api/v1/namespaces/default")
        assert status == 200 and int(resp.getheader("Content-Length")) == len(json.dumps(body, separators=(",", ":")))
        assert resp.getheader("Content-Type") == "application/json"


def test_create_rules(kube, conn):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "wire"}}
    status, _, body = conn("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", cm)
    assert status == 201 and body["metadata"]["name"] == "wire"
    assert kube.store.get("configmaps", "default", "wire") is None  # dry run: nothing stored
    status, _, body = conn("POST", "/api/v1/namespaces/kube-system/configmaps",
                           dict(cm, metadata={"name": "x", "namespace": "default"}))
    assert status == 400 and "does not match the namespace" in body["message"]
    status, _, body = conn("POST", "/api/v1/namespaces/default/configmaps", b"{not json")
    assert status == 400 and body["reason"] == "BadRequest"
    status, _, body = conn("POST", "/api/v1/namespaces/default/configmaps",
                           b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n", "application/yaml")
    assert status == 201 and body["metadata"]["name"] == "from-yaml"
    kube.store.delete("configmaps", "default", "from-yaml")


def test_binding_subresource(kube, conn):
    kube.store.create("pods", {"metadata": {"name": "bind-me", "namespace": "default"}, "spec": {"containers": []}})
    try:
        status, _, body = conn("POST", "/api/v1/namespaces/default/pods/bind-me/binding",
                               {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bind-me"},
                                "target": {"apiVersion": "v1", "kind": "Node", "name": "node-7"}})
        assert status == 201 and body["status"] == "Success"
        assert kube.store.get("pods", "default", "bind-me")["spec"]["nodeName"] == "node-7"
    finally:
        kube.store.delete("pods", "default", "bind-me")


def test_wrong_methods_and_media_types(kube, conn):
    kube.store.create("configmaps", {"metadata": {"name": "mt", "namespace": "default"}})
    try:
        status, _, body = conn("PATCH", "/api/v1/namespaces/default/configmaps/mt", {"data": {}}, "text/plain")
        assert status == 415 and body["reason"] == "UnsupportedMediaType"
        status, _, body = conn("POST", "/api/v1/namespaces/default/configmaps/mt", {})
        assert status == 405 and body["reason"] == "MethodNotAllowed"
        kube.store.create("pods", {"metadata": {"name": "mt", "namespace": "default"}, "spec": {"containers": []}})
        status, _, _ = conn("PATCH", "/api/v1/namespaces/default/pods/mt/binding", {}, "application/merge-patch+json")
        assert status == 405
        kube.store.delete("pods", "default", "mt")
        status, _, body = conn("PUT", "/api/v1/namespaces/default/configmaps/mt",
                               {"metadata": {"name": "other"}})
        assert status == 400 and "does not match the name on the URL" in body["message"]
        status, _, body = conn("GET", "/api/v1/namespaces/default/nonsense")
        assert status == 404 and body["message"] == "the server could not find the requested resource"
    finally:
        kube.store.delete("configmaps", "default", "mt")


def _watch_lines(kube, path):
    ctx = ssl.create_default_context(cadata=kube.server.ca_pem.decode())
    c = http.client.HTTPSConnection("127.0.0.1", kube.server.port, context=ctx, timeout=10)
    c.request("GET", path, headers={"Authorization": f"Bearer {kube.token}"})
    resp = c.getresponse()
    return c, resp


def test_watch_is_chunked_newline_delimited_and_honours_timeout(kube):
    rv = kube.store.resource_version
    kube.store.create("configmaps", {"metadata": {"name": "w1", "namespace": "default"}})
    kube.store.delete("configmaps", "default", "w1")
    c, resp = _watch_lines(kube, f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}"
                                 "&timeoutSeconds=1")
    started = time.monotonic()
    assert resp.getheader("Transfer-Encoding") == "chunked" and resp.getheader("Content-Type") == "application/json"
    body = resp.read()  # ends when the server closes the stream after timeoutSeconds
    assert time.monotonic() - started < 5
    events = [json.loads(line) for line in body.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w1"), ("DELETED", "w1")]
    c.close()


def test_watch_from_expired_version_sends_an_error_event(tmp_path):
    store = KubeStore(history=100)
    store.register_builtin()
    for i in range(250):
        store.create("configmaps", {"metadata": {"name": f"c{i}"}})
    with KubeSandbox(tmp_path, store=store) as kube:
        c, resp = _watch_lines(kube, "/api/v1/configmaps?watch=true&resourceVersion=2")
        event = json.loads(resp.read().splitlines()[0])
        c.close()
    assert event["type"] == "ERROR" and event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"


def test_watch_initial_events_end_with_a_bookmark(kube):
    c, resp = _watch_lines(kube, "/api/v1/namespaces?watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
                                 "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")
    events = [json.loads(line) for line in resp.read().splitlines()]
    c.close()
    assert {e["type"] for e in events[:-1]} == {"ADDED"} and len(events) > 4
    assert events[-1]["type"] == "BOOKMARK"
    assert events[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def _wait_for(predicate, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_watch_ends_when_the_client_goes_away(kube):
    assert _wait_for(lambda: kube.server.active_watches == 0)
    c, resp = _watch_lines(kube, "/api/v1/namespaces/default/pods?watch=1")
    assert resp.status == 200 and kube.server.active_watches == 1
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    assert _wait_for(lambda: kube.server.active_watches == 0)


def test_throttle_fault_is_429_with_retry_after(kube, conn):
    kube.faults.set("kube.list:throttle=1")
    status, resp, body = conn("GET", "/api/v1/namespaces/default/pods")
    assert status == 429 and resp.getheader("Retry-After") == "1" and body["reason"] == "TooManyRequests"
    assert conn("GET", "/api/v1/namespaces/default")[0] == 200  # "get" is not throttled


def test_5xx_and_drop_faults(kube, conn):
    kube.faults.set("kube.get:5xx=1")
    status, _, body = conn("GET", "/api/v1/namespaces/default")
    assert status == 500 and body["reason"] == "InternalError"
    kube.faults.set("kube.get:drop=1")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        Conn(kube)("GET", "/api/v1/namespaces/default")


def test_request_log_records_verbs_without_secrets(kube, conn):
    mark = kube.log.mark()
    conn("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")
    conn("GET", "/api/v1/namespaces/default/pods/nope")
    conn("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "logged"}})
    conn("DELETE", "/api/v1/namespaces/default/configmaps/logged")
    entries = kube.log.since(mark, api="kube")
    assert [(e["action"], e["mutating"], e["status"], e["code"]) for e in entries] == [
        ("list", False, 200, "OK"), ("get", False, 404, "NotFound"), ("create", True, 201, "OK"),
        ("delete", True, 200, "OK")]
    assert entries[0]["params"] == {"resource": "pods", "version": "v1", "namespace": "default",
                                    "query": {"labelSelector": "app=web"}}
    assert entries[1]["params"]["name"] == "nope" and entries[1]["service"] == "kube"
    assert kube.token not in json.dumps(entries)
