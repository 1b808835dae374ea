"""A thin Kubernetes adapter that returns plain dicts.

The official client does kubeconfig loading, authentication and TLS; requests go through
``ApiClient.call_api`` and JSON is decoded by hand, because kubernetes 37's typed models cost ~5 ms of
deserialisation per object (see the facts file) and `verify pods -A` lists tens of thousands of them.
Never touches the client's global configuration."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from typing import Any, Iterator
from urllib.parse import urlencode

from sgpctl import interrupts
from sgpctl.core.redact import redact_url_credentials
from sgpctl.errors import InputError, KubeError, UndeterminedError
from sgpctl.kube.resources import BUILTIN, LEASES, Resource, discovery_path

log = logging.getLogger("sgpctl.kube")

PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}


def find_kind(resources: list[dict], kind: str) -> dict | None:
    """The entry of a discovery list that serves ``kind``: the exact kind, else (as kubectl resolves a
    name) one whose kind matches case-insensitively or whose singular or short names include it in
    lower case. The spelling of some TKE kinds is not published (the seed writes "VpcEni", sgpctl
    "VpcENI"): the server's own kind is what the returned entry carries. Subresources never match."""
    top = [r for r in resources if "/" not in str(r.get("name", "")) and r.get("kind")]
    exact = next((r for r in top if r["kind"] == kind), None)
    if exact is not None:
        return exact
    wanted = kind.lower()
    return next((r for r in top if r["kind"].lower() == wanted or str(r.get("singularName") or "").lower() == wanted
                 or wanted in [str(n).lower() for n in r.get("shortNames") or ()]), None)

class Kube:
    def __init__(self, api_client: Any, *, server: str | None = None, context: str | None = None, page_size: int = 500,
                 max_attempts: int = 6, max_delay: float = 5.0, sleep=time.sleep, request_timeout: float = 60):
        self.api = api_client
        #: seconds a request may take when the caller does not say (a fleet gives each cluster its deadline)
        self.request_timeout = request_timeout
        # Like client-go: an answer of 429 is retried after its Retry-After (capped), so a busy API
        # server slows sgpctl down instead of failing it; reads are also retried after a 5xx.
        self.max_attempts = max_attempts
        self.max_delay = max_delay
        self.sleep = sleep
        self._base_url = server or getattr(api_client.configuration, "host", None)
        #: the API server's URL for messages, its user info (if any) masked
        self.server = redact_url_credentials(self._base_url) if self._base_url else self._base_url
        self.context = context
        self.page_size = page_size
        self._discovered: dict[tuple[str, str], Resource] = {}
        self.calls = 0  # requests made: tests and benchmarks count them

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_kubeconfig(cls, kubeconfig: str | None, context: str | None = None, **kw) -> "Kube":
        from kubernetes import config as kconfig
        from kubernetes.client import Configuration
        from kubernetes.config.config_exception import ConfigException

        from sgpctl.kube.kubeconfig import existing_paths, kubeconfig_paths, read_kubeconfig

        paths = kubeconfig_paths(kubeconfig)
        present = existing_paths(kubeconfig)
        if paths and not present:
            raise InputError(f"no kubeconfig at {kubeconfig}",
                             hint="pass --kubeconfig FILE or set KUBECONFIG (for TKE: download the cluster's kubeconfig in the console)")
        for path in present:
            # Bounded and shape-checked first: the client's own loader would raise anything on a bad file.
            read_kubeconfig(path)
        configuration = type.__call__(Configuration)
        shown = kubeconfig or "~/.kube/config"
        try:
            kconfig.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration, persist_config=False)
        except ConfigException as e:
            raise InputError(f"cannot use kubeconfig {shown}: {e}", hint="pass --kubeconfig/--context or set KUBECONFIG") from None
        except FileNotFoundError as e:
            raise InputError(f"cannot use kubeconfig {shown}: file not found: {e.filename}",
                             hint="pass --kubeconfig or set KUBECONFIG") from None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
            # Inside the client's loader, from what the file says (a bad certificate, base64, exec plugin).
            raise InputError(f"cannot use kubeconfig {shown}: {type(e).__name__}: {e}",
                             hint="pass --kubeconfig/--context or set KUBECONFIG") from None
        # One quick retry is enough to ride out a blip; urllib3's default of 3 makes an unreachable
        # server take many seconds to report (none when the caller wants an answer fast).
        configuration.retries = 0 if kw.get("max_attempts") == 1 else 1
        from kubernetes.client import ApiClient

        return cls(ApiClient(configuration=configuration), server=configuration.host, context=context, **kw)

    # -- raw requests ---------------------------------------------------------------------------
    def request(self, method: str, path: str, *, query: dict | None = None, body: Any = None,
                content_type: str = "application/json", timeout: float | None = None, mutation: bool | None = None) -> Any:
        """One request. ``mutation`` (default: any method but GET) marks it as a change in flight for
        the interrupt message; bookkeeping writes (sgpctl's writer Lease) pass False. ``timeout``: the
        adapter's ``request_timeout`` unless given."""
        timeout = self.request_timeout if timeout is None else timeout
        url = self._base_url.rstrip("/") + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        # update_params_for_auth adds the bearer token / exec-plugin credentials.
        self.api.update_params_for_auth(headers, None, ["BearerToken"], path, method, body)
        if mutation is None:
            mutation = method != "GET"
        with contextlib.ExitStack() as stack:
            if mutation:  # an interrupt now says the change may have been applied
                stack.enter_context(interrupts.mutation(f"{method} {path}"))
            resp = self._send_with_retries(method, url, path, headers, body, timeout)
        if resp.status >= 400:
            raise self._error_from(resp.status, resp.reason, resp.data, method, path)
        data = resp.data
        return json.loads(data) if data else None

    def _send_with_retries(self, method, url, path, headers, body, timeout):
        for attempt in range(1, self.max_attempts + 1):
            resp = self._send(method, url, path, headers, body, timeout)
            retry_after = _retry_after(resp)
            retryable = resp.status == 429 or (resp.status >= 500 and method == "GET")
            if not (retryable and retry_after is not None and attempt < self.max_attempts):
                break
            log.debug("%s %s: HTTP %s, retrying in %.1f s (attempt %d)", method, path, resp.status, min(retry_after, self.max_delay), attempt)
            self.sleep(min(retry_after, self.max_delay))
        return resp

    def _send(self, method, url, path, headers, body, timeout):
        from kubernetes.client.exceptions import ApiException

        started = time.monotonic()
        self.calls += 1
        try:
            resp = self.api.call_api(method, url, header_params=headers, body=body, _request_timeout=timeout)
            resp.read()
            return resp
        except ApiException as e:
            raise self._error(e, method, path) from None
        except Exception as e:  # urllib3 MaxRetryError, connection refused, TLS ...
            if _is_transport_error(e):
                raise UndeterminedError(
                    f"cannot reach the Kubernetes API server at {self.server}: {redact_url_credentials(_root_cause(e))}",
                    hint="check --kubeconfig/--context and that the cluster endpoint is reachable",
                ) from None
            raise
        finally:
            log.debug("%s %s (%.0f ms)", method, path, (time.monotonic() - started) * 1000)

    def _error(self, e, method: str, path: str) -> KubeError:
        return self._error_from(e.status, e.reason, e.body, method, path)

    def _error_from(self, status, reason, body, method, path) -> KubeError:
        message, api_reason = str(reason or ""), str(reason or "")
        try:
            st = json.loads(body) if body else {}
            if isinstance(st, dict):
                message = st.get("message") or message
                api_reason = st.get("reason") or api_reason
        except (ValueError, TypeError):
            pass
        hint = None
        if status == 401:
            hint = "the kubeconfig's credentials were rejected: refresh them (e.g. download a new kubeconfig for the cluster)"
        elif status == 403:
            hint = "the kubeconfig's user lacks RBAC permission for this request: ask a cluster admin"
        elif status == 404:
            hint = None
        return KubeError(status, api_reason, message, hint=hint)

    # -- resources ------------------------------------------------------------------------------
    def resource(self, group: str, kind: str) -> Resource:
        """The resource for a kind, through discovery for anything that is not built in.
        Raises KubeError(404) when the cluster does not serve it (e.g. the add-on's CRD is missing)."""
        if (group, kind) in BUILTIN:
            return BUILTIN[(group, kind)]
        key = (group, kind)
        if key not in self._discovered:
            found = self._discover(group, kind)
            if found is None:
                raise KubeError(404, "NotFound", f"the server does not serve kind {kind} in group {group}")
            self._discovered[key] = found
        return self._discovered[key]

    def serves(self, group: str, kind: str) -> bool:
        try:
            self.resource(group, kind)
            return True
        except KubeError as e:
            if e.status == 404:
                return False
            raise

    def _discover(self, group: str, kind: str) -> Resource | None:
        """The served resource of ``kind`` in ``group`` (``find_kind`` decides what matches), at the
        preferred version first."""
        try:
            g = self.request("GET", discovery_path(group))
        except KubeError as e:
            if e.status == 404:
                return None
            raise
        versions = [v.get("version") for v in (g or {}).get("versions", []) if isinstance(v.get("version"), str)]
        preferred = ((g or {}).get("preferredVersion") or {}).get("version")
        for version in ([preferred] if preferred else []) + [v for v in versions if v != preferred]:
            try:
                lst = self.request("GET", discovery_path(group, version))
            except KubeError as e:
                if e.status == 404:
                    continue
                raise
            found = find_kind((lst or {}).get("resources", []), kind)
            if found is not None:
                return Resource(group, version, found["name"], found["kind"], bool(found.get("namespaced")))
        return None

    # -- verbs ----------------------------------------------------------------------------------
    def iter_list(self, resource: Resource, namespace: str | None = None, *, label_selector: str | None = None,
                  field_selector: str | None = None) -> Iterator[dict]:
        cont = None
        while True:
            page = self.request(
                "GET",
                resource.collection_path(namespace),
                query={"labelSelector": label_selector or None, "fieldSelector": field_selector or None,
                       "limit": self.page_size, "continue": cont},
            )
            for item in page.get("items") or []:
                # Lists omit kind/apiVersion on items; restore them so callers can tell objects apart.
                item.setdefault("kind", resource.kind)
                item.setdefault("apiVersion", resource.api_version)
                yield item
            cont = (page.get("metadata") or {}).get("continue")
            if not cont:
                return

    def list(self, resource: Resource, namespace: str | None = None, *, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        return list(self.iter_list(resource, namespace, label_selector=label_selector, field_selector=field_selector))

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> dict | None:
        try:
            return self.request("GET", resource.object_path(name, namespace))
        except KubeError as e:
            if e.status == 404:
                return None
            raise

    # Every write takes ``dry_run``: the API server validates and admits it (``dryRun=All``) without
    # persisting it, as `kubectl --dry-run=server` does.

    def create(self, resource: Resource, obj: dict, namespace: str | None = None, *, dry_run: bool = False) -> dict:
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        return self.request("POST", resource.collection_path(ns), body=obj, query=_dry(dry_run))

    def replace(self, resource: Resource, obj: dict, *, dry_run: bool = False) -> dict:
        meta = obj.get("metadata") or {}
        return self.request("PUT", resource.object_path(meta["name"], meta.get("namespace")), body=obj, query=_dry(dry_run))

    def patch(self, resource: Resource, name: str, patch: Any, namespace: str | None = None, *, patch_type: str = "merge",
              dry_run: bool = False) -> dict:
        return self.request("PATCH", resource.object_path(name, namespace), body=patch, content_type=PATCH_TYPES[patch_type],
                            query=_dry(dry_run))

    def delete(self, resource: Resource, name: str, namespace: str | None = None, *, propagation: str = "Background",
               dry_run: bool = False) -> bool:
        """Delete; False when it was already gone."""
        try:
            self.request("DELETE", resource.object_path(name, namespace), query=_dry(dry_run),
                         body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation})
            return True
        except KubeError as e:
            if e.status == 404:
                return False
            raise

    def version(self) -> dict:
        return self.request("GET", "/version")

    # -- sgpctl's writer Lease (``workflows.lease``) ------------------------------------------------
    # Its writes are bookkeeping, not the user's change: an interrupt while sgpctl waits for or
    # releases the Lease has changed nothing the user asked for, so they are not marked in flight.
    def get_lease(self, name: str, namespace: str) -> dict | None:
        return self.get(LEASES, name, namespace)

    def create_lease(self, lease: dict, namespace: str) -> dict:
        return self.request("POST", LEASES.collection_path(namespace), body=lease, mutation=False)

    def replace_lease(self, lease: dict, namespace: str) -> dict:
        path = LEASES.object_path((lease.get("metadata") or {}).get("name", ""), namespace)
        return self.request("PUT", path, body=lease, mutation=False)


def _dry(dry_run: bool) -> dict | None:
    return {"dryRun": "All"} if dry_run else None


def _retry_after(resp) -> float | None:
    if resp.status != 429 and resp.status < 500:
        return None
    headers = resp.getheaders() if hasattr(resp, "getheaders") else {}
    value = headers.get("Retry-After") if headers else None
    if value is None:
        # Without Retry-After client-go would give up on a 5xx; a read is safe to repeat, so wait a
        # little and try again (the caller only retries 5xx for GET).
        return 1.0 if resp.status == 429 else 0.5
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


def _is_transport_error(e: BaseException) -> bool:
    mod = type(e).__module__ or ""
    return mod.startswith("urllib3") or isinstance(e, (ConnectionError, TimeoutError, OSError))


def _root_cause(e: BaseException) -> str:
    reason = getattr(e, "reason", None)
    while reason is not None and getattr(reason, "reason", None) is not None and reason is not reason.reason:
        reason = reason.reason
    text = str(reason or e)
    # urllib3 messages repeat the pool and object reprs; keep the part a user can act on.
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text.splitlines()[0][:200]
