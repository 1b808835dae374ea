"""`sgpctl sandbox ...`: run an emulated TKE region on 127.0.0.1 (Tencent Cloud API + Kubernetes API).

Everything heavy (the servers, the SDK models they check requests against) is imported inside the
commands, so `sgpctl --help` stays fast.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Annotated, Optional

import typer

from sgpctl.cli.options import Output
from sgpctl.errors import InputError
from sgpctl.render.output import OutputFormat, emit

HELP = """Run an emulated TKE region on 127.0.0.1 (Tencent Cloud API + Kubernetes API).

The sandbox serves a Tencent Cloud API endpoint (CAM, TKE, VPC, CVM; TC3-signed) and a Kubernetes
API endpoint (HTTPS, kubectl-compatible) backed by simulated TKE controllers, so sgpctl, kubectl,
tccli and the official SDKs can be tried without an account. It never touches ~/.kube or ~/.tccli:
its kubeconfig and env file live in its state directory.

Examples:

  sgpctl sandbox up --detach                 # start in the background

  eval "$(sgpctl sandbox env)"               # point sgpctl and kubectl at it

  sgpctl sandbox status

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


def _err(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()


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
) -> None:
    """Start the sandbox: both APIs on 127.0.0.1, DIR/kubeconfig and DIR/env written.

    In the foreground it runs until Ctrl-C (or `sgpctl sandbox down`), then saves its state in the
    state dir, so the next `up` resumes with the same credentials, cluster and objects.

    kubectl authentication needs the `openssl` command: the Kubernetes endpoint is HTTPS with a
    self-signed CA that openssl makes (without it the server falls back to http, and kubectl does
    not send credentials over http).

    Example: sgpctl sandbox up --detach --scenario strict-hazards --state-dir /tmp/sb
    """
    from sgpctl.sandbox import runner, scenarios, variants
    from sgpctl.sandbox.faults import Faults

    chosen = variants.parse(variant) if variant else None

    sd = _state_dir(state_dir)
    pid = runner.running_pid(sd)
    if pid is not None and pid != os.getpid():
        raise InputError(f"a sandbox is already running from {sd.path} (pid {pid})",
                         hint=f"stop it with `sgpctl sandbox down{' --state-dir ' + str(sd.path) if _needs_flag(sd) else ''}`")
    if scenario is not None:
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
        info = runner.spawn_detached(sd, argv)
        _err(_usage(sd, info) + f"Stop it with: sgpctl sandbox down{' --state-dir ' + str(sd.path) if _needs_flag(sd) else ''}")
        return
    _serve(sd, scenario, port, faults, addon_delay, cloud_tls, chosen)


def _serve(sd, scenario: str, port: Optional[int], faults: Optional[str], addon_delay: float, cloud_tls: bool = False,
           variants: Optional[dict] = None) -> None:
    from sgpctl.sandbox import runner
    from sgpctl.sandbox.region import Sandbox

    def terminate(signum, frame):  # noqa: ARG001 - signal handler signature
        raise KeyboardInterrupt

    sb = Sandbox(scenario, state_dir=sd.path, cloud_port=port or 0, kube_port=(port + 1) if port else 0,
                 faults=faults, addon_delay=addon_delay, cloud_tls=cloud_tls, variants=variants)
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        sb.start()
        try:
            runner.write_private(sd.pid, f"{os.getpid()}\n")
            info = _write_info(sd, sb)
            _err(_usage(sd, info) + f"Stop it with Ctrl-C (state is saved in {sd.state}).")
            # What sandbox status shows: object counts and which clusters are reachable.
            seen = (sb.changes, [c.reachable for c in sb.clusters])
            while True:
                time.sleep(1.0)
                now = (sb.changes, [c.reachable for c in sb.clusters])
                if now != seen:
                    seen = now
                    _write_info(sd, sb)
        except KeyboardInterrupt:
            _err("sgpctl sandbox: stopping (saving state)")
        finally:
            sb.stop()
            for path in (sd.info, sd.pid):
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    _err(f"sgpctl sandbox: stopped; state saved in {sd.state}")


def _write_info(sd, sb) -> dict:
    from sgpctl.sandbox import runner

    info = sb.info()
    info["pid"] = os.getpid()
    runner.write_private(sd.info, json.dumps(info, indent=2) + "\n")
    return info


@app.command("env")
def env(state_dir: StateDirOption = None) -> None:
    """Print the sandbox's environment as shell export lines (KUBECONFIG, SGPCTL_ENDPOINT,
    TENCENTCLOUD_SECRET_ID/KEY/REGION, SGPCTL_CLUSTER_ID).

    Example: eval "$(sgpctl sandbox env)"
    """
    sd = _state_dir(state_dir)
    try:
        text = sd.env.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no sandbox env file in {sd.path}", hint="start one with `sgpctl sandbox up --detach`") from None
    sys.stdout.write(text)


@app.command("status")
def status(state_dir: StateDirOption = None, output: Output = OutputFormat.table) -> None:
    """Whether the sandbox runs, its pid, ports, scenario, clusters and object counts.

    Example: sgpctl sandbox status -o json
    """
    from sgpctl.sandbox import runner

    sd = _state_dir(state_dir)
    data = runner.describe(sd)

    def table() -> None:
        rows = [("state dir", data["stateDir"]),
                ("running", f"yes (pid {data['pid']})" if data["running"] else "no")]
        clusters = data.get("clusters") or []
        fleet = len(clusters) > 1
        for label, key in (("scenario", "scenario"), ("cluster", "clusterId"), ("region", "region"),
                           ("cloud API", "cloudUrl"), ("Kubernetes API", "kubeUrl"), ("faults", "faults"),
                           ("env file", "envFile"), ("saved at", "savedAt")):
            if data.get(key) and not (fleet and key in ("clusterId", "region", "kubeUrl")):
                rows.append((label, str(data[key])))
        if data.get("variants"):
            from sgpctl.sandbox.variants import spec

            rows.append(("variants", spec(data["variants"])))
        if fleet:
            width = max(len(c["region"]) for c in clusters)
            for c in clusters:
                where = c.get("kubeUrl") or f"port {c.get('kubePort')}"
                down = "" if c.get("reachable", True) else " (made unreachable)"
                rows.append(("cluster", f"{c['clusterId']}  {c['region'].ljust(width)}  {where}{down}"))
        if not data["running"] and data.get("cloudPort"):
            kube_ports = ", ".join(str(c.get("kubePort")) for c in clusters) or str(data["kubePort"])
            rows.append(("last ports", f"{data['cloudPort']} (cloud), {kube_ports} (Kubernetes)"))
        counts = data.get("counts") or {}
        if counts:
            rows.append(("objects", ", ".join(f"{v} {k}" for k, v in counts.items())))
        if not data["hasState"] and not data["running"]:
            rows.append(("state", "none yet (sgpctl sandbox up)"))
        width = max(len(r[0]) for r in rows)
        sys.stdout.write("".join(f"{k.ljust(width)}  {v}\n" for k, v in rows))

    emit(data, output, table)


@app.command("down")
def down(state_dir: StateDirOption = None) -> None:
    """Stop the sandbox running from the state dir (it saves its state) and free its ports.

    Example: sgpctl sandbox down
    """
    from sgpctl.sandbox import runner

    sd = _state_dir(state_dir)
    pid = runner.running_pid(sd)
    if pid is None:
        _err(f"sgpctl sandbox: none is running from {sd.path}")
        return
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
        _err(f"sgpctl sandbox: pid {pid} did not stop in time and was killed; its last autosave is kept")
        return
    _err(f"sgpctl sandbox: stopped pid {pid}; state saved in {sd.state}")


@app.command("scenarios")
def scenarios_cmd(output: Output = OutputFormat.table) -> None:
    """List the scenarios `sgpctl sandbox up --scenario` takes, one line each."""
    from sgpctl.sandbox.scenarios import SCENARIOS

    data = [{"name": s.name, "description": s.summary} for s in SCENARIOS.values()]

    def table() -> None:
        width = max(len(d["name"]) for d in data)
        sys.stdout.write("".join(f"{d['name'].ljust(width)}  {d['description']}\n" for d in data))

    emit(data, output, table)


@app.command("variants")
def variants_cmd(output: Output = OutputFormat.table) -> None:
    """List the variants `sgpctl sandbox up --variant KEY=VALUE` takes: each an alternative reading of a
    fact about the real Tencent Cloud API that no public source settles, its values, its default and
    its meaning.

    Example: sgpctl sandbox up --reset --variant addon-merge=shallow --variant vpceni-kind=VpcEni
    """
    from sgpctl.sandbox.variants import describe_text, listing

    emit(listing(), output, lambda: sys.stdout.write(describe_text()))
