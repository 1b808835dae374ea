"""A Kube adapter from kubeconfig text held in memory (what TKE's DescribeClusterKubeconfig returns),
never written to disk.

The kubernetes client's own loader writes ``*-data`` certificates and keys to temporary files, and
urllib3 loads a client certificate from a file path at every new connection. Here the TLS context
is built once instead: the CA from memory (``cadata``), the client certificate and key through
anonymous in-memory files (Linux ``memfd``: nothing reaches a disk). Where ``memfd`` is missing the
pair goes to a private temporary directory only for the instant ``load_cert_chain`` reads it, and is
removed at once. The adapter's pool manager uses that context; the bearer token, if any, is set as
the client's own loader would.
"""

from __future__ import annotations

import base64
import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator

from sgpctl.errors import InputError
from sgpctl.kube.client import Kube

_WHAT = "the kubeconfig from DescribeClusterKubeconfig"


def kube_from_kubeconfig_text(text: str, *, context: str | None = None, **kw) -> Kube:
    """``Kube`` for the context (default: the current one) of a kubeconfig held in memory."""
    from kubernetes.client import ApiClient, Configuration

    from sgpctl.core.loading import CONFIG_LIMITS, LoadError, load_yaml

    try:
        doc = load_yaml(text, _WHAT, CONFIG_LIMITS)
    except LoadError as e:
        raise InputError(f"cannot read {e.message}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{_WHAT} is not a kubeconfig")
    name = context or doc.get("current-context")
    ctx = _entry(doc, "contexts", name, "context")
    cluster = _entry(doc, "clusters", ctx.get("cluster"), "cluster")
    user = _entry(doc, "users", ctx.get("user"), "user") if ctx.get("user") else {}
    server = cluster.get("server")
    if not isinstance(server, str) or not server:
        raise InputError(f"{_WHAT}: cluster {ctx.get('cluster')!r} has no server")

    configuration = type.__call__(Configuration)
    configuration.host = server
    configuration.retries = 1
    token = user.get("token")
    if token:
        configuration.api_key = {"authorization": f"Bearer {token}"}
    api = ApiClient(configuration=configuration)
    if server.startswith("https://"):
        tls = _tls_context(cluster, user)
        import urllib3

        api.rest_client.pool_manager = urllib3.PoolManager(ssl_context=tls, retries=1,
                                                           cert_reqs=tls.verify_mode, num_pools=4)
    return Kube(api, server=server, context=name, **kw)


def _entry(doc: dict, section: str, name: object, body: str) -> dict:
    for item in doc.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get(body), dict):
            return item[body]
    raise InputError(f"{_WHAT} has no {body} {name!r}")


def _data(entry: dict, key: str) -> bytes | None:
    value = entry.get(f"{key}-data")
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=False)
    except (ValueError, TypeError):
        raise InputError(f"{_WHAT}: {key}-data is not base64") from None


def _tls_context(cluster: dict, user: dict) -> ssl.SSLContext:
    ca = _data(cluster, "certificate-authority")
    if cluster.get("insecure-skip-tls-verify"):
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    else:
        tls = ssl.create_default_context(cadata=ca.decode("ascii", "replace") if ca else None)
    cert, key = _data(user, "client-certificate"), _data(user, "client-key")
    if cert and key:
        with _in_memory(cert) as cert_path, _in_memory(key) as key_path:
            tls.load_cert_chain(cert_path, key_path)
    return tls


@contextlib.contextmanager
def _in_memory(content: bytes) -> Iterator[str]:
    """A path ``load_cert_chain`` can read ``content`` from, for the duration of the block."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("sgpctl-kube", getattr(os, "MFD_CLOEXEC", 0))
        try:
            os.write(fd, content)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="sgpctl-") as directory:  # 0700, removed on exit
        path = os.path.join(directory, "pem")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(content)
        yield path
