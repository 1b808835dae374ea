"""Build a ``CloudSession`` from resolved ``sgpctl.settings.Settings`` (what ``App.cloud()`` calls).

Retry tuning for test beds and slow links, read from the settings' environment (all optional):
``SGPCTL_RETRY_MAX_ATTEMPTS`` (default 10), ``SGPCTL_RETRY_BASE_DELAY`` (seconds, default 0.2),
``SGPCTL_RETRY_MAX_DELAY`` (default 5), ``SGPCTL_RETRY_DEADLINE`` (default 60), and
``SGPCTL_API_TIMEOUT`` (per-request timeout in seconds, default 30).
"""

from __future__ import annotations

import logging
from typing import Mapping

from sgpctl.cloud.retry import RetryPolicy
from sgpctl.cloud.session import CloudSession
from sgpctl.errors import InputError


def _number(env: Mapping[str, str], name: str, default: float, cast=float):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise InputError(f"{name}={raw!r} is not a number", hint=f"unset {name} or give it a number") from None
    if value < 0:
        raise InputError(f"{name}={raw!r} must not be negative", hint=f"unset {name} or give it a positive number")
    return value


def retry_policy_from_env(env: Mapping[str, str]) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max(1, _number(env, "SGPCTL_RETRY_MAX_ATTEMPTS", 10, int)),
        base_delay=_number(env, "SGPCTL_RETRY_BASE_DELAY", 0.2),
        max_delay=_number(env, "SGPCTL_RETRY_MAX_DELAY", 5.0),
        deadline=_number(env, "SGPCTL_RETRY_DEADLINE", 60.0),
    )


def session_from_settings(settings) -> CloudSession:
    env = settings.environ or {}
    return CloudSession(
        settings.credentials(),
        settings.region.value,
        settings.endpoint.value,
        retry=retry_policy_from_env(env),
        logger=logging.getLogger("sgpctl.cloud"),
        timeout=max(1, _number(env, "SGPCTL_API_TIMEOUT", 30, int)),
    )
