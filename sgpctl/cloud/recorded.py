"""Cloud answers recorded by ``CloudSession.recording`` (a capture's ``cloud``, ``core.capture``), served
again through the same adapters, for commands that run offline on a capture (``capacity --snapshot``).

    session = RecordedSession(calls, region)
    session.tke.describe_vpc_cni_pod_limits()     # parses the captured answer exactly as the live one

A request is answered when the same service, action and parameters were recorded (the last such answer,
or the error it met, raised as that ``CloudError``); any other request raises ``CloudError`` with code
``NotCaptured``, which a command treats like any failed read (``capacity`` falls back to the next source).
Nothing is sent anywhere: no credentials are needed.
"""

from __future__ import annotations

from sgpctl.cloud.session import CloudSession
from sgpctl.core.capture import call_key
from sgpctl.errors import CloudError

NOT_CAPTURED = "NotCaptured"


class RecordedSession(CloudSession):
    def __init__(self, calls: list[dict], region: str | None = None):
        super().__init__(None, region)
        self._answers: dict[str, dict] = {}
        for call in calls:
            if isinstance(call, dict) and call.get("service") and call.get("action"):
                self._answers[call_key(call["service"], call["action"], call.get("params"))] = call

    def call(self, service: str, action: str, params: dict | None = None, *, idempotent: bool | None = None) -> dict:
        found = self._answers.get(call_key(service, action, params))
        if found is None:
            raise CloudError(NOT_CAPTURED, f"the capture holds no answer to {service} {action} with these parameters",
                             action=action)
        if "error" in found:
            error = found["error"] or {}
            raise CloudError(str(error.get("code") or "Unknown"), str(error.get("message") or ""), action=action)
        return dict(found.get("response") or {})
