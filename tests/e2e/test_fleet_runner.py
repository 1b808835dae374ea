"""``workflows.fleet.run_fleet`` and ``discover`` over fakes: bounded concurrency, a deadline per
cluster that never holds up the others, errors kept per cluster, regions that cannot be listed."""

from __future__ import annotations

import threading

from sgpctl.errors import CloudError, ExitCode
from sgpctl.workflows.fleet import ClusterOutcome, FleetReport, Target, discover, run_fleet
from tests.fakes import FakeCloud


def report_of(n: int) -> FleetReport:
    return FleetReport(clusters=[ClusterOutcome(Target(f"cls-{i:08d}", "ap-guangzhou"), ExitCode.OK) for i in range(n)])


def test_at_most_parallel_clusters_run_at_once():
    lock, running, peak = threading.Lock(), [0], [0]
    release = threading.Semaphore(0)

    def run_one(target):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.acquire(timeout=5)
        with lock:
            running[0] -= 1
        return ClusterOutcome(target, ExitCode.OK, {"id": target.cluster_id})

    releaser = threading.Thread(target=lambda: [release.release() for _ in range(7)])
    threading.Timer(0.3, releaser.start).start()
    report = run_fleet(report_of(7), run_one, parallel=2, timeout=30)
    assert peak[0] == 2
    assert [c.result["id"] for c in report.clusters] == [f"cls-{i:08d}" for i in range(7)]   # order kept
    assert report.exit_code == ExitCode.OK


def test_a_cluster_past_its_deadline_is_reported_and_the_others_still_finish():
    stuck = threading.Event()

    def run_one(target):
        if target.cluster_id.endswith("1"):
            stuck.wait(10)   # never set: this cluster hangs
        if target.cluster_id.endswith("2"):
            raise RuntimeError("boom")
        return ClusterOutcome(target, ExitCode.OK, {})

    report = run_fleet(report_of(4), run_one, parallel=4, timeout=0.3)
    stuck.set()
    hung, broke = report.clusters[1], report.clusters[2]
    assert hung.error == "no answer within 0.3 s (--cluster-timeout)" and hung.exit_code == ExitCode.UNDETERMINED
    assert broke.error == "RuntimeError: boom" and broke.exit_code == ExitCode.FAILED
    assert report.clusters[0].ok and report.clusters[3].ok
    assert report.exit_code == ExitCode.FAILED
    assert report.to_dict()["clusters"][1] == {"clusterId": "cls-00000001", "region": "ap-guangzhou",
                                               "error": hung.error, "hint": hung.hint}


def test_discover_reports_a_region_that_cannot_be_listed_and_keeps_the_others():
    good, bad = FakeCloud("ap-guangzhou"), FakeCloud("ap-tokyo")
    bad.failing["DescribeClusters"] = CloudError("UnsupportedRegion", "The action not support this region.")
    tke = {"ap-guangzhou": good.tke, "ap-tokyo": bad.tke}

    def describe(exc):
        return str(exc), None, ExitCode.UNDETERMINED

    report = discover(lambda region: tke[region], ["ap-tokyo", "ap-guangzhou"], None, describe)
    assert [c.target.cluster_id for c in report.clusters] == ["cls-fake0001"]
    assert report.regions[0]["region"] == "ap-tokyo" and "error" in report.regions[0]
    assert report.regions[1] == {"region": "ap-guangzhou", "clusters": 1}
    assert report.exit_code == ExitCode.UNDETERMINED
