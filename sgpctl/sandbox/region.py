"""An emulated TKE region in one object: cloud state, one or more clusters (each with its own
Kubernetes store, simulated controllers and API server), the cloud API server, faults and the
request log.

    with Sandbox("default") as sb:            # or Sandbox(...).start() / .stop()
        env = sb.env()                        # KUBECONFIG, SGPCTL_ENDPOINT, TENCENTCLOUD_*, SGPCTL_CLUSTER_ID
        ...                                   # point clients at sb.cloud_url / sb.kube_url
        sb.settle()                           # wait for the controllers instead of sleeping

Clusters: ``sb.clusters`` lists them (:class:`SandboxCluster`: ``cluster_id``, ``region``,
``kube_url``, ``kube``, ``controllers``, ``context``, ``set_reachable``); ``sb.cluster(id)`` finds
one. Every scenario but ``fleet`` has one; the first is the *primary*, whose values ``sb.cluster_id``,
``sb.kube``, ``sb.controllers``, ``sb.kube_url`` and ``sb.env()`` give. The kubeconfig holds one
context per cluster (``<cluster id>-context-default``, the primary's current), each naming its
cluster's endpoint exactly as DescribeClusterEndpoints reports it.

Ports: the Tencent Cloud API on ``cloud_port`` and each cluster's Kubernetes API (HTTPS,
self-signed, trusted by the written kubeconfig) on ``kube_port + i`` for the i-th cluster; 0 picks
free ones. A sandbox resumed from a state dir reuses its previous ports when they are free, so an
old env file keeps working.

TLS needs the ``openssl`` command: the standard library cannot make the self-signed CA, and
without it the Kubernetes API falls back to plain http, where kubectl (client-go) sends no bearer
token, so every kubectl call is refused with 401 (the Python client and sgpctl still work). With
``cloud_tls=True`` the cloud port answers https too, with the same certificate (``ca_file``), for
clients that only speak https, such as tccli; http keeps working for the SDKs and sgpctl. Each
cluster also has a client CA (``kube.tls.cluster_ca``) whose certificates, handed out by
DescribeClusterKubeconfig, its API server accepts.

With ``state_dir`` the sandbox resumes from ``state_dir/state.json`` when it exists (same
credentials, cluster ids, objects, variants and ports) and saves there when it stops; its
kubeconfig and env file are written there. Without one they go to a private temporary directory.

``variants={"addon-merge": "shallow", ...}`` plays other readings of what the real API does
(``sgpctl.sandbox.variants``, in every cluster); a resumed sandbox keeps the variants it was built with.

``capture=document`` (a file of ``sgpctl capture``, scenario ``capture``) builds the region from the
captured answers instead of a scenario, with the variant readings they imply (``sgpctl.sandbox.replay``,
``replay_evidence`` says why each); its controllers start without acting on the captured objects.
"""

from __future__ import annotations

import logging
import random
import secrets
import shutil
import socket
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
#: how long a deleted namespace stays Terminating with its content (kubectl delete -f of a bundle
#: that holds its Namespace then deletes the other objects itself, as against a real cluster)
NAMESPACE_CLEANUP_SECONDS = 1.0
_ALNUM = string.ascii_lowercase + string.digits
#: how a cluster's Kubernetes API can be made unreachable: ``refuse`` closes its port (connection
#: refused at once), ``hang`` keeps the port accepting TCP but never answering (clients time out)
UNREACHABLE_MODES = ("refuse", "hang")


def new_credentials() -> tuple[str, str]:
    alphabet = string.ascii_letters + string.digits
    return ("AKID" + "".join(secrets.choice(alphabet) for _ in range(32)),
            "".join(secrets.choice(alphabet) for _ in range(32)))


class _ClusterLog:
    """The shared request log, with the cluster each Kubernetes request went to."""

    def __init__(self, log: Any, cluster_id: str):
        self._log, self._cluster_id = log, cluster_id

    def record(self, *args: Any, **extra: Any) -> dict:
        return self._log.record(*args, cluster=self._cluster_id, **extra)


class SandboxCluster:
    """One TKE cluster of the sandbox: its Kubernetes store, simulated controllers and API server."""

    def __init__(self, sandbox: "Sandbox", cluster_id: str, region: str, kube_token: str, *, kube_port: int = 0,
                 pod_cidrs: dict | None = None, vpc_cni: bool = True):
        self.sandbox = sandbox
        self.cluster_id = cluster_id
        self.region = region
        self.kube_token = kube_token
        self.kube_port = int(kube_port)
        self.kube: Any = None
        self.world: Any = None
        self.controllers: Any = None
        self.pod_cidrs: dict[str, str] = dict(pod_cidrs or {})
        self.vpc_cni = vpc_cni
        self.reachable = True
        self._server: Any = None
        self._client_ca: Path | None = None
        self._blackhole: socket.socket | None = None

    def __repr__(self) -> str:
        return f"SandboxCluster({self.cluster_id!r}, {self.region!r}, {self.kube_url!r})"

    # --- store and controllers ---------------------------------------------------------------

    def attach(self, kube: Any) -> None:
        """Serve ``kube`` and run a fresh set of controllers on it (the old ones must be stopped). In a
        region replayed from a capture they act only on what changes afterwards."""
        from sgpctl.sandbox import controllers

        sb = self.sandbox
        self.kube = kube
        self.world = controllers.World(
            kube=kube, cloud=sb.cloud, cluster_id=self.cluster_id,
            cache=controllers.new_cache(SGP_RESOURCE, VPCENI_RESOURCE),
            sgp_resource=SGP_RESOURCE, vpceni_resource=VPCENI_RESOURCE,
            rng=random.Random(f"{sb.seed}/{self.cluster_id}/{kube.resource_version}"),
            pod_cidrs=dict(self.pod_cidrs), retry_interval=sb.retry_interval)
        self.controllers = controllers.build(self.world, vpc_cni=self.vpc_cni)
        self.controllers.attach(reconcile=not sb.replayed)

    # --- the API server ----------------------------------------------------------------------

    def serve(self, tls_dir: str) -> None:
        from sgpctl.sandbox.kube.tls import cluster_ca

        ca = cluster_ca(tls_dir, self.cluster_id)
        self._client_ca = ca[0] if ca is not None else None
        self._start_server(tls_dir)

    def _start_server(self, tls_dir: str) -> None:
        from sgpctl.sandbox.kube import start_kube_server

        sb = self.sandbox
        self._server = start_kube_server(self.kube, self.kube_token, faults=sb.faults,
                                         log=_ClusterLog(sb.log, self.cluster_id), port=self.kube_port,
                                         tls_dir=tls_dir, client_ca=self._client_ca)
        self.kube_port = self._server.port
        sb.cloud.set_cluster_endpoint(self.cluster_id, self.address, self._server.ca_pem)

    def shutdown(self) -> None:
        if self._blackhole is not None:
            self._blackhole.close()
            self._blackhole = None
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``: the endpoint as DescribeClusterEndpoints reports it."""
        return f"127.0.0.1:{self.kube_port}"

    @property
    def kube_url(self) -> str:
        scheme = self._server.scheme if self._server is not None else "https"
        return f"{scheme}://{self.address}"

    @property
    def ca_pem(self) -> bytes | None:
        return self._server.ca_pem if self._server is not None else None

    @property
    def context(self) -> str:
        """This cluster's context in the sandbox's kubeconfig."""
        return f"{self.cluster_id}-context-default"

    def kubeconfig_access(self) -> Any:
        from sgpctl.sandbox.kube.kubeconfig import Access

        return Access(cluster=self.cluster_id, server=self.kube_url, user=f"{self.cluster_id}-admin",
                      context=self.context, credentials={"token": self.kube_token}, ca_pem=self.ca_pem,
                      namespace="default")

    def set_reachable(self, reachable: bool, *, mode: str = "refuse") -> None:
        """Make this cluster's Kubernetes API unreachable (``mode`` ``refuse`` or ``hang``, see
        ``UNREACHABLE_MODES``) or reachable again on the same port. The cluster itself keeps
        running: its controllers act and the cloud still reports it."""
        if mode not in UNREACHABLE_MODES:
            raise InputError(f"unknown unreachable mode {mode!r}", hint=f"choose {' or '.join(UNREACHABLE_MODES)}")
        with self.sandbox._lock:
            if reachable:
                if self._blackhole is not None:
                    self._blackhole.close()
                    self._blackhole = None
                if self._server is None:
                    self._start_server(self.sandbox.tls_dir)
                self.reachable = True
                return
            if self._server is not None:
                self._server.shutdown()
                self._server = None
            if mode == "hang" and self._blackhole is None:
                # A listening socket nobody accepts from: the kernel completes TCP handshakes (up to
                # the backlog) and the client then waits for a TLS answer that never comes.
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", self.kube_port))
                s.listen(64)
                self._blackhole = s
            elif mode == "refuse" and self._blackhole is not None:
                self._blackhole.close()
                self._blackhole = None
            self.reachable = False

    # --- what the sandbox reports and saves --------------------------------------------------

    def counts(self) -> dict[str, int]:
        cache = self.world.cache
        return {"nodes": cache.count("nodes"), "namespaces": cache.count("namespaces"), "pods": cache.count("pods"),
                "deployments": cache.count("deployments.apps"),
                "securityGroupPolicies": cache.count(SGP_RESOURCE), "vpcEnis": cache.count(VPCENI_RESOURCE)}

    def info(self) -> dict:
        return {"clusterId": self.cluster_id, "region": self.region, "kubeUrl": self.kube_url,
                "kubePort": self.kube_port, "context": self.context, "reachable": self.reachable,
                "counts": self.counts()}

    def snapshot(self) -> dict:
        return {"clusterId": self.cluster_id, "region": self.region, "kubeToken": self.kube_token,
                "kubePort": self.kube_port, "podCidrs": self.pod_cidrs, "vpcCni": self.vpc_cni,
                "kube": self.kube.to_dict()}


class Sandbox:
    def __init__(self, scenario: str = "default", *, state_dir: Path | str | None = None, cloud_port: int = 0,
                 kube_port: int = 0, faults: str | None = None, addon_delay: float = 0.3, seed: int = 0,
                 retry_interval: float = 1.0, cloud_tls: bool = False, variants: dict[str, str] | None = None,
                 capture: dict | None = None):
        from sgpctl.sandbox import replay, scenarios
        from sgpctl.sandbox.faults import Faults
        from sgpctl.sandbox.requestlog import RequestLog

        if capture is not None or scenario == replay.SCENARIO:
            if capture is not None:
                replay.check(capture)
            if variants:
                raise InputError("variants cannot be chosen for a region replayed from a capture: its answers decide "
                                 "the readings", hint="drop --variant (sandbox status shows the readings chosen)")
            self.scenario = replay.SCENARIO
        else:
            self.scenario = scenarios.get(scenario).name
        #: the capture the region is built from (scenario ``capture``)
        self._capture = capture
        #: why each variant reading of a replayed region was chosen, and what it does not reproduce
        self.replay_evidence: list[str] = []
        self.state_dir = runner.StateDir.resolve(state_dir) if state_dir is not None else None
        self.cloud_port = int(cloud_port)
        #: the first cluster's Kubernetes port as asked for (0: any); cluster i gets kube_port + i
        self.first_kube_port = int(kube_port)
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
        self.secret_id = ""
        self.secret_key = ""
        self.cloud: Any = None
        self.clusters: list[SandboxCluster] = []
        self.tls_dir = ""
        self._lock = threading.RLock()
        self._cloud_server: Any = None
        self._files_dir: Path | None = None
        self._temp_dir: str | None = None
        self._started_at: float | None = None
        self._saver: threading.Thread | None = None
        self._stop_saver = threading.Event()
        self._saved_changes = -1
        self.running = False

    # --- the clusters ------------------------------------------------------------------------

    @property
    def replayed(self) -> bool:
        """Built from a capture: the region starts as captured (see ``sgpctl.sandbox.replay``)."""
        from sgpctl.sandbox import replay

        return self.scenario == replay.SCENARIO

    @property
    def primary(self) -> SandboxCluster:
        return self.clusters[0]

    def cluster(self, cluster_id: str) -> SandboxCluster:
        for c in self.clusters:
            if c.cluster_id == cluster_id:
                return c
        raise KeyError(f"no cluster {cluster_id!r} in this sandbox ({', '.join(c.cluster_id for c in self.clusters)})")

    @property
    def cluster_id(self) -> str:
        return self.primary.cluster_id if self.clusters else ""

    @property
    def kube(self) -> Any:
        return self.primary.kube

    @property
    def world(self) -> Any:
        return self.primary.world

    @property
    def controllers(self) -> Any:
        return self.primary.controllers

    @property
    def kube_token(self) -> str:
        return self.primary.kube_token

    @property
    def kube_port(self) -> int:
        return self.primary.kube_port if self.clusters else self.first_kube_port

    @property
    def changes(self) -> int:
        """Grows with every change the clusters' stores see (what autosave watches)."""
        return sum(c.controllers.changes for c in self.clusters)

    # --- life cycle ------------------------------------------------------------------------

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> "Sandbox":
        if self.running:
            return self
        saved = runner.load_state(self.state_dir) if self.state_dir is not None else None
        if saved is not None and self._capture is not None:
            raise InputError(f"{self.state_dir.path} holds a sandbox already: a capture builds a new one",
                             hint="add --reset to build it from the capture afresh, or use another --state-dir")
        if saved is not None:
            self._restore(saved)
        else:
            self._build()
        try:
            self._serve()
        except BaseException:
            for c in self.clusters:
                c.controllers.stop()
                c.shutdown()
            raise
        for c in self.clusters:
            c.controllers.start()
        self.running = True
        self._started_at = time.time()
        self.write_files(self._files_directory())
        if self.state_dir is not None:
            if saved is None:
                self.save()  # a fresh sandbox is resumable from the first moment, even if killed
            else:
                self._saved_changes = self.changes
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
        for c in self.clusters:
            c.controllers.stop()
        for c in self.clusters:
            c.shutdown()
        if self._cloud_server is not None:
            self._cloud_server.shutdown()
        if self.state_dir is not None:
            self.save()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    # --- building and restoring ------------------------------------------------------------

    def _new_cluster(self, cluster_id: str, region: str, service_cidr: str) -> SandboxCluster:
        from sgpctl.sandbox.kube import KubeStore
        from sgpctl.sandbox.kube.crds import vpceni_crd

        cluster = SandboxCluster(self, cluster_id, region, secrets.token_hex(24))
        kube = KubeStore(service_cidr=service_cidr, **self._kube_settings())
        kube.register_builtin()
        kube.create("customresourcedefinitions", vpceni_crd())
        cluster.attach(kube)
        self.clusters.append(cluster)
        return cluster

    def _build_replay(self) -> None:
        from sgpctl.sandbox import replay
        from sgpctl.sandbox.cloud.state import CloudState
        from sgpctl.sandbox.kube import KubeStore

        if self._capture is None:
            raise InputError("the capture scenario is built from a capture file",
                             hint="sgpctl sandbox up --from-capture FILE (written by `sgpctl capture`)")
        plan = replay.plan(self._capture, seed=self.seed, addon_delay=self.addon_delay)
        self.region = plan.region
        self.secret_id, self.secret_key = new_credentials()
        cloud = CloudState.from_dict(plan.cloud)
        cloud.addon_delay = self.addon_delay
        cloud.add_credentials(self.secret_id, self.secret_key)
        for eni in plan.enis_to_add:
            cloud.add_eni(**eni)
        self.cloud = cloud
        cluster = SandboxCluster(self, plan.cluster_id, plan.region, secrets.token_hex(24), pod_cidrs=plan.pod_cidrs,
                                 vpc_cni=plan.vpc_cni)
        kube = KubeStore.from_dict(plan.kube, service_cidr=plan.service_cidr, **self._kube_settings())
        kube.sgp_crd_schema = cloud.variant("sgp-crd-schema")
        kube.set_leases(cloud.variant("leases"))
        cluster.attach(kube)
        self.clusters.append(cluster)
        self.replay_evidence = list(plan.evidence)

    def _build(self) -> None:
        from sgpctl.sandbox import scenarios
        from sgpctl.sandbox.cloud.state import CloudState

        if self.replayed:
            self._build_replay()
            return

        rng = random.Random(self.seed)
        self.secret_id, self.secret_key = new_credentials()
        from sgpctl.sandbox import variants

        cloud = CloudState(self.region, scenarios.ZONES, addon_delay=self.addon_delay, seed=self.seed)
        cloud.add_credentials(self.secret_id, self.secret_key)
        self.cloud = cloud
        builders: list[tuple[SandboxCluster, Any]] = []

        def new_id() -> str:
            taken = {c.cluster_id for c in self.clusters}
            while True:
                cid = "cls-" + "".join(rng.choice(_ALNUM) for _ in range(8))
                if cid not in taken:
                    return cid

        def builder_for(region: str, name: str, *, zones: tuple[str, ...] | None = None,
                        vpc_cidr: str = "10.0.0.0/16") -> Any:
            from sgpctl.sandbox.cloud import regions
            from sgpctl.sandbox.kube import KubeStore

            cluster = self._new_cluster(new_id(), region, scenarios.SERVICE_CIDR)
            if zones is None:
                zones = scenarios.ZONES if region == scenarios.REGION else tuple(regions.REGIONS[region].zone_names()[:3])
            # The builder fills in the kubelet's Pod subnets (the world's dict) before any Pod starts.
            b = scenarios.Builder(cloud=cloud, kube=cluster.kube, rng=rng, cluster_id=cluster.cluster_id,
                                  converge=lambda: cluster.controllers.converge(timeout=60),
                                  pod_cidrs=cluster.world.pod_cidrs, new_cluster=builder_for, region=region,
                                  zones=tuple(zones), cluster_name=name, vpc_cidr=vpc_cidr,
                                  service_cidr=cluster.kube.service_cidr)

            def replace_kube(store: KubeStore) -> None:
                cluster.controllers.stop()
                cluster.pod_cidrs = dict(cluster.world.pod_cidrs)
                cluster.attach(store)
                b.kube, b.pod_cidrs = store, cluster.world.pod_cidrs

            b.replace_kube = replace_kube
            builders.append((cluster, b))
            return b

        scenarios.get(self.scenario).build(builder_for(self.region, "sgp-demo"))
        for cluster, b in builders:
            # The scenario builds the default reading; the variants then change what they read differently.
            variants.apply(self._asked_variants or {}, cloud, cluster.kube)
            cluster.pod_cidrs = dict(b.pod_cidrs)
            cluster.vpc_cni = b.vpc_cni
            cluster.controllers.converge(timeout=60)

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
        self.secret_id, self.secret_key = meta["secretId"], meta["secretKey"]
        self.seed = int(meta.get("seed", self.seed))
        self.region = meta.get("region") or self.region
        self.replay_evidence = list(meta.get("replayEvidence") or [])
        if not self.cloud_port and meta.get("cloudPort") and runner.port_free(int(meta["cloudPort"])):
            self.cloud_port = int(meta["cloudPort"])
        self.cloud = CloudState.from_dict(saved["cloud"])
        self.cloud.addon_delay = self.addon_delay
        for item in runner.saved_clusters(saved):
            port = int(item.get("kubePort") or 0)
            if not self.first_kube_port and port and not runner.port_free(port):
                port = 0
            cluster = SandboxCluster(self, item["clusterId"], item.get("region") or self.region, item["kubeToken"],
                                     kube_port=port, pod_cidrs=item.get("podCidrs"), vpc_cni=bool(item.get("vpcCni", True)))
            service_cidr = self.cloud.cluster(cluster.cluster_id)["ClusterNetworkSettings"]["ServiceCIDR"]
            kube = KubeStore.from_dict(item["kube"], service_cidr=service_cidr, **self._kube_settings())
            kube.sgp_crd_schema = self.cloud.variant("sgp-crd-schema")
            kube.set_leases(self.cloud.variant("leases"))
            cluster.attach(kube)
            self.clusters.append(cluster)
        for cluster in self.clusters:
            cluster.controllers.converge(timeout=60)

    def _kube_settings(self) -> dict[str, Any]:
        # The sgp-crd-schema variant is set on the store by variants.apply (built) or below (resumed).
        return {"namespace_cleanup_delay": NAMESPACE_CLEANUP_SECONDS}

    def _serve(self) -> None:
        from sgpctl.sandbox.cloud.server import start_cloud_server
        from sgpctl.sandbox.kube.tls import ensure_certificate, process_dir

        for i, cluster in enumerate(self.clusters):
            if self.first_kube_port:
                cluster.kube_port = self.first_kube_port + i
        ports = [self.cloud_port] + [c.kube_port for c in self.clusters]
        for port in ports:
            if port:
                runner.check_port(port)
        taken = [p for p in ports if p]
        if len(taken) != len(set(taken)):
            raise InputError(f"the cloud and Kubernetes APIs need a port each, got {', '.join(map(str, ports))}")
        self.tls_dir = str(self.state_dir.path) if self.state_dir is not None else process_dir()
        if self.state_dir is not None:
            self.state_dir.ensure()
        pair = ensure_certificate(self.tls_dir)  # the kube servers find the same files
        self._ca_file = pair[0] if pair is not None else None
        if self.cloud_tls and pair is None:
            raise InputError("cannot serve the cloud API over https: the openssl command is missing or failed",
                             hint="install openssl (it makes the sandbox's self-signed certificate), or drop --cloud-tls")
        cloud_tls = (str(pair[0]), str(pair[1])) if self.cloud_tls and pair is not None else None
        self.cloud.tls_dir = self.tls_dir
        try:
            self._cloud_server, self.cloud_port = start_cloud_server(
                self.cloud, faults=self.faults, request_log=self.log, port=self.cloud_port, tls=cloud_tls,
                clusters=_ClusterControl(self))
            for cluster in self.clusters:
                cluster.serve(self.tls_dir)
        except OSError as exc:
            for cluster in self.clusters:
                cluster.shutdown()
            if self._cloud_server is not None:
                self._cloud_server.shutdown()
                self._cloud_server = None
            raise InputError(f"cannot listen on 127.0.0.1: {exc.strerror or exc}",
                             hint="choose another --port or stop what holds it") from None

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
        return self.primary.kube_url

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
        """``DIR/kubeconfig`` (a context per cluster, the primary's current) and ``DIR/env`` (its
        KUBECONFIG names ``DIR/kubeconfig``)."""
        from sgpctl.sandbox.kube import kubeconfig

        directory = Path(directory).absolute()
        directory.mkdir(parents=True, exist_ok=True)
        kubeconfig.write(directory / "kubeconfig", [c.kubeconfig_access() for c in self.clusters],
                         self.primary.context)
        env = self.env()
        env["KUBECONFIG"] = str(directory / "kubeconfig")
        runner.write_private(directory / "env", runner.env_text(env))

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until the controllers have nothing left to do: delayed retries run now, queued
        events are handled, and no add-on operation is in flight. TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        for c in self.clusters:
            c.controllers.settle(max(deadline - time.monotonic(), 0.001))

    def resync(self) -> None:
        """Make every controller look at everything again (after changing state behind its back,
        e.g. ``sb.cloud.set_sub_eni_quota(instance_id, n)``)."""
        for cluster in self.clusters:
            mgr = cluster.controllers
            for c in mgr.controllers.values():
                for key in c.resync():
                    mgr.enqueue(c.name, key)

    # --- persistence -----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Objects in all clusters together, and the cloud's security groups and sub-ENIs."""
        totals: dict[str, int] = {}
        for c in self.clusters:
            for k, v in c.counts().items():
                totals[k] = totals.get(k, 0) + v
        with self.cloud.transaction():
            totals["securityGroups"] = len(self.cloud.security_groups)
            totals["subEnis"] = self.cloud.sub_eni_count()
        return totals

    def snapshot(self) -> dict:
        return {
            "sandbox": {"scenario": self.scenario, "clusterId": self.cluster_id, "region": self.region,
                        "secretId": self.secret_id, "secretKey": self.secret_key,
                        "seed": self.seed, "cloudPort": self.cloud_port, "variants": self.variants,
                        **({"replayEvidence": self.replay_evidence} if self.replayed else {})},
            "savedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "counts": self.counts(),
            "cloud": self.cloud.to_dict(),
            "clusters": [c.snapshot() for c in self.clusters],
        }

    def save(self) -> None:
        if self.state_dir is None:
            raise ValueError("this sandbox has no state dir")
        changes = self.changes
        runner.save_state(self.state_dir, self.snapshot())
        self._saved_changes = changes

    def _autosave(self) -> None:
        while not self._stop_saver.wait(AUTOSAVE_SECONDS):
            if self.changes != self._saved_changes:
                try:
                    self.save()
                except Exception:  # a failed autosave must not stop the sandbox; stop() saves again
                    log.exception("autosave failed")

    def info(self) -> dict:
        """What ``sandbox status`` shows about a running sandbox (no secrets). The top-level
        cluster fields are the primary's; ``clusters`` has every cluster."""
        return {"pid": None, "scenario": self.scenario, "clusterId": self.cluster_id, "region": self.region,
                "cloudUrl": self.cloud_url, "kubeUrl": self.kube_url, "cloudPort": self.cloud_port,
                "kubePort": self.kube_port, "faults": self.faults.spec, "variants": self.variants,
                "cloudTls": self.cloud_tls,
                "caFile": str(self.ca_file) if self.ca_file is not None else None,
                "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._started_at or time.time())),
                "counts": self.counts(), "clusters": [c.info() for c in self.clusters]}


class _ClusterControl:
    """What the cloud endpoint's ``/_sandbox/clusters`` control calls reach."""

    def __init__(self, sandbox: Sandbox):
        self._sandbox = sandbox

    def list(self) -> list[dict]:
        return [{k: v for k, v in c.info().items() if k != "counts"} for c in self._sandbox.clusters]

    def set_reachable(self, cluster_id: str, reachable: bool, mode: str = "refuse") -> dict:
        cluster = self._sandbox.cluster(cluster_id)
        cluster.set_reachable(reachable, mode=mode)
        return {k: v for k, v in cluster.info().items() if k != "counts"}
