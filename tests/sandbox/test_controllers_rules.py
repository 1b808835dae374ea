"""Rules the sandbox's own modules keep: they stand in for the cloud, not for the tool, so they use
sgpctl.core (the same allocation and matching code the CLI predicts with) and nothing of the
tool's cli, workflows, cloud or kube layers."""

from __future__ import annotations

import ast
from pathlib import Path

import sgpctl

ROOT = Path(sgpctl.__file__).parent / "sandbox"
OWN = [ROOT / "__init__.py", ROOT / "region.py", ROOT / "runner.py", *sorted((ROOT / "scenarios").glob("*.py")),
       *sorted((ROOT / "controllers").glob("*.py"))]
ALLOWED = ("sgpctl.core", "sgpctl.errors", "sgpctl.sandbox")


def imported_sgpctl_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m == "sgpctl" or m.startswith("sgpctl.")}


def test_sandbox_modules_import_only_core_errors_and_the_sandbox():
    for path in OWN:
        bad = {m for m in imported_sgpctl_modules(path) if not m.startswith(ALLOWED)}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_scheduler_and_eniipamd_decide_with_the_core():
    """Placement and matching live once, in core: the simulated scheduler and webhook call it."""
    scheduler = imported_sgpctl_modules(ROOT / "controllers" / "scheduler.py")
    eniipamd = imported_sgpctl_modules(ROOT / "controllers" / "eniipamd.py")
    assert "sgpctl.core.allocation" in scheduler
    assert "sgpctl.core.matching" in eniipamd
    source = (ROOT / "controllers" / "scheduler.py").read_text()
    assert "choose_node(" in source and "node_usage(" in source
    assert "expected_groups(" in (ROOT / "controllers" / "eniipamd.py").read_text()
