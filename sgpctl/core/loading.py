"""The one loader for YAML and JSON text, with limits, for every reader of input.

Policy files, snapshots, kubeconfigs, tccli profiles and ConfigMap data parsed in core all come
through here, so hostile or broken text fails the same way everywhere: a :class:`LoadError` (a
``ValueError``) whose message is one line naming the source, the position and the problem. Limits:

- size (``max_bytes``, checked before parsing);
- characters YAML cannot hold (NUL and other controls), reported with their line and column;
- nesting depth (``max_depth``), checked while composing, so deep input never reaches Python's
  recursion limit, and again with aliases expanded;
- alias uses per document (``max_aliases``) and the nodes that aliases add when expanded
  (``max_alias_nodes``): a "billion laughs" file is refused after one linear pass over its node graph,
  in milliseconds, before anything walks it as a tree; a recursive alias is refused too;
- documents per stream (``max_documents``).

Values that Python cannot build (an integer of 5,000 digits, a date of month 13) are errors of the
same kind, not exceptions of their own.

Pure: yaml and json are imported inside the functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Iterator

from sgpctl.core.printable import printable

__all__ = [
    "Limits",
    "LoadError",
    "YamlDocument",
    "POLICY_LIMITS",
    "SNAPSHOT_LIMITS",
    "CONFIG_LIMITS",
    "check_size",
    "check_characters",
    "iter_yaml",
    "load_yaml",
    "load_yaml_all",
    "load_json",
]

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_documents: int = 1000
    max_depth: int = 100
    max_aliases: int = 1000
    max_alias_nodes: int = 100_000


#: policy files: the API server takes at most 3 MiB per request, and a policy is a few hundred bytes
POLICY_LIMITS = Limits(max_bytes=8 * MiB, max_documents=1000)
#: offline snapshots (`kubectl get ... -A -o yaml` of a large cluster)
SNAPSHOT_LIMITS = Limits(max_bytes=512 * MiB, max_documents=100_000, max_depth=200)
#: kubeconfig, tccli profiles, ConfigMap data
CONFIG_LIMITS = Limits(max_bytes=16 * MiB, max_documents=1)


class LoadError(ValueError):
    """Text that cannot be loaded. ``source`` is the file (or None), ``line``/``column`` 1-based when
    known, ``problem`` the one-line reason, ``hint`` what to do (optional). ``whole_text`` is True for
    problems of the text as a whole (its size, a character YAML cannot hold), False inside a document."""

    def __init__(self, source: str | None, problem: str, line: int | None = None, column: int | None = None,
                 hint: str | None = None, *, whole_text: bool = False):
        self.source = source
        self.whole_text = whole_text
        self.problem = printable(" ".join(problem.split()))
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self.message)

    @property
    def where(self) -> str:
        if self.line is None:
            return ""
        return f"line {self.line}, column {self.column}" if self.column is not None else f"line {self.line}"

    @property
    def message(self) -> str:
        parts = [printable(self.source)] if self.source else []
        if self.where:
            parts.append(self.where)
        parts.append(self.problem)
        return ": ".join(parts)

    def __str__(self) -> str:
        return self.message


@dataclass
class YamlDocument:
    """One document of a stream: its node tree (for line numbers), its value and its first line."""

    node: Any
    value: Any
    line: int


# -- checks on the raw text --------------------------------------------------------------------------

# What YAML 1.1 (and PyYAML's reader) accepts: tab, LF, CR, printable ASCII, NEL and most of Unicode.
_NOT_YAML_TEXT = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def check_size(text: str, source: str | None, limits: Limits) -> None:
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > limits.max_bytes else len(text)
    if size > limits.max_bytes:
        raise LoadError(source, f"is larger than the limit of {_size(limits.max_bytes)} ({_size(size)})",
                        hint="split the file, or check that it is the file you meant", whole_text=True)


def check_characters(text: str, source: str | None) -> None:
    """Refuse characters YAML cannot hold, naming the first one and where it is."""
    match = _NOT_YAML_TEXT.search(text)
    if match is None:
        return
    line, column = _position(text, match.start())
    char = match.group()
    name = "NUL" if char == "\0" else f"U+{ord(char):04X}"
    raise LoadError(source, f"control character {name} ({printable(char)}) is not allowed in YAML; remove it, "
                            "or write it escaped inside a double-quoted string", line, column, whole_text=True)


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes"


# -- YAML ----------------------------------------------------------------------------------------------

def _loader_class():
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        """SafeLoader that counts depth and alias uses while composing."""

        limits: Limits
        source: str | None
        depth = 0
        aliases = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > self.limits.max_aliases:
                    mark = self.peek_event().start_mark
                    raise LoadError(self.source, f"more than {self.limits.max_aliases} alias uses (*name) in one "
                                    "document: refused as a possible alias bomb", mark.line + 1, mark.column + 1)
                return super().compose_node(parent, index)
            self.depth += 1
            try:
                if self.depth > self.limits.max_depth:
                    mark = self.peek_event().start_mark
                    raise LoadError(self.source, f"nesting is deeper than the limit of {self.limits.max_depth} levels",
                                    mark.line + 1, mark.column + 1)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return BoundedLoader


def _children(node: Any) -> list:
    value = node.value
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, tuple):
                out.extend(item)
            else:
                out.append(item)
        return out
    return []


def _measure(root: Any, source: str | None, limits: Limits) -> None:
    """Depth and size of the document with every alias expanded, in one pass over the node graph
    (each node once, sizes memoized): refuses alias bombs and recursive aliases without expanding them."""
    visiting, done = 1, 2
    state: dict[int, int] = {id(root): visiting}
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    distinct = 0
    stack = [(root, iter(_children(root)))]
    while stack:
        node, children = stack[-1]
        for child in children:
            seen = state.get(id(child))
            if seen == visiting:
                mark = child.start_mark
                raise LoadError(source, "an alias refers to a node that contains it (a recursive alias)",
                                mark.line + 1, mark.column + 1)
            if seen is None:
                state[id(child)] = visiting
                stack.append((child, iter(_children(child))))
                break
        else:
            stack.pop()
            kids = _children(node)
            size[id(node)] = 1 + sum(size[id(k)] for k in kids)
            depth[id(node)] = 1 + max((depth[id(k)] for k in kids), default=0)
            state[id(node)] = done
            distinct += 1
            if depth[id(node)] > limits.max_depth:
                mark = node.start_mark
                raise LoadError(source, f"nesting, with aliases expanded, is deeper than the limit of "
                                f"{limits.max_depth} levels", mark.line + 1, mark.column + 1)
            # Every node not finished yet lies outside this node's subtree and adds at least one node
            # to the expansion, so aliases add at least size(node) - distinct nodes to the document:
            # past the limit here is past it for the document. Stopping here names the anchor where
            # the expansion grows, and no larger size is ever computed.
            if size[id(node)] - distinct > limits.max_alias_nodes:
                _alias_bomb(source, limits, node)
    if size[id(root)] - distinct > limits.max_alias_nodes:
        _alias_bomb(source, limits, root)


def _alias_bomb(source: str | None, limits: Limits, node: Any) -> None:
    mark = node.start_mark
    raise LoadError(source, f"aliases expand this document by more than {limits.max_alias_nodes} nodes: "
                    "refused as a possible alias bomb", mark.line + 1, mark.column + 1)


def yaml_problem(e: Exception) -> str:
    """One readable line for a PyYAML error, pointing at where the mistake usually is."""
    problem = getattr(e, "problem", None)
    if not problem:
        text = " ".join(str(e).split())
        return text or type(e).__name__
    mark = getattr(e, "problem_mark", None)
    text = f"{problem} (column {mark.column + 1})" if mark is not None else problem
    context = getattr(e, "context", None)
    context_mark = getattr(e, "context_mark", None)
    if context and context_mark is not None:
        # The opening bracket or key is usually where the mistake is, not where the parser gave up.
        text += f", {context} that starts at line {context_mark.line + 1}, column {context_mark.column + 1}"
    elif context:
        text += f", {context}"
    if problem.startswith("mapping values are not allowed"):
        # Almost always a line indented deeper than its siblings, or an unquoted "key: value" inside a value.
        text += " (check this line's indentation against the line above, or quote a value that contains ': ')"
    if "'\\t'" in text:
        text += " (YAML does not allow tabs for indentation: use spaces)"
    return text


def _yaml_error(e: Exception, source: str | None) -> LoadError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    return LoadError(source, f"invalid YAML: {yaml_problem(e)}", line)


def iter_yaml(text: str, source: str | None, limits: Limits) -> Iterator[YamlDocument]:
    """Each non-empty document of a YAML stream, in order, with its node tree. Raises LoadError at
    the first problem; the documents before it have been yielded."""
    import yaml

    check_size(text, source, limits)
    check_characters(text, source)
    loader = _loader_class()(text)
    loader.limits, loader.source = limits, source
    count = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    return
                loader.aliases = 0
                node = loader.get_node()
            except yaml.YAMLError as e:
                raise _yaml_error(e, source) from None
            if node is None:
                continue
            count += 1
            line = node.start_mark.line + 1
            if count > limits.max_documents:
                raise LoadError(source, f"more than {limits.max_documents} documents", line)
            _measure(node, source, limits)
            try:
                value = loader.construct_document(node)
            except yaml.YAMLError as e:
                raise _yaml_error(e, source) from None
            except (ValueError, OverflowError) as e:
                # int() of 5,000 digits, a timestamp of month 13: input, not a bug
                raise LoadError(source, f"invalid value: {e}", line) from None
            except (TypeError, KeyError, AttributeError, IndexError) as e:
                # PyYAML's constructors fail this way on values that do not fit an explicit tag
                # ("!!timestamp ''", "!!bool maybe"): the text is at fault, not sgpctl.
                raise LoadError(source, f"invalid value for its type or tag ({type(e).__name__}: {e})", line) from None
            yield YamlDocument(node, value, line)
    finally:
        loader.dispose()


def load_yaml_all(text: str, source: str | None, limits: Limits) -> list[Any]:
    """The values of every non-empty document (``---`` with nothing after it is skipped, as kubectl does)."""
    return [doc.value for doc in iter_yaml(text, source, limits) if doc.value is not None]


def load_yaml(text: str, source: str | None, limits: Limits) -> Any:
    """The one document of ``text`` (None when empty); more than one is an error, as ``yaml.safe_load``."""
    # Room for a second document, so that one is reported as what it is.
    docs = iter_yaml(text, source, replace(limits, max_documents=max(limits.max_documents, 2)))
    first = next(docs, None)
    second = next(docs, None)
    if second is not None:
        raise LoadError(source, "expected a single YAML document, found another one", second.line)
    return None if first is None else first.value


# -- JSON ----------------------------------------------------------------------------------------------

_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _json_depth(text: str, source: str | None, limits: Limits) -> None:
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > limits.max_depth:
                line, column = _position(text, m.start())
                raise LoadError(source, f"nesting is deeper than the limit of {limits.max_depth} levels", line, column)
        elif token in "]}":
            depth -= 1


def load_json(text: str, source: str | None, limits: Limits) -> Any:
    import json

    check_size(text, source, limits)
    _json_depth(text, source, limits)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise LoadError(source, f"invalid JSON: {e.msg}", e.lineno, e.colno) from None
    except (ValueError, RecursionError) as e:  # e.g. an integer beyond Python's digit limit
        raise LoadError(source, f"invalid JSON: {e}") from None
