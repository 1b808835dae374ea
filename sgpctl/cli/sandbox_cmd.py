"""`sgpctl sandbox ...`: run an emulated TKE region on 127.0.0.1 (Tencent Cloud API + Kubernetes API).

Everything heavy (the servers, the SDK models they check requests against) is imported inside the
commands, so `sgpctl --help` stays fast.
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.options import Output
from sgpctl.errors import ExitCode, InputError
from sgpctl.render.output import OutputFormat

HELP = """An emulated TKE region on 127.0.0.1.

Runs an emulated TKE region on 127.0.0.1 (Tencent Cloud API + Kubernetes API).

The sandbox serves a Tencent Cloud API endpoint (CAM, TKE, VPC, CVM; TC3-signed) and a Kubernetes
API endpoint (HTTPS, kubectl-compatible) backed by simulated TKE controllers, so sgpctl, kubectl,
tccli and the official SDKs can be tried without an account. It never touches ~/.kube or ~/.tccli:
its kubeconfig and env file live in its state directory.

Examples:

  sgpctl sandbox up --detach                 # start in the background

  eval "$(sgpctl sandbox env)"               # point sgpctl and kubectl at it

  sgpctl sandbox status

  sgpctl sandbox requests --since 0 -o json  # what the commands called

  sgpctl sandbox down

  sgpctl sandbox up --reset --variant addon-merge=shallow   # another reading of the real API
"""

app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)

StateDirOption = Annotated[Optional[str], typer.Option(
    "--state-dir", help="Directory for the sandbox's state, kubeconfig and env file "
    "[default: $XDG_STATE_HOME/sgpctl/sandbox, i.e. ~/.local/state/sgpctl/sandbox].",
    envvar="SGPCTL_SANDBOX_DIR", show_envvar=True)]


def _state_dir(value: Optional[str]):
    from sgpctl.sandbox.runner import StateDir

    return StateDir.resolve(value)


def _usage(sd, info: dict) -> str:
    where = f" --state-dir {sd.path}" if _needs_flag(sd) else ""
    clusters = info.get("clusters") or []
    if len(clusters) > 1:
        kube = "".join(f"  Kubernetes API     {c['kubeUrl']}  {c['clusterId']} ({c['region']}, context {c['context']})\n"
                       for c in clusters)
        what = f"{len(clusters)} clusters in {', '.join(dict.fromkeys(c['region'] for c in clusters))}"
    else:
        kube = f"  Kubernetes API     {info['kubeUrl']}\n"
        what = f"cluster {info['clusterId']}, region {info['region']}"
    return (
        f"sgpctl sandbox: scenario {info['scenario']!r} is up ({what})\n"
        f"  Tencent Cloud API  {info['cloudUrl']}\n"
        + kube +
        f"  files              {sd.env}, {sd.kubeconfig}\n"
        + (f"  cloud API CA       {info['caFile']} (https on the cloud port too)\n" if info.get("cloudTls") else "")
        + f"Use it from a shell:\n"
        f"  eval \"$(sgpctl sandbox env{where})\"\n"
    )


def _needs_flag(sd) -> bool:
    from sgpctl.sandbox.runner import default_state_dir

    return sd.path != default_state_dir().absolute()


@app.command("up")
def up(
    ctx: typer.Context,
    port: Annotated[Optional[int], typer.Option(
        "--port", help="Tencent Cloud API port; the Kubernetes API listens on PORT+1 (the fleet scenario's "
        "clusters on PORT+1, PORT+2, ...). Default: the ports "
        "the state dir used last, if free, else any free ones.")] = None,
    scenario: Annotated[Optional[str], typer.Option(
        "--scenario", help="What the region holds (see `sgpctl sandbox scenarios`) [default: the state dir's, "
        "else default].")] = None,
    state_dir: StateDirOption = None,
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Run in the background; return once both APIs answer.")] = False,
    faults: Annotated[Optional[str], typer.Option(
        "--faults", help="Inject faults, e.g. 'seed=7; vpc:throttle=0.3; tke.DescribeAddon:5xx=1; latency=2-10ms'.")] = None,
    addon_delay: Annotated[float, typer.Option(
        "--addon-delay", help="Seconds an add-on install/update stays Installing/Upgrading.", min=0.0)] = 0.3,
    reset: Annotated[bool, typer.Option("--reset", help="Discard the saved state and start the scenario afresh.")] = False,
    cloud_tls: Annotated[bool, typer.Option("--cloud-tls", help="Also answer https on the cloud API port (tccli speaks only "
                                                                "https: append the printed CA file to tccli's certifi bundle).")] = False,
    variant: Annotated[Optional[list[str]], typer.Option(
        "--variant", metavar="KEY=VALUE", help="Play another reading of an unconfirmed API fact, e.g. addon-merge=shallow "
        "(repeatable; see `sgpctl sandbox variants`). A saved state keeps the variants it was built with.")] = None,
    from_capture: Annotated[Optional[str], typer.Option(
        "--from-capture", metavar="FILE", help="Build the region from a file of `sgpctl capture` (scenario capture): "
        "its cluster, objects and cloud answers, with the variant readings the answers imply.")] = None,
) -> ExitCode:
    """Start the sandbox: both APIs on 127.0.0.1, DIR/kubeconfig and DIR/env written.

    In the foreground it runs until Ctrl-C (or `sgpctl sandbox down`), then saves its state in the
    state dir, so the next `up` resumes with the same credentials, cluster and objects.

    kubectl authentication needs the `openssl` command: the Kubernetes endpoint is HTTPS with a
    self-signed CA that openssl makes (without it the server falls back to http, and kubectl does
    not send credentials over http).

    With --from-capture FILE the region is the captured cluster and account (`sgpctl capture`): the
    readings of the unconfirmed API facts follow from its answers (printed, and shown by `sandbox
    status`), and the simulated controllers act only on what changes after the start.

    Example: sgpctl sandbox up --detach --scenario strict-hazards --state-dir /tmp/sb

    Example: sgpctl sandbox up --from-capture capture.json --state-dir /tmp/replay --detach
    """
    from sgpctl.sandbox import replay, runner, scenarios, variants
    from sgpctl.sandbox.faults import Faults

    app_ = get_app(ctx)
    out = app_.out
    chosen = variants.parse(variant) if variant else None

    sd = _state_dir(state_dir)
    pid = runner.running_pid(sd)
    if pid is not None and pid != os.getpid():
        raise InputError(f"a sandbox is already running from {sd.path} (pid {pid})",
                         hint=f"stop it with `sgpctl sandbox down{' --state-dir ' + str(sd.path) if _needs_flag(sd) else ''}`")
    capture = None
    if from_capture is not None:
        if scenario not in (None, replay.SCENARIO):
            raise InputError("--from-capture builds the region from the capture: it takes no --scenario",
                             hint="drop --scenario")
        if chosen:
            raise InputError("--from-capture takes no --variant: the captured answers decide the readings",
                             hint="drop --variant (the readings chosen are printed and shown by `sandbox status`)")
        from sgpctl.core.loading import SNAPSHOT_LIMITS
        from sgpctl.inputs import read_text

        capture = replay.load(read_text(from_capture, max_bytes=SNAPSHOT_LIMITS.max_bytes, what="capture file",
                                        hint="give the file `sgpctl capture -o FILE` wrote", stdin=app_.env.stdin),
                              "<stdin>" if from_capture == "-" else from_capture)
        if not reset and runner.load_state(sd) is not None:
            raise InputError(f"{sd.path} holds a sandbox already: a capture builds a new one",
                             hint="add --reset to build it from the capture afresh, or use another --state-dir")
        scenario = replay.SCENARIO
    elif scenario is not None:
        scenarios.get(scenario)
    try:
        Faults.parse(faults or "")
    except ValueError as exc:
        raise InputError(f"bad --faults: {exc}") from None
    if port is not None:
        runner.check_port(port)
        runner.check_port(port + 1)
    if reset:
        runner.reset(sd)
    saved_scenario = ((runner.load_state(sd) or {}).get("sandbox") or {}).get("scenario")
    if scenario is None:
        scenario = saved_scenario or "default"
    elif saved_scenario and saved_scenario != scenario:
        raise InputError(f"{sd.path} holds a sandbox of scenario {saved_scenario!r}, not {scenario!r}",
                         hint="add --reset to start afresh, or use another --state-dir")
    if detach:
        argv = ["--scenario", scenario, "--addon-delay", str(addon_delay)]
        if port is not None:
            argv += ["--port", str(port)]
        if faults:
            argv += ["--faults", faults]
        if cloud_tls:
            argv += ["--cloud-tls"]
        for key, value in (chosen or {}).items():
            argv += ["--variant", f"{key}={value}"]
        if capture is not None:
            if from_capture == "-":
                raise InputError("--detach reads the capture from a file, not stdin", hint="give the capture's path")
            argv += ["--from-capture", os.path.abspath(from_capture)]
        info = runner.spawn_detached(sd, argv)
        out.note(_usage(sd, info) + f"Stop it with: sgpctl sandbox down{' --state-dir ' + str(sd.path) if _needs_flag(sd) else ''}")
        return ExitCode.OK
    _serve(out, sd, scenario, port, faults, addon_delay, cloud_tls, chosen, capture)
    return ExitCode.OK


def _serve(out, sd, scenario: str, port: Optional[int], faults: Optional[str], addon_delay: float, cloud_tls: bool = False,
           variants: Optional[dict] = None, capture: Optional[dict] = None) -> None:
    from sgpctl.sandbox import runner
    from sgpctl.sandbox.region import Sandbox

    def terminate(signum, frame):  # noqa: ARG001 - signal handler signature
        raise KeyboardInterrupt

    sb = Sandbox(scenario, state_dir=sd.path, cloud_port=port or 0, kube_port=(port + 1) if port else 0,
                 faults=faults, addon_delay=addon_delay, cloud_tls=cloud_tls, variants=variants, capture=capture)
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        sb.start()
        try:
            runner.write_private(sd.pid, f"{os.getpid()}\n")
            info = write_info(sd, sb)
            if capture is not None:
                from sgpctl.render.sandbox import render_replay

                render_replay(out, capture, sb.replay_evidence)
            out.note(_usage(sd, info) + f"Stop it with Ctrl-C (state is saved in {sd.state}).")
            # What sandbox status shows: object counts and which clusters are reachable.
            seen = (sb.changes, [c.reachable for c in sb.clusters])
            while True:
                time.sleep(1.0)
                now = (sb.changes, [c.reachable for c in sb.clusters])
                if now != seen:
                    seen = now
                    write_info(sd, sb)
        except KeyboardInterrupt:
            out.note("sgpctl sandbox: stopping (saving state)")
        finally:
            sb.stop()
            for path in (sd.info, sd.pid):
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    out.note(f"sgpctl sandbox: stopped; state saved in {sd.state}")


def write_info(sd, sb) -> dict:
    """The running sandbox's info file (private: it holds the control API's token, which
    `sandbox requests` needs; `sandbox status` shows none of it)."""
    from sgpctl.sandbox import runner

    info = sb.info()
    info["pid"] = os.getpid()
    runner.write_private(sd.info, json.dumps({**info, "adminToken": sb.admin_token}, indent=2) + "\n")
    return info


@app.command("env")
def env(ctx: typer.Context, state_dir: StateDirOption = None) -> ExitCode:
    """Print the sandbox's environment as shell export lines (KUBECONFIG, SGPCTL_ENDPOINT,
    TENCENTCLOUD_SECRET_ID/KEY/REGION, SGPCTL_CLUSTER_ID).

    Example: eval "$(sgpctl sandbox env)"
    """
    sd = _state_dir(state_dir)
    try:
        text = sd.env.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no sandbox env file in {sd.path}", hint="start one with `sgpctl sandbox up --detach`") from None
    get_app(ctx).out.write(text)
    return ExitCode.OK


@app.command("status")
def status(ctx: typer.Context, state_dir: StateDirOption = None, output: Output = OutputFormat.table) -> ExitCode:
    """Whether the sandbox runs, its pid, ports, scenario, clusters and object counts.

    Example: sgpctl sandbox status -o json
    """
    from sgpctl.sandbox import runner

    from sgpctl.render.sandbox import render_status

    sd = _state_dir(state_dir)
    data = runner.describe(sd)
    variants = None
    if data.get("variants"):
        from sgpctl.sandbox.variants import spec

        variants = spec(data["variants"])
    get_app(ctx).out.emit(data, output, lambda term: render_status(term, data, variants))
    return ExitCode.OK


@app.command("down")
def down(ctx: typer.Context, state_dir: StateDirOption = None) -> ExitCode:
    """Stop the sandbox running from the state dir (it saves its state) and free its ports.

    Example: sgpctl sandbox down
    """
    from sgpctl.sandbox import runner

    out = get_app(ctx).out
    sd = _state_dir(state_dir)
    pid = runner.running_pid(sd)
    if pid is None:
        out.note(f"sgpctl sandbox: none is running from {sd.path}")
        return ExitCode.OK
    info = runner.read_json(sd.info) or {}
    graceful = runner.stop_pid(pid)
    ports = [p for p in (info.get("cloudPort"), info.get("kubePort"),
                         *(c.get("kubePort") for c in info.get("clusters") or ())) if p]
    deadline = time.monotonic() + 5
    while ports and not all(runner.port_free(int(p)) for p in ports) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not graceful:
        for path in (sd.info, sd.pid):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        out.note(f"sgpctl sandbox: pid {pid} did not stop in time and was killed; its last autosave is kept")
        return ExitCode.OK
    out.note(f"sgpctl sandbox: stopped pid {pid}; state saved in {sd.state}")
    return ExitCode.OK


@app.command("scenarios")
def scenarios_cmd(ctx: typer.Context, output: Output = OutputFormat.table) -> ExitCode:
    """List the scenarios `sgpctl sandbox up --scenario` takes, one line each.

    Example: sgpctl sandbox scenarios -o json
    """
    from sgpctl.render.sandbox import render_scenarios
    from sgpctl.sandbox.scenarios import SCENARIOS

    data = [{"name": s.name, "description": s.summary} for s in SCENARIOS.values()]
    get_app(ctx).out.emit(data, output, lambda term: render_scenarios(term, data))
    return ExitCode.OK


@app.command("variants")
def variants_cmd(ctx: typer.Context, output: Output = OutputFormat.table) -> ExitCode:
    """List the variants `sgpctl sandbox up --variant KEY=VALUE` takes: each an alternative reading of a
    fact about the real Tencent Cloud API that no public source settles, its values, its default and
    its meaning.

    Example: sgpctl sandbox up --reset --variant addon-merge=shallow --variant vpceni-kind=VpcEni
    """
    from sgpctl.sandbox.variants import describe_text, listing

    get_app(ctx).out.emit(listing(), output, lambda term: term.write(describe_text()))
    return ExitCode.OK


@app.command("requests")
def requests(
    ctx: typer.Context,
    state_dir: StateDirOption = None,
    since: Annotated[int, typer.Option("--since", help="Only requests after this position (the `next` of an earlier call).", min=0)] = 0,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """The requests the running sandbox answered, on both APIs, oldest first: for Kubernetes the verb
    (list, get, watch, create, update, patch, delete), resource and namespace - a list page after the
    first says so (`continue`) -; for the cloud the service and action; the status of each. `next` is
    where the following call picks up (--since), so a script can mark, run a command, and count what
    that command called. Never shows credentials.

    Example: sgpctl sandbox requests --since 120 -o json
    """
    from sgpctl.render.sandbox import render_requests
    from sgpctl.sandbox import runner
    from sgpctl.sandbox.requestlog import fetch

    sd = _state_dir(state_dir)
    info = runner.read_json(sd.info) if runner.running_pid(sd) else None
    if not info or not info.get("adminToken"):
        raise InputError(f"no sandbox is running from {sd.path}",
                         hint=f"start one with `sgpctl sandbox up --detach{' --state-dir ' + str(sd.path) if _needs_flag(sd) else ''}`")
    data = fetch(info["cloudUrl"], info["adminToken"], since)
    get_app(ctx).out.emit(data, output, lambda term: render_requests(term, data))
    return ExitCode.OK
