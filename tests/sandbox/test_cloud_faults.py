"""Fault injection: the spec grammar, determinism from a seed, and what SDK clients see."""

from __future__ import annotations


import pytest
import requests
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from sgpctl.sandbox.faults import Fault, Faults
from sgpctl.sandbox.cloud.testkit import demo_state, serve


def sequence(faults: Faults, n: int, service="vpc", action="DescribeNetworkInterfaces") -> list[str | None]:
    out = []
    for _ in range(n):
        f = faults.decide(service, action)
        out.append(f.kind if f else None)
    return out


# --- the grammar --------------------------------------------------------------------------------


def test_parse_and_canonical_spec():
    f = Faults.parse(" seed=7; vpc:throttle=0.3 ; tke.DescribeAddon:5xx=100% ; latency=2-10ms;kube.list:drop=0.1,latency=5ms")
    assert f.spec == ("seed=7; vpc:throttle=0.3; tke.DescribeAddon:5xx=1; latency=2-10ms; "
                      "kube.list:drop=0.1; kube.list:latency=5ms")
    assert Faults.parse(f.spec).spec == f.spec
    assert not Faults.parse("") and not Faults.parse("seed=3")


@pytest.mark.parametrize(
    "spec,fragment",
    [
        ("throttle", "not kind=value"),
        ("flood=0.5", "unknown kind"),
        ("throttle=1.5", "outside [0, 1]"),
        ("throttle=lots", "share"),
        ("latency=fast", "latency needs"),
        ("latency=9-3ms", "min > max"),
        ("seed=x", "seed must be an integer"),
        ("vpc.a.b:throttle=1", "bad scope"),
        ("vpc:", "nothing after the scope"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        Faults.parse(spec)


def test_most_specific_rule_wins_and_scopes_do_not_leak():
    f = Faults.parse("throttle=1; vpc:throttle=0; vpc.DescribeNetworkInterfaces:throttle=1")
    assert f.decide("vpc", "DescribeNetworkInterfaces").kind == "throttle"
    assert f.decide("vpc", "DescribeSecurityGroups") is None
    assert f.decide("cvm", "DescribeInstances").kind == "throttle"
    cloud_only = Faults.parse("cloud:throttle=1")
    assert cloud_only.decide("tke", "DescribeAddon").kind == "throttle"
    assert cloud_only.decide("kube", "list") is None
    only_kube = Faults.parse("kube.list:drop=1")
    assert only_kube.decide("kube", "list").kind == "drop"
    assert only_kube.decide("kube", "get") is None and only_kube.decide("vpc", "list") is None


def test_shares_are_deterministic_for_a_seed_and_roughly_right():
    a = sequence(Faults.parse("seed=42; throttle=0.3"), 1000)
    b = sequence(Faults.parse("seed=42; throttle=0.3"), 1000)
    c = sequence(Faults.parse("seed=43; throttle=0.3"), 1000)
    assert a == b and a != c
    assert 230 < a.count("throttle") < 370


def test_set_restarts_the_sequence_and_clear_removes_rules():
    f = Faults.parse("seed=5; 5xx=0.5")
    first = sequence(f, 50)
    f.set("seed=5; 5xx=0.5")
    assert sequence(f, 50) == first
    f.clear()
    assert sequence(f, 10) == [None] * 10 and f.spec == ""


def test_latency_combines_with_an_error_and_stands_alone():
    f = Faults.parse("seed=1; latency=3ms; vpc:5xx=1")
    both = f.decide("vpc", "X")
    assert (both.kind, both.latency_ms) == ("5xx", 3.0)
    alone = f.decide("cvm", "X")
    assert alone == Fault("latency", 3.0, 3.0)
    ranged = Faults.parse("seed=1; latency=2-4ms")
    delays = {ranged.decide("x", "y").latency_ms for _ in range(20)}
    assert all(2.0 <= d <= 4.0 for d in delays) and len(delays) > 1


def test_decision_sequence_does_not_depend_on_earlier_outcomes():
    """Each matching rule draws once per call, so adding a rule elsewhere keeps a service's
    sequence; a rule that matches the same calls is part of the sequence by design."""
    base = sequence(Faults.parse("seed=9; vpc:throttle=0.5"), 200)
    with_other = Faults.parse("seed=9; vpc:throttle=0.5; cvm:5xx=0.5")
    assert sequence(with_other, 200) == base


# --- what clients see ---------------------------------------------------------------------------


def test_throttle_answers_request_limit_exceeded(cloud):
    cloud.faults.set("vpc:throttle=1")
    with pytest.raises(TencentCloudSDKException) as exc:
        cloud.call("vpc", "DescribeSecurityGroups")
    assert exc.value.code == "RequestLimitExceeded" and exc.value.requestId
    assert cloud.call("cvm", "DescribeInstances").TotalCount == 3  # other services unaffected


def test_5xx_is_a_server_network_error(cloud):
    cloud.faults.set("tke.DescribeClusters:5xx=1")
    with pytest.raises(TencentCloudSDKException) as exc:
        cloud.call("tke", "DescribeClusters")
    assert exc.value.code == "ServerNetworkError"
    resp = requests.post(f"http://{cloud.endpoint}/", headers={"X-TC-Action": "DescribeClusters",
                                                                 "Authorization": "TC3-HMAC-SHA256 Credential=a/2024-01-01/tke/tc3_request, SignedHeaders=content-type;host, Signature=00"},
                         data=b"{}", timeout=5)
    assert resp.status_code == 500 and not resp.headers["Content-Type"].startswith("application/json")
    assert cloud.call("tke", "DescribeAddon", ClusterId="cls-demo0001").Addons


def test_drop_closes_the_connection_without_an_answer(cloud):
    cloud.faults.set("cam:drop=1")
    with pytest.raises(TencentCloudSDKException) as exc:
        cloud.call("cam", "GetRole", RoleName="TKE_QCSRole")
    assert exc.value.code == "ClientNetworkError"
    with pytest.raises(requests.ConnectionError):
        requests.post(f"http://{cloud.endpoint}/", headers={
            "Authorization": "TC3-HMAC-SHA256 Credential=a/2024-01-01/cam/tc3_request, SignedHeaders=content-type;host, Signature=00"},
            data=b"{}", timeout=5)
    cloud.faults.clear()
    assert cloud.call("cam", "GetRole", RoleName="TKE_QCSRole").RoleInfo.RoleName == "TKE_QCSRole"


def test_seeded_share_gives_the_same_outcomes_over_http():

    def run() -> list[str]:
        with serve(demo_state(), faults=Faults.parse("seed=11; cvm:throttle=0.5")) as rc:
            out = []
            for _ in range(30):
                try:
                    rc.call("cvm", "DescribeInstances")
                    out.append("ok")
                except TencentCloudSDKException as e:
                    out.append(e.code)
            return out

    first, second = run(), run()
    assert first == second and {"ok", "RequestLimitExceeded"} == set(first)


def test_faults_can_be_set_at_run_time_through_the_control_endpoint(cloud):
    url = f"http://{cloud.endpoint}/_sandbox/faults"
    token = {"X-Sandbox-Token": cloud.state.admin_token}
    resp = requests.put(url, data="seed=1; cvm:throttle=1", headers=token, timeout=5)
    assert resp.status_code == 200 and resp.json()["faults"] == "seed=1; cvm:throttle=1"
    with pytest.raises(TencentCloudSDKException):
        cloud.call("cvm", "DescribeInstances")
    assert requests.get(url, headers=token, timeout=5).json() == {"faults": "seed=1; cvm:throttle=1"}
    bad = requests.put(url, data="cvm:throttle=2", headers=token, timeout=5)
    assert bad.status_code == 400 and "outside [0, 1]" in bad.json()["error"]
    assert requests.put(url, data="throttle=1", timeout=5).status_code == 401  # no token
    assert requests.delete(url, headers=token, timeout=5).json() == {"faults": ""}
    assert cloud.call("cvm", "DescribeInstances").TotalCount == 3
