"""The steps of `sgpctl demo` that are not sgpctl commands: what the TKE document does with kubectl and
the ENI console (create the namespace, deploy nginx, wait for its Pod, read the Pod's annotations, its
VpcENI and the ENI's groups), done through the same APIs."""

from __future__ import annotations

from sgpctl.core.annotations import VPCENI_LABEL_POD_NAME, VPCENI_LABEL_POD_NAMESPACE
from sgpctl.core.verify import vpceni_eni_id
from sgpctl.errors import RefusedError
from sgpctl.kube import resources as r
from sgpctl.workflows.clients import Cloud, KubeWriter
from sgpctl.workflows.waiting import Waiter


def ensure_namespace(kube: KubeWriter, name: str) -> bool:
    """Create the namespace unless it exists; True when created."""
    if kube.get(r.NAMESPACES, name) is not None:
        return False
    kube.create(r.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return True


def ensure_deployment(kube: KubeWriter, deployment: dict, namespace: str) -> bool:
    """Create the Deployment unless one of its name exists; True when created."""
    if kube.get(r.DEPLOYMENTS, deployment["metadata"]["name"], namespace) is not None:
        return False
    kube.create(r.DEPLOYMENTS, deployment, namespace)
    return True


def wait_for_running_pod(kube: KubeWriter, namespace: str, selector: str, waiter: Waiter) -> dict:
    def probe():
        pods = kube.list(r.PODS, namespace, label_selector=selector)
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
        return bool(running), (running[0] if running else None)

    done, pod = waiter.until(probe, f"a Running Pod with {selector}")
    if not done:
        raise RefusedError(f"no Pod with {selector} ran in time", hint=f"rerun with --timeout, or sgpctl verify pods -n {namespace}")
    return pod


def manual_checks(kube: KubeWriter, cloud: Cloud, name: str, namespace: str) -> dict:
    """What the TKE document reads by hand for one Pod: its annotations and sub-ENI request
    (`kubectl get pod -oyaml`), its VpcENIs (`kubectl get vpceni -l ...`), the ENI they name (the
    newest, as `verify` picks it) and that ENI's groups in VPC (`DescribeNetworkInterfaces`)."""
    pod = kube.get(r.PODS, name, namespace) or {}
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    requests = ((pod.get("spec") or {}).get("containers") or [{}])[0].get("resources", {}).get("requests") or {}
    selector = f"{VPCENI_LABEL_POD_NAME}={name},{VPCENI_LABEL_POD_NAMESPACE}={namespace}"
    vpcenis = sorted(kube.list(kube.resource(r.VPCENI_GROUP, r.VPCENI_KIND), label_selector=selector),
                     key=lambda o: (o["metadata"].get("creationTimestamp") or "", o["metadata"]["name"]))
    named = next((o for o in reversed(vpcenis) if vpceni_eni_id(o)), None)
    eni_id = vpceni_eni_id(named) if named else None
    enis = cloud.vpc.describe_network_interfaces([eni_id]) if eni_id else []
    return {
        "annotations": {k: annotations.get(k) for k in ("tke.cloud.tencent.com/networks", "tke.cloud.tencent.com/security-group-id")},
        "subEniRequest": requests.get("tke.cloud.tencent.com/sub-eni"),
        "vpceniSelector": selector,
        "vpcenis": [o["metadata"]["name"] for o in vpcenis],
        "newestVpceni": named["metadata"]["name"] if named else None,
        "eniId": eni_id,
        "enis": [{"eniId": e.eni_id, "securityGroupIds": list(e.security_group_ids)} for e in enis],
    }
