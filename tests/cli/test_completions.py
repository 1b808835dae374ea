import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import clean_env

ROOT = Path(__file__).resolve().parents[2]
SGPCTL = [sys.executable, "-m", "sgpctl"]


@pytest.mark.parametrize("shell,filename", [("bash", "sgpctl.bash"), ("zsh", "_sgpctl"), ("fish", "sgpctl.fish")])
def test_committed_completion_scripts_are_current(shell, filename):
    env = clean_env(_SGPCTL_COMPLETE=f"source_{shell}")
    # The scripts name the program they complete; python -m sgpctl would call itself "python -m sgpctl".
    bin_sgpctl = Path(sys.executable).with_name("sgpctl")
    r = subprocess.run([str(bin_sgpctl)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    committed = (ROOT / "completions" / filename).read_text()
    assert r.stdout == committed, f"completions/{filename} is stale: run completions/update"


def test_bash_completion_completes_commands_and_options():
    bin_sgpctl = Path(sys.executable).with_name("sgpctl")
    env = clean_env(_SGPCTL_COMPLETE="complete_bash", COMP_WORDS="sgpctl conf", COMP_CWORD="1")
    r = subprocess.run([str(bin_sgpctl)], env=env, capture_output=True, text=True)
    assert "config" in r.stdout.split()
    env.update(COMP_WORDS="sgpctl --cl", COMP_CWORD="1")
    r = subprocess.run([str(bin_sgpctl)], env=env, capture_output=True, text=True)
    assert "--cluster-id" in r.stdout.split()
