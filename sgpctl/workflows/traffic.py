"""Will the Pods' own security groups let their traffic through? `traffic check` (every flow the Pods
a policy selects need), over ``core.traffic``; `traffic explain` (one flow) is
``workflows.traffic_explain``, on the same reads.

One read, many evaluations: ``gather`` reads everything once - the cluster through the command's
``ClusterView`` (Pods, ServiceAccounts, policies, VpcENIs, nodes, Services, the cluster DNS), the
cloud in batches (one DescribeNetworkInterfaces per 100 sub-ENIs for the Pods' ``GroupSet`` order;
``describe_rule_book``: DescribeSecurityGroupPolicies per group, the templates and the members of
referenced groups; one DescribeSubnets listing of the cluster's VPC; eniipamd's values) - and
``evaluate`` judges the flows under the current routing or a "what if" mode without reading again.
`doctor`, `routing check` and `verify pod` reuse the same facts, so doctor makes one rules read.

Decisions:

- A Pod's groups: its sub-ENI's ``GroupSet`` in the cloud's order; for a Pod a policy selects that
  has no sub-ENI yet (created before the policy), the groups it gets once rebuilt (the policies'
  ``groupIds`` in policy-name order), marked as a prediction.
- The routing mode of a Pod is the one in force when its sub-ENI was set up (the TKE document: a
  change "only takes effect for incremental Pods"). No API sgpctl reads tells when eniipamd's
  values last changed (DescribeAddon has only a CreateTime; the values keep no history), so for a
  Pod that exists the current mode is used and marked as assumed; where the other mode would
  change an answer, the answer says so. A Pod yet to be created gets the current mode (assumed
  too while eniipamd is rolling out a change). ``--routing`` puts every Pod in that mode, as after
  a switch and a rebuild.
- Nodes are filtered by Pod security groups only; their own ENI groups are not read (the core
  notes that as an assumption on each flow it concerns).
- Kubelet probes and Services reached through kube-proxy come from the nodes: the rule to add names
  the subnets of the cluster's VPC that hold the nodes, so new nodes in them work too. DNS Pods'
  subnets likewise.
- A ClusterIP Service's clients are known when a Pod declares the Service's IP in its
  ``sgpctl.io/egress`` annotation (with a port of the Service); otherwise the need is noted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any

from sgpctl.core import matching
from sgpctl.core.annotations import uses_sub_eni
from sgpctl.core.checks import CheckResult, Status, exit_code, to_json
from sgpctl.core.traffic import (
    EGRESS_ANNOTATION,
    ENI,
    EXTERNAL,
    STANDARD,
    STRICT,
    SUB_ENI,
    VIRTUAL,
    ClusterDns,
    Endpoint,
    Need,
    NeedResult,
    RuleBook,
    TrafficDecision,
    check_needs,
    cluster_dns,
    explain,
    find_shadowing,
    needs_key,
    parse_egress,
    pod_endpoint,
    pod_needs,
)
from sgpctl.core.traffic.needs import DNS, EGRESS, PROBE, SERVICE, PodNeeds, probes, service_selects
from sgpctl.core.traffic.space import parse_network
from sgpctl.core.verify import newest_eni_id
from sgpctl.errors import ExitCode, InputError, SgpctlError
from sgpctl.kube import resources as r
from sgpctl.workflows.clients import Cloud, TkeApi, VpcApi
from sgpctl.workflows.view import ClusterView, object_key

MODES = (STRICT, STANDARD)
KUBE_SYSTEM = "kube-system"
CLUSTER_DNS = "kube-dns"
#: DescribeNetworkInterfaces batches in flight at once
ENI_CONCURRENCY = 4
#: the kinds of needs, in the order a Pod's checks are listed
KINDS = (PROBE, DNS, SERVICE, EGRESS)

Key = tuple[str, str]


# --------------------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Routing:
    """eniipamd's routing mode now (``current``; None when eniipamd is not installed), whether its
    values are settled (``Succeeded``), and a "what if" mode that overrides both."""

    current: str | None
    settled: bool = True
    what_if: str | None = None

    def for_pod(self, *, exists: bool) -> tuple[str | None, bool]:
        """(the mode, whether it is assumed) of a Pod whose sub-ENI ``exists`` or is yet to be made."""
        if self.what_if is not None:
            return self.what_if, False
        if self.current is None:
            return None, True
        return self.current, exists or not self.settled

    def with_what_if(self, mode: str | None) -> Routing:
        from sgpctl.core.addon_values import routing_mode

        return replace(self, what_if=None if mode is None else routing_mode(mode, flag="--routing"))

    def describe(self) -> str:
        now = f"{self.current} routing" if self.current else "routing mode unknown (eniipamd is not installed)"
        if not self.settled:
            now += " (eniipamd is rolling out a change)"
        if self.what_if:
            return f"what if every Pod ran {self.what_if} routing (after a switch and a rebuild); now: {now}"
        return now

    def to_dict(self) -> dict[str, Any]:
        return {"current": self.current, "settled": self.settled, "whatIf": self.what_if}


def read_routing(tke: TkeApi, cluster_id: str | None, eniipamd=None) -> Routing:
    """The routing mode from eniipamd's values (``eniipamd``: values already read)."""
    from sgpctl.workflows.addons import SUCCEEDED, read_eniipamd

    if eniipamd is None:
        if not cluster_id:
            return Routing(None)
        eniipamd = read_eniipamd(tke, cluster_id)
    if not eniipamd.state.installed:
        return Routing(None)
    return Routing(eniipamd.mode, eniipamd.state.phase == SUCCEEDED)


# --------------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Side:
    """A Pod as an endpoint, with how its groups and routing mode were found."""

    key: Key
    pod: dict
    endpoint: Endpoint
    routing_assumed: bool
    #: TKE put the Pod on a sub-ENI (``uses_sub_eni``), read once for the endpoint and the rule book
    on_sub_eni: bool
    eni_id: str | None = None

    def in_mode(self, mode: str | None) -> Side:
        """The same Pod as if its sub-ENI were set up under ``mode``."""
        if mode is None or self.endpoint.kind != SUB_ENI:
            return self
        return replace(self, endpoint=replace(self.endpoint, routing=mode), routing_assumed=False)

    def to_dict(self) -> dict[str, Any]:
        ep = self.endpoint
        return {"namespace": self.key[0], "name": self.key[1], "node": ep.node, "ip": ep.address,
                "networking": ep.kind, "eniId": self.eni_id,
                "groups": None if ep.groups is None else list(ep.groups), "groupsPredicted": ep.predicted,
                "routing": ep.routing, "routingAssumed": self.routing_assumed}


def node_ip(node: Mapping[str, Any]) -> str | None:
    for addr in (node.get("status") or {}).get("addresses") or ():
        if addr.get("type") == "InternalIP" and addr.get("address"):
            return addr["address"]
    return None


def node_endpoints(nodes: Iterable[Mapping[str, Any]]) -> dict[str, Endpoint]:
    out = {}
    for n in nodes:
        name, ip = (n.get("metadata") or {}).get("name"), node_ip(n)
        if name and ip and parse_network(ip) is not None:
            out[name] = Endpoint.node_endpoint(name, ip)
    return out


def eni_groups(view: ClusterView, vpc: VpcApi, keys: Iterable[Key],
               known: Mapping[Key, tuple[str, Sequence[str]]] | None = None) -> tuple[dict[Key, tuple[str, ...]], dict[Key, str], list]:
    """For Pods on a sub-ENI: the ENI's groups in the cloud's order, the ENI id, and the ENIs read
    (their addresses are the ones whose bindings are known). One DescribeNetworkInterfaces per 100;
    ``known``: (ENI id, groups) a caller read already (``verify``), not asked again."""
    from sgpctl.cloud.types import NetworkInterface

    index = view.vpcenis_by_pod()
    pods = view.pods_by_key()
    ids: dict[Key, str] = {}
    groups: dict[Key, tuple[str, ...]] = {}
    found: list = []
    known = known or {}
    for key in keys:
        hit = known.get(key)
        if hit is not None:
            eni_id, group_ids = hit
            group_ids = groups[key] = tuple(group_ids)
            ids[key] = eni_id
            ip = ((pods.get(key) or {}).get("status") or {}).get("podIP")
            found.append(NetworkInterface(eni_id, None, None, None, group_ids, (ip,) if ip else ()))
            continue
        eni_id = newest_eni_id(index.get(key, []))
        if eni_id:
            ids[key] = eni_id
    wanted = sorted({e for k, e in ids.items() if k not in groups})
    if wanted:
        read = vpc.describe_network_interfaces(wanted, concurrency=ENI_CONCURRENCY)
        by_id = {e.eni_id: e for e in read}
        groups.update({key: tuple(by_id[e].security_group_ids) for key, e in ids.items() if e in by_id and key not in groups})
        found.extend(read)
    return groups, ids, found


class SideBuilder:
    """Builds ``Side``s from Pods: groups from ``groups`` (their ENIs), else predicted."""

    def __init__(self, view: ClusterView, routing: Routing, groups: Mapping[Key, tuple[str, ...]],
                 eni_ids: Mapping[Key, str]):
        self.view = view
        self.routing = routing
        self.groups = groups
        self.eni_ids = eni_ids
        self._serviceaccounts: dict[str, dict[Key, dict]] = {}
        #: ``routing.for_pod`` has two answers (a Pod on its sub-ENI, or yet to get one): asked once each
        self._modes = {exists: routing.for_pod(exists=exists) for exists in (True, False)}

    def _policies(self, namespace: str):
        return self.view.policies_in(namespace) if self.view.serves_policies else []

    def _sas(self, namespace: str) -> dict[Key, dict]:
        if namespace not in self._serviceaccounts:
            self._serviceaccounts[namespace] = {object_key(sa): sa for sa in self.view.list(r.SERVICEACCOUNTS, namespace)}
        return self._serviceaccounts[namespace]

    def side(self, pod: dict, key: Key | None = None, *, on_sub_eni: bool | None = None) -> Side:
        """Raises ValueError for a Pod without a readable address (``key``: its key, ``on_sub_eni``:
        ``uses_sub_eni(pod)``, when known)."""
        key = key or object_key(pod)
        exists = uses_sub_eni(pod) if on_sub_eni is None else on_sub_eni
        mode, assumed = self._modes[exists]
        if exists:
            ep = pod_endpoint(pod, routing=mode, eni_groups=self.groups.get(key), on_sub_eni=True)
        else:
            ep = pod_endpoint(pod, routing=mode, eni_groups=self.groups.get(key), policies=self._policies(key[0]),
                              serviceaccounts=self._sas(key[0]), on_sub_eni=False)
        if ep.kind != SUB_ENI:
            assumed = False
        return Side(key, pod, ep, assumed, exists, self.eni_ids.get(key))


# --------------------------------------------------------------------------------------------------
# Subnets
# --------------------------------------------------------------------------------------------------

def vpc_subnet_cidrs(cloud: Cloud, cluster_id: str, cluster=None) -> list[str]:
    """The CIDR blocks of every subnet of the cluster's VPC (one DescribeSubnets listing)."""
    cluster = cluster if cluster is not None else cloud.tke.describe_cluster(cluster_id)
    if not cluster.vpc_id:
        return []
    return [s.cidr_block for s in cloud.vpc.describe_subnets(filters={"vpc-id": cluster.vpc_id}) if s.cidr_block]


def holding(addresses: Iterable[str], cidrs: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the CIDRs that hold some of the addresses, in order; the addresses none holds)."""
    nets = [(c, parse_network(c)) for c in cidrs]
    used: dict[str, None] = {}
    outside = []
    for a in addresses:
        ip = parse_network(a)
        hit = next((c for c, n in nets if ip is not None and n is not None and ip.version == n.version
                    and ip.subnet_of(n)), None)
        if hit is None:
            outside.append(a)
        else:
            used.setdefault(hit, None)
    return list(used), outside


@dataclass
class NodeSubnets:
    """Where the nodes live: the subnets holding their addresses; nodes outside every subnet of the
    VPC keep their own address (a /32)."""

    cidrs: list[str]
    outside: list[str]

    @property
    def rules_peers(self) -> list[str]:
        return self.cidrs + [f"{a}/32" for a in self.outside]


def node_subnets(view: ClusterView, cloud: Cloud, cluster_id: str) -> NodeSubnets:
    ips = sorted({ep.address for ep in node_endpoints(view.nodes).values()})
    if not ips:
        return NodeSubnets([], [])
    cidrs, outside = holding(ips, vpc_subnet_cidrs(cloud, cluster_id))
    return NodeSubnets(cidrs, outside)


# --------------------------------------------------------------------------------------------------
# Gathering the facts
# --------------------------------------------------------------------------------------------------

@dataclass
class TrafficFacts:
    routing: Routing
    book: RuleBook
    #: the Pods checked (a policy selects them, or they are on a sub-ENI), by key
    pods: list[Side]
    nodes: dict[str, Endpoint]
    node_cidrs: list[str]
    dns_service: dict | None
    dns_pods: list[Side]
    dns_cidrs: list[str]
    services: list[dict]
    #: (namespace, Service) -> the Pods that declare it in sgpctl.io/egress
    clients: dict[Key, list[Side]]
    notes: list[str] = field(default_factory=list)
    #: each Pod's ``needs_key`` (and IP version), made once for every check that judges it
    needs_keys: dict[Key, tuple] = field(default_factory=dict, repr=False, compare=False)


def _checked_pods(view: ClusterView) -> tuple[dict[Key, dict], list[str]]:
    """The Pods a policy selects or that are on a sub-ENI, running or to run, with an address, by
    key in key order."""
    pods = view.pods_by_key()
    out, notes = [], []
    for m in view.match().pods:
        if m.phase in matching.FINISHED_PHASES or m.host_network:
            continue
        if not (m.policies or m.annotated_groups is not None):
            continue
        pod = pods.get((m.namespace, m.name))
        if pod is None:
            continue
        if not (pod.get("status") or {}).get("podIP"):
            notes.append(f"pod/{m.namespace}/{m.name} has no IP address yet: not checked")
            continue
        out.append(((m.namespace, m.name), pod))
    out.sort(key=itemgetter(0))
    return dict(out), notes


def _service_clients(pods: Iterable[dict], services: Iterable[dict]) -> dict[Key, list[dict]]:
    """Pods that name a ClusterIP Service's address, with one of its ports, in sgpctl.io/egress."""
    by_ip: dict[str, list[dict]] = {}
    for svc in services:
        ip = (svc.get("spec") or {}).get("clusterIP")
        if ip and parse_network(ip) is not None:
            by_ip.setdefault(str(parse_network(ip).network_address), []).append(svc)
    out: dict[Key, list[dict]] = {}
    for pod in pods:
        text = ((pod.get("metadata") or {}).get("annotations") or {}).get(EGRESS_ANNOTATION)
        if not text:
            continue
        items, _ = parse_egress(text)
        for item in items:
            net = parse_network(item.address)
            if net is None or net.num_addresses != 1:
                continue
            for svc in by_ip.get(str(net.network_address), ()):
                ports = (svc.get("spec") or {}).get("ports") or ()
                if any(str(p.get("protocol") or "TCP").lower() == item.protocol and item.lo <= int(p.get("port") or 0) <= item.hi
                       for p in ports):
                    key = object_key(svc)
                    if pod not in out.setdefault(key, []):
                        out[key].append(pod)
    return out


def side_groups(sides: Iterable[Side]) -> list[str]:
    """Every group the sides carry, sorted."""
    return sorted({g for s in sides if s.endpoint.groups for g in s.endpoint.groups})


def rule_book(vpc: VpcApi, sides: Iterable[Side], enis: Sequence, nodes: Iterable[Endpoint], *,
              groups: Sequence[str] | None = None) -> RuleBook:
    """One batched read of the rules of every group the sides carry (``groups``: ``side_groups``
    when made already). The nodes' addresses and those of Pods on a node's ENIs are on ENIs the
    listing of a group's members shows, so whether they are members is certain; so is it for the
    sub-ENIs described (``enis``)."""
    sides = list(sides)
    wanted = side_groups(sides) if groups is None else groups
    if not wanted:
        return RuleBook()
    addresses = [ep.address for ep in nodes] + [s.endpoint.address for s in sides if not s.on_sub_eni]
    return vpc.describe_rule_book(wanted, enis, eni_addresses=sorted(set(addresses)))


def _dns_pods(view: ClusterView, dns_service: dict | None) -> list[dict]:
    if dns_service is None:
        return []
    return [p for p in view.list(r.PODS, KUBE_SYSTEM) if service_selects(dns_service, p)
            and (p.get("status") or {}).get("podIP") and (p.get("status") or {}).get("phase") == "Running"]


@dataclass
class FactsPlan:
    """What the facts stand on before the Pods' ENIs are read (``plan_facts``): the Pods that take
    part and what depends on them alone. On a large cluster this is most of the per-Pod work, and
    doctor makes it while its listing of the nodes' ENIs runs."""

    routing: Routing
    checked_keys: list[Key]
    services: list[dict]
    dns_service: dict | None
    dns_pods: list[dict]
    client_pods: dict[Key, list[dict]]
    #: every Pod that takes part, by key in key order
    everyone: dict[Key, dict]
    #: the keys of those on a sub-ENI (their ENIs give their groups), in key order
    on_sub_eni: list[Key]
    nodes: dict[str, Endpoint]
    needs_keys: dict[Key, tuple]
    notes: list[str]


def plan_facts(view: ClusterView, routing: Routing, checked: Mapping[Key, dict], services: list[dict],
               candidates: Iterable[dict], *, notes: Sequence[str] = ()) -> FactsPlan:
    """The first half of ``build_facts``: the cluster DNS, ``services``, the Services' clients among
    ``candidates``, the nodes, and each ``checked`` Pod's ``spec_key`` (``checked``: the Pods by
    key, in the order they are checked); nothing is read of the cloud."""
    dns_service, dns_pods, client_pods, everyone = _participants(view, checked, services, candidates)
    needs_keys = {}
    for key, pod in checked.items():
        address = (pod.get("status") or {}).get("podIP")
        if address:
            needs_keys[key] = spec_key(pod, address)
    on_sub_eni = []
    for key, pod in everyone.items():
        # Each side's endpoint reads its address; ``parse_network`` keeps what it read, so reading the
        # addresses here leaves the sides half their cost once the ENIs are in.
        parse_network((pod.get("status") or {}).get("podIP"))
        if uses_sub_eni(pod):
            on_sub_eni.append(key)
    return FactsPlan(routing, list(checked), services, dns_service, dns_pods, client_pods, everyone, on_sub_eni,
                     node_endpoints(view.nodes), needs_keys, list(notes))


def spec_key(pod: Mapping[str, Any], address: str) -> tuple:
    """What of a Pod's own object decides its needs (``needs_key``), and its IP version."""
    return (needs_key(pod), ":" in address)


def build_facts(view: ClusterView, cloud: Cloud, cluster_id: str | None, routing: Routing, checked: Mapping[Key, dict],
                services: list[dict], candidates: Iterable[dict], *, cluster=None,
                known: Mapping[Key, tuple[str, Sequence[str]]] | None = None, subnets: list[str] | None = None,
                notes: Sequence[str] = ()) -> TrafficFacts:
    """The facts for the ``checked`` Pods (by key): the cluster DNS, ``services``, the Services' clients
    among ``candidates``, the groups of all of them (``known``: (ENI id, groups) read already, as
    ``eni_groups`` takes them) and one rule book; ``subnets``: the VPC's subnet CIDRs when read already."""
    return finish_facts(plan_facts(view, routing, checked, services, candidates, notes=notes), view, cloud, cluster_id,
                        cluster=cluster, known=known, subnets=subnets)


def finish_facts(plan: FactsPlan, view: ClusterView, cloud: Cloud, cluster_id: str | None, *, cluster=None,
                 known: Mapping[Key, tuple[str, Sequence[str]]] | None = None, subnets: list[str] | None = None,
                 notes: Sequence[str] = ()) -> TrafficFacts:
    """The second half of ``build_facts``: the Pods' groups (their ENIs), their sides and the rules;
    ``notes`` follow the plan's."""
    notes = [*plan.notes, *notes]
    groups, eni_ids, enis = eni_groups(view, cloud.vpc, plan.on_sub_eni, known)
    builder = SideBuilder(view, plan.routing, groups, eni_ids)
    on_sub_eni = set(plan.on_sub_eni)
    sides: dict[Key, Side] = {}
    for key, pod in plan.everyone.items():
        if not (pod.get("status") or {}).get("podIP"):
            continue
        try:
            sides[key] = builder.side(pod, key, on_sub_eni=key in on_sub_eni)
        except ValueError as e:  # an address the core cannot read
            notes.append(f"pod/{key[0]}/{key[1]}: {e}: not checked")
    nodes = plan.nodes
    wanted = side_groups(sides.values())
    book = rule_book(cloud.vpc, sides.values(), enis, nodes.values(), groups=wanted)
    missing = [g for g in wanted if g not in book.groups]
    if missing:
        notes.append(f"security group(s) {', '.join(missing)} do not exist or cannot be read: the flows they "
                     "filter cannot be decided")
    if subnets is None:
        subnets = vpc_subnet_cidrs(cloud, cluster_id, cluster) if cluster_id else []
    node_cidrs, _ = holding(sorted(ep.address for ep in nodes.values()), subnets)
    dns_sides = [sides[k] for k in map(object_key, plan.dns_pods) if k in sides]
    dns_cidrs, _ = holding([s.endpoint.address for s in dns_sides], subnets)
    clients = {k: [sides[c] for c in map(object_key, ps) if c in sides] for k, ps in plan.client_pods.items()}
    return TrafficFacts(plan.routing, book, [sides[k] for k in plan.checked_keys if k in sides], nodes,
                        node_cidrs, plan.dns_service, dns_sides, dns_cidrs, plan.services, clients, notes,
                        needs_keys=dict(plan.needs_keys))


def _participants(view: ClusterView, checked: Mapping[Key, dict], services: list[dict], candidates: Iterable[dict]):
    """(the cluster DNS Service, its Pods, the Services' declared clients, every Pod that takes part
    by key in key order): the Pods whose groups the flows of ``checked`` (by key) may pass."""
    dns_service = view.get(r.SERVICES, CLUSTER_DNS, KUBE_SYSTEM)
    dns_pods = _dns_pods(view, dns_service)
    client_pods = _service_clients(candidates, services)
    everyone = dict(checked)
    for p in [*dns_pods, *(c for cs in client_pods.values() for c in cs)]:
        everyone[object_key(p)] = p
    return dns_service, dns_pods, client_pods, dict(sorted(everyone.items(), key=itemgetter(0)))


def gather(view: ClusterView, cloud: Cloud, cluster_id: str | None, *, cluster=None, eniipamd=None,
           routing: Routing | None = None, known: Mapping[Key, tuple[str, Sequence[str]]] | None = None,
           subnets: list[str] | None = None, plan: FactsPlan | None = None) -> TrafficFacts:
    """The facts for every Pod of the view a policy selects (or on a sub-ENI). A caller that has read
    eniipamd, the cluster, some of the Pods' ENIs (``known``: (ENI id, groups) by Pod), the VPC's
    subnets or made the plan (``plan_gather``) passes them."""
    plan = plan if plan is not None else plan_gather(view, cloud, cluster_id, eniipamd=eniipamd, routing=routing)
    # the view's notes as they are now: what was read since the plan (verify's VpcENIs) counts too
    return finish_facts(plan, view, cloud, cluster_id, cluster=cluster, known=known, subnets=subnets, notes=view.notes)


def plan_gather(view: ClusterView, cloud: Cloud, cluster_id: str | None, *, eniipamd=None,
                routing: Routing | None = None) -> FactsPlan:
    """``gather``'s first half (``plan_facts``), which needs no ENI."""
    routing = routing or read_routing(cloud.tke, cluster_id, eniipamd)
    view.prefetch("pods", "serviceaccounts", "replicasets", "nodes")
    checked, notes = _checked_pods(view)
    return plan_facts(view, routing, checked, view.list(r.SERVICES), view.pods, notes=notes)


def gather_for(view: ClusterView, cloud: Cloud, cluster_id: str | None, pods: Sequence[dict], routing: Routing) -> TrafficFacts:
    """The facts for a few named Pods (explain, verify pod): only their namespaces are read."""
    namespaces = sorted({object_key(p)[0] for p in pods})
    return build_facts(view, cloud, cluster_id, routing, {object_key(p): p for p in pods}, [s for ns in namespaces for s in view.list(r.SERVICES, ns)],
                       [p for ns in namespaces for p in view.list(r.PODS, ns)])


# --------------------------------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------------------------------

def _word(allowed: bool | None) -> str:
    return {True: "allowed", False: "dropped", None: "undecided"}[allowed]


#: how ``decide`` words an assumed routing mode that matters (checks show these assumptions as evidence)
ROUTING_ASSUMED = "is taken to run"


def decide(need: Need, book: RuleBook, assumed: Iterable[str] = ()) -> NeedResult:
    """One need against the rules. For an endpoint whose routing mode is assumed (``assumed``: refs),
    the other mode is tried too, and the decision says when it would answer otherwise."""
    if need.source.node is None or need.source.node != need.destination.node:
        return check_needs([need], book)[0]  # the routing mode only decides whether traffic within a node is filtered
    unknown = [e for e in (need.source, need.destination) if e.kind == SUB_ENI and e.routing is None]
    if unknown:
        return _either_mode(need, book, unknown)
    (result,) = check_needs([need], book)
    extra = []
    for ep in {e.ref: e for e in (need.source, need.destination)}.values():
        if ep.ref not in assumed or ep.kind != SUB_ENI or ep.routing not in MODES:
            continue
        other = STANDARD if ep.routing == STRICT else STRICT
        src, dst = (replace(e, routing=other) if e.ref == ep.ref else e for e in (need.source, need.destination))
        alt = explain(src, dst, need.flow, book)
        if alt.allowed != result.decision.allowed:
            extra.append(f"{ep.ref} {ROUTING_ASSUMED} {ep.routing} routing, the current mode: the mode in force when "
                         f"it was created cannot be read; had it been created under {other} routing, this flow "
                         f"would be {_word(alt.allowed)}")
    if extra:
        result = replace(result, decision=replace(result.decision, assumptions=result.decision.assumptions + tuple(extra)))
    return result


def _either_mode(need: Need, book: RuleBook, unknown: Sequence[Endpoint]) -> NeedResult:
    """A flow within a node whose Pods' routing mode is not known (no cluster id, eniipamd not
    readable): decided if both modes agree, else undetermined, saying why."""
    refs = {e.ref for e in unknown}
    results = {}
    for mode in MODES:
        src, dst = (replace(e, routing=mode) if e.ref in refs else e for e in (need.source, need.destination))
        results[mode] = check_needs([replace(need, source=src, destination=dst)], book)[0]
    strict, standard = results[STRICT], results[STANDARD]
    if strict.decision.allowed == standard.decision.allowed:
        return strict
    why = (f"{', '.join(sorted(refs))}: the routing mode is not known (eniipamd's values could not be read), and this "
           f"flow within a node is {_word(standard.decision.allowed)} under standard routing, "
           f"{_word(strict.decision.allowed)} under strict")
    decision = replace(strict.decision, allowed=None, decided_by=None, stated_reason=why,
                       assumptions=strict.decision.assumptions + (why,))
    return replace(strict, decision=decision, fixes=())


_NOT_ID = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _NOT_ID.sub("-", text.lower()).strip("-")


def check_key(need: Need) -> str:
    """The stable id of the check a need belongs to (several needs of one kind and peer share one)."""
    if need.kind == PROBE:
        return _slug(need.id)
    if need.kind == DNS:
        proto = need.flow.protocol
        if need.destination.kind == VIRTUAL:
            return f"dns-{proto}-service"
        if need.destination.kind == EXTERNAL:
            return _slug(f"dns-{proto}-nameserver-{need.destination.address}")
        return f"dns-{proto}-pods"
    if need.kind == SERVICE:
        base = need.id.split(":from:", 1)[0]  # service:NS/NAME:PROTO:PORT
        _, svc, proto, port = base.split(":", 3)
        src = need.source
        peer = "nodes" if src.ref.startswith("node/") else "clients" if src.kind in (SUB_ENI, ENI) else "sources"
        return _slug(f"service-{svc.split('/', 1)[1]}-{proto}-{port}-from-{peer}")
    return _slug(need.id)


def _why(decision: TrafficDecision) -> str:
    if decision.allowed is None:
        unknown = [u for h in decision.hops for u in h.unknowns()]
        return "could not be decided: " + "; ".join(unknown or [decision.reason])
    hops = [h for h in decision.hops if h.filtered and h.allowed is decision.allowed] or list(decision.hops)
    return "; ".join(f"{h.direction} of {h.endpoint.ref}: {h.verdict()}" for h in hops)


def _describe(key: str, results: Sequence[NeedResult]) -> str:
    first = results[0].need
    if len(results) == 1:
        return first.description
    if first.kind == DNS:
        return f"DNS ({first.flow.protocol.upper()}) to the {len(results)} Pods behind {CLUSTER_DNS}"
    if first.kind == SERVICE:
        label = first.description.split(" (", 1)[0]
        what = "nodes" if key.endswith("from-nodes") else "client Pods" if key.endswith("from-clients") else "sources"
        return f"{label} ({first.flow.describe()}) from {len(results)} {what}"
    return first.description


@dataclass(frozen=True)
class Fix:
    """A rule to add, for the check that needs it."""

    check_id: str
    pod: str
    fix: Any  # core.traffic.RuleFix


def fix_text(fix) -> str:
    return f"{fix.describe()}: CreateSecurityGroupPolicies {json.dumps(fix.request(), separators=(',', ':'))}"


def need_checks(results: Sequence[NeedResult], category: str) -> list[CheckResult]:
    """The needs as checks of the one model: one per ``check_key``, failing when any of its flows is
    dropped (with the rules to add as the hint), undetermined when one cannot be decided."""
    groups: dict[str, list[NeedResult]] = {}
    for res in results:
        groups.setdefault(check_key(res.need), []).append(res)
    out = []
    for key, rs in groups.items():
        description = _describe(key, rs)
        dropped = [x for x in rs if x.decision.allowed is False]
        unknown = [x for x in rs if x.decision.allowed is None]
        assumptions = list(dict.fromkeys(a for x in rs for a in x.decision.assumptions if ROUTING_ASSUMED in a))
        evidence = [f"assumed: {a}" for a in assumptions]
        if dropped:
            fixes = list({_fix_key(f): f for x in dropped for f in x.fixes}.values())
            first = dropped[0]
            message = f"dropped: {_why(first.decision)}"
            if len(rs) > 1:
                message = f"{len(dropped)} of {len(rs)} flows dropped; {first.need.description}: {message}"
                evidence = [f"{x.need.description}: {_why(x.decision)}" for x in dropped[1:]] + evidence
            hint = "; ".join(fix_text(f) for f in fixes) if fixes else "allow it in the groups' rules"
            out.append(CheckResult(key, description, Status.FAIL, message, hint, evidence, category=category))
        elif unknown:
            first = unknown[0]
            out.append(CheckResult(key, description, Status.SKIP, f"could not determine: {_why(first.decision)}",
                                   "make the templates and referenced groups readable (sgpctl sg rules GROUP shows "
                                   "what a group names)", evidence, category=category, undetermined=True))
        else:
            how = "allowed" if any(x.decision.filtered for x in rs) else "not filtered by the Pod's groups"
            out.append(CheckResult(key, description, Status.PASS, how, None, evidence, category=category))
    return out


#: a Pod's judged needs: (results, notes)
Judged = tuple[list[NeedResult], list[str]]


@dataclass(eq=False)
class PodTraffic:
    """A Pod's needs, judged when first asked (``judge``): a Pod of a class that passes is counted
    from its class's ``verdict`` (every flow passes, how many checks) and never judged on its own
    unless it is shown (`traffic check`, a check's evidence, ``-o json``)."""

    side: Side
    #: judges ``side`` (``Judging.judge``)
    judge: Callable[[Side], Judged]
    #: (every flow passes, the number of checks), shared by the Pods of its class; None: judge it
    verdict: tuple[bool, int] | None = None
    _judged: Judged | None = field(default=None, repr=False)
    _checks: list[CheckResult] | None = field(default=None, repr=False)

    def judged(self) -> Judged:
        if self._judged is None:
            self._judged = self.judge(self.side)
        return self._judged

    @property
    def results(self) -> list[NeedResult]:
        return self.judged()[0]

    @property
    def notes(self) -> list[str]:
        return self.judged()[1]

    @property
    def ref(self) -> str:
        return f"{self.side.key[0]}/{self.side.key[1]}"

    def checks(self) -> list[CheckResult]:
        if self._checks is None:
            self._checks = need_checks(self.results, self.ref)
        return self._checks

    def own_verdict(self) -> tuple[bool, int]:
        """(every flow passes, the number of checks) from judging this Pod."""
        results = self.results
        return all(res.decision.allowed is True for res in results), len({check_key(res.need) for res in results})

    def passes(self) -> bool:
        """Every flow the Pod needs is allowed, so every check passes."""
        if self.verdict is None:
            self.verdict = self.own_verdict()
        return self.verdict[0]

    def check_count(self) -> int:
        """``len(self.checks())``, without making the checks of a Pod that passes (a summary counts them)."""
        if self._checks is None and self.passes():
            return self.verdict[1]
        return len(self.checks())

    def fixes(self) -> list[Fix]:
        seen: dict[Any, Fix] = {}
        for res in self.results:
            for f in res.fixes:
                seen.setdefault(_fix_key(f), Fix(check_key(res.need), self.ref, f))
        return list(seen.values())

    def to_dict(self) -> dict[str, Any]:
        """The Pod, and each need with its status; a need that does not pass (or whose answer rests
        on an assumption) with its decision in short (``traffic explain`` shows the hops) and the
        rules to add (their requests are in the report's ``fixes``)."""
        needs = []
        for res in self.results:
            d: dict[str, Any] = {**res.need.to_dict(), "checkId": check_key(res.need), "status": res.status}
            if res.status != "pass" or res.decision.assumptions:
                dec = res.decision
                d["decision"] = {"allowed": dec.allowed, "filtered": dec.filtered,
                                 "decidedBy": dec.decided_by.to_dict() if dec.decided_by else None,
                                 "reason": _why(dec) if dec.allowed is not True else dec.reason,
                                 "assumptions": list(dec.assumptions)}
                d["fixes"] = [f.describe() for f in res.fixes]
            needs.append(d)
        return {**self.side.to_dict(), "needs": needs, "notes": self.notes}


@dataclass
class TrafficReport:
    routing: Routing
    pods: list[PodTraffic]
    notes: list[str] = field(default_factory=list)
    #: `traffic check` that selects no Pod: a warning (``workflows.verify.nothing_selected``), as `verify pods`
    empty_check: CheckResult | None = None

    def results(self) -> list[CheckResult]:
        return [c for p in self.pods for c in p.checks()] + ([self.empty_check] if self.empty_check else [])

    def fixes(self) -> list[dict[str, Any]]:
        """Each rule to add once (rules that differ only in their description are one), with the
        checks and Pods that need it."""
        merged: dict[Any, dict[str, Any]] = {}
        for p in self.pods:
            for f in p.fixes():
                key = _fix_key(f.fix)
                entry = merged.get(key)
                if entry is None:
                    entry = merged[key] = {**f.fix.to_dict(), "checkIds": [], "pods": []}
                if f.check_id not in entry["checkIds"]:
                    entry["checkIds"].append(f.check_id)
                if f.pod not in entry["pods"][-1:]:
                    entry["pods"].append(f.pod)
        return list(merged.values())

    def exit_code(self, fail_on_warning: bool = False) -> ExitCode:
        return exit_code(self.results(), fail_on_warning)

    def summary(self) -> dict[str, int]:
        results = self.results()
        return {"pods": len(self.pods), "checks": len(results),
                "failed": sum(1 for c in results if c.status is Status.FAIL),
                "undetermined": sum(1 for c in results if c.undetermined)}

    def to_dict(self, fail_on_warning: bool = False) -> dict[str, Any]:
        results = self.results()
        doc = to_json(results, fail_on_warning)
        return {"ok": doc["ok"], "routing": self.routing.to_dict(), "summary": self.summary(),
                "categories": doc["categories"], "pods": [p.to_dict() for p in self.pods],
                "fixes": self.fixes(), "notes": self.notes}


def _fix_key(fix) -> tuple:
    """What a fix's request does: its rules but for their descriptions."""
    return (fix.security_group_id, fix.direction, fix.policy_index, fix.version,
            tuple((x.action, x.protocol, x.port, x.cidr_block, x.ipv6_cidr_block, x.security_group_id,
                   x.address_template, x.service_template) for x in fix.rules))


def _dns(facts: TrafficFacts, mode: str | None) -> ClusterDns:
    return cluster_dns(facts.dns_service, [(s.pod, s.in_mode(mode).endpoint) for s in facts.dns_pods], facts.dns_cidrs)


@dataclass(frozen=True)
class _Peers:
    """What the needs of one ``needs_key`` meet besides the Pod itself (its peers), as far as a
    decision can depend on the Pod's node and address (``core.traffic.explain``: whether a hop is
    filtered hangs on the two ends sharing a node; a filtered hop is decided on the other end's
    address)."""

    #: kubelet probes: the Pod's own node is a peer, and its address is decided on where the Pod's
    #: own hop filters traffic from its node (strict routing, or a mode not known)
    probed: bool
    #: the nodes the other peers run on: a Pod on none of them shares a node with none of them
    nodes: frozenset[str]
    #: a peer's own hop may be filtered, and then decided on the Pod's address
    filtered: bool
    #: a peer is one of the Pods judged (a declared client of its Service, a DNS Pod a policy
    #: selects): which peer is the Pod itself differs from Pod to Pod, so such a Pod is its own class
    judged: bool


class Judging:
    """One evaluation of the Pods' needs of ``kinds`` (under ``what_if``, or the facts' routing): the
    cluster DNS, nodes and clients in that mode, and the classes of Pods. Pods of one class have the same
    needs (equal ``needs_key``) and the same decisions, but for the words that name them: the same
    endpoint kind, groups, routing mode (and whether it is assumed) and IP version, and, where a
    decision can depend on them (``_Peers``), the same node and address. So the first Pod of a class
    decides for all of them whether every flow passes; each Pod is still judged on its own (the
    one way, ``judge``) whenever its checks are shown."""

    def __init__(self, facts: TrafficFacts, what_if: str | None, kinds: Sequence[str] = KINDS):
        self.facts = facts
        self.what_if = what_if
        self.kinds = tuple(kinds)
        self.dns = _dns(facts, what_if)
        self.nodes = list(facts.nodes.values())
        self.clients = {k: [c.in_mode(what_if).endpoint for c in cs] for k, cs in facts.clients.items()}
        self.assumed = set() if what_if else {s.endpoint.ref for s in [*facts.pods, *facts.dns_pods,
                                                                        *(c for cs in facts.clients.values() for c in cs)]
                                              if s.routing_assumed}
        self._peers: dict[tuple, _Peers] = {}
        self._judged_refs: set[str] | None = None
        #: the needs ``_peers_of`` derived for the first Pod of a ``needs_key``, by (Pod key, endpoint
        #: in the mode judged): that Pod is the first of its class too, and judged next
        self._derived: dict[tuple, PodNeeds] = {}

    def needs(self, side: Side) -> PodNeeds:
        """``side`` (in the mode judged): the flows it needs, of ``kinds`` at least (the Services'
        flows, from every node, are derived only when judged)."""
        derived = self._derived.pop((side.key, side.endpoint), None)
        if derived is not None:
            return derived
        spec = side.pod.get("spec") or {}
        services = SERVICE in self.kinds
        return pod_needs(side.pod, side.endpoint, node=self.facts.nodes.get(spec.get("nodeName") or ""),
                         nodes=self.nodes if services else (), dns=self.dns,
                         services=self.facts.services if services else (), clients=self.clients if services else None,
                         node_cidrs=self.facts.node_cidrs)

    def judge(self, side: Side) -> Judged:
        """``side``'s needs of ``kinds`` decided, in check order, and the notes of what could not be
        derived (when every kind is judged)."""
        needs = self.needs(side)
        chosen = sorted((n for n in needs.needs if n.kind in self.kinds), key=lambda n: KINDS.index(n.kind))
        notes = needs.notes if set(self.kinds) == set(KINDS) else []
        return [decide(n, self.facts.book, self.assumed) for n in chosen], list(notes)

    def class_key(self, side: Side) -> tuple:
        """Equal for Pods whose needs are decided alike (``side`` as read, or in the mode judged)."""
        ep = side.endpoint
        needs_keys = self.facts.needs_keys
        key = needs_keys.get(side.key)
        if key is None:
            key = needs_keys[side.key] = spec_key(side.pod, ep.address)
        peers = self._peers.get(key)
        if peers is None:
            peers = self._peers[key] = self._peers_of(side)
        what_if = self.what_if
        kind = ep.kind
        routing = what_if if what_if is not None and kind == SUB_ENI else ep.routing
        node = ep.node
        probe = None
        if peers.probed:
            own = self.facts.nodes.get(node or "")
            probe = (own is not None, own.address if own is not None and kind == SUB_ENI and routing != STANDARD
                     else None)
        return (key, kind, routing, ep.groups, ep.predicted, what_if is None and ep.ref in self.assumed,
                node if node is not None and node in peers.nodes else None, probe,
                ep.address if peers.filtered else None, side.key if peers.judged else None)

    def _peers_of(self, side: Side) -> _Peers:
        side = side.in_mode(self.what_if)
        me = side.endpoint
        derived = self._derived[(side.key, me)] = self.needs(side)
        needs = derived.needs
        if self._judged_refs is None:
            self._judged_refs = {s.endpoint.ref for s in self.facts.pods}
        # By ref, not identity: a flow from the Pod to itself (its own Service's client) has it at both ends.
        ends = [n.source if n.destination.ref == me.ref else n.destination for n in needs]
        return _Peers(probed=any(p.port is not None and not p.host for p in probes(side.pod)),
                      nodes=frozenset(p.node for n, p in zip(needs, ends) if n.kind != PROBE and p.node is not None),
                      filtered=any(p.kind == SUB_ENI or (p.kind != VIRTUAL and p.groups is not None) for p in ends),
                      judged=any(p.ref in self._judged_refs for p in ends))


def evaluate(facts: TrafficFacts, *, what_if: str | None = None, kinds: Sequence[str] = KINDS,
             pods: Iterable[Side] | None = None) -> TrafficReport:
    """Judge every need of the Pods (``pods``: a subset of ``facts.pods``) under the routing the
    facts were read with, or every Pod in ``what_if``. The first Pod of each class (``Judging``) is
    judged; the others take its verdict and are judged only when shown."""
    routing = facts.routing.with_what_if(what_if) if what_if else facts.routing
    judging = Judging(facts, what_if, kinds)
    judge = judging.judge
    verdicts: dict[tuple, tuple[bool, int]] = {}
    out = []
    for side in (facts.pods if pods is None else pods):
        side = side.in_mode(what_if)
        key = judging.class_key(side)
        pod = PodTraffic(side, judge, verdicts.get(key))
        if pod.verdict is None:
            pod.verdict = verdicts[key] = pod.own_verdict()
        out.append(pod)
    return TrafficReport(routing, out, list(facts.notes))


def traffic_check(view: ClusterView, cloud: Cloud, cluster_id: str, *, what_if: str | None = None) -> TrafficReport:
    """`traffic check`: every need of every Pod a policy selects (or on a sub-ENI) in the view."""
    if not view.serves_policies:
        view.require_policies()  # the add-on is missing: exit 1 and the one message every command gives
    routing = read_routing(cloud.tke, cluster_id).with_what_if(what_if)
    facts = gather(view, cloud, cluster_id, routing=replace(routing, what_if=None))
    report = evaluate(facts, what_if=what_if)
    if not report.pods:
        from sgpctl.workflows.explain import nothing_selected

        report.empty_check = nothing_selected(view, None, command="sgpctl traffic check",
                                              description="the policies select Pods to check")
    return report


# --------------------------------------------------------------------------------------------------
# One check for doctor, routing check and verify pod
# --------------------------------------------------------------------------------------------------

def summary_outcome(report: TrafficReport, *, subject: str = "policy Pods"):
    """The whole report as one ``CheckOutcome``: failed when a flow a Pod needs is dropped (evidence:
    each failing check, the rule to add), undetermined when one cannot be decided."""
    from sgpctl.core.checks import failed, passed, undetermined

    # Only the Pods with a flow that does not pass have checks that are not passes: the others' are
    # counted, not made (one summary line for 10,000 Pods).
    results: list[CheckResult] = []
    count = 0
    for p in report.pods:
        if not p.passes():
            results.extend(p.checks())
        count += p.check_count()
    bad = [c for c in results if c.status is Status.FAIL]
    unknown = [c for c in results if c.undetermined]
    mode = report.routing.describe()
    if bad:
        pods = {c.category for c in bad}
        hints = list(dict.fromkeys(c.hint for c in bad if c.hint))
        hint = hints[0] if len(hints) == 1 else "see each one with `sgpctl traffic check`; the rules to add are in its hints"
        return failed(f"{len(bad)} failing check(s) in {len(pods)} of {len(report.pods)} {subject}: flows they need are "
                      f"dropped by their security groups ({mode})", hint, _by_check(bad))
    if unknown:
        return undetermined(f"{len(unknown)} flow(s) could not be decided ({mode})", "see `sgpctl traffic check`",
                            _by_check(unknown))
    if not report.pods:
        return passed(f"no {subject} to check")
    if not count:
        return passed(f"no flow the {len(report.pods)} {subject} need could be derived (no network probe, cluster DNS "
                      f"Service, Service or declared egress)")
    return passed(f"the security groups of {len(report.pods)} {subject} let through every flow they need "
                  f"({count} checks, {mode})")


def _by_check(results: Sequence[CheckResult]) -> list[str]:
    """One line per check id: the first Pod's message, and how many more Pods fail it."""
    by_id: dict[str, list[CheckResult]] = {}
    for c in results:
        by_id.setdefault(c.id, []).append(c)
    out = []
    for check_id, cs in by_id.items():
        more = f" (and {len(cs) - 1} more Pod(s))" if len(cs) > 1 else ""
        out.append(f"{cs[0].category}: {check_id}: {cs[0].message}{more}")
    return out


def strict_hazards(facts: TrafficFacts):
    """`routing check`'s ``strict-probes-dns``: the kubelet probes and DNS flows the Pods' own groups
    let through only because standard routing does not filter them (a Pod and its own node, Pods on
    one node), which strict routing would drop: the Pods would stop becoming Ready, or resolving.

    Only flows within a node are judged (across nodes the mode changes nothing; `traffic check`
    judges those): under strict routing, and those it does not let through under standard too."""
    from sgpctl.core.checks import failed, passed, undetermined

    # Only flows within a node are judged: the probes from the Pod's own node, DNS to the DNS Pods on
    # it. A class of Pods (``Judging``) whose every such flow passes is judged once.
    judging = Judging(facts, STRICT, (PROBE, DNS))
    clean: dict[tuple, int] = {}
    broken, unknown, already, judged = [], [], 0, 0
    fixes: dict[Any, Any] = {}
    for side in facts.pods:
        key = judging.class_key(side)
        known = clean.get(key)
        if known is not None:
            judged += known
            continue
        side = side.in_mode(STRICT)
        ref = f"{side.key[0]}/{side.key[1]}"
        count, passing = 0, True
        for need in judging.needs(side).needs:
            if need.kind not in (PROBE, DNS) or need.source.node is None or need.source.node != need.destination.node:
                continue
            count += 1
            (x,) = check_needs([need], facts.book)
            now = x.decision.allowed
            if now is True:
                continue
            passing = False
            src, dst = (e if e.kind != SUB_ENI else replace(e, routing=STANDARD) for e in (need.source, need.destination))
            was = explain(src, dst, need.flow, facts.book).allowed
            if was is False:
                already += 1
            elif was is True and now is False:
                broken.append(f"{ref}: {need.description}: {_why(x.decision)}")
                fixes.update({_fix_key(f): f for f in x.fixes})
            else:
                unknown.append(f"{ref}: {need.description}: {_why(x.decision)}")
        judged += count
        if passing:
            clean[key] = count
    also = f" ({already} more dropped under either mode: see `sgpctl traffic check`)" if already else ""
    if broken:
        return failed(f"strict routing would drop {len(broken)} kubelet probe or DNS flow(s) the Pods' groups let "
                      f"through today only because standard routing does not filter them{also}",
                      "; ".join(fix_text(f) for f in fixes.values()) or "allow them in the Pods' groups", broken)
    if unknown:
        return undetermined(f"{len(unknown)} probe or DNS flow(s) within a node could not be decided under strict "
                            "routing", "see `sgpctl traffic check --routing strict`", unknown)
    return passed(f"strict routing drops none of the {judged} kubelet probe and DNS flows within a node of the "
                  f"{len(facts.pods)} Pods{also}")


def pod_traffic_check(view: ClusterView, cloud: Cloud, cluster_id: str | None, namespace: str, name: str) -> CheckResult:
    """`verify pod`'s ``traffic`` check: the one Pod's needs under the current routing."""
    from sgpctl.core.verify import DESCRIPTIONS

    description = DESCRIPTIONS["traffic"]
    pod = view.get(r.PODS, name, namespace)
    if pod is None or not (pod.get("status") or {}).get("podIP") or (pod.get("spec") or {}).get("hostNetwork"):
        why = "the Pod does not exist" if pod is None else "the Pod uses hostNetwork" if (pod.get("spec") or {}).get(
            "hostNetwork") else "the Pod has no IP address yet"
        return CheckResult("traffic", description, Status.SKIP, why, category=f"{namespace}/{name}")
    try:
        routing = read_routing(cloud.tke, cluster_id)
        facts = gather_for(view, cloud, cluster_id, [pod], routing)
        report = evaluate(facts)
    except SgpctlError as e:
        if e.exit_code == ExitCode.UNDETERMINED:
            return CheckResult("traffic", description, Status.SKIP, f"could not determine: {e.message}", e.hint,
                               category=f"{namespace}/{name}", undetermined=True)
        raise
    if report.pods and report.pods[0].side.endpoint.kind != SUB_ENI:
        return CheckResult("traffic", description, Status.SKIP, "the Pod has no security groups of its own (no policy "
                           "selects it): its node's groups filter it", category=f"{namespace}/{name}")
    outcome = summary_outcome(report, subject="Pod")
    checks = report.results()
    if outcome.status is Status.PASS and checks:
        outcome = replace(outcome, message=f"its groups let through every flow it needs ({len(checks)} checks: "
                                           f"{', '.join(c.id for c in checks)}; {report.routing.describe()})")
    return CheckResult("traffic", description, outcome.status, outcome.message, outcome.hint, outcome.evidence,
                       category=f"{namespace}/{name}", undetermined=outcome.undetermined)


# --------------------------------------------------------------------------------------------------
# policy apply: the order of groupIds
# --------------------------------------------------------------------------------------------------

def order_warnings(view: ClusterView, vpc: VpcApi, matches: Mapping[str, matching.MatchResult],
                   policies: Sequence[Any]) -> list[dict]:
    """Where the order of the groups the file gives Pods lets a DROP of an earlier group shadow an
    ACCEPT of a later one, for a flow those Pods need (probes, DNS, their Services from the nodes,
    the load balancer's sources and the clients that declare them), judged as if every hop were
    filtered. One entry per (DROP, ACCEPT, kind of flow), with the Pods concerned.
    A cloud read that fails becomes one entry saying so: the warning never stops the apply."""
    names = {(p.namespace, p.name) for p in policies}
    chosen: list[tuple[matching.PodMatch, dict]] = []
    for ns, result in sorted(matches.items()):
        pods = {object_key(p): p for p in view.list(r.PODS, ns)}
        for m in result.pods:
            pod = pods.get((m.namespace, m.name))
            if (pod is None or len(m.expected_groups) < 2 or m.host_network or m.phase in matching.FINISHED_PHASES
                    or not any((m.namespace, n) in names for n in m.policies) or not (pod.get("status") or {}).get("podIP")):
                continue
            chosen.append((m, pod))
    if not chosen:
        return []
    nodes = node_endpoints(view.nodes)
    try:
        book = vpc.describe_rule_book(sorted({g for m, _ in chosen for g in m.expected_groups}),
                                      eni_addresses=sorted(ep.address for ep in nodes.values()))
    except SgpctlError as e:
        return [{"message": f"could not check the order of the groups: {e.message}", "pods": []}]
    dns_service = view.get(r.SERVICES, CLUSTER_DNS, KUBE_SYSTEM)
    dns = cluster_dns(dns_service, [(p, pod_endpoint(p, routing=STRICT)) for p in _dns_pods(view, dns_service)])
    # Only the Pods' own hops are judged here: a client is an endpoint by its address and annotation.
    clients = {k: [pod_endpoint(c, routing=STRICT) for c in cs] for ns in sorted({m.namespace for m, _ in chosen})
               for k, cs in _service_clients(view.list(r.PODS, ns), view.list(r.SERVICES, ns)).items()}
    found: dict[tuple, dict] = {}
    for m, pod in chosen:
        me = Endpoint.sub_eni_pod(m.namespace, m.name, pod["status"]["podIP"], m.node, m.expected_groups, STRICT,
                                  predicted=True)
        needs = pod_needs(pod, me, node=nodes.get(m.node or ""), nodes=list(nodes.values()), dns=dns,
                          services=view.list(r.SERVICES, m.namespace), clients=clients).needs
        for sh in find_shadowing([n for n in needs if n.kind in (PROBE, DNS, SERVICE)], book):
            key = (sh.drop.security_group_id, sh.drop.policy_index, sh.accept.security_group_id,
                   sh.accept.policy_index, check_key(sh.need))
            entry = found.get(key)
            if entry is None:
                same_node = sh.need.source.node is not None and sh.need.source.node == m.node
                message = sh.message() + (" (on the Pod's own node this flow passes its groups under strict routing "
                                          "only)" if same_node else "")
                entry = found[key] = {**sh.to_dict(), "message": message, "pods": []}
                entry.pop("need", None)
            if f"{m.namespace}/{m.name}" not in entry["pods"]:
                entry["pods"].append(f"{m.namespace}/{m.name}")
    return list(found.values())
