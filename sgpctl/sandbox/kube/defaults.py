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


def pod_spec_defaults(spec: dict, *, template: bool = False) -> None:
    """Defaults of a PodSpec; a Pod (not a template) also gets its ServiceAccount, which the
    ServiceAccount admission plugin, not defaulting, fills in."""
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    if not template:
        if "serviceAccountName" not in spec:
            spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        tolerations = spec.setdefault("tolerations", [])
        if isinstance(tolerations, list):
            for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
                if not any(isinstance(t, dict) and t.get("key") == key for t in tolerations):
                    tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                        "tolerationSeconds": 300})
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


def _strategy(spec: dict, field: str, rolling: dict) -> None:
    """``strategy: {}`` or a RollingUpdate without parameters gets the defaults, as the apps/v1
    defaulters do (a Recreate strategy gets none)."""
    strategy = spec.get(field)
    if not isinstance(strategy, dict):
        strategy = spec[field] = {}
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        params = strategy.get("rollingUpdate")
        if not isinstance(params, dict):
            params = strategy["rollingUpdate"] = {}
        for k, v in rolling.items():
            params.setdefault(k, v)


def _pod_template(spec: dict) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        pod_spec_defaults(template.setdefault("spec", {}), template=True)
        meta = template.setdefault("metadata", {})
        if isinstance(meta, dict):
            meta.setdefault("creationTimestamp", None)


def _template_owner(obj: dict, allocate: Callable[[str], Any]) -> None:
    spec = obj.setdefault("spec", {})
    if obj["kind"] in ("Deployment", "ReplicaSet", "StatefulSet"):
        spec.setdefault("replicas", 1)
    if obj["kind"] != "ReplicaSet":
        spec.setdefault("revisionHistoryLimit", 10)
    if obj["kind"] == "Deployment":
        spec.setdefault("progressDeadlineSeconds", 600)
        _strategy(spec, "strategy", {"maxUnavailable": "25%", "maxSurge": "25%"})
    elif obj["kind"] == "DaemonSet":
        _strategy(spec, "updateStrategy", {"maxUnavailable": 1, "maxSurge": 0})
    elif obj["kind"] == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        _strategy(spec, "updateStrategy", {"partition": 0})
        spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    _pod_template(spec)


def _job_spec(spec: dict) -> None:
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if spec.get("completions") is None and spec.get("parallelism") == 1:
        spec["completions"] = 1
    spec.setdefault("podReplacementPolicy", "TerminatedOrFailed")
    _pod_template(spec)


def _job(obj: dict, allocate: Callable[[str], Any]) -> None:
    spec = obj.setdefault("spec", {})
    _job_spec(spec)
    if not spec.get("manualSelector"):
        # The Job strategy selects its Pods by the Job's uid and labels the template to match.
        uid = obj["metadata"].get("uid", "")
        name = obj["metadata"].get("name", "")
        labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
                  "controller-uid": uid, "job-name": name}
        if spec.get("selector") is None:
            spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        template = spec.get("template")
        if isinstance(template, dict):
            meta = template.setdefault("metadata", {})
            if isinstance(meta, dict):
                meta["labels"] = {**(meta.get("labels") or {}), **labels}


def _cronjob(obj: dict, allocate: Callable[[str], Any]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job = spec.get("jobTemplate")
    if isinstance(job, dict):
        job_spec = job.setdefault("spec", {})
        if isinstance(job_spec, dict):
            _pod_template(job_spec)
            job.setdefault("metadata", {}).setdefault("creationTimestamp", None)


def _hpa(obj: dict, allocate: Callable[[str], Any]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]


def _secret(obj: dict, allocate: Callable[[str], Any]) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        import base64

        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


def _pvc(obj: dict, allocate: Callable[[str], Any]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def _endpoint_slice(obj: dict, allocate: Callable[[str], Any]) -> None:
    for port in obj.get("ports") or ():
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


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
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cronjob,
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    ("", "Secret"): _secret,
    ("", "PersistentVolumeClaim"): _pvc,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
}
#: kinds whose defaulting also runs on updates (it allocates nothing and touches no status)
_UPDATE_DEFAULTS = {("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "DaemonSet"), ("apps", "StatefulSet"),
                    ("batch", "CronJob"), ("autoscaling", "HorizontalPodAutoscaler"), ("", "Secret")}


def apply_update_defaults(rt: ResourceType, obj: dict) -> None:
    """The declarative defaults an update's body gets (kube-apiserver defaults every decoded body)."""
    if (rt.group, rt.kind) in _UPDATE_DEFAULTS:
        _DEFAULTERS[(rt.group, rt.kind)](obj, lambda what: None)


def apply_create_defaults(rt: ResourceType, obj: dict, allocate: Callable[[str], Any]) -> None:
    """Fill in server defaults in place. ``allocate(kind)`` hands out cluster IPs and node ports."""
    fn = _DEFAULTERS.get((rt.group, rt.kind))
    if fn is not None:
        fn(obj, allocate)
