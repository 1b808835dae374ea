"""Label selectors: string parsing, object form, validation and matching, case by case.

Expected messages were derived by hand from k8s.io/apimachinery pkg/labels/selector.go and
pkg/api/validate/content (the parser's control flow and message formats).
"""

import pytest

from sgpctl.core import selectors as sel
from sgpctl.core.selectors import (
    EVERYTHING,
    NOTHING,
    FieldError,
    Requirement,
    Selector,
    SelectorError,
    as_label_selector,
    from_label_selector,
    from_match_labels,
    parse,
    validate_label_key,
    validate_label_selector,
    validate_label_value,
)

NAME_PART_REGEX_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_REGEX_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
PREFIX_REGEX_MSG = (
    "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


# ------------------------------------------------------------------------------------------------
# String form: what parses, and how it prints
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, canonical",
    [
        ("", ""),
        ("a=b", "a=b"),
        ("a==b", "a==b"),
        ("a!=b", "a!=b"),
        ("a", "a"),
        ("!a", "!a"),
        ("a in (b,c),d!=e", "a in (b,c),d!=e"),
        ("d!=e,a in (c,b)", "a in (b,c),d!=e"),  # sorted by key, values sorted
        ("a in (c,b,b)", "a in (b,c)"),  # a set: duplicates collapse
        ("a notin (x)", "a notin (x)"),
        ("x>1", "x>1"),
        ("x<10", "x<10"),
        ("  a  =  b  ,  c  ", "a=b,c"),  # whitespace around tokens is ignored
        ("a\tin\n(\rb , c )", "a in (b,c)"),  # tab, newline and CR count as whitespace
        ("a in(b)", "a in (b)"),  # '(' ends the keyword
        ("app.kubernetes.io/name=web", "app.kubernetes.io/name=web"),
        ("a=", "a="),  # empty value
        ("a=,b", "a=,b"),
        ("a in ()", "a in ()"),  # "()" is the set {""}: Kubernetes accepts it
        ("a in (,b)", "a in (,b)"),
        ("a in (b,,c)", "a in (,b,c)"),
        ("in in (in)", "in in (in)"),  # keywords are identifiers where a key or value is expected
        ("notin notin (notin)", "notin notin (notin)"),
        ("a=b,a=c", "a=b,a=c"),  # duplicate keys are kept (and ANDed)
        ("x>007", "x>007"),
    ],
)
def test_parse_and_print(text, canonical):
    s = parse(text)
    assert str(s) == canonical
    assert parse(str(s)) == s


@pytest.mark.parametrize(
    "text, message",
    [
        ("a=b,", "found '', expected: identifier after ','"),
        ("a=b,,c", "found ',', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
        # quirks of the real parser, kept: two empty slots before ')' are an error
        ("a in (,,)", "unable to parse requirement: found ')', expected: ',', or identifier"),
        ("a in (b,,)", "unable to parse requirement: found ')', expected: ',', or identifier"),
        ("x>abc", "unable to parse requirement: values[0]: Invalid value: \"abc\": "
                  "for 'Gt', 'Lt' operators, the value must be an integer"),
        ("x>", "unable to parse requirement: values[0]: Invalid value: \"\": "
               "for 'Gt', 'Lt' operators, the value must be an integer"),
        ("x>1.5", "unable to parse requirement: values[0]: Invalid value: \"1.5\": "
                  "for 'Gt', 'Lt' operators, the value must be an integer"),
        # "-1" is an integer but not a label value: Kubernetes rejects it too.
        ("x<-1", "unable to parse requirement: values[0][x]: Invalid value: \"-1\": " + VALUE_REGEX_MSG),
        ("a=b@c", "unable to parse requirement: values[0][a]: Invalid value: \"b@c\": " + VALUE_REGEX_MSG),
        ("a=" + "v" * 64, "unable to parse requirement: values[0][a]: Invalid value: \"" + "v" * 64
                          + "\": must be no more than 63 bytes"),
        ("a@b=c", "unable to parse requirement: Invalid value: \"a@b\": " + NAME_PART_REGEX_MSG),
        ("k" * 64, "unable to parse requirement: Invalid value: \"" + "k" * 64
                   + "\": name part must be no more than 63 bytes"),
        ("Example.com/a=b", "unable to parse requirement: Invalid value: \"Example.com/a\": " + PREFIX_REGEX_MSG),
        ("/a", "unable to parse requirement: Invalid value: \"/a\": prefix part must be non-empty"),
        ("a/=b", "unable to parse requirement: Invalid value: \"a/\": name part must be non-empty; "
                 + NAME_PART_REGEX_MSG),
    ],
)
def test_parse_errors_carry_kubernetes_messages(text, message):
    with pytest.raises(SelectorError) as info:
        parse(text)
    assert info.value.message == message
    assert str(info.value) == message


def test_two_bad_values_are_reported_together_like_an_aggregate():
    with pytest.raises(SelectorError) as info:
        parse("a in (b@,c@)")
    assert info.value.message == (
        "unable to parse requirement: [values[0][a]: Invalid value: \"b@\": " + VALUE_REGEX_MSG
        + ", values[1][a]: Invalid value: \"c@\": " + VALUE_REGEX_MSG + "]"
    )


def test_a_prefixed_key_with_a_long_prefix_and_a_63_byte_name_is_valid():
    key = ".".join(["a" * 63] * 3) + "/" + "n" * 63  # 191-byte prefix
    assert parse(f"{key}=v").requirements[0].key == key
    too_long_prefix = ".".join(["a" * 63] * 4) + "/n"  # 255 bytes
    assert validate_label_key(too_long_prefix) == ["prefix part must be no more than 253 bytes"]


def test_a_non_string_selector_is_an_error_not_a_crash():
    with pytest.raises(SelectorError, match="must be a string"):
        parse(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# Matching
# ------------------------------------------------------------------------------------------------

MATCH_CASES = [
    # selector, labels, expected
    ("a=b", {"a": "b"}, True),
    ("a=b", {"a": "B"}, False),  # case-sensitive
    ("a=b", {}, False),
    ("a==b", {"a": "b", "c": "d"}, True),
    ("a=", {"a": ""}, True),
    ("a=", {}, False),
    ("a!=b", {}, True),  # a missing key is "not equal"
    ("a!=b", {"a": "c"}, True),
    ("a!=b", {"a": "b"}, False),
    ("a in (b,c)", {"a": "c"}, True),
    ("a in (b,c)", {"a": "d"}, False),
    ("a in (b,c)", {}, False),
    ("a in ()", {"a": ""}, True),
    ("a in ()", {"a": "x"}, False),
    ("a notin (b,c)", {}, True),  # notin matches a missing key
    ("a notin (b,c)", {"a": "d"}, True),
    ("a notin (b,c)", {"a": "b"}, False),
    ("a", {"a": ""}, True),
    ("a", {"b": "a"}, False),
    ("!a", {}, True),
    ("!a", {"a": ""}, False),
    ("x>1", {"x": "2"}, True),
    ("x>1", {"x": "1"}, False),
    ("x>1", {}, False),  # never matches a missing key
    ("x>1", {"x": "abc"}, False),  # nor a non-integer value
    ("x>1", {"x": "2.5"}, False),
    ("x>1", {"x": " 2"}, False),
    ("x>1", {"x": "1_0"}, False),
    ("x>1", {"x": "99999999999999999999"}, False),  # outside int64: ParseInt fails
    ("x<1", {"x": "0"}, True),
    ("x<1", {"x": "-5"}, True),
    ("x<1", {"x": "+0"}, True),  # Go's ParseInt accepts a sign
    ("x<1", {"x": "abc"}, False),
    ("x<10", {"x": "007"}, True),
    ("a=b,a=c", {"a": "b"}, False),  # duplicate keys AND together
    ("a=b,c notin (d)", {"a": "b"}, True),
    ("a=b,c notin (d)", {"a": "b", "c": "d"}, False),
    ("app.kubernetes.io/name=web", {"app.kubernetes.io/name": "web"}, True),
    ("app.kubernetes.io/name=web", {"name": "web"}, False),
    ("", {}, True),
    ("", {"anything": "x"}, True),
]


@pytest.mark.parametrize("text, labels, expected", MATCH_CASES)
def test_matches(text, labels, expected):
    s = parse(text)
    assert s.matches(labels) is expected
    # each requirement alone agrees with the selector's precompiled checks
    assert all(r.matches(labels) for r in s.requirements) is expected


def test_matches_accepts_none_as_no_labels():
    assert parse("!a").matches(None)
    assert not parse("a").matches(None)
    assert EVERYTHING.matches(None)


def test_everything_and_nothing():
    assert parse("") == EVERYTHING
    assert EVERYTHING.empty() and EVERYTHING.matches({"a": "b"})
    assert not NOTHING.empty()
    assert not NOTHING.matches({}) and not NOTHING.matches({"a": "b"}) and not NOTHING.matches(None)
    assert not parse("a").empty()


def test_selector_equality_ignores_requirement_order():
    assert parse("b=1,a=2,a!=3") == parse("a!=3,a=2,b=1")
    assert hash(parse("a=b")) == hash(parse("a=b"))


def test_requirement_rejects_an_unknown_operator_and_a_bare_string_of_values():
    with pytest.raises(SelectorError):
        Requirement("a", "~", ("b",))
    with pytest.raises(SelectorError, match="values must be a tuple of strings"):
        Requirement("a", "=", "web")  # type: ignore[arg-type]


def test_a_hand_built_gt_requirement_with_a_non_integer_bound_matches_nothing():
    assert not Selector((Requirement("x", ">", ("abc",)),)).matches({"x": "5"})


def test_from_match_labels():
    assert from_match_labels({"b": "2", "a": "1"}) == parse("a=1,b=2")
    assert from_match_labels({}) == EVERYTHING
    assert from_match_labels(None) == EVERYTHING  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# Object form (metav1.LabelSelector)
# ------------------------------------------------------------------------------------------------

def test_nil_selects_nothing_and_empty_selects_everything():
    assert from_label_selector(None) is NOTHING
    assert from_label_selector({}) == EVERYTHING
    assert from_label_selector({"matchLabels": {}, "matchExpressions": []}) == EVERYTHING
    assert from_label_selector({"matchLabels": None}) == EVERYTHING


@pytest.mark.parametrize(
    "obj, text",
    [
        ({"matchLabels": {"app": "web"}}, "app=web"),
        ({"matchLabels": {"app": "web", "tier": ""}}, "app=web,tier="),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["c", "b"]}]}, "a in (b,c)"),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]}, "a notin (b)"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, "a"),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": []}]}, "!a"),
        (
            {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]},
            "app=web,app notin (web)",  # both parts AND together
        ),
    ],
)
def test_object_form_equals_string_form(obj, text):
    assert from_label_selector(obj) == parse(text)


@pytest.mark.parametrize(
    "obj, errors",
    [
        ("app=web", [("sel", "must be a label selector mapping (matchLabels and/or matchExpressions), got string")]),
        ({"matchlabels": {"a": "b"}}, [("sel.matchlabels", "unknown field; did you mean matchLabels?")]),
        ({"selector": {}}, [("sel.selector", "unknown field (known fields: matchLabels, matchExpressions)")]),
        ({"matchLabels": ["a=b"]}, [("sel.matchLabels", "must be a map of label keys to values, got list")]),
        ({"matchLabels": {"bad key": "v"}}, [("sel.matchLabels", "invalid label key \"bad key\": " + NAME_PART_REGEX_MSG)]),
        ({"matchLabels": {"a": "v@"}}, [("sel.matchLabels[a]", "invalid label value \"v@\": " + VALUE_REGEX_MSG)]),
        ({"matchLabels": {"version": 1}}, [("sel.matchLabels[version]", "label value must be a string, got integer 1 (quote it in YAML: '1')")]),
        ({"matchLabels": {"enabled": True}}, [("sel.matchLabels[enabled]", "label value must be a string, got boolean true (quote it in YAML: 'true')")]),
        # a key that is no string is all there is to say about that label; a bad key does not hide a bad value
        ({"matchLabels": {1: "v@"}}, [("sel.matchLabels", "label key must be a string, got integer 1 (quote it in YAML: '1')")]),
        ({"matchLabels": {"bad key": "v@"}}, [("sel.matchLabels", "invalid label key \"bad key\": " + NAME_PART_REGEX_MSG),
                                              ("sel.matchLabels[bad key]", "invalid label value \"v@\": " + VALUE_REGEX_MSG)]),
        ({"matchExpressions": {"key": "a"}}, [("sel.matchExpressions", "must be a list of {key, operator, values} expressions, got mapping")]),
        ({"matchExpressions": ["a"]}, [("sel.matchExpressions[0]", "must be a mapping with key, operator and values, got string")]),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
         [("sel.matchExpressions[0].values", "must be a non-empty list when operator is In")]),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn"}]},
         [("sel.matchExpressions[0].values", "must be a non-empty list when operator is NotIn")]),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
         [("sel.matchExpressions[0].values", "must be empty or absent when operator is Exists")]),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": ["x"]}]},
         [("sel.matchExpressions[0].values", "must be empty or absent when operator is DoesNotExist")]),
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
         [("sel.matchExpressions[0].operator", "\"Gt\" is not a valid selector operator: Gt and Lt exist only in node "
                                               "selectors (supported: In, NotIn, Exists, DoesNotExist)")]),
        ({"matchExpressions": [{"key": "a", "operator": "notin", "values": ["x"]}]},
         [("sel.matchExpressions[0].operator", "\"notin\" is not a valid selector operator; did you mean NotIn? "
                                               "(operators are case-sensitive)")]),
        ({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]},
         [("sel.matchExpressions[0].operator", "\"Equals\" is not a valid selector operator "
                                               "(supported: In, NotIn, Exists, DoesNotExist)")]),
        ({"matchExpressions": [{"key": "a"}]},
         [("sel.matchExpressions[0].operator", "is required (one of In, NotIn, Exists, DoesNotExist)")]),
        ({"matchExpressions": [{"operator": "Exists"}]}, [("sel.matchExpressions[0].key", "is required")]),
        ({"matchExpressions": [{"key": "a/b/c", "operator": "Exists"}]},
         [("sel.matchExpressions[0].key", "invalid label key \"a/b/c\": a valid label key must consist of alphanumeric "
           "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
           "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an "
           "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")]),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": "x"}]},
         [("sel.matchExpressions[0].values", "must be a list of strings, got string")]),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["ok", "no way"]}]},
         [("sel.matchExpressions[0].values[1]", "invalid label value \"no way\": " + VALUE_REGEX_MSG)]),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "value": ["x"]}]},
         [("sel.matchExpressions[0].value", "unknown field; did you mean values?")]),
    ],
)
def test_validate_label_selector_reports_field_paths(obj, errors):
    assert validate_label_selector(obj, "sel") == [FieldError(p, m) for p, m in errors]


def test_validate_reports_every_error_and_from_label_selector_raises_the_first():
    obj = {
        "matchLabels": {"ok": "fine", "bad key": "v@"},
        "matchExpressions": [
            {"key": "a", "operator": "In", "values": []},
            {"key": "b", "operator": "Exists"},
            {"key": "c", "operator": "Lt", "values": ["1"]},
        ],
    }
    errs = validate_label_selector(obj, "spec.podSelector")
    assert [e.path for e in errs] == [
        "spec.podSelector.matchLabels",
        "spec.podSelector.matchLabels[bad key]",
        "spec.podSelector.matchExpressions[0].values",
        "spec.podSelector.matchExpressions[2].operator",
    ]
    with pytest.raises(SelectorError) as info:
        from_label_selector(obj, "spec.podSelector")
    assert info.value.field == "spec.podSelector.matchLabels"
    assert str(info.value).startswith("spec.podSelector.matchLabels: invalid label key \"bad key\"")


def test_none_is_a_valid_selector_object():
    assert validate_label_selector(None, "spec.podSelector") == []


@pytest.mark.parametrize(
    "value, errors",
    [
        ("", []),
        ("a", []),
        ("A.b_c-1", []),
        ("v" * 63, []),
        ("v" * 64, ["must be no more than 63 bytes"]),
        ("-a", [VALUE_REGEX_MSG]),
        ("a-", [VALUE_REGEX_MSG]),
        ("a\n", [VALUE_REGEX_MSG]),  # no trailing newline sneaks past the regex
        ("é", [VALUE_REGEX_MSG]),
    ],
)
def test_validate_label_value(value, errors):
    assert validate_label_value(value) == errors


@pytest.mark.parametrize(
    "key, ok",
    [
        ("app", True),
        ("app.kubernetes.io/name", True),
        ("tke.cloud.tencent.com/pod-name", True),
        ("A_b.c", True),
        ("a/b/c", False),
        ("UPPER.example.com/a", False),
        ("-a", False),
        ("", False),
        ("n" * 63, True),
        ("n" * 64, False),
    ],
)
def test_validate_label_key(key, ok):
    assert (validate_label_key(key) == []) is ok


def test_empty_key_reports_both_kubernetes_messages():
    assert validate_label_key("") == ["name part must be non-empty", NAME_PART_REGEX_MSG]


def test_dns_helpers_used_for_names():
    assert sel.validate_dns1123_label("my-namespace") == []
    assert sel.validate_dns1123_label("my.namespace") == ["must not contain dots"]
    assert sel.validate_dns1123_subdomain("my.policy-1") == []
    assert sel.validate_dns1123_subdomain("My_Policy") != []


# ------------------------------------------------------------------------------------------------
# Back to the object form (for `policy create` from flags)
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, obj",
    [
        ("", {}),
        ("app=web", {"matchLabels": {"app": "web"}}),
        ("app==web", {"matchLabels": {"app": "web"}}),
        ("tier!=db", {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}),
        (
            "app=web,a in (b,c),!d,e",
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "a", "operator": "In", "values": ["b", "c"]},
                    {"key": "d", "operator": "DoesNotExist"},
                    {"key": "e", "operator": "Exists"},
                ],
            },
        ),
        # matchLabels holds one value per key; the second equality has to be an expression
        ("a=b,a=c", {"matchLabels": {"a": "b"}, "matchExpressions": [{"key": "a", "operator": "In", "values": ["c"]}]}),
    ],
)
def test_as_label_selector(text, obj):
    assert as_label_selector(parse(text)) == obj
    back = from_label_selector(obj)
    for labels in ({}, {"app": "web"}, {"app": "web", "a": "b", "e": "1"}, {"a": "c"}, {"tier": "db"}, {"a": "b"}):
        assert back.matches(labels) == parse(text).matches(labels)


def test_as_label_selector_refuses_gt_and_lt():
    with pytest.raises(SelectorError, match="the '>' operator cannot be expressed in a LabelSelector object"):
        as_label_selector(parse("replicas>1"))


def test_as_label_selector_of_nothing_is_none():
    assert as_label_selector(NOTHING) is None
