"""Item 7: from failure to fix. Every failing row says the next command (in the table too); a Pod whose
ENI groups drifted is rebuilt by `policy rollout`; a policy that selects no Pod says why (its nearest
misses); `verify pods` that selects nothing warns (so --fail-on warning fails it); a check no API can
answer can be acknowledged so strict CI can pass."""

from __future__ import annotations

import json

from sgpctl.core.matching import near_misses
from sgpctl.core.policy import SecurityGroupPolicy
from tests.habits.conftest import NS, build_world, nginx, running
from tests.sandbox_support import create_sgp, running_sandbox, sandbox_env, sgpctl


def _pod(name, ns, labels, sa="default"):
    return {"metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": {"serviceAccountName": sa},
            "status": {"phase": "Running"}}


def _policy(**spec):
    obj = {"apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
           "metadata": {"name": "p", "namespace": "shop"}, "spec": {"securityGroups": {"groupIds": ["sg-1a2b3c4d"]}, **spec}}
    return SecurityGroupPolicy.from_object(obj)


def test_near_misses_name_pods_elsewhere_half_matches_and_other_label_values():
    pods = [_pod("web-1", "staging", {"app": "web"}), _pod("web-2", "shop", {"app": "webb"}),
            _pod("api-1", "shop", {"app": "api"}), _pod("web-3", "shop", {"app": "web"}, sa="builder")]
    sas = [{"metadata": {"name": "builder", "namespace": "shop", "labels": {"role": "ci"}}},
           {"metadata": {"name": "default", "namespace": "shop", "labels": {}}}]
    why = near_misses(_policy(podSelector={"matchLabels": {"app": "web"}}), pods[:3], sas)
    assert why[0].startswith("Pods in other namespaces match its selectors (staging/web-1)")
    assert "Pods in shop carry app=api (1), app=webb (1); the policy wants app=web" in why
    both = near_misses(_policy(podSelector={"matchLabels": {"app": "web"}},
                               serviceAccountSelector={"matchLabels": {"role": "runtime"}}), pods, sas)
    assert "shop/web-3 matches podSelector but its ServiceAccount builder does not match serviceAccountSelector role=runtime" in both
    assert near_misses(_policy(podSelector={"matchLabels": {"app": "web"}}), [], sas) == ["there is no running Pod in namespace shop"]


def test_a_policy_selecting_no_pod_says_why(world):
    create_sgp(world.sb, "typo-policy", [world.group], match_labels={"app": "my-ap"})
    try:
        r = sgpctl(world.env, "policy", "explain", "typo-policy", "-n", NS)
        assert r.returncode == 0
        assert "selects 0 Pods" in r.stdout
        (why,) = [line for line in r.stdout.splitlines() if line.startswith("  - Pods in my-namespace carry")]
        assert "app=my-app (2)" in why and why.endswith("the policy wants app=my-ap")
        doc = json.loads(sgpctl(world.env, "policy", "explain", "typo-policy", "-n", NS, "-o", "json").stdout)
        assert doc["policies"][0]["whyNoPods"] == [why.strip()[2:]]
        doctor = json.loads(sgpctl(world.env, "doctor", "-c", "policies", "-o", "json").stdout)
        (check,) = [c for cat in doctor["categories"] for c in cat["checks"] if c["id"] == "policies-select-pods"]
        assert any("the policy wants app=my-ap" in e for e in check["evidence"])
        assert check["hint"].endswith("sgpctl policy explain typo-policy -n my-namespace")
    finally:
        world.sb.kube.delete("securitygrouppolicies.vpcresources.tke.cloud.tencent.com", NS, "typo-policy")


def test_verify_pods_that_selects_nothing_warns(world):
    r = sgpctl(world.env, "verify", "pods", "-n", "default")
    assert r.returncode == 0
    assert "no Pod in namespace default is selected by a SecurityGroupPolicy" in r.stdout
    assert "hint: sgpctl verify pods -n my-namespace" in r.stdout and "1 policy in namespace my-namespace" in r.stdout
    strict = sgpctl(world.env, "verify", "pods", "-n", "default", "--fail-on", "warning", "-o", "json")
    assert strict.returncode == 1 and json.loads(strict.stdout)["ok"] is False
    assert json.loads(strict.stdout)["warnings"][0]["id"] == "pods-selected"


def test_the_allowlist_can_be_acknowledged_so_strict_ci_passes(world):
    base = ["doctor", "-c", "manual", "--fail-on", "warning", "-o", "json"]
    assert sgpctl(world.env, *base).returncode == 1
    acked = sgpctl(world.env, *base, "--ack", "manual-client-token-allowlist")
    assert acked.returncode == 0
    (check,) = json.loads(acked.stdout)["categories"][0]["checks"]
    assert check["status"] == "pass" and check["acknowledged"] is True
    by_setting = sgpctl({**world.env, "SGPCTL_ACK": "manual-client-token-allowlist"}, *base)
    assert by_setting.returncode == 0
    view = json.loads(sgpctl({**world.env, "SGPCTL_ACK": "manual-client-token-allowlist"}, "config", "view",
                             "-o", "json").stdout)["settings"]["ack"]
    assert view == {"value": "manual-client-token-allowlist", "source": "env SGPCTL_ACK"}
    bad = sgpctl(world.env, *base, "--ack", "pods-stale")
    assert bad.returncode == 2 and "only checks that no API can answer" in bad.stderr


def test_status_tables_say_the_next_command(tmp_path):
    with running_sandbox("default", addon_delay=0.05) as sb:
        sb.settle()
        env = sandbox_env(sb, tmp_path)
        addons = sgpctl(env, "addon", "status")
        assert addons.returncode == 1
        row = next(line for line in addons.stdout.splitlines() if line.startswith("securitygrouppolicy"))
        assert row.rstrip().endswith("sgpctl addon install")
        assert "next: sgpctl addon install" in addons.stdout
        cam = sgpctl(env, "cam", "status")
        assert cam.returncode == 1 and all(line.rstrip().endswith("sgpctl cam setup")
                                           for line in cam.stdout.splitlines() if line.startswith(("IPAMD", "TKE_")))
        assert "next: sgpctl enable-trunking" in sgpctl(env, "trunking", "status").stdout


def test_stale_rows_say_how_to_rebuild_and_rollout_fixes_drifted_eni_groups(tmp_path):
    with running_sandbox("default", addon_delay=0.05) as sb:
        sb.settle()
        w = build_world(sb, tmp_path)
        # drift: someone changes an ENI's groups behind the controller's back
        intruder = sgpctl(w.env, "sg", "create", "intruder").stdout.strip()
        pod = json.loads(sgpctl(w.env, "verify", "pod", w.pods[0], "-n", NS, "-o", "json").stdout)
        sb.cloud.set_eni_groups(pod["eniId"], [intruder])
        table = sgpctl(w.env, "verify", "pods", "-n", NS)
        assert table.returncode == 1
        assert f"{w.pods[0]}" in table.stdout and "hint:" in table.stdout and "next: " in table.stdout
        plan = sgpctl(w.env, "policy", "rollout", "-n", NS, "--dry-run", "-o", "json")
        assert plan.returncode == 0, plan.stderr
        doc = json.loads(plan.stdout)
        assert doc["plan"]["driftedPods"] == [w.pods[0]]
        assert doc["plan"]["owners"] == [{"kind": "Deployment", "name": "nginx", "pods": [w.pods[0]]}]
        assert f"pod/{w.pods[0]}: its ENI's security groups drifted" in plan.stderr
        done = sgpctl(w.env, "policy", "rollout", "-n", NS, "--yes", "--wait", "--timeout", "60")
        assert done.returncode == 0, done.stdout + done.stderr
        running(sb, {"app": "my-app"}, 2)
        after = sgpctl(w.env, "verify", "pods", "-n", NS, "-o", "json")
        assert after.returncode == 0 and json.loads(after.stdout)["summary"]["ok"] == 2
        # a stale Pod (created before a new policy) says the rebuild command in the table
        sb.kube.create("deployments.apps", nginx("early", {"app": "early"}, replicas=1))
        running(sb, {"app": "early"}, 1)
        create_sgp(sb, "late", [w.group], match_labels={"app": "early"})
        stale = sgpctl(w.env, "verify", "pods", "-n", NS)
        assert stale.returncode == 1 and "hint: rebuild it: sgpctl policy rollout late -n my-namespace --yes" in stale.stdout
        assert "next: rebuild it: sgpctl policy rollout late -n my-namespace --yes (1 Pod)" in stale.stdout
