"""Item 8: completion that knows the cluster, exercised through bash itself (the shipped script sourced,
the completion function called as bash calls it) and through kubectl (`kubectl sgp <TAB>` runs
kubectl_complete-sgp): commands, options, fixed choices, namespaces, policy names, Pod names, kube
contexts and tccli profiles; files only where a file is taken; silent and quick when the cluster
cannot be reached."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.habits.conftest import NS, ROOT

BIN = Path(sys.executable).parent
SCRIPT = ROOT / "completions" / "sgpctl.bash"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def bash_complete(env: dict[str, str], *words: str) -> list[str]:
    """COMPREPLY for the command line ``words`` (the last one being completed), from bash itself."""
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    script = (f"source '{SCRIPT}'\n"
              f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
              "_sgpctl_completion\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    full = {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=full, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if line]


def test_commands_options_and_fixed_choices(world):
    assert bash_complete(world.env, "sgpctl", "ro") == ["routing"]
    assert bash_complete(world.env, "sgpctl", "routing", "set", "") == ["strict", "standard"]
    assert "--cluster-id" in bash_complete(world.env, "sgpctl", "--cl")
    assert bash_complete(world.env, "sgpctl", "verify", "pods", "--fail-on", "") == ["error", "warning"]
    assert "jsonpath=" in bash_complete(world.env, "sgpctl", "policy", "list", "-o", "")
    assert "manual" in bash_complete(world.env, "sgpctl", "doctor", "--category", "")
    assert bash_complete(world.env, "sgpctl", "sandbox", "up", "--scenario", "le") == ["legacy"]


def test_names_from_the_live_cluster(world):
    assert NS in bash_complete(world.env, "sgpctl", "verify", "pods", "-n", "")
    assert NS in bash_complete(world.env, "sgpctl", "-n", "my-")
    assert bash_complete(world.env, "sgpctl", "policy", "get", "-n", NS, "") == ["my-security-group-policy"]
    assert bash_complete(world.env, "sgpctl", "verify", "pods", "-n", NS, "--policy", "my") == ["my-security-group-policy"]
    pods = bash_complete(world.env, "sgpctl", "-n", NS, "verify", "pod", "nginx")
    assert sorted(pods) == sorted(world.pods)
    # a Pod name never completes to a file name
    assert bash_complete(world.env, "sgpctl", "verify", "pod", "-n", NS, "policy") == []


def test_contexts_and_profiles_from_the_configuration(world, tmp_path):
    context = subprocess.run([str(BIN / "sgpctl"), "config", "view", "-o", "jsonpath={.settings.context.value}"],
                             env=world.env, capture_output=True, text=True).stdout
    assert bash_complete(world.env, "sgpctl", "--context", "") == [context]
    home = tmp_path / "home"
    (home / ".tccli").mkdir(parents=True)
    for name in ("default.credential", "default.configure", "prod.credential", "notes.txt"):
        (home / ".tccli" / name).write_text("{}")
    assert bash_complete({**world.env, "HOME": str(home)}, "sgpctl", "cam", "status", "--profile", "") == ["default", "prod"]


def test_files_only_where_a_file_is_taken(world):
    # -f asks bash for its file completion (compopt -o default): no candidates of sgpctl's own
    assert bash_complete(world.env, "sgpctl", "policy", "apply", "-f", "") == []
    r = subprocess.run([str(BIN / "sgpctl")], env={**world.env, "_SGPCTL_COMPLETE": "complete",
                                                  "COMP_WORDS": "sgpctl policy apply -f ", "COMP_CWORD": "4"},
                       capture_output=True, text=True)
    assert r.stdout.split("\t")[0] == "file"


def test_an_unreachable_cluster_completes_nothing_quickly_and_silently(world, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    # 10.255.255.1 is not routed: a connection there hangs until the client's timeout
    kubeconfig.write_text(open(world.env["KUBECONFIG"]).read().replace(world.sb.kube_url, "https://10.255.255.1:6443"))
    env = {**world.env, "KUBECONFIG": str(kubeconfig)}
    started = time.monotonic()
    assert bash_complete(env, "sgpctl", "verify", "pods", "-n", "") == []
    assert time.monotonic() - started < 30  # one attempt, 2 s per request: no retry storm


def test_kubectl_sgp_completes_through_kubectl(world):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("needs kubectl")
    assert (BIN / "kubectl_complete-sgp").exists(), "kubectl_complete-sgp is not installed: pip install -e ."
    env = {**world.env, "PATH": f"{BIN}{os.pathsep}{world.env.get('PATH', '')}"}
    r = subprocess.run([kubectl, "__complete", "sgp", "verify", "pods", "-n", ""], env=env, capture_output=True, text=True,
                       timeout=60)
    lines = r.stdout.splitlines()
    assert NS in lines and lines[-1] == ":4"
    r = subprocess.run([kubectl, "__complete", "sgp", "rou"], env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.splitlines()[0].startswith("routing\t")
