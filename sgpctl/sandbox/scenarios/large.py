"""The ``large`` scenario: 10,000 running sub-ENI Pods on 500 nodes, for performance work."""

from __future__ import annotations

import json

from sgpctl.core.allocation import UsageIndex, choose_node, node_usage, pod_key
from sgpctl.core.annotations import ANNOTATION_NETWORKS, ANNOTATION_SECURITY_GROUPS, RESOURCE_SUB_ENI, SUB_ENI_NETWORK
from sgpctl.core.matching import expected_groups
from sgpctl.core.policy import SecurityGroupPolicy
from sgpctl.sandbox.kube.crds import SGP_RESOURCE, VPCENI_RESOURCE

from .basic import sgp_setup, web_group_rules
from .builder import Builder, _uuid

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
    web_group_rules(b)  # the Pods' first group lets them work (HTTP(S) in, everything out)
    b.cluster(trunking=True)
    b.roles()
    sgp_setup(b)
    specs = [(itype, b.zones[i % len(b.zones)]) for itype, count in LARGE_NODE_MIX for i in range(count)]
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
    b.replace_kube(KubeStore.from_dict(data, **dict(b.kube.settings(), service_cidr=b.service_cidr)))


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
