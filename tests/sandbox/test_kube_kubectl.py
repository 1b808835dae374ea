"""The machine's kubectl, as a subprocess, against the sandbox API server.

kubectl gets its own kubeconfig, cache dir and HOME, and an environment without proxies (see
``KubeSandbox.env``). These are the commands the seed document and the README use.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest

from sgpctl.sandbox.kube.crds import securitygrouppolicy_crd, vpceni_crd
from sgpctl.sandbox.kube.testing import KubeSandbox, kubectl_path

pytestmark = pytest.mark.skipif(kubectl_path() is None, reason="kubectl is not installed")

DEPLOYMENT = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: nginx
      labels:
        app: my-app
    spec:
      replicas: 1
      selector:
        matchLabels:
          app: my-app
      template:
        metadata:
          labels:
            app: my-app
        spec:
          containers:
          - name: nginx
            image: nginx:1.25
            env:
            - name: MODE
              value: "one"
    """)

POLICY = textwrap.dedent("""\
    apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1
    kind: SecurityGroupPolicy
    metadata:
      name: my-security-group-policy
    spec:
      podSelector:
        matchLabels:
          app: my-app
      securityGroups:
        groupIds:
        - sg-xxxxyyyy
    """)


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    with KubeSandbox(tmp_path_factory.mktemp("kube-kubectl")) as sandbox:
        sandbox.store.create("customresourcedefinitions", securitygrouppolicy_crd())
        sandbox.store.create("customresourcedefinitions", vpceni_crd())
        yield sandbox


def make_pod(kube, ns, name, labels=None, node=None, phase=None):
    spec = {"containers": [{"name": "c", "image": "nginx:1.25"}]}
    if node:
        spec["nodeName"] = node
    obj = {"metadata": {"name": name, "namespace": ns, "labels": labels or {}}, "spec": spec}
    if phase:
        obj["status"] = {"phase": phase}
    return kube.store.create("pods", obj)


def test_env_has_no_proxies_or_developer_kubeconfig(kube):
    env = kube.env()
    assert not [k for k in env if k.lower().endswith("_proxy")] and "KUBECONFIG" not in env


def test_get_with_columns_labels_and_jsonpath(kube, ns):
    make_pod(kube, ns, "web-1", {"app": "web"}, node="node-1", phase="Running")
    make_pod(kube, ns, "db-1", {"app": "db"})
    out = kube.kubectl("get", "pods", "-n", ns).stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [line.split()[:3] for line in out[1:]] == [["db-1", "0/1", "Pending"], ["web-1", "0/1", "Running"]]
    assert kube.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o", "name").stdout.split() == ["pod/web-1"]
    wide = kube.kubectl("get", "pods", "-n", ns, "-o", "wide", "-l", "app=web").stdout.splitlines()
    assert "NODE" in wide[0].split() and "node-1" in wide[1].split()
    assert kube.kubectl("get", "pod", "web-1", "-n", ns, "-o", "jsonpath={.spec.nodeName}").stdout == "node-1"
    selected = kube.kubectl("get", "pods", "-n", ns, "--field-selector", "spec.nodeName=node-1", "-o", "name")
    assert selected.stdout.split() == ["pod/web-1"]
    missing = kube.kubectl("get", "pod", "nope", "-n", ns, check=False)
    assert missing.returncode == 1 and 'pods "nope" not found' in missing.stderr


def test_apply_without_validate_false_then_unchanged_then_configured(kube, ns, tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_text(DEPLOYMENT + "---\n" + POLICY)
    first = kube.kubectl("apply", "-n", ns, "-f", str(manifest)).stdout
    assert "deployment.apps/nginx created" in first
    assert "securitygrouppolicy.vpcresources.tke.cloud.tencent.com/my-security-group-policy created" in first
    again = kube.kubectl("apply", "-n", ns, "-f", str(manifest)).stdout
    assert again.count("unchanged") == 2
    manifest.write_text(DEPLOYMENT.replace('value: "one"', 'value: "two"') + "---\n"
                        + POLICY.replace("sg-xxxxyyyy", "sg-zzzz"))
    changed = kube.kubectl("apply", "-n", ns, "-f", str(manifest)).stdout
    assert changed.count("configured") == 2
    d = kube.store.get("deployments", ns, "nginx")
    assert d["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "MODE", "value": "two"}]
    assert d["metadata"]["generation"] == 2
    sgp = kube.store.get("sgp", ns, "my-security-group-policy")
    assert sgp["spec"]["securityGroups"]["groupIds"] == ["sg-zzzz"]
    assert kube.kubectl("get", "sgp", "-n", ns, "-o", "name").stdout.split() == [
        "securitygrouppolicy.vpcresources.tke.cloud.tencent.com/my-security-group-policy"]


def _versioned_kubectls() -> list[str]:
    """The Google Cloud SDK's kubectl is a dispatcher that runs the release matching the server;
    exercise apply with every release it ships too (kubectl.1.32 in particular)."""
    path = kubectl_path()
    if path is None:
        return []
    d = Path(os.path.realpath(path)).parent
    return sorted(str(p) for p in d.glob("kubectl.1.*") if os.access(p, os.X_OK))


@pytest.mark.parametrize("binary", _versioned_kubectls()[-2:] or [None])
def test_apply_works_with_each_shipped_kubectl_release(kube, ns, tmp_path, binary):
    if binary is None:
        pytest.skip("no versioned kubectl binaries next to kubectl")
    manifest = tmp_path / "app.yaml"
    manifest.write_text(DEPLOYMENT + "---\n" + POLICY)
    cmd = [binary, "--kubeconfig", str(kube.kubeconfig), "--cache-dir", str(tmp_path / "cache"), "apply", "-n", ns,
           "-f", str(manifest)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=kube.env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("created") == 2


def test_annotate_label_and_patch(kube, ns):
    kube.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT + "---\n" + POLICY)
    kube.kubectl("annotate", "-n", ns, "deployment/nginx", "team=payments")
    kube.kubectl("label", "-n", ns, "deployment/nginx", "tier=web")
    kube.kubectl("label", "-n", ns, "sgp/my-security-group-policy", "owner=me")
    d = kube.store.get("deployments", ns, "nginx")
    assert d["metadata"]["annotations"]["team"] == "payments" and d["metadata"]["labels"]["tier"] == "web"
    assert kube.store.get("sgp", ns, "my-security-group-policy")["metadata"]["labels"] == {"owner": "me"}

    # Strategic merge (kubectl's default): the container list is merged by name.
    kube.kubectl("patch", "-n", ns, "deployment", "nginx", "-p",
                 json.dumps({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "b:1"}]}}}}))
    names = kube.kubectl("get", "-n", ns, "deploy", "nginx", "-o",
                         "jsonpath={.spec.template.spec.containers[*].name}").stdout
    assert names == "nginx sidecar"
    # Merge patch replaces lists; JSON patch edits in place.
    kube.kubectl("patch", "-n", ns, "sgp", "my-security-group-policy", "--type", "merge", "-p",
                 '{"spec":{"securityGroups":{"groupIds":["sg-1","sg-2"]}}}')
    kube.kubectl("patch", "-n", ns, "sgp", "my-security-group-policy", "--type", "json", "-p",
                 '[{"op":"remove","path":"/spec/securityGroups/groupIds/0"}]')
    assert kube.store.get("sgp", ns, "my-security-group-policy")["spec"]["securityGroups"]["groupIds"] == ["sg-2"]
    refused = kube.kubectl("patch", "-n", ns, "sgp", "my-security-group-policy", "-p", '{"spec":{}}', check=False)
    assert refused.returncode != 0 and "application/strategic-merge-patch+json is not supported" in refused.stderr


def test_rollout_restart_patches_the_pod_template(kube, ns):
    kube.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    before = kube.store.get("deployments", ns, "nginx")["metadata"]["generation"]
    out = kube.kubectl("rollout", "restart", "-n", ns, "deployment/nginx").stdout
    assert "deployment.apps/nginx restarted" in out
    d = kube.store.get("deployments", ns, "nginx")
    assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"]["annotations"]
    assert d["metadata"]["generation"] == before + 1
    assert [c["name"] for c in d["spec"]["template"]["spec"]["containers"]] == ["nginx"]


def test_scale(kube, ns):
    kube.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    kube.kubectl("scale", "-n", ns, "deployment/nginx", "--replicas=3")
    assert kube.store.get("deployments", ns, "nginx")["spec"]["replicas"] == 3


def test_delete_waits_for_the_object_to_go(kube, ns):
    kube.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    out = kube.kubectl("delete", "-n", ns, "deployment", "nginx").stdout
    assert 'deployment.apps "nginx" deleted' in out
    assert kube.store.get("deployments", ns, "nginx") is None
    missing = kube.kubectl("delete", "-n", ns, "deployment", "nginx", check=False)
    assert missing.returncode == 1 and 'deployments.apps "nginx" not found' in missing.stderr


class LineReader:
    """Lines of a subprocess's stdout, read by a thread (select() cannot see Python's pipe buffer)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def next(self, timeout: float = 20) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("kubectl printed nothing new") from None


def test_get_watch_prints_new_objects(kube, ns):
    make_pod(kube, ns, "before")
    proc = kube.kubectl_popen("get", "pods", "-n", ns, "-w")
    try:
        out = LineReader(proc)
        assert out.next().split()[0] == "NAME"
        assert out.next().split()[0] == "before"
        make_pod(kube, ns, "during")
        assert out.next().split()[:3] == ["during", "0/1", "Pending"]
        kube.store.patch("pods", ns, "during", {"status": {"phase": "Running"}}, subresource="status")
        assert out.next().split()[:3] == ["during", "0/1", "Running"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def test_seed_vpceni_commands_verbatim(kube):
    kube.store.create("vpcenis", {
        "metadata": {"name": "eni-web-1", "labels": {"tke.cloud.tencent.com/pod-name": "web-1",
                                                     "tke.cloud.tencent.com/pod-namespace": "shop"}},
        "status": {"eni": {"eniID": "eni-8x2k1v3c"}}})
    kube.store.create("vpcenis", {
        "metadata": {"name": "eni-web-2", "labels": {"tke.cloud.tencent.com/pod-name": "web-2",
                                                     "tke.cloud.tencent.com/pod-namespace": "shop"}}})
    try:
        found = kube.kubectl("get", "vpceni", "-l",
                             "tke.cloud.tencent.com/pod-name=web-1,tke.cloud.tencent.com/pod-namespace=shop")
        lines = found.stdout.splitlines()
        assert lines[0].split() == ["NAME", "ENI-ID", "AGE"] and lines[1].split()[:2] == ["eni-web-1", "eni-8x2k1v3c"]
        assert len(lines) == 2
        eni = kube.kubectl("get", "vpceni", "eni-web-1", "-ojsonpath={.status.eni.eniID}")
        assert eni.stdout == "eni-8x2k1v3c"
    finally:
        kube.store.delete_collection("vpcenis")


def test_describe_shows_events(kube, ns):
    p = make_pod(kube, ns, "stuck")
    kube.store.add_event(ns, p, "FailedScheduling",
                         "0/5 nodes are available: 5 Insufficient tke.cloud.tencent.com/sub-eni.", type="Warning",
                         component="default-scheduler")
    out = kube.kubectl("describe", "pod", "stuck", "-n", ns).stdout
    assert "FailedScheduling" in out and "Insufficient tke.cloud.tencent.com/sub-eni" in out


def test_wrong_token_gives_kubectls_login_error(kube, tmp_path):
    bad = tmp_path / "kubeconfig"
    kube.server.write_kubeconfig(bad, token="wrong")
    cmd = [kubectl_path(), "--kubeconfig", str(bad), "--cache-dir", str(tmp_path / "c"), "get", "pods"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=kube.env(), timeout=60)
    assert proc.returncode == 1 and "You must be logged in to the server" in proc.stderr


def test_kubectl_wait_for_crd_established(kube):
    out = kube.kubectl("wait", "--for=condition=established", "--timeout=10s",
                       "crd/vpcenis.networking.tke.cloud.tencent.com").stdout
    assert "condition met" in out
