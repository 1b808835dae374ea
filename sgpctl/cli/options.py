"""Options shared by many commands, declared once."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.render.output import OutputFormat

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
check_policy_name = _checked(_policy_name)
check_pod_name = _checked(_pod_name)
check_plain_name = _checked(_plain)
check_cam_policy_name = _checked(_cam_policy_name)

Output = Annotated[OutputFormat, typer.Option("-o", "--output", help="Output format.", case_sensitive=False)]
Namespace = Annotated[Optional[str], typer.Option("-n", "--namespace", help="Namespace.", callback=check_namespace)]
AllNamespaces = Annotated[bool, typer.Option("-A", "--all-namespaces", help="All namespaces.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required when not on a TTY).")]
Selector = Annotated[Optional[str], typer.Option("-l", "--selector", help="Label selector, as kubectl -l (e.g. app=web,tier!=db).")]
FailOn = Annotated[str, typer.Option("--fail-on", metavar="warning", help="`warning` makes warnings fail too (exit 1).")]
Wait = Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the change has taken effect.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait.", min=1)]
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


def namespace_scope(app, namespace: str | None, all_namespaces: bool, *, all_by_default: bool = False) -> str | None:
    """kubectl's -n/-A: one namespace, or None for all of them. Without either, the context's
    namespace (or, with ``all_by_default``, all of them)."""
    from sgpctl.errors import InputError

    if namespace and all_namespaces:
        raise InputError("-n/--namespace and -A/--all-namespaces are mutually exclusive", hint="pass one of them")
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
