"""A thread-safe log of the requests the sandbox endpoints answered, for tests to assert on.

Both endpoints share one :class:`RequestLog`. Each entry is a plain dict::

    {"seq": 12, "time": 1712345678.9, "api": "cloud" | "kube", "service": "vpc",
     "action": "DescribeNetworkInterfaces", "params": {...}, "mutating": False,
     "code": "OK", "status": 200}

``code`` is the Tencent error code of the answer ("OK" on success; "Dropped" for a dropped
connection, "HTTP500" for an injected 5xx); the Kubernetes endpoint records its own reason
(e.g. "NotFound") and the HTTP status. ``params`` never hold secrets: keys named like
*secret*, *token*, *password* or *authorization* (any case, at any depth) are removed.

``mark()`` returns a position; ``since(mark)`` returns what was recorded after it. Positions
survive ``clear()`` (``seq`` keeps counting), so a test can mark, act, and read only its own
calls. The log keeps the newest ``max_entries`` entries.

``describe(entry)`` is the public shape of an entry (``sgpctl sandbox requests`` prints it; tests
count calls with it): the same keys for both APIs, ``verb``/``resource``/``namespace`` for Kubernetes
(``verb`` as RBAC names it: list, get, watch, create, update, patch, delete) and ``service``/``action``
(and the request's ``params``, secrets removed) for the cloud; a Kubernetes list page after the first
carries ``"continue": true``. A detached
sandbox serves its log on the cloud port's control API (``/_sandbox/requests``); ``fetch`` reads it.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from typing import Any

_SECRET_KEY = re.compile(r"secret|token|password|authorization|credential", re.IGNORECASE)
READ_ONLY_PREFIXES: tuple[str, ...] = ("Describe", "List", "Get", "Check", "Inquiry")


def is_mutating(action: str) -> bool:
    """A cloud action changes something unless its name says it reads."""
    return not action.startswith(READ_ONLY_PREFIXES)


def redact(value: Any) -> Any:
    """A deep copy of ``value`` without secret-looking keys."""
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class RequestLog:
    def __init__(self, max_entries: int = 200_000):
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=max_entries)
        self._next_seq = 0

    def record(
        self,
        api: str,
        service: str,
        action: str,
        params: Any,
        mutating: bool,
        code: str,
        status: int,
        **extra: Any,
    ) -> dict:
        """Append one entry; ``extra`` keys (e.g. ``path``) are stored as given (redacted)."""
        entry = {
            "api": api,
            "service": service,
            "action": action,
            "params": redact(params) if params is not None else {},
            "mutating": bool(mutating),
            "code": code,
            "status": int(status),
        }
        entry.update(redact(extra))
        with self._lock:
            entry["seq"] = self._next_seq
            entry["time"] = time.time()
            self._next_seq += 1
            self._entries.append(entry)
        return entry

    def entries(
        self,
        api: str | None = None,
        service: str | None = None,
        mutating: bool | None = None,
        action: str | None = None,
    ) -> list[dict]:
        return self.since(0, api, service, mutating, action)

    def clear(self) -> int:
        """Forget every entry; returns how many there were."""
        with self._lock:
            n = len(self._entries)
            self._entries.clear()
            return n

    def mark(self) -> int:
        with self._lock:
            return self._next_seq

    def since(
        self,
        mark: int,
        api: str | None = None,
        service: str | None = None,
        mutating: bool | None = None,
        action: str | None = None,
    ) -> list[dict]:
        with self._lock:
            items = [e for e in self._entries if e["seq"] >= mark]
        return _filter(items, api, service, mutating, action)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _filter(items, api, service, mutating, action) -> list[dict]:
    return [
        dict(e)
        for e in items
        if (api is None or e["api"] == api)
        and (service is None or e["service"] == service)
        and (mutating is None or e["mutating"] == mutating)
        and (action is None or e["action"] == action)
    ]


def describe(entry: dict) -> dict:
    """One entry in the public shape (see the module doc)."""
    params = entry.get("params") or {}
    kube = entry.get("api") == "kube"
    query = params.get("query") or {} if kube else {}
    out = {
        "seq": entry.get("seq"),
        "time": entry.get("time"),
        "api": entry.get("api"),
        "verb": entry.get("action") if kube else None,
        "resource": params.get("resource") if kube else None,
        "namespace": params.get("namespace") if kube else None,
        "name": params.get("name") if kube else None,
        "service": None if kube else entry.get("service"),
        "action": None if kube else entry.get("action"),
        "status": entry.get("status"),
        "code": entry.get("code"),
        "mutating": entry.get("mutating"),
    }
    if not kube:
        out["params"] = params
    if kube:
        for key, name in (("labelSelector", "labelSelector"), ("fieldSelector", "fieldSelector")):
            if query.get(key):
                out[name] = query[key]
        if entry.get("action") == "list" and query.get("continue"):
            out["continue"] = True
        if not params.get("resource") and params.get("path") is not None:
            out["path"] = "/" + str(params["path"]).lstrip("/")
    return out


def fetch(cloud_url: str, admin_token: str, since: int = 0, timeout: float = 10.0) -> dict:
    """``{"entries": [described entries], "next": N}`` from a running sandbox's control API."""
    import json
    import urllib.request

    request = urllib.request.Request(f"{cloud_url.rstrip('/')}/_sandbox/requests?since={int(since)}",
                                     headers={"X-Sandbox-Token": admin_token})
    # The sandbox is on 127.0.0.1: a proxy from the environment must not see the token.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as resp:
        data = json.loads(resp.read().decode("utf-8"))
    return {"entries": [describe(e) for e in data.get("entries") or []], "next": data.get("next")}
