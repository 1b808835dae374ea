"""The one-cluster scenarios: ``default``, ``legacy`` and ``strict-hazards``."""

from __future__ import annotations

from .builder import IMAGE_REPO, SEED_NAMESPACE, SEED_POLICY, Builder

DEFAULT_NODES = [
    ("SA5.2XLARGE16", "ap-guangzhou-3"),    # supported: quota 100
    ("S8.2XLARGE16", "ap-guangzhou-4"),     # supported: quota 100
    ("SA5.16XLARGE256", "ap-guangzhou-6"),  # supported, 64 cores: quota 256
    ("S5.LARGE8", "ap-guangzhou-3"),        # unsupported family: quota 0
    ("SA2.LARGE8", "ap-guangzhou-4"),       # unsupported family: quota 0
]


def seed_nginx(b: Builder, replicas: int = 2) -> None:
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


def web_group_rules(b: Builder) -> None:
    """The rules of group ``web``, for the scenarios whose policy Pods it guards: what its description
    says, HTTP(S) in from anywhere, and everything out (DNS included)."""
    b.group_rules("web", ingress=[{"Protocol": "TCP", "Port": "80,443", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT",
                                   "PolicyDescription": "HTTP(S) from the internet"}],
                  egress=[{"CidrBlock": "0.0.0.0/0", "Action": "ACCEPT", "PolicyDescription": "everything out"}])


def sgp_setup(b: Builder) -> None:
    """The document's setup, done: CAM policy attached, trunking on, the SGP add-on installed."""
    b.sub_eni_policy()
    sgp_addon(b)


def sgp_addon(b: Builder) -> None:
    """The SecurityGroupPolicy add-on installed in ``b``'s cluster (the CAM step is account-wide)."""
    b.cloud.add_addon(b.cluster_id, "securitygrouppolicy", "1.1.0", {})


def build_strict_hazards(b: Builder) -> None:
    b.base(kube_proxy_mode="ipvs", trunking=True)
    web_group_rules(b)
    sgp_setup(b)
    b.cloud.add_addon(b.cluster_id, "nodelocaldns", "1.1.0", {"localDnsIp": "169.254.20.10"})
    masq = {"NonMasqueradeCIDRs": ["172.16.0.0/16"], "MasqLinkLocal": False, "ResyncInterval": "60s"}
    b.cloud.add_addon(b.cluster_id, "ip-masq-agent", "1.2.0", {"config": masq})
    b.add_nodes(DEFAULT_NODES)
    b.system_workloads()
    b.daemonset("kube-system", "node-local-dns", {"k8s-app": "node-local-dns"},
                f"{IMAGE_REPO}/k8s-dns-node-cache:1.22.20", args=["-localip", "169.254.20.10", "-conf",
                                                                    "/etc/Corefile"])
    b.configmap("kube-system", "node-local-dns", {"Corefile": f"cluster.local:53 {{\n    forward . {b.dns_ip()}\n}}\n"},
                labels={"k8s-app": "node-local-dns"})
    b.daemonset("kube-system", "ip-masq-agent", {"k8s-app": "ip-masq-agent"},
                f"{IMAGE_REPO}/ip-masq-agent:v2.5.0", args=["--masq-chain=IP-MASQ", "--nomasq-all-reserved-ranges"])
    # Pod traffic to anything outside 172.16.0.0/16 is masqueraded: strict-mode Pods would be SNATed.
    b.configmap("kube-system", "ip-masq-agent-config",
                {"config": "NonMasqueradeCIDRs:\n  - 172.16.0.0/16\nMasqLinkLocal: false\nResyncInterval: 60s\n"},
                labels={"k8s-app": "ip-masq-agent"})
    b.converge()  # the add-on controller creates the SecurityGroupPolicy CRD
    b.policy(SEED_NAMESPACE, SEED_POLICY, {"app": "my-app"}, ["web"])
    seed_nginx(b)
    b.create("networkpolicies.networking.k8s.io", {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "my-app-ingress", "namespace": SEED_NAMESPACE},
        "spec": {"podSelector": {"matchLabels": {"app": "my-app"}}, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 80}]}]}})
    b.service(SEED_NAMESPACE, "nginx-lb", {"app": "my-app"}, 80, service_type="LoadBalancer",
              external_traffic_policy="Local")
    b.converge()
