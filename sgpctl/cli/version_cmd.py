from __future__ import annotations

import platform

from sgpctl import __version__
from sgpctl.cli.options import Output
from sgpctl.render.output import OutputFormat, emit

HELP = "Show the sgpctl version.\n\nExample: sgpctl version -o json"


def version(output: Output = OutputFormat.table) -> None:
    data = {"version": __version__, "python": platform.python_version(), "platform": platform.platform(terse=True)}

    def table() -> None:
        import sys

        sys.stdout.write(f"sgpctl {__version__} (Python {data['python']}, {data['platform']})\n")

    emit(data, output, table)
