"""One command over a fleet, on the sandbox's ``fleet`` scenario (three clusters in two regions, each
with its own Kubernetes API): every cluster reported, one made unreachable never hides the others,
the exit code is the worst cluster's, each cluster reached through the kube context whose server is
its endpoint or else through DescribeClusterKubeconfig held in memory."""

from __future__ import annotations

import contextlib

import pytest

from sgpctl.sandbox.region import Sandbox
from tests.conftest import SandboxCli

GZ, SH = "ap-guangzhou", "ap-shanghai"
BOTH = f"{GZ},{SH}"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    sb = Sandbox("fleet", addon_delay=0.05).start()
    sb.settle()
    try:
        yield SandboxCli(sb, tmp_path_factory.mktemp("fleet"))
    finally:
        sb.stop()


def ids(cli) -> dict[str, str]:
    """cluster name -> id (the cloud's own names for them)."""
    return {cli.sandbox.cloud.cluster(c.cluster_id)["ClusterName"]: c.cluster_id for c in cli.sandbox.clusters}


@contextlib.contextmanager
def unreachable(cli, name: str, mode: str = "refuse"):
    cluster = cli.sandbox.cluster(ids(cli)[name])
    cluster.set_reachable(False, mode=mode)
    try:
        yield cluster
    finally:
        cluster.set_reachable(True)


def by_id(doc: dict) -> dict[str, dict]:
    return {c["clusterId"]: c for c in doc["clusters"]}


def over_prod_and_sh(cli, *command: str):
    """``command`` over fleet-gz-prod and fleet-sh-prod: exit 0 while both answer, 3 (could not be
    determined) while fleet-sh-prod cannot be reached; returns that second run, for its table."""
    names = ids(cli)
    pair = ("--clusters", f"{names['fleet-gz-prod']},{names['fleet-sh-prod']}", "--regions", BOTH)
    assert cli(*command, *pair).exit_code == 0
    with unreachable(cli, "fleet-sh-prod"):
        result = cli(*command, *pair)
    assert result.exit_code == 3
    return result


def test_doctor_over_the_fleet_with_one_cluster_unreachable(fleet):
    names = ids(fleet)
    with unreachable(fleet, "fleet-sh-prod"):
        result = fleet("doctor", "--all-clusters", "--regions", BOTH, "-o", "json")
    doc = result.json()
    clusters = by_id(doc)
    assert set(clusters) == set(names.values()) and doc["ok"] is False
    assert [r["region"] for r in doc["regions"]] == [GZ, SH] and [r["clusters"] for r in doc["regions"]] == [2, 1]
    checks = {cid: {c["id"]: c for cat in c_["result"]["categories"] for c in cat["checks"]}
              for cid, c_ in clusters.items()}
    prod, dev, sh = (checks[names[n]] for n in ("fleet-gz-prod", "fleet-gz-dev", "fleet-sh-prod"))
    # The reachable clusters are fully reported: prod verified end to end, dev with what it lacks.
    assert clusters[names["fleet-gz-prod"]]["ok"] is True and prod["pods-verified"]["status"] == "pass"
    assert dev["trunking-enabled"]["status"] == "fail" and dev["addon-installed"]["status"] == "fail"
    # The unreachable one: its cloud checks ran, its Kubernetes ones could not be determined.
    assert sh["access-tke"]["status"] == "pass" and sh["access-kubernetes"].get("undetermined") is True
    assert "connection refused" in sh["access-kubernetes"]["message"]
    # dev failed (1) beats sh undetermined (3): the worst cluster decides.
    assert result.exit_code == 1

    table = over_prod_and_sh(fleet, "doctor").stdout
    assert "fleet-gz-prod  ap-guangzhou  ok" in table and "fleet-sh-prod  ap-shanghai   UNKNOWN" in table
    assert "2 clusters: 1 ok, 1 could not be determined" in table


def test_verify_pods_over_the_fleet_with_one_cluster_unreachable(fleet):
    names = ids(fleet)
    with unreachable(fleet, "fleet-sh-prod"):
        result = fleet("verify", "pods", "-A", "--all-clusters", "--regions", "all", "-o", "json")
    clusters = by_id(result.json())
    prod = clusters[names["fleet-gz-prod"]]
    assert prod["ok"] is True and prod["result"]["summary"]["pods"] == 2 and prod["result"]["summary"]["ok"] == 2
    assert "cannot reach the Kubernetes API server" in clusters[names["fleet-sh-prod"]]["error"]
    assert "does not serve SecurityGroupPolicy" in clusters[names["fleet-gz-dev"]]["error"]
    assert set(clusters[names["fleet-sh-prod"]]) == {"clusterId", "region", "error", "hint"}
    assert set(prod) == {"clusterId", "region", "ok", "result"}
    assert result.exit_code == 1   # dev cannot be verified: a failure of that cluster, the worst

    table = over_prod_and_sh(fleet, "verify", "pods", "-A")
    assert "2 policy Pod(s): 2 ok, 0 stale, 0 failed" in table.stdout and "ERROR" in table.stdout
    assert "hint: check --kubeconfig/--context and that the cluster endpoint is reachable" in table.stdout


@contextlib.contextmanager
def udp_dns_dropped(cli, region: str):
    """A DROP of UDP 53 out, first in the egress of the region's group ``web`` (the policy Pods' group,
    whose only egress rule accepts everything): it decides the Pods' UDP DNS wherever their egress is
    filtered. Removed again afterwards (PolicyIndex 0)."""
    from tests.sandbox_support import cloud_client, sdk_request

    vpc = cloud_client(cli.sandbox, "vpc", region)
    groups = vpc.DescribeSecurityGroups(sdk_request("vpc", "DescribeSecurityGroups", Filters=[
        {"Name": "security-group-name", "Values": ["web"]}])).SecurityGroupSet
    assert len(groups) == 1
    gid = groups[0].SecurityGroupId
    vpc.CreateSecurityGroupPolicies(sdk_request("vpc", "CreateSecurityGroupPolicies", SecurityGroupId=gid,
                                                SecurityGroupPolicySet={"Egress": [{
                                                    "PolicyIndex": 0, "Protocol": "UDP", "Port": "53",
                                                    "CidrBlock": "0.0.0.0/0", "Action": "DROP"}]}))
    try:
        yield gid
    finally:
        vpc.DeleteSecurityGroupPolicies(sdk_request("vpc", "DeleteSecurityGroupPolicies", SecurityGroupId=gid,
                                                    SecurityGroupPolicySet={"Egress": [{"PolicyIndex": 0}]}))


def test_traffic_check_over_the_fleet_with_one_cluster_unreachable(fleet):
    """Each policy Pod of the two set-up clusters (the seed's 2 nginx Pods, no probe, no Service selecting
    them) needs DNS to kube-dns: UDP and TCP to its Service and to its Pods, 4 checks a Pod; group web
    accepts everything out."""
    names = ids(fleet)
    prod, dev, sh = (names[n] for n in ("fleet-gz-prod", "fleet-gz-dev", "fleet-sh-prod"))
    with unreachable(fleet, "fleet-sh-prod"):
        result = fleet("traffic", "check", "-A", "--all-clusters", "--regions", BOTH, "-o", "json")
    clusters = by_id(result.json())
    assert set(clusters) == {prod, dev, sh}
    ok = clusters[prod]
    assert ok["ok"] is True and ok["result"]["summary"] == {"pods": 2, "checks": 8, "failed": 0, "undetermined": 0}
    assert {c["id"] for cat in ok["result"]["categories"] for c in cat["checks"]} == {
        "dns-udp-service", "dns-tcp-service", "dns-udp-pods", "dns-tcp-pods"}
    assert "cannot reach the Kubernetes API server" in clusters[sh]["error"]
    assert "does not serve SecurityGroupPolicy" in clusters[dev]["error"]
    assert result.exit_code == 1   # dev cannot be checked (a failure) beats sh undetermined

    table = over_prod_and_sh(fleet, "traffic", "check", "-A")
    assert "fleet-gz-prod  ap-guangzhou  ok" in table.stdout and "fleet-sh-prod  ap-shanghai   ERROR" in table.stdout
    assert "standard routing: 2 Pod(s), 8 check(s), 0 failed, 0 undetermined" in table.stdout

    # What if strict: every hop of a Pod's egress passes its groups, so a DROP of UDP 53 placed first in
    # Shanghai's web group drops its Pods' UDP DNS (Service and Pods); TCP still meets "everything out".
    # Guangzhou's groups are other groups: prod passes. Each cluster is judged under the mode asked.
    with udp_dns_dropped(fleet, SH):
        strict = fleet("traffic", "check", "-A", "--clusters", f"{prod},{sh}", "--regions", BOTH, "--routing", "strict",
                       "-o", "json")
    assert strict.exit_code == 1
    clusters = by_id(strict.json())
    assert clusters[prod]["ok"] is True and clusters[sh]["ok"] is False
    assert all(c["result"]["routing"]["whatIf"] == "strict" for c in clusters.values())
    statuses = {(cat["name"], c["id"]): c["status"] for cat in clusters[sh]["result"]["categories"] for c in cat["checks"]}
    assert len({pod for pod, _ in statuses}) == 2
    assert {(check, status) for (_, check), status in statuses.items()} == {
        ("dns-udp-service", "fail"), ("dns-udp-pods", "fail"), ("dns-tcp-service", "pass"), ("dns-tcp-pods", "pass")}
    assert clusters[sh]["result"]["summary"]["failed"] == 4


def test_a_hanging_cluster_is_given_up_at_its_deadline(fleet):
    names = ids(fleet)
    with unreachable(fleet, "fleet-gz-dev", mode="hang"):
        result = fleet("eni", "leaks", "--all-clusters", "--regions", BOTH, "--cluster-timeout", "2s", "--parallel", "3",
                       "-o", "json")
    clusters = by_id(result.json())
    assert clusters[names["fleet-gz-dev"]]["error"] == "no answer within 2 s (--cluster-timeout)"
    assert clusters[names["fleet-gz-prod"]]["ok"] and clusters[names["fleet-sh-prod"]]["ok"]
    assert result.exit_code == 3


def test_each_command_of_the_fleet_reports_every_cluster(fleet):
    names = ids(fleet)
    for args in (["policy", "explain", "-A"], ["capacity"], ["routing", "check"], ["eni", "leaks"]):
        result = fleet(*args, "--all-clusters", "--regions", BOTH, "-o", "json")
        assert result.exit_code == 0, (args, result.output)
        clusters = by_id(result.json())
        assert set(clusters) == set(names.values()) and all(c["ok"] for c in clusters.values()), args
    capacity = by_id(fleet("capacity", "--all-clusters", "--regions", BOTH, "-o", "json").json())
    assert capacity[names["fleet-sh-prod"]]["result"]["totals"]["nodes"] == 3
    assert capacity[names["fleet-gz-prod"]]["result"]["totals"]["nodes"] == 4


def test_without_a_matching_context_the_cluster_kubeconfig_is_used_in_memory(fleet, tmp_path, monkeypatch):
    """A kubeconfig that knows none of the clusters: each is reached with the kubeconfig
    DescribeClusterKubeconfig returns, and nothing is written (temporary files would fail)."""
    import tempfile

    from tests.e2e.test_leaks import sgpctl as run_in

    names = ids(fleet)
    empty = tmp_path / "kubeconfig"
    empty.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")

    def no_files(*a, **k):
        raise AssertionError("a temporary file was created")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryDirectory"):
        monkeypatch.setattr(tempfile, name, no_files)
    mark = fleet.sandbox.log.mark()
    cli = SandboxCli.__new__(SandboxCli)
    cli.sandbox, cli.home, cli.env = fleet.sandbox, fleet.home, {**fleet.env, "KUBECONFIG": str(empty)}
    result = run_in(cli, "verify", "pods", "-A", "--clusters", f"{names['fleet-gz-prod']},{names['fleet-sh-prod']}",
                    "--regions", BOTH)
    assert result.exit_code == 0, result.output
    asked = [e for e in fleet.sandbox.log.since(mark) if e.get("action") == "DescribeClusterKubeconfig"]
    assert len(asked) == 2
    assert "kubeconfig from DescribeClusterKubeconfig (in memory)" not in result.stdout  # all fine: no detail block
    assert result.stdout.count(" ok ") >= 2


@pytest.mark.parametrize("args,words", [
    (["doctor", "--all-clusters", "--clusters", "cls-aaaaaaaa"], "mutually exclusive"),
    (["doctor", "--regions", "all"], "--regions goes with --all-clusters or --clusters"),
    (["doctor", "--parallel", "8"], "--parallel goes with"),
    (["doctor", "--all-clusters", "--regions", "Guangzhou"], "--regions"),
    (["doctor", "--clusters", "cls-BAD"], "--clusters"),
    (["doctor", "--all-clusters", "--cluster-timeout", "soon"], "--cluster-timeout"),
    (["--context", "x", "doctor", "--all-clusters"], "--context does not go with"),
    (["capacity", "--all-clusters", "--snapshot", "x.yaml"], "--snapshot does not go with"),
    (["eni", "leaks", "--all-clusters", "--delete"], "--delete does not go with"),
    (["verify", "pods", "-n", "a", "-A", "--all-clusters"], "mutually exclusive"),
    (["traffic", "check", "-n", "a", "-A", "--all-clusters"], "mutually exclusive"),
    (["routing", "check", "-n", "a", "-A", "--clusters", "cls-aaaaaaaa"], "mutually exclusive"),
    (["traffic", "check", "--all-clusters", "--routing", "loose"], "--routing"),
    (["traffic", "check", "--parallel", "2"], "--parallel goes with"),
    (["doctor", "--all-clusters", "-o", "junit"], "-o junit does not go with"),
])
def test_bad_fleet_input_is_refused_before_any_cluster_is_read(fleet, args, words):
    mark = fleet.sandbox.log.mark()
    result = fleet(*args)
    assert result.exit_code == 2 and words in result.stderr, result.output
    assert not [e for e in fleet.sandbox.log.since(mark) if e.get("api") == "kube"]


def test_an_id_no_region_lists_is_its_own_error(fleet):
    names = ids(fleet)
    result = fleet("eni", "leaks", "--clusters", f"cls-zzzzzzzz,{names['fleet-sh-prod']}", "--regions", BOTH, "-o", "json")
    clusters = by_id(result.json())
    assert clusters["cls-zzzzzzzz"]["error"] == f"cluster cls-zzzzzzzz not found in {GZ}, {SH}"
    assert clusters[names["fleet-sh-prod"]]["ok"] is True and result.exit_code == 1
