from __future__ import annotations

from sgpctl.kube.client import Kube
from sgpctl.settings import Settings


def kube_from_settings(settings: Settings) -> Kube:
    return Kube.from_kubeconfig(settings.kubeconfig.value, settings.context.value)
