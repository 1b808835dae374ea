"""Strict routing compatibility: the six limits of the seed's "Data Plane Solution" table as checks
over plain Kubernetes/Tencent data (dicts as the kube and cloud adapters return them).

    1. Pods do not support Node LocalDNS                         -> strict-nodelocaldns
    2. Pods are incompatible with NetworkPolicy rules            -> strict-networkpolicy
    3. Pods are incompatible with clusters in IPVS mode          -> strict-ipvs
    4. NodePort/LoadBalancer + externalTrafficPolicy: Local      -> strict-external-traffic-local
    5. node->Pod TCP/UDP (probes) need early demux disabled      -> strict-early-demux
    6. Pod egress must not be SNATed                             -> strict-snat (core.snat)

Decisions:
- Cluster-wide hazards (1, 3, 5, 6) are checked even when no Pod is selected yet: switching the mode
  affects every Pod created afterwards. Pod-specific ones (2, 4) pass when there are no strict Pods.
- NetworkPolicy: a policy whose podSelector selects a strict Pod fails, whether or not a policy
  controller is seen (the seed's limit is unconditional, and a controller installed later would
  enforce it). When a controller runs (kube-router - TKE's NetworkPolicy add-on - Calico, Cilium,
  Antrea, Weave, or a "networkpolicy" add-on/DaemonSet), the other NetworkPolicies in the strict
  Pods' namespaces are a warning: their peer rules may name those Pods, and we do not evaluate peers
  (namespaceSelectors need namespace labels). ``podSelector`` absent or null means ``{}`` (all Pods
  in the namespace): in the API it is a non-pointer LabelSelector whose zero value selects all.
- IPVS: any source that says ``ipvs`` fails (cluster settings ``KubeProxyMode``/``Ipvs``, the
  ``kube-proxy`` ConfigMap's ``config.conf`` ``mode``, or ``--proxy-mode`` on the kube-proxy
  DaemonSet). ``KubeProxyMode: kube-proxy-bpf`` (IPVS-BPF) counts as IPVS: the seed's limit names
  IPVS, and IPVS-BPF is IPVS with an eBPF fast path (``says_ipvs``). No source at all: could not
  determine.
- externalTrafficPolicy: a Service's selector is a plain map (all pairs must match the Pod's labels,
  same namespace); an empty or absent selector selects nothing (such Services have hand-made
  Endpoints, which we do not follow).
- Early demux: both settings must be true (``true`` or ``"true"``: the chart's type is unconfirmed).
- Evidence names at most ``MAX_NAMES`` Pods per object and counts the rest, so a 500-replica
  Deployment does not flood the table; JSON carries the same strings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sgpctl.core.addon_values import DEMUX_KEYS, is_true, values_get
from sgpctl.core.checks import (
    CheckOutcome,
    CheckResult,
    CheckSpec,
    failed,
    passed,
    run_checks,
    undetermined,
    warned,
)
from sgpctl.core.selectors import from_label_selector
from sgpctl.core.snat import SnatVerdict

__all__ = [
    "CHECK_IDS",
    "KUBE_PROXY_BPF",
    "says_ipvs",
    "ID_EARLY_DEMUX",
    "ID_EXTERNAL_TRAFFIC_LOCAL",
    "ID_IPVS",
    "ID_NETWORKPOLICY",
    "ID_NODELOCALDNS",
    "ID_SNAT",
    "MAX_NAMES",
    "StrictInputs",
    "check_early_demux",
    "check_external_traffic_local",
    "check_ipvs",
    "check_networkpolicy",
    "check_nodelocaldns",
    "check_snat",
    "detect_policy_controller",
    "evaluate",
    "kube_proxy_mode_from_configmap",
    "strict_specs",
]

KUBE_SYSTEM = "kube-system"
MAX_NAMES = 10

ID_NODELOCALDNS = "strict-nodelocaldns"
ID_NETWORKPOLICY = "strict-networkpolicy"
ID_IPVS = "strict-ipvs"
ID_EXTERNAL_TRAFFIC_LOCAL = "strict-external-traffic-local"
ID_EARLY_DEMUX = "strict-early-demux"
ID_SNAT = "strict-snat"
CHECK_IDS = (ID_NODELOCALDNS, ID_NETWORKPOLICY, ID_IPVS, ID_EXTERNAL_TRAFFIC_LOCAL, ID_EARLY_DEMUX, ID_SNAT)

# Lower-case, without "-" and "_": "node-local-dns", "nodelocaldns", "NodeLocalDNSCache" all match.
_NODELOCALDNS = "nodelocaldns"
_POLICY_CONTROLLERS = ("kuberouter", "calico", "cilium", "antrea", "weave", "networkpolic")


@dataclass(frozen=True)
class StrictInputs:
    """Everything the strict checks read. ``None`` means "could not be read" where that matters."""

    #: the Pods that policies select (or would): the ones strict routing applies to
    pods: Sequence[Mapping[str, Any]] = ()
    services: Sequence[Mapping[str, Any]] = ()
    network_policies: Sequence[Mapping[str, Any]] = ()
    #: DaemonSets in kube-system
    daemonsets: Sequence[Mapping[str, Any]] = ()
    #: ConfigMap kube-system/kube-proxy, or None when absent
    kube_proxy_configmap: Mapping[str, Any] | None = None
    #: DescribeClusters ClusterNetworkSettings.KubeProxyMode / .Ipvs (None: not known)
    kube_proxy_mode: str | None = None
    ipvs: bool | None = None
    #: eniipamd's values (effective: defaults merged with set values); None: could not be read
    eniipamd_values: Mapping[str, Any] | None = None
    addon_names: Sequence[str] = ()
    #: the SNAT audit (core.snat.evaluate); None: not run
    snat: SnatVerdict | None = None
    #: overrides detection, e.g. "kube-router" (None: detect from daemonsets and add-ons)
    policy_controller: str | None = None


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------

def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _ref(obj: Mapping[str, Any]) -> str:
    meta = _meta(obj)
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


def _normal(name: Any) -> str:
    return str(name or "").lower().replace("-", "").replace("_", "")


def _names(pods: Sequence[Mapping[str, Any]]) -> str:
    """"Pod web-1" or "Pods web-1, web-2" (at most MAX_NAMES names, then a count)."""
    names = sorted(str(_meta(p).get("name")) for p in pods)
    shown = ", ".join(names[:MAX_NAMES])
    rest = len(names) - MAX_NAMES
    if rest > 0:
        shown = f"{shown} and {rest} more"
    return f"Pod {shown}" if len(names) == 1 else f"Pods {shown}"


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def _verb(n: int, singular: str, plural: str) -> str:
    return singular if n == 1 else plural


def _pods_by_namespace(pods: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for pod in pods or ():
        out[_meta(pod).get("namespace") or "default"].append(pod)
    return out


def _in_kube_system(obj: Mapping[str, Any]) -> bool:
    # callers pass kube-system's list; an object without a namespace is taken to be from it
    return (_meta(obj).get("namespace") or KUBE_SYSTEM) == KUBE_SYSTEM


def _containers(workload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((_spec(_spec(workload).get("template") or {})).get("containers") or [])


# --------------------------------------------------------------------------------------------------
# 1. Node LocalDNS
# --------------------------------------------------------------------------------------------------

def check_nodelocaldns(daemonsets: Iterable[Mapping[str, Any]], addon_names: Iterable[str] = ()) -> CheckOutcome:
    found = [f"DaemonSet {_ref(ds)}" for ds in daemonsets or ()
             if _in_kube_system(ds) and _NODELOCALDNS in _normal(_meta(ds).get("name"))]
    found += [f"add-on {name}" for name in addon_names or () if _NODELOCALDNS in _normal(name)]
    if not found:
        return passed("no Node LocalDNS DaemonSet in kube-system and no Node LocalDNS add-on")
    return failed(
        f"Node LocalDNS is installed ({', '.join(found)}): strict-mode Pods cannot use it",
        "uninstall Node LocalDNS before switching to strict routing (TKE console > Add-on management, or "
        "`kubectl -n kube-system delete daemonset node-local-dns` if it was installed by hand), or keep "
        "standard routing",
        found,
    )


# --------------------------------------------------------------------------------------------------
# 2. NetworkPolicy
# --------------------------------------------------------------------------------------------------

def detect_policy_controller(daemonsets: Iterable[Mapping[str, Any]], addon_names: Iterable[str] = ()) -> str | None:
    """What enforces NetworkPolicies here, as evidence text, or None."""
    for ds in daemonsets or ():
        if any(p in _normal(_meta(ds).get("name")) for p in _POLICY_CONTROLLERS):
            return f"DaemonSet {_ref(ds)}"
    for name in addon_names or ():
        if any(p in _normal(name) for p in _POLICY_CONTROLLERS):
            return f"add-on {name}"
    return None


def check_networkpolicy(
    pods: Sequence[Mapping[str, Any]],
    network_policies: Iterable[Mapping[str, Any]],
    policy_controller: str | None = None,
) -> CheckOutcome:
    by_ns = _pods_by_namespace(pods)
    selecting: list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]] = []
    others: list[str] = []
    for np in network_policies or ():
        ns = _meta(np).get("namespace") or "default"
        if ns not in by_ns:
            continue
        selector = from_label_selector(_spec(np).get("podSelector") or {})
        hit = [p for p in by_ns[ns] if selector.matches(_meta(p).get("labels") or {})]
        if hit:
            selecting.append((np, hit))
        else:
            others.append(f"NetworkPolicy {_ref(np)}")
    if selecting:
        deletes = "; ".join(
            f"kubectl -n {_meta(np).get('namespace') or 'default'} delete networkpolicy {_meta(np).get('name')}"
            for np, _ in selecting
        )
        evidence = [f"NetworkPolicy {_ref(np)} selects {_names(hit)}" for np, hit in selecting]
        return failed(
            f"{_plural(len(selecting), 'NetworkPolicy')} {_verb(len(selecting), 'selects', 'select')} "
            "strict-mode Pods, which are incompatible "
            "with NetworkPolicy rules",
            "enforce these rules with the Pods' security groups instead: narrow the policies' podSelector "
            f"so it no longer selects these Pods, or delete them ({deletes}); or keep standard routing",
            evidence + ([f"policy controller: {policy_controller}"] if policy_controller else []),
        )
    if others and policy_controller:
        return warned(
            f"{_plural(len(others), 'NetworkPolicy')} in the strict-mode Pods' namespaces, enforced by "
            f"{policy_controller}: rules that name these Pods as peers may not apply to strict-mode traffic",
            "check that no ingress/egress rule of these policies relies on the strict-mode Pods as peers",
            others + [f"policy controller: {policy_controller}"],
        )
    if not by_ns:
        return passed("no strict-mode Pods to check")
    return passed(f"no NetworkPolicy selects the {_plural(sum(map(len, by_ns.values())), 'strict-mode Pod')}")


# --------------------------------------------------------------------------------------------------
# 3. IPVS
# --------------------------------------------------------------------------------------------------

def kube_proxy_mode_from_configmap(configmap: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(mode, problem) from ConfigMap kube-proxy's ``config.conf`` (a KubeProxyConfiguration in YAML
    or JSON). ``""`` is iptables, kube-proxy's Linux default. (None, reason) when it cannot be read."""
    if configmap is None:
        return None, None
    text = (configmap.get("data") or {}).get("config.conf")
    if text is None:
        return None, "has no config.conf"
    from sgpctl.core.loading import CONFIG_LIMITS, LoadError, load_yaml

    try:
        doc = load_yaml(text, None, CONFIG_LIMITS)
    except LoadError as exc:
        return None, f"config.conf is not valid YAML ({exc.message[:120]})"
    if doc is None:
        return "", None
    if not isinstance(doc, Mapping):
        return None, "config.conf is not a mapping"
    mode = doc.get("mode")
    return ("" if mode is None else str(mode)), None


def _proxy_mode_flag(daemonset: Mapping[str, Any]) -> str | None:
    for c in _containers(daemonset):
        words = [str(w) for w in (c.get("command") or []) + (c.get("args") or [])]
        for i, w in enumerate(words):
            if w.startswith("--proxy-mode="):
                return w.split("=", 1)[1]
            if w == "--proxy-mode" and i + 1 < len(words):
                return words[i + 1]
    return None


def _shown(mode: str) -> str:
    return f"{mode}" if mode else '"" (iptables, the default)'


#: DescribeClusters' KubeProxyMode for IPVS-BPF (CreateCluster's documentation: "ipvs-bpf:
#: KubeProxyMode kube-proxy-bpf"): IPVS with an eBPF fast path, so IPVS as far as strict routing goes
KUBE_PROXY_BPF = "kube-proxy-bpf"


def says_ipvs(mode: str | None) -> bool:
    """Whether a kube-proxy mode value is of the IPVS family: ``ipvs``, ``kube-proxy-bpf`` (IPVS-BPF),
    or any other value naming ipvs."""
    text = (mode or "").strip().lower()
    return "ipvs" in text or text == KUBE_PROXY_BPF


def check_ipvs(
    kube_proxy_mode: str | None = None,
    ipvs: bool | None = None,
    kube_proxy_configmap: Mapping[str, Any] | None = None,
    daemonsets: Iterable[Mapping[str, Any]] = (),
) -> CheckOutcome:
    sources: list[tuple[str, bool]] = []  # (evidence, says ipvs)
    notes: list[str] = []
    if kube_proxy_mode is not None:
        sources.append((f"cluster network settings: KubeProxyMode={kube_proxy_mode or '(empty)'}"
                        + (" (IPVS-BPF: IPVS with an eBPF fast path)" if kube_proxy_mode.strip().lower() == KUBE_PROXY_BPF else ""),
                        says_ipvs(kube_proxy_mode)))
    if ipvs is not None:
        sources.append((f"cluster network settings: Ipvs={'true' if ipvs else 'false'}", bool(ipvs)))
    mode, problem = kube_proxy_mode_from_configmap(kube_proxy_configmap)
    if mode is not None:
        sources.append((f"ConfigMap kube-system/kube-proxy config.conf: mode: {_shown(mode)}", says_ipvs(mode)))
    elif problem:
        notes.append(f"ConfigMap kube-system/kube-proxy {problem}")
    for ds in daemonsets or ():
        if _in_kube_system(ds) and _meta(ds).get("name") == "kube-proxy":
            flag = _proxy_mode_flag(ds)
            if flag is not None:
                sources.append((f"DaemonSet kube-system/kube-proxy: --proxy-mode={flag}", says_ipvs(flag)))
    if not sources:
        return undetermined(
            "kube-proxy's mode is unknown: no cluster network settings, no readable kube-proxy ConfigMap "
            "and no --proxy-mode on the kube-proxy DaemonSet",
            "check the cluster's kube-proxy mode in the TKE console (cluster basic information)",
            notes,
        )
    evidence = [text for text, _ in sources] + notes
    if any(says for _, says in sources):
        which = ", ".join(text for text, says in sources if says)
        return failed(
            f"kube-proxy runs in IPVS mode ({which}): strict routing is incompatible with IPVS",
            "keep standard routing on this cluster, or run the strict-mode workloads in a cluster whose "
            "kube-proxy uses iptables mode (the mode is chosen when a TKE cluster is created)",
            evidence,
        )
    return passed("kube-proxy does not use IPVS", evidence)


# --------------------------------------------------------------------------------------------------
# 4. externalTrafficPolicy: Local
# --------------------------------------------------------------------------------------------------

def _service_selects(service: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    selector = _spec(service).get("selector") or {}
    if not selector:
        return False
    labels = _meta(pod).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def check_external_traffic_local(
    pods: Sequence[Mapping[str, Any]], services: Iterable[Mapping[str, Any]]
) -> CheckOutcome:
    by_ns = _pods_by_namespace(pods)
    evidence: list[str] = []
    fixes: list[str] = []
    for svc in services or ():
        spec = _spec(svc)
        kind = spec.get("type") or "ClusterIP"
        if kind not in ("NodePort", "LoadBalancer") or spec.get("externalTrafficPolicy") != "Local":
            continue
        ns = _meta(svc).get("namespace") or "default"
        hit = [p for p in by_ns.get(ns, ()) if _service_selects(svc, p)]
        if hit:
            evidence.append(f"Service {_ref(svc)} ({kind}, externalTrafficPolicy: Local) selects {_names(hit)}")
            fixes.append(f"kubectl -n {ns} patch service {_meta(svc).get('name')} "
                         "-p '{\"spec\":{\"externalTrafficPolicy\":\"Cluster\"}}'")
    if evidence:
        return failed(
            f"{_plural(len(evidence), 'NodePort/LoadBalancer Service')} with externalTrafficPolicy: Local "
            f"{_verb(len(evidence), 'reaches', 'reach')} strict-mode Pods: clients through "
            f"{_verb(len(evidence), 'it', 'them')} lose connectivity",
            "set externalTrafficPolicy to Cluster (the backends then see the node's address instead of the "
            "client's): " + "; ".join(fixes),
            evidence,
        )
    if not by_ns:
        return passed("no strict-mode Pods to check")
    return passed("no NodePort/LoadBalancer Service with externalTrafficPolicy: Local selects strict-mode Pods")


# --------------------------------------------------------------------------------------------------
# 5. early demux
# --------------------------------------------------------------------------------------------------

def _describe(value: Any) -> str:
    if value is None:
        return "not set"
    return f"{value!r}" if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else repr(value)


def check_early_demux(values: Mapping[str, Any] | None) -> CheckOutcome:
    if values is None:
        return undetermined("eniipamd's values could not be read",
                            "check that the eniipamd add-on is installed (DescribeAddonValues)")
    state = {key: values_get(values, key) for key in DEMUX_KEYS}
    evidence = [f"{key}: {_describe(value)}" for key, value in state.items()]
    wrong = [key for key, value in state.items() if not is_true(value)]
    if not wrong:
        return passed("TCP and UDP early demux are disabled", evidence)
    return failed(
        f"{' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not true: node-to-Pod TCP/UDP "
        "(health and liveness probes) can fail in strict mode",
        f"set {' and '.join(f'{k}=true' for k in wrong)} in the eniipamd add-on's values "
        "(`sgpctl routing set strict` sets them together with the mode)",
        evidence,
    )


# --------------------------------------------------------------------------------------------------
# 6. SNAT
# --------------------------------------------------------------------------------------------------

def check_snat(verdict: SnatVerdict | None) -> CheckOutcome:
    if verdict is None:
        return undetermined("the SNAT audit did not run", "run `sgpctl snat check` for the details")
    return verdict.outcome()


# --------------------------------------------------------------------------------------------------
# as checks
# --------------------------------------------------------------------------------------------------

def _identity(ctx: Any) -> StrictInputs:
    return ctx


def strict_specs(
    get_inputs: Callable[[Any], StrictInputs] = _identity, requires: Sequence[str] = ()
) -> list[CheckSpec]:
    """The six checks as CheckSpecs, reading their inputs through ``get_inputs(context)`` (so a doctor
    context can carry a StrictInputs); ``requires`` is added to each (fatal check ids)."""
    req = tuple(requires)

    def controller(i: StrictInputs) -> str | None:
        return i.policy_controller or detect_policy_controller(i.daemonsets, i.addon_names)

    # Topics, not assertions: in standard routing `doctor` shows these as notes, and "[info] Node
    # LocalDNS is not installed" above "it is installed" would read as a contradiction.
    table: list[tuple[str, str, Callable[[StrictInputs], CheckOutcome]]] = [
        (ID_NODELOCALDNS, "Node LocalDNS (strict-mode Pods cannot use it)",
         lambda i: check_nodelocaldns(i.daemonsets, i.addon_names)),
        (ID_NETWORKPOLICY, "NetworkPolicies selecting strict-mode Pods",
         lambda i: check_networkpolicy(i.pods, i.network_policies, controller(i))),
        (ID_IPVS, "kube-proxy mode (strict routing is incompatible with IPVS)",
         lambda i: check_ipvs(i.kube_proxy_mode, i.ipvs, i.kube_proxy_configmap, i.daemonsets)),
        (ID_EXTERNAL_TRAFFIC_LOCAL, "externalTrafficPolicy: Local Services reaching strict-mode Pods",
         lambda i: check_external_traffic_local(i.pods, i.services)),
        (ID_EARLY_DEMUX, "TCP/UDP early demux (strict routing needs it disabled)",
         lambda i: check_early_demux(i.eniipamd_values)),
        (ID_SNAT, "SNAT of strict-mode Pod egress (ip-masq-agent)",
         lambda i: check_snat(i.snat)),
    ]
    return [
        CheckSpec(check_id, description, (lambda ctx, f=fn: f(get_inputs(ctx))), requires=req)
        for check_id, description, fn in table
    ]


def evaluate(inputs: StrictInputs, category: str = "strict routing compatibility") -> list[CheckResult]:
    """All six checks over ``inputs``; an error inside one becomes that check's ``fail``."""
    return list(run_checks([(category, strict_specs())], inputs))
