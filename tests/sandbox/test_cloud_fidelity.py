"""Response fidelity: for every implemented action, the SDK's response model deserialises the
sandbox's JSON and serialises it back without losing (or warning about) any field."""

from __future__ import annotations

import base64
import json
import os
import warnings

import pytest

from sgpctl.sandbox.cloud.server import HANDLERS
from sgpctl.sandbox.cloud.testkit import CLUSTER_ID, demo_state, models, serve

B64 = base64.b64encode(json.dumps({"vpcCni": {"trunkingEni": {"enableSubEni": True}}}).encode()).decode()
DOC = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": ["vpc:*"], "resource": ["*"]}]})

#: (service, action, params): chosen so that list fields come back non-empty.
CASES: list[tuple[str, str, dict]] = [
    ("cam", "CreatePolicy", {"PolicyName": "fidelity", "PolicyDocument": DOC}),
    ("cam", "ListPolicies", {"Rp": 5}),
    ("cam", "GetPolicy", {"PolicyId": "$policy"}),
    ("cam", "UpdatePolicy", {"PolicyId": "$policy", "Description": "d"}),
    ("cam", "GetRole", {"RoleName": "TKE_QCSRole"}),
    ("cam", "CreateRole", {"RoleName": "FidelityRole", "PolicyDocument": "{}"}),
    ("cam", "AttachRolePolicy", {"PolicyId": "$policy", "AttachRoleName": "TKE_QCSRole"}),
    ("cam", "ListAttachedRolePolicies", {"RoleName": "TKE_QCSRole", "Page": 1, "Rp": 20}),
    ("cam", "DetachRolePolicy", {"PolicyId": "$policy", "DetachRoleName": "TKE_QCSRole"}),
    ("cam", "DeletePolicy", {"PolicyId": ["$policy"]}),
    ("tke", "DescribeClusters", {}),
    ("tke", "DescribeIPAMD", {"ClusterId": CLUSTER_ID}),
    ("tke", "DescribeAddon", {"ClusterId": CLUSTER_ID}),
    ("tke", "DescribeAddonValues", {"ClusterId": CLUSTER_ID, "AddonName": "eniipamd"}),
    ("tke", "InstallAddon", {"ClusterId": CLUSTER_ID, "AddonName": "securitygrouppolicy"}),
    ("tke", "UpdateAddon", {"ClusterId": CLUSTER_ID, "AddonName": "eniipamd", "RawValues": B64}),
    ("tke", "DeleteAddon", {"ClusterId": CLUSTER_ID, "AddonName": "securitygrouppolicy"}),
    ("tke", "GetTkeAppChartList", {"Kind": "network"}),
    ("tke", "DescribeVpcCniPodLimits", {"InstanceFamily": "S8"}),
    ("tke", "DescribeClusterInstances", {"ClusterId": CLUSTER_ID}),
    ("tke", "DescribeClusterEndpoints", {"ClusterId": CLUSTER_ID}),
    ("tke", "DescribeClusterKubeconfig", {"ClusterId": CLUSTER_ID, "IsExtranet": True}),
    ("tke", "DescribeClusterStatus", {"ClusterIds": [CLUSTER_ID]}),
    ("tke", "DescribeRegions", {}),
    ("vpc", "CreateSecurityGroup", {"GroupName": "f", "GroupDescription": "d", "Tags": [{"Key": "k", "Value": "v"}]}),
    ("vpc", "DescribeSecurityGroups", {}),
    ("vpc", "CreateSecurityGroupPolicies", {"SecurityGroupId": "sg-app00001", "SecurityGroupPolicySet": {
        "Ingress": [{"Protocol": "TCP", "Port": "80", "CidrBlock": "10.0.0.0/8", "Action": "ACCEPT"}]}}),
    ("vpc", "DescribeSecurityGroupPolicies", {"SecurityGroupId": "sg-app00001"}),
    ("vpc", "CreateAddressTemplate", {"AddressTemplateName": "f", "Tags": [{"Key": "k", "Value": "v"}],
                                      "AddressesExtra": [{"Address": "10.0.0.1-10.0.0.9", "Description": "d"}]}),
    ("vpc", "DescribeAddressTemplates", {"Filters": [{"Name": "address-template-id", "Values": ["$ipm"]}],
                                         "Offset": "0", "Limit": "100"}),
    ("vpc", "CreateAddressTemplateGroup", {"AddressTemplateGroupName": "g", "AddressTemplateIds": ["$ipm"]}),
    ("vpc", "DescribeAddressTemplateGroups", {}),
    ("vpc", "CreateServiceTemplate", {"ServiceTemplateName": "s", "Services": ["tcp:80,443"]}),
    ("vpc", "DescribeServiceTemplates", {"Filters": [{"Name": "service-template-id", "Values": ["$ppm"]}]}),
    ("vpc", "CreateServiceTemplateGroup", {"ServiceTemplateGroupName": "sg", "ServiceTemplateIds": ["$ppm"]}),
    ("vpc", "DescribeServiceTemplateGroups", {}),
    ("vpc", "CreateSecurityGroupPolicies", {"SecurityGroupId": "sg-rules001", "SecurityGroupPolicySet": {
        "Ingress": [{"AddressTemplate": {"AddressId": "$ipm"}, "ServiceTemplate": {"ServiceId": "$ppm"},
                     "Action": "ACCEPT", "PolicyDescription": "templates"},
                    {"Protocol": "ICMPV6", "Ipv6CidrBlock": "::/0", "Action": "DROP"}]}}),
    ("vpc", "DescribeSecurityGroupPolicies", {"SecurityGroupId": "sg-rules001"}),
    ("vpc", "ReplaceSecurityGroupPolicy", {"SecurityGroupId": "sg-rules001", "SecurityGroupPolicySet": {
        "Ingress": [{"PolicyIndex": 1, "Protocol": "TCP", "Port": "22", "CidrBlock": "10.0.0.0/8", "Action": "DROP"}]}}),
    ("vpc", "DeleteSecurityGroupPolicies", {"SecurityGroupId": "sg-rules001", "SecurityGroupPolicySet": {
        "Ingress": [{"PolicyIndex": 1}]}}),
    ("vpc", "ModifySecurityGroupPolicies", {"SecurityGroupId": "sg-rules001", "SecurityGroupPolicySet": {
        "Egress": [{"Protocol": "ALL", "Port": "ALL", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}]}}),
    ("vpc", "DescribeSecurityGroupLimits", {}),
    ("vpc", "DescribeNetworkInterfaces", {"Limit": 100}),
    ("vpc", "DescribeNetworkInterfaceLimit", {"InstanceId": "ins-s8big001"}),
    ("vpc", "DescribeSubnets", {"Limit": "100"}),
    ("vpc", "DescribeVpcs", {"Limit": "100"}),
    ("vpc", "ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "$sub_eni", "SecurityGroupIds": ["sg-node0001"]}),
    ("vpc", "DeleteNetworkInterface", {"NetworkInterfaceId": "$sub_eni"}),
    ("vpc", "DeleteSecurityGroup", {"SecurityGroupId": "sg-doomed01"}),
    ("cvm", "DescribeInstances", {}),
    ("cvm", "DescribeRegions", {}),
    ("cvm", "DescribeInstanceTypeConfigs", {"Filters": [{"Name": "instance-family", "Values": ["S5"]}]}),
]


@pytest.fixture(scope="module")
def cloud():
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.lower().endswith("_proxy")}
    state = demo_state(addon_delay=0)
    state.create_sub_eni("tok-fidelity", "ins-sa5node1", None, None, ["sg-app00001"], "pod-fidelity")
    state.add_security_group("with-rules", "d", group_id="sg-rules001")
    state.add_security_group("doomed", "d", group_id="sg-doomed01")
    try:
        with serve(state) as rc:
            rc.refs = {"$sub_eni": state.enis_of_instance("ins-sa5node1", kind="sub")[0]["NetworkInterfaceId"],
                       "$ipm": state.add_template("address", "pods", [{"Address": "10.0.0.0/16"}]),
                       "$ppm": state.add_template("service", "web", [{"Service": "tcp:8080"}])}
            yield rc
    finally:
        os.environ.update(saved)


def _resolve(value, refs):
    if isinstance(value, str) and value.startswith("$"):
        return refs[value]
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, refs) for k, v in value.items()}
    return value


def _lost(sent, back, path="") -> list[str]:
    """Paths of values in ``sent`` that ``back`` does not reproduce."""
    if isinstance(sent, dict):
        if not isinstance(back, dict):
            return [path]
        return [p for k, v in sent.items()
                for p in (_lost(v, back[k], f"{path}.{k}") if k in back else [f"{path}.{k}"])]
    if isinstance(sent, list):
        if not isinstance(back, list) or len(back) != len(sent):
            return [path]
        return [p for i, (a, b) in enumerate(zip(sent, back)) for p in _lost(a, b, f"{path}.{i}")]
    return [] if sent == back else [path]


def test_every_action_has_a_fidelity_case():
    implemented = {(s, a) for s, actions in HANDLERS.items() for a in actions}
    assert implemented == {(s, a) for s, a, _ in CASES}


@pytest.mark.parametrize("service,action,params", CASES, ids=[f"{s}.{a}" for s, a, _ in CASES])
def test_sdk_round_trip_keeps_every_field(cloud, service, action, params):
    if service == "cam" and "$policy" in json.dumps(params) and "$policy" not in cloud.refs:
        cloud.refs["$policy"] = cloud.state.policy_by_name("fidelity")["PolicyId"]
    raw = cloud.client(service).call_json(action, _resolve(params, cloud.refs))["Response"]
    assert "Error" not in raw, raw
    model = getattr(models(service), f"{action}Response")()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the SDK warns about fields its model does not know
        model._deserialize(raw)
    back = json.loads(model.to_json_string())
    assert _lost(raw, back) == []
    assert back == raw  # and the sandbox sent every field the model defines
