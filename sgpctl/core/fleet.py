"""The pure half of running one command over a fleet of clusters: which kube context reaches a
cluster, and the one exit code of many.

A context reaches a cluster when its server is one of the addresses DescribeClusterEndpoints
reports for it (intranet or external endpoint, the cluster's domain or its intranet/external
domain): compared as host and port, a missing port being https' 443, hosts without case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from sgpctl.errors import ExitCode

#: which of two exit codes is worse: a definite failure, then bad input, then "could not determine"
_RANK = {ExitCode.OK: 0, ExitCode.UNDETERMINED: 1, ExitCode.USAGE: 2, ExitCode.FAILED: 3}


def worst_exit_code(codes: Iterable[int]) -> ExitCode:
    """The exit code of a fleet: 1 if any cluster failed, else 2, else 3 if any could not be
    determined (unreachable, no permission, no answer in time), else 0."""
    worst = ExitCode.OK
    for code in codes:
        code = ExitCode(code) if code in _RANK else ExitCode.FAILED
        if _RANK[code] > _RANK[worst]:
            worst = code
    return worst


def split_list(text: str | None) -> list[str]:
    """``"a, b,,a"`` -> ``["a", "b"]``: comma-separated, blanks dropped, first occurrence kept."""
    return list(dict.fromkeys(part.strip() for part in (text or "").split(",") if part.strip()))


def address(text: str | None) -> tuple[str, int] | None:
    """``https://cls-x.ccs.tencent-cloud.com``, ``10.0.0.5:443``, ``1.2.3.4`` -> (host, port); None
    when there is no host."""
    value = str(text or "").strip()
    if not value:
        return None
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port or (80 if parts.scheme == "http" else 443)


def matching_context(addresses: Iterable[str], contexts: Sequence[tuple[str, str | None]],
                     preferred: str | None = None) -> str | None:
    """The context (``(name, server)`` pairs, in kubeconfig order) whose server is one of the
    cluster's ``addresses``; ``preferred`` (the current context) wins a tie."""
    wanted = {a for a in map(address, addresses) if a is not None}
    found = [name for name, server in contexts if address(server) in wanted]
    if preferred in found:
        return preferred
    return found[0] if found else None
