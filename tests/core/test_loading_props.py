"""Fuzzing the readers of input: policy text, SecurityGroupPolicy objects, kubeconfig files and tccli
profiles. Whatever the input, each reader returns or raises its one typed error, and every problem it
reports is one printable line (keys and names with newlines or escapes are shown escaped).

The budgets are small on purpose: these run in CI. The reliability review ran the same kind of
search for 23 minutes; its minimal findings are pinned as explicit examples.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from sgpctl.core.policy import PolicyObjectError, SecurityGroupPolicy, ValidationResult, load_policies
from sgpctl.errors import InputError

ci = settings(max_examples=int(os.environ.get("SGPCTL_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def one_printable_line(text: str) -> bool:
    return "\n" not in text and "\r" not in text and text.isprintable()


# YAML fragments that exercise the parser's corners: anchors, aliases, merge keys, tags, flow and
# block collections, quoting, document markers, and characters YAML refuses.
FRAGMENTS = [
    "apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1\n", "kind: SecurityGroupPolicy\n", "metadata:\n",
    "  name: p\n", "  namespace: ns\n", "spec:\n", "  podSelector: {matchLabels: {app: web}}\n",
    "  securityGroups: {groupIds: [sg-1a2b3c4d]}\n", "&a ", "*a", "&b [", "*b, ", "]", "{", "}", "[", ", ",
    "<<: *a\n", "? ", ": ", "- ", "!!binary ", "!!set ", "!!python/object:os.system ", "!!timestamp ", "'", '"',
    "\\", "---\n", "...\n", "%YAML 1.1\n", "#", "\t", "\ufeff", "\x00", "\x1f", "\x7f", "\x85", "\u2028",
    "\n", "  ", "0x1F", "1e309", "2024-13-45", "~", "null", "yes", "\n\n", "\u202e", "\\n",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
nested_text = st.integers(min_value=1, max_value=3000).map(lambda n: "a: " + "[" * n + "]" * n)
anchored_text = st.integers(min_value=1, max_value=12).map(
    lambda n: "a0: &a0 [x, x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]\n" for i in range(1, n + 1)))


@ci
@given(st.one_of(st.text(max_size=300), fragment_text, nested_text, anchored_text))
@example("\x1f")  # the review's minimal input for the ReaderError that escaped
@example("[{'\\n': None}]")
@example('{"\\n": 1}')
@example("metadata: {name: \"\\n\"}\nkind: SecurityGroupPolicy")
def test_policy_text_gives_problems_never_exceptions(text):
    result = load_policies(text, "fuzz.yaml")
    assert isinstance(result, ValidationResult)
    for problem in result.problems:
        assert one_printable_line(str(problem)), repr(str(problem))


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                         st.binary(max_size=5), st.dates(), st.datetimes())
nested = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=12), st.integers()), inner, max_size=4)),
    max_leaves=20)
policy_shaped = st.fixed_dictionaries({}, optional={
    "apiVersion": nested, "kind": st.one_of(st.just("SecurityGroupPolicy"), nested),
    "metadata": st.one_of(nested, st.fixed_dictionaries({}, optional={"name": nested, "namespace": nested,
                                                                      "creationTimestamp": nested})),
    "spec": st.one_of(nested, st.fixed_dictionaries({}, optional={
        "podSelector": nested, "serviceAccountSelector": nested,
        "securityGroups": st.one_of(nested, st.fixed_dictionaries({}, optional={"groupIds": nested}))})),
})


@ci
@given(st.one_of(nested, policy_shaped))
@example({"spec": 1})  # the review's minimal input for the AttributeError
@example({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"securityGroups": 5}})
@example({"metadata": {"name": "a\nb"}, "spec": {"securityGroups": {"groupIds": [5]}}})
def test_from_object_returns_a_policy_or_one_typed_error(obj):
    try:
        policy = SecurityGroupPolicy.from_object(obj)
    except PolicyObjectError as e:
        assert one_printable_line(str(e)), repr(str(e))
        return
    assert isinstance(policy, SecurityGroupPolicy)
    assert all(isinstance(g, str) for g in policy.group_ids)


def test_from_object_names_the_object_and_the_field():
    with pytest.raises(PolicyObjectError) as e:
        SecurityGroupPolicy.from_object({"metadata": {"name": "web", "namespace": "shop"}, "spec": {"securityGroups": 5}})
    assert str(e.value) == "SecurityGroupPolicy shop/web: spec.securityGroups: must be a mapping, got integer"
    assert (e.value.name, e.value.field) == ("shop/web", "spec.securityGroups")
    assert isinstance(e.value, ValueError)


def test_from_object_stays_lenient_where_the_controller_is():
    policy = SecurityGroupPolicy.from_object({"metadata": {"name": "p", "namespace": "ns"},
                                              "spec": {"podSelector": {"matchExpressions": "junk"}}})
    assert policy.group_ids == () and policy.pod_selector is not None and policy.pod_selector.nothing


# -- kubeconfig and tccli profiles, through the files a user would have ---------------------------

kubeconfig_like = st.fixed_dictionaries({}, optional={
    "apiVersion": nested, "kind": nested, "current-context": nested, "preferences": nested,
    "clusters": st.one_of(nested, st.lists(st.one_of(nested, st.fixed_dictionaries(
        {"name": nested}, optional={"cluster": st.one_of(nested, st.fixed_dictionaries({}, optional={"server": nested}))})), max_size=3)),
    "contexts": st.one_of(nested, st.lists(st.fixed_dictionaries(
        {"name": nested}, optional={"context": st.one_of(nested, st.fixed_dictionaries({}, optional={
            "cluster": nested, "user": nested, "namespace": nested}))}), max_size=3)),
    "users": st.one_of(nested, st.lists(st.fixed_dictionaries({"name": nested}, optional={"user": nested}), max_size=3)),
})


def _dump(value) -> str:
    import yaml

    try:
        return yaml.safe_dump(value)
    except yaml.YAMLError:
        return json.dumps(value, default=str)


@ci
@given(st.one_of(st.text(max_size=200), fragment_text, kubeconfig_like.map(_dump), nested.map(_dump)))
@example("this: is: not: [a kubeconfig")
@example("a\n")
def test_kubeconfig_reader_returns_a_mapping_or_one_input_error(tmp_path, text):
    from sgpctl.kube.kubeconfig import current_context_info, read_kubeconfig

    path = Path(tmp_path) / "kubeconfig"
    path.write_text(text, encoding="utf-8", errors="replace")
    try:
        assert isinstance(read_kubeconfig(str(path)), dict)
    except InputError as e:
        assert one_printable_line(e.message) and str(path) in e.message, e.message
    info = current_context_info(str(path))  # the lenient reader (config view, doctor) never raises
    assert info.error is None or one_printable_line(info.error)


profile_like = st.one_of(nested, st.fixed_dictionaries({}, optional={
    "secretId": nested, "secretKey": nested, "token": nested, "type": st.one_of(st.just("cvm-role"), nested),
    "role_name": nested, "_sys_param": st.one_of(nested, st.fixed_dictionaries({}, optional={"region": nested}))}))


@ci
@given(st.one_of(st.text(max_size=200), profile_like.map(lambda v: json.dumps(v, default=str))))
@example("{bad")
@example('{"_sys_param": 5}')
@example('{"secretId": 5, "secretKey": "k"}')
def test_profile_reader_returns_settings_or_one_input_error(tmp_path, text):
    from sgpctl.settings import RootFlags, resolve_settings

    home = Path(tmp_path) / "home"
    (home / ".tccli").mkdir(parents=True, exist_ok=True)
    for suffix in ("credential", "configure"):
        (home / ".tccli" / f"prod.{suffix}").write_text(text, encoding="utf-8", errors="replace")
    try:
        settings_ = resolve_settings(RootFlags(profile="prod"), {}, home)
        settings_.try_credentials()
    except InputError as e:
        assert one_printable_line(e.message), e.message
        assert ".tccli/prod." in e.message
