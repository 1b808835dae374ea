"""`policy apply` and `policy delete` against other writers, over a fake with the API server's
optimistic concurrency for SecurityGroupPolicies (resourceVersions; 409 AlreadyExists on create,
409 Conflict on a stale update). Another writer acts through hooks that run just before one of our
requests, so every interleaving is exact and the tests need no timing.

The Pods are ``web-1`` and ``web-2`` (app=web) in ``shop``; the per-ENI limit is 5."""

from __future__ import annotations

import pytest

from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.core.steps import CHANGED, FAILED, UNCHANGED
from sgpctl.errors import ExitCode, InputError, KubeError, RefusedError
from sgpctl.kube import resources as r
from sgpctl.workflows import lease as L
from sgpctl.workflows.policies import apply_policies, delete_policy, plan_delete
from sgpctl.workflows.view import ClusterView
from sgpctl.workflows.waiting import Waiter
from tests.fakes import SGP, FakeCloud, FakeKube, pod, policy

NS = "shop"
GROUPS = [f"sg-grp{i:05d}" for i in range(10)]


class RacingKube(FakeKube):
    """``before[verb]``: callables run (and dropped) one per call of that verb on policies, before
    it; None skips a call. ``list`` counts the lists of policies only."""

    def __init__(self):
        super().__init__()
        self.rv = 0
        self.before: dict[str, list] = {"create": [], "replace": [], "get": [], "list": []}
        self.writes: list[tuple[str, str]] = []

    def _hook(self, verb: str, resource) -> None:
        if resource.plural == SGP.plural and self.before[verb]:
            act = self.before[verb].pop(0)
            if act is not None:
                act()

    def add(self, resource, obj):
        stored = super().add(resource, obj)
        if resource.plural == SGP.plural:
            self.rv += 1
            stored["metadata"]["resourceVersion"] = str(self.rv)
        return stored

    def create(self, resource, obj, namespace=None):
        self._hook("create", resource)
        if resource.plural == SGP.plural and (resource.plural, namespace, obj["metadata"]["name"]) in self.objects:
            raise KubeError(409, "AlreadyExists", f'securitygrouppolicies "{obj["metadata"]["name"]}" already exists')
        self.writes.append(("create", obj["metadata"]["name"]))
        return super().create(resource, obj, namespace)

    def replace(self, resource, obj):
        self._hook("replace", resource)
        meta = obj["metadata"]
        current = self.objects.get((resource.plural, meta["namespace"], meta["name"]))
        if current is None:
            raise KubeError(404, "NotFound", f'securitygrouppolicies "{meta["name"]}" not found')
        if meta.get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise KubeError(409, "Conflict", "the object has been modified; please apply your changes to the latest version")
        self.writes.append(("replace", meta["name"]))
        return super().replace(resource, obj)

    def get(self, resource, name, namespace=None):
        self._hook("get", resource)
        return super().get(resource, name, namespace)

    def list(self, resource, namespace=None, *, label_selector=None, field_selector=None):
        self._hook("list", resource)
        return super().list(resource, namespace, label_selector=label_selector, field_selector=field_selector)


class Clock:
    def __init__(self):
        self.now = 0.0

    def sleep(self, seconds):
        self.now += max(seconds, 0.01)


@pytest.fixture
def kube():
    k = RacingKube()
    k.add(r.NAMESPACES, {"metadata": {"name": NS}})
    for name in ("web-1", "web-2"):
        k.add(r.PODS, pod(name, NS))
    return k


@pytest.fixture
def cloud():
    c = FakeCloud()
    c.vpc.groups.update({g: g for g in GROUPS})
    return c


@pytest.fixture
def clock():
    return Clock()


def other(kube, name, groups, labels=None):
    """Another writer stores ``name`` (or changes it) in ``shop``."""
    return lambda: kube.add(SGP, policy(name, NS, groups=groups) | ({"metadata": {"name": name, "namespace": NS,
                                                                                   "labels": labels}} if labels else {}))


def ours(name, groups):
    return SecurityGroupPolicy.from_object(policy(name, NS, groups=groups))


def apply(kube, cloud, clock, *policies, timeout=60.0, **kw):
    waiter = Waiter(timeout=timeout, clock=lambda: clock.now, sleep=clock.sleep)
    return apply_policies(ClusterView(kube), cloud.vpc, list(policies), waiter=waiter, **kw)


def stored(kube, name):
    return kube.objects.get((SGP.plural, NS, name))


def lease_of(kube, ns=NS):
    return kube.objects.get((r.LEASES.plural, ns, L.LEASE_NAME))


# -- create or update, like kubectl apply ------------------------------------------------------------

def test_a_policy_created_meanwhile_with_the_same_content_is_unchanged(kube, cloud, clock):
    kube.before["create"] = [other(kube, "web", GROUPS[:1])]
    out = apply(kube, cloud, clock, ours("web", GROUPS[:1]))
    assert out.ok and [s.status for s in out.steps] == [UNCHANGED]
    assert out.steps[0].message == "securitygrouppolicy/web unchanged" and out.steps[0].details["result"] == "unchanged"
    assert kube.writes == [] and stored(kube, "web")["spec"]["securityGroups"]["groupIds"] == GROUPS[:1]


def test_a_policy_created_meanwhile_with_other_content_is_read_and_updated(kube, cloud, clock):
    kube.before["create"] = [other(kube, "web", GROUPS[5:6])]
    out = apply(kube, cloud, clock, ours("web", GROUPS[:2]))
    assert out.ok and out.steps[0].message == "securitygrouppolicy/web configured"
    assert kube.writes == [("replace", "web")]
    assert stored(kube, "web")["spec"]["securityGroups"]["groupIds"] == GROUPS[:2]


def test_update_conflicts_are_read_again_and_retried_keeping_the_other_writers_labels(kube, cloud, clock):
    kube.add(SGP, policy("web", NS, groups=GROUPS[:1]))
    kube.before["replace"] = [other(kube, "web", GROUPS[:1], {"team": "a"}),
                              other(kube, "web", GROUPS[:1], {"team": "b"})]
    out = apply(kube, cloud, clock, ours("web", GROUPS[1:3]))
    assert out.ok and out.steps[0].message == "securitygrouppolicy/web configured"
    obj = stored(kube, "web")
    assert obj["spec"]["securityGroups"]["groupIds"] == GROUPS[1:3] and obj["metadata"]["labels"] == {"team": "b"}
    assert kube.writes == [("replace", "web")]  # the third attempt, after two 409s


def test_a_policy_deleted_meanwhile_is_created_again(kube, cloud, clock):
    kube.add(SGP, policy("web", NS, groups=GROUPS[:1]))
    kube.before["replace"] = [lambda: kube.objects.pop((SGP.plural, NS, "web"))]
    out = apply(kube, cloud, clock, ours("web", GROUPS[1:2]))
    assert out.ok and out.steps[0].message == "securitygrouppolicy/web created"
    assert kube.writes == [("create", "web")]


def test_conflicts_until_the_deadline_stop_with_a_clear_refusal(kube, cloud, clock):
    kube.add(SGP, policy("web", NS, groups=GROUPS[:1]))
    kube.before["replace"] = [other(kube, "web", GROUPS[:1], {"n": str(i)}) for i in range(10_000)]
    with pytest.raises(RefusedError) as e:
        apply(kube, cloud, clock, ours("web", GROUPS[1:2]), timeout=3)
    assert e.value.exit_code == ExitCode.FAILED
    assert e.value.message == ("securitygrouppolicy shop/web: other writers kept changing it until the timeout "
                               "(Conflict); this apply did not write it")
    assert "--timeout" in e.value.hint
    assert 3 <= clock.now < 4 and kube.writes == []
    assert lease_of(kube)["spec"]["holderIdentity"] == ""  # released on the way out


# -- the report is what is stored afterwards ---------------------------------------------------------

def test_a_change_by_another_writer_after_ours_is_reported(kube, cloud, clock):
    # Lists of policies: ours under the Lease, then the read-back, before which the other writer acts.
    kube.before["list"] = [None, other(kube, "web", GROUPS[7:9])]
    out = apply(kube, cloud, clock, ours("web", GROUPS[:1]))
    step = out.steps[0]
    assert step.status == CHANGED and step.details["result"] == "overwritten"
    assert step.message == ("securitygrouppolicy/web created, then changed by another writer: "
                            f"it now holds security groups {GROUPS[7]}, {GROUPS[8]}")
    assert step.details["stored"]["groupIds"] == GROUPS[7:9]
    assert out.ok  # the other writer's version is the newer one: not our failure, but said


def test_a_deletion_by_another_writer_after_ours_is_reported(kube, cloud, clock):
    kube.before["list"] = [None, lambda: kube.objects.pop((SGP.plural, NS, "web"))]
    out = apply(kube, cloud, clock, ours("web", GROUPS[:1]))
    assert out.steps[0].message == "securitygrouppolicy/web created, then deleted by another writer"
    assert out.steps[0].details["result"] == "deleted"


# -- the per-ENI limit, before and after the write ------------------------------------------------------

def test_no_room_left_by_the_clusters_policies_is_refused_before_writing_naming_them(kube, cloud, clock):
    kube.add(SGP, policy("base", NS, groups=GROUPS[:1]))
    kube.add(SGP, policy("lim-1", NS, groups=GROUPS[1:3]))
    kube.add(SGP, policy("lim-2", NS, groups=GROUPS[3:5]))
    with pytest.raises(RefusedError) as e:
        apply(kube, cloud, clock, ours("lim-3", GROUPS[5:7]))
    assert e.value.exit_code == ExitCode.FAILED
    assert e.value.message == ("2 Pod(s) in shop (web-1, web-2) would get 7 security groups from base, lim-1, lim-2 "
                               "(in the cluster) and lim-3 (this file), over the limit of 5 security groups per ENI; "
                               "use fewer groups in lim-3, or delete or edit one of base, lim-1, lim-2 first "
                               "(sgpctl policy delete NAME -n shop)")
    assert e.value.hint.startswith("nothing was applied")
    assert kube.writes == [] and lease_of(kube)["spec"]["holderIdentity"] == ""


def test_a_union_the_file_makes_alone_is_the_files_problem(kube, cloud, clock):
    with pytest.raises(InputError) as e:
        apply(kube, cloud, clock, ours("a", GROUPS[:3]), ours("b", GROUPS[3:6]))
    assert e.value.exit_code == ExitCode.USAGE
    assert "would get 6 security groups from a, b, over the limit of 5" in e.value.message
    assert kube.writes == []


def test_an_unrelated_union_over_the_limit_does_not_block_the_namespace(kube, cloud, clock):
    kube.add(r.PODS, pod("db-1", NS, {"app": "db"}))
    kube.add(SGP, policy("db-a", NS, {"app": "db"}, groups=GROUPS[:3]))
    kube.add(SGP, policy("db-b", NS, {"app": "db"}, groups=GROUPS[3:6]))
    out = apply(kube, cloud, clock, ours("web", GROUPS[6:7]))
    assert out.ok and kube.writes == [("create", "web")]


def test_another_writer_pushing_the_pods_over_the_limit_meanwhile_fails_the_apply_naming_everything(kube, cloud, clock):
    """The race the Lease prevents between sgpctl writers, made by a writer that does not take it
    (or where Leases are not offered): both checks passed, both wrote; the read-back sees 7 groups."""
    kube.add(SGP, policy("base", NS, groups=GROUPS[:1]))
    kube.add(SGP, policy("lim-1", NS, groups=GROUPS[1:3]))
    kube.before["create"] = [other(kube, "lim-3", GROUPS[5:7])]
    out = apply(kube, cloud, clock, ours("lim-2", GROUPS[3:5]))
    assert not out.ok and out.exit_code == ExitCode.FAILED
    assert [s.status for s in out.steps] == [CHANGED, FAILED]
    check = out.steps[1]
    assert check.id == "per-eni-limit"
    assert check.message == ("2 Pod(s) in shop (web-1, web-2) are now selected by base, lim-1, lim-2, lim-3 and would get "
                             "7 security groups, over the limit of 5 per ENI: another writer applied lim-3 meanwhile")
    assert check.hint == ("delete or edit one of these policies so that the union fits, e.g. the one this apply wrote: "
                          "sgpctl policy delete lim-2 -n shop")
    assert check.details["unions"] == [{"namespace": NS, "pods": ["web-1", "web-2"],
                                        "policies": ["base", "lim-1", "lim-2", "lim-3"], "appliedNow": ["lim-2"],
                                        "groups": GROUPS[:7], "limit": 5}]
    assert "per-eni-limit" in out.summary() or "failed" in out.summary()


def test_a_failure_after_some_writes_says_which_were_made(kube, cloud, clock):
    def invalid():
        raise KubeError(422, "Invalid", 'SecurityGroupPolicy "b" is invalid: spec.securityGroups.groupIds: Too many')
    kube.before["create"] = [None, invalid]
    with pytest.raises(KubeError) as e:
        apply(kube, cloud, clock, ours("a", GROUPS[:1]), ours("b", GROUPS[1:2]), ours("c", GROUPS[2:3]))
    assert e.value.message.endswith("(stopped after writing shop/a; 2 of 3 policies not applied: rerun to converge)")
    assert kube.writes == [("create", "a")]


# -- the Lease around it -----------------------------------------------------------------------------

def test_the_writes_happen_under_the_namespaces_lease_and_it_is_released(kube, cloud, clock):
    held = []
    kube.before["create"] = [lambda: held.append(lease_of(kube)["spec"]["holderIdentity"])]
    out = apply(kube, cloud, clock, ours("web", GROUPS[:1]))
    assert out.ok and held and held[0].count("/") == 2
    assert lease_of(kube)["spec"]["holderIdentity"] == "" and "notes" not in out.extra


@pytest.mark.parametrize("mode", ["forbidden", "absent"])
def test_without_leases_apply_goes_on_and_says_so(kube, cloud, clock, mode):
    kube.leases = mode
    out = apply(kube, cloud, clock, ours("web", GROUPS[:1]))
    assert out.ok and kube.writes == [("create", "web")]
    (note,) = out.extra["notes"]
    assert note.startswith("Lease shop/sgpctl-policy-writer cannot be used (Kubernetes API: HTTP 40")
    assert note.endswith(": went on without it; the per-ENI limit was checked again after the write")


def test_dry_run_takes_no_lease_and_writes_nothing(kube, cloud, clock):
    out = apply(kube, cloud, clock, ours("web", GROUPS[:1]), dry_run=True)
    assert out.dry_run and out.steps[0].message == "securitygrouppolicy/web created (dry run)"
    assert kube.writes == [] and lease_of(kube) is None


def test_a_held_lease_makes_apply_wait_then_refuse_naming_the_holder(kube, cloud, clock):
    kube.create_lease({"metadata": {"name": L.LEASE_NAME},
                       "spec": {"holderIdentity": "ci/1/abcdef", "leaseDurationSeconds": 15,
                                "renewTime": L.micro_time(L.time.time())}}, NS)

    def renew():  # the holder keeps renewing while we wait
        cur = kube.get_lease(L.LEASE_NAME, NS)
        kube.replace_lease({**cur, "spec": {**cur["spec"], "renewTime": L.micro_time(L.time.time())}}, NS)
    sleep = clock.sleep
    clock.sleep = lambda s: (sleep(s), renew())
    notes = []
    with pytest.raises(RefusedError, match="another sgpctl writer holds Lease shop/sgpctl-policy-writer: ci/1/abcdef"):
        apply(kube, cloud, clock, ours("web", GROUPS[:1]), timeout=20, notify=notes.append)
    assert notes and notes[0].startswith("waiting for Lease shop/sgpctl-policy-writer, held by ci/1/abcdef")
    assert kube.writes == []


def test_delete_holds_the_lease_and_says_when_it_was_already_gone(kube, cloud, clock):
    kube.add(SGP, policy("web", NS, groups=GROUPS[:1]))
    view = ClusterView(kube, namespace=NS)
    plan = plan_delete(view, "web", NS)
    waiter = Waiter(timeout=5, clock=lambda: clock.now, sleep=clock.sleep)
    out = delete_policy(view, plan, "web", NS, waiter=waiter)
    assert out.steps[0].message == "securitygrouppolicy/web deleted" and stored(kube, "web") is None
    assert lease_of(kube)["spec"]["holderIdentity"] == ""
    again = delete_policy(view, plan, "web", NS, waiter=waiter)
    assert again.ok and again.steps[0].status == UNCHANGED
    assert again.steps[0].message == "securitygrouppolicy/web was already deleted (by another writer)"
