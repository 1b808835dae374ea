"""`sgpctl snat ...`: the SNAT audit for strict-mode Pods (owned by the issue-6 work)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Audit SNAT (ip-masq-agent) for Pods in strict routing mode.", no_args_is_help=True)
