"""TC3 signature checks and the wire format of the cloud endpoint, driven by the official SDK.

Tampered requests are built with the SDK's own signing code (``_build_req_inter``) and then
altered before ``requests`` sends them, so the only difference from a good call is the tamper.
"""

from __future__ import annotations

import http.client
import json
import re
import time

import pytest
import requests
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.http.request import RequestInternal

from sgpctl.sandbox.cloud.testkit import SECRET_ID, SECRET_KEY, demo_state, error_code, request, sdk_client, serve

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def signed(client, action: str, params: dict, method: str = "POST") -> RequestInternal:
    """The request the SDK would send (headers and body), not yet sent."""
    client.profile.httpProfile.reqMethod = method
    req = RequestInternal(client._get_endpoint(), method, client._requestPath, header={})
    client._build_req_inter(action, params, req)
    return req


def send(endpoint: str, req: RequestInternal, *, data=None) -> requests.Response:
    url = f"http://{endpoint}/"
    if req.method == "GET":
        return requests.get(f"{url}?{req.data}", headers=req.header, timeout=5)
    return requests.post(url, data=req.data if data is None else data, headers=req.header, timeout=5)


def test_sdk_post_and_get_both_work(cloud):
    post = cloud.client("vpc").DescribeSecurityGroups(request("vpc", "DescribeSecurityGroups"))
    get = cloud.client("vpc", method="GET").DescribeSecurityGroups(
        request("vpc", "DescribeSecurityGroups", Filters=[{"Name": "security-group-name", "Values": ["app"]}], Limit="5")
    )
    assert post.TotalCount == 2
    assert [g.SecurityGroupId for g in get.SecurityGroupSet] == ["sg-app00001"]


def test_wrong_key_is_a_signature_failure(cloud):
    client = sdk_client("cvm", cloud.endpoint, secret_key="not-the-key")
    assert error_code(client.DescribeInstances, request("cvm", "DescribeInstances")) == "AuthFailure.SignatureFailure"


def test_unknown_secret_id_is_reported_as_such(cloud):
    client = sdk_client("cvm", cloud.endpoint, secret_id="AKIDnobodyhasthis")
    assert error_code(client.DescribeInstances, request("cvm", "DescribeInstances")) == "AuthFailure.SecretIdNotFound"


def test_stale_timestamp_is_refused_and_a_fresh_one_accepted():
    # The server's clock runs 301 s ahead of the client's: the SDK's timestamp is now stale.
    with serve(demo_state(), wall_clock=lambda: time.time() + 301) as rc:
        assert error_code(rc.client("cam").GetRole, request("cam", "GetRole", RoleName="TKE_QCSRole")) == "AuthFailure.SignatureExpire"
    with serve(demo_state(), wall_clock=lambda: time.time() + 250) as rc:
        assert rc.client("cam").GetRole(request("cam", "GetRole", RoleName="TKE_QCSRole")).RoleInfo.RoleName == "TKE_QCSRole"


def test_tampered_body_is_refused_but_the_untampered_request_passes(cloud):
    client = cloud.client("vpc")
    req = signed(client, "DescribeSecurityGroups", {"SecurityGroupIds": ["sg-app00001"]})
    good = send(cloud.endpoint, req).json()["Response"]
    assert good["SecurityGroupSet"][0]["SecurityGroupId"] == "sg-app00001"
    bad = send(cloud.endpoint, req, data=json.dumps({"SecurityGroupIds": ["sg-node0001"]})).json()["Response"]
    assert bad["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_tampered_query_of_a_get_is_refused(cloud):
    client = cloud.client("vpc")
    req = signed(client, "DescribeSecurityGroups", {"Limit": "1"}, method="GET")
    assert "SecurityGroupSet" in send(cloud.endpoint, req).json()["Response"]
    req.data = req.data.replace("Limit=1", "Limit=2")
    assert send(cloud.endpoint, req).json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_wrong_host_is_refused(cloud):
    client = cloud.client("vpc")
    req = signed(client, "DescribeSecurityGroups", {})
    req.header["Host"] = "vpc.tencentcloudapi.com"
    assert send(cloud.endpoint, req).json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_scope_date_must_be_the_timestamps_day(cloud):
    client = cloud.client("vpc")
    req = signed(client, "DescribeSecurityGroups", {})
    req.header["Authorization"] = re.sub(r"/\d{4}-\d{2}-\d{2}/", "/2001-01-01/", req.header["Authorization"])
    assert send(cloud.endpoint, req).json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_missing_or_garbled_authorization(cloud):
    client = cloud.client("vpc")
    req = signed(client, "DescribeSecurityGroups", {})
    del req.header["Authorization"]
    assert send(cloud.endpoint, req).json()["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"
    req.header["Authorization"] = "Bearer nothing"
    assert send(cloud.endpoint, req).json()["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"


def test_session_token_must_match(cloud):
    cloud.state.add_credentials("AKIDtemporary", "temp-key", token="the-token")
    good = sdk_client("cam", cloud.endpoint, secret_id="AKIDtemporary", secret_key="temp-key", token="the-token")
    assert good.GetRole(request("cam", "GetRole", RoleName="TKE_QCSRole")).RoleInfo is not None
    wrong = sdk_client("cam", cloud.endpoint, secret_id="AKIDtemporary", secret_key="temp-key", token="other")
    assert error_code(wrong.GetRole, request("cam", "GetRole", RoleName="TKE_QCSRole")) == "AuthFailure.TokenFailure"
    none = sdk_client("cam", cloud.endpoint, secret_id="AKIDtemporary", secret_key="temp-key")
    assert error_code(none.GetRole, request("cam", "GetRole", RoleName="TKE_QCSRole")) == "AuthFailure.TokenFailure"


def test_envelopes_content_type_and_request_ids(cloud):
    client = cloud.client("tke")
    ok_req = signed(client, "DescribeClusters", {})
    ok = send(cloud.endpoint, ok_req)
    err_req = signed(client, "DescribeIPAMD", {"ClusterId": "cls-nothere0"})
    err = send(cloud.endpoint, err_req)
    for resp in (ok, err):
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "application/json"
        assert UUID.match(resp.json()["Response"]["RequestId"])
    assert set(err.json()["Response"]) == {"Error", "RequestId"}
    assert err.json()["Response"]["Error"]["Code"] == "ResourceNotFound.ClusterNotFound"
    assert ok.json()["Response"]["TotalCount"] == 1


def test_sdk_error_carries_code_message_and_request_id(cloud):
    with pytest.raises(TencentCloudSDKException) as exc:
        cloud.client("cam").GetRole(request("cam", "GetRole", RoleName="NoSuchRole"))
    assert exc.value.code == "InvalidParameter.RoleNotExist"
    assert "NoSuchRole" in exc.value.message
    assert UUID.match(exc.value.requestId)


def test_keep_alive_serves_several_requests_on_one_connection(cloud):
    client = cloud.client("vpc")
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=5)
    try:
        for _ in range(3):
            req = signed(client, "DescribeSecurityGroupLimits", {})
            conn.request("POST", "/", body=req.data, headers=req.header)
            resp = conn.getresponse()
            body = json.loads(resp.read())
            assert resp.status == 200 and "SecurityGroupLimitSet" in body["Response"]
            assert resp.getheader("Connection", "").lower() != "close"
        assert conn.sock is not None  # still the same, open socket
    finally:
        conn.close()


def test_signature_matches_the_sdk_for_an_independent_check(cloud):
    """The server's signature function agrees with the SDK's on a request the SDK signed."""
    from sgpctl.sandbox.cloud import tc3

    client = cloud.client("vpc")
    req = signed(client, "DescribeSecurityGroups", {"Limit": "3"})
    headers = {k.lower(): v for k, v in req.header.items()}
    scope = tc3.parse_authorization(headers["authorization"])
    sig = tc3.signature(secret_key=SECRET_KEY, service="vpc", timestamp=int(headers["x-tc-timestamp"]), method="POST",
                        uri="/", query="", headers=headers, signed_headers=scope.signed_headers,
                        payload=req.data.encode())
    assert sig == scope.signature
    assert scope.secret_id == SECRET_ID


def test_unsigned_payload_is_accepted_as_the_sdk_signs_it(cloud):
    client = cloud.client("vpc")
    client.profile.unsignedPayload = True
    req = signed(client, "DescribeSecurityGroups", {"SecurityGroupIds": ["sg-app00001"]})
    assert req.header["X-TC-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert send(cloud.endpoint, req).json()["Response"]["TotalCount"] == 1
