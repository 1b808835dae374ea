import subprocess
import sys
from pathlib import Path

from tests.support import clean_env


def test_demo_runs_the_whole_procedure_and_verifies_the_pod(tmp_path):
    sgpctl = Path(sys.executable).with_name("sgpctl")
    r = subprocess.run([str(sgpctl), "demo"], env=clean_env(HOME=str(tmp_path)), capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    for command in ("$ sgpctl cam setup", "$ sgpctl enable-trunking", "$ sgpctl addon install", "$ sgpctl sg create",
                    "$ sgpctl policy apply", "$ sgpctl verify pod", "$ kubectl get vpceni -l tke.cloud.tencent.com/pod-name="):
        assert command in out, command
    assert "cam setup: nothing to change" in out          # the second run is idempotent
    assert ": verified" in out                              # verify pod passed
    group = next(line.split()[-1] for line in out.splitlines() if line.startswith("  tke.cloud.tencent.com/security-group-id:"))
    eni_line = next(line for line in out.splitlines() if ": GroupSet [" in line)
    assert group.strip("'") in eni_line                    # the ENI has the policy's group
    assert "demo finished" in r.stderr
    # Nothing written into the user's home (the sandbox keeps its files in a temporary directory).
    assert not (tmp_path / ".kube").exists() and not (tmp_path / ".tccli").exists()


def test_packaged_demo_files_are_the_examples():
    root = Path(__file__).resolve().parents[2]
    for name in ("policy.yaml", "nginx-deployment.yaml"):
        assert (root / "sgpctl" / "demo_data" / name).read_text() == (root / "examples" / name).read_text(), name
