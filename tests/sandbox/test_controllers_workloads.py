"""Workload controllers through the machine's kubectl: rollouts, scaling, StatefulSets,
DaemonSets, and the seed document's kubectl commands, verbatim."""

from __future__ import annotations

import json

import pytest

from sgpctl.sandbox import scenarios
from tests.sandbox_support import KUBECTL, kubectl, running_sandbox, sandbox_env

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

NS = scenarios.SEED_NAMESPACE


def names(env, kind: str, selector: str, ns: str = NS) -> list[str]:
    out = kubectl(env, "get", kind, "-n", ns, "-l", selector, "-o", "json").stdout
    return sorted(i["metadata"]["name"] for i in json.loads(out)["items"])


def items(env, kind: str, selector: str, ns: str = NS) -> list[dict]:
    return json.loads(kubectl(env, "get", kind, "-n", ns, "-l", selector, "-o", "json").stdout)["items"]


@pytest.fixture(scope="module")
def hazards(tmp_path_factory):
    """strict-hazards: the setup is done and the seed's nginx Pods already have sub-ENIs."""
    with running_sandbox("strict-hazards") as sb:
        yield sb, sandbox_env(sb, tmp_path_factory.mktemp("hazards"))


def test_seed_vpceni_commands_verbatim(hazards):
    sb, env = hazards
    pod = names(env, "pods", "app=my-app")[0]
    out = kubectl(env, "get", "vpceni", "-l",
                  f"tke.cloud.tencent.com/pod-name={pod},tke.cloud.tencent.com/pod-namespace={NS}").stdout
    lines = out.strip().splitlines()
    assert len(lines) == 2 and lines[0].split()[0] == "NAME"
    name = lines[1].split()[0]
    eni_id = kubectl(env, "get", "vpceni", name, "-ojsonpath={.status.eni.eniID}").stdout
    assert eni_id.startswith("eni-")
    (vpceni,) = sb.kube.list("vpcenis", label_selector=f"tke.cloud.tencent.com/pod-name={pod}")
    assert vpceni["metadata"]["name"] == name and vpceni["status"]["eni"]["eniID"] == eni_id
    web = next(g for g, v in sb.cloud.security_groups.items() if v["SecurityGroupName"] == "web")
    assert sb.cloud.eni(eni_id)["GroupSet"] == [web]
    # The seed's "kubectl get pod -oyaml" shows the three markers.
    pod_yaml = kubectl(env, "get", "pod", pod, "-n", NS, "-oyaml").stdout
    for marker in ("tke.cloud.tencent.com/networks: tke-sub-eni", f"tke.cloud.tencent.com/security-group-id: {web}",
                   "tke.cloud.tencent.com/sub-eni: \"1\""):
        assert marker in pod_yaml


def test_rollout_restart_rolls_pods_through_the_controllers(tmp_path):
    with running_sandbox("strict-hazards") as sb:
        env = sandbox_env(sb, tmp_path)
        before = items(env, "pods", "app=my-app")
        before_enis = {v["status"]["eni"]["eniID"] for v in sb.kube.list("vpcenis")}
        kubectl(env, "rollout", "restart", "deployment/nginx", "-n", NS)
        done = kubectl(env, "rollout", "status", "deployment/nginx", "-n", NS, "--timeout=60s")
        assert "successfully rolled out" in done.stdout
        sb.settle()
        after = items(env, "pods", "app=my-app")
        assert len(after) == 2 and all(p["status"]["phase"] == "Running" for p in after)
        assert not {p["metadata"]["name"] for p in before} & {p["metadata"]["name"] for p in after}
        assert {p["metadata"]["labels"]["pod-template-hash"] for p in after} != \
            {p["metadata"]["labels"]["pod-template-hash"] for p in before}
        # New Pods, new sub-ENIs; the old ones are freed.
        after_enis = {v["status"]["eni"]["eniID"] for v in sb.kube.list("vpcenis")}
        assert len(after_enis) == 2 and not after_enis & before_enis
        assert all(sb.cloud.eni(e) is None for e in before_enis)
        rs = items(env, "replicasets", "app=my-app")
        assert sorted(r["spec"]["replicas"] for r in rs) == [0, 2]
        history = kubectl(env, "rollout", "history", "deployment/nginx", "-n", NS).stdout
        assert "1" in history and "2" in history


def test_scale_and_recreate_strategy(tmp_path):
    with running_sandbox("default") as sb:
        env = sandbox_env(sb, tmp_path)
        kubectl(env, "scale", "deployment/web", "-n", NS, "--replicas=4")
        kubectl(env, "rollout", "status", "deployment/web", "-n", NS, "--timeout=30s")
        assert len(names(env, "pods", "app=web")) == 4
        kubectl(env, "scale", "deployment/web", "-n", NS, "--replicas=1")
        sb.settle()
        assert len(names(env, "pods", "app=web")) == 1
        kubectl(env, "patch", "deployment/web", "-n", NS, "--type=merge", "-p",
                json.dumps({"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None}}}))
        old = names(env, "pods", "app=web")
        kubectl(env, "set", "image", "deployment/web", "-n", NS, "web=nginx:1.27")
        kubectl(env, "rollout", "status", "deployment/web", "-n", NS, "--timeout=30s")
        sb.settle()
        new = items(env, "pods", "app=web")
        assert len(new) == 1 and new[0]["metadata"]["name"] not in old
        assert new[0]["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_rolling_update_keeps_old_pods_while_new_ones_cannot_start(tmp_path):
    with running_sandbox("default") as sb:
        env = sandbox_env(sb, tmp_path)
        old = names(env, "pods", "app=web")
        # The new template asks for a node that does not exist: its Pod stays Pending.
        kubectl(env, "patch", "deployment/web", "-n", NS, "-p",
                json.dumps({"spec": {"template": {"spec": {"nodeSelector": {"pool": "missing"}}}}}))
        sb.settle()
        pods = items(env, "pods", "app=web")
        running = sorted(p["metadata"]["name"] for p in pods if p["status"]["phase"] == "Running")
        pending = [p for p in pods if p["status"]["phase"] == "Pending"]
        assert running == old and len(pending) == 1  # maxSurge 25% of 2 -> 1, maxUnavailable -> 0
        status = kubectl(env, "rollout", "status", "deployment/web", "-n", NS, "--timeout=1s", check=False)
        assert status.returncode != 0 and "1 out of 2 new replicas have been updated" in status.stdout


def test_deleting_a_deployment_deletes_its_pods_and_sub_enis(tmp_path):
    with running_sandbox("strict-hazards") as sb:
        env = sandbox_env(sb, tmp_path)
        enis = [v["status"]["eni"]["eniID"] for v in sb.kube.list("vpcenis")]
        assert len(enis) == 2
        kubectl(env, "delete", "deployment/nginx", "-n", NS)
        sb.settle()
        assert names(env, "pods", "app=my-app") == [] and names(env, "replicasets", "app=my-app") == []
        assert sb.kube.list("vpcenis") == [] and all(sb.cloud.eni(e) is None for e in enis)


def test_statefulset_ordered_pods_and_restart(tmp_path):
    with running_sandbox("default") as sb:
        env = sandbox_env(sb, tmp_path)
        sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": NS},
               "spec": {"serviceName": "db", "replicas": 3, "selector": {"matchLabels": {"app": "db"}},
                        "template": {"metadata": {"labels": {"app": "db"}},
                                     "spec": {"containers": [{"name": "db", "image": "redis:7"}]}}}}
        kubectl(env, "apply", "-f", "-", input=json.dumps(sts))
        kubectl(env, "rollout", "status", "statefulset/db", "-n", NS, "--timeout=30s")
        pods = items(env, "pods", "app=db")
        assert [p["metadata"]["name"] for p in pods] == ["db-0", "db-1", "db-2"]
        assert all(p["status"]["phase"] == "Running" and p["spec"]["hostname"] == p["metadata"]["name"] for p in pods)
        created = [p["metadata"]["creationTimestamp"] for p in pods]
        assert created == sorted(created)
        uids = {p["metadata"]["uid"] for p in pods}
        kubectl(env, "rollout", "restart", "statefulset/db", "-n", NS)
        kubectl(env, "rollout", "status", "statefulset/db", "-n", NS, "--timeout=30s")
        sb.settle()
        pods = items(env, "pods", "app=db")
        assert [p["metadata"]["name"] for p in pods] == ["db-0", "db-1", "db-2"]
        assert not uids & {p["metadata"]["uid"] for p in pods}
        kubectl(env, "scale", "statefulset/db", "-n", NS, "--replicas=1")
        sb.settle()
        assert names(env, "pods", "app=db") == ["db-0"]


def test_daemonset_runs_one_pod_per_node_and_follows_nodes(tmp_path):
    with running_sandbox("default") as sb:
        env = sandbox_env(sb, tmp_path)
        pods = items(env, "pods", "app=tke-eni-agent", ns="kube-system")
        nodes = json.loads(kubectl(env, "get", "nodes", "-o", "json").stdout)["items"]
        assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(n["metadata"]["name"] for n in nodes)
        kubectl(env, "rollout", "status", "daemonset/tke-eni-agent", "-n", "kube-system", "--timeout=30s")
        kubectl(env, "rollout", "restart", "daemonset/tke-eni-agent", "-n", "kube-system")
        kubectl(env, "rollout", "status", "daemonset/tke-eni-agent", "-n", "kube-system", "--timeout=30s")
        sb.settle()
        after = items(env, "pods", "app=tke-eni-agent", ns="kube-system")
        assert len(after) == len(nodes)
        assert not {p["metadata"]["name"] for p in pods} & {p["metadata"]["name"] for p in after}
        gone = nodes[0]["metadata"]["name"]
        kubectl(env, "delete", "node", gone)
        sb.settle()
        assert len(items(env, "pods", "app=tke-eni-agent", ns="kube-system")) == len(nodes) - 1
        # Pods of other workloads on the deleted node are collected and come back elsewhere.
        pods = json.loads(kubectl(env, "get", "pods", "-A", "-o", "json").stdout)["items"]
        assert pods and all(p["spec"]["nodeName"] != gone for p in pods)
        assert all(p["status"]["phase"] == "Running" for p in pods)


def test_eniipamd_upgrade_rolls_its_image_tag(tmp_path):
    with running_sandbox("legacy", addon_delay=0.05) as sb:
        env = sandbox_env(sb, tmp_path)
        sb.cloud.update_addon(sb.cluster_id, "eniipamd", version="3.6.0")
        sb.settle()
        image = kubectl(env, "get", "deploy/tke-eni-ipamd", "-n", "kube-system",
                        "-ojsonpath={.spec.template.spec.containers[0].image}").stdout
        assert image.endswith("/tke-eni-ipamd:v3.6.0")
        kubectl(env, "rollout", "status", "deployment/tke-eni-ipamd", "-n", "kube-system", "--timeout=30s")
