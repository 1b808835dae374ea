"""The sandbox's scenarios: what the emulated region holds when it starts.

=================  ==========================================================================
``default``        A VPC-CNI cluster that meets every precondition (shared ENI, static Pod IP,
                   eniipamd 3.6.0) with 5 nodes of mixed families, both CAM roles, three
                   security groups, and nothing of the SecurityGroupPolicy setup done yet.
``legacy``         The same cluster with eniipamd 3.5.2 and non-static Pod IPs: the
                   preconditions fail.
``strict-hazards`` The SecurityGroupPolicy setup done (CAM policy attached, trunking on, add-on
                   installed, a policy and the seed's nginx Pods with sub-ENIs) plus everything
                   strict routing is incompatible with: IPVS kube-proxy, NodeLocal DNS, a
                   NetworkPolicy, an ip-masq-agent that SNATs Pod traffic, and a LoadBalancer
                   Service with ``externalTrafficPolicy: Local`` in front of policy Pods.
``large``          500 nodes and 10,000 Pods with sub-ENIs, selected by 40 policies (built
                   directly, not through controller rounds), for performance work.
=================  ==========================================================================

Every scenario: region ``ap-guangzhou`` (zones 3, 4, 6), one VPC with a node subnet and a Pod
subnet per zone, Kubernetes 1.30 nodes named by their LAN IP (TKE's default) that carry
``node.kubernetes.io/instance-type``, ``topology.kubernetes.io/zone`` (TKE's numeric zone id,
e.g. ``100003``) and ``spec.providerID`` ``qcloud:///100003/ins-xxxxxxxx`` of a matching CVM
instance; namespaces ``default``, ``kube-system``, ``kube-public``, ``kube-node-lease`` and
``my-namespace`` (the seed's); eniipamd's workloads (DaemonSet ``tke-eni-agent``, Deployments
``tke-eni-ipamd`` and, in static-IP mode, ``tke-eni-ip-scheduler``, image tags = add-on version),
kube-proxy (DaemonSet + ConfigMap), CoreDNS, and eniipamd's VpcENI CRD.

A scenario is a function of a :class:`Builder`; it may call ``b.converge()`` to let the
controllers act (e.g. create the CRD an add-on brings) before it goes on.
"""

from __future__ import annotations

import ipaddress
import json
import random
from dataclasses import dataclass, field
from typing import Callable

from sgpctl.core.allocation import UsageIndex, choose_node, node_usage, pod_key
from sgpctl.core.annotations import (
    ANNOTATION_NETWORKS,
    ANNOTATION_SECURITY_GROUPS,
    LABEL_INSTANCE_TYPE,
    LABEL_INSTANCE_TYPE_BETA,
    LABEL_ZONE,
    RESOURCE_SUB_ENI,
    SUB_ENI_NETWORK,
)
from sgpctl.core.matching import expected_groups
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.sandbox.kube.crds import SGP_RESOURCE, VPCENI_RESOURCE
from sgpctl.errors import InputError

REGION = "ap-guangzhou"
REGION_SHORT = "gz"
ZONES = ("ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6")
KUBERNETES_VERSION = "1.30.0"
KUBELET_VERSION = "v1.30.0-tke.6"
IMAGE_REPO = "ccr.ccs.tencentyun.com/tkeimages"
SEED_NAMESPACE = "my-namespace"
SEED_POLICY = "my-security-group-policy"
SUB_ENI_POLICY_NAME = "SubENIForIPAMD"
SUB_ENI_POLICY_DOCUMENT = {
    "version": "2.0",
    "statement": [{
        "action": ["vpc:CreateSubNetworkInterface", "vpc:DeleteSubNetworkInterface",
                   "cvm:CheckNetworkInterfaceSecurityGroupReady"],
        "effect": "allow",
        "resource": ["*"],
    }],
}
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def zone_id(zone: str) -> str:
    """``ap-guangzhou-3`` -> ``100003``: the numeric zone id TKE puts in node labels and providerIDs."""
    return str(100000 + int(zone.rsplit("-", 1)[1]))


def eniipamd_values(*, trunking: bool = False) -> dict:
    """The eniipamd add-on values a TKE console shows for a shared-ENI cluster."""
    return {
        "vpcCni": {
            "enableIPv6": False,
            "eniMode": "tke-route-eni",
            "securityGroups": {"securityGroups": [], "enableSecurityGroups": False},
            "trunkingEni": {"enableSubEni": trunking, "podSecurityGroupEnforcingMode": "standard"},
            "maxEniPerNode": 0,
        },
        "agent": {
            "config": {"disableTcpEarlyDemux": False, "disableUdpEarlyDemux": False, "logLevel": 2},
        },
        "ipamd": {"replicas": 1, "claimExpiredDuration": "300s"},
    }


@dataclass
class Scenario:
    name: str
    summary: str
    build: Callable[["Builder"], None]


@dataclass
class Builder:
    """What a scenario builds with; ids come from ``rng`` so a seed gives the same region."""

    cloud: object
    kube: object
    rng: random.Random
    cluster_id: str
    converge: Callable[[], None] = lambda: None
    #: swap in a store built in bulk (``KubeStore.from_dict``); the controllers follow it
    replace_kube: Callable[[object], None] = lambda store: None
    vpc_id: str = ""
    node_subnets: dict[str, tuple[str, str]] = field(default_factory=dict)  # zone -> (subnet id, cidr)
    pod_subnets: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: label zone value -> Pod CIDR (the kubelet's shared-ENI IPs)
    pod_cidrs: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # security group name -> id
    vpc_cni: bool = True
    _ip_next: dict[str, int] = field(default_factory=dict)

    # --- ids ---------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return prefix + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(8))

    # --- cloud ---------------------------------------------------------------------------

    def network(self, node_prefix: int = 20, pod_prefix: int = 19) -> None:
        """A VPC 10.0.0.0/16 with a node subnet and a Pod subnet per zone."""
        self.vpc_id = self.new_id("vpc-")
        base = ipaddress.ip_network("10.0.0.0/16")
        node_nets = list(base.subnets(new_prefix=node_prefix))
        pod_nets = list(ipaddress.ip_network("10.0.128.0/17").subnets(new_prefix=pod_prefix))
        for i, zone in enumerate(ZONES):
            for table, nets, kind in ((self.node_subnets, node_nets, "node"), (self.pod_subnets, pod_nets, "pod")):
                sid = self.new_id("subnet-")
                self.cloud.add_subnet(sid, self.vpc_id, str(nets[i]), zone)
                table[zone] = (sid, str(nets[i]))
            self.pod_cidrs[zone_id(zone)] = self.pod_subnets[zone][1]

    def security_groups(self, *names: str) -> None:
        descriptions = {"default": "System created security group", "web": "HTTP(S) from the internet",
                        "db": "database access from the web tier"}
        for name in names:
            self.groups[name] = self.cloud.add_security_group(name, descriptions.get(name, name),
                                                              group_id=self.new_id("sg-"))

    def cluster(self, *, eniipamd_version: str = "3.6.0", non_static_ip: bool = False,
                kube_proxy_mode: str = "iptables", trunking: bool = False) -> None:
        self.cloud.add_cluster(self.cluster_id, "sgp-demo", KUBERNETES_VERSION, self.vpc_id,
                               network_type="VPC-CNI", vpc_cni_type="tke-route-eni", non_static_ip=non_static_ip,
                               kube_proxy_mode=kube_proxy_mode,
                               subnet_ids=[self.pod_subnets[z][0] for z in ZONES])
        self.cloud.add_addon(self.cluster_id, "eniipamd", eniipamd_version, eniipamd_values(trunking=trunking))
        self.eniipamd_version = eniipamd_version
        self.static_ip = not non_static_ip
        self.kube_proxy_mode = kube_proxy_mode

    def roles(self) -> None:
        self.cloud.add_role("IPAMDofTKE_QCSRole", "TKE eniipamd (tke-eni-ipamd) service role", role_type="system",
                            policies=["QcloudAccessForIPAMDofTKERole"])
        self.cloud.add_role("TKE_QCSRole", "Tencent Kubernetes Engine service role", role_type="system",
                            policies=["QcloudAccessForTKERole"])

    def sub_eni_policy(self) -> None:
        """The document's CAM step: create SubENIForIPAMD and attach it to both roles."""
        self.cloud.add_policy(SUB_ENI_POLICY_NAME, SUB_ENI_POLICY_DOCUMENT,
                              "Trunking ENI permissions for tke-eni-ipamd")
        for role in ("IPAMDofTKE_QCSRole", "TKE_QCSRole"):
            self.cloud.attach_role_policy(role, SUB_ENI_POLICY_NAME)

    def _next_ip(self, zone: str) -> str:
        sid, cidr = self.node_subnets[zone]
        net = ipaddress.ip_network(cidr)
        n = self._ip_next.get(zone, 10)
        self._ip_next[zone] = n + 1
        return str(net.network_address + n)

    # --- nodes ---------------------------------------------------------------------------

    def node(self, instance_type: str, zone: str, *, pool: str | None = None) -> dict:
        """A CVM instance in the cluster and its Node object (returned, not yet stored)."""
        itype = self.cloud.instance_types[instance_type]
        cpu, memory = itype["CPU"], itype["Memory"]
        ip = self._next_ip(zone)
        instance_id = self.new_id("ins-")
        self.cloud.add_instance(instance_id, instance_type, cpu, memory, zone, ip, self.vpc_id,
                                self.node_subnets[zone][0], [self.groups["default"]],
                                name=f"tke_{self.cluster_id}_worker", cluster_id=self.cluster_id,
                                node_pool_id=pool)
        zid = zone_id(zone)
        pods = "300" if cpu >= 64 else "110"
        mem_ki = memory * 1024 * 1024
        labels = {
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
            LABEL_INSTANCE_TYPE_BETA: instance_type, LABEL_INSTANCE_TYPE: instance_type,
            "cloud.tencent.com/node-instance-id": instance_id,
            "failure-domain.beta.kubernetes.io/region": REGION_SHORT, "failure-domain.beta.kubernetes.io/zone": zid,
            "topology.kubernetes.io/region": REGION_SHORT, LABEL_ZONE: zid,
            "topology.com.tencent.cloud.csi.cbs/zone": zone,
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": ip, "kubernetes.io/os": "linux",
        }
        if pool:
            labels["tke.cloud.tencent.com/nodepool-id"] = pool
        return {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": ip, "labels": labels,
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {"providerID": f"qcloud:///{zid}/{instance_id}"},
            "status": {
                "capacity": {"cpu": str(cpu), "memory": f"{mem_ki}Ki", "pods": pods,
                             "ephemeral-storage": "51473868Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
                "allocatable": {"cpu": f"{cpu * 1000 - 100 - 60 * min(cpu, 4)}m",
                                "memory": f"{mem_ki - 1_200_000}Ki", "pods": pods,
                                "ephemeral-storage": "47438478872", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
                "conditions": [
                    _node_condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                                    "kubelet has sufficient memory available"),
                    _node_condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    _node_condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    _node_condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                ],
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": ip}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64", "bootID": _uuid(self.rng), "machineID": self.rng.getrandbits(128).to_bytes(16, "big").hex(),
                    "systemUUID": _uuid(self.rng).upper(),
                    "containerRuntimeVersion": "containerd://1.6.9-tke.8", "kernelVersion": "5.4.241-1-tlinux4-0017.7",
                    "kubeProxyVersion": KUBELET_VERSION, "kubeletVersion": KUBELET_VERSION,
                    "operatingSystem": "linux", "osImage": "TencentOS Server 3.1 (Final)",
                },
            },
        }

    def add_nodes(self, specs: list[tuple[str, str]]) -> list[dict]:
        pool = self.new_id("np-")
        nodes = [self.node(itype, zone, pool=pool) for itype, zone in specs]
        for n in nodes:
            self.kube.create("nodes", n)
        return nodes

    # --- Kubernetes objects ------------------------------------------------------------

    def create(self, resource: str, obj: dict) -> dict:
        return self.kube.create(resource, obj)

    def namespace(self, name: str) -> None:
        if self.kube.get("namespaces", None, name) is None:
            self.create("namespaces", {"metadata": {"name": name}})

    def configmap(self, namespace: str, name: str, data: dict[str, str], labels: dict | None = None) -> None:
        self.create("configmaps", {"metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
                                   "data": data})

    def deployment(self, namespace: str, name: str, labels: dict[str, str], image: str, *, replicas: int = 1,
                   host_network: bool = False, port: int | None = None, annotations: dict | None = None,
                   extra_spec: dict | None = None) -> dict:
        obj = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
               "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                        "template": _template(name, labels, image, host_network=host_network, port=port,
                                              annotations=annotations, extra_spec=extra_spec)}}
        return self.create("deployments.apps", obj)

    def daemonset(self, namespace: str, name: str, labels: dict[str, str], image: str, *,
                  host_network: bool = True, args: list[str] | None = None) -> dict:
        template = _template(name, labels, image, host_network=host_network, args=args,
                             extra_spec={"priorityClassName": "system-node-critical",
                                         "tolerations": [{"operator": "Exists"}]})
        obj = {"apiVersion": "apps/v1", "kind": "DaemonSet",
               "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
               "spec": {"selector": {"matchLabels": dict(labels)}, "template": template}}
        return self.create("daemonsets.apps", obj)

    def service(self, namespace: str, name: str, selector: dict[str, str], port: int, *,
                service_type: str = "ClusterIP", external_traffic_policy: str | None = None,
                labels: dict | None = None) -> dict:
        spec: dict = {"type": service_type, "selector": dict(selector),
                      "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}]}
        if external_traffic_policy:
            spec["externalTrafficPolicy"] = external_traffic_policy
        return self.create("services", {"metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
                                        "spec": spec})

    def policy(self, namespace: str, name: str, match_labels: dict[str, str], group_names: list[str]) -> dict:
        return self.create(SGP_RESOURCE, {
            "apiVersion": "vpcresources.tke.cloud.tencent.com/v1beta1", "kind": "SecurityGroupPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": {"matchLabels": dict(match_labels)},
                     "securityGroups": {"groupIds": [self.groups[g] for g in group_names]}}})

    # --- the common cluster --------------------------------------------------------------

    def system_workloads(self, *, daemonsets: bool = True) -> None:
        version = self.eniipamd_version
        self.namespace(SEED_NAMESPACE)
        self.deployment("kube-system", "tke-eni-ipamd", {"app": "tke-eni-ipamd"},
                        f"{IMAGE_REPO}/tke-eni-ipamd:v{version}", host_network=True,
                        extra_spec={"priorityClassName": "system-cluster-critical",
                                    "serviceAccountName": "tke-eni-ipamd"})
        if self.static_ip:
            self.deployment("kube-system", "tke-eni-ip-scheduler", {"app": "tke-eni-ip-scheduler"},
                            f"{IMAGE_REPO}/tke-eni-ip-scheduler:v{version}", host_network=True,
                            extra_spec={"priorityClassName": "system-cluster-critical"})
        self.deployment("kube-system", "coredns", {"k8s-app": "kube-dns"}, f"{IMAGE_REPO}/coredns:1.11.1",
                        replicas=2, port=53)
        self.service("kube-system", "kube-dns", {"k8s-app": "kube-dns"}, 53,
                     labels={"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"})
        self.create("serviceaccounts", {"metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"}})
        mode = self.kube_proxy_mode
        self.configmap("kube-system", "kube-proxy", {"config.conf": _kube_proxy_config(mode)},
                       labels={"app": "kube-proxy"})
        if daemonsets:
            self.daemonset("kube-system", "tke-eni-agent", {"app": "tke-eni-agent"},
                           f"{IMAGE_REPO}/tke-eni-agent:v{version}")
            self.daemonset("kube-system", "kube-proxy", {"k8s-app": "kube-proxy"},
                           f"{IMAGE_REPO}/hyperkube:{KUBELET_VERSION}",
                           args=["kube-proxy", "--config=/var/lib/kube-proxy/config.conf", f"--proxy-mode={mode}"])
        if self.kube.get("services", "default", "kubernetes") is None:
            self.service("default", "kubernetes", {}, 443, labels={"component": "apiserver", "provider": "kubernetes"})

    def base(self, *, eniipamd_version: str = "3.6.0", non_static_ip: bool = False,
             kube_proxy_mode: str = "iptables", trunking: bool = False) -> None:
        self.network()
        self.security_groups("default", "web", "db")
        self.cluster(eniipamd_version=eniipamd_version, non_static_ip=non_static_ip,
                     kube_proxy_mode=kube_proxy_mode, trunking=trunking)
        self.roles()


def _node_condition(type_: str, status: str, reason: str, message: str) -> dict:
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": None, "lastTransitionTime": None}


def _uuid(rng: random.Random) -> str:
    h = rng.getrandbits(128).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _kube_proxy_config(mode: str) -> str:
    return ("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
            "clientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig\n"
            f"clusterCIDR: \"\"\nmode: \"{mode}\"\n"
            "ipvs:\n  scheduler: rr\n  strictARP: false\n"
            "iptables:\n  masqueradeAll: false\n  syncPeriod: 30s\n")


def _template(name: str, labels: dict[str, str], image: str, *, host_network: bool = False,
              port: int | None = None, args: list[str] | None = None, annotations: dict | None = None,
              extra_spec: dict | None = None) -> dict:
    container: dict = {"name": name.split("-")[-1] if name.startswith("tke-") else name, "image": image,
                       "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}
    if port:
        container["ports"] = [{"containerPort": port, "protocol": "TCP"}]
    if args:
        container["args"] = list(args)
    spec: dict = {"containers": [container], "terminationGracePeriodSeconds": 30}
    if host_network:
        spec["hostNetwork"] = True
        spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    spec.update(extra_spec or {})
    meta: dict = {"labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"metadata": meta, "spec": spec}


DEFAULT_NODES = [
    ("SA5.2XLARGE16", "ap-guangzhou-3"),    # supported: quota 100
    ("S8.2XLARGE16", "ap-guangzhou-4"),     # supported: quota 100
    ("SA5.16XLARGE256", "ap-guangzhou-6"),  # supported, 64 cores: quota 256
    ("S5.LARGE8", "ap-guangzhou-3"),        # unsupported family: quota 0
    ("SA2.LARGE8", "ap-guangzhou-4"),       # unsupported family: quota 0
]


def _seed_nginx(b: Builder, replicas: int = 2) -> None:
    """The seed document's nginx Deployment (labels app: my-app), in the seed's namespace."""
    b.deployment(SEED_NAMESPACE, "nginx", {"app": "my-app"}, "nginx:1.7.9", replicas=replicas, port=80,
                 extra_spec={"terminationGracePeriodSeconds": 0})


def build_default(b: Builder) -> None:
    b.base()
    b.add_nodes(DEFAULT_NODES)
    b.system_workloads()
    # An application that predates any policy: its Pods never get sub-ENIs unless rebuilt.
    b.deployment(SEED_NAMESPACE, "web", {"app": "web"}, "nginx:1.25", replicas=2, port=80)


def build_legacy(b: Builder) -> None:
    b.base(eniipamd_version="3.5.2", non_static_ip=True)
    b.add_nodes(DEFAULT_NODES)
    b.system_workloads()
    b.deployment(SEED_NAMESPACE, "web", {"app": "web"}, "nginx:1.25", replicas=2, port=80)


def sgp_setup(b: Builder) -> None:
    """The document's setup, done: CAM policy attached, trunking on, the SGP add-on installed."""
    b.sub_eni_policy()
    b.cloud.add_addon(b.cluster_id, "securitygrouppolicy", "1.1.0", {})


def build_strict_hazards(b: Builder) -> None:
    b.base(kube_proxy_mode="ipvs", trunking=True)
    sgp_setup(b)
    b.cloud.add_addon(b.cluster_id, "nodelocaldns", "1.1.0", {"localDnsIp": "169.254.20.10"})
    masq = {"NonMasqueradeCIDRs": ["172.16.0.0/16"], "MasqLinkLocal": False, "ResyncInterval": "60s"}
    b.cloud.add_addon(b.cluster_id, "ip-masq-agent", "1.2.0", {"config": masq})
    b.add_nodes(DEFAULT_NODES)
    b.system_workloads()
    b.daemonset("kube-system", "node-local-dns", {"k8s-app": "node-local-dns"},
                f"{IMAGE_REPO}/k8s-dns-node-cache:1.22.20", args=["-localip", "169.254.20.10", "-conf",
                                                                    "/etc/Corefile"])
    b.configmap("kube-system", "node-local-dns", {"Corefile": "cluster.local:53 {\n    forward . 10.96.0.10\n}\n"},
                labels={"k8s-app": "node-local-dns"})
    b.daemonset("kube-system", "ip-masq-agent", {"k8s-app": "ip-masq-agent"},
                f"{IMAGE_REPO}/ip-masq-agent:v2.5.0", args=["--masq-chain=IP-MASQ", "--nomasq-all-reserved-ranges"])
    # Pod traffic to anything outside 172.16.0.0/16 is masqueraded: strict-mode Pods would be SNATed.
    b.configmap("kube-system", "ip-masq-agent-config",
                {"config": "NonMasqueradeCIDRs:\n  - 172.16.0.0/16\nMasqLinkLocal: false\nResyncInterval: 60s\n"},
                labels={"k8s-app": "ip-masq-agent"})
    b.converge()  # the add-on controller creates the SecurityGroupPolicy CRD
    b.policy(SEED_NAMESPACE, SEED_POLICY, {"app": "my-app"}, ["web"])
    _seed_nginx(b)
    b.create("networkpolicies.networking.k8s.io", {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "my-app-ingress", "namespace": SEED_NAMESPACE},
        "spec": {"podSelector": {"matchLabels": {"app": "my-app"}}, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 80}]}]}})
    b.service(SEED_NAMESPACE, "nginx-lb", {"app": "my-app"}, 80, service_type="LoadBalancer",
              external_traffic_policy="Local")
    b.converge()


# --- large -----------------------------------------------------------------------------------

LARGE_NAMESPACES = 20
LARGE_APPS = 5
LARGE_REPLICAS = 100
LARGE_NODE_MIX = (("SA5.2XLARGE16", 300), ("S8.4XLARGE32", 150), ("SA5.16XLARGE256", 30), ("S5.LARGE8", 20))


def build_large(b: Builder) -> None:
    """10,000 running sub-ENI Pods on 500 nodes, built as the controllers would leave them."""
    from sgpctl.sandbox.controllers.deployments import HASH_LABEL, REVISION
    from sgpctl.sandbox.controllers.eniipamd import vpceni_object
    from sgpctl.sandbox.controllers.names import random_suffix, template_hash
    from sgpctl.sandbox.controllers.pods import running_status
    from sgpctl.sandbox.kube import KubeStore

    b.network(node_prefix=18, pod_prefix=19)
    b.security_groups("default", "web", "db")
    b.cluster(trunking=True)
    b.roles()
    sgp_setup(b)
    specs = [(itype, ZONES[i % len(ZONES)]) for itype, count in LARGE_NODE_MIX for i in range(count)]
    nodes = [b.node(itype, zone) for itype, zone in specs]
    cloud = b.cloud
    for n in nodes:
        quota = cloud.sub_eni_quota(n["spec"]["providerID"].rsplit("/", 1)[1])
        for f in ("capacity", "allocatable"):
            n["status"][f][RESOURCE_SUB_ENI] = str(quota)
        b.kube.create("nodes", n)
    b.system_workloads(daemonsets=False)
    b.converge()  # the SecurityGroupPolicy CRD
    node_map = {n["metadata"]["name"]: n for n in nodes}
    index = UsageIndex(node_usage(nodes, ()), node_map)
    now = _now(cloud)
    raw: list[dict] = []
    rv = 10**6  # above anything the skeleton used
    for t in range(LARGE_NAMESPACES):
        ns = f"team-{t:02d}"
        b.namespace(ns)
        b.policy(ns, "frontend", {"tier": "frontend"}, ["web"])
        b.policy(ns, "backend", {"tier": "backend"}, ["web", "db"])
        policies = [SecurityGroupPolicy.from_object(p) for p in b.kube.list(SGP_RESOURCE, ns)]
        sas = b.kube.list("serviceaccounts", ns)
        for a in range(LARGE_APPS):
            app = f"app-{a}"
            labels = {"app": app, "tier": "frontend" if a < 2 else "backend"}
            d = b.deployment(ns, app, labels, "nginx:1.25", replicas=LARGE_REPLICAS, port=80)
            # The hash of the stored (server-defaulted) template, as the Deployment controller computes it.
            h = template_hash(d["spec"]["template"])
            rs_template = json.loads(json.dumps(d["spec"]["template"]))
            rs_template["metadata"]["labels"][HASH_LABEL] = h
            rs_name = f"{app}-{h}"
            rs = b.kube.create("replicasets.apps", {
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": rs_name, "namespace": ns, "labels": dict(rs_template["metadata"]["labels"]),
                             "annotations": {REVISION: "1"}, "ownerReferences": [_owner_ref(d)]},
                "spec": {"replicas": LARGE_REPLICAS, "selector": {"matchLabels": {**labels, HASH_LABEL: h}},
                         "template": rs_template},
                "status": {"replicas": LARGE_REPLICAS, "fullyLabeledReplicas": LARGE_REPLICAS,
                           "readyReplicas": LARGE_REPLICAS, "availableReplicas": LARGE_REPLICAS,
                           "observedGeneration": 1}})
            d["metadata"].setdefault("annotations", {})[REVISION] = "1"
            d = b.kube.update("deployments.apps", d)
            d["status"] = _complete_deployment_status(rs_name, now)
            b.kube.update("deployments.apps", d, subresource="status")
            pod_labels = dict(rs_template["metadata"]["labels"])
            groups, _ = expected_groups({"metadata": {"namespace": ns, "labels": pod_labels},
                                         "spec": rs_template["spec"]}, policies, sas)
            annotations = {ANNOTATION_NETWORKS: SUB_ENI_NETWORK, ANNOTATION_SECURITY_GROUPS: ",".join(groups)}
            spec_text = json.dumps(rs_template["spec"])
            owner = [_owner_ref(rs)]
            placed: list[tuple[dict, str, str]] = []  # (pod, node name, instance id)
            for _ in range(LARGE_REPLICAS):
                name = f"{rs_name}-{random_suffix(b.rng)}"
                uid = _uuid(b.rng)
                pod = {"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "namespace": ns, "uid": uid,
                                    "creationTimestamp": now, "labels": dict(pod_labels),
                                    "annotations": dict(annotations), "ownerReferences": owner},
                       "spec": json.loads(spec_text), "status": {"qosClass": "Burstable"}}
                res = pod["spec"]["containers"][0].setdefault("resources", {})
                res.setdefault("requests", {})[RESOURCE_SUB_ENI] = "1"
                res.setdefault("limits", {})[RESOURCE_SUB_ENI] = "1"
                node_name, why = choose_node(pod, index, node_map)
                if node_name is None:
                    raise RuntimeError(f"large scenario does not fit: {why}")
                index.take(node_name, pod_key(pod))
                pod["spec"]["nodeName"] = node_name
                placed.append((pod, node_name, node_map[node_name]["spec"]["providerID"].rsplit("/", 1)[1]))
            # What eniipamd would have made for them, with its client token (the Pod's uid).
            enis = cloud.add_sub_enis([
                {"client_token": pod["metadata"]["uid"], "trunk_instance_id": instance_id, "group_ids": groups,
                 "name": f"{ns}/{pod['metadata']['name']}"} for pod, _, instance_id in placed])
            for (pod, node_name, instance_id), eni in zip(placed, enis):
                rv += 1
                pod["metadata"]["resourceVersion"] = str(rv)
                pod["status"] = running_status(pod, node_name, eni["PrivateIpAddressSet"][0]["PrivateIpAddress"], now)
                raw.append({"resource": "pods", "object": pod})
                rv += 1
                v = vpceni_object(pod, node_name, instance_id, eni, "vpceni-" + random_suffix(b.rng, 10))
                v["metadata"].update(uid=_uuid(b.rng), resourceVersion=str(rv), creationTimestamp=now, generation=1)
                raw.append({"resource": VPCENI_RESOURCE, "object": v})
    # 20,000 objects through the API would cost a create each (validation, defaults, copies, an
    # event); the controllers would have left them exactly like this, so load them as a saved state.
    data = b.kube.to_dict()
    data["objects"].extend(raw)
    data["resourceVersion"] = rv
    b.replace_kube(KubeStore.from_dict(data, **b.kube.settings()))


def _complete_deployment_status(rs_name: str, now: str) -> dict:
    n = LARGE_REPLICAS
    return {"observedGeneration": 1, "replicas": n, "updatedReplicas": n, "readyReplicas": n, "availableReplicas": n,
            "conditions": [
                {"type": "Available", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                 "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                 "reason": "NewReplicaSetAvailable", "message": f'ReplicaSet "{rs_name}" has successfully progressed.'}]}


def _owner_ref(owner: dict) -> dict:
    from sgpctl.sandbox.controllers.pods import owner_reference

    return owner_reference(owner)


def _now(cloud) -> str:
    from sgpctl.sandbox.controllers.world import iso

    return iso(cloud.clock())


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("default", "VPC-CNI cluster meeting every precondition (shared ENI, static IP, eniipamd 3.6.0), "
             "5 nodes of mixed families, CAM roles present; nothing of the SGP setup done", build_default),
    Scenario("legacy", "eniipamd 3.5.2 and non-static Pod IPs: the SGP preconditions fail", build_legacy),
    Scenario("strict-hazards", "SGP set up with policy Pods running, plus IPVS, NodeLocal DNS, a NetworkPolicy, "
             "an SNATing ip-masq-agent and an externalTrafficPolicy=Local LoadBalancer", build_strict_hazards),
    Scenario("large", "500 nodes and 10,000 Pods with sub-ENIs and 40 policies (performance)", build_large),
)}


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise InputError(f"unknown scenario {name!r}",
                         hint=f"choose one of: {', '.join(SCENARIOS)} (sgpctl sandbox scenarios)") from None
