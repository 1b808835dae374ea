"""Kubeconfig documents for the sandbox's API servers: the one ``sandbox up`` writes (a bearer
token, one context per cluster) and the one TKE's DescribeClusterKubeconfig returns (an x509
client certificate, TKE's names: cluster ``cls-xxxxxxxx``, user ``<uin>``, context
``cls-xxxxxxxx-<uin>-context-default``, keys in the order client-go writes them).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Access:
    """One context: a cluster (server and the CA to trust), a user and its credentials."""

    cluster: str
    server: str
    user: str
    context: str
    #: kubeconfig ``user`` fields, e.g. {"token": ...} or client-certificate-data/client-key-data
    credentials: dict = field(default_factory=dict)
    ca_pem: bytes | str | None = None
    namespace: str | None = None


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def client_certificate_credentials(cert_pem: bytes | str, key_pem: bytes | str) -> dict:
    return {"client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}


def document(entries: list[Access], current: str) -> dict[str, Any]:
    clusters, users, contexts = [], [], []
    for e in entries:
        cluster: dict[str, Any] = {"server": e.server}
        if e.server.startswith("https://"):
            if e.ca_pem:
                cluster["certificate-authority-data"] = _b64(e.ca_pem)
            else:
                cluster["insecure-skip-tls-verify"] = True
        context: dict[str, Any] = {"cluster": e.cluster, "user": e.user}
        if e.namespace:
            context["namespace"] = e.namespace
        clusters.append({"cluster": cluster, "name": e.cluster})
        users.append({"name": e.user, "user": dict(e.credentials)})
        contexts.append({"context": context, "name": e.context})
    return {"apiVersion": "v1", "clusters": clusters, "contexts": contexts, "current-context": current,
            "kind": "Config", "preferences": {}, "users": users}


def render(entries: list[Access], current: str) -> str:
    import yaml

    return yaml.safe_dump(document(entries, current), sort_keys=True, default_flow_style=False)


def write(path: str | os.PathLike, entries: list[Access], current: str) -> None:
    """Write the kubeconfig with mode 0600 (it holds credentials), atomically."""
    from sgpctl.sandbox.runner import write_private
    from pathlib import Path

    write_private(Path(path), render(entries, current))
