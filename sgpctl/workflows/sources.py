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


def load_policy_files(paths: list[str] | str, stdin: TextIO | None = None, *, recursive: bool = False) -> ValidationResult:
    """Every file behind repeated ``-f`` (files, directories, ``-``; ``inputs.expand_paths``), validated
    as one set: a policy defined in two files is a problem, as within one file."""
    from sgpctl.core.policy import Problem

    files = inputs.expand_paths([paths] if isinstance(paths, str) else list(paths), recursive=recursive)
    policies: list[SecurityGroupPolicy] = []
    problems: list = []
    seen: dict[tuple, str] = {}
    for path in files:
        result = load_policy_file(path, stdin)
        source = "<stdin>" if path == "-" else path
        problems += result.problems
        for p in result.policies:
            key = (p.namespace, p.name)
            if key in seen:
                problems.append(Problem(-1, p.name, "metadata.name",
                                        f"policy '{p.name}' is defined twice (also in {seen[key]}); the second "
                                        "would overwrite the first", source, None))
                continue
            seen[key] = source
            policies.append(p)
    return ValidationResult(policies, problems)


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


def validation_checks(result: ValidationResult) -> list:
    """A validation as check results (``-o junit``): a pass per valid policy, a failure per problem."""
    from sgpctl.core.checks import CheckResult, Status

    out = [CheckResult(f"policy-{p.namespace or 'default'}-{p.name}", f"{p.namespace or '(context namespace)'}/{p.name} is valid",
                       Status.PASS, category=p.namespace or "policies") for p in result.policies]
    for i, problem in enumerate(result.problems, 1):
        where = f"{problem.source}:{problem.line}" if problem.source and problem.line else (problem.source or "input")
        out.append(CheckResult(f"problem-{i}", f"{where}: {problem.doc_name or 'document'} is valid", Status.FAIL,
                               str(problem), "fix the file and run `sgpctl policy validate` again", category="problems"))
    return out
