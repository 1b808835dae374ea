"""Checks as data, and a pure runner that streams their results (the model of linkerd2's
``pkg/healthcheck``: a check is an id, a description, a function and its dependencies; the runner
owns ordering, skipping and error handling; renderers only format results).

Every check in the product is one of these: ``doctor``, ``verify``, ``routing check``, ``snat check``,
the Trunking ENI preconditions and the checks that mutating steps make. Semantics, decided here once:

- Categories run in order, checks in order. A later category always runs: only the checks that
  ``require`` a check which did not succeed are skipped.
- ``requires`` names earlier checks, which must be ``fatal`` (a fatal check is one others may stand
  on; the mark makes the dependency visible where the check is declared). A dependent is skipped
  with ``skipped: <id> failed`` when a required check failed, ``skipped: <id> could not be
  determined`` when it could not be determined, and ``skipped: <id> was skipped`` when it was itself
  skipped (skipping is transitive). ``warn`` and ``info`` count as success: a dependent still runs.
- An exception inside a check never stops the run. An ``UndeterminedError`` - or any ``SgpctlError``
  whose exit code is 3, such as a 403 from Kubernetes or an ``AuthFailure`` from the cloud - becomes
  status ``skip`` with ``undetermined=True`` and the message ``could not determine: <error>``; any
  other exception becomes ``fail`` with the error's message. A check can also *return*
  ``undetermined(...)`` when its inputs were missing.
- Exit code (``exit_code``, the one rule every reporting command uses): 1 if anything failed (or warned, with
  ``--fail-on warning``); else 3 if anything could not be determined; else 0. ``ok`` in the JSON is
  ``exit code == 0``: a run that could not determine something has not shown the setup is fine.

Statuses are ``pass``, ``warn``, ``fail``, ``skip`` and ``info`` (a note: "no policy yet" is worth
saying but is not a problem). Could-not-determine is a ``skip`` with ``undetermined`` set, so the
JSON contract keeps five status values and gains an ``undetermined: true`` key only on those results.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sgpctl.errors import ExitCode, SgpctlError, UndeterminedError

__all__ = [
    "Category",
    "CategorySpec",
    "CheckOutcome",
    "CheckResult",
    "CheckSpec",
    "Status",
    "failed",
    "group_results",
    "exit_code",
    "noted",
    "passed",
    "run_checks",
    "skipped",
    "to_json",
    "undetermined",
    "warned",
    "worst",
]


class Status(str, enum.Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    INFO = "info"

    def __str__(self) -> str:  # so f-strings and JSON show "pass", not "Status.PASS"
        return self.value


#: statuses after which a dependent check still runs
_SUCCESSFUL = frozenset({Status.PASS, Status.WARN, Status.INFO})

Evidence = list[str] | dict[str, Any]


@dataclass(frozen=True)
class CheckOutcome:
    """What a check function returns; the runner adds the id, description and category."""

    status: Status
    message: str = ""
    hint: str | None = None
    evidence: Evidence = field(default_factory=list)
    undetermined: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        if self.undetermined and self.status is not Status.SKIP:
            raise ValueError("an undetermined outcome has status skip")


def passed(message: str = "", evidence: Evidence | None = None) -> CheckOutcome:
    return CheckOutcome(Status.PASS, message, None, _evidence(evidence))


def failed(message: str, hint: str | None = None, evidence: Evidence | None = None) -> CheckOutcome:
    return CheckOutcome(Status.FAIL, message, hint, _evidence(evidence))


def warned(message: str, hint: str | None = None, evidence: Evidence | None = None) -> CheckOutcome:
    return CheckOutcome(Status.WARN, message, hint, _evidence(evidence))


def noted(message: str, hint: str | None = None, evidence: Evidence | None = None) -> CheckOutcome:
    return CheckOutcome(Status.INFO, message, hint, _evidence(evidence))


def skipped(message: str, hint: str | None = None) -> CheckOutcome:
    return CheckOutcome(Status.SKIP, message, hint)


def undetermined(message: str, hint: str | None = None, evidence: Evidence | None = None) -> CheckOutcome:
    """The check could not find out (its input is missing or unreadable): exit code 3 unless something failed."""
    text = message if message.startswith("could not determine") else f"could not determine: {message}"
    return CheckOutcome(Status.SKIP, text, hint, _evidence(evidence), undetermined=True)


def _evidence(evidence: Evidence | None) -> Evidence:
    if evidence is None:
        return []
    return dict(evidence) if isinstance(evidence, Mapping) else list(evidence)


#: CheckResult's "no evidence given" (a new empty list each time, as ``field(default_factory=list)``)
_NO_EVIDENCE: Any = object()


@dataclass(frozen=True, init=False)
class CheckResult:
    id: str
    description: str
    status: Status
    message: str = ""
    hint: str | None = None
    evidence: Evidence = field(default_factory=list)
    category: str = ""
    undetermined: bool = False
    #: an ``ackable`` check the user acknowledged (``--ack ID``): passed without being run
    acknowledged: bool = False

    def __init__(self, id: str, description: str, status: Status | str, message: str = "", hint: str | None = None,
                 evidence: Evidence | None = _NO_EVIDENCE, category: str = "", undetermined: bool = False,
                 acknowledged: bool = False) -> None:
        # The generated __init__ of a frozen dataclass sets each field through object.__setattr__: half
        # of the time `verify pods` spends checking 10,000 Pods (ten of these each). Same fields, same
        # defaults; a status given as a string becomes the Status.
        d = self.__dict__
        d["id"] = id
        d["description"] = description
        d["status"] = status if type(status) is Status else Status(status)
        d["message"] = message
        d["hint"] = hint
        d["evidence"] = [] if evidence is _NO_EVIDENCE else evidence
        d["category"] = category
        d["undetermined"] = undetermined
        d["acknowledged"] = acknowledged

    @property
    def ok(self) -> bool:
        """True when dependents may stand on this result."""
        return self.status in _SUCCESSFUL

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "description": self.description,
            "status": self.status.value,
            "message": self.message,
            "hint": self.hint,
            "evidence": self.evidence,
        }
        if self.undetermined:
            out["undetermined"] = True
        if self.acknowledged:
            out["acknowledged"] = True
        return out


@dataclass(frozen=True)
class Category:
    name: str
    results: tuple[CheckResult, ...] = ()


_ID_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True)
class CheckSpec:
    """One check. ``run(context)`` returns a CheckOutcome; ``id`` is stable kebab-case (scripts key on it)."""

    id: str
    description: str
    run: Callable[[Any], CheckOutcome]
    fatal: bool = False
    requires: tuple[str, ...] = ()
    #: no API can answer it (it is confirmed by hand): the user may acknowledge it (``--ack ID``) so
    #: that a strict run (``--fail-on warning``) can pass
    ackable: bool = False

    def __post_init__(self) -> None:
        if not _ID_RE.fullmatch(self.id):
            raise ValueError(f"check id {self.id!r} is not kebab-case")
        object.__setattr__(self, "requires", tuple(self.requires))


@dataclass(frozen=True)
class CategorySpec:
    name: str
    checks: tuple[CheckSpec, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(self.checks))


CategoryInput = CategorySpec | tuple[str, Sequence[CheckSpec]]


def _as_category(item: CategoryInput) -> CategorySpec:
    if isinstance(item, CategorySpec):
        return item
    name, checks = item
    return CategorySpec(name, tuple(checks))


def _validate(categories: list[CategorySpec]) -> None:
    # Wiring mistakes are the programmer's, not the user's: refuse them before the first check runs,
    # so a typo in ``requires`` cannot silently turn into "never skipped".
    seen: dict[str, CheckSpec] = {}
    for category in categories:
        for spec in category.checks:
            if spec.id in seen:
                raise ValueError(f"duplicate check id {spec.id!r}")
            for dep in spec.requires:
                if dep not in seen:
                    raise ValueError(f"check {spec.id!r} requires {dep!r}, which is not an earlier check")
                if not seen[dep].fatal:
                    raise ValueError(f"check {spec.id!r} requires {dep!r}, which is not marked fatal")
            seen[spec.id] = spec


def _skip_reason(dep: CheckResult) -> str:
    if dep.undetermined:
        return f"skipped: {dep.id} could not be determined"
    if dep.status is Status.FAIL:
        return f"skipped: {dep.id} failed"
    return f"skipped: {dep.id} was skipped"


def _from_exception(exc: Exception) -> CheckOutcome:
    if isinstance(exc, UndeterminedError) or (
        isinstance(exc, SgpctlError) and exc.exit_code == ExitCode.UNDETERMINED
    ):
        return undetermined(exc.message, exc.hint)
    if isinstance(exc, SgpctlError):
        return failed(exc.message, exc.hint)
    detail = str(exc) or type(exc).__name__
    return failed(f"the check itself failed: {type(exc).__name__}: {detail}",
                  "this is a bug in sgpctl: run again with --debug and report it")


def run_checks(categories: Iterable[CategoryInput], context: Any = None, *,
               acknowledged: Iterable[str] = ()) -> Iterator[CheckResult]:
    """Run every check in order and yield each result as soon as it is known (renderers stream them).
    An ``ackable`` check whose id is in ``acknowledged`` passes as acknowledged, without running.

    Raises ValueError before running anything when the wiring is wrong (duplicate ids, a
    ``requires`` that names a later, unknown or non-fatal check).
    """
    specs = [_as_category(c) for c in categories]
    _validate(specs)
    return _run(specs, context, frozenset(acknowledged))


def ackable_ids(categories: Iterable[CategoryInput]) -> list[str]:
    return [s.id for c in map(_as_category, categories) for s in c.checks if s.ackable]


def _run(categories: list[CategorySpec], context: Any, acknowledged: frozenset[str] = frozenset()) -> Iterator[CheckResult]:
    done: dict[str, CheckResult] = {}
    for category in categories:
        for spec in category.checks:
            blocker = next((done[d] for d in spec.requires if not done[d].ok), None)
            if spec.ackable and spec.id in acknowledged:
                result = CheckResult(spec.id, spec.description, Status.PASS, "acknowledged (--ack or SGPCTL_ACK): confirmed by hand",
                                     category=category.name, acknowledged=True)
                done[spec.id] = result
                yield result
                continue
            if blocker is not None:
                outcome = skipped(_skip_reason(blocker))
            else:
                try:
                    outcome = spec.run(context)
                except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
                    outcome = _from_exception(exc)
                if not isinstance(outcome, CheckOutcome):
                    outcome = failed(f"the check returned {type(outcome).__name__}, not a CheckOutcome",
                                     "this is a bug in sgpctl: report it")
            result = CheckResult(
                id=spec.id,
                description=spec.description,
                status=outcome.status,
                message=outcome.message,
                hint=outcome.hint,
                evidence=outcome.evidence,
                category=category.name,
                undetermined=outcome.undetermined,
            )
            done[spec.id] = result
            yield result


def _flatten(results: Iterable[CheckResult | Category]) -> Iterator[CheckResult]:
    for item in results:
        if isinstance(item, Category):
            yield from item.results
        else:
            yield item


def exit_code(results: Iterable[CheckResult | Category], fail_on_warning: bool = False) -> ExitCode:
    """The one rule from check results to an exit code, for every command that reports checks:
    1 if any check failed (or warned, with ``--fail-on warning``); else 3 if any could not be
    determined; else 0. Accepts results or categories."""
    any_undetermined = False
    for r in _flatten(results):
        if r.status is Status.FAIL or (fail_on_warning and r.status is Status.WARN):
            return ExitCode.FAILED
        any_undetermined = any_undetermined or r.undetermined
    return ExitCode.UNDETERMINED if any_undetermined else ExitCode.OK


def worst(results: Iterable[CheckResult]) -> Status:
    """The status that sums up several results: fail, else warn, else pass (skips and notes do not
    make a thing fail)."""
    found = {r.status for r in results}
    if Status.FAIL in found:
        return Status.FAIL
    return Status.WARN if Status.WARN in found else Status.PASS


def group_results(results: Iterable[CheckResult]) -> list[Category]:
    """Categories in the order their first result appeared."""
    order: list[str] = []
    by_name: dict[str, list[CheckResult]] = {}
    for r in results:
        if r.category not in by_name:
            order.append(r.category)
            by_name[r.category] = []
        by_name[r.category].append(r)
    return [Category(name, tuple(by_name[name])) for name in order]


def to_json(categories: Iterable[Category | CheckResult], fail_on_warning: bool = False) -> dict[str, Any]:
    """``{"ok", "categories": [{"name", "checks": [{"id", "description", "status", "message", "hint",
    "evidence"[, "undetermined"]}]}]}``. Accepts categories, or bare results (grouped by category)."""
    items = list(categories)
    cats = [c for c in items if isinstance(c, Category)]
    loose = [r for r in items if isinstance(r, CheckResult)]
    if loose:
        cats = cats + group_results(loose)
    return {
        "ok": exit_code(cats, fail_on_warning) == ExitCode.OK,
        "categories": [
            {"name": c.name, "checks": [r.to_dict() for r in c.results]} for c in cats
        ],
    }
