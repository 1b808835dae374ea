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
``fleet``          Three clusters in two regions (two in ap-guangzhou, one in ap-shanghai), each
                   with its own Kubernetes API; the SecurityGroupPolicy setup done on two of them.
=================  ==========================================================================

Every scenario's clusters are built the same way (``builder``: VPC, subnets, nodes matching CVM
instances, system workloads); the one-cluster scenarios live in region ``ap-guangzhou`` (zones 3,
4, 6). Modules: ``builder`` (the :class:`Builder`), ``basic`` (default, legacy, strict-hazards),
``large``, ``fleet``.

A scenario is a function of a :class:`Builder`; it may call ``b.converge()`` to let the
controllers act (e.g. create the CRD an add-on brings) before it goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sgpctl.errors import InputError

from .basic import build_default, build_legacy, build_strict_hazards, sgp_setup
from .builder import (
    IMAGE_REPO,
    KUBELET_VERSION,
    KUBERNETES_VERSION,
    REGION,
    SEED_NAMESPACE,
    SEED_POLICY,
    SERVICE_CIDR,
    SUB_ENI_POLICY_DOCUMENT,
    SUB_ENI_POLICY_NAME,
    ZONES,
    Builder,
    eniipamd_values,
    zone_id,
)
from .fleet import build_fleet
from .large import build_large

__all__ = ["Builder", "SCENARIOS", "Scenario", "get", "sgp_setup", "eniipamd_values", "zone_id", "REGION", "ZONES",
           "KUBERNETES_VERSION", "KUBELET_VERSION", "IMAGE_REPO", "SEED_NAMESPACE", "SEED_POLICY", "SERVICE_CIDR",
           "SUB_ENI_POLICY_NAME", "SUB_ENI_POLICY_DOCUMENT"]


@dataclass
class Scenario:
    name: str
    summary: str
    build: Callable[["Builder"], None]


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("default", "VPC-CNI cluster meeting every precondition (shared ENI, static IP, eniipamd 3.6.0), "
             "5 nodes of mixed families, CAM roles present; nothing of the SGP setup done", build_default),
    Scenario("legacy", "eniipamd 3.5.2 and non-static Pod IPs: the SGP preconditions fail", build_legacy),
    Scenario("strict-hazards", "SGP set up with policy Pods running, plus IPVS, NodeLocal DNS, a NetworkPolicy, "
             "an SNATing ip-masq-agent and an externalTrafficPolicy=Local LoadBalancer", build_strict_hazards),
    Scenario("large", "500 nodes and 10,000 Pods with sub-ENIs and 40 policies (performance)", build_large),
    Scenario("fleet", "three clusters in two regions (2 in ap-guangzhou, 1 in ap-shanghai), each with its own "
             "Kubernetes API; SGP set up on two", build_fleet),
)}


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise InputError(f"unknown scenario {name!r}",
                         hint=f"choose one of: {', '.join(SCENARIOS)} (sgpctl sandbox scenarios)") from None
