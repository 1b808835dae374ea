"""What scenarios build with: a :class:`Builder` for one cluster (its cloud resources, nodes and
Kubernetes objects) and the values every scenario shares.

Every cluster: a VPC with a node subnet and a Pod subnet per zone, Kubernetes 1.30 nodes named by
their LAN IP (TKE's default) that carry ``node.kubernetes.io/instance-type``,
``topology.kubernetes.io/zone`` (TKE's numeric zone id, e.g. ``100003``) and ``spec.providerID``
``qcloud:///100003/ins-xxxxxxxx`` of a matching CVM instance; namespaces ``default``,
``kube-system``, ``kube-public``, ``kube-node-lease`` and ``my-namespace`` (the seed's); eniipamd's
workloads (DaemonSet ``tke-eni-agent``, Deployments ``tke-eni-ipamd`` and, in static-IP mode,
``tke-eni-ip-scheduler``, image tags = add-on version), kube-proxy (DaemonSet + ConfigMap),
CoreDNS, and eniipamd's VpcENI CRD.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from typing import Callable

from sgpctl.core.annotations import (
    LABEL_INSTANCE_TYPE,
    LABEL_INSTANCE_TYPE_BETA,
    LABEL_ZONE,
)
from sgpctl.sandbox.cloud import regions
from sgpctl.sandbox.kube.crds import SGP_RESOURCE

REGION = "ap-guangzhou"
ZONES = ("ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6")
#: every sandbox cluster's Service IP range: DescribeClusters' ServiceCIDR and the range its
#: kube-apiserver gives Services their clusterIPs from (one value for both)
SERVICE_CIDR = "172.17.0.0/20"
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
    return regions.zone_id(zone)


def _no_other_cluster(region: str, name: str, **kwargs: object) -> "Builder":
    raise RuntimeError("this builder cannot make another cluster (only a Sandbox's can)")


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
class Builder:
    """What a scenario builds one cluster with; ids come from ``rng`` so a seed gives the same region.

    ``new_cluster(region, name, zones=..., vpc_cidr=...)`` makes another cluster in the same cloud,
    with a Kubernetes API, store and controllers of its own, and returns its builder (the fleet
    scenario); the clusters share the account (CAM), the regions and their security groups."""

    cloud: object
    kube: object
    rng: random.Random
    cluster_id: str
    converge: Callable[[], None] = lambda: None
    #: swap in a store built in bulk (``KubeStore.from_dict``); the controllers follow it
    replace_kube: Callable[[object], None] = lambda store: None
    new_cluster: Callable[..., "Builder"] = _no_other_cluster
    region: str = REGION
    zones: tuple[str, ...] = ZONES
    cluster_name: str = "sgp-demo"
    vpc_cidr: str = "10.0.0.0/16"
    service_cidr: str = SERVICE_CIDR
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

    def service_ip(self, n: int) -> str:
        """The ``n``-th address of the Service CIDR: kube-apiserver gives the ``kubernetes`` Service
        the first."""
        return str(ipaddress.ip_network(self.service_cidr)[n])

    def dns_ip(self) -> str:
        """The cluster DNS Service's address: the tenth of the Service CIDR, where kubeadm and most
        installers put it (TKE's own choice is unpublished)."""
        return self.service_ip(10)

    # --- cloud ---------------------------------------------------------------------------

    def network(self, node_prefix: int = 20, pod_prefix: int = 19) -> None:
        """A VPC (``vpc_cidr``, 10.0.0.0/16) with a node subnet per zone from its start and a Pod
        subnet per zone from its upper half."""
        self.cloud.add_region(self.region, self.zones)
        self.vpc_id = self.new_id("vpc-")
        base = ipaddress.ip_network(self.vpc_cidr)
        self.cloud.add_vpc(self.vpc_id, f"{self.cluster_name}-vpc", str(base), region=self.region)
        node_nets = list(base.subnets(new_prefix=node_prefix))
        pod_nets = list(list(base.subnets(prefixlen_diff=1))[1].subnets(new_prefix=pod_prefix))
        for i, zone in enumerate(self.zones):
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
                                                              group_id=self.new_id("sg-"), region=self.region)

    def group_rules(self, name: str, *, ingress: list[dict] = (), egress: list[dict] = ()) -> None:
        """Rules of group ``name`` as CreateSecurityGroupPolicies takes them (``PolicyDescription``
        and the peer fields the API stores empty are filled in)."""
        blank = {"Protocol": "ALL", "Port": "ALL", "CidrBlock": None, "Ipv6CidrBlock": None, "SecurityGroupId": None,
                 "PolicyDescription": "", "ModifyTime": "2026-01-01 00:00:00"}
        for direction, rules in (("Ingress", ingress), ("Egress", egress)):
            if rules:
                self.cloud.set_group_rules(self.groups[name], direction, [{**blank, **r} for r in rules])

    def cluster(self, *, eniipamd_version: str = "3.6.0", non_static_ip: bool = False,
                kube_proxy_mode: str = "iptables", trunking: bool = False) -> None:
        self.cloud.add_cluster(self.cluster_id, self.cluster_name, KUBERNETES_VERSION, self.vpc_id,
                               network_type="VPC-CNI", vpc_cni_type="tke-route-eni", non_static_ip=non_static_ip,
                               kube_proxy_mode=kube_proxy_mode,
                               subnet_ids=[self.pod_subnets[z][0] for z in self.zones], region=self.region,
                               service_cidr=self.service_cidr)
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
        alias = regions.REGIONS[self.region].alias
        pods = "300" if cpu >= 64 else "110"
        mem_ki = memory * 1024 * 1024
        labels = {
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
            LABEL_INSTANCE_TYPE_BETA: instance_type, LABEL_INSTANCE_TYPE: instance_type,
            "cloud.tencent.com/node-instance-id": instance_id,
            "failure-domain.beta.kubernetes.io/region": alias, "failure-domain.beta.kubernetes.io/zone": zid,
            "topology.kubernetes.io/region": alias, LABEL_ZONE: zid,
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
                   extra_spec: dict | None = None, ports: list[dict] | None = None) -> dict:
        obj = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
               "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                        "template": _template(name, labels, image, host_network=host_network, port=port,
                                              annotations=annotations, extra_spec=extra_spec, ports=ports)}}
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
                labels: dict | None = None, cluster_ip: str | None = None) -> dict:
        spec: dict = {"type": service_type, "selector": dict(selector),
                      "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}]}
        if cluster_ip:
            spec["clusterIP"] = cluster_ip
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
        # CoreDNS as its manifests publish it: DNS on UDP and TCP 53, metrics on TCP 9153.
        self.deployment("kube-system", "coredns", {"k8s-app": "kube-dns"}, f"{IMAGE_REPO}/coredns:1.11.1",
                        replicas=2, ports=[{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                           {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                                           {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}])
        self.create("services", {
            "metadata": {"name": "kube-dns", "namespace": "kube-system",
                         "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
            "spec": {"type": "ClusterIP", "selector": {"k8s-app": "kube-dns"}, "clusterIP": self.dns_ip(),
                     "ports": [{"name": "dns", "port": 53, "targetPort": 53, "protocol": "UDP"},
                               {"name": "dns-tcp", "port": 53, "targetPort": 53, "protocol": "TCP"},
                               {"name": "metrics", "port": 9153, "targetPort": 9153, "protocol": "TCP"}]}})
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
            self.service("default", "kubernetes", {}, 443, labels={"component": "apiserver", "provider": "kubernetes"},
                         cluster_ip=self.service_ip(1))

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
              extra_spec: dict | None = None, ports: list[dict] | None = None) -> dict:
    container: dict = {"name": name.split("-")[-1] if name.startswith("tke-") else name, "image": image,
                       "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}
    if port:
        container["ports"] = [{"containerPort": port, "protocol": "TCP"}]
    if ports:
        container["ports"] = [dict(p) for p in ports]
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
