"""The lose-reply fault: the request runs (the change is made), then the connection is closed without
the answer. For the cloud API through the SDK and sgpctl's adapters, and for the Kubernetes API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from kubernetes import client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from sgpctl.cloud.errors import OutcomeUnknownError
from sgpctl.cloud.retry import RetryPolicy
from sgpctl.cloud.session import CloudSession
from sgpctl.errors import CloudError, ExitCode
from sgpctl.sandbox.faults import Faults
from tests.sandbox_support import cloud_client, kube_api_client, running_sandbox, sdk_request


@dataclass(frozen=True)
class Creds:
    secret_id: str
    secret_key: str
    token: str | None = None


def session(sb, max_attempts: int = 4) -> CloudSession:
    return CloudSession(Creds(sb.secret_id, sb.secret_key), sb.region, sb.cloud_url,
                        retry=RetryPolicy(max_attempts=max_attempts, sleep=lambda s: None))


@pytest.fixture
def sb():
    with running_sandbox("default", addon_delay=0.05) as sb:
        yield sb


def test_the_spec_grammar_knows_lose_reply():
    f = Faults.parse("seed=3; tke.UpdateAddon:lose-reply=50%; kube.create:lose-reply=1")
    assert f.spec == "seed=3; tke.UpdateAddon:lose-reply=0.5; kube.create:lose-reply=1"
    fault = f.decide("kube", "create")
    assert fault.kind == "lose-reply" and fault.loses_reply
    assert not Faults.parse("drop=1").decide("vpc", "X").loses_reply  # drop answers instead of running
    assert f.decide("kube", "get") is None


def test_the_change_is_made_and_the_sdk_sees_a_dropped_connection(sb):
    sb.faults.set("tke.UpdateAddon:lose-reply=1")
    mark = sb.log.mark()
    tke = cloud_client(sb, "tke")
    with pytest.raises(TencentCloudSDKException) as e:
        tke.UpdateAddon(sdk_request("tke", "UpdateAddon", ClusterId=sb.cluster_id, AddonName="eniipamd",
                                    RawValues="eyJ2cGNDbmkiOnsidHJ1bmtpbmdFbmkiOnsiZW5hYmxlU3ViRW5pIjp0cnVlfX19",
                                    UpdateStrategy="merge"))
    assert e.value.code == "ClientNetworkError"
    (entry,) = sb.log.since(mark, action="UpdateAddon")
    assert entry["replyLost"] is True and entry["code"] == "OK"
    sb.faults.clear()
    values = tke.DescribeAddonValues(sdk_request("tke", "DescribeAddonValues", ClusterId=sb.cluster_id,
                                                 AddonName="eniipamd")).Values
    assert '"enableSubEni": true' in values  # {"vpcCni":{"trunkingEni":{"enableSubEni":true}}} was applied


def test_sgpctl_never_resends_a_mutation_whose_answer_was_lost(sb):
    sb.faults.set("vpc.CreateSecurityGroup:lose-reply=1; tke.UpdateAddon:lose-reply=1")
    s = session(sb)
    mark = sb.log.mark()
    with pytest.raises(OutcomeUnknownError) as e:
        s.vpc.create_security_group("lost-answer", "made, but the client never heard")
    assert e.value.exit_code == ExitCode.UNDETERMINED
    with pytest.raises(OutcomeUnknownError):
        s.tke.update_addon(sb.cluster_id, "eniipamd", values={"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
    assert [x["action"] for x in sb.log.since(mark, api="cloud")] == ["CreateSecurityGroup", "UpdateAddon"]
    sb.faults.clear()
    # The group was made: re-reading by name (what workflows do next) finds exactly one.
    assert [g.name for g in s.vpc.find_security_groups_by_name("lost-answer")] == ["lost-answer"]


def test_a_read_whose_answer_is_lost_is_retried(sb):
    sb.faults.set("seed=1; tke.DescribeIPAMD:lose-reply=1")
    s = session(sb, max_attempts=3)
    mark = sb.log.mark()
    with pytest.raises(CloudError) as e:
        s.tke.describe_ipamd(sb.cluster_id)
    assert "gave up after 3 attempts" in e.value.message and e.value.exit_code == ExitCode.UNDETERMINED
    assert [x["replyLost"] for x in sb.log.since(mark, action="DescribeIPAMD")] == [True] * 3
    sb.faults.set("seed=1; tke.DescribeIPAMD:lose-reply=0.5")
    assert session(sb, max_attempts=20).tke.describe_ipamd(sb.cluster_id).enabled is True


def test_kubernetes_create_is_applied_then_the_connection_dropped(sb):
    core = client.CoreV1Api(kube_api_client(sb))
    sb.faults.set("kube.create:lose-reply=1")
    mark = sb.log.mark()
    with pytest.raises(Exception) as e:
        core.create_namespaced_config_map("default", {"metadata": {"name": "lost"}, "data": {"a": "1"}})
    assert not isinstance(e.value, client.ApiException)  # no answer at all, not an HTTP error
    (entry,) = [x for x in sb.log.since(mark, api="kube") if x["action"] == "create"]
    assert entry["replyLost"] is True and entry["status"] == 201
    sb.faults.clear()
    assert core.read_namespaced_config_map("lost", "default").data == {"a": "1"}


def test_kubernetes_watch_under_lose_reply_gets_no_stream(sb):
    core = client.CoreV1Api(kube_api_client(sb))
    # Without the fault the same watch answers (an empty stream that ends after its 1 s timeout).
    assert core.list_namespaced_config_map("default", watch=True, timeout_seconds=1, _preload_content=False).read() == b""
    sb.faults.set("kube.watch:lose-reply=1")
    with pytest.raises(Exception):
        core.list_namespaced_config_map("default", watch=True, timeout_seconds=1, _preload_content=False).read()
    sb.faults.clear()
    assert core.list_namespaced_config_map("default").items is not None
