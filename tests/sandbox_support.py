"""Helpers for every end-to-end test against the sandbox (import as ``from tests.sandbox_support import ...``).

    with running_sandbox("default") as sb:
        env = sandbox_env(sb, tmp_path)            # for a subprocess of the installed sgpctl / kubectl
        kubectl(env, "get", "pods", "-A")
        vpc = cloud_client(sb, "vpc")              # official SDK client, pointed at the sandbox
        api = kube_api_client(sb)                  # official kubernetes ApiClient
        sb.settle()                                # instead of sleeping
        sgp_ready(sb)                              # the SGP setup done behind the API

    def test_x(sandbox_under_variant): ...         # once per variant value (and once with none)

No helper reaches beyond 127.0.0.1: every environment built here is stripped of *_PROXY (the SDK
sends even loopback calls to a proxy), of the developer's credentials and kubeconfig, and has
HOME pointed into the test's tmp dir so nothing reads or writes the real ~/.kube or ~/.tccli.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.support import clean_env

SGPCTL = str(Path(sys.executable).with_name("sgpctl"))
KUBECTL = shutil.which("kubectl")
SDK_MODULES = {
    "cam": ("tencentcloud.cam.v20190116.cam_client", "CamClient"),
    "tke": ("tencentcloud.tke.v20180525.tke_client", "TkeClient"),
    "vpc": ("tencentcloud.vpc.v20170312.vpc_client", "VpcClient"),
    "cvm": ("tencentcloud.cvm.v20170312.cvm_client", "CvmClient"),
}


@contextmanager
def running_sandbox(scenario: str = "default", **kw: Any) -> Iterator[Any]:
    """A started Sandbox, stopped afterwards. Add-on operations take 0.1 s unless told otherwise."""
    from sgpctl.sandbox.region import Sandbox

    kw.setdefault("addon_delay", 0.1)
    sb = Sandbox(scenario, **kw).start()
    try:
        yield sb
    finally:
        sb.stop()


def sandbox_env(sb: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A subprocess environment built from the sandbox's env file (``DIR/env``, written into
    ``tmp_path/sandbox``), plus PATH and a HOME inside ``tmp_path``; no proxies."""
    from sgpctl.sandbox.runner import parse_env_text

    files = Path(tmp_path) / "sandbox"
    sb.write_files(files)
    home = Path(tmp_path) / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = clean_env(HOME=str(home), KUBECACHEDIR=str(Path(tmp_path) / "kube-cache"))
    env.update(parse_env_text((files / "env").read_text()))
    env.update(extra)
    return env


def env_file_only(sb: Any, tmp_path: Path) -> dict[str, str]:
    """Only what ``DIR/env`` exports, plus PATH and HOME: what a user's shell has after
    ``eval "$(sgpctl sandbox env)"`` in a clean login."""
    from sgpctl.sandbox.runner import parse_env_text

    files = Path(tmp_path) / "sandbox"
    sb.write_files(files)
    home = Path(tmp_path) / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    env.update(parse_env_text((files / "env").read_text()))
    return env


def kubectl(env: dict[str, str], *args: str, input: str | None = None, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """The machine's kubectl with the sandbox's kubeconfig (from ``env``) and a private cache dir."""
    assert KUBECTL, "kubectl is not installed"
    cmd = [KUBECTL, "--cache-dir", env.get("KUBECACHEDIR") or str(Path(env["HOME"]) / ".kube-cache"), *args]
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def sgpctl(env: dict[str, str], *args: str, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The installed sgpctl as a subprocess."""
    return subprocess.run([SGPCTL, *args], input=input, capture_output=True, text=True, env=env, timeout=timeout)


def cloud_client(sb: Any, service: str, region: str | None = None) -> Any:
    """An official tencentcloud SDK client (``cam``, ``tke``, ``vpc``, ``cvm``) for the sandbox."""
    import importlib

    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    module, cls = SDK_MODULES[service]
    client_cls = getattr(importlib.import_module(module), cls)
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=sb.cloud_endpoint, protocol="http"))
    if region is None:
        region = "" if service == "cam" else sb.region
    return client_cls(credential.Credential(sb.secret_id, sb.secret_key), region, profile)


def sdk_request(service: str, action: str, **params: Any) -> Any:
    """``<Action>Request`` of the SDK models, filled from keyword arguments."""
    import importlib
    import json

    module = SDK_MODULES[service][0].rsplit(".", 1)[0] + ".models"
    req = getattr(importlib.import_module(module), f"{action}Request")()
    req.from_json_string(json.dumps(params))
    return req


def kube_api_client(sb: Any) -> Any:
    """An official kubernetes ``ApiClient`` from the sandbox's kubeconfig (no global state touched)."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(sb.kubeconfig))


SGP_GROUP_VERSION = ("vpcresources.tke.cloud.tencent.com", "v1beta1")


def sgp_policy(name: str, groups: list[str], match_labels: dict | None = None) -> dict:
    """A SecurityGroupPolicy selecting ``match_labels`` (default app=my-app, the seed's)."""
    return {"apiVersion": "/".join(SGP_GROUP_VERSION), "kind": "SecurityGroupPolicy",
            "metadata": {"name": name},
            "spec": {"podSelector": {"matchLabels": {"app": "my-app"} if match_labels is None else match_labels},
                     "securityGroups": {"groupIds": groups}}}


def create_sgp(sb: Any, name: str, groups: list[str], match_labels: dict | None = None,
               namespace: str = "my-namespace") -> dict:
    """A SecurityGroupPolicy stored directly in the sandbox's Kubernetes store."""
    from sgpctl.sandbox.kube.crds import SGP_RESOURCE

    obj = sgp_policy(name, groups, match_labels)
    obj["metadata"]["namespace"] = namespace
    return sb.kube.create(SGP_RESOURCE, obj)


def sgp_ready(sb: Any) -> None:
    """The document's whole setup done behind the API (CAM policy attached to both roles,
    trunking on, the SGP add-on installed), for tests about what comes after it."""
    from sgpctl.sandbox import scenarios

    scenarios.Builder(cloud=sb.cloud, kube=sb.kube, rng=None, cluster_id=sb.cluster_id).sub_eni_policy()
    sb.cloud.update_addon(sb.cluster_id, "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
    sb.cloud.install_addon(sb.cluster_id, sb.cloud.variant("sgp-addon-name"))
    sb.settle()


def group_id(sb: Any, name: str) -> str:
    """The id of the sandbox's security group named ``name``."""
    return next(g for g, v in sb.cloud.security_groups.items() if v["SecurityGroupName"] == name)


# --- the variant matrix ---------------------------------------------------------------------------


def _variant_cases() -> list[dict[str, str]]:
    from sgpctl.sandbox.variants import alternatives

    return [{}] + [{key: value} for key, value in alternatives()]


def variant_case_id(case: dict[str, str]) -> str:
    from sgpctl.sandbox.variants import spec

    return spec(case) or "defaults"


VARIANT_CASES = _variant_cases()


@pytest.fixture(scope="module", params=VARIANT_CASES, ids=variant_case_id)
def sandbox_under_variant(request):
    """A running sandbox per variant value (every other variant at its default), and one with none:
    module scope, so a module's tests share each sandbox. The scenario is the test module's
    ``VARIANT_SCENARIO`` (default ``"default"``). Use it by importing it into the test module::

        from tests.sandbox_support import sandbox_under_variant  # noqa: F401  (a fixture)
    """
    scenario = getattr(request.module, "VARIANT_SCENARIO", "default")
    with running_sandbox(scenario, variants=request.param) as sb:
        yield sb


def tc3_call(sb: Any, service: str, action: str, params: dict | None = None, *, region: str | None = "",
             version: str | None = None) -> dict:
    """One API call signed by hand from the public TC3-HMAC-SHA256 spec, as tccli sends it (POST,
    JSON body, ``X-TC-*`` headers), without the SDK: the sandbox's ``{"Response": ...}`` as a dict.
    ``region=""`` means the sandbox's region; None sends no ``X-TC-Region``."""
    import hashlib
    import hmac
    import json
    import time

    import requests

    versions = {"cam": "2019-01-16", "tke": "2018-05-25", "vpc": "2017-03-12", "cvm": "2017-03-12"}
    host = sb.cloud_endpoint
    body = json.dumps(params or {})
    timestamp = int(time.time())
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    content_type = "application/json; charset=utf-8"
    canonical = "\n".join(["POST", "/", "", f"content-type:{content_type}\nhost:{host}\n", "content-type;host",
                           hashlib.sha256(body.encode()).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(("TC3" + sb.secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {"Authorization": f"TC3-HMAC-SHA256 Credential={sb.secret_id}/{scope}, SignedHeaders=content-type;host, "
                                f"Signature={signature}",
               "Content-Type": content_type, "Host": host, "X-TC-Action": action,
               "X-TC-Timestamp": str(timestamp), "X-TC-Version": version or versions[service]}
    if region is not None:
        headers["X-TC-Region"] = region or sb.region
    resp = requests.post(f"http://{host}/", data=body, headers=headers, timeout=10,
                         proxies={"http": "", "https": ""})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json", resp.text
    return resp.json()["Response"]
