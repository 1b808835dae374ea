"""kubectl's JSONPath templates (``-o jsonpath=...`` and the column specs of ``-o custom-columns``), over
plain JSON data: what sgpctl's documents become before they are written.

The grammar and results follow kubectl (k8s.io/client-go/util/jsonpath), which the tests run side by
side on the same objects: text outside ``{}`` is copied; inside, ``$``/``@`` is the current object,
``.name`` a field (``\\.`` escapes a dot), ``.*`` and ``[*]`` every member, ``..name`` recursive
descent, ``[i]``, ``[start:end:step]`` (negative counts from the end), ``[a,b]`` a union,
``['key']`` a key, ``[?(@.x=="v")]`` a filter (``== != < > <= >=``, or a bare path: "exists"),
``"text"`` literal text (with escapes such as ``\\n``), ``range``/``end`` loops. A missing key gives
nothing, as with kubectl's default ``--allow-missing-template-keys``; an index out of range, or an index
or filter on something that is not a list, is an error.

Values print as kubectl prints them: strings as they are, objects and lists as compact JSON (keys
sorted), numbers and booleans as Go prints them, several results of one expression separated by a
space. ``go_text`` is Go's ``fmt.Sprint`` of a value, which custom-columns uses (``[a b]``,
``map[k:v]``).

One deliberate difference: a filter compares numbers numerically (kubectl 1.32 refuses ``==2``
against a number read from JSON as "incompatible types").
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JsonPathError", "Template", "parse", "relaxed", "go_text", "value_text"]


class JsonPathError(ValueError):
    """A template that cannot be parsed, or one that cannot be applied to the data."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# -- nodes -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Field:
    name: str


@dataclass(frozen=True)
class _Wildcard:
    pass


@dataclass(frozen=True)
class _Recursive:
    pass


@dataclass(frozen=True)
class _Index:
    #: (start, end, step); None where not given. ``single`` for ``[i]``
    start: int | None
    end: int | None
    step: int | None
    single: bool = False


@dataclass(frozen=True)
class _Union:
    branches: tuple[tuple, ...]


@dataclass(frozen=True)
class _Filter:
    left: tuple
    op: str  # one of == != < > <= >= or "exists"
    right: tuple = ()


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _Keyword:
    word: str  # range or end


@dataclass
class _Range:
    path: tuple
    body: list = field(default_factory=list)


_SLICE = re.compile(r"^(-?\d*)(:-?\d*)?(:-?\d*)?$")
_FILTER = re.compile(r"^([^!<>=]+)([!<>=]+)(.+?)$")
_OPERATORS = ("==", "!=", "<", ">", "<=", ">=")
_TERMINATORS = set(" \t\r\n.,[]$@{}")


class _Parser:
    """Text and ``{...}`` actions into a list of items: ``_Text``, a tuple of nodes (one action), or a
    ``_Range`` holding its body."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def parse(self) -> list:
        root: list = []
        stack: list[list] = [root]
        while self.pos < len(self.text):
            brace = self.text.find("{", self.pos)
            if brace < 0:
                stack[-1].append(_Text(self.text[self.pos:]))
                break
            if brace > self.pos:
                stack[-1].append(_Text(self.text[self.pos:brace]))
            self.pos = brace + 1
            nodes = self._action()
            head = nodes[0] if nodes else None
            if isinstance(head, _Keyword) and head.word == "range":
                block = _Range(tuple(nodes[1:]))
                stack[-1].append(block)
                stack.append(block.body)
            elif isinstance(head, _Keyword) and head.word == "end":
                if len(stack) == 1:
                    raise JsonPathError("not in range, nothing to end")
                stack.pop()
            else:
                stack[-1].append(tuple(nodes))
        if len(stack) > 1:
            raise JsonPathError("range without end")
        return root

    def _action(self) -> list:
        """The nodes of one action, up to and including its ``}``."""
        nodes: list = []
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] in "\r\n":
                raise JsonPathError("unclosed action")
            c = text[self.pos]
            if c == "}":
                self.pos += 1
                return nodes
            if text.startswith("[?(", self.pos):
                nodes.append(self._filter())
            elif text.startswith("..", self.pos):
                if nodes and isinstance(nodes[-1], _Recursive):
                    raise JsonPathError("invalid multiple recursive descent")
                self.pos += 2
                nodes.append(_Recursive())
                if self.pos < len(text) and _word_char(text[self.pos]):
                    nodes.append(self._field())
            elif c in " $@":
                self.pos += 1
            elif c == "[":
                nodes.extend(self._bracket())
            elif c in "\"'":
                nodes.append(_Literal(self._quoted(c)))
            elif c == ".":
                self.pos += 1
                nodes.append(self._field())
            elif c in "+-" or c.isdigit():
                nodes.append(_Literal(self._number()))
            elif _word_char(c):
                word = self._word()
                if word in ("true", "false"):
                    nodes.append(_Literal(word == "true"))
                elif word in ("range", "end") and not nodes:
                    nodes.append(_Keyword(word))
                else:
                    raise JsonPathError(f"unrecognized identifier {word}")
            else:
                raise JsonPathError(f"unrecognized character in action: {c!r}")

    def _field(self):
        start = self.pos
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c == "\\":
                self.pos += 2
                continue
            if c in _TERMINATORS:
                break
            self.pos += 1
        name = text[start:self.pos].replace("\\", "")
        return _Wildcard() if name == "*" else _Field(name)

    def _word(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _TERMINATORS:
            self.pos += 1
        return self.text[start:self.pos]

    def _number(self):
        start = self.pos
        if self.text[self.pos] in "+-":
            self.pos += 1
        while self.pos < len(self.text) and (self.text[self.pos].isdigit() or self.text[self.pos] == "."):
            self.pos += 1
        raw = self.text[start:self.pos]
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw)
            except ValueError:
                raise JsonPathError(f"cannot parse number {raw}") from None

    def _quoted(self, quote: str) -> str:
        start = self.pos
        self.pos += 1
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise JsonPathError("unterminated quoted string")
            if text[self.pos] == quote and text[self.pos - 1] != "\\":
                self.pos += 1
                break
            self.pos += 1
        return _unquote(text[start:self.pos])

    def _bracket(self) -> list:
        end = self.text.find("]", self.pos)
        newline = self.text.find("\n", self.pos)
        if end < 0 or 0 <= newline < end:
            raise JsonPathError("unterminated array")
        inner = self.text[self.pos + 1:end]
        self.pos = end + 1
        if inner == "*":
            inner = ":"
        parts = inner.split(",")
        if len(parts) > 1:
            return [_Union(tuple(tuple(_sub(f"[{p.strip()}]")) for p in parts))]
        key = re.fullmatch(r"'([^']*)'", inner)
        if key:
            return _sub(f".{key.group(1)}")
        m = _SLICE.match(inner)
        if m is None:
            raise JsonPathError(f"invalid array index {inner}")
        start, stop, step = m.group(1), m.group(2), m.group(3)
        if stop is None and step is None:
            if start == "":
                raise JsonPathError(f"invalid array index {inner}")
            return [_Index(int(start), None, None, single=True)]
        return [_Index(int(start) if start else None, int(stop[1:]) if stop and stop[1:] else None,
                       int(step[1:]) if step and step[1:] else None)]

    def _filter(self):
        self.pos += 3
        start = self.pos
        text = self.text
        quote = None
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise JsonPathError("unterminated filter")
            c = text[self.pos]
            if c in "\"'":
                if quote is None:
                    quote = c
                elif c == quote and text[self.pos - 1] != "\\":
                    quote = ""
            elif c == ")" and quote in (None, ""):
                break
            self.pos += 1
        inner = text[start:self.pos]
        self.pos += 1
        if self.pos >= len(text) or text[self.pos] != "]":
            raise JsonPathError("unclosed array expect ]")
        self.pos += 1
        m = _FILTER.match(inner)
        if m is None:
            return _Filter(tuple(_sub(inner)), "exists")
        op = m.group(2)
        if op not in _OPERATORS:
            raise JsonPathError(f"unrecognized filter operator {op}")
        return _Filter(tuple(_sub(m.group(1))), op, tuple(_sub(m.group(3))))


def _sub(text: str) -> list:
    """The nodes of an expression given without braces (a union branch, a filter side)."""
    parser = _Parser(text + "}")
    return parser._action()


def _word_char(c: str) -> bool:
    return c == "_" or c.isalnum()


_ESCAPE = re.compile(r"\\(?:([abfnrtv\\'\"])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3})|(.|$))")
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"'}


def _unquote(raw: str) -> str:
    """A quoted string's text, with Go's escapes (\\n, \\t, \\xHH, \\uHHHH, ...)."""
    def one(m: re.Match) -> str:
        simple, hex2, hex4, hex8, octal, bad = m.groups()
        if simple:
            return _SIMPLE[simple]
        if bad is not None:
            raise JsonPathError(f"unquote string {raw} error invalid syntax")
        return chr(int(hex2 or hex4 or hex8, 16) if octal is None else int(octal, 8))

    return _ESCAPE.sub(one, raw[1:-1])


# -- evaluation ------------------------------------------------------------------------------------

_MISSING = object()


def _children(value: Any) -> list:
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return list(value.encode())  # Go indexes a string by byte
    return []


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "map"
    return "nil" if value is None else type(value).__name__


def _walk(values: list, nodes: tuple) -> list:
    for node in nodes:
        values = _step(values, node)
    return values


def _step(values: list, node) -> list:
    if isinstance(node, _Field):
        return [v[node.name] for v in values if isinstance(v, dict) and node.name in v]
    if isinstance(node, _Literal):
        return [node.value for _ in values]
    if isinstance(node, _Wildcard):
        return [c for v in values for c in _children(v)]
    if isinstance(node, _Recursive):
        out: list = []
        for v in values:
            _descend(v, out)
        return out
    if isinstance(node, _Index):
        return [item for v in values if v is not None for item in _slice(v, node)]
    if isinstance(node, _Union):
        return [item for branch in node.branches for item in _walk(values, branch)]
    if isinstance(node, _Filter):
        return [item for v in values for item in _filter(v, node)]
    raise JsonPathError(f"unexpected node {node!r}")  # pragma: no cover - the parser makes no other


def _descend(value: Any, out: list) -> None:
    children = _children(value)
    if children:
        out.append(value)
        if not isinstance(value, str):  # a string's bytes have no members
            for c in children:
                _descend(c, out)


def _slice(value: Any, node: _Index) -> list:
    if not isinstance(value, (list, tuple)):
        raise JsonPathError(f"{_kind(value)} is not array or slice")
    n = len(value)
    start = node.start if node.start is not None else 0
    if start < 0:
        start += n
    if node.single:
        end = start + 1
    else:
        end = node.end if node.end is not None else n
        if end < 0:
            end += n
    if end != start:
        if start >= n or start < 0:
            raise JsonPathError(f"array index out of bounds: index {start}, length {n}")
        if end > n:
            raise JsonPathError(f"array index out of bounds: index {end - 1}, length {n}")
    if end < start:
        return []
    return list(value[start:end:node.step or 1])


def _filter(value: Any, node: _Filter) -> list:
    if not isinstance(value, (list, tuple)):
        raise JsonPathError(f"{_kind(value)} is not array or slice and cannot be filtered")
    out = []
    for item in value:
        if node.op == "exists":
            try:  # kubectl ignores an error here: a path that cannot be followed does not exist
                lefts = _walk([item], node.left)
            except JsonPathError:
                lefts = []
            if lefts:
                out.append(item)
            continue
        lefts = _walk([item], node.left)
        rights = _walk([item], node.right)
        if len(lefts) != 1 or len(rights) != 1:
            continue  # a missing key matches nothing (kubectl does the same)
        if _compare(lefts[0], node.op, rights[0]):
            out.append(item)
    return out


def _compare(left: Any, op: str, right: Any) -> bool:
    numbers = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        if not (isinstance(left, bool) and isinstance(right, bool)) or op not in ("==", "!="):
            raise JsonPathError("incompatible types for comparison")
    elif not ((isinstance(left, numbers) and isinstance(right, numbers)) or (isinstance(left, str) and isinstance(right, str))):
        raise JsonPathError("incompatible types for comparison")
    return {"==": left == right, "!=": left != right, "<": left < right, ">": left > right,
            "<=": left <= right, ">=": left >= right}[op]


# -- printing --------------------------------------------------------------------------------------

def _go_float(value: float) -> str:
    """Go's %v of a float64: the shortest representation, exponent from 1e21."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-").rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    return text


def _scalar(value: Any, null: str) -> str | None:
    """How Go prints a JSON scalar (``null``: its text for null); None for a list or a mapping."""
    if value is None:
        return null
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    return None


def _go_json(value: Any) -> str:
    """Go's json.Marshal: compact, keys sorted, <, > and & escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def value_text(value: Any) -> str:
    """How ``-o jsonpath`` prints one result."""
    text = _scalar(value, "null")
    return _go_json(value) if text is None else text


def go_text(value: Any) -> str:
    """Go's ``fmt.Sprint`` of a JSON value (what ``-o custom-columns`` prints in a cell)."""
    text = _scalar(value, "<nil>")
    if text is not None:
        return text
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_text(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_text(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class Template:
    source: str
    items: tuple

    def results(self, data: Any) -> list[list]:
        """The results of each expression, in order (text counts as one result)."""
        out: list[list] = []
        self._run(list(self.items), data, out)
        return out

    def _run(self, items: list, data: Any, out: list[list]) -> None:
        for item in items:
            if isinstance(item, _Text):
                out.append([item.text])
            elif isinstance(item, _Range):
                for value in _walk([data], item.path):
                    self._run(item.body, value, out)
            else:
                out.append(_walk([data], item))

    def render(self, data: Any) -> str:
        """What ``-o jsonpath=TEMPLATE`` prints (kubectl adds no newline either)."""
        return "".join(" ".join(value_text(v) for v in values) for values in self.results(data))


def parse(template: str) -> Template:
    """Parse a template; raises JsonPathError naming the problem."""
    return Template(template, tuple(_Parser(template).parse()))


_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")


def relaxed(expression: str) -> str:
    """A custom-columns field spec as kubectl accepts it (``metadata.name``, ``.metadata.name``,
    ``{metadata.name}``) made a full template, ``{.metadata.name}``."""
    if not expression:
        return expression
    m = _RELAXED.match(expression)
    if m is None:
        raise JsonPathError("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' "
                            "or '{.name1.name2}'")
    return "{." + (m.group(1) or m.group(2)) + "}"
