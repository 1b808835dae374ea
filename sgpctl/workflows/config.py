"""`config view`: each resolved setting and where it came from, with what the kubeconfig adds (its
current context, the cluster id in its names, the API server). Secrets are masked by the settings."""

from __future__ import annotations

from sgpctl.settings import Settings


def config_view(settings: Settings) -> list[dict]:
    """Rows of ``{"name", "value", "source"}``."""
    from sgpctl.kube.kubeconfig import current_context_info

    rows = settings.describe()
    info = current_context_info(settings.kubeconfig.value, settings.context.value)
    for row in rows:
        if row["name"] == "context" and row["value"] is None and info.context:
            row.update(value=info.context, source=f"kubeconfig current-context ({info.path})")
        if row["name"] == "clusterId" and row["value"] is None and info.cluster_id:
            row.update(value=info.cluster_id, source=f"kubeconfig context {info.context}")
    rows.append({"name": "kubeServer", "value": info.server, "source": f"kubeconfig cluster {info.cluster}" if info.cluster else "not set"})
    if info.error:
        rows.append({"name": "kubeconfigError", "value": info.error, "source": info.path})
    return rows
