"""Machine output: JSON and YAML documents, written as text, never through a terminal library
(which would wrap long lines and read ``[bracketed]`` text as markup); and the kubectl output forms
computed from a document (``-o name``, ``-o jsonpath=...``, ``-o custom-columns=...``).

``-o`` is parsed once, into an ``OutputSpec`` (``parse_output``): the form and its argument, checked
before the command runs (a bad template is exit 2 with nothing done).

JSON is indented down to the records: an object whose members are plain values, or lists and objects
of plain values (a check with its evidence, a step), is one line, and so is a list of plain values (a
Pod's groups); a list of objects takes one line per object. Every one-line record is encoded by the standard library's C
encoder: ``json.dumps(indent=...)`` falls back to the pure-Python encoder, which took most of
`verify pods -A -o json`'s time on 10,000 Pods."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring
from typing import Any

from sgpctl.errors import InputError, SgpctlError


class OutputFormat(str, enum.Enum):
    table = "table"
    wide = "wide"
    name = "name"
    json = "json"
    yaml = "yaml"
    jsonpath = "jsonpath"
    custom_columns = "custom-columns"
    junit = "junit"

    def __str__(self) -> str:  # a default of -o reads "table", not "OutputFormat.table"
        return self.value


#: how -o is shown in help and errors
FORMS = "table|wide|name|json|yaml|jsonpath=EXPR|custom-columns=SPEC|junit"
_WITH_ARGUMENT = (OutputFormat.jsonpath, OutputFormat.custom_columns)


class OutputSpec(str):
    """What ``-o`` asked for, as typed (``"jsonpath={.pods[*].name}"``), with ``form`` and ``arg``. It is
    a string, so ``output == OutputFormat.json`` still reads as before."""

    form: OutputFormat
    arg: str | None

    def __new__(cls, text: str) -> "OutputSpec":
        self = super().__new__(cls, text)
        head, sep, arg = str(text).partition("=")
        try:
            self.form = OutputFormat(head.lower())
        except ValueError:
            raise OutputError(f"-o {text!r} is not an output format", hint=f"use one of {FORMS}") from None
        if self.form in _WITH_ARGUMENT:
            if not sep or not arg:
                raise OutputError(f"-o {head} needs an argument: -o {head}=" + ("'{.items[*].name}'" if self.form is OutputFormat.jsonpath
                                                                             else "NAME:.name,GROUPS:.groupIds"),
                                  hint="see kubectl's JSONPath syntax: https://kubernetes.io/docs/reference/kubectl/jsonpath/")
        elif sep:
            raise OutputError(f"-o {head} takes no argument (got {text!r})", hint=f"use one of {FORMS}")
        self.arg = arg if sep else None
        # Checked now, before anything runs: a bad template must not cost a change.
        if self.form is OutputFormat.jsonpath:
            _template(self.arg)
        elif self.form is OutputFormat.custom_columns:
            _columns(self.arg)
        return self

    @property
    def human(self) -> bool:
        """Drawn for a person (``table``, ``wide``), not a machine."""
        return self.form in (OutputFormat.table, OutputFormat.wide)


def parse_output(value: "str | OutputSpec | OutputFormat") -> OutputSpec:
    if isinstance(value, OutputSpec):
        return value
    return OutputSpec(value.value if isinstance(value, OutputFormat) else str(value))


def OutputError(message: str, hint: str | None = None) -> InputError:
    """A bad -o: exit 2, before the command runs."""
    return InputError(message, hint=hint)


class OutputFailed(SgpctlError):
    """The template could not be applied to the result (an index out of range, a filter on a value that
    is not a list): exit 1, as kubectl. It is raised after the command's work is done, so the summary
    line still says what was done."""


def _template(text: str):
    from sgpctl.core.jsonpath import JsonPathError, parse

    try:
        return parse(text)
    except JsonPathError as e:
        raise OutputError(f"-o jsonpath={text}: {e.message}",
                          hint="see kubectl's JSONPath syntax: https://kubernetes.io/docs/reference/kubectl/jsonpath/") from None


def _columns(spec: str) -> list[tuple[str, object]]:
    """custom-columns=HEADER:PATH,...: kubectl's rules (the path may omit the braces and the dot)."""
    from sgpctl.core.jsonpath import JsonPathError, relaxed

    columns = []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep:
            raise OutputError(f"-o custom-columns: unexpected spec {part!r}, expected <header>:<json-path-expr>",
                              hint="e.g. -o custom-columns=NAME:.name,GROUPS:.groupIds")
        try:
            template = relaxed(path)
        except JsonPathError as e:
            raise OutputError(f"-o custom-columns: {part}: {e.message}", hint="e.g. -o custom-columns=NAME:.name") from None
        columns.append((header, _template(template) if template else None))
    return columns


# -- the forms computed from a document ------------------------------------------------------------

def plain(data: Any) -> Any:
    """``data`` as JSON values only (dicts, lists, strings, numbers, booleans, None)."""
    return json.loads(json.dumps(data, default=_default))


def items_of(data: Any, items: "str | Callable[[Any], list] | None" = None) -> list | None:
    """The objects a document lists (what -o name and custom-columns print one line each for): the
    ``items`` key or function a command gives; else a list document itself, a Kubernetes List's items,
    one Kubernetes object, or the document's first list of objects. None: the document lists nothing."""
    if callable(items):
        return items(data)
    if isinstance(data, dict) and items:
        return data.get(items) or []
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if isinstance(data.get("items"), list):
            return data["items"]
        if "kind" in data and isinstance(data.get("metadata"), dict):
            return [data]
        for value in data.values():
            if isinstance(value, list) and all(isinstance(v, dict) for v in value):
                return value
    return None


def name_of(item: Any, kind: str | None) -> str:
    """kubectl's -o name: ``kind[.group]/name`` for a Kubernetes object, else ``KIND/NAME`` from the
    item's name (or id) and the kind the command gives."""
    if isinstance(item, dict) and isinstance(item.get("metadata"), dict) and item.get("kind"):
        group = str(item.get("apiVersion") or "").rpartition("/")[0]
        return f"{str(item['kind']).lower()}{'.' + group if group else ''}/{item['metadata'].get('name')}"
    if isinstance(item, dict):
        name = next((item[k] for k in ("name", "id", "securityGroupId") if item.get(k)), None)
        if name is not None:
            return f"{kind}/{name}" if kind else str(name)
    raise InputError("-o name: these results have no names", hint="use -o json, or -o custom-columns=...")


def form_text(data: Any, spec: OutputSpec, *, items=None, kind: str | None = None, no_headers: bool = False) -> str:
    """The text of -o name, jsonpath or custom-columns for a document."""
    from sgpctl.core.jsonpath import JsonPathError, go_text

    doc = plain(data)
    if spec.form is OutputFormat.jsonpath:
        try:
            return _template(spec.arg).render(doc)
        except JsonPathError as e:
            raise OutputFailed(f"-o jsonpath={spec.arg}: {e.message}",
                               hint="-o json shows the document the template is applied to") from None
    listed = items_of(doc, items)
    if listed is None:
        raise InputError(f"-o {spec.form.value}: this command reports one document, not a list of objects",
                         hint="use -o json, -o yaml or -o jsonpath=...")
    if spec.form is OutputFormat.name:
        return "".join(name_of(item, kind) + "\n" for item in listed)
    columns = _columns(spec.arg)
    rows = []
    for item in listed:
        row = []
        for _, template in columns:
            try:
                found = [v for values in template.results(item) for v in values] if template else []
            except JsonPathError as e:
                raise OutputFailed(f"-o custom-columns={spec.arg}: {e.message}",
                                   hint="-o json shows the objects the columns are read from") from None
            row.append(",".join(go_text(v) for v in found) if found else "<none>")
        rows.append(row)
    return tabwriter(None if no_headers else [h for h, _ in columns], rows)


def tabwriter(headers: "list[str] | None", rows: list[list[str]]) -> str:
    """kubectl's tab writer: each cell padded to the widest of its column plus 3, at least 6; the last
    column not padded."""
    lines = ([headers] if headers is not None else []) + rows
    if not lines:
        return ""
    n = max(len(r) for r in lines)
    widths = [max(6, max(len(r[i]) for r in lines if i < len(r)) + 3) for i in range(n)]
    out = []
    for r in lines:
        out.append("".join(v if i == len(r) - 1 else v.ljust(widths[i]) for i, v in enumerate(r)))
    return "\n".join(out) + "\n"


def _default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


# One C encoder, made once: ``json.JSONEncoder.encode`` builds a new one on every call, which cost more
# than the encoding for the 90,000 small records of `verify pods -A -o json` on 10,000 Pods. No cycle
# check (``markers=None``): documents are trees.
_C_ENCODE = c_make_encoder(None, _default, encode_basestring, None, ": ", ", ", False, False, True) if c_make_encoder \
    else json.JSONEncoder(ensure_ascii=False, default=_default, separators=(", ", ": ")).iterencode
_LITERALS = {True: "true", False: "false", None: "null"}


def _one_line(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is bool or value is None:
        return _LITERALS[value]
    if kind is int:
        return int.__repr__(value)
    return "".join(_C_ENCODE(value, 0))


def _flat(value: dict | list | tuple) -> bool:
    for v in (value.values() if type(value) is dict else value):
        kind = type(v)
        if (kind is dict or kind is list or kind is tuple) and v:
            return False
    return True


def _is_record(value: dict | list | tuple) -> bool:
    """One line: a list of plain values, or an object whose members are plain values or such lists and
    objects. A list of objects always takes one line per object."""
    if type(value) is not dict:
        return _flat(value)
    for v in value.values():
        kind = type(v)
        if (kind is dict or kind is list or kind is tuple) and v:
            # _flat(v), inlined: this runs for every member of 10,000 Pods
            for w in (v.values() if kind is dict else v):
                inner = type(w)
                if (inner is dict or inner is list or inner is tuple) and w:
                    return False
    return True


_SCALARS = (str, int, float, bool, type(None))


def _write(value: Any, indent: str, parts: list[str], keys: dict[str, str]) -> None:
    kind = type(value)
    if kind is not dict and kind is not list and kind is not tuple:
        if hasattr(value, "to_dict"):
            _write(value.to_dict(), indent, parts, keys)
        else:
            parts.append(_one_line(value))
    elif not value or _is_record(value):
        parts.append(_one_line(value))
    else:
        _write_open(value, kind is dict, indent, parts, keys)


def _write_open(value: Any, is_dict: bool, indent: str, parts: list[str], keys: dict[str, str]) -> None:
    """A list or object that is not a record (one member per line), each member decided once."""
    inner = indent + "  "
    sep, following = "\n" + inner, ",\n" + inner
    append = parts.append
    append("{" if is_dict else "[")
    for key, item in (value.items() if is_dict else zip(value, value)):
        append(sep)
        sep = following
        if is_dict:
            # Keys repeat from record to record (10,000 Pods have the same ten): encode each once.
            encoded = keys.get(key)
            if encoded is None:
                encoded = keys[key] = encode_basestring(str(key)) + ": "
            append(encoded)
        kind = type(item)
        if kind is str:
            append(encode_basestring(item))
        elif kind is dict or kind is list or kind is tuple:
            if not item or _is_record(item):
                append("".join(_C_ENCODE(item, 0)))
            elif kind is not dict and _records_alike(item):
                _write_records(item, inner, parts)
            else:
                _write_open(item, kind is dict, inner, parts, keys)
        elif kind in _SCALARS:
            append(_one_line(item))
        else:
            _write(item, inner, parts, keys)
    append("\n" + indent + ("}" if is_dict else "]"))


def _records_alike(items: list | tuple) -> bool:
    """Objects that are each a record, all with the same first key (a Pod's checks)."""
    first = items[0]
    if type(first) is not dict or not first:
        return False
    key = next(iter(first))
    if type(key) is not str:
        return False
    for item in items:
        if type(item) is not dict or not item or next(iter(item)) != key or not _is_record(item):
            return False
    return True


def _write_records(items: list | tuple, indent: str, parts: list[str]) -> None:
    """A list of ``_records_alike``, one per line, encoded in one call of the C encoder: between two
    records it writes ``}, {"<first key>": ``, which nothing else in its output can hold (a quote
    inside a string is escaped; a record holds no list of objects), so that is where the lines
    break."""
    inner = indent + "  "
    opening = "{" + encode_basestring(next(iter(items[0]))) + ": "
    text = "".join(_C_ENCODE(items, 0))
    parts.append("[\n" + inner + text[1:-1].replace("}, " + opening, "},\n" + inner + opening) + "\n" + indent + "]")


def to_json(data: Any) -> str:
    parts: list[str] = []
    _write(data, "", parts, {})
    parts.append("\n")
    return "".join(parts)


def to_yaml(data: Any) -> str:
    import yaml  # lazy: start-up time

    # Round-trip through JSON so dataclass-ish values and tuples become plain YAML.
    plain = json.loads(json.dumps(data, default=_default))
    return yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, default_flow_style=False)


def serialize(data: Any, fmt: OutputFormat | str) -> str:
    """``data`` as a JSON or YAML document."""
    return to_yaml(data) if OutputFormat(fmt) is OutputFormat.yaml else to_json(data)
