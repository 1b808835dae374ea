"""Settings, tccli profiles and kubeconfig files as input: each problem is one InputError (exit 2)
naming the file or the variable and the problem; a broken profile that is not needed is not read;
credentials in URLs are never shown."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sgpctl.errors import InputError, UndeterminedError
from sgpctl.settings import RootFlags, resolve_settings
from tests.support import clean_env

ENV = {"TENCENTCLOUD_SECRET_ID": "AKIDenv", "TENCENTCLOUD_SECRET_KEY": "kenv", "TENCENTCLOUD_REGION": "ap-shanghai"}


def broken_profile(home: Path, name: str = "default", credential: str = "{bad", configure: str = "garbage") -> Path:
    d = home / ".tccli"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}.credential").write_text(credential)
    (d / f"{name}.configure").write_text(configure)
    return d


def test_a_broken_profile_is_not_read_when_the_environment_has_everything(tmp_path):
    broken_profile(tmp_path)
    s = resolve_settings(RootFlags(), ENV, tmp_path)
    assert (s.region.value, s.region.source) == ("ap-shanghai", "env TENCENTCLOUD_REGION")
    assert s.credentials().secret_id == "AKIDenv"
    s = resolve_settings(RootFlags(region="ap-beijing"), {}, tmp_path)  # a flag needs no profile either
    assert s.region.value == "ap-beijing"


def test_a_broken_profile_that_is_needed_is_exit_2_naming_the_file(tmp_path):
    d = broken_profile(tmp_path)
    with pytest.raises(InputError) as e:
        resolve_settings(RootFlags(), {}, tmp_path)
    assert e.value.message == f"cannot read {d}/default.configure: line 1, column 1: invalid JSON: Expecting value"
    env = {"TENCENTCLOUD_REGION": "ap-guangzhou"}
    with pytest.raises(InputError) as e:
        resolve_settings(RootFlags(), env, tmp_path).credentials()
    assert e.value.message.startswith(f"cannot read {d}/default.credential: line 1, column 2: invalid JSON")


def test_an_explicit_profile_is_read_even_with_the_environment_set(tmp_path):
    broken_profile(tmp_path, "prod")
    with pytest.raises(InputError, match="prod.configure"):
        resolve_settings(RootFlags(profile="prod"), ENV, tmp_path)


@pytest.mark.parametrize("credential, message", [
    ("[1, 2]", "expected a JSON object, found list"),
    ('{"secretId": 5, "secretKey": "k"}', "secretId must be a string, found int"),
    ('{"type": "cvm-role", "role_name": ["x"]}', "role_name must be a string, found list"),
    ("[" * 500 + "]" * 500, "nesting is deeper than the limit of 100 levels"),
])
def test_profile_shapes(tmp_path, credential, message):
    broken_profile(tmp_path, "p", credential=credential, configure="{}")
    with pytest.raises(InputError) as e:
        resolve_settings(RootFlags(profile="p"), {}, tmp_path).credentials()
    assert message in e.value.message and "p.credential" in e.value.message


def test_a_profile_that_is_a_directory(tmp_path):
    (tmp_path / ".tccli" / "p.configure").mkdir(parents=True)
    with pytest.raises(InputError) as e:
        resolve_settings(RootFlags(profile="p"), {}, tmp_path)
    assert "is a directory" in e.value.message and "p.configure" in e.value.message


@pytest.mark.parametrize("flags, env, message", [
    (RootFlags(region="nowhere-9"), {}, "--region 'nowhere-9' is invalid: a Tencent Cloud region looks like ap-guangzhou"),
    (RootFlags(), {"TENCENTCLOUD_REGION": "AP-GUANGZHOU"}, "TENCENTCLOUD_REGION 'AP-GUANGZHOU' is invalid"),
    (RootFlags(cluster_id="not-a-cluster"), {}, "--cluster-id 'not-a-cluster' is invalid: expected cls- followed by 8"),
    (RootFlags(), {"SGPCTL_CLUSTER_ID": "cls-../../x"}, "SGPCTL_CLUSTER_ID 'cls-../../x' is invalid"),
    (RootFlags(profile="../../etc/passwd"), {}, "--profile '../../etc/passwd' is invalid: a profile name is part of a file name"),
    (RootFlags(), {"TCCLI_PROFILE": "a/b"}, "TCCLI_PROFILE 'a/b' is invalid"),
])
def test_settings_are_checked_whatever_their_source(tmp_path, flags, env, message):
    with pytest.raises(InputError) as e:
        resolve_settings(flags, env, tmp_path)
    assert e.value.message.startswith(message), e.value.message


def test_a_region_from_a_profile_is_checked_and_named(tmp_path):
    broken_profile(tmp_path, "p", credential="{}", configure=json.dumps({"_sys_param": {"region": "guangzhou"}}))
    with pytest.raises(InputError) as e:
        resolve_settings(RootFlags(profile="p"), {}, tmp_path)
    assert e.value.message.startswith("region from profile p (~/.tccli/p.configure) 'guangzhou' is invalid")


def test_config_view_masks_endpoint_credentials(tmp_path):
    env = clean_env(HOME=str(tmp_path), SGPCTL_ENDPOINT="http://AKIDuser:TOPSECRETKEY@127.0.0.1:9", **ENV)
    r = subprocess.run([sys.executable, "-m", "sgpctl", "config", "view", "-o", "json"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["settings"]["endpoint"]["value"] == "http://***@127.0.0.1:9"
    assert "TOPSECRETKEY" not in r.stdout + r.stderr


def test_an_endpoint_with_credentials_is_refused_without_echoing_them(tmp_path):
    env = clean_env(HOME=str(tmp_path), SGPCTL_ENDPOINT="http://AKIDuser:TOPSECRETKEY@127.0.0.1:9", **ENV)
    for args in (["cam", "status"], ["--debug", "sg", "list"]):
        r = subprocess.run([sys.executable, "-m", "sgpctl", *args], env=env, capture_output=True, text=True)
        assert r.returncode == 2, r.stderr
        error = [line for line in r.stderr.splitlines() if line.startswith("error: ")]  # --debug adds a traceback
        assert error == [error[0]] and error[0].startswith("error: invalid endpoint 'http://***@127.0.0.1:9'")
        assert "TOPSECRETKEY" not in r.stdout + r.stderr


# -- kubeconfig -------------------------------------------------------------------------------------

GOOD_KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: ctx
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: my-namespace}
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:9"}
users:
- name: u
  user: {token: t}
"""


@pytest.mark.parametrize("text, problem", [
    ("this: is: not: [a kubeconfig", "line 1: invalid YAML: mapping values are not allowed here"),
    ("myhost.example.com\n", "not a kubeconfig: it holds a string, expected a mapping with clusters, contexts and users"),
    ("- a\n- b\n", "not a kubeconfig: it holds a list"),
    ("clusters: 5\n", "clusters must be a list, found an integer"),
    ("clusters: [5]\n", "clusters[0] must be a mapping with name and cluster, found an integer"),
    ("contexts: [{context: {}}]\n", "contexts[0].name must be a non-empty string"),
    ("clusters: [{name: c, cluster: {server: 443}}]\n", "clusters[0].cluster.server must be a string, found an integer"),
    ("contexts: [{name: x, context: {namespace: [a]}}]\n", "contexts[0].context.namespace must be a string, found a list"),
    ("users: [{name: u, user: []}]\n", "users[0].user must be a mapping, found a list"),
    ("current-context: [a]\n", "current-context must be a string, found a list"),
    ("a: 1\n---\nb: 2\n", "expected a single YAML document"),
    ("a: \x00\n", "control character NUL"),
    ("a: &a [*a]\n", "recursive alias"),
])
def test_kubeconfig_problems_name_the_file(tmp_path, text, problem):
    from sgpctl.kube.client import Kube
    from sgpctl.kube.kubeconfig import current_context_info, read_kubeconfig

    path = tmp_path / "kubeconfig"
    path.write_text(text)
    with pytest.raises(InputError) as e:
        read_kubeconfig(str(path))
    assert e.value.message.startswith(f"kubeconfig {path}") and problem in e.value.message, e.value.message
    with pytest.raises(InputError) as e:
        Kube.from_kubeconfig(str(path))
    assert problem in e.value.message
    assert problem in (current_context_info(str(path)).error or "")  # doctor and config view show it


def test_kubeconfig_that_is_a_directory_or_binary(tmp_path):
    from sgpctl.kube.client import Kube

    with pytest.raises(InputError) as e:
        Kube.from_kubeconfig(str(tmp_path))
    assert e.value.message == f"kubeconfig '{tmp_path}' is a directory, not a file"
    binary = tmp_path / "kubeconfig"
    binary.write_bytes(b"apiVersion: v1\n\xff\xfe")
    with pytest.raises(InputError, match=r"is not UTF-8 text: byte 0xff at line 2, column 1"):
        Kube.from_kubeconfig(str(binary))


def test_the_clients_own_complaints_name_the_file(tmp_path):
    from sgpctl.kube.client import Kube

    path = tmp_path / "kubeconfig"
    path.write_text(GOOD_KUBECONFIG.replace("current-context: ctx\n", ""))
    with pytest.raises(InputError) as e:
        Kube.from_kubeconfig(str(path))
    assert e.value.message.startswith(f"cannot use kubeconfig {path}: ") and "current-context" in e.value.message
    path.write_text(GOOD_KUBECONFIG.replace("{token: t}", "{client-certificate-data: '!!notbase64', client-key-data: x}"))
    with pytest.raises(InputError, match=f"cannot use kubeconfig {path}: "):
        Kube.from_kubeconfig(str(path))


def test_kubeconfig_server_credentials_are_masked(tmp_path):
    from sgpctl.kube.client import Kube
    from sgpctl.kube.kubeconfig import current_context_info

    path = tmp_path / "kubeconfig"
    path.write_text(GOOD_KUBECONFIG.replace("https://127.0.0.1:9", "https://admin:KUBEPASSWORD@127.0.0.1:9"))
    assert current_context_info(str(path)).server == "https://***@127.0.0.1:9"
    kube = Kube.from_kubeconfig(str(path), max_attempts=1)
    assert "KUBEPASSWORD" not in kube.server
    with pytest.raises(UndeterminedError) as e:
        kube.version()
    assert "KUBEPASSWORD" not in e.value.message and "https://***@127.0.0.1:9" in e.value.message
