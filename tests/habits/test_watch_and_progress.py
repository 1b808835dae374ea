"""Item 5: -w/--watch (every state first, then one line per change; a live summary on a terminal; Ctrl-C
ends it with 130), spinners with the elapsed time, progress on a terminal and nothing when piped,
and `setup` writing each step as it finishes. The watch is driven through the command's own sleep
(``Environment.sleep``): each call is a tick of the test, no wall clock."""

from __future__ import annotations

import io

from sgpctl.cli.app import run
from sgpctl.environment import Environment
from sgpctl.render.terminal import Terminal
from tests.habits.conftest import NS, running


class Ticks:
    """An ``Environment.sleep`` that runs one action per tick, then presses Ctrl-C."""

    def __init__(self, *actions):
        self.actions = list(actions)

    def __call__(self, seconds: float) -> None:
        if not self.actions:
            raise KeyboardInterrupt
        self.actions.pop(0)()


def test_verify_pods_watch_prints_every_pod_then_each_change(world, fresh_interrupts):
    sb = world.sb
    doomed = world.pods[0]

    def delete_a_pod():
        sb.kube.delete("pods", NS, doomed)
        running(sb, {"app": "my-app"}, 2)

    env = Environment.captured(world.cli.env, home=world.cli.home, sleep=Ticks(delete_a_pod))
    code = run(["verify", "pods", "-n", NS, "-w"], env)
    assert code == 130 and env.err().splitlines()[-1].startswith("interrupted")
    lines = env.out().splitlines()
    assert lines[0].split() == ["NAME", "STATE"]
    first = [f"{NS}/{p}" for p in world.pods]
    assert [line.split()[0] for line in lines[1:3]] == first and all(line.split()[1] == "verified" for line in lines[1:3])
    later = lines[3:]
    assert f"{NS}/{doomed}  (gone)" in [" ".join(line.split()[:1]) + "  " + " ".join(line.split()[1:]) for line in later]
    new = [line for line in later if "(gone)" not in line]
    assert len(new) == 1 and new[0].split()[1] == "verified" and new[0].split()[0] not in first
    world.pods[:] = [p["metadata"]["name"] for p in running(sb, {"app": "my-app"}, 2)]


def test_status_watch_follows_a_change_made_elsewhere(world):
    sb = world.sb

    def switch_off():
        sb.cloud.update_addon(sb.cluster_id, "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": False}}})
        sb.settle()

    def switch_on():
        sb.cloud.update_addon(sb.cluster_id, "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
        sb.settle()

    env = Environment.captured(world.cli.env, home=world.cli.home, sleep=Ticks(switch_off, switch_on))
    assert run(["trunking", "status", "-w"], env) == 130
    changes = [line.split() for line in env.out().splitlines()[1:] if line.startswith("trunking")]
    assert changes == [["trunking", "enabled"], ["trunking", "disabled"], ["trunking", "enabled"]]


def test_watch_shows_a_live_summary_on_a_terminal_only(world, fresh_interrupts):
    tty = Environment.captured(world.cli.env, home=world.cli.home, stderr_isatty=True, sleep=Ticks())
    assert run(["addon", "status", "-w"], tty) == 130
    assert "(watching; Ctrl-C stops)" in tty.err()
    piped = Environment.captured(world.cli.env, home=world.cli.home, sleep=Ticks())
    assert run(["addon", "status", "-w"], piped) == 130
    assert "watching" not in piped.err() and "\x1b" not in piped.err()


def test_a_spinner_shows_the_elapsed_time_and_the_limit():
    now = [100.0]
    env = Environment.captured({}, stderr_isatty=True, clock=lambda: now[0])
    term = Terminal(env)
    with term.status("waiting for eniipamd", limit=600) as update:
        now[0] += 12
        assert term._spinner_text.__rich__() == "waiting for eniipamd (12s of 600s)"
        update("waiting for the CRD to be served")
        now[0] += 3
        assert term._spinner_text.__rich__() == "waiting for the CRD to be served (15s of 600s)"
    term.progress("reading pods")
    assert term._spinner_text.__rich__() == "reading pods (0s)"
    term.line("result")  # output clears the progress line first
    assert term._spinner is None and env.out() == "result\n"


def test_progress_is_silent_when_piped():
    env = Environment.captured({}, clock=lambda: 0.0)
    term = Terminal(env)
    term.progress("reading pods")
    with term.status("waiting", limit=10) as update:
        update("still waiting")
    assert env.err() == "" and term._spinner is None


def test_setup_writes_each_step_as_it_finishes(sandbox_cli):
    cli = sandbox_cli("default", addon_delay=0.2)
    seen: list[str] = []
    env = Environment.captured(cli.env, home=cli.home)

    def sleep(seconds):  # the first wait: the CAM and trunking steps are already on stdout
        if not seen:
            seen.append(env.out())

    env.sleep = sleep
    assert run(["setup", "--yes"], env) == 0
    assert seen and "attached SubENIForIPAMD to TKE_QCSRole" in seen[0]
    assert "SecurityGroupPolicy is served" not in seen[0] and "SecurityGroupPolicy is served" in env.out()
    # each step once
    assert env.out().count("attached SubENIForIPAMD to TKE_QCSRole") == 1


def test_a_watch_collects_its_garbage_while_it_serves(world, fresh_interrupts):
    """A command that ends runs with the cyclic collector paused; a watch, which serves until Ctrl-C,
    runs with it on (the reads of hours would otherwise pile up), and it is on again after."""
    import gc

    seen = []
    env = Environment.captured(world.cli.env, home=world.cli.home, sleep=Ticks(lambda: seen.append(gc.isenabled())))
    assert run(["verify", "pods", "-n", NS, "-w"], env) == 130
    assert seen == [True] and gc.isenabled()
