"""Retry policy: what is retried for reads and for mutating calls, backoff bounds, attempts, deadline."""

from __future__ import annotations

import pytest
import requests
from hypothesis import given, strategies as st

from sgpctl.cloud.errors import OutcomeUnknownError
from sgpctl.cloud.retry import RetryPolicy
from sgpctl.errors import CloudError, ExitCode


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.delays: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds


def flaky(errors: list[CloudError], result="ok"):
    calls = []

    def attempt(n: int):
        calls.append(n)
        if errors:
            raise errors.pop(0)
        return result

    return attempt, calls


# -- through the real SDK call path ---------------------------------------------------------------

def test_throttled_twice_then_success_returns_the_success(api, session, sleeps):
    api.fail("cam", "ListPolicies", "RequestLimitExceeded", "slow down", "req-t1")
    api.fail("cam", "ListPolicies", "RequestLimitExceeded.UinLimitExceeded", "slow down", "req-t2")
    api.reply("cam", "ListPolicies", {"TotalNum": 1, "List": [{"PolicyId": 1, "PolicyName": "a"}]}, request_id="req-ok")

    got = session.cam.list_policies()

    assert [p.name for p in got] == ["a"]
    assert len(api.calls("ListPolicies")) == 3
    assert len(sleeps.delays) == 2


def test_deadline_exceeded_gives_up_with_the_last_request_id_and_exit_3(api, make_session):
    clock = FakeClock()
    session = make_session(sleep=clock.sleep, clock=clock, random=lambda: 1.0, base_delay=10, max_delay=40, deadline=60)
    for i in range(1, 6):
        api.fail("tke", "DescribeClusters", "RequestLimitExceeded", "slow down", f"req-{i}")

    with pytest.raises(CloudError) as e:
        session.tke.describe_cluster("cls-abcd1234")

    err = e.value
    # sleeps of 10 and 20 s fit in 60 s; the third (40 s) would end at 70 s
    assert clock.delays == [10, 20]
    assert len(api.calls()) == 3
    assert err.code == "RequestLimitExceeded" and err.request_id == "req-3"
    assert err.exit_code == ExitCode.UNDETERMINED
    assert "gave up after 3 attempts and 30.0 s" in err.message
    assert "req-3" in err.message


def test_non_retryable_error_is_raised_at_once(api, session, sleeps):
    api.fail("tke", "DescribeIPAMD", "AuthFailure.SignatureFailure", "bad signature", "req-sig")
    with pytest.raises(CloudError) as e:
        session.tke.describe_ipamd("cls-abcd1234")
    assert len(api.calls()) == 1 and sleeps.delays == []
    assert "gave up" not in e.value.message
    assert e.value.request_id == "req-sig"


def test_mutating_call_is_retried_when_throttled(api, session):
    api.fail("cam", "CreatePolicy", "RequestLimitExceeded", "slow down")
    api.reply("cam", "CreatePolicy", {"PolicyId": 7})
    assert session.cam.create_policy("p", {"version": "2.0", "statement": []}) == 7
    assert len(api.calls("CreatePolicy")) == 2


def test_vpc_action_limited_is_a_throttle(api, session):
    api.fail("vpc", "CreateSecurityGroup", "LimitExceeded.ActionLimited", "too fast")
    api.reply("vpc", "CreateSecurityGroup", {"SecurityGroup": {"SecurityGroupId": "sg-1", "SecurityGroupName": "x"}})
    assert session.vpc.create_security_group("x").security_group_id == "sg-1"
    assert len(api.calls()) == 2


def test_action_limited_giving_up_is_exit_3(api, make_session):
    session = make_session(max_attempts=2)
    api.fail("vpc", "DescribeSecurityGroups", "LimitExceeded.ActionLimited", "too fast", "req-al")
    with pytest.raises(CloudError) as e:
        session.vpc.describe_security_groups(name="x")
    assert e.value.exit_code == ExitCode.UNDETERMINED and e.value.request_id == "req-al"
    assert "gave up after 2 attempts" in e.value.message


def test_read_is_retried_after_http_500_and_internal_error(api, session):
    api.reply("vpc", "DescribeSecurityGroupLimits", status=500, body=b"internal")
    api.fail("vpc", "DescribeSecurityGroupLimits", "InternalError", "oops")
    api.reply("vpc", "DescribeSecurityGroupLimits", {"SecurityGroupLimitSet": {"InstanceSecurityGroupLimit": 5}})
    assert session.vpc.describe_security_group_limit() == 5
    assert len(api.calls()) == 3


@pytest.mark.parametrize("failure", ["http500", "InternalError", "read-timeout"])
def test_mutating_call_that_may_have_run_is_not_repeated(api, session, failure):
    if failure == "http500":
        api.reply("cam", "CreatePolicy", status=500, body=b"internal error")
    elif failure == "InternalError":
        api.fail("cam", "CreatePolicy", "InternalError.SystemError", "oops", "req-ie")
    else:
        api.reply("cam", "CreatePolicy", body=requests.exceptions.ReadTimeout("Read timed out. (read timeout=30)"))
    api.reply("cam", "CreatePolicy", {"PolicyId": 7})

    with pytest.raises(OutcomeUnknownError) as e:
        session.cam.create_policy("p", {"version": "2.0", "statement": []})

    assert len(api.calls("CreatePolicy")) == 1
    assert isinstance(e.value, CloudError) and e.value.exit_code == ExitCode.UNDETERMINED
    assert "may or may not have been applied" in e.value.hint


def test_read_timeout_on_a_read_is_retried(api, session):
    api.reply("cam", "GetRole", body=requests.exceptions.ReadTimeout("Read timed out. (read timeout=30)"))
    api.reply("cam", "GetRole", {"RoleInfo": {"RoleId": "1", "RoleName": "r"}})
    assert session.cam.get_role("r").role_id == "1"


def test_connection_refused_is_retried_a_few_times_even_for_mutations(api, session):
    refused = requests.exceptions.ConnectionError(
        "HTTPConnectionPool(host='127.0.0.1', port=8443): Max retries exceeded with url: / (Caused by "
        "NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))")
    for _ in range(5):
        api.reply("tke", "InstallAddon", body=refused)

    with pytest.raises(CloudError) as e:
        session.tke.install_addon("cls-abcd1234", "securitygrouppolicy")

    assert len(api.calls()) == 3  # max_connect_attempts
    assert not isinstance(e.value, OutcomeUnknownError)
    assert e.value.code == "ClientNetworkError" and e.value.exit_code == ExitCode.UNDETERMINED
    assert e.value.hint.startswith("cannot reach https://tke.tencentcloudapi.com")


def test_tls_certificate_failure_is_not_retried(api, session):
    api.reply("cam", "GetRole", body=requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))
    with pytest.raises(CloudError):
        session.cam.get_role("r")
    assert len(api.calls()) == 1


# -- the policy on its own ------------------------------------------------------------------------

def throttle(rid: str = "r") -> CloudError:
    return CloudError("RequestLimitExceeded", "slow", rid)


def test_sleep_records_capped_exponential_delays():
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=3.0, deadline=1000,
                         sleep=clock.sleep, clock=clock, random=lambda: 0.5)
    attempt, calls = flaky([throttle() for _ in range(5)])
    assert policy.run(attempt, action="X", idempotent=True) == "ok"
    assert calls == [1, 2, 3, 4, 5, 6]
    assert clock.delays == [0.5, 1.0, 1.5, 1.5, 1.5]


def test_max_attempts_exhausted():
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=4, sleep=clock.sleep, clock=clock)
    attempt, calls = flaky([throttle(f"r{i}") for i in range(1, 10)])
    with pytest.raises(CloudError) as e:
        policy.run(attempt, action="X", idempotent=True)
    assert calls == [1, 2, 3, 4] and e.value.request_id == "r4"
    assert "gave up after 4 attempts" in e.value.message


def test_a_non_retryable_error_after_retries_is_raised_as_is():
    clock = FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock)
    denied = CloudError("UnauthorizedOperation", "no", "r-denied")
    attempt, calls = flaky([throttle(), denied])
    with pytest.raises(CloudError) as e:
        policy.run(attempt, action="X", idempotent=True)
    assert e.value is denied and calls == [1, 2]


@given(st.floats(min_value=0, max_value=0.999999), st.integers(min_value=1, max_value=40),
       st.floats(min_value=0.01, max_value=5), st.floats(min_value=0.01, max_value=60))
def test_jitter_is_bounded(r, n, base, cap):
    policy = RetryPolicy(base_delay=base, max_delay=cap, random=lambda: r)
    delay = policy.delay(n)
    assert 0 <= delay <= min(cap, base * 2 ** (n - 1))


def test_default_jitter_stays_below_the_ceiling():
    policy = RetryPolicy(base_delay=0.2, max_delay=5.0)
    delays = [policy.delay(n) for n in range(1, 12) for _ in range(50)]
    assert all(0 <= d < 5.0 for d in delays)
    assert len(set(delays)) > 100  # jittered, not a fixed schedule


def test_rejects_nonsense_limits():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
