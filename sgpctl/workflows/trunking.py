"""Trunking ENI: check the cluster's preconditions, then set eniipamd's
``vpcCni.trunkingEni.enableSubEni`` to true (the TKE document, "Enabling Trunking ENI Feature For
Existing Clusters") through ``workflows.values_write`` (a backup first, a patch that is safe whatever
UpdateAddon's merge does, every leaf read back), and cross-check the result with DescribeIPAMD's
``EnableTrunkingENI``.

Decisions:
- A precondition that cannot be established (a GR cluster with VPC-CNI added reports no ENI mode;
  eniipamd's version without its image tag) stops the command before it changes anything, naming the
  fact and ``--confirm ID``, with which the user records having checked it.
- eniipamd's version is the ``tke-eni-ipamd`` image tag (where TKE documents it); DescribeAddon's
  AddonVersion is shown next to it and, when it differs, said to differ (``core.api_facts``).
- Trunking is on when eniipamd's values say so and DescribeIPAMD agrees; when they disagree it is
  undetermined, never success. After the switch, DescribeIPAMD is given a short while to agree.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sgpctl.core.addon_values import ENABLE_SUB_ENI, coerce_like, values_get
from sgpctl.core.api_facts import Fact, eniipamd_version as version_fact, trunking_on
from sgpctl.core.checks import CheckResult, Status
from sgpctl.core.preconditions import ClusterNetwork, trunking_preconditions
from sgpctl.core.steps import CHANGED, PLANNED, UNCHANGED, UNDETERMINED, DryRun, Outcome, Step
from sgpctl.core.versions import image_tag
from sgpctl.workflows.addons import ENIIPAMD, SUCCEEDED, addon_state, read_eniipamd, wait_for_addon
from sgpctl.workflows.clients import TkeApi
from sgpctl.workflows.view import ClusterView
from sgpctl.workflows.waiting import Waiter

IPAMD_DEPLOYMENT = "tke-eni-ipamd"
#: seconds DescribeIPAMD gets to report EnableTrunkingENI after eniipamd rolled the switch out
IPAMD_AGREEMENT_WAIT = 60.0


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
    #: how "on" was established (values and DescribeIPAMD)
    fact: Fact | None = None

    @property
    def determined(self) -> bool:
        return self.fact is None or self.fact.established

    @property
    def ok(self) -> bool:
        return self.enabled and self.determined and self.addon.get("phase") == SUCCEEDED

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "clusterId": self.cluster_id,
            "enabled": self.enabled if self.determined else None,
            "key": ENABLE_SUB_ENI,
            "value": self.value,
            "eniipamd": self.addon,
            "describeIpamdEnableTrunkingEni": self.ipamd_reports,
            "evidence": list(self.fact.evidence) if self.fact else [],
            "message": self.fact.message if self.fact else None,
            "preconditions": [precondition_dict(c) for c in self.preconditions],
        }


def image_tag_of(view: ClusterView | None) -> tuple[str | None, str | None]:
    """(tag, problem) of kube-system/deploy/tke-eni-ipamd's first container image."""
    if view is None:
        return None, "no cluster access (no usable kubeconfig)"
    from sgpctl.errors import SgpctlError
    from sgpctl.kube import resources as r

    try:
        deploy = view.get(r.DEPLOYMENTS, IPAMD_DEPLOYMENT, "kube-system")
    except SgpctlError as e:
        return None, f"reading kube-system/deploy/{IPAMD_DEPLOYMENT} failed: {e.message}"
    if not deploy:
        return None, f"kube-system/deploy/{IPAMD_DEPLOYMENT} not found"
    containers = deploy.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
    image = containers[0].get("image") if containers else None
    tag = image_tag(image)
    return tag, None if tag else f"its image {image!r} has no tag"


def eniipamd_version(tke: TkeApi, view: ClusterView | None, cluster_id: str, *, state=None) -> tuple[Fact, bool]:
    """(how eniipamd's version is established, whether eniipamd is installed): the image tag of
    kube-system/deploy/tke-eni-ipamd, with DescribeAddon's AddonVersion beside it. ``state`` (the
    add-on's, already read) saves a call."""
    state = state if state is not None else addon_state(tke, cluster_id, ENIIPAMD)
    tag, problem = image_tag_of(view)
    return version_fact(state.version if state.installed else None, tag, problem), state.installed


def cluster_network(tke: TkeApi, cluster_id: str, *, cluster=None, ipamd=None,
                    version: tuple[Fact, bool] | None = None, view: ClusterView | None = None) -> ClusterNetwork:
    """What the preconditions are judged on; a caller that read DescribeClusters, DescribeIPAMD or
    eniipamd's version already passes the answers."""
    cluster = cluster if cluster is not None else tke.describe_cluster(cluster_id)
    ipamd = ipamd if ipamd is not None else tke.describe_ipamd(cluster_id)
    fact, installed = version if version is not None else eniipamd_version(tke, view, cluster_id)
    return ClusterNetwork(network_type=cluster.network_type, ipamd_enabled=ipamd.enabled,
                          vpc_cni_disabled=ipamd.disable_vpc_cni_mode, vpc_cni_type=cluster.vpc_cni_type,
                          non_static_ip=cluster.non_static_ip, eniipamd_version=fact.value, eniipamd_installed=installed,
                          properties=dict(cluster.properties or {}), version=fact)


def preconditions(tke: TkeApi, view: ClusterView | None, cluster_id: str) -> list[CheckResult]:
    return trunking_preconditions(cluster_network(tke, cluster_id, view=view))


def trunking_status(tke: TkeApi, cluster_id: str, view: ClusterView | None = None, *,
                    with_preconditions: bool = True) -> TrunkingStatus:
    eni = read_eniipamd(tke, cluster_id)
    value = values_get(eni.effective, ENABLE_SUB_ENI)
    ipamd = tke.describe_ipamd(cluster_id)
    fact = trunking_on(eni.effective, ipamd.trunking_enabled)
    conds = preconditions(tke, view, cluster_id) if with_preconditions else []
    return TrunkingStatus(cluster_id, bool(fact.value), value, eni.state.to_dict(), ipamd.trunking_enabled, conds, fact)


def confirmable(ids: Iterable[str] | None) -> tuple[str, ...]:
    """``--confirm`` values, checked: each must be a precondition's id (InputError, exit 2)."""
    from sgpctl.core.preconditions import precondition_specs
    from sgpctl.errors import InputError

    known = [s.id for s in precondition_specs()]
    ids = tuple(ids or ())
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InputError(f"--confirm {unknown[0]!r} is not a precondition", hint=f"use one of: {', '.join(known)}")
    return ids


def precondition_step(c: CheckResult, confirmed: Iterable[str]) -> Step:
    """A precondition before the switch: failed refuses; could not be established stops (exit 3)
    unless the user confirmed it by its id."""
    step = Step.from_check(c, f"precondition-{c.id}")
    if c.undetermined:
        if c.id in set(confirmed):
            step.status, step.hint = UNCHANGED, None
            step.message = f"{c.message} - confirmed by --confirm {c.id}"
        else:
            step.status = UNDETERMINED
    return step


def enable_trunking(tke: TkeApi, cluster_id: str, *, view: ClusterView | None = None, dry_run: bool | DryRun = False,
                    wait: bool = True, waiter: Waiter | None = None, backups=None,
                    confirmed: Iterable[str] = ()) -> Outcome:
    """``--dry-run=server`` sends the UpdateAddon with ``DryRun`` (TKE checks it and changes nothing)."""
    from sgpctl.workflows.values_write import write_values

    waiter = waiter or Waiter()
    confirmed = tuple(confirmed)
    mode = DryRun.of(dry_run)
    out = Outcome("enable-trunking", dry_run=mode)
    conds = preconditions(tke, view, cluster_id)
    out.extra["preconditions"] = [precondition_dict(c) for c in conds]
    for c in conds:
        out.add(precondition_step(c, confirmed))
    if not out.ok:
        return out
    step = out.add(Step("eniipamd-enable-sub-eni", f"eniipamd {ENABLE_SUB_ENI} is true"))

    eni = read_eniipamd(tke, cluster_id)
    current = values_get(eni.effective, ENABLE_SUB_ENI)
    now = trunking_on(eni.effective, tke.describe_ipamd(cluster_id).trunking_enabled)
    step.details = {"evidence": list(now.evidence)}
    if not now.established:
        step.status, step.message, step.hint = UNDETERMINED, now.message, now.hint
        return out
    if now.value:
        if eni.state.phase != SUCCEEDED and wait and not dry_run:
            wait_for_addon(tke, cluster_id, ENIIPAMD, waiter)
        step.message = f"{ENABLE_SUB_ENI} is already true"
        return out
    # Keep the chart's own type for the value (a string "false" becomes "true").
    new_value = coerce_like(current, True)
    if mode:
        step.status = PLANNED
        step.message = (f"would set {ENABLE_SUB_ENI}: {json.dumps(new_value)} (backup first; vpcCni sent whole, so every "
                        "other value stays whatever UpdateAddon's merge does)")
        if mode is DryRun.SERVER:
            from sgpctl.workflows.values_write import dry_run_values

            dry_run_values(tke, cluster_id, ENIIPAMD, {ENABLE_SUB_ENI: new_value})
            step.message += " (TKE accepted the UpdateAddon in a dry run)"
        return out
    if backups is None:
        raise ValueError("enable_trunking needs a BackupStore to change values")
    written = write_values(tke, cluster_id, ENIIPAMD, {ENABLE_SUB_ENI: new_value}, backups=backups, waiter=waiter,
                           wait=wait, reason=f"before enable-trunking: {ENABLE_SUB_ENI} -> {json.dumps(new_value)}")
    step.status, step.message, step.hint = written.status, written.message, written.hint
    step.details.update(written.details())
    if written.status != CHANGED or not wait:
        return out
    agreed = _ipamd_agrees(tke, cluster_id, written.after or {}, waiter)
    step.details["evidence"] = list(agreed.evidence)
    if not agreed.established or not agreed.value:
        step.status = UNDETERMINED
        step.message = f"{written.message}; but {agreed.message if not agreed.established else 'Trunking ENI reads off'}"
        step.hint = agreed.hint or "see `sgpctl trunking status`"
    else:
        step.message += "; DescribeIPAMD reports EnableTrunkingENI true"
    return out


def _ipamd_agrees(tke: TkeApi, cluster_id: str, effective: dict, waiter: Waiter) -> Fact:
    """Trunking read from the values just read back and DescribeIPAMD, which may lag behind the
    rollout: asked again for a short while until it agrees."""
    short = dataclasses.replace(waiter, timeout=min(waiter.timeout, IPAMD_AGREEMENT_WAIT))

    def probe():
        fact = trunking_on(effective, tke.describe_ipamd(cluster_id).trunking_enabled)
        return fact.established and bool(fact.value), fact

    _, fact = short.until(probe, "DescribeIPAMD to report EnableTrunkingENI")
    return fact
