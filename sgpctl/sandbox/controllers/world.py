"""What every simulated controller shares: the stores, the informer cache, a seeded random
source, the add-on state they react to, and small helpers (events, timestamps)."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from sgpctl.sandbox.controllers.cache import Cache

if TYPE_CHECKING:  # pragma: no cover
    from sgpctl.sandbox.cloud.state import CloudState
    from sgpctl.sandbox.kube.store import KubeStore

log = logging.getLogger("sgpctl.sandbox.controllers")

PODS = "pods"
NODES = "nodes"
NAMESPACES = "namespaces"
SERVICEACCOUNTS = "serviceaccounts"
DEPLOYMENTS = "deployments.apps"
REPLICASETS = "replicasets.apps"
STATEFULSETS = "statefulsets.apps"
DAEMONSETS = "daemonsets.apps"
CRDS = "customresourcedefinitions.apiextensions.k8s.io"
JOBS = "jobs.batch"
SERVICES = "services"
ENDPOINTS = "endpoints"
ENDPOINTSLICES = "endpointslices.discovery.k8s.io"
CONTROLLERREVISIONS = "controllerrevisions.apps"

SGP_ADDON = "securitygrouppolicy"
ENIIPAMD_ADDON = "eniipamd"
#: the roles the TKE document attaches the SubENIForIPAMD policy to
IPAMD_ROLES = ("IPAMDofTKE_QCSRole", "TKE_QCSRole")
SUB_ENI_ACTIONS = (
    "vpc:CreateSubNetworkInterface",
    "vpc:DeleteSubNetworkInterface",
    "cvm:CheckNetworkInterfaceSecurityGroupReady",
)


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@dataclass
class AddonView:
    """The add-on state controllers act on: what was last seen *settled* (phase Succeeded).
    An add-on in Installing/Upgrading keeps its previous effect until the operation ends."""

    trunking: bool = False
    sgp_installed: bool = False
    #: an add-on operation is running: its end will change something
    transition: bool = False


@dataclass
class World:
    kube: "KubeStore"
    cloud: "CloudState"
    cluster_id: str
    cache: Cache
    sgp_resource: str
    vpceni_resource: str
    rng: random.Random
    clock: Callable[[], float] = time.time
    addons: AddonView = field(default_factory=AddonView)
    #: zone -> CIDR that Pods on shared ENIs draw their IPs from
    pod_cidrs: dict[str, str] = field(default_factory=dict)
    enqueue: Callable[[str, Any], None] = lambda name, key: None
    requeue_after: Callable[[str, Any, float], None] = lambda name, key, delay: None
    retry_interval: float = 1.0

    def now(self) -> str:
        return iso(self.clock())

    def event(self, obj: dict, reason: str, message: str, *, type: str = "Normal",  # noqa: A002
              component: str = "sandbox") -> None:
        namespace = (obj.get("metadata") or {}).get("namespace") or "default"
        try:
            self.kube.add_event(namespace, obj, reason, message, type=type, component=component)
        except Exception:  # an event is a courtesy: never let it break a controller
            log.exception("could not record event %s for %s", reason, (obj.get("metadata") or {}).get("name"))

    def delete(self, resource: str, obj: dict) -> bool:
        """Delete ``obj`` as a controller does: an object already gone is no error (False)."""
        meta = obj["metadata"]
        try:
            self.kube.delete(resource, meta.get("namespace"), meta["name"])
        except Exception as exc:
            if getattr(exc, "reason", None) != "NotFound":
                raise
            return False
        return True

    def write_status(self, resource: str, obj: dict, status: dict) -> bool:
        """Write ``obj``'s status unless it is unchanged. False when the object changed or went
        meanwhile (Conflict, NotFound): the event that says so brings the controller back."""
        if (obj.get("status") or {}) == status:
            return True
        new = dict(obj)  # the store copies what it is given
        new["status"] = status
        try:
            self.kube.update(resource, new, subresource="status")
        except Exception as exc:
            if getattr(exc, "reason", None) not in ("Conflict", "NotFound"):
                raise
            return False
        return True

    def cam_missing(self, actions: tuple[str, ...] = SUB_ENI_ACTIONS) -> tuple[str, str] | None:
        """The first (role, action) the document requires that CAM does not allow, or None."""
        for role in IPAMD_ROLES:
            for action in actions:
                if not self.cloud.role_allows(role, action):
                    return role, action
        return None
