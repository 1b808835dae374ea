"""`config view`: each resolved setting and where it came from (``settings.resolve_settings``, the one
resolver every command uses: what is shown here is what they use), with the kubeconfig's API server.
Secrets are masked by the settings."""

from __future__ import annotations

from sgpctl.settings import Settings


def config_view(settings: Settings) -> list[dict]:
    """Rows of ``{"name", "value", "source"}``."""
    from sgpctl.kube.kubeconfig import current_context_info

    rows = settings.describe()  # the context and cluster id as every command resolves them
    info = current_context_info(settings.kubeconfig.value, settings.context.value)
    rows.append({"name": "kubeServer", "value": info.server, "source": f"kubeconfig cluster {info.cluster}" if info.cluster else "not set"})
    if info.error:
        rows.append({"name": "kubeconfigError", "value": info.error, "source": info.path})
    return rows
