"""Item 6: account- and cluster-wide changes show their plan and ask on a terminal, need --yes without
one; --force names each check it goes past, needs the cluster id typed, and reports the step as
`forced`; Ctrl-C at a prompt exits 130 with one line (start-up: tests/cli/test_signals.py)."""

from __future__ import annotations

import json

import pytest

from sgpctl.cli.app import run
from sgpctl.environment import Environment
from tests.sandbox_support import sandbox_env, sgpctl


def _mutations(sb, mark):
    return [e for e in sb.log.since(mark) if e["mutating"]]


@pytest.mark.parametrize("command,word", [
    (["cam", "setup"], "change CAM for the whole account"),
    (["enable-trunking"], "switch Trunking ENI on"),
    (["addon", "install", "--force"], "install the SecurityGroupPolicy add-on"),
])
def test_account_and_cluster_wide_changes_need_yes_without_a_terminal(sandbox_cli, tmp_path, command, word):
    cli = sandbox_cli("default")
    env = sandbox_env(cli.sandbox, tmp_path)
    mark = cli.sandbox.log.mark()
    r = sgpctl(env, *command)  # the installed CLI, its stdin not a terminal
    assert r.returncode == 1 and word in r.stderr and "pass --yes" in r.stderr
    assert "plan:" in r.stderr and "  ~ " in r.stderr
    assert _mutations(cli.sandbox, mark) == []
    # on a terminal, "y" goes ahead (with --force: the cluster id, typed)
    answer = cli.sandbox.cluster_id if "--force" in command else "y"
    tty = Environment.captured(cli.env, home=cli.home, stdin=answer + "\n", stdin_isatty=True)
    assert run(command, tty) == 0, tty.err()
    assert word in tty.err() and ("[y/N]" in tty.err() or "to confirm" in tty.err())
    assert _mutations(cli.sandbox, mark)


def test_force_names_each_check_and_needs_the_cluster_id_typed(sandbox_cli):
    cli = sandbox_cli("strict-hazards")
    cluster = cli.sandbox.cluster_id
    mark = cli.sandbox.log.mark()
    said_yes = Environment.captured(cli.env, home=cli.home, stdin="y\n", stdin_isatty=True)
    assert run(["routing", "set", "strict", "--force"], said_yes) == 1
    err = said_yes.err()
    for name in ("Node LocalDNS", "NetworkPolicies selecting strict-mode Pods", "kube-proxy mode",
                 "externalTrafficPolicy: Local Services reaching strict-mode Pods", "SNAT of strict-mode Pod egress"):
        assert f"      - {name}" in err, err
    assert "! FORCED" in err and f"type {cluster} to confirm" in err and "was not typed; nothing was changed" in err
    assert _mutations(cli.sandbox, mark) == []
    typed = Environment.captured(cli.env, home=cli.home, stdin=f"{cluster}\n", stdin_isatty=True)
    assert run(["routing", "set", "strict", "--force", "--timeout", "30", "-o", "json"], typed) == 0, typed.err()
    doc = json.loads(typed.out())
    compatibility = next(s for s in doc["steps"] if s["id"] == "routing-compatibility")
    assert compatibility["status"] == "forced" and len(compatibility["details"]["overridden"]) == 5
    assert doc["ok"] is True and doc["changed"] is True
    assert "forced past 1 failed check(s)" in typed.err()
    # the rebuild it suggests asks again: no --yes in it
    rebuild = [line for line in typed.err().splitlines() if "rebuild: " in line]
    assert rebuild and all("--yes" not in line for line in rebuild)


def test_forced_add_on_install_while_trunking_is_off(sandbox_cli):
    cli = sandbox_cli("default")
    r = cli("addon", "install", "--force", "--yes", "-o", "json")
    assert r.exit_code == 0, r.stderr
    trunk = next(s for s in r.json()["steps"] if s["id"] == "trunking-enabled")
    assert trunk["status"] == "forced" and "--force: installing anyway" in trunk["message"]
    plain = cli("addon", "install", "--dry-run", "-o", "json")  # without --force: refused, as before
    trunk = next(s for s in plain.json()["steps"] if s["id"] == "trunking-enabled")
    assert plain.exit_code == 1 and trunk["status"] == "refused"


class Interrupting:
    """A terminal's stdin where the user presses Ctrl-C at the prompt."""

    def readline(self):
        raise KeyboardInterrupt

    def read(self, *args):
        return ""


def test_ctrl_c_at_the_typed_confirmation_exits_130_with_one_line(sandbox_cli, fresh_interrupts):
    cli = sandbox_cli("strict-hazards")
    mark = cli.sandbox.log.mark()
    env = Environment.captured(cli.env, home=cli.home, stdin_isatty=True)
    env.stdin = Interrupting()
    assert run(["routing", "set", "strict", "--force"], env) == 130
    last = env.err().splitlines()[-1]
    assert last == "interrupted" and "Traceback" not in env.err()
    assert _mutations(cli.sandbox, mark) == []
