"""TKE add-ons: eniipamd (Trunking ENI switch, routing mode) and the SecurityGroupPolicy add-on.

The SecurityGroupPolicy add-on's API name is not documented (the console shows "SecurityGroupPolicy").
It is the command's ``--name``/``--addon-name``, else the ``sgp-addon-name`` setting
(``SGPCTL_SGP_ADDON_NAME`` or `sgpctl config set sgp-addon-name`), else discovered: the cluster's
installed add-ons, then the chart list (GetTkeAppChartList), matching "securitygroup"
case-insensitively on the name and label (``core.api_facts.sgp_addon_name``). When nothing (or more
than one) matches there is no guess, for install or for status: the command stops, names the charts it
saw and the flag and setting that settle it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from sgpctl.core.addon_values import mode_of, values_get, values_merge
from sgpctl.core.api_facts import Fact, looks_like_sgp, sgp_addon_name
from sgpctl.core.steps import CHANGED, FORCED, PLANNED, REFUSED, SKIPPED, UNCHANGED, UNDETERMINED, DryRun, Outcome, Step
from sgpctl.errors import RefusedError, UndeterminedError
from sgpctl.workflows.clients import KubeReader, TkeApi
from sgpctl.workflows.waiting import Waiter

ENIIPAMD = "eniipamd"
SUCCEEDED = "Succeeded"
FAILED_PHASES = ("InstallFailed", "UpgradFailed", "UpgradeFailed", "Failed")


@dataclass
class AddonState:
    name: str
    installed: bool
    version: str | None = None
    phase: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "installed": self.installed, "version": self.version, "phase": self.phase, "reason": self.reason}


def addon_state(tke: TkeApi, cluster_id: str, name: str) -> AddonState:
    a = tke.get_addon(cluster_id, name)
    if a is None:
        return AddonState(name, False)
    return AddonState(name, True, a.version, a.phase, a.reason)


@dataclass
class EniipamdValues:
    """An add-on's (mostly eniipamd's) state and values: DescribeAddonValues' ``Values``, the chart's
    ``DefaultValues``, and the effective values."""

    state: AddonState
    #: DescribeAddonValues ``Values``: already rendered (the values set over the chart's defaults)
    values: dict = field(default_factory=dict)
    #: the chart's defaults (``DefaultValues``)
    defaults: dict = field(default_factory=dict)

    @property
    def effective(self) -> dict:
        # Values is already rendered: merging the defaults under it changes nothing then, and keeps
        # the answer right should an API answer only the values set.
        return values_merge(self.defaults, self.values)

    @property
    def mode(self) -> str:
        return mode_of(self.effective)

    def routing_values(self) -> dict[str, Any]:
        from sgpctl.core.addon_values import DEMUX_KEYS, ENFORCING_MODE

        eff = self.effective
        return {key: values_get(eff, key) for key in (ENFORCING_MODE, *DEMUX_KEYS)}


def values_of(tke: TkeApi, cluster_id: str, state: AddonState) -> EniipamdValues:
    """An installed add-on's values (DescribeAddonValues), with the state already read."""
    v = tke.describe_addon_values(cluster_id, state.name)
    return EniipamdValues(state, dict(v.values or {}), dict(v.defaults or {}))


def read_eniipamd(tke: TkeApi, cluster_id: str, addons: Sequence | None = None) -> EniipamdValues:
    """eniipamd's state and values; ``addons`` (DescribeAddon without a name) saves a call."""
    if addons is None:
        found = tke.get_addon(cluster_id, ENIIPAMD)
    else:
        found = next((a for a in addons if a.name == ENIIPAMD), None)
    if found is None:
        return EniipamdValues(AddonState(ENIIPAMD, False))
    return values_of(tke, cluster_id, AddonState(ENIIPAMD, True, found.version, found.phase, found.reason))


def sgp_addon(tke: TkeApi, cluster_id: str, *, name: str | None = None, setting=None,
              addons: Sequence | None = None) -> Fact:
    """How the SecurityGroupPolicy add-on's API name is established: ``name`` (the command's flag),
    else ``setting`` (a ``settings.Setting``), else discovery. ``addons`` (DescribeAddon without a
    name), when already read, saves the call; the chart list is read only when the installed
    add-ons do not decide."""
    if name:
        return sgp_addon_name((), None, (name, "the command line"))
    if setting is not None and setting.value:
        return sgp_addon_name((), None, (setting.value, setting.source))
    installed = [a.name for a in (addons if addons is not None else tke.describe_addons(cluster_id))]
    decided = sgp_addon_name(installed, None)
    if decided.established:
        return decided
    charts: dict[str, str | None] = {}
    for kind in ("network", None):
        for chart in tke.get_app_chart_list(kind=kind):
            charts.setdefault(chart.name, chart.label)
        if any(looks_like_sgp(n, label) for n, label in charts.items()):
            break
    return sgp_addon_name(installed, list(charts.items()))


def sgp_addon_name_or_stop(fact: Fact) -> str:
    """The name, or UndeterminedError (exit 3) with the fact's one line and what settles it."""
    if not fact.established:
        raise UndeterminedError(fact.message, hint=fact.hint)
    return fact.value


def wait_for_addon(tke: TkeApi, cluster_id: str, name: str, waiter: Waiter, *, what: str | None = None) -> AddonState:
    """Wait until the add-on is Succeeded. A failed phase stops the wait with its reason (exit 1)."""

    def probe():
        state = addon_state(tke, cluster_id, name)
        if state.phase in FAILED_PHASES:
            raise RefusedError(f"add-on {name} is {state.phase}: {state.reason or 'no reason given'}",
                               hint="see the add-on's events in the TKE console; `sgpctl addon status` shows its phase")
        return state.installed and state.phase == SUCCEEDED, state

    done, state = waiter.until(probe, what or f"add-on {name} to be {SUCCEEDED}")
    if not done:
        raise RefusedError(f"timed out waiting for add-on {name} (phase {state.phase or 'absent'})",
                           hint="rerun with a longer --timeout, or check the add-on in the TKE console")
    return state


def sgp_crd_served(kube: KubeReader) -> bool:
    from sgpctl.kube import resources as r

    return kube.serves(r.SGP_GROUP, r.SGP_KIND)


def addon_install(tke: TkeApi, kube: KubeReader, cluster_id: str, *, name: str | None = None, setting=None,
                  version: str | None = None, wait: bool = True, waiter: Waiter | None = None,
                  dry_run: bool | DryRun = False, force: bool = False, trunking_planned: bool = False) -> Outcome:
    """Install the SecurityGroupPolicy add-on (no-op when installed), refusing while trunking is off
    (``force`` goes past that: the step is ``forced``; ``trunking_planned``: an earlier step of the same
    dry run switches it on). Its name: ``name``, else ``setting``, else discovered; unknown stops before
    anything changes. ``--dry-run=server`` sends InstallAddon with ``DryRun`` (TKE checks it and
    installs nothing). A real run with nothing to install still checks that the CRD is served."""
    from sgpctl.core.checks import CheckResult
    from sgpctl.core.preconditions import trunking_enabled

    waiter = waiter or Waiter()
    mode = DryRun.of(dry_run)
    out = Outcome("addon install", dry_run=mode)
    found = sgp_addon(tke, cluster_id, name=name, setting=setting)
    named = out.add(Step("addon-name", "the SecurityGroupPolicy add-on's API name is known", UNCHANGED, found.message))
    if not found.established:
        named.status, named.hint = UNDETERMINED, found.hint
        return out
    name = found.value
    out.extra["addonName"] = name
    check = trunking_enabled(read_eniipamd(tke, cluster_id).effective,
                             "run `sgpctl enable-trunking` first, or pass --force",
                             tke.describe_ipamd(cluster_id).trunking_enabled)
    trunk = out.add(Step.from_check(CheckResult("trunking-enabled", "Trunking ENI is enabled (eniipamd enableSubEni)",
                                                check.status, check.message, check.hint)))
    if check.undetermined:
        trunk.status = UNDETERMINED
    if trunk.status in (REFUSED, UNDETERMINED):
        if trunking_planned and mode:
            trunk.status, trunk.hint = UNCHANGED, None
            trunk.message += " yet: the trunking step above switches it on first"
        elif not force:
            return out
        else:
            trunk.status = FORCED
            trunk.message += " (--force: installing anyway)"

    step = out.add(Step("addon-installed", f"add-on {name} is installed and {SUCCEEDED}"))
    state = addon_state(tke, cluster_id, name)
    if state.installed and state.phase in FAILED_PHASES:
        step.status, step.message = REFUSED, f"add-on {name} is {state.phase}: {state.reason or 'no reason given'}"
        step.hint = "fix the cause, then delete and reinstall the add-on in the TKE console"
        return out
    if state.installed:
        step.message = f"add-on {name} {state.version or ''} is installed ({state.phase})".replace("  ", " ")
        if state.phase != SUCCEEDED and wait and not dry_run:
            state = wait_for_addon(tke, cluster_id, name, waiter)
            step.message = f"add-on {name} {state.version or ''} is {SUCCEEDED}".replace("  ", " ")
    elif mode:
        step.status, step.message = PLANNED, f"would install add-on {name}" + (f" {version}" if version else "")
        if mode is DryRun.SERVER:
            tke.install_addon(cluster_id, name, version=version, dry_run=True)
            step.message += " (TKE accepted InstallAddon in a dry run)"
    else:
        from sgpctl.workflows.safely import ensure

        ensure(lambda: tke.install_addon(cluster_id, name, version=version), lambda: addon_state(tke, cluster_id, name).installed)
        step.status, step.message = CHANGED, f"installed add-on {name}" + (f" {version}" if version else "")
        if wait:
            state = wait_for_addon(tke, cluster_id, name, waiter)
            step.message += f" ({SUCCEEDED})"

    crd = out.add(Step("sgp-crd-served", "the cluster serves SecurityGroupPolicy"))
    if step.status == PLANNED:
        crd.status, crd.message = SKIPPED, "not checked: the add-on is not installed yet"
        return out
    if step.status == CHANGED and not wait:
        crd.status, crd.message = SKIPPED, "not checked (--no-wait)"
        return out
    if mode or not wait:
        # Installed already: one read says whether it is served (nothing to wait for).
        done = sgp_crd_served(kube)
    else:
        done, _ = waiter.until(lambda: (sgp_crd_served(kube), None), "the SecurityGroupPolicy CRD to be served")
    if not done:
        crd.status, crd.message = REFUSED, "the add-on is Succeeded but the cluster does not serve SecurityGroupPolicy"
        crd.hint = "check `kubectl get crd | grep securitygrouppolic` and the add-on's Pods in kube-system"
    else:
        crd.message = "SecurityGroupPolicy is served"
    return out


def addons_status(tke: TkeApi, kube: KubeReader | None, cluster_id: str, *, name: str | None = None, setting=None) -> dict:
    """eniipamd's and the SecurityGroupPolicy add-on's states; UndeterminedError when the latter's name
    cannot be established (no guess)."""
    found = sgp_addon(tke, cluster_id, name=name, setting=setting)
    sgp_name = sgp_addon_name_or_stop(found)
    eni = addon_state(tke, cluster_id, ENIIPAMD)
    sgp = addon_state(tke, cluster_id, sgp_name)
    served = sgp_crd_served(kube) if kube is not None else None
    ok = eni.installed and eni.phase == SUCCEEDED and sgp.installed and sgp.phase == SUCCEEDED and served is not False
    addons = [{**a.to_dict(), "next": next_step(a)} for a in (eni, sgp)]
    return {"ok": ok, "addons": addons, "securityGroupPolicyServed": served,
            "addonName": {"name": sgp_name, "from": found.reading}}


def next_step(state: AddonState) -> str | None:
    """What to do about an add-on that is not installed and Succeeded (None when it is)."""
    if not state.installed:
        return ("enable VPC-CNI on the cluster (TKE console; it installs eniipamd)" if state.name == ENIIPAMD
                else "sgpctl addon install")
    if state.phase in FAILED_PHASES:
        return "see the add-on's events in the TKE console, then reinstall it there"
    if state.phase != SUCCEEDED:
        return "sgpctl addon status -w (follows it until Succeeded)"
    return None
