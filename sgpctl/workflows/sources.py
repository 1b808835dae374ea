"""Files a command reads: policy files (``-f``, or ``-`` for stdin) and offline cluster snapshots
(``--snapshot``, which become a ``ClusterView`` like the live cluster's)."""

from __future__ import annotations

from typing import TextIO

from sgpctl import inputs
from sgpctl.core.loading import SNAPSHOT_LIMITS
from sgpctl.core.policy import SecurityGroupPolicy, ValidationResult, load_policies
from sgpctl.errors import InputError
from sgpctl.workflows.view import ClusterView


def read_text(path: str, stdin: TextIO | None = None) -> str:
    """Read a file, or ``stdin`` (the command's) for ``-``, bounded (``sgpctl.inputs``); any problem is
    bad input (exit 2)."""
    return inputs.read_text(path, max_bytes=SNAPSHOT_LIMITS.max_bytes, hint="check the path given to -f/--snapshot",
                            stdin=stdin)


def load_policy_file(path: str, stdin: TextIO | None = None) -> ValidationResult:
    source = "<stdin>" if path == "-" else path
    return load_policies(read_text(path, stdin), source)


def require_valid(result: ValidationResult) -> list[SecurityGroupPolicy]:
    if not result.ok:
        first = result.problems[0]
        more = f" (and {len(result.problems) - 1} more problems)" if len(result.problems) > 1 else ""
        raise InputError(f"{first}{more}", hint="run `sgpctl policy validate -f FILE` to list every problem")
    return result.policies


def from_snapshot(paths: list[str], stdin: TextIO | None = None) -> ClusterView:
    from sgpctl.core.snapshot import load_snapshot, snapshot_documents

    docs, names = [], []
    for path in paths:
        for doc in snapshot_documents(read_text(path, stdin), path):
            docs.append(doc)
            names.append(path)
    snap = load_snapshot(docs, names=names)
    return ClusterView.of_snapshot(snap, "snapshot " + ", ".join(paths))


def merge_policies(existing: list[SecurityGroupPolicy], new: list[SecurityGroupPolicy]) -> list[SecurityGroupPolicy]:
    """The policies as they would be after applying ``new``: same namespace/name replaced."""
    keys = {(p.namespace, p.name) for p in new}
    return [p for p in existing if (p.namespace, p.name) not in keys] + list(new)
