"""An emulated TKE region on 127.0.0.1: a Tencent Cloud API endpoint (CAM, TKE, VPC, CVM), a
Kubernetes API endpoint, and simulated TKE controllers driven by ``sgpctl.core``.

The production code runs against it unchanged: point it at the sandbox with the environment that
``Sandbox.env()`` (or ``sgpctl sandbox env``) gives. The sandbox imports nothing of sgpctl but
``sgpctl.core`` (and ``sgpctl.errors``): it stands in for the cloud, not for the tool.

    from sgpctl.sandbox import Sandbox
    with Sandbox("default") as sb:
        ...

Requirements: the ``openssl`` command. The Kubernetes endpoint is HTTPS with a self-signed CA
that ``openssl`` makes (the standard library cannot); the kubeconfig trusts it. Without openssl
the endpoint falls back to plain http, where kubectl sends no bearer token, so kubectl cannot
authenticate (401 on every call; sgpctl and the Python client still work). The sandbox logs a
warning when that happens.

tccli: it only speaks https and verifies against certifi's CA bundle (the SDK's default; tccli has
no CA option). Start the sandbox with the cloud port on https as well (``Sandbox(cloud_tls=True)``;
http keeps working), append its certificate (``Sandbox.ca_file``, ``DIR/kube-apiserver.crt``,
also ``caFile`` in ``sandbox status -o json``) to the bundle of tccli's Python, preferably a venv
of its own since this trusts the CA for everything using that bundle::

    cat DIR/kube-apiserver.crt >> "$(python -c 'import certifi; print(certifi.where())')"
    eval "$(sgpctl sandbox env)"
    tccli vpc DescribeSecurityGroups --region ap-guangzhou --endpoint 127.0.0.1:PORT

(tccli is not installed where the sandbox is tested, so this path is documented, not exercised;
the official SDK over https with ``HttpProfile(certification=ca_file)`` is tested.)

A sandbox holds one cluster, or several (``Sandbox("fleet")``: three clusters in two regions,
each with its own Kubernetes API): ``sb.clusters`` lists them (``cluster_id``, ``region``,
``kube_url``, ``context``, ``kube``, ``controllers``, ``set_reachable(False)``), ``sb.cluster(id)``
finds one, and ``sb.cluster_id``/``sb.kube``/``sb.kube_url`` are the first's.

Modules: ``region`` (the Sandbox object), ``scenarios``, ``variants`` (other readings of unconfirmed
API facts: ``Sandbox("default", variants={"addon-merge": "shallow"})``), ``replay`` (a region built from a
file of ``sgpctl capture``: ``Sandbox(capture=document)``), ``controllers``, ``runner`` (state dir,
background process), ``cloud`` and ``kube`` (the two API servers), ``faults``, ``requestlog``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.sandbox.region import Sandbox

__all__ = ["Sandbox", "SCENARIOS"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must stay cheap (the CLI's sandbox commands import it).
    if name == "Sandbox":
        from sgpctl.sandbox.region import Sandbox

        return Sandbox
    if name == "SCENARIOS":
        from sgpctl.sandbox.scenarios import SCENARIOS

        return SCENARIOS
    raise AttributeError(name)
