"""The one place that turns exceptions into a one-line message, a hint and an exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgpctl.errors import ExitCode, KubeError, SgpctlError, UndeterminedError

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def translate(exc: BaseException) -> SgpctlError | None:
    """Map exceptions of libraries we use (without importing them) to sgpctl errors."""
    if isinstance(exc, SgpctlError):
        return exc
    mod = type(exc).__module__ or ""
    name = type(exc).__name__
    if mod.startswith("tencentcloud") and name == "TencentCloudSDKException":
        from sgpctl.errors import CloudError

        return CloudError(getattr(exc, "code", None) or "Unknown", str(getattr(exc, "message", exc)), getattr(exc, "requestId", None))
    if mod.startswith("kubernetes") and name == "ApiException":
        return KubeError(getattr(exc, "status", None), getattr(exc, "reason", "") or "", str(getattr(exc, "body", "") or exc)[:300])
    # Before ConnectionError, of which it is a kind: `sgpctl ... | head` is not a network failure.
    if isinstance(exc, BrokenPipeError):
        return SgpctlError("output pipe closed", exit_code=ExitCode.OK)
    if mod.startswith(("urllib3", "requests")) or isinstance(exc, (ConnectionError, TimeoutError)):
        return UndeterminedError(f"cannot reach the server: {exc}", hint="check the endpoint, kubeconfig and network/proxy settings")
    return None


def report(exc: SgpctlError, debug: bool, original: BaseException | None, out: Terminal) -> int:
    if debug and original is not None:
        out.traceback(original)
    if exc.exit_code == ExitCode.OK:
        return 0
    out.error(exc.message, exc.hint)
    return int(exc.exit_code)


def report_unexpected(exc: BaseException, debug: bool, out: Terminal) -> int:
    if debug:
        out.traceback(exc)
    out.error(f"unexpected {type(exc).__name__}: {exc}", "rerun with --debug for the traceback, and report it if it persists")
    return int(ExitCode.FAILED)
