"""core.capture: what never enters a capture, and the hashing of names (--redact-names) that keeps every
reference and selector working."""

from __future__ import annotations

import base64
import re
import json

import pytest

from sgpctl.core import capture as fmt
from sgpctl.core.matching import match
from sgpctl.core.policy import SecurityGroupPolicy


@pytest.mark.parametrize("name", ["DB_PASSWORD", "apiToken", "SecretKey", "secret_id", "client-key", "TOKEN",
                                  "key", "Auth", "PASS", "github_token", "privateKey", "tls-client-key-data",
                                  "AccessKeyId", "Authorization", "Password", "kubeconfig-token"])
def test_names_that_say_secret(name):
    assert fmt.looks_secret(name)


@pytest.mark.parametrize("name", ["name", "image", "mode", "SubnetIds", "podSecurityGroupEnforcingMode", "enableSubEni",
                                  "KeyIds", "monkey", "SecurityGroupId", "configMapKeyRef", "keyboard", "PolicyDocument",
                                  "RoleArn", "Values", "NonMasqueradeCIDRs", "LOG_LEVEL"])
def test_names_that_do_not(name):
    assert not fmt.looks_secret(name)


def deployment() -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "managedFields": [{"manager": "kubectl"}],
                     "annotations": {fmt.LAST_APPLIED: '{"env": "hunter2"}', "example.com/auth-token": "tok-123",
                                     "example.com/owner": "team-a"}},
        "spec": {"template": {"spec": {"containers": [{
            "name": "app", "image": "nginx:1.25",
            "env": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "LOG_LEVEL", "value": "debug"},
                    {"name": "DATABASE_URL", "value": "postgres://app:hunter2@db:5432/x"},
                    {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}],
            "args": ["--api-token=tok-abc", "--password", "hunter2", "--port", "80", "--verbose"],
        }]}}},
    }


def test_a_workload_keeps_what_is_not_secret_and_loses_what_is():
    out = fmt.scrub_object(deployment())
    text = json.dumps(out)
    for secret in ("hunter2", "tok-abc", "tok-123", "managedFields", fmt.LAST_APPLIED):
        assert secret not in text
    c = out["spec"]["template"]["spec"]["containers"][0]
    assert c["env"][0] == {"name": "DB_PASSWORD", "value": fmt.REDACTED}
    assert c["env"][1] == {"name": "LOG_LEVEL", "value": "debug"}
    assert c["env"][2]["value"] == "postgres://***@db:5432/x"
    assert c["env"][3] == {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}
    assert c["args"] == ["--api-token=" + fmt.REDACTED, "--password", fmt.REDACTED, "--port", "80", "--verbose"]
    assert out["metadata"]["annotations"] == {"example.com/auth-token": fmt.REDACTED, "example.com/owner": "team-a"}


def test_the_input_object_is_left_alone():
    obj = deployment()
    before = json.dumps(obj)
    fmt.scrub_object(obj)
    assert json.dumps(obj) == before


def test_a_secret_object_never_enters():
    assert fmt.scrub_object({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"a": "Yg=="}}) is None


def test_configmap_lines_whose_keys_look_secret_lose_their_values():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
          "binaryData": {"blob": "AAAA"},
          "data": {"config.conf": 'mode: "ipvs"\nclientConnection:\n  token: abc123\n  burst: 10\n',
                   "password": "p4ss"}}
    out = fmt.scrub_object(cm)
    assert out["data"]["config.conf"] == f'mode: "ipvs"\nclientConnection:\n  token: {fmt.REDACTED}\n  burst: 10\n'
    assert out["data"]["password"] == fmt.REDACTED
    assert "binaryData" not in out


def test_addon_values_in_cloud_answers_lose_their_secrets_inside_json_and_base64():
    raw = base64.b64encode(json.dumps({"apiToken": "tok-1", "replicas": 2}).encode()).decode()
    answer = {"Addons": [{"AddonName": "x", "RawValues": raw}],
              "Values": json.dumps({"vpcCni": {"enableSubEni": True}, "auth": {"password": "p"}}),
              "LoginSettings": {"Password": "pw", "KeyIds": ["skey-1"]}, "Cluster": "https://u:p@host"}
    out = fmt.scrub_cloud_answer(answer)
    assert json.loads(base64.b64decode(out["Addons"][0]["RawValues"])) == {"apiToken": fmt.REDACTED, "replicas": 2}
    assert json.loads(out["Values"]) == {"vpcCni": {"enableSubEni": True}, "auth": {"password": fmt.REDACTED}}
    assert out["LoginSettings"] == {"Password": fmt.REDACTED, "KeyIds": ["skey-1"]}
    assert out["Cluster"] == "https://***@host"


# -- names -----------------------------------------------------------------------------------------

def _capture() -> dict:
    ns = "shop"
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "payments", "namespace": ns,
                                                                    "labels": {"role": "payments"}}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "checkout", "namespace": ns, "uid": "d-1"},
         "spec": {"selector": {"matchLabels": {"app": "checkout"}}}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
            "name": "checkout-5d8f", "namespace": ns, "uid": "rs-1",
            "ownerReferences": [{"kind": "Deployment", "name": "checkout", "uid": "d-1", "controller": True}]}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": "checkout-5d8f-x2k4q", "namespace": ns, "uid": "p-1", "generateName": "checkout-5d8f-",
            "labels": {"app": "checkout", "pod-template-hash": "5d8f"}, "creationTimestamp": "2026-01-01T00:00:00Z",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "checkout-5d8f", "uid": "rs-1", "controller": True}],
            "annotations": {"tke.cloud.tencent.com/networks": "tke-sub-eni",
                            "tke.cloud.tencent.com/security-group-id": "sg-aaaa0001,sg-bbbb0002"}},
         "spec": {"serviceAccountName": "payments", "nodeName": "10.0.0.11", "nodeSelector": {"pool": ns},
                  "containers": [{"name": "c", "image": "checkout:1"}]},
         "status": {"phase": "Running"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cron-1", "namespace": ns, "uid": "p-2",
                                                         "labels": {"app": "cron"}, "creationTimestamp": "2026-01-01T00:00:00Z"},
         "spec": {"serviceAccountName": "default", "containers": [{"name": "c", "image": "x"}]}, "status": {"phase": "Running"}},
        {"apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
         "metadata": {"name": "checkout-policy", "namespace": ns, "creationTimestamp": "2025-01-01T00:00:00Z"},
         "spec": {"podSelector": {"matchLabels": {"app": "checkout"}},
                  "serviceAccountSelector": {"matchLabels": {"role": "payments"}},
                  "securityGroups": {"groupIds": ["sg-aaaa0001"]}}},
        {"apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
         "metadata": {"name": "shop-default", "namespace": ns, "creationTimestamp": "2025-01-01T00:00:00Z"},
         "spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["checkout"]}]},
                  "securityGroups": {"groupIds": ["sg-bbbb0002"]}}},
        {"apiVersion": "networking.tke.cloud.tencent.com/v1", "kind": "VpcENI", "metadata": {
            "name": "vpceni-abc", "labels": {"tke.cloud.tencent.com/pod-name": "checkout-5d8f-x2k4q",
                                             "tke.cloud.tencent.com/pod-namespace": ns}},
         "spec": {"podUID": "p-1"}, "status": {"eni": {"eniID": "eni-aaaa0001"}}},
        {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "checkout-5d8f-x2k4q.17f", "namespace": ns},
         "involvedObject": {"kind": "Pod", "name": "checkout-5d8f-x2k4q", "namespace": ns},
         "message": f"Successfully assigned {ns}/checkout-5d8f-x2k4q to 10.0.0.11"},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "10.0.0.11", "labels": {"pool": ns,
                                                                                        "kubernetes.io/hostname": "10.0.0.11"}},
         "spec": {"providerID": "qcloud:///100003/ins-abcd1234"}},
    ]
    cloud = [{"service": "vpc", "action": "DescribeNetworkInterfaces", "params": {},
              "response": {"NetworkInterfaceSet": [{"NetworkInterfaceId": "eni-aaaa0001",
                                                    "NetworkInterfaceName": f"{ns}/checkout-5d8f-x2k4q"}]}},
             {"service": "tke", "action": "DescribeClusters", "params": {},
              "response": {"Clusters": [{"ClusterId": "cls-abcd1234", "ClusterName": "acme-prod"}]}}]
    return {"kind": fmt.KIND, "formatVersion": 1, "scope": {"clusterId": "cls-abcd1234", "region": "ap-guangzhou",
                                                            "namespace": ns},
            "redaction": {"namesHashed": False}, "cloud": cloud,
            "kubernetes": {"objects": objects, "access": [{"verb": "list", "resource": "leases.coordination.k8s.io",
                                                          "namespace": ns, "status": 403}]}}


USER_NAMES = ("shop", "payments", "checkout", "checkout-5d8f", "checkout-5d8f-x2k4q", "cron-1", "checkout-policy",
              "shop-default", "acme-prod")


def test_no_user_name_is_left_anywhere():
    out = fmt.redact_names(_capture(), "salt")
    text = json.dumps(out)
    for name in USER_NAMES:
        assert f'"{name}"' not in text and f"{name}/" not in text and f"/{name}" not in text, name
    assert out["redaction"]["namesHashed"] is True
    assert out["scope"]["namespace"] != "shop"


def test_platform_names_stay():
    out = fmt.redact_names(_capture(), "salt")
    names = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in out["kubernetes"]["objects"]}
    assert ("Namespace", None, "kube-system") in names
    assert ("Deployment", "kube-system", "tke-eni-ipamd") in names
    assert any(k == "ServiceAccount" and n == "default" for k, _, n in names)
    pod = next(o for o in out["kubernetes"]["objects"] if o["kind"] == "Pod" and o["metadata"]["uid"] == "p-1")
    assert pod["metadata"]["annotations"]["tke.cloud.tencent.com/security-group-id"] == "sg-aaaa0001,sg-bbbb0002"
    assert pod["spec"]["nodeName"] == "10.0.0.11" and pod["metadata"]["creationTimestamp"] == "2026-01-01T00:00:00Z"


def test_every_reference_points_at_the_same_hash():
    out = fmt.redact_names(_capture(), "salt")
    objs = out["kubernetes"]["objects"]
    by_uid = {o["metadata"].get("uid"): o for o in objs if o["metadata"].get("uid")}
    pod = by_uid["p-1"]
    rs = by_uid["rs-1"]
    ns = pod["metadata"]["namespace"]
    assert rs["metadata"]["namespace"] == ns and re.fullmatch(r"h[0-9]{4}[0-9a-f]{6}", ns)
    assert pod["metadata"]["ownerReferences"][0]["name"] == rs["metadata"]["name"]
    assert rs["metadata"]["ownerReferences"][0]["name"] == by_uid["d-1"]["metadata"]["name"]
    assert pod["metadata"]["generateName"] == rs["metadata"]["name"] + "-"
    sa = next(o for o in objs if o["kind"] == "ServiceAccount" and o["metadata"]["name"] != "default")
    assert pod["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    vpceni = next(o for o in objs if o["kind"] == "VpcENI")
    assert vpceni["metadata"]["labels"] == {"tke.cloud.tencent.com/pod-name": pod["metadata"]["name"],
                                            "tke.cloud.tencent.com/pod-namespace": ns}
    event = next(o for o in objs if o["kind"] == "Event")
    assert event["involvedObject"]["name"] == pod["metadata"]["name"]
    assert event["message"] == f"Successfully assigned {ns}/{pod['metadata']['name']} to 10.0.0.11"
    namespace = next(o for o in objs if o["kind"] == "Namespace" and o["metadata"]["name"] == ns)
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": ns}
    assert out["kubernetes"]["access"][0]["namespace"] == ns
    node = next(o for o in objs if o["kind"] == "Node")
    assert node["metadata"] == {"name": "10.0.0.11", "labels": {"pool": ns, "kubernetes.io/hostname": "10.0.0.11"}}
    assert pod["spec"]["nodeSelector"] == {"pool": ns} and node["spec"]["providerID"] == "qcloud:///100003/ins-abcd1234"
    eni = out["cloud"][0]["response"]["NetworkInterfaceSet"][0]
    assert eni["NetworkInterfaceName"] == f"{ns}/{pod['metadata']['name']}"


def test_policies_select_the_same_pods_with_the_same_groups_after_hashing():
    def matched(doc):
        objs = doc["kubernetes"]["objects"]
        pods = [o for o in objs if o["kind"] == "Pod"]
        policies = [SecurityGroupPolicy.from_object(o) for o in objs if o["kind"] == "SecurityGroupPolicy"]
        sas = [o for o in objs if o["kind"] == "ServiceAccount"]
        result = match(pods, policies, sas)
        uid = {(p["metadata"]["namespace"], p["metadata"]["name"]): p["metadata"]["uid"] for p in pods}
        return {uid[(m.namespace, m.name)]: (m.expected_groups, len(m.policies), m.stale) for m in result.pods}

    before, after = matched(_capture()), matched(fmt.redact_names(_capture(), "salt"))
    assert before == after
    assert before["p-1"] == (("sg-aaaa0001", "sg-bbbb0002"), 2, False)


def test_hashes_sort_as_the_names_and_depend_on_the_salt():
    names = ["zeta", "alpha", "mid", "beta-2", "beta-10"]
    one, two = fmt.hashed_names(names, "a"), fmt.hashed_names(names, "b")
    assert sorted(names) == sorted(names, key=lambda n: one[n])
    assert one == fmt.hashed_names(names, "a") and one != two
    assert len(set(one.values())) == len(names)
    assert fmt.hash_name("acme", "a") == fmt.hash_name("acme", "a") != fmt.hash_name("acme", "b")
