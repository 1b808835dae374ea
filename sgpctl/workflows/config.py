"""`config view`: each resolved setting and where it came from (``settings.resolve_settings``, the one
resolver every command uses: what is shown here is what they use), with the kubeconfig's API server.
Secrets are masked by the settings."""

from __future__ import annotations

from sgpctl.core.steps import CHANGED, PLANNED, Outcome, Step
from sgpctl.settings import USER_SETTINGS, Settings


def config_view(settings: Settings) -> list[dict]:
    """Rows of ``{"name", "value", "source"}``."""
    from sgpctl.kube.kubeconfig import current_context_info

    rows = settings.describe()  # the context and cluster id as every command resolves them
    info = current_context_info(settings.kubeconfig.value, settings.context.value)
    rows.append({"name": "kubeServer", "value": info.server, "source": f"kubeconfig cluster {info.cluster}" if info.cluster else "not set"})
    if info.error:
        rows.append({"name": "kubeconfigError", "value": info.error, "source": info.path})
    return rows


def set_user_setting(settings: Settings, name: str, value: str | None, *, dry_run: bool = False) -> Outcome:
    """`config set NAME VALUE` / `config unset NAME` (``value`` None): sgpctl's own settings file."""
    from sgpctl.errors import InputError
    from sgpctl.settings import read_user_config, user_config_path, write_user_setting

    if name not in USER_SETTINGS:
        raise InputError(f"unknown setting {name!r}", hint=f"settings: {', '.join(USER_SETTINGS)}")
    key, variable = USER_SETTINGS[name]
    path = user_config_path(settings.environ, settings.home)
    current = read_user_config(path).get(key)
    verb = f"set {name} to {value}" if value is not None else f"unset {name}"
    out = Outcome(f"config {'set' if value is not None else 'unset'} {name}", dry_run=dry_run)
    out.extra["file"] = str(path)
    step = out.add(Step(name, f"{name} is {value}" if value is not None else f"{name} is not set"))
    if current == value:
        step.message = f"{name} is already {value if value is not None else 'not set'} in {path}"
    elif dry_run:
        step.status, step.message = PLANNED, f"would {verb} in {path}"
    else:
        write_user_setting(settings.environ, settings.home, name, value)
        step.status, step.message = CHANGED, f"{verb} in {path}"
    if settings.environ.get(variable):
        step.message += f" (note: {variable} is set and takes precedence)"
    return out
