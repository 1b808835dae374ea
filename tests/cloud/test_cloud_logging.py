"""Debug logging: each attempt names action, attempt, duration and request id; secrets never appear,
not even from the SDK's own logger while the root logger is at DEBUG (what --debug does)."""

from __future__ import annotations

import io
import logging

import pytest

from sgpctl.errors import CloudError
from tests.cloud.conftest import SECRET_ID, SECRET_KEY, TOKEN, Creds


@pytest.fixture
def root_debug_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_debug_log_names_action_attempt_and_request_id_and_never_a_secret(api, make_session, root_debug_log, capsys):
    session = make_session(creds=Creds(token=TOKEN))
    api.fail("cam", "ListPolicies", "RequestLimitExceeded", "slow down", "req-throttled")
    api.reply("cam", "ListPolicies", {"TotalNum": 0, "List": []}, request_id="req-ok")
    api.fail("cam", "GetRole", "AuthFailure.SignatureFailure", "signature mismatch", "req-sig")

    session.cam.list_policies()
    with pytest.raises(CloudError) as e:
        session.cam.get_role("TKE_QCSRole")

    log = root_debug_log.getvalue()
    assert "cam.ListPolicies attempt=1" in log and "request_id=req-throttled error=RequestLimitExceeded" in log
    assert "cam.ListPolicies attempt=2" in log and "request_id=req-ok ok" in log
    assert "duration_ms=" in log
    assert "cam.GetRole attempt=1" in log and "req-sig" in log
    captured = capsys.readouterr()
    everything = log + captured.out + captured.err + str(e.value) + (e.value.hint or "")
    for secret in (SECRET_KEY, TOKEN):
        assert secret not in everything
    assert "Authorization" not in log and "Signature=" not in log
    assert SECRET_ID not in log
