"""The ``fleet`` scenario: three clusters in two regions behind one cloud endpoint, each with its
own Kubernetes API (port, store, controllers, nodes), reached by kubectl through one kubeconfig
whose contexts name the endpoints DescribeClusterEndpoints reports; one cluster's API can be made
unreachable while the others keep answering; the whole fleet survives ``down``/``up``."""

from __future__ import annotations

import json
import socket
import ssl

import pytest
import requests
import yaml
from typer.testing import CliRunner

from sgpctl.cli.app import app
from sgpctl.sandbox.kube.crds import VPCENI_RESOURCE
from sgpctl.sandbox.runner import port_free
from tests.sandbox_support import KUBECTL, cloud_client, kubectl, running_sandbox, sandbox_env, sdk_request

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

GZ, SH = "ap-guangzhou", "ap-shanghai"


@pytest.fixture(scope="module")
def fleet():
    with running_sandbox("fleet") as sb:
        yield sb


def call(sb, service: str, action: str, region: str, **params):
    return getattr(cloud_client(sb, service, region), action)(sdk_request(service, action, **params))


def cloud_nodes(sb, cluster_id: str, region: str) -> set[str]:
    """The cluster's node names as the cloud sees them: TKE names nodes by their LAN IP."""
    instances = call(sb, "tke", "DescribeClusterInstances", region, ClusterId=cluster_id).InstanceSet
    return {i.LanIP for i in instances}


def kube_nodes(env: dict, context: str) -> set[str]:
    return {n.removeprefix("node/") for n in kubectl(env, "--context", context, "get", "nodes", "-o", "name").stdout.split()}


def control(sb, path: str, method: str = "GET", body: str | None = None) -> requests.Response:
    return requests.request(method, f"{sb.cloud_url}/_sandbox/{path}", data=body, timeout=10,
                            headers={"X-Sandbox-Token": sb.admin_token}, proxies={"http": "", "https": ""})


def test_three_clusters_in_two_regions_each_with_its_own_endpoint(fleet):
    assert [c.region for c in fleet.clusters] == [GZ, GZ, SH]
    ids = [c.cluster_id for c in fleet.clusters]
    assert len(set(ids)) == 3 and fleet.cluster_id == ids[0] and fleet.cluster(ids[2]).region == SH
    assert len({c.kube_port for c in fleet.clusters} | {fleet.cloud_port}) == 4
    listed = {region: {c.ClusterId for c in call(fleet, "tke", "DescribeClusters", region).Clusters}
              for region in (GZ, SH, "ap-beijing")}
    assert listed == {GZ: set(ids[:2]), SH: {ids[2]}, "ap-beijing": set()}
    names = {c.ClusterName for region in (GZ, SH) for c in call(fleet, "tke", "DescribeClusters", region).Clusters}
    assert names == {"fleet-gz-prod", "fleet-gz-dev", "fleet-sh-prod"}


def test_each_endpoint_answers_kubectl_with_its_own_nodes(fleet, tmp_path):
    env = sandbox_env(fleet, tmp_path)
    seen = {}
    for c in fleet.clusters:
        seen[c.cluster_id] = kube_nodes(env, c.context)
        assert seen[c.cluster_id] == cloud_nodes(fleet, c.cluster_id, c.region)
    assert [len(n) for n in seen.values()] == [4, 3, 3]
    assert len(set().union(*seen.values())) == 10  # no node is in two clusters


def test_kubeconfig_contexts_name_the_endpoints_the_cloud_reports(fleet, tmp_path):
    config = yaml.safe_load(fleet.kubeconfig.read_text())
    servers = {c["name"]: c["cluster"]["server"] for c in config["clusters"]}
    contexts = {c["name"]: c["context"]["cluster"] for c in config["contexts"]}
    assert config["current-context"] == fleet.clusters[0].context
    assert len(contexts) == 3
    for c in fleet.clusters:
        ep = call(fleet, "tke", "DescribeClusterEndpoints", c.region, ClusterId=c.cluster_id)
        assert servers[contexts[c.context]] == f"https://{ep.ClusterIntranetEndpoint}" == c.kube_url
    env = sandbox_env(fleet, tmp_path)  # what `sgpctl sandbox env` exports
    assert (env["SGPCTL_CLUSTER_ID"], env["TENCENTCLOUD_REGION"]) == (fleet.cluster_id, GZ)


def test_a_clusters_kubeconfig_from_the_api_works_there_and_only_there(fleet, tmp_path):
    sh, gz = fleet.clusters[2], fleet.clusters[0]
    text = call(fleet, "tke", "DescribeClusterKubeconfig", SH, ClusterId=sh.cluster_id).Kubeconfig
    path = tmp_path / "sh"
    path.write_text(text)
    env = sandbox_env(fleet, tmp_path, KUBECONFIG=str(path))
    context = yaml.safe_load(text)["current-context"]
    assert kube_nodes(env, context) == cloud_nodes(fleet, sh.cluster_id, SH)
    # Shanghai's certificate, sent to a Guangzhou cluster, is not accepted there.
    other = yaml.safe_load(text)
    other["clusters"][0]["cluster"]["server"] = gz.kube_url
    path.write_text(yaml.safe_dump(other))
    r = kubectl(env, "get", "nodes", check=False, timeout=30)
    assert r.returncode != 0 and "node/" not in r.stdout


def test_each_region_holds_its_own_groups_and_sub_enis(fleet):
    for c in fleet.clusters:
        eni_ids = {v["status"]["eni"]["eniID"] for v in c.kube.list(VPCENI_RESOURCE)}
        groups = {g.SecurityGroupId for g in call(fleet, "vpc", "DescribeSecurityGroups", c.region, Limit="100").SecurityGroupSet}
        if c is fleet.clusters[1]:
            assert eni_ids == set()  # nothing of the SecurityGroupPolicy setup there
            continue
        assert len(eni_ids) == 2  # the seed's two nginx replicas
        found = call(fleet, "vpc", "DescribeNetworkInterfaces", c.region, NetworkInterfaceIds=sorted(eni_ids))
        assert {e.NetworkInterfaceId for e in found.NetworkInterfaceSet} == eni_ids
        assert all(set(e.GroupSet) <= groups for e in found.NetworkInterfaceSet)
        other = SH if c.region == GZ else GZ
        assert call(fleet, "vpc", "DescribeNetworkInterfaces", other, NetworkInterfaceIds=sorted(eni_ids)).TotalCount == 0


def test_one_cluster_made_unreachable_the_others_still_answer(fleet, tmp_path):
    env = sandbox_env(fleet, tmp_path)
    prod, dev, sh = fleet.clusters
    before = kube_nodes(env, dev.context)
    r = control(fleet, f"clusters/{dev.cluster_id}/reachable", "PUT", "false")
    try:
        assert r.status_code == 200 and r.json()["reachable"] is False
        down = kubectl(env, "--context", dev.context, "get", "nodes", check=False, timeout=30)
        assert down.returncode != 0 and f"The connection to the server {dev.address} was refused" in down.stderr
        assert kube_nodes(env, prod.context) and kube_nodes(env, sh.context)
        # The cloud still knows the cluster; only its API server cannot be reached.
        assert dev.cluster_id in {c.ClusterId for c in call(fleet, "tke", "DescribeClusters", GZ).Clusters}
        listed = {c["clusterId"]: c["reachable"] for c in control(fleet, "clusters").json()["clusters"]}
        assert listed == {prod.cluster_id: True, dev.cluster_id: False, sh.cluster_id: True}
    finally:
        r = control(fleet, f"clusters/{dev.cluster_id}/reachable", "PUT", "true")
    assert r.status_code == 200 and r.json()["reachable"] is True
    assert kube_nodes(env, dev.context) == before  # same port, same objects


def test_a_hanging_cluster_accepts_connections_but_never_answers(fleet):
    dev = fleet.clusters[1]
    dev.set_reachable(False, mode="hang")
    try:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", dev.kube_port), timeout=0.5) as raw:
            with pytest.raises((socket.timeout, TimeoutError)):
                context.wrap_socket(raw).do_handshake()
    finally:
        dev.set_reachable(True)
    assert requests.get(f"{dev.kube_url}/version", verify=str(fleet.ca_file), timeout=5,
                        proxies={"http": "", "https": ""}).json()["major"] == "1"


def test_control_api_refuses_bad_requests(fleet):
    assert control(fleet, "clusters/cls-nothere1/reachable", "PUT", "false").status_code == 404
    assert control(fleet, f"clusters/{fleet.cluster_id}/reachable", "PUT", "maybe").status_code == 400
    r = requests.get(f"{fleet.cloud_url}/_sandbox/clusters", timeout=5, proxies={"http": "", "https": ""})
    assert r.status_code == 401


def test_the_fleet_survives_down_and_up(tmp_path):
    sd = tmp_path / "state"
    with running_sandbox("fleet", state_dir=sd) as sb:
        ids = [(c.cluster_id, c.region, c.kube_port) for c in sb.clusters]
        sb.cluster(ids[2][0]).kube.create("namespaces", {"metadata": {"name": "kept-in-shanghai"}})
        sb.settle()
    assert all(port_free(port) for _, _, port in ids)
    with running_sandbox("fleet", state_dir=sd) as sb:
        assert [(c.cluster_id, c.region, c.kube_port) for c in sb.clusters] == ids
        env = sandbox_env(sb, tmp_path)
        got = {c.cluster_id: kubectl(env, "--context", c.context, "get", "namespace", "kept-in-shanghai",
                                     check=False).returncode for c in sb.clusters}
        assert got == {ids[0][0]: 1, ids[1][0]: 1, ids[2][0]: 0}
        assert kube_nodes(env, sb.clusters[2].context) == cloud_nodes(sb, ids[2][0], SH)
        # The API hands out a kubeconfig that works after the restart, too.
        text = call(sb, "tke", "DescribeClusterKubeconfig", GZ, ClusterId=ids[1][0]).Kubeconfig
        (tmp_path / "dev").write_text(text)
        dev_env = sandbox_env(sb, tmp_path, KUBECONFIG=str(tmp_path / "dev"))
        assert kubectl(dev_env, "get", "nodes", "-o", "name").stdout.count("node/") == 3


def test_sandbox_up_status_env_and_down_show_every_cluster(tmp_path, monkeypatch):
    from tests.sandbox.test_commands import free_port_pair

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    runner = CliRunner()
    sd = tmp_path / "sd"
    port = free_port_pair()
    while not all(port_free(p) for p in (port + 2, port + 3)):
        port = free_port_pair()
    r = runner.invoke(app, ["sandbox", "up", "--detach", "--scenario", "fleet", "--state-dir", str(sd), "--port", str(port)])
    try:
        assert r.exit_code == 0, r.stderr
        assert r.stderr.count("Kubernetes API") == 3 and "ap-shanghai" in r.stderr
        status = json.loads(runner.invoke(app, ["sandbox", "status", "--state-dir", str(sd), "-o", "json"]).stdout)
        assert status["scenario"] == "fleet" and status["cloudPort"] == port
        assert [(c["kubePort"], c["region"]) for c in status["clusters"]] == [(port + 1, GZ), (port + 2, GZ), (port + 3, SH)]
        assert status["counts"]["nodes"] == 10
        table = runner.invoke(app, ["sandbox", "status", "--state-dir", str(sd)]).stdout
        assert table.count("\ncluster ") == 3
        config = yaml.safe_load((sd / "kubeconfig").read_text())
        assert sorted(c["cluster"]["server"] for c in config["clusters"]) == \
            [f"https://127.0.0.1:{p}" for p in (port + 1, port + 2, port + 3)]
    finally:
        r = runner.invoke(app, ["sandbox", "down", "--state-dir", str(sd)])
    assert r.exit_code == 0
    assert all(port_free(p) for p in range(port, port + 4))
    saved = json.loads(runner.invoke(app, ["sandbox", "status", "--state-dir", str(sd), "-o", "json"]).stdout)
    assert saved["running"] is False and [c["kubePort"] for c in saved["clusters"]] == [port + 1, port + 2, port + 3]


def test_a_state_dir_saved_before_fleets_still_resumes(tmp_path):
    """State version 1 kept one cluster's fields in ``sandbox`` and its store at the top level."""
    sd = tmp_path / "old"
    with running_sandbox("default", state_dir=sd) as sb:
        sb.kube.create("namespaces", {"metadata": {"name": "from-v1"}})
        cluster_id, token = sb.cluster_id, sb.kube_token
    state = json.loads((sd / "state.json").read_text())
    (only,) = state.pop("clusters")
    state["version"] = 1
    state["kube"] = only.pop("kube")
    state["sandbox"].update(kubeToken=only["kubeToken"], kubePort=only["kubePort"], podCidrs=only["podCidrs"],
                            vpcCni=only["vpcCni"])
    (sd / "state.json").write_text(json.dumps(state))
    with running_sandbox("default", state_dir=sd) as sb:
        assert (sb.cluster_id, sb.kube_token, len(sb.clusters)) == (cluster_id, token, 1)
        assert sb.kube.get("namespaces", None, "from-v1") is not None
    assert json.loads((sd / "state.json").read_text())["version"] == 2


def test_variants_play_in_every_cluster_of_the_fleet():
    with running_sandbox("fleet", variants={"vpceni-kind": "VpcEni", "kube-proxy": "ipvs"}) as sb:
        for c in sb.clusters:
            crd = c.kube.get("customresourcedefinitions", None, VPCENI_RESOURCE)
            assert crd["spec"]["names"]["kind"] == "VpcEni", c.cluster_id
            assert {v["kind"] for v in c.kube.list(VPCENI_RESOURCE)} <= {"VpcEni"}
            config = c.kube.get("configmaps", "kube-system", "kube-proxy")["data"]["config.conf"]
            assert 'mode: "ipvs"' in config and sb.cloud.cluster(c.cluster_id)["ClusterNetworkSettings"]["Ipvs"]
