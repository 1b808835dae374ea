"""Writing eniipamd's values against the sandbox: the backup (where, what, never a secret), the read-back
that catches any other change (exit 1, the differences, the restore command), `sgpctl addon restore`
(plan, confirmation, idempotent, refuses another cluster's backup), and the SecurityGroupPolicy add-on's
name when nothing lists it (no guess; --name, the environment and `config set` settle it).

Values are read through the cloud API with the official SDK, not through sgpctl."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from sgpctl.core.addon_values import leaf_diff
from tests.sandbox_support import cloud_client, sdk_request

BACKUP_RE = re.compile(r"backup (/\S+\.json)")


def values(sb) -> dict:
    tke = cloud_client(sb, "tke")
    return json.loads(tke.DescribeAddonValues(sdk_request("tke", "DescribeAddonValues", ClusterId=sb.cluster_id,
                                                          AddonName="eniipamd")).Values)


def mutating(sb, mark) -> list[str]:
    return [e["action"] for e in sb.log.since(mark, api="cloud") if e["mutating"]]


def backup_of(result) -> Path:
    found = BACKUP_RE.findall(result.stdout + result.stderr)
    assert found, result.stdout + result.stderr
    return Path(found[0])


def test_the_backup_is_in_the_state_directory_holds_the_values_before_and_no_secret(sandbox_cli, tmp_path):
    state = tmp_path / "state"
    cli = sandbox_cli("default", env={"XDG_STATE_HOME": str(state)})
    before = values(cli.sandbox)
    r = cli("enable-trunking", "--yes", "-o", "json")
    assert r.exit_code == 0, r.stdout + r.stderr
    step = next(s for s in r.json()["steps"] if s["id"] == "eniipamd-enable-sub-eni")
    path = Path(step["details"]["backup"])
    assert path.parent == state / "sgpctl" / "backups" / cli.sandbox.cluster_id
    assert str(path) in step["message"]
    saved = json.loads(path.read_text())
    assert saved["values"] == before and saved["addonName"] == "eniipamd" and saved["clusterId"] == cli.sandbox.cluster_id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert cli.env["TENCENTCLOUD_SECRET_KEY"] not in text and cli.env["TENCENTCLOUD_SECRET_ID"] not in text
    # without XDG_STATE_HOME: ~/.local/state
    cli2 = sandbox_cli("default")
    r = cli2("enable-trunking", "--yes", "-o", "json")
    step = next(s for s in r.json()["steps"] if s["id"] == "eniipamd-enable-sub-eni")
    assert Path(step["details"]["backup"]).parent == cli2.home / ".local" / "state" / "sgpctl" / "backups" / cli2.sandbox.cluster_id


def drop_after_updates(sb, monkeypatch, drop=("vpcCni", "securityGroups")):
    """An UpdateAddon that, besides what it is sent, loses one subtree of what is set: what a wrong
    reading of the merge would do."""
    real = sb.cloud.update_addon

    def lossy(cluster_id, name, version=None, values=None, strategy="merge", **kw):
        real(cluster_id, name, version, values, strategy, **kw)
        with sb.cloud.transaction():
            sb.cloud.addon_records[cluster_id][name]["Values"][drop[0]].pop(drop[1], None)

    monkeypatch.setattr(sb.cloud, "update_addon", lossy)


def test_a_change_nobody_asked_for_fails_with_the_difference_and_the_restore_command_undoes_it(sandbox_cli, monkeypatch):
    cli = sandbox_cli("default")
    sb = cli.sandbox
    before = values(sb)
    drop_after_updates(sb, monkeypatch)
    r = cli("enable-trunking", "--yes")
    assert r.exit_code == 1, r.stdout + r.stderr
    # the chart's default has no enableSecurityGroups: that leaf is gone now
    assert "vpcCni.securityGroups.enableSecurityGroups: expected false, reads (absent)" in r.stdout
    command = re.search(r"sgpctl addon restore eniipamd --from (\S+)", r.stdout)
    assert command, r.stdout
    backup = Path(command.group(1))
    monkeypatch.undo()

    mark = sb.log.mark()
    plan = cli("addon", "restore", "eniipamd", "--from", str(backup), "--dry-run", "-o", "json")
    assert plan.exit_code == 0 and mutating(sb, mark) == []
    step = plan.json()["steps"][0]
    assert step["status"] == "planned"
    assert sorted(step["details"]["changes"]) == sorted([
        "vpcCni.securityGroups.enableSecurityGroups: expected (absent), reads false",
        "vpcCni.trunkingEni.enableSubEni: expected true, reads false"])
    refused = cli("addon", "restore", "eniipamd", "--from", str(backup))  # not a terminal, no --yes
    assert refused.exit_code == 1 and "--yes" in refused.stderr and mutating(sb, mark) == []

    done = cli("addon", "restore", "eniipamd", "--from", str(backup), "--yes")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert leaf_diff(before, values(sb)) == []
    assert mutating(sb, mark) == ["UpdateAddon"]
    assert backup_of(done) != backup  # the values it replaced were saved too

    mark = sb.log.mark()
    again = cli("addon", "restore", "eniipamd", "--from", str(backup), "--yes")
    assert again.exit_code == 0 and "nothing to change" in again.stdout and mutating(sb, mark) == []


def test_restore_refuses_a_backup_of_another_cluster_or_add_on_or_no_backup_at_all(sandbox_cli, tmp_path):
    cli = sandbox_cli("default")
    r = cli("enable-trunking", "--yes")
    backup = backup_of(r)
    data = json.loads(backup.read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**data, "clusterId": "cls-other000"}))
    mark = cli.sandbox.log.mark()
    r = cli("addon", "restore", "eniipamd", "--from", str(other), "--yes")
    assert r.exit_code == 2 and "cls-other000" in r.stderr and "--cluster-id cls-other000" in r.stderr
    r = cli("addon", "restore", "ip-masq-agent", "--from", str(backup), "--yes")
    assert r.exit_code == 2 and "holds add-on eniipamd's values" in r.stderr
    junk = tmp_path / "junk.json"
    junk.write_text('{"values": {}}')
    r = cli("addon", "restore", "eniipamd", "--from", str(junk), "--yes")
    assert r.exit_code == 2 and "not an sgpctl add-on values backup" in r.stderr
    r = cli("addon", "restore", "eniipamd", "--from", str(tmp_path / "missing.json"), "--yes")
    assert r.exit_code == 2 and "not found" in r.stderr
    assert mutating(cli.sandbox, mark) == []


def test_shallow_merge_keeps_every_other_value_through_enable_and_routing(sandbox_cli):
    cli = sandbox_cli("default", variants={"addon-merge": "shallow"})
    before = values(cli.sandbox)
    assert cli("enable-trunking", "--yes").exit_code == 0
    assert cli("routing", "set", "strict", "--yes").exit_code == 0
    after = values(cli.sandbox)
    # hand-computed: the three leaves routing sets, and the switch; nothing else
    assert sorted(".".join(p) for p, _, _ in leaf_diff(before, after)) == [
        "agent.config.disableTcpEarlyDemux", "agent.config.disableUdpEarlyDemux",
        "vpcCni.trunkingEni.enableSubEni", "vpcCni.trunkingEni.podSecurityGroupEnforcingMode"]


# --- the SecurityGroupPolicy add-on's name, when nothing lists it --------------------------------

@pytest.fixture
def unlisted(sandbox_cli):
    """The add-on under a name without "securitygroup" that the chart list does not show, installed
    behind the API (trunking on)."""
    cli = sandbox_cli("default", variants={"sgp-addon-name": "sgp", "sgp-addon-listed": "false"})
    return cli


def test_an_add_on_nothing_lists_is_never_guessed(unlisted):
    cli = unlisted
    mark = cli.sandbox.log.mark()
    r = cli("addon", "status")
    assert r.exit_code == 3
    assert "the SecurityGroupPolicy add-on's API name is unknown" in r.stderr
    assert "charts seen: " in r.stderr and "eniipamd" in r.stderr and "sgp," not in r.stderr
    assert "--addon-name NAME" in r.stderr and "sgpctl config set sgp-addon-name NAME" in r.stderr
    r = cli("setup", "--yes")
    assert r.exit_code == 3 and mutating(cli.sandbox, mark) == []
    r = cli("addon", "install", "--yes", "--force", "-o", "json")
    assert r.exit_code == 3 and r.json()["steps"][0]["status"] == "undetermined"
    assert "InstallAddon" not in [e["action"] for e in cli.sandbox.log.since(mark, api="cloud")]


def test_the_name_from_the_flag_the_environment_or_the_settings_file(unlisted, tmp_path):
    cli = unlisted
    assert cli("setup", "--yes", "--addon-name", "sgp").exit_code == 0
    r = cli("addon", "status", "--name", "sgp", "-o", "json")
    assert r.exit_code == 0 and r.json()["addonName"] == {"name": "sgp", "from": "named by the command line"}
    cli.env["SGPCTL_SGP_ADDON_NAME"] = "sgp"
    assert cli("addon", "status").exit_code == 0
    del cli.env["SGPCTL_SGP_ADDON_NAME"]
    assert cli("addon", "status").exit_code == 3
    assert cli("config", "set", "sgp-addon-name", "sgp").exit_code == 0
    assert cli("addon", "status").exit_code == 0
    shown = cli("config", "view", "-o", "json").json()["settings"]["sgpAddonName"]
    assert shown["value"] == "sgp" and shown["source"].startswith("file ") and shown["source"].endswith("config.json")
    doctor = cli("doctor", "-c", "addon", "-c", "api-assumptions", "-o", "json").json()
    checks = {c["id"]: c for cat in doctor["categories"] for c in cat["checks"]}
    assert checks["addon-installed"]["status"] == "pass"
    assert checks["assume-sgp-addon-name"]["status"] == "pass" and "config.json" in checks["assume-sgp-addon-name"]["message"]
    assert cli("config", "unset", "sgp-addon-name").exit_code == 0
    assert cli("addon", "status").exit_code == 3
    assert os.path.exists(cli.home / ".config" / "sgpctl" / "config.json")


def test_values_and_describeipamd_that_disagree_are_undetermined_everywhere(sandbox_cli, monkeypatch):
    cli = sandbox_cli("default")
    sb = cli.sandbox
    assert cli("cam", "setup", "--yes").exit_code == 0 and cli("enable-trunking", "--yes").exit_code == 0
    # DescribeIPAMD says off although eniipamd's values say on
    monkeypatch.setattr(sb.cloud, "trunking_enabled", lambda cluster_id: False)
    mark = sb.log.mark()
    status = cli("trunking", "status")
    assert status.exit_code == 3 and "trunking: UNKNOWN" in status.stdout and "EnableTrunkingENI=false" in status.stdout
    doctor = cli("doctor", "-c", "trunking", "-o", "json").json()
    checks = {c["id"]: c for cat in doctor["categories"] for c in cat["checks"]}
    assert checks["trunking-enabled"].get("undetermined") and not doctor["ok"]
    install = cli("addon", "install", "--yes", "-o", "json")
    assert install.exit_code == 3
    assert [s["status"] for s in install.json()["steps"]] == ["unchanged", "undetermined"]
    again = cli("enable-trunking", "--yes")
    assert again.exit_code == 3 and "EnableTrunkingENI" in again.stdout
    assert mutating(sb, mark) == []
