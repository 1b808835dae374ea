"""Helpers shared by tests (import as ``from tests.support import ...``)."""

from __future__ import annotations

import os


def clean_env(**extra: str) -> dict[str, str]:
    """An environment for a subprocess of the installed CLI: no proxies, no real credentials,
    no kubeconfig of the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for k in list(env):
        if k.startswith(("TENCENTCLOUD_", "TCCLI_", "SGPCTL_")) or k == "KUBECONFIG":
            env.pop(k)
    env.update(extra)
    return env
