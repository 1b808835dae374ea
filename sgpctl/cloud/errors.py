"""Every SDK failure becomes a ``sgpctl.errors.CloudError`` here, with a hint for the codes users meet.

``to_cloud_error(exc, service=, action=, endpoint=, region=)`` maps a ``TencentCloudSDKException`` (or
anything with ``.code``/``.message``/``.requestId``) without importing the SDK. ``CloudError`` classifies
the code (``CloudError.category``, see ``sgpctl.errors.cloud_error_category``) and takes its exit code
from that; this module adds the hint:

==========================  =====  ==========================================================
category (codes)            exit   hint
==========================  =====  ==========================================================
permission (``*.CamNoAuth``,  3    the CAM action needed, ``service:Action`` (``tke:DescribeClusters``)
``UnauthorizedOperation*``,
``AuthFailure.Unauthorized
Operation``)
auth (``AuthFailure.*``)      3    the credentials, the clock, or the session token
cluster-not-found             1    ``--cluster-id``/``SGPCTL_CLUSTER_ID`` and ``--region``
parameter, state, quota       1    none: the code and message say what the API refused
throttled                     3    wait and run again (after the retries ran out)
transport, transient          3    the endpoint and the network (after the retries ran out)
==========================  =====  ==========================================================

Which of these are retried is ``sgpctl.cloud.retry``'s business: only throttling, HTTP 5xx, a bare
``InternalError`` and transport errors.

``OutcomeUnknownError`` (a ``CloudError``) is raised for a *mutating* call that failed in a way that
does not tell whether it took effect (the connection dropped after the request was sent, HTTP 5xx,
an ``InternalError``). The retry policy never repeats such a call blindly: the caller re-reads the
state (e.g. looks the policy or security group up by name, or the add-on's phase and values) and only
then decides to call again (``sgpctl.workflows.safely``).
"""

from __future__ import annotations

from sgpctl.errors import (
    CLUSTER_NOT_FOUND,
    NOT_FOUND,
    PARAMETER,
    PERMISSION,
    RESPONSE,
    THROTTLED,
    CloudError,
    ExitCode,
    cloud_error_category,
)


def is_throttle(code: str | None) -> bool:
    """Throttled, hence not executed: safe to retry for every action."""
    return cloud_error_category(code) == THROTTLED


def is_not_found(code: str | None) -> bool:
    """``ResourceNotFound``, ``ResourceNotFound.*``, ``*.NotFound``, ``*NotExist``-style codes (a
    missing cluster included)."""
    return cloud_error_category(code) in (NOT_FOUND, CLUSTER_NOT_FOUND)


def is_cluster_not_found(code: str | None) -> bool:
    return cloud_error_category(code) == CLUSTER_NOT_FOUND


def is_permission(code: str | None) -> bool:
    return cloud_error_category(code) == PERMISSION


_CREDENTIAL_HINT = "check TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY or the tccli profile (--profile)"


class OutcomeUnknownError(CloudError):
    """A mutating call failed after it may have reached the server: it may or may not have been applied."""


def decode_message(message: object) -> str:
    """``ServerNetworkError`` carries the raw HTTP body (bytes); keep messages one short line."""
    if isinstance(message, (bytes, bytearray)):
        message = bytes(message).decode("utf-8", errors="replace")
    text = " ".join(str(message if message is not None else "").split())
    return text if len(text) <= 300 else text[:297] + "..."


def cam_action(service: str, action: str | None) -> str:
    """The CAM action a call needs: CAM names API actions ``<service>:<Action>`` (``tke:DescribeClusters``)."""
    return f"{service}:{action or '<action>'}"


def hint_for(code: str, *, service: str, action: str | None, endpoint: str | None, region: str | None) -> str | None:
    where = endpoint or f"the {service} API"
    if code in ("AuthFailure.SecretIdNotFound", "AuthFailure.SignatureFailure", "AuthFailure.InvalidSecretId",
                "AuthFailure.InvalidAuthorization", "AuthFailure.MFAFailure", "InvalidCredential"):
        return _CREDENTIAL_HINT
    if code == "AuthFailure.SignatureExpire":
        return "the request timestamp was rejected: the machine clock is off; sync it (e.g. with NTP) and retry"
    if code == "AuthFailure.TokenFailure":
        return "the session token is invalid or expired: refresh TENCENTCLOUD_SESSION_TOKEN or the tccli profile's token"
    if is_permission(code):
        return f"the credentials lack permission for {cam_action(service, action)}; grant it in CAM"
    if code == "ClientNetworkError":
        return f"cannot reach {where}; check --endpoint/SGPCTL_ENDPOINT and the network/proxy settings"
    if code == "ServerNetworkError":
        return f"{where} answered with an HTTP error; retry later, or check --endpoint/SGPCTL_ENDPOINT"
    if cloud_error_category(code) == RESPONSE:
        return (f"{where} did not answer like a Tencent Cloud API (a proxy, or a fake sending a Content-Type "
                "other than exactly application/json?); check --endpoint/SGPCTL_ENDPOINT")
    if is_throttle(code):
        return "the API is throttling requests; wait a little and run the command again"
    if is_cluster_not_found(code):
        return f"no such cluster in region {region or '(none)'}; check --cluster-id/SGPCTL_CLUSTER_ID and --region"
    if "Region" in code:
        return "check --region/TENCENTCLOUD_REGION (e.g. ap-guangzhou)"
    if code == "InvalidParameter.ActionNotExist":
        return "CAM does not know an action named in the policy document; check the action names"
    if code == "InvalidParameter.RoleNotExist":
        return "the CAM role does not exist in this account; create it (authorize TKE's service role in the console)"
    if is_not_found(code):
        return f"the resource does not exist (in region {region})" if region else "the resource does not exist"
    return None


_TRANSPORT_REASONS = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "host name not found"),
    ("nodename nor servname", "host name not found"),
    ("Temporary failure in name resolution", "host name not found"),
    ("timed out", "timed out"),
    ("CERTIFICATE_VERIFY_FAILED", "TLS certificate verification failed"),
    ("Connection reset", "connection reset"),
    ("RemoteDisconnected", "the server closed the connection without answering"),
    ("Connection aborted", "the server closed the connection without answering"),
)


def transport_reason(message: str) -> str:
    """urllib3's messages repeat pool and object reprs; keep the part a user can act on."""
    for needle, reason in _TRANSPORT_REASONS:
        if needle in message:
            return reason
    return message


def to_cloud_error(
    exc: BaseException,
    *,
    service: str,
    action: str | None,
    endpoint: str | None = None,
    region: str | None = None,
    cls: type[CloudError] = CloudError,
) -> CloudError:
    if isinstance(exc, CloudError):
        return exc
    code = str(getattr(exc, "code", None) or type(exc).__name__)
    message = decode_message(getattr(exc, "message", None) if hasattr(exc, "message") else str(exc))
    request_id = getattr(exc, "requestId", None) or getattr(exc, "request_id", None)
    err = cls(code, message or "(no message)", request_id, action=action,
              hint=hint_for(code, service=service, action=action, endpoint=endpoint, region=region))
    return tidy(err)


def tidy(err: CloudError) -> CloudError:
    """Shorten what is shown of a transport error; ``api_message`` keeps the raw text (the retry
    policy classifies on it)."""
    if err.code == "ClientNetworkError" and err.api_message:
        err.message = err.message.replace(err.api_message, transport_reason(err.api_message))
        err.args = (err.message,)
    return err


def as_outcome_unknown(err: CloudError) -> OutcomeUnknownError:
    out = OutcomeUnknownError(err.code, err.api_message, err.request_id, action=err.action,
                              hint="it may or may not have been applied: run the command again, it checks the current state first")
    out.exit_code = err.exit_code
    return out


def blame_input(err: CloudError, what: str) -> CloudError:
    """``err`` as the user's bad input (exit 2, naming ``what`` to fix) when the API refused a
    parameter; other errors unchanged. For callers that passed the user's value straight through."""
    if err.category != PARAMETER:
        return err
    out = CloudError(err.code, err.api_message, err.request_id, action=err.action, hint=f"check {what}")
    out.exit_code = ExitCode.USAGE
    return out


def gave_up(err: CloudError, attempts: int, elapsed: float) -> CloudError:
    """The error to raise when retries ran out: the last error's code and request id, exit 3."""
    reason = transport_reason(err.api_message) if err.code == "ClientNetworkError" else err.api_message
    out = CloudError(err.code, f"gave up after {attempts} attempt{'s' if attempts != 1 else ''} and {elapsed:.1f} s: {reason}",
              err.request_id, action=err.action, hint=err.hint)
    out.exit_code = ExitCode.UNDETERMINED
    return out
