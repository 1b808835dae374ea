"""SecurityGroupPolicy documents: the model, strict validation of files, and building from flags.

The schema is the one in TKE's document (``vpcresources.tke.cloud.tencent.com/v1beta1``): a namespaced
object whose ``spec`` holds ``podSelector`` and/or ``serviceAccountSelector`` (LabelSelector objects)
and ``securityGroups.groupIds``. Validation reports every problem in every document, with the field
path and, when the text came from YAML, the line, because a multi-document file is validated whole
before anything is written.

Pure: YAML is imported lazily inside :func:`parse_documents` only.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core.selectors import (
    FieldError,
    Selector,
    SelectorError,
    as_label_selector,
    from_label_selector,
    parse,
    type_name,
    unknown_field_message,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_label_selector,
    validate_labels,
)

__all__ = [
    "API_VERSION",
    "KIND",
    "GROUP_ID_RE",
    "Document",
    "Problem",
    "SecurityGroupPolicy",
    "ValidationResult",
    "build_policy",
    "load_policies",
    "parse_documents",
    "validate_documents",
]

API_VERSION = "vpcresources.tke.cloud.tencent.com/v1beta1"
KIND = "SecurityGroupPolicy"
#: a Tencent Cloud security group id: "sg-" and 8 lowercase letters or digits (\Z: no trailing newline)
GROUP_ID_RE = re.compile(r"\Asg-[0-9a-z]{8}\Z")
GROUP_ID_EXPECTED = "expected sg- followed by 8 lowercase letters or digits, e.g. sg-1a2b3c4d"

_AWS_API_VERSION_PREFIX = "vpcresources.k8s.aws/"
_LIST_KINDS = ("List", KIND + "List")
_TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
_SPEC_FIELDS = ("podSelector", "serviceAccountSelector", "securityGroups")
_SECURITY_GROUPS_FIELDS = ("groupIds",)
# ObjectMeta's fields: known so that a typo such as "namepsace" is caught instead of silently
# landing the policy in the default namespace.
_METADATA_FIELDS = (
    "name",
    "namespace",
    "labels",
    "annotations",
    "generateName",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "finalizers",
    "managedFields",
    "selfLink",
)


@dataclass(frozen=True)
class SecurityGroupPolicy:
    """A validated policy. A selector of None is an unset selector (nil), not an empty one.

    ``namespace`` is None when the document did not say; callers default it the way kubectl does
    (the context's namespace, else ``default``) with :meth:`with_namespace`.
    """

    name: str
    namespace: str | None
    pod_selector: Selector | None
    service_account_selector: Selector | None
    group_ids: tuple[str, ...]
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    creation_timestamp: str | None = None

    @property
    def namespace_missing(self) -> bool:
        return self.namespace is None

    def with_namespace(self, namespace: str) -> "SecurityGroupPolicy":
        """This policy in ``namespace`` if the document named none; unchanged otherwise."""
        if self.namespace is not None:
            return self
        return dataclasses.replace(self, namespace=namespace)

    @classmethod
    def from_object(cls, obj: Mapping) -> "SecurityGroupPolicy":
        """From an object the API server already accepted. Lenient: no schema checks. A selector
        that cannot be converted selects nothing, as the controller treats it."""
        metadata = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        groups = (spec.get("securityGroups") or {}).get("groupIds") or ()
        return cls(
            name=str(metadata.get("name") or ""),
            namespace=metadata.get("namespace"),
            pod_selector=_lenient_selector(spec.get("podSelector")),
            service_account_selector=_lenient_selector(spec.get("serviceAccountSelector")),
            group_ids=tuple(str(g) for g in groups) if isinstance(groups, (list, tuple)) else (),
            raw=dict(obj),
            creation_timestamp=_timestamp(metadata.get("creationTimestamp")),
        )

    def to_object(self) -> dict:
        """The seed-shaped document: apiVersion, kind, metadata{name, namespace}, spec."""
        metadata: dict[str, Any] = {"name": self.name}
        if self.namespace is not None:
            metadata["namespace"] = self.namespace
        spec: dict[str, Any] = {}
        if self.pod_selector is not None:
            spec["podSelector"] = as_label_selector(self.pod_selector)
        if self.service_account_selector is not None:
            spec["serviceAccountSelector"] = as_label_selector(self.service_account_selector)
        spec["securityGroups"] = {"groupIds": list(self.group_ids)}
        return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}


def _lenient_selector(obj: Any) -> Selector | None:
    if obj is None:
        return None
    try:
        return from_label_selector(obj)
    except SelectorError:
        return from_label_selector(None)


def _timestamp(value: Any) -> str | None:
    if value is None:
        return None
    # The kubernetes client hands back datetimes; the raw API and YAML hand back strings.
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


@dataclass
class Problem:
    """One problem in one document. ``doc_index`` is 0-based; it is shown 1-based ("document 2")."""

    doc_index: int
    doc_name: str | None
    path: str
    message: str
    source: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.source:
            where = f"{self.source}:{self.line}: " if self.line else f"{self.source}: "
        elif self.line:
            where = f"line {self.line}: "
        if self.doc_index >= 0:
            where += f"document {self.doc_index + 1}"
            if self.doc_name:
                where += f" '{self.doc_name}'"
            where += ": "
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"

    def to_dict(self) -> dict:
        """camelCase keys for -o json."""
        return {
            "source": self.source,
            "line": self.line,
            "document": self.doc_index + 1 if self.doc_index >= 0 else None,
            "name": self.doc_name,
            "path": self.path,
            "message": self.message,
        }


@dataclass
class Document:
    """One non-empty YAML document. ``lines`` maps field paths to 1-based line numbers."""

    index: int
    obj: Any
    line: int | None = None
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ValidationResult:
    policies: list[SecurityGroupPolicy]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


# --------------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------------


def parse_documents(text: str, source: str | None) -> list[Document]:
    """Split a YAML stream into documents, skipping empty ones (``---`` with nothing after it) like
    kubectl. A syntax error becomes a Document carrying a Problem with the error's line; documents
    before it are kept, nothing after it can be read. Duplicate keys, which YAML silently resolves to
    the last one, are reported as problems because kubectl rejects them."""
    import yaml  # lazily: core never imports yaml at module level

    docs: list[Document] = []
    # The loader safe_load_all uses, driven by hand to keep each document's node tree for line numbers.
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            index = len(docs)
            lines: dict[str, int] = {}
            duplicates: list[tuple[str, int, int]] = []
            _walk(node, "", lines, duplicates, set())
            obj = loader.construct_document(node)
            if obj is None:
                continue  # a document of only comments or "~": kubectl skips it too
            doc = Document(index=index, obj=obj, line=node.start_mark.line + 1, lines=lines)
            name = _doc_name(obj)
            for path, line, first in duplicates:
                doc.problems.append(
                    Problem(index, name, path, f"duplicate key (first set at line {first}); remove one of them", source, line)
                )
            docs.append(doc)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        docs.append(Document(index=len(docs), obj=None, line=line, problems=[
            Problem(len(docs), None, "", f"invalid YAML: {_yaml_error_text(e)}", source, line)
        ]))
    finally:
        loader.dispose()
    return docs


def _yaml_error_text(e: Exception) -> str:
    problem = getattr(e, "problem", None)
    if not problem:
        text = str(e)
        return text.splitlines()[0] if text else type(e).__name__
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


def _walk(node: Any, path: str, lines: dict[str, int], duplicates: list, stack: set) -> None:
    """Record the line of every field path under ``node`` (both ``a.b`` and ``a[b]`` spellings,
    since label maps are reported as ``matchLabels[key]``) and collect duplicate mapping keys."""
    import yaml

    if id(node) in stack:  # an alias can make a node its own descendant
        return
    stack.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            child = f"{path}.{key}" if path else key
            if key in seen and key != "<<":
                duplicates.append((child, line, seen[key]))
            seen.setdefault(key, line)
            lines.setdefault(child, line)
            lines.setdefault(f"{path}[{key}]", line)
            _walk(value_node, child, lines, duplicates, stack)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{path}[{i}]"
            lines.setdefault(child, item.start_mark.line + 1)
            _walk(item, child, lines, duplicates, stack)
    stack.discard(id(node))


def _line_for(lines: Mapping[str, int], path: str, default: int | None) -> int | None:
    """The line of ``path`` or of its nearest ancestor that the document spells out."""
    while path:
        if path in lines:
            return lines[path]
        if path.endswith("]") and "[" in path:
            path = path[: path.rindex("[")]
        elif "." in path:
            path = path[: path.rindex(".")]
        else:
            break
    return default


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def load_policies(text: str, source: str) -> ValidationResult:
    """Parse and validate a whole file. A file without any document is a problem: there is nothing to apply."""
    docs = parse_documents(text, source)
    if not docs:
        return ValidationResult([], [Problem(-1, None, "", "no documents found (the file is empty)", source, None)])
    return validate_documents(docs, source)


def validate_documents(docs: list[Any], source: str | None = None) -> ValidationResult:
    """Validate every document (raw objects or :class:`Document`) and report every problem."""
    policies: list[SecurityGroupPolicy] = []
    problems: list[Problem] = []
    first_seen: dict[tuple[str | None, str], int] = {}
    position = 0
    for doc in docs:
        if not isinstance(doc, Document):
            if doc is None:
                continue  # an empty document, as parse_documents would have skipped it
            doc = Document(index=position, obj=doc)
        position = doc.index + 1
        problems.extend(doc.problems)
        if doc.obj is None:
            continue
        objects, list_errors = _expand_lists(doc.obj)
        for err in list_errors:
            problems.append(Problem(doc.index, None, err.path, err.message, source, _line_for(doc.lines, err.path, doc.line)))
        for prefix, obj in objects:
            errors = _validate_object(obj, prefix)
            name = _doc_name(obj)
            if not errors and isinstance(obj, Mapping):
                policy = _to_policy(obj)
                key = (policy.namespace, policy.name)
                if key in first_seen:
                    errors.append(FieldError(
                        prefix + "metadata.name",
                        f"policy '{policy.name}' is defined twice (also in document {first_seen[key] + 1}); "
                        "the second would overwrite the first",
                    ))
                else:
                    first_seen[key] = doc.index
                    policies.append(policy)
            for err in errors:
                line = _line_for(doc.lines, err.path, doc.line)
                problems.append(Problem(doc.index, name, err.path, err.message, source, line))
    # Within a document, report in reading order; the sort is stable, so unlocated problems keep theirs.
    problems.sort(key=lambda p: (p.doc_index, p.line if p.line is not None else 0))
    return ValidationResult(policies, problems)


def _expand_lists(obj: Any) -> tuple[list[tuple[str, Any]], list[FieldError]]:
    """``kind: List`` (kubectl get -o yaml) holds policies in ``items``; anything else is one object."""
    if isinstance(obj, Mapping) and obj.get("kind") in _LIST_KINDS and "items" in obj:
        items = obj.get("items")
        if items is None:
            return [], []
        if not isinstance(items, list):
            return [], [FieldError("items", f"must be a list of {KIND} objects, got {type_name(items)}")]
        return [(f"items[{i}].", item) for i, item in enumerate(items)], []
    return [("", obj)], []


def _doc_name(obj: Any) -> str | None:
    if isinstance(obj, Mapping):
        metadata = obj.get("metadata")
        if isinstance(metadata, Mapping) and isinstance(metadata.get("name"), str):
            return metadata["name"] or None
    return None


def _show(value: Any) -> str:
    """A value quoted for a message: strings in single quotes (as users write ids), others as YAML would."""
    if isinstance(value, str):
        text = "'" + value + "'"
    else:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = repr(value)
    # A whole mis-shaped document can land here: keep the message one readable line.
    return text if len(text) <= 80 else text[:77] + "..."


def _unknown_fields(obj: Mapping, known: tuple[str, ...], path: str) -> list[FieldError]:
    return [
        FieldError(f"{path}.{name}" if path else str(name), unknown_field_message(name, known))
        for name in obj
        if name not in known
    ]


def _validate_object(obj: Any, prefix: str) -> list[FieldError]:
    if not isinstance(obj, Mapping):
        where = prefix.rstrip(".")
        return [FieldError(where, f"expected a {KIND} object (a YAML mapping), got {type_name(obj)} {_show(obj)}")]
    errs: list[FieldError] = []
    p = prefix

    kind = obj.get("kind")
    if kind is None:
        errs.append(FieldError(p + "kind", f"is required (expected {KIND})"))
    elif kind != KIND:
        if isinstance(kind, str) and kind.lower() == KIND.lower():
            errs.append(FieldError(p + "kind", f"{_show(kind)} is not {KIND}; did you mean {KIND}? (kind is case-sensitive)"))
        else:
            # Another kind entirely (say, the Deployment from the same tutorial): its fields are not
            # ours to judge, so stop here rather than bury the one real problem in noise.
            errs.append(FieldError(p + "kind", f"{_show(kind)} is not {KIND}: only {KIND} documents can be validated here"))
            return errs

    api_version = obj.get("apiVersion")
    if api_version is None:
        errs.append(FieldError(p + "apiVersion", f"is required (expected {API_VERSION})"))
    elif api_version != API_VERSION:
        hint = ""
        if isinstance(api_version, str) and api_version.startswith(_AWS_API_VERSION_PREFIX):
            hint = "; that is the AWS EKS API group, TKE's is vpcresources.tke.cloud.tencent.com"
        errs.append(FieldError(p + "apiVersion", f"{_show(api_version)} is not supported (expected {API_VERSION}){hint}"))

    errs.extend(_unknown_fields(obj, _TOP_FIELDS, prefix.rstrip(".")))
    errs.extend(_validate_metadata(obj.get("metadata"), p + "metadata", "metadata" in obj))
    errs.extend(_validate_spec(obj.get("spec"), p + "spec", "spec" in obj))
    return errs


def _validate_metadata(metadata: Any, path: str, present: bool) -> list[FieldError]:
    if metadata is None:
        return [FieldError(path + ".name", "is required (metadata is missing)" if not present else "is required")]
    if not isinstance(metadata, Mapping):
        return [FieldError(path, f"must be a mapping with name and namespace, got {type_name(metadata)}")]
    errs = _unknown_fields(metadata, _METADATA_FIELDS, path)

    name = metadata.get("name")
    if name is None or name == "":
        errs.append(FieldError(path + ".name", "is required"))
    elif not isinstance(name, str):
        errs.append(FieldError(path + ".name", f"must be a string, got {type_name(name)} {_show(name)}"))
    elif msgs := validate_dns1123_subdomain(name):
        errs.append(FieldError(path + ".name", f"{_show(name)} is not a valid name: {'; '.join(msgs)}"))

    namespace = metadata.get("namespace")
    if namespace is not None:
        if not isinstance(namespace, str):
            errs.append(FieldError(path + ".namespace", f"must be a string, got {type_name(namespace)} {_show(namespace)}"))
        elif namespace == "":
            errs.append(FieldError(path + ".namespace", "must not be empty (leave it out to use the current namespace)"))
        elif msgs := validate_dns1123_label(namespace):
            errs.append(FieldError(path + ".namespace", f"{_show(namespace)} is not a valid namespace name: {'; '.join(msgs)}"))

    errs.extend(validate_labels(metadata.get("labels"), path + ".labels"))
    return errs


def _validate_spec(spec: Any, path: str, present: bool) -> list[FieldError]:
    if spec is None:
        return [FieldError(path, "is required (podSelector and/or serviceAccountSelector, and securityGroups.groupIds)")]
    if not isinstance(spec, Mapping):
        return [FieldError(path, f"must be a mapping, got {type_name(spec)}")]
    errs = _unknown_fields(spec, _SPEC_FIELDS, path)

    pod = spec.get("podSelector")
    sa = spec.get("serviceAccountSelector")
    if pod is None and sa is None:
        nulls = [name for name in ("podSelector", "serviceAccountSelector") if name in spec]
        hint = ""
        if nulls:
            hint = f" ({path}.{nulls[0]} is null, which selects nothing; write {{}} to select every Pod in the namespace)"
        errs.append(FieldError(path, f"needs podSelector and/or serviceAccountSelector: a policy with neither selects no Pods{hint}"))
    errs.extend(validate_label_selector(pod, path + ".podSelector"))
    errs.extend(validate_label_selector(sa, path + ".serviceAccountSelector"))
    errs.extend(_validate_security_groups(spec.get("securityGroups"), path + ".securityGroups"))
    return errs


def _validate_security_groups(groups: Any, path: str) -> list[FieldError]:
    ids_path = path + ".groupIds"
    if groups is None:
        return [FieldError(ids_path, "is required (a list of security group ids such as sg-1a2b3c4d)")]
    if not isinstance(groups, Mapping):
        return [FieldError(path, f"must be a mapping with groupIds, got {type_name(groups)}")]
    errs = _unknown_fields(groups, _SECURITY_GROUPS_FIELDS, path)
    ids = groups.get("groupIds")
    if ids is None:
        errs.append(FieldError(ids_path, "is required (a list of security group ids such as sg-1a2b3c4d)"))
        return errs
    if not isinstance(ids, (list, tuple)):
        example = ids if isinstance(ids, str) else "sg-1a2b3c4d"
        errs.append(FieldError(ids_path, f"must be a list of security group ids, got {type_name(ids)} {_show(ids)} (write it as a YAML list: [{example}])"))
        return errs
    if not ids:
        errs.append(FieldError(ids_path, "must list at least one security group id"))
    first_at: dict[str, int] = {}
    for i, gid in enumerate(ids):
        item = f"{ids_path}[{i}]"
        if not isinstance(gid, str):
            errs.append(FieldError(item, f"must be a string, got {type_name(gid)} {_show(gid)}"))
            continue
        if not GROUP_ID_RE.match(gid):
            hint = "; ids are lowercase" if GROUP_ID_RE.match(gid.lower()) else ""
            errs.append(FieldError(item, f"{_show(gid)} is not a security group id ({GROUP_ID_EXPECTED}){hint}"))
        elif gid in first_at:
            errs.append(FieldError(item, f"{_show(gid)} is listed twice (first at groupIds[{first_at[gid]}])"))
        else:
            first_at[gid] = i
    return errs


def _to_policy(obj: Mapping) -> SecurityGroupPolicy:
    metadata = obj["metadata"]
    spec = obj["spec"]
    pod = spec.get("podSelector")
    sa = spec.get("serviceAccountSelector")
    return SecurityGroupPolicy(
        name=metadata["name"],
        namespace=metadata.get("namespace"),
        pod_selector=None if pod is None else from_label_selector(pod, "spec.podSelector"),
        service_account_selector=None if sa is None else from_label_selector(sa, "spec.serviceAccountSelector"),
        group_ids=tuple(spec["securityGroups"]["groupIds"]),
        raw=dict(obj),
        creation_timestamp=_timestamp(metadata.get("creationTimestamp")),
    )


# --------------------------------------------------------------------------------------------------
# Building from flags
# --------------------------------------------------------------------------------------------------


def build_policy(
    name: str,
    namespace: str | None,
    pod_selector: str | None,
    sa_selector: str | None,
    group_ids: list[str] | tuple[str, ...],
) -> dict:
    """A seed-shaped policy from kubectl-style selector strings (``""`` selects every Pod). Equality
    goes to matchLabels, everything else to matchExpressions; ``!=`` becomes NotIn. ``>``/``<`` cannot
    be expressed and raise SelectorError. Not validated: pass the result to :func:`validate_documents`."""
    spec: dict[str, Any] = {}
    for field_name, text in (("podSelector", pod_selector), ("serviceAccountSelector", sa_selector)):
        if text is None:
            continue
        try:
            spec[field_name] = as_label_selector(parse(text))
        except SelectorError as e:
            raise SelectorError(e.message, f"spec.{field_name}") from None
    spec["securityGroups"] = {"groupIds": list(group_ids)}
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}
