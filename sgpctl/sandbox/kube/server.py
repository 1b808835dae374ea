"""The HTTP face of the store: a kube-apiserver subset that kubectl and the official clients accept.

``start_kube_server(store, token)`` serves on 127.0.0.1 (an ephemeral port by default) from a
daemon thread; ``write_kubeconfig`` writes a kubeconfig that points at it. Every request except
``/version`` and the health endpoints needs ``Authorization: Bearer <token>`` (401 otherwise).

Hooks: ``faults.decide("kube", verb)`` may answer 429 (throttle, with ``Retry-After: 1``), a 5xx,
drop the connection, add latency, or lose the reply (the request is applied, then the connection is
dropped instead of answering; a watch is dropped before its stream starts); ``log.record(...)`` gets one line per request (verb, resource,
namespace, name, query; never the body or the token).
"""

from __future__ import annotations

import hmac
import json
import secrets
import logging
import os
import select
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import auth, errors, fieldmanager, logs, openapi, schema, tables
from .admission import Request
from .errors import ApiError
from .resources import api_group, api_group_list, api_resource_list, api_versions, group_versions
from .store import LEASES_KEY, PATCH_TYPES, KubeStore, ResourceType, _dumps
from .tls import ensure_certificate

__all__ = ["KubeServer", "start_kube_server", "write_kubeconfig", "KUBE_VERSION"]

log = logging.getLogger(__name__)

KUBE_VERSION = {
    "major": "1", "minor": "30", "gitVersion": "v1.30.0-tke.1",
    "gitCommit": "5c5f1b2e3a0d6c8e9f7a1b2c3d4e5f60718293a4", "gitTreeState": "clean",
    "buildDate": "2024-06-12T08:00:00Z", "goVersion": "go1.22.2", "compiler": "gc", "platform": "linux/amd64",
}
_PUBLIC_PATHS = ("/version", "/version/", "/healthz", "/livez", "/readyz")
_MUTATING = {"create", "update", "patch", "delete", "deletecollection"}
_MAX_WATCH_SECONDS = 1800
BOOKMARK_INTERVAL = 10.0


@dataclass
class Route:
    group: str
    version: str
    plural: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    watch_path: bool = False


def parse_route(path: str) -> tuple[str, Any]:
    """(kind, detail): kind in version/health/api/apis/group/resources/openapi-*/route/none."""
    parts = [unquote(p) for p in path.split("/") if p]
    if path in ("/version", "/version/"):
        return "version", None
    if parts and parts[0] in ("healthz", "livez", "readyz"):
        return "health", None
    if parts[:2] == ["openapi", "v3"]:
        return "openapi-v3", parts[2:]
    if parts == ["openapi", "v2"]:
        return "openapi-v2", None
    if parts[:1] == ["openapi"]:
        return "none", None
    if parts == ["api"]:
        return "api", None
    if parts == ["apis"]:
        return "apis", None
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) == 2:
        return "group", parts[1]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return "none", None
    if not rest:
        return "resources", (group, version)
    route = Route(group, version)
    if rest[0] == "watch":
        route.watch_path = True
        rest = rest[1:]
    if len(rest) >= 3 and rest[0] == "namespaces" and not (group == "" and rest[2] in ("status", "finalize")):
        route.namespace = rest[1]
        rest = rest[2:]
    if not rest or len(rest) > 3:
        return "none", None
    route.plural = rest[0]
    route.name = rest[1] if len(rest) >= 2 else None
    route.subresource = rest[2] if len(rest) == 3 else None
    return "route", route


class KubeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: KubeStore, token: str | None, faults: Any = None,
                 log: Any = None, *, tls: bool = True, tls_dir: str | os.PathLike | None = None,
                 client_ca: str | os.PathLike | None = None):
        super().__init__(address, KubeHandler)
        self.store = store
        self.token = token
        self.faults = faults
        self.log = log
        self.closing = threading.Event()
        #: service account tokens this server issues and reviews
        self.tokens = auth.Tokens(token, secrets.token_bytes(32))
        self._thread: threading.Thread | None = None
        self._watch_lock = threading.Lock()
        self._watches = 0
        #: PEM of the serving certificate (its own CA), None when serving plain http
        self.ca_pem: bytes | None = None
        self.ssl_context: ssl.SSLContext | None = None
        if tls:
            self._setup_tls(tls_dir, client_ca)

    def _setup_tls(self, tls_dir: str | os.PathLike | None, client_ca: str | os.PathLike | None = None) -> None:
        with tempfile.TemporaryDirectory(prefix="sgpctl-kube-tls-") as tmp:
            pair = ensure_certificate(tls_dir if tls_dir is not None else tmp)
            if pair is None:
                log.warning("the openssl command is missing or failed: the sandbox's Kubernetes API serves "
                            "plain http, where kubectl sends no bearer token (every kubectl call gets 401); "
                            "install openssl and start the sandbox again")
                return
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(pair[0]), str(pair[1]))
            if client_ca is not None:
                # x509 client certificates this CA issued authenticate too (TKE's kubeconfigs carry them);
                # optional, so bearer-token clients still connect.
                ctx.load_verify_locations(cafile=str(client_ca))
                ctx.verify_mode = ssl.CERT_OPTIONAL
            self.ca_pem = pair[0].read_bytes()
            self.ssl_context = ctx

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, in the connection's own thread, not in the accept loop.
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("kube sandbox: connection from %s failed", client_address, exc_info=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def active_watches(self) -> int:
        """Watch streams being served right now (one ends when its client goes away)."""
        with self._watch_lock:
            return self._watches

    def _count_watch(self, delta: int) -> None:
        with self._watch_lock:
            self._watches += delta

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.server_address[0]}:{self.port}"

    def write_kubeconfig(self, path: str | os.PathLike, token: str | None = None, cluster_name: str = "sandbox",
                         context_name: str = "sandbox", namespace: str = "default") -> None:
        write_kubeconfig(path, self.url, token if token is not None else (self.token or ""), cluster_name,
                         context_name, namespace, ca_pem=self.ca_pem)

    def start(self) -> "KubeServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"kube-api-{self.port}", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving, end open watches, free the port."""
        self.closing.set()
        self.store.wake()
        super().shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def start_kube_server(store: KubeStore, token: str | None, faults: Any = None, log: Any = None,
                      host: str = "127.0.0.1", port: int = 0, *, tls: bool = True,
                      tls_dir: str | os.PathLike | None = None,
                      client_ca: str | os.PathLike | None = None) -> KubeServer:
    """Serve ``store`` on host:port (0: any free port) from a daemon thread. ``token=None`` disables auth.

    HTTPS by default, with a self-signed certificate kept in ``tls_dir`` (reused across restarts;
    a throw-away one when None): kubectl sends bearer tokens only over TLS. Pass ``server.ca_pem``
    to ``write_kubeconfig`` (or call ``server.write_kubeconfig``). With ``client_ca`` (a PEM file),
    client certificates that CA issued authenticate as well as the token."""
    return KubeServer((host, port), store, token, faults, log, tls=tls, tls_dir=tls_dir,
                      client_ca=client_ca).start()


def write_kubeconfig(path: str | os.PathLike, url: str, token: str, cluster_name: str, context_name: str,
                     namespace: str = "default", *, ca_pem: bytes | str | None = None) -> None:
    """A kubeconfig with one cluster, one user (bearer token) and one current context; mode 0600.
    For an https ``url``, ``ca_pem`` is the server certificate to trust (without it, TLS is not verified)."""
    from .kubeconfig import Access, write

    write(path, [Access(cluster=cluster_name, server=url, user=f"{cluster_name}-admin", context=context_name,
                        credentials={"token": token}, ca_pem=ca_pem, namespace=namespace)], context_name)


class _Dropped(Exception):
    """A fault asked for the connection to be dropped without an answer."""


class KubeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "sgpctl-sandbox-kube/1.0"
    server: KubeServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # ------------------------------------------------------------------ plumbing

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, code: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self._code = code
        self._record()
        if self._lose_reply:
            raise _Dropped()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        for warning in self._warnings:
            self.send_header("Warning", '299 - ' + json.dumps(warning))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, code: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(code, _dumps(obj), headers=headers)

    def _send_error(self, exc: ApiError) -> None:
        self._reason = exc.reason
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        self._send_json(exc.code, exc.status(), headers)

    def _handle(self, method: str) -> None:
        self._code, self._reason = 0, ""
        self._warnings: list[str] = []
        self._lose_reply = False
        self._started = time.monotonic()
        self._recorded = False
        url = urlsplit(self.path)
        self._path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        kind, detail = parse_route(url.path)
        verb, params = _describe(method, kind, detail, query)
        self._verb, self._params = verb, params
        try:
            body = self._read_body()
            if self.server.token is not None and url.path not in _PUBLIC_PATHS and kind != "health":
                auth = self.headers.get("Authorization", "")
                if not (auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].strip(), self.server.token)) \
                        and not self._client_certificate():
                    raise errors.unauthorized()
            self._inject_fault(verb)
            self._dispatch(method, kind, detail, query, body)
        except _Dropped:
            self.close_connection = True
            self._code, self._reason = 0, "Dropped"
            self._record()
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except ApiError as exc:
            self._send_error(exc)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug here must look like a server error, not a hung client
            log.exception("kube sandbox: %s %s failed", method, self.path)
            try:
                self._send_error(errors.internal(f"Internal error occurred: {type(exc).__name__}: {exc}"))
            except OSError:
                self.close_connection = True
        finally:
            self._record()

    def _client_certificate(self) -> bool:
        """Whether the TLS peer presented a client certificate the server's client CA verified."""
        getpeercert = getattr(self.connection, "getpeercert", None)
        try:
            return bool(getpeercert and getpeercert())
        except (ValueError, ssl.SSLError):
            return False

    def _inject_fault(self, verb: str) -> None:
        faults = self.server.faults
        if faults is None:
            return
        fault = faults.decide("kube", verb)
        if fault is None:
            return
        delay_ms = getattr(fault, "latency_ms", 0) or (fault.value if fault.kind == "latency" else 0)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if fault.kind == "throttle":
            raise errors.too_many_requests()
        if fault.kind == "5xx":
            raise errors.internal()
        if fault.kind == "drop":
            raise _Dropped()
        self._lose_reply = fault.loses_reply

    def _record(self) -> None:
        """Log the request once, before its answer goes out, so a client that got an answer can
        rely on finding it in the log (for a watch: when the stream starts)."""
        sink = self.server.log
        if sink is None or self._recorded:
            return
        self._recorded = True
        code = self._reason or ("OK" if 200 <= self._code < 300 else f"HTTP{self._code}")
        extra = {"replyLost": True} if self._lose_reply else {}
        try:
            sink.record("kube", "kube", self._verb, self._params, self._verb in _MUTATING, code, self._code,
                        path=self._path, method=self.command,
                        durationMs=round((time.monotonic() - self._started) * 1000, 2), **extra)
        except Exception:
            log.exception("kube sandbox: request log failed")

    # ------------------------------------------------------------------ routing

    def _dispatch(self, method: str, kind: str, detail: Any, query: dict, body: bytes) -> None:
        store = self.server.store
        if kind == "health":
            self._send(200, b"ok", "text/plain; charset=utf-8")
            return
        if kind in ("version", "api", "apis", "group", "resources", "openapi-v3", "openapi-v2") and method != "GET":
            raise errors.method_not_allowed()
        if kind == "version":
            self._send_json(200, KUBE_VERSION)
        elif kind == "api":
            host, port = self.server.server_address[:2]
            self._send_json(200, api_versions(f"{host}:{port}"))
        elif kind == "apis":
            self._send_json(200, api_group_list(store.types()))
        elif kind == "group":
            versions = group_versions(store.types()).get(detail)
            if not versions:
                raise errors.no_route()
            self._send_json(200, dict(kind="APIGroup", apiVersion="v1", **api_group(detail, versions)))
        elif kind == "resources":
            group, version = detail
            types = store.types()
            if not any(t.group == group and version in t.versions for t in types) and not (group == "" and version == "v1"):
                raise errors.no_route()
            self._send_json(200, api_resource_list(group, version, types))
        elif kind == "openapi-v3":
            self._openapi(detail)
        elif kind == "openapi-v2":
            self._send_json(200, openapi.v2_document(store.types(), KUBE_VERSION["gitVersion"], store.crds()))
        elif kind == "route":
            self._resource(method, detail, query, body)
        else:
            raise errors.no_route()

    def _openapi(self, parts: list[str]) -> None:
        types = self.server.store.types()
        version = KUBE_VERSION["gitVersion"]
        crds = self.server.store.crds()
        if not parts:
            self._send_json(200, openapi.index_document(types, version, crds))
            return
        if parts[0] == "api" and len(parts) == 2:
            group, ver = "", parts[1]
        elif parts[0] == "apis" and len(parts) == 3:
            group, ver = parts[1], parts[2]
        else:
            raise errors.no_route()
        if not any(t.group == group and ver in t.versions for t in types):
            raise errors.no_route()
        self._send_json(200, openapi.gv_document(group, ver, types, version, crds))

    def _request(self, query: dict, *, apply: bool = False) -> Request:
        """The options of a write (``fieldValidation``, ``fieldManager``, ``force``)."""
        bad = schema.bad_field_validation(query.get("fieldValidation"))
        if bad is not None:
            raise bad
        manager = query.get("fieldManager") or ""
        if not manager and not apply:
            manager = fieldmanager.manager_from_user_agent(self.headers.get("User-Agent"))
        request = Request(field_validation=query.get("fieldValidation") or "Warn", field_manager=manager,
                          force=_truthy(query.get("force")))
        self._warnings = request.warnings
        return request

    def _resource(self, method: str, route: Route, query: dict, body: bytes) -> None:
        store = self.server.store
        rt = store.resource(route.group, route.version, route.plural or "")
        if rt is None:
            raise errors.no_route()
        if rt.key == LEASES_KEY and store.leases == "forbidden":
            target = f'{rt.key} "{route.name}"' if route.name else rt.key
            raise errors.forbidden(f'{target} is forbidden: User "{auth.ADMIN_USER["username"]}" cannot {self._verb} '
                                   f'resource "{rt.plural}" in API group "{rt.group}"'
                                   + (f' in the namespace "{route.namespace}"' if route.namespace else " at the cluster scope"))
        if (rt.namespaced and route.namespace is None and (route.name or method != "GET")) or \
                (not rt.namespaced and route.namespace is not None):
            raise errors.no_route()
        sub = route.subresource
        if sub is not None and sub not in rt.subresources:
            raise errors.no_route()
        if sub == "binding" and method != "POST":
            raise errors.method_not_allowed()
        if rt.review:
            if method != "POST" or route.name is not None:
                raise errors.method_not_allowed()
            self._review(rt, route, query, body)
            return
        if sub in ("exec", "attach", "portforward"):
            raise errors.not_emulated(f"pods/{sub}")
        if sub == "log":
            if method != "GET":
                raise errors.method_not_allowed()
            entry = store.get_entry(rt, route.namespace, route.name or "")
            if entry is None:
                raise errors.not_found("", "pods", route.name or "")
            self._send(200, logs.pod_log(store, entry.obj, query, time.time()), "text/plain")
            return
        if sub == "token":
            if method != "POST":
                raise errors.method_not_allowed()
            self._token_request(route, query, body)
            return
        dry_run = query.get("dryRun") == "All"
        ns, name = route.namespace, route.name
        watch = route.watch_path or _truthy(query.get("watch"))

        if method == "GET" and (name is None or watch) and sub is None:
            if watch:
                self._watch(rt, route, query)
            else:
                self._list(rt, route, query)
        elif method == "GET" and name is not None:
            if sub == "scale":
                self._send_json(200, store.get_scale(rt, ns, name))
                return
            entry = store.get_entry(rt, ns, name)
            if entry is None:
                raise errors.not_found(rt.group, rt.plural, name)
            self._send_object(rt, route.version, entry.obj, entry.raw, query)
        elif method == "POST" and name is None:
            obj = _decode(body, self.headers.get("Content-Type"))
            if not isinstance(obj, dict):
                raise errors.bad_request("the object provided is not a valid object")
            meta = obj.setdefault("metadata", {})
            if not isinstance(meta, dict):
                raise errors.bad_request("the object provided is not a valid object: metadata must be an object")
            if rt.namespaced:
                if meta.get("namespace") and meta["namespace"] != ns:
                    raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                             "sent on the request")
                meta["namespace"] = ns
            created = store.create(rt, obj, dry_run=dry_run, keep_status=False, request=self._request(query),
                                   version=route.version)
            self._send_object(rt, route.version, created, None, query, 201)
        elif method == "POST" and sub == "binding":
            obj = _decode(body, self.headers.get("Content-Type"))
            target = (obj or {}).get("target") or {}
            if not target.get("name"):
                raise errors.invalid("", "Binding", name or "", [("target.name", "Required value")])
            store.bind(ns or "default", name, target["name"], dry_run=dry_run)
            self._send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                  "code": 201})
        elif method == "PUT" and name is not None:
            obj = _decode(body, self.headers.get("Content-Type"))
            if not isinstance(obj, dict):
                raise errors.bad_request("the object provided is not a valid object")
            if sub == "scale":
                self._send_json(200, store.update_scale(rt, ns, name, obj, dry_run=dry_run))
                return
            meta = obj.setdefault("metadata", {})
            if not isinstance(meta, dict):
                raise errors.bad_request("the object provided is not a valid object: metadata must be an object")
            if meta.get("name") and meta["name"] != name:
                raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the "
                                         f"URL ({name})")
            if rt.namespaced and meta.get("namespace") and meta["namespace"] != ns:
                raise errors.bad_request("the namespace of the provided object does not match the namespace sent "
                                         "on the request")
            meta["name"] = name
            if rt.namespaced:
                meta["namespace"] = ns
            updated = store.update(rt, obj, subresource=sub, dry_run=dry_run, request=self._request(query),
                                   version=route.version)
            self._send_object(rt, route.version, updated, None, query)
        elif method == "PATCH" and name is not None:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type not in PATCH_TYPES or "/" not in content_type:
                raise errors.unsupported_media_type(content_type, tuple(k for k in PATCH_TYPES if "/" in k))
            patch = _decode(body, content_type)
            if sub == "scale":
                self._send_json(200, store.update_scale(rt, ns, name, patch=patch, patch_type=content_type,
                                                        dry_run=dry_run))
                return
            request = self._request(query, apply=PATCH_TYPES[content_type] == "apply")
            result = store.patch(rt, ns, name, patch, content_type, subresource=sub, dry_run=dry_run,
                                 request=request, version=route.version)
            self._send_object(rt, route.version, result, None, query)
        elif method == "DELETE" and sub is None:
            options = _decode(body, self.headers.get("Content-Type")) if body else {}
            options = options if isinstance(options, dict) else {}
            propagation = options.get("propagationPolicy") or query.get("propagationPolicy")
            if options.get("orphanDependents") is True or query.get("orphanDependents") == "true":
                propagation = "Orphan"
            dry_run = dry_run or "All" in (options.get("dryRun") or ())
            if name is None:
                deleted = store.delete_collection(rt, ns, query.get("labelSelector"), query.get("fieldSelector"),
                                                  propagation, dry_run=dry_run)
                self._send_json(200, {"kind": rt.list_kind, "apiVersion": rt.api_version(route.version),
                                      "metadata": {"resourceVersion": str(store.resource_version)},
                                      "items": [_at_version(rt, route.version, o) for o in deleted]})
                return
            result = store.delete(rt, ns, name, propagation, preconditions=options.get("preconditions"),
                                  dry_run=dry_run)
            meta = result["metadata"]
            if rt.key != "pods" and not meta.get("deletionTimestamp") and not dry_run:
                # Gone at once: the real server answers with a Status, not the object (a Pod's
                # deletion is graceful there, so its object comes back).
                details = {"name": meta["name"], "kind": rt.plural, "uid": meta.get("uid")}
                if rt.group:
                    details["group"] = rt.group
                self._send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                      "details": details})
                return
            self._send_object(rt, route.version, result, None, query)
        else:
            raise errors.method_not_allowed()

    def _review(self, rt: ResourceType, route: Route, query: dict, body: bytes) -> None:
        obj = _decode(body, self.headers.get("Content-Type"))
        if not isinstance(obj, dict):
            raise errors.bad_request("the object provided is not a valid object")
        obj = schema.decode_builtin(obj, rt.group, route.version, rt.kind, query.get("fieldValidation") or "Warn",
                                    None)
        spec = obj.get("spec") or {}
        server = self.server
        if rt.kind == "TokenReview":
            status = server.tokens.review(spec.get("token") or "", spec.get("audiences"))
        elif rt.kind == "SelfSubjectReview":
            status = {"userInfo": self._user()}
        elif rt.kind == "SelfSubjectRulesReview":
            status = auth.admin_rules() if "system:masters" in self._user()["groups"] else \
                {"resourceRules": [], "nonResourceRules": [], "incomplete": True,
                 "evaluationError": "the sandbox lists rules only for the admin; ask with auth can-i instead"}
        elif rt.kind == "SelfSubjectAccessReview":
            user = self._user()
            attrs = dict(spec.get("resourceAttributes") or {})
            if spec.get("nonResourceAttributes"):
                attrs = {"nonResource": True, "verb": spec["nonResourceAttributes"].get("verb", ""),
                         "path": spec["nonResourceAttributes"].get("path", "")}
            ok, reason = auth.allowed(server.store, user["username"], user["groups"], attrs)
            status = {"allowed": ok}
            if reason:
                status["reason"] = reason
        else:  # SubjectAccessReview, LocalSubjectAccessReview
            attrs = dict(spec.get("resourceAttributes") or {})
            if spec.get("nonResourceAttributes"):
                attrs = {"nonResource": True, "verb": spec["nonResourceAttributes"].get("verb", ""),
                         "path": spec["nonResourceAttributes"].get("path", "")}
            if rt.kind == "LocalSubjectAccessReview":
                attrs["namespace"] = route.namespace
            ok, reason = auth.allowed(server.store, spec.get("user") or "", list(spec.get("groups") or ()), attrs)
            status = {"allowed": ok}
            if reason:
                status["reason"] = reason
        obj["status"] = status
        obj.setdefault("metadata", {})["creationTimestamp"] = None
        obj["apiVersion"], obj["kind"] = rt.api_version(route.version), rt.kind
        self._send_json(201, obj)

    def _user(self) -> dict:
        """Who the request acts as: the admin, or whom it impersonates (``kubectl --as``)."""
        name = self.headers.get("Impersonate-User")
        if not name:
            return dict(auth.ADMIN_USER)
        groups = list(self.headers.get_all("Impersonate-Group") or [])
        if name.startswith("system:serviceaccount:"):
            ns = name.split(":")[2]
            groups += ["system:serviceaccounts", f"system:serviceaccounts:{ns}"]
        return {"username": name, "groups": groups + ["system:authenticated"]}

    def _token_request(self, route: Route, query: dict, body: bytes) -> None:
        store = self.server.store
        sa = store.get("serviceaccounts", route.namespace, route.name or "")
        if sa is None:
            raise errors.not_found("", "serviceaccounts", route.name or "")
        obj = _decode(body, self.headers.get("Content-Type")) if body else {}
        obj = obj if isinstance(obj, dict) else {}
        spec = obj.get("spec") or {}
        seconds = spec.get("expirationSeconds")
        if seconds is not None and (not isinstance(seconds, int) or seconds < 600):
            raise errors.invalid("authentication.k8s.io", "TokenRequest", route.name or "", [
                ("spec.expirationSeconds", f"Invalid value: {seconds}: may not specify a duration less than 10 "
                                           "minutes")])
        answer = self.server.tokens.issue(sa, spec)
        self._send_json(201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                              "metadata": {"name": route.name, "namespace": route.namespace,
                                           "creationTimestamp": None}, **answer})

    # ------------------------------------------------------------------ responses

    def _send_object(self, rt: ResourceType, version: str, obj: dict, raw: bytes | None, query: dict,
                     code: int = 200) -> None:
        table = tables.wanted(self.headers.get("Accept"))
        if table:
            self._send_json(code, tables.table(rt, [obj], query, table))
            return
        if version != rt.version or raw is None:
            raw = _dumps(_at_version(rt, version, obj))
        self._send(code, raw)

    def _list(self, rt: ResourceType, route: Route, query: dict) -> None:
        store = self.server.store
        if query.get("continue") and query.get("resourceVersion") not in (None, "", "0"):
            raise errors.bad_request("specifying resource version is not allowed when using continue")
        limit = _int_param(query, "limit")
        entries, rv, token, remaining = store.list_entries(
            rt, route.namespace, query.get("labelSelector"), query.get("fieldSelector"),
            limit if limit and limit > 0 else None, query.get("continue") or None)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        table = tables.wanted(self.headers.get("Accept"))
        if table:
            doc = tables.table(rt, [e.obj for e in entries], query, table)
            doc["metadata"] = meta
            self._send_json(200, doc)
            return
        if route.version == rt.version:
            items = b",".join(e.raw for e in entries)
        else:
            items = b",".join(_dumps(_at_version(rt, route.version, e.obj)) for e in entries)
        head = _dumps({"kind": rt.list_kind, "apiVersion": rt.api_version(route.version), "metadata": meta})
        self._send(200, head[:-1] + b',"items":[' + items + b"]}")

    def _watch(self, rt: ResourceType, route: Route, query: dict) -> None:
        store = self.server.store
        field_selector = query.get("fieldSelector") or ""
        if route.name:
            pin = "metadata.name=" + route.name.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
            field_selector = f"{field_selector},{pin}" if field_selector else pin
        initial_events = _truthy(query.get("sendInitialEvents"))
        rv = None if initial_events else query.get("resourceVersion")
        bookmarks = _truthy(query.get("allowWatchBookmarks"))
        timeout = _int_param(query, "timeoutSeconds") or _MAX_WATCH_SECONDS
        deadline = time.monotonic() + min(timeout, _MAX_WATCH_SECONDS)
        table = tables.wanted(self.headers.get("Accept"))
        try:
            watcher = store.watcher(rt, route.namespace, rv, query.get("labelSelector"), field_selector or None)
            first_error = None
        except ApiError as exc:
            if exc.code != 410:
                raise
            watcher, first_error = None, exc

        self._code = 200
        self._record()
        if self._lose_reply:
            raise _Dropped()

        def emit(data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        def event(type_: str, obj_raw: bytes) -> bytes:
            return b'{"type":"' + type_.encode() + b'","object":' + obj_raw + b"}\n"

        def bookmark(extra: dict | None = None) -> bytes:
            meta: dict[str, Any] = {"resourceVersion": str(watcher.rv if watcher else store.resource_version)}
            if extra:
                meta["annotations"] = extra
            return event("BOOKMARK", _dumps({"kind": rt.kind, "apiVersion": rt.api_version(route.version),
                                              "metadata": meta}))

        self.server._count_watch(1)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            if first_error is not None:
                emit(event("ERROR", _dumps(first_error.status())))
            idle_since = time.monotonic()
            first = True
            while watcher is not None and not self.server.closing.is_set() and not watcher.ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch = watcher.next(min(1.0, remaining))
                except ApiError as exc:
                    emit(event("ERROR", _dumps(exc.status())))
                    break
                if batch:
                    out = []
                    for type_, entry in batch:
                        if table:
                            raw = _dumps(tables.table(rt, [entry.obj], query, table))
                        elif route.version != rt.version:
                            raw = _dumps(_at_version(rt, route.version, entry.obj))
                        else:
                            raw = entry.raw
                        out.append(event(type_, raw))
                    emit(b"".join(out))
                    idle_since = time.monotonic()
                if first and initial_events:
                    emit(bookmark({"k8s.io/initial-events-end": "true"}))
                first = False
                if not batch:
                    if self._client_gone():
                        self.close_connection = True
                        return
                    if bookmarks and time.monotonic() - idle_since >= BOOKMARK_INTERVAL:
                        emit(bookmark())
                        idle_since = time.monotonic()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            self.server._count_watch(-1)

    def _client_gone(self) -> bool:
        # A watching client sends nothing until the stream ends, so anything readable (EOF, a TLS
        # close_notify) means it went away.
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            if isinstance(self.connection, ssl.SSLSocket):
                return True
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


def _describe(method: str, kind: str, detail: Any, query: dict) -> tuple[str, dict]:
    """The verb (as RBAC and audit logs name it) and the logged parameters of a request."""
    if kind != "route":
        return ({"openapi-v3": "openapi", "openapi-v2": "openapi", "version": "version",
                 "health": "health"}.get(kind, "discovery"),
                {"path": "/".join(str(x) for x in ([detail] if isinstance(detail, str) else (detail or [])))})
    route: Route = detail
    watch = route.watch_path or _truthy(query.get("watch"))
    if method == "GET":
        verb = "watch" if watch else ("list" if route.name is None else "get")
    elif method == "POST":
        verb = "create"
    elif method == "PUT":
        verb = "update"
    elif method == "PATCH":
        verb = "patch"
    elif method == "DELETE":
        verb = "delete" if route.name else "deletecollection"
    else:
        verb = method.lower()
    resource = f"{route.plural}.{route.group}" if route.group else route.plural
    params = {"resource": resource, "version": route.version, "namespace": route.namespace, "name": route.name,
              "subresource": route.subresource, "query": dict(query)}
    return verb, {k: v for k, v in params.items() if v not in (None, {}, "")}


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def _int_param(query: dict, name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'invalid value for {name}: "{value}"') from None


def _decode(body: bytes, content_type: str | None) -> Any:
    ctype = (content_type or "application/json").split(";")[0].strip().lower()
    if "protobuf" in ctype:
        raise errors.unsupported_media_type(ctype, ("application/json", "application/yaml"))
    if not body:
        raise errors.bad_request("the request body is empty")
    try:
        if "yaml" in ctype:
            import yaml

            return yaml.safe_load(body)
        return json.loads(body)
    except Exception as exc:
        raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from None


def _at_version(rt: ResourceType, version: str, obj: dict) -> dict:
    if version == rt.version:
        return obj
    return dict(obj, apiVersion=rt.api_version(version))
