"""`sgpctl capture`: a read-only, redacted record of what sgpctl reasons about a cluster with, for a
reproducible offline case (``sandbox up --from-capture``, ``--snapshot``). The file's format and what is
taken out of it are ``core.capture``'s.

Reads, all of them the ones the commands make, through the same paths (never a second one):

- the cluster through the command's ``ClusterView``: nodes, namespaces, Pods, ServiceAccounts, the owners
  (ReplicaSets, Deployments, StatefulSets, DaemonSets), Services, NetworkPolicies, Pod Warning events,
  SecurityGroupPolicies and VpcENIs (found by discovery), their CRDs, kube-system's DaemonSets and
  Deployments (kube-proxy, NodeLocal DNS, ip-masq-agent, eniipamd's image tag), the ConfigMaps
  ``kube-system/kube-proxy`` and ``kube-system/ip-masq-agent-config``, and the Leases of the namespaces
  with policies (where `policy apply` takes its writer Lease; whether that is allowed is recorded in
  ``kubernetes.access``); never a Secret;
- the cloud through the adapters, with the session recording each request and its answer:
  DescribeClusters, DescribeIPAMD, DescribeAddon and every installed add-on's DescribeAddonValues,
  GetTkeAppChartList (all charts, and the network kind), DescribeVpcCniPodLimits, DescribeClusterInstances,
  the nodes' CVM instances, DescribeNetworkInterfaceLimit (of each node without sub-ENI allocatable, as
  ``capacity`` reads them, and of one node of each other instance type), the security
  groups the policies, Pods, ENIs and nodes name with their rules (and the templates and peer groups the
  rules name), the ENIs of the sub-ENI Pods (by id, as ``verify`` reads them), the subnets and the VPC,
  DescribeSecurityGroupLimits, and CAM: the custom policies, SubENIForIPAMD's document, the two roles and
  what is attached to them.

With ``-n`` only that namespace's objects are read (kube-system's the routing checks need, too), and only
the VpcENIs and ENIs of its Pods. A cloud read that fails is recorded with its error and the capture goes
on (the replay then answers that the way the region it builds does); only DescribeClusters must answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sgpctl.core import capture as fmt
from sgpctl.core import snat as core_snat
from sgpctl.core.annotations import VPCENI_LABEL_POD_NAMESPACE, annotated_groups
from sgpctl.core.cam_policy import POLICY_NAME, ROLES
from sgpctl.core.policy import GROUP_ID_RE
from sgpctl.core.verify import vpceni_eni_id
from sgpctl.errors import KubeError, SgpctlError
from sgpctl.kube import resources as r
from sgpctl.workflows.addons import sgp_addon
from sgpctl.workflows.cam import cam_status
from sgpctl.workflows.capacity import cloud_limits, instance_id_of
from sgpctl.workflows.clients import CaptureCloud
from sgpctl.workflows.view import ClusterView

KUBE_SYSTEM = "kube-system"
#: the ConfigMaps the routing and SNAT checks read
CONFIGMAPS = ((KUBE_SYSTEM, "kube-proxy"), (core_snat.NAMESPACE, core_snat.CONFIGMAP_NAME))
#: namespaced collections read in the capture's scope
NAMESPACED = (r.PODS, r.SERVICEACCOUNTS, r.REPLICASETS, r.DEPLOYMENTS, r.STATEFULSETS, r.DAEMONSETS, r.SERVICES,
              r.NETWORKPOLICIES)
#: kube-system collections read whatever the scope (the routing checks' DaemonSets, eniipamd's Deployment)
SYSTEM = (r.DAEMONSETS, r.DEPLOYMENTS)
#: the custom resources sgpctl reads, by group and kind (compared case-insensitively: the VpcENI kind's
#: spelling is not settled)
CRD_KINDS = ((r.SGP_GROUP, r.SGP_KIND), (r.VPCENI_GROUP, r.VPCENI_KIND))


@dataclass
class Capture:
    document: dict
    #: what could not be read, one line each (the reads are recorded with their errors too)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        kube = self.document["kubernetes"]
        kinds: dict[str, int] = {}
        for obj in kube["objects"]:
            kinds[str(obj.get("kind"))] = kinds.get(str(obj.get("kind")), 0) + 1
        cloud = self.document["cloud"]
        return {"clusterId": self.document["scope"]["clusterId"], "region": self.document["scope"]["region"],
                "namespace": self.document["scope"]["namespace"], "formatVersion": self.document["formatVersion"],
                "objects": dict(sorted(kinds.items())), "cloudCalls": len(cloud),
                "cloudErrors": sum(1 for c in cloud if "error" in c),
                "namesHashed": self.document["redaction"]["namesHashed"], "problems": list(self.problems)}


class _Reader:
    """Runs each read, noting (not raising) what fails."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def __call__(self, what: str, fn, default: Any = None) -> Any:
        try:
            return fn()
        except SgpctlError as e:
            self.problems.append(f"{what}: {e.message}")
            return default


def capture(view: ClusterView, cloud: CaptureCloud, cluster_id: str, region: str, *, version: str, now: str,
            redact_names: bool = False, salt: str = "", sgp_addon_setting: Any = None) -> Capture:
    """Read what sgpctl needs about the cluster and the cloud, take the secrets out (and, with
    ``redact_names``, hash the names with ``salt``). ``version`` is sgpctl's, ``now`` the capture's time
    (ISO, UTC); ``sgp_addon_setting`` the user's ``sgp-addon-name`` setting, as the add-on commands take it."""
    read, kube_read = _Reader(), _Reader()
    objects = _kube_objects(view, kube_read)
    access, leases = _lease_access(view, objects)
    objects += leases
    server_version = kube_read("GET /version", view.version, {})
    with cloud.recording() as calls:
        cloud.tke.describe_cluster(cluster_id)  # without the cluster there is nothing to capture
        _cloud_reads(cloud, cluster_id, objects, read, calls, sgp_addon_setting)
    document = {
        "kind": fmt.KIND,
        "formatVersion": fmt.FORMAT_VERSION,
        "sgpctlVersion": version,
        "capturedAt": now,
        "scope": {"clusterId": cluster_id, "region": region, "namespace": view.namespace},
        "redaction": {"namesHashed": False, "removed": list(fmt.REMOVED)},
        "cloud": [{**c, "response": fmt.scrub_cloud_answer(c["response"])} if "response" in c else dict(c)
                  for c in calls],
        "kubernetes": {"version": server_version,
                       "objects": [o for o in (fmt.scrub_object(x) for x in objects) if o is not None],
                       "access": access,
                       "errors": list(kube_read.problems)},
    }
    if redact_names:
        document = fmt.redact_names(document, salt)
    return Capture(document, kube_read.problems + read.problems)


# --------------------------------------------------------------------------------------------------
# The cluster
# --------------------------------------------------------------------------------------------------

def _kube_objects(view: ClusterView, read: _Reader) -> list[dict]:
    def listed(what: str, fn) -> list[dict]:
        return [o for o in read(what, fn, []) or [] if o]

    scope = view.namespace
    out: list[dict] = []
    view.prefetch("pods", "serviceaccounts", "replicasets", "nodes", "warning_events")
    out += listed("nodes", lambda: view.nodes)
    if scope is None:
        out += listed("namespaces", lambda: view.list(r.NAMESPACES))
    else:
        for name in dict.fromkeys((scope, KUBE_SYSTEM)):
            out += listed(f"namespace {name}", lambda name=name: [view.get(r.NAMESPACES, name)])
    for resource in NAMESPACED:
        out += listed(resource.plural, lambda resource=resource: view.list(resource))
    if scope not in (None, KUBE_SYSTEM):
        for resource in SYSTEM:
            out += listed(f"{KUBE_SYSTEM} {resource.plural}", lambda resource=resource: view.list(resource, KUBE_SYSTEM))
    out += listed("Pod Warning events", lambda: view.warning_events)
    for ns, name in CONFIGMAPS:
        out += listed(f"ConfigMap {ns}/{name}", lambda ns=ns, name=name: [view.get(r.CONFIGMAPS, name, ns)])
    before = len(read.problems)
    crds = [c for c in listed("CustomResourceDefinitions", lambda: view.list(r.CRDS)) if _wanted_crd(c)]
    out += crds
    resources = [x for x in (_served_by(c) for c in crds) if x is not None]
    if len(read.problems) > before:  # CRDs not listable (RBAC): the kinds sgpctl knows, through discovery
        resources = [view.resource(group, kind) for group, kind in CRD_KINDS
                     if read(f"discovery of {kind}", lambda group=group, kind=kind: view.serves(group, kind), False)]
    for resource in resources:
        items = listed(f"{resource.kind} objects", lambda resource=resource: view.list(resource))
        if not resource.namespaced and scope is not None:  # VpcENIs: those of the namespace's Pods
            items = [v for v in items if ((v.get("metadata") or {}).get("labels") or {}).get(VPCENI_LABEL_POD_NAMESPACE) == scope]
        out += items
    return out


def _lease_access(view: ClusterView, objects: list[dict]) -> tuple[list[dict], list[dict]]:
    """How the cluster answers a list of Leases where `policy apply` takes its writer Lease (the
    namespaces with policies and the capture's; ``default`` when there are none): 200 with the Leases,
    403 (RBAC) or 404 (not served).
    An answer, not a failure: it is what a replay plays (the ``leases`` variant)."""
    namespaces = sorted({(o.get("metadata") or {}).get("namespace") or "default" for o in objects
                         if o.get("kind") == r.SGP_KIND} | ({view.namespace} if view.namespace else set())) or ["default"]
    access: list[dict] = []
    leases: list[dict] = []
    for ns in namespaces:
        entry = {"verb": "list", "resource": f"{r.LEASES.plural}.{r.LEASES.group}", "namespace": ns}
        try:
            leases += view.list(r.LEASES, ns)
            access.append({**entry, "status": 200})
        except KubeError as e:
            access.append({**entry, "status": e.status, "reason": e.reason, "message": e.api_message})
    return access, leases


# --------------------------------------------------------------------------------------------------
# The cloud
# --------------------------------------------------------------------------------------------------

def _wanted_crd(crd: dict) -> bool:
    spec = crd.get("spec") or {}
    kind = str((spec.get("names") or {}).get("kind") or "").lower()
    return any(spec.get("group") == group and kind == wanted.lower() for group, wanted in CRD_KINDS)


def _served_by(crd: dict) -> r.Resource | None:
    """The resource a CRD serves, at its storage version."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = [v for v in spec.get("versions") or () if isinstance(v, dict) and v.get("served", True)]
    version = next((v for v in versions if v.get("storage")), versions[0] if versions else None)
    if not version or not names.get("plural") or not spec.get("group"):
        return None
    return r.Resource(spec["group"], str(version.get("name")), names["plural"], str(names.get("kind")),
                      spec.get("scope") == "Namespaced")


def _of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o.get("kind") == kind]


def _cloud_reads(cloud: CaptureCloud, cluster_id: str, objects: list[dict], read: _Reader, calls: list[dict],
                 sgp_addon_setting: Any = None) -> None:
    """The cloud reads, in order; ``calls`` is what the session recorded so far."""
    tke, vpc, cam = cloud.tke, cloud.vpc, cloud.cam
    ipamd = read("DescribeIPAMD", lambda: tke.describe_ipamd(cluster_id))
    addons = read("DescribeAddon", lambda: tke.describe_addons(cluster_id), []) or []
    for a in addons:
        read(f"DescribeAddonValues {a.name}", lambda a=a: tke.describe_addon_values(cluster_id, a.name))
    for kind in (None, "network"):
        read(f"GetTkeAppChartList {kind or 'all'}", lambda kind=kind: tke.get_app_chart_list(kind=kind))
    fact = read("the SecurityGroupPolicy add-on's name",
                lambda: sgp_addon(tke, cluster_id, setting=sgp_addon_setting, addons=addons))
    sgp = fact.value if fact is not None else None
    if sgp and sgp not in {a.name for a in addons}:
        # How the API answers for an add-on that is not installed (an error, or an empty list).
        read(f"DescribeAddon {sgp}", lambda: tke.get_addon(cluster_id, sgp))
    read("DescribeVpcCniPodLimits", lambda: tke.describe_vpc_cni_pod_limits())
    members = read("DescribeClusterInstances", lambda: tke.describe_cluster_instances(cluster_id), []) or []

    nodes = _of_kind(objects, "Node")
    instance_ids = list(dict.fromkeys([i for i in (instance_id_of(n) for n in nodes) if i]
                                      + [m.instance_id for m in members if m.instance_id]))
    instances = read("DescribeInstances", lambda: cloud.cvm.describe_instances(instance_ids), []) if instance_ids else []
    # The sub-ENI quotas as `capacity` and `doctor` read them (DescribeNetworkInterfaceLimit of each node that
    # reports no allocatable), then of one node of each instance type not asked yet (a replay's quotas).
    read("the nodes' sub-ENI quotas", lambda: cloud_limits(nodes, cloud))
    asked = {c["params"].get("InstanceId") for c in calls if c["action"] == "DescribeNetworkInterfaceLimit"}
    types_asked = {i.instance_type for i in instances or [] if i.instance_id in asked}
    first_of_type: dict[str, str] = {}
    for i in instances or []:
        if i.instance_type and i.instance_type not in types_asked:
            first_of_type.setdefault(i.instance_type, i.instance_id)
    for itype, instance in sorted(first_of_type.items()):
        read(f"DescribeNetworkInterfaceLimit {instance}", lambda instance=instance: vpc.describe_network_interface_limit(instance))

    # The nodes' ENIs as `eni leaks` lists them (primary, trunk, sub-ENIs with or without a VpcENI), then by
    # id those VpcENIs name that the listing lacks (as `verify` reads them).
    members_ids = {m.instance_id for m in members}
    node_instances = sorted({i for i in (instance_id_of(n) for n in nodes) if i and (i in members_ids or not members)})
    enis = list(read("DescribeNetworkInterfaces of the nodes",
                     lambda: vpc.describe_instance_network_interfaces(node_instances), []) or []) if node_instances else []
    vpcenis = [o for o in objects if str(o.get("kind")).lower() == "vpceni"]
    listed = {e.eni_id for e in enis}
    eni_ids = sorted({e for e in (vpceni_eni_id(v) for v in vpcenis) if isinstance(e, str) and e} - listed)
    if eni_ids:
        enis += read("DescribeNetworkInterfaces", lambda: vpc.describe_network_interfaces(eni_ids, concurrency=4), []) or []

    groups = _named_groups(objects, instances or [], enis or [])
    found = read("DescribeSecurityGroups", lambda: vpc.describe_security_groups(sorted(groups)), []) if groups else []
    existing = sorted(g.security_group_id for g in found or [])
    if existing:
        book = read("security group rules", lambda: vpc.describe_rule_book(existing))
        peers = sorted(book.referenced()[0] - set(existing)) if book is not None else []
        if peers:
            read("DescribeSecurityGroups (rule peers)", lambda: vpc.describe_security_groups(peers))

    subnets = set(getattr(ipamd, "subnet_ids", ()) or ())
    subnets.update(i.subnet_id for i in instances or [] if i.subnet_id)
    subnets.update(e.subnet_id for e in enis or [] if e.subnet_id)
    if subnets:
        read("DescribeSubnets", lambda: vpc.describe_subnets(sorted(subnets)))
    vpc_ids = sorted({i.vpc_id for i in instances or [] if i.vpc_id} | {e.vpc_id for e in enis or [] if e.vpc_id})
    if vpc_ids:
        read("DescribeVpcs", lambda: cloud.call("vpc", "DescribeVpcs", {"VpcIds": vpc_ids, "Offset": "0", "Limit": "100"}))
    read("DescribeSecurityGroupLimits", lambda: vpc.describe_security_group_limit())

    read("ListPolicies", lambda: cam.list_policies("Local"))
    status = read("CAM status", lambda: cam_status(cam))
    for role in ROLES:
        if status is not None and not any(x.role == role and x.exists for x in status.roles):
            continue
        attached = read(f"ListAttachedRolePolicies {role}", lambda role=role: cam.list_attached_role_policies(role), []) or []
        for p in attached:
            if p.policy_type == "User" and p.name != POLICY_NAME:
                read(f"GetPolicy {p.policy_id}", lambda p=p: cam.get_policy(p.policy_id))


def _named_groups(objects: list[dict], instances: list, enis: list) -> set[str]:
    """Every security group id the policies, Pods, VpcENIs, ENIs and nodes name."""
    out: set[str] = set()
    for obj in objects:
        kind = obj.get("kind")
        if kind == "SecurityGroupPolicy":
            ids = ((obj.get("spec") or {}).get("securityGroups") or {}).get("groupIds")
            out.update(g for g in ids or () if isinstance(g, str))
        elif kind == "Pod":
            out.update(annotated_groups(obj) or ())
        elif str(kind).lower() == "vpceni":
            for part in (obj.get("spec") or {}, ((obj.get("status") or {}).get("eni") or {})):
                out.update(g for g in part.get("securityGroups") or () if isinstance(g, str))
    for i in instances:
        out.update(i.security_group_ids or ())
    for e in enis:
        out.update(e.security_group_ids or ())
    return {g for g in out if GROUP_ID_RE.match(g)}
