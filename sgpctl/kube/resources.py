"""Kubernetes resources sgpctl reads and writes.

Built-in kinds have fixed, well-known plurals. The TKE custom resources do not: the SecurityGroupPolicy
and VpcENI plurals and VpcENI's scope are unconfirmed by public docs, so they are resolved through API
discovery by group and kind at run time (see ``Kube.resource``).

Every path is built here, and only from checked parts: a namespace must be a DNS-1123 label and a
name must pass its kind's rule (``sgpctl.core.names``) before it becomes a path segment, so no
``..``, ``/`` or ``?`` can walk out of the resource's path; each segment is percent-encoded besides.
A bad name raises ``InputError`` (exit 2) naming the rule before any request is made."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sgpctl.core import names
from sgpctl.inputs import checked


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str | None = None) -> str:
        if self.group:
            base = f"/apis/{_segment(self.group, 'API group')}/{_segment(self.version, 'API version')}"
        else:
            base = f"/api/{_segment(self.version, 'API version')}"
        plural = _segment(self.plural, "resource")
        if self.namespaced and namespace:
            return f"{base}/namespaces/{_segment(checked(names.namespace, namespace, 'namespace'), 'namespace')}/{plural}"
        return f"{base}/{plural}"

    def object_path(self, name: str, namespace: str | None = None) -> str:
        rule = names.name_rule(self.group, self.kind)
        return f"{self.collection_path(namespace)}/{_segment(checked(rule, name, f'{self.kind} name'), 'name')}"


def discovery_path(group: str, version: str | None = None) -> str:
    """``/apis/<group>`` or ``/apis/<group>/<version>``, for API discovery."""
    path = f"/apis/{_segment(group, 'API group')}"
    return f"{path}/{_segment(version, 'API version')}" if version is not None else path


def _segment(value: str, field: str) -> str:
    # Defence in depth behind the name rules: discovery data (plural, version) is the server's, and
    # the lenient rule for some kinds still allows characters that mean something in a URL.
    checked(names.path_segment, value, field)
    return quote(value, safe="")


NAMESPACES = Resource("", "v1", "namespaces", "Namespace", False)
NODES = Resource("", "v1", "nodes", "Node", False)
PODS = Resource("", "v1", "pods", "Pod", True)
SERVICES = Resource("", "v1", "services", "Service", True)
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts", "ServiceAccount", True)
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap", True)
EVENTS = Resource("", "v1", "events", "Event", True)
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment", True)
REPLICASETS = Resource("apps", "v1", "replicasets", "ReplicaSet", True)
DAEMONSETS = Resource("apps", "v1", "daemonsets", "DaemonSet", True)
STATEFULSETS = Resource("apps", "v1", "statefulsets", "StatefulSet", True)
NETWORKPOLICIES = Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True)
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False)
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease", True)

BUILTIN = {
    (r.group, r.kind): r
    for r in (NAMESPACES, NODES, PODS, SERVICES, SERVICEACCOUNTS, CONFIGMAPS, EVENTS, DEPLOYMENTS, REPLICASETS,
              DAEMONSETS, STATEFULSETS, NETWORKPOLICIES, CRDS, LEASES)
}

SGP_GROUP, SGP_KIND = "vpcresources.tke.cloud.tencent.com", "SecurityGroupPolicy"
VPCENI_GROUP, VPCENI_KIND = "networking.tke.cloud.tencent.com", "VpcENI"
