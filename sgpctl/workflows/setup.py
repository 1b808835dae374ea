"""`sgpctl setup`: the cloud half of the TKE document in order — CAM authorization, Trunking ENI, the
SecurityGroupPolicy add-on — each step skipped when already done."""

from __future__ import annotations

from sgpctl.workflows.addons import addon_install
from sgpctl.workflows.cam import cam_setup
from sgpctl.core.steps import SKIPPED, Outcome, Step
from sgpctl.workflows.clients import Cloud, KubeReader
from sgpctl.workflows.trunking import enable_trunking
from sgpctl.workflows.view import ClusterView
from sgpctl.workflows.waiting import Waiter

PHASES = ("cam", "trunking", "addon")


def run_setup(cloud: Cloud, kube: KubeReader, cluster_id: str, *, dry_run: bool = False, waiter: Waiter | None = None,
              addon_name: str | None = None, setting=None, confirmed=(), backups=None, on_phase=None) -> Outcome:
    """Run (or, with dry_run, plan) every phase. Stops at the first phase that fails or refuses:
    later phases build on it (no add-on without trunking, no trunking without authorization)."""
    out = Outcome("setup", dry_run=dry_run)
    phases = {
        "cam": lambda: cam_setup(cloud.cam, dry_run=dry_run),
        "trunking": lambda: enable_trunking(cloud.tke, cluster_id, view=ClusterView(kube), dry_run=dry_run, waiter=waiter,
                                            backups=backups, confirmed=confirmed),
        # In a dry run trunking is not on yet; the add-on step must not refuse for that reason.
        "addon": lambda: addon_install(cloud.tke, kube, cluster_id, name=addon_name, setting=setting, dry_run=dry_run,
                                       waiter=waiter, force=dry_run),
    }
    results = {}
    stopped = None
    for phase in PHASES:
        if stopped:
            out.add(Step(f"{phase}", f"{phase} phase", SKIPPED, f"not reached: the {stopped} phase did not succeed"))
            continue
        result = phases[phase]()
        results[phase] = result
        for s in result.steps:
            s.id = f"{phase}/{s.id}"
            out.add(s)
        if on_phase:
            on_phase(phase, result)
        if not result.ok:
            stopped = phase
    out.extra["phases"] = {p: (r.summary() if r else None) for p, r in results.items()}
    return out
