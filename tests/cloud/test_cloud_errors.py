"""Error mapping: codes, request ids, exit codes, hints, and answers that are not API responses."""

from __future__ import annotations

import json

import pytest

from sgpctl.cloud.errors import decode_message, to_cloud_error
from sgpctl.errors import CloudError, ExitCode, InputError
from tests.cloud.conftest import error_envelope


class SdkLikeError(Exception):
    def __init__(self, code, message, request_id=None):
        self.code, self.message, self.requestId = code, message, request_id


@pytest.mark.parametrize("code, exit_code, hint_part", [
    ("AuthFailure.SecretIdNotFound", 3, "TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY or the tccli profile"),
    ("AuthFailure.SignatureFailure", 3, "TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY or the tccli profile"),
    ("AuthFailure.SignatureExpire", 3, "the machine clock is off"),
    ("AuthFailure.TokenFailure", 3, "TENCENTCLOUD_SESSION_TOKEN"),
    ("UnauthorizedOperation", 3, "the credentials lack permission for tke:DescribeClusters; grant it in CAM"),
    ("UnauthorizedOperation.CamNoAuth", 3, "the credentials lack permission for tke:DescribeClusters; grant it in CAM"),
    ("AuthFailure.UnauthorizedOperation", 3, "the credentials lack permission for tke:DescribeClusters"),
    ("ClientNetworkError", 3, "cannot reach https://tke.tencentcloudapi.com; check --endpoint/SGPCTL_ENDPOINT and the network/proxy"),
    ("ResourceNotFound", 1, "does not exist (in region ap-guangzhou)"),
    ("InvalidParameter.ClusterNotFound", 1, "--cluster-id/SGPCTL_CLUSTER_ID"),
    ("UnsupportedRegion", 1, "--region"),
    ("RequestLimitExceeded", 3, "throttling"),
    ("JSONDecodeError", 3, "did not answer like a Tencent Cloud API"),
])
def test_common_codes_get_exit_codes_and_hints(code, exit_code, hint_part):
    err = to_cloud_error(SdkLikeError(code, "msg", "req-9"), service="tke", action="DescribeClusters",
                         endpoint="https://tke.tencentcloudapi.com", region="ap-guangzhou")
    assert isinstance(err, CloudError)
    assert (err.code, err.request_id, err.action, int(err.exit_code)) == (code, "req-9", "DescribeClusters", exit_code)
    assert hint_part in err.hint


def test_a_refused_operation_is_exit_1_without_a_hint():
    err = to_cloud_error(SdkLikeError("FailedOperation.PolicyNameInUse", "in use", "r"), service="cam", action="CreatePolicy")
    assert err.exit_code == ExitCode.FAILED and err.hint is None
    assert err.message == "CreatePolicy: FailedOperation.PolicyNameInUse: in use (request id r)"


def test_raw_bytes_messages_are_decoded_to_one_line():
    assert decode_message(b"<html>\n<h1>502 Bad\xff Gateway</h1>\n</html>") == "<html> <h1>502 Bad\ufffd Gateway</h1> </html>"
    assert len(decode_message("x" * 1000)) == 300


def test_api_error_through_the_sdk_keeps_code_message_and_request_id(api, session):
    api.fail("tke", "DescribeClusters", "AuthFailure.SecretIdNotFound", "The SecretId is not found", "req-auth")
    with pytest.raises(CloudError) as e:
        session.tke.describe_cluster("cls-abcd1234")
    err = e.value
    assert (err.code, err.api_message, err.request_id) == ("AuthFailure.SecretIdNotFound", "The SecretId is not found", "req-auth")
    assert err.exit_code == ExitCode.UNDETERMINED
    assert err.message == "DescribeClusters: AuthFailure.SecretIdNotFound: The SecretId is not found (request id req-auth)"


def test_http_error_body_is_decoded(api, make_session):
    session = make_session(max_attempts=1)
    api.reply("tke", "DescribeIPAMD", status=502, body=b"<html>502 Bad Gateway</html>")
    with pytest.raises(CloudError) as e:
        session.tke.describe_ipamd("cls-abcd1234")
    assert e.value.code == "ServerNetworkError" and "<html>502 Bad Gateway</html>" in e.value.message
    assert "b'" not in e.value.message
    assert e.value.exit_code == ExitCode.UNDETERMINED


def test_error_envelope_with_a_charset_is_not_silently_accepted(api, session):
    # The SDK only looks for Response.Error when the Content-Type is exactly application/json.
    api.reply("cam", "GetRole", content_type="application/json; charset=utf-8",
              body=json.dumps(error_envelope("AuthFailure.SignatureFailure", "bad signature", "req-cs")))
    with pytest.raises(CloudError) as e:
        session.cam.get_role("TKE_QCSRole")
    assert (e.value.code, e.value.request_id) == ("AuthFailure.SignatureFailure", "req-cs")
    assert len(api.calls()) == 1


def test_success_with_a_charset_still_works(api, session):
    api.reply("cam", "GetRole", {"RoleInfo": {"RoleId": "1", "RoleName": "TKE_QCSRole"}},
              content_type="application/json; charset=utf-8")
    assert session.cam.get_role("TKE_QCSRole").role_id == "1"


def test_a_response_without_request_id_is_an_error(api, session):
    api.reply("vpc", "DescribeNetworkInterfaceLimit", body=json.dumps({"Response": {"EniQuantity": 4}}))
    with pytest.raises(CloudError) as e:
        session.vpc.describe_network_interface_limit("ins-1")
    assert e.value.code == "InvalidResponse" and e.value.exit_code == ExitCode.UNDETERMINED
    assert "--endpoint" in e.value.hint
    assert len(api.calls()) == 1


def test_a_body_that_is_not_json_is_an_error(api, session):
    api.reply("vpc", "DescribeNetworkInterfaceLimit", body="<html>captive portal</html>")
    with pytest.raises(CloudError) as e:
        session.vpc.describe_network_interface_limit("ins-1")
    assert e.value.code == "JSONDecodeError" and e.value.exit_code == ExitCode.UNDETERMINED


@pytest.mark.parametrize("secret_id, secret_key", [("", "k"), ("id", ""), ("id with space ", "k")])
def test_unusable_credentials_are_an_input_error(make_session, secret_id, secret_key):
    from tests.cloud.conftest import Creds

    session = make_session(creds=Creds(secret_id=secret_id, secret_key=secret_key))
    with pytest.raises(InputError) as e:
        session.client("cam")
    assert e.value.exit_code == ExitCode.USAGE and "TENCENTCLOUD_SECRET_ID" in e.value.hint


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_an_answer_is_parsed_once(api, session, monkeypatch, content_type):
    # 100 DescribeNetworkInterfaces pages of 100 KB: the SDK's error check and sgpctl each parsed them
    import tencentcloud.common.abstract_client as sdk_client

    from sgpctl.cloud import session as session_module

    parsed = []
    real_loads = json.loads

    def counting_loads(text, *a, **kw):
        parsed.append(text)
        return real_loads(text, *a, **kw)

    counting = type("Json", (), {"loads": staticmethod(counting_loads), "dumps": staticmethod(json.dumps)})
    monkeypatch.setattr(session_module, "json", counting)
    monkeypatch.setattr(sdk_client, "json", counting)
    api.reply("cam", "GetRole", {"RoleInfo": {"RoleId": "1", "RoleName": "TKE_QCSRole"}}, content_type=content_type)
    assert session.cam.get_role("TKE_QCSRole").role_id == "1"
    assert len([t for t in parsed if b"RoleInfo" in (t if isinstance(t, bytes) else t.encode())]) == 1
