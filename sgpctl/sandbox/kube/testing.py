"""A disposable Kubernetes sandbox for tests: store + server + kubeconfig + a kubectl runner.

    with KubeSandbox(tmp_path) as kube:
        kube.store.create("pods", {...})
        out = kube.kubectl("get", "pods", "-o", "name").stdout
        api = kube.api_client()          # kubernetes.client.ApiClient for the sandbox

``kubectl`` runs with its own kubeconfig and cache dir, and an environment without proxies or the
developer's KUBECONFIG, so a test never reaches a real cluster.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .server import KubeServer, start_kube_server
from .store import KubeStore

CLUSTER = "sandbox"


def kubectl_path() -> str | None:
    return shutil.which("kubectl")


class KubeSandbox:
    def __init__(self, directory: str | os.PathLike, *, store: KubeStore | None = None, faults: Any = None,
                 log: Any = None, token: str | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        if store is None:
            store = KubeStore(namespace_cleanup_delay=1.0)
            store.register_builtin()
        self.store = store
        self.token = token or secrets.token_hex(16)
        self.faults, self.log = faults, log
        self.server: KubeServer | None = None
        self.kubeconfig = self.dir / "kubeconfig"
        self.cache_dir = self.dir / "kube-cache"

    def __enter__(self) -> "KubeSandbox":
        self.server = start_kube_server(self.store, self.token, faults=self.faults, log=self.log)
        self.server.write_kubeconfig(self.kubeconfig, self.token, CLUSTER, CLUSTER)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k != "KUBECONFIG"}
        env["KUBECACHEDIR"] = str(self.cache_dir)
        env["HOME"] = str(self.dir)  # kubectl must not read or write the developer's ~/.kube
        return env

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [kubectl_path() or "kubectl", "--kubeconfig", str(self.kubeconfig), "--cache-dir",
               str(self.cache_dir), *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, env=self.env(), timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def kubectl_popen(self, *args: str) -> subprocess.Popen:
        cmd = [kubectl_path() or "kubectl", "--kubeconfig", str(self.kubeconfig), "--cache-dir",
               str(self.cache_dir), *args]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env())

    def api_client(self) -> Any:
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig), context=CLUSTER)
