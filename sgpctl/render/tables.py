"""Human tables for command results (Rich, on stdout). JSON/YAML never pass through here."""

from __future__ import annotations

from typing import Iterable, Sequence


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], title: str | None = None):
    from rich.table import Table
    from rich.text import Text

    t = Table(*headers, box=None, pad_edge=False, header_style="bold", title=title, title_justify="left")
    for row in rows:
        # Text(...) so user data such as "[sg-1]" is never read as Rich markup.
        t.add_row(*(Text("" if v is None else str(v)) for v in row))
    return t


def print_table(headers, rows, title: str | None = None) -> None:
    from sgpctl.render.console import out

    out().print(table(headers, rows, title))


def heading(text: str) -> None:
    from rich.text import Text

    from sgpctl.render.console import out

    out().print(Text(text, style="bold"))


def line(text: str = "") -> None:
    from rich.text import Text

    from sgpctl.render.console import out

    out().print(Text(text))


def groups(ids) -> str:
    return ",".join(ids) if ids else "-"
