"""`sgpctl capture`, then a region replayed from it (`sandbox up --from-capture`): sgpctl meets the answers
the cluster gave, so `verify pods -A` and `doctor` reach the same verdicts, Pod by Pod and check by check;
the file holds no secret; `--redact-names` leaves no name of the user's and the replay still verifies;
`policy explain` and `capacity` read a capture with `--snapshot`."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from pathlib import Path

import pytest

from sgpctl.sandbox.kube.crds import SGP_RESOURCE

ROOT = Path(__file__).resolve().parents[2]
NS = "my-namespace"
PORT = re.compile(r"127\.0\.0\.1:\d+")


def capture(cli, path: Path, *args: str) -> dict:
    r = cli("capture", "-o", str(path), *args)
    assert r.exit_code == 0, r.output
    return json.loads(path.read_text())


def verify_verdicts(cli) -> tuple:
    r = cli("verify", "pods", "-A", "-o", "json")
    data = r.json()
    pods = {(p["namespace"], p["name"]): (p["ok"], p["stale"], [(c["id"], c["status"], c["message"]) for c in p["checks"]])
            for p in data["pods"]}
    return r.exit_code, data["ok"], data["summary"], pods


def doctor_verdicts(cli) -> tuple:
    r = cli("doctor", "-o", "json")
    checks = {c["id"]: (c["status"], PORT.sub("127.0.0.1:PORT", c["message"]))
              for cat in r.json()["categories"] for c in cat["checks"]}
    return r.exit_code, checks


def replayed(sandbox_cli, doc: dict):
    return sandbox_cli("capture", capture=doc)


def run_procedure(cli, tmp_path: Path) -> str:
    """The TKE document's procedure on the default scenario, through the CLI: setup, a security group,
    the document's policy, its nginx Deployment, verification."""
    assert cli("setup", "--yes").exit_code == 0
    # As the document says: the group must allow what the Pods need (kubelet probes, DNS).
    gid = cli("sg", "create", "demo-nginx", "--allow-node-probes", "--allow-dns").stdout.strip()
    policy = tmp_path / "policy.yaml"
    policy.write_text((ROOT / "examples" / "policy.yaml").read_text().replace("sg-xxxxyyyy", gid))
    assert cli("policy", "apply", "-f", str(policy)).exit_code == 0
    cli.sandbox.kube.create("deployments.apps", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx", "namespace": NS},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "my-app"}},
                 "template": {"metadata": {"labels": {"app": "my-app"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}}}})
    deadline = time.monotonic() + 20
    while True:
        cli.sandbox.settle()
        pods = cli.sandbox.kube.list("pods", NS, label_selector="app=my-app")
        if len([p for p in pods if (p.get("status") or {}).get("phase") == "Running"]) == 2:
            break
        assert time.monotonic() < deadline, "the nginx Pods did not start"
        time.sleep(0.05)
    assert cli("verify", "pods", "-A").exit_code == 0
    return gid


def assert_replay_reproduces(original, replay, *, pods: int) -> None:
    before_verify, after_verify = verify_verdicts(original), verify_verdicts(replay)
    assert after_verify == before_verify
    assert len(before_verify[3]) == pods
    before_doctor, after_doctor = doctor_verdicts(original), doctor_verdicts(replay)
    assert after_doctor == before_doctor


def test_default_after_the_procedure_replays_with_the_same_verify_and_doctor_verdicts(sandbox_cli, tmp_path):
    cli = sandbox_cli("default")
    run_procedure(cli, tmp_path)
    doc = capture(cli, tmp_path / "capture.json")
    replay = replayed(sandbox_cli, doc)
    # The replay serves the captured cluster: same id, same region, same objects.
    assert (replay.sandbox.cluster_id, replay.sandbox.region) == (cli.sandbox.cluster_id, cli.sandbox.region)
    assert_replay_reproduces(cli, replay, pods=2)
    assert verify_verdicts(replay)[1] is True


def test_strict_hazards_replays_with_the_same_verify_and_doctor_verdicts(sandbox_cli, tmp_path):
    cli = sandbox_cli("strict-hazards")
    doc = capture(cli, tmp_path / "capture.json")
    replay = replayed(sandbox_cli, doc)
    assert_replay_reproduces(cli, replay, pods=2)
    # doctor fails on the same hazards in both (they are what the scenario is about)
    code, checks = doctor_verdicts(replay)
    assert checks["strict-ipvs"][0] == "info" and checks["routing-mode"][0] == "info"


def test_a_stuck_pod_stays_stuck_in_the_replay_until_it_changes(sandbox_cli, tmp_path):
    """The replay starts as captured: controllers act only on what changes afterwards."""
    cli = sandbox_cli("default")
    run_procedure(cli, tmp_path)
    # A policy naming a group that does not exist: its Pods stay in ContainerCreating.
    gid = cli.sandbox.cloud.add_security_group("doomed", "goes away")
    cli.sandbox.kube.create(SGP_RESOURCE, {
        "apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
        "metadata": {"name": "stuck", "namespace": NS},
        "spec": {"podSelector": {"matchLabels": {"app": "stuck"}}, "securityGroups": {"groupIds": [gid]}}})
    cli.sandbox.cloud.remove_security_group(gid)
    cli.sandbox.kube.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck", "namespace": NS,
                                                                                    "labels": {"app": "stuck"}},
                                     "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}})
    cli.sandbox.settle()
    assert cli.sandbox.kube.get("pods", NS, "stuck")["status"]["phase"] == "Pending"
    doc = capture(cli, tmp_path / "capture.json")
    replay = replayed(sandbox_cli, doc)
    assert_replay_reproduces(cli, replay, pods=3)
    assert doctor_verdicts(replay)[1]["pods-container-creating"][0] == "fail"
    replay.sandbox.settle()
    assert replay.sandbox.kube.get("pods", NS, "stuck")["status"]["phase"] == "Pending"
    # What changes is acted on: a new Pod of the working policy gets its sub-ENI in the replay.
    replay.sandbox.kube.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "fresh", "namespace": NS, "labels": {"app": "my-app"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}})
    replay.sandbox.settle()
    fresh = replay("verify", "pod", "fresh", "-n", NS, "-o", "json")
    assert fresh.exit_code == 0, fresh.stdout
    assert fresh.json()["eniId"].startswith("eni-")


# -- large ---------------------------------------------------------------------------------------------

def _scaled_down_large(monkeypatch) -> None:
    from sgpctl.sandbox.scenarios import large

    monkeypatch.setattr(large, "LARGE_NAMESPACES", 3)
    monkeypatch.setattr(large, "LARGE_REPLICAS", 20)
    monkeypatch.setattr(large, "LARGE_NODE_MIX", (("SA5.2XLARGE16", 12), ("S8.4XLARGE32", 6), ("SA5.16XLARGE256", 2),
                                                  ("S5.LARGE8", 2)))


def test_large_scenario_replays_with_the_same_verdicts_scaled_down(sandbox_cli, tmp_path, monkeypatch):
    """The large scenario's shape (bulk-built Pods and VpcENIs, 2 policies a namespace, 4 families) at
    300 Pods on 22 nodes; the slow test below runs it at full size."""
    _scaled_down_large(monkeypatch)
    cli = sandbox_cli("large")
    doc = capture(cli, tmp_path / "capture.json")
    replay = replayed(sandbox_cli, doc)
    assert_replay_reproduces(cli, replay, pods=300)


@pytest.mark.slow
def test_large_scenario_replays_with_the_same_verdicts(sandbox_cli, tmp_path):
    cli = sandbox_cli("large")
    doc = capture(cli, tmp_path / "capture.json")
    replay = replayed(sandbox_cli, doc)
    assert_replay_reproduces(cli, replay, pods=10_000)


# -- secrets ---------------------------------------------------------------------------------------

def test_no_secret_or_token_is_in_the_file(sandbox_cli, tmp_path):
    token = "tok-" + secrets.token_hex(12)
    cli = sandbox_cli("strict-hazards", env={"TENCENTCLOUD_SESSION_TOKEN": token})
    sb = cli.sandbox
    sb.cloud.add_credentials(sb.secret_id, sb.secret_key, token)
    planted = {name: f"{name}-{secrets.token_hex(8)}" for name in (
        "secret-data", "secret-string", "env", "arg", "arg2", "url", "annotation", "last-applied", "configmap",
        "addon", "addon-nested")}
    sb.kube.create("secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": NS},
                               "data": {"password": base64.b64encode(planted["secret-data"].encode()).decode()},
                               "stringData": {"token": planted["secret-string"]}})
    sb.kube.create("deployments.apps", {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "leaky", "namespace": NS, "annotations": {
            "example.com/auth-token": planted["annotation"],
            "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"x": planted["last-applied"]})}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "leaky"}},
                 "template": {"metadata": {"labels": {"app": "leaky"}}, "spec": {"containers": [{
                     "name": "app", "image": "app:1",
                     "env": [{"name": "DB_PASSWORD", "value": planted["env"]},
                             {"name": "DB_URL", "value": f"mysql://app:{planted['url']}@db:3306/x"},
                             {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
                     "args": [f"--api-token={planted['arg']}", "--password", planted["arg2"]]}]}}}})
    proxy = sb.kube.get("configmaps", "kube-system", "kube-proxy")
    proxy["data"]["config.conf"] += f"bearerToken: {planted['configmap']}\n"
    sb.kube.update("configmaps", proxy)
    sb.cloud.add_addon(sb.cluster_id, "tke-log-agent", "1.1.9",
                       {"apiToken": planted["addon"], "sink": {"secretKey": planted["addon-nested"], "region": "gz"}})
    sb.settle()

    path = tmp_path / "capture.json"
    doc = capture(cli, path)
    text = path.read_text()
    forbidden = {"secret key": sb.secret_key, "session token": token, "kube token": sb.kube_token,
                 "sandbox admin token": sb.admin_token,
                 "Secret data (base64)": base64.b64encode(planted["secret-data"].encode()).decode(), **planted}
    leaked = [what for what, value in forbidden.items() if value in text]
    assert leaked == []
    kinds = {o["kind"] for o in doc["kubernetes"]["objects"]}
    assert "Secret" not in kinds and "Deployment" in kinds
    for obj in doc["kubernetes"]["objects"]:
        assert "managedFields" not in obj["metadata"]
        assert "kubectl.kubernetes.io/last-applied-configuration" not in (obj["metadata"].get("annotations") or {})
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # What is not secret stays: the Deployment, its harmless env, the add-on's other values.
    leaky = next(o for o in doc["kubernetes"]["objects"] if o["kind"] == "Deployment" and o["metadata"]["name"] == "leaky")
    env = leaky["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[2] == {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
    log_agent = next(json.loads(c["response"]["Values"]) for c in doc["cloud"]
                     if c["action"] == "DescribeAddonValues" and c["params"]["AddonName"] == "tke-log-agent")
    assert log_agent == {"apiToken": "<redacted>", "sink": {"secretKey": "<redacted>", "region": "gz"}}


# -- names -----------------------------------------------------------------------------------------

def test_redact_names_leaves_no_user_name_and_the_replay_still_verifies(sandbox_cli, tmp_path):
    cli = sandbox_cli("strict-hazards")
    kube = cli.sandbox.kube
    names = {NS, *(p["metadata"]["name"] for p in kube.list("pods", NS)), *(p["metadata"]["name"] for p in kube.list(SGP_RESOURCE, NS)),
             *(s["metadata"]["name"] for s in kube.list("services", NS))}
    assert len(names) >= 5
    path = tmp_path / "capture.json"
    doc = capture(cli, path, "--redact-names")
    text = path.read_text()
    assert [n for n in sorted(names) if n in text] == []
    assert doc["redaction"]["namesHashed"] is True

    replay = replayed(sandbox_cli, doc)
    code, ok, summary, pods = verify_verdicts(replay)
    original = verify_verdicts(cli)
    assert (code, ok) == original[:2] and ok is True
    assert summary["pods"] == original[2]["pods"] == 2
    strip = sorted((v[0], v[1], [(i, s) for i, s, _ in v[2]]) for v in pods.values())
    assert strip == sorted((v[0], v[1], [(i, s) for i, s, _ in v[2]]) for v in original[3].values())
    assert {k: v[0] for k, v in doctor_verdicts(replay)[1].items()} == {k: v[0] for k, v in doctor_verdicts(cli)[1].items()}


# -- offline -----------------------------------------------------------------------------------------

def test_capacity_and_explain_read_a_capture_as_a_snapshot(sandbox_cli, tmp_path):
    cli = sandbox_cli("default")  # trunking off: nodes report no sub-ENI allocatable, the cloud's limits decide
    path = tmp_path / "capture.json"
    capture(cli, path)
    live = cli("capacity", "-o", "json").json()
    offline = cli("capacity", "--snapshot", str(path), "-o", "json")
    assert offline.exit_code == 0, offline.output
    offline = offline.json()
    assert {n["quotaSource"] for n in live["nodes"]} <= {"DescribeVpcCniPodLimits", "DescribeNetworkInterfaceLimit"}
    for data in (live, offline):
        data.pop("source")
    assert offline == live

    strict = sandbox_cli("strict-hazards")
    path = tmp_path / "strict.json"
    capture(strict, path)
    live = strict("policy", "explain", "-A", "-o", "json").json()
    offline = strict("policy", "explain", "-A", "--snapshot", str(path), "-o", "json")
    assert offline.exit_code == 0, offline.output
    offline = offline.json()
    assert offline.pop("source").startswith("snapshot ") and live.pop("source").startswith("cluster ")
    assert offline == live
    assert live["policies"] and live["summary"]


# -- the command -------------------------------------------------------------------------------------

def test_capture_of_one_namespace_to_stdout(sandbox_cli):
    cli = sandbox_cli("strict-hazards")
    r = cli("capture", "-n", NS, "-o", "-")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kind"] == "SgpctlCapture" and doc["formatVersion"] == 1 and doc["scope"]["namespace"] == NS
    namespaced = {o["metadata"].get("namespace") for o in doc["kubernetes"]["objects"]} - {None}
    assert namespaced == {NS, "kube-system"}
    # kube-system: only what the routing checks and eniipamd's version read
    assert {o["kind"] for o in doc["kubernetes"]["objects"] if o["metadata"].get("namespace") == "kube-system"} == \
        {"DaemonSet", "Deployment", "ConfigMap"}
    assert {v["metadata"]["labels"]["tke.cloud.tencent.com/pod-namespace"]
            for v in doc["kubernetes"]["objects"] if v["kind"] == "VpcENI"} == {NS}
    assert f"captured cluster {cli.sandbox.cluster_id}" in r.stderr and f"namespace {NS}" in r.stderr
    # The namespace alone replays: its Pods verify as they did.
    replay = replayed(sandbox_cli, doc)
    original = cli("verify", "pods", "-n", NS, "-o", "json").json()
    again = replay("verify", "pods", "-A", "-o", "json").json()
    assert again["pods"] == original["pods"] and len(again["pods"]) == 2


def test_capture_refuses_a_format_name_as_its_file(sandbox_cli, tmp_path):
    cli = sandbox_cli("default")
    r = cli("capture", "-o", "json")
    assert r.exit_code == 2
    assert "-o names the file" in r.stderr and "capture.json" in r.stderr
    assert not Path("json").exists()


def test_a_read_that_fails_makes_a_partial_capture_said_so_with_exit_3(sandbox_cli, tmp_path):
    cli = sandbox_cli("default", faults="cam.ListAttachedRolePolicies:5xx=1")
    path = tmp_path / "capture.json"
    r = cli("capture", "-o", str(path))
    assert r.exit_code == 3
    assert "note: not captured: ListAttachedRolePolicies IPAMDofTKE_QCSRole" in r.stderr
    assert "the capture is partial" in r.stderr
    doc = json.loads(path.read_text())
    failed = [c for c in doc["cloud"] if c["action"] == "ListAttachedRolePolicies"]
    assert failed and all("error" in c for c in failed)
    assert any(c["action"] == "DescribeClusters" and "response" in c for c in doc["cloud"])


def test_without_the_cluster_nothing_is_written(sandbox_cli, tmp_path):
    cli = sandbox_cli("default", env={"SGPCTL_CLUSTER_ID": "cls-00000000"})
    path = tmp_path / "capture.json"
    r = cli("capture", "-o", str(path))
    assert r.exit_code == 1 and "ClusterNotFound" in r.stderr
    assert not path.exists()


def test_capture_only_reads_and_lists_each_collection_once(sandbox_cli, tmp_path):
    from collections import Counter

    from sgpctl.sandbox.requestlog import describe

    cli = sandbox_cli("strict-hazards")
    mark = cli.sandbox.log.mark()
    doc = capture(cli, tmp_path / "capture.json")
    entries = [describe(e) for e in cli.sandbox.log.since(mark)]
    assert [e for e in entries if e["mutating"]] == []
    lists = Counter((e["resource"], e["namespace"], e.get("labelSelector"), e.get("fieldSelector"))
                    for e in entries if e["api"] == "kube" and e["verb"] == "list" and not e.get("continue"))
    assert {k: n for k, n in lists.items() if n > 1} == {}
    assert ("secrets", None, None, None) not in lists and not any(e.get("resource") == "secrets" for e in entries)
    # what the file records is what the cloud was asked: one recorded call per cloud request
    cloud = [e for e in entries if e["api"] == "cloud"]
    assert len(doc["cloud"]) == len(cloud)


def test_leaked_sub_enis_replay_as_leaks(sandbox_cli, tmp_path):
    """Scale-downs without the client-token allowlist leave sub-ENIs behind; the capture lists the nodes'
    ENIs as `eni leaks` does, so the replay finds the same leaks (their ages move on: timestamps)."""
    from sgpctl.kube import resources as r
    from sgpctl.kube.client import Kube

    cli = sandbox_cli("default", variants={"client-token-allowlist": "false"})
    run_procedure(cli, tmp_path)
    kube = Kube.from_kubeconfig(cli.env["KUBECONFIG"])
    for replicas in (6, 0):
        kube.patch(r.DEPLOYMENTS, "nginx", {"spec": {"replicas": replicas}}, NS)
        deadline = time.monotonic() + 20
        while len(cli.sandbox.kube.list("pods", NS, label_selector="app=my-app")) != replicas:
            cli.sandbox.settle()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        cli.sandbox.settle()

    def leaks(c) -> tuple:
        data = c("eni", "leaks", "-o", "json").json()
        return ({(x["eniId"], x["node"], x["reason"], tuple(x["securityGroups"])) for x in data["leaks"]},
                data["subEnis"], data["inconsistencies"], data["blockers"])

    before = leaks(cli)
    assert len(before[0]) == 2  # 6 teardowns, one in three leaks
    doc = capture(cli, tmp_path / "capture.json")
    replay = replayed(sandbox_cli, doc)
    assert leaks(replay) == before
    assert {k: v[0] for k, v in doctor_verdicts(replay)[1].items()} == {k: v[0] for k, v in doctor_verdicts(cli)[1].items()}
