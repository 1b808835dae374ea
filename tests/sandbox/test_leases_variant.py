"""The ``leases`` sandbox variant: Leases served (with resourceVersion conflicts, as the API server
has them), forbidden by RBAC (403 with RBAC's message, as kubectl shows it), or not served at all
(the group gone from discovery, 404). kubectl is the independent witness."""

from __future__ import annotations

import pytest

from tests.sandbox_support import kubectl, running_sandbox, sandbox_env

NS = "my-namespace"
LEASE = """apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: witness
  namespace: my-namespace
spec:
  holderIdentity: a
  leaseDurationSeconds: 15
"""


@pytest.fixture(scope="module", params=["served", "forbidden", "absent"])
def leases(request, tmp_path_factory):
    with running_sandbox("default", variants={"leases": request.param}) as sb:
        yield request.param, sandbox_env(sb, tmp_path_factory.mktemp(request.param))


def test_kubectl_sees_each_mode(leases):
    mode, env = leases
    created = kubectl(env, "create", "-f", "-", input=LEASE, check=False)
    listed = kubectl(env, "get", "leases", "-n", NS, "-o", "name", check=False)
    groups = kubectl(env, "api-versions").stdout.split()
    if mode == "served":
        assert created.returncode == 0 and listed.stdout.split() == ["lease.coordination.k8s.io/witness"]
        assert "coordination.k8s.io/v1" in groups
        # a stale resourceVersion is a conflict
        stale = kubectl(env, "get", "lease", "witness", "-n", NS, "-o", "json").stdout
        kubectl(env, "patch", "lease", "witness", "-n", NS, "--type=merge", "-p", '{"spec":{"holderIdentity":"b"}}')
        replaced = kubectl(env, "replace", "-f", "-", input=stale, check=False)
        assert replaced.returncode == 1 and "the object has been modified" in replaced.stderr
    elif mode == "forbidden":
        assert created.returncode == 1 and listed.returncode == 1
        assert ('Error from server (Forbidden): leases.coordination.k8s.io is forbidden: User "admin" cannot list '
                'resource "leases" in API group "coordination.k8s.io" in the namespace "my-namespace"') in listed.stderr
        assert 'cannot create resource "leases"' in created.stderr
        assert "coordination.k8s.io/v1" in groups  # served, but not to this user
    else:
        assert created.returncode == 1 and listed.returncode == 1
        assert 'the server doesn\'t have a resource type "leases"' in listed.stderr
        assert "coordination.k8s.io/v1" not in groups
