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

    def context_namespace(self) -> str:
        """The namespace commands use without -n/-A, as kubectl: the context's, else default."""
        from sgpctl.kube.kubeconfig import current_context_info

        return current_context_info(self.settings.kubeconfig.value, self.settings.context.value).namespace or "default"

    def cloud(self):
        """A CloudSession for the resolved credentials, region and endpoint (a ``workflows.clients.Cloud``)."""
        if self._cloud is None:
            from sgpctl.cloud.factory import session_from_settings

            self._cloud = session_from_settings(self.settings)
        return self._cloud

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
