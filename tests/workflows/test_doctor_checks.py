"""`doctor` semantics over fakes: results stream as they are made, each read happens once, what a
failure makes meaningless is skipped, and the settings checks tell a wrong context from an unknown one."""

from __future__ import annotations

from collections import Counter

import pytest

from sgpctl.core.checks import Status, exit_code
from sgpctl.errors import CloudError
from sgpctl.workflows.doctor import run_doctor

from tests.fakes import SGP, policy
from tests.workflows.test_doctor_golden import context_for, half_set_up_world, kubeconfig


def test_results_stream_before_later_categories_are_read(tmp_path):
    kube, cloud = half_set_up_world()
    results = run_doctor(context_for(tmp_path, kube, cloud))
    first = next(results)
    # nothing is asked of the cloud or the cluster before the settings it needs have passed
    assert first.id == "settings-credentials" and cloud.log == [] and kube.calls == 0
    first = [first, *(next(results) for _ in range(4))]
    assert [r.category for r in first] == ["settings"] * 5
    rest = list(results)
    assert rest[-1].category == "api-assumptions" and rest[-1].id == "leaks-delete-action"


def test_chosen_categories_are_read_in_order(tmp_path):
    from sgpctl.workflows.doctor import CATEGORIES

    kube, cloud = half_set_up_world()
    results = run_doctor(context_for(tmp_path, kube, cloud), list(CATEGORIES))
    first = [next(results) for _ in range(5)]
    assert [r.category for r in first] == ["settings"] * 5
    assert cloud.log == [] and kube.calls == 0  # no read ahead: each check reads when it runs


def _world(case: str):
    kube, cloud = half_set_up_world()
    if case == "no-cluster":
        cloud.failing["DescribeClusters"] = CloudError("ResourceNotFound.ClusterNotFound", "no such cluster")
    elif case == "cam-auth":
        cloud.failing["ListPolicies"] = CloudError("AuthFailure.SignatureFailure", "bad signature")
    elif case == "vpc-down":
        cloud.failing["DescribeSecurityGroupLimits"] = CloudError("InternalError", "boom")
    elif case == "no-addons":
        cloud.failing["DescribeAddon"] = CloudError("InternalError", "boom")
    elif case == "no-ipamd":
        cloud.failing["DescribeIPAMD"] = CloudError("InternalError", "boom")
    elif case == "no-subnets":  # routing's read of eniipamd's subnets, read ahead
        cloud.failing["DescribeSubnets"] = CloudError("InternalError", "boom")
    elif case in ("no-services", "no-vpcenis"):  # a collection routing lists; the one leaks' index needs
        from sgpctl.errors import KubeError

        real, failing = kube.list, case.removeprefix("no-")

        def list_(resource, *args, **kwargs):
            if resource.plural == failing:
                kube.calls += 1
                raise KubeError(500, "InternalError", f"{failing}: boom")
            return real(resource, *args, **kwargs)

        kube.list = list_
    elif case == "no-sgp-crd":  # traffic-needs' plan is not made ahead
        kube.served["SecurityGroupPolicy"] = False
    elif case == "no-rules":  # the traffic facts' second half fails after the plan made ahead
        cloud.failing["DescribeSecurityGroupPolicies"] = CloudError("InternalError", "boom")
    elif case == "no-enis":  # the listing verify and traffic wait for fails
        cloud.failing["DescribeNetworkInterfaces"] = CloudError("InternalError", "boom")
    return kube, cloud


@pytest.mark.parametrize("case", ["working", "no-cluster", "cam-auth", "vpc-down", "no-addons", "no-kubeconfig",
                                  "no-ipamd", "no-subnets", "no-services", "no-sgp-crd", "no-rules", "no-enis",
                                  "no-vpcenis"])
def test_reading_ahead_makes_the_calls_and_results_of_reading_in_order(tmp_path, case):
    """A whole run reads ahead; the same run with every category named reads as each check comes.
    Both make the same calls (none that a failed check makes pointless) and give the same results."""
    from sgpctl.workflows.doctor import CATEGORIES

    runs = []
    for names in (None, list(CATEGORIES)):
        kube, cloud = _world(case)
        where = tmp_path / ("ahead" if names is None else "in-order")
        where.mkdir()
        ctx = context_for(where, kube, cloud)
        if case == "no-kubeconfig":
            (where / "kubeconfig").unlink()
        results = [(r.id, r.status, r.message.replace(str(tmp_path), "").replace("/ahead", "").replace("/in-order", ""))
                   for r in run_doctor(ctx, names)]
        runs.append((results, Counter(a for _, a, _ in cloud.log), sorted(map(str, kube.lists)), kube.calls))
    ahead, in_order = runs
    assert ahead[0] == in_order[0]
    assert ahead[1] == in_order[1]
    assert ahead[2:] == in_order[2:]


def test_every_read_happens_once(tmp_path):
    kube, cloud = half_set_up_world()
    list(run_doctor(context_for(tmp_path, kube, cloud)))
    actions = [a for _, a, _ in cloud.log]
    for action in ("DescribeClusters", "DescribeIPAMD", "DescribeSecurityGroupLimits", "DescribeAddonValues"):
        assert actions.count(action) == 1, (action, actions.count(action))


def test_every_cluster_collection_is_listed_once_and_only_pod_warnings_are_read(tmp_path):
    kube, cloud = half_set_up_world()
    list(run_doctor(context_for(tmp_path, kube, cloud)))
    assert kube.lists, "doctor read the cluster"
    repeated = {key for key in kube.lists if kube.lists.count(key) > 1}
    assert repeated == set(), repeated
    # verify, routing and the pods checks share one matching and one events list, filtered by the server
    assert [q for q in kube.queries if q[0] == "events"] == [("events", None, "type=Warning,involvedObject.kind=Pod")]


def test_an_unreadable_policy_is_a_failed_check_not_a_crash(tmp_path):
    kube, cloud = half_set_up_world()
    bad = policy("broken", "shop")
    bad["spec"]["securityGroups"] = 5  # accepted by an API server without a schema
    kube.add(SGP, bad)
    results = {r.id: r for r in run_doctor(context_for(tmp_path, kube, cloud), ["policies", "pods"])}
    readable = results["policies-readable"]
    assert readable.status is Status.FAIL
    assert any(e.startswith("SecurityGroupPolicy shop/broken cannot be read") for e in readable.evidence)
    # the other policies are still judged: the missing group of `ghost` is still found
    assert results["policies-groups-exist"].status is Status.FAIL and "sg-missing1" in results["policies-groups-exist"].message
    assert not any("the check itself failed" in r.message for r in results.values())


def test_a_failed_read_fails_its_check_and_skips_what_stands_on_it(tmp_path):
    kube, cloud = half_set_up_world()
    cloud.failing["DescribeClusters"] = CloudError("ResourceNotFound.ClusterNotFound", "no such cluster")
    results = {r.id: r for r in run_doctor(context_for(tmp_path, kube, cloud))}
    assert results["access-tke"].status is Status.FAIL and "ClusterNotFound" in results["access-tke"].message
    for check_id in ("network-vpc-cni", "trunking-eniipamd", "addon-installed", "routing-mode", "strict-ipvs"):
        assert results[check_id].message == "skipped: access-tke failed", check_id
    # independent categories still ran
    assert results["cam-policy"].status is Status.PASS
    assert results["pods-stale"].status is Status.FAIL
    assert [a for _, a, _ in cloud.log].count("DescribeClusters") == 1


def test_an_auth_failure_is_undetermined_exit_3_unless_something_failed(tmp_path):
    kube, cloud = half_set_up_world()
    cloud.failing["ListPolicies"] = CloudError("AuthFailure.SignatureFailure", "bad signature")
    results = {r.id: r for r in run_doctor(context_for(tmp_path, kube, cloud), ["cloud-access", "cam"])}
    assert results["access-cam"].undetermined
    assert results["cam-policy"].message == "skipped: access-cam could not be determined"
    assert exit_code(results.values()) == 3


def settings_results(tmp_path, context_name: str):
    kube, cloud = half_set_up_world()
    ctx = context_for(tmp_path, kube, cloud)
    kubeconfig(tmp_path / "kubeconfig", context=context_name)
    return {r.id: r for r in run_doctor(ctx, ["settings"])}


def test_context_of_another_cluster_fails(tmp_path):
    r = settings_results(tmp_path, "cls-other001-context-default")
    # the cluster entry still names cls-fake0001: the context name is read first
    assert r["settings-context-cluster"].status is Status.FAIL
    assert "cls-other001" in r["settings-context-cluster"].message


def test_context_without_a_cluster_id_warns(tmp_path):
    kube, cloud = half_set_up_world()
    ctx = context_for(tmp_path, kube, cloud)
    (tmp_path / "kubeconfig").write_text("""apiVersion: v1
kind: Config
current-context: prod
clusters: [{name: prod, cluster: {server: "https://10.0.0.1:443"}}]
contexts: [{name: prod, context: {cluster: prod, user: admin}}]
users: [{name: admin, user: {token: x}}]
""")
    r = {x.id: x for x in run_doctor(ctx, ["settings"])}
    assert r["settings-context-cluster"].status is Status.WARN
    assert r["settings-kubeconfig"].status is Status.PASS


def test_missing_kubeconfig_skips_every_cluster_check(tmp_path):
    kube, cloud = half_set_up_world()
    ctx = context_for(tmp_path, kube, cloud)
    (tmp_path / "kubeconfig").unlink()
    r = {x.id: x for x in run_doctor(ctx)}
    assert r["settings-kubeconfig"].status is Status.FAIL
    assert r["access-kubernetes"].message == "skipped: settings-kubeconfig failed"
    assert r["nodes-families"].message == "skipped: access-kubernetes was skipped"
    assert r["cam-policy"].status is Status.PASS  # the cloud side is still examined
    assert kube.calls == 0


def test_no_policy_is_a_note_not_a_failure(tmp_path):
    from tests.fakes import FakeCloud, FakeKube, eniipamd, node
    from sgpctl.kube import resources as r
    from tests.fakes import FakeAddon

    kube, cloud = FakeKube(), FakeCloud()
    eniipamd(cloud)
    cloud.tke.addons["securitygrouppolicy"] = FakeAddon("securitygrouppolicy", "1.1.0")
    kube.add(r.NODES, node("10.0.0.10", "SA5.2XLARGE16", allocatable=100))
    results = {x.id: x for x in run_doctor(context_for(tmp_path, kube, cloud), ["policies", "pods"])}
    assert results["policies-present"].status is Status.INFO
    assert all(x.status is Status.PASS for k, x in results.items() if k != "policies-present")
    assert exit_code(results.values()) == 0


def test_a_read_asked_for_on_two_threads_at_once_is_made_once(tmp_path):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    kube, cloud = half_set_up_world()
    ctx = context_for(tmp_path, kube, cloud)
    started, release, calls = threading.Event(), threading.Event(), []

    def slow_read():
        calls.append(1)
        started.set()
        release.wait(5)
        return "answer"

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(ctx.memo, "k", slow_read)
        started.wait(5)
        second = pool.submit(ctx.memo, "k", lambda: calls.append(2) or "another")
        assert ctx.cached("k") is None  # in flight: nothing is read or waited for
        release.set()
        assert (first.result(), second.result()) == ("answer", "answer")
    assert calls == [1] and ctx.cached("k") == "answer"


def test_a_failed_read_ahead_lands_on_its_check_with_the_request_id(tmp_path):
    kube, cloud = half_set_up_world()
    cloud.failing["DescribeSecurityGroupLimits"] = CloudError("InternalError", "boom", "req-vpc-42")
    results = {r.id: r for r in run_doctor(context_for(tmp_path, kube, cloud))}
    assert results["access-vpc"].undetermined and "request id req-vpc-42" in results["access-vpc"].message
    assert [a for _, a, _ in cloud.log].count("DescribeSecurityGroupLimits") == 1
