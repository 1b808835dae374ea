"""The result of a mutating workflow: what it did (or, with --dry-run, would do), step by step.

Every mutating command reports through this, so `--dry-run`, idempotent re-runs ("unchanged") and
partial failures read the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field

from sgpctl.core.checks import CheckResult, Status
from sgpctl.errors import ExitCode

UNCHANGED = "unchanged"   # already as wanted: nothing to do
PLANNED = "planned"       # --dry-run: would change
CHANGED = "changed"       # changed now
FAILED = "failed"         # tried and failed
REFUSED = "refused"       # a precondition failed: not tried
SKIPPED = "skipped"       # not reached (an earlier step failed or refused)
UNDETERMINED = "undetermined"  # a fact it stands on could not be established: stopped (exit 3), or done
                               # but the read-back cannot tell whether it took effect


@dataclass
class Step:
    id: str
    description: str
    status: str = UNCHANGED
    message: str = ""
    hint: str | None = None
    details: dict = field(default_factory=dict)

    @classmethod
    def from_check(cls, result: CheckResult, step_id: str | None = None) -> Step:
        """A check a mutating command makes before it acts: a failed check refuses the step (nothing
        is changed), anything else lets it go on."""
        status = REFUSED if result.status is Status.FAIL else UNCHANGED
        return cls(step_id or result.id, result.description, status, result.message, result.hint)

    def to_dict(self) -> dict:
        d = {"id": self.id, "description": self.description, "status": self.status, "message": self.message, "hint": self.hint}
        if self.details:
            d["details"] = self.details
        return d


@dataclass
class Outcome:
    command: str
    steps: list[Step] = field(default_factory=list)
    dry_run: bool = False
    extra: dict = field(default_factory=dict)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    @property
    def changed(self) -> bool:
        return any(s.status == CHANGED for s in self.steps)

    @property
    def ok(self) -> bool:
        return not any(s.status in (FAILED, REFUSED, UNDETERMINED) for s in self.steps)

    @property
    def exit_code(self) -> ExitCode:
        """1 when a step failed or was refused, else 3 when one could not be determined, else 0."""
        if any(s.status in (FAILED, REFUSED) for s in self.steps):
            return ExitCode.FAILED
        return ExitCode.UNDETERMINED if any(s.status == UNDETERMINED for s in self.steps) else ExitCode.OK

    def to_dict(self) -> dict:
        return {
            "command": self.command,
            "ok": self.ok,
            "dryRun": self.dry_run,
            "changed": self.changed,
            "steps": [s.to_dict() for s in self.steps],
            **self.extra,
        }

    def summary(self) -> str:
        if not self.ok:
            bad = next((s for s in self.steps if s.status in (FAILED, REFUSED)), None) or next(
                s for s in self.steps if s.status == UNDETERMINED)
            return f"{self.command}: {bad.status}: {bad.message}"
        if self.dry_run:
            n = sum(1 for s in self.steps if s.status == PLANNED)
            return f"{self.command}: dry run, {n} change(s) planned, nothing changed" if n else f"{self.command}: dry run, nothing to change"
        if self.changed:
            return f"{self.command}: done, {sum(1 for s in self.steps if s.status == CHANGED)} change(s)"
        return f"{self.command}: nothing to change (already set up)"
