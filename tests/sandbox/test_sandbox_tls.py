"""The Sandbox's TLS: one self-signed certificate (made by openssl) for the Kubernetes API and,
with ``cloud_tls``, the cloud API; and what happens on a machine without openssl."""

from __future__ import annotations

import base64
import logging
import shutil

import pytest
import yaml

from sgpctl.errors import InputError
from sgpctl.sandbox.cloud.testkit import request
from sgpctl.sandbox.region import Sandbox
from tests.sandbox_support import running_sandbox

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@needs_openssl
def test_cloud_tls_serves_https_with_the_kubernetes_certificate(tmp_path):
    from tencentcloud.common.credential import Credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.vpc.v20170312.vpc_client import VpcClient

    with running_sandbox("default", state_dir=tmp_path / "sd", cloud_tls=True) as sb:
        assert sb.ca_file == tmp_path / "sd" / "kube-apiserver.crt"
        kubeconfig = yaml.safe_load(sb.kubeconfig.read_text())
        trusted = base64.b64decode(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"])
        assert trusted == sb.ca_file.read_bytes()  # one CA for both APIs
        profile = HttpProfile(endpoint=sb.cloud_endpoint, protocol="https", certification=str(sb.ca_file))
        https = VpcClient(Credential(sb.secret_id, sb.secret_key), sb.region, ClientProfile(httpProfile=profile))
        groups = https.DescribeSecurityGroups(request("vpc", "DescribeSecurityGroups")).SecurityGroupSet
        assert {g.SecurityGroupName for g in groups} >= {"default", "web", "db"}
        assert sb.env()["SGPCTL_ENDPOINT"].startswith("http://")  # sgpctl keeps using http
        info = sb.info()
        assert info["cloudTls"] is True and info["caFile"] == str(sb.ca_file)


def test_without_openssl_kubernetes_falls_back_to_http_and_says_so(tmp_path, monkeypatch, caplog):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no openssl to be found
    with caplog.at_level(logging.WARNING):
        with running_sandbox("legacy", state_dir=tmp_path / "sd") as sb:
            assert sb.kube_url.startswith("http://") and sb.ca_file is None
            assert sb.info()["caFile"] is None
    assert any("openssl" in r.getMessage() and "kubectl" in r.getMessage() for r in caplog.records)
    with pytest.raises(InputError) as exc:
        Sandbox("legacy", state_dir=tmp_path / "sd2", cloud_tls=True).start()
    assert "openssl" in str(exc.value)

