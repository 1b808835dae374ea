"""kube-apiserver's semantic validation of the common built-in kinds, and the fields it will not let
an update change, with its field errors (``spec.replicas: Invalid value: -1: must be greater than or
equal to 0``). ``problems(rt, obj)`` runs on create and update after defaulting, ``immutable(rt, old,
new)`` on update; both return (field, message) pairs for ``errors.invalid`` (422). They cover what
charts and platform engineers commonly get wrong, not every rule of k8s.io/kubernetes/pkg/apis.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from sgpctl.core import selectors
from sgpctl.core.selectors import validate_dns1123_label

from .resources import ResourceType

Problems = list[tuple[str, str]]

_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_PORT_RANGE = "must be between 1 and 65535, inclusive"
_NON_NEGATIVE = "must be greater than or equal to 0"


# ------------------------------------------------------------------------------------------------
# Go's %#v of the values field errors show
# ------------------------------------------------------------------------------------------------


def go_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return "map[string]string{" + ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def label_selector_value(sel: dict | None) -> str:
    sel = sel or {}
    labels = sel.get("matchLabels")
    exprs = sel.get("matchExpressions")
    labels_text = go_value(labels) if labels else "map[string]string(nil)"
    if exprs:
        items = ", ".join(
            "v1.LabelSelectorRequirement{Key:%s, Operator:%s, Values:%s}" % (
                json.dumps(e.get("key", "")), json.dumps(e.get("operator", "")),
                go_value(e["values"]) if e.get("values") else "[]string(nil)")
            for e in exprs)
        exprs_text = "[]v1.LabelSelectorRequirement{" + items + "}"
    else:
        exprs_text = "[]v1.LabelSelectorRequirement(nil)"
    return f"v1.LabelSelector{{MatchLabels:{labels_text}, MatchExpressions:{exprs_text}}}"


def _invalid(value: Any, detail: str) -> str:
    return f"Invalid value: {go_value(value)}: {detail}"


def _port(port: dict, path: str, number: str, other: str, other_is_number: Callable[[Any], bool]) -> Problems:
    """A container or Service port: its required ``number`` field, its ``other`` number when
    ``other_is_number`` says it is one, each 1-65535, and its protocol."""
    out: Problems = []
    value = port.get(number)
    if value is None:
        out.append((f"{path}.{number}", "Required value"))
    elif not 1 <= value <= 65535:
        out.append((f"{path}.{number}", _invalid(value, _PORT_RANGE)))
    value = port.get(other)
    if other_is_number(value) and not 1 <= value <= 65535:
        out.append((f"{path}.{other}", _invalid(value, _PORT_RANGE)))
    proto = port.get("protocol")
    if proto is not None and proto not in ("SCTP", "TCP", "UDP"):
        out.append((f"{path}.protocol", _unsupported(proto, ("SCTP", "TCP", "UDP"))))
    return out


def _unsupported(value: Any, allowed: tuple[str, ...]) -> str:
    return f"Unsupported value: {go_value(value)}: supported values: " + ", ".join(f'"{a}"' for a in allowed)


def _non_negative(out: Problems, obj: dict, key: str, path: str) -> None:
    value = obj.get(key)
    if isinstance(value, int) and value < 0:
        out.append((f"{path}.{key}", _invalid(value, _NON_NEGATIVE)))


# ------------------------------------------------------------------------------------------------
# Pods and Pod templates
# ------------------------------------------------------------------------------------------------


def _container(out: Problems, c: dict, path: str, names: set[str]) -> None:
    name = c.get("name")
    if not name:
        out.append((f"{path}.name", "Required value"))
    else:
        errs = validate_dns1123_label(name)
        if errs:
            out.append((f"{path}.name", _invalid(name, errs[0])))
        elif name in names:
            out.append((f"{path}.name", f"Duplicate value: {go_value(name)}"))
        names.add(name)
    if not c.get("image"):
        out.append((f"{path}.image", "Required value"))
    for j, port in enumerate(c.get("ports") or ()):
        # hostPort 0 is "no host port"
        out.extend(_port(port, f"{path}.ports[{j}]", "containerPort", "hostPort", bool))
    policy = c.get("imagePullPolicy")
    if policy is not None and policy not in ("Always", "IfNotPresent", "Never"):
        out.append((f"{path}.imagePullPolicy", _unsupported(policy, ("Always", "IfNotPresent", "Never"))))


def pod_spec(spec: dict, path: str) -> Problems:
    out: Problems = []
    containers = spec.get("containers") or []
    if not containers:
        out.append((f"{path}.containers", "Required value"))
    names: set[str] = set()
    for i, c in enumerate(spec.get("initContainers") or ()):
        _container(out, c, f"{path}.initContainers[{i}]", names)
    for i, c in enumerate(containers):
        _container(out, c, f"{path}.containers[{i}]", names)
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in ("Always", "OnFailure", "Never"):
        out.append((f"{path}.restartPolicy", _unsupported(policy, ("Always", "OnFailure", "Never"))))
    dns = spec.get("dnsPolicy")
    if dns is not None and dns not in ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"):
        out.append((f"{path}.dnsPolicy", _unsupported(dns, ("ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                                            "None"))))
    volumes: set[str] = set()
    for i, v in enumerate(spec.get("volumes") or ()):
        name = v.get("name")
        if not name:
            out.append((f"{path}.volumes[{i}].name", "Required value"))
        elif name in volumes:
            out.append((f"{path}.volumes[{i}].name", f"Duplicate value: {go_value(name)}"))
        volumes.add(name or "")
    _non_negative(out, spec, "terminationGracePeriodSeconds", path)
    return out


def _pod(obj: dict) -> Problems:
    return pod_spec(obj.get("spec") or {}, "spec")


def _template(spec: dict, selector: selectors.Selector | None, path: str, *, restart: tuple[str, ...]) -> Problems:
    out: Problems = []
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if selector is not None and not selector.matches(labels):
        shown = go_value(labels) if labels else "map[string]string(nil)"
        out.append((f"{path}.template.metadata.labels",
                    f"Invalid value: {shown}: `selector` does not match template `labels`"))
    tspec = template.get("spec") or {}
    out += pod_spec(tspec, f"{path}.template.spec")
    policy = tspec.get("restartPolicy")
    if policy not in restart and not any(p == f"{path}.template.spec.restartPolicy" for p, _ in out):
        out.append((f"{path}.template.spec.restartPolicy", _unsupported(policy, restart)))
    return out


def _selector(out: Problems, spec: dict, path: str, kind: str) -> selectors.Selector | None:
    sel = spec.get("selector")
    if sel is None:
        out.append((f"{path}.selector", "Required value"))
        return None
    if not (sel.get("matchLabels") or sel.get("matchExpressions")):
        out.append((f"{path}.selector", f"Invalid value: {label_selector_value(sel)}: empty selector is invalid "
                                        f"for {kind}"))
        return None
    try:
        return selectors.from_label_selector(sel)
    except selectors.SelectorError as exc:
        out.append((f"{path}.selector", _invalid(sel, str(exc))))
        return None


def _workload(kind: str) -> Callable[[dict], Problems]:
    def check(obj: dict) -> Problems:
        spec = obj.get("spec") or {}
        out: Problems = []
        for key in ("replicas", "minReadySeconds", "revisionHistoryLimit"):
            _non_negative(out, spec, key, "spec")
        selector = _selector(out, spec, "spec", kind)
        out += _template(spec, selector, "spec", restart=("Always",))
        if kind == "deployment":
            out += _deployment_strategy(spec)
        return out
    return check


def _deployment_strategy(spec: dict) -> Problems:
    strategy = spec.get("strategy") or {}
    kind = strategy.get("type")
    out: Problems = []
    if kind not in (None, "Recreate", "RollingUpdate"):
        out.append(("spec.strategy.type", _unsupported(kind, ("Recreate", "RollingUpdate"))))
    if kind == "Recreate" and strategy.get("rollingUpdate") is not None:
        out.append(("spec.strategy.rollingUpdate", "Forbidden: may not be specified when strategy `type` is 'Recreate'"))
    rolling = strategy.get("rollingUpdate") or {}
    if kind == "RollingUpdate" and rolling:
        surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
        if surge in (0, "0%") and unavailable in (0, "0%"):
            out.append(("spec.strategy.rollingUpdate.maxUnavailable",
                        _invalid(unavailable, "may not be 0 when `maxSurge` is 0")))
    progress = spec.get("progressDeadlineSeconds")
    if isinstance(progress, int) and progress <= int(spec.get("minReadySeconds") or 0):
        out.append(("spec.progressDeadlineSeconds",
                    _invalid(progress, "must be greater than minReadySeconds")))
    return out


def _job(obj: dict) -> Problems:
    spec = obj.get("spec") or {}
    out: Problems = []
    for key in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        _non_negative(out, spec, key, "spec")
    selector = None
    if spec.get("selector") is not None:
        selector = _selector(out, spec, "spec", "job")
    out += _template(spec, selector, "spec", restart=("OnFailure", "Never"))
    return out


def _cronjob(obj: dict) -> Problems:
    spec = obj.get("spec") or {}
    out: Problems = []
    if not spec.get("schedule"):
        out.append(("spec.schedule", "Required value"))
    policy = spec.get("concurrencyPolicy")
    if policy is not None and policy not in ("Allow", "Forbid", "Replace"):
        out.append(("spec.concurrencyPolicy", _unsupported(policy, ("Allow", "Forbid", "Replace"))))
    job = (spec.get("jobTemplate") or {}).get("spec") or {}
    tspec = (job.get("template") or {}).get("spec") or {}
    out += pod_spec(tspec, "spec.jobTemplate.spec.template.spec")
    policy = tspec.get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        out.append(("spec.jobTemplate.spec.template.spec.restartPolicy", _unsupported(policy, ("OnFailure", "Never"))))
    return out


def _service(obj: dict) -> Problems:
    spec = obj.get("spec") or {}
    out: Problems = []
    kind = spec.get("type", "ClusterIP")
    types = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
    if kind not in types:
        out.append(("spec.type", _unsupported(kind, types)))
    ports = spec.get("ports") or []
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        out.append(("spec.ports", "Required value"))
    names: set[str] = set()
    for i, p in enumerate(ports):
        path = f"spec.ports[{i}]"
        if len(ports) > 1 and not p.get("name"):
            out.append((f"{path}.name", "Required value"))
        elif p.get("name") in names:
            out.append((f"{path}.name", f"Duplicate value: {go_value(p['name'])}"))
        names.add(p.get("name") or "")
        # a string targetPort names a container port
        out.extend(_port(p, path, "port", "targetPort", lambda target: isinstance(target, int)))
    return out


def _config_keys(obj: dict) -> Problems:
    out: Problems = []
    for field in ("data", "binaryData", "stringData"):
        for key in (obj.get(field) or {}):
            if not _CONFIG_KEY.match(key) or len(key) > 253:
                out.append((f"{field}[{key}]", _invalid(key, "a valid config key must consist of alphanumeric "
                                                             "characters, '-', '_' or '.' (e.g. 'key.name',  or "
                                                             "'KEY_NAME',  or 'key-name', regex used for validation "
                                                             "is '[-._a-zA-Z0-9]+')")))
    return out


def _hpa(obj: dict) -> Problems:
    spec = obj.get("spec") or {}
    out: Problems = []
    top = spec.get("maxReplicas")
    if top is None:
        out.append(("spec.maxReplicas", "Required value"))
    elif top < 1:
        out.append(("spec.maxReplicas", _invalid(top, "must be greater than or equal to 1")))
    low = spec.get("minReplicas")
    if isinstance(low, int) and low < 1:
        out.append(("spec.minReplicas", _invalid(low, "must be greater than or equal to 1")))
    elif isinstance(low, int) and isinstance(top, int) and low > top:
        out.append(("spec.minReplicas", _invalid(low, "must be less than or equal to maxReplicas")))
    ref = spec.get("scaleTargetRef") or {}
    for key in ("kind", "name"):
        if not ref.get(key):
            out.append((f"spec.scaleTargetRef.{key}", "Required value"))
    return out


def _rules(obj: dict) -> Problems:
    out: Problems = []
    for i, rule in enumerate(obj.get("rules") or ()):
        if not rule.get("verbs"):
            out.append((f"rules[{i}].verbs", "Required value: verbs must contain at least one value"))
    return out


def _binding(kinds: tuple[str, ...]) -> Callable[[dict], Problems]:
    def check(obj: dict) -> Problems:
        out: Problems = []
        ref = obj.get("roleRef") or {}
        if ref.get("apiGroup") != "rbac.authorization.k8s.io":
            out.append(("roleRef.apiGroup", _unsupported(ref.get("apiGroup", ""), ("rbac.authorization.k8s.io",))))
        if ref.get("kind") not in kinds:
            out.append(("roleRef.kind", _unsupported(ref.get("kind", ""), kinds)))
        if not ref.get("name"):
            out.append(("roleRef.name", "Required value"))
        for i, s in enumerate(obj.get("subjects") or ()):
            if s.get("kind") not in ("ServiceAccount", "User", "Group"):
                out.append((f"subjects[{i}].kind", _unsupported(s.get("kind", ""), ("ServiceAccount", "User", "Group"))))
            if not s.get("name"):
                out.append((f"subjects[{i}].name", "Required value"))
        return out
    return check


def _pdb(obj: dict) -> Problems:
    spec = obj.get("spec") or {}
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        return [("spec", "Invalid value: policy.PodDisruptionBudgetSpec{...}: minAvailable and maxUnavailable "
                         "cannot be both set")]
    return []


_CHECKS: dict[tuple[str, str], Callable[[dict], Problems]] = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "ConfigMap"): _config_keys,
    ("", "Secret"): _config_keys,
    ("apps", "Deployment"): _workload("deployment"),
    ("apps", "ReplicaSet"): _workload("replicaset"),
    ("apps", "StatefulSet"): _workload("statefulset"),
    ("apps", "DaemonSet"): _workload("daemonset"),
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cronjob,
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    ("policy", "PodDisruptionBudget"): _pdb,
    ("rbac.authorization.k8s.io", "Role"): _rules,
    ("rbac.authorization.k8s.io", "ClusterRole"): _rules,
    ("rbac.authorization.k8s.io", "RoleBinding"): _binding(("Role", "ClusterRole")),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _binding(("ClusterRole",)),
}


def problems(rt: ResourceType, obj: dict) -> Problems:
    check = _CHECKS.get((rt.group, rt.kind))
    return check(obj) if check is not None else []


# ------------------------------------------------------------------------------------------------
# Immutable fields
# ------------------------------------------------------------------------------------------------

#: what a Pod update may change (the rest of spec is fixed at creation)
POD_UPDATE_MESSAGE = (
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
    "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")
STATEFULSET_UPDATE_MESSAGE = (
    "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")


def _pod_spec_mutable_view(spec: dict) -> dict:
    view = json.loads(json.dumps(spec))
    for key in ("containers", "initContainers"):
        for c in view.get(key) or ():
            c.pop("image", None)
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "schedulingGates"):
        view.pop(key, None)
    view.pop("nodeName", None)  # set through the binding subresource
    return view


def _spec(obj: dict) -> dict:
    return obj.get("spec") or {}


def immutable(rt: ResourceType, old: dict, new: dict) -> Problems:
    key = (rt.group, rt.kind)
    out: Problems = []
    if key in (("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "DaemonSet"), ("batch", "Job")):
        if _spec(old).get("selector") != _spec(new).get("selector"):
            out.append(("spec.selector", f"Invalid value: {label_selector_value(_spec(new).get('selector'))}: "
                                         "field is immutable"))
    if key == ("apps", "StatefulSet"):
        mutable = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                   "minReadySeconds")
        if {k: v for k, v in _spec(old).items() if k not in mutable} != \
                {k: v for k, v in _spec(new).items() if k not in mutable}:
            out.append(("spec", STATEFULSET_UPDATE_MESSAGE))
    elif key == ("", "Pod"):
        if _pod_spec_mutable_view(_spec(old)) != _pod_spec_mutable_view(_spec(new)):
            out.append(("spec", POD_UPDATE_MESSAGE))
    elif key == ("", "Service"):
        old_ips = _spec(old).get("clusterIPs") or ([_spec(old)["clusterIP"]] if _spec(old).get("clusterIP") else [])
        new_ips = _spec(new).get("clusterIPs") or []
        if old_ips and old_ips[0] not in ("", "None") and new_ips[:1] != old_ips[:1] \
                and _spec(new).get("type") != "ExternalName":
            out.append(("spec.clusterIPs[0]", _invalid(new_ips, "may not change once set")))
    elif key == ("batch", "Job"):
        if _spec(old).get("template") != _spec(new).get("template"):
            out.append(("spec.template", "Invalid value: core.PodTemplateSpec{...}: field is immutable"))
        if _spec(old).get("completions") != _spec(new).get("completions"):
            out.append(("spec.completions", _invalid(_spec(new).get("completions"), "field is immutable")))
    elif key in (("", "ConfigMap"), ("", "Secret")) and old.get("immutable"):
        for field in ("data", "binaryData"):
            if old.get(field) != new.get(field):
                out.append((field, "Forbidden: field is immutable when `immutable` is set"))
        if new.get("immutable") is not True:
            out.append(("immutable", "Forbidden: field is immutable when `immutable` is set"))
    elif key in (("rbac.authorization.k8s.io", "RoleBinding"), ("rbac.authorization.k8s.io", "ClusterRoleBinding")):
        if old.get("roleRef") != new.get("roleRef"):
            ref = new.get("roleRef") or {}
            out.append(("roleRef", "Invalid value: rbac.RoleRef{APIGroup:%s, Kind:%s, Name:%s}: cannot change roleRef"
                        % (json.dumps(ref.get("apiGroup", "")), json.dumps(ref.get("kind", "")),
                           json.dumps(ref.get("name", "")))))
    elif key == ("", "PersistentVolumeClaim"):
        def view(o: dict) -> dict:
            s = json.loads(json.dumps(_spec(o)))
            s.get("resources", {}).pop("requests", None)
            s.pop("volumeName", None)
            return s
        if view(old) != view(new):
            out.append(("spec", "Forbidden: spec is immutable after creation except resources.requests and "
                                "volumeAttributesClassName for bound claims"))
    return out
