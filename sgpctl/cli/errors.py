"""The one place that turns exceptions into a one-line message, a hint and an exit code.

``translate(exc)`` maps every exception sgpctl expects (its own errors, the typed errors of its core
readers and validators, the SDK's, the kubernetes client's, transport errors) to an ``SgpctlError``;
``None`` means a bug in sgpctl, which ``report_unexpected`` reports as such (exit 1).

Whatever is printed here is one line per message, with line breaks folded and control characters
escaped, and with the credentials of any URL in it masked (``sgpctl.core.redact``).
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from sgpctl.errors import ExitCode, InputError, KubeError, RefusedError, SgpctlError, UndeterminedError

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.render.terminal import Terminal


def translate(exc: BaseException) -> SgpctlError | None:
    """Map exceptions of our readers and of libraries we use (without importing them) to sgpctl errors."""
    if isinstance(exc, SgpctlError):
        return exc
    core = _core_error(exc)
    if core is not None:
        return core
    mod = type(exc).__module__ or ""
    name = type(exc).__name__
    if mod.startswith("tencentcloud") and name == "TencentCloudSDKException":
        from sgpctl.errors import CloudError

        return CloudError(getattr(exc, "code", None) or "Unknown", str(getattr(exc, "message", exc)), getattr(exc, "requestId", None))
    if mod.startswith("kubernetes") and name == "ApiException":
        return KubeError(getattr(exc, "status", None), getattr(exc, "reason", "") or "", str(getattr(exc, "body", "") or exc)[:300])
    if mod.startswith("kubernetes") and name == "ConfigException":
        return InputError(f"cannot use the kubeconfig: {exc}", hint="pass --kubeconfig/--context or set KUBECONFIG")
    if mod.startswith("yaml"):
        # Every reader goes through core.loading; a YAML error that got past it is still bad input.
        return InputError(f"invalid YAML: {exc}")
    if isinstance(exc, UnicodeDecodeError):
        return InputError(f"input is not UTF-8 text: {exc}")
    if isinstance(exc, BrokenPipeError):
        return SgpctlError("output pipe closed", exit_code=ExitCode.OK)
    if mod.startswith(("urllib3", "requests")) or isinstance(exc, (ConnectionError, TimeoutError)):
        return UndeterminedError(f"cannot reach the server: {exc}", hint="check the endpoint, kubeconfig and network/proxy settings")
    return None


def _core_error(exc: BaseException) -> SgpctlError | None:
    # Core raises typed ValueErrors (it imports nothing from sgpctl.errors); only these are input
    # problems, any other ValueError is a bug.
    from sgpctl.core.loading import LoadError
    from sgpctl.core.names import InvalidNameError
    from sgpctl.core.policy import PolicyObjectError
    from sgpctl.core.selectors import SelectorError

    if isinstance(exc, (LoadError, InvalidNameError)):
        return InputError(exc.message, hint=exc.hint)
    if isinstance(exc, SelectorError):
        return InputError(str(exc), hint="use kubectl's selector syntax, e.g. app=web,tier in (a,b)")
    if isinstance(exc, PolicyObjectError):
        # The object is in the cluster: the API server accepted it, sgpctl cannot read it.
        return RefusedError(f"cannot read {exc.message}",
                            hint="fix or delete that object (kubectl edit/delete securitygrouppolicy ...)")
    return None


def clean(text: object) -> str:
    """A message as sgpctl prints it: one line, control characters escaped, URL credentials masked."""
    from sgpctl.core.printable import one_line
    from sgpctl.core.redact import redact_url_credentials

    return redact_url_credentials(one_line(str(text)))


def report(exc: SgpctlError, debug: bool = False, original: BaseException | None = None, out: Terminal | None = None) -> int:
    """One error line and its hint on ``out`` (the command's output facade; the process's stderr when
    there is no command yet); returns the exit code."""
    out = out or _process_terminal()
    if debug and original is not None:
        out.note(_traceback(original))
    if exc.exit_code == ExitCode.OK:
        return 0
    out.error(clean(exc.message), clean(exc.hint) if exc.hint else None)
    return int(exc.exit_code)


def report_unexpected(exc: BaseException, debug: bool = False, out: Terminal | None = None) -> int:
    out = out or _process_terminal()
    if debug:
        out.note(_traceback(exc))
    out.error(f"unexpected {type(exc).__name__}: {clean(exc)}", "rerun with --debug for the traceback, and report it if it persists")
    return int(ExitCode.FAILED)


def _process_terminal() -> Terminal:
    from sgpctl.environment import Environment
    from sgpctl.render.terminal import Terminal

    return Terminal(Environment.from_process())


def _traceback(exc: BaseException) -> str:
    from sgpctl.core.redact import redact_url_credentials

    return redact_url_credentials("".join(traceback.format_exception(exc)))


def install_log_redaction() -> None:
    """Every log record (ours, the SDK's, urllib3's) is formatted once and masked before any handler
    sees it: --debug output never shows the credentials of a URL."""
    import logging

    previous = logging.getLogRecordFactory()
    if getattr(previous, "_sgpctl_redacting", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's to report, not ours
            return record
        from sgpctl.core.redact import redact_url_credentials

        record.msg, record.args = redact_url_credentials(message), None
        return record

    factory._sgpctl_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
