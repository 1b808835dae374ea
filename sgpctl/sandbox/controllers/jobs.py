"""Jobs, as kube-controller-manager's Job controller runs them (NonIndexed completions).

A Job keeps up to ``parallelism`` Pods running until ``completions`` of them have Succeeded
(the simulated kubelet runs a Job's Pod to completion once it started, see ``kubelet``); then the
Job gets its ``Complete`` condition and ``completionTime``. A suspended Job creates no Pods.
CronJobs are stored, not scheduled: the sandbox has no clock that fires them.
"""

from __future__ import annotations

from typing import Any

from sgpctl.sandbox.controllers.pods import is_active
from sgpctl.sandbox.controllers.workload import WorkloadController, object_key
from sgpctl.sandbox.controllers.world import JOBS, PODS

COMPONENT = "job-controller"


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class JobController(WorkloadController):
    resource = JOBS

    def reconcile(self, job: dict) -> None:
        w = self.world
        spec = job.get("spec") or {}
        status = dict(job.get("status") or {})
        if any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in status.get("conditions") or ()):
            return
        pods = w.cache.owned(job["metadata"]["uid"], PODS)
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        active = [p for p in pods if is_active(p)]
        completions = _int(spec.get("completions"), 1)
        parallelism = _int(spec.get("parallelism"), 1)
        if not spec.get("suspend") and succeeded < completions:
            for _ in range(max(0, min(parallelism, completions - succeeded) - len(active))):
                self.create_pod(job, spec.get("template") or {}, COMPONENT)
        now = w.now()
        status.setdefault("startTime", now)
        status.update({"active": len(active), "succeeded": succeeded, "failed": failed,
                       "ready": sum(1 for p in active if (p.get("status") or {}).get("phase") == "Running"),
                       "terminating": 0, "uncountedTerminatedPods": {}})
        if succeeded >= completions:
            status["active"] = 0
            status["completionTime"] = now
            status["conditions"] = [
                {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
                 "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
                {"type": "Complete", "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
                 "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"}]
            w.event(job, "Completed", "Job completed", component=COMPONENT)
        status = {k: v for k, v in status.items() if v or k in ("uncountedTerminatedPods", "ready", "terminating")}
        if not w.write_status(JOBS, job, status):
            w.enqueue(self.name, object_key(job))
