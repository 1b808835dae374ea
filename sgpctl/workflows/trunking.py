"""Trunking ENI: check the cluster's preconditions, then set eniipamd's
``vpcCni.trunkingEni.enableSubEni`` to true with a merge update that keeps every other value, and wait
until the add-on has rolled out and the value reads back true (the TKE document, "Enabling Trunking ENI
Feature For Existing Clusters")."""

from __future__ import annotations

from dataclasses import dataclass, field

from sgpctl.core.addon_values import coerce_like, patch_for, values_get
from sgpctl.core.preconditions import Condition, trunking_preconditions
from sgpctl.core.versions import image_tag
from sgpctl.workflows.addons import ENIIPAMD, SUCCEEDED, addon_state, read_eniipamd, wait_for_addon
from sgpctl.workflows.steps import CHANGED, PLANNED, REFUSED, UNCHANGED, Outcome, Step
from sgpctl.workflows.waiting import Waiter

ENABLE_KEY = "vpcCni.trunkingEni.enableSubEni"


def truthy(value) -> bool:
    # The chart's types are unconfirmed: a string "true" counts as true.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@dataclass
class TrunkingStatus:
    cluster_id: str
    enabled: bool
    value: object
    addon: dict
    ipamd_reports: bool | None
    preconditions: list[Condition] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.enabled and self.addon.get("phase") == SUCCEEDED

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "clusterId": self.cluster_id,
            "enabled": self.enabled,
            "key": ENABLE_KEY,
            "value": self.value,
            "eniipamd": self.addon,
            "describeIpamdEnableTrunkingEni": self.ipamd_reports,
            "preconditions": [c.to_dict() for c in self.preconditions],
        }


def eniipamd_version(tke, kube, cluster_id: str) -> tuple[str | None, bool]:
    """(version, installed) from DescribeAddon; falls back to the image tag of
    kube-system/deploy/tke-eni-ipamd when the add-on does not report a version."""
    state = addon_state(tke, cluster_id, ENIIPAMD)
    if state.installed and state.version:
        return state.version, True
    if kube is not None:
        from sgpctl.kube import resources as r

        deploy = kube.get(r.DEPLOYMENTS, "tke-eni-ipamd", "kube-system")
        if deploy:
            containers = deploy.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
            if containers:
                tag = image_tag(containers[0].get("image"))
                return (tag.lstrip("v") if tag else None), True
    return state.version, state.installed


def preconditions(tke, kube, cluster_id: str) -> list[Condition]:
    cluster = tke.describe_cluster(cluster_id)
    ipamd = tke.describe_ipamd(cluster_id)
    version, installed = eniipamd_version(tke, kube, cluster_id)
    return trunking_preconditions(
        network_type=cluster.network_type,
        ipamd_enabled=ipamd.enabled,
        vpc_cni_disabled=ipamd.disable_vpc_cni_mode,
        vpc_cni_type=cluster.vpc_cni_type,
        non_static_ip=cluster.non_static_ip,
        eniipamd_version=version,
        eniipamd_installed=installed,
    )


def trunking_status(tke, cluster_id: str, kube=None, *, with_preconditions: bool = True) -> TrunkingStatus:
    eni = read_eniipamd(tke, cluster_id)
    state = eni.state
    # Effective values: a key the user never set takes the chart's default.
    value = values_get(eni.effective, ENABLE_KEY)
    ipamd = tke.describe_ipamd(cluster_id)
    conds = preconditions(tke, kube, cluster_id) if with_preconditions else []
    return TrunkingStatus(cluster_id, truthy(value), value, state.to_dict(), ipamd.trunking_enabled, conds)


def enable_trunking(tke, cluster_id: str, *, kube=None, dry_run: bool = False, wait: bool = True,
                    waiter: Waiter | None = None) -> Outcome:
    waiter = waiter or Waiter()
    out = Outcome("enable-trunking", dry_run=dry_run)
    conds = preconditions(tke, kube, cluster_id)
    out.extra["preconditions"] = [c.to_dict() for c in conds]
    failed = [c for c in conds if c.ok is False]
    undetermined = [c for c in conds if c.ok is None]
    for c in conds:
        out.add(Step(f"precondition-{c.id}", c.description,
                     UNCHANGED if c.ok else REFUSED if c.ok is False else UNCHANGED,
                     c.message, c.hint))
    if failed:
        return out
    step = out.add(Step("eniipamd-enable-sub-eni", f"eniipamd {ENABLE_KEY} is true"))
    if undetermined:
        step.message = "; ".join(f"could not check {c.description}: {c.message}" for c in undetermined)

    eni = read_eniipamd(tke, cluster_id)
    current = values_get(eni.effective, ENABLE_KEY)
    state = eni.state
    if truthy(current):
        if state.phase != SUCCEEDED and wait and not dry_run:
            wait_for_addon(tke, cluster_id, ENIIPAMD, waiter)
        step.message = f"{ENABLE_KEY} is already true"
        return out
    if dry_run:
        step.status, step.message = PLANNED, f"would set {ENABLE_KEY}: true (merge update; other values kept)"
        return out
    # Keep the chart's own type for the value (a string "false" becomes "true").
    new_value = coerce_like(current, True)
    tke.update_addon(cluster_id, ENIIPAMD, values=patch_for(ENABLE_KEY, new_value), strategy="merge")
    step.status, step.message = CHANGED, f"set {ENABLE_KEY}: true"
    if wait:
        wait_for_addon(tke, cluster_id, ENIIPAMD, waiter, what="eniipamd to roll out the new values")
        read_back = values_get(read_eniipamd(tke, cluster_id).effective, ENABLE_KEY)
        if not truthy(read_back):
            from sgpctl.errors import RefusedError

            raise RefusedError(f"eniipamd reports {ENABLE_KEY}={read_back!r} after the update",
                               hint="check the add-on's global configuration in the TKE console")
        step.message += " (rolled out; reads back true)"
    return out
