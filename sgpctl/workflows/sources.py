"""Where a command's picture of the cluster comes from: an offline snapshot file, or the live cluster.

Both give the same ``ClusterView`` so `policy explain` and `capacity` run unchanged on either."""

from __future__ import annotations

from dataclasses import dataclass, field

from sgpctl import inputs
from sgpctl.core.loading import SNAPSHOT_LIMITS
from sgpctl.core.policy import SecurityGroupPolicy, ValidationResult, load_policies
from sgpctl.core.snapshot import Snapshot
from sgpctl.errors import InputError


@dataclass
class ClusterView(Snapshot):
    """The objects of a Snapshot, from a file or a live cluster, and where they came from."""

    #: "snapshot <files>" or "cluster <server>"
    source: str = ""
    #: things the user should know about the input (unknown kinds, CRD not served, ...)
    notes: list[str] = field(default_factory=list)
    #: namespace a command uses when neither -n nor -A is given (kubectl's context namespace)
    default_namespace: str | None = None


def read_text(path: str) -> str:
    """Read a file, or stdin for ``-``, bounded (``sgpctl.inputs``); any problem is bad input (exit 2)."""
    return inputs.read_text(path, max_bytes=SNAPSHOT_LIMITS.max_bytes, hint="check the path given to -f/--snapshot")


def load_policy_file(path: str) -> ValidationResult:
    source = "<stdin>" if path == "-" else path
    return load_policies(read_text(path), source)


def require_valid(result: ValidationResult) -> list[SecurityGroupPolicy]:
    if not result.ok:
        first = result.problems[0]
        more = f" (and {len(result.problems) - 1} more problems)" if len(result.problems) > 1 else ""
        raise InputError(f"{first}{more}", hint="run `sgpctl policy validate -f FILE` to list every problem")
    return result.policies


def from_snapshot(paths: list[str]) -> ClusterView:
    from sgpctl.core.snapshot import load_snapshot, snapshot_documents

    docs, names = [], []
    for path in paths:
        for doc in snapshot_documents(read_text(path), path):
            docs.append(doc)
            names.append(path)
    snap = load_snapshot(docs, names=names)
    fields = {f: getattr(snap, f) for f in Snapshot.__dataclass_fields__}
    return ClusterView(**fields, source="snapshot " + ", ".join(paths), notes=list(snap.problems))


def from_cluster(kube, namespace: str | None = None, *, want_vpcenis: bool = False) -> ClusterView:
    """List what the commands need: a constant number of list calls, whatever the cluster size."""
    from sgpctl.kube import resources as r

    view = ClusterView(source=f"cluster {kube.server}")
    view.pods = kube.list(r.PODS, namespace)
    view.serviceaccounts = kube.list(r.SERVICEACCOUNTS, namespace)
    view.nodes = kube.list(r.NODES)
    view.replicasets = kube.list(r.REPLICASETS, namespace)
    if kube.serves(r.SGP_GROUP, r.SGP_KIND):
        sgp = kube.resource(r.SGP_GROUP, r.SGP_KIND)
        view.policies = [SecurityGroupPolicy.from_object(o) for o in kube.list(sgp, namespace)]
    else:
        view.notes.append("the cluster does not serve SecurityGroupPolicy (the add-on is not installed): no policies")
    if want_vpcenis and kube.serves(r.VPCENI_GROUP, r.VPCENI_KIND):
        view.vpcenis = kube.list(kube.resource(r.VPCENI_GROUP, r.VPCENI_KIND))
    return view


def merge_policies(existing: list[SecurityGroupPolicy], new: list[SecurityGroupPolicy]) -> list[SecurityGroupPolicy]:
    """The policies as they would be after applying ``new``: same namespace/name replaced."""
    keys = {(p.namespace, p.name) for p in new}
    return [p for p in existing if (p.namespace, p.name) not in keys] + list(new)
