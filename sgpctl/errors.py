"""One exit-code enum and the error types that carry one.

Every layer raises these (or lets the CLI's single mapping in ``sgpctl.cli.app``
translate SDK and client exceptions into them); nothing else decides an exit code.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    #: a check failed, a verification mismatched, or an operation was refused or failed
    FAILED = 1
    #: usage or input error: bad flag, bad YAML, bad selector, bad id
    USAGE = 2
    #: could not determine: API unreachable, authentication or permission failure
    UNDETERMINED = 3
    INTERRUPTED = 130


class SgpctlError(Exception):
    """An error with a one-line message, an optional hint and an exit code."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, hint: str | None = None, *, exit_code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class InputError(SgpctlError):
    """Bad input (flag, file, selector, id). Nothing was changed."""

    exit_code = ExitCode.USAGE


class RefusedError(SgpctlError):
    """An operation was refused (a precondition failed) or failed."""

    exit_code = ExitCode.FAILED


class UndeterminedError(SgpctlError):
    """Could not determine: unreachable, auth or permission failure."""

    exit_code = ExitCode.UNDETERMINED


class CloudError(SgpctlError):
    """A Tencent Cloud API error, with the API's code and request id."""

    #: error codes (or prefixes) meaning "we could not find out": auth, permission, network
    UNDETERMINED_PREFIXES = (
        "AuthFailure",
        "UnauthorizedOperation",
        "OperationDenied",
        "ClientNetworkError",
        "ServerNetworkError",
        "RequestLimitExceeded",
        "LimitExceeded.ActionLimited",
        "InternalError",
        "RetryDeadlineExceeded",
    )

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str | None = None,
        *,
        action: str | None = None,
        hint: str | None = None,
    ):
        self.code = code or "Unknown"
        self.api_message = message
        self.request_id = request_id
        self.action = action
        where = f"{action}: " if action else ""
        rid = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{where}{self.code}: {message}{rid}", hint)
        if any(self.code == p or self.code.startswith(p + ".") for p in self.UNDETERMINED_PREFIXES):
            self.exit_code = ExitCode.UNDETERMINED
        else:
            self.exit_code = ExitCode.FAILED


class KubeError(SgpctlError):
    """A Kubernetes API error, with the HTTP status and the Status reason."""

    def __init__(self, status: int | None, reason: str, message: str, *, hint: str | None = None):
        self.status = status
        self.reason = reason
        self.api_message = message
        code = f"HTTP {status} {reason}" if status else reason
        super().__init__(f"Kubernetes API: {code}: {message}", hint)
        if status is None or status in (401, 403) or status >= 500:
            self.exit_code = ExitCode.UNDETERMINED
        elif status == 404:
            self.exit_code = ExitCode.FAILED
        else:
            self.exit_code = ExitCode.FAILED
