"""Answers made once per key, even when several threads ask at once (``Once``): the one memo of
``DoctorContext`` (its reads, shared by the checks and the reads ahead) and of ``ClusterView``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

ABSENT, READING, DONE, FAILED = "absent", "reading", "done", "failed"


class Once:
    """``get(key, fn)``: ``fn()``'s answer for ``key``, made by the first thread that asks; a thread
    that asks while it is being made waits for that answer. A failure reaches those waiting; with
    ``keep_failures`` it is the key's answer from then on (raised to every later caller, as doctor's
    checks need: a read that failed is not made again), else the next call tries again.

    ``values`` holds the answers made: a plain dict, so that asking again for one costs one lookup
    (a view is asked ~10,000 times by `verify pods -A`), and a caller may fill it (a snapshot) or
    read it without making anything."""

    def __init__(self, *, keep_failures: bool):
        self.values: dict[Any, Any] = {}
        self._keep_failures = keep_failures
        self._failures: dict[Any, BaseException] = {}
        self._reading: dict[Any, Future] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, fn: Callable[[], Any]) -> Any:
        values = self.values
        if key in values:
            return values[key]
        with self._lock:
            if key in values:
                return values[key]
            failure = self._failures.get(key)
            if failure is not None:
                raise failure
            entry = self._reading.get(key)
            reading = entry is None
            if reading:
                entry = self._reading[key] = Future()
        if not reading:
            return entry.result()
        try:
            value = fn()
        except BaseException as exc:  # noqa: BLE001 - raised to this caller and to those waiting
            with self._lock:
                self._reading.pop(key, None)
                if self._keep_failures:
                    self._failures[key] = exc
            entry.set_exception(exc)
            raise
        with self._lock:
            values[key] = value
            self._reading.pop(key, None)
        entry.set_result(value)
        return value

    def state(self, key: Any) -> str:
        """``ABSENT`` (never asked, or a failure forgotten), ``READING``, ``DONE`` or ``FAILED`` (kept)."""
        with self._lock:
            if key in self.values:
                return DONE
            if key in self._failures:
                return FAILED
            return READING if key in self._reading else ABSENT

    def clear(self) -> None:
        """Forget every answer and kept failure (what is being made now is still handed to its waiters)."""
        with self._lock:
            self.values.clear()
            self._failures.clear()
