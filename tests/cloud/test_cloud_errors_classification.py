"""Error classification per code, through the real SDK call path: the exit code, whether the call is
retried (a read) or reported as "outcome unknown" (a mutation), and the hint.

Code names come from the SDK's own ``errorcodes`` modules, so a code the API does not define cannot
slip into the table; the expected columns are worked out from the rules (issue #9): permission -> 3 with
the CAM action; parameter, state, quota -> 1, never retried; only throttling, 5xx, a bare
InternalError and transport errors are retried; a mutation whose outcome is unknown is never re-sent.
"""

from __future__ import annotations

import pytest
from tencentcloud.cam.v20190116 import errorcodes as cam
from tencentcloud.cvm.v20170312 import errorcodes as cvm
from tencentcloud.tke.v20180525 import errorcodes as tke
from tencentcloud.vpc.v20170312 import errorcodes as vpc

from sgpctl.cloud.errors import OutcomeUnknownError, blame_input
from sgpctl.errors import CloudError, ExitCode

POLICY = {"version": "2.0", "statement": [{"effect": "allow", "action": ["vpc:*"], "resource": ["*"]}]}

# service -> (read: action, call, success payload), (mutation: action, call, success payload)
CALLS = {
    "tke": (("DescribeIPAMD", lambda s: s.tke.describe_ipamd("cls-abcd1234"), {"EnableIPAMD": True}),
            ("InstallAddon", lambda s: s.tke.install_addon("cls-abcd1234", "securitygrouppolicy"), {})),
    "cam": (("ListPolicies", lambda s: s.cam.list_policies(), {"TotalNum": 0, "List": []}),
            ("CreatePolicy", lambda s: s.cam.create_policy("p", POLICY), {"PolicyId": 7})),
    "vpc": (("DescribeSecurityGroupLimits", lambda s: s.vpc.describe_security_group_limit(),
             {"SecurityGroupLimitSet": {"InstanceSecurityGroupLimit": 5}}),
            ("CreateSecurityGroup", lambda s: s.vpc.create_security_group("web"),
             {"SecurityGroup": {"SecurityGroupId": "sg-1", "SecurityGroupName": "web"}})),
    "cvm": (("DescribeInstances", lambda s: s.cvm.describe_instances(["ins-1"]), {"TotalCount": 0, "InstanceSet": []}),
            None),
}

PERMISSION = "permission"  # hint: "lack permission for <service>:<Action>; grant it in CAM"
CLUSTER = "cluster"        # hint: --cluster-id/SGPCTL_CLUSTER_ID and --region
THROTTLE = "throttle"      # hint: wait and run again

# (code from the SDK, service, exit code, read retried?, mutation: "raise" | "unknown" | "retry", hint kind)
TABLE = [
    # permission: never retried, exit 3, the CAM action named
    (tke.INTERNALERROR_CAMNOAUTH, "tke", 3, False, "raise", PERMISSION),
    (tke.FAILEDOPERATION_CAMNOAUTH, "tke", 3, False, "raise", PERMISSION),
    (tke.UNAUTHORIZEDOPERATION_CAMNOAUTH, "tke", 3, False, "raise", PERMISSION),
    (tke.UNAUTHORIZEDOPERATION, "tke", 3, False, "raise", PERMISSION),
    (cam.AUTHFAILURE_UNAUTHORIZEDOPERATION, "cam", 3, False, "raise", PERMISSION),
    (vpc.UNAUTHORIZEDOPERATION, "vpc", 3, False, "raise", PERMISSION),
    (cvm.UNAUTHORIZEDOPERATION_PERMISSIONDENIED, "cvm", 3, False, "raise", PERMISSION),
    # parameter: exit 1 with the code, never retried (not even the InternalError-filed one)
    (tke.INTERNALERROR_PARAM, "tke", 1, False, "raise", None),
    (tke.FAILEDOPERATION_PARAM, "tke", 1, False, "raise", None),
    (tke.INVALIDPARAMETER_PARAM, "tke", 1, False, "raise", None),
    (vpc.INVALIDPARAMETERVALUE_MALFORMED, "vpc", 1, False, "raise", None),
    (vpc.INVALIDPARAMETER_COEXIST, "vpc", 1, False, "raise", None),
    # state
    (tke.INTERNALERROR_CLUSTERSTATE, "tke", 1, False, "raise", None),
    (tke.FAILEDOPERATION_CLUSTERSTATE, "tke", 1, False, "raise", None),
    (tke.RESOURCEUNAVAILABLE_CLUSTERSTATE, "tke", 1, False, "raise", None),
    (tke.FAILEDOPERATION_TASKALREADYRUNNING, "tke", 1, False, "raise", None),
    # quota: LimitExceeded* and *QuotaMax*, but not VPC's call-rate limit
    (tke.INTERNALERROR_QUOTAMAXCLSLIMIT, "tke", 1, False, "raise", None),
    (tke.INTERNALERROR_QUOTAMAXNODLIMIT, "tke", 1, False, "raise", None),
    (tke.LIMITEXCEEDED, "tke", 1, False, "raise", None),
    (vpc.LIMITEXCEEDED, "vpc", 1, False, "raise", None),
    (cam.LIMITEXCEEDED_UIN, "cam", 1, False, "raise", None),
    # every spelling of a missing cluster: exit 1 and the --cluster-id/--region hint
    (tke.INTERNALERROR_CLUSTERNOTFOUND, "tke", 1, False, "raise", CLUSTER),
    (tke.RESOURCENOTFOUND_CLUSTERNOTFOUND, "tke", 1, False, "raise", CLUSTER),
    (tke.INVALIDPARAMETER_CLUSTERNOTFOUND, "tke", 1, False, "raise", CLUSTER),
    (tke.FAILEDOPERATION_CLUSTERNOTFOUND, "tke", 1, False, "raise", CLUSTER),
    # throttling: retried for reads and writes (the request was not executed)
    (cam.REQUESTLIMITEXCEEDED_UINLIMITEXCEEDED, "cam", 3, True, "retry", THROTTLE),
    (vpc.REQUESTLIMITEXCEEDED, "vpc", 3, True, "retry", THROTTLE),
    (vpc.LIMITEXCEEDED_ACTIONLIMITED, "vpc", 3, True, "retry", THROTTLE),
    # a bare InternalError: a read is retried, a mutation may have run
    (tke.INTERNALERROR, "tke", 3, True, "unknown", None),
    (cvm.INTERNALERROR, "cvm", 3, True, "unknown", None),
    # other InternalError sub-codes: not retried; a mutation may have run
    (tke.INTERNALERROR_DB, "tke", 3, False, "unknown", None),
    (cam.INTERNALERROR_SYSTEMERROR, "cam", 3, False, "unknown", None),
    (vpc.INTERNALERROR_MODULEERROR, "vpc", 3, False, "unknown", None),
]


def _expected_hint(kind: str | None, service: str, action: str) -> str | None:
    return {PERMISSION: f"lack permission for {service}:{action}; grant it in CAM",
            CLUSTER: "check --cluster-id/SGPCTL_CLUSTER_ID and --region",
            THROTTLE: "throttling"}.get(kind)


def _fail_then_succeed(api, service: str, action: str, code: str, payload: dict) -> None:
    api.fail(service, action, code, "refused", "req-1")
    api.reply(service, action, payload, request_id="req-2")


@pytest.mark.parametrize("code, service, exit_code, retried, _mutation, hint", TABLE,
                         ids=[f"{row[1]}:{row[0]}" for row in TABLE])
def test_a_read_that_fails(api, session, code, service, exit_code, retried, _mutation, hint):
    action, call, payload = CALLS[service][0]
    _fail_then_succeed(api, service, action, code, payload)
    if retried:
        call(session)
        assert len(api.calls(action)) == 2
        return
    with pytest.raises(CloudError) as e:
        call(session)
    err = e.value
    assert len(api.calls(action)) == 1, "a non-retryable error was retried"
    assert (err.code, err.request_id, int(err.exit_code)) == (code, "req-1", exit_code)
    assert code in err.message
    want = _expected_hint(hint, service, action)
    if want is None:
        assert err.hint is None or "CAM" not in err.hint
    else:
        assert want in err.hint


@pytest.mark.parametrize("code, service, exit_code, _retried, mutation, hint",
                         [row for row in TABLE if CALLS[row[1]][1] is not None],
                         ids=[f"{row[1]}:{row[0]}" for row in TABLE if CALLS[row[1]][1] is not None])
def test_a_mutation_that_fails(api, session, code, service, exit_code, _retried, mutation, hint):
    action, call, payload = CALLS[service][1]
    _fail_then_succeed(api, service, action, code, payload)
    if mutation == "retry":
        call(session)
        assert len(api.calls(action)) == 2
        return
    with pytest.raises(CloudError) as e:
        call(session)
    assert len(api.calls(action)) == 1, "a mutation was sent again"
    assert isinstance(e.value, OutcomeUnknownError) == (mutation == "unknown")
    assert int(e.value.exit_code) == exit_code
    want = _expected_hint(hint, service, action)
    if mutation == "unknown":
        assert "may or may not have been applied" in e.value.hint
    elif want is not None:
        assert want in e.value.hint


def test_the_permission_hint_names_the_action_that_was_refused(api, session):
    api.fail("tke", "DescribeClusters", tke.INTERNALERROR_CAMNOAUTH, "no permission", "req-cam")
    with pytest.raises(CloudError) as e:
        session.tke.describe_cluster("cls-abcd1234")
    assert e.value.hint == "the credentials lack permission for tke:DescribeClusters; grant it in CAM"
    assert e.value.exit_code == ExitCode.UNDETERMINED and "req-cam" in e.value.message


def test_a_parameter_error_from_the_users_own_value_is_exit_2():
    refused = CloudError(vpc.INVALIDPARAMETERVALUE_MALFORMED, "sg-x is malformed", "req-9", action="DescribeSecurityGroups")
    mine = blame_input(refused, "the security group ids (sg-xxxxxxxx)")
    assert mine.exit_code == ExitCode.USAGE and mine.code == refused.code and mine.request_id == "req-9"
    assert mine.hint == "check the security group ids (sg-xxxxxxxx)"
    throttled = CloudError(vpc.REQUESTLIMITEXCEEDED, "slow down")
    assert blame_input(throttled, "x") is throttled


def test_answers_that_are_not_api_responses_are_undetermined_however_they_are_made():
    # Adapters raise InvalidResponse themselves (a success without an id): "could not determine", as
    # when the SDK reports it.
    assert CloudError("InvalidResponse", "no PolicyId").exit_code == ExitCode.UNDETERMINED
