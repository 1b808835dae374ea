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

# Signal handlers before anything heavy is imported: Ctrl-C during start-up must not print a traceback.
from sgpctl import interrupts

if interrupts.launched_as_cli():
    interrupts.install()

import sys  # noqa: E402
from typing import Annotated, Optional  # noqa: E402

import typer  # noqa: E402
from typer.core import TyperGroup  # noqa: E402

from sgpctl.errors import ExitCode  # noqa: E402

HELP = """Administer TKE SecurityGroupPolicy: per-Pod security groups over Trunking ENI sub-interfaces.

Wraps every step of the TKE procedure in an idempotent command, verifies the result end to end
(policy -> Pod annotation -> VpcENI -> the cloud ENI's security groups) and predicts what a change
will do before it is made.

Global options may also follow the subcommand, as in kubectl: sgpctl verify pods -A --context prod.

Examples:

\b
  sgpctl demo                         # the whole procedure on an embedded sandbox
  sgpctl policy validate -f policy.yaml
  sgpctl verify pods -A -o json
  source <(sgpctl completion bash)    # completion that knows the cluster
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
            from sgpctl.cli.conventions import finish_command

            command = load(cmd_name)
            if command is None:
                return None
            # What every command gets without declaring it: global options after the subcommand too,
            # --no-headers, --dry-run=MODE, readable metavars (cli/conventions.py).
            self.commands[cmd_name] = finish_command(command, self.params)
        return self.commands[cmd_name]

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        from sgpctl.cli.commands import BY_NAME

        entry = BY_NAME.get(name or "")
        _ending.setdefault("command", name or "")  # the process's own command, not one `demo` runs inside it
        if entry is not None and entry.runs_briefly:
            import gc

            # A command holds a whole cluster's objects while it allocates millions more (decoded
            # lists, results); the cyclic collector would walk all of them again and again for garbage
            # that reference counting frees anyway: a quarter of `verify pods -A` on 10,000 Pods.
            # Paused until invoke() returns; not for the commands that serve for hours (Entry.runs_briefly).
            if gc.isenabled():
                gc.disable()
                ctx.meta[_GC_PAUSED] = True
            # Answers arrive on reader threads (ENI lookups and listings 4 at a time, doctor's reads
            # ahead) while the main thread checks what has arrived: with the interpreter's default 5 ms
            # a reader waits that long for the GIL before it can send its next request, and the
            # requests in flight drain. 1 ms keeps them in flight (on 10,000 Pods doctor 0.15-0.25 s sooner,
            # verify ~0.1 s); a single-threaded command never asks to switch.
            ctx.meta[_SWITCH_INTERVAL] = sys.getswitchinterval()
            sys.setswitchinterval(READER_SWITCH_INTERVAL)
        return name, command, rest

    def format_commands(self, ctx, formatter):
        # The summaries are static: listing commands must not import them all.
        from sgpctl.cli.commands import COMMANDS

        with formatter.section("Commands"):
            formatter.write_dl([(e.name, e.summary) for e in COMMANDS])

    def invoke(self, ctx):
        try:
            code = super().invoke(ctx)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            interrupts.report(_terminal(ctx.find_root().obj).env.stderr)
            raise typer.Exit(interrupts.exit_code())
        except Exception as exc:  # noqa: BLE001 - this is the one place that maps them
            if _is_click_exception(exc):
                raise
            raise typer.Exit(_report(exc, ctx))
        finally:
            obj = ctx.find_root().obj
            if getattr(obj, "_out", None) is not None:
                obj.out.quiet()  # a progress line never outlives the command
            switch = ctx.meta.pop(_SWITCH_INTERVAL, None)
            if switch is not None:
                sys.setswitchinterval(switch)
            if ctx.meta.pop(_GC_PAUSED, False):
                import gc

                # Everything allocated while paused sits in the youngest generation: the first
                # collection after enable() would walk all that is still alive (0.5 s after `doctor`
                # on 10,000 Pods, as the process ends). Frozen, it is left to reference counting;
                # run() unfreezes it for in-process callers that go on.
                gc.freeze()
                gc.enable()
        if code:
            raise typer.Exit(int(code))
        return code

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Click's standalone mode, except that a usage error is one `error:` line and one hint line
        (not Click's four-line block), errors in root options map like any other, and an interrupted
        prompt exits 130/143 instead of Click's "Aborted!"."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        out = _terminal(extra.get("obj"))
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            rv = _aborted(out)
        except typer.TyperException as exc:  # Click's ClickException and UsageError
            rv = _usage_error(exc, out)
        except KeyboardInterrupt:
            interrupts.report()
            rv = interrupts.exit_code()
        except Exception as exc:  # noqa: BLE001 - raised while parsing, e.g. by a root option's callback
            rv = _report(exc, None)
        sys.exit(rv if isinstance(rv, int) else 0)


def _terminal(obj):
    """The output facade of a command, or (before the root callback made one) of the process."""
    from sgpctl.cli.context import App
    from sgpctl.environment import Environment
    from sgpctl.render.terminal import Terminal

    if isinstance(obj, App):
        return obj.out
    return Terminal(obj if isinstance(obj, Environment) else Environment.from_process())


def _report(exc: BaseException, ctx) -> int:
    from sgpctl.cli import errors as cli_errors

    obj = ctx.find_root().obj if ctx is not None else None
    out = _terminal(obj)
    debug = bool(obj is not None and getattr(obj, "debug", False))
    mapped = cli_errors.translate(exc)
    if mapped is None:
        return cli_errors.report_unexpected(exc, debug, out)
    return cli_errors.report(mapped, debug, exc, out)


def _usage_error(exc, out) -> int:
    if type(exc).__name__ == "NoArgsIsHelpError":  # `sgpctl policy` alone: the help, as Click shows it
        exc.show(file=out.env.stdout if exc.exit_code == 0 else out.env.stderr)
        return exc.exit_code
    from sgpctl.cli.errors import clean

    ctx = getattr(exc, "ctx", None)
    out.error(clean(exc.format_message()), f"see `{ctx.command_path} --help`" if ctx is not None else None)
    return exc.exit_code


def _aborted(out) -> int:
    out.env.stderr.write("\n")  # the prompt left the cursor at the end of its line
    if interrupts.signalled():  # Ctrl-C at a prompt: Click turned it into Abort
        interrupts.report(out.env.stderr)
        return interrupts.exit_code()
    out.note("error: aborted at the prompt (no answer); nothing was confirmed")
    return int(ExitCode.FAILED)


_GC_PAUSED = "sgpctl.gc-paused"
_SWITCH_INTERVAL = "sgpctl.switch-interval"
#: seconds a thread holds the GIL before a waiting reader thread gets it (Python's default: 0.005)
READER_SWITCH_INTERVAL = 0.001
#: the command the console script runs ("command"): how it ends depends on it (``Entry.quick_exit``)
_ending: dict[str, str] = {}


def _is_click_exception(exc: BaseException) -> bool:
    # Typer vendors its own Click; recognise its exceptions without importing click.
    return any(c.__name__ in ("ClickException", "Abort", "Exit") for c in type(exc).__mro__)


app = typer.Typer(
    cls=SgpctlGroup,
    help=HELP,
    no_args_is_help=True,
    add_completion=False,  # `sgpctl completion bash|zsh|fish` (cli/completion.py)
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _version(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
    """--version: the version line (as `sgpctl version`), then exit 0."""
    if not value or ctx.resilient_parsing:
        return
    from sgpctl import __version__
    from sgpctl.environment import Environment
    from sgpctl.render.terminal import Terminal

    env = ctx.obj if isinstance(ctx.obj, Environment) else Environment.from_process()
    import platform

    Terminal(env).line(f"sgpctl {__version__} (Python {platform.python_version()}, {platform.platform(terse=True)})")
    raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[Optional[str], typer.Option(metavar="PROFILE", help="tccli profile (~/.tccli/<profile>.*).", envvar="TCCLI_PROFILE", show_envvar=True)] = None,
    region: Annotated[Optional[str], typer.Option(metavar="REGION", help="Tencent Cloud region, e.g. ap-guangzhou.", envvar="TENCENTCLOUD_REGION", show_envvar=True)] = None,
    cluster_id: Annotated[Optional[str], typer.Option("--cluster-id", metavar="ID", help="TKE cluster id (cls-xxxxxxxx); default: the one in the kube context's name.", envvar="SGPCTL_CLUSTER_ID", show_envvar=True)] = None,
    kubeconfig: Annotated[Optional[str], typer.Option(metavar="FILE", help="Path to the kubeconfig file.", envvar="KUBECONFIG", show_envvar=True)] = None,
    context: Annotated[Optional[str], typer.Option("--context", metavar="CONTEXT", help="kubeconfig context to use.")] = None,
    endpoint: Annotated[Optional[str], typer.Option(metavar="URL", help="URL that replaces every Tencent Cloud API endpoint, e.g. http://127.0.0.1:8443.", envvar="SGPCTL_ENDPOINT", show_envvar=True)] = None,
    namespace: Annotated[Optional[str], typer.Option("-n", "--namespace", metavar="NAMESPACE", help="Namespace, for the commands that take one.")] = None,
    all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces", help="All namespaces, for the commands that take -A.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Log API calls (never secrets) and show tracebacks.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Disable colour (NO_COLOR is honoured too).")] = False,
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.", is_eager=True, callback=_version, expose_value=False)] = False,
) -> None:
    """The global options may also follow the subcommand (`sgpctl verify pods -A --context prod`)."""
    from sgpctl.cli.context import App
    from sgpctl.environment import Environment
    from sgpctl.settings import RootFlags

    # Typer resolves envvars itself; resolve_settings re-reads the environment to record each
    # value's true source, so pass only what came from the command line.
    source = ctx.get_parameter_source
    def given(name, value):
        return value if source(name) is not None and source(name).name == "COMMANDLINE" else None

    if namespace is not None:
        from sgpctl.cli.options import namespace_value

        namespace = namespace_value(namespace, "-n/--namespace")
    flags = RootFlags(
        profile=given("profile", profile),
        region=given("region", region),
        cluster_id=given("cluster_id", cluster_id),
        kubeconfig=given("kubeconfig", kubeconfig),
        context=context,
        endpoint=given("endpoint", endpoint),
        debug=debug,
        no_color=no_color,
        namespace=namespace,
        all_namespaces=all_namespaces,
    )
    # main() runs on the real process; run() and the tests hand in their own Environment.
    env = ctx.obj if isinstance(ctx.obj, Environment) else Environment.from_process()
    ctx.obj = App(flags, env)
    if debug:
        ctx.obj.set_flag("debug", True)


def run(argv: list[str], env, prog_name: str = "sgpctl") -> int:
    """Run one command line in ``env`` (an ``Environment``) and return its exit code; usage errors
    are written to ``env.stderr`` as the console script writes them."""
    from typer.main import get_command

    import gc

    out = _terminal(env)
    try:
        code = get_command(app).main(args=list(argv), prog_name=prog_name, obj=env, standalone_mode=False)
    except typer.Exit as e:
        return int(e.exit_code or 0)
    except typer.Abort:
        return _aborted(out)
    except typer.TyperException as e:  # a usage error: bad flag or argument
        return _usage_error(e, out)
    finally:
        gc.unfreeze()  # the command's leftovers are collectable again (see SgpctlGroup.invoke)
    return int(code or 0)


def main() -> None:
    """The console script. Signals are handled from the first import (``sgpctl.interrupts``); once
    the command runs, an interrupt unwinds it, prints one line and exits 130 (SIGINT) or 143
    (SIGTERM) without waiting for worker threads."""
    from sgpctl.cli.errors import install_log_redaction

    interrupts.install()
    import os

    if os.environ.get("_SGPCTL_COMPLETE") == "complete":  # the shell asks for completions (cli/completion.py)
        from sgpctl.cli.completion import respond
        from sgpctl.environment import Environment

        respond(Environment.from_process())
        sys.exit(0)
    install_log_redaction()
    _ending.clear()  # the process's command is the one this main() runs
    interrupts.running()
    try:
        app(prog_name=_prog_name())
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        code = int(ExitCode.INTERRUPTED)
    finally:
        interrupts.stopped()
    if interrupts.signalled() and code != 0:
        interrupts.finish()
    from sgpctl.cli.commands import BY_NAME

    entry = BY_NAME.get(_ending.get("command", ""))
    if entry is not None and entry.quick_exit:
        _quick_exit(code)
    # A command that caught the interrupt and returned (Ctrl-C stops `sandbox up`) handled it itself.
    sys.exit(code)


def _quick_exit(code: int) -> None:
    """End a command that only read and reported (``Entry.quick_exit``) without the interpreter's
    teardown: freeing the 10,000 Pods `verify pods -A` read, object by object, took a tenth of a
    second of its time. What a user could notice of the teardown is done first: the output flushed,
    the exit handlers run (logging's included). A thread still running (a cloud lookup a failed
    command left behind) gets the ordinary exit, which waits for it."""
    import atexit
    import os
    import threading

    from sgpctl.environment import flush_process_streams

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return
    try:
        flush_process_streams()
    except (OSError, ValueError):
        return  # the ordinary exit reports a closed pipe its own way
    atexit._run_exitfuncs()
    os._exit(code)


def _prog_name() -> str:
    import os

    base = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "sgpctl"
    # As a kubectl plugin (kubectl-sgp) the user typed `kubectl sgp`.
    if base == "kubectl-sgp":
        return "kubectl sgp"
    return "sgpctl"
