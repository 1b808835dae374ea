"""The commands that make up the CLI, loaded lazily.

Each entry names the module and attribute that implement a top-level command (a Typer app for a
noun with verbs, or a function for a single command) and its one-line summary for `sgpctl --help`.
Nothing is imported until a command is run or completed: `sgpctl verify pods` builds only the
verify group, and `sgpctl --help` builds none (start-up time is also shell-completion latency)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    name: str
    module: str
    attribute: str
    summary: str
    #: for function commands: the attribute holding the full help text
    help_attribute: str | None = "HELP"
    #: a command that ends once its work is done: run with the cyclic garbage collector paused and a short
    #: thread switch interval (see ``cli.app.SgpctlGroup.resolve_command``); not for commands that serve for hours
    runs_briefly: bool = True
    #: reads and reports only (stdout, stderr): the process may end without the interpreter's
    #: teardown, which frees a whole cluster's objects one by one (``cli.app.main``)
    quick_exit: bool = False


# In the order of the TKE procedure, then the tools around it.
COMMANDS: tuple[Entry, ...] = (
    Entry("demo", "sgpctl.cli.demo_cmd", "demo", "The whole TKE procedure on an embedded sandbox.", runs_briefly=False),
    Entry("setup", "sgpctl.cli.setup_cmd", "setup", "CAM, Trunking ENI and the add-on, in order."),
    Entry("cam", "sgpctl.cli.cam_cmd", "app", "The SubENIForIPAMD policy and its two roles."),
    Entry("enable-trunking", "sgpctl.cli.trunking_cmd", "enable_trunking", "Check the preconditions, switch Trunking ENI on.", "ENABLE_HELP"),
    Entry("trunking", "sgpctl.cli.trunking_cmd", "app", "Whether Trunking ENI is on, and why not."),
    Entry("addon", "sgpctl.cli.addon_cmd", "app", "Install the SecurityGroupPolicy add-on; status; restore values."),
    Entry("sg", "sgpctl.cli.sg_cmd", "app", "Security groups for Pods: create, list, delete, rules."),
    Entry("policy", "sgpctl.cli.policy_cmd", "app", "Validate, explain, apply, roll out policies."),
    Entry("verify", "sgpctl.cli.verify_cmd", "app", "Pod -> annotation -> VpcENI -> ENI groups.", quick_exit=True),
    Entry("traffic", "sgpctl.cli.traffic_cmd", "app", "Will a flow pass the Pods' groups? explain, check."),
    Entry("routing", "sgpctl.cli.routing_cmd", "app", "Strict routing: check the limits, switch."),
    Entry("snat", "sgpctl.cli.snat_cmd", "app", "Would strict-mode Pods' egress be SNATed?"),
    Entry("doctor", "sgpctl.cli.doctor_cmd", "doctor", "Check the whole setup, with a hint per problem.",
          quick_exit=True),
    Entry("capacity", "sgpctl.cli.capacity_cmd", "capacity", "Sub-ENI quota and usage; --plan predicts."),
    Entry("eni", "sgpctl.cli.eni_cmd", "app", "Sub-ENIs of the cluster's nodes: leaks."),
    Entry("capture", "sgpctl.cli.capture_cmd", "capture", "Record the cluster and cloud answers, secrets removed, to replay offline."),
    Entry("sandbox", "sgpctl.cli.sandbox_cmd", "app", "An emulated TKE region on 127.0.0.1.", runs_briefly=False),
    Entry("config", "sgpctl.cli.config_cmd", "app", "Resolved settings and their sources."),
    Entry("completion", "sgpctl.cli.completion_cmd", "completion", "Print the shell completion script (bash, zsh, fish)."),
    Entry("version", "sgpctl.cli.version_cmd", "version", "Show the sgpctl version."),
)
BY_NAME = {e.name: e for e in COMMANDS}


def load(name: str):
    """The Click command for ``name`` (built from its Typer app or function), or None."""
    import typer
    from typer.main import get_command, get_group

    entry = BY_NAME.get(name)
    if entry is None:
        return None
    module = importlib.import_module(entry.module)
    obj = getattr(module, entry.attribute)
    if isinstance(obj, typer.Typer):
        # A group even when it has one verb (`config view`); plain help like the root's.
        obj.rich_markup_mode = None
        command = get_group(obj)
    else:
        sub = typer.Typer(rich_markup_mode=None, add_completion=False)
        help_text = getattr(module, entry.help_attribute, None) if entry.help_attribute else None
        sub.command(name, help=help_text)(obj)
        command = get_command(sub)
    command.name = name
    return command
