"""render.output.to_json: JSON indented down to the records, each record on one line."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sgpctl.render.output import to_json


def _reference(value, indent=""):
    """The documented layout, written out plainly: a record (a list of plain values, or an object whose
    members are plain values or such lists and objects) on one line; anything else one member per line."""
    def plain(v):
        return not isinstance(v, (dict, list)) or not v

    def flat(v):
        return all(plain(x) for x in (v.values() if isinstance(v, dict) else v))

    def record(v):
        if isinstance(v, dict):
            return all(plain(x) or flat(x) for x in v.values())
        return flat(v)

    if plain(value) or record(value):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    inner = indent + "  "
    if isinstance(value, dict):
        body = ",\n".join(f"{inner}{json.dumps(k, ensure_ascii=False)}: {_reference(v, inner)}" for k, v in value.items())
        return "{\n" + body + "\n" + indent + "}"
    return "[\n" + ",\n".join(inner + _reference(v, inner) for v in value) + "\n" + indent + "]"


TRICKY = ['}, {"id": "x"}', '"}, {"', "\\", "line\nbreak", "ünï", "", "{", "}, {"]


def test_a_pods_checks_are_one_line_each_whatever_their_messages_say():
    checks = [{"id": "pod-exists", "status": "pass", "message": m, "hint": None} for m in TRICKY]
    doc = {"ok": True, "pods": [{"name": "web-1", "groups": ["sg-1"], "checks": checks}], "notes": []}
    text = to_json(doc)
    assert text == _reference(doc) + "\n"
    assert json.loads(text) == doc
    assert sum(1 for line in text.splitlines() if line.strip().startswith('{"id": ')) == len(TRICKY)


def test_records_with_different_first_keys_or_nested_objects():
    doc = {"a": [{"id": 1, "x": {"k": "}, {\"id\": "}}, {"name": 2}, {"id": 3, "e": [1, 2]}],
           "b": [{"id": {}}, {"id": []}], "c": [[{"z": 1}], {"id": 1}]}
    assert to_json(doc) == _reference(doc) + "\n"


def test_records_whose_first_key_is_not_a_string():
    assert to_json({"d": [{1: "a"}, {1: "b"}]}) == '{\n  "d": [\n    {"1": "a"},\n    {"1": "b"}\n  ]\n}\n'


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(TRICKY), st.text(max_size=8))
keys = st.sampled_from(["id", "name", "status", "message"])
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(values)
def test_any_document_is_laid_out_as_documented(doc):
    assert to_json(doc) == _reference(doc) + "\n"
