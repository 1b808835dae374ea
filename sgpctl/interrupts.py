"""SIGINT and SIGTERM: one line and exit 130/143 at any moment, never a traceback.

``install()`` runs first thing in the entry point (before typer, rich or any SDK is imported). Until
``running()`` is called (the command starts), a signal ends the process at once: nothing has been
done yet. While a command runs, the first signal raises :class:`Interrupted` (a KeyboardInterrupt)
in the main thread, so ``finally`` blocks and context managers clean up; a second signal ends the
process at once. Either way the last line says what happened, and when a change may have reached an
API (a mutating request was sent) it says "may have been applied: rerun to converge": every mutating
command is idempotent, so running it again converges.

Adapters mark their mutating requests with ``with interrupts.mutation("PATCH .../deployments/web"):``.

Only the standard library is imported here: this module is loaded before everything else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

__all__ = ["Interrupted", "launched_as_cli", "install", "running", "stopped", "mutation", "signalled", "exit_code", "message", "finish"]

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by the first SIGINT or SIGTERM while a command runs."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _State:
    def __init__(self) -> None:
        self.installed = False
        self.running = False
        self.signum: int | None = None
        self.reported = False
        self.in_flight: list[str] = []
        self.sent = 0
        #: what was in flight when the signal came (the requests' own cleanup runs before the message)
        self.in_flight_at_signal: list[str] = []
        self.lock = threading.Lock()


_state = _State()


def launched_as_cli() -> bool:
    """True in the ``sgpctl``/``kubectl-sgp`` console script and ``python -m sgpctl``; False when sgpctl
    is imported by something else (tests, a library user), whose signals are not ours to take."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None) == "sgpctl.__main__":
        return True
    name = os.path.basename(getattr(main, "__file__", None) or "")
    return name.removesuffix(".exe") in ("sgpctl", "kubectl-sgp")


def install() -> None:
    """SIGINT/SIGTERM handlers for the CLI process (idempotent; main thread only)."""
    if _state.installed or threading.current_thread() is not threading.main_thread():
        return
    for signum in EXIT_CODES:
        # A signal the parent ignores stays ignored (nohup, background jobs), as Python itself does
        # for SIGINT.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _handle)
    _state.installed = True


def running() -> None:
    """From now on a signal interrupts the command (cleanup runs) instead of ending the process."""
    _state.running = True


def stopped() -> None:
    """The command has returned: from now on a signal ends the process at once with its line and
    exit code. Raising in the main thread now would land in the interpreter's shutdown (joining
    threads, flushing streams), where Python prints "Exception ignored" and a traceback."""
    _state.running = False


@contextlib.contextmanager
def mutation(what: str):
    """Marks a request that changes something while it is in flight (any thread)."""
    with _state.lock:
        _state.in_flight.append(what)
        _state.sent += 1
    try:
        yield
    finally:
        with _state.lock:
            try:
                _state.in_flight.remove(what)
            except ValueError:
                pass


def signalled() -> bool:
    return _state.signum is not None


def exit_code() -> int:
    return EXIT_CODES.get(_state.signum, 130)


def message() -> str:
    """The one line that says the command was interrupted, and whether a change may have been made."""
    word = "terminated" if _state.signum == signal.SIGTERM else "interrupted"
    with _state.lock:
        in_flight, sent = list(_state.in_flight_at_signal or _state.in_flight), _state.sent
    if in_flight:
        return f"{word} while a change was in flight ({in_flight[0]}): it may have been applied: rerun to converge"
    if sent:
        return f"{word} after {sent} change request(s) were sent: some may have been applied: rerun to converge"
    return word


def finish(stream=None) -> None:
    """Print the line (once) and end the process with 130/143, without waiting for worker threads."""
    _report(stream)
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:  # noqa: BLE001 - a closed pipe must not stop the exit
            pass
    os._exit(exit_code())


def report(stream=None) -> None:
    """Print the line once (for callers that exit through the normal path, e.g. tests' CliRunner)."""
    _report(stream)


def _report(stream=None) -> None:
    if _state.reported:
        return
    _state.reported = True
    stream = stream or sys.stderr
    try:
        stream.write(message() + "\n")
        stream.flush()
    except Exception:  # noqa: BLE001 - stderr may be gone; the exit code still tells
        pass


def _handle(signum, frame) -> None:
    first = _state.signum is None
    if first:
        _state.signum = signum
        _state.in_flight_at_signal = list(_state.in_flight)  # no lock: a handler must not block
    if not _state.running or not first:
        # Before the command starts there is nothing to clean up; a second signal means "now".
        _write_raw(message())
        os._exit(EXIT_CODES.get(_state.signum, 130))
    raise Interrupted(signum)


def _write_raw(text: str) -> None:
    # No Python-level I/O objects: they may be mid-write in the interrupted frame.
    _state.reported = True
    try:
        os.write(2, (text + "\n").encode("utf-8", "replace"))
    except OSError:
        pass
