"""Output of the check commands (`doctor`, `routing check`, `snat check`): the linkerd-style table of
``render.checks`` streamed as results arrive, or one JSON/YAML document at the end."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from sgpctl.core.checks import CheckResult, overall_exit_code, to_json
from sgpctl.render.output import OutputFormat, emit


def emit_checks(results: Iterable[CheckResult], output: OutputFormat | str, *, extra: Mapping[str, Any] | None = None,
                fail_on_warning: bool = False, stream=None) -> int:
    """Render ``results`` (a generator is drawn line by line as it yields) and return the exit code.
    ``extra`` adds keys beside ``ok`` and ``categories`` in JSON/YAML; the table does not show it."""
    from sgpctl.render.checks import CheckTableRenderer

    out = stream or sys.stdout
    if OutputFormat(output) is OutputFormat.table:
        renderer = CheckTableRenderer(out, fail_on_warning=fail_on_warning)
        for result in results:
            renderer.add(result)
        return renderer.finish()
    items = list(results)
    doc = to_json(items, fail_on_warning)
    for key, value in (extra or {}).items():
        doc.setdefault(key, value)
    emit(doc, output, stream=out)
    return overall_exit_code(items, fail_on_warning)
