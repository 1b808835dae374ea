"""Waiting for the cloud to converge (add-on phases, CRDs being served), with a deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, TypeVar

T = TypeVar("T")


@dataclass
class Waiter:
    """Injectable clock, sleep and progress reporting: tests run at full speed."""

    timeout: float = 300.0
    interval: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    progress: Callable[[str], None] = lambda message: None

    def until(self, probe: Callable[[], tuple[bool, T]], what: str) -> tuple[bool, T]:
        """Call ``probe`` until it returns (True, value) or the timeout passes; returns the last
        (done, value). ``probe`` may raise to stop waiting (e.g. an add-on that failed)."""
        deadline = self.clock() + self.timeout
        interval = min(self.interval, 0.2)
        while True:
            done, value = probe()
            if done:
                return True, value
            if self.clock() >= deadline:
                return False, value
            self.progress(f"waiting for {what}")
            self.sleep(interval)
            # Start fast (sandboxes and quick add-ons), then back off to the configured interval.
            interval = min(interval * 2, self.interval)
