"""CloudSession.recording: every call's request and final answer (after retries) or error, in order; and
RecordedSession, which serves recorded answers through the same adapters (what `capacity --snapshot`
does with a capture)."""

from __future__ import annotations

import pytest

from sgpctl.cloud.recorded import RecordedSession
from sgpctl.errors import CloudError

LIMITS = {"TotalCount": 2, "PodLimitsInstanceSet": [
    {"Zone": "ap-guangzhou-3", "InstanceFamily": "SA5", "InstanceType": "SA5.2XLARGE16",
     "PodLimits": {"TKERouteENINonStaticIP": 60, "TKERouteENIStaticIP": 57, "TKEDirectENI": 4, "TKESubENI": 100}},
    {"Zone": "ap-guangzhou-3", "InstanceFamily": "S5", "InstanceType": "S5.LARGE8",
     "PodLimits": {"TKERouteENINonStaticIP": 16, "TKERouteENIStaticIP": 14, "TKEDirectENI": 2, "TKESubENI": 0}},
]}


def test_recording_keeps_each_request_and_its_final_answer_in_order(api, session):
    api.reply("tke", "DescribeVpcCniPodLimits", LIMITS)
    api.fail("vpc", "DescribeNetworkInterfaceLimit", "InvalidInstanceId.NotFound", "no such instance")
    api.reply("tke", "DescribeIPAMD", {"EnableIPAMD": True, "SubnetIds": ["subnet-aaaa0001"]})
    with session.recording() as calls:
        session.tke.describe_vpc_cni_pod_limits()
        with pytest.raises(CloudError):
            session.vpc.describe_network_interface_limit("ins-abcd1234")
    session.tke.describe_ipamd("cls-abcd1234")  # after the block: not recorded

    assert [(c["service"], c["action"]) for c in calls] == [("tke", "DescribeVpcCniPodLimits"),
                                                           ("vpc", "DescribeNetworkInterfaceLimit")]
    assert calls[0]["params"] == {}
    assert calls[0]["response"]["PodLimitsInstanceSet"][0]["PodLimits"]["TKESubENI"] == 100
    assert calls[1]["params"] == {"InstanceId": "ins-abcd1234"}
    assert calls[1]["error"] == {"code": "InvalidInstanceId.NotFound", "message": "no such instance"}
    assert "response" not in calls[1]


def test_a_retried_call_is_recorded_once_with_the_answer_that_came_through(api, session):
    api.fail("tke", "DescribeVpcCniPodLimits", "RequestLimitExceeded")
    api.reply("tke", "DescribeVpcCniPodLimits", LIMITS)
    with session.recording() as calls:
        session.tke.describe_vpc_cni_pod_limits()
    assert len(api.calls("DescribeVpcCniPodLimits")) == 2
    assert len(calls) == 1 and calls[0]["response"]["TotalCount"] == 2


def test_recorded_answers_are_parsed_by_the_same_adapters_as_live_ones(api, session):
    api.reply("tke", "DescribeVpcCniPodLimits", LIMITS)
    with session.recording() as calls:
        live = session.tke.describe_vpc_cni_pod_limits()
    replayed = RecordedSession(calls, "ap-guangzhou").tke.describe_vpc_cni_pod_limits()
    assert replayed == live
    assert [(p.instance_type, p.sub_eni) for p in replayed] == [("SA5.2XLARGE16", 100), ("S5.LARGE8", 0)]


def test_a_recorded_error_is_raised_again_and_an_unrecorded_request_is_not_captured():
    calls = [{"service": "vpc", "action": "DescribeNetworkInterfaceLimit", "params": {"InstanceId": "ins-abcd1234"},
              "error": {"code": "InvalidInstanceId.NotFound", "message": "gone"}}]
    session = RecordedSession(calls)
    with pytest.raises(CloudError) as e:
        session.vpc.describe_network_interface_limit("ins-abcd1234")
    assert e.value.code == "InvalidInstanceId.NotFound"
    with pytest.raises(CloudError) as e:
        session.vpc.describe_network_interface_limit("ins-other001")
    assert e.value.code == "NotCaptured"
