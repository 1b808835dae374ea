"""Files a command reads: policy files (``-f``, or ``-`` for stdin) and offline cluster snapshots
(``--snapshot``, which become a ``ClusterView`` like the live cluster's)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from sgpctl.core.policy import SecurityGroupPolicy, ValidationResult, load_policies
from sgpctl.errors import InputError
from sgpctl.workflows.view import ClusterView


def read_text(path: str, stdin: TextIO | None = None) -> str:
    """Read a file, or ``stdin`` (the command's) for ``-``; a missing file is bad input (exit 2)."""
    if path == "-":
        return (stdin or sys.stdin).read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"file not found: {path}", hint="check the path given to -f/--snapshot") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read {path}: {e}") from None


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
    import yaml  # lazy

    from sgpctl.core.snapshot import load_snapshot

    docs, names = [], []
    for path in paths:
        text = read_text(path, stdin)
        try:
            for doc in yaml.safe_load_all(text):
                if doc is not None:
                    docs.append(doc)
                    names.append(path)
        except yaml.YAMLError as e:
            raise InputError(f"{path}: invalid YAML: {str(e).splitlines()[0]}",
                             hint="a snapshot is the output of `kubectl get pods,serviceaccounts,nodes,securitygrouppolicies -A -o yaml`") from None
    snap = load_snapshot(docs, names=names)
    return ClusterView.of_snapshot(snap, "snapshot " + ", ".join(paths))


def merge_policies(existing: list[SecurityGroupPolicy], new: list[SecurityGroupPolicy]) -> list[SecurityGroupPolicy]:
    """The policies as they would be after applying ``new``: same namespace/name replaced."""
    keys = {(p.namespace, p.name) for p in new}
    return [p for p in existing if (p.namespace, p.name) not in keys] + list(new)
