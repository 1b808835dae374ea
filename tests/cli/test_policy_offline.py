"""Offline commands through the CLI: policy validate, policy explain, capacity (on examples/)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sgpctl.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples"
runner = CliRunner()

HEAD = "apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1\nkind: SecurityGroupPolicy\n"
META = "metadata: {name: web, namespace: shop}\n"
GOOD_SPEC = "spec: {podSelector: {matchLabels: {app: web}}, securityGroups: {groupIds: [sg-1a2b3c4d]}}\n"

# (document, the field path the error must name)
BAD = [
    ("apiVersion: v1\nkind: SecurityGroupPolicy\n" + META + GOOD_SPEC, "apiVersion"),
    ("apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1\nkind: SecurityGroupPolicies\n" + META + GOOD_SPEC, "kind"),
    (HEAD + "metadata: {namespace: shop}\n" + GOOD_SPEC, "metadata.name"),
    (HEAD + "metadata: {name: Web_Policy, namespace: shop}\n" + GOOD_SPEC, "metadata.name"),
    (HEAD + "metadata: {name: web, namespace: Shop.Prod}\n" + GOOD_SPEC, "metadata.namespace"),
    (HEAD + META, "spec"),
    (HEAD + META + "spec: {securityGroups: {groupIds: [sg-1a2b3c4d]}}\n", "spec"),
    (HEAD + META + "spec: {podselector: {}, securityGroups: {groupIds: [sg-1a2b3c4d]}}\n", "spec.podselector"),
    (HEAD + META + "spec: {podSelector: {}, securityGroups: {groupIDs: [sg-1a2b3c4d]}}\n", "spec.securityGroups.groupIDs"),
    (HEAD + META + "spec: {podSelector: {}, securityGroups: {}}\n", "spec.securityGroups.groupIds"),
    (HEAD + META + "spec: {podSelector: {}, securityGroups: {groupIds: []}}\n", "spec.securityGroups.groupIds"),
    (HEAD + META + "spec: {podSelector: {}, securityGroups: {groupIds: sg-1a2b3c4d}}\n", "spec.securityGroups.groupIds"),
    (HEAD + META + "spec: {podSelector: {}, securityGroups: {groupIds: [sg-1A2B3C4D]}}\n", "spec.securityGroups.groupIds[0]"),
    (HEAD + META + "spec: {podSelector: {}, securityGroups: {groupIds: [sg-1a2b3c4d, sg-1a2b3c4d]}}\n", "spec.securityGroups.groupIds[1]"),
    (HEAD + META + "spec: {podSelector: {matchLabels: {'bad key!': x}}, securityGroups: {groupIds: [sg-1a2b3c4d]}}\n", "spec.podSelector.matchLabels"),
    (HEAD + META + "spec: {podSelector: {matchLabels: {app: 'no spaces'}}, securityGroups: {groupIds: [sg-1a2b3c4d]}}\n", "spec.podSelector.matchLabels"),
    (HEAD + META + "spec: {podSelector: {matchExpressions: [{key: app, operator: In, values: []}]}, securityGroups: {groupIds: [sg-1a2b3c4d]}}\n", "spec.podSelector.matchExpressions[0].values"),
    (HEAD + META + "spec: {podSelector: {matchExpressions: [{key: app, operator: Exists, values: [x]}]}, securityGroups: {groupIds: [sg-1a2b3c4d]}}\n", "spec.podSelector.matchExpressions[0].values"),
    (HEAD + META + "spec: {podSelector: {matchExpressions: [{key: app, operator: Equals, values: [x]}]}, securityGroups: {groupIds: [sg-1a2b3c4d]}}\n", "spec.podSelector.matchExpressions[0].operator"),
    (HEAD + META + "spec: {serviceAccountSelector: {matchLabels: 3}, securityGroups: {groupIds: [sg-1a2b3c4d]}}\n", "spec.serviceAccountSelector.matchLabels"),
    (HEAD + META + "spec: {podSelector: {matchLabels: {app: web}, securityGroups: {groupIds: [sg-1a2b3c4d]}}\n", "invalid YAML"),
    ("just a string\n", "document 1"),
]


@pytest.mark.parametrize("text,field", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_validate_rejects_each_bad_document_naming_the_field(tmp_path, text, field):
    f = tmp_path / "p.yaml"
    f.write_text(text)
    r = runner.invoke(app, ["policy", "validate", "-f", str(f)])
    assert r.exit_code == 2, r.output
    assert field in r.stderr
    assert "Traceback" not in r.output


def test_validate_reports_every_problem_of_a_file(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("---\n".join(text for text, _ in BAD[:5]))
    r = runner.invoke(app, ["policy", "validate", "-f", str(f), "-o", "json"])
    assert r.exit_code == 2
    problems = json.loads(r.stdout)["problems"]
    assert sorted({p["document"] for p in problems}) == [1, 2, 3, 4, 5]


def test_validate_accepts_the_seed_policy_and_stdin():
    r = runner.invoke(app, ["policy", "validate", "-f", str(EX / "policy.yaml")])
    assert r.exit_code == 0 and "my-namespace/my-security-group-policy" in r.stdout
    r = runner.invoke(app, ["policy", "validate", "-f", "-"], input=(EX / "policy-serviceaccount.yaml").read_text())
    assert r.exit_code == 0 and "payments/payments-egress" in r.stdout


def test_missing_file_is_exit_2():
    r = runner.invoke(app, ["policy", "validate", "-f", "/no/such/file.yaml"])
    assert r.exit_code == 2 and "file not found" in r.stderr


def explain(*args):
    r = runner.invoke(app, ["policy", "explain", "--snapshot", str(EX / "snapshot.yaml"), "-o", "json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_explain_seed_policy_on_the_example_snapshot():
    data = explain("-f", str(EX / "policy.yaml"), "-A")
    (policy,) = data["policies"]
    # By hand from examples/snapshot.yaml: three Pods labelled app=my-app in my-namespace; the
    # hostNetwork node-exporter also carries the label but never gets a sub-ENI.
    assert sorted(p["name"] for p in policy["pods"]) == ["legacy-api-5f6d7c8b9-abcde", "nginx-7d9c8b6f5-9hb2m", "nginx-7d9c8b6f5-x2k4q"]
    owners = {p["name"]: p["owner"] for p in policy["pods"]}
    assert owners["nginx-7d9c8b6f5-x2k4q"] == "Deployment/nginx"
    assert all(p["expectedSecurityGroups"] == ["sg-xxxxyyyy"] for p in policy["pods"])
    (stale,) = data["stale"]
    assert stale["name"] == "legacy-api-5f6d7c8b9-abcde"
    assert stale["staleReason"] == "created before policy my-security-group-policy"
    assert stale["rebuild"] == "sgpctl policy rollout -n my-namespace"
    # legacy-api runs on the S5 node (quota 0); rebuilt, it would go to the node with most room:
    # 10.0.2.21 (SA5.16XLARGE256, 256 free).
    assert data["placement"]["placements"] == [{"pod": "my-namespace/legacy-api-5f6d7c8b9-abcde", "node": "10.0.2.21", "fits": True, "reason": None}]


def test_explain_serviceaccount_and_expressions_policy():
    data = explain("-f", str(EX / "policy-serviceaccount.yaml"))
    (policy,) = data["policies"]
    # ledger and gateway run as team=payments ServiceAccounts and are not canaries; the canary
    # is excluded by NotIn, batch by its ServiceAccount (team=data).
    assert sorted(p["name"] for p in policy["pods"]) == ["gateway-0", "ledger-6b7c8d9f0-k1m2n"]
    assert policy["pods"][0]["expectedSecurityGroups"] == ["sg-pay00001", "sg-db000001"]
    assert data["namespaces"] == ["payments"]


def test_explain_live_policies_of_the_snapshot_by_name():
    data = explain("my-security-group-policy", "-n", "my-namespace")
    assert [p["name"] for p in data["policies"]] == ["my-security-group-policy"]
    # In the snapshot the policy dates from 2026-11-20; legacy-api is from 2026-11-02.
    assert [s["name"] for s in data["stale"]] == ["legacy-api-5f6d7c8b9-abcde"]


def test_explain_unknown_policy_name_is_not_found_exit_1():
    # Not found is an answer about the cluster (as `kubectl get` exits 1), not bad input.
    r = runner.invoke(app, ["policy", "explain", "nope", "-n", "my-namespace", "--snapshot", str(EX / "snapshot.yaml")])
    assert r.exit_code == 1 and "my-namespace/nope not found" in r.stderr


def test_explain_rejects_an_invalid_policy_file_before_anything(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(BAD[12][0])
    r = runner.invoke(app, ["policy", "explain", "-f", str(f), "--snapshot", str(EX / "snapshot.yaml")])
    assert r.exit_code == 2 and "groupIds[0]" in r.stderr


def test_capacity_on_the_example_snapshot():
    r = runner.invoke(app, ["capacity", "--snapshot", str(EX / "snapshot.yaml"), "-o", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    nodes = {n["node"]: n for n in data["nodes"]}
    assert (nodes["10.0.2.21"]["quota"], nodes["10.0.2.21"]["quotaSource"]) == (256, "allocatable")
    # S5 is not a Trunking ENI family; the node reports nothing, so the table says 0.
    assert (nodes["10.0.2.22"]["quota"], nodes["10.0.2.22"]["supported"], nodes["10.0.2.22"]["quotaSource"]) == (0, False, "table")
    # M8 reports no allocatable: the table's default of 100.
    assert (nodes["10.0.2.23"]["quota"], nodes["10.0.2.23"]["quotaSource"]) == (100, "table")
    # The two running nginx Pods hold a sub-ENI each, on 10.0.1.11 and 10.0.1.12.
    assert (nodes["10.0.1.11"]["used"], nodes["10.0.1.11"]["free"]) == (1, 99)
    assert data["totals"] == {"nodes": 5, "supportedNodes": 4, "quota": 556, "used": 2, "free": 554}


def test_quickstart_table_output_is_not_truncated_when_piped():
    r = runner.invoke(app, ["policy", "explain", "-f", str(EX / "policy.yaml"), "--snapshot", str(EX / "snapshot.yaml"), "-A"])
    assert r.exit_code == 0
    assert "legacy-api-5f6d7c8b9-abcde" in r.stdout
    assert "created before policy my-security-group-policy" in r.stdout
