"""SecurityGroupPolicy documents: the seed validates, every kind of mistake is named at its field path.

Each expected message below was read and judged by hand: it must say what is wrong and what to write.
"""

import copy

import pytest
from hypothesis import given, settings, strategies as st

from sgpctl.core.policy import (
    API_VERSION,
    GROUP_ID_RE,
    KIND,
    Document,
    Problem,
    SecurityGroupPolicy,
    build_policy,
    load_policies,
    parse_documents,
    validate_documents,
)
from sgpctl.core.selectors import EVERYTHING, SelectorError, parse

# The policy from TKE's document (the seed), indented as it must be.
SEED_YAML = """\
apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1
kind: SecurityGroupPolicy
metadata:
  name: my-security-group-policy
  namespace: my-namespace
spec:
  podSelector:
    matchLabels:
      app: my-app
  securityGroups:
    groupIds:
      - sg-xxxxyyyy
"""

SEED = {
    "apiVersion": API_VERSION,
    "kind": KIND,
    "metadata": {"name": "my-security-group-policy", "namespace": "my-namespace"},
    "spec": {"podSelector": {"matchLabels": {"app": "my-app"}}, "securityGroups": {"groupIds": ["sg-xxxxyyyy"]}},
}

ID_EXPECTED = "expected sg- followed by 8 lowercase letters or digits, e.g. sg-1a2b3c4d"
VALUE_REGEX_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
NAME_PART_REGEX_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
SUBDOMAIN_REGEX_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def seed_with(**changes):
    """The seed with changes given as dotted paths ("spec.podSelector"); the value DELETE removes the field."""
    doc = copy.deepcopy(SEED)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = doc
        for name in parents:
            node = node.setdefault(name, {})
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return doc


DELETE = object()


def problems_of(doc):
    result = validate_documents([doc])
    return [(p.path, p.message) for p in result.problems]


# ------------------------------------------------------------------------------------------------
# The seed
# ------------------------------------------------------------------------------------------------

def test_the_seed_policy_validates():
    result = load_policies(SEED_YAML, "seed.yaml")
    assert result.ok, [str(p) for p in result.problems]
    (policy,) = result.policies
    assert policy.name == "my-security-group-policy"
    assert policy.namespace == "my-namespace"
    assert policy.pod_selector == parse("app=my-app")
    assert policy.service_account_selector is None
    assert policy.group_ids == ("sg-xxxxyyyy",)
    assert policy.raw == SEED
    assert policy.pod_selector.matches({"app": "my-app", "pod-template-hash": "x"})
    assert not policy.pod_selector.matches({"app": "other"})


def test_the_seed_round_trips_through_the_model():
    (policy,) = load_policies(SEED_YAML, "seed.yaml").policies
    assert policy.to_object() == SEED
    assert SecurityGroupPolicy.from_object(SEED).to_object() == SEED


def test_group_id_pattern():
    assert GROUP_ID_RE.match("sg-1a2b3c4d")
    for bad in ("sg-1a2b3c4", "sg-1a2b3c4d5", "sg-1A2B3C4D", "SG-1a2b3c4d", "sg_1a2b3c4d", "sg-1a2b3c4d\n"):
        assert not GROUP_ID_RE.match(bad), bad


# ------------------------------------------------------------------------------------------------
# One mistake per document, each named at its exact field path
# ------------------------------------------------------------------------------------------------

BAD_DOCUMENTS = [
    ("wrong apiVersion", seed_with(apiVersion="vpcresources.tke.cloud.tencent.com/v1"),
     [("apiVersion", "'vpcresources.tke.cloud.tencent.com/v1' is not supported "
                     "(expected vpcresources.tke.cloud.tencent.com/v1beta1)")]),
    ("AWS apiVersion", seed_with(apiVersion="vpcresources.k8s.aws/v1beta1"),
     [("apiVersion", "'vpcresources.k8s.aws/v1beta1' is not supported (expected vpcresources.tke.cloud.tencent.com/"
                     "v1beta1); that is the AWS EKS API group, TKE's is vpcresources.tke.cloud.tencent.com")]),
    ("missing apiVersion", seed_with(apiVersion=DELETE),
     [("apiVersion", "is required (expected vpcresources.tke.cloud.tencent.com/v1beta1)")]),
    ("wrong kind", seed_with(kind="Deployment"),
     [("kind", "'Deployment' is not SecurityGroupPolicy: only SecurityGroupPolicy documents can be validated here")]),
    ("kind in the wrong case", seed_with(kind="securitygrouppolicy"),
     [("kind", "'securitygrouppolicy' is not SecurityGroupPolicy; did you mean SecurityGroupPolicy? "
               "(kind is case-sensitive)")]),
    ("missing name", seed_with(metadata__name=DELETE), [("metadata.name", "is required")]),
    ("missing metadata", seed_with(metadata=DELETE), [("metadata.name", "is required (metadata is missing)")]),
    ("null metadata", seed_with(metadata=None), [("metadata.name", "is required")]),
    ("metadata not a mapping", seed_with(metadata="web"),
     [("metadata", "must be a mapping with name and namespace, got string")]),
    ("bad name", seed_with(metadata__name="Web_SG"),
     [("metadata.name", "'Web_SG' is not a valid name: " + SUBDOMAIN_REGEX_MSG)]),
    ("name too long", seed_with(metadata__name="a" * 254),
     [("metadata.name", "'" + "a" * 76 + "... is not a valid name: must be no more than 253 bytes")]),
    ("bad namespace", seed_with(metadata__namespace="my.namespace"),
     [("metadata.namespace", "'my.namespace' is not a valid namespace name: must not contain dots")]),
    ("misspelt namespace field", seed_with(metadata__namepsace="prod"),
     [("metadata.namepsace", "unknown field; did you mean namespace?")]),
    ("missing spec", seed_with(spec=DELETE),
     [("spec", "is required (podSelector and/or serviceAccountSelector, and securityGroups.groupIds)")]),
    ("spec not a mapping", seed_with(spec=["sg-1a2b3c4d"]), [("spec", "must be a mapping, got list")]),
    ("securityGroups not a mapping", seed_with(spec__securityGroups=["sg-1a2b3c4d"]),
     [("spec.securityGroups", "must be a mapping with groupIds, got list")]),
    ("no selector", seed_with(spec__podSelector=DELETE),
     [("spec", "needs podSelector and/or serviceAccountSelector: a policy with neither selects no Pods")]),
    ("null selector", seed_with(spec__podSelector=None),
     [("spec", "needs podSelector and/or serviceAccountSelector: a policy with neither selects no Pods "
               "(spec.podSelector is null, which selects nothing; write {} to select every Pod in the namespace)")]),
    ("unknown spec field with a suggestion", seed_with(spec__podselector={"matchLabels": {"app": "x"}}),
     [("spec.podselector", "unknown field; did you mean podSelector?")]),
    ("unknown spec field without a close match", seed_with(spec__priority=10),
     [("spec.priority", "unknown field (known fields: podSelector, serviceAccountSelector, securityGroups)")]),
    ("unknown securityGroups field", seed_with(spec__securityGroups={"groupIDs": ["sg-1a2b3c4d"]}),
     [("spec.securityGroups.groupIDs", "unknown field; did you mean groupIds?"),
      ("spec.securityGroups.groupIds", "is required (a list of security group ids such as sg-1a2b3c4d)")]),
    ("securityGroups missing", seed_with(spec__securityGroups=DELETE),
     [("spec.securityGroups.groupIds", "is required (a list of security group ids such as sg-1a2b3c4d)")]),
    ("groupIds missing", seed_with(spec__securityGroups={}),
     [("spec.securityGroups.groupIds", "is required (a list of security group ids such as sg-1a2b3c4d)")]),
    ("groupIds empty", seed_with(spec__securityGroups={"groupIds": []}),
     [("spec.securityGroups.groupIds", "must list at least one security group id")]),
    ("groupIds not a list", seed_with(spec__securityGroups={"groupIds": "sg-1a2b3c4d"}),
     [("spec.securityGroups.groupIds", "must be a list of security group ids, got string 'sg-1a2b3c4d' "
                                       "(write it as a YAML list: [sg-1a2b3c4d])")]),
    ("bad id format", seed_with(spec__securityGroups={"groupIds": ["sg-1a2b3c4d", "sg-XYZ"]}),
     [("spec.securityGroups.groupIds[1]", f"'sg-XYZ' is not a security group id ({ID_EXPECTED})")]),
    ("upper-case id", seed_with(spec__securityGroups={"groupIds": ["sg-1A2B3C4D"]}),
     [("spec.securityGroups.groupIds[0]", f"'sg-1A2B3C4D' is not a security group id ({ID_EXPECTED}); ids are lowercase")]),
    ("id that is not a string", seed_with(spec__securityGroups={"groupIds": [12345678]}),
     [("spec.securityGroups.groupIds[0]", "must be a string, got integer 12345678")]),
    ("duplicate ids", seed_with(spec__securityGroups={"groupIds": ["sg-1a2b3c4d", "sg-2b3c4d5e", "sg-1a2b3c4d"]}),
     [("spec.securityGroups.groupIds[2]", "'sg-1a2b3c4d' is listed twice (first at groupIds[0])")]),
    ("bad matchLabels key", seed_with(spec__podSelector={"matchLabels": {"my app": "web"}}),
     [("spec.podSelector.matchLabels", "invalid label key \"my app\": " + NAME_PART_REGEX_MSG)]),
    ("bad matchLabels value", seed_with(spec__podSelector={"matchLabels": {"app": "my app"}}),
     [("spec.podSelector.matchLabels[app]", "invalid label value \"my app\": " + VALUE_REGEX_MSG)]),
    ("unquoted number as a label value", seed_with(spec__podSelector={"matchLabels": {"version": 2}}),
     [("spec.podSelector.matchLabels[version]", "label value must be a string, got integer 2 (quote it in YAML: '2')")]),
    ("In with empty values",
     seed_with(spec__podSelector={"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}),
     [("spec.podSelector.matchExpressions[0].values", "must be a non-empty list when operator is In")]),
    ("Exists with values",
     seed_with(spec__podSelector={"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]}),
     [("spec.podSelector.matchExpressions[0].values", "must be empty or absent when operator is Exists")]),
    ("unknown operator",
     seed_with(spec__podSelector={"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["web"]}]}),
     [("spec.podSelector.matchExpressions[0].operator",
       "\"Equals\" is not a valid selector operator (supported: In, NotIn, Exists, DoesNotExist)")]),
    ("bad serviceAccountSelector",
     seed_with(spec__serviceAccountSelector={"matchExpressions": [{"key": "team", "operator": "Lt", "values": ["3"]}]}),
     [("spec.serviceAccountSelector.matchExpressions[0].operator",
       "\"Lt\" is not a valid selector operator: Gt and Lt exist only in node selectors "
       "(supported: In, NotIn, Exists, DoesNotExist)")]),
    ("unknown top-level field", seed_with(specs={}),
     [("specs", "unknown field; did you mean spec?")]),
    ("a scalar document", "just a string",
     [("", "expected a SecurityGroupPolicy object (a YAML mapping), got string 'just a string'")]),
    ("a list document", ["sg-1a2b3c4d"],
     [("", "expected a SecurityGroupPolicy object (a YAML mapping), got list [\"sg-1a2b3c4d\"]")]),
]


@pytest.mark.parametrize("doc, expected", [c[1:] for c in BAD_DOCUMENTS], ids=[c[0] for c in BAD_DOCUMENTS])
def test_each_mistake_is_reported_at_its_field_path(doc, expected):
    result = validate_documents([doc])
    assert [(p.path, p.message) for p in result.problems] == expected
    assert not result.ok
    assert result.policies == []


def test_there_are_enough_distinct_bad_documents():
    assert len({c[0] for c in BAD_DOCUMENTS}) >= 18


def test_a_missing_namespace_is_not_an_error_but_is_flagged():
    result = validate_documents([seed_with(metadata__namespace=DELETE)])
    assert result.ok
    (policy,) = result.policies
    assert policy.namespace is None and policy.namespace_missing
    assert policy.with_namespace("default").namespace == "default"
    assert policy.with_namespace("default").name == policy.name
    (with_ns,) = validate_documents([SEED]).policies
    assert with_ns.with_namespace("default").namespace == "my-namespace"  # a stated namespace wins


def test_both_selectors_and_an_empty_selector_are_valid():
    doc = seed_with(spec__podSelector={}, spec__serviceAccountSelector={"matchLabels": {"team": "red"}})
    (policy,) = validate_documents([doc]).policies
    assert policy.pod_selector == EVERYTHING
    assert policy.service_account_selector == parse("team=red")


# ------------------------------------------------------------------------------------------------
# Files: several documents, lines, YAML errors, lists
# ------------------------------------------------------------------------------------------------

MULTI_YAML = """\
---
apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1
kind: SecurityGroupPolicy
metadata:
  name: good
  namespace: web
spec:
  podSelector: {}
  securityGroups:
    groupIds: [sg-1a2b3c4d]
---
apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1
kind: SecurityGroupPolicy
metadata:
  name: web-sg
  namespace: web
spec:
  podSelector:
    matchLabels:
      app: web
  securityGroups:
    groupIds:
      - sg-1a2b3c4d
      - sg-XYZ
---
---
apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1
kind: SecurityGroupPolicy
metadata:
  name: db-sg
spec:
  podselector:
    matchLabels:
      app: db
  securityGroups:
    groupIds: []
"""


def test_a_file_with_several_bad_documents_reports_all_of_them_with_lines():
    result = load_policies(MULTI_YAML, "policies.yaml")
    assert [p.name for p in result.policies] == ["good"]
    assert [str(p) for p in result.problems] == [
        f"policies.yaml:24: document 2 'web-sg': spec.securityGroups.groupIds[1]: 'sg-XYZ' is not a security "
        f"group id ({ID_EXPECTED})",
        "policies.yaml:31: document 3 'db-sg': spec: needs podSelector and/or serviceAccountSelector: "
        "a policy with neither selects no Pods",
        "policies.yaml:32: document 3 'db-sg': spec.podselector: unknown field; did you mean podSelector?",
        "policies.yaml:36: document 3 'db-sg': spec.securityGroups.groupIds: must list at least one security group id",
    ]
    # the empty document between 2 and 3 is skipped, not counted
    assert {p.doc_index for p in result.problems} == {1, 2}


def test_problem_string_without_a_line_matches_the_documented_shape():
    p = Problem(1, "web-sg", "spec.securityGroups.groupIds[1]",
                f"'sg-XYZ' is not a security group id ({ID_EXPECTED})", "policies.yaml", None)
    assert str(p) == (
        "policies.yaml: document 2 'web-sg': spec.securityGroups.groupIds[1]: 'sg-XYZ' is not a security group id "
        "(expected sg- followed by 8 lowercase letters or digits, e.g. sg-1a2b3c4d)"
    )
    assert p.to_dict() == {"source": "policies.yaml", "line": None, "document": 2, "name": "web-sg",
                           "path": "spec.securityGroups.groupIds[1]", "message": p.message}


def test_yaml_syntax_error_becomes_a_problem_with_its_line():
    text = SEED_YAML + "---\nkind: SecurityGroupPolicy\nmetadata:\n  name: x\n   namespace: y\n"
    result = load_policies(text, "p.yaml")
    assert [p.name for p in result.policies] == ["my-security-group-policy"]  # the documents before it still count
    (problem,) = result.problems
    assert (problem.doc_index, problem.line, problem.path) == (1, 17, "")
    assert str(problem) == (
        "p.yaml:17: document 2: invalid YAML: mapping values are not allowed here (column 13) (check this line's "
        "indentation against the line above, or quote a value that contains ': ')"
    )


def test_unclosed_bracket_points_at_where_it_opened():
    (doc,) = parse_documents("spec:\n  securityGroups:\n    groupIds: [sg-1a2b3c4d\n", "p.yaml")
    (problem,) = doc.problems
    assert problem.message.startswith("invalid YAML: ")
    assert "that starts at line 3, column 15" in problem.message


def test_tabs_get_a_hint():
    (doc,) = parse_documents("metadata:\n\tname: x\n", "p.yaml")
    assert doc.problems[0].line == 2
    assert doc.problems[0].message.endswith("(YAML does not allow tabs for indentation: use spaces)")


def test_duplicate_yaml_keys_are_reported():
    text = SEED_YAML.replace("  namespace: my-namespace\n", "  namespace: my-namespace\n  namespace: other\n")
    result = load_policies(text, "p.yaml")
    assert [(p.path, p.line, p.message) for p in result.problems] == [
        ("metadata.namespace", 6, "duplicate key (first set at line 5); remove one of them"),
    ]


def test_python_tags_are_refused_safely():
    result = load_policies("a: !!python/object/apply:os.system ['true']\n", "p.yaml")
    (problem,) = result.problems
    assert problem.message.startswith("invalid YAML: could not determine a constructor for the tag")


def test_empty_documents_are_skipped_and_an_empty_file_is_a_problem():
    assert parse_documents("---\n---\n# only a comment\n---\n", "p.yaml") == []
    result = load_policies("", "p.yaml")
    assert [str(p) for p in result.problems] == ["p.yaml: no documents found (the file is empty)"]
    docs = parse_documents("---\n" + SEED_YAML + "---\n", "p.yaml")
    assert [(d.index, d.line) for d in docs] == [(0, 2)]


def test_kind_list_items_are_expanded():
    listing = {"apiVersion": "v1", "kind": "List", "items": [
        SEED,
        seed_with(metadata__name="second", spec__securityGroups={"groupIds": ["sg-bad"]}),
    ]}
    result = validate_documents([listing], "get.yaml")
    assert [p.name for p in result.policies] == ["my-security-group-policy"]
    assert [(p.doc_index, p.doc_name, p.path) for p in result.problems] == [
        (0, "second", "items[1].spec.securityGroups.groupIds[0]"),
    ]


def test_kind_list_from_yaml_carries_item_lines():
    text = "apiVersion: v1\nkind: List\nitems:\n- " + SEED_YAML.replace("\n", "\n  ").replace("sg-xxxxyyyy", "sg-x")
    result = load_policies(text, "get.yaml")
    (problem,) = result.problems
    assert (problem.path, problem.line) == ("items[0].spec.securityGroups.groupIds[0]", 15)


def test_the_same_policy_twice_is_reported():
    result = validate_documents([SEED, SEED])
    assert len(result.policies) == 1
    assert [(p.doc_index, p.path, p.message) for p in result.problems] == [
        (1, "metadata.name", "policy 'my-security-group-policy' is defined twice (also in document 1); "
                             "the second would overwrite the first"),
    ]


def test_documents_from_parse_and_raw_objects_mix():
    docs = parse_documents(SEED_YAML, "a.yaml") + [None, seed_with(metadata__name="b")]
    result = validate_documents(docs)
    assert [p.name for p in result.policies] == ["my-security-group-policy", "b"]
    assert isinstance(docs[0], Document)


# ------------------------------------------------------------------------------------------------
# API objects and building from flags
# ------------------------------------------------------------------------------------------------

def test_from_object_is_lenient_and_reads_the_creation_timestamp():
    obj = seed_with(metadata__creationTimestamp="2026-01-02T03:04:05Z", metadata__uid="u-1", status={"x": 1})
    policy = SecurityGroupPolicy.from_object(obj)
    assert policy.creation_timestamp == "2026-01-02T03:04:05Z"
    assert policy.pod_selector == parse("app=my-app")
    broken = seed_with(spec__podSelector={"matchExpressions": [{"key": "a", "operator": "Bogus"}]})
    assert not SecurityGroupPolicy.from_object(broken).pod_selector.matches({"a": "b"})


def test_build_policy_produces_the_seed():
    assert build_policy("my-security-group-policy", "my-namespace", "app=my-app", None, ["sg-xxxxyyyy"]) == SEED


def test_build_policy_uses_match_expressions_for_the_rest():
    obj = build_policy("p", None, "app=web,tier!=db,env in (prod,stage),!canary", "", ["sg-1a2b3c4d"])
    assert obj["metadata"] == {"name": "p"}
    assert obj["spec"]["podSelector"] == {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "env", "operator": "In", "values": ["prod", "stage"]},
            {"key": "tier", "operator": "NotIn", "values": ["db"]},
        ],
    }
    assert obj["spec"]["serviceAccountSelector"] == {}


def test_build_policy_refuses_gt_and_bad_selectors():
    with pytest.raises(SelectorError) as info:
        build_policy("p", "ns", "replicas>1", None, ["sg-1a2b3c4d"])
    assert info.value.field == "spec.podSelector"
    assert "cannot be expressed in a LabelSelector" in info.value.message
    with pytest.raises(SelectorError) as info:
        build_policy("p", "ns", None, "a b", ["sg-1a2b3c4d"])
    assert info.value.field == "spec.serviceAccountSelector"
    assert str(info.value) == (
        "spec.serviceAccountSelector: unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
    )


def test_build_policy_leaves_bad_ids_to_validation():
    obj = build_policy("p", "ns", "app=web", None, ["sg-1a2b3c4d", "sg-1a2b3c4d"])
    assert problems_of(obj) == [("spec.securityGroups.groupIds[1]", "'sg-1a2b3c4d' is listed twice (first at groupIds[0])")]


_keys = st.sampled_from(["app", "tier", "app.kubernetes.io/name"])
_vals = st.sampled_from(["web", "db", "", "v1"])
_terms = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", _keys, _vals),
    st.builds(lambda k, v: f"{k}!={v}", _keys, _vals),
    st.builds(lambda k, vs: f"{k} in ({','.join(sorted(set(vs)))})", _keys, st.lists(_vals, min_size=1, max_size=3)),
    st.builds(lambda k, vs: f"{k} notin ({','.join(sorted(set(vs)))})", _keys, st.lists(_vals, min_size=1, max_size=3)),
    st.builds(lambda k: k, _keys),
    st.builds(lambda k: f"!{k}", _keys),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_terms, max_size=4).map(",".join), st.dictionaries(_keys, _vals, max_size=3))
def test_build_policy_round_trips_through_validation(text, labels):
    obj = build_policy("p", "ns", text, None, ["sg-1a2b3c4d"])
    result = validate_documents([obj])
    assert result.ok, [str(p) for p in result.problems]
    (policy,) = result.policies
    assert policy.pod_selector.matches(labels) == parse(text).matches(labels)
    assert policy.to_object() == obj
