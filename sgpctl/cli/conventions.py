"""What every command gets without declaring it. ``cli.commands.load`` builds each command and hands it
here once (``finish_command``), so a command added tomorrow follows the same conventions:

- The global options (``--profile --region --cluster-id --kubeconfig --context --endpoint --debug
  --no-color``) are accepted after the subcommand too, as kubectl accepts ``get pods -A --context
  prod``: each leaf gets hidden copies of the root's options that set the same flags (a value given
  later on the line wins).
- ``-n``/``-A`` given before the subcommand reach the commands that take them (``cli.options``); a
  command that takes no namespace refuses them (exit 2) rather than ignore them.
- ``--no-headers`` on every command that takes ``-o``.
- ``--dry-run=client|server|none`` as well as ``--dry-run`` on every command that takes ``--dry-run``
  (a value only with ``=``, as kubectl: ``--dry-run NAME`` keeps NAME an argument).
- Help shows metavars a person reads (``FILE``, ``NAME``, ``DURATION``), never Python types.
- The command's output facade knows the command's path (it names ``-o junit`` reports).
- Shell completion for every parameter (``cli.completion.completer_for``): live names, fixed choices,
  and file names only for options that take a file.
"""

from __future__ import annotations

import copy
import types
from typing import Annotated, Any

import typer

#: the root's options that may also come after the subcommand
GLOBALS = ("profile", "region", "cluster_id", "kubeconfig", "context", "endpoint", "debug", "no_color")

#: what help shows for an option's or argument's value, by parameter name
METAVARS = {
    "timeout": "DURATION", "policy_file": "FILE", "snapshot": "FILE", "plan": "FILE", "state_dir": "DIR",
    "namespace": "NAMESPACE", "selector": "SELECTOR", "pod_selector": "SELECTOR", "sa_selector": "SELECTOR",
    "sg": "ID", "expect_sg": "ID", "role": "ROLE", "tag": "KEY=VALUE", "policy": "NAME", "policy_name": "NAME",
    "addon_name": "NAME", "name": "NAME", "version": "VERSION", "description": "TEXT", "name_prefix": "PREFIX",
    "sg_limit": "N", "port": "PORT", "scenario": "SCENARIO", "faults": "SPEC", "addon_delay": "SECONDS",
    "since": "SEQ", "profile": "PROFILE", "region": "REGION", "cluster_id": "ID", "kubeconfig": "FILE",
    "context": "CONTEXT", "endpoint": "URL", "ack": "CHECK_ID", "shell": "SHELL",
}

GLOBALS_EPILOG = ("The global options (--context, --kubeconfig, --profile, --region, --cluster-id, --endpoint, "
                  "--debug, --no-color) may also go here: see `sgpctl --help`.")

NO_HEADERS_HELP = "Tables without their header line (-o table, wide, custom-columns)."


def finish_command(command: Any, root_params: list, path: str | None = None) -> Any:
    """Apply the conventions to every leaf of ``command`` (a Click command or group); ``path`` is its
    command line ("sgpctl verify")."""
    path = path or f"sgpctl {command.name}"
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            finish_command(sub, root_params, f"{path} {name}")
        return command
    _finish_leaf(command, root_params, path)
    return command


def _is_format(param: Any) -> bool:
    """The shared ``-o FORMAT`` (``cli.options.Output``); a command whose ``-o`` names a file (`capture -o
    FILE`) keeps it."""
    return "--output" in param.opts and param.metavar == "FORMAT"


def _opts(params: list) -> set[str]:
    return {o for p in params for o in (*p.opts, *getattr(p, "secondary_opts", ()))}


def _finish_leaf(leaf: Any, root_params: list, path: str) -> None:
    from sgpctl.cli.completion import completer_for

    taken = _opts(leaf.params)
    for p in root_params:
        if p.name in GLOBALS and not set(p.opts) & taken:
            clone = copy.copy(p)
            clone.hidden, clone.envvar, clone.expose_value, clone.callback = True, None, False, _apply_global
            clone.show_envvar = False
            leaf.params.append(clone)
    leaf.epilog = ((leaf.epilog + "\n\n") if leaf.epilog else "") + GLOBALS_EPILOG
    reports = any(_is_format(p) for p in leaf.params)
    extra = _extra_params()
    if reports and "--no-headers" not in taken:
        leaf.params.append(copy.copy(extra["no_headers"]))
    leaf.params.append(copy.copy(extra["sgpctl_conventions"]))
    for p in leaf.params:
        _readable(p)
        # Completion: live names and fixed choices; file names only where a file is taken.
        p._custom_shell_complete = completer_for(path, p)
        if "--dry-run" in p.opts:
            # Every --dry-run, however declared, reads as a DryRun mode (core.steps.DryRun).
            p.callback = _dry_run
        elif _is_format(p):
            p.callback = _output
    if "--dry-run" in taken:
        leaf.make_parser = types.MethodType(_make_parser, leaf)


_EXTRA: dict[str, Any] = {}


def _extra_params() -> dict[str, Any]:
    """The options the conventions add, built by Typer itself from a declaration (once)."""
    if not _EXTRA:
        from typer.main import get_command

        sub = typer.Typer(add_completion=False)

        @sub.command()
        def declared(
            no_headers: Annotated[bool, typer.Option("--no-headers", help=NO_HEADERS_HELP, callback=_no_headers,
                                                     expose_value=False)] = False,
            sgpctl_conventions: Annotated[bool, typer.Option("--sgpctl-conventions", hidden=True, callback=_check_root_scope,
                                                             expose_value=False)] = False,
        ) -> None:
            """(never run)"""

        _EXTRA.update({p.name: p for p in get_command(sub).params})
    return _EXTRA


def _readable(param: Any) -> None:
    """A metavar a person reads; an argument's help shows it alone (no ``<str>`` beside it)."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return
    if param.metavar is None:
        param.metavar = METAVARS.get(param.name or "") or _derived(param)
    if param.param_type_name == "argument":
        param.display_type_rich = lambda ctx=None: None
        metavar = param.metavar

        def usage(self=param, metavar=metavar) -> str:
            return metavar if self.required else f"[{metavar}]"

        param._usage_display_name = usage


def _derived(param: Any) -> str:
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if annotation is int:
        return "N"
    if annotation is float:
        return "SECONDS"
    return (param.name or "value").split("_")[-1].upper()


# -- callbacks -------------------------------------------------------------------------------------

def _given(ctx, param) -> bool:
    source = ctx.get_parameter_source(param.name)
    return source is not None and source.name == "COMMANDLINE"


def _apply_global(ctx, param, value) -> None:
    from sgpctl.cli.context import get_app

    if ctx.resilient_parsing or not _given(ctx, param):
        return
    get_app(ctx).set_flag(param.name, value)


def _dry_run(ctx, param, value):
    from sgpctl.cli.options import dry_run_mode

    return dry_run_mode(ctx, value)


def _output(ctx, param, value):
    from sgpctl.cli.options import bad_option
    from sgpctl.errors import InputError
    from sgpctl.render.output import parse_output

    if value is None or ctx.resilient_parsing:
        return value
    try:
        return parse_output(value)
    except InputError as e:
        raise bad_option(e) from None


def _no_headers(ctx: "typer.Context", param: "typer.CallbackParam", value) -> None:
    from sgpctl.cli.context import get_app

    if value and not ctx.resilient_parsing:
        get_app(ctx).out.no_headers = True


def _check_root_scope(ctx: "typer.Context", param: "typer.CallbackParam", value) -> None:
    """Runs after the command's own options: the output facade learns the command's path, and a root
    -n/-A that no option of this command used is refused."""
    from sgpctl.cli.context import App
    from sgpctl.cli.options import ROOT_SCOPE_USED
    from sgpctl.errors import InputError

    if ctx.resilient_parsing:
        return
    app = ctx.find_root().obj
    if not isinstance(app, App):
        return
    app.out.command = ctx.command_path
    used = ctx.meta.get(ROOT_SCOPE_USED, set())
    for name, flag, given in (("namespace", "-n/--namespace", app.flags.namespace is not None),
                              ("all_namespaces", "-A/--all-namespaces", app.flags.all_namespaces)):
        if given and name not in used:
            raise InputError(f"{flag} does not apply to `{ctx.command_path}`",
                             hint=f"leave it out (see `{ctx.command_path} --help`)")


# -- --dry-run=MODE --------------------------------------------------------------------------------

def _make_parser(self, ctx):
    from typer._click.parser import _OptionParser

    class Parser(_OptionParser):
        def _match_long_opt(self, opt, explicit_value, state):
            if explicit_value is not None and opt == "--dry-run" and opt in self._long_opt:
                from sgpctl.cli.options import DRY_RUN_MODE

                self.ctx.meta[DRY_RUN_MODE] = explicit_value
                explicit_value = None
            return super()._match_long_opt(opt, explicit_value, state)

    parser = type(self).make_parser(self, ctx)
    parser.__class__ = Parser
    return parser
