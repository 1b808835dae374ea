"""``-o junit``: check results (and the steps of a mutating command) as a JUnit XML report, the format
CI systems (GitLab, Jenkins, GitHub test reporters) read.

One ``<testsuite>`` per category (doctor's categories, verify's namespaces), one ``<testcase>`` per
check (verify: per Pod). A failed check is a ``<failure>`` whose message is the check's message and
whose text adds the hint and the evidence; a warning is a failure too under ``--fail-on warning``,
else it passes with the warning in ``<system-out>``; a check that could not be determined is an
``<error>``; a skipped one ``<skipped>``; a note passes with its text in ``<system-out>``. A mutating
command's steps: failed or refused is a failure, skipped is skipped.

Written with the standard library's ElementTree, so every attribute and text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree as ET

from sgpctl.core.checks import CheckResult, Status

__all__ = ["checks_report", "steps_report"]


def _details(message: str, hint: str | None, evidence: Any) -> str:
    lines = [message] if message else []
    items = [f"{k}: {v}" for k, v in evidence.items()] if isinstance(evidence, dict) else list(evidence or [])
    lines += [f"- {e}" for e in items]
    if hint:
        lines.append(f"hint: {hint}")
    return "\n".join(lines)


def _suite_counts(suite: ET.Element, counts: dict[str, int]) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        suite.set(key, str(counts[key]))


def _document(name: str, suites: list[tuple[str, list[tuple[str, str, str | None, str, str]]]]) -> str:
    """``suites``: (suite name, [(case name, outcome, message, text, classname)]) with outcome one of
    pass, failure, error, skipped."""
    root = ET.Element("testsuites", name=name)
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite_name, cases in suites:
        suite = ET.SubElement(root, "testsuite", name=suite_name)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for case_name, outcome, message, text, classname in cases:
            case = ET.SubElement(suite, "testcase", name=case_name, classname=classname)
            counts["tests"] += 1
            if outcome == "failure":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=message or "", type="failure").text = text
            elif outcome == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=message or "", type="undetermined").text = text
            elif outcome == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=message or "")
            elif text:
                ET.SubElement(case, "system-out").text = text
        _suite_counts(suite, counts)
        for key in total:
            total[key] += counts[key]
    _suite_counts(root, total)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def checks_report(name: str, results: Iterable[CheckResult], fail_on_warning: bool = False) -> str:
    """Check results as JUnit XML; ``name`` names the run (``sgpctl doctor``)."""
    order: list[str] = []
    cases: dict[str, list] = {}
    for r in results:
        if r.category not in cases:
            order.append(r.category)
            cases[r.category] = []
        text = _details(r.message, r.hint, r.evidence)
        if r.status is Status.FAIL or (fail_on_warning and r.status is Status.WARN):
            outcome = "failure"
        elif r.undetermined:
            outcome = "error"
        elif r.status is Status.SKIP:
            outcome = "skipped"
        else:
            outcome = "pass"
            if r.status is Status.WARN:
                text = f"warning: {text}"
        cases[r.category].append((f"{r.id}: {r.description}", outcome, r.message or r.description, text,
                                  f"{name}.{r.category or 'checks'}"))
    return _document(name, [(c or "checks", cases[c]) for c in order])


def steps_report(name: str, document: dict) -> str:
    """A mutating command's steps (``core.steps.Outcome.to_dict()``) as JUnit XML."""
    cases = []
    for s in document.get("steps") or []:
        status = s.get("status")
        outcome = {"failed": "failure", "refused": "failure", "skipped": "skipped"}.get(status, "pass")
        text = _details(s.get("message") or "", s.get("hint"), [])
        cases.append((f"{s['id']}: {s.get('description') or ''}", outcome, s.get("message") or status,
                      f"{status}: {text}" if outcome == "pass" else text, name))
    return _document(name, [(name, cases)])
