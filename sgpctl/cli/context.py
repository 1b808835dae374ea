"""The composition root: the application object every command receives in ``ctx.obj``.

``App`` holds the process boundary (``environment.Environment``), the output facade
(``app.out``, a ``render.terminal.Terminal``), the settings resolved from that environment, and builds
the clients lazily: the Kubernetes and cloud adapters (``kube()``, ``cloud()``) and the command's one
read of the cluster (``view(...)``). Command modules get everything from here and import no adapter
(``sgpctl.kube``, ``sgpctl.cloud``): a test enforces it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sgpctl.environment import Environment
from sgpctl.render.terminal import Terminal
from sgpctl.settings import RootFlags, Settings, resolve_settings


@dataclass
class App:
    flags: RootFlags
    env: Environment = field(default_factory=Environment.from_process)
    _settings: Settings | None = None
    _cloud: Any = None
    _kube: Any = None
    _out: Terminal | None = None
    #: the kube context as a ``kube.kubeconfig.ContextInfo`` when it is not the kubeconfig file's (a
    #: fleet cluster reached through DescribeClusterKubeconfig)
    _context_info: Any = None
    #: cloud sessions of other regions (``cloud_for``)
    _regional: dict = field(default_factory=dict)

    @property
    def out(self) -> Terminal:
        """The one way a command writes (data, tables, notes, progress, questions)."""
        if self._out is None:
            self._out = Terminal(self.env, no_color=self.flags.no_color)
        return self._out

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from sgpctl.kube.kubeconfig import current_context_info

            self._settings = resolve_settings(self.flags, self.env.environ, self.env.home, context_info=current_context_info)
        return self._settings

    @property
    def debug(self) -> bool:
        return self.flags.debug

    def set_flag(self, name: str, value: Any) -> None:
        """A global option given after the subcommand (``cli/conventions.py``), or --debug at the root:
        the same flags, as if given first. Settings resolve afterwards, lazily."""
        import dataclasses

        self.flags = dataclasses.replace(self.flags, **{name: value})
        self._settings = None
        if name == "no_color" and value and self._out is not None:
            self._out.no_color = True
        if name == "debug" and value:
            import logging

            logging.basicConfig(level=logging.DEBUG, format="debug: %(name)s: %(message)s", stream=self.env.stderr, force=True)
            # urllib3 logs request lines; they carry no secrets, but they drown the useful lines.
            logging.getLogger("urllib3").setLevel(logging.WARNING)

    def context_info(self):
        """The kube context in use (``kube.kubeconfig.ContextInfo``)."""
        if self._context_info is not None:
            return self._context_info
        from sgpctl.kube.kubeconfig import current_context_info

        return current_context_info(self.settings.kubeconfig.value, self.settings.context.value)

    def context_namespace(self) -> str:
        """The namespace commands use without -n/-A, as kubectl: the context's, else default."""
        return self.context_info().namespace or "default"

    def cloud(self):
        """A CloudSession for the resolved credentials, region and endpoint (a ``workflows.clients.Cloud``)."""
        if self._cloud is None:
            from sgpctl.cloud.factory import session_from_settings

            self._cloud = session_from_settings(self.settings)
        return self._cloud

    def cloud_for(self, region: str):
        """A cloud session for ``region`` (the same credentials and endpoint), one per region."""
        if region == self.settings.region.value:
            return self.cloud()
        if region not in self._regional:
            import dataclasses

            from sgpctl.cloud.factory import session_from_settings
            from sgpctl.settings import Setting

            self._regional[region] = session_from_settings(dataclasses.replace(self.settings, region=Setting(region, "fleet")))
        return self._regional[region]

    def kube_contexts(self) -> tuple[list[tuple[str, str | None]], str | None]:
        """The kubeconfig's contexts as (name, server), and the current one's name."""
        from sgpctl.kube.kubeconfig import load_merged

        merged, _ = load_merged(self.settings.kubeconfig.value)
        servers = {c.get("name"): (c.get("cluster") or {}).get("server") for c in merged["clusters"]}
        contexts = [(c.get("name"), servers.get((c.get("context") or {}).get("cluster"))) for c in merged["contexts"]]
        return contexts, self.settings.context.value or merged.get("current-context")

    def for_cluster(self, cluster_id: str, region: str, *, context: str | None = None, kubeconfig: str | None = None,
                    timeout: float = 60) -> App:
        """The App of one cluster of a fleet: its cluster id and region, the cloud session of that
        region, and its Kubernetes API through ``context`` of the kubeconfig or ``kubeconfig`` text
        (kept in memory), each request bounded by ``timeout``. It writes to a buffer of its own."""
        import dataclasses

        from sgpctl.kube.kubeconfig import ContextInfo
        from sgpctl.settings import Setting

        source = "fleet (DescribeClusters)"
        env = Environment.captured(self.env.environ, home=self.env.home, clock=self.env.clock, sleep=self.env.sleep,
                                   wall_clock=self.env.wall_clock)
        child = App(self.flags, env)
        child._settings = dataclasses.replace(
            self.settings, cluster_id=Setting(cluster_id, source), region=Setting(region, source),
            context=Setting(context, "fleet (its server is the cluster's endpoint)") if context else self.settings.context)
        child._cloud = self.cloud_for(region)
        from sgpctl.settings import retry_settings

        policy = retry_settings(self.settings.environ or {})
        limits = {"max_attempts": min(policy.max_attempts, 10), "max_delay": policy.max_delay, "request_timeout": timeout}
        if kubeconfig is not None:
            from sgpctl.kube.memory import kube_from_kubeconfig_text

            child._kube = kube_from_kubeconfig_text(kubeconfig, **limits)
            child._settings.kubeconfig = Setting("DescribeClusterKubeconfig (in memory)", source)
            child._context_info = ContextInfo(path="DescribeClusterKubeconfig (in memory)", context=child._kube.context,
                                              server=child._kube.server, cluster_id=cluster_id)
        else:
            from sgpctl.kube.client import Kube

            child._kube = Kube.from_kubeconfig(self.settings.kubeconfig.value, context, **limits)
        return child

    def cloud_or_none(self):
        """The cloud session, or None with a note when there are no credentials: for commands where
        the cloud only refines the answer (``capacity``'s quotas)."""
        from sgpctl.errors import SgpctlError

        try:
            self.settings.credentials()
            return self.cloud()
        except SgpctlError as e:
            self.out.note(f"note: quotas not read from the cloud ({e.message}): nodes without allocatable use the TKE table")
            return None

    def recorded_cloud(self, calls: list[dict]):
        """The cloud as a capture recorded it (``sgpctl.cloud.recorded.RecordedSession``): the adapters
        answer from ``calls``, for commands that run offline on a capture."""
        from sgpctl.cloud.recorded import RecordedSession

        return RecordedSession(calls, self.settings.region.value)

    def kube(self):
        """A Kube adapter for the resolved kubeconfig and context (a ``workflows.clients.KubeWriter``)."""
        if self._kube is None:
            from sgpctl.kube.factory import kube_from_settings

            self._kube = kube_from_settings(self.settings)
        return self._kube

    def quick_kube(self):
        """A Kubernetes adapter that answers within seconds or fails (shell completion)."""
        from sgpctl.kube.factory import kube_from_settings

        return kube_from_settings(self.settings, quick=True)

    def kube_or_none(self):
        """The Kubernetes adapter, or None without a usable kubeconfig: for commands where the cluster is
        only a fallback source (eniipamd's image tag)."""
        try:
            return self.kube()
        except Exception:  # noqa: BLE001 - no kubeconfig is fine there
            return None

    def view(self, namespace: str | None = None, *, pod_selector: str | None = None, kube: Any = None):
        """The command's one read of the cluster (``workflows.view.ClusterView``), scoped to
        ``namespace`` (None: all namespaces)."""
        from sgpctl.workflows.view import ClusterView

        client = kube if kube is not None else self.kube()
        return ClusterView(client, namespace=namespace, pod_selector=pod_selector, progress=self.out.progress)

    def backups(self):
        """Where backups of add-on values go (``sgpctl.backups.BackupStore``): the user's state directory."""
        from sgpctl.backups import BackupStore

        return BackupStore.for_user(self.env.environ, self.env.home)

    @contextlib.contextmanager
    def waiter(self, timeout: float, interval: float = 2.0) -> Iterator[Any]:
        """A ``workflows.waiting.Waiter`` whose progress is one transient line on a terminal, with the
        elapsed time and the limit ("waiting for eniipamd (12s of 600s)")."""
        from sgpctl.workflows.waiting import Waiter

        with self.out.status("working", limit=timeout) as update:
            yield Waiter(timeout=timeout, interval=interval, progress=update, clock=self.env.clock, sleep=self.env.sleep)


def get_app(ctx) -> App:
    root = ctx.find_root()
    if not isinstance(root.obj, App):
        env = root.obj if isinstance(root.obj, Environment) else Environment.from_process()
        root.obj = App(RootFlags(), env)
    return root.obj
