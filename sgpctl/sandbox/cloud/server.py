"""The Tencent Cloud API endpoint of the sandbox: one port for CAM, TKE, VPC and CVM.

Start it with ``server, port = start_cloud_server(state)`` (port 0 picks a free one) and point
clients at ``HttpProfile(endpoint=f"127.0.0.1:{port}", protocol="http")``; stop it with
``server.shutdown()``. With ``tls=(cert_file, key_file)`` the same port also answers https
(the first byte of a connection tells a TLS handshake from HTTP): tccli only speaks https, and
the SDK it bundles verifies against certifi's bundle only (``HttpProfile(certification=...)``
for SDK clients; ``REQUESTS_CA_BUNDLE`` is ignored), so tccli needs the certificate appended to
its certifi bundle.

A request is answered the way the real API does:

1. Faults first (``faults.decide(service, action)``): latency, a dropped connection, an HTTP 500
   with a non-JSON body, or a ``RequestLimitExceeded`` envelope. A ``lose-reply`` fault lets the
   request run through step 5 and then closes the connection instead of answering.
2. TC3-HMAC-SHA256 signature (``tc3.verify``) against ``state.credentials``; the service is the
   one in the credential scope (``Credential=<id>/<date>/<service>/tc3_request``).
3. ``X-TC-Version`` must be the service's version (else ``NoSuchVersion``), ``X-TC-Action`` one
   of its implemented actions (else ``InvalidAction``), ``X-TC-Region`` present for regional
   services (else ``MissingParameter``; DescribeRegions may omit it) and a real region name
   (``regions.REGIONS``; else ``UnsupportedRegion``): a real region where the sandbox holds
   nothing answers empty lists; an unknown service answers ``NoSuchProduct``.
4. Parameters from the JSON body (POST) or the query string (GET), checked against the SDK's
   request model (``models.check_request``).
5. The action handler runs under the state's lock; its result is shaped to the SDK's response
   model and sent as ``{"Response": {..., "RequestId": "<uuid>"}}`` with HTTP 200 and
   ``Content-Type: application/json`` exactly; errors as ``{"Response": {"Error": {"Code",
   "Message"}, "RequestId"}}``.

Every answered or faulted API request is recorded in the request log (``api="cloud"``).

Control endpoints (same port, not TC3-signed; all but health need header
``X-Sandbox-Token: <state.admin_token>``, else HTTP 401)::

    GET    /_sandbox/health                   {"status": "ok", "api": "cloud", ...} (no token needed)
    GET    /_sandbox/requests?since=N&api=&service=&action=&mutating=true|false
                                              {"entries": [...], "next": <mark>}
    DELETE /_sandbox/requests                 {"cleared": <n>, "next": <mark>}
    GET    /_sandbox/faults                   {"faults": "<spec>"}
    PUT    /_sandbox/faults   (body: spec)    {"faults": "<canonical spec>"}; HTTP 400 on a bad spec
    DELETE /_sandbox/faults                   {"faults": ""}
    GET    /_sandbox/clusters                 {"clusters": [{"clusterId", "region", "kubeUrl", "kubePort",
                                                             "context", "reachable"}]}
    PUT    /_sandbox/clusters/<id>/reachable  (body: true | false | hang) the cluster's Kubernetes API
                                              answers again / refuses connections / accepts them and
                                              never answers; {"clusterId", ..., "reachable"}; HTTP 400
                                              on another body, 404 for an unknown cluster
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, parse_qsl, urlsplit

from ..faults import Faults
from ..requestlog import RequestLog, is_mutating
from . import cam, cvm, models, regions, tc3, tke, vpc
from .common import Ctx, Handler
from .errors import ApiError
from .state import CloudState

log = logging.getLogger(__name__)

HANDLERS: dict[str, dict[str, Handler]] = {
    "cam": cam.ACTIONS,
    "tke": tke.ACTIONS,
    "vpc": vpc.ACTIONS,
    "cvm": cvm.ACTIONS,
}

#: actions whose docs make the common parameter Region optional (they list regions)
REGION_OPTIONAL = {("tke", "DescribeRegions"), ("cvm", "DescribeRegions")}

JSON = "application/json"
MAX_BODY = 10 * 1024 * 1024


def _service_hint(authorization: str | None) -> str:
    """The service an Authorization header names, even before it is verified (for faults)."""
    try:
        return tc3.parse_authorization(authorization).service
    except ApiError:
        return ""


class CloudHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, state: CloudState, faults: Faults, request_log: RequestLog,
                 wall_clock: Callable[[], float] = time.time, tls: tuple[str, str] | None = None,
                 clusters: Any = None):
        super().__init__(address, CloudHandler)
        self.state = state
        #: the sandbox's clusters for the control API (``list()``, ``set_reachable(id, bool, mode)``)
        self.clusters = clusters
        self.faults = faults
        self.request_log = request_log
        self.wall_clock = wall_clock
        self.ssl_context: ssl.SSLContext | None = None
        if tls is not None:
            self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ssl_context.load_cert_chain(*tls)

    def finish_request(self, request, client_address):
        """Speak TLS to a client whose first byte is a TLS handshake, plain HTTP otherwise: tccli
        only speaks https, SDK clients configured with ``protocol="http"`` only http."""
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(10)
            first = request.recv(1, socket.MSG_PEEK)
            request.settimeout(None)
        except OSError:
            return None
        if first != b"\x16":
            return super().finish_request(request, client_address)
        try:
            tls_sock = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return None
        try:
            return super().finish_request(tls_sock, client_address)
        finally:
            # The plain socket was detached into tls_sock; shutdown_request cannot close it.
            tls_sock.close()


class CloudHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "sgpctl-sandbox-cloud"
    server: CloudHTTPServer

    def log_message(self, format, *args):  # noqa: A002 - keep the test output quiet
        log.debug("%s - %s", self.address_string(), format % args)

    # --- plumbing -----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, content_type: str = JSON) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, obj) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"))

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(413, b"request body too large", "text/plain")
            return
        url = urlsplit(self.path)
        if url.path.startswith("/_sandbox/"):
            self._control(method, url, body)
        elif url.path != "/":
            self._send(404, b"not found", "text/plain")
        elif method not in ("GET", "POST"):
            self._send(405, b"method not allowed", "text/plain")
        else:
            self._api(method, url, body)

    # --- the API ------------------------------------------------------------------------------

    def _api(self, method: str, url, body: bytes) -> None:
        srv = self.server
        headers = {k.lower(): v for k, v in self.headers.items()}
        action = headers.get("x-tc-action", "")
        service = _service_hint(headers.get("authorization"))
        fault = srv.faults.decide(service, action)
        if fault is not None:
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000.0)
            if self._inject(fault, service, action):
                return
        request_id = str(uuid.uuid4())
        params: dict = {}
        status, code = 200, "OK"
        try:
            scope = tc3.verify(
                credentials=srv.state.credentials, method=method, uri=url.path, query=url.query,
                headers=headers, payload=body, now=srv.wall_clock(),
            )
            service = scope.service
            ctx, handler = self._route(service, action, headers, request_id, scope.secret_id)
            params = self._params(method, url, body, headers, service, action)
            models.check_request(service, action, params)
            with srv.state.transaction():
                result = handler(ctx, params)
                shaped = models.shape_response(service, action, result)
                shaped["RequestId"] = request_id
                payload = json.dumps({"Response": shaped}, ensure_ascii=False).encode("utf-8")
        except ApiError as e:
            code = e.code
            payload = self._error(e.code, e.message, request_id)
        except models.ShapeError as e:
            log.error("response shaping failed for %s.%s: %s", service, action, e)
            code = "InternalError"
            payload = self._error(code, f"sandbox bug: {e}", request_id)
        except Exception as e:  # pragma: no cover - a sandbox bug must still answer like the API
            log.exception("handler failed for %s.%s", service, action)
            code = "InternalError"
            payload = self._error(code, f"sandbox bug: {type(e).__name__}: {e}", request_id)
        # Record before answering: a client that reads the log right after its call sees it.
        if fault is not None and fault.loses_reply:
            srv.request_log.record("cloud", service, action, params, is_mutating(action), code, status,
                                   request_id=request_id, replyLost=True)
            self.close_connection = True
            return
        srv.request_log.record("cloud", service, action, params, is_mutating(action), code, status,
                               request_id=request_id)
        self._send(status, payload)

    @staticmethod
    def _error(code: str, message: str, request_id: str) -> bytes:
        return json.dumps(
            {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}, ensure_ascii=False
        ).encode("utf-8")

    def _inject(self, fault, service: str, action: str) -> bool:
        """Apply an error fault that answers instead of the request; False when the request runs
        (latency only, or a lost reply)."""
        log_ = self.server.request_log
        mutating = is_mutating(action)
        if fault.kind == "drop":
            self.close_connection = True
            log_.record("cloud", service, action, {}, mutating, "Dropped", 0)
            return True
        if fault.kind == "5xx":
            self.close_connection = True
            log_.record("cloud", service, action, {}, mutating, "HTTP500", 500)
            self._send(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html")
            return True
        if fault.kind == "throttle":
            rid = str(uuid.uuid4())
            log_.record("cloud", service, action, {}, mutating, "RequestLimitExceeded", 200, request_id=rid)
            self._send(200, self._error("RequestLimitExceeded", "Your request frequency exceeds the limit; try again later.", rid))
            return True
        return False

    def _route(self, service: str, action: str, headers: dict, request_id: str, secret_id: str) -> tuple[Ctx, Handler]:
        state = self.server.state
        if service not in models.SERVICES:
            raise ApiError("NoSuchProduct", f"The product {service!r} is not served by this endpoint.")
        version, _, regional = models.SERVICES[service]
        sent_version = headers.get("x-tc-version")
        if not sent_version:
            raise ApiError("MissingParameter", "The request is missing the X-TC-Version header.")
        if sent_version != version:
            raise ApiError("NoSuchVersion", f"The API version {sent_version!r} of {service} is not supported (use {version}).")
        if not action:
            raise ApiError("MissingParameter", "The request is missing the X-TC-Action header.")
        handler = HANDLERS[service].get(action)
        if handler is None or not models.has_action(service, action):
            raise ApiError("InvalidAction", f"The action {action!r} of {service} {version} is not found.")
        region = headers.get("x-tc-region") or None
        if regional:
            if region is None and (service, action) not in REGION_OPTIONAL:
                raise ApiError("MissingParameter", "The request is missing the required parameter `Region`.")
            if region is not None and not regions.is_real(region):
                raise ApiError(regions.UNSUPPORTED_REGION, regions.UNSUPPORTED_REGION_MESSAGE)
        else:
            region = None
        return Ctx(state, service, action, region, request_id, secret_id), handler

    @staticmethod
    def _params(method: str, url, body: bytes, headers: dict, service: str, action: str) -> dict:
        if method == "GET":
            return models.query_to_params(service, action, parse_qsl(url.query, keep_blank_values=True))
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            return models.query_to_params(service, action, parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if content_type != JSON:
            raise ApiError("InvalidParameter", f"Content-Type {content_type!r} is not supported; send application/json.")
        if not body.strip():
            return {}
        try:
            params = json.loads(body)
        except ValueError:
            raise ApiError("InvalidParameter", "The request body is not valid JSON.") from None
        if not isinstance(params, dict):
            raise ApiError("InvalidParameter", "The request body must be a JSON object.")
        return params

    # --- control endpoints --------------------------------------------------------------------

    def _control(self, method: str, url, body: bytes) -> None:
        srv = self.server
        path = url.path.rstrip("/")
        if path == "/_sandbox/health" and method == "GET":
            self._send_json(200, {"status": "ok", "api": "cloud", "regions": list(srv.state.regions),
                                  "services": sorted(HANDLERS)})
            return
        token = self.headers.get("X-Sandbox-Token") or ""
        if not hmac.compare_digest(token.encode(), srv.state.admin_token.encode()):
            self._send_json(401, {"error": "missing or wrong X-Sandbox-Token"})
            return
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if path == "/_sandbox/requests" and method == "GET":
            try:
                since = int(query.get("since", "0"))
            except ValueError:
                self._send_json(400, {"error": "since must be an integer"})
                return
            mutating = {"true": True, "false": False}.get(query.get("mutating", "").lower())
            entries = srv.request_log.since(since, api=query.get("api") or None, service=query.get("service") or None,
                                            mutating=mutating, action=query.get("action") or None)
            self._send_json(200, {"entries": entries, "next": srv.request_log.mark()})
        elif path == "/_sandbox/requests" and method == "DELETE":
            cleared = srv.request_log.clear()
            self._send_json(200, {"cleared": cleared, "next": srv.request_log.mark()})
        elif path == "/_sandbox/faults" and method == "GET":
            self._send_json(200, {"faults": srv.faults.spec})
        elif path == "/_sandbox/faults" and method == "PUT":
            try:
                srv.faults.set(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                self._send_json(400, {"error": str(e)})
                return
            self._send_json(200, {"faults": srv.faults.spec})
        elif path == "/_sandbox/faults" and method == "DELETE":
            srv.faults.clear()
            self._send_json(200, {"faults": ""})
        elif path == "/_sandbox/clusters" and method == "GET":
            self._send_json(200, {"clusters": srv.clusters.list() if srv.clusters is not None else []})
        elif path.startswith("/_sandbox/clusters/") and path.endswith("/reachable") and method == "PUT":
            self._set_reachable(path[len("/_sandbox/clusters/"):-len("/reachable")], body)
        else:
            self._send_json(404, {"error": f"no control endpoint {method} {url.path}"})


    def _set_reachable(self, cluster_id: str, body: bytes) -> None:
        choice = body.decode("utf-8", "replace").strip().lower()
        wanted = {"true": (True, "refuse"), "false": (False, "refuse"), "hang": (False, "hang")}.get(choice)
        if wanted is None:
            self._send_json(400, {"error": "the body must be true, false or hang"})
            return
        clusters = self.server.clusters
        try:
            if clusters is None:
                raise KeyError(cluster_id)
            self._send_json(200, clusters.set_reachable(cluster_id, *wanted))
        except KeyError:
            self._send_json(404, {"error": f"no cluster {cluster_id!r} in this sandbox"})


class CloudServer:
    """A running endpoint: ``.port``, ``.endpoint`` ("127.0.0.1:PORT"), ``.url``, ``.shutdown()``."""

    def __init__(self, httpd: CloudHTTPServer, thread: threading.Thread | None):
        self.httpd = httpd
        self.thread = thread
        self.host, self.port = httpd.server_address[:2]

    @property
    def state(self) -> CloudState:
        return self.httpd.state

    @property
    def faults(self) -> Faults:
        return self.httpd.faults

    @property
    def request_log(self) -> RequestLog:
        return self.httpd.request_log

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def make_cloud_server(state: CloudState, *, faults: Faults | None = None, request_log: RequestLog | None = None,
                      host: str = "127.0.0.1", port: int = 0, wall_clock: Callable[[], float] = time.time,
                      tls: tuple[str, str] | None = None, clusters: Any = None) -> CloudHTTPServer:
    """The bound, not yet serving HTTP server (call ``serve_forever()`` yourself)."""
    return CloudHTTPServer((host, port), state, faults if faults is not None else Faults(),
                           request_log if request_log is not None else RequestLog(), wall_clock, tls, clusters)


def start_cloud_server(state: CloudState, *, faults: Faults | None = None, request_log: RequestLog | None = None,
                       host: str = "127.0.0.1", port: int = 0, wall_clock: Callable[[], float] = time.time,
                       tls: tuple[str, str] | None = None, clusters: Any = None) -> tuple[CloudServer, int]:
    """Serve in a daemon thread; returns ``(server, port)``.

    ``wall_clock`` is the time the signature window is checked against (tests move it to make a
    signature stale). ``tls=(cert_file, key_file)`` makes the port answer https as well as http
    (for tccli, which only speaks https; point ``REQUESTS_CA_BUNDLE`` at the certificate)."""
    httpd = make_cloud_server(state, faults=faults, request_log=request_log, host=host, port=port,
                              wall_clock=wall_clock, tls=tls, clusters=clusters)
    # A short poll interval makes shutdown() return quickly (it waits for the next poll).
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name=f"sandbox-cloud-{httpd.server_address[1]}", daemon=True)
    thread.start()
    server = CloudServer(httpd, thread)
    return server, server.port
