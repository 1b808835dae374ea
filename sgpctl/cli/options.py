"""Options shared by many commands, declared once: a command that takes ``-o`` gets every output form
and ``--no-headers``, one that takes ``--dry-run`` gets ``--dry-run=client|server``, ``--timeout``
reads durations, ``-n``/``-A`` also come from the root of the line (``sgpctl -n NS verify pods``).
What every command gets without declaring anything is in ``cli/conventions.py``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.render.output import FORMS, OutputFormat

def _checked(rule):
    """A Click callback that checks a name with ``sgpctl.core.names`` before the command runs, naming
    the option or argument as the user typed it; the error is exit 2 (cli/errors.py)."""

    def callback(ctx: typer.Context, param: typer.CallbackParam, value):
        if value is None or ctx.resilient_parsing:  # shell completion parses without validating
            return value
        field = "/".join(param.opts) if param.param_type_name == "option" else (param.metavar or param.name or "NAME").upper()
        if isinstance(value, (list, tuple)):
            return [rule(v, field) for v in value]
        return rule(value, field)

    return callback


def _names():
    from sgpctl.core import names

    return names


def _namespace(value, field):
    # kubectl reads an empty -n as "not given" (the context's namespace); so does sgpctl.
    return _names().namespace(value, field) if value != "" else None


def _policy_name(value, field):
    # SecurityGroupPolicy is a custom resource: its names are DNS-1123 subdomains.
    return _names().dns1123_subdomain(value, field)


def _pod_name(value, field):
    return _names().object_name("", "Pod", value, field)


def _plain(value, field):
    return _names().plain_text(value, field)


def _cam_policy_name(value, field):
    return _names().cam_policy_name(value, field)


check_namespace = _checked(_namespace)
namespace_value = _namespace
check_policy_name = _checked(_policy_name)
check_pod_name = _checked(_pod_name)
check_plain_name = _checked(_plain)
check_cam_policy_name = _checked(_cam_policy_name)

def _root_flags(ctx):
    from sgpctl.cli.context import App

    root = ctx.find_root().obj
    return root.flags if isinstance(root, App) else None


def _use_root(ctx, name: str) -> None:
    # The root's -n/-A reached a command that takes it (conventions.check_root_scope asks).
    ctx.meta.setdefault(ROOT_SCOPE_USED, set()).add(name)


ROOT_SCOPE_USED = "sgpctl.root-scope-used"


def _namespace_option(ctx: typer.Context, param: typer.CallbackParam, value):
    value = check_namespace(ctx, param, value)
    flags = _root_flags(ctx)
    if flags is not None and flags.namespace is not None:
        _use_root(ctx, "namespace")
        if value is None:
            return flags.namespace
    return value


def _all_namespaces_option(ctx: typer.Context, param: typer.CallbackParam, value):
    flags = _root_flags(ctx)
    if flags is not None and flags.all_namespaces:
        _use_root(ctx, "all_namespaces")
        return True
    return value


class BadOption(typer.BadParameter):
    """A bad option value as a usage error: our message as it is (no "Invalid value for ..." prefix),
    and the usage hint (see `CMD --help`)."""

    def format_message(self) -> str:
        return self.message


def bad_option(e) -> BadOption:
    """An InputError raised while reading an option, as a usage error."""
    return BadOption(f"{e.message}: {e.hint}" if e.hint else e.message)


DRY_RUN_MODE = "sgpctl.dry-run-mode"


def dry_run_mode(ctx, value):
    """--dry-run (client) or --dry-run=client|server|none (the parser of ``conventions`` keeps the word);
    ``conventions`` makes this the callback of every --dry-run."""
    from sgpctl.core.steps import DryRun
    from sgpctl.errors import InputError

    if ctx.resilient_parsing:
        return value
    word = ctx.meta.pop(DRY_RUN_MODE, None)
    if word is None:
        return DryRun.CLIENT if value else DryRun.NONE
    try:
        return DryRun(word.lower())
    except ValueError:
        raise bad_option(InputError(f"--dry-run={word} is not a dry-run mode",
                                    hint="use --dry-run (plan from reads), --dry-run=server (also let the APIs check "
                                         "each change) or --dry-run=none")) from None


def _duration_option(ctx: typer.Context, param: typer.CallbackParam, value):
    from sgpctl.core.durations import DurationError, parse_duration
    from sgpctl.errors import InputError

    if value is None or ctx.resilient_parsing:
        return value
    try:
        return parse_duration(value, field="/".join(param.opts), minimum=1)
    except DurationError as e:
        raise bad_option(InputError(e.message, hint=e.hint)) from None


# -o is parsed into an OutputSpec, and --dry-run into a DryRun mode, by the callbacks cli/conventions.py
# gives every command's -o and --dry-run.
Output = Annotated[str, typer.Option("-o", "--output", metavar="FORMAT", help=f"Output format: {FORMS}.")]
Namespace = Annotated[Optional[str], typer.Option("-n", "--namespace", metavar="NAMESPACE", help="Namespace.",
                                                  callback=_namespace_option)]
AllNamespaces = Annotated[bool, typer.Option("-A", "--all-namespaces", help="All namespaces.", callback=_all_namespaces_option)]
DryRun = Annotated[bool, typer.Option("--dry-run",
                                      help="Print the plan; change nothing. --dry-run=server also sends each change "
                                           "the API can dry-run, so the server validates it.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required when not on a TTY).")]
Selector = Annotated[Optional[str], typer.Option("-l", "--selector", metavar="SELECTOR",
                                                 help="Label selector, as kubectl -l (e.g. app=web,tier!=db).")]
FailOn = Annotated[str, typer.Option("--fail-on", metavar="warning", help="`warning` makes warnings fail too (exit 1).")]
Wait = Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the change has taken effect.")]
def timeout_option(help_text: str):
    """A --timeout that reads durations (300, 300s, 5m, 1h30m), with its own help."""
    return Annotated[str, typer.Option("--timeout", metavar="DURATION", callback=_duration_option, help=help_text)]


Timeout = timeout_option("How long to wait: 300, 300s, 5m, 1h30m.")
Files = Annotated[list[str], typer.Option("-f", "--filename", metavar="FILE",
                                          help="Policy file (multi-document YAML or JSON), a directory of them "
                                               "(*.yaml, *.yml, *.json) or - for stdin; repeatable.")]
OptionalFiles = Annotated[Optional[list[str]], typer.Option("-f", "--filename", metavar="FILE",
                                                            help="Policy file, a directory of them or - for stdin; "
                                                                 "repeatable.")]
Recursive = Annotated[bool, typer.Option("-R", "--recursive", help="Also read the subdirectories of a -f directory.")]
Watch = Annotated[bool, typer.Option("-w", "--watch", help="Keep watching: a live summary on a terminal, one line per "
                                                           "change otherwise; Ctrl-C stops.")]
Confirm = Annotated[Optional[list[str]], typer.Option(
    "--confirm", metavar="CHECK",
    help="A precondition sgpctl could not establish from the API, checked by you (its id, as the refusal "
         "names it, e.g. network-shared-eni; repeatable).")]


def fail_on_warning(value: str | None) -> bool:
    """--fail-on: "error" (the default) or "warning"."""
    from sgpctl.errors import InputError

    if value in (None, "error", "errors"):
        return False
    if value in ("warning", "warnings"):
        return True
    raise InputError(f"--fail-on {value!r} is not supported", hint="use --fail-on warning (or error, the default)")


def check_namespace_flags(namespace: str | None, all_namespaces: bool) -> None:
    """-n and -A together are bad input."""
    from sgpctl.errors import InputError

    if namespace and all_namespaces:
        raise InputError("-n/--namespace and -A/--all-namespaces are mutually exclusive", hint="pass one of them")


def namespace_scope(app, namespace: str | None, all_namespaces: bool, *, all_by_default: bool = False) -> str | None:
    """kubectl's -n/-A: one namespace, or None for all of them. Without either, the context's
    namespace (or, with ``all_by_default``, all of them)."""
    check_namespace_flags(namespace, all_namespaces)
    if all_namespaces or (all_by_default and not namespace):
        return None
    return namespace or app.context_namespace()


def label_selector(value: str | None) -> str | None:
    """-l, checked with kubectl's grammar before anything is read."""
    if not value:
        return value
    from sgpctl.core.selectors import SelectorError, parse
    from sgpctl.errors import InputError

    try:
        parse(value)
    except SelectorError as e:
        raise InputError(f"-l {value!r}: {e}", hint="use kubectl's selector syntax, e.g. -l app=web,tier!=db") from None
    return value
