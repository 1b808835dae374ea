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


#: What a Tencent Cloud API error code says about the failure; ``CloudError.category`` holds one.
#: The codes come from the SDK's ``errorcodes`` modules (tke, cam, vpc, cvm) and the common error list.
PERMISSION = "permission"  # the credentials may not call the action: AuthFailure.UnauthorizedOperation,
                           # UnauthorizedOperation[.*], *.CamNoAuth (TKE puts it under InternalError and FailedOperation)
AUTH = "auth"  # the credentials or the signature are not accepted: the other AuthFailure.* codes
THROTTLED = "throttled"  # rejected before it ran: RequestLimitExceeded[.*], VPC LimitExceeded.ActionLimited
TRANSPORT = "transport"  # no API answer: ClientNetworkError (refused, timed out, reset, TLS)
TRANSIENT = "transient"  # the server failed: ServerNetworkError (HTTP 5xx), a bare InternalError
SERVER = "server"  # InternalError.<sub-code> not classified below: a server-side failure that is not
                   # known to pass (TKE's list mixes database errors with permanent refusals)
RESPONSE = "response"  # the answer was not a Tencent Cloud API response (a proxy, a broken fake)
PARAMETER = "parameter"  # InvalidParameter[Value][.*], MissingParameter, UnknownParameter, TKE InternalError.Param
                         # and FailedOperation.Param
STATE = "state"  # the resource is not in a state that allows it: *.ClusterState, ResourceInUse, *.InvalidState, ...
QUOTA = "quota"  # a limit is reached: LimitExceeded[.*] (but ActionLimited), *QuotaMax*
NOT_FOUND = "not-found"  # ResourceNotFound[.*], *NotFound, *NotExist
CLUSTER_NOT_FOUND = "cluster-not-found"  # any *ClusterNotFound (InvalidParameter., ResourceNotFound., FailedOperation., InternalError.)
DENIED = "denied"  # OperationDenied[.*]: refused for a reason of the account or resource
OTHER = "other"

#: categories that mean "could not determine" (exit 3); the rest are definite answers (exit 1)
UNDETERMINED_CATEGORIES = frozenset({PERMISSION, AUTH, THROTTLED, TRANSPORT, TRANSIENT, SERVER, RESPONSE, DENIED})

_RESPONSE_CODES = frozenset({"InvalidResponse", "JSONDecodeError", "KeyError", "TypeError", "ValueError"})
_STATE_SUFFIXES = ("ClusterState", "ClusterInAbnormalStat", "InvalidState", "TaskAlreadyRunning", "MutexTaskRunning",
                   "MutexOperationTaskRunning")


def cloud_error_category(code: str | None) -> str:
    """The category of a Tencent Cloud API error code (see the constants above); the order of the
    tests matters: ``InternalError.CamNoAuth`` is a permission error, ``InvalidParameter.ClusterNotFound``
    a missing cluster, ``LimitExceeded.ActionLimited`` throttling."""
    code = code or ""
    head = code.split(".", 1)[0]
    last = code.rsplit(".", 1)[-1]
    if head == "RequestLimitExceeded" or code == "LimitExceeded.ActionLimited":
        return THROTTLED
    if code == "ClientNetworkError":
        return TRANSPORT
    if code in ("ServerNetworkError", "InternalError"):
        return TRANSIENT
    if code in _RESPONSE_CODES:
        return RESPONSE
    if last == "CamNoAuth" or code == "AuthFailure.UnauthorizedOperation" or head == "UnauthorizedOperation":
        return PERMISSION
    if head == "AuthFailure" or code == "InvalidCredential":
        return AUTH
    if last.endswith("ClusterNotFound"):
        return CLUSTER_NOT_FOUND
    if code == "ResourceNotFound" or head == "ResourceNotFound" or last.endswith(("NotFound", "NotExist", "NotExists")):
        return NOT_FOUND
    if head in ("InvalidParameter", "InvalidParameterValue", "MissingParameter", "UnknownParameter") \
            or last == "Param":
        return PARAMETER
    if last.endswith(_STATE_SUFFIXES) or head == "ResourceInUse":
        return STATE
    if "QuotaMax" in code or head == "LimitExceeded":
        return QUOTA
    if head == "InternalError":
        return SERVER
    if head == "OperationDenied":
        return DENIED
    return OTHER


class CloudError(SgpctlError):
    """A Tencent Cloud API error, with the API's code and request id.

    ``category`` classifies the code (``cloud_error_category``); the exit code follows from it:
    3 (could not determine) for permission, authentication, throttling, transport, server and
    response failures, 1 for definite answers (a bad parameter, a state, a quota, a missing
    resource or cluster). A caller that knows the parameter came from the user's input makes it 2
    (``sgpctl.cloud.errors.blame_input``)."""

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
        self.category = cloud_error_category(self.code)
        self.exit_code = ExitCode.UNDETERMINED if self.category in UNDETERMINED_CATEGORIES else ExitCode.FAILED


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
