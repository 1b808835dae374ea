"""Item 9: `policy diff -f FILE` and the field-level diff of `policy apply --dry-run`: groups and selectors
before and after, and which Pods would change their groups. Exit 0 when nothing would change, 1 when
something would (as `kubectl diff`)."""

from __future__ import annotations

import json

from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.core.policy_diff import field_changes, pod_changes
from tests.habits.conftest import NS
from tests.sandbox_support import sgpctl


def _obj(groups, labels=None, sa=None):
    spec = {"securityGroups": {"groupIds": groups}, "podSelector": {"matchLabels": labels or {"app": "web"}}}
    if sa is not None:
        spec["serviceAccountSelector"] = {"matchLabels": sa}
    return {"apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
            "metadata": {"name": "p", "namespace": "shop"}, "spec": spec}


def test_field_changes():
    before = _obj(["sg-1a2b3c4d"])
    assert field_changes(before, _obj(["sg-1a2b3c4d"])) == []
    changes = [c.text() for c in field_changes(before, _obj(["sg-1a2b3c4d", "sg-5e6f7a8b"], {"app": "api"}, {"role": "x"}))]
    assert changes == ["spec.securityGroups.groupIds: [sg-1a2b3c4d] -> [sg-1a2b3c4d, sg-5e6f7a8b]",
                       "spec.podSelector: app=web -> app=api",
                       "spec.serviceAccountSelector: (unset) -> role=x"]
    created = [c.text() for c in field_changes(None, before)]
    assert created == ["spec.securityGroups.groupIds: (unset) -> [sg-1a2b3c4d]", "spec.podSelector: (unset) -> app=web"]


def test_pod_changes():
    pods = [{"metadata": {"name": n, "namespace": "shop", "labels": {"app": app}}, "spec": {}, "status": {"phase": "Running"}}
            for n, app in (("web-1", "web"), ("api-1", "api"))]
    before = [SecurityGroupPolicy.from_object(_obj(["sg-1a2b3c4d"]))]
    after = [SecurityGroupPolicy.from_object(_obj(["sg-1a2b3c4d", "sg-5e6f7a8b"]))]
    (change,) = pod_changes(pods, [], before, after)
    assert change.text() == "pod/web-1: sg-1a2b3c4d -> sg-1a2b3c4d,sg-5e6f7a8b" and change.policies == ("p",)
    moved = [SecurityGroupPolicy.from_object(_obj(["sg-1a2b3c4d"], {"app": "api"}))]
    assert [c.text() for c in pod_changes(pods, [], before, moved)] == [
        "pod/api-1: (none) -> sg-1a2b3c4d", "pod/web-1: sg-1a2b3c4d -> (none)"]


def test_policy_diff_against_the_cluster(world, tmp_path):
    same = sgpctl(world.env, "policy", "diff", "-f", str(world.policy_file))
    assert same.returncode == 0 and same.stdout.splitlines() == [
        "securitygrouppolicy/my-security-group-policy (my-namespace) unchanged"]
    extra = sgpctl(world.env, "sg", "create", "diff-extra").stdout.strip()
    more = tmp_path / "more.yaml"
    more.write_text(world.policy_file.read_text().replace(f"- {world.group}", f"- {world.group}\n      - {extra}"))
    r = sgpctl(world.env, "policy", "diff", "-f", str(more))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "securitygrouppolicy/my-security-group-policy (my-namespace) configured"
    assert lines[1] == f"  ~ spec.securityGroups.groupIds: [{world.group}] -> [{world.group}, {extra}]"
    assert lines[2] == "  Pods whose groups change once rebuilt (2):"
    assert sorted(lines[3:]) == sorted(f"    pod/{p}: {world.group} -> {world.group},{extra}" for p in world.pods)
    doc = json.loads(sgpctl(world.env, "policy", "diff", "-f", str(more), "-o", "json").stdout)
    (policy,) = doc["policies"]
    assert doc["changed"] is True and policy["result"] == "configured"
    assert policy["fields"] == [{"path": "spec.securityGroups.groupIds", "before": [world.group], "after": [world.group, extra]}]
    assert sorted(p["name"] for p in policy["pods"]) == world.pods
    # apply --dry-run shows the same changes under its step, and writes nothing
    mark = world.sb.log.mark()
    dry = sgpctl(world.env, "policy", "apply", "-f", str(more), "--dry-run")
    assert dry.returncode == 0
    assert f"           ~ spec.securityGroups.groupIds: [{world.group}] -> [{world.group}, {extra}]" in dry.stdout
    assert [e for e in world.sb.log.since(mark) if e["mutating"]] == []
    # a new policy: created, and the Pods it would select
    new = tmp_path / "new.yaml"
    new.write_text(world.policy_file.read_text().replace("my-security-group-policy", "second").replace(world.group, extra))
    created = json.loads(sgpctl(world.env, "policy", "diff", "-f", str(new), "-o", "json").stdout)["policies"][0]
    assert created["result"] == "created" and sorted(p["name"] for p in created["pods"]) == world.pods
    assert sgpctl(world.env, "policy", "diff", "-f", str(new), "-o", "name").stdout == \
        "securitygrouppolicy.vpcresources.tke.cloud.tencent.com/second\n"
