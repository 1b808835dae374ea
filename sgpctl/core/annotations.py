"""Names TKE uses on Pods, Nodes and VpcEni objects, and the few readers over them.

Pure helpers over API-shaped dicts (as the Kubernetes API returns them), so they work the same
on live objects, snapshot files and the sandbox's own state.
"""

from __future__ import annotations

from typing import Any, Mapping

#: the Pod annotation that says which network the Pod got; ``tke-sub-eni`` means a Trunking sub-ENI
ANNOTATION_NETWORKS = "tke.cloud.tencent.com/networks"
SUB_ENI_NETWORK = "tke-sub-eni"
#: comma-separated security-group ids the sub-ENI was created with
ANNOTATION_SECURITY_GROUPS = "tke.cloud.tencent.com/security-group-id"
#: extended resource a Pod requests (and a node advertises) for one sub-ENI
RESOURCE_SUB_ENI = "tke.cloud.tencent.com/sub-eni"
#: labels on a VpcEni object naming the Pod it belongs to
VPCENI_LABEL_POD_NAME = "tke.cloud.tencent.com/pod-name"
VPCENI_LABEL_POD_NAMESPACE = "tke.cloud.tencent.com/pod-namespace"
LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type"
#: deprecated spelling still set by older kubelets; read only when the GA label is absent
LABEL_INSTANCE_TYPE_BETA = "beta.kubernetes.io/instance-type"
LABEL_ZONE = "topology.kubernetes.io/zone"

_EMPTY: Mapping[str, Any] = {}


def _annotations(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return (pod.get("metadata") or _EMPTY).get("annotations") or _EMPTY


def parse_group_ids(value: str | None) -> tuple[str, ...] | None:
    """``"sg-a, sg-b"`` -> ``("sg-a", "sg-b")``; None stays None; empty items are dropped."""
    if value is None:
        return None
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


def annotated_groups(pod: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The security groups the Pod's annotation claims, or None when it has no such annotation."""
    return parse_group_ids(_annotations(pod).get(ANNOTATION_SECURITY_GROUPS))


def is_sub_eni_network(value: Any) -> bool:
    """Whether a networks-annotation value names the sub-ENI network."""
    if not value:
        return False
    if value == SUB_ENI_NETWORK:
        return True
    # The annotation is a network list in the multus style; tolerate "a,b" and spaces.
    return SUB_ENI_NETWORK in (part.strip() for part in str(value).split(","))


def uses_sub_eni(pod: Mapping[str, Any]) -> bool:
    """True when TKE marked the Pod as networked through a Trunking sub-ENI."""
    return is_sub_eni_network(_annotations(pod).get(ANNOTATION_NETWORKS))


def _quantity(value: Any) -> int:
    """An extended-resource quantity as an int. Extended resources must be whole numbers."""
    if value is None:
        return 0
    if value == "1":  # what the webhook writes, nearly always
        return 1
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return int(float(text))
    except ValueError:
        return 0


def _container_count(container: Mapping[str, Any]) -> int:
    resources = container.get("resources")
    if not resources:
        return 0
    requests = resources.get("requests")
    if requests and RESOURCE_SUB_ENI in requests:
        return _quantity(requests[RESOURCE_SUB_ENI])
    # For extended resources Kubernetes defaults the request to the limit.
    limits = resources.get("limits")
    return _quantity(limits.get(RESOURCE_SUB_ENI)) if limits else 0


def pod_sub_eni_count(pod: Mapping[str, Any]) -> int:
    """Sub-ENIs the Pod requests, computed like the scheduler's effective request:
    the sum over app containers, or the largest init container if that is larger."""
    spec = pod.get("spec")
    if not spec:
        return 0
    # Plain loops: this runs for every Pod of the cluster when usage is counted.
    total = 0
    for c in spec.get("containers") or ():
        total += _container_count(c)
    for c in spec.get("initContainers") or ():
        n = _container_count(c)
        if n > total:
            total = n
    return total


def requests_sub_eni(pod: Mapping[str, Any]) -> bool:
    """True when some container requests (or limits) at least one sub-ENI."""
    return pod_sub_eni_count(pod) >= 1


def node_instance_type(node: Mapping[str, Any]) -> str | None:
    labels = (node.get("metadata") or _EMPTY).get("labels") or _EMPTY
    return labels.get(LABEL_INSTANCE_TYPE) or labels.get(LABEL_INSTANCE_TYPE_BETA) or None
