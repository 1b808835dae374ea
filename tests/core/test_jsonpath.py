"""kubectl's JSONPath over plain JSON (the oracle tests against kubectl itself are in
tests/habits/test_output_forms.py); expected values worked out by hand from kubectl's documentation."""

import pytest

from sgpctl.core.jsonpath import JsonPathError, go_text, parse, relaxed, value_text

DOC = {"kind": "List", "items": [
    {"metadata": {"name": "a", "labels": {"app": "web"}}, "spec": {"n": 2, "ok": True, "groups": ["sg-1", "sg-2"]}},
    {"metadata": {"name": "b", "labels": {"app": "api"}}, "spec": {"n": 3, "ok": False, "groups": []}},
]}


@pytest.mark.parametrize("template,expected", [
    ("{.kind}", "List"),
    ("{.items[*].metadata.name}", "a b"),
    ("{.items[0].spec.groups}", '["sg-1","sg-2"]'),
    ("{.items[0].metadata.labels}", '{"app":"web"}'),
    ("{.items[-1].metadata.name}", "b"),
    ("{.items[0:1].metadata.name}", "a"),
    ("{.items[0,1].spec.n}", "2 3"),
    ("{.items[?(@.metadata.labels.app==\"api\")].metadata.name}", "b"),
    ("{.items[?(@.spec.n>2)].metadata.name}", "b"),
    ("{.items[?(@.spec.groups[0])].metadata.name}", "a"),
    ("{range .items[*]}{.metadata.name}={.spec.ok}{\"\\n\"}{end}", "a=true\nb=false\n"),
    ("{..app}", "web api"),
    ("{.items[0].metadata['name']}", "a"),
    ("{.nope}", ""),
    ("x{.kind}y", "xListy"),
])
def test_templates(template, expected):
    assert parse(template).render(DOC) == expected


@pytest.mark.parametrize("template,problem", [
    ("{.kind", "unclosed action"),
    ("{range .items[*]}{.x}", "range without end"),
    ("{end}", "not in range"),
    ("{.items[x]}", "invalid array index"),
    ("{.items[?(@.a==1]}", "unterminated filter"),
    ("{frobnicate}", "unrecognized identifier"),
])
def test_syntax_errors(template, problem):
    with pytest.raises(JsonPathError, match=problem):
        parse(template)


@pytest.mark.parametrize("template,problem", [
    ("{.items[5]}", "array index out of bounds: index 5, length 2"),
    ("{.kind[0]}", "string is not array or slice"),
    ("{.items[?(@.spec.n==\"2\")]}", "incompatible types for comparison"),
])
def test_errors_applying_a_template(template, problem):
    with pytest.raises(JsonPathError, match=problem):
        parse(template).render(DOC)


def test_values_print_as_go_prints_them():
    assert value_text(1.0) == "1" and value_text(0.5) == "0.5" and value_text(True) == "true"
    assert value_text({"b": 1, "a": "<x>"}) == '{"a":"\\u003cx\\u003e","b":1}'
    assert go_text(["a", "b"]) == "[a b]" and go_text({"k": {"x": 1}}) == "map[k:map[x:1]]" and go_text(None) == "<nil>"


@pytest.mark.parametrize("spec,template", [("metadata.name", "{.metadata.name}"), (".metadata.name", "{.metadata.name}"),
                                           ("{metadata.name}", "{.metadata.name}"), ("{.metadata.name}", "{.metadata.name}")])
def test_custom_column_paths_as_kubectl_relaxes_them(spec, template):
    assert relaxed(spec) == template
