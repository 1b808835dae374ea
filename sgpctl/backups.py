"""Backups of an add-on's values, written before sgpctl changes them, read by `sgpctl addon restore`.

Every write of add-on values (`enable-trunking`, `routing set`, `setup`, `addon restore` itself)
first saves what DescribeAddonValues answered to one JSON file under the user's state directory::

    $XDG_STATE_HOME/sgpctl/backups/<cluster-id>/<addon>-<UTC time>.json
    (XDG_STATE_HOME defaults to ~/.local/state, as the XDG Base Directory specification says)

The file holds the cluster id, the add-on's name, version and phase, why it was taken, and the
values as the API returned them (``Values``, already rendered over the chart's defaults, and
``DefaultValues``). It holds nothing of sgpctl's own credentials; the directory is made private
(0700) and the file 0600, as the values are the cluster's configuration.

Reading a backup goes through ``inputs.read_text`` and ``core.loading.load_json`` (bounded); a file
that is not a backup of this kind is an InputError (exit 2) naming it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from sgpctl.errors import InputError, SgpctlError

KIND = "sgpctl-addon-values-backup"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class AddonBackup:
    cluster_id: str
    addon: str
    values: dict
    defaults: dict = field(default_factory=dict)
    version: str | None = None
    phase: str | None = None
    reason: str = ""
    taken_at: str = ""

    def to_dict(self) -> dict:
        return {"kind": KIND, "formatVersion": FORMAT_VERSION, "clusterId": self.cluster_id, "addonName": self.addon,
                "addonVersion": self.version, "phase": self.phase, "reason": self.reason, "takenAt": self.taken_at,
                "values": self.values, "defaultValues": self.defaults}

    @classmethod
    def from_dict(cls, data: Any, source: str) -> AddonBackup:
        hint = "give a file that sgpctl wrote under ~/.local/state/sgpctl/backups (its path is printed when it is made)"
        if not isinstance(data, Mapping) or data.get("kind") != KIND:
            raise InputError(f"{source} is not an sgpctl add-on values backup", hint=hint)
        if data.get("formatVersion") != FORMAT_VERSION:
            raise InputError(f"{source} is a backup of format {data.get('formatVersion')!r}; this sgpctl reads format "
                             f"{FORMAT_VERSION}", hint="restore it with the sgpctl version that wrote it")
        for key, kind in (("clusterId", str), ("addonName", str), ("values", dict)):
            if not isinstance(data.get(key), kind):
                raise InputError(f"{source}: {key} is missing or not a {'string' if kind is str else 'JSON object'}",
                                 hint=hint)
        defaults = data.get("defaultValues")
        return cls(cluster_id=data["clusterId"], addon=data["addonName"], values=dict(data["values"]),
                   defaults=dict(defaults) if isinstance(defaults, dict) else {},
                   version=data.get("addonVersion") if isinstance(data.get("addonVersion"), str) else None,
                   phase=data.get("phase") if isinstance(data.get("phase"), str) else None,
                   reason=str(data.get("reason") or ""), taken_at=str(data.get("takenAt") or ""))


def state_home(environ: Mapping[str, str], home: Path) -> Path:
    """``$XDG_STATE_HOME``, or ``~/.local/state`` when it is unset, empty or relative (the XDG
    specification says to ignore a relative path)."""
    value = environ.get("XDG_STATE_HOME") or ""
    return Path(value) if value and os.path.isabs(value) else home / ".local" / "state"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class BackupStore:
    """Where backups go. ``save`` returns the path written; a failure to write is an error (exit 1)
    before anything is changed: no write of values happens without its backup."""

    def __init__(self, directory: Path, now: Callable[[], datetime] = _utc_now):
        self.directory = Path(directory)
        self.now = now

    @classmethod
    def for_user(cls, environ: Mapping[str, str], home: Path) -> BackupStore:
        return cls(state_home(environ, home) / "sgpctl" / "backups")

    def save(self, backup: AddonBackup) -> Path:
        moment = self.now()
        backup = AddonBackup(**{**backup.__dict__, "taken_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ")})
        folder = self.directory / backup.cluster_id
        stem = f"{backup.addon}-{moment.strftime('%Y%m%dT%H%M%SZ')}"
        text = json.dumps(backup.to_dict(), indent=2, sort_keys=True) + "\n"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            for n in range(1000):
                path = folder / (f"{stem}.json" if n == 0 else f"{stem}-{n}.json")
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    continue
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(text)
                return path
        except OSError as e:
            raise SgpctlError(f"cannot write the backup of add-on {backup.addon}'s values under {folder}: "
                              f"{e.strerror or e}; nothing was changed",
                              hint="make the directory writable, or set XDG_STATE_HOME to a writable directory") from None
        raise SgpctlError(f"too many backups named {stem} in {folder}; nothing was changed",
                          hint="move old backups away")


def load_backup(path: str, stdin=None) -> AddonBackup:
    """The backup in ``path`` (``-``: stdin), or InputError naming the file."""
    from sgpctl.core.loading import CONFIG_LIMITS, LoadError, load_json
    from sgpctl.inputs import read_text

    text = read_text(path, max_bytes=CONFIG_LIMITS.max_bytes, what="backup file", stdin=stdin)
    source = "<stdin>" if path == "-" else path
    try:
        data = load_json(text, source, CONFIG_LIMITS)
    except LoadError as e:
        raise InputError(f"cannot read {e.message}", hint="give a backup file sgpctl wrote (JSON)") from None
    return AddonBackup.from_dict(data, source)
