"""`sgpctl completion SHELL`: the shell completion script (see ``cli/completion.py``)."""

from __future__ import annotations

from typing import Annotated

import typer

from sgpctl.errors import ExitCode

HELP = """Print the shell completion script (bash, zsh, fish).

It completes commands, options, fixed choices, and, from the live cluster and your configuration,
namespaces, policy names, Pod names, kube contexts and tccli profiles (a short timeout; nothing on
failure). It also serves `kubectl sgp` through kubectl's plugin completion (kubectl_complete-sgp).

Examples:

\b
  source <(sgpctl completion bash)                        # this shell
  sgpctl completion bash > /etc/bash_completion.d/sgpctl  # every shell
  sgpctl completion zsh > "${fpath[1]}/_sgpctl"
  sgpctl completion fish > ~/.config/fish/completions/sgpctl.fish
"""


def completion(
    ctx: typer.Context,
    shell: Annotated[str, typer.Argument(help="bash, zsh or fish.", metavar="bash|zsh|fish")],
) -> ExitCode:
    from sgpctl.cli.completion import SCRIPTS, SHELLS
    from sgpctl.cli.context import get_app
    from sgpctl.errors import InputError

    if shell not in SCRIPTS:
        raise InputError(f"no completion for shell {shell!r}", hint=f"use one of: {', '.join(SHELLS)}")
    get_app(ctx).out.write(SCRIPTS[shell])
    return ExitCode.OK
