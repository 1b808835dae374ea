"""Build a ``CloudSession`` from resolved ``sgpctl.settings.Settings`` (what ``App.cloud()`` calls).

Retry tuning comes from the settings' environment: ``sgpctl.settings.retry_settings``.
"""

from __future__ import annotations

import logging
from typing import Mapping

from sgpctl.cloud.retry import RetryPolicy
from sgpctl.cloud.session import CloudSession
from sgpctl.settings import retry_settings


def retry_policy_from_env(env: Mapping[str, str]) -> RetryPolicy:
    r = retry_settings(env)
    return RetryPolicy(max_attempts=r.max_attempts, base_delay=r.base_delay, max_delay=r.max_delay, deadline=r.deadline)


def session_from_settings(settings) -> CloudSession:
    env = settings.environ or {}
    return CloudSession(
        settings.credentials(),
        settings.region.value,
        settings.endpoint.value,
        retry=retry_policy_from_env(env),
        logger=logging.getLogger("sgpctl.cloud"),
        timeout=retry_settings(env).api_timeout,
    )
