"""`sgpctl sandbox ...`: run an emulated TKE region on 127.0.0.1 (owned by the sandbox work)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run an emulated TKE region on 127.0.0.1 (Tencent Cloud API + Kubernetes API).", no_args_is_help=True)
