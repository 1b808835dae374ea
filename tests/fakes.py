"""In-memory stand-ins for the Kubernetes and cloud adapters: they implement the Protocols of
``sgpctl.workflows.clients`` (``KubeWriter``, ``Cloud`` with ``TkeApi``, ``VpcApi``, ``CamApi``) like
``sgpctl.kube.client.Kube`` and ``sgpctl.cloud.session.CloudSession`` do - plain dicts in, the adapters'
dataclasses out, label and field selectors honoured - for fast workflow tests and deterministic golden
files. ``tests/workflows/test_clients.py`` keeps their signatures equal to the Protocols'. The sandbox
tests run the real adapters.

    kube, cloud = FakeKube(), FakeCloud()
    kube.add(r.PODS, pod("web-1"))            # objects, helpers below: pod, policy, node, service, ...
    view = ClusterView(kube)                   # what workflows read through
    kube.lists                                 # (plural, namespace) of every list call
    kube.queries                               # ... with the field selector
    cloud.log                                  # (service, action, mutating) of every cloud call
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field

from sgpctl.cloud.types import Subnet, Addon, AddonValues, AttachedPolicy, Cluster, ClusterEndpoints, ClusterInstance, \
    EniLimit, GroupRules, Ipamd, NetworkInterface, Policy, PodLimits, PolicyDetail, Region, Role, RuleBook, SecurityGroup
from sgpctl.core.addon_values import values_merge
from sgpctl.core.selectors import parse as parse_selector
from sgpctl.errors import CloudError
from sgpctl.kube import resources as r

SGP = r.Resource(r.SGP_GROUP, "v1beta1", "securitygrouppolicies", r.SGP_KIND, True)
VPCENI = r.Resource(r.VPCENI_GROUP, "v1", "vpcenis", r.VPCENI_KIND, False)
CLUSTER_ID = "cls-fake0001"


class FakeKube:
    def __init__(self, *, sgp: bool = True, vpceni: bool = True, server: str = "https://cls-fake0001.example:443",
                 context: str | None = None):
        self.objects: dict[tuple[str, str | None, str], dict] = {}
        self.served = {r.SGP_KIND: sgp, r.VPCENI_KIND: vpceni}
        self.calls = 0
        self.server = server
        self.context = context
        self.lists: list[tuple[str, str | None]] = []
        #: (plural, namespace, field selector) of every list call
        self.queries: list[tuple[str, str | None, str | None]] = []

    # -- building ----------------------------------------------------------------------------
    def add(self, resource: r.Resource, obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            meta.setdefault("namespace", "default")
        meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        obj.setdefault("kind", resource.kind)
        obj.setdefault("apiVersion", resource.api_version)
        self.objects[(resource.plural, meta.get("namespace") if resource.namespaced else None, meta["name"])] = obj
        return obj

    # -- the Kube API --------------------------------------------------------------------------
    def resource(self, group: str, kind: str) -> r.Resource:
        from sgpctl.errors import KubeError

        if (group, kind) in r.BUILTIN:
            return r.BUILTIN[(group, kind)]
        if kind == r.SGP_KIND and self.served[kind]:
            return SGP
        if kind == r.VPCENI_KIND and self.served[kind]:
            return VPCENI
        raise KubeError(404, "NotFound", f"the server does not serve kind {kind} in group {group}")

    def serves(self, group: str, kind: str) -> bool:
        return (group, kind) in r.BUILTIN or bool(self.served.get(kind))

    def list(self, resource: r.Resource, namespace: str | None = None, *, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        self.calls += 1
        self.lists.append((resource.plural, namespace))
        self.queries.append((resource.plural, namespace, field_selector))
        selector = parse_selector(label_selector) if label_selector else None
        fields = _field_requirements(field_selector)
        out = []
        for (plural, ns, _), obj in sorted(self.objects.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])):
            if plural != resource.plural or (namespace and resource.namespaced and ns != namespace):
                continue
            if selector is not None and not selector.matches((obj.get("metadata") or {}).get("labels") or {}):
                continue
            if not all((_field(obj, path) == value) is equal for path, equal, value in fields):
                continue
            out.append(copy.deepcopy(obj))
        return out

    def get(self, resource: r.Resource, name: str, namespace: str | None = None) -> dict | None:
        self.calls += 1
        obj = self.objects.get((resource.plural, namespace if resource.namespaced else None, name))
        return copy.deepcopy(obj) if obj else None

    def create(self, resource: r.Resource, obj: dict, namespace: str | None = None, *, dry_run: bool = False) -> dict:
        self.calls += 1
        obj = copy.deepcopy(obj)
        if dry_run:
            return obj
        if namespace and resource.namespaced:
            obj.setdefault("metadata", {})["namespace"] = namespace
        return copy.deepcopy(self.add(resource, obj))

    def replace(self, resource: r.Resource, obj: dict, *, dry_run: bool = False) -> dict:
        self.calls += 1
        if dry_run:
            return copy.deepcopy(obj)
        return copy.deepcopy(self.add(resource, obj))

    def patch(self, resource: r.Resource, name: str, patch, namespace: str | None = None, *, patch_type: str = "merge",
              dry_run: bool = False) -> dict:
        self.calls += 1
        key = (resource.plural, namespace if resource.namespaced else None, name)
        if dry_run:
            return values_merge(self.objects[key], patch)
        self.objects[key] = values_merge(self.objects[key], patch)
        return copy.deepcopy(self.objects[key])

    def delete(self, resource: r.Resource, name: str, namespace: str | None = None, *, propagation: str = "Background",
               dry_run: bool = False) -> bool:
        self.calls += 1
        if dry_run:
            return (resource.plural, namespace if resource.namespaced else None, name) in self.objects
        return self.objects.pop((resource.plural, namespace if resource.namespaced else None, name), None) is not None

    def version(self) -> dict:
        self.calls += 1
        return {"major": "1", "minor": "30", "gitVersion": "v1.30.0-tke.1"}

    # -- the writer Lease: resourceVersions and conflicts as the API server has them -------------
    #: "served", "forbidden" (RBAC: 403 on every Lease request) or "absent" (coordination.k8s.io not served)
    leases = "served"
    _lease_rv = 0

    def _lease_access(self, verb: str, namespace: str) -> None:
        from sgpctl.errors import KubeError

        self.calls += 1
        if self.leases == "forbidden":
            raise KubeError(403, "Forbidden", f'leases.coordination.k8s.io is forbidden: User "dev" cannot {verb} '
                                              f'resource "leases" in API group "coordination.k8s.io" in the namespace "{namespace}"')
        if self.leases == "absent" and verb != "get":
            raise KubeError(404, "NotFound", "the server could not find the requested resource")

    def get_lease(self, name: str, namespace: str) -> dict | None:
        self._lease_access("get", namespace)
        obj = self.objects.get((r.LEASES.plural, namespace, name))
        return copy.deepcopy(obj) if obj else None

    def create_lease(self, lease: dict, namespace: str) -> dict:
        from sgpctl.errors import KubeError

        self._lease_access("create", namespace)
        name = lease["metadata"]["name"]
        if (r.LEASES.plural, namespace, name) in self.objects:
            raise KubeError(409, "AlreadyExists", f'leases.coordination.k8s.io "{name}" already exists')
        return self._store_lease(lease, namespace)

    def replace_lease(self, lease: dict, namespace: str) -> dict:
        from sgpctl.errors import KubeError

        self._lease_access("update", namespace)
        name = lease["metadata"]["name"]
        current = self.objects.get((r.LEASES.plural, namespace, name))
        if current is None:
            raise KubeError(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
        if lease["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise KubeError(409, "Conflict", f'Operation cannot be fulfilled on leases.coordination.k8s.io "{name}": '
                                             "the object has been modified; please apply your changes to the latest version and try again")
        return self._store_lease(lease, namespace)

    def _store_lease(self, lease: dict, namespace: str) -> dict:
        self._lease_rv += 1
        obj = copy.deepcopy(lease)
        obj["metadata"].update(namespace=namespace, resourceVersion=str(self._lease_rv))
        return copy.deepcopy(self.add(r.LEASES, obj))


def _field_requirements(selector: str | None) -> list[tuple[str, bool, str]]:
    """``a.b=c,d!=e`` as (path, equal, value) triples: the field selectors the API server takes."""
    out = []
    for part in (selector or "").split(","):
        if not part:
            continue
        if "!=" in part:
            path, value = part.split("!=", 1)
            out.append((path, False, value))
        else:
            path, value = part.split("==", 1) if "==" in part else part.split("=", 1)
            out.append((path, True, value))
    return out


def _field(obj: dict, path: str) -> str:
    value: object = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return "" if value is None else str(value)


# -- cloud --------------------------------------------------------------------------------------

@dataclass
class FakeAddon:
    name: str
    version: str
    values: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)
    phase: str = "Succeeded"
    reason: str = ""


class FakeTke:
    def __init__(self, cloud: "FakeCloud"):
        self.cloud = cloud
        self.cluster = Cluster(CLUSTER_ID, "fake", "1.30.0", "Running", "vpc-fake0001", "iptables", False,
                               "VPC-CNI", "tke-route-eni", False)
        self.ipamd = Ipamd(True, False, "running", "", ("subnet-fake0001",))
        self.addons: dict[str, FakeAddon] = {}
        self.pod_limits: list[PodLimits] = []
        self.updates: list[dict] = []
        #: phases reported by the next DescribeAddon calls after an update
        self.after_update = ["Upgrading", "Succeeded"]
        #: UpdateAddon's merge: "deep" (nested keys merged) or "shallow" (each top-level key sent replaced)
        self.merge = "deep"
        #: what the next UpdateAddons' answers do: "lost" (applied, then OutcomeUnknownError), "5xx" (not
        #: applied, OutcomeUnknownError), or a callable(values) -> values that stands for what the add-on keeps
        self.update_faults: list = []
        #: DescribeIPAMD's EnableTrunkingENI follows eniipamd's values (else ``ipamd`` is answered as set)
        self.ipamd_follows_values = False
        #: the cluster's CVM instances (DescribeClusterInstances)
        self.instances: list[str] = []
        self.endpoints = ClusterEndpoints(CLUSTER_ID, intranet="cls-fake0001.example")
        self.kubeconfig = ""

    def describe_cluster(self, cluster_id: str) -> Cluster:
        self.cloud.record("tke", "DescribeClusters")
        if cluster_id != self.cluster.cluster_id:
            raise CloudError("ResourceNotFound.ClusterNotFound", f"cluster {cluster_id} not found")
        return self.cluster

    def describe_clusters(self, cluster_ids: list[str] | None = None) -> list[Cluster]:
        self.cloud.record("tke", "DescribeClusters")
        return [self.cluster] if not cluster_ids or self.cluster.cluster_id in cluster_ids else []

    def describe_cluster_instances(self, cluster_id: str, instance_ids: list[str] | None = None) -> list[ClusterInstance]:
        self.cloud.record("tke", "DescribeClusterInstances")
        return [ClusterInstance(i, "WORKER", "running", None) for i in self.instances
                if instance_ids is None or i in instance_ids]

    def describe_cluster_endpoints(self, cluster_id: str) -> ClusterEndpoints:
        self.cloud.record("tke", "DescribeClusterEndpoints")
        return self.endpoints

    def describe_cluster_kubeconfig(self, cluster_id: str, extranet: bool = False) -> str:
        self.cloud.record("tke", "DescribeClusterKubeconfig")
        return self.kubeconfig

    def describe_regions(self) -> list[Region]:
        self.cloud.record("tke", "DescribeRegions")
        return [Region(self.cloud.region, "alluser")]

    def describe_ipamd(self, cluster_id: str) -> Ipamd:
        self.cloud.record("tke", "DescribeIPAMD")
        if self.ipamd_follows_values and "eniipamd" in self.addons:
            from dataclasses import replace

            from sgpctl.core.addon_values import ENABLE_SUB_ENI, is_true, values_get

            a = self.addons["eniipamd"]
            return replace(self.ipamd, trunking_enabled=is_true(values_get(values_merge(a.defaults, a.values), ENABLE_SUB_ENI)))
        return self.ipamd

    def _addon(self, a: FakeAddon) -> Addon:
        return Addon(a.name, a.version, a.phase, a.reason)

    def describe_addons(self, cluster_id: str, name: str | None = None) -> list[Addon]:
        self.cloud.record("tke", "DescribeAddon")
        found = [a for n, a in sorted(self.addons.items()) if name in (None, n)]
        out = [self._addon(a) for a in found]
        for a in found:
            if a.phase == "Upgrading" and self.after_update:
                a.phase = self.after_update.pop(0) if len(self.after_update) else "Succeeded"
        return out

    def get_addon(self, cluster_id: str, name: str) -> Addon | None:
        found = self.describe_addons(cluster_id, name)
        return found[0] if found else None

    def describe_addon_values(self, cluster_id: str, name: str) -> AddonValues:
        self.cloud.record("tke", "DescribeAddonValues")
        a = self.addons.get(name)
        return AddonValues(copy.deepcopy(a.values) if a else {}, copy.deepcopy(a.defaults) if a else {})

    def update_addon(self, cluster_id: str, name: str, version: str | None = None, values: dict | None = None,
                     strategy: str = "merge", dry_run: bool = False) -> None:
        from sgpctl.cloud.errors import OutcomeUnknownError

        self.cloud.record("tke", "UpdateAddon", mutating=not dry_run)
        if dry_run:
            return
        self.updates.append({"name": name, "values": copy.deepcopy(values), "strategy": strategy})
        fault = self.update_faults.pop(0) if self.update_faults else None
        if fault == "5xx":
            raise OutcomeUnknownError("ServerNetworkError", "HTTP 500", None, action="UpdateAddon")
        a = self.addons[name]
        if strategy != "merge":
            a.values = copy.deepcopy(values)
        elif self.merge == "shallow":
            a.values = {**a.values, **copy.deepcopy(values)}
        else:
            a.values = values_merge(a.values, values)
        if callable(fault):
            a.values = fault(a.values)
        a.phase = "Upgrading"
        self.after_update = ["Succeeded"]
        if fault == "lost":
            raise OutcomeUnknownError("ClientNetworkError", "Connection aborted: RemoteDisconnected", None,
                                      action="UpdateAddon")

    def install_addon(self, cluster_id: str, name: str, version: str | None = None, values: dict | None = None,
                      dry_run: bool = False) -> None:
        self.cloud.record("tke", "InstallAddon", mutating=not dry_run)
        if dry_run:
            return
        self.addons[name] = FakeAddon(name, version or "1.0.0", copy.deepcopy(values or {}))

    def get_app_chart_list(self, kind: str | None = None, cluster_type: str = "tke", arch: str | None = None) -> list:
        self.cloud.record("tke", "GetTkeAppChartList")
        return []

    def describe_vpc_cni_pod_limits(self, zone: str | None = None, family: str | None = None,
                                    instance_type: str | None = None) -> list[PodLimits]:
        self.cloud.record("tke", "DescribeVpcCniPodLimits")
        return list(self.pod_limits)


class FakeVpc:
    def __init__(self, cloud: "FakeCloud"):
        self.cloud = cloud
        self.groups: dict[str, str] = {}
        self.enis: dict[str, tuple[str, ...]] = {}
        self.sub_eni_limits: dict[str, int] = {}
        self.rules: dict[str, list] = {}
        #: what DescribeSecurityGroupPolicies answers, per group
        self.group_rules: dict[str, GroupRules] = {}
        #: each ENI's private addresses (for group members)
        self.eni_ips: dict[str, tuple[str, ...]] = {}
        self.sg_limit = 5
        #: ENIs with their attachment, type and creation time (``eni`` below builds them)
        self.records: dict[str, NetworkInterface] = {}
        #: a code DeleteNetworkInterface refuses sub-ENIs with (None: it deletes them)
        self.refuse_sub_eni_delete: str | None = None

    def describe_security_group_limit(self) -> int:
        self.cloud.record("vpc", "DescribeSecurityGroupLimits")
        return self.sg_limit

    def describe_security_groups(self, ids=None, *, name: str | None = None, filters=None) -> list[SecurityGroup]:
        self.cloud.record("vpc", "DescribeSecurityGroups")
        return [SecurityGroup(i, self.groups[i]) for i in (ids or self.groups)
                if i in self.groups and name in (None, self.groups[i])]

    def find_security_groups_by_name(self, name: str) -> list[SecurityGroup]:
        return self.describe_security_groups(name=name)

    def find_missing_security_groups(self, ids) -> list[str]:
        self.cloud.record("vpc", "DescribeSecurityGroups")
        return [i for i in ids if i not in self.groups]

    def create_security_group(self, name: str, description: str = "", tags=None, project_id=None) -> SecurityGroup:
        self.cloud.record("vpc", "CreateSecurityGroup", mutating=True)
        group_id = f"sg-fake{len(self.groups) + 1:04d}"
        self.groups[group_id] = name
        return SecurityGroup(group_id, name)

    def create_security_group_policies(self, group_id: str, ingress=(), egress=()) -> None:
        self.cloud.record("vpc", "CreateSecurityGroupPolicies", mutating=True)
        self.rules.setdefault(group_id, []).extend([*ingress, *egress])


    def describe_network_interfaces(self, ids=None, filters=None, *, concurrency: int = 1) -> list[NetworkInterface]:
        self.cloud.record("vpc", "DescribeNetworkInterfaces")
        plain = [NetworkInterface(i, None, "vpc-fake0001", "subnet-fake0001", g, self.eni_ips.get(i, ()))
                 for i, g in self.enis.items()]
        wanted = None if ids is None else set(ids)
        return [e for e in [*plain, *self.records.values()] if wanted is None or e.eni_id in wanted]

    def describe_instance_network_interfaces(self, instance_ids, *, concurrency: int = 4) -> list[NetworkInterface]:
        self.cloud.record("vpc", "DescribeNetworkInterfaces")
        wanted = set(instance_ids)
        return [e for e in self.records.values() if e.instance_id in wanted]

    def delete_network_interface(self, eni_id: str) -> bool:
        self.cloud.record("vpc", "DeleteNetworkInterface", mutating=True)
        found = self.records.get(eni_id)
        if found is None:
            return False
        if found.eni_type == 2 and self.refuse_sub_eni_delete:
            raise CloudError(self.refuse_sub_eni_delete, f"The network interface {eni_id} is a relayed (sub) ENI.")
        del self.records[eni_id]
        return True

    def delete_security_group(self, group_id: str) -> bool:
        self.cloud.record("vpc", "DeleteSecurityGroup", mutating=True)
        return self.groups.pop(group_id, None) is not None

    def describe_subnets(self, ids=None, filters=None) -> list[Subnet]:
        self.cloud.record("vpc", "DescribeSubnets")
        vpcs = (filters or {}).get("vpc-id")
        if vpcs is not None and "vpc-fake0001" not in ([vpcs] if isinstance(vpcs, str) else vpcs):
            return []
        wanted = ids if ids is not None else sorted(self.cloud.subnets)
        return [Subnet(i, None, "vpc-fake0001", self.cloud.subnets[i], None) for i in wanted if i in self.cloud.subnets]

    def describe_security_group_policies(self, group_ids, *, concurrency: int = 8) -> list[GroupRules]:
        """``group_rules[group]`` when set; else, for a group of ``groups``, ``rules[group]`` (the
        SecurityGroupRules create_security_group_policies was given) as GroupRules, every rule ingress."""
        from sgpctl.core.traffic.model import Rule

        out = []
        for gid in dict.fromkeys(group_ids):
            self.cloud.record("vpc", "DescribeSecurityGroupPolicies")
            if gid in self.group_rules:
                out.append(self.group_rules[gid])
            elif gid in self.groups:
                out.append(GroupRules(gid, "1", tuple(Rule(i, r.action, r.protocol, r.port, r.cidr_block)
                                                      for i, r in enumerate(self.rules.get(gid, ())))))
        return out

    def describe_rule_book(self, group_ids, known_enis=(), *, concurrency: int = 8, eni_addresses=()) -> RuleBook:
        """Like the adapter: the groups' rules, and the addresses of the ENIs bound to the groups their
        ``SecurityGroupId`` rules name (``eni_ips`` holds each ENI's addresses)."""
        known_enis = list(known_enis)
        rules = self.describe_security_group_policies(group_ids)
        referenced = RuleBook.build(rules).referenced()[0]
        members: dict[str, set[str]] = {g: set() for g in referenced}
        known = {ip for e in known_enis for ip in e.private_ips} | set(eni_addresses)
        listed = [(groups, self.eni_ips.get(eni_id, ())) for eni_id, groups in self.enis.items()]
        if referenced:
            self.cloud.record("vpc", "DescribeNetworkInterfaces")
        for groups, ips in [*listed, *((e.security_group_ids, e.private_ips) for e in known_enis)]:
            for g in set(groups) & members.keys():
                members[g].update(ips)
                known.update(ips)
        return RuleBook.build(rules, members, known_addresses=known)

    def describe_network_interface_limit(self, instance_id: str) -> EniLimit:
        self.cloud.record("vpc", "DescribeNetworkInterfaceLimit")
        if instance_id not in self.sub_eni_limits:
            raise CloudError("InvalidInstanceId.NotFound", f"instance {instance_id} not found")
        return EniLimit(4, 10, None, None, self.sub_eni_limits[instance_id], 1)


class FakeCam:
    def __init__(self, cloud: "FakeCloud"):
        self.cloud = cloud
        self.policies: dict[str, tuple[int, dict]] = {}
        self.roles: dict[str, list[int]] = {"IPAMDofTKE_QCSRole": [], "TKE_QCSRole": []}

    def find_policy_by_name(self, name: str) -> Policy | None:
        self.cloud.record("cam", "ListPolicies")
        if name not in self.policies:
            return None
        return Policy(self.policies[name][0], name, 1)

    def get_policy(self, policy_id: int) -> PolicyDetail:
        self.cloud.record("cam", "GetPolicy")
        for name, (pid, doc) in self.policies.items():
            if pid == policy_id:
                return PolicyDetail(pid, name, doc)
        raise CloudError("ResourceNotFound.PolicyIdNotFound", "no such policy")

    def create_policy(self, name: str, document: dict, description: str = "") -> int:
        self.cloud.record("cam", "CreatePolicy", mutating=True)
        policy_id = 100000000 + len(self.policies) + 1
        self.policies[name] = (policy_id, copy.deepcopy(document))
        return policy_id

    def update_policy(self, policy_id: int, document: dict, description: str | None = None) -> None:
        self.cloud.record("cam", "UpdatePolicy", mutating=True)
        name = next(n for n, (pid, _) in self.policies.items() if pid == policy_id)
        self.policies[name] = (policy_id, copy.deepcopy(document))

    def attach_role_policy(self, policy_id: int, role_name: str) -> None:
        self.cloud.record("cam", "AttachRolePolicy", mutating=True)
        self.roles[role_name].append(policy_id)

    def get_role(self, name: str) -> Role | None:
        self.cloud.record("cam", "GetRole")
        return Role(f"role-{name}", name) if name in self.roles else None

    def list_policies(self, scope: str = "Local", keyword: str | None = None) -> list[Policy]:
        self.cloud.record("cam", "ListPolicies")
        return [Policy(pid, name, 1) for name, (pid, _) in sorted(self.policies.items())
                if keyword is None or keyword in name]

    def list_attached_role_policies(self, role_name: str) -> list[AttachedPolicy]:
        self.cloud.record("cam", "ListAttachedRolePolicies")
        names = {pid: n for n, (pid, _) in self.policies.items()}
        return [AttachedPolicy(pid, names.get(pid, "?"), "User") for pid in self.roles.get(role_name, [])]


class FakeCvm:
    def __init__(self, cloud: "FakeCloud"):
        self.cloud = cloud

    def describe_instances(self, ids=None, filters=None) -> list:
        self.cloud.record("cvm", "DescribeInstances")
        return []


class FakeCloud:
    """``.tke/.vpc/.cam/.cvm`` adapters and ``.call`` for the actions without an adapter method."""

    def __init__(self, region: str = "ap-guangzhou"):
        self.region = region
        self.log: list[tuple[str, str, bool]] = []
        self.tke = FakeTke(self)
        self.vpc = FakeVpc(self)
        self.cam = FakeCam(self)
        self.cvm = FakeCvm(self)
        self.subnets: dict[str, str] = {"subnet-fake0001": "10.0.1.0/24"}
        self.failing: dict[str, CloudError] = {}

    def record(self, service: str, action: str, mutating: bool = False) -> None:
        self.log.append((service, action, mutating))
        if action in self.failing:
            raise self.failing[action]

    def call(self, service: str, action: str, params: dict | None = None, *, idempotent: bool | None = None) -> dict:
        self.record(service, action)
        if action == "ListPolicies":
            return {"TotalNum": len(self.cam.policies), "List": [], "RequestId": "r"}
        if action == "DescribeInstances":
            return {"TotalCount": 1, "InstanceSet": [], "RequestId": "r"}
        raise CloudError("InvalidAction", f"{action} is not faked")

    @contextlib.contextmanager
    def recording(self):
        """The calls made meanwhile, as ``CloudSession.recording`` gives them (without answers here)."""
        calls: list[dict] = []
        start = len(self.log)
        try:
            yield calls
        finally:
            calls.extend({"service": s, "action": a, "params": {}} for s, a, _ in self.log[start:])

    def actions(self, mutating: bool | None = None) -> list[str]:
        return [a for _, a, m in self.log if mutating is None or m == mutating]


# -- objects ------------------------------------------------------------------------------------

def pod(name: str, ns: str = "shop", labels: dict | None = None, *, ip: str | None = "10.0.1.10", node: str | None = "node-1",
        phase: str = "Running", sub_eni: bool = False, groups: str = "sg-web00001", owner: tuple[str, str] | None = None,
        created: str = "2026-02-01T00:00:00Z", host_network: bool = False) -> dict:
    meta: dict = {"name": name, "namespace": ns, "labels": dict(labels or {"app": "web"}), "creationTimestamp": created}
    if sub_eni:
        meta["annotations"] = {"tke.cloud.tencent.com/networks": "tke-sub-eni",
                               "tke.cloud.tencent.com/security-group-id": groups}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True, "apiVersion": "apps/v1", "uid": "u"}]
    spec: dict = {"containers": [{"name": "c", "image": "nginx:1.7.9"}], "serviceAccountName": "default"}
    if node:
        spec["nodeName"] = node
    if host_network:
        spec["hostNetwork"] = True
    if sub_eni:
        spec["containers"][0]["resources"] = {"requests": {"tke.cloud.tencent.com/sub-eni": "1"},
                                              "limits": {"tke.cloud.tencent.com/sub-eni": "1"}}
    status: dict = {"phase": phase}
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    return {"metadata": meta, "spec": spec, "status": status}


def policy(name: str = "web", ns: str = "shop", labels: dict | None = None, groups=("sg-web00001",),
           created: str = "2026-01-15T00:00:00Z") -> dict:
    return {"apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": created},
            "spec": {"podSelector": {"matchLabels": dict(labels or {"app": "web"})},
                     "securityGroups": {"groupIds": list(groups)}}}


def daemonset(name: str, ns: str = "kube-system", args: list[str] | None = None) -> dict:
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"template": {"spec": {"containers": [{"name": name, "image": f"{name}:1", "args": list(args or [])}]}}}}


def configmap(name: str, data: dict, ns: str = "kube-system") -> dict:
    return {"metadata": {"name": name, "namespace": ns}, "data": dict(data)}


def service(name: str, ns: str = "shop", selector: dict | None = None, *, kind: str = "LoadBalancer",
            etp: str = "Local") -> dict:
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"type": kind, "selector": dict(selector or {"app": "web"}), "externalTrafficPolicy": etp}}


def network_policy(name: str, ns: str = "shop", selector: dict | None = None) -> dict:
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"podSelector": {"matchLabels": dict(selector or {"app": "web"})}, "policyTypes": ["Ingress"]}}


def node(name: str, instance_type: str, *, allocatable: int | None = None, provider_id: str | None = None,
         zone: str = "ap-guangzhou-3", cpu: str = "8") -> dict:
    status: dict = {"capacity": {"cpu": cpu}, "allocatable": {}, "conditions": [{"type": "Ready", "status": "True"}]}
    if allocatable is not None:
        status["allocatable"]["tke.cloud.tencent.com/sub-eni"] = str(allocatable)
    spec = {"providerID": provider_id} if provider_id else {}
    return {"metadata": {"name": name, "labels": {"node.kubernetes.io/instance-type": instance_type,
                                                  "topology.kubernetes.io/zone": zone,
                                                  "kubernetes.io/hostname": name}},
            "spec": spec, "status": status}


def ipamd_deployment(version: str = "3.6.0") -> dict:
    """kube-system/deploy/tke-eni-ipamd, whose image tag TKE documents as eniipamd's version."""
    return {"metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "tke-eni-ipamd", "image": f"ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v{version}"}]}}}}


def eni(eni_id: str, instance_id: str, *, groups=("sg-web00001",), eni_type: int = 2, primary: bool = False,
        created: str | None = "2026-02-01 00:00:00") -> NetworkInterface:
    """An ENI attached to ``instance_id`` (a per-Pod sub-ENI unless told otherwise)."""
    return NetworkInterface(eni_id, None, "vpc-fake0001", "subnet-fake0001", tuple(groups), ("10.0.1.99",),
                            primary=primary, eni_type=eni_type, instance_id=instance_id, created_time=created)


def vpceni(name: str, eni_id: str, pod_name: str, ns: str = "shop", *, uid: str | None = None,
           created: str = "2026-02-01T00:00:01Z") -> dict:
    """A VpcENI as eniipamd writes it (labels naming the Pod, ``status.eni.eniID``)."""
    spec = {"podUID": uid} if uid else {}
    return {"metadata": {"name": name, "creationTimestamp": created,
                         "labels": {"tke.cloud.tencent.com/pod-name": pod_name, "tke.cloud.tencent.com/pod-namespace": ns}},
            "spec": spec, "status": {"eni": {"eniID": eni_id}}}


def eniipamd(cloud: FakeCloud, values: dict | None = None, defaults: dict | None = None, version: str = "3.6.0") -> FakeAddon:
    a = FakeAddon("eniipamd", version, copy.deepcopy(values if values is not None else
                                                    {"vpcCni": {"trunkingEni": {"enableSubEni": True}}}),
                  copy.deepcopy(defaults if defaults is not None else
                                {"vpcCni": {"securityGroups": {"securityGroups": []}, "trunkingEni": {"enableSubEni": False}},
                                 "agent": {"config": {"logLevel": 2}}}))
    cloud.tke.addons["eniipamd"] = a
    return a
