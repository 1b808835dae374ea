"""Kubernetes resources sgpctl reads and writes.

Built-in kinds have fixed, well-known plurals. The TKE custom resources do not: the SecurityGroupPolicy
and VpcENI plurals and VpcENI's scope are unconfirmed by public docs, so they are resolved through API
discovery by group and kind at run time (see ``Kube.resource``)."""

from __future__ import annotations

from dataclasses import dataclass


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
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None) -> str:
        return f"{self.collection_path(namespace)}/{name}"


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

BUILTIN = {
    (r.group, r.kind): r
    for r in (NAMESPACES, NODES, PODS, SERVICES, SERVICEACCOUNTS, CONFIGMAPS, EVENTS, DEPLOYMENTS, REPLICASETS,
              DAEMONSETS, STATEFULSETS, NETWORKPOLICIES, CRDS)
}

SGP_GROUP, SGP_KIND = "vpcresources.tke.cloud.tencent.com", "SecurityGroupPolicy"
VPCENI_GROUP, VPCENI_KIND = "networking.tke.cloud.tencent.com", "VpcENI"
