"""Server-side printing: ``meta.k8s.io/v1 Table`` answers, so ``kubectl get`` shows the usual columns.

kubectl asks for a Table in its Accept header; without one it would fall back to NAME/AGE. The
columns follow kube-apiserver's printers for the common kinds (pods: NAME READY STATUS RESTARTS AGE,
and IP/NODE with ``-o wide``), a CRD's additionalPrinterColumns for custom resources, and
NAME/AGE otherwise.
"""

from __future__ import annotations

import calendar
import json
import time
from typing import Any, Callable

from .resources import ResourceType

Column = tuple[str, str, int, Callable[[dict], Any]]  # name, type, priority, cell


def wanted(accept: str | None) -> str | None:
    """The Table version the client asked for first (``v1``/``v1beta1``), or None."""
    for media in (accept or "").split(","):
        params = dict(p.strip().split("=", 1) for p in media.split(";")[1:] if "=" in p)
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            return params.get("v", "v1")
        if media.split(";")[0].strip() in ("application/json", "*/*", "application/yaml"):
            return None
    return None


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 192:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        y = h // (24 * 365)
        d = (h // 24) % 365
        return f"{y}y{d}d" if d else f"{y}y"
    return f"{h // (24 * 365)}y"


def _age_of(ts: Any) -> str:
    if not ts:
        return "<unknown>"
    try:
        then = calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))
    except (ValueError, TypeError):
        return "<unknown>"
    return human_duration(time.time() - then)


def _age(o: dict) -> str:
    return _age_of((o.get("metadata") or {}).get("creationTimestamp"))


def _name(o: dict) -> str:
    return (o.get("metadata") or {}).get("name", "")


def _spec(o: dict) -> dict:
    return o.get("spec") or {}


def _status(o: dict) -> dict:
    return o.get("status") or {}


def _pod_status(o: dict) -> str:
    st = _status(o)
    reason = st.get("reason") or st.get("phase") or "Unknown"
    for cs in st.get("initContainerStatuses") or ():
        state = cs.get("state") or {}
        if (state.get("terminated") or {}).get("exitCode", 0) == 0 and "terminated" in state:
            continue
        if "waiting" in state and (state["waiting"].get("reason") or "") not in ("", "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
            break
    else:
        for cs in reversed(st.get("containerStatuses") or ()):
            state = cs.get("state") or {}
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif (state.get("terminated") or {}).get("reason"):
                reason = state["terminated"]["reason"]
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _pod_ready(o: dict) -> str:
    containers = _spec(o).get("containers") or ()
    ready = sum(1 for cs in _status(o).get("containerStatuses") or () if cs.get("ready"))
    return f"{ready}/{len(containers)}"


def _restarts(o: dict) -> int:
    return sum(int(cs.get("restartCount") or 0) for cs in _status(o).get("containerStatuses") or ())


def _node_status(o: dict) -> str:
    ready = next((c for c in _status(o).get("conditions") or () if c.get("type") == "Ready"), None)
    text = "Ready" if ready and ready.get("status") == "True" else ("NotReady" if ready else "Unknown")
    if _spec(o).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def _node_roles(o: dict) -> str:
    labels = (o.get("metadata") or {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k)
    return ",".join(r for r in roles if r) or "<none>"


def _node_ip(o: dict, kind: str) -> str:
    for a in _status(o).get("addresses") or ():
        if a.get("type") == kind:
            return a.get("address") or "<none>"
    return "<none>"


def _ports(o: dict) -> str:
    out = []
    for p in _spec(o).get("ports") or ():
        text = f"{p.get('port')}"
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        out.append(f"{text}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _external_ip(o: dict) -> str:
    spec = _spec(o)
    ips = list(spec.get("externalIPs") or ())
    if spec.get("type") == "LoadBalancer":
        ips += [i.get("ip") or i.get("hostname") for i in (_status(o).get("loadBalancer") or {}).get("ingress") or ()]
        return ",".join(i for i in ips if i) or "<pending>"
    if spec.get("type") == "ExternalName":
        return spec.get("externalName") or "<none>"
    return ",".join(ips) or "<none>"


def _images(o: dict) -> tuple[str, str]:
    containers = ((_spec(o).get("template") or {}).get("spec") or {}).get("containers") or ()
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _selector_text(o: dict) -> str:
    sel = _spec(o).get("selector") or {}
    parts = [f"{k}={v}" for k, v in (sel.get("matchLabels") or {}).items()]
    return ",".join(parts) or "<none>"


def _template_images(spec: dict) -> tuple[str, str]:
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or ()
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _job_duration(o: dict) -> str:
    st = _status(o)
    start = st.get("startTime")
    if not start:
        return ""
    try:
        begin = calendar.timegm(time.strptime(start, "%Y-%m-%dT%H:%M:%SZ"))
        end = calendar.timegm(time.strptime(st["completionTime"], "%Y-%m-%dT%H:%M:%SZ")) \
            if st.get("completionTime") else time.time()
    except (ValueError, TypeError):
        return ""
    return human_duration(end - begin)


def _job_status(o: dict) -> str:
    for c in _status(o).get("conditions") or ():
        if c.get("status") == "True" and c.get("type") in ("Complete", "Failed", "Suspended"):
            return c["type"]
    return "Running"


def _hpa_targets(o: dict) -> str:
    current = {(m.get("resource") or {}).get("name"): m for m in _status(o).get("currentMetrics") or ()}
    out = []
    for m in _spec(o).get("metrics") or ():
        res = m.get("resource") or m.get("containerResource") or {}
        target = res.get("target") or {}
        have = (((current.get(res.get("name")) or {}).get("resource") or {}).get("current") or {})
        if target.get("averageUtilization") is not None:
            now = f"{have['averageUtilization']}%" if have.get("averageUtilization") is not None else "<unknown>"
            out.append(f"{res.get('name')}: {now}/{target['averageUtilization']}%")
        elif target.get("averageValue") is not None:
            out.append(f"{res.get('name')}: {have.get('averageValue', '<unknown>')}/{target['averageValue']}")
        else:
            out.append("<unknown>")
    return ", ".join(out) or "<none>"


def _subjects(o: dict, kind: str) -> str:
    names = []
    for s in o.get("subjects") or ():
        if s.get("kind") == kind:
            names.append(f"{s.get('namespace')}/{s.get('name')}" if kind == "ServiceAccount" else s.get("name", ""))
    return ", ".join(names)


def _endpoints_text(addresses: list[str], limit: int = 3) -> str:
    if not addresses:
        return "<none>"
    text = ",".join(addresses[:limit])
    return text + (f" + {len(addresses) - limit} more..." if len(addresses) > limit else "")


def _endpoints(o: dict) -> str:
    out = []
    for subset in o.get("subsets") or ():
        for a in subset.get("addresses") or ():
            for p in subset.get("ports") or [{}]:
                out.append(f"{a.get('ip')}:{p['port']}" if p.get("port") else a.get("ip", ""))
    return _endpoints_text(out)


def _slice_endpoints(o: dict) -> str:
    return _endpoints_text([a for e in o.get("endpoints") or () for a in e.get("addresses") or ()])


def _slice_ports(o: dict) -> str:
    ports = [str(p.get("port")) for p in o.get("ports") or () if p.get("port") is not None]
    return ",".join(ports) or "<unset>"


def _owner(o: dict) -> str:
    for ref in (o.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            group = (ref.get("apiVersion") or "").split("/")[0] if "/" in (ref.get("apiVersion") or "") else ""
            kind = ref.get("kind", "").lower()
            return f"{kind}.{group}/{ref.get('name')}" if group else f"{kind}/{ref.get('name')}"
    return "<none>"


_NAME: Column = ("Name", "string", 0, _name)
_AGE: Column = ("Age", "string", 0, _age)
_CREATED_AT: Column = ("Created At", "date", 0, lambda o: (o.get("metadata") or {}).get("creationTimestamp", ""))

_COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "Pod"): [
        _NAME, ("Ready", "string", 0, _pod_ready), ("Status", "string", 0, _pod_status),
        ("Restarts", "string", 0, lambda o: str(_restarts(o))), _AGE,
        ("IP", "string", 1, lambda o: _status(o).get("podIP") or "<none>"),
        ("Node", "string", 1, lambda o: _spec(o).get("nodeName") or "<none>"),
        ("Nominated Node", "string", 1, lambda o: _status(o).get("nominatedNodeName") or "<none>"),
        ("Readiness Gates", "string", 1, lambda o: "<none>"),
    ],
    ("", "Node"): [
        _NAME, ("Status", "string", 0, _node_status), ("Roles", "string", 0, _node_roles), _AGE,
        ("Version", "string", 0, lambda o: (_status(o).get("nodeInfo") or {}).get("kubeletVersion", "")),
        ("Internal-IP", "string", 1, lambda o: _node_ip(o, "InternalIP")),
        ("External-IP", "string", 1, lambda o: _node_ip(o, "ExternalIP")),
        ("OS-Image", "string", 1, lambda o: (_status(o).get("nodeInfo") or {}).get("osImage", "<unknown>")),
        ("Kernel-Version", "string", 1, lambda o: (_status(o).get("nodeInfo") or {}).get("kernelVersion", "<unknown>")),
        ("Container-Runtime", "string", 1,
         lambda o: (_status(o).get("nodeInfo") or {}).get("containerRuntimeVersion", "<unknown>")),
    ],
    ("apps", "Deployment"): [
        _NAME,
        ("Ready", "string", 0, lambda o: f"{_status(o).get('readyReplicas', 0)}/{_spec(o).get('replicas', 0)}"),
        ("Up-to-date", "integer", 0, lambda o: _status(o).get("updatedReplicas", 0)),
        ("Available", "integer", 0, lambda o: _status(o).get("availableReplicas", 0)), _AGE,
        ("Containers", "string", 1, lambda o: _images(o)[0]), ("Images", "string", 1, lambda o: _images(o)[1]),
        ("Selector", "string", 1, _selector_text),
    ],
    ("apps", "ReplicaSet"): [
        _NAME, ("Desired", "integer", 0, lambda o: _spec(o).get("replicas", 0)),
        ("Current", "integer", 0, lambda o: _status(o).get("replicas", 0)),
        ("Ready", "integer", 0, lambda o: _status(o).get("readyReplicas", 0)), _AGE,
    ],
    ("apps", "DaemonSet"): [
        _NAME, ("Desired", "integer", 0, lambda o: _status(o).get("desiredNumberScheduled", 0)),
        ("Current", "integer", 0, lambda o: _status(o).get("currentNumberScheduled", 0)),
        ("Ready", "integer", 0, lambda o: _status(o).get("numberReady", 0)),
        ("Up-to-date", "integer", 0, lambda o: _status(o).get("updatedNumberScheduled", 0)),
        ("Available", "integer", 0, lambda o: _status(o).get("numberAvailable", 0)),
        ("Node Selector", "string", 0, lambda o: ",".join(
            f"{k}={v}" for k, v in (((_spec(o).get("template") or {}).get("spec") or {}).get("nodeSelector") or {})
            .items()) or "<none>"),
        _AGE, ("Containers", "string", 1, lambda o: _images(o)[0]), ("Images", "string", 1, lambda o: _images(o)[1]),
        ("Selector", "string", 1, _selector_text),
    ],
    ("apps", "StatefulSet"): [
        _NAME, ("Ready", "string", 0, lambda o: f"{_status(o).get('readyReplicas', 0)}/{_spec(o).get('replicas', 0)}"),
        _AGE, ("Containers", "string", 1, lambda o: _images(o)[0]), ("Images", "string", 1, lambda o: _images(o)[1]),
    ],
    ("apps", "ControllerRevision"): [
        _NAME, ("Controller", "string", 0, _owner), ("Revision", "integer", 0, lambda o: o.get("revision", 0)), _AGE,
    ],
    ("batch", "Job"): [
        _NAME, ("Status", "string", 0, _job_status),
        ("Completions", "string", 0, lambda o: f"{_status(o).get('succeeded', 0)}/{_spec(o).get('completions', 1)}"),
        ("Duration", "string", 0, _job_duration), _AGE,
        ("Containers", "string", 1, lambda o: _template_images(_spec(o))[0]),
        ("Images", "string", 1, lambda o: _template_images(_spec(o))[1]),
        ("Selector", "string", 1, _selector_text),
    ],
    ("batch", "CronJob"): [
        _NAME, ("Schedule", "string", 0, lambda o: _spec(o).get("schedule", "")),
        ("Timezone", "string", 0, lambda o: _spec(o).get("timeZone") or "<none>"),
        ("Suspend", "boolean", 0, lambda o: bool(_spec(o).get("suspend"))),
        ("Active", "integer", 0, lambda o: len(_status(o).get("active") or ())),
        ("Last Schedule", "string", 0, lambda o: _age_of(_status(o).get("lastScheduleTime")) if
         _status(o).get("lastScheduleTime") else "<none>"), _AGE,
    ],
    ("autoscaling", "HorizontalPodAutoscaler"): [
        _NAME, ("Reference", "string", 0, lambda o: "{}/{}".format((_spec(o).get("scaleTargetRef") or {}).get("kind"),
                                                                   (_spec(o).get("scaleTargetRef") or {}).get("name"))),
        ("Targets", "string", 0, _hpa_targets), ("MinPods", "string", 0, lambda o: str(_spec(o).get("minReplicas", 1))),
        ("MaxPods", "integer", 0, lambda o: _spec(o).get("maxReplicas", 0)),
        ("Replicas", "integer", 0, lambda o: _status(o).get("currentReplicas", 0)), _AGE,
    ],
    ("policy", "PodDisruptionBudget"): [
        _NAME, ("Min Available", "string", 0, lambda o: str(_spec(o)["minAvailable"]) if "minAvailable" in _spec(o)
                                                        else "N/A"),
        ("Max Unavailable", "string", 0, lambda o: str(_spec(o)["maxUnavailable"]) if "maxUnavailable" in _spec(o)
                                                  else "N/A"),
        ("Allowed Disruptions", "integer", 0, lambda o: _status(o).get("disruptionsAllowed", 0)), _AGE,
    ],
    ("coordination.k8s.io", "Lease"): [
        _NAME, ("Holder", "string", 0, lambda o: _spec(o).get("holderIdentity") or ""), _AGE,
    ],
    ("discovery.k8s.io", "EndpointSlice"): [
        _NAME, ("AddressType", "string", 0, lambda o: o.get("addressType", "")),
        ("Ports", "string", 0, _slice_ports), ("Endpoints", "string", 0, _slice_endpoints), _AGE,
    ],
    ("", "Endpoints"): [_NAME, ("Endpoints", "string", 0, _endpoints), _AGE],
    ("", "Secret"): [
        _NAME, ("Type", "string", 0, lambda o: o.get("type", "")),
        ("Data", "integer", 0, lambda o: len(o.get("data") or {})), _AGE,
    ],
    ("", "PersistentVolumeClaim"): [
        _NAME, ("Status", "string", 0, lambda o: _status(o).get("phase", "")),
        ("Volume", "string", 0, lambda o: _spec(o).get("volumeName", "")),
        ("Capacity", "string", 0, lambda o: (_status(o).get("capacity") or {}).get("storage", "")),
        ("Access Modes", "string", 0, lambda o: ",".join(
            {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
            .get(m, m) for m in _status(o).get("accessModes") or ())),
        ("StorageClass", "string", 0, lambda o: _spec(o).get("storageClassName") or ""),
        ("VolumeAttributesClass", "string", 0, lambda o: _spec(o).get("volumeAttributesClassName") or "<unset>"),
        _AGE,
    ],
    ("networking.k8s.io", "Ingress"): [
        _NAME, ("Class", "string", 0, lambda o: _spec(o).get("ingressClassName") or "<none>"),
        ("Hosts", "string", 0, lambda o: ",".join(r.get("host") or "*" for r in _spec(o).get("rules") or ()) or "*"),
        ("Address", "string", 0, lambda o: ",".join(i.get("ip") or i.get("hostname") or "" for i in
                                                    ((_status(o).get("loadBalancer") or {}).get("ingress") or ()))),
        ("Ports", "string", 0, lambda o: "80, 443" if _spec(o).get("tls") else "80"), _AGE,
    ],
    ("networking.k8s.io", "NetworkPolicy"): [
        _NAME, ("Pod-Selector", "string", 0, lambda o: ",".join(
            f"{k}={v}" for k, v in ((_spec(o).get("podSelector") or {}).get("matchLabels") or {}).items())
            or "<none>"), _AGE,
    ],
    ("rbac.authorization.k8s.io", "Role"): [_NAME, _CREATED_AT],
    ("rbac.authorization.k8s.io", "ClusterRole"): [_NAME, _CREATED_AT],
    ("rbac.authorization.k8s.io", "RoleBinding"): [
        _NAME, ("Role", "string", 0, lambda o: "{}/{}".format((o.get("roleRef") or {}).get("kind"),
                                                              (o.get("roleRef") or {}).get("name"))), _AGE,
        ("Users", "string", 1, lambda o: _subjects(o, "User")), ("Groups", "string", 1, lambda o: _subjects(o, "Group")),
        ("ServiceAccounts", "string", 1, lambda o: _subjects(o, "ServiceAccount")),
    ],
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): [
        _NAME, ("Role", "string", 0, lambda o: "{}/{}".format((o.get("roleRef") or {}).get("kind"),
                                                              (o.get("roleRef") or {}).get("name"))), _AGE,
        ("Users", "string", 1, lambda o: _subjects(o, "User")), ("Groups", "string", 1, lambda o: _subjects(o, "Group")),
        ("ServiceAccounts", "string", 1, lambda o: _subjects(o, "ServiceAccount")),
    ],
    ("", "Service"): [
        _NAME, ("Type", "string", 0, lambda o: _spec(o).get("type", "ClusterIP")),
        ("Cluster-IP", "string", 0, lambda o: _spec(o).get("clusterIP") or "<none>"),
        ("External-IP", "string", 0, _external_ip), ("Port(s)", "string", 0, _ports), _AGE,
        ("Selector", "string", 1, lambda o: ",".join(f"{k}={v}" for k, v in (_spec(o).get("selector") or {}).items())
         or "<none>"),
    ],
    ("", "Namespace"): [_NAME, ("Status", "string", 0, lambda o: _status(o).get("phase", "")), _AGE],
    ("", "ConfigMap"): [_NAME, ("Data", "integer", 0, lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
                        _AGE],
    ("", "ServiceAccount"): [_NAME, ("Secrets", "integer", 0, lambda o: len(o.get("secrets") or ())), _AGE],
    ("", "Event"): [
        ("Last Seen", "string", 0, lambda o: _age_of(o.get("lastTimestamp") or o.get("eventTime")
                                                     or (o.get("metadata") or {}).get("creationTimestamp"))),
        ("Type", "string", 0, lambda o: o.get("type", "")), ("Reason", "string", 0, lambda o: o.get("reason", "")),
        ("Object", "string", 0, lambda o: "{}/{}".format(((o.get("involvedObject") or {}).get("kind") or "").lower(),
                                                        (o.get("involvedObject") or {}).get("name", ""))),
        ("Message", "string", 0, lambda o: o.get("message", "")),
    ],
    ("apiextensions.k8s.io", "CustomResourceDefinition"): [
        _NAME, ("Created At", "date", 0, lambda o: (o.get("metadata") or {}).get("creationTimestamp", "")),
    ],
}


def _json_path(path: str) -> Callable[[dict], Any]:
    """The simple JSONPath of additionalPrinterColumns: ``.a.b``, ``.a[0].b``."""
    steps: list[Any] = []
    for part in path.strip().lstrip(".").split("."):
        while "[" in part:
            head, _, rest = part.partition("[")
            if head:
                steps.append(head)
            idx, _, part = rest.partition("]")
            steps.append(int(idx) if idx.lstrip("-").isdigit() else idx)
        if part:
            steps.append(part)

    def get(obj: dict) -> Any:
        node: Any = obj
        for s in steps:
            if isinstance(s, int) and isinstance(node, list) and -len(node) <= s < len(node):
                node = node[s]
            elif isinstance(s, str) and isinstance(node, dict):
                node = node.get(s)
            else:
                return None
            if node is None:
                return None
        return node
    return get


def _custom_columns(rt: ResourceType) -> list[Column]:
    cols: list[Column] = [_NAME]
    for c in rt.printer_columns:
        getter = _json_path(c.get("jsonPath", ""))
        ctype = c.get("type", "string")

        def cell(o: dict, getter: Callable[[dict], Any] = getter, ctype: str = ctype) -> Any:
            value = getter(o)
            if value is None:
                return None
            if ctype == "date":
                return _age_of(value)
            if isinstance(value, (dict, list)):
                return json.dumps(value, separators=(",", ":"))
            return value

        cols.append((c.get("name", ""), "string" if ctype == "date" else ctype, int(c.get("priority") or 0), cell))
    if len(cols) == 1:
        cols.append(_AGE)
    return cols


def columns_for(rt: ResourceType) -> list[Column]:
    if rt.crd is not None:
        return _custom_columns(rt)
    return _COLUMNS.get((rt.group, rt.kind), [_NAME, _AGE])


def table(rt: ResourceType, objs: list[dict], query: dict, version: str = "v1") -> dict:
    cols = columns_for(rt)
    include = query.get("includeObject") or "Metadata"
    rows = []
    for o in objs:
        row: dict[str, Any] = {"cells": [c[3](o) for c in cols]}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}",
                             "metadata": o.get("metadata") or {}}
        rows.append(row)
    return {
        "kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": {},
        "columnDefinitions": [{"name": n, "type": t, "format": "name" if n == "Name" else "", "description": "",
                               "priority": p} for n, t, p, _ in cols],
        "rows": rows,
    }
