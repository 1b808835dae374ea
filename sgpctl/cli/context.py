"""The application object every command receives in ``ctx.obj``: settings plus lazily built clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sgpctl.settings import RootFlags, Settings, resolve_settings


@dataclass
class App:
    flags: RootFlags
    _settings: Settings | None = None
    _cloud: Any = None
    _kube: Any = None
    extra: dict = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = resolve_settings(self.flags)
        return self._settings

    @property
    def debug(self) -> bool:
        return self.flags.debug

    def context_namespace(self) -> str:
        """The namespace commands use without -n/-A, as kubectl: the context's, else default."""
        from sgpctl.kube.kubeconfig import current_context_info

        return current_context_info(self.settings.kubeconfig.value, self.settings.context.value).namespace or "default"

    def cloud(self):
        """A CloudSession for the resolved credentials, region and endpoint."""
        if self._cloud is None:
            from sgpctl.cloud.factory import session_from_settings

            self._cloud = session_from_settings(self.settings)
        return self._cloud

    def kube(self):
        """A Kube adapter for the resolved kubeconfig and context."""
        if self._kube is None:
            from sgpctl.kube.factory import kube_from_settings

            self._kube = kube_from_settings(self.settings)
        return self._kube


def get_app(ctx) -> App:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = App(RootFlags())
    return root.obj
