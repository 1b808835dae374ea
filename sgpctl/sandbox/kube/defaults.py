"""What kube-apiserver fills in on create, and what it refuses, for the types the sandbox serves.

Defaulting matters for fidelity: ``kubectl get pod -o yaml`` against the sandbox should show the
fields a real cluster adds (``status.phase: Pending``, ``spec.schedulerName``, a Service's
``clusterIP``), and workflows that read them (``spec.serviceAccountName`` for policy matching) must
find them. Only the common defaults are modelled.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from sgpctl.core.selectors import validate_dns1123_label, validate_dns1123_subdomain, validate_label_key, \
    validate_label_value

from .resources import ResourceType

Problems = list[tuple[str, str]]


def validate_metadata(rt: ResourceType, obj: dict) -> Problems:
    meta = obj.get("metadata") or {}
    problems: Problems = []
    name = meta.get("name") or ""
    if not name:
        problems.append(("metadata.name", "Required value: name or generateName is required"))
    else:
        errs = validate_dns1123_label(name) if rt.key == "namespaces" else validate_dns1123_subdomain(name)
        if errs:
            problems.append(("metadata.name", f'Invalid value: "{name}": {errs[0]}'))
    labels = meta.get("labels")
    if labels is not None and not isinstance(labels, dict):
        problems.append(("metadata.labels", "Invalid value: must be a map of strings"))
    for key, value in (labels or {}).items():
        errs = validate_label_key(key)
        if errs:
            problems.append(("metadata.labels", f'Invalid value: "{key}": {errs[0]}'))
        elif not isinstance(value, str):
            problems.append(("metadata.labels", f'Invalid value: {value!r}: label values must be strings'))
        elif validate_label_value(value):
            problems.append(("metadata.labels", f'Invalid value: "{value}": {validate_label_value(value)[0]}'))
    annotations = meta.get("annotations")
    if annotations is not None and (not isinstance(annotations, dict)
                                    or not all(isinstance(v, str) for v in annotations.values())):
        problems.append(("metadata.annotations", "Invalid value: annotation values must be strings"))
    return problems


# ------------------------------------------------------------------------------------------------
# Defaulting on create
# ------------------------------------------------------------------------------------------------


def _container_defaults(c: dict) -> None:
    if not isinstance(c, dict):
        return
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    image = c.get("image") or ""
    tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
    if "imagePullPolicy" not in c:
        c["imagePullPolicy"] = "IfNotPresent" if tagged and not image.endswith(":latest") else "Always"
    c.setdefault("resources", {})
    for port in c.get("ports") or ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def pod_spec_defaults(spec: dict) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    if "serviceAccountName" not in spec:
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    for c in itertools.chain(spec.get("initContainers") or (), spec.get("containers") or ()):
        _container_defaults(c)


def _qos_class(spec: dict) -> str:
    containers = list(spec.get("containers") or ()) + list(spec.get("initContainers") or ())
    requests_or_limits = False
    guaranteed = bool(containers)
    for c in containers:
        res = (c or {}).get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        if limits or requests:
            requests_or_limits = True
        for r in ("cpu", "memory"):
            if r not in limits or requests.get(r, limits[r]) != limits[r]:
                guaranteed = False
    if not requests_or_limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _pod(obj: dict, allocate: Callable[[str], Any]) -> None:
    spec = obj.setdefault("spec", {})
    pod_spec_defaults(spec)
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", _qos_class(spec))


def _template_owner(obj: dict, allocate: Callable[[str], Any]) -> None:
    spec = obj.setdefault("spec", {})
    if obj["kind"] in ("Deployment", "ReplicaSet", "StatefulSet"):
        spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    if obj["kind"] == "Deployment":
        spec.setdefault("progressDeadlineSeconds", 600)
        spec.setdefault("strategy", {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    elif obj["kind"] == "DaemonSet":
        spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                           "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    elif obj["kind"] == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    template = spec.get("template")
    if isinstance(template, dict):
        pod_spec_defaults(template.setdefault("spec", {}))
        template.setdefault("metadata", {}).setdefault("creationTimestamp", None)


def _service(obj: dict, allocate: Callable[[str], Any]) -> None:
    spec = obj.setdefault("spec", {})
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if kind != "ExternalName":
        if "clusterIP" not in spec:
            spec["clusterIP"] = allocate("clusterIP")
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])
            if kind in ("NodePort", "LoadBalancer"):
                port.setdefault("nodePort", allocate("nodePort"))
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _namespace(obj: dict, allocate: Callable[[str], Any]) -> None:
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj["status"] = {"phase": "Active"}
    labels = obj["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


def _crd(obj: dict, allocate: Callable[[str], Any]) -> None:
    spec = obj["spec"]
    spec.setdefault("conversion", {"strategy": "None"})
    names = dict(spec["names"])
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", names["kind"] + "List")
    spec["names"] = names
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    obj["status"] = {
        "acceptedNames": names,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": obj["metadata"]["creationTimestamp"]},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted",
             "lastTransitionTime": obj["metadata"]["creationTimestamp"]},
        ],
        "storedVersions": [storage],
    }


_DEFAULTERS: dict[tuple[str, str], Callable[[dict, Callable[[str], Any]], None]] = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("apps", "Deployment"): _template_owner,
    ("apps", "ReplicaSet"): _template_owner,
    ("apps", "DaemonSet"): _template_owner,
    ("apps", "StatefulSet"): _template_owner,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}


def apply_create_defaults(rt: ResourceType, obj: dict, allocate: Callable[[str], Any]) -> None:
    """Fill in server defaults in place. ``allocate(kind)`` hands out cluster IPs and node ports."""
    fn = _DEFAULTERS.get((rt.group, rt.kind))
    if fn is not None:
        fn(obj, allocate)
