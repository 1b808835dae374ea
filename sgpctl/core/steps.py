"""The result of a mutating workflow: what it did (or, with --dry-run, would do), step by step.

Every mutating command reports through this, so `--dry-run`, idempotent re-runs ("unchanged") and
partial failures read the same everywhere."""

from __future__ import annotations

import enum
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
FORCED = "forced"         # a check failed and --force went past it: the step went on, at the user's word


class DryRun(str, enum.Enum):
    """``--dry-run[=client|server]``, as kubectl: ``client`` plans from what it reads and sends no
    change; ``server`` also sends each change the API can dry-run (Kubernetes ``dryRun=All``, the
    cloud's ``DryRun`` parameter) so the server validates it without applying it. False when NONE."""

    NONE = "none"
    CLIENT = "client"
    SERVER = "server"

    def __bool__(self) -> bool:
        return self is not DryRun.NONE

    @classmethod
    def of(cls, value: "bool | str | DryRun | None") -> "DryRun":
        if isinstance(value, DryRun):
            return value
        if isinstance(value, str):
            return cls(value)
        return cls.CLIENT if value else cls.NONE


def client_side(outcome: "Outcome", api: str) -> None:
    """Under ``--dry-run=server``, say of each planned step that ``api`` has no dry run, so it was
    planned from reads only (nothing is sent that the server could check)."""
    if outcome.mode is DryRun.SERVER:
        for s in outcome.steps:
            if s.status == PLANNED:
                s.message += f" (planned from reads: the {api} API has no dry run)"


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
    def mode(self) -> DryRun:
        return DryRun.of(self.dry_run)

    @property
    def forced(self) -> list[Step]:
        return [s for s in self.steps if s.status == FORCED]

    @property
    def exit_code(self) -> ExitCode:
        """1 when a step failed or was refused, else 3 when one could not be determined, else 0."""
        if any(s.status in (FAILED, REFUSED) for s in self.steps):
            return ExitCode.FAILED
        return ExitCode.UNDETERMINED if any(s.status == UNDETERMINED for s in self.steps) else ExitCode.OK

    def to_dict(self) -> dict:
        out = {
            "command": self.command,
            "ok": self.ok,
            "dryRun": bool(self.dry_run),
            "changed": self.changed,
            "steps": [s.to_dict() for s in self.steps],
            **self.extra,
        }
        if self.dry_run:
            out["dryRunMode"] = self.mode.value
        return out

    def refused_run(self) -> "Outcome":
        """A plan that refused, as the report of the real run that was asked for: nothing was done, so
        its planned steps are skipped (``dryRun`` false, the summary says nothing was changed)."""
        out = Outcome(self.command, dry_run=DryRun.NONE, extra=dict(self.extra))
        for s in self.steps:
            if s.status == PLANNED:
                s = Step(s.id, s.description, SKIPPED, f"not done: {s.message}", None, dict(s.details))
            out.add(s)
        return out

    def summary(self) -> str:
        if not self.ok:
            bad = [s for s in self.steps if s.status in (FAILED, REFUSED)] or [
                s for s in self.steps if s.status == UNDETERMINED]
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            unchanged = "" if self.changed else "; nothing was changed"
            return f"{self.command}: {bad[0].status}: {bad[0].message}{more}{unchanged}"
        forced = f"; forced past {len(self.forced)} failed check(s)" if self.forced else ""
        if self.dry_run:
            kind = "server dry run" if self.mode is DryRun.SERVER else "dry run"
            n = sum(1 for s in self.steps if s.status == PLANNED)
            return (f"{self.command}: {kind}, {n} change(s) planned, nothing changed{forced}" if n
                    else f"{self.command}: {kind}, nothing to change{forced}")
        if self.changed:
            return f"{self.command}: done, {sum(1 for s in self.steps if s.status == CHANGED)} change(s){forced}"
        return f"{self.command}: nothing to change (already set up){forced}"
