"""Properties of label selectors, checked over generated selectors and label sets.

The reference evaluator below is written from the Kubernetes documentation ("Labels and Selectors")
and the LabelSelector API reference, not from sgpctl's code: it works on plain tuples and dicts.
"""

import random
import re

from hypothesis import given, settings, strategies as st

from sgpctl.core.selectors import (
    OPERATORS,
    Requirement,
    Selector,
    SelectorError,
    as_label_selector,
    from_label_selector,
    parse,
)

# Per-test settings, not a profile: loading a profile here would change every other module's tests.
thorough = settings(max_examples=200, deadline=None)

# A small pool of keys and values makes collisions (and so interesting matches) frequent; the regex
# strategies add arbitrary valid names.
_NAME_RE = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?"
_PREFIX_RE = r"[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?){0,2}"

pool_keys = st.sampled_from(["app", "tier", "x", "in", "notin", "app.kubernetes.io/name", "example.com/A_b.c-1"])
regex_keys = st.builds(
    lambda prefix, name: f"{prefix}/{name}" if prefix else name,
    st.one_of(st.just(""), st.from_regex(_PREFIX_RE, fullmatch=True)),
    st.from_regex(_NAME_RE, fullmatch=True),
)
keys = st.one_of(pool_keys, pool_keys, regex_keys)

pool_values = st.sampled_from(["", "web", "db", "in", "notin", "1", "10", "007", "A_b.c"])
values = st.one_of(pool_values, pool_values, st.from_regex(_NAME_RE, fullmatch=True))
# Mostly operands that also occur as label values, so boundaries (x>1 against x=1) get exercised.
int_operands = st.one_of(st.sampled_from(["0", "1", "7", "10"]), st.integers(min_value=0, max_value=10**6).map(str))


@st.composite
def requirements(draw):
    op = draw(st.sampled_from(OPERATORS))
    key = draw(keys)
    if op in ("in", "notin"):
        vals = tuple(draw(st.lists(values, min_size=1, max_size=3)))
    elif op in ("=", "==", "!="):
        vals = (draw(values),)
    elif op in (">", "<"):
        vals = (draw(int_operands),)
    else:
        vals = ()
    return Requirement(key, op, vals)


selectors = st.lists(requirements(), max_size=5).map(lambda rs: Selector(tuple(rs)))

# Label sets draw from the same keys, with values that include non-integers, signs and big numbers
# (not all valid label values: matches() must still answer like Kubernetes).
label_values = st.one_of(values, st.sampled_from(["-3", "+4", "2.5", " 1", "99999999999999999999", "0", "1", "7", "07", "10"]))
label_sets = st.dictionaries(keys, label_values, max_size=6)


def reference_matches(reqs, labels):
    """Selector semantics from the Kubernetes docs: every requirement must hold (AND).

    - equality (=, ==): the label is present with exactly that value;
    - inequality (!=) and notin: true when the label is absent, or present with another value;
    - in: present with one of the values;
    - exists / !: present / absent;
    - Gt / Lt: present, and both the label value and the operand are integers, compared numerically.
    """
    for key, op, vals in reqs:
        present = key in labels
        value = labels.get(key)
        if op in ("=", "=="):
            ok = present and value == vals[0]
        elif op == "!=":
            ok = (not present) or value != vals[0]
        elif op == "in":
            ok = present and value in vals
        elif op == "notin":
            ok = (not present) or value not in vals
        elif op == "exists":
            ok = present
        elif op == "!":
            ok = not present
        else:
            number = _go_int64(value) if present else None
            bound = _go_int64(vals[0])
            if number is None or bound is None:
                ok = False
            else:
                ok = number > bound if op == ">" else number < bound
        if not ok:
            return False
    return True


def _go_int64(text):
    # strconv.ParseInt(text, 10, 64): optional sign, ASCII digits, within int64
    if not re.fullmatch(r"[+-]?[0-9]+", text, re.ASCII):
        return None
    n = int(text)
    return n if -(2**63) <= n < 2**63 else None


def as_tuples(selector):
    return [(r.key, r.operator, r.values) for r in selector.requirements]


@thorough
@given(selectors)
def test_printing_then_parsing_gives_the_same_selector(s):
    assert parse(str(s)) == s


@thorough
@given(selectors, st.randoms(use_true_random=False))
def test_requirement_order_in_the_text_does_not_matter(s, rnd):
    parts = [str(r) for r in s.requirements]
    rnd.shuffle(parts)
    assert parse(",".join(parts)) == s


@thorough
@given(selectors, label_sets)
def test_matches_agrees_with_the_reference_evaluator(s, labels):
    assert s.matches(labels) == reference_matches(as_tuples(s), labels)


@thorough
@given(selectors, label_sets)
def test_parsed_selector_matches_like_the_generated_one(s, labels):
    assert parse(str(s)).matches(labels) == reference_matches(as_tuples(s), labels)


# ---- object form vs string form ---------------------------------------------------------------

@st.composite
def label_selector_objects(draw):
    """A metav1.LabelSelector and, built independently, the kubectl string that means the same."""
    obj = {}
    parts = []
    match_labels = draw(st.dictionaries(keys, values, max_size=3))
    if match_labels or draw(st.booleans()):
        obj["matchLabels"] = match_labels
        parts += [f"{k}={v}" for k, v in match_labels.items()]
    exprs = []
    for _ in range(draw(st.integers(0, 3))):
        key = draw(keys)
        op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
        if op in ("In", "NotIn"):
            vals = draw(st.lists(values, min_size=1, max_size=3))
            exprs.append({"key": key, "operator": op, "values": vals})
            # Written as a set: Kubernetes' parser itself rejects a repeated empty value, "(,,)".
            text_vals = list(dict.fromkeys(vals))
            parts.append(f"{key} {'in' if op == 'In' else 'notin'} ({','.join(text_vals)})")
        else:
            expr = {"key": key, "operator": op}
            if draw(st.booleans()):
                expr["values"] = []  # an explicit empty list is allowed
            exprs.append(expr)
            parts.append(key if op == "Exists" else f"!{key}")
    if exprs or draw(st.booleans()):
        obj["matchExpressions"] = exprs
    random.Random(draw(st.integers())).shuffle(parts)
    return obj, ",".join(parts)


@thorough
@given(label_selector_objects(), label_sets)
def test_object_form_and_string_form_agree(pair, labels):
    obj, text = pair
    from_object = from_label_selector(obj)
    from_text = parse(text)
    assert from_object == from_text
    assert from_object.matches(labels) == from_text.matches(labels)


@thorough
@given(selectors, label_sets)
def test_object_form_of_a_selector_selects_the_same_labels(s, labels):
    if any(r.operator in (">", "<") for r in s.requirements):
        try:
            as_label_selector(s)
        except SelectorError:
            return
        raise AssertionError("> and < must not be expressible as a LabelSelector object")
    obj = as_label_selector(s)
    assert from_label_selector(obj).matches(labels) == s.matches(labels)


# ---- robustness -----------------------------------------------------------------------------

@thorough
@given(st.text(alphabet=st.sampled_from(list("ab1=!(),<> \tinot-./_@\x00é")), max_size=30))
def test_parse_either_returns_a_selector_or_raises_selector_error(text):
    try:
        s = parse(text)
    except SelectorError:
        return
    # whatever it accepted prints canonically and means the same thing
    assert parse(str(s)) == s
