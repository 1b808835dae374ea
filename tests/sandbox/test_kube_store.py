"""The in-process store API that simulated controllers use: apiserver semantics without HTTP."""

from __future__ import annotations

import pytest

from sgpctl.sandbox.kube import ApiError, KubeStore
from sgpctl.sandbox.kube.crds import securitygrouppolicy_crd, vpceni_crd


@pytest.fixture
def store():
    s = KubeStore()
    s.register_builtin()
    return s


def pod(name, ns="default", labels=None, node=None, **extra):
    spec = {"containers": [{"name": "c", "image": "nginx:1.25"}]}
    if node:
        spec["nodeName"] = node
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
           "spec": spec}
    obj.update(extra)
    return obj


def deployment(name, ns="default"):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}}


def owned_by(obj, owner):
    obj["metadata"]["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                           "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                           "controller": True}]
    return obj


def test_builtin_registration_creates_system_namespaces_and_default_service_accounts(store):
    assert [n["metadata"]["name"] for n in store.list("namespaces")] == [
        "default", "kube-node-lease", "kube-public", "kube-system"]
    assert {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in store.list("serviceaccounts")} == {
        ("default", "default"), ("kube-node-lease", "default"), ("kube-public", "default"), ("kube-system", "default")}


def test_create_sets_server_fields_and_defaults(store):
    created = store.create("pods", pod("p1"))
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) == store.resource_version
    assert created["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert created["spec"]["serviceAccountName"] == "default"
    assert created["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert "generation" not in meta  # core/v1 Pods carry no generation in 1.30
    assert store.create("deployments", deployment("d"))["metadata"]["generation"] == 1


def test_reads_are_copies(store):
    store.create("pods", pod("p1", labels={"a": "1"}))
    got = store.get("pods", "default", "p1")
    got["metadata"]["labels"]["a"] = "mutated"
    store.list("pods")[0]["spec"]["containers"].clear()
    again = store.get("pods", "default", "p1")
    assert again["metadata"]["labels"]["a"] == "1" and again["spec"]["containers"]


def test_create_errors_match_the_real_server(store):
    store.create("pods", pod("p1"))
    with pytest.raises(ApiError) as dup:
        store.create("pods", pod("p1"))
    assert (dup.value.code, dup.value.reason, dup.value.message) == (409, "AlreadyExists", 'pods "p1" already exists')

    with pytest.raises(ApiError) as missing_ns:
        store.create("pods", pod("p1", ns="nope"))
    assert (missing_ns.value.code, missing_ns.value.message) == (404, 'namespaces "nope" not found')

    with pytest.raises(ApiError) as bad_name:
        store.create("pods", pod("Bad_Name"))
    assert bad_name.value.code == 422 and bad_name.value.reason == "Invalid"
    assert 'metadata.name: Invalid value: "Bad_Name"' in bad_name.value.message

    with pytest.raises(ApiError) as bad_label:
        store.create("pods", pod("p2", labels={"k": "has space"}))
    assert bad_label.value.code == 422 and "metadata.labels" in bad_label.value.message


def test_generate_name(store):
    a = store.create("pods", {"metadata": {"generateName": "web-"}, "spec": {"containers": []}})
    b = store.create("pods", {"metadata": {"generateName": "web-"}, "spec": {"containers": []}})
    assert a["metadata"]["name"].startswith("web-") and len(a["metadata"]["name"]) == 9
    assert a["metadata"]["name"] != b["metadata"]["name"]


def test_selectors(store):
    store.create("namespaces", {"metadata": {"name": "other"}})
    store.create("pods", pod("a", labels={"app": "web", "tier": "fe"}, node="n1"))
    store.create("pods", pod("b", labels={"app": "web", "tier": "be"}))
    store.create("pods", pod("c", ns="other", labels={"app": "db"}, node="n1"))
    names = lambda objs: [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objs]  # noqa: E731
    assert names(store.list("pods", label_selector="app=web,tier!=be")) == [("default", "a")]
    assert names(store.list("pods", label_selector="app in (web, db)")) == [("default", "a"), ("default", "b"),
                                                                            ("other", "c")]
    assert names(store.list("pods", "default", label_selector={"app": "web"})) == [("default", "a"), ("default", "b")]
    assert names(store.list("pods", field_selector="spec.nodeName=n1")) == [("default", "a"), ("other", "c")]
    assert names(store.list("pods", field_selector="spec.nodeName=")) == [("default", "b")]
    assert names(store.list("pods", field_selector="metadata.namespace!=default,status.phase==Pending")) == [
        ("other", "c")]
    with pytest.raises(ApiError) as bad:
        store.list("pods", label_selector="app in (")
    assert bad.value.code == 400
    with pytest.raises(ApiError) as unsupported:
        store.list("pods", field_selector="spec.bogus=1")
    assert unsupported.value.code == 400
    assert unsupported.value.message.endswith("field label not supported: spec.bogus")
    with pytest.raises(ApiError):
        store.list("deployments", field_selector="spec.nodeName=n1")  # a Pod field, not a Deployment one


def test_update_conflict_and_unconditional_update(store):
    created = store.create("configmaps", {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    first = dict(created, data={"a": "2"})
    store.update("configmaps", first)
    stale = dict(created, data={"a": "3"})
    with pytest.raises(ApiError) as info:
        store.update("configmaps", stale)
    assert info.value.code == 409 and info.value.reason == "Conflict"
    assert info.value.message == ('Operation cannot be fulfilled on configmaps "cm": the object has been modified; '
                                  'please apply your changes to the latest version and try again')
    del stale["metadata"]["resourceVersion"]
    assert store.update("configmaps", stale)["data"] == {"a": "3"}


def test_noop_update_writes_nothing(store):
    created = store.create("configmaps", {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    rv = store.resource_version
    again = store.update("configmaps", created)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert store.resource_version == rv


def test_generation_follows_spec_only(store):
    d = store.create("deployments", deployment("d"))
    d = store.patch("deployments", "default", "d", {"metadata": {"labels": {"x": "y"}}})
    assert d["metadata"]["generation"] == 1
    d = store.patch("deployments", "default", "d", {"status": {"replicas": 4}}, subresource="status")
    assert d["metadata"]["generation"] == 1 and d["status"]["replicas"] == 4
    d = store.patch("deployments", "default", "d", {"spec": {"replicas": 3}})
    assert d["metadata"]["generation"] == 2


def test_status_subresource_separation(store):
    store.create("pods", pod("p"))
    # The main resource ignores status changes ...
    p = store.patch("pods", "default", "p", {"status": {"phase": "Running"}, "metadata": {"labels": {"a": "b"}}})
    assert p["status"]["phase"] == "Pending" and p["metadata"]["labels"] == {"a": "b"}
    # ... and the status subresource ignores everything else.
    p["status"]["phase"] = "Running"
    p["metadata"]["labels"] = {"c": "d"}
    p = store.update("pods", p, subresource="status")
    assert p["status"]["phase"] == "Running" and p["metadata"]["labels"] == {"a": "b"}


def test_patch_types_and_their_errors(store):
    store.create("deployments", deployment("d"))
    d = store.patch("deployments", "default", "d", {"spec": {"template": {"spec": {"containers": [
        {"name": "side", "image": "s:1"}]}}}}, "strategic")
    assert [c["name"] for c in d["spec"]["template"]["spec"]["containers"]] == ["c", "side"]
    d = store.patch("deployments", "default", "d", [{"op": "replace", "path": "/spec/replicas", "value": 2}], "json")
    assert d["spec"]["replicas"] == 2
    with pytest.raises(ApiError) as failed:
        store.patch("deployments", "default", "d", [{"op": "test", "path": "/spec/replicas", "value": 9}], "json")
    assert failed.value.code == 422
    with pytest.raises(ApiError) as stale:
        store.patch("deployments", "default", "d", {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 5}})
    assert stale.value.code == 409
    with pytest.raises(ApiError) as missing:
        store.patch("deployments", "default", "nope", {"spec": {}})
    assert missing.value.message == 'deployments.apps "nope" not found'


def test_custom_resources_refuse_strategic_merge(store):
    store.create("customresourcedefinitions", securitygrouppolicy_crd())
    store.create("sgp", {"metadata": {"name": "p"}, "spec": {"securityGroups": {"groupIds": ["sg-1"]}}})
    with pytest.raises(ApiError) as info:
        store.patch("sgp", "default", "p", {"spec": {}}, "strategic")
    assert info.value.code == 415 and info.value.reason == "UnsupportedMediaType"
    merged = store.patch("sgp", "default", "p", {"spec": {"securityGroups": {"groupIds": ["sg-2"]}}})
    assert merged["spec"]["securityGroups"]["groupIds"] == ["sg-2"]


def test_server_side_apply_creates_then_merges(store):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1"}}
    with pytest.raises(ApiError) as no_manager:
        store.patch("configmaps", "default", "cm", body, "apply")
    assert no_manager.value.code == 400
    created = store.patch("configmaps", "default", "cm", body, "apply", field_manager="t")
    assert created["data"] == {"a": "1"}
    updated = store.patch("configmaps", "default", "cm", dict(body, data={"b": "2"}), "apply", field_manager="t")
    # The manager stopped applying data.a and nobody else owns it: server-side apply removes it.
    assert updated["data"] == {"b": "2"}
    other = store.patch("configmaps", "default", "cm", dict(body, data={"c": "3"}), "apply", field_manager="u")
    assert other["data"] == {"b": "2", "c": "3"}


def test_bind_sets_node_once(store):
    store.create("pods", pod("p"))
    bound = store.bind("default", "p", "node-1")
    assert bound["spec"]["nodeName"] == "node-1"
    assert {"type": "PodScheduled", "status": "True"}.items() <= bound["status"]["conditions"][0].items()
    with pytest.raises(ApiError) as again:
        store.bind("default", "p", "node-2")
    assert again.value.code == 409 and 'already assigned to node "node-1"' in again.value.message


def test_scale_subresource(store):
    store.create("deployments", deployment("d"))
    scale = store.get_scale("deployments", "default", "d")
    assert scale["spec"]["replicas"] == 1 and scale["status"]["selector"] == "app=d"
    scale = store.update_scale("deployments", "default", "d", patch={"spec": {"replicas": 4}})
    assert scale["spec"]["replicas"] == 4
    assert store.get("deployments", "default", "d")["spec"]["replicas"] == 4


def _chain(store):
    d = store.create("deployments", deployment("d"))
    rs = store.create("replicasets", owned_by({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                               "metadata": {"name": "d-1"}, "spec": {}}, d))
    for i in range(2):
        store.create("pods", owned_by(pod(f"d-1-{i}"), rs))
    store.create("pods", pod("unrelated"))
    return d, rs


def test_delete_background_cascades_through_owner_references(store):
    _chain(store)
    seen = []
    store.subscribe(lambda t, rt, o: seen.append((t, rt.plural, o["metadata"]["name"])))
    deleted = store.delete("deployments", "default", "d")
    assert deleted["metadata"]["name"] == "d"
    assert [p["metadata"]["name"] for p in store.list("pods")] == ["unrelated"]
    assert store.list("replicasets") == []
    assert seen[0] == ("DELETED", "deployments", "d")  # Background: the owner goes first


def test_delete_foreground_removes_dependents_first(store):
    _chain(store)
    seen = []
    store.subscribe(lambda t, rt, o: seen.append(rt.plural))
    store.delete("deployments", "default", "d", propagation="Foreground")
    assert seen[-1] == "deployments" and seen[:2] == ["pods", "pods"]


def test_delete_orphan_keeps_dependents_without_the_reference(store):
    _, rs = _chain(store)
    store.delete("replicasets", "default", rs["metadata"]["name"], propagation="Orphan")
    pods = store.list("pods", label_selector=None)
    assert len(pods) == 3 and all("ownerReferences" not in p["metadata"] for p in pods)


def test_finalizers_delay_deletion(store):
    store.create("configmaps", {"metadata": {"name": "cm", "finalizers": ["example.com/keep"]}})
    marked = store.delete("configmaps", "default", "cm")
    assert marked["metadata"]["deletionTimestamp"]
    assert store.get("configmaps", "default", "cm") is not None
    store.patch("configmaps", "default", "cm", {"metadata": {"finalizers": None}})
    assert store.get("configmaps", "default", "cm") is None


def test_deleting_a_namespace_deletes_its_content(store):
    store.create("namespaces", {"metadata": {"name": "team"}})
    store.create("pods", pod("p", ns="team"))
    store.create("pods", pod("p", ns="default"))
    store.delete("namespaces", None, "team")
    assert store.get("namespaces", None, "team") is None
    assert [(p["metadata"]["namespace"]) for p in store.list("pods")] == ["default"]
    assert store.list("serviceaccounts", "team") == []


def test_namespace_waits_for_finalized_content_and_refuses_new_objects(store):
    store.create("namespaces", {"metadata": {"name": "team"}})
    store.create("configmaps", {"metadata": {"name": "cm", "namespace": "team", "finalizers": ["x/y"]}})
    terminating = store.delete("namespaces", None, "team")
    assert terminating["status"]["phase"] == "Terminating"
    with pytest.raises(ApiError) as info:
        store.create("pods", pod("p", ns="team"))
    assert info.value.code == 403
    store.patch("configmaps", "team", "cm", {"metadata": {"finalizers": None}})
    assert store.get("namespaces", None, "team") is None


def test_crd_lifecycle_serves_and_drops_its_resource(store):
    assert store.resource_for_kind("networking.tke.cloud.tencent.com", "VpcENI") is None
    store.create("customresourcedefinitions", vpceni_crd())
    rt = store.resource("networking.tke.cloud.tencent.com", "v1", "vpcenis")
    assert rt is not None and not rt.namespaced and rt.has_status and rt.short_names == ("vpceni",)
    eni = store.create("vpceni", {"metadata": {"name": "e1", "labels": {"tke.cloud.tencent.com/pod-name": "p"}},
                                  "status": {"eni": {"eniID": "eni-123"}}})
    assert eni["status"]["eni"]["eniID"] == "eni-123"  # in-process creates keep the status they give
    assert "namespace" not in eni["metadata"]
    crd = store.get("customresourcedefinitions", None, "vpcenis.networking.tke.cloud.tencent.com")
    assert {c["type"] for c in crd["status"]["conditions"]} == {"NamesAccepted", "Established"}
    store.delete("customresourcedefinitions", None, "vpcenis.networking.tke.cloud.tencent.com")
    assert store.resource("networking.tke.cloud.tencent.com", "v1", "vpcenis") is None
    with pytest.raises(ApiError):
        store.list("vpcenis")
    store.create("customresourcedefinitions", vpceni_crd())
    assert store.list("vpcenis") == []  # objects went with the CRD


def test_invalid_crd_is_refused(store):
    crd = securitygrouppolicy_crd()
    crd["metadata"]["name"] = "wrong.example.com"
    with pytest.raises(ApiError) as info:
        store.create("customresourcedefinitions", crd)
    assert info.value.code == 422 and 'must be spec.names.plural+"."+spec.group' in info.value.message


def test_subscribers_see_every_event_in_order_even_for_writes_from_callbacks(store):
    first, second = [], []

    def controller(type_, rt, obj):
        first.append((type_, obj["metadata"]["name"], int(obj["metadata"]["resourceVersion"])))
        if type_ == "ADDED" and rt.plural == "pods":
            store.patch("pods", obj["metadata"]["namespace"], obj["metadata"]["name"],
                        {"metadata": {"annotations": {"seen": "yes"}}})

    store.subscribe(controller)
    unsubscribe = store.subscribe(lambda t, rt, o: second.append((t, o["metadata"]["name"],
                                                                  int(o["metadata"]["resourceVersion"]))))
    store.create("pods", pod("p"))
    assert first == second == [("ADDED", "p", first[0][2]), ("MODIFIED", "p", first[0][2] + 1)]
    unsubscribe()
    store.delete("pods", "default", "p")
    assert len(second) == 2 and first[-1][0] == "DELETED"


def test_watcher_replays_history_and_translates_selector_changes(store):
    start = store.resource_version
    store.create("pods", pod("p", labels={"app": "a"}))
    store.patch("pods", "default", "p", {"metadata": {"labels": {"app": "b"}}})
    store.patch("pods", "default", "p", {"metadata": {"labels": {"app": "a"}}})
    w = store.watcher("pods", "default", str(start), label_selector="app=a")
    assert [t for t, _ in w.next(0.1)] == ["ADDED", "DELETED", "ADDED"]
    assert w.next(0.05) == []
    initial = store.watcher("pods", "default", None)
    assert [(t, e.obj["metadata"]["name"]) for t, e in initial.next(0.1)] == [("ADDED", "p")]


def test_watch_from_a_version_older_than_the_history_is_gone():
    s = KubeStore(history=100)
    s.register_builtin()
    for i in range(300):
        s.create("configmaps", {"metadata": {"name": f"cm{i}"}})
    with pytest.raises(ApiError) as info:
        s.watcher("configmaps", "default", "1")
    assert info.value.code == 410 and info.value.reason == "Expired"


def test_pagination_is_consistent_across_writes(store):
    for i in range(10):
        store.create("pods", pod(f"p{i:02d}"))
    page, rv, token, remaining = store.list_entries("pods", limit=4)
    assert [e.obj["metadata"]["name"] for e in page] == ["p00", "p01", "p02", "p03"] and remaining == 6
    store.create("pods", pod("p00a"))  # created after the first page: not part of this list
    store.delete("pods", "default", "p05")
    names = []
    while token:
        page, page_rv, token, _ = store.list_entries("pods", limit=4, continue_token=token)
        assert page_rv == rv
        names += [e.obj["metadata"]["name"] for e in page]
    assert names == [f"p{i:02d}" for i in range(4, 10)]
    with pytest.raises(ApiError) as bad:
        store.list_entries("pods", limit=4, continue_token="not-a-token")
    assert bad.value.code == 400


def test_add_event_aggregates_repeats(store):
    p = store.create("pods", pod("p"))
    store.add_event("default", p, "FailedScheduling", "0/3 nodes are available", type="Warning")
    again = store.add_event("default", p, "FailedScheduling", "0/3 nodes are available", type="Warning")
    assert again["count"] == 2
    events = store.list("events", "default", field_selector="involvedObject.name=p,reason=FailedScheduling")
    assert len(events) == 1 and events[0]["involvedObject"]["uid"] == p["metadata"]["uid"]
    assert events[0]["type"] == "Warning" and events[0]["source"] == {"component": "sandbox"}


def test_persistence_round_trip(store):
    store.create("customresourcedefinitions", securitygrouppolicy_crd())
    store.create("sgp", {"metadata": {"name": "p"}, "spec": {"x": 1}})
    store.create("pods", pod("p"))
    data = store.to_dict()
    restored = KubeStore.from_dict(data)
    assert restored.resource_version == store.resource_version
    assert restored.get("sgp", "default", "p") == store.get("sgp", "default", "p")
    assert restored.list("pods") == store.list("pods")
    with pytest.raises(ApiError) as info:
        restored.watcher("pods", None, "1")
    assert info.value.code == 410
    restored.create("pods", pod("q"))
    assert restored.resource_version == store.resource_version + 1


def test_resolve_accepts_every_naming(store):
    store.create("customresourcedefinitions", securitygrouppolicy_crd())
    rt = store.resolve("securitygrouppolicies.vpcresources.tke.cloud.tencent.com")
    for ref in ("sgp", "SecurityGroupPolicy", "securitygrouppolicies", "securitygrouppolicy",
                ("vpcresources.tke.cloud.tencent.com", "securitygrouppolicies"),
                ("vpcresources.tke.cloud.tencent.com", "v1beta1", "securitygrouppolicies"), rt):
        assert store.resolve(ref) is rt
    assert store.resolve("deploy").key == "deployments.apps"
    with pytest.raises(ApiError):
        store.resolve(("vpcresources.tke.cloud.tencent.com", "v9", "securitygrouppolicies"))


def test_admission_mutates_before_storage_and_can_refuse(store):
    seen = []
    store.subscribe(lambda t, rt, o: seen.append((t, (o["metadata"].get("annotations") or {}).get("admitted"))))

    def webhook(operation, rt, obj, old):
        if rt.plural != "pods":
            return None
        if obj["metadata"].get("labels", {}).get("reject") == "yes":
            raise ApiError(400, "BadRequest", 'admission webhook "sgp.example.com" denied the request: no')
        obj["metadata"].setdefault("annotations", {})["admitted"] = operation
        return obj

    remove = store.add_admission(webhook)
    created = store.create("pods", pod("p"))
    assert created["metadata"]["annotations"]["admitted"] == "CREATE"  # the create response shows it
    assert seen == [("ADDED", "CREATE")]  # and so does the first event: no unmutated version exists
    updated = store.patch("pods", "default", "p", {"metadata": {"labels": {"x": "y"}}})
    assert updated["metadata"]["annotations"]["admitted"] == "UPDATE"
    with pytest.raises(ApiError) as refused:
        store.create("pods", pod("q", labels={"reject": "yes"}))
    assert refused.value.code == 400 and store.get("pods", "default", "q") is None
    store.update("pods", dict(updated, status={"phase": "Running"}), subresource="status")  # not admitted
    assert store.get("pods", "default", "p")["metadata"]["annotations"]["admitted"] == "UPDATE"
    remove()
    assert "annotations" not in store.create("pods", pod("r"))["metadata"]
