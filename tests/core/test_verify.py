"""core.verify: the per-Pod end-to-end checks, over hand-built inputs."""

from sgpctl.core.verify import ENI_NOT_LOOKED_UP, EniFacts, verify_pod

SG = ("sg-aaaa0001", "sg-bbbb0002")


def pod(annotated=True, groups="sg-aaaa0001,sg-bbbb0002", request=True, host=False, node="10.0.0.1", phase="Running"):
    ann = {"tke.cloud.tencent.com/networks": "tke-sub-eni", "tke.cloud.tencent.com/security-group-id": groups} if annotated else {}
    res = {"requests": {"tke.cloud.tencent.com/sub-eni": "1"}, "limits": {"tke.cloud.tencent.com/sub-eni": "1"}} if request else {}
    return {"metadata": {"name": "web-1", "namespace": "shop", "annotations": ann},
            "spec": {"nodeName": node, "hostNetwork": host, "containers": [{"name": "c", "resources": res}]},
            "status": {"phase": phase}}


VPCENI = {"metadata": {"name": "vpceni-1"}, "status": {"eni": {"eniID": "eni-00000001"}}}


def run(p=None, **kw):
    args = dict(namespace="shop", name="web-1", pod=p if p is not None else pod(), policies=("web",), expected=SG,
                vpcenis=[VPCENI], eni=EniFacts("eni-00000001", SG), node_family="SA5", node_supported=True)
    args.update(kw)
    return verify_pod(**args)


def statuses(v):
    return {c.id: c.status.value for c in v.checks}


def test_a_pod_that_matches_everywhere_passes_every_check():
    v = run()
    assert v.ok and not v.stale
    assert statuses(v) == {k: "pass" for k in ("pod-exists", "host-network", "network-annotation", "sub-eni-resource",
                                                 "security-groups", "vpceni", "eni-groups", "node-family")}
    assert (v.eni_id, v.eni_groups) == ("eni-00000001", SG)


def test_missing_pod_fails_first_and_alone():
    v = run(p=None, pod=None)
    assert [c.id for c in v.checks] == ["pod-exists"] and not v.ok


def test_host_network_pod_stops_there():
    v = run(p=pod(host=True))
    assert statuses(v)["host-network"] == "fail" and "vpceni" not in statuses(v)


def test_stale_pod_fails_with_the_rollout_command():
    v = run(p=pod(annotated=False, request=False), stale=True, stale_reason="created before policy web")
    s = statuses(v)
    assert s["network-annotation"] == "fail" and s["sub-eni-resource"] == "fail" and s["vpceni"] == "skip"
    hint = next(c.hint for c in v.checks if c.id == "network-annotation")
    assert hint == "rebuild it: sgpctl policy rollout web -n shop --yes"
    assert v.stale and not v.ok


def test_groups_differing_from_the_policies_fail():
    v = run(p=pod(groups="sg-aaaa0001"), stale=True)
    assert statuses(v)["security-groups"] == "fail"


def test_order_only_difference_on_the_eni_is_a_warning():
    v = run(eni=EniFacts("eni-00000001", tuple(reversed(SG))))
    assert statuses(v)["eni-groups"] == "warn" and v.ok and v.warnings == 1


def test_eni_changed_behind_the_tools_back_fails():
    v = run(eni=EniFacts("eni-00000001", ("sg-cccc0003",)))
    assert statuses(v)["eni-groups"] == "fail"


def test_eni_unknown_to_vpc_fails_as_its_own_outcome():
    v = run(eni=None)
    (c,) = [c for c in v.checks if c.id == "eni-groups"]
    assert c.status.value == "fail" and "not found in VPC" in c.message


def test_no_vpceni_names_the_pending_reason():
    v = run(p=pod(phase="Pending"), vpcenis=[], eni=ENI_NOT_LOOKED_UP,
            pending_reason="FailedCreatePodSandBox: security group sg-bbbb0002 not found")
    (c,) = [c for c in v.checks if c.id == "vpceni"]
    assert c.status.value == "fail" and "sg-bbbb0002 not found" in c.message


def test_two_vpcenis_warn_about_a_leak_and_use_the_newest():
    older = {"metadata": {"name": "vpceni-0"}, "status": {"eni": {"eniID": "eni-00000000"}}}
    v = run(vpcenis=[older, VPCENI])
    assert statuses(v)["vpceni"] == "warn" and v.eni_id == "eni-00000001"


def test_expect_sg_is_compared_as_a_set():
    assert statuses(run(expect_sg=list(reversed(SG))))["expected-groups"] == "pass"
    assert statuses(run(expect_sg=["sg-aaaa0001"]))["expected-groups"] == "fail"


def test_unsupported_node_family_fails():
    v = run(node_family="S5", node_supported=False)
    assert statuses(v)["node-family"] == "fail"


def test_json_contract_keys():
    data = run().to_dict()
    assert set(data) == {"namespace", "name", "node", "ok", "stale", "expectedSecurityGroups",
                         "annotatedSecurityGroups", "eniId", "eniSecurityGroups", "checks"}
    # each check keeps the README's four keys
    assert data["checks"][0] == {"id": "pod-exists", "status": "pass", "message": "Pod shop/web-1 exists (Running)", "hint": None}


def test_checks_are_results_of_the_one_model_under_the_pods_name():
    v = run()
    assert {c.category for c in v.checks} == {"shop/web-1"}
    assert all(c.description for c in v.checks)


def test_a_pod_sums_up_as_one_result_with_its_first_problem():
    good = run().summary()
    assert (good.status.value, good.category, good.message) == ("pass", "shop", "")
    assert good.description == "web-1 on 10.0.0.1: sg-aaaa0001,sg-bbbb0002 on eni-00000001"
    stale = run(p=pod(annotated=False, request=False), stale=True, stale_reason="created before policy web").summary()
    assert stale.status.value == "fail"
    assert stale.message == "stale: created before policy web"
    assert stale.hint == "rebuild it: sgpctl policy rollout web -n shop --yes"
    assert stale.evidence == [
        "network-annotation: no tke.cloud.tencent.com/networks annotation (stale: created before policy web)",
        "sub-eni-resource: no container requests tke.cloud.tencent.com/sub-eni",
        "security-groups: no security-group annotation; the policies give sg-aaaa0001,sg-bbbb0002",
    ]
    warned = run(eni=EniFacts("eni-00000001", tuple(reversed(SG)))).summary()
    assert warned.status.value == "warn" and warned.message.startswith("eni-groups: ENI eni-00000001 has the same groups in another order")


def test_a_pod_verified_before_the_cloud_answers_ends_as_if_the_answer_had_been_there():
    from sgpctl.core.verify import ENI_NOT_LISTED, ENI_PENDING, settle_eni

    answers = [EniFacts("eni-00000001", SG), EniFacts("eni-00000001", SG[::-1]), EniFacts("eni-00000001", ("sg-cccc0003",)),
               None, ENI_NOT_LISTED, ENI_NOT_LOOKED_UP]
    for answer in answers:
        pending = run(eni=ENI_PENDING)
        assert statuses(pending)["eni-groups"] == "skip" and pending.eni_groups is None
        settled = settle_eni(pending, answer)
        direct = run(eni=answer)
        assert settled.to_dict() == direct.to_dict() and settled.checks == direct.checks
        assert [c.id for c in settled.checks][-2:] == ["eni-groups", "node-family"]  # in its place, before node-family


def test_settling_a_pod_that_had_no_eni_to_look_up_leaves_it_alone():
    from sgpctl.core.verify import ENI_PENDING, settle_eni

    v = run(vpcenis=[{"metadata": {"name": "vpceni-1"}, "status": {}}], eni=ENI_PENDING)
    before = list(v.checks)
    assert settle_eni(v, None).checks == before
