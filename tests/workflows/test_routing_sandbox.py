"""`routing check`, `routing set`, `routing status` and `snat check` end to end in the sandbox's
`strict-hazards` scenario: the unchanged CLI (in-process in an environment of its own, and once as the
installed executable) against the emulated region. The hazards are fixed one by one behind the tool's back, in
the sandbox's own state, as an operator would fix them with kubectl and the console."""

from __future__ import annotations

import json

import pytest

from sgpctl.core.addon_values import values_merge

from tests.sandbox_support import sandbox_env, sgpctl

HAZARDS = ["strict-nodelocaldns", "strict-networkpolicy", "strict-ipvs", "strict-external-traffic-local", "strict-snat"]
NS = "my-namespace"


@pytest.fixture()
def sb(sandbox_cli):
    """The sandbox, callable as the CLI pointed at it."""
    return sandbox_cli("strict-hazards", addon_delay=0.1)


def checks_of(stdout: str) -> dict[str, dict]:
    doc = json.loads(stdout)
    return {c["id"]: c for cat in doc["categories"] for c in cat["checks"]}


def routing_check(sb) -> tuple[int, dict, dict]:
    r = sb("routing", "check", "-o", "json")
    return r.exit_code, checks_of(r.stdout), json.loads(r.stdout)


def eniipamd_values(sb) -> dict:
    return sb.cloud.addon(sb.cluster_id, "eniipamd")["Values"]


def failing(checks: dict) -> list[str]:
    return sorted(i for i, c in checks.items() if c["status"] == "fail")


def test_check_fails_naming_every_hazard_with_its_object(sb):
    code, checks, doc = routing_check(sb)
    assert code == 1 and doc["ok"] is False
    assert failing(checks) == sorted(HAZARDS)
    assert {"DaemonSet kube-system/node-local-dns", "add-on nodelocaldns"} <= set(checks["strict-nodelocaldns"]["evidence"])
    assert any(e.startswith(f"NetworkPolicy {NS}/my-app-ingress selects Pods nginx-") for e in checks["strict-networkpolicy"]["evidence"])
    assert {"cluster network settings: KubeProxyMode=ipvs", "DaemonSet kube-system/kube-proxy: --proxy-mode=ipvs"} \
        <= set(checks["strict-ipvs"]["evidence"])
    assert any(e.startswith(f"Service {NS}/nginx-lb (LoadBalancer, externalTrafficPolicy: Local)")
               for e in checks["strict-external-traffic-local"]["evidence"])
    assert "NonMasqueradeSrcCIDRs" in checks["strict-snat"]["hint"]
    # the switch would set early demux itself: a warning before it
    assert checks["strict-early-demux"]["status"] == "warn"
    assert doc["mode"] == "standard" and len(doc["strictPods"]) == 2


def test_set_strict_refuses_then_succeeds_once_each_hazard_is_fixed(sb):
    before = eniipamd_values(sb)
    r = sb("routing", "set", "strict", "--yes", "-o", "json")
    assert r.exit_code == 1
    compatibility = next(s for s in r.json()["steps"] if s["id"] == "routing-compatibility")
    assert compatibility["status"] == "refused" and sorted(compatibility["details"]["failedChecks"]) == sorted(HAZARDS)
    # the text names what breaks, not the ids
    text = sb("routing", "set", "strict", "--yes")
    for name in ("Node LocalDNS", "NetworkPolicies selecting strict-mode Pods", "kube-proxy mode",
                 "externalTrafficPolicy: Local Services", "SNAT of strict-mode Pod egress"):
        assert name in text.stdout
    assert not sb.log.entries(api="cloud", mutating=True, action="UpdateAddon")

    cluster_id = sb.cluster_id
    fixes = [
        ("strict-nodelocaldns", lambda: (sb.kube.delete("daemonsets.apps", "kube-system", "node-local-dns"),
                                         sb.cloud.delete_addon(cluster_id, "nodelocaldns"))),
        ("strict-networkpolicy", lambda: sb.kube.delete("networkpolicies.networking.k8s.io", NS, "my-app-ingress")),
        ("strict-ipvs", lambda: switch_kube_proxy_to_iptables(sb)),
        ("strict-snat", lambda: exempt_pods_from_snat(sb)),
        ("strict-external-traffic-local", lambda: sb.kube.patch("services", NS, "nginx-lb",
                                                                {"spec": {"externalTrafficPolicy": "Cluster"}})),
    ]
    remaining = list(HAZARDS)
    for check_id, fix in fixes:
        fix()
        sb.settle()
        remaining.remove(check_id)
        code, checks, _ = routing_check(sb)
        assert failing(checks) == sorted(remaining), check_id
        assert code == (1 if remaining else 0)

    mark = sb.log.mark()
    r = sb("routing", "set", "strict", "--yes", "-o", "json", "--timeout", "30")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["ok"] and out["changed"]
    updates = sb.log.since(mark, api="cloud", action="UpdateAddon")
    assert len(updates) == 1 and updates[0]["params"]["UpdateStrategy"] == "merge"
    after = eniipamd_values(sb)
    assert after["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] == "strict"
    assert after["agent"]["config"]["disableTcpEarlyDemux"] is True
    assert after["agent"]["config"]["disableUdpEarlyDemux"] is True
    # every other value unchanged: the whole dict is the old one with the three keys set
    expected = values_merge(before, {"vpcCni": {"trunkingEni": {"podSecurityGroupEnforcingMode": "strict"}},
                                     "agent": {"config": {"disableTcpEarlyDemux": True, "disableUdpEarlyDemux": True}}})
    assert after == expected
    # only new Pods get the scheme: the two running nginx Pods are listed with the rebuild command
    (rebuild,) = out["rebuild"]
    assert rebuild["namespace"] == NS and len(rebuild["pods"]) == 2
    assert rebuild["commands"] == [f"sgpctl policy rollout -n {NS} --all"]
    assert "keep the old routing until rebuilt" in r.stderr
    # ... and the command does rebuild them (they are not stale, so without --all nothing happens)
    assert "no stale or drifted Pods" in sb("policy", "rollout", "-n", NS, "--yes").stderr
    rolled = sb("policy", "rollout", "-n", NS, "--all", "--yes", "--wait", "-o", "json")
    assert rolled.exit_code == 0, rolled.output
    sb.settle()
    now = {p["metadata"]["name"] for p in sb.kube.list("pods", NS) if p["metadata"]["name"].startswith("nginx-")}
    assert now and not now & set(rebuild["pods"])

    # status shows the result; a second set changes nothing and sends no update
    st = sb("routing", "status", "-o", "json")
    assert st.exit_code == 0 and json.loads(st.stdout)["mode"] == "strict"
    mark = sb.log.mark()
    again = sb("routing", "set", "strict", "--yes")
    assert again.exit_code == 0 and "already strict" in again.stdout
    assert not sb.log.since(mark, api="cloud", mutating=True)
    # strict now: early demux is held to the real standard, and met
    _, checks, _ = routing_check(sb)
    assert checks["strict-early-demux"]["status"] == "pass"


def switch_kube_proxy_to_iptables(sb) -> None:
    with sb.cloud.transaction():
        settings = sb.cloud.clusters[sb.cluster_id]["ClusterNetworkSettings"]
        settings["KubeProxyMode"], settings["Ipvs"] = "iptables", False
    cm = sb.kube.get("configmaps", "kube-system", "kube-proxy")
    cm["data"]["config.conf"] = cm["data"]["config.conf"].replace('mode: "ipvs"', 'mode: "iptables"')
    sb.kube.update("configmaps", cm)
    ds = sb.kube.get("daemonsets.apps", "kube-system", "kube-proxy")
    container = ds["spec"]["template"]["spec"]["containers"][0]
    container["args"] = [a.replace("--proxy-mode=ipvs", "--proxy-mode=iptables") for a in container["args"]]
    sb.kube.update("daemonsets.apps", ds)


def exempt_pods_from_snat(sb) -> None:
    """Apply the exact change `snat check` suggests."""
    r = sb("snat", "check", "-o", "json")
    assert r.exit_code == 1
    suggested = json.loads(r.stdout)["audit"]["verdict"]["suggestedConfig"]
    cm = sb.kube.get("configmaps", "kube-system", "ip-masq-agent-config")
    cm["data"]["config"] = suggested
    sb.kube.update("configmaps", cm)


def test_set_dry_run_and_force(sb):
    mark = sb.log.mark()
    r = sb("routing", "set", "strict", "--dry-run", "--force")
    assert r.exit_code == 0, r.output
    assert "would set vpcCni.trunkingEni.podSecurityGroupEnforcingMode" in r.stdout
    assert not sb.log.since(mark, api="cloud", mutating=True)
    r = sb("routing", "set", "strict", "--force")  # no terminal and no --yes: refused before any change
    assert r.exit_code == 1 and "--yes" in r.stderr
    assert not sb.log.since(mark, api="cloud", mutating=True)
    r = sb("routing", "set", "strict", "--force", "--yes")
    assert r.exit_code == 0, r.output
    assert sb.cloud.addon(sb.cluster_id, "eniipamd")["Values"]["vpcCni"]["trunkingEni"]["podSecurityGroupEnforcingMode"] == "strict"
    r = sb("routing", "set", "bogus")
    assert r.exit_code == 2


def test_snat_check_end_to_end(sb, tmp_path):
    r = sb("snat", "check")
    assert r.exit_code == 1
    assert "ip-masq-agent is installed (DaemonSet kube-system/ip-masq-agent, add-on ip-masq-agent)" in r.stdout
    assert "is SNATed to the node IP" in r.stdout
    assert "Status check results are [FAIL]" in r.stdout  # not a terminal: ASCII glyphs
    cm = sb.kube.get("configmaps", "kube-system", "ip-masq-agent-config")
    cm["data"]["config"] = "NonMasqueradeSrcCIDRs: [10.0.0.0/16\n"
    sb.kube.update("configmaps", cm)
    r = sb("snat", "check", "-o", "json")
    assert r.exit_code == 1 and "Traceback" not in r.output
    checks = checks_of(r.stdout)
    assert checks["snat-config"]["status"] == "fail" and "not valid YAML" in checks["snat-config"]["hint"]
    exempt_pods_from_snat(sb)
    # The installed executable, with the environment of the sandbox's env file.
    proc = sgpctl(sandbox_env(sb.sandbox, tmp_path, SGPCTL_RETRY_BASE_DELAY="0"), "snat", "check", "-o", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    egress = checks_of(proc.stdout)["snat-pod-egress"]
    assert egress["status"] == "pass" and "NAT gateway" in egress["hint"]
    assert doc["audit"]["strictPods"] == 2
