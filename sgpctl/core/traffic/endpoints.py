"""A Pod as a traffic endpoint: which groups filter it, in which order, and whether that is known
or predicted.

- A Pod with a sub-ENI: its ENI's ``GroupSet`` in the cloud's order when the caller read it
  (``eni_groups``); otherwise the groups its annotation names, marked as not confirmed.
- A Pod without a sub-ENI that policies select: it gets one when it is rebuilt, with the policies'
  ``groupIds`` unioned in policy-name order (``core.matching.expected_groups``, which is what
  eniipamd writes): a prediction, and marked so.
- Any other Pod (shared ENI, hostNetwork): filtered, if at all, by its node's ENI groups when the
  caller knows them.

``routing`` is the mode the Pod's network was (or will be) set up with: for an existing Pod the
mode in force when it was created, which only the caller can know (the current mode, unless it
changed after the Pod started); for a predicted Pod, the current mode.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from sgpctl.core.annotations import annotated_groups, uses_sub_eni
from sgpctl.core.matching import expected_groups
from sgpctl.core.traffic.explain import Endpoint


def pod_endpoint(pod: Mapping[str, Any], *, routing: str | None, eni_groups: Sequence[str] | None = None,
                 policies: Iterable[Any] = (), serviceaccounts: Any = (), node_groups: Sequence[str] | None = None,
                 ip: str | None = None, on_sub_eni: bool | None = None) -> Endpoint:
    """``pod`` (API-shaped) as an endpoint; ``ip`` overrides ``status.podIP`` (a Pod to be created);
    ``on_sub_eni``: ``uses_sub_eni(pod)`` when the caller has read it (once per Pod, not per use)."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    namespace, name = meta.get("namespace") or "default", meta.get("name") or ""
    address = ip or (pod.get("status") or {}).get("podIP")
    if not address:
        raise ValueError(f"pod/{namespace}/{name} has no IP address yet: pass the one to assume")
    node = spec.get("nodeName") or None
    if spec.get("hostNetwork"):
        return Endpoint.eni_pod(namespace, name, address, node, node_groups)
    if uses_sub_eni(pod) if on_sub_eni is None else on_sub_eni:
        if eni_groups is not None:
            return Endpoint.sub_eni_pod(namespace, name, address, node, eni_groups, routing)
        annotated = annotated_groups(pod)
        return Endpoint.sub_eni_pod(namespace, name, address, node, annotated, routing, predicted=annotated is not None)
    groups, _ = expected_groups(pod, list(policies), serviceaccounts)
    if groups:
        return Endpoint.sub_eni_pod(namespace, name, address, node, groups, routing, predicted=True)
    return Endpoint.eni_pod(namespace, name, address, node, node_groups)
