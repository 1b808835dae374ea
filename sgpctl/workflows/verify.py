"""`verify pod` / `verify pods`: policy -> Pod annotation -> VpcENI -> the cloud ENI, for one Pod or for
every Pod a policy selects.

Cost is a constant number of Kubernetes list calls (each paginated) plus one DescribeNetworkInterfaces
per 100 ENIs, never a call per Pod: the cluster is read once, ENI ids are batched."""

from __future__ import annotations

from dataclasses import dataclass, field

from sgpctl.core import matching
from sgpctl.core.allocation import node_quota
from sgpctl.core.annotations import VPCENI_LABEL_POD_NAME, VPCENI_LABEL_POD_NAMESPACE, uses_sub_eni
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.core.verify import ENI_NOT_LOOKED_UP, EniFacts, PodVerification, verify_pod, vpceni_eni_id
from sgpctl.errors import InputError
from sgpctl.kube import resources as r


@dataclass
class VerifyReport:
    pods: list[PodVerification] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    calls: dict = field(default_factory=dict)

    def summary(self) -> dict:
        by_ns: dict[str, dict] = {}
        for p in self.pods:
            s = by_ns.setdefault(p.namespace, {"namespace": p.namespace, "pods": 0, "ok": 0, "stale": 0, "failed": 0, "warnings": 0})
            s["pods"] += 1
            if p.ok:
                s["ok"] += 1
            elif p.stale:
                s["stale"] += 1
            else:
                s["failed"] += 1
            if p.warnings:
                s["warnings"] += 1
        totals = {k: sum(s[k] for s in by_ns.values()) for k in ("pods", "ok", "stale", "failed", "warnings")}
        return {**totals, "namespaces": [by_ns[k] for k in sorted(by_ns)]}

    def ok(self, fail_on_warning: bool = False) -> bool:
        return all(p.ok and not (fail_on_warning and p.warnings) for p in self.pods)

    def to_dict(self, fail_on_warning: bool = False) -> dict:
        return {"ok": self.ok(fail_on_warning), "summary": self.summary(), "pods": [p.to_dict() for p in self.pods], "notes": self.notes}


def _index_vpcenis(vpcenis: list[dict]) -> dict[tuple[str, str], list[dict]]:
    index: dict[tuple[str, str], list[dict]] = {}
    for o in vpcenis:
        labels = (o.get("metadata") or {}).get("labels") or {}
        key = (labels.get(VPCENI_LABEL_POD_NAMESPACE), labels.get(VPCENI_LABEL_POD_NAME))
        if key[0] and key[1]:
            index.setdefault(key, []).append(o)
    for lst in index.values():
        lst.sort(key=lambda o: (o["metadata"].get("creationTimestamp") or "", o["metadata"].get("name")))
    return index


def _newest_eni_id(vpcenis: list[dict]) -> str | None:
    """The ENI of the newest VpcENI that names one (the list is sorted oldest first); core.verify
    picks the same one."""
    return next((e for e in map(vpceni_eni_id, reversed(vpcenis)) if e), None)


def _eni_facts(vpc, eni_ids: list[str]) -> dict[str, EniFacts]:
    if not eni_ids:
        return {}
    # A few batches in flight at once: each is a round trip to the cloud (see the adapter).
    found = vpc.describe_network_interfaces(sorted(set(eni_ids)), concurrency=4)
    return {e.eni_id: EniFacts(e.eni_id, tuple(e.security_group_ids)) for e in found}


def _pending_reasons(events: list[dict]) -> dict[tuple[str, str], str]:
    """The latest Warning event per Pod: why it is stuck (FailedScheduling, FailedCreatePodSandBox...)."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for e in events:
        if e.get("type") != "Warning":
            continue
        obj = e.get("involvedObject") or {}
        if obj.get("kind") != "Pod":
            continue
        key = (obj.get("namespace") or (e.get("metadata") or {}).get("namespace"), obj.get("name"))
        when = e.get("lastTimestamp") or e.get("eventTime") or (e.get("metadata") or {}).get("creationTimestamp") or ""
        if key not in out or when >= out[key][0]:
            out[key] = (when, f"{e.get('reason')}: {e.get('message')}")
    return {k: v[1] for k, v in out.items()}


def _node_facts(nodes: list[dict]) -> dict[str, tuple[str | None, bool | None]]:
    facts = {}
    for n in nodes:
        q = node_quota(n)
        facts[q.node] = (q.family, (q.supported and q.quota > 0) if q.instance_type else None)
    return facts


def verify_pods(kube, vpc, *, namespace: str | None = None, label_selector: str | None = None,
                policy: str | None = None, expect_sg: list[str] | None = None,
                sg_limit: int = matching.DEFAULT_SG_LIMIT) -> VerifyReport:
    report = VerifyReport()
    calls_before = kube.calls
    if not kube.serves(r.SGP_GROUP, r.SGP_KIND):
        raise InputError("the cluster does not serve SecurityGroupPolicy: the add-on is not installed",
                         hint="run `sgpctl addon install` (or `sgpctl setup`)")
    sgp = kube.resource(r.SGP_GROUP, r.SGP_KIND)
    policies = [SecurityGroupPolicy.from_object(o) for o in kube.list(sgp, namespace)]
    if policy:
        if not any(p.name == policy for p in policies):
            raise InputError(f"SecurityGroupPolicy {policy!r} not found" + (f" in namespace {namespace}" if namespace else ""),
                             hint="list them with `sgpctl policy list -A`")
    pods = kube.list(r.PODS, namespace, label_selector=label_selector)
    sas = kube.list(r.SERVICEACCOUNTS, namespace)
    rss = kube.list(r.REPLICASETS, namespace)
    nodes = kube.list(r.NODES)
    vpcenis = kube.list(kube.resource(r.VPCENI_GROUP, r.VPCENI_KIND)) if kube.serves(r.VPCENI_GROUP, r.VPCENI_KIND) else []
    events = kube.list(r.EVENTS, namespace)
    result = matching.match(pods, policies, sas, sg_limit=sg_limit, replicasets=rss)
    pods_by_key = {((p["metadata"].get("namespace") or "default"), p["metadata"]["name"]): p for p in pods}
    selected = [m for m in result.pods if (policy is None and (m.policies or m.annotated_groups is not None)) or (policy and policy in m.policies)]
    # Finished Pods hold no sub-ENI: nothing to verify.
    selected = [m for m in selected if m.phase not in matching.FINISHED_PHASES]
    vindex = _index_vpcenis(vpcenis)
    eni_ids = [e for m in selected for e in map(vpceni_eni_id, vindex.get((m.namespace, m.name), [])) if e]
    facts = _eni_facts(vpc, eni_ids)
    nodes_facts = _node_facts(nodes)
    reasons = _pending_reasons(events)
    for m in sorted(selected, key=lambda m: (m.namespace, m.name)):
        pod = pods_by_key.get((m.namespace, m.name))
        vpcenis_of = vindex.get((m.namespace, m.name), [])
        eni_id = _newest_eni_id(vpcenis_of)
        family, supported = nodes_facts.get(m.node, (None, None)) if m.node else (None, None)
        report.pods.append(verify_pod(
            namespace=m.namespace, name=m.name, pod=pod, policies=m.policies, expected=m.expected_groups,
            stale=m.stale, stale_reason=m.stale_reason, vpcenis=vpcenis_of,
            eni=facts.get(eni_id) if eni_id else ENI_NOT_LOOKED_UP,
            node_family=family, node_supported=supported, expect_sg=expect_sg,
            pending_reason=reasons.get((m.namespace, m.name)),
        ))
    report.calls = {"kubernetes": kube.calls - calls_before, "describeNetworkInterfaces": -(-len(set(eni_ids)) // 100)}
    if eni_ids and not facts:
        # Whether DescribeNetworkInterfaces lists per-Pod sub-ENIs is not documented: when it finds
        # none of them, say so once rather than leave N identical failures unexplained.
        report.notes.append(f"DescribeNetworkInterfaces found none of the {len(set(eni_ids))} sub-ENIs the VpcENIs name: "
                            "if the cluster works, this account's VPC API may not list sub-ENIs; check one in the ENI console")
    if not selected:
        report.notes.append("no Pod is selected by a SecurityGroupPolicy" + (f" in namespace {namespace}" if namespace else ""))
    return report


def verify_one(kube, vpc, name: str, namespace: str, *, expect_sg: list[str] | None = None) -> PodVerification:
    """One Pod: the same checks, reading only that Pod's namespace (and its VpcENI by labels)."""
    pod = kube.get(r.PODS, name, namespace)
    if pod is None:
        return verify_pod(namespace=namespace, name=name, pod=None)
    policies: list[SecurityGroupPolicy] = []
    if kube.serves(r.SGP_GROUP, r.SGP_KIND):
        policies = [SecurityGroupPolicy.from_object(o) for o in kube.list(kube.resource(r.SGP_GROUP, r.SGP_KIND), namespace)]
    sas = kube.list(r.SERVICEACCOUNTS, namespace)
    result = matching.match([pod], policies, sas)
    m = result.pods[0] if result.pods else None
    vpcenis = []
    if uses_sub_eni(pod) and kube.serves(r.VPCENI_GROUP, r.VPCENI_KIND):
        selector = f"{VPCENI_LABEL_POD_NAME}={name},{VPCENI_LABEL_POD_NAMESPACE}={namespace}"
        vpcenis = kube.list(kube.resource(r.VPCENI_GROUP, r.VPCENI_KIND), label_selector=selector)
        vpcenis.sort(key=lambda o: (o["metadata"].get("creationTimestamp") or "", o["metadata"].get("name")))
    eni_id = _newest_eni_id(vpcenis)
    facts = _eni_facts(vpc, [eni_id] if eni_id else [])
    node_name = (pod.get("spec") or {}).get("nodeName")
    family = supported = None
    if node_name:
        node = kube.get(r.NODES, node_name)
        if node:
            family, supported = _node_facts([node]).get(node_name, (None, None))
    reasons = _pending_reasons(kube.list(r.EVENTS, namespace)) if (pod.get("status") or {}).get("phase") != "Running" else {}
    return verify_pod(
        namespace=namespace, name=name, pod=pod,
        policies=m.policies if m else (), expected=m.expected_groups if m else (),
        stale=m.stale if m else False, stale_reason=m.stale_reason if m else None,
        vpcenis=vpcenis, eni=facts.get(eni_id) if eni_id else ENI_NOT_LOOKED_UP,
        node_family=family, node_supported=supported, expect_sg=expect_sg,
        pending_reason=reasons.get((namespace, name)),
    )
