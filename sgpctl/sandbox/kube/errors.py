"""The one error type of the emulated Kubernetes API: a ``metav1.Status`` waiting to be sent.

The store raises it, the HTTP layer serialises ``.status()`` unchanged, and in-process callers
(simulated controllers) catch it and look at ``.reason`` (``NotFound``, ``AlreadyExists``,
``Conflict``, ...) exactly as a client-go user looks at ``apierrors.IsNotFound``. Messages are
the real kube-apiserver's, so what kubectl prints against the sandbox is what it prints in a cluster.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                 *, retry_after: int | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.retry_after = retry_after

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def _details(group: str, resource: str, name: str | None) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    # apimachinery puts the *resource* (plural) in details.kind for these errors.
    d["kind"] = resource
    return d


def qualified(group: str, resource: str) -> str:
    """``pods``, ``deployments.apps``: how the real server names a resource in messages."""
    return f"{resource}.{group}" if group else resource


def not_found(group: str, resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(group, resource)} "{name}" not found',
                    _details(group, resource, name))


def already_exists(group: str, resource: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(group, resource)} "{name}" already exists',
                    _details(group, resource, name))


CONFLICT_MESSAGE = "the object has been modified; please apply your changes to the latest version and try again"


def conflict(group: str, resource: str, name: str, why: str = CONFLICT_MESSAGE) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {qualified(group, resource)} "{name}": {why}',
                    _details(group, resource, name))


def invalid(group: str, kind: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """422: ``causes`` are (field, message) pairs such as ("metadata.name", 'Invalid value: "X": ...')."""
    text = ", ".join(f"{f}: {m}" for f, m in causes)
    if len(causes) > 1:
        text = "[" + text + "]"
    details: dict[str, Any] = {"name": name, "kind": kind,
                               "causes": [{"reason": _cause_reason(m), "message": m, "field": f} for f, m in causes]}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{kind}{"." + group if group else ""} "{name}" is invalid: {text}', details)


def _cause_reason(message: str) -> str:
    if message.startswith("Required value"):
        return "FieldValueRequired"
    if message.startswith("Forbidden"):
        return "FieldValueForbidden"
    if message.startswith("Unsupported value"):
        return "FieldValueNotSupported"
    return "FieldValueInvalid"


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def not_emulated(what: str) -> ApiError:
    """A streaming subresource the sandbox cannot offer (no container process exists)."""
    return ApiError(405, "MethodNotAllowed",
                    f"{what} is not supported by the sgpctl sandbox: its containers are simulated and run no process",
                    {})


def unsupported_media_type(content_type: str, accepted: tuple[str, ...]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(accepted))


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def too_many_requests() -> ApiError:
    return ApiError(429, "TooManyRequests", "Too many requests, please try again later.",
                    {"retryAfterSeconds": 1}, retry_after=1)


def internal(message: str = "Internal error occurred: injected fault", code: int = 500) -> ApiError:
    reason = "ServiceUnavailable" if code == 503 else "InternalError"
    return ApiError(code, reason, message)


def no_route() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})
