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


def fail_on_warning(value: str | None) -> bool:
    """--fail-on: "error" (the default) or "warning"."""
    from sgpctl.errors import InputError

    if value in (None, "error", "errors"):
        return False
    if value in ("warning", "warnings"):
        return True
    raise InputError(f"--fail-on {value!r} is not supported", hint="use --fail-on warning (or error, the default)")


def namespace_scope(app, namespace: str | None, all_namespaces: bool) -> str | None:
    """kubectl's -n/-A: one namespace (the context's by default), or None for all of them."""
    from sgpctl.errors import InputError

    if namespace and all_namespaces:
        raise InputError("-n/--namespace and -A/--all-namespaces are mutually exclusive", hint="pass one of them")
    return None if all_namespaces else (namespace or app.context_namespace())
