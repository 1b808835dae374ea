"""Changing an add-on's values so that it ends right whatever UpdateAddon's ``merge`` does, or says
exactly what differs and how to undo it.

How deep ``UpdateStrategy: merge`` goes is not published (nested keys merged, or each top-level key
sent replaced: sandbox variant ``addon-merge``). Every write of eniipamd's values (`enable-trunking`,
`routing set`, `setup`, `addon restore`) goes through :func:`write_values`:

1. Read the add-on's phase. One already rolling out (``Installing``, ``Upgrading``) is waited on,
   never updated again; a failed one is refused.
2. Read DescribeAddonValues (``Values``, already rendered over the chart's ``DefaultValues``). If
   every wanted leaf already holds its value, nothing is sent.
3. Save the values to a backup file (``sgpctl.backups``), whose path the result names. No backup, no write.
4. Send one UpdateAddon with ``merge`` whose patch holds each top-level key it touches *whole*, with
   the change applied (``core.addon_values.subtree_patch``): the result is the same under both
   readings.
5. An answer that does not say whether the update ran (``OutcomeUnknownError``: a lost reply, a 5xx)
   is never followed by another UpdateAddon before the phase and values are read again: rolling out,
   or the change already there, means it ran (wait for it); only a Succeeded add-on without the change
   is sent the update again (at most ``SEND_ATTEMPTS`` times in all).
6. Wait until the add-on is Succeeded, read the values back and compare *every* leaf with what was
   intended (the old values with only the wanted leaves changed). Any other difference fails the
   step (exit 1) with the differences and ``sgpctl addon restore NAME --from BACKUP``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sgpctl.backups import AddonBackup, BackupStore
from sgpctl.core.addon_values import ABSENT, dotted, leaf_diff, replaced_top_level, subtree_patch, values_get
from sgpctl.core.steps import CHANGED, FAILED, REFUSED, UNCHANGED, UNDETERMINED
from sgpctl.errors import RefusedError
from sgpctl.workflows.addons import FAILED_PHASES, SUCCEEDED, addon_state, values_of, wait_for_addon
from sgpctl.workflows.clients import TkeApi
from sgpctl.workflows.waiting import Waiter

#: UpdateAddons sent at most for one write when their answers are lost and the re-read shows the
#: update did not run
SEND_ATTEMPTS = 3
ROLLING = ("Installing", "Upgrading")
#: differences named in a message (JSON carries them all)
SHOWN = 5


def restore_command(name: str, backup: Path | str) -> str:
    return f"sgpctl addon restore {name} --from {backup}"


def shown(value: Any) -> str:
    return "(absent)" if value is ABSENT else json.dumps(value, sort_keys=True)


def describe_differences(diff) -> list[str]:
    return [f"{dotted(path)}: expected {shown(want)}, reads {shown(have)}" for path, want, have in diff]


@dataclass
class Written:
    """What :func:`write_values` did. ``status`` is a ``core.steps`` status."""

    status: str
    message: str
    hint: str | None = None
    backup: Path | None = None
    patch: dict = field(default_factory=dict)
    #: (dotted key, before, after) of the wanted changes
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    #: what read back differently from what was intended, one line each
    differences: list[str] = field(default_factory=list)
    #: the values read back (effective), when they were
    after: dict | None = None

    def details(self) -> dict:
        out: dict = {"patch": self.patch}
        if self.backup is not None:
            out["backup"] = str(self.backup)
        if self.differences:
            out["differences"] = self.differences
        return out


def _settled(tke: TkeApi, cluster_id: str, name: str, waiter: Waiter):
    """The add-on's state once no operation runs on it (waiting for one that does)."""
    state = addon_state(tke, cluster_id, name)
    if not state.installed:
        raise RefusedError(f"add-on {name} is not installed: there are no values to change",
                           hint="enable VPC-CNI on the cluster (it installs eniipamd)" if name == "eniipamd" else
                           f"install add-on {name} first")
    if state.phase in FAILED_PHASES:
        raise RefusedError(f"add-on {name} is {state.phase}: {state.reason or 'no reason given'}",
                           hint=f"fix the add-on first (TKE console > Add-on management > {name})")
    if state.phase != SUCCEEDED:
        state = wait_for_addon(tke, cluster_id, name, waiter,
                               what=f"add-on {name} to finish its {state.phase or 'operation'} before changing it")
    return state


def write_values(tke: TkeApi, cluster_id: str, name: str,
                 plan: Callable[[dict], Mapping[str, Any]] | Mapping[str, Any], *,
                 backups: BackupStore, waiter: Waiter, wait: bool = True, reason: str = "",
                 patch_for: Callable[[dict, Mapping[str, Any]], dict] | None = None) -> Written:
    """Set the dotted keys ``plan`` gives (a mapping, or a function of the current effective values
    returning one) on add-on ``name``. ``patch_for(effective, wanted)`` builds the patch of whole
    top-level subtrees (default: ``subtree_patch``); what should read back is ``replaced_top_level``
    of it. Raises RefusedError (nothing changed) when the add-on is missing or failed."""
    state = _settled(tke, cluster_id, name, waiter)
    current = values_of(tke, cluster_id, state)
    effective = current.effective
    wanted = dict(plan(effective) if callable(plan) else plan)
    needed = {k: v for k, v in wanted.items() if not _same(values_get(effective, k, ABSENT), v)}
    patch = (patch_for or subtree_patch)(effective, needed)
    expected = replaced_top_level(effective, patch)
    changes = [(dotted(p), old, new) for p, old, new in leaf_diff(effective, expected)]
    if not changes:
        return Written(UNCHANGED, f"{', '.join(wanted) or 'the values'} already as wanted: nothing to change")
    path = backups.save(AddonBackup(cluster_id, name, current.values, current.defaults, state.version, state.phase,
                                    reason))
    out = Written(CHANGED, "", backup=path, patch=patch, changes=changes)
    sent = _send(tke, cluster_id, name, patch, expected, out)
    if sent is not None:
        return sent
    what = ", ".join(f"{k}: {shown(old)} -> {shown(new)}" for k, old, new in changes[:SHOWN])
    what += f" and {len(changes) - SHOWN} more" if len(changes) > SHOWN else ""
    if not wait:
        out.message = f"sent {what} (not waited for: --no-wait; not read back); backup {path}"
        return out
    try:
        wait_for_addon(tke, cluster_id, name, waiter, what=f"add-on {name} to roll out the new values")
    except RefusedError as e:
        out.status, out.message = FAILED, f"{e.message}; the values may be partly applied (backup {path})"
        out.hint = f"see the add-on in the TKE console; to put the old values back: {restore_command(name, path)}"
        return out
    after = values_of(tke, cluster_id, state).effective
    out.after = after
    diff = leaf_diff(expected, after)
    if diff:
        out.differences = describe_differences(diff)
        more = f" and {len(diff) - SHOWN} more" if len(diff) > SHOWN else ""
        out.status = FAILED
        out.message = (f"add-on {name}'s values read back differently from what was intended at {len(diff)} "
                       f"leaf{'' if len(diff) == 1 else 's'}: {'; '.join(out.differences[:SHOWN])}{more}")
        out.hint = f"to put back the values from before the update: {restore_command(name, path)}"
        return out
    out.message = f"set {what} (add-on {name} {SUCCEEDED}; every other value reads back unchanged; backup {path})"
    return out


def _same(have: Any, want: Any) -> bool:
    return have is not ABSENT and type(have) is type(want) and have == want


def _send(tke: TkeApi, cluster_id: str, name: str, patch: dict, expected: dict, out: Written) -> Written | None:
    """Send the update; None when it ran (or runs), else the result to report."""
    from sgpctl.cloud.errors import OutcomeUnknownError

    last: OutcomeUnknownError | None = None
    for _ in range(SEND_ATTEMPTS):
        try:
            tke.update_addon(cluster_id, name, values=patch, strategy="merge")
            return None
        except OutcomeUnknownError as e:
            last = e
        # The answer was lost: read before deciding anything.
        state = addon_state(tke, cluster_id, name)
        if state.phase in ROLLING:
            return None  # it ran, and rolls out: wait for it, never send it again
        if state.phase in FAILED_PHASES:
            return None  # it ran and failed: the wait reports the reason
        now = values_of(tke, cluster_id, state).effective
        if not leaf_diff(expected, now):
            return None  # it ran and has rolled out already
    assert last is not None
    out.status = UNDETERMINED
    out.message = (f"UpdateAddon {name} got no usable answer {SEND_ATTEMPTS} times ({last.code}"
                   f"{', request id ' + last.request_id if last.request_id else ''}); each time the add-on read back "
                   f"{SUCCEEDED} with its old values, so it may or may not be applied later (backup {out.backup})")
    out.hint = "run the command again: it reads the current values first"
    return out


def refused(message: str, hint: str | None = None) -> Written:
    return Written(REFUSED, message, hint)


# --- `sgpctl addon restore` -------------------------------------------------------------------------

def restore_patch(current: dict, wanted: dict) -> dict:
    """Each top-level key whose subtree differs from the backup's, sent whole as the backup holds it.
    A top-level key the backup lacks is not sent: no merge update removes a key."""
    return {k: v for k, v in wanted.items() if k not in current or leaf_diff({k: current[k]}, {k: v})}


def restore_values(tke: TkeApi, cluster_id: str, name: str, backup, source: str, *, backups: BackupStore | None,
                   waiter: Waiter, dry_run=False, wait: bool = True):
    """Put add-on ``name``'s values back to those of ``backup`` (a ``backups.AddonBackup`` read from
    ``source``): the plan, or (not dry run) the write through :func:`write_values` - a backup of the
    values it replaces first, and every leaf read back. ``--dry-run=server`` (``DryRun.SERVER``) also
    sends the planned UpdateAddon with ``DryRun``."""
    from sgpctl.core.addon_values import values_merge
    from sgpctl.core.steps import PLANNED, DryRun, Outcome, Step
    from sgpctl.errors import InputError

    if backup.cluster_id != cluster_id:
        raise InputError(f"{source} holds the values of cluster {backup.cluster_id}, not of {cluster_id}",
                         hint=f"pass --cluster-id {backup.cluster_id} to restore that cluster, or give this cluster's backup")
    if backup.addon != name:
        raise InputError(f"{source} holds add-on {backup.addon}'s values, not {name}'s",
                         hint=f"run `sgpctl addon restore {backup.addon} --from {source}`")
    out = Outcome(f"addon restore {name}", dry_run=dry_run)
    out.extra["backup"] = source
    step = out.add(Step("addon-values-restored", f"add-on {name}'s values are those of {source}"))
    wanted = values_merge(backup.defaults, backup.values)
    if dry_run:
        state = _settled_or_none(tke, cluster_id, name)
        current = values_of(tke, cluster_id, state).effective
        patch = restore_patch(current, wanted)
        diff = leaf_diff(current, replaced_top_level(current, patch))
        kept = sorted(k for k in current if k not in wanted)
        step.details = {"patch": patch, "changes": describe_differences(diff), "keptTopLevelKeys": kept}
        if not diff:
            step.message = f"add-on {name}'s values already are those of the backup: nothing to change"
        else:
            step.status = PLANNED
            step.message = (f"would set {len(diff)} value{'s' if len(diff) != 1 else ''} back "
                            f"({', '.join(dotted(p) for p, _, _ in diff[:SHOWN])}{' ...' if len(diff) > SHOWN else ''}) "
                            f"with one merge update of {', '.join(sorted(patch))} (backup of the current values first)")
            if out.mode is DryRun.SERVER:
                tke.update_addon(cluster_id, name, values=patch, strategy="merge", dry_run=True)
                step.message += " (TKE accepted the UpdateAddon in a dry run)"
        if kept:
            step.message += f"; {', '.join(kept)} {'is' if len(kept) == 1 else 'are'} not in the backup and stay (no merge update removes a key)"
        return out
    if backups is None:
        raise ValueError("restore_values needs a BackupStore")
    written = write_values(tke, cluster_id, name, {}, backups=backups, waiter=waiter, wait=wait,
                           reason=f"before restoring {source}", patch_for=lambda current, _: restore_patch(current, wanted))
    step.status, step.message, step.hint = written.status, written.message, written.hint
    if written.status == UNCHANGED:
        step.message = f"add-on {name}'s values already are those of the backup: nothing to change"
    step.details = written.details()
    return out


def _settled_or_none(tke: TkeApi, cluster_id: str, name: str):
    state = addon_state(tke, cluster_id, name)
    if not state.installed:
        raise RefusedError(f"add-on {name} is not installed: there are no values to restore",
                           hint=f"install add-on {name} first")
    return state


def dry_run_values(tke: TkeApi, cluster_id: str, name: str, plan: Callable[[dict], Mapping[str, Any]] | Mapping[str, Any], *,
                   patch_for: Callable[[dict, Mapping[str, Any]], dict] | None = None) -> dict | None:
    """``--dry-run=server``: the UpdateAddon ``write_values`` would send, sent with ``DryRun`` (TKE
    checks it and changes nothing; no backup is written). Returns the patch, None when nothing would
    change."""
    current = values_of(tke, cluster_id, addon_state(tke, cluster_id, name))
    effective = current.effective
    wanted = dict(plan(effective) if callable(plan) else plan)
    needed = {k: v for k, v in wanted.items() if not _same(values_get(effective, k, ABSENT), v)}
    if not needed:
        return None
    patch = (patch_for or subtree_patch)(effective, needed)
    tke.update_addon(cluster_id, name, values=patch, strategy="merge", dry_run=True)
    return patch
