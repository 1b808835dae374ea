from __future__ import annotations

from sgpctl.kube.client import Kube
from sgpctl.settings import Settings


def kube_from_settings(settings: Settings, *, quick: bool = False) -> Kube:
    """The Kubernetes adapter for the settings; ``quick``: one attempt, 2 s per request (shell
    completion, which must answer fast or not at all)."""
    from sgpctl.settings import retry_settings

    if quick:
        return Kube.from_kubeconfig(settings.kubeconfig.value, settings.context.value, max_attempts=1, request_timeout=2)
    # One set of retry knobs (SGPCTL_RETRY_*) for both APIs.
    policy = retry_settings(settings.environ or {})
    return Kube.from_kubeconfig(settings.kubeconfig.value, settings.context.value,
                                max_attempts=min(policy.max_attempts, 10), max_delay=policy.max_delay)
