"""Trunking ENI: check the cluster's preconditions, then set eniipamd's
``vpcCni.trunkingEni.enableSubEni`` to true with a merge update that keeps every other value, and wait
until the add-on has rolled out and the value reads back true (the TKE document, "Enabling Trunking ENI
Feature For Existing Clusters")."""

from __future__ import annotations

from dataclasses import dataclass, field

from sgpctl.core.addon_values import ENABLE_SUB_ENI, coerce_like, is_true, patch_for, values_get
from sgpctl.core.checks import CheckResult, Status
from sgpctl.core.preconditions import ClusterNetwork, trunking_preconditions
from sgpctl.core.steps import CHANGED, PLANNED, DryRun, Outcome, Step
from sgpctl.core.versions import image_tag
from sgpctl.workflows.addons import ENIIPAMD, SUCCEEDED, addon_state, read_eniipamd, wait_for_addon
from sgpctl.workflows.clients import TkeApi
from sgpctl.workflows.view import ClusterView
from sgpctl.workflows.waiting import Waiter


def precondition_dict(result: CheckResult) -> dict:
    """A precondition in the JSON of `trunking status` and `enable-trunking`: the check, and ``ok``
    (true met, false not met, null could not be determined) as before checks had one model."""
    return {**result.to_dict(), "ok": None if result.undetermined else result.status is not Status.FAIL}


@dataclass
class TrunkingStatus:
    cluster_id: str
    enabled: bool
    value: object
    addon: dict
    ipamd_reports: bool | None
    preconditions: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.enabled and self.addon.get("phase") == SUCCEEDED

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "clusterId": self.cluster_id,
            "enabled": self.enabled,
            "key": ENABLE_SUB_ENI,
            "value": self.value,
            "eniipamd": self.addon,
            "describeIpamdEnableTrunkingEni": self.ipamd_reports,
            "preconditions": [precondition_dict(c) for c in self.preconditions],
        }


def eniipamd_version(tke: TkeApi, view: ClusterView | None, cluster_id: str) -> tuple[str | None, bool]:
    """(version, installed) from DescribeAddon; falls back to the image tag of
    kube-system/deploy/tke-eni-ipamd when the add-on does not report a version."""
    state = addon_state(tke, cluster_id, ENIIPAMD)
    if state.installed and state.version:
        return state.version, True
    if view is not None:
        from sgpctl.kube import resources as r

        deploy = view.get(r.DEPLOYMENTS, "tke-eni-ipamd", "kube-system")
        if deploy:
            containers = deploy.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
            if containers:
                tag = image_tag(containers[0].get("image"))
                return (tag.lstrip("v") if tag else None), True
    return state.version, state.installed


def cluster_network(tke: TkeApi, cluster_id: str, *, cluster=None, ipamd=None,
                    version: tuple[str | None, bool] | None = None, view: ClusterView | None = None) -> ClusterNetwork:
    """What the preconditions are judged on; a caller that read DescribeClusters, DescribeIPAMD or
    eniipamd's version already passes the answers."""
    cluster = cluster if cluster is not None else tke.describe_cluster(cluster_id)
    ipamd = ipamd if ipamd is not None else tke.describe_ipamd(cluster_id)
    found, installed = version if version is not None else eniipamd_version(tke, view, cluster_id)
    return ClusterNetwork(network_type=cluster.network_type, ipamd_enabled=ipamd.enabled,
                          vpc_cni_disabled=ipamd.disable_vpc_cni_mode, vpc_cni_type=cluster.vpc_cni_type,
                          non_static_ip=cluster.non_static_ip, eniipamd_version=found, eniipamd_installed=installed)


def preconditions(tke: TkeApi, view: ClusterView | None, cluster_id: str) -> list[CheckResult]:
    return trunking_preconditions(cluster_network(tke, cluster_id, view=view))


def trunking_status(tke: TkeApi, cluster_id: str, view: ClusterView | None = None, *,
                    with_preconditions: bool = True) -> TrunkingStatus:
    eni = read_eniipamd(tke, cluster_id)
    state = eni.state
    # Effective values: a key the user never set takes the chart's default.
    value = values_get(eni.effective, ENABLE_SUB_ENI)
    ipamd = tke.describe_ipamd(cluster_id)
    conds = preconditions(tke, view, cluster_id) if with_preconditions else []
    return TrunkingStatus(cluster_id, is_true(value), value, state.to_dict(), ipamd.trunking_enabled, conds)


def enable_trunking(tke: TkeApi, cluster_id: str, *, view: ClusterView | None = None, dry_run: bool | DryRun = False,
                    wait: bool = True, waiter: Waiter | None = None) -> Outcome:
    """``--dry-run=server`` sends the UpdateAddon with ``DryRun`` (TKE checks it and changes nothing)."""
    waiter = waiter or Waiter()
    mode = DryRun.of(dry_run)
    out = Outcome("enable-trunking", dry_run=mode)
    conds = preconditions(tke, view, cluster_id)
    out.extra["preconditions"] = [precondition_dict(c) for c in conds]
    for c in conds:
        out.add(Step.from_check(c, f"precondition-{c.id}"))
    if not out.ok:
        return out
    step = out.add(Step("eniipamd-enable-sub-eni", f"eniipamd {ENABLE_SUB_ENI} is true"))
    undetermined = [c for c in conds if c.undetermined]
    if undetermined:
        step.message = "; ".join(f"{c.description}: {c.message}" for c in undetermined)

    eni = read_eniipamd(tke, cluster_id)
    current = values_get(eni.effective, ENABLE_SUB_ENI)
    state = eni.state
    if is_true(current):
        if state.phase != SUCCEEDED and wait and not dry_run:
            wait_for_addon(tke, cluster_id, ENIIPAMD, waiter)
        step.message = f"{ENABLE_SUB_ENI} is already true"
        return out
    # Keep the chart's own type for the value (a string "false" becomes "true").
    new_value = coerce_like(current, True)
    if mode:
        step.status, step.message = PLANNED, f"would set {ENABLE_SUB_ENI}: true (merge update; other values kept)"
        if mode is DryRun.SERVER:
            tke.update_addon(cluster_id, ENIIPAMD, values=patch_for(ENABLE_SUB_ENI, new_value), strategy="merge", dry_run=True)
            step.message += " (TKE accepted the UpdateAddon in a dry run)"
        return out
    tke.update_addon(cluster_id, ENIIPAMD, values=patch_for(ENABLE_SUB_ENI, new_value), strategy="merge")
    step.status, step.message = CHANGED, f"set {ENABLE_SUB_ENI}: true"
    if wait:
        wait_for_addon(tke, cluster_id, ENIIPAMD, waiter, what="eniipamd to roll out the new values")
        read_back = values_get(read_eniipamd(tke, cluster_id).effective, ENABLE_SUB_ENI)
        if not is_true(read_back):
            from sgpctl.errors import RefusedError

            raise RefusedError(f"eniipamd reports {ENABLE_SUB_ENI}={read_back!r} after the update",
                               hint="check the add-on's global configuration in the TKE console")
        step.message += " (rolled out; reads back true)"
    return out
