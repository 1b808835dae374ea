"""TC3-HMAC-SHA256 verification, computed exactly as tencentcloud-sdk-python signs.

The SDK (``tencentcloud/common/abstract_client.py``, ``sign.py``) builds::

    CanonicalRequest = Method \\n URI \\n QueryString \\n CanonicalHeaders \\n SignedHeaders \\n hex(sha256(payload))
    StringToSign     = "TC3-HMAC-SHA256" \\n X-TC-Timestamp \\n <date>/<service>/tc3_request \\n hex(sha256(CanonicalRequest))
    key              = HMAC("TC3"+SecretKey, date) -> HMAC(., service) -> HMAC(., "tc3_request")
    Signature        = hex(HMAC(key, StringToSign))

with ``SignedHeaders=content-type;host``; for GET the query string is the signed, urlencoded
parameter string and the payload is empty; for POST the query string is empty. The date is the
UTC day of ``X-TC-Timestamp``, so a scope date that disagrees with the timestamp fails.

Errors follow Tencent's common error codes: a missing or unparsable ``Authorization`` ->
``AuthFailure.InvalidAuthorization``; an unknown SecretId -> ``AuthFailure.SecretIdNotFound``;
a timestamp more than 300 s away from the server clock -> ``AuthFailure.SignatureExpire``;
any mismatch (wrong key, tampered body, wrong Host, wrong date) -> ``AuthFailure.SignatureFailure``;
a session token that does not match -> ``AuthFailure.TokenFailure``.

The legacy HmacSHA1/HmacSHA256 (v1, ``Signature`` parameter) scheme is not accepted: with one
port for every service the v1 request does not name its service.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from .errors import ApiError

ALGORITHM = "TC3-HMAC-SHA256"
WINDOW_SECONDS = 300

_AUTH = re.compile(
    r"^TC3-HMAC-SHA256\s+Credential=(?P<id>[^/,\s]+)/(?P<date>[^/,\s]+)/(?P<service>[^/,\s]+)/tc3_request\s*,"
    r"\s*SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<sig>[0-9a-fA-F]+)\s*$"
)


class Credentials:
    """The sandbox's own API keys: secret id -> (secret key, optional session token)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[str, str | None]] = {}

    def add(self, secret_id: str, secret_key: str, token: str | None = None) -> None:
        with self._lock:
            self._keys[secret_id] = (secret_key, token)

    def remove(self, secret_id: str) -> None:
        with self._lock:
            self._keys.pop(secret_id, None)

    def get(self, secret_id: str) -> tuple[str, str | None] | None:
        with self._lock:
            return self._keys.get(secret_id)

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._keys)

    def to_list(self) -> list[dict]:
        with self._lock:
            return [{"SecretId": i, "SecretKey": k, "Token": t} for i, (k, t) in self._keys.items()]

    def load(self, items: list[dict]) -> None:
        for item in items:
            self.add(item["SecretId"], item["SecretKey"], item.get("Token"))


@dataclass(frozen=True)
class AuthScope:
    """What a well-formed Authorization header claims (before the signature is checked)."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str | None) -> AuthScope:
    if not value:
        raise ApiError("AuthFailure.InvalidAuthorization", "The request has no Authorization header.")
    m = _AUTH.match(value.strip())
    if not m:
        raise ApiError(
            "AuthFailure.InvalidAuthorization",
            "Authorization in the request header is invalid: want "
            "'TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=..., Signature=...'.",
        )
    signed = tuple(h.strip().lower() for h in m.group("signed").split(";") if h.strip())
    return AuthScope(m.group("id"), m.group("date"), m.group("service"), signed, m.group("sig").lower())


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, service: str) -> bytes:
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    return _hmac(_hmac(k_date, service), "tc3_request")


def utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


def signature(
    *,
    secret_key: str,
    service: str,
    timestamp: int,
    method: str,
    uri: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    payload: bytes,
) -> str:
    """The hex signature a client holding ``secret_key`` would send for this request.

    ``headers`` must be keyed by lower-case names. ``payload`` is the raw body (ignored for GET,
    replaced by ``UNSIGNED-PAYLOAD`` when the client asked for an unsigned payload).
    """
    if method == "GET":
        payload = b""
    else:
        query = ""
    if headers.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD":
        payload = b"UNSIGNED-PAYLOAD"
    canonical_headers = "".join(f"{h}:{headers.get(h, '').strip().lower()}\n" for h in signed_headers)
    canonical_request = "\n".join(
        [method, uri, query, canonical_headers, ";".join(signed_headers), hashlib.sha256(payload).hexdigest()]
    )
    date = utc_date(timestamp)
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            str(timestamp),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    return hmac.new(signing_key(secret_key, date, service), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(
    *,
    credentials: Credentials,
    method: str,
    uri: str,
    query: str,
    headers: Mapping[str, str],
    payload: bytes,
    now: float | None = None,
    window: int = WINDOW_SECONDS,
) -> AuthScope:
    """Check a request's TC3 signature; returns the verified scope or raises :class:`ApiError`.

    ``headers`` must be keyed by lower-case names.
    """
    scope = parse_authorization(headers.get("authorization"))
    if "host" not in scope.signed_headers or "content-type" not in scope.signed_headers:
        raise ApiError("AuthFailure.SignatureFailure", "SignedHeaders must include content-type and host.")
    entry = credentials.get(scope.secret_id)
    if entry is None:
        raise ApiError(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        )
    secret_key, token = entry
    raw_ts = headers.get("x-tc-timestamp", "")
    try:
        timestamp = int(raw_ts)
    except ValueError:
        raise ApiError("MissingParameter", "The request is missing a valid X-TC-Timestamp header.") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > window:
        raise ApiError(
            "AuthFailure.SignatureExpire",
            f"The signature expired: request timestamp {timestamp} is more than {window} s from server time {int(now)}.",
        )
    expected = signature(
        secret_key=secret_key,
        service=scope.service,
        timestamp=timestamp,
        method=method,
        uri=uri,
        query=query,
        headers=headers,
        signed_headers=scope.signed_headers,
        payload=payload,
    )
    if scope.date != utc_date(timestamp) or not hmac.compare_digest(expected, scope.signature):
        raise ApiError(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        )
    sent_token = headers.get("x-tc-token") or None
    if sent_token != token:
        raise ApiError("AuthFailure.TokenFailure", "The session token is missing or does not match the SecretId.")
    return scope
