"""Every sgpctl writer of SecurityGroupPolicies (`policy apply`, `policy create`, `policy delete`)
takes the namespace's writer Lease and lets it go, and waits for one another writer holds; `--dry-run`
takes none. (That an interrupt never counts the Lease's writes as the user's change is in
tests/cli/test_signals.py.)"""

from __future__ import annotations

import time

import pytest

from sgpctl.workflows.lease import LEASE_NAME, micro_time
from tests.sandbox_support import sgp_ready

NS = "my-namespace"
LEASES = "leases.coordination.k8s.io"


@pytest.fixture
def cli(sandbox_cli):
    c = sandbox_cli("default")
    sgp_ready(c.sandbox)
    c.group = c.sandbox.cloud.add_security_group("writers")
    return c


def lease_requests(cli, mark) -> list[tuple[str, str]]:
    return [(e["action"], e.get("method")) for e in cli.sandbox.log.since(mark)
            if e["api"] == "kube" and e["params"].get("resource") == LEASES]


def holder(cli) -> str | None:
    lease = cli.sandbox.kube.get(LEASES, NS, LEASE_NAME)
    return lease["spec"].get("holderIdentity") if lease else None


def test_create_and_delete_take_the_lease_and_release_it(cli):
    mark = cli.sandbox.log.mark()
    r = cli("policy", "create", "web", "-n", NS, "--pod-selector", "app=web", "--sg", cli.group)
    assert r.exit_code == 0, r.output
    # read, create (it did not exist), release
    assert lease_requests(cli, mark) == [("get", "GET"), ("create", "POST"), ("update", "PUT")]
    assert holder(cli) == ""
    mark = cli.sandbox.log.mark()
    r = cli("policy", "delete", "web", "-n", NS, "--yes")
    assert r.exit_code == 0 and "securitygrouppolicy/web deleted" in r.output
    assert lease_requests(cli, mark) == [("get", "GET"), ("update", "PUT"), ("update", "PUT")]  # take, release
    assert holder(cli) == ""


def test_dry_runs_take_no_lease(cli):
    mark = cli.sandbox.log.mark()
    assert cli("policy", "create", "web", "-n", NS, "--pod-selector", "app=web", "--sg", cli.group,
               "--dry-run").exit_code == 0
    assert lease_requests(cli, mark) == [] and holder(cli) is None


def test_delete_waits_for_another_writer_and_refuses_naming_it(cli):
    assert cli("policy", "create", "web", "-n", NS, "--pod-selector", "app=web", "--sg", cli.group).exit_code == 0
    lease = cli.sandbox.kube.get(LEASES, NS, LEASE_NAME)
    lease["spec"].update(holderIdentity="ops-laptop/99/beef01", leaseDurationSeconds=15, renewTime=micro_time(time.time()))
    cli.sandbox.kube.update(LEASES, lease)
    r = cli("policy", "delete", "web", "-n", NS, "--yes", "--timeout", "1")
    assert r.exit_code == 1
    # the plan first (every mutating command shows it: cli.outcome.mutate), then the wait
    assert r.stderr.startswith("plan:\n  ~ securitygrouppolicy/web would be deleted\n")
    assert f"\nwaiting for Lease {NS}/{LEASE_NAME}, held by ops-laptop/99/beef01, renewed " in r.stderr
    assert f"error: another sgpctl writer holds Lease {NS}/{LEASE_NAME}: ops-laptop/99/beef01" in r.stderr
    assert cli.sandbox.kube.get("securitygrouppolicies.vpcresources.tke.cloud.tencent.com", NS, "web") is not None
    assert holder(cli) == "ops-laptop/99/beef01"


@pytest.mark.parametrize("command", ["apply", "create", "delete"])
def test_the_writers_say_what_timeout_waits_for(command):
    from typer.testing import CliRunner

    from sgpctl.cli.app import app

    r = CliRunner().invoke(app, ["policy", command, "--help"], terminal_width=200)
    assert r.exit_code == 0 and "--timeout" in r.output
    assert "other sgpctl writers of the namespace (its writer Lease)" in " ".join(r.output.split())
