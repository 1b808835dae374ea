"""One session per run: SDK clients per service, and the single call path every adapter uses.

Public API::

    session = CloudSession(credentials, region, endpoint=None, *, retry=None, logger=None, timeout=30)
    session.client("cam" | "tke" | "vpc" | "cvm")   # the SDK client, built lazily and cached
    session.call(service, action, params, *, idempotent=None) -> dict
    session.cam / .tke / .vpc / .cvm                 # adapters (sgpctl.cloud.cam.CamAdapter, ...)
    session.endpoint_url(service) -> str             # where calls go, for messages
    session.calls                                    # HTTP attempts made so far
    with session.recording() as calls: ...           # every call's request and final answer (or error)

``credentials`` is any object with ``.secret_id``, ``.secret_key``, ``.token`` (``sgpctl.settings.
Credentials`` fits; its ``kind`` ``"cvm-role"``/``"oidc"`` selects the SDK's temporary-key providers).
``endpoint`` is a URL (``http://127.0.0.1:8443``, ``https://tke.internal.example:443``) that replaces
the endpoint of every service; it becomes ``HttpProfile(endpoint="host:port", protocol=scheme)``
because the SDK puts whatever ``endpoint`` holds into the Host header. CAM is called without a region
(no ``X-TC-Region`` header); the regional services require one.

``call`` builds the SDK request model from ``params`` (unknown field names are a programming error:
``ValueError``), calls the client method through the retry policy (``sgpctl.cloud.retry``), maps
failures to ``CloudError`` (``sgpctl.cloud.errors``) and returns the response as a plain dict (every
model field present, ``None`` when absent). ``idempotent`` defaults to "the action only reads".
With ``logging`` at DEBUG each attempt logs service, action, attempt, duration and request id; never
parameters, credentials or headers. The SDK's own logger (which prints request headers, including the
signature and the session token) is held at WARNING.

Two SDK pitfalls are handled here: an error envelope served as ``application/json; charset=utf-8``
(the SDK only checks for errors when the Content-Type is exactly ``application/json``) is raised as the
error it is, and any response without a ``RequestId`` is an ``InvalidResponse`` error.

Importing this module does not import the SDK: ``sgpctl --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sgpctl import interrupts
from sgpctl.cloud.errors import to_cloud_error
from sgpctl.cloud.retry import RetryPolicy, is_read_action
from sgpctl.core.printable import quoted
from sgpctl.core.redact import redact_url_credentials
from sgpctl.errors import CloudError, InputError

SDK_LOGGER = "tencentcloud_sdk_common"


@dataclass(frozen=True)
class ServiceInfo:
    package: str
    client_module: str
    client_class: str
    regional: bool = True


SERVICES: dict[str, ServiceInfo] = {
    "cam": ServiceInfo("tencentcloud.cam.v20190116", "cam_client", "CamClient", regional=False),
    "tke": ServiceInfo("tencentcloud.tke.v20180525", "tke_client", "TkeClient"),
    "vpc": ServiceInfo("tencentcloud.vpc.v20170312", "vpc_client", "VpcClient"),
    "cvm": ServiceInfo("tencentcloud.cvm.v20170312", "cvm_client", "CvmClient"),
}


@dataclass(frozen=True)
class Endpoint:
    host: str  # "host[:port]", as HttpProfile.endpoint wants it
    protocol: str  # "http" or "https"

    @property
    def url(self) -> str:
        return f"{self.protocol}://{self.host}"


def parse_endpoint(url: str) -> Endpoint:
    """``http://127.0.0.1:8443`` -> ``Endpoint("127.0.0.1:8443", "http")``; anything else with a path,
    query, user info or without an http(s) scheme is an ``InputError``."""

    def bad(why: str) -> InputError:
        # The user may have put a key into the URL: never echo it (sgpctl.core.redact).
        shown = quoted(redact_url_credentials(url or ""))
        return InputError(
            f"invalid endpoint {shown} (--endpoint/SGPCTL_ENDPOINT): {why}; expected scheme://host[:port] "
            "such as http://127.0.0.1:8443 or https://tke.internal.example:443, without a path",
            hint="fix --endpoint or SGPCTL_ENDPOINT, or unset it to use the public Tencent Cloud endpoints",
        )

    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError as e:
        raise bad(str(e)) from None
    if parts.scheme not in ("http", "https") or "://" not in text:
        raise bad("the scheme must be http:// or https://")
    if not parts.hostname:
        raise bad("no host")
    if parts.username is not None or parts.password is not None:
        raise bad("user info is not supported")
    if parts.path not in ("", "/"):
        raise bad(f"a path ({parts.path}) is not supported")
    if parts.query or parts.fragment:
        raise bad("a query or fragment is not supported")
    return Endpoint(host=parts.netloc, protocol=parts.scheme)


def _quiet_sdk_logger() -> None:
    # With --debug the root logger is at DEBUG; the SDK would then log every request's headers
    # (Authorization, X-TC-Token = the session token) at DEBUG. Secrets are never logged, so no less
    # than WARNING, whoever set the level.
    sdk_logger = logging.getLogger(SDK_LOGGER)
    if sdk_logger.level < logging.WARNING:  # NOTSET (0) inherits the root's DEBUG
        sdk_logger.setLevel(logging.WARNING)


class _ServiceAdapter:
    """``session.<service>``: the adapter of the service the attribute is named after
    (``sgpctl.cloud.<service>.ADAPTER``), made on first use and kept (its module imported only then)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.service = name

    def __get__(self, session: "CloudSession | None", owner: type | None = None) -> Any:
        return self if session is None else session._adapter(self.service)

    def __set__(self, session: "CloudSession", value: Any) -> None:  # read-only, as a property is
        raise AttributeError(f"session.{self.service} is the {self.service} adapter; it cannot be replaced")


class CloudSession:
    def __init__(
        self,
        credentials: Any,
        region: str | None,
        endpoint: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        logger: logging.Logger | None = None,
        timeout: int = 30,
    ):
        self.credentials = credentials
        self.region = region or None
        self.endpoint = parse_endpoint(endpoint) if endpoint else None
        self.retry = retry or RetryPolicy()
        self.log = logger or logging.getLogger("sgpctl.cloud")
        self.timeout = timeout
        self.calls = 0
        self._clients: dict[str, Any] = {}
        self._adapters: dict[str, Any] = {}
        self._sdk_credential: Any = None
        self._recorders: list[list[dict]] = []
        # Reads run on several threads at once (doctor's reads ahead, batched lookups): each SDK
        # client, adapter and credential is built once, by whichever thread asks first.
        self._building = threading.RLock()
        _quiet_sdk_logger()

    # -- clients --------------------------------------------------------------------------------
    def endpoint_url(self, service: str) -> str:
        return self.endpoint.url if self.endpoint else f"https://{service}.tencentcloudapi.com"

    def _credential(self) -> Any:
        if self._sdk_credential is None:
            from tencentcloud.common import credential as sdk_credential
            from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

            kind = getattr(self.credentials, "kind", "static") or "static"
            if kind == "cvm-role":
                self._sdk_credential = sdk_credential.CVMRoleCredential(getattr(self.credentials, "role_name", None))
            elif kind == "oidc":
                self._sdk_credential = sdk_credential.DefaultTkeOIDCRoleArnProvider().get_credentials()
            else:
                try:
                    self._sdk_credential = sdk_credential.Credential(
                        self.credentials.secret_id, self.credentials.secret_key, self.credentials.token or None
                    )
                except TencentCloudSDKException as e:
                    raise InputError(
                        f"unusable Tencent Cloud credentials: {e.message}",
                        hint="check TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY or the tccli profile (--profile)",
                    ) from None
        return self._sdk_credential

    def client(self, service: str) -> Any:
        if service in self._clients:
            return self._clients[service]
        with self._building:
            if service not in self._clients:
                self._clients[service] = self._build_client(service)
            return self._clients[service]

    def _build_client(self, service: str) -> Any:
        info = SERVICES.get(service)
        if info is None:
            raise ValueError(f"unknown service {service!r}; known: {', '.join(SERVICES)}")
        if info.regional and not self.region:
            raise InputError(
                f"no region for the {service} API",
                hint="pass --region (e.g. ap-guangzhou) or set TENCENTCLOUD_REGION",
            )
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile

        if self.endpoint:
            http = HttpProfile(protocol=self.endpoint.protocol, endpoint=self.endpoint.host, reqTimeout=self.timeout)
        else:
            http = HttpProfile(reqTimeout=self.timeout)
        profile = ClientProfile(httpProfile=http, language="en-US")
        module = importlib.import_module(f"{info.package}.{info.client_module}")
        client = getattr(module, info.client_class)(self._credential(), self.region if info.regional else "", profile)
        _raise_error_envelopes_despite_charset(client)
        return client

    # -- the one call path ----------------------------------------------------------------------
    def call(self, service: str, action: str, params: dict | None = None, *, idempotent: bool | None = None) -> dict:
        client = self.client(service)
        request = _build_request(SERVICES[service].package, action, params or {})
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        def attempt(n: int) -> dict:
            self.calls += 1
            started = time.perf_counter()
            try:
                data = _call_raw(client, action, request)
                if not data.get("RequestId"):
                    raise TencentCloudSDKException(
                        "InvalidResponse", "the answer has no RequestId (not a Tencent Cloud API response)", None
                    )
            except TencentCloudSDKException as e:
                ms = (time.perf_counter() - started) * 1000
                self.log.debug("%s.%s attempt=%d duration_ms=%.0f request_id=%s error=%s",
                               service, action, n, ms, e.requestId, e.code)
                raise to_cloud_error(e, service=service, action=action, endpoint=self.endpoint_url(service),
                                     region=self.region) from None
            ms = (time.perf_counter() - started) * 1000
            self.log.debug("%s.%s attempt=%d duration_ms=%.0f request_id=%s ok",
                           service, action, n, ms, data.get("RequestId"))
            return data

        idem = is_read_action(action) if idempotent is None else idempotent
        try:
            if is_read_action(action):
                data = self.retry.run(attempt, action=action, idempotent=idem, logger=self.log)
            else:
                with interrupts.mutation(action):  # an interrupt now says the change may have been applied
                    data = self.retry.run(attempt, action=action, idempotent=idem, logger=self.log)
        except CloudError as e:
            self._record(service, action, params, error={"code": e.code, "message": e.api_message})
            raise
        self._record(service, action, params, response=data)
        return data

    @contextlib.contextmanager
    def recording(self):
        """Record every call made meanwhile: ``{"service", "action", "params", "response"}`` with the final
        answer (after retries), or ``"error": {"code", "message"}`` instead of ``"response"``; in order.
        What ``sgpctl capture`` keeps."""
        calls: list[dict] = []
        self._recorders.append(calls)
        try:
            yield calls
        finally:
            self._recorders.remove(calls)

    def _record(self, service: str, action: str, params: dict | None, **outcome: Any) -> None:
        if self._recorders:
            entry = {"service": service, "action": action, "params": json.loads(json.dumps(params or {})), **outcome}
            for calls in self._recorders:
                calls.append(entry)

    # -- adapters: ``sgpctl.cloud.cam.CamAdapter``, ``tke.TkeAdapter``, ``vpc.VpcAdapter``, ``cvm.CvmAdapter``
    cam = _ServiceAdapter()
    tke = _ServiceAdapter()
    vpc = _ServiceAdapter()
    cvm = _ServiceAdapter()

    def _adapter(self, service: str) -> Any:
        if service not in self._adapters:
            with self._building:
                if service not in self._adapters:
                    module = importlib.import_module(f"sgpctl.cloud.{service}")
                    self._adapters[service] = module.ADAPTER(self)
        return self._adapters[service]


def _call_raw(client: Any, action: str, request: Any) -> dict:
    """The action's ``Response`` object as the API sent it.

    What the generated ``client.<Action>(request)`` does, minus its round trip through the response model
    (deserialise into model objects, serialise back to JSON, parse again): that round trip was half of the
    time `verify pods -A` spends on 100 DescribeNetworkInterfaces answers. The request model still checks
    every parameter name (``_build_request``); the sandbox checks the answers against the response models."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    try:
        body = client.call(action, request._serialize(), headers=request.headers)
        data = _parsed_answer(body)["Response"]
    except TencentCloudSDKException:
        raise
    except Exception as e:  # as the generated client does: anything else is the SDK's error type
        raise TencentCloudSDKException(type(e).__name__, str(e)) from None
    if not isinstance(data, dict):
        raise TencentCloudSDKException("InvalidResponse", "the answer's Response is not an object", None)
    return data


def _build_request(package: str, action: str, params: dict) -> Any:
    models = importlib.import_module(f"{package}.models")
    request_cls = getattr(models, f"{action}Request", None)
    if request_cls is None:
        raise ValueError(f"{package} has no action {action}")
    request = request_cls()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        request.from_json_string(json.dumps(params))
    unknown = [str(w.message) for w in caught if "useless" in str(w.message)]
    if unknown:
        # the SDK would silently drop them: a typo in an adapter must fail loudly
        raise ValueError(f"{action}: unknown request field(s): {'; '.join(unknown)}")
    return request


#: the answer the error check parsed, for ``_call_raw`` on the same thread: parsed once, not twice
_answer = threading.local()


def _parsed_answer(body: Any) -> Any:
    kept = getattr(_answer, "parsed", None)
    _answer.parsed = None
    if kept is not None and kept[0] is body:
        return kept[1]
    return json.loads(body)


def _raise_error_envelopes_despite_charset(client: Any) -> None:
    """The SDK ignores ``{"Response": {"Error": ...}}`` unless Content-Type is exactly
    ``application/json``/``text/plain``; with a charset parameter it returns a response full of None.

    A JSON answer is parsed here once and kept for ``_call_raw`` (the SDK's own check would parse it
    again, and so would ``_call_raw``: 100 KB per DescribeNetworkInterfaces page); the SDK's check
    still judges what this one does not settle (no ``Response`` object, a deprecation notice)."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    sdk_check = client._check_error

    def check_error(resp: Any) -> None:
        _answer.parsed = None
        content_type = resp.headers.get("Content-Type") or ""
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in ("application/json", "text/plain"):
            sdk_check(resp)
            return
        try:
            data = json.loads(resp.content)
        except ValueError:
            data = None
        body = data.get("Response") if isinstance(data, dict) else None
        error = body.get("Error") if isinstance(body, dict) else None
        exact = content_type in ("application/json", "text/plain")  # what the SDK's own check reads
        if isinstance(error, dict) and not exact:
            raise TencentCloudSDKException(error.get("Code"), error.get("Message"), body.get("RequestId"))
        if not isinstance(body, dict) or error is not None or "DeprecatedWarning" in body:
            sdk_check(resp)
            return
        _answer.parsed = (resp.content, data)

    client._check_error = check_error
