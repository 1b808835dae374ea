"""CloudState on its own: persistence, the controller-facing methods, builders' refusals."""

from __future__ import annotations

import json
import threading

import pytest

from sgpctl.sandbox.cloud.errors import ApiError
from sgpctl.sandbox.cloud.state import CloudState
from sgpctl.sandbox.cloud.testkit import CLUSTER_ID, SECRET_ID, demo_state, serve


def test_update_addon_merges_the_helm_way():
    s = demo_state(addon_delay=0)
    s.update_addon(CLUSTER_ID, "eniipamd", values={
        "vpcCni": {"securityGroups": {"securityGroups": ["sg-a", "sg-b"]}, "trunkingEni": {"enableSubEni": "True"}},
        "extra": {"x": 1}})
    s.update_addon(CLUSTER_ID, "eniipamd", values={
        "vpcCni": {"securityGroups": {"securityGroups": ["sg-c"]}}, "extra": None})
    values = s.addon(CLUSTER_ID, "eniipamd")["Values"]
    assert values["vpcCni"]["securityGroups"]["securityGroups"] == ["sg-c"]  # lists replace
    assert values["vpcCni"]["trunkingEni"] == {"enableSubEni": "True"}      # siblings kept
    assert "extra" not in values                                             # null deletes
    assert s.trunking_enabled(CLUSTER_ID)  # a chart may store the boolean as a string
    rendered = s.addon_values(CLUSTER_ID, "eniipamd")
    assert rendered["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] == "standard"  # the default


def test_persistence_round_trip_through_json(clock):
    state = demo_state(clock=clock, addon_delay=10)
    pid = state.add_policy("SubENIForIPAMD", {"version": "2.0", "statement": [
        {"effect": "allow", "action": ["vpc:CreateSubNetworkInterface"], "resource": ["*"]}]})
    state.attach_role_policy("TKE_QCSRole", "SubENIForIPAMD")
    eni = state.create_sub_eni("tok-1", "ins-sa5node1", None, None, ["sg-app00001"], "pod-1")
    state.install_addon(CLUSTER_ID, "securitygrouppolicy")  # still Installing when saved
    state.variants["subeni-listed"] = "false"

    restored = CloudState.from_dict(json.loads(json.dumps(state.to_dict())), clock=clock)

    assert restored.to_dict() == state.to_dict()
    assert restored.admin_token == state.admin_token
    assert restored.credentials.get(SECRET_ID) == state.credentials.get(SECRET_ID)
    assert restored.policy_by_name("SubENIForIPAMD")["PolicyId"] == pid
    assert restored.role_allows("TKE_QCSRole", "vpc:CreateSubNetworkInterface")
    assert restored.addon(CLUSTER_ID, "securitygrouppolicy")["Phase"] == "Installing"
    clock.advance(10)
    assert restored.addon(CLUSTER_ID, "securitygrouppolicy")["Phase"] == "Succeeded"
    assert restored.create_sub_eni("tok-1", "ins-sa5node1", None, None, [], "x")["NetworkInterfaceId"] == eni["NetworkInterfaceId"]
    other = restored.create_sub_eni("tok-2", "ins-sa5node1", None, None, [], "y")
    assert other["PrivateIpAddressSet"][0]["PrivateIpAddress"] != eni["PrivateIpAddressSet"][0]["PrivateIpAddress"]
    assert restored.variant("subeni-listed") == "false" and restored.variant("addon-merge") == "deep"
    with serve(restored) as rc:  # the restored state serves the API as before
        assert rc.call("cam", "GetPolicy", PolicyId=pid).PolicyName == "SubENIForIPAMD"
        assert rc.call("cvm", "DescribeInstances").TotalCount == 3


def test_from_dict_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="format"):
        CloudState.from_dict({"format": 99})


def test_role_allows_wildcards_and_deny():
    s = CloudState()
    s.add_role("R")
    assert not s.role_allows("R", "vpc:CreateSubNetworkInterface")
    s.add_policy("vpc-all", {"version": "2.0", "statement": [{"effect": "allow", "action": "vpc:*", "resource": "*"}]})
    s.attach_role_policy("R", "vpc-all")
    assert s.role_allows("R", "vpc:CreateSubNetworkInterface") and s.role_allows("R", "VPC:createsubnetworkinterface")
    assert not s.role_allows("R", "cvm:CheckNetworkInterfaceSecurityGroupReady")
    s.add_policy("deny-sub", {"version": "2.0", "statement": [
        {"effect": "deny", "action": ["vpc:CreateSubNetworkInterface"], "resource": ["*"]}]})
    s.attach_role_policy("R", "deny-sub")
    assert not s.role_allows("R", "vpc:CreateSubNetworkInterface")
    assert s.role_allows("R", "vpc:DeleteSubNetworkInterface")
    assert not s.role_allows("NoSuchRole", "vpc:DescribeVpcs")
    s.attach_role_policy("R", "AdministratorAccess")
    assert s.role_allows("R", "cvm:CheckNetworkInterfaceSecurityGroupReady")


def test_builders_refuse_inconsistent_input():
    s = CloudState()
    with pytest.raises(ValueError, match="zone"):
        s.add_instance("ins-aaaaaaaa", "S5.LARGE8", 4, 8, "mars-1", "10.0.0.1", "vpc-1", "subnet-1")
    with pytest.raises(ValueError, match="security group"):
        s.add_instance("ins-aaaaaaaa", "S5.LARGE8", 4, 8, "ap-guangzhou-3", "10.0.0.1", "vpc-1", "subnet-1", ["sg-missing1"])
    with pytest.raises(ApiError):
        s.add_instance("ins-aaaaaaaa", "S5.LARGE8", 4, 8, "ap-guangzhou-3", "10.0.0.1", "vpc-1", "subnet-1",
                       cluster_id="cls-missing0")
    assert s.instance("ins-aaaaaaaa") is None  # nothing half-made
    with pytest.raises(ValueError, match="sg-"):
        s.add_security_group("x", group_id="group-1")
    with pytest.raises(ApiError):
        s.add_policy("AdministratorAccess", {"version": "2.0", "statement": []})
    s.add_role("R")
    with pytest.raises(ApiError):
        s.add_role("R")


def test_sub_eni_ips_come_from_the_subnet_and_are_reused_after_delete():
    s = demo_state()
    s.add_subnet("subnet-tiny0001", "vpc-demo0001", "10.9.0.0/29", "ap-guangzhou-4")  # .3-.6 usable
    ips = [s.create_sub_eni(f"t{i}", "ins-sa5node1", None, "subnet-tiny0001", [], f"p{i}") for i in range(4)]
    assert [e["PrivateIpAddressSet"][0]["PrivateIpAddress"] for e in ips] == ["10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"]
    with pytest.raises(ApiError) as exc:
        s.create_sub_eni("t5", "ins-sa5node1", None, "subnet-tiny0001", [], "p5")
    assert exc.value.code == "ResourceInsufficient"
    s.delete_eni(ips[1]["NetworkInterfaceId"])
    again = s.create_sub_eni("t6", "ins-sa5node1", None, "subnet-tiny0001", [], "p6")
    assert again["PrivateIpAddressSet"][0]["PrivateIpAddress"] == "10.9.0.4"


def test_returned_records_are_copies():
    s = demo_state()
    eni = s.create_sub_eni("t", "ins-sa5node1", None, None, ["sg-app00001"], "p")
    eni["GroupSet"].append("sg-node0001")
    assert s.eni(eni["NetworkInterfaceId"])["GroupSet"] == ["sg-app00001"]
    s.instance("ins-sa5node1")["Placement"]["Zone"] = "elsewhere"
    assert s.instance("ins-sa5node1")["Placement"]["Zone"] == "ap-guangzhou-4"


def test_callbacks_run_after_the_lock_is_released():
    s = demo_state(addon_delay=0)
    seen = []

    def callback(cluster, name, phase):
        # Another thread must be able to take the lock while the callback runs.
        t = threading.Thread(target=lambda: seen.append((phase, s.addon(cluster, name) is not None)))
        t.start()
        t.join(timeout=2)
        assert not t.is_alive()

    s.on_addon_change(callback)
    with s.transaction():
        s.install_addon(CLUSTER_ID, "cbs")
        s.addon(CLUSTER_ID, "cbs")  # settles at once: delay 0
        assert seen == []  # nothing fired while the transaction holds the lock
    assert seen == [("Installing", True), ("Succeeded", True)]


def test_broken_callback_does_not_break_the_operation():
    s = demo_state(addon_delay=0)
    s.on_addon_change(lambda *a: 1 / 0)
    s.install_addon(CLUSTER_ID, "cbs")
    assert s.addon(CLUSTER_ID, "cbs")["Phase"] == "Succeeded"


def test_sub_eni_quota_sources():
    s = demo_state()
    assert s.sub_eni_quota("ins-s8big001") == 256  # 64 cores
    assert s.sub_eni_quota("ins-sa5node1") == 100
    assert s.sub_eni_quota("ins-s5node01") == 0  # unsupported family
    s.add_instance_type("S5.LARGE8", 4, 8, sub_eni_quota=20)  # VPC enabled the family by ticket
    assert s.sub_eni_quota("ins-s5node01") == 20
    with pytest.raises(ApiError):
        s.sub_eni_quota("ins-nothere1")
    s.set_sub_eni_quota("ins-s5node01", 3)  # one instance, over its type's
    assert s.sub_eni_quota("ins-s5node01") == 3
    s.set_sub_eni_quota("ins-s5node01", None)
    assert s.sub_eni_quota("ins-s5node01") == 20
    with pytest.raises(ApiError) as exc:
        s.set_sub_eni_quota("ins-nothere1", 1)
    assert exc.value.code == "InvalidInstanceId.NotFound"


def test_add_sub_enis_behaves_like_creating_them_one_by_one():
    s = demo_state()
    s.set_sub_eni_quota("ins-sa5node1", 3)
    items = [{"client_token": f"t{i}", "trunk_instance_id": "ins-sa5node1", "group_ids": ["sg-app00001"],
              "name": f"pod-{i}"} for i in range(3)]
    made = s.add_sub_enis(items)
    assert [e["NetworkInterfaceName"] for e in made] == ["pod-0", "pod-1", "pod-2"]
    assert len({e["PrivateIpAddressSet"][0]["PrivateIpAddress"] for e in made}) == 3
    (trunk,) = s.enis_of_instance("ins-sa5node1", kind="trunk")
    assert {e["_trunk"] for e in made} == {trunk["NetworkInterfaceId"]}  # one trunk, made once
    assert s.sub_eni_count("ins-sa5node1") == 3 and s.sub_eni_count() == 3
    # Idempotent by client token, and the quota counts what was made in bulk.
    assert s.add_sub_enis(items[:1])[0]["NetworkInterfaceId"] == made[0]["NetworkInterfaceId"]
    with pytest.raises(ApiError) as exc:
        s.create_sub_eni("t9", "ins-sa5node1", group_ids=["sg-app00001"], name="pod-9")
    assert exc.value.code == "LimitExceeded"
    # What is handed out is a copy.
    made[0]["GroupSet"].append("sg-node0001")
    assert s.eni(made[0]["NetworkInterfaceId"])["GroupSet"] == ["sg-app00001"]
    # Freeing one makes room again, and its address can be reused.
    assert s.delete_eni(made[1]["NetworkInterfaceId"]) is True
    assert s.sub_eni_count("ins-sa5node1") == 2
    again = s.create_sub_eni("t9", "ins-sa5node1", group_ids=["sg-app00001"], name="pod-9")
    assert again["_trunk"] == trunk["NetworkInterfaceId"]


def test_restored_state_keeps_counting_sub_enis_and_reusing_the_trunk():
    s = demo_state()
    s.set_sub_eni_quota("ins-sa5node1", 2)
    first = s.create_sub_eni("t1", "ins-sa5node1", group_ids=["sg-app00001"], name="a")
    restored = CloudState.from_dict(json.loads(json.dumps(s.to_dict())))
    assert restored.sub_eni_count("ins-sa5node1") == 1 and restored.sub_eni_quota("ins-sa5node1") == 2
    second = restored.create_sub_eni("t2", "ins-sa5node1", group_ids=["sg-app00001"], name="b")
    assert second["_trunk"] == first["_trunk"]
    assert second["PrivateIpAddressSet"][0]["PrivateIpAddress"] != first["PrivateIpAddressSet"][0]["PrivateIpAddress"]
    with pytest.raises(ApiError) as exc:
        restored.create_sub_eni("t3", "ins-sa5node1", group_ids=["sg-app00001"], name="c")
    assert exc.value.code == "LimitExceeded"


def test_remove_role_and_security_group():
    s = demo_state()
    assert s.remove_role("TKE_QCSRole") is True and s.remove_role("TKE_QCSRole") is False
    assert s.role("TKE_QCSRole") is None and s.attached_policy_names("TKE_QCSRole") == []
    eni = s.create_sub_eni("t", "ins-sa5node1", None, None, ["sg-app00001"], "p")
    assert s.remove_security_group("sg-app00001") is True and s.remove_security_group("sg-app00001") is False
    assert s.security_group("sg-app00001") is None
    assert s.eni(eni["NetworkInterfaceId"])["GroupSet"] == ["sg-app00001"]  # the ENI still names it
    with pytest.raises(ApiError) as exc:
        s.create_sub_eni("t2", "ins-sa5node1", None, None, ["sg-app00001"], "p2")
    assert exc.value.code == "ResourceNotFound"  # what VPC's actions document for an unknown group
