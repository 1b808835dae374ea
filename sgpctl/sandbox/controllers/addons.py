"""What TKE's add-ons do to the cluster once an add-on operation has finished.

- ``eniipamd``: ``vpcCni.trunkingEni.enableSubEni`` takes effect when the add-on is back to
  ``Succeeded`` (nodes then report their sub-ENI allocatable, see ``nodes``); a new add-on
  version rolls the image tag of ``tke-eni-ipamd`` / ``tke-eni-agent`` like the chart upgrade does.
- ``securitygrouppolicy`` (console "SecurityGroupPolicy"): installing it creates the
  SecurityGroupPolicy CRD; deleting it removes the CRD (and with it every policy object), as the
  Helm release does. Its admission webhook lives in ``eniipamd.admit_pod``.

The add-on phases are read from the cloud state on every tick (they are derived from time there).
"""

from __future__ import annotations

import re
from typing import Any

from sgpctl.core.annotations import RESOURCE_SUB_ENI, node_instance_type
from sgpctl.core.quotas import table_quota
from sgpctl.sandbox.cloud.errors import ApiError as CloudApiError
from sgpctl.sandbox.controllers.cache import copy_of
from sgpctl.sandbox.kube.crds import securitygrouppolicy_crd
from sgpctl.sandbox.controllers.world import (
    CRDS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENIIPAMD_ADDON,
    NODES,
    SGP_ADDON,
    World,
    log,
)

TRANSITIONAL = frozenset({"Installing", "Upgrading", "Terminating"})
#: eniipamd workloads whose image tag follows the add-on version
ENIIPAMD_WORKLOADS = ((DEPLOYMENTS, "tke-eni-ipamd"), (DAEMONSETS, "tke-eni-agent"), (DEPLOYMENTS, "tke-eni-ip-scheduler"))
_TAG = re.compile(r"^(?P<repo>.+):v?(?P<tag>[^:/]+)$")
HELM_LABELS = {"app.kubernetes.io/managed-by": "Helm"}


def sgp_crd(schema: str = "none") -> dict:
    """The CRD the add-on's Helm release installs; ``schema`` is the ``sgp-crd-schema`` variant."""
    crd = copy_of(securitygrouppolicy_crd(schema))
    meta = crd.setdefault("metadata", {})
    meta.setdefault("labels", {}).update(HELM_LABELS)
    meta.setdefault("annotations", {}).update({"meta.helm.sh/release-name": SGP_ADDON,
                                               "meta.helm.sh/release-namespace": "kube-system"})
    return crd


class AddonController:
    name = "addons"

    def __init__(self, world: World):
        self.world = world
        self._delete_crd = False
        self._eniipamd_version: str | None = None

    def watches(self) -> dict:
        def crd_changed(event_type: str, obj: dict, old: dict | None):
            # Someone deleted the CRD while the add-on is installed: the add-on puts it back.
            if event_type == "DELETED" and self._is_sgp_crd(obj):
                yield "crd"
        return {CRDS: crd_changed}

    def _crd_name(self) -> str:
        # A CRD is named <plural>.<group>: the very key its resource is served under.
        return self.world.sgp_resource

    def _is_sgp_crd(self, obj: dict) -> bool:
        return (obj.get("metadata") or {}).get("name") == self._crd_name()

    def resync(self):
        self.tick()
        self._eniipamd_version = None
        yield "crd"
        yield "eniipamd-images"

    def tick(self) -> None:
        w = self.world
        view = w.addons
        addons = {a["AddonName"]: a for a in w.cloud.addons(w.cluster_id)}
        transition = any(a.get("Phase") in TRANSITIONAL for a in addons.values())
        eni = addons.get(ENIIPAMD_ADDON)
        trunking = view.trunking
        if eni is None:
            trunking = False
        elif eni.get("Phase") == "Succeeded":
            trunking = w.cloud.trunking_enabled(w.cluster_id)
            if eni.get("AddonVersion") != self._eniipamd_version:
                if self._eniipamd_version is not None:
                    w.enqueue(self.name, "eniipamd-images")
                self._eniipamd_version = eni.get("AddonVersion")
        sgp = addons.get(w.cloud.variant("sgp-addon-name"))  # SGP_ADDON unless a variant renames the chart
        installed = view.sgp_installed
        if sgp is None:
            installed = False
        elif sgp.get("Phase") == "Succeeded":
            installed = True
        if trunking != view.trunking:
            log.info("trunking ENI %s in %s", "enabled" if trunking else "disabled", w.cluster_id)
            w.enqueue("nodes", "*")
        if installed != view.sgp_installed:
            if not installed:
                self._delete_crd = True
            w.enqueue(self.name, "crd")
        # Flags flip after the work is queued, so settle() never sees "idle" in between.
        view.trunking = trunking
        view.sgp_installed = installed
        view.transition = transition

    def sync(self, key: Any) -> None:
        if key == "crd":
            self._sync_crd()
        elif key == "eniipamd-images":
            self._sync_images()

    def _sync_crd(self) -> None:
        w = self.world
        name = self._crd_name()
        present = w.cache.get(CRDS, "", name) is not None
        if w.addons.sgp_installed and not present:
            w.kube.create(CRDS, sgp_crd(getattr(w.kube, "sgp_crd_schema", "none")))
        elif not w.addons.sgp_installed and present and self._delete_crd:
            w.kube.delete(CRDS, None, name)
        if not w.addons.sgp_installed:
            self._delete_crd = False

    def _sync_images(self) -> None:
        w = self.world
        eni = w.cloud.addon(w.cluster_id, ENIIPAMD_ADDON)
        if eni is None or eni.get("Phase") != "Succeeded":
            return
        version = str(eni.get("AddonVersion") or "").lstrip("v")
        if not version:
            return
        for resource, name in ENIIPAMD_WORKLOADS:
            obj = w.cache.get(resource, "kube-system", name)
            if obj is None:
                continue
            new = copy_of(obj)
            changed = False
            for c in ((new.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or ():
                m = _TAG.match(c.get("image") or "")
                if m and m.group("tag") != version:
                    c["image"] = f"{m.group('repo')}:v{version}"
                    changed = True
            if changed:
                w.kube.update(resource, new)


class NodeController:
    """Nodes advertise ``tke.cloud.tencent.com/sub-eni`` only while trunking is enabled, with the
    quota the cloud gives the node's CVM instance (which falls back to ``core.quotas``'s table)."""

    name = "nodes"

    def __init__(self, world: World):
        self.world = world

    def watches(self) -> dict:
        def node_changed(event_type: str, obj: dict, old: dict | None):
            if event_type != "DELETED":
                yield obj["metadata"]["name"]
        return {NODES: node_changed}

    def resync(self):
        yield "*"

    def tick(self) -> None:
        pass

    def sync(self, key: Any) -> None:
        w = self.world
        names = [n["metadata"]["name"] for n in w.cache.list(NODES)] if key == "*" else [key]
        for name in names:
            node = w.cache.get(NODES, "", name)
            if node is not None:
                self._sync_node(node)

    def _sync_node(self, node: dict) -> None:
        w = self.world
        status = node.get("status") or {}
        want = str(self.quota(node)) if w.addons.trunking else None
        have_alloc = (status.get("allocatable") or {}).get(RESOURCE_SUB_ENI)
        have_cap = (status.get("capacity") or {}).get(RESOURCE_SUB_ENI)
        if have_alloc == want and have_cap == want:
            return
        new = copy_of(node)
        for field in ("capacity", "allocatable"):
            res = new.setdefault("status", {}).setdefault(field, {})
            if want is None:
                res.pop(RESOURCE_SUB_ENI, None)
            else:
                res[RESOURCE_SUB_ENI] = want
        w.kube.update(NODES, new, subresource="status")

    def quota(self, node: dict) -> int:
        instance_id = instance_of(node)
        if instance_id:
            try:
                return self.world.cloud.sub_eni_quota(instance_id)
            except CloudApiError:
                pass
        itype = node_instance_type(node)
        if not itype:
            return 0
        cpu = ((node.get("status") or {}).get("capacity") or {}).get("cpu")
        try:
            cores = int(str(cpu)) if cpu is not None else None
        except ValueError:
            cores = None
        return table_quota(itype, cores)


def instance_of(node: dict) -> str | None:
    """``qcloud:///100003/ins-xxxxxxxx`` -> ``ins-xxxxxxxx`` (also the TKE node label)."""
    provider = (node.get("spec") or {}).get("providerID") or ""
    if provider.startswith("qcloud://"):
        last = provider.rstrip("/").rsplit("/", 1)[-1]
        if last.startswith("ins-"):
            return last
    labels = (node.get("metadata") or {}).get("labels") or {}
    return labels.get("cloud.tencent.com/node-instance-id")
