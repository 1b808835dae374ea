"""An emulated TKE region in one object: cloud state, Kubernetes store, simulated controllers,
both API servers, faults and the request log.

    with Sandbox("default") as sb:            # or Sandbox(...).start() / .stop()
        env = sb.env()                        # KUBECONFIG, SGPCTL_ENDPOINT, TENCENTCLOUD_*, SGPCTL_CLUSTER_ID
        ...                                   # point clients at sb.cloud_url / sb.kube_url
        sb.settle()                           # wait for the controllers instead of sleeping

Ports: the Tencent Cloud API on ``cloud_port`` and Kubernetes (HTTPS, self-signed, trusted by the
written kubeconfig) on ``kube_port``; 0 picks a free one. A sandbox resumed from a state dir
reuses its previous ports when they are free, so an old env file keeps working.

TLS needs the ``openssl`` command: the standard library cannot make the self-signed CA, and
without it the Kubernetes API falls back to plain http, where kubectl (client-go) sends no bearer
token, so every kubectl call is refused with 401 (the Python client and sgpctl still work). With
``cloud_tls=True`` the cloud port answers https too, with the same certificate (``ca_file``), for
clients that only speak https, such as tccli; http keeps working for the SDKs and sgpctl.

With ``state_dir`` the sandbox resumes from ``state_dir/state.json`` when it exists (same
credentials, cluster id, objects, variants and ports) and saves there when it stops; its kubeconfig
and env file are written there. Without one they go to a private temporary directory.

``variants={"addon-merge": "shallow", ...}`` plays other readings of what the real API does
(``sgpctl.sandbox.variants``); a resumed sandbox keeps the variants it was built with.
"""

from __future__ import annotations

import atexit
import logging
import random
import secrets
import shutil
import string
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sgpctl.errors import InputError
from sgpctl.sandbox import runner
from sgpctl.sandbox.kube.crds import SGP_RESOURCE, VPCENI_RESOURCE

log = logging.getLogger("sgpctl.sandbox")

AUTOSAVE_SECONDS = 5.0
_ALNUM = string.ascii_lowercase + string.digits

_shared_tls_dir: str | None = None
_shared_tls_lock = threading.Lock()


def _tls_dir_for_tests() -> str:
    """One certificate per process for sandboxes without a state dir: making one costs openssl time."""
    global _shared_tls_dir
    with _shared_tls_lock:
        if _shared_tls_dir is None:
            _shared_tls_dir = tempfile.mkdtemp(prefix="sgpctl-sandbox-tls-")
            atexit.register(shutil.rmtree, _shared_tls_dir, True)
        return _shared_tls_dir


def new_credentials() -> tuple[str, str]:
    alphabet = string.ascii_letters + string.digits
    return ("AKID" + "".join(secrets.choice(alphabet) for _ in range(32)),
            "".join(secrets.choice(alphabet) for _ in range(32)))


class Sandbox:
    def __init__(self, scenario: str = "default", *, state_dir: Path | str | None = None, cloud_port: int = 0,
                 kube_port: int = 0, faults: str | None = None, addon_delay: float = 0.3, seed: int = 0,
                 retry_interval: float = 1.0, cloud_tls: bool = False, variants: dict[str, str] | None = None):
        from sgpctl.sandbox import scenarios
        from sgpctl.sandbox.faults import Faults
        from sgpctl.sandbox.requestlog import RequestLog

        self.scenario = scenarios.get(scenario).name
        self.state_dir = runner.StateDir.resolve(state_dir) if state_dir is not None else None
        self.cloud_port = int(cloud_port)
        self.kube_port = int(kube_port)
        self.addon_delay = float(addon_delay)
        self.seed = int(seed)
        self.retry_interval = retry_interval
        self.cloud_tls = bool(cloud_tls)
        from sgpctl.sandbox import variants as variants_mod

        #: None: whatever a resumed state holds (else every default)
        self._asked_variants = variants_mod.validate(variants) if variants is not None else None
        self._ca_file: Path | None = None
        try:
            self.faults = Faults.parse(faults or "")
        except ValueError as exc:
            raise InputError(f"bad --faults: {exc}") from None
        self.log = RequestLog()
        self.region = scenarios.REGION
        self.cluster_id = ""
        self.secret_id = ""
        self.secret_key = ""
        self.kube_token = ""
        self.cloud: Any = None
        self.kube: Any = None
        self.controllers: Any = None
        self.world: Any = None
        self._cloud_server: Any = None
        self._kube_server: Any = None
        self._files_dir: Path | None = None
        self._temp_dir: str | None = None
        self._pod_cidrs: dict[str, str] = {}
        self._vpc_cni = True
        self._started_at: float | None = None
        self._saver: threading.Thread | None = None
        self._stop_saver = threading.Event()
        self._saved_changes = -1
        self.running = False

    # --- life cycle ------------------------------------------------------------------------

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> "Sandbox":
        if self.running:
            return self
        saved = runner.load_state(self.state_dir) if self.state_dir is not None else None
        if saved is not None:
            self._restore(saved)
        else:
            self._build()
        try:
            self._serve()
        except BaseException:
            self.controllers.stop()
            raise
        self.controllers.start()
        self.running = True
        self._started_at = time.time()
        self.write_files(self._files_directory())
        if self.state_dir is not None:
            if saved is None:
                self.save()  # a fresh sandbox is resumable from the first moment, even if killed
            else:
                self._saved_changes = self.controllers.changes
            self._saver = threading.Thread(target=self._autosave, name="sandbox-autosave", daemon=True)
            self._saver.start()
        return self

    def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        self._stop_saver.set()
        if self._saver is not None:
            self._saver.join(timeout=10)
        self.controllers.stop()
        for server in (self._kube_server, self._cloud_server):
            if server is not None:
                server.shutdown()
        if self.state_dir is not None:
            self.save()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    # --- building and restoring ------------------------------------------------------------

    def _stores(self, cloud: Any, kube: Any) -> None:
        from sgpctl.sandbox import controllers

        self.cloud, self.kube = cloud, kube
        world = controllers.World(kube=kube, cloud=cloud, cluster_id=self.cluster_id,
                                  cache=controllers.new_cache(SGP_RESOURCE, VPCENI_RESOURCE),
                                  sgp_resource=SGP_RESOURCE, vpceni_resource=VPCENI_RESOURCE,
                                  rng=random.Random(f"{self.seed}/{self.cluster_id}/{kube.resource_version}"),
                                  pod_cidrs=dict(self._pod_cidrs), retry_interval=self.retry_interval)
        self.world = world
        self.controllers = controllers.build(world, vpc_cni=self._vpc_cni)

    def _build(self) -> None:
        from sgpctl.sandbox import scenarios
        from sgpctl.sandbox.cloud.state import CloudState
        from sgpctl.sandbox.kube import KubeStore
        from sgpctl.sandbox.kube.crds import vpceni_crd

        rng = random.Random(self.seed)
        self.cluster_id = "cls-" + "".join(rng.choice(_ALNUM) for _ in range(8))
        self.secret_id, self.secret_key = new_credentials()
        self.kube_token = secrets.token_hex(24)
        from sgpctl.sandbox import variants

        cloud = CloudState(self.region, scenarios.ZONES, addon_delay=self.addon_delay, seed=self.seed)
        cloud.add_credentials(self.secret_id, self.secret_key)
        kube = KubeStore()
        kube.register_builtin()
        kube.create("customresourcedefinitions", vpceni_crd())
        self._stores(cloud, kube)
        self.controllers.attach()
        # The builder fills in the kubelet's Pod subnets (the same dict) before any Pod starts.
        builder = scenarios.Builder(cloud=cloud, kube=kube, rng=rng, cluster_id=self.cluster_id,
                                    converge=lambda: self.controllers.converge(timeout=60),
                                    pod_cidrs=self.world.pod_cidrs)

        def replace_kube(store: Any) -> None:
            self.controllers.stop()
            cidrs = dict(self.world.pod_cidrs)
            self._pod_cidrs = cidrs
            self._stores(cloud, store)
            self.controllers.attach()
            builder.kube, builder.pod_cidrs = store, self.world.pod_cidrs

        builder.replace_kube = replace_kube
        scenarios.get(self.scenario).build(builder)
        # The scenario builds the default reading; the variants then change what they read differently.
        variants.apply(self._asked_variants or {}, cloud, self.kube)
        self._pod_cidrs = dict(builder.pod_cidrs)
        self._vpc_cni = builder.vpc_cni
        self.controllers.converge(timeout=60)

    def _restore(self, saved: dict) -> None:
        from sgpctl.sandbox.cloud.state import CloudState
        from sgpctl.sandbox.kube import KubeStore

        meta = saved.get("sandbox") or {}
        if meta.get("scenario") != self.scenario:
            raise InputError(
                f"{self.state_dir.path} holds a sandbox of scenario {meta.get('scenario')!r}, not {self.scenario!r}",
                hint="run `sgpctl sandbox up --reset` to start afresh, or use another --state-dir")
        saved_variants = dict((saved.get("cloud") or {}).get("variants") or {})
        if self._asked_variants is not None and self._asked_variants != saved_variants:
            from sgpctl.sandbox.variants import spec

            raise InputError(
                f"{self.state_dir.path} holds a sandbox with variants {spec(saved_variants) or '(none)'}, "
                f"not {spec(self._asked_variants) or '(none)'}",
                hint="run `sgpctl sandbox up --reset` to start afresh with other variants, or use another --state-dir")
        self.cluster_id = meta["clusterId"]
        self.secret_id, self.secret_key = meta["secretId"], meta["secretKey"]
        self.kube_token = meta["kubeToken"]
        self.seed = int(meta.get("seed", self.seed))
        self._pod_cidrs = dict(meta.get("podCidrs") or {})
        self._vpc_cni = bool(meta.get("vpcCni", True))
        if not self.cloud_port and meta.get("cloudPort") and runner.port_free(int(meta["cloudPort"])):
            self.cloud_port = int(meta["cloudPort"])
        if not self.kube_port and meta.get("kubePort") and runner.port_free(int(meta["kubePort"])):
            self.kube_port = int(meta["kubePort"])
        cloud = CloudState.from_dict(saved["cloud"])
        cloud.addon_delay = self.addon_delay
        kube = KubeStore.from_dict(saved["kube"])
        self._stores(cloud, kube)
        self.controllers.attach()
        self.controllers.converge(timeout=60)

    def _serve(self) -> None:
        from sgpctl.sandbox.cloud.server import start_cloud_server
        from sgpctl.sandbox.kube import start_kube_server
        from sgpctl.sandbox.kube.tls import ensure_certificate

        for port in (self.cloud_port, self.kube_port):
            if port:
                runner.check_port(port)
        if self.cloud_port and self.cloud_port == self.kube_port:
            raise InputError(f"the cloud and Kubernetes APIs cannot share port {self.cloud_port}")
        tls_dir = str(self.state_dir.path) if self.state_dir is not None else _tls_dir_for_tests()
        if self.state_dir is not None:
            self.state_dir.ensure()
        pair = ensure_certificate(tls_dir)  # the kube server finds the same files
        self._ca_file = pair[0] if pair is not None else None
        if self.cloud_tls and pair is None:
            raise InputError("cannot serve the cloud API over https: the openssl command is missing or failed",
                             hint="install openssl (it makes the sandbox's self-signed certificate), or drop --cloud-tls")
        cloud_tls = (str(pair[0]), str(pair[1])) if self.cloud_tls and pair is not None else None
        try:
            self._cloud_server, self.cloud_port = start_cloud_server(
                self.cloud, faults=self.faults, request_log=self.log, port=self.cloud_port, tls=cloud_tls)
            self._kube_server = start_kube_server(self.kube, self.kube_token, faults=self.faults, log=self.log,
                                                  port=self.kube_port, tls_dir=tls_dir)
        except OSError as exc:
            if self._cloud_server is not None:
                self._cloud_server.shutdown()
                self._cloud_server = None
            raise InputError(f"cannot listen on 127.0.0.1: {exc.strerror or exc}",
                             hint="choose another --port or stop what holds it") from None
        self.kube_port = self._kube_server.port

    # --- what clients need -----------------------------------------------------------------

    @property
    def variants(self) -> dict[str, str]:
        """The variants this region plays (only those not at their default)."""
        if self.cloud is not None:
            return dict(self.cloud.variants)
        return dict(self._asked_variants or {})

    @property
    def cloud_url(self) -> str:
        return f"http://127.0.0.1:{self.cloud_port}"

    @property
    def kube_url(self) -> str:
        return self._kube_server.url if self._kube_server is not None else f"https://127.0.0.1:{self.kube_port}"

    @property
    def ca_file(self) -> Path | None:
        """The self-signed certificate both APIs serve https with (its own CA); None without openssl."""
        return self._ca_file

    @property
    def cloud_endpoint(self) -> str:
        """``127.0.0.1:PORT``: what the SDK's ``HttpProfile(endpoint=..., protocol="http")`` takes."""
        return f"127.0.0.1:{self.cloud_port}"

    @property
    def admin_token(self) -> str:
        """The ``X-Sandbox-Token`` of the cloud endpoint's ``/_sandbox/*`` control API."""
        return self.cloud.admin_token

    @property
    def kubeconfig(self) -> Path:
        return self._files_directory() / "kubeconfig"

    def _files_directory(self) -> Path:
        if self._files_dir is None:
            if self.state_dir is not None:
                self._files_dir = self.state_dir.path
            else:
                self._temp_dir = tempfile.mkdtemp(prefix="sgpctl-sandbox-")
                self._files_dir = Path(self._temp_dir)
        return self._files_dir

    def env(self) -> dict[str, str]:
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "SGPCTL_ENDPOINT": self.cloud_url,
            "TENCENTCLOUD_SECRET_ID": self.secret_id,
            "TENCENTCLOUD_SECRET_KEY": self.secret_key,
            "TENCENTCLOUD_REGION": self.region,
            "SGPCTL_CLUSTER_ID": self.cluster_id,
        }

    def write_files(self, directory: Path | str) -> None:
        """``DIR/kubeconfig`` and ``DIR/env`` (its KUBECONFIG names ``DIR/kubeconfig``)."""
        directory = Path(directory).absolute()
        directory.mkdir(parents=True, exist_ok=True)
        context = f"{self.cluster_id}-context-default"
        self._kube_server.write_kubeconfig(directory / "kubeconfig", self.kube_token, self.cluster_id, context)
        env = self.env()
        env["KUBECONFIG"] = str(directory / "kubeconfig")
        runner.write_private(directory / "env", runner.env_text(env))

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until the controllers have nothing left to do: delayed retries run now, queued
        events are handled, and no add-on operation is in flight. TimeoutError otherwise."""
        self.controllers.settle(timeout)

    def resync(self) -> None:
        """Make every controller look at everything again (after changing state behind its back,
        e.g. ``sb.cloud.set_sub_eni_quota(instance_id, n)``)."""
        mgr = self.controllers
        for c in mgr.controllers.values():
            for key in c.resync():
                mgr.enqueue(c.name, key)

    # --- persistence -----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        cache = self.world.cache
        with self.cloud.transaction():
            sub_enis = self.cloud.sub_eni_count()
            groups = len(self.cloud.security_groups)
        return {"nodes": cache.count("nodes"), "namespaces": cache.count("namespaces"), "pods": cache.count("pods"),
                "deployments": cache.count("deployments.apps"),
                "securityGroupPolicies": cache.count(SGP_RESOURCE), "vpcEnis": cache.count(VPCENI_RESOURCE),
                "securityGroups": groups, "subEnis": sub_enis}

    def snapshot(self) -> dict:
        return {
            "sandbox": {"scenario": self.scenario, "clusterId": self.cluster_id, "region": self.region,
                        "secretId": self.secret_id, "secretKey": self.secret_key, "kubeToken": self.kube_token,
                        "seed": self.seed, "cloudPort": self.cloud_port, "kubePort": self.kube_port,
                        "podCidrs": self._pod_cidrs, "vpcCni": self._vpc_cni, "variants": self.variants},
            "savedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "counts": self.counts(),
            "cloud": self.cloud.to_dict(),
            "kube": self.kube.to_dict(),
        }

    def save(self) -> None:
        if self.state_dir is None:
            raise ValueError("this sandbox has no state dir")
        changes = self.controllers.changes
        runner.save_state(self.state_dir, self.snapshot())
        self._saved_changes = changes

    def _autosave(self) -> None:
        while not self._stop_saver.wait(AUTOSAVE_SECONDS):
            if self.controllers.changes != self._saved_changes:
                try:
                    self.save()
                except Exception:  # a failed autosave must not stop the sandbox; stop() saves again
                    log.exception("autosave failed")

    def info(self) -> dict:
        """What ``sandbox status`` shows about a running sandbox (no secrets)."""
        return {"pid": None, "scenario": self.scenario, "clusterId": self.cluster_id, "region": self.region,
                "cloudUrl": self.cloud_url, "kubeUrl": self.kube_url, "cloudPort": self.cloud_port,
                "kubePort": self.kube_port, "faults": self.faults.spec, "variants": self.variants,
                "cloudTls": self.cloud_tls,
                "caFile": str(self.ca_file) if self.ca_file is not None else None,
                "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._started_at or time.time())),
                "counts": self.counts()}
