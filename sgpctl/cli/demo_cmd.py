"""`sgpctl demo`: the TKE document's whole procedure, run with sgpctl's real commands against an
embedded sandbox (an emulated TKE region on 127.0.0.1). Nothing leaves this machine.

The commands are the production ones, invoked in-process with the sandbox's environment
(SGPCTL_ENDPOINT, KUBECONFIG, credentials): the same code a user runs against a real cluster."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

HELP = """Run the whole TKE SecurityGroupPolicy procedure on an embedded sandbox: CAM setup, Trunking
ENI, the add-on, a security group, the document's policy and nginx Deployment, and end-to-end
verification of the Pod (annotation -> VpcENI -> the ENI's groups in VPC). Each step prints its
command line and outcome.

Example: sgpctl demo; sgpctl demo --keep (leaves the sandbox running and prints its env)
"""

NAMESPACE = "my-namespace"
POLICY_NAME = "my-security-group-policy"


def _examples_dir() -> Path:
    # The repository's examples/ when run from a checkout; the packaged copy (sgpctl/demo_data, kept
    # identical by a test) when sgpctl was installed from a wheel.
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "examples", here.parents[1] / "demo_data"):
        if (candidate / "nginx-deployment.yaml").is_file():
            return candidate
    raise FileNotFoundError("examples/nginx-deployment.yaml")


@contextlib.contextmanager
def _environment(env: dict[str, str]):
    """The sandbox's environment for in-process commands; proxies stripped (they would swallow
    loopback calls), any real Tencent Cloud or kube settings of the user's shadowed."""
    saved = dict(os.environ)
    try:
        for k in list(os.environ):
            if k.lower().endswith("_proxy") or k.startswith(("TENCENTCLOUD_", "TCCLI_", "SGPCTL_")) or k == "KUBECONFIG":
                del os.environ[k]
        os.environ.update(env)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Demo:
    def __init__(self, sandbox, out) -> None:
        self.sandbox = sandbox
        self.out = out
        self.step_no = 0

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def run(self, title: str, args: list[str], *, expect: tuple[int, ...] = (0,)) -> tuple[int, str]:
        """Run `sgpctl ARGS` in-process, echoing the command line and its output."""
        from typer.main import get_command

        from sgpctl.cli.app import app

        self.step_no += 1
        self.say(f"\n[{self.step_no}] {title}")
        self.say(f"$ sgpctl {' '.join(shlex.quote(a) for a in args)}")
        buf = _Tee(self.out)
        err = _Tee(self.out)
        # Both streams into the narrative, in order: a user running the command sees both.
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
            try:
                code = get_command(app).main(args=args, prog_name="sgpctl", standalone_mode=False)
            except SystemExit as e:  # typer.Exit inside standalone_mode=False surfaces as a code
                code = e.code
        code = int(code or 0)
        if code not in expect:
            raise typer.Exit(code)
        return code, buf.captured()

    def note(self, title: str, command: str) -> None:
        self.step_no += 1
        self.say(f"\n[{self.step_no}] {title}")
        self.say(f"$ {command}")


class _Tee:
    def __init__(self, out) -> None:
        self.out = out
        self.parts: list[str] = []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return self.out.write(s)

    def flush(self) -> None:
        self.out.flush()

    def isatty(self) -> bool:
        return False

    def captured(self) -> str:
        return "".join(self.parts)


def demo(
    keep: Annotated[bool, typer.Option("--keep", help="Leave the sandbox running afterwards (in the foreground, until Ctrl-C) and print its env.")] = False,
    state_dir: Annotated[Optional[Path], typer.Option("--state-dir", help="Where to write the sandbox's kubeconfig and env (default: a temporary directory).")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the Pod to run.", min=1)] = 60,
) -> None:
    import tempfile

    from sgpctl.render.console import note
    from sgpctl.sandbox.region import Sandbox

    out = sys.stdout
    tmp = None if state_dir else tempfile.TemporaryDirectory(prefix="sgpctl-demo-")
    directory = Path(state_dir) if state_dir else Path(tmp.name)
    directory.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox("default").start()
    try:
        sandbox.write_files(directory)
        env = sandbox.env()
        env["KUBECONFIG"] = str(directory / "kubeconfig")
        d = Demo(sandbox, out)
        d.say("sgpctl demo: the TKE SecurityGroupPolicy procedure on an embedded sandbox")
        d.say(f"  Tencent Cloud API  {sandbox.cloud_url}   (SGPCTL_ENDPOINT)")
        d.say(f"  Kubernetes API     {sandbox.kube_url}   (KUBECONFIG={env['KUBECONFIG']})")
        d.say(f"  region {env['TENCENTCLOUD_REGION']}, cluster {env['SGPCTL_CLUSTER_ID']}")
        with _environment(env):
            _procedure(d, timeout)
        if keep:
            d.say("\nThe sandbox keeps running. In another shell:")
            d.say(f"  eval \"$(cat {shlex.quote(str(directory / 'env'))})\"   # then sgpctl ..., kubectl ...")
            d.say("Press Ctrl-C to stop it.")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    finally:
        sandbox.stop()
        if tmp is not None:
            tmp.cleanup()
    note("demo finished: every step passed")


def _procedure(d: Demo, timeout: float) -> None:
    from sgpctl.cli.context import App
    from sgpctl.kube import resources as r
    from sgpctl.settings import RootFlags

    import tempfile

    ex = _examples_dir()
    d.run("Preflight: what the cluster has before anything is set up", ["trunking", "status"], expect=(0, 1))
    d.run("CAM: create SubENIForIPAMD and attach it to IPAMDofTKE_QCSRole and TKE_QCSRole", ["cam", "setup"])
    d.run("Run it again: nothing to change", ["cam", "setup"])
    d.run("Trunking ENI: check the preconditions, set vpcCni.trunkingEni.enableSubEni and wait", ["enable-trunking"])
    d.run("Install the SecurityGroupPolicy add-on and wait for its CRD", ["addon", "install"])
    _, printed = d.run("Create the Pods' security group, allowing kubelet probes and DNS (idempotent by name)",
                       ["sg", "create", "demo-nginx", "--allow-node-probes", "--allow-dns"])
    group_id = printed.strip().splitlines()[0]

    app = App(RootFlags())
    kube = app.kube()
    policy_path = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / f"sgpctl-demo-policy-{os.getpid()}.yaml"
    policy_path.write_text((ex / "policy.yaml").read_text().replace("sg-xxxxyyyy", group_id))
    try:
        if kube.get(r.NAMESPACES, NAMESPACE) is None:
            d.note("Create the policy's namespace (through the Kubernetes API, as kubectl would)", f"kubectl create namespace {NAMESPACE}")
            kube.create(r.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
            d.say(f"namespace/{NAMESPACE} created")
        d.run("Apply the document's SecurityGroupPolicy (with the new group's id)", ["policy", "apply", "-f", str(policy_path)])
        d.run("Apply it again: unchanged", ["policy", "apply", "-f", str(policy_path)])
    finally:
        policy_path.unlink(missing_ok=True)

    d.note("Deploy the document's nginx Deployment (through the Kubernetes API, as kubectl would)",
           f"kubectl apply -f {ex / 'nginx-deployment.yaml'}")
    import yaml

    deployment = yaml.safe_load((ex / "nginx-deployment.yaml").read_text())
    if kube.get(r.DEPLOYMENTS, "nginx", NAMESPACE) is None:
        kube.create(r.DEPLOYMENTS, deployment, NAMESPACE)
        d.say("deployment.apps/nginx created")
    else:
        d.say("deployment.apps/nginx unchanged")
    pod = _wait_for_running_pod(kube, timeout)
    name = pod["metadata"]["name"]
    d.say(f"pod/{name} is Running on {pod['spec'].get('nodeName')}")

    d.run("Verify the Pod end to end: annotation -> VpcENI -> the ENI's security groups in VPC",
          ["verify", "pod", name, "-n", NAMESPACE, "--expect-sg", group_id])
    d.run("Verify every Pod the policies select", ["verify", "pods", "-A"])

    # The document's own commands, for the record (answered here through the same APIs).
    d.say("\nThe TKE document's manual checks, answered through the same APIs:")
    pod = kube.get(r.PODS, name, NAMESPACE)
    ann = pod["metadata"].get("annotations") or {}
    d.note("The Pod's annotations and resources (kubectl get pod -oyaml)", f"kubectl get pod {name} -n {NAMESPACE} -oyaml")
    for key in ("tke.cloud.tencent.com/networks", "tke.cloud.tencent.com/security-group-id"):
        d.say(f"  {key}: {ann.get(key)!r}")
    req = (pod["spec"]["containers"][0].get("resources") or {}).get("requests") or {}
    d.say(f"  tke.cloud.tencent.com/sub-eni: {req.get('tke.cloud.tencent.com/sub-eni')!r}")
    vres = kube.resource(r.VPCENI_GROUP, r.VPCENI_KIND)
    selector = f"tke.cloud.tencent.com/pod-name={name},tke.cloud.tencent.com/pod-namespace={NAMESPACE}"
    d.note("Find the Pod's VpcENI", f"kubectl get vpceni -l {selector}")
    vpcenis = kube.list(vres, label_selector=selector)
    for o in vpcenis:
        d.say(f"  {o['metadata']['name']}")
    eni_id = ((vpcenis[-1].get("status") or {}).get("eni") or {}).get("eniID") if vpcenis else None
    d.note("Its ENI id", f"kubectl get vpceni {vpcenis[-1]['metadata']['name'] if vpcenis else '<name>'} -ojsonpath='{{.status.eni.eniID}}'")
    d.say(f"  {eni_id}")
    d.note("The ENI's security groups in VPC (what the ENI console shows)", f"tccli vpc DescribeNetworkInterfaces --NetworkInterfaceIds '[\"{eni_id}\"]'")
    enis = app.cloud().vpc.describe_network_interfaces([eni_id]) if eni_id else []
    for e in enis:
        d.say(f"  {e.eni_id}: GroupSet {list(e.security_group_ids)}")


def _wait_for_running_pod(kube, timeout: float) -> dict:
    from sgpctl.errors import RefusedError
    from sgpctl.kube import resources as r

    deadline = time.monotonic() + timeout
    while True:
        pods = kube.list(r.PODS, NAMESPACE, label_selector="app=my-app")
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
        if running:
            return running[0]
        if time.monotonic() > deadline:
            raise RefusedError("the nginx Pod did not start in time", hint="rerun with --timeout, or sgpctl verify pods -n my-namespace")
        time.sleep(0.2)
