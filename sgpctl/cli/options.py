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
