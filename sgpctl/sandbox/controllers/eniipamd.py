"""TKE's eniipamd for Trunking ENI: the Pod admission webhook and the sub-ENI lifecycle.

Admission (``admit``, a mutating webhook: the controller manager registers it with the store's
admission phase for Pod creates, so the stored Pod, the create response and the watch's ADDED
event already carry what it adds): when the SecurityGroupPolicy add-on is installed and
trunking is enabled, a Pod that policies select (``core.matching.expected_groups``: its
namespace, not hostNetwork) gets

    annotations  tke.cloud.tencent.com/networks: tke-sub-eni
                 tke.cloud.tencent.com/security-group-id: "sg-a,sg-b"   (policy-name union order)
    resources    tke.cloud.tencent.com/sub-eni: "1" in the first container's requests and limits

Any other Pod that is not hostNetwork gets ``tke.cloud.tencent.com/networks: tke-route-eni``
(the shared-ENI network of a VPC-CNI cluster). Pods are never changed afterwards: a policy
created later does not touch existing Pods (the document's rule).

Network setup (``setup``, called by the kubelet for a bound sub-ENI Pod): requires the CAM
policy granting ``vpc:CreateSubNetworkInterface``, ``vpc:DeleteSubNetworkInterface`` and
``cvm:CheckNetworkInterfaceSecurityGroupReady`` attached to both ``IPAMDofTKE_QCSRole`` and
``TKE_QCSRole``; then creates the sub-ENI on the node's trunk ENI with the Pod's groups
(idempotent: the client token is the Pod's uid) and a cluster-scoped VpcENI object labelled
``tke.cloud.tencent.com/pod-name`` / ``pod-namespace`` whose ``status.eni.eniID`` names it. A
refusal (no permission, a group that does not exist, the quota used up) is raised as
``NetworkSetupError`` with the message real eniipamd logs; the kubelet keeps the Pod in
ContainerCreating and retries.

Teardown (``teardown``, Pod deleted or finished): deletes the sub-ENI (needs
``vpc:DeleteSubNetworkInterface``; without it the sub-ENI and its VpcENI stay - leaked - and
the deletion is retried) and the VpcENI. VpcENIs whose Pod no longer exists are collected at
start-up. Under the variant ``client-token-allowlist=false`` (the account is not on VPC's
client-token allowlist, which the TKE document warns makes Trunking ENIs leak) one teardown in
every ``LEAK_ONE_IN`` deletes the VpcENI but leaves the sub-ENI behind: no VpcENI names it any more,
it keeps its node's quota and its security groups. Which one of each ``LEAK_ONE_IN`` comes from the
cluster id (hence the sandbox's seed), so N teardowns leak N // LEAK_ONE_IN sub-ENIs, or one more,
the same on every run.

The VpcENI objects carry the kind the cluster's VpcENI CRD declares (the variant ``vpceni-kind``).
"""

from __future__ import annotations

import random

from sgpctl.core.annotations import (
    ANNOTATION_NETWORKS,
    ANNOTATION_SECURITY_GROUPS,
    RESOURCE_SUB_ENI,
    SUB_ENI_NETWORK,
    VPCENI_LABEL_POD_NAME,
    VPCENI_LABEL_POD_NAMESPACE,
    annotated_groups,
)
from sgpctl.core.matching import FINISHED_PHASES, expected_groups
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.sandbox.cloud.errors import ApiError as CloudApiError
from sgpctl.sandbox.controllers.addons import instance_of
from sgpctl.sandbox.controllers.cache import copy_of
from sgpctl.sandbox.controllers.names import SAFE_ALPHABET
from sgpctl.sandbox.controllers.world import PODS, SERVICEACCOUNTS, World, log
from sgpctl.sandbox.variants import LEAK_ONE_IN

ROUTE_ENI_NETWORK = "tke-route-eni"
VPCENI_API_VERSION = "networking.tke.cloud.tencent.com/v1"
LABEL_ENI_TYPE = "tke.cloud.tencent.com/eni-type"


class NetworkSetupError(Exception):
    """Why eniipamd could not give a Pod its network (shown in a FailedCreatePodSandBox event)."""


def _tc_error(code: str, message: str) -> str:
    # How eniipamd logs a tencentcloud-sdk-go error (without the request id, so that repeats of
    # one cause count up on one event instead of piling up new ones).
    return f"[TencentCloudSDKError] Code={code}, Message={message}"


class EniIpamd:
    name = "eniipamd"

    def __init__(self, world: World, *, vpc_cni: bool = True):
        self.world = world
        self.vpc_cni = vpc_cni
        self._teardowns = random.Random(f"leaks/{world.cluster_id}").randrange(LEAK_ONE_IN)

    # --- the webhook ---------------------------------------------------------------------

    def admit(self, pod: dict) -> dict | None:
        """The Pod as the webhook would let it be stored, or None to leave it as it is."""
        w = self.world
        spec = pod.get("spec") or {}
        meta = pod.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        if spec.get("hostNetwork") or ANNOTATION_NETWORKS in annotations or not self.vpc_cni:
            return None
        groups: tuple[str, ...] = ()
        if w.addons.sgp_installed and w.addons.trunking:
            ns = meta.get("namespace") or "default"
            objs = w.cache.list(w.sgp_resource, ns)
            if objs:
                policies = [SecurityGroupPolicy.from_object(o) for o in objs]
                groups, _ = expected_groups(pod, policies, w.cache.list(SERVICEACCOUNTS, ns))
        new = copy_of(pod)
        new_annotations = new["metadata"].setdefault("annotations", {})
        if not groups:
            new_annotations[ANNOTATION_NETWORKS] = ROUTE_ENI_NETWORK
            return new
        new_annotations[ANNOTATION_NETWORKS] = SUB_ENI_NETWORK
        new_annotations[ANNOTATION_SECURITY_GROUPS] = ",".join(groups)
        containers = new["spec"].get("containers") or []
        if containers:
            resources = containers[0].setdefault("resources", {})
            resources.setdefault("requests", {})[RESOURCE_SUB_ENI] = "1"
            resources.setdefault("limits", {})[RESOURCE_SUB_ENI] = "1"
        return new

    # --- sub-ENIs ------------------------------------------------------------------------

    def setup(self, pod: dict, node: dict) -> str:
        """Create (or find) the Pod's sub-ENI and VpcENI; returns the Pod IP."""
        w = self.world
        missing = w.cam_missing()
        if missing is not None:
            role, action = missing
            raise NetworkSetupError("failed to create sub eni: " + _tc_error(
                "UnauthorizedOperation",
                f"you are not authorized to perform operation ({action}) with role {role}; attach a policy "
                f"granting it (e.g. SubENIForIPAMD) to IPAMDofTKE_QCSRole and TKE_QCSRole"))
        groups = list(annotated_groups(pod) or ())
        instance_id = instance_of(node)
        meta = pod["metadata"]
        if not instance_id:
            raise NetworkSetupError(f"failed to create sub eni: node {node['metadata']['name']} has no CVM instance")
        try:
            eni = w.cloud.create_sub_eni(meta["uid"], instance_id, None, None, groups,
                                         f"{meta['namespace']}/{meta['name']}"[:60])
        except CloudApiError as exc:
            cause = ""
            if exc.code == "ResourceNotFound":
                gone = [g for g in groups if w.cloud.security_group(g) is None]
                cause = f"security group {', '.join(gone) or '?'} not found: "
            raise NetworkSetupError(f"failed to create sub eni: {cause}{_tc_error(exc.code, exc.message)}") from None
        self._ensure_vpceni(pod, node, instance_id, eni)
        return eni["PrivateIpAddressSet"][0]["PrivateIpAddress"]

    def _ensure_vpceni(self, pod: dict, node: dict, instance_id: str, eni: dict) -> dict:
        w = self.world
        meta = pod["metadata"]
        for existing in w.cache.vpcenis_of(meta["uid"]):
            return existing
        obj = vpceni_object(pod, node["metadata"]["name"], instance_id, eni, self._vpceni_name(),
                            kind=w.kube.resolve(w.vpceni_resource).kind)
        status = obj.pop("status")
        made = w.kube.create(w.vpceni_resource, obj)
        made["status"] = status
        return w.kube.update(w.vpceni_resource, made, subresource="status")

    def _vpceni_name(self) -> str:
        rng = self.world.rng
        while True:
            name = "vpceni-" + "".join(rng.choice(SAFE_ALPHABET) for _ in range(10))
            if self.world.cache.get(self.world.vpceni_resource, "", name) is None:
                return name

    def teardown(self, pod_uid: str) -> bool:
        """Free the Pod's sub-ENI and VpcENI; False when not allowed yet (retry later)."""
        w = self.world
        items = w.cache.vpcenis_of(pod_uid)
        if not items:
            return True
        if w.cam_missing(("vpc:DeleteSubNetworkInterface",)) is not None:
            log.info("cannot delete the sub-ENI of pod %s: CAM does not allow it; retrying", pod_uid)
            return False
        for v in items:
            eni_id = ((v.get("status") or {}).get("eni") or {}).get("eniID")
            if eni_id and self._leaks_without_allowlist():
                log.info("sub-ENI %s of pod %s left behind (no client-token allowlist)", eni_id, pod_uid)
            elif eni_id:
                try:
                    w.cloud.delete_eni(eni_id)
                except CloudApiError:
                    log.exception("deleting sub-ENI %s", eni_id)
            w.delete(w.vpceni_resource, v)
        return True

    def _leaks_without_allowlist(self) -> bool:
        if self.world.cloud.variant("client-token-allowlist") != "false":
            return False
        self._teardowns += 1
        return self._teardowns % LEAK_ONE_IN == 0

    def orphans(self) -> list[str]:
        """Pod uids that VpcENIs name but that no longer exist (or have finished)."""
        w = self.world
        out = []
        for v in w.cache.list(w.vpceni_resource):
            uid = (v.get("spec") or {}).get("podUID")
            pod = w.cache.by_uid(PODS, uid) if uid else None
            if uid and (pod is None or (pod.get("status") or {}).get("phase") in FINISHED_PHASES):
                out.append(uid)
        return sorted(set(out))


def vpceni_object(pod: dict, node_name: str, instance_id: str, eni: dict, name: str, *, kind: str = "VpcENI") -> dict:
    """The VpcENI eniipamd records for a Pod's sub-ENI (status included), of the CRD's ``kind``."""
    meta = pod["metadata"]
    ip = eni["PrivateIpAddressSet"][0]["PrivateIpAddress"]
    return {
        "apiVersion": VPCENI_API_VERSION,
        "kind": kind,
        "metadata": {
            "name": name,
            "labels": {VPCENI_LABEL_POD_NAME: meta["name"], VPCENI_LABEL_POD_NAMESPACE: meta["namespace"],
                       LABEL_ENI_TYPE: "sub-eni"},
        },
        "spec": {
            "type": "SubENI",
            "podUID": meta["uid"],
            "nodeName": node_name,
            "instanceID": instance_id,
            "trunkENIID": eni.get("_trunk"),
            "subnetID": eni.get("SubnetId"),
            "securityGroups": list(eni.get("GroupSet") or ()),
        },
        "status": {
            "phase": "Attached",
            "eni": {
                "eniID": eni["NetworkInterfaceId"],
                "mac": eni.get("MacAddress"),
                "primaryIP": ip,
                "trunkENIID": eni.get("_trunk"),
                "subnetID": eni.get("SubnetId"),
                "vpcID": eni.get("VpcId"),
                "securityGroups": list(eni.get("GroupSet") or ()),
            },
        },
    }

