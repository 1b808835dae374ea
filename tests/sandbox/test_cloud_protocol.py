"""Routing and parameter checking of the cloud endpoint: action, version, region, unknown
parameters and wrong types are refused with Tencent's common error codes."""

from __future__ import annotations

import json

import pytest
import requests
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.http.request import RequestInternal

from sgpctl.sandbox.cloud import models
from sgpctl.sandbox.cloud.errors import ApiError
from sgpctl.sandbox.cloud.testkit import request, sdk_client


def raw(cloud, service: str, action: str, params, *, region="ap-guangzhou", version=None) -> dict:
    """Call through the SDK's generic ``call_json`` (any action name, any params)."""
    client = sdk_client(service, cloud.endpoint, region=region)
    if version is not None:
        client._apiVersion = version
    try:
        return client.call_json(action, params)
    except TencentCloudSDKException as e:
        return {"Error": {"Code": e.code, "Message": e.message}}


def code(resp: dict) -> str | None:
    return resp.get("Error", {}).get("Code")


def test_unknown_action(cloud):
    assert code(raw(cloud, "vpc", "DescribeNothing", {})) == "InvalidAction"
    # A real VPC action the sandbox does not implement is not silently accepted either.
    assert code(raw(cloud, "vpc", "DescribeRouteTables", {})) == "InvalidAction"


def test_wrong_version(cloud):
    assert code(raw(cloud, "tke", "DescribeClusters", {}, version="2022-05-01")) == "NoSuchVersion"


def test_region_is_required_and_checked_for_regional_services(cloud):
    assert code(raw(cloud, "cvm", "DescribeInstances", {}, region="")) == "MissingParameter"
    assert code(raw(cloud, "cvm", "DescribeInstances", {}, region="ap-nowhere")) == "UnsupportedRegion"
    # CAM has no region; the SDK sends none and the call works.
    assert raw(cloud, "cam", "GetRole", {"RoleName": "TKE_QCSRole"}, region="")["Response"]["RoleInfo"]["RoleName"] == "TKE_QCSRole"


def test_region_scopes_resources(cloud):
    cloud.state.add_region("ap-shanghai", ["ap-shanghai-2"])
    resp = raw(cloud, "cvm", "DescribeInstances", {}, region="ap-shanghai")
    assert resp["Response"]["TotalCount"] == 0
    assert raw(cloud, "cvm", "DescribeInstances", {})["Response"]["TotalCount"] == 3


def test_unknown_service(cloud):
    client = sdk_client("cvm", cloud.endpoint)
    client._service = "cbs"
    with pytest.raises(TencentCloudSDKException) as exc:
        client.call_json("DescribeDisks", {})
    assert exc.value.code == "NoSuchProduct"


def test_unknown_parameter_is_named(cloud):
    resp = raw(cloud, "vpc", "DescribeSecurityGroups", {"SecurityGroupIdz": ["sg-app00001"]})
    assert code(resp) == "UnknownParameter"
    assert "SecurityGroupIdz" in resp["Error"]["Message"]


def test_unknown_nested_parameter_is_named_with_its_path(cloud):
    resp = raw(cloud, "vpc", "DescribeNetworkInterfaces", {"Filters": [{"Name": "vpc-id", "Valuez": ["x"]}]})
    assert code(resp) == "UnknownParameter"
    assert "Filters.0.Valuez" in resp["Error"]["Message"]


@pytest.mark.parametrize(
    "service,action,params,path",
    [
        ("vpc", "DescribeSecurityGroups", {"SecurityGroupIds": "sg-app00001"}, "SecurityGroupIds"),  # str for a list
        ("cvm", "DescribeInstances", {"Limit": "10"}, "Limit"),  # str for an int
        ("tke", "DescribeAddon", {"ClusterId": 12}, "ClusterId"),  # int for a str
        ("tke", "InstallAddon", {"ClusterId": "cls-demo0001", "AddonName": "x", "DryRun": "yes"}, "DryRun"),
        ("vpc", "DescribeNetworkInterfaces", {"Filters": [{"Name": "vpc-id", "Values": "vpc-1"}]}, "Filters.0.Values"),
        ("vpc", "DescribeNetworkInterfaces", {"Filters": {"Name": "vpc-id"}}, "Filters"),  # object for a list
        ("cam", "ListPolicies", {"Rp": True}, "Rp"),  # bool is not an int
    ],
)
def test_wrong_types_are_invalid_parameter(cloud, service, action, params, path):
    resp = raw(cloud, service, action, params)
    assert code(resp) == "InvalidParameter"
    assert f"`{path}`" in resp["Error"]["Message"]


def test_negative_value_in_a_non_negative_list(cloud):
    assert code(raw(cloud, "cam", "DeletePolicy", {"PolicyId": [-1]})) == "InvalidParameterValue"


def test_get_query_parameters_are_typed_like_json(cloud):
    client = cloud.client("cvm", method="GET")
    resp = client.DescribeInstances(request("cvm", "DescribeInstances", Limit=2, Offset=1,
                                            Filters=[{"Name": "zone", "Values": ["ap-guangzhou-3"]}]))
    assert resp.TotalCount == 2 and len(resp.InstanceSet) == 1
    tke = cloud.client("tke", method="GET")
    tke.InstallAddon(request("tke", "InstallAddon", ClusterId="cls-demo0001", AddonName="cbs", DryRun=True))
    assert cloud.state.addon("cls-demo0001", "cbs") is None  # DryRun=True arrived as a bool


def test_bad_json_body(cloud):
    client = cloud.client("vpc")
    req = RequestInternal(client._get_endpoint(), "POST", "/", header={})
    client._build_req_inter("DescribeSecurityGroups", {}, req)
    # Re-sign a broken body the way the SDK would, so only the body is wrong.
    from sgpctl.sandbox.cloud import tc3

    body = b"{not json"
    headers = {k.lower(): v for k, v in req.header.items()}
    scope = tc3.parse_authorization(headers["authorization"])
    sig = tc3.signature(secret_key=client.credential.secretKey, service="vpc", timestamp=int(headers["x-tc-timestamp"]),
                        method="POST", uri="/", query="", headers=headers, signed_headers=scope.signed_headers, payload=body)
    req.header["Authorization"] = req.header["Authorization"].rsplit("Signature=", 1)[0] + "Signature=" + sig
    resp = requests.post(f"http://{cloud.endpoint}/", data=body, headers=req.header, timeout=5).json()
    assert resp["Response"]["Error"]["Code"] == "InvalidParameter"


def test_other_paths_and_methods(cloud):
    assert requests.get(f"http://{cloud.endpoint}/nothing", timeout=5).status_code == 404
    assert requests.put(f"http://{cloud.endpoint}/", data=b"", timeout=5).status_code == 405


# --- the model layer on its own -----------------------------------------------------------------


def test_every_handler_has_sdk_request_and_response_models():
    from sgpctl.sandbox.cloud.server import HANDLERS

    for service, actions in HANDLERS.items():
        for action in actions:
            assert models.model_class(service, f"{action}Request") is not None, (service, action)
            assert models.model_class(service, f"{action}Response") is not None, (service, action)


def test_shape_fills_missing_fields_and_refuses_misspelt_ones():
    shaped = models.shape_response("tke", "DescribeAddon", {"Addons": [{"AddonName": "x", "_internal": 1}]})
    assert shaped["Addons"] == [{"AddonName": "x", "AddonVersion": None, "RawValues": None, "Phase": None,
                                  "Reason": None, "CreateTime": None}]
    with pytest.raises(models.ShapeError, match="AddonNmae"):
        models.shape_response("tke", "DescribeAddon", {"Addons": [{"AddonNmae": "x"}]})


def test_query_unflattening_rebuilds_lists_of_objects():
    params = models.query_to_params("vpc", "DescribeNetworkInterfaces", [
        ("Filters.0.Name", "vpc-id"), ("Filters.0.Values.0", "vpc-1"), ("Filters.0.Values.1", "vpc-2"),
        ("Filters.1.Name", "eni-type"), ("Filters.1.Values.0", "2"), ("Limit", "50"),
    ])
    assert params == {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1", "vpc-2"]},
                                  {"Name": "eni-type", "Values": ["2"]}], "Limit": 50}
    with pytest.raises(ApiError):
        models.query_to_params("vpc", "DescribeNetworkInterfaces", [("Filters.1.Name", "x")])  # index gap


def test_request_body_with_json_null_is_accepted(cloud):
    # SDK clients send null for unset fields when serialising with allow_none; the API ignores them.
    resp = raw(cloud, "cvm", "DescribeInstances", {"InstanceIds": None, "Limit": None})
    assert resp["Response"]["TotalCount"] == 3
    assert json.dumps(resp)  # plain JSON
