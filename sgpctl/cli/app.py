"""The root of the command line: global options, command groups, and the one place that decides
the exit code.

Only Typer glue lives under ``sgpctl/cli``: each command parses options, calls one workflow, emits
its result through ``app.out`` and *returns* an exit code (``errors.ExitCode``; None is 0). The root
group turns that return value - or any exception, through ``cli/errors.py`` - into the process's exit
status (httpie's ``program() -> ExitStatus``): no command raises ``typer.Exit`` itself. Heavy
libraries (kubernetes, tencentcloud, yaml) are imported inside command bodies so that ``sgpctl --help``
and shell completion stay fast.

``run(argv, env)`` runs a command line in a given ``Environment`` and returns its exit code: what
``sgpctl demo`` and the tests use instead of patching the process.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from sgpctl.errors import ExitCode

HELP = """Administer TKE SecurityGroupPolicy: per-Pod security groups over Trunking ENI sub-interfaces.

Wraps every step of the TKE procedure in an idempotent command, verifies the result end to end
(policy -> Pod annotation -> VpcENI -> the cloud ENI's security groups) and predicts what a change
will do before it is made.

Examples:

  sgpctl demo                                   # the whole procedure on an embedded sandbox

  sgpctl policy validate -f policy.yaml

  sgpctl verify pods -A -o json
"""


class SgpctlGroup(TyperGroup):
    """The root group: commands load on first use (cli/commands.py), and every exception raised
    below the root maps to one message and exit code (cli/errors.py)."""

    def list_commands(self, ctx):
        from sgpctl.cli.commands import COMMANDS

        return [e.name for e in COMMANDS]

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self.commands:
            from sgpctl.cli.commands import load

            command = load(cmd_name)
            if command is None:
                return None
            self.commands[cmd_name] = command
        return self.commands[cmd_name]

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        from sgpctl.cli.commands import BY_NAME

        entry = BY_NAME.get(name or "")
        if entry is not None and entry.pause_gc:
            import gc

            # A command holds a whole cluster's objects while it allocates millions more (decoded
            # lists, results); the cyclic collector would walk all of them again and again for garbage
            # that reference counting frees anyway: a quarter of `verify pods -A` on 10,000 Pods.
            # Paused until invoke() returns; not for the commands that serve for hours (Entry.pause_gc).
            if gc.isenabled():
                gc.disable()
                ctx.meta[_GC_PAUSED] = True
        return name, command, rest

    def format_commands(self, ctx, formatter):
        # The summaries are static: listing commands must not import them all.
        from sgpctl.cli.commands import COMMANDS

        with formatter.section("Commands"):
            formatter.write_dl([(e.name, e.summary) for e in COMMANDS])

    def invoke(self, ctx):
        from sgpctl.cli import errors as cli_errors
        from sgpctl.cli.context import get_app

        try:
            code = super().invoke(ctx)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            get_app(ctx).out.note("interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED))
        except Exception as exc:  # noqa: BLE001 - this is the one place that maps them
            if _is_click_exception(exc):
                raise
            app_ = get_app(ctx)
            mapped = cli_errors.translate(exc)
            if mapped is None:
                raise typer.Exit(cli_errors.report_unexpected(exc, app_.debug, app_.out))
            raise typer.Exit(cli_errors.report(mapped, app_.debug, exc, app_.out))
        finally:
            if ctx.meta.pop(_GC_PAUSED, False):
                import gc

                gc.enable()
        if code:
            raise typer.Exit(int(code))
        return code


_GC_PAUSED = "sgpctl.gc-paused"


def _is_click_exception(exc: BaseException) -> bool:
    # Typer vendors its own Click; recognise its exceptions without importing click.
    return any(c.__name__ in ("ClickException", "Abort", "Exit") for c in type(exc).__mro__)


app = typer.Typer(
    cls=SgpctlGroup,
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[Optional[str], typer.Option(help="tccli profile (~/.tccli/<profile>.*).", envvar="TCCLI_PROFILE", show_envvar=True)] = None,
    region: Annotated[Optional[str], typer.Option(help="Tencent Cloud region, e.g. ap-guangzhou.", envvar="TENCENTCLOUD_REGION", show_envvar=True)] = None,
    cluster_id: Annotated[Optional[str], typer.Option("--cluster-id", help="TKE cluster id (cls-xxxxxxxx).", envvar="SGPCTL_CLUSTER_ID", show_envvar=True)] = None,
    kubeconfig: Annotated[Optional[str], typer.Option(help="Path to the kubeconfig file.", envvar="KUBECONFIG", show_envvar=True)] = None,
    context: Annotated[Optional[str], typer.Option("--context", help="kubeconfig context to use.")] = None,
    endpoint: Annotated[Optional[str], typer.Option(help="URL that replaces every Tencent Cloud API endpoint, e.g. http://127.0.0.1:8443.", envvar="SGPCTL_ENDPOINT", show_envvar=True)] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Log API calls (never secrets) and show tracebacks.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Disable colour (NO_COLOR is honoured too).")] = False,
) -> None:
    from sgpctl.cli.context import App
    from sgpctl.environment import Environment
    from sgpctl.settings import RootFlags

    # Typer resolves envvars itself; resolve_settings re-reads the environment to record each
    # value's true source, so pass only what came from the command line.
    source = ctx.get_parameter_source
    def given(name, value):
        return value if source(name) is not None and source(name).name == "COMMANDLINE" else None

    flags = RootFlags(
        profile=given("profile", profile),
        region=given("region", region),
        cluster_id=given("cluster_id", cluster_id),
        kubeconfig=given("kubeconfig", kubeconfig),
        context=context,
        endpoint=given("endpoint", endpoint),
        debug=debug,
        no_color=no_color,
    )
    # main() runs on the real process; run() and the tests hand in their own Environment.
    env = ctx.obj if isinstance(ctx.obj, Environment) else Environment.from_process()
    if debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="debug: %(name)s: %(message)s", stream=env.stderr, force=True)
        # urllib3 logs request lines; they carry no secrets, but they drown the useful lines.
        logging.getLogger("urllib3").setLevel(logging.WARNING)
    ctx.obj = App(flags, env)


def run(argv: list[str], env, prog_name: str = "sgpctl") -> int:
    """Run one command line in ``env`` (an ``Environment``) and return its exit code; usage errors
    are written to ``env.stderr`` like any other."""
    from typer.main import get_command

    try:
        code = get_command(app).main(args=list(argv), prog_name=prog_name, obj=env, standalone_mode=False)
    except typer.Exit as e:
        return int(e.exit_code or 0)
    except typer.Abort:
        env.stderr.write("Aborted!\n")
        return int(ExitCode.FAILED)
    except Exception as e:
        if not _is_click_exception(e):
            raise
        e.show(file=env.stderr)  # a usage error: bad flag or argument
        return int(e.exit_code)
    return int(code or 0)


def main() -> None:
    import sys

    try:
        app(prog_name=_prog_name())
    except KeyboardInterrupt:
        sys.exit(int(ExitCode.INTERRUPTED))


def _prog_name() -> str:
    import os
    import sys

    base = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "sgpctl"
    # As a kubectl plugin (kubectl-sgp) the user typed `kubectl sgp`.
    if base == "kubectl-sgp":
        return "kubectl sgp"
    return "sgpctl"
