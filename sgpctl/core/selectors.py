"""Kubernetes label selectors, evaluated exactly as kube-apiserver evaluates them.

One implementation serves the CLI (``-l``), the policy matcher and the sandbox's API server, so a
selector means the same thing everywhere. It mirrors k8s.io/apimachinery:

- the string form: ``pkg/labels/selector.go`` (lexer, parser, ``NewRequirement`` checks, ``String()``);
- the object form: ``metav1.LabelSelectorAsSelector`` and ``validation.ValidateLabelSelector``;
- key and value syntax: ``IsQualifiedName`` / ``IsValidLabelValue``.

Deliberate differences, all in messages only: a key error in the string form is not prefixed with
Go's ``<nil>:`` (a nil field path, noise to a user), and the object-form messages name the offending
key/value in plain words because they end up in ``sgpctl policy validate`` output.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = [
    "EVERYTHING",
    "NOTHING",
    "FieldError",
    "Requirement",
    "Selector",
    "SelectorError",
    "as_label_selector",
    "from_label_selector",
    "from_match_labels",
    "parse",
    "type_name",
    "unknown_field_message",
    "validate_dns1123_label",
    "validate_dns1123_subdomain",
    "validate_label_key",
    "validate_label_selector",
    "validate_label_value",
    "validate_labels",
]


class SelectorError(ValueError):
    """A selector that Kubernetes would reject. ``field`` is the path of the bad part, if known."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


@dataclass(frozen=True)
class FieldError:
    """One validation problem at a field path such as ``spec.podSelector.matchExpressions[1].values``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# --------------------------------------------------------------------------------------------------
# Key and value syntax (k8s.io/apimachinery/pkg/api/validate/content)
# --------------------------------------------------------------------------------------------------

_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
# fullmatch, not ^...$: Python's $ also matches before a trailing newline, Go's does not.
_LABEL_KEY_RE = re.compile(_LABEL_KEY_FMT)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_NAME_MAX = 63
_SUBDOMAIN_MAX = 253


def _regex_error(msg: str, regex: str, *examples: str) -> str:
    # Reproduces Go's RegexError byte for byte, odd double spaces included, so messages match kubectl.
    if not examples:
        return f"{msg} (regex used for validation is '{regex}')"
    msg += " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{example}', "
    return msg + f"regex used for validation is '{regex}')"


def _max_len_error(n: int) -> str:
    return f"must be no more than {n} bytes"


def _byte_len(s: str) -> int:
    # Kubernetes limits are in bytes (Go len), which differs from len(str) for non-ASCII text.
    return len(s.encode("utf-8", "surrogatepass"))


def _length_and_format(value: str, max_len: int, regex: re.Pattern, msg: str, fmt: str, *examples: str) -> list[str]:
    """The two checks most of Kubernetes' name validators make, in their order: length, then format."""
    errs = []
    if _byte_len(value) > max_len:
        errs.append(_max_len_error(max_len))
    if not regex.fullmatch(value):
        errs.append(_regex_error(msg, fmt, *examples))
    return errs


def validate_dns1123_subdomain(value: str) -> list[str]:
    """IsDNS1123Subdomain: what metadata.name of most objects must be."""
    return _length_and_format(value, _SUBDOMAIN_MAX, _DNS1123_SUBDOMAIN_RE, _DNS1123_SUBDOMAIN_MSG,
                              _DNS1123_SUBDOMAIN_FMT, "example.com")


def validate_dns1123_label(value: str) -> list[str]:
    """IsDNS1123Label: what a namespace name must be."""
    errs = []
    if _byte_len(value) > _NAME_MAX:
        errs.append(_max_len_error(_NAME_MAX))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def validate_label_key(key: str) -> list[str]:
    """IsQualifiedName: ``[prefix/]name``, prefix a DNS-1123 subdomain, name at most 63 bytes."""
    errs: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in validate_dns1123_subdomain(prefix))
    else:
        return [
            "a valid label key "
            + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif _byte_len(name) > _NAME_MAX:
        errs.append("name part " + _max_len_error(_NAME_MAX))
    if not _LABEL_KEY_RE.fullmatch(name):
        errs.append("name part " + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc"))
    return errs


def validate_label_value(value: str) -> list[str]:
    """IsValidLabelValue: empty, or at most 63 bytes of ``[-A-Za-z0-9_.]`` starting and ending alphanumeric."""
    return _length_and_format(value, _NAME_MAX, _LABEL_VALUE_RE, _LABEL_VALUE_MSG, _LABEL_VALUE_FMT,
                              "MyValue", "my_value", "12345")


_INT64_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _parse_int64(s: str) -> int | None:
    """Go's strconv.ParseInt(s, 10, 64): ASCII digits with an optional sign, no spaces or underscores."""
    if not isinstance(s, str) or not _INT64_RE.fullmatch(s):
        return None
    n = int(s)
    return n if _INT64_MIN <= n <= _INT64_MAX else None


# --------------------------------------------------------------------------------------------------
# Requirement and Selector
# --------------------------------------------------------------------------------------------------

#: operator spellings, as in the string form; "exists" and "!" (DoesNotExist) have no values
OPERATORS = ("=", "==", "!=", "in", "notin", "exists", "!", ">", "<")
_SET_OPS = ("in", "notin")
_EXACT_OPS = ("=", "==", "!=")
_NUMERIC_OPS = (">", "<")
_UNARY_OPS = ("exists", "!")


@dataclass(frozen=True)
class Requirement:
    """One ``key <operator> values`` term. Values are kept sorted and unique, as Kubernetes prints them."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise SelectorError(f"{self.operator!r} is not a selector operator (one of {', '.join(OPERATORS)})")
        if isinstance(self.values, str):
            # Requirement("app", "=", "web") would otherwise become the set {"w", "e", "b"}.
            raise SelectorError(f"values must be a tuple of strings, got the string {self.values!r}")
        # Canonical values make equal selectors compare equal (sets in Kubernetes have no order).
        object.__setattr__(self, "values", tuple(sorted(set(self.values))))

    def matches(self, labels: Mapping[str, str]) -> bool:
        return _compile(self)(labels)

    def __str__(self) -> str:
        op = self.operator
        if op == "exists":
            return self.key
        if op == "!":
            return "!" + self.key
        joined = ",".join(self.values)
        if op in _SET_OPS:
            return f"{self.key} {op} ({joined})"
        return f"{self.key}{op}{joined}"


_MISSING = object()


def _compile(req: Requirement) -> Callable[[Mapping[str, str]], bool]:
    """A closure per requirement: the matcher runs once per (Pod, policy) pair, so no dispatch at match time."""
    key, op, values = req.key, req.operator, req.values
    if op in ("=", "==", "in"):
        if len(values) == 1:
            (value,) = values
            return lambda labels: labels.get(key, _MISSING) == value
        allowed = frozenset(values)
        return lambda labels: labels.get(key, _MISSING) in allowed
    if op in ("!=", "notin"):
        # A missing key matches: "not equal to x" is true of a Pod without the label.
        if len(values) == 1:
            (value,) = values
            return lambda labels: labels.get(key, _MISSING) != value
        denied = frozenset(values)
        return lambda labels: labels.get(key, _MISSING) not in denied
    if op == "exists":
        return lambda labels: key in labels
    if op == "!":
        return lambda labels: key not in labels
    # ">" / "<": a missing key or a non-integer label value never matches, as in Kubernetes.
    bound = _parse_int64(values[0]) if len(values) == 1 else None
    if bound is None:
        return lambda labels: False
    if op == ">":
        def greater(labels: Mapping[str, str]) -> bool:
            n = _parse_int64(labels.get(key, ""))
            return n is not None and n > bound
        return greater

    def less(labels: Mapping[str, str]) -> bool:
        n = _parse_int64(labels.get(key, ""))
        return n is not None and n < bound
    return less


def _requirement_order(r: Requirement) -> tuple:
    return (r.key, r.operator, r.values)


_NO_LABELS: Mapping[str, str] = {}


@dataclass(frozen=True)
class Selector:
    """An AND of requirements. ``nothing`` is the selector of a nil LabelSelector: it matches no labels."""

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False
    _checks: tuple = field(default=(), init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.nothing and self.requirements:
            raise SelectorError("a nothing-selector cannot carry requirements")
        # Kubernetes sorts by key; sorting on the whole requirement also orders duplicate keys, so
        # "a=b,a!=c" and "a!=c,a=b" are the same Selector.
        reqs = tuple(sorted(self.requirements, key=_requirement_order))
        object.__setattr__(self, "requirements", reqs)
        object.__setattr__(self, "_checks", tuple(_compile(r) for r in reqs))

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.nothing:
            return False
        if labels is None:
            labels = _NO_LABELS
        for check in self._checks:
            if not check(labels):
                return False
        return True

    def empty(self) -> bool:
        """True when the selector does not restrict anything (it selects everything)."""
        return not self.nothing and not self.requirements

    def __str__(self) -> str:
        # Like Kubernetes, the nothing-selector also prints as "": never parse() a printed selector
        # without checking .nothing first.
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = Selector()
NOTHING = Selector(nothing=True)


def from_match_labels(labels: Mapping[str, str]) -> Selector:
    """SelectorFromSet: equality on every pair; empty or None selects everything. Not validated."""
    if not labels:
        return EVERYTHING
    return Selector(tuple(Requirement(k, "=", (v,)) for k, v in labels.items()))


# --------------------------------------------------------------------------------------------------
# String form: a transliteration of the lexer and parser in pkg/labels/selector.go
# --------------------------------------------------------------------------------------------------

(_ERROR, _EOS, _CLOSE, _COMMA, _NOT, _DEQ, _EQ, _GT, _IDENT, _IN, _LT, _NEQ, _NOTIN, _OPEN) = range(14)

_STRING_TO_TOKEN = {
    ")": _CLOSE,
    ",": _COMMA,
    "!": _NOT,
    "==": _DEQ,
    "=": _EQ,
    ">": _GT,
    "in": _IN,
    "<": _LT,
    "!=": _NEQ,
    "notin": _NOTIN,
    "(": _OPEN,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_EOF = "\0"
# Go's selection.Operator spellings, in binaryOperators order: they appear in "expected:" messages.
_BINARY_OPERATORS_MSG = "in, notin, =, ==, !=, gt, lt"
_TOKEN_TO_OPERATOR = {_IN: "in", _NOTIN: "notin", _EQ: "=", _DEQ: "==", _NEQ: "!=", _GT: ">", _LT: "<"}


def _lex(s: str) -> list[tuple[int, str]]:
    pos = 0
    n = len(s)

    def read() -> str:
        # Go's Lexer.read returns 0 at the end without advancing; a NUL in the text also reads as 0.
        nonlocal pos
        if pos < n:
            ch = s[pos]
            pos += 1
            return ch
        return _EOF

    def unread() -> None:
        nonlocal pos
        pos -= 1

    def scan_id_or_keyword() -> tuple[int, str]:
        buf = []
        while True:
            ch = read()
            if ch == _EOF:
                break
            if ch in _SPECIAL or ch in _WHITESPACE:
                unread()
                break
            buf.append(ch)
        lit = "".join(buf)
        return _STRING_TO_TOKEN.get(lit, _IDENT), lit

    def scan_special_symbol() -> tuple[int, str]:
        last: tuple[int, str] | None = None
        buf = ""
        while True:
            ch = read()
            if ch == _EOF:
                break
            if ch in _SPECIAL:
                buf += ch
                if buf in _STRING_TO_TOKEN:
                    last = (_STRING_TO_TOKEN[buf], buf)
                elif last is not None:
                    unread()
                    break
            else:
                unread()
                break
        if last is None:
            return _ERROR, f"error expected: keyword found '{buf}'"
        return last

    items = []
    while True:
        ch = read()
        while ch in _WHITESPACE:
            ch = read()
        if ch == _EOF:
            items.append((_EOS, ""))
            return items
        unread()
        items.append(scan_special_symbol() if ch in _SPECIAL else scan_id_or_keyword())


class _Parser:
    def __init__(self, text: str):
        self.items = _lex(text)
        self.pos = 0

    def lookahead(self, values_context: bool) -> tuple[int, str]:
        tok, lit = self.items[self.pos]
        # "in" and "notin" are ordinary identifiers where a key or value is expected ("in in (in)").
        if values_context and tok in (_IN, _NOTIN):
            tok = _IDENT
        return tok, lit

    def consume(self, values_context: bool) -> tuple[int, str]:
        tok, lit = self.lookahead(values_context)
        self.pos += 1
        return tok, lit

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(True)
            if tok in (_IDENT, _NOT):
                try:
                    reqs.append(self.parse_requirement())
                except SelectorError as e:
                    raise SelectorError(f"unable to parse requirement: {e.message}") from None
                t, lit = self.consume(True)
                if t == _EOS:
                    return reqs
                if t == _COMMA:
                    t2, lit2 = self.lookahead(True)
                    if t2 not in (_IDENT, _NOT):
                        raise SelectorError(f"found '{lit2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return reqs
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        key, operator = self.parse_key_and_infer_operator()
        if operator in _UNARY_OPS:
            return _new_requirement(key, operator, [])
        tok, lit = self.consume(False)
        if tok not in _TOKEN_TO_OPERATOR:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPERATORS_MSG}")
        operator = _TOKEN_TO_OPERATOR[tok]
        values = self.parse_values() if operator in _SET_OPS else self.parse_exact_value()
        return _new_requirement(key, operator, sorted(values))

    def parse_key_and_infer_operator(self) -> tuple[str, str | None]:
        operator = None
        tok, lit = self.consume(True)
        if tok == _NOT:
            operator = "!"
            tok, lit = self.consume(True)
        if tok != _IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        errs = validate_label_key(lit)
        if errs:
            raise SelectorError(f"Invalid value: {_go_quote(lit)}: {'; '.join(errs)}")
        t, _ = self.lookahead(True)
        if t in (_EOS, _COMMA) and operator != "!":
            operator = "exists"
        return lit, operator

    def parse_values(self) -> set[str]:
        tok, lit = self.consume(True)
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(True)
        if tok in (_IDENT, _COMMA):
            values = self.parse_identifiers_list()
            self.consume(True)  # always ')': the list only returns when it sees one
            return values
        if tok == _CLOSE:
            # "()" is the set {""}, not an empty set: Kubernetes accepts "x in ()" as x in ("").
            self.consume(True)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(True)
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self.lookahead(True)
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSE:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:
                # Empty slots between commas are the empty-string value: "(a,,b)" holds "".
                if not values:
                    values.add("")
                tok2, _ = self.lookahead(True)
                if tok2 == _CLOSE:
                    values.add("")
                    return values
                if tok2 == _COMMA:
                    self.consume(True)
                    values.add("")
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        tok, _ = self.lookahead(True)
        if tok in (_EOS, _COMMA):
            return {""}
        tok, lit = self.consume(True)
        if tok == _IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def _go_quote(value: Any) -> str:
    """Roughly Go's %q / field.Invalid rendering of a bad value."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _new_requirement(key: str, operator: str, values: list[str]) -> Requirement:
    """NewRequirement's checks for what the parser can produce, with its aggregated error message."""
    errs: list[tuple[str, str]] = []  # (field path, Go-style body)
    if operator in _NUMERIC_OPS:
        for i, v in enumerate(values):
            if _parse_int64(v) is None:
                errs.append((f"values[{i}]", f"Invalid value: {_go_quote(v)}: for 'Gt', 'Lt' operators, the value must be an integer"))
    for i, v in enumerate(values):
        msgs = validate_label_value(v)
        if msgs:
            errs.append((f"values[{i}][{key}]", f"Invalid value: {_go_quote(v)}: {'; '.join(msgs)}"))
    if not errs:
        return Requirement(key, operator, tuple(values))
    rendered = list(dict.fromkeys(f"{p}: {body}" for p, body in errs))
    message = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    # The string form has no field path of its own: the Go-style paths stay inside the message.
    raise SelectorError(message)


def parse(text: str) -> Selector:
    """Parse the kubectl ``-l`` form. ``""`` selects everything. Raises SelectorError."""
    if not isinstance(text, str):
        raise SelectorError(f"a label selector must be a string, got {type(text).__name__}")
    return Selector(tuple(_Parser(text).parse()))


# --------------------------------------------------------------------------------------------------
# Object form: metav1.LabelSelector
# --------------------------------------------------------------------------------------------------

#: metav1.LabelSelectorOperator: only these four (Gt/Lt exist only in node selectors)
LABEL_SELECTOR_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
_SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
_EXPRESSION_FIELDS = ("key", "operator", "values")


def unknown_field_message(name: Any, known: tuple[str, ...] | list[str]) -> str:
    """"unknown field; did you mean X?" with the closest known field, or the list of known fields."""
    guess = None
    if isinstance(name, str):
        folded = {k.lower(): k for k in known}
        guess = folded.get(name.lower())
        if guess is None:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
            guess = close[0] if close else None
    if guess is not None:
        return f"unknown field; did you mean {guess}?"
    return f"unknown field (known fields: {', '.join(known)})"


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def type_name(value: Any) -> str:
    """How a YAML/JSON value is called in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _not_a_string(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (bool, int, float)) else None
    hint = f" (quote it in YAML: '{text}')" if text is not None else ""
    return f"must be a string, got {type_name(value)} {_go_quote(value) if text is None else text}{hint}"


def validate_label_selector(obj: Any, path: str) -> list[FieldError]:
    """Every problem in a LabelSelector object, each at its full field path. None (nil) is valid."""
    if obj is None:
        return []
    if not isinstance(obj, Mapping):
        return [FieldError(path, f"must be a label selector mapping (matchLabels and/or matchExpressions), got {type_name(obj)}")]
    errs: list[FieldError] = []
    for name in obj:
        if name not in _SELECTOR_FIELDS:
            errs.append(FieldError(_child(path, str(name)), unknown_field_message(name, _SELECTOR_FIELDS)))
    errs.extend(validate_labels(obj.get("matchLabels"), _child(path, "matchLabels")))
    errs.extend(_validate_match_expressions(obj.get("matchExpressions"), _child(path, "matchExpressions")))
    return errs


def validate_labels(labels: Any, path: str) -> list[FieldError]:
    """ValidateLabels: a map of label keys to values (matchLabels, metadata.labels). None is valid."""
    if labels is None:
        return []
    if not isinstance(labels, Mapping):
        return [FieldError(path, f"must be a map of label keys to values, got {type_name(labels)}")]
    errs = []
    for key, value in labels.items():
        errs.extend(_label_part_problems("key", key, path, validate_label_key))
        if isinstance(key, str):
            errs.extend(_label_part_problems("value", value, f"{path}[{key}]", validate_label_value))
    return errs


def _label_part_problems(part: str, text: Any, path: str, validate: Callable[[str], list[str]]) -> list[FieldError]:
    """A label ``key``'s or ``value``'s problem: not a string, or ``validate``'s messages."""
    if not isinstance(text, str):
        return [FieldError(path, f"label {part} {_not_a_string(text)}")]
    msgs = validate(text)
    return [FieldError(path, f"invalid label {part} {_go_quote(text)}: {'; '.join(msgs)}")] if msgs else []


def _validate_match_expressions(exprs: Any, path: str) -> list[FieldError]:
    if exprs is None:
        return []
    if not isinstance(exprs, (list, tuple)):
        return [FieldError(path, f"must be a list of {{key, operator, values}} expressions, got {type_name(exprs)}")]
    errs = []
    for i, expr in enumerate(exprs):
        errs.extend(_validate_expression(expr, f"{path}[{i}]"))
    return errs


def _validate_expression(expr: Any, path: str) -> list[FieldError]:
    if not isinstance(expr, Mapping):
        return [FieldError(path, f"must be a mapping with key, operator and values, got {type_name(expr)}")]
    errs = []
    for name in expr:
        if name not in _EXPRESSION_FIELDS:
            errs.append(FieldError(_child(path, str(name)), unknown_field_message(name, _EXPRESSION_FIELDS)))

    key = expr.get("key")
    key_path = _child(path, "key")
    if key is None:
        errs.append(FieldError(key_path, "is required"))
    elif not isinstance(key, str):
        errs.append(FieldError(key_path, _not_a_string(key)))
    elif msgs := validate_label_key(key):
        errs.append(FieldError(key_path, f"invalid label key {_go_quote(key)}: {'; '.join(msgs)}"))

    operator = expr.get("operator")
    op_path = _child(path, "operator")
    supported = ", ".join(LABEL_SELECTOR_OPERATORS)
    if operator is None:
        errs.append(FieldError(op_path, f"is required (one of {supported})"))
        operator = None
    elif operator not in LABEL_SELECTOR_OPERATORS:
        errs.append(FieldError(op_path, _bad_operator_message(operator, supported)))
        operator = None

    values = expr.get("values")
    values_path = _child(path, "values")
    if values is not None and not isinstance(values, (list, tuple)):
        errs.append(FieldError(values_path, f"must be a list of strings, got {type_name(values)}"))
        return errs
    values = list(values or ())
    if operator in ("In", "NotIn") and not values:
        errs.append(FieldError(values_path, f"must be a non-empty list when operator is {operator}"))
    elif operator in ("Exists", "DoesNotExist") and values:
        errs.append(FieldError(values_path, f"must be empty or absent when operator is {operator}"))
    for j, value in enumerate(values):
        if not isinstance(value, str):
            errs.append(FieldError(f"{values_path}[{j}]", _not_a_string(value)))
        elif msgs := validate_label_value(value):
            errs.append(FieldError(f"{values_path}[{j}]", f"invalid label value {_go_quote(value)}: {'; '.join(msgs)}"))
    return errs


def _bad_operator_message(operator: Any, supported: str) -> str:
    shown = _go_quote(operator)
    if isinstance(operator, str):
        for name in LABEL_SELECTOR_OPERATORS:
            if name.lower() == operator.lower().replace("_", ""):
                return f"{shown} is not a valid selector operator; did you mean {name}? (operators are case-sensitive)"
        if operator in ("Gt", "Lt"):
            return f"{shown} is not a valid selector operator: Gt and Lt exist only in node selectors (supported: {supported})"
    return f"{shown} is not a valid selector operator (supported: {supported})"


def from_label_selector(obj: Mapping | None, path: str = "") -> Selector:
    """LabelSelectorAsSelector: None selects nothing, {} selects everything. Raises the first error."""
    if obj is None:
        return NOTHING
    errs = validate_label_selector(obj, path)
    if errs:
        raise SelectorError(errs[0].message, errs[0].path or None)
    reqs = [Requirement(k, "=", (v,)) for k, v in (obj.get("matchLabels") or {}).items()]
    for expr in obj.get("matchExpressions") or ():
        reqs.append(Requirement(expr["key"], LABEL_SELECTOR_OPERATORS[expr["operator"]], tuple(expr.get("values") or ())))
    return Selector(tuple(reqs)) if reqs else EVERYTHING


def label_selector_text(obj: Any) -> str:
    """A LabelSelector object in kubectl's text form: ``-`` when unset, ``(all)`` for ``{}``; what the
    server holds, as it is, when it cannot be read."""
    if obj is None:
        return "-"
    try:
        text = str(from_label_selector(obj))
    except Exception:  # noqa: BLE001 - show what the server holds, even if odd
        return str(obj)
    return text or "(all)"


def as_label_selector(selector: Selector) -> dict | None:
    """The LabelSelector object for a selector (ParseToLabelSelector): equality in matchLabels,
    the rest in matchExpressions. None for the nothing-selector. ``!=`` becomes NotIn with one value;
    ``>``/``<`` cannot be expressed and raise SelectorError."""
    if selector.nothing:
        return None
    match_labels: dict[str, str] = {}
    expressions: list[dict] = []
    for r in selector.requirements:
        if r.operator in ("=", "==") and r.key not in match_labels:
            match_labels[r.key] = r.values[0]
        elif r.operator in ("=", "==", "in"):
            # A second equality on a key already in matchLabels can only live in an expression.
            expressions.append({"key": r.key, "operator": "In", "values": list(r.values)})
        elif r.operator in ("!=", "notin"):
            expressions.append({"key": r.key, "operator": "NotIn", "values": list(r.values)})
        elif r.operator == "exists":
            expressions.append({"key": r.key, "operator": "Exists"})
        elif r.operator == "!":
            expressions.append({"key": r.key, "operator": "DoesNotExist"})
        else:
            raise SelectorError(
                f"{str(r)!r}: the '{r.operator}' operator cannot be expressed in a LabelSelector object "
                "(matchExpressions supports only In, NotIn, Exists and DoesNotExist)"
            )
    obj: dict[str, Any] = {}
    if match_labels:
        obj["matchLabels"] = match_labels
    if expressions:
        # A fixed order makes the object a fixed point of object -> Selector -> object, so re-applying
        # an unchanged policy never shows a diff.
        expressions.sort(key=lambda e: (e["key"], e["operator"], e.get("values", [])))
        obj["matchExpressions"] = expressions
    return obj
