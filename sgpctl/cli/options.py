"""Options shared by many commands, declared once."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.render.output import OutputFormat

Output = Annotated[OutputFormat, typer.Option("-o", "--output", help="Output format.", case_sensitive=False)]
Namespace = Annotated[Optional[str], typer.Option("-n", "--namespace", help="Namespace.")]
AllNamespaces = Annotated[bool, typer.Option("-A", "--all-namespaces", help="All namespaces.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required when not on a TTY).")]
Selector = Annotated[Optional[str], typer.Option("-l", "--selector", help="Label selector, as kubectl -l (e.g. app=web,tier!=db).")]
FailOn = Annotated[str, typer.Option("--fail-on", metavar="warning", help="`warning` makes warnings fail too (exit 1).")]
Wait = Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the change has taken effect.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait.", min=1)]


def fail_on_warning(value: str | None) -> bool:
    """--fail-on: "error" (the default) or "warning"."""
    from sgpctl.errors import InputError

    if value in (None, "error", "errors"):
        return False
    if value in ("warning", "warnings"):
        return True
    raise InputError(f"--fail-on {value!r} is not supported", hint="use --fail-on warning (or error, the default)")


def namespace_scope(app, namespace: str | None, all_namespaces: bool, *, all_by_default: bool = False) -> str | None:
    """kubectl's -n/-A: one namespace, or None for all of them. Without either, the context's
    namespace (or, with ``all_by_default``, all of them)."""
    from sgpctl.errors import InputError

    if namespace and all_namespaces:
        raise InputError("-n/--namespace and -A/--all-namespaces are mutually exclusive", hint="pass one of them")
    if all_namespaces or (all_by_default and not namespace):
        return None
    return namespace or app.context_namespace()


def label_selector(value: str | None) -> str | None:
    """-l, checked with kubectl's grammar before anything is read."""
    if not value:
        return value
    from sgpctl.core.selectors import SelectorError, parse
    from sgpctl.errors import InputError

    try:
        parse(value)
    except SelectorError as e:
        raise InputError(f"-l {value!r}: {e}", hint="use kubectl's selector syntax, e.g. -l app=web,tier!=db") from None
    return value
