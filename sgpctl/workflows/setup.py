"""`sgpctl setup`: the cloud half of the TKE document in order — CAM authorization, Trunking ENI, the
SecurityGroupPolicy add-on — each step skipped when already done."""

from __future__ import annotations

from sgpctl.workflows.addons import addon_install
from sgpctl.workflows.cam import cam_setup
from sgpctl.core.steps import PLANNED, SKIPPED, DryRun, Outcome, Step
from sgpctl.workflows.clients import Cloud, KubeReader
from sgpctl.workflows.trunking import enable_trunking
from sgpctl.workflows.view import ClusterView
from sgpctl.workflows.waiting import Waiter

PHASES = ("cam", "trunking", "addon")


def trunking_planned(out: Outcome) -> bool:
    return any(s.id.startswith("trunking/") and s.status == PLANNED for s in out.steps)


def run_setup(cloud: Cloud, kube: KubeReader, cluster_id: str, *, dry_run: bool | DryRun = False, waiter: Waiter | None = None,
              addon_name: str | None = None, setting=None, confirmed=(), backups=None, on_phase=None,
              on_step=None) -> Outcome:
    """Run (or, with dry_run, plan) every phase. Stops at the first phase that fails or refuses:
    later phases build on it (no add-on without trunking, no trunking without authorization).
    ``on_step(step)`` hears each step as soon as its phase is done (a terminal streams them)."""
    mode = DryRun.of(dry_run)
    out = Outcome("setup", dry_run=mode)
    phases = {
        "cam": lambda: cam_setup(cloud.cam, dry_run=mode),
        "trunking": lambda: enable_trunking(cloud.tke, cluster_id, view=ClusterView(kube), dry_run=mode, waiter=waiter,
                                            backups=backups, confirmed=confirmed),
        # In a dry run trunking is not on yet: the trunking phase above would switch it on.
        "addon": lambda: addon_install(cloud.tke, kube, cluster_id, name=addon_name, setting=setting, dry_run=mode,
                                       waiter=waiter, trunking_planned=trunking_planned(out)),
    }
    results = {}
    stopped = None
    for phase in PHASES:
        if stopped:
            skipped = out.add(Step(f"{phase}", f"{phase} phase", SKIPPED, f"not reached: the {stopped} phase did not succeed"))
            if on_step:
                on_step(skipped)
            continue
        result = phases[phase]()
        results[phase] = result
        for s in result.steps:
            s.id = f"{phase}/{s.id}"
            out.add(s)
            if on_step:
                on_step(s)
        if on_phase:
            on_phase(phase, result)
        if not result.ok:
            stopped = phase
    out.extra["phases"] = {p: (r.summary() if r else None) for p, r in results.items()}
    return out
