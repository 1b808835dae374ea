"""enable-trunking / trunking status over a fake TKE: what counts as on, the preconditions that stop it,
and the one write of eniipamd's values (backup, whole-subtree patch, lost answers, leaf-by-leaf read-back).

Expected patches and values are worked out by hand from the values each test starts with."""

import json

import pytest

from sgpctl.backups import BackupStore
from sgpctl.cloud.types import Ipamd
from sgpctl.core.steps import CHANGED, FAILED, UNDETERMINED
from sgpctl.kube import resources as r
from sgpctl.workflows.trunking import enable_trunking, trunking_status
from sgpctl.workflows.view import ClusterView
from sgpctl.workflows.waiting import Waiter
from tests.fakes import CLUSTER_ID, FakeAddon, FakeCloud, FakeKube, ipamd_deployment

class Clock:
    """Time that passes only when the workflow sleeps."""

    def __init__(self):
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.5)


_clock = Clock()
FAST = Waiter(timeout=5, interval=1, sleep=_clock.sleep, clock=lambda: _clock.now)


def cloud_with(values: dict, defaults: dict | None = None, phase: str = "Succeeded") -> FakeCloud:
    cloud = FakeCloud()
    cloud.tke.addons["eniipamd"] = FakeAddon("eniipamd", "3.6.0", values=values, defaults=defaults or {}, phase=phase)
    cloud.tke.ipamd_follows_values = True
    return cloud


def view(version: str = "3.6.0") -> ClusterView:
    kube = FakeKube()
    kube.add(r.DEPLOYMENTS, ipamd_deployment(version))
    return ClusterView(kube)


def enable(cloud: FakeCloud, tmp_path, **kw):
    kw.setdefault("view", view())
    return enable_trunking(cloud.tke, CLUSTER_ID, waiter=FAST, backups=BackupStore(tmp_path / "backups"), **kw)


def step(out, step_id="eniipamd-enable-sub-eni"):
    return next(s for s in out.steps if s.id == step_id)


def test_a_switch_left_at_a_true_chart_default_counts_as_on_and_is_not_rewritten(tmp_path):
    cloud = cloud_with({"vpcCni": {"other": 1}}, {"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
    assert trunking_status(cloud.tke, CLUSTER_ID, with_preconditions=False).enabled is True
    out = enable(cloud, tmp_path)
    assert out.ok and not out.changed and cloud.tke.updates == []
    assert not (tmp_path / "backups").exists()  # nothing changed, nothing backed up


def test_a_set_false_overrides_a_true_default_and_vpccni_is_sent_whole(tmp_path):
    cloud = cloud_with({"vpcCni": {"trunkingEni": {"enableSubEni": False}, "other": 1}},
                       {"vpcCni": {"trunkingEni": {"enableSubEni": True}}})
    assert trunking_status(cloud.tke, CLUSTER_ID, with_preconditions=False).enabled is False
    out = enable(cloud, tmp_path)
    assert out.ok and out.changed, out.to_dict()
    assert cloud.tke.updates == [{"name": "eniipamd", "strategy": "merge",
                                  "values": {"vpcCni": {"trunkingEni": {"enableSubEni": True}, "other": 1}}}]
    assert cloud.tke.addons["eniipamd"].values == {"vpcCni": {"trunkingEni": {"enableSubEni": True}, "other": 1}}


def test_a_string_typed_switch_keeps_its_type(tmp_path):
    cloud = cloud_with({"vpcCni": {"trunkingEni": {"enableSubEni": "false"}}})
    enable(cloud, tmp_path)
    assert cloud.tke.updates[0]["values"] == {"vpcCni": {"trunkingEni": {"enableSubEni": "true"}}}


VALUES = {"vpcCni": {"ipam": {"subnetIds": ["subnet-a", "subnet-b"]}, "securityGroups": {"securityGroups": ["sg-1"]},
                     "trunkingEni": {"enableSubEni": False, "podSecurityGroupEnforcingMode": "standard"}},
          "agent": {"config": {"logLevel": 2}}, "clusterId": CLUSTER_ID}


@pytest.mark.parametrize("merge", ["deep", "shallow"])
def test_every_other_value_survives_whatever_the_merge_does(tmp_path, merge):
    cloud = cloud_with(json.loads(json.dumps(VALUES)))
    cloud.tke.merge = merge
    out = enable(cloud, tmp_path)
    assert out.ok and out.changed, out.to_dict()
    expected = json.loads(json.dumps(VALUES))
    expected["vpcCni"]["trunkingEni"]["enableSubEni"] = True
    assert cloud.tke.addons["eniipamd"].values == expected
    # only vpcCni is sent: agent and clusterId are not touched at all
    assert list(cloud.tke.updates[0]["values"]) == ["vpcCni"]


def test_the_values_before_are_saved_and_the_backup_is_named(tmp_path):
    cloud = cloud_with(json.loads(json.dumps(VALUES)))
    out = enable(cloud, tmp_path)
    s = step(out)
    path = s.details["backup"]
    assert path in s.message and path.startswith(str(tmp_path / "backups" / CLUSTER_ID / "eniipamd-"))
    saved = json.loads(open(path).read())
    assert saved["values"] == VALUES and saved["clusterId"] == CLUSTER_ID and saved["addonName"] == "eniipamd"


def test_a_value_that_reads_back_otherwise_fails_with_the_difference_and_the_restore_command(tmp_path):
    cloud = cloud_with(json.loads(json.dumps(VALUES)))
    # an API that, besides the change, drops the subnets
    cloud.tke.update_faults = [lambda v: {**v, "vpcCni": {k: x for k, x in v["vpcCni"].items() if k != "ipam"}}]
    out = enable(cloud, tmp_path)
    s = step(out)
    assert s.status == FAILED and out.exit_code == 1
    assert 'vpcCni.ipam.subnetIds: expected ["subnet-a", "subnet-b"], reads (absent)' in s.message
    assert s.hint.endswith(f"sgpctl addon restore eniipamd --from {s.details['backup']}")


def test_a_lost_answer_is_not_sent_again_when_the_update_ran(tmp_path):
    cloud = cloud_with(json.loads(json.dumps(VALUES)))
    cloud.tke.update_faults = ["lost"]
    out = enable(cloud, tmp_path)
    assert out.ok and out.changed, out.to_dict()
    assert len(cloud.tke.updates) == 1
    actions = cloud.actions()
    after = actions[actions.index("UpdateAddon") + 1:]
    assert after[:2] == ["DescribeAddon", "DescribeAddonValues"] or after[0] == "DescribeAddon"


def test_an_update_that_did_not_run_is_sent_again_only_after_reading_the_state(tmp_path):
    cloud = cloud_with(json.loads(json.dumps(VALUES)))
    cloud.tke.update_faults = ["5xx"]
    out = enable(cloud, tmp_path)
    assert out.ok and out.changed
    assert len(cloud.tke.updates) == 2
    actions = cloud.actions()
    first, second = [i for i, a in enumerate(actions) if a == "UpdateAddon"]
    assert {"DescribeAddon", "DescribeAddonValues"} <= set(actions[first + 1:second])


def test_updates_whose_answers_never_come_stop_undetermined_naming_the_backup(tmp_path):
    cloud = cloud_with(json.loads(json.dumps(VALUES)))
    cloud.tke.update_faults = ["5xx"] * 3
    out = enable(cloud, tmp_path)
    s = step(out)
    assert s.status == UNDETERMINED and out.exit_code == 3
    assert len(cloud.tke.updates) == 3 and s.details["backup"] in s.message
    assert cloud.tke.addons["eniipamd"].values == VALUES


def test_an_add_on_rolling_out_is_waited_on_before_it_is_updated(tmp_path):
    cloud = cloud_with(json.loads(json.dumps(VALUES)), phase="Upgrading")
    cloud.tke.after_update = ["Upgrading", "Succeeded"]
    out = enable(cloud, tmp_path)
    assert out.ok and out.changed
    actions = cloud.actions()
    # DescribeAddon said Upgrading twice, then Succeeded: only then UpdateAddon
    i = actions.index("UpdateAddon")
    assert actions[:i].count("DescribeAddon") >= 3


def ipamd_says_off(sub_eni: bool):
    """eniipamd's values say ``enableSubEni: sub_eni``; DescribeIPAMD says Trunking ENI is off, whatever
    the values become."""
    cloud = cloud_with({"vpcCni": {"trunkingEni": {"enableSubEni": sub_eni}}})
    cloud.tke.ipamd_follows_values = False
    cloud.tke.ipamd = Ipamd(True, False, "running", "", (), trunking_enabled=False)
    return cloud


def test_disagreeing_sources_before_the_switch_are_undetermined_and_change_nothing(tmp_path):
    cloud = ipamd_says_off(sub_eni=True)
    out = enable(cloud, tmp_path)
    s = step(out)
    assert s.status == UNDETERMINED and out.exit_code == 3 and cloud.tke.updates == []
    assert "EnableTrunkingENI" in s.message
    st = trunking_status(cloud.tke, CLUSTER_ID, with_preconditions=False)
    assert st.to_dict()["enabled"] is None and not st.ok


def test_a_switch_describeipamd_never_confirms_is_undetermined(tmp_path):
    cloud = ipamd_says_off(sub_eni=False)
    out = enable(cloud, tmp_path)
    s = step(out)
    assert s.status == UNDETERMINED and len(cloud.tke.updates) == 1
    assert "DescribeIPAMD" in s.message


def test_a_version_without_its_image_tag_stops_before_any_change_until_confirmed(tmp_path):
    cloud = cloud_with({"vpcCni": {"trunkingEni": {"enableSubEni": False}}})
    out = enable(cloud, tmp_path, view=None)
    s = step(out, "precondition-eniipamd-version")
    assert s.status == UNDETERMINED and out.exit_code == 3 and cloud.tke.updates == []
    assert "--confirm eniipamd-version" in s.hint
    out = enable(cloud, tmp_path, view=None, confirmed=["eniipamd-version"])
    assert out.ok and out.changed


def test_the_image_tag_decides_the_version_and_a_different_addon_version_is_said(tmp_path):
    cloud = cloud_with({"vpcCni": {"trunkingEni": {"enableSubEni": False}}})
    cloud.tke.addons["eniipamd"].version = "1.4.2"  # a chart version
    out = enable(cloud, tmp_path, view=view("3.6.0"))
    s = step(out, "precondition-eniipamd-version")
    assert out.ok and s.status == "unchanged"
    assert "eniipamd 3.6.0" in s.message and "AddonVersion 1.4.2 differs" in s.message
    out = enable(cloud_with({"vpcCni": {"trunkingEni": {"enableSubEni": False}}}), tmp_path, view=view("3.5.2"))
    assert step(out, "precondition-eniipamd-version").status == "refused"


def test_changed_status_is_reported(tmp_path):
    cloud = cloud_with({"vpcCni": {"trunkingEni": {"enableSubEni": False}}})
    out = enable(cloud, tmp_path)
    assert step(out).status == CHANGED and "DescribeIPAMD reports EnableTrunkingENI true" in step(out).message
