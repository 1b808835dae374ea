"""The shipped OpenAPI definitions, decoding against them, quantities, validation messages and
server-side apply, at the store level (the HTTP level is in test_kube_witness.py)."""

from __future__ import annotations

import gzip
import json

import pytest

from sgpctl.sandbox.kube import KubeStore, quantity, schema
from sgpctl.sandbox.kube.admission import Request
from sgpctl.sandbox.kube.crds import securitygrouppolicy_crd
from sgpctl.sandbox.kube.errors import ApiError
from sgpctl.sandbox.kube.schemas import generate


def test_shipped_definitions_are_what_the_generator_makes_from_the_installed_client():
    shipped = json.loads(gzip.decompress(generate.OUT.read_bytes()))
    assert shipped == generate.generate(), \
        "sgpctl/sandbox/kube/schemas/builtin.json.gz is stale: run python -m sgpctl.sandbox.kube.schemas.generate"


def test_definitions_carry_what_explain_and_decoding_need():
    defs = schema.builtin()["definitions"]
    spec = defs[schema.root_definition("apps", "v1", "Deployment")]["properties"]["spec"]
    deployment_spec = defs[spec["$ref"].rsplit("/", 1)[-1]]
    assert deployment_spec["properties"]["replicas"]["type"] == "integer"
    assert deployment_spec["properties"]["replicas"]["format"] == "int32"
    assert set(deployment_spec["required"]) == {"selector", "template"}
    assert "Number of desired pods" in deployment_spec["properties"]["replicas"]["description"]
    rolling = defs["io.k8s.api.v1.RollingUpdateDeployment"]["properties"]["maxSurge"]
    assert rolling["$ref"].endswith("IntOrString")
    limits = defs["io.k8s.api.v1.ResourceRequirements"]["properties"]["limits"]
    assert limits["additionalProperties"]["$ref"].endswith("resource.Quantity")


@pytest.mark.parametrize("given,canonical", [
    ("1000m", "1"), ("1024Mi", "1Gi"), (0.5, "500m"), ("1.5Gi", "1536Mi"), ("2000", "2k"), ("1500", "1500"),
    (1073741824, "1073741824"), ("100M", "100M"), ("129e6", "129e6"), ("0.1", "100m"), ("512Ki", "512Ki"),
    ("1536Ki", "1536Ki"), ("2048Ki", "2Mi"), ("0", "0"), ("1e3", "1e3"), ("10Gi", "10Gi"),
])
def test_quantities_take_apimachinerys_canonical_form(given, canonical):
    # Worked out from resource.Quantity.CanonicalizeBytes: the largest suffix that keeps an integer,
    # decimal exponents in steps of 3, binary ones in powers of 1024 (below 1Ki: decimal).
    assert quantity.canonical(given) == canonical


def test_a_bad_quantity_is_refused_with_the_regular_expression():
    with pytest.raises(ValueError, match=r"quantities must match the regular expression"):
        quantity.canonical("two gigs")


def _deployment(**spec):
    body = {"selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "a"}},
                         "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]}}}
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"},
            "spec": body}


@pytest.fixture
def store():
    s = KubeStore()
    s.register_builtin()
    return s


def _refusal(store, obj, resource="deployments.apps", validation="Strict"):
    with pytest.raises(ApiError) as info:
        store.create(resource, obj, request=Request(field_validation=validation, field_manager="t"))
    return info.value


def test_wrong_types_are_go_decoder_errors(store):
    err = _refusal(store, _deployment(replicas="two"))
    assert (err.code, err.reason) == (400, "BadRequest")
    assert err.message == ('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
                           'string into Go struct field DeploymentSpec.spec.replicas of type int32')
    assert store.get("deployments.apps", "default", "d") is None


def test_unknown_fields_strict_warn_ignore(store):
    obj = _deployment()
    obj["spec"] = {"replica": 2, **obj["spec"]}  # reported in the document's order
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    err = _refusal(store, obj)
    assert err.message.endswith('strict decoding error: unknown field "spec.replica", unknown field '
                                '"spec.template.spec.containers[0].imagePullPolicyy"')
    warn = Request(field_validation="Warn", field_manager="t")
    made = store.create("deployments.apps", obj, request=warn)
    assert warn.warnings == ['unknown field "spec.replica"',
                             'unknown field "spec.template.spec.containers[0].imagePullPolicyy"']
    assert "replica" not in made["spec"] and "imagePullPolicyy" not in made["spec"]["template"]["spec"]["containers"][0]
    ignore = Request(field_validation="Ignore", field_manager="t")
    obj["metadata"]["name"] = "d2"
    store.create("deployments.apps", obj, request=ignore)
    assert ignore.warnings == []


@pytest.mark.parametrize("change,field,message", [
    ({"replicas": -1}, "spec.replicas", "Invalid value: -1: must be greater than or equal to 0"),
    ({"selector": {"matchLabels": {"app": "b"}}}, "spec.template.metadata.labels",
     'Invalid value: map[string]string{"app":"a"}: `selector` does not match template `labels`'),
    ({"selector": None}, "spec.selector", "Required value"),
])
def test_semantic_validation_messages(store, change, field, message):
    obj = _deployment(**change)
    if change.get("selector", 1) is None:
        del obj["spec"]["selector"]
    err = _refusal(store, obj)
    assert (err.code, err.reason) == (422, "Invalid")
    assert err.message == f'Deployment.apps "d" is invalid: {field}: {message}'
    assert err.details["causes"][0]["field"] == field


def test_pod_containers_are_validated(store):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "C_bad", "ports": [{"containerPort": 70000}]}]}}
    err = _refusal(store, pod, "pods")
    fields = [c["field"] for c in err.details["causes"]]
    assert fields == ["spec.containers[0].name", "spec.containers[0].image", "spec.containers[0].ports[0].containerPort"]
    assert "Invalid value: 70000: must be between 1 and 65535, inclusive" in err.message
    empty = dict(pod, spec={"containers": []})
    assert _refusal(store, empty, "pods").message == 'Pod "p" is invalid: spec.containers: Required value'


def test_container_and_service_ports_are_validated(store):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [
               {"containerPort": 80, "hostPort": 0},  # hostPort 0: no host port, valid
               {"containerPort": 81, "hostPort": 70000, "protocol": "HTTP"}]}]}}
    err = _refusal(store, pod, "pods")
    assert [c["field"] for c in err.details["causes"]] == ["spec.containers[0].ports[1].hostPort",
                                                           "spec.containers[0].ports[1].protocol"]
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "default"},
           "spec": {"ports": [{"name": "a", "targetPort": 0}, {"name": "b", "port": 80, "targetPort": "http"},
                              {"name": "c", "port": 0, "targetPort": 70000, "protocol": "HTTP"}]}}
    err = _refusal(store, svc, "services")
    assert [c["field"] for c in err.details["causes"]] == [
        "spec.ports[0].port", "spec.ports[0].targetPort",
        "spec.ports[2].port", "spec.ports[2].targetPort", "spec.ports[2].protocol"]
    assert "spec.ports[0].port: Required value" in err.message
    assert "spec.ports[2].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive" in err.message
    assert 'spec.ports[2].protocol: Unsupported value: "HTTP"' in err.message


def test_immutable_fields(store):
    req = Request(field_manager="t")
    store.create("deployments.apps", _deployment(), request=req)
    with pytest.raises(ApiError) as info:
        store.patch("deployments.apps", "default", "d",
                    {"spec": {"selector": {"matchLabels": {"app": "b"}},
                              "template": {"metadata": {"labels": {"app": "b"}}}}}, "strategic", request=req)
    assert info.value.message == (
        'Deployment.apps "d" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:'
        'map[string]string{"app":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable')
    svc = store.create("services", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}],
                                                                         "selector": {"app": "a"}}}, request=req)
    with pytest.raises(ApiError) as info:
        store.patch("services", "default", "s", {"spec": {"clusterIP": "10.96.99.99"}}, "merge", request=req)
    assert info.value.message == ('Service "s" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.99.99"}:'
                                  ' may not change once set')
    assert store.get("services", "default", "s")["spec"]["clusterIP"] == svc["spec"]["clusterIP"]


def test_server_defaults(store):
    req = Request(field_manager="t")
    made = store.create("deployments.apps", _deployment(strategy={}), request=req)
    assert made["spec"]["strategy"] == {"type": "RollingUpdate",
                                        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert "serviceAccountName" not in made["spec"]["template"]["spec"]  # only Pods get their ServiceAccount
    secret = store.create("secrets", {"metadata": {"name": "s"}, "stringData": {"a": "b"}}, request=req)
    assert secret["type"] == "Opaque" and secret["data"] == {"a": "Yg=="} and "stringData" not in secret
    cm = store.create("configmaps", {"metadata": {"name": "c", "annotations": None}}, request=req)
    assert "annotations" not in cm["metadata"]


def test_server_side_apply_owns_conflicts_and_prunes(store):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"x": "1"}},
          "data": {"a": "1", "b": "2"}}
    store.patch("configmaps", "default", "c", cm, "apply", request=Request(field_manager="kubectl"))
    live = store.get("configmaps", "default", "c")
    (entry,) = live["metadata"]["managedFields"]
    assert entry["manager"] == "kubectl" and entry["operation"] == "Apply"
    # An applier owns the leaves it applied (maps themselves are no field of an applied set).
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:x": {}}}}
    with pytest.raises(ApiError) as info:
        store.patch("configmaps", "default", "c", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                                   "data": {"b": "3"}}, "apply", request=Request(field_manager="other"))
    assert (info.value.code, info.value.message) == (409, 'Apply failed with 1 conflict: conflict with "kubectl": '
                                                          '.data.b')
    # The same value is no conflict: both managers own it then.
    store.patch("configmaps", "default", "c", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                               "data": {"b": "2"}}, "apply", request=Request(field_manager="other"))
    # kubectl stops applying label x and data b: x goes, b stays (other still owns it).
    store.patch("configmaps", "default", "c", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                               "data": {"a": "1"}}, "apply", request=Request(field_manager="kubectl"))
    live = store.get("configmaps", "default", "c")
    assert live["data"] == {"a": "1", "b": "2"} and "labels" not in live["metadata"]
    forced = Request(field_manager="other", force=True)
    store.patch("configmaps", "default", "c", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                               "data": {"a": "9", "b": "2"}}, "apply", request=forced)
    live = store.get("configmaps", "default", "c")
    assert live["data"]["a"] == "9"
    # kubectl owned only .data.a, which the forced apply took: an entry that owns nothing goes.
    assert [e["manager"] for e in live["metadata"]["managedFields"]] == ["other"]


def test_strict_sgp_crd_schema_is_enforced():
    store = KubeStore(sgp_crd_schema="strict")
    store.register_builtin()
    store.create("customresourcedefinitions", securitygrouppolicy_crd("strict"))
    req = Request(field_validation="Strict", field_manager="t")

    def sgp(spec):
        return {"apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
                "metadata": {"name": "p", "namespace": "default"}, "spec": spec}

    cases = [
        ({"securityGroups": {"groupIds": "sg-1"}},
         'spec.securityGroups.groupIds: Invalid value: "string": spec.securityGroups.groupIds in body must be of '
         'type array: "string"'),
        # The type kube-apiserver names is OpenAPI's: a mapping is an "object", a number an "integer".
        ({"securityGroups": {"groupIds": {"sg-1": True}}},
         'spec.securityGroups.groupIds: Invalid value: "object": spec.securityGroups.groupIds in body must be of '
         'type array: "object"'),
        ({"securityGroups": {"groupIds": 7}},
         'spec.securityGroups.groupIds: Invalid value: "integer": spec.securityGroups.groupIds in body must be of '
         'type array: "integer"'),
        ({"securityGroups": ["sg-1"]},
         'spec.securityGroups: Invalid value: "array": spec.securityGroups in body must be of type object: "array"'),
        ({"securityGroups": {"groupIds": []}},
         "spec.securityGroups.groupIds: Invalid value: 0: spec.securityGroups.groupIds in body should have at least "
         "1 items"),
        ({"securityGroups": {"groupIds": [f"sg-{i}" for i in range(17)]}},
         "spec.securityGroups.groupIds: Too many: 17: must have at most 16 items"),
    ]
    for spec, message in cases:
        with pytest.raises(ApiError) as info:
            store.create("sgp", sgp(spec), request=req)
        assert info.value.code == 422
        assert info.value.message == ('SecurityGroupPolicy.vpcresources.tke.cloud.tencent.com "p" is invalid: '
                                      + message)
    with pytest.raises(ApiError) as info:
        store.create("sgp", sgp({"podSelectors": {}}), request=req)
    assert info.value.code == 400 and info.value.message.endswith('strict decoding error: unknown field '
                                                                  '"spec.podSelectors"')
    made = store.create("sgp", sgp({"podSelectors": {}, "securityGroups": {"groupIds": ["sg-1"]}}),
                        request=Request(field_manager="t"))
    assert made["spec"] == {"securityGroups": {"groupIds": ["sg-1"]}}  # pruned, as apiextensions does


def test_bounds_patterns_and_int_or_string_are_worded_as_kube_apiserver_words_them():
    """kube-openapi's validation messages ("%s in %s should be greater than or equal to %v", "... less than
    or equal to %v", "... should be at least %d chars long", "... should match '%s'", "... must be of type
    %s: %q"), each as a field.Invalid: "<path>: Invalid value: <value>: <message>"."""
    version = {"schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "replicas": {"type": "integer", "minimum": 1, "maximum": 5},
        "name": {"type": "string", "minLength": 3, "pattern": "^[a-z]+$"},
        "port": {"x-kubernetes-int-or-string": True}}}}}}}

    def problems(spec: dict) -> list[tuple[str, str]]:
        return schema.decode_custom({"spec": spec}, version, "Thing", "v1", None, None)[1]

    assert problems({"replicas": 3, "name": "web", "port": "http"}) == []
    assert problems({"replicas": 0}) == [
        ("spec.replicas", "Invalid value: 0: spec.replicas in body should be greater than or equal to 1")]
    assert problems({"replicas": 9}) == [
        ("spec.replicas", "Invalid value: 9: spec.replicas in body should be less than or equal to 5")]
    assert problems({"name": "AB"}) == [
        ("spec.name", 'Invalid value: "AB": spec.name in body should be at least 3 chars long'),
        ("spec.name", "Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'")]
    assert problems({"port": True}) == [
        ("spec.port", 'Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"')]


def test_the_open_sgp_crd_schema_keeps_any_body():
    store = KubeStore()
    store.register_builtin()
    store.create("customresourcedefinitions", securitygrouppolicy_crd())
    made = store.create("sgp", {"metadata": {"name": "p"}, "spec": {"securityGroups": {"groupIds": "sg-1"}}},
                        request=Request(field_validation="Strict", field_manager="t"))
    assert made["spec"]["securityGroups"]["groupIds"] == "sg-1"
