"""sgpctl's own retry policy (the SDK's ``StandardRetryer`` never returns a success that follows a
failure: see the facts file).

What is retried, by the category of the failed attempt's code (``CloudError.category``):

=======================================  ======================  =============================
error                                    idempotent call (read)  mutating call
=======================================  ======================  =============================
throttled: ``RequestLimitExceeded``,     retry                   retry (throttled = the request
``.*``, ``LimitExceeded.ActionLimited``                          was rejected, not executed)
``ClientNetworkError`` before sending    retry, at most          retry, at most
(refused, DNS, connect timeout, proxy)   ``max_connect_attempts`` ``max_connect_attempts``
``ClientNetworkError`` after sending     retry                   ``OutcomeUnknownError``
(read timeout, connection reset or
dropped: the answer was lost)
``ServerNetworkError`` (HTTP non-200),   retry                   ``OutcomeUnknownError``
a bare ``InternalError``
``InternalError.<sub-code>`` that is     raise                   ``OutcomeUnknownError``
not classified as permanent (server)
permission, auth, parameter, state,      raise                   raise (a definite refusal:
quota, not found, TLS failures,                                  nothing was changed)
anything else
=======================================  ======================  =============================

TKE files permanent refusals under ``InternalError`` too (``InternalError.CamNoAuth``,
``.Param``, ``.ClusterState``, ``.QuotaMax*``, ``.ClusterNotFound``): those are permission,
parameter, state, quota and not-found errors, never retried. Other ``InternalError.*`` sub-codes are
not retried either (nothing says they pass), but a mutation that met one may have run.

A call is idempotent when its action reads (``Describe*``, ``List*``, ``Get*``, ``Check*``,
``Inquiry*``) or when the adapter says so (``UpdatePolicy`` with a full document: sending it twice
leaves the same state and starts nothing). ``CreatePolicy``, ``CreateSecurityGroup``,
``AttachRolePolicy``, ``InstallAddon``, ``UpdateAddon``... are never repeated after they may have
reached the server: repeating ``CreateSecurityGroup`` after a lost response would make a second group
of the same name, and a second ``UpdateAddon`` while the first rolls out may be refused or start
another rollout. Instead the caller gets ``OutcomeUnknownError`` and the workflow re-reads the state
before calling again.

Backoff is capped exponential with full jitter: before retry ``n`` (1-based) the policy sleeps
``random() * min(max_delay, base_delay * 2**(n-1))``. It gives up when ``max_attempts`` attempts were
made or when the next sleep would pass the overall ``deadline`` (seconds since the first attempt), and
raises a ``CloudError`` with the last error's code and request id, the message "gave up after N
attempts and T s: ...", and exit code 3. ``sleep``, ``clock`` and ``random`` are injectable, so tests
run in no time and can assert the delays.
"""

from __future__ import annotations

import logging
import random as _random
import time
from typing import Callable, TypeVar

from sgpctl.cloud.errors import as_outcome_unknown, gave_up
from sgpctl.errors import SERVER, THROTTLED, TRANSIENT, TRANSPORT, CloudError

T = TypeVar("T")

READ_PREFIXES = ("Describe", "List", "Get", "Check", "Inquiry")

RETRY = "retry"
RETRY_CONNECT = "retry-connect"
FAIL = "fail"
UNKNOWN = "unknown"

# requests/urllib3 wording for failures that happen before a byte of the request was sent
_NOT_SENT_MARKERS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Connection refused",
    "ConnectTimeout",
    "Name or service not known",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "No address associated with hostname",
    "getaddrinfo failed",
    "ProxyError",
    "Cannot connect to proxy",
)
_TLS_FAILURE_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "WRONG_VERSION_NUMBER")


def is_read_action(action: str) -> bool:
    return action.startswith(READ_PREFIXES)


def classify(err: CloudError, idempotent: bool) -> str:
    category = err.category
    message = err.api_message or ""
    if category == THROTTLED:
        return RETRY
    if category == TRANSPORT:
        if any(m in message for m in _TLS_FAILURE_MARKERS):
            return FAIL
        if any(m in message for m in _NOT_SENT_MARKERS):
            return RETRY_CONNECT
        return RETRY if idempotent else UNKNOWN
    if category == TRANSIENT:
        return RETRY if idempotent else UNKNOWN
    if category == SERVER and not idempotent:
        return UNKNOWN
    return FAIL


class RetryPolicy:
    def __init__(
        self,
        max_attempts: int = 10,
        base_delay: float = 0.2,
        max_delay: float = 5.0,
        deadline: float = 60.0,
        *,
        max_connect_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
    ):
        if max_attempts < 1 or max_connect_attempts < 1:
            raise ValueError("attempt limits must be at least 1")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.deadline = deadline
        self.max_connect_attempts = max_connect_attempts
        self.sleep = sleep
        self.clock = clock
        self.random = random

    def delay(self, retry_number: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**(retry_number-1)))."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        return self.random() * ceiling

    def run(
        self,
        attempt: Callable[[int], T],
        *,
        action: str,
        idempotent: bool,
        logger: logging.Logger | None = None,
    ) -> T:
        """Call ``attempt(n)`` (n = 1, 2, ...) until it returns, retrying ``CloudError``s as above."""
        log = logger or logging.getLogger("sgpctl.cloud")
        start = self.clock()
        connect_failures = 0
        n = 0
        while True:
            n += 1
            try:
                return attempt(n)
            except CloudError as err:
                kind = classify(err, idempotent)
                if kind == FAIL:
                    raise
                if kind == UNKNOWN:
                    raise as_outcome_unknown(err) from err
                if kind == RETRY_CONNECT:
                    connect_failures += 1
                elapsed = self.clock() - start
                wait = self.delay(n)
                out_of_attempts = n >= self.max_attempts or (
                    kind == RETRY_CONNECT and connect_failures >= self.max_connect_attempts
                )
                if out_of_attempts or elapsed + wait > self.deadline:
                    log.debug("%s: giving up after %d attempt(s), %.1f s: %s", action, n, elapsed, err.code)
                    raise gave_up(err, n, elapsed) from err
                log.debug("%s: attempt %d failed with %s (request id %s); retrying in %.2f s",
                          action, n, err.code, err.request_id, wait)
                self.sleep(wait)
