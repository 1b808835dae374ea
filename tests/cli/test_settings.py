import json
from pathlib import Path

import pytest

from sgpctl.errors import ExitCode, UndeterminedError
from sgpctl.settings import RootFlags, infer_cluster_id, mask, resolve_settings


def write_profile(home: Path, name: str, cred: dict | None = None, conf: dict | None = None) -> None:
    d = home / ".tccli"
    d.mkdir(parents=True, exist_ok=True)
    if cred is not None:
        (d / f"{name}.credential").write_text(json.dumps(cred))
    if conf is not None:
        (d / f"{name}.configure").write_text(json.dumps(conf))


def test_flags_beat_environment_which_beats_profile(tmp_path):
    write_profile(tmp_path, "default", {"secretId": "AKIDprofile", "secretKey": "kprofile"}, {"_sys_param": {"region": "ap-beijing"}})
    env = {"TENCENTCLOUD_REGION": "ap-shanghai", "TENCENTCLOUD_SECRET_ID": "AKIDenv", "TENCENTCLOUD_SECRET_KEY": "kenv"}
    s = resolve_settings(RootFlags(region="ap-guangzhou"), env, tmp_path)
    assert (s.region.value, s.region.source) == ("ap-guangzhou", "flag --region")
    s = resolve_settings(RootFlags(), env, tmp_path)
    assert (s.region.value, s.region.source) == ("ap-shanghai", "env TENCENTCLOUD_REGION")
    assert s.credentials().secret_id == "AKIDenv"
    s = resolve_settings(RootFlags(), {}, tmp_path)
    assert s.region.value == "ap-beijing" and "default.configure" in s.region.source
    assert s.credentials().secret_id == "AKIDprofile"


def test_explicit_profile_beats_environment_like_tccli(tmp_path):
    write_profile(tmp_path, "prod", {"secretId": "AKIDprod", "secretKey": "kprod", "token": "tok"}, {"_sys_param": {"region": "ap-singapore"}})
    env = {"TENCENTCLOUD_REGION": "ap-shanghai", "TENCENTCLOUD_SECRET_ID": "AKIDenv", "TENCENTCLOUD_SECRET_KEY": "kenv"}
    s = resolve_settings(RootFlags(profile="prod"), env, tmp_path)
    assert s.region.value == "ap-singapore"
    creds = s.credentials()
    assert (creds.secret_id, creds.token) == ("AKIDprod", "tok")
    # TCCLI_PROFILE is not "explicit": the environment still wins, as in tccli.
    s = resolve_settings(RootFlags(), {**env, "TCCLI_PROFILE": "prod"}, tmp_path)
    assert s.profile.source == "env TCCLI_PROFILE"
    assert s.credentials().secret_id == "AKIDenv"


@pytest.mark.parametrize("var", ["TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_TOKEN"])
def test_session_token_from_environment(tmp_path, var):
    env = {"TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "k", var: "session"}
    assert resolve_settings(RootFlags(), env, tmp_path).credentials().token == "session"


def test_sdk_ini_file_is_the_last_static_source(tmp_path):
    (tmp_path / ".tencentcloud").mkdir()
    (tmp_path / ".tencentcloud" / "credentials").write_text("[default]\nsecret_id = AKIDini\nsecret_key = kini\n")
    creds = resolve_settings(RootFlags(), {}, tmp_path).credentials()
    assert creds.secret_id == "AKIDini" and "SDK default chain" in creds.source


def test_no_credentials_is_exit_3_with_a_hint(tmp_path):
    with pytest.raises(UndeterminedError) as e:
        resolve_settings(RootFlags(), {}, tmp_path).credentials()
    assert e.value.exit_code == ExitCode.UNDETERMINED
    assert "TENCENTCLOUD_SECRET_ID" in e.value.hint


def test_masking_never_reveals_the_key(tmp_path):
    env = {"TENCENTCLOUD_SECRET_ID": "AKIDabcdefghijkl", "TENCENTCLOUD_SECRET_KEY": "0123456789abcdef0123"}
    rows = resolve_settings(RootFlags(), env, tmp_path).describe()
    text = json.dumps(rows)
    assert "0123456789abcdef0123" not in text and "0123" not in text.replace("AKID", "")
    assert "AKIDabcdefghijkl" not in text and "AKID" in text
    assert mask("short", keep=4) == "********"


def test_cluster_id_inferred_from_tke_context_names():
    assert infer_cluster_id("cls-ab12cd34-context-default") == "cls-ab12cd34"
    assert infer_cluster_id(None, "my-cluster") is None
