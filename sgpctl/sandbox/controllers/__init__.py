"""Simulated TKE controllers, driven by the same ``sgpctl.core`` code the CLI predicts with.

=================  ==========================================================================
``deployments``    Deployments -> ReplicaSets (rolling updates, rollout status), ReplicaSets -> Pods
``statefulsets``   StatefulSets (ordered Pods ``<name>-<i>``) and DaemonSets (one Pod per node)
``scheduler``      binds Pending Pods; sub-ENI Pods through ``core.allocation.choose_node``
``kubelet``        starts bound Pods (IPs, statuses, events), frees what deleted Pods held;
                   pod GC deletes Pods of deleted nodes
``dataplane``      whether a sub-ENI Pod's probes pass its security groups (``core.traffic``,
                   the routing mode pinned when its network was set up); Ready follows
``eniipamd``       the Pod webhook (annotations + sub-ENI resource, ``core.matching``) and the
                   sub-ENI / VpcENI lifecycle, with TKE's CAM and security-group refusals
``addons``         add-on effects: trunking on nodes' allocatable, the SecurityGroupPolicy CRD
``jobs``           Jobs -> Pods run to completion (CronJobs are stored, not scheduled)
``endpoints``      Endpoints and EndpointSlices of Services with a selector, from ready Pods
``revisions``      ControllerRevisions of StatefulSets and DaemonSets (rollout history / undo)
=================  ==========================================================================

``build(world)`` wires them into a ``ControllerManager``; see ``manager`` for the threading model.
"""

from __future__ import annotations

from sgpctl.sandbox.controllers.addons import AddonController, NodeController
from sgpctl.sandbox.controllers.cache import Cache
from sgpctl.sandbox.controllers.dataplane import DataPlane
from sgpctl.sandbox.controllers.deployments import DeploymentController, ReplicaSetController
from sgpctl.sandbox.controllers.endpoints import EndpointsController
from sgpctl.sandbox.controllers.eniipamd import EniIpamd
from sgpctl.sandbox.controllers.jobs import JobController
from sgpctl.sandbox.controllers.kubelet import Kubelet, PodGarbageCollector
from sgpctl.sandbox.controllers.manager import ControllerManager
from sgpctl.sandbox.controllers.scheduler import Scheduler
from sgpctl.sandbox.controllers.statefulsets import DaemonSetController, StatefulSetController
from sgpctl.sandbox.controllers.world import (
    CONTROLLERREVISIONS,
    CRDS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENDPOINTS,
    ENDPOINTSLICES,
    JOBS,
    NAMESPACES,
    NODES,
    PODS,
    REPLICASETS,
    SERVICEACCOUNTS,
    SERVICES,
    STATEFULSETS,
    World,
)

__all__ = ["ControllerManager", "World", "build", "new_cache"]


def new_cache(sgp_resource: str, vpceni_resource: str) -> Cache:
    return Cache((PODS, NODES, NAMESPACES, SERVICEACCOUNTS, DEPLOYMENTS, REPLICASETS, STATEFULSETS, DAEMONSETS,
                  CRDS, JOBS, SERVICES, ENDPOINTS, ENDPOINTSLICES, CONTROLLERREVISIONS, sgp_resource, vpceni_resource),
                 vpceni_resource=vpceni_resource)


def build(world: World, *, vpc_cni: bool = True, tick_interval: float = 0.05) -> ControllerManager:
    eniipamd = EniIpamd(world, vpc_cni=vpc_cni)
    dataplane = DataPlane(world)
    controllers = [
        AddonController(world),
        NodeController(world),
        DeploymentController(world),
        ReplicaSetController(world),
        StatefulSetController(world),
        DaemonSetController(world),
        JobController(world),
        EndpointsController(world),
        Scheduler(world),
        Kubelet(world, eniipamd, dataplane),
        dataplane,
        PodGarbageCollector(world),
    ]
    return ControllerManager(world, controllers, tick_interval=tick_interval, admit=eniipamd.admit)
