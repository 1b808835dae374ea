"""With a certificate the cloud port answers https and http alike (tccli only speaks https)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from sgpctl.sandbox.cloud.testkit import demo_state, request, serve

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cloud.crt", tmp_path / "cloud.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=sandbox",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    return str(cert), str(key)


def test_one_port_serves_https_and_http(certificate):
    from tencentcloud.common.credential import Credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.vpc.v20170312.vpc_client import VpcClient

    from sgpctl.sandbox.cloud.testkit import SECRET_ID, SECRET_KEY

    with serve(demo_state(), tls=certificate) as rc:
        https = VpcClient(Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", ClientProfile(httpProfile=HttpProfile(
            endpoint=rc.endpoint, protocol="https", certification=certificate[0])))
        assert https.DescribeSecurityGroups(request("vpc", "DescribeSecurityGroups")).TotalCount == 2
        assert rc.client("vpc").DescribeSecurityGroups(request("vpc", "DescribeSecurityGroups")).TotalCount == 2
        assert [e["code"] for e in rc.log.entries()] == ["OK", "OK"]
