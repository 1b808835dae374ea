"""enable-trunking / trunking status over a fake TKE: what counts as on, and the one merge update."""

from sgpctl.workflows.trunking import enable_trunking, trunking_status
from sgpctl.workflows.waiting import Waiter
from tests.fakes import CLUSTER_ID, FakeAddon, FakeCloud

FAST = Waiter(timeout=5, interval=0, sleep=lambda s: None)


def cloud_with(values: dict, defaults: dict | None = None) -> FakeCloud:
    cloud = FakeCloud()
    cloud.tke.addons["eniipamd"] = FakeAddon("eniipamd", "3.6.0", values=values, defaults=defaults or {})
    return cloud


def test_a_switch_left_at_a_true_chart_default_counts_as_on_and_is_not_rewritten():
    cloud = cloud_with({"vpcCni": {"other": 1}}, {"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
    assert trunking_status(cloud.tke, CLUSTER_ID, with_preconditions=False).enabled is True
    out = enable_trunking(cloud.tke, CLUSTER_ID, waiter=FAST)
    assert out.ok and not out.changed and cloud.tke.updates == []


def test_a_set_false_overrides_a_true_default_and_is_switched_with_one_merge_update():
    cloud = cloud_with({"vpcCni": {"trunkingEni": {"enableSubEni": False}, "other": 1}},
                       {"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
    assert trunking_status(cloud.tke, CLUSTER_ID, with_preconditions=False).enabled is False
    out = enable_trunking(cloud.tke, CLUSTER_ID, waiter=FAST)
    assert out.ok and out.changed
    assert cloud.tke.updates == [{"name": "eniipamd", "values": {"vpcCni": {"trunkingEni": {"enableSubEni": True}}}, "strategy": "merge"}]
    assert cloud.tke.addons["eniipamd"].values == {"vpcCni": {"trunkingEni": {"enableSubEni": True}, "other": 1}}


def test_a_string_typed_switch_keeps_its_type():
    cloud = cloud_with({"vpcCni": {"trunkingEni": {"enableSubEni": "false"}}})
    enable_trunking(cloud.tke, CLUSTER_ID, waiter=FAST)
    assert cloud.tke.updates[0]["values"] == {"vpcCni": {"trunkingEni": {"enableSubEni": "true"}}}
