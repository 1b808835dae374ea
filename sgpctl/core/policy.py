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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core.loading import POLICY_LIMITS, Limits, LoadError, iter_yaml
from sgpctl.core.names import id_pattern, id_rule
from sgpctl.core.printable import printable
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
    "PolicyObjectError",
    "Problem",
    "SecurityGroupPolicy",
    "ValidationResult",
    "build_policy",
    "load_policies",
    "parse_documents",
    "validate_documents",
]

API_VERSION = "vpcresources.tke.cloud.tencent.com/v1beta1"
#: how kubectl names the kind in ``-o name`` (lowercase kind, then the API group)
NAME_KIND = "securitygrouppolicy.vpcresources.tke.cloud.tencent.com"
KIND = "SecurityGroupPolicy"
#: a Tencent Cloud security group id: "sg-" and 8 lowercase letters or digits
GROUP_ID_RE = id_pattern("sg")
GROUP_ID_EXPECTED = id_rule("sg")

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
    def from_object(cls, obj: Any) -> "SecurityGroupPolicy":
        """From an object the API server already accepted (or a snapshot holds). Lenient about what
        the controller is lenient about: a selector that cannot be converted selects nothing, as
        the controller treats it, and a missing spec or group list is empty.

        Anything else that is not the policy's shape raises :class:`PolicyObjectError` (a
        ValueError) naming the object and the field, e.g. ``spec.securityGroups: 5``; never another
        exception, whatever ``obj`` is. Callers that read a whole cluster skip such an object with a
        warning (its message is one line)."""
        if not isinstance(obj, Mapping):
            raise PolicyObjectError(None, "", f"expected a {KIND} object, got {type_name(obj)}")
        metadata = _mapping_field(obj, "metadata", None)
        name = metadata.get("name")
        namespace = metadata.get("namespace")
        label = _object_label(namespace, name)
        if name is not None and not isinstance(name, str):
            raise PolicyObjectError(label, "metadata.name", f"must be a string, got {type_name(name)}")
        if namespace is not None and not isinstance(namespace, str):
            raise PolicyObjectError(label, "metadata.namespace", f"must be a string, got {type_name(namespace)}")
        spec = _mapping_field(obj, "spec", label)
        groups = _mapping_field(spec, "securityGroups", label, "spec.")
        ids = groups.get("groupIds")
        if ids is None:
            ids = ()
        elif not isinstance(ids, (list, tuple)):
            raise PolicyObjectError(label, "spec.securityGroups.groupIds",
                                    f"must be a list of security group ids, got {type_name(ids)}")
        for i, gid in enumerate(ids):
            if not isinstance(gid, str):
                raise PolicyObjectError(label, f"spec.securityGroups.groupIds[{i}]", f"must be a string, got {type_name(gid)}")
        return cls(
            name=name or "",
            namespace=namespace,
            pod_selector=_lenient_selector(spec.get("podSelector")),
            service_account_selector=_lenient_selector(spec.get("serviceAccountSelector")),
            group_ids=tuple(ids),
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


class PolicyObjectError(ValueError):
    """A SecurityGroupPolicy object that sgpctl cannot interpret (raised by
    :meth:`SecurityGroupPolicy.from_object`). ``name`` is ``namespace/name`` (None when the object
    has none), ``field`` the path of the problem; the message is one line naming both."""

    def __init__(self, name: str | None, field: str, problem: str):
        self.name = name
        self.field = field
        self.problem = problem
        where = f"{KIND} {name}" if name else f"a {KIND} object"
        self.message = printable(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def _object_label(namespace: Any, name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    return f"{namespace}/{name}" if isinstance(namespace, str) and namespace else name


def _mapping_field(obj: Mapping, key: str, label: str | None, prefix: str = "") -> Mapping:
    """``obj[key]`` when it is a mapping, {} when it is absent or null; PolicyObjectError otherwise."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PolicyObjectError(label, prefix + key, f"must be a mapping, got {type_name(value)}")
    return value


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
        text = f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"
        # Keys and names are echoed from the file: a "\n" in one must not split the line.
        return printable(text)

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


def parse_documents(text: str, source: str | None, limits: Limits = POLICY_LIMITS) -> list[Document]:
    """Split a YAML stream into documents, skipping empty ones (``---`` with nothing after it) like
    kubectl. The text goes through the bounded loader (``sgpctl.core.loading``): a syntax error, a
    control character or a limit becomes a Document carrying a Problem with the line; documents
    before it are kept, nothing after it can be read. Duplicate keys, which YAML silently resolves to
    the last one, are reported as problems because kubectl rejects them."""
    docs: list[Document] = []
    try:
        for loaded in iter_yaml(text, source, limits):
            index = len(docs)
            lines: dict[str, int] = {}
            duplicates: list[tuple[str, int, int]] = []
            _walk(loaded.node, "", lines, duplicates, set())
            if loaded.value is None:
                continue  # a document of only comments or "~": kubectl skips it too
            doc = Document(index=index, obj=loaded.value, line=loaded.line, lines=lines)
            name = _doc_name(loaded.value)
            for path, line, first in duplicates:
                doc.problems.append(
                    Problem(index, name, path, f"duplicate key (first set at line {first}); remove one of them", source, line)
                )
            docs.append(doc)
    except LoadError as e:
        # A problem of the whole text (its size, a control character) belongs to no document.
        index = -1 if e.whole_text else len(docs)
        message = f"{e.problem} (column {e.column})" if e.column is not None else e.problem
        docs.append(Document(index=len(docs), obj=None, line=e.line, problems=[Problem(index, None, "", message, source, e.line)]))
    return docs


def _walk(node: Any, path: str, lines: dict[str, int], duplicates: list, visited: set) -> None:
    """Record the line of every field path under ``node`` (both ``a.b`` and ``a[b]`` spellings,
    since label maps are reported as ``matchLabels[key]``) and collect duplicate mapping keys.

    Each node is walked once: a node reached again through an alias is not descended into (its
    fields are reported at its anchor), so the cost is linear in the text, aliases or not. Depth is
    bounded by the loader."""
    import yaml

    if id(node) in visited:
        return
    visited.add(id(node))
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
            _walk(value_node, child, lines, duplicates, visited)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{path}[{i}]"
            lines.setdefault(child, item.start_mark.line + 1)
            _walk(item, child, lines, duplicates, visited)


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


def _mapping_section(value: Any, path: str, known: tuple[str, ...], missing: FieldError,
                     described: str) -> tuple[Mapping | None, list[FieldError]]:
    """A required mapping of ``known`` fields: (it, its unknown fields), or (None, its one problem:
    ``missing`` when it is absent, "must be <described>" when it is no mapping)."""
    if value is None:
        return None, [missing]
    if not isinstance(value, Mapping):
        return None, [FieldError(path, f"must be {described}, got {type_name(value)}")]
    return value, _unknown_fields(value, known, path)


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
    missing = FieldError(path + ".name", "is required (metadata is missing)" if not present else "is required")
    metadata, errs = _mapping_section(metadata, path, _METADATA_FIELDS, missing, "a mapping with name and namespace")
    if metadata is None:
        return errs

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
    missing = FieldError(path, "is required (podSelector and/or serviceAccountSelector, and securityGroups.groupIds)")
    spec, errs = _mapping_section(spec, path, _SPEC_FIELDS, missing, "a mapping")
    if spec is None:
        return errs

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
    missing = FieldError(ids_path, "is required (a list of security group ids such as sg-1a2b3c4d)")
    groups, errs = _mapping_section(groups, path, _SECURITY_GROUPS_FIELDS, missing, "a mapping with groupIds")
    if groups is None:
        return errs
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
