"""`sgpctl demo`: the TKE document's whole procedure, run with sgpctl's real commands against an
embedded sandbox (an emulated TKE region on 127.0.0.1). Nothing leaves this machine.

The commands are the production ones, run in-process (``cli.app.run``) in an ``Environment`` of their
own: the sandbox's variables (SGPCTL_ENDPOINT, KUBECONFIG, credentials), a private home, and streams
that feed this narrative. None of the user's Tencent Cloud or kube settings reach them."""

from __future__ import annotations

import contextlib
import os
import shlex
from pathlib import Path
from typing import Annotated, Optional

import typer

from sgpctl.errors import ExitCode, SgpctlError
from sgpctl.cli.options import Timeout

HELP = """The whole TKE procedure on an embedded sandbox.

Runs the whole TKE SecurityGroupPolicy procedure on an embedded sandbox: CAM setup, Trunking
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
def _no_proxies():
    """The Tencent Cloud SDK takes HTTP(S)_PROXY from the process environment (not from sgpctl's
    Environment), and a proxy cannot reach the sandbox on 127.0.0.1: hide them while the demo runs."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.lower().endswith("_proxy")}
    try:
        yield
    finally:
        os.environ.update(saved)


class _Tee:
    """A stream that writes into the narrative and keeps what it was given."""

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


class Demo:
    def __init__(self, out, environ: dict[str, str], home: Path) -> None:
        self.out = out  # the demo's Terminal
        self.environ = environ
        self.home = home
        self.step_no = 0

    def say(self, text: str = "") -> None:
        self.out.line(text)
        self.out.env.stdout.flush()

    def run(self, title: str, args: list[str], *, expect: tuple[int, ...] = (0,)) -> str:
        """Run `sgpctl ARGS` in-process in the sandbox's environment, echoing the command line and
        its output (both streams, in order, as a user would see them); returns what it printed on stdout."""
        from sgpctl.cli.app import run
        from sgpctl.environment import Environment

        self.step_no += 1
        self.say(f"\n[{self.step_no}] {title}")
        self.say(f"$ sgpctl {' '.join(shlex.quote(a) for a in args)}")
        parent = self.out.env.stdout
        stdout, stderr = _Tee(parent), _Tee(parent)
        env = Environment(stdin=self.out.env.stdin, stdout=stdout, stderr=stderr, environ=self.environ, home=self.home)
        code = run(args, env)
        if code not in expect:
            known = code in ExitCode._value2member_map_
            raise SgpctlError(f"`sgpctl {' '.join(args)}` exited {code}", hint="the output above says why",
                              exit_code=ExitCode(code) if known else ExitCode.FAILED)
        return stdout.captured()

    def note(self, title: str, command: str) -> None:
        self.step_no += 1
        self.say(f"\n[{self.step_no}] {title}")
        self.say(f"$ {command}")


def demo(
    ctx: typer.Context,
    keep: Annotated[bool, typer.Option("--keep", help="Leave the sandbox running afterwards (in the foreground, until Ctrl-C) and print its env.")] = False,
    state_dir: Annotated[Optional[Path], typer.Option("--state-dir", help="Where to write the sandbox's kubeconfig and env (default: a temporary directory).")] = None,
    timeout: Timeout = 60,
) -> ExitCode:
    import tempfile

    from sgpctl.cli.context import get_app
    from sgpctl.sandbox.region import Sandbox

    app_ = get_app(ctx)
    tmp = tempfile.TemporaryDirectory(prefix="sgpctl-demo-")
    directory = Path(state_dir) if state_dir else Path(tmp.name)
    directory.mkdir(parents=True, exist_ok=True)
    home = Path(tmp.name) / "home"
    home.mkdir(exist_ok=True)
    with _no_proxies():
        sandbox = Sandbox("default").start()
        try:
            sandbox.write_files(directory)
            environ = {**sandbox.env(), "KUBECONFIG": str(directory / "kubeconfig"), "HOME": str(home)}
            d = Demo(app_.out, environ, home)
            d.say("sgpctl demo: the TKE SecurityGroupPolicy procedure on an embedded sandbox")
            d.say(f"  Tencent Cloud API  {sandbox.cloud_url}   (SGPCTL_ENDPOINT)")
            d.say(f"  Kubernetes API     {sandbox.kube_url}   (KUBECONFIG={environ['KUBECONFIG']})")
            d.say(f"  region {environ['TENCENTCLOUD_REGION']}, cluster {environ['SGPCTL_CLUSTER_ID']}")
            _procedure(d, timeout, Path(tmp.name))
            if keep:
                d.say("\nThe sandbox keeps running. In another shell:")
                d.say(f"  eval \"$(cat {shlex.quote(str(directory / 'env'))})\"   # then sgpctl ..., kubectl ...")
                d.say("Press Ctrl-C to stop it.")
                with contextlib.suppress(KeyboardInterrupt):
                    while True:
                        app_.env.sleep(3600)
        finally:
            sandbox.stop()
            tmp.cleanup()
    app_.out.note("demo finished: every step passed")
    return ExitCode.OK


def _procedure(d: Demo, timeout: float, scratch: Path) -> None:
    import yaml

    from sgpctl.cli.context import App
    from sgpctl.environment import Environment
    from sgpctl.settings import RootFlags
    from sgpctl.workflows import demo as steps
    from sgpctl.workflows.waiting import Waiter

    ex = _examples_dir()
    d.run("Preflight: what the cluster has before anything is set up", ["trunking", "status"], expect=(0, 1))
    d.run("CAM: create SubENIForIPAMD and attach it to IPAMDofTKE_QCSRole and TKE_QCSRole", ["cam", "setup", "--yes"])
    d.run("Run it again: nothing to change", ["cam", "setup", "--yes"])
    d.run("Trunking ENI: check the preconditions, set vpcCni.trunkingEni.enableSubEni and wait", ["enable-trunking", "--yes"])
    d.run("Install the SecurityGroupPolicy add-on and wait for its CRD", ["addon", "install", "--yes"])
    printed = d.run("Create the Pods' security group, allowing kubelet probes and DNS (idempotent by name)",
                    ["sg", "create", "demo-nginx", "--allow-node-probes", "--allow-dns"])
    group_id = printed.strip().splitlines()[0]

    # The document's kubectl steps, through the same APIs, with the clients the commands use.
    app = App(RootFlags(), Environment.captured(d.environ, home=d.home))
    kube, cloud = app.kube(), app.cloud()
    policy_path = scratch / "policy.yaml"
    policy_path.write_text((ex / "policy.yaml").read_text().replace("sg-xxxxyyyy", group_id))
    if steps.ensure_namespace(kube, NAMESPACE):
        d.note("Create the policy's namespace (through the Kubernetes API, as kubectl would)", f"kubectl create namespace {NAMESPACE}")
        d.say(f"namespace/{NAMESPACE} created")
    d.run("Apply the document's SecurityGroupPolicy (with the new group's id)", ["policy", "apply", "-f", str(policy_path)])
    d.run("Apply it again: unchanged", ["policy", "apply", "-f", str(policy_path)])

    d.note("Deploy the document's nginx Deployment (through the Kubernetes API, as kubectl would)",
           f"kubectl apply -f {ex / 'nginx-deployment.yaml'}")
    created = steps.ensure_deployment(kube, yaml.safe_load((ex / "nginx-deployment.yaml").read_text()), NAMESPACE)
    d.say(f"deployment.apps/nginx {'created' if created else 'unchanged'}")
    pod = steps.wait_for_running_pod(kube, NAMESPACE, "app=my-app", Waiter(timeout=timeout, interval=0.2))
    name = pod["metadata"]["name"]
    d.say(f"pod/{name} is Running on {pod['spec'].get('nodeName')}")

    d.run("Verify the Pod end to end: annotation -> VpcENI -> the ENI's security groups in VPC",
          ["verify", "pod", name, "-n", NAMESPACE, "--expect-sg", group_id])
    d.run("Verify every Pod the policies select", ["verify", "pods", "-A"])

    # The document's own commands, for the record (answered here through the same APIs).
    facts = steps.manual_checks(kube, cloud, name, NAMESPACE)
    d.say("\nThe TKE document's manual checks, answered through the same APIs:")
    d.note("The Pod's annotations and resources (kubectl get pod -oyaml)", f"kubectl get pod {name} -n {NAMESPACE} -oyaml")
    for key, value in facts["annotations"].items():
        d.say(f"  {key}: {value!r}")
    d.say(f"  tke.cloud.tencent.com/sub-eni: {facts['subEniRequest']!r}")
    d.note("Find the Pod's VpcENI", f"kubectl get vpceni -l {facts['vpceniSelector']}")
    for v in facts["vpcenis"]:
        d.say(f"  {v}")
    d.note("Its ENI id", f"kubectl get vpceni {facts['newestVpceni'] or '<name>'} -ojsonpath='{{.status.eni.eniID}}'")
    d.say(f"  {facts['eniId']}")
    d.note("The ENI's security groups in VPC (what the ENI console shows)",
           f"tccli vpc DescribeNetworkInterfaces --NetworkInterfaceIds '[\"{facts['eniId']}\"]'")
    for e in facts["enis"]:
        d.say(f"  {e['eniId']}: GroupSet {e['securityGroupIds']}")
