"""The bounded loader: every limit is one LoadError with a position, never another exception, and an
alias bomb is refused without being expanded.

The alias bombs are the classic "billion laughs" shapes (9 aliases per level, as in the reliability
review's corpus); their expanded sizes (9**levels) are computed by hand below, not by the loader.
"""

import json
import sys

import pytest

from sgpctl.core import loading
from sgpctl.core.loading import CONFIG_LIMITS, POLICY_LIMITS, Limits, LoadError, iter_yaml, load_json, load_yaml, load_yaml_all
from sgpctl.core.policy import load_policies, parse_documents

SMALL = Limits(max_bytes=10_000, max_documents=3, max_depth=10, max_aliases=20, max_alias_nodes=50)


def laughs(levels: int, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol"' + ', "lol"' * (width - 1) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_a_small_document_loads():
    assert load_yaml("a: [1, {b: c}]\n", "f.yaml", SMALL) == {"a": [1, {"b": "c"}]}
    assert load_yaml("", "f.yaml", SMALL) is None
    assert load_yaml_all("---\na: 1\n---\n---\nb: 2\n", "f.yaml", SMALL) == [{"a": 1}, {"b": 2}]


def test_size_is_checked_before_parsing():
    text = "a: " + "x" * 10_001
    with pytest.raises(LoadError) as e:
        load_yaml(text, "big.yaml", SMALL)
    assert str(e.value) == "big.yaml: is larger than the limit of 10000 bytes (10004 bytes)"
    assert e.value.whole_text and e.value.hint


def test_size_counts_utf8_bytes_not_characters():
    text = "a: " + "\u00e9" * 5000  # 3 + 10,000 bytes
    with pytest.raises(LoadError, match="larger than the limit"):
        load_yaml(text, "f", SMALL)


@pytest.mark.parametrize("text, name, line, column", [
    ("a: b\x00c\n", "NUL (\\x00)", 1, 5),
    ("a: b\n  c: \x1f\n", "U+001F (\\x1f)", 2, 6),
    ("\x7f", "U+007F (\\x7f)", 1, 1),
    ("a: ok\nb: '\x1b[2J'\n", "U+001B (\\x1b)", 2, 5),
])
def test_control_characters_are_named_with_their_position(text, name, line, column):
    with pytest.raises(LoadError) as e:
        load_yaml(text, "p.yaml", SMALL)
    assert (e.value.line, e.value.column) == (line, column)
    assert str(e.value).startswith(f"p.yaml: line {line}, column {column}: control character {name} is not allowed")


def test_tabs_newlines_and_unicode_are_text_not_control_characters():
    assert load_yaml("a: 'x\ty'\r\nb: \u00fcber \U0001f600\n", "f", SMALL) == {"a": "x\ty", "b": "\u00fcber \U0001f600"}


def test_yaml_nesting_deeper_than_the_limit_stops_while_composing():
    text = "a: " + "[" * 5000 + "]" * 5000  # deep enough to exhaust Python's recursion limit
    with pytest.raises(LoadError) as e:
        load_yaml(text, "deep.yaml", POLICY_LIMITS)
    assert "nesting is deeper than the limit of 100 levels" in str(e.value)
    assert e.value.line == 1 and e.value.column == 103  # the 101st node: "a: " then 100 brackets


def test_nesting_exactly_at_the_limit_loads():
    text = "[" * 9 + "1" + "]" * 9  # 9 sequences and a scalar: 10 levels
    assert load_yaml(text, "f", SMALL) == [[[[[[[[[1]]]]]]]]]


def test_block_mappings_count_too():
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(11)) + "  " * 11 + "v\n"
    with pytest.raises(LoadError, match="deeper than the limit of 10"):
        load_yaml(text, "f", SMALL)


def test_aliases_cannot_hide_depth():
    # 8 levels each, nested through an alias: 1 (root) + 1 (b) + 8 + 8 = 18 levels when expanded.
    text = "a: &a " + "[" * 8 + "]" * 8 + "\nb: " + "[" * 7 + "*a" + "]" * 7 + "\n"
    with pytest.raises(LoadError, match="with aliases expanded, is deeper than the limit of 10"):
        load_yaml(text, "f", SMALL)


@pytest.mark.parametrize("levels", [6, 7, 9, 30])
def test_alias_bombs_are_refused_without_expanding_them(levels):
    # 9**levels lol strings when expanded: 531,441 for 6 levels, 387,420,489 for 9; 30 levels would
    # not fit in any machine. The limit of 100,000 nodes added by aliases refuses them all.
    with pytest.raises(LoadError) as e:
        load_yaml(laughs(levels), "laughs.yaml", POLICY_LIMITS)
    assert "aliases expand this document by more than 100000 nodes" in str(e.value)


def test_the_limit_is_on_the_nodes_aliases_add():
    # 4 levels. Expanded sizes: a0 = 1 list + 9 strings = 10; a(i) = 1 + 9 * a(i-1): 91, 820, 7,381,
    # 66,430. The document: 1 mapping + 5 keys + 74,732 = 74,738 nodes, of which 20 are distinct
    # (mapping, 5 keys, 5 lists, 9 strings): aliases add 74,718, under 100,000 and over 70,000.
    assert load_yaml(laughs(4), "f", POLICY_LIMITS)["a4"][8][8][8][8] == ["lol"] * 9
    with pytest.raises(LoadError, match="more than 70000 nodes"):
        load_yaml(laughs(4), "f", Limits(max_bytes=10_000, max_alias_nodes=70_000))
    assert load_yaml(laughs(4), "f", Limits(max_bytes=10_000, max_alias_nodes=74_718))


def test_alias_uses_are_counted_per_document():
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 21) + "]\n"
    with pytest.raises(LoadError, match="more than 20 alias uses"):
        load_yaml(text, "f", SMALL)
    # the count starts again in the next document
    ok = "a: &a x\nb: [" + ", ".join(["*a"] * 15) + "]\n"
    assert len(load_yaml_all(ok + "---\n" + ok, "f", SMALL)) == 2


def test_merge_key_bombs_are_alias_bombs():
    lines = ["a0: &a0 {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8}"]
    for i in range(1, 8):
        lines.append(f"a{i}: &a{i} {{<<: [" + ", ".join([f"*a{i - 1}"] * 9) + "]}")
    with pytest.raises(LoadError, match="alias bomb"):
        load_yaml("\n".join(lines), "f", POLICY_LIMITS)


def test_a_recursive_alias_is_refused():
    with pytest.raises(LoadError) as e:
        load_yaml("a: &a [1, *a]\n", "f", SMALL)
    assert "recursive alias" in str(e.value)


def test_documents_are_counted():
    with pytest.raises(LoadError) as e:
        load_yaml_all("a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n", "f", SMALL)
    assert str(e.value) == "f: line 7: more than 3 documents"


def test_earlier_documents_are_yielded_before_the_error():
    stream = iter_yaml("a: 1\n---\nb: [\n", "f", SMALL)
    assert next(stream).value == {"a": 1}
    with pytest.raises(LoadError, match="invalid YAML"):
        next(stream)


@pytest.mark.parametrize("text, needle", [
    ("n: " + "1" * 5000, "invalid value"),          # beyond Python's int digit limit
    ("d: 2024-13-45", "invalid value"),             # a timestamp YAML accepts and datetime does not
    ("? [a, b]\n: c\n", "unhashable"),
    ("a: !!python/object:os.system x", "could not determine a constructor"),
    ("a: *nothing", "undefined alias"),
    ("a: !!timestamp ''", "invalid value for its type or tag"),  # AttributeError inside PyYAML
    ("a: !!bool maybe", "invalid value for its type or tag"),    # KeyError inside PyYAML
    ("a: &x 1\nb: &x 2", "duplicate anchor"),
    ("a: b: c", "mapping values are not allowed"),
])
def test_values_python_cannot_build_are_load_errors(text, needle):
    with pytest.raises(LoadError) as e:
        load_yaml(text, "f", SMALL)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_more_than_one_document_where_one_is_expected():
    with pytest.raises(LoadError, match="expected a single YAML document"):
        load_yaml("a: 1\n---\nb: 2\n", "kubeconfig", CONFIG_LIMITS)


def test_json_depth_is_checked_before_json_recurses():
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(LoadError) as e:
        load_json(text, "f.json", CONFIG_LIMITS)
    assert "nesting is deeper than the limit of 100 levels" in str(e.value) and e.value.column == 101


def test_brackets_inside_json_strings_do_not_count():
    text = json.dumps({"a": "[" * 500, "b": [[["x"]]]})
    assert load_json(text, "f", CONFIG_LIMITS)["b"] == [[["x"]]]


@pytest.mark.parametrize("text, line, column", [("{\n  \"a\": }", 2, 8), ("{\"a\": \"\x00\"}", 1, 8), ("", 1, 1)])
def test_json_errors_have_a_position(text, line, column):
    with pytest.raises(LoadError) as e:
        load_json(text, "p.json", CONFIG_LIMITS)
    assert (e.value.line, e.value.column) == (line, column) and "invalid JSON" in str(e.value)


def test_json_integer_beyond_pythons_digit_limit():
    with pytest.raises(LoadError, match="invalid JSON"):
        load_json("1" * 5000, "f", CONFIG_LIMITS)


def test_policy_files_report_load_errors_as_problems_with_their_line():
    result = load_policies("apiVersion: v1\nkind: SecurityGroupPolicy\nmetadata:\n  name: a\x00b\n", "p.yaml")
    assert [str(p) for p in result.problems] == [
        "p.yaml:4: control character NUL (\\x00) is not allowed in YAML; remove it, or write it escaped inside a "
        "double-quoted string (column 10)"]
    result = load_policies(laughs(9), "laughs.yaml")
    assert len(result.problems) == 1 and "alias bomb" in str(result.problems[0])
    result = load_policies("a: " + "[" * 5000 + "]" * 5000, "deep.yaml")
    assert str(result.problems[0]) == "deep.yaml:1: document 1: nesting is deeper than the limit of 100 levels (column 103)"


def test_policy_line_tracking_walks_each_node_once(monkeypatch):
    # 4 levels of 4 aliases: 4**4 = 256 paths to the innermost list, 24 distinct nodes under the root.
    lines = ["spec: {securityGroups: {groupIds: [sg-1a2b3c4d]}}", "x0: &x0 [a, b, c, d]"]
    for i in range(1, 5):
        lines.append(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 4) + "]")
    import sgpctl.core.policy as policy

    calls = []
    real = policy._walk
    monkeypatch.setattr(policy, "_walk", lambda node, *a: (calls.append(id(node)), real(node, *a))[1])
    docs = parse_documents("\n".join(lines) + "\n", "f.yaml")
    assert len(docs) == 1 and docs[0].lines["x4"] == 6
    # One call per reference in the text: the root, its 6 values, 3 nodes under spec, 4 strings in x0
    # and 4 aliases in each of x1..x4 = 30. Walking the expanded tree would take 4 + 16 + ... + 1,024.
    assert len(calls) == 30
    assert len(set(calls)) == 1 + 6 + 3 + 4  # the distinct nodes; aliases add none


def test_limits_never_leak_a_recursion_error():
    depth = sys.getrecursionlimit() * 3
    for text in ("a: " + "{b: " * depth + "}" * depth, "- " * depth + "x", "[" * depth + "]" * depth):
        with pytest.raises(LoadError):
            load_yaml(text, "f", POLICY_LIMITS)


def test_module_imports_no_yaml():
    import subprocess

    code = "import sys, sgpctl.core.loading; print('yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert loading.MiB == 1024 * 1024
