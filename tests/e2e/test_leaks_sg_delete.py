"""`sgpctl sg delete GROUP`: refused, naming them, while ENIs carry the group (a Pod's sub-ENI, a
leaked sub-ENI) or a policy names it; deleted (and read back) once nothing does; idempotent."""

from __future__ import annotations

from sgpctl.kube import resources as r
from tests.e2e.test_leaks import NS, Clock, kube_of, scale, sgpctl, unowned_sub_enis
from tests.sandbox_support import cloud_client, group_id, sdk_request


def group_exists(cli, gid: str) -> bool:
    vpc = cloud_client(cli.sandbox, "vpc")
    got = vpc.DescribeSecurityGroups(sdk_request("vpc", "DescribeSecurityGroups", Filters=[
        {"Name": "security-group-id", "Values": [gid]}]))
    return bool(got.SecurityGroupSet)


def test_a_group_in_use_is_refused_with_its_holders_and_deleted_once_free(sandbox_cli):
    cli = sandbox_cli("strict-hazards", variants={"client-token-allowlist": "false"})
    gid = group_id(cli.sandbox, "web")   # the seed policy's group: nginx Pods' sub-ENIs carry it
    kube = kube_of(cli)

    used = sgpctl(cli, "sg", "delete", gid, "--yes", "-o", "json")
    assert used.exit_code == 1 and group_exists(cli, gid)
    doc = used.json()
    pods = {h["pod"] for h in doc["heldBy"]}
    assert pods == {f"{NS}/{p['metadata']['name']}" for p in kube.list(r.PODS, NS, label_selector="app=my-app")}
    assert doc["policies"] == [f"{NS}/my-security-group-policy"]
    refused = {s["id"]: s for s in doc["steps"]}
    assert refused["enis"]["status"] == "refused" and "sub-ENI of Pod" in refused["enis"]["message"]
    assert refused["policies"]["status"] == "refused"

    # The policy goes, the Deployment scales to zero: what still carries the group is the leaks.
    kube.delete(kube.resource("vpcresources.tke.cloud.tencent.com", "SecurityGroupPolicy"),
                "my-security-group-policy", NS)
    scale(cli, kube, 8)
    scale(cli, kube, 0)
    leaks = unowned_sub_enis(cli)
    assert leaks
    held = sgpctl(cli, "sg", "delete", gid, "--yes", "-o", "json")
    assert held.exit_code == 1 and {h["eniId"] for h in held.json()["heldBy"]} == leaks
    assert held.json()["policies"] == []

    assert sgpctl(cli, "eni", "leaks", "--delete", "--yes", clock=Clock()).exit_code == 0
    plan = sgpctl(cli, "sg", "delete", gid, "--dry-run")
    assert plan.exit_code == 0 and "would delete security group" in plan.stdout and group_exists(cli, gid)
    asked = sgpctl(cli, "sg", "delete", gid)  # no terminal, no --yes
    assert asked.exit_code == 1 and "not confirmed" in asked.stderr and group_exists(cli, gid)
    done = sgpctl(cli, "sg", "delete", gid, "--yes")
    assert done.exit_code == 0 and "read back: gone" in done.stdout and not group_exists(cli, gid)
    again = sgpctl(cli, "sg", "delete", gid, "--yes")
    assert again.exit_code == 0 and "nothing to change" in again.stdout


def test_a_group_other_rules_name_is_refused_by_the_api(cli):
    sb = cli.sandbox
    target = sb.cloud.add_security_group("target", "d", group_id="sg-target01")
    sb.cloud.add_security_group("referrer", "d", group_id="sg-referr01")
    vpc = cloud_client(sb, "vpc")
    vpc.CreateSecurityGroupPolicies(sdk_request("vpc", "CreateSecurityGroupPolicies", SecurityGroupId="sg-referr01",
                                                SecurityGroupPolicySet={"Ingress": [
                                                    {"Protocol": "TCP", "Port": "80", "SecurityGroupId": target,
                                                     "Action": "ACCEPT"}]}))
    result = sgpctl(cli, "sg", "delete", target, "--yes", "-o", "json")
    assert result.exit_code == 1 and group_exists(cli, target)
    step = result.json()["steps"][0]
    assert step["status"] == "failed" and "ResourceInUse" in step["message"] and "other groups' rules" in step["hint"]


def test_a_bad_group_id_is_refused_before_any_call(cli):
    result = sgpctl(cli, "sg", "delete", "web")
    assert result.exit_code == 2 and "GROUP" in result.stderr and "sg-" in result.stderr
