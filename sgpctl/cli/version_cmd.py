from __future__ import annotations

import platform

import typer

from sgpctl import __version__
from sgpctl.cli.options import Output
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat

HELP = "Show the sgpctl version.\n\nExample: sgpctl version -o json"


def version(ctx: typer.Context, output: Output = OutputFormat.table) -> ExitCode:
    from sgpctl.cli.context import get_app

    data = {"version": __version__, "python": platform.python_version(), "platform": platform.platform(terse=True)}
    get_app(ctx).out.emit(data, output, lambda term: term.line(f"sgpctl {__version__} (Python {data['python']}, {data['platform']})"))
    return ExitCode.OK
