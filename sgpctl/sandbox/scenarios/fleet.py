"""The ``fleet`` scenario: three clusters in two regions, each with its own Kubernetes API, for
commands that cover many clusters (``--all-clusters``, ``--regions``, ``--clusters``).

=================  ==============  ============================================================
cluster (name)     region          what it holds
=================  ==============  ============================================================
``fleet-gz-prod``  ap-guangzhou    the primary (``SGPCTL_CLUSTER_ID``, current kube context): the
                                   SecurityGroupPolicy setup done (CAM policy, trunking, add-on),
                                   a policy selecting the seed's nginx, whose Pods run with
                                   sub-ENIs; 4 nodes
``fleet-gz-dev``   ap-guangzhou    preconditions met, nothing of the setup done; an application
                                   predating any policy; 3 nodes
``fleet-sh-prod``  ap-shanghai     the setup done (the CAM policy is account-wide), its own
                                   security groups (groups are regional), a policy and nginx Pods
                                   with sub-ENIs; 3 nodes
=================  ==============  ============================================================

The two Guangzhou clusters share that region's security groups; the policy Pods' group ``web``
has the rules its description says (HTTP(S) in, everything out). Each cluster has a VPC of its
own (10.0, 10.1 and 10.2.0.0/16), so node names (their LAN IPs) differ across the fleet.
"""

from __future__ import annotations

from .basic import seed_nginx, sgp_addon, sgp_setup, web_group_rules
from .builder import SEED_NAMESPACE, SEED_POLICY, Builder

SHANGHAI = "ap-shanghai"
SHANGHAI_ZONES = ("ap-shanghai-2", "ap-shanghai-3", "ap-shanghai-4")

PROD_NODES = [
    ("SA5.2XLARGE16", "ap-guangzhou-3"),
    ("S8.2XLARGE16", "ap-guangzhou-4"),
    ("SA5.2XLARGE16", "ap-guangzhou-6"),
    ("S5.LARGE8", "ap-guangzhou-3"),        # unsupported family: quota 0
]
DEV_NODES = [
    ("SA5.2XLARGE16", "ap-guangzhou-3"),
    ("S8.2XLARGE16", "ap-guangzhou-4"),
    ("SA2.LARGE8", "ap-guangzhou-6"),       # unsupported family: quota 0
]
SHANGHAI_NODES = [
    ("SA5.2XLARGE16", "ap-shanghai-2"),
    ("S8.2XLARGE16", "ap-shanghai-3"),
    ("SA5.2XLARGE16", "ap-shanghai-4"),
]


def _policy_pods(b: Builder) -> None:
    """The seed's policy (app: my-app -> web) and nginx Pods, which get sub-ENIs; the group lets them work."""
    web_group_rules(b)
    b.converge()  # the add-on controller creates the SecurityGroupPolicy CRD
    b.policy(SEED_NAMESPACE, SEED_POLICY, {"app": "my-app"}, ["web"])
    seed_nginx(b)
    b.converge()


def build_fleet(b: Builder) -> None:
    b.cluster_name = "fleet-gz-prod"
    b.base(trunking=True)
    sgp_setup(b)
    b.add_nodes(PROD_NODES)
    b.system_workloads()
    _policy_pods(b)

    dev = b.new_cluster(b.region, "fleet-gz-dev", zones=b.zones, vpc_cidr="10.1.0.0/16")
    dev.network()
    dev.groups = dict(b.groups)
    dev.cluster()
    dev.add_nodes(DEV_NODES)
    dev.system_workloads()
    dev.deployment(SEED_NAMESPACE, "web", {"app": "web"}, "nginx:1.25", replicas=2, port=80)
    dev.converge()

    sh = b.new_cluster(SHANGHAI, "fleet-sh-prod", zones=SHANGHAI_ZONES, vpc_cidr="10.2.0.0/16")
    sh.network()
    sh.security_groups("default", "web", "db")
    sh.cluster(trunking=True)
    sgp_addon(sh)
    sh.add_nodes(SHANGHAI_NODES)
    sh.system_workloads()
    _policy_pods(sh)
