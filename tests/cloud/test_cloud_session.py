"""CloudSession: endpoint parsing and override, region rules, headers, request building, start-up cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import responses

from sgpctl.cloud.factory import session_from_settings
from sgpctl.cloud.session import Endpoint, parse_endpoint
from sgpctl.errors import CloudError, ExitCode, InputError
from sgpctl.settings import RootFlags, resolve_settings
from tests.cloud.conftest import TOKEN, Api, Creds, assert_headers


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8443", Endpoint("127.0.0.1:8443", "http")),
    ("http://127.0.0.1:8443/", Endpoint("127.0.0.1:8443", "http")),
    ("https://tke.internal.example:443", Endpoint("tke.internal.example:443", "https")),
    ("https://tke.internal.example", Endpoint("tke.internal.example", "https")),
    ("HTTP://localhost:9000", Endpoint("localhost:9000", "http")),
    ("http://[::1]:8443", Endpoint("[::1]:8443", "http")),
    ("  http://127.0.0.1:8443  ", Endpoint("127.0.0.1:8443", "http")),
])
def test_good_endpoints(url, expected):
    assert parse_endpoint(url) == expected


@pytest.mark.parametrize("url", [
    "127.0.0.1:8443",
    "localhost:8443",
    "tke.internal.example",
    "ftp://host:21",
    "http://host:8443/api",
    "https://host/v3/",
    "http://host:8443?x=1",
    "http://host:8443#frag",
    "http://user:pw@host:8443",
    "http://",
    "http://host:notaport",
    "",
])
def test_bad_endpoints_are_input_errors_naming_the_setting(url):
    with pytest.raises(InputError) as e:
        parse_endpoint(url)
    assert e.value.exit_code == ExitCode.USAGE
    assert "--endpoint/SGPCTL_ENDPOINT" in e.value.message
    assert "http://127.0.0.1:8443" in e.value.message


def test_endpoint_override_replaces_every_service_and_sets_host():
    with responses.RequestsMock() as rsps:
        api = Api(rsps, base_url="http://127.0.0.1:8443/")
        api.reply("cam", "GetRole", {"RoleInfo": {"RoleId": "1", "RoleName": "r"}})
        api.reply("tke", "DescribeIPAMD", {"EnableIPAMD": True})
        from sgpctl.cloud.session import CloudSession

        session = CloudSession(Creds(), "ap-shanghai", "http://127.0.0.1:8443")
        session.cam.get_role("r")
        session.tke.describe_ipamd("cls-abcd1234")

        cam_call, tke_call = api.calls()
        for call in (cam_call, tke_call):
            assert call.request.url == "http://127.0.0.1:8443/"
            assert call.request.headers["Host"] == "127.0.0.1:8443"
            assert call.request.headers["X-TC-Language"] == "en-US"
        assert_headers(cam_call, "cam", region=None)
        assert_headers(tke_call, "tke", region="ap-shanghai")
        assert session.endpoint_url("tke") == "http://127.0.0.1:8443"


def test_https_endpoint_with_port(api, make_session):
    api.base_url = "https://tke.internal.example:443/"
    api.reply("tke", "DescribeIPAMD", {"EnableIPAMD": True})
    make_session(endpoint="https://tke.internal.example:443").tke.describe_ipamd("cls-abcd1234")
    assert api.calls()[0].request.headers["Host"] == "tke.internal.example:443"


def test_session_token_is_sent_as_x_tc_token(api, make_session):
    api.reply("cam", "GetRole", {"RoleInfo": {"RoleId": "1", "RoleName": "r"}})
    make_session(creds=Creds(token=TOKEN)).cam.get_role("r")
    assert api.calls()[0].request.headers["X-TC-Token"] == TOKEN


@pytest.mark.parametrize("service", ["tke", "vpc", "cvm"])
def test_regional_services_need_a_region(make_session, service):
    session = make_session(region=None)
    with pytest.raises(InputError) as e:
        session.client(service)
    assert e.value.exit_code == ExitCode.USAGE
    assert e.value.hint == "pass --region (e.g. ap-guangzhou) or set TENCENTCLOUD_REGION"


def test_cam_works_without_a_region(api, make_session):
    api.reply("cam", "GetRole", {"RoleInfo": {"RoleId": "1", "RoleName": "r"}})
    make_session(region=None).cam.get_role("r")
    assert_headers(api.calls()[0], "cam", region=None)


def test_clients_and_adapters_are_cached(session):
    assert session.client("vpc") is session.client("vpc")
    assert session.vpc is session.vpc
    with pytest.raises(ValueError):
        session.client("cos")


def test_threads_asking_for_a_client_at_once_share_the_one_built(session, monkeypatch):
    """doctor's reads ahead ask for the same service's client on several threads at once."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    built, gate = [], threading.Barrier(4, timeout=5)
    real = session._build_client

    def build(service):
        built.append(service)
        return real(service)

    monkeypatch.setattr(session, "_build_client", build)

    def ask(_):
        try:
            gate.wait()  # all four ask together
        except threading.BrokenBarrierError:
            pass
        return session.client("vpc"), session.vpc

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(ask, range(4)))
    assert built == ["vpc"]
    assert all(c is got[0][0] and a is got[0][1] for c, a in got)


def test_unknown_request_fields_fail_loudly_instead_of_being_dropped(api, session):
    with pytest.raises(ValueError, match="PolicyIdd"):
        session.call("cam", "GetPolicy", {"PolicyIdd": 1})
    with pytest.raises(ValueError, match="Nmae"):
        session.call("vpc", "DescribeSecurityGroups", {"Filters": [{"Nmae": "x", "Values": ["y"]}]})
    with pytest.raises(ValueError):
        session.call("cam", "NoSuchAction", {})
    assert api.calls() == []


def test_call_returns_the_answer_as_the_api_sent_it(api, session):
    # No round trip through the SDK's response model: a field the API did not send is absent (adapters
    # read with .get), and the answer is what a capture records.
    api.reply("vpc", "DescribeNetworkInterfaceLimit", {"EniQuantity": 4}, request_id="req-dict")
    data = session.call("vpc", "DescribeNetworkInterfaceLimit", {"InstanceId": "ins-1"})
    assert data == {"EniQuantity": 4, "RequestId": "req-dict"}
    assert session.calls == 1


def test_an_answer_that_is_not_an_api_response_is_an_error(api, session):
    api.reply("vpc", "DescribeNetworkInterfaceLimit", body=json.dumps({"Response": [1, 2]}))
    with pytest.raises(CloudError) as e:
        session.call("vpc", "DescribeNetworkInterfaceLimit", {"InstanceId": "ins-1"})
    assert e.value.exit_code == ExitCode.UNDETERMINED


def test_importing_the_cloud_package_does_not_import_the_sdk():
    root = Path(__file__).resolve().parents[2]
    code = ("import sys, sgpctl.cloud, sgpctl.cloud.session, sgpctl.cloud.factory, sgpctl.cloud.cam, "
            "sgpctl.cloud.tke, sgpctl.cloud.vpc, sgpctl.cloud.cvm, sgpctl.cloud.retry, sgpctl.cloud.paging; "
            "bad = [m for m in sys.modules if m.startswith(('tencentcloud', 'requests'))]; print(bad); assert not bad")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_session_from_settings(tmp_path):
    env = {"HOME": str(tmp_path), "TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "k",
           "TENCENTCLOUD_REGION": "ap-beijing", "SGPCTL_ENDPOINT": "http://127.0.0.1:9", "SGPCTL_RETRY_MAX_ATTEMPTS": "2",
           "SGPCTL_RETRY_DEADLINE": "5"}
    session = session_from_settings(resolve_settings(RootFlags(), environ=env, home=tmp_path))
    assert session.region == "ap-beijing"
    assert session.endpoint == Endpoint("127.0.0.1:9", "http")
    assert (session.retry.max_attempts, session.retry.deadline) == (2, 5.0)


def test_session_from_settings_rejects_bad_retry_numbers(tmp_path):
    env = {"HOME": str(tmp_path), "TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "k",
           "SGPCTL_RETRY_BASE_DELAY": "fast"}
    with pytest.raises(InputError, match="SGPCTL_RETRY_BASE_DELAY"):
        session_from_settings(resolve_settings(RootFlags(), environ=env, home=tmp_path))


def test_cvm_role_credentials_use_the_sdk_provider_without_fetching_at_construction(make_session):
    from dataclasses import dataclass

    from tencentcloud.common.credential import CVMRoleCredential

    @dataclass(frozen=True)
    class RoleCreds:
        secret_id: str = ""
        secret_key: str = ""
        token: str | None = None
        kind: str = "cvm-role"
        role_name: str | None = "TKE_QCSRole"

    session = make_session(creds=RoleCreds())
    session.client("cam")
    assert isinstance(session._sdk_credential, CVMRoleCredential)
    assert session._sdk_credential.role == "TKE_QCSRole"
