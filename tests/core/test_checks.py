"""The check runner: ordering, streaming, fatal dependencies, exceptions, exit codes and the JSON shape."""

from __future__ import annotations

import pytest

from sgpctl.core.checks import (
    Category,
    CheckOutcome,
    CheckResult,
    CheckSpec,
    Status,
    failed,
    group_results,
    noted,
    exit_code,
    worst,
    passed,
    run_checks,
    skipped,
    to_json,
    undetermined,
    warned,
)
from sgpctl.errors import CloudError, InputError, KubeError, UndeterminedError


def spec(check_id, outcome, *, fatal=False, requires=(), calls=None):
    def run(ctx):
        if calls is not None:
            calls.append(check_id)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return CheckSpec(check_id, f"check {check_id}", run, fatal=fatal, requires=requires)


def statuses(results):
    return {r.id: (r.status.value, r.message) for r in results}


def test_results_come_in_declared_order_with_their_category():
    results = list(run_checks([
        ("settings", [spec("a", passed()), spec("b", warned("w"))]),
        ("cloud", [spec("c", noted("n"))]),
    ]))
    assert [(r.category, r.id, r.status) for r in results] == [
        ("settings", "a", Status.PASS), ("settings", "b", Status.WARN), ("cloud", "c", Status.INFO),
    ]
    assert results[0].description == "check a"


def test_results_stream_one_at_a_time():
    calls = []
    it = run_checks([("x", [spec("a", passed(), calls=calls), spec("b", passed(), calls=calls)])])
    first = next(it)
    assert first.id == "a" and calls == ["a"]  # b has not run yet: a renderer can show a first
    next(it)
    assert calls == ["a", "b"]


def test_fatal_failure_skips_its_dependents_only_and_later_categories_still_run():
    calls = []
    results = list(run_checks([
        ("cam", [
            spec("cam-policy-exists", failed("no policy", "run sgpctl setup"), fatal=True, calls=calls),
            spec("cam-policy-attached", passed(), requires=("cam-policy-exists",), calls=calls),
            spec("cam-roles-exist", passed(), calls=calls),
        ]),
        ("nodes", [
            spec("nodes-supported", passed(), calls=calls),
            spec("nodes-quota", passed(), requires=("cam-policy-exists",), calls=calls),
        ]),
    ]))
    assert statuses(results) == {
        "cam-policy-exists": ("fail", "no policy"),
        "cam-policy-attached": ("skip", "skipped: cam-policy-exists failed"),
        "cam-roles-exist": ("pass", ""),
        "nodes-supported": ("pass", ""),
        "nodes-quota": ("skip", "skipped: cam-policy-exists failed"),
    }
    assert "cam-policy-attached" not in calls and "nodes-quota" not in calls
    assert exit_code(results) == 1


def test_a_fatal_check_that_warns_or_notes_does_not_block():
    results = list(run_checks([("x", [
        spec("a", warned("meh"), fatal=True),
        spec("b", noted("fyi"), fatal=True),
        spec("c", passed(), requires=("a", "b")),
    ])]))
    assert results[-1].status is Status.PASS


def test_skips_are_transitive_and_say_why():
    results = list(run_checks([("x", [
        spec("a", failed("down"), fatal=True),
        spec("b", passed(), fatal=True, requires=("a",)),
        spec("c", passed(), requires=("b",)),
    ])]))
    assert statuses(results)["c"] == ("skip", "skipped: b was skipped")


def test_a_check_that_skips_itself_blocks_its_dependents():
    results = list(run_checks([("x", [
        spec("a", skipped("not applicable: no trunking"), fatal=True),
        spec("b", passed(), requires=("a",)),
    ])]))
    assert statuses(results)["b"] == ("skip", "skipped: a was skipped")
    assert exit_code(results) == 0  # a plain skip is not a problem


@pytest.mark.parametrize("exc,status,message,hint,undet", [
    (UndeterminedError("VPC API unreachable", "check the endpoint"), "skip",
     "could not determine: VPC API unreachable", "check the endpoint", True),
    (KubeError(403, "Forbidden", "pods is forbidden"), "skip",
     "could not determine: Kubernetes API: HTTP 403 Forbidden: pods is forbidden", None, True),
    (CloudError("AuthFailure.SignatureFailure", "bad signature", action="DescribeAddon"), "skip",
     "could not determine: DescribeAddon: AuthFailure.SignatureFailure: bad signature", None, True),
    (CloudError("ResourceNotFound", "no such cluster"), "fail", "ResourceNotFound: no such cluster", None, False),
    (InputError("bad selector", "fix it"), "fail", "bad selector", "fix it", False),
    (KeyError("spec"), "fail", "the check itself failed: KeyError: 'spec'",
     "this is a bug in sgpctl: run again with --debug and report it", False),
])
def test_exceptions_inside_a_check_become_its_result(exc, status, message, hint, undet):
    results = list(run_checks([("x", [spec("boom", exc), spec("after", passed())])]))
    r = results[0]
    assert (r.status.value, r.message, r.hint, r.undetermined) == (status, message, hint, undet)
    assert results[1].status is Status.PASS  # the run goes on


def test_an_undetermined_fatal_check_skips_dependents_with_that_reason_and_exits_3():
    results = list(run_checks([("x", [
        spec("kube-reachable", UndeterminedError("connection refused"), fatal=True),
        spec("pods-stale", passed(), requires=("kube-reachable",)),
    ])]))
    assert statuses(results)["pods-stale"] == ("skip", "skipped: kube-reachable could not be determined")
    assert exit_code(results) == 3


def test_a_check_may_return_undetermined():
    results = list(run_checks([("x", [spec("a", undetermined("values unreadable"))])]))
    assert results[0].undetermined and results[0].message == "could not determine: values unreadable"
    assert exit_code(results) == 3


def test_keyboard_interrupt_is_not_swallowed():
    with pytest.raises(KeyboardInterrupt):
        list(run_checks([("x", [spec("a", KeyboardInterrupt())])]))


def test_a_check_returning_the_wrong_type_fails_instead_of_crashing_the_run():
    results = list(run_checks([("x", [spec("a", "ok"), spec("b", passed())])]))
    assert results[0].status is Status.FAIL and "returned str" in results[0].message
    assert results[1].status is Status.PASS


def test_context_is_passed_to_each_check():
    seen = []
    s = CheckSpec("a", "a", lambda ctx: (seen.append(ctx), passed())[1])
    list(run_checks([("x", [s])], context={"cluster": "cls-1"}))
    assert seen == [{"cluster": "cls-1"}]


@pytest.mark.parametrize("categories,error", [
    ([("x", [spec("a", passed()), spec("a", passed())])], "duplicate check id 'a'"),
    ([("x", [spec("b", passed(), requires=("a",)), spec("a", passed(), fatal=True)])],
     "requires 'a', which is not an earlier check"),
    ([("x", [spec("b", passed(), requires=("nope",))])], "requires 'nope'"),
    ([("x", [spec("a", passed()), spec("b", passed(), requires=("a",))])], "which is not marked fatal"),
])
def test_wiring_mistakes_are_refused_before_anything_runs(categories, error):
    with pytest.raises(ValueError, match=error):
        run_checks(categories)


@pytest.mark.parametrize("bad_id", ["CamPolicy", "cam_policy", "cam policy", "-cam", "cam-", ""])
def test_check_ids_are_kebab_case(bad_id):
    with pytest.raises(ValueError, match="kebab-case"):
        CheckSpec(bad_id, "d", lambda ctx: passed())


def R(status, undet=False, cid="x"):
    return CheckResult(cid, "d", status, "could not determine: x" if undet else "", undetermined=undet)


@pytest.mark.parametrize("results,fail_on_warning,code", [
    ([], False, 0),
    ([R(Status.PASS), R(Status.INFO), R(Status.SKIP)], False, 0),
    ([R(Status.PASS), R(Status.WARN)], False, 0),
    ([R(Status.PASS), R(Status.WARN)], True, 1),
    ([R(Status.FAIL)], False, 1),
    ([R(Status.SKIP, undet=True)], False, 3),
    ([R(Status.SKIP, undet=True), R(Status.WARN)], False, 3),
    ([R(Status.SKIP, undet=True), R(Status.WARN)], True, 1),
    ([R(Status.SKIP, undet=True), R(Status.FAIL)], False, 1),
    ([R(Status.FAIL), R(Status.SKIP, undet=True)], False, 1),
])
def test_exit_code(results, fail_on_warning, code):
    assert exit_code(results, fail_on_warning) == code
    assert exit_code([Category("c", tuple(results))], fail_on_warning) == code


def test_json_has_the_contract_keys_per_category():
    results = list(run_checks([
        ("settings", [spec("region-set", passed()), spec("cluster-id-set", warned("w", "set it", ["a"]))]),
        ("cam", [spec("cam-policy-exists", UndeterminedError("403"))]),
    ]))
    doc = to_json(group_results(results))
    assert doc == {
        "ok": False,  # something could not be determined: not shown to be fine
        "categories": [
            {"name": "settings", "checks": [
                {"id": "region-set", "description": "check region-set", "status": "pass",
                 "message": "", "hint": None, "evidence": []},
                {"id": "cluster-id-set", "description": "check cluster-id-set", "status": "warn",
                 "message": "w", "hint": "set it", "evidence": ["a"]},
            ]},
            {"name": "cam", "checks": [
                {"id": "cam-policy-exists", "description": "check cam-policy-exists", "status": "skip",
                 "message": "could not determine: 403", "hint": None, "evidence": [], "undetermined": True},
            ]},
        ],
    }


@pytest.mark.parametrize("outcomes,fail_on_warning,ok", [
    ([passed(), warned("w")], False, True),
    ([passed(), warned("w")], True, False),
    ([failed("f")], False, False),
])
def test_json_ok_follows_the_exit_code(outcomes, fail_on_warning, ok):
    results = list(run_checks([("c", [spec(f"c{i}", o) for i, o in enumerate(outcomes)])]))
    assert to_json(results, fail_on_warning)["ok"] is ok


def test_group_results_keeps_first_appearance_order():
    results = [CheckResult("a", "d", Status.PASS, category="one"), CheckResult("b", "d", Status.PASS, category="two"),
               CheckResult("c", "d", Status.PASS, category="one")]
    cats = group_results(results)
    assert [(c.name, [r.id for r in c.results]) for c in cats] == [("one", ["a", "c"]), ("two", ["b"])]


def test_status_values():
    assert [s.value for s in Status] == ["pass", "warn", "fail", "skip", "info"]
    assert f"{Status.WARN}" == "warn"


@pytest.mark.parametrize("statuses,expected", [
    ([Status.PASS, Status.SKIP, Status.INFO], Status.PASS),
    ([Status.PASS, Status.WARN, Status.SKIP], Status.WARN),
    ([Status.WARN, Status.FAIL, Status.PASS], Status.FAIL),
    ([], Status.PASS),
])
def test_worst_sums_up_several_results(statuses, expected):
    assert worst([R(s) for s in statuses]) is expected


def test_only_skip_can_be_undetermined():
    with pytest.raises(ValueError):
        CheckOutcome(Status.FAIL, "x", undetermined=True)
