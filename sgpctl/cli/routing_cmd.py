"""`sgpctl routing ...`: strict/standard routing of Trunking ENI Pods (owned by the issue-6 work)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Strict or standard routing for Pods with their own security groups.", no_args_is_help=True)
