"""The request log: what the cloud endpoint records, without secrets, and how tests read it."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from sgpctl.sandbox.cloud.testkit import SECRET_ID, SECRET_KEY, sdk_client
from sgpctl.sandbox.requestlog import RequestLog, is_mutating, redact


def test_mutating_by_action_name():
    assert not any(map(is_mutating, ["DescribeAddon", "ListPolicies", "GetRole", "CheckX", "InquiryPrice"]))
    assert all(map(is_mutating, ["CreatePolicy", "AttachRolePolicy", "UpdateAddon", "ModifyNetworkInterfaceAttribute"]))


def test_redact_drops_secret_looking_keys_at_any_depth():
    params = {"SecretKey": "s", "a": {"X-TC-Token": "t", "Password": "p", "keep": [{"authorization": "x", "ok": 1}]}}
    assert redact(params) == {"a": {"keep": [{"ok": 1}]}}


def test_mark_since_clear_and_filters():
    log = RequestLog()
    log.record("cloud", "vpc", "DescribeNetworkInterfaces", {}, False, "OK", 200)
    mark = log.mark()
    log.record("kube", "kube", "list", {"path": "/api/v1/pods"}, False, "OK", 200)
    log.record("cloud", "cam", "CreatePolicy", {"PolicyName": "x"}, True, "FailedOperation.PolicyNameInUse", 200)
    assert [e["action"] for e in log.since(mark)] == ["list", "CreatePolicy"]
    assert [e["action"] for e in log.entries(api="cloud", mutating=True)] == ["CreatePolicy"]
    assert [e["service"] for e in log.entries(service="vpc")] == ["vpc"]
    assert log.clear() == 3 and log.entries() == []
    log.record("cloud", "vpc", "DescribeSecurityGroups", {}, False, "OK", 200)
    assert [e["seq"] for e in log.since(mark)] == [3]  # positions survive clear()


def test_record_is_thread_safe_and_bounded():
    log = RequestLog(max_entries=500)

    def work():
        for _ in range(200):
            log.record("cloud", "vpc", "DescribeX", {}, False, "OK", 200)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(log) == 500 and log.mark() == 800
    seqs = [e["seq"] for e in log.entries()]
    assert seqs == sorted(seqs) and len(set(seqs)) == 500


def test_endpoint_records_calls_with_codes_and_params(cloud):
    mark = cloud.log.mark()
    cloud.call("vpc", "DescribeSecurityGroups", SecurityGroupIds=["sg-app00001"])
    with pytest.raises(TencentCloudSDKException):
        cloud.call("cam", "GetRole", RoleName="Nope")
    cloud.call("cam", "CreatePolicy", PolicyName="SubENIForIPAMD", PolicyDocument=json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": "vpc:*", "resource": "*"}]}))
    entries = cloud.log.since(mark)
    assert [(e["api"], e["service"], e["action"], e["mutating"], e["code"], e["status"]) for e in entries] == [
        ("cloud", "vpc", "DescribeSecurityGroups", False, "OK", 200),
        ("cloud", "cam", "GetRole", False, "InvalidParameter.RoleNotExist", 200),
        ("cloud", "cam", "CreatePolicy", True, "OK", 200),
    ]
    assert entries[0]["params"] == {"SecurityGroupIds": ["sg-app00001"]}
    assert entries[2]["params"]["PolicyName"] == "SubENIForIPAMD"
    assert [e["action"] for e in cloud.log.since(mark, mutating=True)] == ["CreatePolicy"]


def test_faulted_calls_are_recorded_too(cloud):
    mark = cloud.log.mark()
    cloud.faults.set("cvm:throttle=1")
    with pytest.raises(TencentCloudSDKException):
        cloud.call("cvm", "DescribeInstances")
    cloud.faults.set("cvm:drop=1")
    with pytest.raises(TencentCloudSDKException):
        cloud.call("cvm", "DescribeInstances")
    assert [(e["action"], e["code"]) for e in cloud.log.since(mark)] == [
        ("DescribeInstances", "RequestLimitExceeded"), ("DescribeInstances", "Dropped")]


def test_no_secret_reaches_the_log(cloud):
    cloud.state.add_credentials("AKIDtemp", "temp-secret-key", token="temp-session-token")
    client = sdk_client("cam", cloud.endpoint, secret_id="AKIDtemp", secret_key="temp-secret-key", token="temp-session-token")
    client.call_json("GetRole", {"RoleName": "TKE_QCSRole"})
    with pytest.raises(TencentCloudSDKException):
        # A parameter named like a secret is refused (unknown) and still not logged.
        cloud.client("cam").call_json("GetRole", {"RoleName": "TKE_QCSRole", "SecretKey": "leaked-secret"})
    dumped = json.dumps(cloud.log.entries())
    for secret in ("temp-secret-key", "temp-session-token", SECRET_KEY, "leaked-secret", "TC3-HMAC-SHA256"):
        assert secret not in dumped
    assert SECRET_ID not in dumped


def test_control_endpoint_serves_and_clears_the_log(cloud):
    base = f"http://{cloud.endpoint}/_sandbox"
    token = {"X-Sandbox-Token": cloud.state.admin_token}
    cloud.call("vpc", "DescribeSecurityGroupLimits")
    mark = requests.get(f"{base}/requests", headers=token, timeout=5).json()["next"]
    cloud.call("cvm", "DescribeInstances")
    cloud.call("vpc", "DescribeSecurityGroups")
    since = requests.get(f"{base}/requests", params={"since": mark}, headers=token, timeout=5).json()
    assert [e["action"] for e in since["entries"]] == ["DescribeInstances", "DescribeSecurityGroups"]
    only_vpc = requests.get(f"{base}/requests", params={"since": mark, "service": "vpc"}, headers=token, timeout=5).json()
    assert [e["action"] for e in only_vpc["entries"]] == ["DescribeSecurityGroups"]
    assert requests.get(f"{base}/requests", params={"mutating": "true"}, headers=token, timeout=5).json()["entries"] == []
    assert requests.get(f"{base}/requests", timeout=5).status_code == 401
    assert requests.get(f"{base}/requests", headers={"X-Sandbox-Token": "guess"}, timeout=5).status_code == 401
    cleared = requests.delete(f"{base}/requests", headers=token, timeout=5).json()
    assert cleared["cleared"] == 3 and cloud.log.entries() == []
    health = requests.get(f"{base}/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert requests.get(f"{base}/nothing", headers=token, timeout=5).status_code == 404
    assert cloud.log.entries() == []  # control calls are not API calls
