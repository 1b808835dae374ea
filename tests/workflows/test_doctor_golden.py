"""Golden files of `doctor`'s table (ASCII: not a terminal) and JSON, over a fixed fake cluster that
has a bit of everything: a policy attached to one role only, a policy naming a missing group, a stale
Pod, Pods stuck Pending and in ContainerCreating, an unsupported node, Node LocalDNS in standard mode.

These are change detectors, not hand-written expectations: regenerate after an intended change with
``SGPCTL_UPDATE_GOLDEN=1`` and review every line of the diff before committing it (CONTRIBUTING.md).
The facts they must show are asserted separately below, by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sgpctl.cloud.types import PodLimits
from sgpctl.core.cam_policy import seed_document
from sgpctl.kube import resources as r
from sgpctl.environment import Environment
from sgpctl.render.terminal import Terminal
from sgpctl.settings import RootFlags, resolve_settings
from sgpctl.workflows.doctor import CATEGORIES, DoctorContext, run_doctor

from tests.fakes import CLUSTER_ID, SGP, VPCENI, FakeAddon, FakeCloud, FakeKube, daemonset, \
    eni, eniipamd, ipamd_deployment, node, pod, policy

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SGPCTL_UPDATE_GOLDEN") == "1"


def kubeconfig(path: Path, context: str = f"{CLUSTER_ID}-context-default") -> None:
    path.write_text(f"""apiVersion: v1
kind: Config
current-context: {context}
clusters:
- name: {CLUSTER_ID}
  cluster: {{server: "https://{CLUSTER_ID}.ccs.tencent-cloud.com"}}
contexts:
- name: {context}
  context: {{cluster: {CLUSTER_ID}, user: admin}}
users:
- name: admin
  user: {{token: not-a-secret}}
""")


def half_set_up_world() -> tuple[FakeKube, FakeCloud]:
    kube, cloud = FakeKube(), FakeCloud()
    cloud.cam.policies["SubENIForIPAMD"] = (100000001, seed_document())
    cloud.cam.roles["IPAMDofTKE_QCSRole"] = [100000001]
    eniipamd(cloud)
    kube.add(r.DEPLOYMENTS, ipamd_deployment("3.6.0"))
    cloud.tke.addons["securitygrouppolicy"] = FakeAddon("securitygrouppolicy", "1.1.0")
    cloud.vpc.groups = {"sg-web00001": "web"}
    cloud.tke.pod_limits = [PodLimits("ap-guangzhou-3", "SA5", "SA5.2XLARGE16", 64, 32, 8, 100)]
    kube.add(r.NODES, node("10.0.0.10", "SA5.2XLARGE16", allocatable=2, provider_id="qcloud:///100003/ins-aaaaaaaa"))
    kube.add(r.NODES, node("10.0.0.11", "S5.LARGE8", provider_id="qcloud:///100003/ins-bbbbbbbb"))
    kube.add(SGP, policy("web", "shop"))
    kube.add(SGP, policy("ghost", "shop", labels={"app": "ghost"}, groups=("sg-missing1",)))
    kube.add(r.PODS, pod("web-1", "shop", ip="10.0.1.10", node="10.0.0.10", sub_eni=True,
                         owner=("ReplicaSet", "web-5d8f7b9c6d")))
    kube.add(VPCENI, {"metadata": {"name": "vpceni-web-1", "labels": {"tke.cloud.tencent.com/pod-name": "web-1",
                                                                       "tke.cloud.tencent.com/pod-namespace": "shop"}},
                      "status": {"eni": {"eniID": "eni-web00001"}}})
    cloud.vpc.records["eni-web00001"] = eni("eni-web00001", "ins-aaaaaaaa")
    cloud.tke.instances = ["ins-aaaaaaaa", "ins-bbbbbbbb"]
    kube.add(r.PODS, pod("web-old", "shop", ip="10.0.1.11", node="10.0.0.10", created="2026-01-02T00:00:00Z"))
    pending = pod("web-2", "shop", ip=None, node=None, phase="Pending", sub_eni=True)
    kube.add(r.PODS, pending)
    creating = pod("ghost-1", "shop", labels={"app": "ghost"}, ip=None, node="10.0.0.10", phase="Pending", sub_eni=True,
                   groups="sg-missing1")
    creating["status"]["containerStatuses"] = [{"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}}]
    kube.add(r.PODS, creating)
    for name, reason, message, component in [
        ("web-2", "FailedScheduling", "0/2 nodes are available: 1 Insufficient tke.cloud.tencent.com/sub-eni, "
                                      "1 node(s) didn't match Pod's node affinity/selector.", "default-scheduler"),
        ("ghost-1", "FailedCreatePodSandBox", 'plugin type="tke-eni-cni" failed (add): security group sg-missing1 '
                                              "does not exist", "kubelet"),
    ]:
        kube.add(r.EVENTS, {"metadata": {"name": f"{name}.1", "namespace": "shop"},
                            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": name},
                            "reason": reason, "message": message, "type": "Warning",
                            "lastTimestamp": "2026-02-01T00:00:00Z", "source": {"component": component}})
    kube.add(r.DAEMONSETS, daemonset("node-local-dns"))
    return kube, cloud


def context_for(tmp_path: Path, kube: FakeKube, cloud: FakeCloud) -> DoctorContext:
    path = tmp_path / "kubeconfig"
    kubeconfig(path)
    env = {"TENCENTCLOUD_SECRET_ID": "AKIDgolden", "TENCENTCLOUD_SECRET_KEY": "golden-secret",
           "TENCENTCLOUD_REGION": "ap-guangzhou", "SGPCTL_CLUSTER_ID": CLUSTER_ID, "KUBECONFIG": str(path)}
    settings = resolve_settings(RootFlags(), environ=env, home=tmp_path)
    return DoctorContext(settings, cloud_factory=lambda: cloud, kube_factory=lambda: kube)


def render(tmp_path: Path, output: str) -> tuple[str, int]:
    kube, cloud = half_set_up_world()
    env = Environment.captured({})
    code = Terminal(env).checks(run_doctor(context_for(tmp_path, kube, cloud)), output)
    return env.out().replace(str(tmp_path), "<tmp>"), code


def compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"no golden file {path}: run with SGPCTL_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_table_golden(tmp_path):
    text, code = render(tmp_path, "table")
    compare("doctor_half_set_up.txt", text)
    assert code == 1
    assert "golden-secret" not in text


def test_json_golden(tmp_path):
    text, code = render(tmp_path, "json")
    compare("doctor_half_set_up.json", text)
    doc = json.loads(text)
    assert code == 1 and doc["ok"] is False
    assert [c["name"] for c in doc["categories"]] == list(CATEGORIES)
    for cat in doc["categories"]:
        for check in cat["checks"]:
            assert {"id", "description", "status", "message", "hint"} <= set(check)
            assert check["status"] in ("pass", "warn", "fail", "skip", "info")


def statuses(doc: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for cat in doc["categories"] for c in cat["checks"]}


def test_the_half_set_up_world_fails_where_it_should(tmp_path):
    text, _ = render(tmp_path, "json")
    st = statuses(json.loads(text))
    failing = sorted(k for k, v in st.items() if v == "fail")
    assert failing == ["cam-role-tke-qcsrole", "pods-container-creating", "pods-pending-sub-eni", "pods-stale",
                       "policies-groups-exist"]
    assert st["nodes-families"] == "warn" and st["manual-client-token-allowlist"] == "warn"
    assert st["strict-nodelocaldns"] == "info"  # standard routing: a note about a future switch
    assert st["pods-verified"] == "pass"


@pytest.mark.parametrize("names,expected", [
    (["cam"], ["cam"]),
    (["manual", "settings"], ["settings", "manual"]),
])
def test_category_selection_keeps_doctor_order(tmp_path, names, expected):
    kube, cloud = half_set_up_world()
    results = list(run_doctor(context_for(tmp_path, kube, cloud), names))
    assert list(dict.fromkeys(res.category for res in results)) == expected
