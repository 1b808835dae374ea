"""An emulated TKE region on 127.0.0.1: a Tencent Cloud API endpoint (CAM, TKE, VPC, CVM), a
Kubernetes API endpoint, and simulated TKE controllers driven by ``sgpctl.core``.

The production code runs against it unchanged: point it at the sandbox with the environment that
``Sandbox.env()`` (or ``sgpctl sandbox env``) gives. The sandbox imports nothing of sgpctl but
``sgpctl.core`` (and ``sgpctl.errors``): it stands in for the cloud, not for the tool.

    from sgpctl.sandbox import Sandbox
    with Sandbox("default") as sb:
        ...

Modules: ``region`` (the Sandbox object), ``scenarios``, ``controllers``, ``runner`` (state dir,
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
