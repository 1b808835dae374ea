"""The second half of the TKE procedure against the sandbox: policies, Pods, end-to-end verification."""

import subprocess
import time
from pathlib import Path


from sgpctl.kube import resources as r
from sgpctl.kube.client import Kube
from tests.support import clean_env

ROOT = Path(__file__).resolve().parents[2]
NS = "my-namespace"


def kube_of(cli) -> Kube:
    return Kube.from_kubeconfig(cli.env["KUBECONFIG"])


def kubectl(cli, *args, tmp=None):
    env = clean_env(KUBECONFIG=cli.env["KUBECONFIG"])
    return subprocess.run(["kubectl", "--cache-dir", str(Path(cli.env["KUBECONFIG"]).parent / "kcache"), *args],
                          env=env, capture_output=True, text=True, timeout=60)


def ensure_namespace(kube, ns=NS):
    if kube.get(r.NAMESPACES, ns) is None:
        kube.create(r.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})


def deploy(kube, name="nginx", labels=None, replicas=1, ns=NS):
    labels = labels or {"app": "my-app"}
    kube.create(r.DEPLOYMENTS, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}}},
    }, ns)


def running_pods(cli, kube, selector="app=my-app", count=1, ns=NS, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        cli.sandbox.settle()
        pods = [p for p in kube.list(r.PODS, ns, label_selector=selector)
                if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
        if len(pods) >= count:
            return pods
        assert time.monotonic() < deadline, f"pods {selector} not running: {[ (p['metadata']['name'], p.get('status', {}).get('phase')) for p in kube.list(r.PODS, ns)]}"
        time.sleep(0.05)


def prepare(cli, tmp_path, group_name="demo-nginx"):
    assert cli("setup", "--yes").exit_code == 0
    gid = cli("sg", "create", group_name).stdout.strip()
    policy = tmp_path / "policy.yaml"
    policy.write_text((ROOT / "examples" / "policy.yaml").read_text().replace("sg-xxxxyyyy", gid))
    ensure_namespace(kube_of(cli))
    return gid, policy


def test_seed_procedure_verifies_with_eni_groups_equal_to_the_policys(cli, tmp_path):
    gid, policy = prepare(cli, tmp_path)
    r1 = cli("policy", "apply", "-f", str(policy), "-o", "json")
    assert r1.exit_code == 0, r1.stdout + r1.stderr
    assert r1.json()["steps"][0]["message"] == "securitygrouppolicy/my-security-group-policy created"
    r2 = cli("policy", "apply", "-f", str(policy))
    assert "securitygrouppolicy/my-security-group-policy unchanged" in r2.stdout
    kube = kube_of(cli)
    deploy(kube)
    (pod,) = running_pods(cli, kube)
    name = pod["metadata"]["name"]
    v = cli("verify", "pod", name, "-n", NS, "--expect-sg", gid, "-o", "json")
    assert v.exit_code == 0, v.stdout
    data = v.json()
    assert data["ok"] is True and data["stale"] is False
    assert data["expectedSecurityGroups"] == data["annotatedSecurityGroups"] == data["eniSecurityGroups"] == [gid]
    assert data["eniId"].startswith("eni-")
    assert [c["id"] for c in data["checks"]] == ["pod-exists", "host-network", "network-annotation", "sub-eni-resource",
                                                 "security-groups", "expected-groups", "vpceni", "eni-groups", "node-family"]
    # The document's own kubectl commands find the same ENI.
    sel = f"tke.cloud.tencent.com/pod-name={name},tke.cloud.tencent.com/pod-namespace={NS}"
    got = kubectl(cli, "get", "vpceni", "-l", sel, "-o", "name")
    assert got.returncode == 0, got.stderr
    vpceni = got.stdout.strip().split("/")[-1]
    eni = kubectl(cli, "get", "vpceni", vpceni, "-ojsonpath={.status.eni.eniID}")
    assert eni.stdout.strip() == data["eniId"]
    pods = cli("verify", "pods", "-A", "-o", "json").json()
    assert pods["ok"] is True and pods["summary"]["pods"] == 1 and pods["summary"]["ok"] == 1


def test_pod_created_before_the_policy_is_stale_until_rolled_out(cli, tmp_path):
    gid, policy = prepare(cli, tmp_path)
    kube = kube_of(cli)
    deploy(kube)
    (old,) = running_pods(cli, kube)
    applied = cli("policy", "apply", "-f", str(policy))
    assert applied.exit_code == 0
    assert "1 existing Pod(s) in my-namespace keep their old security groups until rebuilt" in applied.stderr
    v = cli("verify", "pod", old["metadata"]["name"], "-n", NS, "-o", "json")
    assert v.exit_code == 1
    data = v.json()
    assert data["stale"] is True and data["ok"] is False
    failing = [c for c in data["checks"] if c["status"] == "fail"]
    assert "sgpctl policy rollout" in failing[0]["hint"]
    # Without --yes and no terminal: refused, nothing restarted.
    assert cli("policy", "rollout", "-n", NS).exit_code == 1
    dry = cli("policy", "rollout", "-n", NS, "--dry-run", "-o", "json").json()
    assert dry["plan"]["owners"] == [{"kind": "Deployment", "name": "nginx", "pods": [old["metadata"]["name"]]}]
    rolled = cli("policy", "rollout", "-n", NS, "--yes", "--wait", "-o", "json")
    assert rolled.exit_code == 0, rolled.stdout + rolled.stderr
    assert rolled.json()["verify"]["ok"] is True
    (new,) = running_pods(cli, kube)
    assert new["metadata"]["name"] != old["metadata"]["name"]
    assert cli("verify", "pod", new["metadata"]["name"], "-n", NS, "--expect-sg", gid).exit_code == 0


def test_policy_naming_a_missing_group_is_refused_and_nothing_is_written(cli, tmp_path):
    assert cli("setup", "--yes").exit_code == 0
    ensure_namespace(kube_of(cli))
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "examples" / "policy.yaml").read_text().replace("sg-xxxxyyyy", "sg-0000dead"))
    mark = cli.sandbox.log.mark()
    r_ = cli("policy", "apply", "-f", str(bad))
    assert r_.exit_code == 2
    assert "sg-0000dead does not exist" in r_.stderr
    assert [e for e in cli.sandbox.log.since(mark) if e["mutating"]] == []
    assert cli("policy", "list", "-n", NS, "-o", "json").json()["policies"] == []


def test_apply_dry_run_writes_nothing(cli, tmp_path):
    gid, policy = prepare(cli, tmp_path)
    mark = cli.sandbox.log.mark()
    r_ = cli("policy", "apply", "-f", str(policy), "--dry-run")
    assert r_.exit_code == 0 and "created (dry run)" in r_.stdout
    assert [e for e in cli.sandbox.log.since(mark) if e["mutating"]] == []


def test_eni_groups_changed_behind_the_tools_back_fail_verification(cli, tmp_path):
    gid, policy = prepare(cli, tmp_path)
    other = cli("sg", "create", "intruder").stdout.strip()
    assert cli("policy", "apply", "-f", str(policy)).exit_code == 0
    kube = kube_of(cli)
    deploy(kube)
    (pod,) = running_pods(cli, kube)
    eni_id = cli("verify", "pod", pod["metadata"]["name"], "-n", NS, "-o", "json").json()["eniId"]
    cli.sandbox.cloud.set_eni_groups(eni_id, [other])
    v = cli("verify", "pod", pod["metadata"]["name"], "-n", NS, "-o", "json")
    assert v.exit_code == 1
    (check,) = [c for c in v.json()["checks"] if c["id"] == "eni-groups"]
    assert check["status"] == "fail" and other in check["message"] and "changed outside TKE" in check["hint"]
    assert cli("verify", "pods", "-n", NS).exit_code == 1


def test_expect_sg_mismatch_fails(cli, tmp_path):
    gid, policy = prepare(cli, tmp_path)
    assert cli("policy", "apply", "-f", str(policy)).exit_code == 0
    kube = kube_of(cli)
    deploy(kube)
    (pod,) = running_pods(cli, kube)
    v = cli("verify", "pod", pod["metadata"]["name"], "-n", NS, "--expect-sg", "sg-99999999", "-o", "json")
    assert v.exit_code == 1
    (check,) = [c for c in v.json()["checks"] if c["id"] == "expected-groups"]
    assert check["status"] == "fail" and "sg-99999999" in check["message"]
    assert cli("verify", "pod", pod["metadata"]["name"], "-n", NS, "--expect-sg", "bad").exit_code == 2


def test_policy_create_list_get_delete(cli, tmp_path):
    assert cli("setup", "--yes").exit_code == 0
    gid = cli("sg", "create", "web").stdout.strip()
    ensure_namespace(kube_of(cli))
    yaml_out = cli("policy", "create", "web", "-n", NS, "--pod-selector", "app=web,tier!=db", "--sg", gid, "--dry-run", "-o", "yaml")
    assert yaml_out.exit_code == 0 and "NotIn" in yaml_out.stdout and gid in yaml_out.stdout
    assert cli("policy", "list", "-n", NS, "-o", "json").json()["policies"] == []
    assert cli("policy", "create", "web", "-n", NS, "--pod-selector", "app=web", "--sg", gid).exit_code == 0
    listed = cli("policy", "list", "-A", "-o", "json").json()["policies"]
    assert [(p["namespace"], p["name"], p["groupIds"]) for p in listed] == [(NS, "web", [gid])]
    got = cli("policy", "get", "web", "-n", NS, "-o", "json").json()
    assert got["spec"]["podSelector"] == {"matchLabels": {"app": "web"}}
    assert cli("policy", "create", "web2", "-n", NS, "--pod-selector", "x>1", "--sg", gid).exit_code == 2
    assert cli("policy", "delete", "web", "-n", NS).exit_code == 1  # no terminal, no --yes
    assert cli("policy", "delete", "web", "-n", NS, "--yes").exit_code == 0
    assert cli("policy", "get", "web", "-n", NS).exit_code == 1


def test_explain_on_the_live_cluster_predicts_then_confirms(cli, tmp_path):
    gid, policy = prepare(cli, tmp_path)
    kube = kube_of(cli)
    deploy(kube, replicas=2)
    old = running_pods(cli, kube, count=2)
    before = cli("policy", "explain", "-f", str(policy), "-o", "json")
    assert before.exit_code == 0, before.stderr
    data = before.json()
    (p,) = data["policies"]
    assert sorted(x["name"] for x in p["pods"]) == sorted(o["metadata"]["name"] for o in old)
    assert all(x["owner"] == "Deployment/nginx" and x["expectedSecurityGroups"] == [gid] for x in p["pods"])
    assert {s["staleReason"] for s in data["stale"]} == {"created before policy my-security-group-policy"}
    assert data["placement"]["needed"] == 2 and data["placement"]["pending"] == []
    assert cli("policy", "apply", "-f", str(policy)).exit_code == 0
    assert cli("policy", "rollout", "-n", NS, "--yes", "--wait").exit_code == 0
    after = cli("policy", "explain", "my-security-group-policy", "-n", NS, "-o", "json").json()
    assert after["stale"] == [] and after["policies"][0]["selectedPods"] == 2


def test_apply_refuses_unions_over_the_per_eni_limit(cli, tmp_path):
    assert cli("setup", "--yes").exit_code == 0
    kube = kube_of(cli)
    ensure_namespace(kube)
    groups = [cli("sg", "create", f"g{i}").stdout.strip() for i in range(6)]
    too_many = tmp_path / "six.yaml"
    too_many.write_text((ROOT / "examples" / "policy.yaml").read_text().replace("      - sg-xxxxyyyy", "\n".join(f"      - {g}" for g in groups)))
    r_ = cli("policy", "apply", "-f", str(too_many))
    assert r_.exit_code == 2 and "6 security groups, more than the 5" in r_.stderr
    # Two policies of 3 groups each are fine alone, but a Pod both select would get 6.
    deploy(kube)
    running_pods(cli, kube)
    both = tmp_path / "both.yaml"
    both.write_text("---\n".join(
        (ROOT / "examples" / "policy.yaml").read_text().replace("my-security-group-policy", name)
        .replace("      - sg-xxxxyyyy", "\n".join(f"      - {g}" for g in chunk))
        for name, chunk in (("a-policy", groups[:3]), ("b-policy", groups[3:]))))
    mark = cli.sandbox.log.mark()
    r_ = cli("policy", "apply", "-f", str(both))
    assert r_.exit_code == 2, r_.stdout + r_.stderr
    assert "would get 6 security groups from a-policy, b-policy, over the limit of 5 security groups per ENI" in r_.stderr
    # Nothing written but sgpctl's writer Lease, taken for the read and released.
    writes = [e for e in cli.sandbox.log.since(mark) if e["mutating"]]
    assert {e["params"]["resource"] for e in writes} == {"leases.coordination.k8s.io"}
    assert kube_of(cli).get_lease("sgpctl-policy-writer", NS)["spec"]["holderIdentity"] == ""


def test_rollout_refuses_when_the_rebuilt_pods_would_not_fit(cli, tmp_path):
    gid, policy = prepare(cli, tmp_path)
    kube = kube_of(cli)
    deploy(kube, replicas=3)
    running_pods(cli, kube, count=3)
    assert cli("policy", "apply", "-f", str(policy)).exit_code == 0
    # Room for only two sub-ENIs in the whole cluster, as if VPC had lowered every node's quota.
    instances = sorted(cli.sandbox.cloud.instances)
    for i, instance in enumerate(instances):
        cli.sandbox.cloud.set_sub_eni_quota(instance, 2 if i == 0 else 0)
    cli.sandbox.resync()
    cli.sandbox.settle()
    mark = cli.sandbox.log.mark()
    r_ = cli("policy", "rollout", "-n", NS, "--yes")
    assert r_.exit_code == 1, r_.stdout + r_.stderr
    assert "1 rebuilt Pod(s) would not fit" in r_.stderr  # 3 stale Pods, room for 2
    assert r_.stderr.count("would stay Pending:") == 1
    assert [e for e in cli.sandbox.log.since(mark) if e["mutating"]] == []


def test_warnings_pass_unless_fail_on_warning(cli, tmp_path):
    assert cli("setup", "--yes").exit_code == 0
    kube = kube_of(cli)
    ensure_namespace(kube)
    a, b = (cli("sg", "create", n).stdout.strip() for n in ("first", "second"))
    policy = tmp_path / "two.yaml"
    policy.write_text((ROOT / "examples" / "policy.yaml").read_text().replace("      - sg-xxxxyyyy", f"      - {a}\n      - {b}"))
    assert cli("policy", "apply", "-f", str(policy)).exit_code == 0
    deploy(kube)
    (pod,) = running_pods(cli, kube)
    eni = cli("verify", "pod", pod["metadata"]["name"], "-n", NS, "-o", "json").json()["eniId"]
    cli.sandbox.cloud.set_eni_groups(eni, [b, a])  # same groups, other priority order
    r_ = cli("verify", "pods", "-n", NS, "-o", "json")
    assert r_.exit_code == 0 and r_.json()["summary"]["warnings"] == 1
    assert cli("verify", "pods", "-n", NS, "--fail-on", "warning").exit_code == 1
    assert cli("verify", "pods", "-n", NS, "--fail-on", "everything").exit_code == 2


def test_sub_enis_the_vpc_api_does_not_list_are_undetermined_not_failed(cli, tmp_path):
    gid, policy = prepare(cli, tmp_path)
    assert cli("policy", "apply", "-f", str(policy)).exit_code == 0
    kube = kube_of(cli)
    deploy(kube, replicas=2)
    running_pods(cli, kube, count=2)
    cli.sandbox.cloud.variants["subeni-listed"] = "false"  # the unconfirmed behaviour, the other way
    r_ = cli("verify", "pods", "-n", NS, "-o", "json")
    assert r_.exit_code == 3  # could not determine: neither a pass nor N identical failures
    data = r_.json()
    for p in data["pods"]:
        checks = {c["id"]: c for c in p["checks"]}
        assert checks["eni-groups"]["status"] == "skip" and "could not determine" in checks["eni-groups"]["message"]
        assert checks["security-groups"]["status"] == "pass"  # what can be checked still is
    assert sum("does not seem to list sub-ENIs" in n for n in data["notes"]) == 1
    assert data["summary"]["undetermined"] == 2 and data["summary"]["ok"] == 0 and data["summary"]["failed"] == 0
    table = cli("verify", "pods", "-n", NS)
    assert table.exit_code == 3 and "2 Pods: 0 ok, 0 stale, 0 failed, 2 undetermined" in table.stdout
