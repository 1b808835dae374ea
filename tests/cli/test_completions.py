"""The shipped completion scripts are what `sgpctl completion SHELL` prints, and the protocol the
scripts speak (``_SGPCTL_COMPLETE=complete``) answers commands and options without the cluster.
Completion through bash itself and through kubectl: tests/habits/test_completion.py."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import clean_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize("shell,filename", [("bash", "sgpctl.bash"), ("zsh", "_sgpctl"), ("fish", "sgpctl.fish")])
def test_committed_completion_scripts_are_current(shell, filename):
    r = subprocess.run([str(BIN / "sgpctl"), "completion", shell], env=clean_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    committed = (ROOT / "completions" / filename).read_text()
    assert r.stdout == committed, f"completions/{filename} is stale: run completions/update"


def complete(words: str, cword: int) -> list[tuple[str, str]]:
    env = clean_env(_SGPCTL_COMPLETE="complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    r = subprocess.run([str(BIN / "sgpctl")], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == ""
    return [tuple(line.split("\t")[:2]) for line in r.stdout.splitlines()]


def test_the_protocol_completes_commands_and_options():
    assert ("plain", "config") in complete("sgpctl conf", 1)
    assert ("plain", "--cluster-id") in complete("sgpctl --cl", 1)


def test_an_unknown_shell_is_bad_input():
    r = subprocess.run([str(BIN / "sgpctl"), "completion", "tcsh"], env=clean_env(), capture_output=True, text=True)
    assert r.returncode == 2 and "tcsh" in r.stderr
