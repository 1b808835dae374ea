"""Resolve the settings sgpctl runs with, the way tccli and kubectl do, and remember each one's source.

Order for Tencent Cloud settings (as tccli): command-line flags, then environment variables, then the
tccli profile files ``~/.tccli/<profile>.credential`` / ``.configure``, then the SDK's default chain
(``~/.tencentcloud/credentials``, TKE OIDC). tccli lets the environment override the profile files only
when ``--profile`` was *not* given explicitly; sgpctl does the same so a user who names a profile gets it.

Secrets are never accepted as flags. The CVM metadata service (part of the SDK's chain) is only used
when a tccli profile says ``"type": "cvm-role"``: reaching for it implicitly would make every run on a
laptop wait for a network timeout.

Profile files are read lazily, only for what flags and the environment leave missing, so a broken
``~/.tccli/default.configure`` does not fail a command whose settings all come from the environment;
when one is read, every problem with it is an InputError (exit 2) naming the file. The region,
cluster id and profile name are checked by their formats (``sgpctl.core.names``) whatever their source.

sgpctl's own settings (today one: the SecurityGroupPolicy add-on's API name, which no public source
names) resolve like the others: the command's flag, then the environment (``SGPCTL_SGP_ADDON_NAME``),
then sgpctl's settings file ``$XDG_CONFIG_HOME/sgpctl/config.json`` (default
``~/.config/sgpctl/config.json``, written by `sgpctl config set`). The file is read only when the
setting is needed, so a broken one fails only the commands that need it.

Nothing here imports an SDK: resolving settings is part of start-up.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from sgpctl.core import names
from sgpctl.core.redact import mask, redact_url_credentials
from sgpctl.errors import InputError, UndeterminedError
from sgpctl.inputs import checked

CLUSTER_ID_RE = re.compile(r"\bcls-[a-z0-9]{8}\b")

#: sgpctl's own persistent settings: name on the command line (`config set NAME`) -> key in the file,
#: environment variable
USER_SETTINGS = {"sgp-addon-name": ("sgpAddonName", "SGPCTL_SGP_ADDON_NAME")}


@dataclass(frozen=True)
class RootFlags:
    """What the user typed at the root of the command line (None = not given)."""

    profile: str | None = None
    region: str | None = None
    cluster_id: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    endpoint: str | None = None
    debug: bool = False
    no_color: bool = False
    #: kubectl's -n/-A given before the command (commands that take them use them)
    namespace: str | None = None
    all_namespaces: bool = False


@dataclass(frozen=True)
class Credentials:
    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    source: str = ""
    #: "cvm-role" or "oidc" when the SDK must fetch temporary keys itself
    kind: str = "static"
    role_name: str | None = None

    def masked(self) -> dict:
        return {
            "secretId": mask(self.secret_id, keep=4),
            "secretKey": mask(self.secret_key, keep=0),
            "token": "set" if self.token else "not set",
        }


@dataclass(frozen=True)
class Setting:
    value: str | None
    source: str


@dataclass
class Settings:
    """Resolved settings. Credentials resolve lazily: most offline commands never need them."""

    profile: Setting
    region: Setting
    cluster_id: Setting
    endpoint: Setting
    kubeconfig: Setting
    context: Setting
    #: checks the user confirmed by hand (doctor's --ack): SGPCTL_ACK, comma-separated ids
    ack: Setting = field(default_factory=lambda: Setting(None, "not set"))
    debug: bool = False
    no_color: bool = False
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    home: Path = field(default_factory=Path.home, repr=False)
    _credentials: Credentials | None = field(default=None, repr=False)
    _profile_explicit: bool = False

    # -- credentials -----------------------------------------------------------------------------
    def credentials(self) -> Credentials:
        if self._credentials is None:
            creds = resolve_credentials(self.profile.value or "default", self._profile_explicit, self.environ, self.home)
            if creds is None:
                raise UndeterminedError(
                    "no Tencent Cloud credentials found",
                    hint="set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or run `tccli configure` "
                    f"(profile {self.profile.value or 'default'})",
                )
            self._credentials = creds
        return self._credentials

    def try_credentials(self) -> Credentials | None:
        try:
            return self.credentials()
        except UndeterminedError:
            return None

    def require_cluster_id(self) -> str:
        if not self.cluster_id.value:
            raise InputError(
                "no cluster id", hint="pass --cluster-id cls-xxxxxxxx or set SGPCTL_CLUSTER_ID (or use a kube context "
                                      "named after the cluster, as TKE's are: cls-xxxxxxxx-context-default)"
            )
        return self.cluster_id.value

    def acknowledged(self) -> list[str]:
        """The check ids of SGPCTL_ACK."""
        return [i.strip() for i in (self.ack.value or "").split(",") if i.strip()]

    def require_region(self) -> str:
        if not self.region.value:
            raise InputError("no region", hint="pass --region (e.g. ap-guangzhou) or set TENCENTCLOUD_REGION")
        return self.region.value

    def user_setting(self, name: str) -> Setting:
        """One of sgpctl's own settings (``USER_SETTINGS``): the environment, then the settings file."""
        key, variable = USER_SETTINGS[name]
        value = self.environ.get(variable)
        if value:
            return Setting(checked(names.plain_text, value, variable), f"env {variable}")
        path = user_config_path(self.environ, self.home)
        stored = read_user_config(path).get(key)
        if stored is None:
            return Setting(None, "not set")
        if not isinstance(stored, str) or not stored:
            raise InputError(f"cannot read {path}: {key} must be a non-empty string",
                             hint=f"fix the file, or run `sgpctl config unset {name}`")
        return Setting(checked(names.plain_text, stored, f"{key} in {path}"), f"file {path}")

    def sgp_addon_name(self) -> Setting:
        return self.user_setting("sgp-addon-name")

    def describe(self) -> list[dict]:
        """Each setting with its source, secrets masked (for `sgpctl config view`)."""
        rows = [
            {"name": "profile", "value": self.profile.value, "source": self.profile.source},
            {"name": "region", "value": self.region.value, "source": self.region.source},
            {"name": "clusterId", "value": self.cluster_id.value, "source": self.cluster_id.source},
            {"name": "endpoint", "value": redact_url_credentials(self.endpoint.value) if self.endpoint.value else None,
             "source": self.endpoint.source},
            {"name": "kubeconfig", "value": self.kubeconfig.value, "source": self.kubeconfig.source},
            {"name": "context", "value": self.context.value, "source": self.context.source},
            {"name": "ack", "value": self.ack.value, "source": self.ack.source},
        ]
        for name, (key, _) in USER_SETTINGS.items():
            setting = self.user_setting(name)
            rows.append({"name": key, "value": setting.value, "source": setting.source})
        creds = self.try_credentials()
        if creds is None:
            rows.append({"name": "credentials", "value": None, "source": "not found"})
        else:
            masked = creds.masked()
            if creds.kind != "static":
                masked = {"secretId": "(temporary)", "secretKey": "(temporary)", "token": "(temporary)"}
            for key in ("secretId", "secretKey", "token"):
                rows.append({"name": key, "value": masked[key], "source": creds.source})
        return rows


def _first(*candidates: tuple[str | None, str]) -> Setting:
    for value, source in candidates:
        if value:
            return Setting(value, source)
    return Setting(None, "not set")


def _field(what: str, source: str) -> str:
    """How a setting is named in a message: the flag or variable it came from."""
    for prefix in ("flag ", "env "):
        if source.startswith(prefix):
            return source[len(prefix):]
    return f"{what} from {source}"


def _read_json(path: Path, what: str = "tccli profile",
               hint: str = "fix or remove the file (it is a tccli profile)") -> dict | None:
    """A settings file (a tccli profile by default): None when it does not exist; a JSON object, or
    InputError naming the file."""
    from sgpctl.core.loading import CONFIG_LIMITS, LoadError, load_json
    from sgpctl.inputs import read_text

    if not path.exists() and not path.is_symlink():
        return None
    text = read_text(str(path), max_bytes=CONFIG_LIMITS.max_bytes, what=what, hint=hint)
    try:
        data = load_json(text, str(path), CONFIG_LIMITS)
    except LoadError as e:
        raise InputError(f"cannot read {e.message}", hint=hint) from None
    if not isinstance(data, dict):
        raise InputError(f"cannot read {path}: expected a JSON object, found {type(data).__name__}", hint=hint)
    return data


def _profile_string(data: dict, key: str, path: Path) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value or None
    raise InputError(f"cannot read {path}: {key} must be a string, found {type(value).__name__}",
                     hint="fix or remove the file (it is a tccli profile)")


def resolve_settings(flags: RootFlags, environ: Mapping[str, str] | None = None, home: Path | None = None, *,
                     context_info: Callable[[str | None, str | None], Any] | None = None) -> Settings:
    """Every setting and its source, the one answer every command and `config view` use.
    ``context_info(kubeconfig, context)`` (``kube.kubeconfig.current_context_info``, handed in by the
    composition root) reads the kubeconfig: the context is its current one unless --context says
    otherwise, and the cluster id, unless given, is the one a TKE kube context is named after
    ("inferred from kube context cls-...-context-default")."""
    env = dict(os.environ if environ is None else environ)
    home = home or Path(env.get("HOME") or Path.home())
    profile_explicit = bool(flags.profile)
    profile = _first((flags.profile, "flag --profile"), (env.get("TCCLI_PROFILE"), "env TCCLI_PROFILE"), ("default", "default"))
    checked(names.profile_name, profile.value, _field("profile", profile.source))
    region_from_env = (env.get("TENCENTCLOUD_REGION"), "env TENCENTCLOUD_REGION")
    if flags.region or (region_from_env[0] and not profile_explicit):
        # Given on the command line or, without an explicit --profile, in the environment: the
        # profile would not be used, so it is not read (a broken one must not fail the command).
        region = _first((flags.region, "flag --region"), region_from_env)
    else:
        region = _first(_profile_region(profile.value, home), region_from_env)
    if region.value:
        checked(names.region, region.value, _field("region", region.source))
    endpoint = _first((flags.endpoint, "flag --endpoint"), (env.get("SGPCTL_ENDPOINT"), "env SGPCTL_ENDPOINT"))
    kubeconfig = _first(
        (flags.kubeconfig, "flag --kubeconfig"),
        (env.get("KUBECONFIG"), "env KUBECONFIG"),
        (str(home / ".kube" / "config"), "default"),
    )
    context = _first((flags.context, "flag --context"))
    cluster_id = _first((flags.cluster_id, "flag --cluster-id"), (env.get("SGPCTL_CLUSTER_ID"), "env SGPCTL_CLUSTER_ID"))
    if cluster_id.value:
        checked(names.cluster_id, cluster_id.value, _field("cluster id", cluster_id.source))
    if context_info is not None:
        info = context_info(kubeconfig.value, context.value)
        if info.context and not context.value:
            context = Setting(info.context, f"kubeconfig current-context ({info.path})")
        inferred = infer_cluster_id(info.context, info.cluster)
        if inferred and not cluster_id.value:
            cluster_id = Setting(inferred, f"inferred from kube context {info.context}")
    ack = _first((env.get("SGPCTL_ACK"), "env SGPCTL_ACK"))
    return Settings(
        ack=ack,
        profile=profile,
        region=region,
        cluster_id=cluster_id,
        endpoint=endpoint,
        kubeconfig=kubeconfig,
        context=context,
        debug=flags.debug,
        no_color=flags.no_color or "NO_COLOR" in env,
        environ=env,
        home=home,
        _profile_explicit=profile_explicit,
    )


def _profile_region(profile: str, home: Path) -> tuple[str | None, str]:
    path = home / ".tccli" / f"{profile}.configure"
    configure = _read_json(path) or {}
    sys_param = configure.get("_sys_param")
    if sys_param is not None and not isinstance(sys_param, dict):
        raise InputError(f"cannot read {path}: _sys_param must be an object, found {type(sys_param).__name__}",
                         hint="fix or remove the file (it is a tccli profile)")
    return _profile_string(sys_param or {}, "region", path), f"profile {profile} (~/.tccli/{profile}.configure)"


def resolve_credentials(profile: str, profile_explicit: bool, env: Mapping[str, str], home: Path) -> Credentials | None:
    # Each source is read only when the ones before it gave nothing.
    sources = ((lambda: _profile_credentials(profile, home), lambda: _env_credentials(env)) if profile_explicit
               else (lambda: _env_credentials(env), lambda: _profile_credentials(profile, home)))
    for source in sources:
        creds = source()
        if creds is not None:
            return creds
    return _sdk_chain_credentials(env, home)


def _env_credentials(env: Mapping[str, str]) -> Credentials | None:
    sid, key = env.get("TENCENTCLOUD_SECRET_ID"), env.get("TENCENTCLOUD_SECRET_KEY")
    if not (sid and key):
        return None
    # The SDK's EnvironmentVariableCredential ignores the token; tccli reads TENCENTCLOUD_TOKEN.
    token = env.get("TENCENTCLOUD_SESSION_TOKEN") or env.get("TENCENTCLOUD_TOKEN")
    return Credentials(sid, key, token or None, source="env TENCENTCLOUD_SECRET_ID/_KEY")


def _profile_credentials(profile: str, home: Path) -> Credentials | None:
    path = home / ".tccli" / f"{profile}.credential"
    data = _read_json(path)
    if not data:
        return None
    src = f"profile {profile} (~/.tccli/{profile}.credential)"
    if data.get("type") == "cvm-role":
        return Credentials("", "", None, source=src, kind="cvm-role", role_name=_profile_string(data, "role_name", path))
    sid, key = _profile_string(data, "secretId", path), _profile_string(data, "secretKey", path)
    if sid and key:
        return Credentials(sid, key, _profile_string(data, "token", path), source=src)
    return None


def _sdk_chain_credentials(env: Mapping[str, str], home: Path) -> Credentials | None:
    # ~/.tencentcloud/credentials (INI, section [default]), as the SDK's ProfileCredential reads it.
    path = Path(env.get("TENCENTCLOUD_CREDENTIALS_FILE") or home / ".tencentcloud" / "credentials")
    if path.is_file():
        import configparser

        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as e:
            raise InputError(f"cannot parse {path}: {e}", hint="fix the INI file or remove it") from e
        if parser.has_section("default"):
            sid = parser.get("default", "secret_id", fallback=None)
            key = parser.get("default", "secret_key", fallback=None)
            if sid and key:
                return Credentials(sid, key, None, source=f"SDK default chain ({path})")
    if env.get("TKE_WEB_IDENTITY_TOKEN_FILE") and env.get("TKE_ROLE_ARN"):
        return Credentials("", "", None, source="SDK default chain (TKE OIDC)", kind="oidc")
    return None


def user_config_path(environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_CONFIG_HOME/sgpctl/config.json``; ``~/.config`` when XDG_CONFIG_HOME is unset or
    relative (the XDG Base Directory specification)."""
    base = environ.get("XDG_CONFIG_HOME") or ""
    return (Path(base) if os.path.isabs(base) else home / ".config") / "sgpctl" / "config.json"


def read_user_config(path: Path) -> dict:
    """sgpctl's settings file: {} when it does not exist; InputError naming it when it is broken."""
    return _read_json(path, "sgpctl settings file",
                      "fix the file, or remove it (it holds only what `sgpctl config set` wrote)") or {}


def write_user_setting(environ: Mapping[str, str], home: Path, name: str, value: str | None) -> Path:
    """Set (or, with None, remove) one of sgpctl's own settings in its settings file; the path."""
    import json

    key, _ = USER_SETTINGS[name]
    path = user_config_path(environ, home)
    data = read_user_config(path)
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}", hint="check the directory's permissions") from None
    return path


def infer_cluster_id(*names: str | None) -> str | None:
    """TKE kubeconfigs name contexts and clusters after the cluster id (cls-xxxxxxxx)."""
    for name in names:
        if name:
            m = CLUSTER_ID_RE.search(name)
            if m:
                return m.group(0)
    return None


@dataclass(frozen=True)
class RetrySettings:
    """How hard both API clients retry (for test beds and slow links), from the environment:
    ``SGPCTL_RETRY_MAX_ATTEMPTS`` (default 10), ``SGPCTL_RETRY_BASE_DELAY`` (seconds, 0.2),
    ``SGPCTL_RETRY_MAX_DELAY`` (5), ``SGPCTL_RETRY_DEADLINE`` (60) and ``SGPCTL_API_TIMEOUT`` (per
    request, 30). One set of knobs for the cloud and the Kubernetes adapters."""

    max_attempts: int = 10
    base_delay: float = 0.2
    max_delay: float = 5.0
    deadline: float = 60.0
    api_timeout: int = 30


def retry_settings(env: Mapping[str, str]) -> RetrySettings:
    def number(name: str, default: float, cast=float):
        raw = env.get(name)
        if raw in (None, ""):
            return default
        try:
            value = cast(raw)
        except ValueError:
            raise InputError(f"{name}={raw!r} is not a number", hint=f"unset {name} or give it a number") from None
        if value < 0:
            raise InputError(f"{name}={raw!r} must not be negative", hint=f"unset {name} or give it a positive number")
        return value

    return RetrySettings(
        max_attempts=max(1, number("SGPCTL_RETRY_MAX_ATTEMPTS", 10, int)),
        base_delay=number("SGPCTL_RETRY_BASE_DELAY", 0.2),
        max_delay=number("SGPCTL_RETRY_MAX_DELAY", 5.0),
        deadline=number("SGPCTL_RETRY_DEADLINE", 60.0),
        api_timeout=max(1, number("SGPCTL_API_TIMEOUT", 30, int)),
    )
