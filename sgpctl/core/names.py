"""Validators for every name and id that sgpctl puts into a URL or an API call.

A name is checked against the rule the server itself applies, so a name sgpctl refuses is one the
server would never have accepted (nothing that exists becomes unreachable), and a name sgpctl lets
through cannot leave its path segment (``..``, ``/``, ``%``, ``?`` and ``#`` are outside every rule).

Kubernetes (``k8s.io/kubernetes/pkg/apis/core/validation``, ``apps``, ``networking``,
``apiextensions-apiserver``):

- Namespace: ``ValidateNamespaceName`` = DNS-1123 label
- Service: ``ValidateServiceName`` = DNS-1035 label
- Pod, Node, ServiceAccount, ConfigMap, Deployment, ReplicaSet, DaemonSet, StatefulSet, NetworkPolicy,
  CustomResourceDefinition, Lease, and every custom resource (SecurityGroupPolicy, VpcENI): DNS-1123 subdomain
- core/v1 Events, and kinds sgpctl does not know: only ``IsValidPathSegmentName`` (not ``.`` or ``..``,
  no ``/`` or ``%``); legacy Events are not name-checked by the API server beyond that.

Tencent Cloud ids by their documented formats: ``cls-``, ``sg-``, ``eni-``, ``ins-`` followed by 8
lowercase letters or digits; CAM policy names 1-128 of letters, digits and ``+=,.@_-``; a region is
``<area>-<city>[-<suffix>]`` (``ap-guangzhou``, ``ap-shanghai-fsi``, ``na-siliconvalley``).

Every validator returns the value unchanged or raises :class:`InvalidNameError`, whose message names
the field and the rule in one line (kubectl's wording for the Kubernetes rules).
"""

from __future__ import annotations

import re

from sgpctl.core.printable import quoted
from sgpctl.core.selectors import _regex_error, validate_dns1123_label, validate_dns1123_subdomain

__all__ = [
    "InvalidNameError",
    "dns1123_label",
    "dns1123_subdomain",
    "dns1035_label",
    "path_segment",
    "namespace",
    "object_name",
    "name_rule",
    "id_pattern",
    "id_rule",
    "cluster_id",
    "security_group_id",
    "eni_id",
    "instance_id",
    "cam_policy_name",
    "region",
    "profile_name",
    "plain_text",
]


class InvalidNameError(ValueError):
    """A name, namespace or id that fails its rule. ``field`` says where it came from
    (``-n/--namespace``, ``NAME``, ``metadata.name``); ``rule`` is what it must look like."""

    def __init__(self, field: str, value: object, rule: str, hint: str | None = None):
        self.field = field
        self.value = value
        self.rule = rule
        self.hint = hint
        self.message = f"{field} {quoted(value)} is invalid: {rule}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def _check(value: object, field: str, messages_of, hint: str | None = None) -> str:
    if not isinstance(value, str):
        raise InvalidNameError(field, value, f"must be a string, got {type(value).__name__}", hint)
    if value == "":
        raise InvalidNameError(field, value, "must not be empty", hint)
    messages = messages_of(value)
    if messages:
        raise InvalidNameError(field, value, "; ".join(messages), hint)
    return value


# -- Kubernetes ------------------------------------------------------------------------------------

_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_RE = re.compile(_DNS1035_LABEL_FMT)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)


def _dns1035_messages(value: str) -> list[str]:
    errs = []
    if len(value.encode("utf-8", "surrogatepass")) > 63:
        errs.append("must be no more than 63 bytes")
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def _path_segment_messages(value: str) -> list[str]:
    # apimachinery's IsValidPathSegmentName, plus what no API server accepts in a name either:
    # characters that are not printable (NUL, newlines, escapes).
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    errs = [f"may not contain '{c}'" for c in ("/", "%") if c in value]
    if not value.isprintable():
        errs.append("may not contain control or other non-printable characters")
    return errs


def dns1123_label(value: object, field: str) -> str:
    return _check(value, field, validate_dns1123_label)


def dns1123_subdomain(value: object, field: str) -> str:
    return _check(value, field, validate_dns1123_subdomain)


def dns1035_label(value: object, field: str) -> str:
    return _check(value, field, _dns1035_messages)


def path_segment(value: object, field: str) -> str:
    return _check(value, field, _path_segment_messages)


def namespace(value: object, field: str = "namespace") -> str:
    return dns1123_label(value, field)


# (group, kind) of the built-in kinds whose rule is not a DNS-1123 subdomain
_LABEL_KINDS = {("", "Namespace")}
_DNS1035_KINDS = {("", "Service")}
_PATH_SEGMENT_KINDS = {("", "Event")}
# built-in kinds known to use a DNS-1123 subdomain; custom resources (any other group) use it too
_SUBDOMAIN_KINDS = {
    ("", "Pod"), ("", "Node"), ("", "ServiceAccount"), ("", "ConfigMap"), ("", "Secret"),
    ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "DaemonSet"), ("apps", "StatefulSet"),
    ("networking.k8s.io", "NetworkPolicy"), ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("coordination.k8s.io", "Lease"),
}
# API groups of Kubernetes itself: a kind of theirs not listed above gets the lenient rule
_BUILTIN_GROUPS = re.compile(r"(|apps|batch|policy|autoscaling|[a-z0-9.-]*\.k8s\.io)")


def name_rule(group: str, kind: str):
    """The validator for ``metadata.name`` of ``kind`` in ``group`` (``""`` is the core group)."""
    key = (group, kind)
    if key in _LABEL_KINDS:
        return dns1123_label
    if key in _DNS1035_KINDS:
        return dns1035_label
    if key in _SUBDOMAIN_KINDS or not _BUILTIN_GROUPS.fullmatch(group):
        return dns1123_subdomain
    return path_segment


def object_name(group: str, kind: str, value: object, field: str | None = None) -> str:
    """``value`` if it is a valid name for ``kind``; InvalidNameError naming ``field`` otherwise."""
    return name_rule(group, kind)(value, field or f"{kind} name")


# -- Tencent Cloud ---------------------------------------------------------------------------------

def id_pattern(prefix: str) -> re.Pattern:
    """``<prefix>-`` and 8 lowercase letters or digits, anchored at both ends (no trailing newline)."""
    return re.compile(rf"\A{prefix}-[0-9a-z]{{8}}\Z")


def id_rule(prefix: str) -> str:
    return f"expected {prefix}- followed by 8 lowercase letters or digits, e.g. {prefix}-1a2b3c4d"


def _id_validator(prefix: str):
    pattern, rule = id_pattern(prefix), id_rule(prefix)

    def check(value: object, field: str) -> str:
        def messages(text: str) -> list[str]:
            if pattern.match(text):
                return []
            lowered = "; ids are lowercase" if pattern.match(text.lower()) else ""
            return [rule + lowered]

        return _check(value, field, messages)

    check.__name__ = f"{prefix}_id"
    return check


cluster_id = _id_validator("cls")
security_group_id = _id_validator("sg")
eni_id = _id_validator("eni")
instance_id = _id_validator("ins")

_CAM_POLICY_NAME_RE = re.compile(r"[A-Za-z0-9+=,.@_-]{1,128}")
_REGION_RE = re.compile(r"[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*")


def cam_policy_name(value: object, field: str) -> str:
    return _check(value, field, lambda v: [] if _CAM_POLICY_NAME_RE.fullmatch(v) else [
        "a CAM policy name must be 1 to 128 characters of letters, digits and +=,.@_-"])


def region(value: object, field: str) -> str:
    return _check(value, field, lambda v: [] if _REGION_RE.fullmatch(v) else [
        "a Tencent Cloud region looks like ap-guangzhou, ap-shanghai-fsi or na-siliconvalley"])


def profile_name(value: object, field: str) -> str:
    """A tccli profile names the files ~/.tccli/<profile>.credential and .configure: it must stay a
    file name (tccli itself does not restrict it further, so neither does sgpctl)."""
    def messages(text: str) -> list[str]:
        if text in (".", "..") or "/" in text or "\\" in text:
            return ["a profile name is part of a file name: no '/' or '\\', and not '.' or '..'"]
        if not text.isprintable():
            return ["may not contain control or other non-printable characters"]
        return []

    return _check(value, field, messages)


def plain_text(value: object, field: str) -> str:
    """For names whose format is not documented (CAM roles, add-on names): only what no plausible
    rule allows is refused, an empty value or a character that is not printable."""
    return _check(value, field, lambda v: [] if v.isprintable() else [
        "may not contain control or other non-printable characters"])
