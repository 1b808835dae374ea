"""What the emulated API server serves: resource types, and the discovery documents built from them.

A ``ResourceType`` is one group-resource (``deployments.apps``), served at one or more versions; its
objects are stored once, at ``versions[0]`` (the storage version), and served at any served version
with ``apiVersion`` rewritten (a CRD's ``conversion: None``). Built-in types are ``BUILTIN``; a
CustomResourceDefinition becomes one through ``from_crd``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import qualified

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str
    plural: str
    kind: str
    namespaced: bool
    versions: tuple[str, ...]
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    #: subresources served: "status", "scale", "binding"
    subresources: tuple[str, ...] = ()
    #: built-in types take strategic merge patches; custom resources answer 415
    strategic: bool = True
    #: metadata.generation is kept (bumped when anything but metadata and status changes)
    generation: bool = False
    #: a create through the API starts from an empty status (the in-process store keeps it)
    drop_status_on_create: bool = True
    #: name of the CustomResourceDefinition that serves this type, None for built-ins
    crd: str | None = None
    #: a CRD's additionalPrinterColumns (for Table output)
    printer_columns: tuple[dict, ...] = field(default=(), compare=False)
    #: verbs served on the main resource; a review (SelfSubjectAccessReview, TokenReview) is create-only
    verbs: tuple[str, ...] = VERBS

    @property
    def key(self) -> str:
        """``pods``, ``deployments.apps``: unique among registered types."""
        return qualified(self.group, self.plural)

    @property
    def version(self) -> str:
        return self.versions[0]

    def api_version(self, version: str | None = None) -> str:
        v = version or self.versions[0]
        return f"{self.group}/{v}" if self.group else v

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def discovery_entries(self) -> list[dict[str, Any]]:
        main: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular or self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            main["shortNames"] = list(self.short_names)
        if self.categories:
            main["categories"] = list(self.categories)
        entries = [main]
        for sub in self.subresources:
            if sub == "status":
                entries.append({"name": f"{self.plural}/status", "singularName": "", "namespaced": self.namespaced,
                                "kind": self.kind, "verbs": ["get", "patch", "update"]})
            elif sub == "scale":
                entries.append({"name": f"{self.plural}/scale", "singularName": "", "namespaced": self.namespaced,
                                "group": "autoscaling", "version": "v1", "kind": "Scale",
                                "verbs": ["get", "patch", "update"]})
            elif sub in _SUBRESOURCES:
                kind, verbs, group_version = _SUBRESOURCES[sub]
                entry = {"name": f"{self.plural}/{sub}", "singularName": "", "namespaced": self.namespaced,
                         "kind": kind, "verbs": list(verbs)}
                if group_version:
                    entry["group"], entry["version"] = group_version
                entries.append(entry)
        return entries

    @property
    def review(self) -> bool:
        """A create-only resource answered, never stored (SelfSubjectAccessReview, TokenReview, ...)."""
        return self.verbs == ("create",)


#: subresource -> (kind, verbs, (group, version) when not the parent's), as kube-apiserver lists them
_SUBRESOURCES: dict[str, tuple[str, tuple[str, ...], tuple[str, str] | None]] = {
    "binding": ("Binding", ("create",), None),
    "log": ("Pod", ("get",), None),
    "exec": ("PodExecOptions", ("create", "get"), None),
    "attach": ("PodAttachOptions", ("create", "get"), None),
    "portforward": ("PodPortForwardOptions", ("create", "get"), None),
    "token": ("TokenRequest", ("create",), ("authentication.k8s.io", "v1")),
}


def _core(plural: str, kind: str, *, namespaced: bool = True, short: tuple[str, ...] = (),
          subresources: tuple[str, ...] = (), all_category: bool = False, **kw: Any) -> ResourceType:
    return ResourceType("", plural, kind, namespaced, ("v1",), short_names=short, subresources=subresources,
                        categories=("all",) if all_category else (), **kw)


def _apps(plural: str, kind: str, short: str, subresources: tuple[str, ...]) -> ResourceType:
    return ResourceType("apps", plural, kind, True, ("v1",), short_names=(short,), subresources=subresources,
                        categories=("all",), generation=True)


def _typ(group: str, plural: str, kind: str, *, namespaced: bool = True, versions: tuple[str, ...] = ("v1",),
         short: tuple[str, ...] = (), subresources: tuple[str, ...] = (), all_category: bool = False,
         **kw: Any) -> ResourceType:
    return ResourceType(group, plural, kind, namespaced, versions, short_names=short, subresources=subresources,
                        categories=("all",) if all_category else (), **kw)


def _review(group: str, plural: str, kind: str, *, namespaced: bool = False) -> ResourceType:
    return ResourceType(group, plural, kind, namespaced, ("v1",), verbs=("create",))


BUILTIN: tuple[ResourceType, ...] = (
    _core("namespaces", "Namespace", namespaced=False, short=("ns",), subresources=("status",),
          verbs=tuple(v for v in VERBS if v != "deletecollection")),
    _core("nodes", "Node", namespaced=False, short=("no",), subresources=("status",), drop_status_on_create=False),
    _core("pods", "Pod", short=("po",), subresources=("status", "binding", "log", "exec", "attach", "portforward"),
          all_category=True),
    _core("services", "Service", short=("svc",), subresources=("status",), all_category=True),
    _core("serviceaccounts", "ServiceAccount", short=("sa",), subresources=("token",)),
    _core("configmaps", "ConfigMap", short=("cm",)),
    _core("secrets", "Secret"),
    _core("events", "Event", short=("ev",)),
    _core("endpoints", "Endpoints", short=("ep",)),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), subresources=("status",)),
    _core("persistentvolumes", "PersistentVolume", namespaced=False, short=("pv",), subresources=("status",)),
    _core("resourcequotas", "ResourceQuota", short=("quota",), subresources=("status",)),
    _core("limitranges", "LimitRange", short=("limits",)),
    _core("podtemplates", "PodTemplate"),
    _apps("deployments", "Deployment", "deploy", ("status", "scale")),
    _apps("replicasets", "ReplicaSet", "rs", ("status", "scale")),
    _apps("daemonsets", "DaemonSet", "ds", ("status",)),
    _apps("statefulsets", "StatefulSet", "sts", ("status", "scale")),
    _typ("apps", "controllerrevisions", "ControllerRevision"),
    _typ("batch", "jobs", "Job", subresources=("status",), all_category=True, generation=True),
    _typ("batch", "cronjobs", "CronJob", short=("cj",), subresources=("status",), all_category=True,
         generation=True),
    _typ("autoscaling", "horizontalpodautoscalers", "HorizontalPodAutoscaler", versions=("v2",), short=("hpa",),
         subresources=("status",), all_category=True, generation=True),
    _typ("policy", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",), subresources=("status",),
         generation=True),
    _typ("coordination.k8s.io", "leases", "Lease"),
    _typ("discovery.k8s.io", "endpointslices", "EndpointSlice"),
    _typ("networking.k8s.io", "networkpolicies", "NetworkPolicy", short=("netpol",), generation=True),
    _typ("networking.k8s.io", "ingresses", "Ingress", short=("ing",), subresources=("status",), generation=True),
    _typ("networking.k8s.io", "ingressclasses", "IngressClass", namespaced=False),
    _typ("rbac.authorization.k8s.io", "roles", "Role"),
    _typ("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
    _typ("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", namespaced=False),
    _typ("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    _typ("storage.k8s.io", "storageclasses", "StorageClass", namespaced=False, short=("sc",)),
    _typ("scheduling.k8s.io", "priorityclasses", "PriorityClass", namespaced=False, short=("pc",)),
    _review("authentication.k8s.io", "tokenreviews", "TokenReview"),
    _review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
    _review("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
    _review("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
    _review("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview"),
    _review("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", namespaced=True),
    ResourceType("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", False, ("v1",),
                 short_names=("crd", "crds"), subresources=("status",), generation=True),
)


def crd_problems(crd: dict) -> list[tuple[str, str]]:
    """What makes a CRD unservable, as (field, message) pairs of a 422 (the checks that matter here)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, plural = spec.get("group") or "", names.get("plural") or ""
    problems = []
    if not group:
        problems.append(("spec.group", "Required value"))
    if not plural:
        problems.append(("spec.names.plural", "Required value"))
    if not names.get("kind"):
        problems.append(("spec.names.kind", "Required value"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        problems.append(("spec.scope", f'Unsupported value: "{spec.get("scope") or ""}": supported values: '
                                       '"Cluster", "Namespaced"'))
    name = (crd.get("metadata") or {}).get("name", "")
    if group and plural and name != f"{plural}.{group}":
        problems.append(("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group'))
    versions = spec.get("versions") or []
    if not versions:
        problems.append(("spec.versions", "Invalid value: null: must have exactly one version marked as storage version"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        problems.append(("spec.versions", "Invalid value: must have exactly one version marked as storage version"))
    elif not any(v.get("served") for v in versions):
        problems.append(("spec.versions", "Invalid value: must have at least one version marked as served"))
    return problems


def from_crd(crd: dict) -> ResourceType:
    """The type a (valid) CRD serves. The storage version is listed first, then other served ones."""
    spec = crd["spec"]
    names = spec["names"]
    versions = spec["versions"]
    storage = next(v for v in versions if v.get("storage"))
    served = [storage["name"]] if storage.get("served") else []
    served += [v["name"] for v in versions if v.get("served") and v is not storage]
    subresources = ("status",) if "status" in (storage.get("subresources") or {}) else ()
    return ResourceType(
        spec["group"], names["plural"], names["kind"], spec["scope"] == "Namespaced",
        tuple(served) or (storage["name"],),
        singular=names.get("singular") or names["kind"].lower(),
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        subresources=subresources, strategic=False, generation=True,
        crd=crd["metadata"]["name"],
        printer_columns=tuple(storage.get("additionalPrinterColumns") or ()),
    )


# ------------------------------------------------------------------------------------------------
# Discovery documents
# ------------------------------------------------------------------------------------------------


def group_versions(types: list[ResourceType]) -> dict[str, list[str]]:
    """group -> served versions, preferred first, in registration order (core excluded)."""
    out: dict[str, list[str]] = {}
    for rt in types:
        if rt.group:
            vs = out.setdefault(rt.group, [])
            for v in rt.versions:
                if v not in vs:
                    vs.append(v)
    return out


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group(group: str, versions: list[str]) -> dict[str, Any]:
    return {"name": group,
            "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
            "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]}}


def api_group_list(types: list[ResourceType]) -> dict[str, Any]:
    groups = [api_group(g, vs) for g, vs in group_versions(types).items()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(group: str, version: str, types: list[ResourceType]) -> dict[str, Any]:
    resources = []
    for rt in types:
        if rt.group == group and version in rt.versions:
            resources.extend(rt.discovery_entries())
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}
