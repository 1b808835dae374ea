"""Fixtures for the cloud adapter tests: `responses` stubs matched on the X-TC-Action header (the SDK
sends every action to ``POST /``), a session whose retry policy never really sleeps, and helpers to read
back exactly what the SDK sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import responses

from sgpctl.cloud.retry import RetryPolicy
from sgpctl.cloud.session import CloudSession

SECRET_ID = "AKIDtestsecretid0000000000000000"
SECRET_KEY = "sk-THE-SECRET-KEY-must-never-be-logged"
TOKEN = "tok-THE-SESSION-TOKEN-must-never-be-logged"

VERSIONS = {"cam": "2019-01-16", "tke": "2018-05-25", "vpc": "2017-03-12", "cvm": "2017-03-12"}


@dataclass(frozen=True)
class Creds:
    secret_id: str = SECRET_ID
    secret_key: str = SECRET_KEY
    token: str | None = None


def action_matcher(action: str):
    """Match a request by its X-TC-Action header (the action is not in the URL)."""

    def match(request):
        got = request.headers.get("X-TC-Action")
        return (got == action, "" if got == action else f"X-TC-Action {got!r} is not {action!r}")

    return match


def envelope(payload: dict | None = None, request_id: str = "req-1") -> dict:
    return {"Response": {**(payload or {}), "RequestId": request_id}}


def error_envelope(code: str, message: str = "boom", request_id: str = "req-err") -> dict:
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}


@dataclass
class Sleeps:
    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Api:
    """Registers stubs and reads back the calls the SDK made."""

    def __init__(self, rsps: responses.RequestsMock, base_url: str | None = None):
        self.rsps = rsps
        self.base_url = base_url

    def url(self, service: str) -> str:
        return self.base_url or f"https://{service}.tencentcloudapi.com/"

    def reply(self, service: str, action: str, payload: dict | None = None, *, request_id: str = "req-1",
              status: int = 200, content_type: str = "application/json", body: str | bytes | Exception | None = None):
        if body is None:
            body = json.dumps(envelope(payload, request_id))
        self.rsps.add(responses.POST, self.url(service), body=body, status=status, content_type=content_type,
                      match=[action_matcher(action)])

    def fail(self, service: str, action: str, code: str, message: str = "boom", request_id: str = "req-err"):
        self.reply(service, action, body=json.dumps(error_envelope(code, message, request_id)))

    def calls(self, action: str | None = None) -> list:
        return [c for c in self.rsps.calls if action is None or c.request.headers.get("X-TC-Action") == action]

    def bodies(self, action: str) -> list[str]:
        out = []
        for c in self.calls(action):
            body = c.request.body
            out.append(body.decode() if isinstance(body, bytes) else body)
        return out


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield Api(rsps)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_session(sleeps):
    def make(region: str | None = "ap-guangzhou", endpoint: str | None = None, *, creds=None, **retry_kw):
        retry_kw.setdefault("sleep", sleeps)
        return CloudSession(creds or Creds(), region, endpoint, retry=RetryPolicy(**retry_kw))

    return make


@pytest.fixture
def session(make_session) -> CloudSession:
    return make_session()


def assert_headers(call, service: str, *, region: str | None):
    headers = call.request.headers
    assert headers["X-TC-Version"] == VERSIONS[service]
    if region is None:
        assert "X-TC-Region" not in headers
    else:
        assert headers["X-TC-Region"] == region
    assert f"/{service}/tc3_request" in headers["Authorization"]


def read_250_ids_in_three_calls(api: Api, service: str, action: str, ids: list[str], *, ids_key: str, set_key: str,
                                item, read) -> list:
    """``read(ids)`` of 250 ids that the API answers 100 a call (``item(i)``: its i-th object) asks three
    times, for 100, 100 and the last 50 ids, with the numbers Offset 0 and Limit 100; returns what it read."""
    for chunk in (range(100), range(100, 200), range(200, 250)):
        api.reply(service, action, {"TotalCount": len(chunk), set_key: [item(i) for i in chunk]})
    got = read(ids)
    assert len(got) == 250
    bodies = api.bodies(action)
    assert [len(json.loads(b)[ids_key]) for b in bodies] == [100, 100, 50]
    assert bodies[2] == f'{{"{ids_key}": ' + json.dumps(ids[200:]) + ', "Offset": 0, "Limit": 100}'
    return got
