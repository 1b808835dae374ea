"""Property: the memoised, namespace-grouped match() says exactly what evaluating every policy
against every Pod directly says, on small generated clusters."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from sgpctl.core.matching import expected_groups, match
from sgpctl.core.policy import SecurityGroupPolicy

NAMESPACES = ["a", "b"]
KEYS = ["app", "tier"]
VALUES = ["x", "y"]
SERVICE_ACCOUNTS = ["default", "r1", "r2"]
GROUPS = ["sg-1", "sg-2", "sg-3", "sg-4"]
TIMES = [None, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z", "2024-02-01T00:00:00Z"]

labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)

expression_st = st.one_of(
    st.fixed_dictionaries({"key": st.sampled_from(KEYS), "operator": st.sampled_from(["In", "NotIn"]),
                           "values": st.lists(st.sampled_from(VALUES), min_size=1, max_size=2)}),
    st.fixed_dictionaries({"key": st.sampled_from(KEYS), "operator": st.sampled_from(["Exists", "DoesNotExist"])}),
)
selector_st = st.one_of(
    st.none(),
    st.just({}),
    st.builds(lambda ml: {"matchLabels": ml}, labels_st),
    st.builds(lambda ex: {"matchExpressions": ex}, st.lists(expression_st, min_size=1, max_size=2)),
)


@st.composite
def policy_st(draw):
    spec = {"securityGroups": {"groupIds": draw(st.lists(st.sampled_from(GROUPS), max_size=3))}}
    for field in ("podSelector", "serviceAccountSelector"):
        sel = draw(selector_st)
        if sel is not None:
            spec[field] = sel
    meta = {"name": draw(st.sampled_from(["p1", "p2", "p3", "p4"])), "namespace": draw(st.sampled_from(NAMESPACES))}
    created = draw(st.sampled_from(TIMES))
    if created:
        meta["creationTimestamp"] = created
    return SecurityGroupPolicy.from_object({"kind": "SecurityGroupPolicy", "metadata": meta, "spec": spec})


@st.composite
def pod_st(draw, index):
    meta = {"name": f"pod{index}", "namespace": draw(st.sampled_from(NAMESPACES)), "labels": draw(labels_st)}
    created = draw(st.sampled_from(TIMES))
    if created:
        meta["creationTimestamp"] = created
    annotations = {}
    if draw(st.booleans()):
        annotations["tke.cloud.tencent.com/networks"] = "tke-sub-eni"
    if draw(st.booleans()):
        annotations["tke.cloud.tencent.com/security-group-id"] = ",".join(
            draw(st.lists(st.sampled_from(GROUPS), max_size=3)))
    if annotations:
        meta["annotations"] = annotations
    spec = {"serviceAccountName": draw(st.sampled_from(SERVICE_ACCOUNTS)), "hostNetwork": draw(st.booleans())}
    return {"metadata": meta, "spec": spec,
            "status": {"phase": draw(st.sampled_from(["Running", "Pending", "Succeeded"]))}}


@st.composite
def cluster_st(draw):
    n = draw(st.integers(0, 12))
    pods = [draw(pod_st(i)) for i in range(n)]
    # Copies of a few Pods under new names: the memo must serve them the same answer.
    for i, original in enumerate(draw(st.lists(st.sampled_from(pods), max_size=4)) if pods else []):
        copy = {k: dict(v) for k, v in original.items()}
        copy["metadata"]["name"] = f"copy{i}"
        pods.append(copy)
    policies = draw(st.lists(policy_st(), max_size=6))
    sas = [{"metadata": {"name": name, "namespace": ns, "labels": draw(labels_st)}}
           for ns in NAMESPACES for name in SERVICE_ACCOUNTS if draw(st.booleans())]
    return pods, policies, sas


def _instant(ts):
    return datetime.fromisoformat(ts) if ts else None


def reference(pods, policies, sas):
    """Per Pod, per policy, directly from the rules."""
    unique = {}
    for p in policies:
        unique.setdefault((p.namespace, p.name), p)
    sa_labels = {(s["metadata"]["namespace"], s["metadata"]["name"]): s["metadata"]["labels"] for s in sas}
    out = []
    for pod in pods:
        meta, spec = pod["metadata"], pod["spec"]
        ns, labels = meta["namespace"], meta.get("labels") or {}
        sa = sa_labels.get((ns, spec.get("serviceAccountName") or "default"))
        selected = []
        for p in sorted(unique.values(), key=lambda p: p.name):
            if p.namespace != ns or spec.get("hostNetwork") or not p.group_ids:
                continue
            if p.pod_selector is None and p.service_account_selector is None:
                continue
            if p.pod_selector is not None and not p.pod_selector.matches(labels):
                continue
            if p.service_account_selector is not None and (sa is None or not p.service_account_selector.matches(sa)):
                continue
            selected.append(p)
        groups = []
        for p in selected:
            for g in p.group_ids:
                if g not in groups:
                    groups.append(g)
        ann = meta.get("annotations") or {}
        sub_eni = ann.get("tke.cloud.tencent.com/networks") == "tke-sub-eni"
        raw = ann.get("tke.cloud.tencent.com/security-group-id")
        annotated = None if raw is None else tuple(g for g in raw.split(",") if g)
        if not selected and not sub_eni:
            continue
        reason = None
        if not spec.get("hostNetwork") and pod["status"]["phase"] != "Succeeded":
            if selected and not sub_eni:
                reason = "not annotated"
                for p in selected:
                    if _instant(meta.get("creationTimestamp")) and _instant(p.creation_timestamp) \
                            and _instant(meta["creationTimestamp"]) < _instant(p.creation_timestamp):
                        reason = f"created before policy {p.name}"
                        break
            elif selected and (annotated is None or set(annotated) != set(groups)):
                reason = "groups differ"
            elif not selected and sub_eni:
                reason = "no policy matches any more"
        out.append((ns, meta["name"], tuple(p.name for p in selected), tuple(groups), annotated, reason))
    return out


@settings(max_examples=300, deadline=None)
@given(cluster_st())
def test_match_equals_brute_force(cluster):
    pods, policies, sas = cluster
    result = match(pods, policies, sas)
    got = [(m.namespace, m.name, m.policies, m.expected_groups, m.annotated_groups, m.stale_reason)
           for m in result.pods]
    want = reference(pods, policies, sas)
    assert got == want

    by_policy = {k: sorted(m.name for m in v) for k, v in result.by_policy.items()}
    for key in {(p.namespace, p.name) for p in policies}:
        assert by_policy[key] == sorted(r[1] for r in want if key[1] in r[2] and r[0] == key[0])

    nothing = {(w.namespace, w.policy) for w in result.warnings if w.code == "selects-nothing"}
    first = {}
    for p in policies:  # the same (namespace, name) twice: the first one is the policy
        first.setdefault((p.namespace, p.name), p)
    usable = {k for k, p in first.items() if p.group_ids and
              (p.pod_selector is not None or p.service_account_selector is not None)}
    assert nothing == {k for k in usable if not by_policy[k]}

    multiple = sorted(name for w in result.warnings if w.code == "multiple-policies" for name in w.pods)
    assert multiple == sorted(r[1] for r in want if len(r[2]) > 1)


@settings(max_examples=100, deadline=None)
@given(cluster_st())
def test_expected_groups_agrees_with_match(cluster):
    pods, policies, sas = cluster
    by_name = {(m.namespace, m.name): m for m in match(pods, policies, sas).pods}
    for pod in pods:
        groups, names = expected_groups(pod, policies, sas)
        m = by_name.get((pod["metadata"]["namespace"], pod["metadata"]["name"]))
        assert (groups, names) == ((m.expected_groups, m.policies) if m else ((), ()))
