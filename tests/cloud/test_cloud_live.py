"""Read-only calls against a real account. Skipped unless SGPCTL_LIVE=1 and credentials are set
(TENCENTCLOUD_SECRET_ID/KEY or a tccli profile); TENCENTCLOUD_REGION and SGPCTL_CLUSTER_ID widen it."""

from __future__ import annotations

import os

import pytest

from sgpctl.cloud.factory import session_from_settings
from sgpctl.settings import RootFlags, resolve_settings

pytestmark = pytest.mark.skipif(os.environ.get("SGPCTL_LIVE") != "1", reason="live test: set SGPCTL_LIVE=1")


@pytest.fixture
def live():
    settings = resolve_settings(RootFlags())
    if settings.try_credentials() is None:
        pytest.skip("no Tencent Cloud credentials")
    return settings, session_from_settings(settings)


def test_live_reads(live):
    settings, session = live
    assert isinstance(session.cam.list_policies(keyword="SubENIForIPAMD"), list)
    if settings.region.value:
        assert session.vpc.describe_security_group_limit() >= 1
        if settings.cluster_id.value:
            cluster = session.tke.describe_cluster(settings.cluster_id.value)
            assert cluster.cluster_id == settings.cluster_id.value
            session.tke.describe_ipamd(cluster.cluster_id)
            session.tke.describe_addons(cluster.cluster_id)
