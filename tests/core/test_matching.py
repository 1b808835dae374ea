"""Pod -> SecurityGroupPolicy matching: scope, selectors, union order, staleness, warnings.

Every expected value below is worked out from the rules in sgpctl/core/matching.py's docstring.
"""

from __future__ import annotations

import pytest

from sgpctl.core.annotations import ANNOTATION_NETWORKS, ANNOTATION_SECURITY_GROUPS
from sgpctl.core.matching import expected_groups, match, policy_matches_pod
from sgpctl.core.policy import SecurityGroupPolicy


def sgp(name, ns="ns", pod_selector=None, sa_selector=None, groups=("sg-1",), created=None):
    spec: dict = {"securityGroups": {"groupIds": list(groups)}}
    if pod_selector is not None:
        spec["podSelector"] = pod_selector
    if sa_selector is not None:
        spec["serviceAccountSelector"] = sa_selector
    meta = {"name": name, "namespace": ns}
    if created:
        meta["creationTimestamp"] = created
    return SecurityGroupPolicy.from_object({
        "apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1",
        "kind": "SecurityGroupPolicy",
        "metadata": meta,
        "spec": spec,
    })


def pod(name, ns="ns", labels=None, sa=None, host=False, phase="Running", created=None,
        groups=None, sub_eni=False, node=None, owner=None, pod_labels_extra=None):
    meta: dict = {"name": name, "namespace": ns, "labels": dict(labels or {})}
    if pod_labels_extra:
        meta["labels"].update(pod_labels_extra)
    if created:
        meta["creationTimestamp"] = created
    annotations = {}
    if sub_eni:
        annotations[ANNOTATION_NETWORKS] = "tke-sub-eni"
    if groups is not None:
        annotations[ANNOTATION_SECURITY_GROUPS] = groups
    if annotations:
        meta["annotations"] = annotations
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True, "apiVersion": "apps/v1"}]
    spec: dict = {"containers": [{"name": "c"}]}
    if sa:
        spec["serviceAccountName"] = sa
    if host:
        spec["hostNetwork"] = True
    if node:
        spec["nodeName"] = node
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


def sa(name, ns="ns", labels=None):
    return {"metadata": {"name": name, "namespace": ns, "labels": labels or {}}}


APP_X = {"matchLabels": {"app": "x"}}
TEAM_RED = {"matchLabels": {"team": "red"}}

SELECTION_CASES = [
    # (id, policy, pod, serviceaccounts, selected?)
    ("pod selector matches", sgp("a", pod_selector=APP_X), pod("p", labels={"app": "x"}), [], True),
    ("pod selector does not match", sgp("a", pod_selector=APP_X), pod("p", labels={"app": "y"}), [], False),
    ("other namespace never", sgp("a", ns="other", pod_selector={}), pod("p", labels={"app": "x"}), [], False),
    ("empty pod selector selects a Pod without labels", sgp("a", pod_selector={}), pod("p"), [], True),
    ("hostNetwork never", sgp("a", pod_selector={}), pod("p", host=True), [], False),
    ("neither selector selects nothing", sgp("a"), pod("p", labels={"app": "x"}), [], False),
    ("no groupIds selects nothing", sgp("a", pod_selector={}, groups=()), pod("p"), [], False),
    ("SA selector reads the ServiceAccount's labels", sgp("a", sa_selector=TEAM_RED),
     pod("p", labels={"team": "blue"}, sa="robot"), [sa("robot", labels={"team": "red"})], True),
    ("SA selector ignores the Pod's own labels", sgp("a", sa_selector=TEAM_RED),
     pod("p", labels={"team": "red"}, sa="robot"), [sa("robot", labels={"team": "blue"})], False),
    ("SA defaults to 'default'", sgp("a", sa_selector=TEAM_RED), pod("p"),
     [sa("default", labels={"team": "red"})], True),
    ("SA of the same name in another namespace does not count", sgp("a", sa_selector=TEAM_RED),
     pod("p", sa="robot"), [sa("robot", ns="other", labels={"team": "red"})], False),
    ("missing SA: even an empty SA selector fails", sgp("a", sa_selector={}), pod("p", sa="ghost"), [], False),
    ("missing SA: a pod-selector-only policy still matches", sgp("a", pod_selector={}),
     pod("p", sa="ghost"), [], True),
    ("both selectors: both match", sgp("a", pod_selector=APP_X, sa_selector=TEAM_RED),
     pod("p", labels={"app": "x"}, sa="r"), [sa("r", labels={"team": "red"})], True),
    ("both selectors: only the pod one matches", sgp("a", pod_selector=APP_X, sa_selector=TEAM_RED),
     pod("p", labels={"app": "x"}, sa="r"), [sa("r", labels={"team": "blue"})], False),
    ("both selectors: only the SA one matches", sgp("a", pod_selector=APP_X, sa_selector=TEAM_RED),
     pod("p", labels={"app": "y"}, sa="r"), [sa("r", labels={"team": "red"})], False),
    ("NotIn matches a Pod without the key",
     sgp("a", pod_selector={"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}),
     pod("p", labels={"app": "x"}), [], True),
    ("matchLabels AND matchExpressions",
     sgp("a", pod_selector={"matchLabels": {"app": "x"},
                            "matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
     pod("p", labels={"app": "x"}), [], False),
]


@pytest.mark.parametrize("policy,p,sas,selected", [c[1:] for c in SELECTION_CASES],
                         ids=[c[0] for c in SELECTION_CASES])
def test_selection_rules(policy, p, sas, selected):
    result = match([p], [policy], sas)
    assert [m.name for m in result.by_policy[(policy.namespace, policy.name)]] == (
        ["p"] if selected else [])
    groups, names = expected_groups(p, [policy], sas)
    assert names == (("a",) if selected else ())
    assert groups == (tuple(policy.group_ids) if selected else ())
    sa_name = p["spec"].get("serviceAccountName", "default")
    labels = next((s["metadata"]["labels"] for s in sas
                   if s["metadata"]["name"] == sa_name and s["metadata"]["namespace"] == "ns"), None)
    assert policy_matches_pod(policy, p, labels) is selected


def test_union_follows_policy_name_order_and_keeps_first_occurrence():
    policies = [
        sgp("b", pod_selector={}, groups=("sg-3", "sg-1")),
        sgp("c", pod_selector={}, groups=("sg-2", "sg-4")),
        sgp("a", pod_selector={}, groups=("sg-1", "sg-2")),
    ]
    result = match([pod("p")], policies, [])
    (m,) = result.pods
    assert m.policies == ("a", "b", "c")
    # a gives sg-1, sg-2; b adds sg-3 (sg-1 already there); c adds sg-4 (sg-2 already there).
    assert m.expected_groups == ("sg-1", "sg-2", "sg-3", "sg-4")
    assert expected_groups(pod("p"), policies, []) == (("sg-1", "sg-2", "sg-3", "sg-4"), ("a", "b", "c"))


def test_expected_groups_accepts_serviceaccounts_keyed_by_namespace_and_name():
    policy = sgp("a", sa_selector=TEAM_RED, groups=("sg-9",))
    by_key = {("ns", "r"): sa("r", labels={"team": "red"})}
    assert expected_groups(pod("p", sa="r"), [policy], by_key) == (("sg-9",), ("a",))


def test_same_labels_different_serviceaccounts_are_told_apart():
    policy = sgp("a", sa_selector=TEAM_RED)
    pods = [pod("p1", labels={"app": "x"}, sa="red"), pod("p2", labels={"app": "x"}, sa="blue"),
            pod("p3", labels={"app": "x"}, sa="red")]
    sas = [sa("red", labels={"team": "red"}), sa("blue", labels={"team": "blue"})]
    result = match(pods, [policy], sas)
    assert [m.name for m in result.pods] == ["p1", "p3"]


def test_the_same_policy_twice_counts_once():
    a1 = sgp("a", pod_selector={}, groups=("sg-1",))
    a2 = sgp("a", pod_selector={}, groups=("sg-1",))
    result = match([pod("p")], [a1, a2], [])
    assert result.pods[0].policies == ("a",)
    assert not [w for w in result.warnings if w.code == "multiple-policies"]


POLICY_CREATED = "2024-02-01T00:00:00Z"

STALENESS_CASES = [
    # (id, pod, stale_reason or None, included in result)
    ("created before the policy, never annotated",
     pod("p", created="2024-01-01T00:00:00Z"), "created before policy a", True),
    ("created after the policy but not annotated",
     pod("p", created="2024-03-01T00:00:00Z"), "not annotated", True),
    ("no creation time: just not annotated", pod("p"), "not annotated", True),
    ("fractional seconds compare as instants, not text",
     # 00:00:00.5 is after 00:00:00; as text "." sorts before "Z" and would say "before".
     pod("p", created="2024-02-01T00:00:00.500000Z"), "not annotated", True),
    ("annotated with the expected groups in another order", pod("p", sub_eni=True, groups="sg-2, sg-1"), None, True),
    ("annotated with fewer groups", pod("p", sub_eni=True, groups="sg-1"), "groups differ", True),
    ("annotated with an extra group", pod("p", sub_eni=True, groups="sg-1,sg-2,sg-3"), "groups differ", True),
    ("sub-ENI without a groups annotation", pod("p", sub_eni=True), "groups differ", True),
    ("groups annotation without the sub-ENI network counts as not annotated",
     pod("p", groups="sg-1,sg-2"), "not annotated", True),
    ("finished Pods hold no sub-ENI and are never stale",
     pod("p", phase="Succeeded", created="2024-01-01T00:00:00Z"), None, True),
    ("failed Pods too", pod("p", phase="Failed", sub_eni=True, groups="sg-7"), None, True),
]


@pytest.mark.parametrize("p,reason,included", [c[1:] for c in STALENESS_CASES],
                         ids=[c[0] for c in STALENESS_CASES])
def test_staleness_when_a_policy_matches(p, reason, included):
    policy = sgp("a", pod_selector={}, groups=("sg-1", "sg-2"), created=POLICY_CREATED)
    result = match([p], [policy], [])
    assert [m.name for m in result.pods] == (["p"] if included else [])
    m = result.pods[0]
    assert m.stale_reason == reason
    assert m.stale is (reason is not None)
    assert [s.name for s in result.stale()] == (["p"] if reason else [])


def test_created_before_names_the_first_policy_in_name_order_that_postdates_the_pod():
    pod_time = "2024-01-15T00:00:00Z"
    policies = [
        sgp("a", pod_selector={}, created="2023-06-01T00:00:00Z"),   # older than the Pod
        sgp("b", pod_selector={}, created="2024-02-01T00:00:00Z"),   # newer
        sgp("c", pod_selector={}, created="2024-03-01T00:00:00Z"),   # newer
    ]
    result = match([pod("p", created=pod_time)], policies, [])
    assert result.pods[0].stale_reason == "created before policy b"


NO_POLICY_CASES = [
    ("sub-ENI Pod no policy selects any more", pod("p", labels={"app": "old"}, sub_eni=True, groups="sg-1"),
     "no policy matches any more", True),
    ("finished sub-ENI Pod is reported but not stale",
     pod("p", labels={"app": "old"}, sub_eni=True, phase="Succeeded"), None, True),
    ("hostNetwork Pod carrying the annotation is not stale", pod("p", host=True, sub_eni=True), None, True),
    ("ordinary unmatched Pod is left out", pod("p", labels={"app": "old"}), None, False),
    ("a groups annotation alone does not make it a sub-ENI Pod",
     pod("p", labels={"app": "old"}, groups="sg-1"), None, False),
]


@pytest.mark.parametrize("p,reason,included", [c[1:] for c in NO_POLICY_CASES],
                         ids=[c[0] for c in NO_POLICY_CASES])
def test_staleness_when_no_policy_matches(p, reason, included):
    policy = sgp("a", pod_selector=APP_X)
    result = match([p], [policy], [])
    assert [m.name for m in result.pods] == (["p"] if included else [])
    if included:
        m = result.pods[0]
        assert (m.policies, m.expected_groups, m.stale_reason) == ((), (), reason)


def test_pods_in_namespaces_without_policies_still_report_sub_enis():
    result = match([pod("p", ns="quiet", sub_eni=True, groups="sg-1")], [sgp("a", pod_selector={})], [])
    (m,) = result.pods
    assert (m.namespace, m.stale_reason, m.annotated_groups) == ("quiet", "no policy matches any more", ("sg-1",))


def test_pod_match_fields():
    p = pod("web-1", labels={"app": "x"}, node="n1", created="2024-05-01T00:00:00Z",
            sub_eni=True, groups="sg-1", owner=("StatefulSet", "web"))
    (m,) = match([p], [sgp("a", pod_selector=APP_X, groups=("sg-1",))], []).pods
    assert (m.namespace, m.name, m.node, m.owner, m.policies, m.expected_groups, m.annotated_groups,
            m.stale, m.host_network, m.phase, m.created) == (
        "ns", "web-1", "n1", ("StatefulSet", "web"), ("a",), ("sg-1",), ("sg-1",),
        False, False, "Running", "2024-05-01T00:00:00Z")


def _rs(name, owner=None):
    meta = {"name": name, "namespace": "ns"}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    return {"kind": "ReplicaSet", "metadata": meta}


OWNER_CASES = [
    ("ReplicaSet object names its Deployment", ("ReplicaSet", "web-5d8f9c7b6d"), None,
     [_rs("web-5d8f9c7b6d", ("Deployment", "web"))], ("Deployment", "web")),
    ("ReplicaSet object without an owner stays a ReplicaSet", ("ReplicaSet", "web-5d8f9c7b6d"), None,
     [_rs("web-5d8f9c7b6d")], ("ReplicaSet", "web-5d8f9c7b6d")),
    ("unknown ReplicaSet: the pod-template-hash label is stripped", ("ReplicaSet", "api-server-abc"),
     {"pod-template-hash": "abc"}, [], ("Deployment", "api-server")),
    ("unknown ReplicaSet: a hash-shaped suffix is stripped", ("ReplicaSet", "web-7c9d8b6f5"), None, [],
     ("Deployment", "web")),
    ("unknown ReplicaSet: an ordinary suffix is kept", ("ReplicaSet", "my-db"), None, [],
     ("ReplicaSet", "my-db")),
    ("other controllers as they are", ("StatefulSet", "db"), None, [], ("StatefulSet", "db")),
    ("no owner", None, None, [], None),
]


@pytest.mark.parametrize("owner,extra,replicasets,expected", [c[1:] for c in OWNER_CASES],
                         ids=[c[0] for c in OWNER_CASES])
def test_owner_resolution(owner, extra, replicasets, expected):
    p = pod("p", owner=owner, pod_labels_extra=extra)
    (m,) = match([p], [sgp("a", pod_selector={})], [], replicasets=replicasets).pods
    assert m.owner == expected


def test_owner_reference_that_is_not_the_controller_is_ignored():
    p = pod("p")
    p["metadata"]["ownerReferences"] = [{"kind": "ConfigMap", "name": "cm"}]
    (m,) = match([p], [sgp("a", pod_selector={})], []).pods
    assert m.owner is None


def _codes(result):
    return [(w.code, w.policy, w.namespace, w.pods) for w in result.warnings]


def test_warning_policy_that_selects_no_pod():
    result = match([pod("p", labels={"app": "y"})], [sgp("a", pod_selector=APP_X)], [])
    assert _codes(result) == [("selects-nothing", "a", "ns", ())]


def test_warning_policy_without_selector_or_groups():
    policies = [sgp("none"), sgp("empty", pod_selector={}, groups=())]
    result = match([pod("p")], policies, [])
    # Such policies are not also reported as selecting nothing: the cause is already named.
    assert _codes(result) == [("no-groups", "empty", "ns", ()), ("no-selector", "none", "ns", ())]
    assert result.by_policy == {("ns", "empty"): [], ("ns", "none"): []}


def test_warning_multiple_policies_groups_pods_by_combination():
    policies = [sgp("b", pod_selector=APP_X, groups=("sg-2",)), sgp("a", pod_selector={}, groups=("sg-1",))]
    pods = [pod("p1", labels={"app": "x"}), pod("p2"), pod("p3", labels={"app": "x"})]
    result = match(pods, policies, [])
    multiple = [w for w in result.warnings if w.code == "multiple-policies"]
    assert [(w.namespace, w.pods) for w in multiple] == [("ns", ("p1", "p3"))]
    assert "a, b" in multiple[0].message


@pytest.mark.parametrize("groups_a,groups_b,limit,expected", [
    (("sg-1", "sg-2"), ("sg-3",), 3, []),                                 # exactly at the limit
    (("sg-1", "sg-2"), ("sg-2",), 2, []),                                 # duplicates do not count twice
    (("sg-1", "sg-2"), ("sg-3",), 2, [("union-over-limit", None, "ns", ("p",))]),
    (("sg-1", "sg-2", "sg-3", "sg-4", "sg-5", "sg-6"), None, 5, [("union-over-limit", "a", "ns", ("p",))]),
])
def test_warning_union_over_the_per_eni_limit(groups_a, groups_b, limit, expected):
    policies = [sgp("a", pod_selector={}, groups=groups_a)]
    if groups_b:
        policies.append(sgp("b", pod_selector={}, groups=groups_b))
    result = match([pod("p")], policies, [], sg_limit=limit)
    assert [c for c in _codes(result) if c[0] == "union-over-limit"] == expected


def test_default_limit_is_five():
    policies = [sgp("a", pod_selector={}, groups=tuple(f"sg-{i}" for i in range(5)))]
    assert not match([pod("p")], policies, []).warnings
    policies = [sgp("a", pod_selector={}, groups=tuple(f"sg-{i}" for i in range(6)))]
    assert [w.code for w in match([pod("p")], policies, []).warnings] == ["union-over-limit"]


def test_warning_serviceaccount_not_found_names_the_pods():
    policies = [sgp("a", sa_selector={})]
    result = match([pod("p1", sa="ghost"), pod("p2", sa="ghost"), pod("p3", sa="real")],
                   policies, [sa("real")])
    assert [(w.code, w.pods) for w in result.warnings] == [("serviceaccount-not-found", ("p1", "p2"))]
    assert [m.name for m in result.pods] == ["p3"]


def test_by_policy_lists_every_policy_and_its_pods():
    policies = [sgp("a", pod_selector=APP_X), sgp("b", pod_selector={}), sgp("c", ns="other", pod_selector={})]
    pods = [pod("p1", labels={"app": "x"}), pod("p2")]
    result = match(pods, policies, [])
    assert {k: [m.name for m in v] for k, v in result.by_policy.items()} == {
        ("ns", "a"): ["p1"], ("ns", "b"): ["p1", "p2"], ("other", "c"): []}


def test_policy_without_namespace_lands_in_default():
    policy = SecurityGroupPolicy.from_object({
        "kind": "SecurityGroupPolicy", "metadata": {"name": "a"},
        "spec": {"podSelector": {}, "securityGroups": {"groupIds": ["sg-1"]}}})
    result = match([pod("p", ns="default"), pod("q", ns="ns")], [policy], [])
    assert [m.name for m in result.by_policy[("default", "a")]] == ["p"]


def test_expected_groups_with_a_mapping_missing_the_serviceaccount():
    policy = sgp("a", sa_selector={}, groups=("sg-9",))
    assert expected_groups(pod("p", sa="ghost"), [policy], {("ns", "r"): sa("r")}) == ((), ())


@pytest.mark.parametrize("enabled", [True, False])
def test_match_leaves_the_garbage_collector_as_it_found_it(enabled):
    import gc

    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        match([pod("p")], [sgp("a", pod_selector={})], [])
        assert gc.isenabled() is enabled
        with pytest.raises(AttributeError):
            match([pod("p")], [object()], [])  # not a policy: fails inside the paused block
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_pod_owner_resolves_replicasets_to_deployments():
    from sgpctl.core.matching import pod_owner

    pod = {"metadata": {"namespace": "shop", "labels": {"pod-template-hash": "7d9c8b6f5"},
                        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d9c8b6f5", "controller": True}]}}
    assert pod_owner(pod) == ("Deployment", "web")
    rs = {"metadata": {"ownerReferences": [{"kind": "Deployment", "name": "frontend", "controller": True}]}}
    assert pod_owner(pod, {("shop", "web-7d9c8b6f5"): rs}) == ("Deployment", "frontend")
    assert pod_owner({"metadata": {"ownerReferences": [{"kind": "StatefulSet", "name": "db", "controller": True}]}}) == ("StatefulSet", "db")
    assert pod_owner({"metadata": {}}) is None
