"""Racing writers through the installed CLI: 4 `sgpctl policy apply` processes started at once
against a sandbox whose Kubernetes API answers after 150-400 ms (``kube:latency=150-400ms``, as a
remote cluster does), where Leases are served, forbidden by RBAC, or not served at all (the
``leases`` sandbox variant).

- One new policy applied by all four: every process exits 0 and one object is stored, with the
  file's content (one process created it; the others found it, created or being created).
- Four policies selecting the same Pods (which already carry one group) with 2 groups each: their
  union (9) is over the per-ENI limit (5). With the Lease the writers take turns, the first two fit
  and the later two are refused before writing (exit 1, naming the policies). Without it, the
  writes may interleave; whatever is stored at the end, a union over the limit was reported by a
  process that exited 1 naming every policy of that union.

The default run takes one round of each race with the Lease and one without it (RBAC forbidding
it for one race, the group not served for the other); ``-m slow`` adds the other combinations and
three more rounds of both races in each mode.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sgpctl.sandbox.kube.crds import SGP_RESOURCE
from sgpctl.workflows.lease import LEASE_NAME, micro_time
from tests.sandbox_support import SGPCTL, running_sandbox, sandbox_env, sgp_ready

NS = "my-namespace"
LATENCY = "kube:latency=150-400ms"
LEASES = "leases.coordination.k8s.io"
LIMIT = 5


@pytest.fixture(scope="module")
def races(tmp_path_factory):
    """``races(mode)``: the prepared sandbox of that ``leases`` mode, started on first use."""
    import contextlib

    started: dict[str, Race] = {}
    with contextlib.ExitStack() as stack:
        def race_for(mode: str) -> Race:
            if mode not in started:
                sb = stack.enter_context(running_sandbox("default", variants={"leases": mode}))
                started[mode] = Race.prepare(sb, tmp_path_factory.mktemp(f"race-{mode}"), mode)
            return started[mode]
        yield race_for


class Race:
    def __init__(self, sb, env, tmp: Path, groups: list[str], mode: str):
        self.sb, self.env, self.tmp, self.groups, self.mode = sb, env, tmp, groups, mode

    @classmethod
    def prepare(cls, sb, tmp: Path, mode: str) -> "Race":
        """The add-on installed, eight groups for the racers, and ``rel-base`` (one group) selecting
        the two ``web`` Pods of my-namespace."""
        sgp_ready(sb)
        env = sandbox_env(sb, tmp)
        base = sb.cloud.add_security_group("base")
        groups = [sb.cloud.add_security_group(f"lim-{i}") for i in range(8)]
        (tmp / "base.yaml").write_text(policy_yaml("rel-base", [base]))
        assert sgpctl(env, "policy", "apply", "-f", str(tmp / "base.yaml")).returncode == 0
        return cls(sb, env, tmp, groups, mode)

    def run_at_once(self, files: list[Path]) -> list[subprocess.CompletedProcess]:
        """One `policy apply -f FILE -o json` per file, all started before any is waited for,
        under the injected latency."""
        self.sb.faults.set(LATENCY)
        try:
            procs = [subprocess.Popen([SGPCTL, "policy", "apply", "-f", str(f), "-o", "json"], env=self.env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
            done = []
            for p in procs:
                out, err = p.communicate(timeout=180)
                done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
            return done
        finally:
            self.sb.faults.clear()

    def policies(self) -> dict[str, list[str]]:
        return {o["metadata"]["name"]: o["spec"]["securityGroups"]["groupIds"] for o in self.sb.kube.list(SGP_RESOURCE, NS)}


def policy_yaml(name: str, groups: list[str], app: str = "web") -> str:
    ids = "".join(f"      - {g}\n" for g in groups)
    return (f"apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1\nkind: SecurityGroupPolicy\n"
            f"metadata:\n  name: {name}\n  namespace: {NS}\nspec:\n  podSelector:\n    matchLabels:\n"
            f"      app: {app}\n  securityGroups:\n    groupIds:\n{ids}")


def sgpctl(env, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([SGPCTL, *args], env=env, capture_output=True, text=True, timeout=timeout)


def no_traceback(procs) -> None:
    for p in procs:
        assert "Traceback" not in p.stderr and "unexpected" not in p.stderr, p.stderr


def lease_note_unless_served(race, procs) -> None:
    """Every process that wrote says when it went on without the Lease (one refused before writing
    changed nothing: its refusal is the news)."""
    for p in procs:
        if p.returncode != 0:
            continue
        noted = f"note: Lease {NS}/{LEASE_NAME} cannot be used (Kubernetes API: HTTP 40" in p.stderr
        assert noted == (race.mode != "served"), p.stderr


def same_policy_round(race, n: int) -> None:
    name = f"rel-same-{n}"
    f = race.tmp / f"{name}.yaml"
    f.write_text(policy_yaml(name, race.groups[:2]))
    procs = race.run_at_once([f] * 4)
    no_traceback(procs)
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [p.stderr for p in procs]
    results = sorted(json.loads(p.stdout)["steps"][0]["details"]["result"] for p in procs)
    assert results == ["created", "unchanged", "unchanged", "unchanged"], results
    assert race.policies()[name] == race.groups[:2]
    assert sum(1 for o in race.sb.kube.list(SGP_RESOURCE, NS) if o["metadata"]["name"] == name) == 1
    lease_note_unless_served(race, procs)


def limit_round(race, n: int) -> None:
    names = [f"rel-lim-{n}-{i}" for i in range(4)]
    files = []
    for i, name in enumerate(names):
        files.append(race.tmp / f"{name}.yaml")
        files[-1].write_text(policy_yaml(name, race.groups[2 * i:2 * i + 2]))
    procs = race.run_at_once(files)
    no_traceback(procs)
    codes = [p.returncode for p in procs]
    assert set(codes) <= {0, 1}, [p.stderr for p in procs]
    stored = race.policies()
    union = sorted({g for name in ["rel-base", *names] if name in stored for g in stored[name]})
    over = ["rel-base"] + [name for name in names if name in stored]
    refused = [p for p in procs if p.returncode == 1]
    for p in refused:
        assert "over the limit of 5" in p.stdout + p.stderr, p.stdout + p.stderr
    if race.mode == "served":
        # Taking turns: the first two fit (1 + 2 + 2 groups), the later two are refused before writing.
        assert sorted(codes) == [0, 0, 1, 1], [p.stderr for p in procs]
        assert len(union) == LIMIT and len(over) == 3
        for p, name in zip(procs, names):
            if p.returncode == 1:
                assert name not in stored
                assert f"(in the cluster) and {name} (this file), over the limit of 5 security groups per ENI" in p.stderr
    elif len(union) > LIMIT:
        # Pods over the limit are left only with a process that said so, naming every policy involved.
        assert any(all(name in p.stdout + p.stderr for name in over) for p in refused), \
            (over, [p.stdout + p.stderr for p in procs])
    lease_note_unless_served(race, procs)
    for name in names:  # the next round starts from rel-base alone
        if name in stored:
            race.sb.kube.delete(SGP_RESOURCE, NS, name)


SLOW = pytest.mark.slow


@pytest.mark.parametrize("mode", ["served", "absent", pytest.param("forbidden", marks=SLOW)])
def test_racing_applies_of_one_new_policy_store_it_once_and_all_exit_0(races, mode):
    same_policy_round(races(mode), 0)


@pytest.mark.parametrize("mode", ["served", "forbidden", pytest.param("absent", marks=SLOW)])
def test_racing_applies_over_the_per_eni_limit_leave_no_pod_over_it_unreported(races, mode):
    limit_round(races(mode), 0)


@SLOW
@pytest.mark.parametrize("mode", ["served", "forbidden", "absent"])
def test_more_rounds_of_both_races(races, mode):
    for n in range(1, 4):
        same_policy_round(races(mode), n)
        limit_round(races(mode), n)


# -- the Lease seen from outside (served only) ------------------------------------------------------

@pytest.fixture
def served(races):
    race = races("served")
    yield race
    if race.sb.kube.get(LEASES, NS, LEASE_NAME):
        race.sb.kube.delete(LEASES, NS, LEASE_NAME)


def put_lease(sb, holder: str, renewed: float, duration: int = 15) -> None:
    sb.kube.delete(LEASES, NS, LEASE_NAME) if sb.kube.get(LEASES, NS, LEASE_NAME) else None
    sb.kube.create(LEASES, {"metadata": {"name": LEASE_NAME, "namespace": NS},
                            "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                                     "renewTime": micro_time(renewed), "acquireTime": micro_time(renewed),
                                     "leaseTransitions": 7}})


def test_a_live_holder_is_waited_for_and_named_then_refused(served):
    put_lease(served.sb, "ci-runner-7/4242/0a0b0c", time.time())
    f = served.tmp / "waits.yaml"
    f.write_text(policy_yaml("rel-waits", served.groups[:1]))
    p = sgpctl(served.env, "policy", "apply", "-f", str(f), "--timeout", "2")
    assert p.returncode == 1, p.stderr
    lines = p.stderr.splitlines()
    assert lines[0].startswith(f"waiting for Lease {NS}/{LEASE_NAME}, held by ci-runner-7/4242/0a0b0c, renewed ")
    assert lines[1].startswith(f"error: another sgpctl writer holds Lease {NS}/{LEASE_NAME}: ci-runner-7/4242/0a0b0c")
    assert "rel-waits" not in served.policies()


def test_a_lease_left_by_a_dead_writer_is_taken_over(served):
    put_lease(served.sb, "gone/1/dead00", time.time() - 3600)
    f = served.tmp / "takes.yaml"
    f.write_text(policy_yaml("rel-takes", served.groups[:1]))
    p = sgpctl(served.env, "policy", "apply", "-f", str(f), "--timeout", "2")
    assert p.returncode == 0 and "waiting" not in p.stderr, p.stderr
    lease = served.sb.kube.get(LEASES, NS, LEASE_NAME)
    assert lease["spec"]["holderIdentity"] == "" and lease["spec"]["leaseTransitions"] == 8
    served.sb.kube.delete(SGP_RESOURCE, NS, "rel-takes")


@pytest.mark.parametrize("signum, code", [pytest.param(signal.SIGINT, 130, marks=SLOW), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_the_lease_is_released_when_the_writer_is_interrupted(served, signum, code):
    f = served.tmp / "interrupted.yaml"
    f.write_text(policy_yaml("rel-interrupted", served.groups[:1]))
    served.sb.faults.set("kube:latency=300ms")
    try:
        proc = subprocess.Popen([SGPCTL, "policy", "apply", "-f", str(f)], env=served.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL),
                                                    signal.signal(signal.SIGTERM, signal.SIG_DFL)))
        end = time.monotonic() + 60
        while not (served.sb.kube.get(LEASES, NS, LEASE_NAME) or {}).get("spec", {}).get("holderIdentity"):
            assert time.monotonic() < end and proc.poll() is None, "the Lease was never held"
            time.sleep(0.01)
        holder = served.sb.kube.get(LEASES, NS, LEASE_NAME)["spec"]["holderIdentity"]
        assert holder.split("/")[1] == str(proc.pid)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        served.sb.faults.clear()
    assert proc.returncode == code and "Traceback" not in err, err
    assert served.sb.kube.get(LEASES, NS, LEASE_NAME)["spec"]["holderIdentity"] == ""
    if "rel-interrupted" in served.policies():
        served.sb.kube.delete(SGP_RESOURCE, NS, "rel-interrupted")
