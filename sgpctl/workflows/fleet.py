"""One command over a fleet of TKE clusters: which clusters, how to reach each one's Kubernetes API,
and the runner that applies a per-cluster workflow to all of them.

- ``discover``: every cluster DescribeClusters lists in the regions asked for (paged), or the ids
  asked for, looked up there. A region that cannot be listed is reported as such; it never hides
  the others.
- ``choose_access``: a kube context of the user's kubeconfig whose server is one of the endpoints
  DescribeClusterEndpoints reports (``core.fleet.matching_context``), else the kubeconfig
  DescribeClusterKubeconfig returns - external when the cluster has no intranet endpoint - which
  the caller keeps in memory.
- ``run_fleet``: at most ``parallel`` clusters at a time, each with its own deadline. A cluster
  whose run raises, or does not finish in time, is reported with its error, and the others go on;
  a run past its deadline is abandoned (its thread is a daemon and its requests time out on their
  own), so one hanging API server never holds up the report.

The per-cluster workflow is a callable ``run_one(target) -> ClusterOutcome``; the CLI builds it
from each command's own per-cluster function, so every fleet command behaves the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sgpctl.core.fleet import matching_context, worst_exit_code
from sgpctl.errors import ExitCode
from sgpctl.workflows.clients import TkeApi


@dataclass(frozen=True)
class Target:
    cluster_id: str
    region: str
    name: str | None = None


@dataclass
class ClusterOutcome:
    """One cluster's answer: the command's JSON for it (``result``), or the error that stopped it."""

    target: Target
    exit_code: ExitCode
    result: dict | None = None
    #: one line for the consolidated table
    summary: str = ""
    #: what to show beneath it (failures, warnings, notes)
    details: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None
    #: how the cluster's Kubernetes API was reached
    access: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.exit_code == ExitCode.OK

    def to_dict(self) -> dict:
        head = {"clusterId": self.target.cluster_id, "region": self.target.region}
        if self.error is not None:
            return {**head, "error": self.error, "hint": self.hint}
        return {**head, "ok": self.ok, "result": self.result}

    def to_view(self) -> dict:
        """What the table shows (``render.fleet``): the JSON's keys and the lines around them."""
        return {**self.to_dict(), "name": self.target.name, "exitCode": int(self.exit_code), "summary": self.summary,
                "details": list(self.details), "access": self.access, "error": self.error, "hint": self.hint}


@dataclass
class ClusterResult:
    """What a command's per-cluster function returns: its JSON, exit code, one summary line and the
    lines worth showing beneath it."""

    result: dict
    exit_code: ExitCode
    summary: str = ""
    details: list[str] = field(default_factory=list)


def check_result(results: Sequence[Any], document: dict, *, fail_on_warning: bool = False, summary: str | None = None,
                 notes: Sequence[str] = ()) -> ClusterResult:
    """A ``ClusterResult`` for a command that reports ``core.checks`` results: counts as the
    summary (or the command's own ``summary``), the failures and warnings (and what could not be
    determined) beneath, then the command's ``notes``."""
    from sgpctl.core.checks import Status, exit_code

    counts: dict[str, int] = {}
    details = []
    for r in results:
        key = "undetermined" if r.undetermined else r.status.value
        counts[key] = counts.get(key, 0) + 1
        if r.status in (Status.FAIL, Status.WARN) or r.undetermined:
            label = "FAIL" if r.status is Status.FAIL else "warn" if r.status is Status.WARN else "skip"
            details.append(f"[{label}] {r.description}: {r.message}")
    words = {"pass": "passed", "warn": "warning(s)", "fail": "failed", "undetermined": "undetermined",
             "skip": "skipped", "info": "note(s)"}
    if summary is None:
        summary = ", ".join(f"{counts[k]} {words[k]}" for k in ("fail", "undetermined", "warn", "pass", "info", "skip")
                            if counts.get(k)) or "no checks"
    return ClusterResult(document, exit_code(results, fail_on_warning), summary, details + list(notes))


@dataclass
class FleetReport:
    clusters: list[ClusterOutcome]
    #: {"region", "clusters": n} for each region listed, {"region", "error", "hint"} for one that could not be
    regions: list[dict] = field(default_factory=list)
    region_codes: list[ExitCode] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return worst_exit_code([c.exit_code for c in self.clusters] + list(self.region_codes))

    def to_dict(self) -> dict:
        return {"ok": self.exit_code == ExitCode.OK, "clusters": [c.to_dict() for c in self.clusters],
                "regions": list(self.regions)}

    def to_view(self) -> dict:
        return {"clusters": [c.to_view() for c in self.clusters], "regions": list(self.regions)}


# --------------------------------------------------------------------------------------------------
# which clusters
# --------------------------------------------------------------------------------------------------

def all_regions(tke: TkeApi) -> list[str]:
    """The regions TKE offers to every account (DescribeRegions)."""
    return sorted({r.name for r in tke.describe_regions() if r.status in (None, "", "alluser")})


def discover(tke_for: Callable[[str], TkeApi], regions: Sequence[str], cluster_ids: Sequence[str] | None,
             describe_error: Callable[[BaseException], tuple[str, str | None, ExitCode]]) -> FleetReport:
    """The clusters of ``regions`` (all of them, or those of ``cluster_ids``), in region order then
    as listed. ``describe_error(exc)`` says what a failed listing means (message, hint, exit code).
    An id found in no region is a cluster outcome of its own: not found (exit 1)."""
    report = FleetReport(clusters=[])
    targets: list[Target] = []
    for region in regions:
        try:
            found = tke_for(region).describe_clusters(list(cluster_ids) if cluster_ids else None)
        except Exception as exc:  # noqa: BLE001 - one region's failure is reported, the others still run
            message, hint, code = describe_error(exc)
            report.regions.append({"region": region, "error": message, "hint": hint})
            report.region_codes.append(code)
            continue
        if cluster_ids:
            found = [c for c in found if c.cluster_id in cluster_ids]
        report.regions.append({"region": region, "clusters": len(found)})
        targets.extend(Target(c.cluster_id, region, c.name) for c in found)
    seen = {t.cluster_id for t in targets}
    for missing in [c for c in cluster_ids or () if c not in seen]:
        listed = [r["region"] for r in report.regions if "error" not in r]
        report.clusters.append(ClusterOutcome(
            Target(missing, listed[0] if len(listed) == 1 else ""), ExitCode.FAILED,
            error=f"cluster {missing} not found in {', '.join(listed) or 'any region that could be listed'}",
            hint="check the id, or name its region with --regions (all: every region)"))
    report.clusters[:0] = [ClusterOutcome(t, ExitCode.OK) for t in targets]  # placeholders, in order
    return report


# --------------------------------------------------------------------------------------------------
# how to reach each one
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    """A kube context of the user's kubeconfig (``context``), or a kubeconfig from the API
    (``kubeconfig``, YAML text with credentials: keep it in memory)."""

    context: str | None = None
    kubeconfig: str | None = None
    server: str | None = None

    def describe(self) -> str:
        if self.context:
            return f"context {self.context}"
        return "kubeconfig from DescribeClusterKubeconfig (in memory)"


def choose_access(tke: TkeApi, cluster_id: str, contexts: Sequence[tuple[str, str | None]],
                  current: str | None = None) -> Access:
    endpoints = tke.describe_cluster_endpoints(cluster_id)
    name = matching_context(endpoints.addresses(), contexts, preferred=current)
    if name is not None:
        return Access(context=name, server=dict(contexts).get(name))
    extranet = endpoints.intranet is None and endpoints.external is not None
    return Access(kubeconfig=tke.describe_cluster_kubeconfig(cluster_id, extranet=extranet))


# --------------------------------------------------------------------------------------------------
# the runner
# --------------------------------------------------------------------------------------------------

def run_fleet(report: FleetReport, run_one: Callable[[Target], ClusterOutcome], *, parallel: int, timeout: float,
              clock: Callable[[], float] = time.monotonic) -> FleetReport:
    """Fill in the placeholder outcomes of ``report`` (those without an error) by ``run_one``, at most
    ``parallel`` at a time, each given ``timeout`` seconds."""
    todo = [i for i, c in enumerate(report.clusters) if c.error is None]
    lock = threading.Condition()
    done: dict[int, ClusterOutcome] = {}
    started: dict[int, float] = {}

    def work(i: int) -> None:
        target = report.clusters[i].target
        begin = clock()
        try:
            outcome = run_one(target)
        except Exception as exc:  # noqa: BLE001 - run_one reports what it expects; anything else is this cluster's error
            outcome = ClusterOutcome(target, ExitCode.FAILED, error=f"{type(exc).__name__}: {exc}")
        outcome.seconds = clock() - begin
        with lock:
            done.setdefault(i, outcome)
            lock.notify_all()

    pending = list(todo)
    with lock:
        while pending or any(i not in done for i in started):
            running = [i for i in started if i not in done]
            while pending and len(running) < max(1, parallel):
                i = pending.pop(0)
                started[i] = clock()
                running.append(i)
                threading.Thread(target=work, args=(i,), name=f"sgpctl-cluster-{i}", daemon=True).start()
            now = clock()
            for i in running:
                if now - started[i] >= timeout:
                    target = report.clusters[i].target
                    done[i] = ClusterOutcome(target, ExitCode.UNDETERMINED, seconds=now - started[i],
                                             error=f"no answer within {timeout:g} s (--cluster-timeout)",
                                             hint="its API may be unreachable; raise --cluster-timeout for a slow one")
            waits = [started[i] + timeout - now for i in running if i not in done]
            if waits:
                lock.wait(timeout=max(0.01, min(waits)))
    for i, outcome in done.items():
        report.clusters[i] = outcome
    return report

