"""The three patch formats of the emulated API server, on plain dicts."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, strategies as st

from sgpctl.sandbox.kube.patch import PatchError, json_patch, merge_patch, strategic_merge_patch

# --------------------------------------------------------------------------- RFC 7386


# The test cases of RFC 7386, appendix A.
RFC7386_CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("target, patch, expected", RFC7386_CASES)
def test_merge_patch_rfc7386_examples(target, patch, expected):
    assert merge_patch(target, patch) == expected


def test_merge_patch_leaves_its_arguments_alone():
    target = {"a": {"b": [1, 2]}, "c": 1}
    patch = {"a": {"d": 1}}
    before = copy.deepcopy(target)
    result = merge_patch(target, patch)
    result["a"]["b"].append(3)
    assert target == before


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                                       max_size=3),
                           max_leaves=10)


@given(st.dictionaries(st.text(max_size=2), json_values, max_size=4),
       st.dictionaries(st.text(max_size=2), json_values, max_size=4))
def test_merge_patch_is_idempotent(target, patch):
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once


# --------------------------------------------------------------------------- RFC 6902


def test_json_patch_add_remove_replace():
    doc = {"a": {"b": [1, 2, 3]}, "c": "x"}
    ops = [
        {"op": "add", "path": "/a/b/1", "value": 9},
        {"op": "add", "path": "/a/b/-", "value": 4},
        {"op": "remove", "path": "/a/b/0"},
        {"op": "replace", "path": "/c", "value": "y"},
        {"op": "add", "path": "/d~1e", "value": {"f~g": 1}},
    ]
    assert json_patch(doc, ops) == {"a": {"b": [9, 2, 3, 4]}, "c": "y", "d/e": {"f~g": 1}}
    assert doc == {"a": {"b": [1, 2, 3]}, "c": "x"}


def test_json_patch_move_copy_and_test():
    doc = {"metadata": {"labels": {"old": "v"}}, "spec": {"x": [1]}}
    ops = [
        {"op": "test", "path": "/metadata/labels/old", "value": "v"},
        {"op": "move", "from": "/metadata/labels/old", "path": "/metadata/labels/new"},
        {"op": "copy", "from": "/spec/x", "path": "/spec/y"},
        {"op": "add", "path": "/spec/y/-", "value": 2},
    ]
    assert json_patch(doc, ops) == {"metadata": {"labels": {"new": "v"}}, "spec": {"x": [1], "y": [1, 2]}}


def test_json_patch_pointer_escapes_are_decoded_in_order():
    # "~01" is "~1" literally, not "/": ~1 is decoded before ~0.
    doc = {"~1": 1}
    assert json_patch(doc, [{"op": "remove", "path": "/~01"}]) == {}


@pytest.mark.parametrize("ops, message", [
    ([{"op": "test", "path": "/a", "value": 2}], "test failed"),
    ([{"op": "remove", "path": "/missing"}], "nonexistent"),
    ([{"op": "replace", "path": "/missing", "value": 1}], "missing"),
    ([{"op": "add", "path": "/list/5", "value": 1}], "out of bounds"),
    ([{"op": "add", "path": "/x/y", "value": 1}], "missing"),
    # Through a scalar: /a is 1, it has no members.
    ([{"op": "add", "path": "/a/b", "value": 1}], "doc is missing path: /a/b"),
    ([{"op": "remove", "path": "/a/b"}], "doc is missing path: /a/b"),
    ([{"op": "test", "path": "/a/b", "value": 1}], "doc is missing path: /a/b"),
    ([{"op": "move", "from": "/obj", "path": "/obj/inner"}], "own child"),
])
def test_json_patch_failures_are_patch_errors(ops, message):
    doc = {"a": 1, "list": [0], "obj": {}}
    with pytest.raises(PatchError, match=message) as info:
        json_patch(doc, ops)
    assert not info.value.malformed


@pytest.mark.parametrize("ops", [{"op": "add"}, [{"path": "/a"}], [{"op": "bogus", "path": "/a"}],
                                 [{"op": "add", "path": "a", "value": 1}], [{"op": "add", "path": "/a"}]])
def test_json_patch_unreadable_documents_are_malformed(ops):
    with pytest.raises(PatchError) as info:
        json_patch({"a": 1}, ops)
    assert info.value.malformed


# --------------------------------------------------------------------------- strategic merge


def _deployment(containers):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "a"}},
                                                 "spec": {"containers": containers}}}}


def test_strategic_merges_containers_by_name_and_env_by_name():
    target = _deployment([
        {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        {"name": "sidecar", "image": "side:1"},
    ])
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]},
        {"name": "new", "image": "new:1"},
    ]}}}}
    result = strategic_merge_patch(target, patch, "Deployment")
    containers = result["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["app", "sidecar", "new"]
    assert containers[0]["image"] == "app:1"
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"},
                                    {"name": "C", "value": "4"}]
    # A JSON merge patch would have replaced the whole container list.
    assert len(merge_patch(target, patch)["spec"]["template"]["spec"]["containers"]) == 2


def test_strategic_delete_and_replace_directives():
    target = _deployment([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}])
    deleted = strategic_merge_patch(target, {"spec": {"template": {"spec": {"containers": [
        {"name": "a", "$patch": "delete"}]}}}}, "Deployment")
    assert [c["name"] for c in deleted["spec"]["template"]["spec"]["containers"]] == ["b"]

    replaced = strategic_merge_patch(target, {"spec": {"template": {"spec": {"containers": [
        {"$patch": "replace"}, {"name": "c", "image": "c"}]}}}}, "Deployment")
    assert replaced["spec"]["template"]["spec"]["containers"] == [{"name": "c", "image": "c"}]

    map_replaced = strategic_merge_patch(target, {"spec": {"template": {"metadata": {
        "$patch": "replace", "labels": {"x": "y"}}}}}, "Deployment")
    assert map_replaced["spec"]["template"]["metadata"] == {"labels": {"x": "y"}}


def test_strategic_ports_merge_by_container_port_and_volume_mounts_by_mount_path():
    target = {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "name": "http"}],
                                       "volumeMounts": [{"name": "v", "mountPath": "/a"}]}]}}
    patch = {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "protocol": "TCP"},
                                                             {"containerPort": 443}],
                                      "volumeMounts": [{"name": "w", "mountPath": "/a"}]}]}}
    c = strategic_merge_patch(target, patch, "Pod")["spec"]["containers"][0]
    assert c["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 443}]
    assert c["volumeMounts"] == [{"name": "w", "mountPath": "/a"}]


def test_strategic_primitive_lists_union_and_delete_from_primitive_list():
    target = {"metadata": {"name": "x", "finalizers": ["a", "b"]}}
    merged = strategic_merge_patch(target, {"metadata": {"finalizers": ["b", "c"]}}, "ConfigMap")
    assert merged["metadata"]["finalizers"] == ["a", "b", "c"]
    removed = strategic_merge_patch(merged, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
                                    "ConfigMap")
    assert removed["metadata"]["finalizers"] == ["b", "c"]


def test_strategic_unknown_lists_are_replaced_and_nulls_delete():
    target = {"spec": {"tolerations": [{"key": "a"}], "nodeSelector": {"x": "1", "y": "2"}}}
    patch = {"spec": {"tolerations": [{"key": "b"}], "nodeSelector": {"y": None}}}
    assert strategic_merge_patch(target, patch, "Pod") == {"spec": {"tolerations": [{"key": "b"}],
                                                                   "nodeSelector": {"x": "1"}}}


def test_strategic_set_element_order_and_retain_keys():
    target = _deployment([{"name": "a"}, {"name": "b"}])
    target["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}
    patch = {"spec": {
        "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None},
        "template": {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                              "containers": [{"name": "a", "image": "x"}]}}}}
    result = strategic_merge_patch(target, patch, "Deployment")
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "b"}, {"name": "a", "image": "x"}]


def test_strategic_directives_never_reach_new_values():
    result = strategic_merge_patch({"spec": {}}, {"spec": {"template": {"spec": {"containers": [
        {"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "$patch": "delete"}]}]}}}}, "Deployment")
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "a", "env": [{"name": "X", "value": "1"}]}]


def test_strategic_item_without_merge_key_is_an_error():
    with pytest.raises(PatchError, match="merge key"):
        strategic_merge_patch(_deployment([]), {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}},
                              "Deployment")
