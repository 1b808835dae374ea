"""TKE cluster access in the sandbox: DescribeClusterEndpoints, DescribeClusterKubeconfig (used by
the real kubectl), DescribeClusterStatus, and DescribeClusters' ServiceCIDR against the Service
IPs the sandbox's Kubernetes API assigns. Expected values come from TKE's API docs and public
examples (names, certificate subject, 20-year validity), from openssl and kubectl, and from the
cloud API's own listings."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import subprocess

import pytest
import yaml

from tests.sandbox_support import KUBECTL, cloud_client, kubectl, running_sandbox, sandbox_env, sdk_request, tc3_call

UIN = "100000000001"  # the sandbox account's owner, as its CAM role ARNs say

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


@pytest.fixture(scope="module")
def sb():
    with running_sandbox("default") as sb:
        yield sb


def tke(sb, action: str, **params):
    return getattr(cloud_client(sb, "tke"), action)(sdk_request("tke", action, **params))


def lan_ips(sb) -> set[str]:
    return {i.LanIP for i in tke(sb, "DescribeClusterInstances", ClusterId=sb.cluster_id).InstanceSet}


def openssl_x509(pem: bytes, *args: str) -> str:
    return subprocess.run(["openssl", "x509", "-noout", *args], input=pem, capture_output=True, check=True).stdout.decode()


def test_endpoints_name_the_kube_apiserver_the_sandbox_serves(sb):
    ep = tke(sb, "DescribeClusterEndpoints", ClusterId=sb.cluster_id)
    assert ep.ClusterIntranetEndpoint == ep.ClusterExternalEndpoint == f"127.0.0.1:{sb.kube_port}"
    assert ep.ClusterDomain == f"{sb.cluster_id}.ccs.tencent-cloud.com"  # the pattern of TKE's example
    assert ep.CertificationAuthority.startswith("-----BEGIN CERTIFICATE-----")
    # It is the certificate the API server presents (what the sandbox's own kubeconfig trusts).
    config = yaml.safe_load(sb.kubeconfig.read_text())
    trusted = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    assert ep.CertificationAuthority == trusted
    assert tke(sb, "DescribeClusters").Clusters[0].ClusterNetworkSettings.SubnetId == ep.ClusterIntranetSubnetId


def test_kubeconfig_is_shaped_like_tkes_and_carries_a_client_certificate(sb, tmp_path):
    text = tke(sb, "DescribeClusterKubeconfig", ClusterId=sb.cluster_id).Kubeconfig
    config = yaml.safe_load(text)
    cid = sb.cluster_id
    assert config["current-context"] == f"{cid}-{UIN}-context-default"
    assert config["contexts"] == [{"name": f"{cid}-{UIN}-context-default", "context": {"cluster": cid, "user": UIN}}]
    assert [c["name"] for c in config["clusters"]] == [cid]
    assert config["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{sb.kube_port}"
    user = config["users"][0]
    assert user["name"] == UIN and set(user["user"]) == {"client-certificate-data", "client-key-data"}
    cert = base64.b64decode(user["user"]["client-certificate-data"])
    subject = openssl_x509(cert, "-subject", "-nameopt", "RFC2253")
    assert subject.startswith(f"subject=CN={UIN}-") and "O=tke:users" in subject
    assert openssl_x509(cert, "-issuer", "-nameopt", "RFC2253").strip() == "issuer=CN=kubernetes"
    dates = dict(line.split("=", 1) for line in openssl_x509(cert, "-dates").splitlines())
    fmt = "%b %d %H:%M:%S %Y %Z"
    days = (dt.datetime.strptime(" ".join(dates["notAfter"].split()), fmt)
            - dt.datetime.strptime(" ".join(dates["notBefore"].split()), fmt)).days
    assert days == 7300  # "valid for 20 years"
    # Issued on the first call, the same certificate afterwards, whichever endpoint is asked for.
    again = yaml.safe_load(tke(sb, "DescribeClusterKubeconfig", ClusterId=cid, IsExtranet=True).Kubeconfig)
    assert again["users"] == config["users"]


def test_kubectl_with_the_kubeconfig_from_the_api_sees_the_clusters_nodes(sb, tmp_path):
    path = tmp_path / "tke-kubeconfig"
    path.write_text(tke(sb, "DescribeClusterKubeconfig", ClusterId=sb.cluster_id).Kubeconfig)
    env = sandbox_env(sb, tmp_path, KUBECONFIG=str(path))
    names = kubectl(env, "get", "nodes", "-o", "name").stdout.split()
    assert {n.removeprefix("node/") for n in names} == lan_ips(sb)
    # It authenticates with the certificate alone: the user has no token.
    assert "token" not in yaml.safe_load(path.read_text())["users"][0]["user"]


def test_a_certificate_from_another_ca_does_not_authenticate(sb, tmp_path):
    config = yaml.safe_load(tke(sb, "DescribeClusterKubeconfig", ClusterId=sb.cluster_id).Kubeconfig)
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/O=tke:users/CN={UIN}-1"],
                   check=True, capture_output=True)
    config["users"][0]["user"] = {"client-certificate-data": base64.b64encode(cert.read_bytes()).decode(),
                                  "client-key-data": base64.b64encode(key.read_bytes()).decode()}
    path = tmp_path / "forged"
    path.write_text(yaml.safe_dump(config))
    r = kubectl(sandbox_env(sb, tmp_path, KUBECONFIG=str(path)), "get", "nodes", check=False, timeout=30)
    # Refused in the TLS handshake (a real kube-apiserver answers 401 Unauthorized instead).
    assert r.returncode != 0 and "node/" not in r.stdout
    assert "unknown certificate authority" in r.stderr


def test_status_counts_the_clusters_nodes(sb):
    status = tke(sb, "DescribeClusterStatus")
    assert status.TotalCount == 1
    s = status.ClusterStatusSet[0]
    assert (s.ClusterId, s.ClusterState, s.ClusterInstanceState) == (sb.cluster_id, "Running", "AllNormal")
    assert (s.ClusterRunningNodeNum, s.ClusterFailedNodeNum, s.ClusterInitNodeNum) == (len(lan_ips(sb)), 0, 0) == (5, 0, 0)
    assert tke(sb, "DescribeClusterStatus", ClusterIds=["cls-nothere1"]).TotalCount == 0


def test_unknown_cluster_is_not_found_for_endpoints_and_kubeconfig(sb):
    for action in ("DescribeClusterEndpoints", "DescribeClusterKubeconfig"):
        resp = tc3_call(sb, "tke", action, {"ClusterId": "cls-nothere1"})
        assert resp["Error"]["Code"] == "ResourceNotFound.ClusterNotFound"


def test_service_cidr_is_where_the_services_live(sb, tmp_path):
    settings = tke(sb, "DescribeClusters").Clusters[0].ClusterNetworkSettings
    cidr = ipaddress.ip_network(settings.ServiceCIDR)
    assert settings.MaxClusterServiceNum == cidr.num_addresses
    env = sandbox_env(sb, tmp_path)
    kubectl(env, "create", "service", "clusterip", "probe", "--tcp=8080:8080", "-n", "my-namespace")
    services = json.loads(kubectl(env, "get", "services", "-A", "-o", "json").stdout)["items"]
    ips = {(s["metadata"]["namespace"], s["metadata"]["name"]): s["spec"]["clusterIP"] for s in services}
    assert ("my-namespace", "probe") in ips
    assert all(ipaddress.ip_address(ip) in cidr for ip in ips.values()), ips
    assert ips[("default", "kubernetes")] == str(cidr.network_address + 1)  # the first address, as kube-apiserver
    assert len(set(ips.values())) == len(ips)
    # The DNS Service the node-local cache would forward to is in the range as well.
    assert ips[("kube-system", "kube-dns")] == str(cidr.network_address + 10)


def test_the_new_actions_answer_a_hand_signed_tccli_style_request(sb):
    """tccli sends a POST with a JSON body and the X-TC-* headers; the signature here is computed
    from the public TC3 spec, not by the SDK."""
    cases = [("tke", "DescribeClusterEndpoints", {"ClusterId": sb.cluster_id}, "ClusterIntranetEndpoint"),
             ("tke", "DescribeClusterKubeconfig", {"ClusterId": sb.cluster_id, "IsExtranet": False}, "Kubeconfig"),
             ("tke", "DescribeClusterStatus", {}, "ClusterStatusSet"),
             ("tke", "DescribeRegions", {}, "RegionInstanceSet"),
             ("cvm", "DescribeRegions", {}, "RegionSet"),
             ("vpc", "DescribeVpcs", {"Limit": "10"}, "VpcSet")]
    for service, action, params, key in cases:
        resp = tc3_call(sb, service, action, params)
        assert "Error" not in resp, (action, resp)
        assert resp[key], (action, resp)
