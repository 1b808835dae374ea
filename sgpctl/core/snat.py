"""The SNAT audit: would ip-masq-agent masquerade the egress of strict-mode Pods?

Strict routing requires that "traffic from Pods to outside the node must not be subjected to SNAT"
(seed, limit 6), and "if the ip-masq-agent component is not installed ... Pods do not perform SNAT"
(seed). When it is installed, its ConfigMap decides.

How the agent decides (kubernetes-sigs/ip-masq-agent ``cmd/ip-masq-agent/ip-masq-agent.go`` and
README; TKE "ip-masq-agent Overview", tencentcloud.com/document/product/457/79666, Chinese edition
cloud.tencent.com/document/product/457/121346):

- Objects: DaemonSet ``kube-system/ip-masq-agent``, ConfigMap ``kube-system/ip-masq-agent-config``,
  data key ``config``, YAML or JSON (TKE).
- A packet leaving the node for a non-LOCAL destination is masqueraded unless its destination is in
  ``NonMasqueradeCIDRs`` (or link-local 169.254.0.0/16 while ``MasqLinkLocal`` is false) - upstream -
  or its source is in ``NonMasqueradeSrcCIDRs`` ("packets sent by Pods of these source ranges are not
  masqueraded", TKE, ip-masq-agent v2.6.2 and later).
- Strict Pods need no SNAT for *any* destination. Destination exemptions never cover the internet
  unless they contain 0.0.0.0/0, so the real exemption is a source exemption covering every Pod
  IP/subnet.
- Defaults (upstream ``NewMasqConfig``): a missing ConfigMap or a missing key keeps the default
  ("only overwrites fields provided"). ``nonMasqueradeCIDRs`` defaults to the RFC 1918 ranges only;
  the further reserved ranges (100.64.0.0/10, 192.0.0.0/24, ... 240.0.0.0/4) are added only when the
  agent runs with ``--nomasq-all-reserved-ranges`` (README, "Agent Flags"), which
  ``agent_flags(daemonset)`` reads from the DaemonSet. ``cidrLimit`` 64,
  ``masqLinkLocal``/``masqLinkLocalIPv6`` false, ``resyncInterval`` 60s. IPv6 is masqueraded only
  when the agent runs with ``--enable-ipv6`` (and IPv6 nonMasqueradeCIDRs are rejected without it).
- Keys: upstream decodes with Go's encoding/json, whose field matching is case-insensitive, so
  ``NonMasqueradeCIDRs`` (TKE's spelling) and ``nonMasqueradeCIDRs`` (upstream's) both work; so
  does any other casing, and we match the same way. Unknown keys are ignored by the agent: a warning.
- Invalid configuration (not YAML/JSON, not a mapping, a wrong type, a CIDR that does not parse or
  has host bits set, more CIDRs than ``cidrLimit``) makes the agent reject the whole file and keep the
  rules it applied last (``syncConfig`` returns the error before any rule is written). What it does
  then cannot be told from the ConfigMap, so an invalid configuration fails the audit.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sgpctl.core.checks import CheckOutcome, Status
from sgpctl.core.selectors import type_name, unknown_field_message
from sgpctl.errors import InputError

__all__ = [
    "AGENT_DAEMONSET",
    "ALL_RESERVED_RANGES",
    "CONFIGMAP_KEY",
    "CONFIGMAP_NAME",
    "CONFIGMAP_REF",
    "ConfigProblem",
    "MasqConfig",
    "NAMESPACE",
    "RFC1918_RANGES",
    "SnatVerdict",
    "agent_flags",
    "agent_installed",
    "configmap_manifest",
    "evaluate",
    "find_agent",
    "nomasq_all_reserved_ranges",
    "parse_config",
    "pod_ips",
]

NAMESPACE = "kube-system"
AGENT_DAEMONSET = "ip-masq-agent"
CONFIGMAP_NAME = "ip-masq-agent-config"
CONFIGMAP_KEY = "config"
CONFIGMAP_REF = f"{NAMESPACE}/{CONFIGMAP_NAME}"

#: upstream NewMasqConfig(false): RFC 1918
RFC1918_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
#: upstream NewMasqConfig(true), with --nomasq-all-reserved-ranges
ALL_RESERVED_RANGES = RFC1918_RANGES + (
    "100.64.0.0/10",    # RFC 6598
    "192.0.0.0/24",     # RFC 6890
    "192.0.2.0/24",     # RFC 5737
    "192.88.99.0/24",   # RFC 7526
    "198.18.0.0/15",    # RFC 6815
    "198.51.100.0/24",  # RFC 5737
    "203.0.113.0/24",   # RFC 5737
    "240.0.0.0/4",      # RFC 5735 (former class E)
)
LINK_LOCAL = "169.254.0.0/16"
LINK_LOCAL_IPV6 = "fe80::/10"
DEFAULT_CIDR_LIMIT = 64
DEFAULT_RESYNC_INTERVAL = "60s"
MIN_SRC_CIDRS_VERSION = "v2.6.2"

# canonical (upstream camelCase) -> TKE's PascalCase spelling
_KEYS = {
    "nonMasqueradeCIDRs": "NonMasqueradeCIDRs",
    "nonMasqueradeSrcCIDRs": "NonMasqueradeSrcCIDRs",
    "cidrLimit": "CidrLimit",
    "masqLinkLocal": "MasqLinkLocal",
    "masqLinkLocalIPv6": "MasqLinkLocalIPv6",
    "resyncInterval": "ResyncInterval",
}
_BY_FOLDED = {k.lower(): k for k in _KEYS}
# Go's time.ParseDuration: "0", or one or more <number><unit>, optionally signed.
_GO_DURATION = re.compile(r"[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)")

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ConfigProblem:
    """``error``: the agent rejects the whole configuration. ``warning``: it loads, but not as written."""

    severity: Severity
    message: str
    key: str | None = None

    def __str__(self) -> str:
        return f"{self.severity}: {self.key}: {self.message}" if self.key else f"{self.severity}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "key": self.key, "message": self.message}


@dataclass(frozen=True)
class MasqConfig:
    """The agent's effective configuration (defaults applied), what the file set, and its problems."""

    non_masquerade_cidrs: tuple[str, ...] = RFC1918_RANGES
    non_masquerade_src_cidrs: tuple[str, ...] = ()
    masq_link_local: bool = False
    masq_link_local_ipv6: bool = False
    resync_interval: str = DEFAULT_RESYNC_INTERVAL
    cidr_limit: int = DEFAULT_CIDR_LIMIT
    #: the ConfigMap's ``config`` text was there (even if empty or invalid)
    present: bool = False
    #: keys the file set, in its own spelling and order, with the values as written
    explicit: tuple[tuple[str, Any], ...] = ()
    problems: tuple[ConfigProblem, ...] = ()
    #: the agent runs with --nomasq-all-reserved-ranges (changes the nonMasqueradeCIDRs default)
    all_reserved_ranges: bool = False
    #: the agent runs with --enable-ipv6; without it, it writes no IPv6 rules and IPv6 egress is not SNATed
    enable_ipv6: bool = False
    #: (canonical key, the file's spelling in effect) for each known key the file set
    spellings: tuple[tuple[str, str], ...] = ()

    @property
    def rejected(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    @property
    def errors(self) -> list[ConfigProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ConfigProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    def spelled(self, canonical: str) -> str:
        """How this file spells a key: its own spelling if set, else the file's style (PascalCase,
        TKE's documented style, unless the file uses upstream's camelCase)."""
        in_effect = dict(self.spellings)
        if canonical in in_effect:
            return in_effect[canonical]
        if in_effect and all(name[:1].islower() for name in in_effect.values()):
            return canonical
        return _KEYS[canonical]

    def destinations_default(self) -> bool:
        return "nonMasqueradeCIDRs" not in dict(self.spellings)


def _cidr_problem(value: Any, key: str) -> tuple[str | None, ConfigProblem | None]:
    if not isinstance(value, str):
        return None, ConfigProblem("error", f"entry {json.dumps(value, default=str)} must be a CIDR string, "
                                            f"got {type_name(value)}", key)
    if value.strip() != value:
        return None, ConfigProblem("error", f"{value!r} has spaces around it: the agent cannot parse it", key)
    if "/" not in value:
        # Go's net.ParseCIDR needs the prefix length; Python would read a bare address as /32.
        return None, ConfigProblem("error", f"{value!r} is not a CIDR (add the prefix length, e.g. {value}/32)", key)
    try:
        net = ipaddress.ip_network(value, strict=False)
        ipaddress.ip_address(value.split("/")[0])
    except ValueError as exc:
        return None, ConfigProblem("error", f"{value!r} is not a CIDR: {exc}", key)
    if ipaddress.ip_address(value.split("/")[0]) != net.network_address:
        return None, ConfigProblem(
            "error", f"{value!r} is not aligned to a CIDR block (the agent rejects it): use {net}", key)
    return str(net), None


def _cidr_list(raw: Any, key: str, problems: list[ConfigProblem]) -> tuple[str, ...]:
    if raw is None:  # Go decodes null into a nil slice: an empty list
        return ()
    if not isinstance(raw, list):
        problems.append(ConfigProblem("error", f"must be a list of CIDR strings, got {type_name(raw)}", key))
        return ()
    out: list[str] = []
    for item in raw:
        cidr, problem = _cidr_problem(item, key)
        if problem:
            problems.append(problem)
        elif cidr not in out:
            out.append(cidr)
    return tuple(out)


def _load(text: str) -> tuple[Any, str | None, bool]:
    """(document, error, read as JSON). Like apimachinery's yaml.ToJSON, a document that looks like
    JSON is read as JSON; YAML flow mappings also start with "{", so YAML is tried before giving up.
    Both through the bounded loader (sgpctl.core.loading)."""
    from sgpctl.core.loading import CONFIG_LIMITS, LoadError, load_json, load_yaml

    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            return load_json(stripped, None, CONFIG_LIMITS), None, True
        except LoadError as exc:
            json_error = f"not valid JSON: {_load_error(exc, 'invalid JSON: ')}"
    else:
        json_error = None
    try:
        return load_yaml(text, None, CONFIG_LIMITS), None, False
    except LoadError as exc:
        return None, json_error or f"not valid YAML: {_load_error(exc, 'invalid YAML: ')}", False


def _load_error(exc: Exception, prefix: str) -> str:
    # One line with the position: "line 3: mapping values are not allowed here (column 9)".
    problem = exc.problem.removeprefix(prefix)
    return f"{exc.where}: {problem}" if exc.where else problem


def parse_config(text: str | None, *, all_reserved_ranges: bool = False, enable_ipv6: bool = False) -> MasqConfig:
    """Parse the ConfigMap's ``config`` text (None: the ConfigMap or the key is absent). Never raises
    on bad content: every problem is in ``.problems``. The keyword arguments are the agent's command
    line flags (``agent_flags(daemonset)``), which change defaults and validation."""
    dst_default = ALL_RESERVED_RANGES if all_reserved_ranges else RFC1918_RANGES
    base: dict[str, Any] = {"non_masquerade_cidrs": dst_default, "all_reserved_ranges": all_reserved_ranges,
                            "enable_ipv6": enable_ipv6}
    if text is None:
        return MasqConfig(**base)
    doc, error, is_json = _load(text)
    if error:
        return MasqConfig(**base, present=True, problems=(ConfigProblem("error", error),))
    if doc is None:  # empty text: Go unmarshals null into the struct as a no-op, defaults stay
        return MasqConfig(**base, present=True)
    if not isinstance(doc, Mapping):
        return MasqConfig(**base, present=True, problems=(
            ConfigProblem("error", f"the configuration must be a mapping, got {type_name(doc)}"),))

    problems: list[ConfigProblem] = []
    settings: dict[str, tuple[str, Any]] = {}
    # The agent decodes YAML through JSON with sorted keys (sigs.k8s.io/yaml), JSON as written; of two
    # spellings of one key, the one decoded last wins.
    items = [(str(k), v) for k, v in doc.items()]
    for name, value in (items if is_json else sorted(items, key=lambda kv: kv[0])):
        canonical = _BY_FOLDED.get(name.lower())
        if canonical is None:
            problems.append(ConfigProblem(
                "warning", f"{unknown_field_message(name, list(_KEYS.values()))} The agent ignores it", name))
            continue
        if canonical in settings:
            problems.append(ConfigProblem(
                "warning", f"set twice, as {settings[canonical][0]} and {name}: the agent uses {name}; "
                           "keep one spelling", name))
        settings[canonical] = (name, value)

    values: dict[str, Any] = dict(base)
    if "nonMasqueradeCIDRs" in settings:
        name, raw = settings["nonMasqueradeCIDRs"]
        values["non_masquerade_cidrs"] = _cidr_list(raw, name, problems)
        if not enable_ipv6:
            # upstream validate(): IPv6 destinations need --enable-ipv6
            for cidr in values["non_masquerade_cidrs"]:
                if ipaddress.ip_network(cidr).version == 6:
                    problems.append(ConfigProblem(
                        "error", f"IPv6 CIDR {cidr} given, but the agent runs without --enable-ipv6", name))
    if "nonMasqueradeSrcCIDRs" in settings:
        name, raw = settings["nonMasqueradeSrcCIDRs"]
        values["non_masquerade_src_cidrs"] = _cidr_list(raw, name, problems)
    for canonical, attr in (("masqLinkLocal", "masq_link_local"), ("masqLinkLocalIPv6", "masq_link_local_ipv6")):
        if canonical in settings:
            name, raw = settings[canonical]
            if isinstance(raw, bool):
                values[attr] = raw
            elif raw is not None:
                problems.append(ConfigProblem("error", f"must be true or false, got {type_name(raw)} "
                                                       f"{json.dumps(raw, default=str)}", name))
    if "resyncInterval" in settings:
        name, raw = settings["resyncInterval"]
        if isinstance(raw, str) and _GO_DURATION.fullmatch(raw):
            values["resync_interval"] = raw
        elif raw is not None:
            problems.append(ConfigProblem(
                "error", f"must be a duration string such as \"60s\" or \"1m0s\", got {type_name(raw)} "
                         f"{json.dumps(raw, default=str)}", name))
    if "cidrLimit" in settings:
        name, raw = settings["cidrLimit"]
        if isinstance(raw, int) and not isinstance(raw, bool):
            values["cidr_limit"] = raw
        elif raw is not None:
            problems.append(ConfigProblem("error", f"must be an integer, got {type_name(raw)}", name))
    limit = values.get("cidr_limit", DEFAULT_CIDR_LIMIT)
    if len(values["non_masquerade_cidrs"]) > limit:
        problems.append(ConfigProblem(
            "error", f"{len(values['non_masquerade_cidrs'])} CIDRs, more than the limit of {limit} "
                     "(cidrLimit): the agent rejects the configuration",
            settings.get("nonMasqueradeCIDRs", ("NonMasqueradeCIDRs",))[0]))

    return MasqConfig(
        **values,
        present=True,
        explicit=tuple(items),
        spellings=tuple((canonical, name) for canonical, (name, _) in settings.items()),
        problems=tuple(problems),
    )


# --------------------------------------------------------------------------------------------------
# Where the agent runs
# --------------------------------------------------------------------------------------------------

def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def find_agent(daemonsets: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The DaemonSet ``kube-system/ip-masq-agent`` (a DaemonSet without a namespace counts: callers
    pass kube-system's list)."""
    for ds in daemonsets or ():
        meta = _meta(ds)
        if meta.get("name") == AGENT_DAEMONSET and meta.get("namespace", NAMESPACE) == NAMESPACE:
            return ds
    return None


def agent_installed(daemonsets: Iterable[Mapping[str, Any]], addon_names: Iterable[str] = ()) -> bool:
    """The DaemonSet runs, or the add-on of that name is installed (the seed checks Add-on Management)."""
    if find_agent(daemonsets) is not None:
        return True
    return any(str(n).lower() == AGENT_DAEMONSET for n in addon_names or ())


def _bool_flag(daemonset: Mapping[str, Any] | None, name: str) -> bool:
    """A Go bool flag on the DaemonSet's containers: ``--name``/``-name`` alone means true,
    ``--name=<v>`` is parsed as strconv.ParseBool does (only its true spellings count)."""
    if not daemonset:
        return False
    containers = (((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    for c in containers:
        for word in [str(w) for w in (c.get("command") or []) + (c.get("args") or [])]:
            flag, eq, value = word.lstrip("-").partition("=")
            if not word.startswith("-") or flag != name:
                continue
            return not eq or value in ("1", "t", "T", "true", "TRUE", "True")
    return False


def nomasq_all_reserved_ranges(daemonset: Mapping[str, Any] | None) -> bool:
    """Whether the agent runs with ``--nomasq-all-reserved-ranges`` (the wider nonMasqueradeCIDRs default)."""
    return _bool_flag(daemonset, "nomasq-all-reserved-ranges")


def agent_flags(daemonset: Mapping[str, Any] | None) -> dict[str, bool]:
    """The agent's flags that matter here, as ``parse_config`` keyword arguments."""
    return {
        "all_reserved_ranges": nomasq_all_reserved_ranges(daemonset),
        "enable_ipv6": _bool_flag(daemonset, "enable-ipv6"),
    }


def pod_ips(pods: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every address in ``status.podIPs`` (or ``status.podIP``) of the Pods, in order, once."""
    out: dict[str, None] = {}  # an ordered set: membership tests stay O(1) for 10,000s of Pods
    for pod in pods or ():
        status = pod.get("status") or {}
        ips = [p.get("ip") for p in status.get("podIPs") or [] if isinstance(p, Mapping)] or [status.get("podIP")]
        for ip in ips:
            if ip:
                out.setdefault(ip, None)
    return list(out)


# --------------------------------------------------------------------------------------------------
# The verdict
# --------------------------------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class SnatVerdict:
    status: Status
    message: str
    hint: str | None = None
    #: the given Pod networks (or parts of them) whose egress is not SNATed
    exempt_cidrs: list[str] = field(default_factory=list)
    #: the parts whose egress to the internet is SNATed
    snatted_cidrs: list[str] = field(default_factory=list)
    problems: list[ConfigProblem] = field(default_factory=list)
    #: the ConfigMap's new ``config`` value ("" when nothing needs changing)
    suggested_config: str = ""
    evidence: list[str] = field(default_factory=list)
    agent_installed: bool = False

    def outcome(self) -> CheckOutcome:
        return CheckOutcome(self.status, self.message, self.hint, list(self.evidence))

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "message": self.message,
            "hint": self.hint,
            "agentInstalled": self.agent_installed,
            "exemptCidrs": list(self.exempt_cidrs),
            "snattedCidrs": list(self.snatted_cidrs),
            "problems": [p.to_dict() for p in self.problems],
            "suggestedConfig": self.suggested_config,
            "evidence": list(self.evidence),
        }


def _pod_network(text: str) -> Network:
    try:
        # strict=False: "10.0.1.7/24" (an interface address) means its subnet
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError as exc:
        raise InputError(f"{text!r} is not a Pod IP address or subnet CIDR: {exc}") from None


def _nets(cidrs: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(c) for c in cidrs]


def _collapse(nets: Iterable[Network]) -> list[Network]:
    nets = list(nets)
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    return list(ipaddress.collapse_addresses(v4)) + list(ipaddress.collapse_addresses(v6))


def _split(net: Network, covers: Sequence[Network]) -> tuple[list[Network], list[Network]]:
    """(covered parts, uncovered parts) of ``net`` against collapsed ``covers``."""
    uncovered = [net]
    for c in covers:
        if c.version != net.version:
            continue
        nxt: list[Network] = []
        for part in uncovered:
            if part.subnet_of(c):
                continue
            if c.subnet_of(part):
                nxt.extend(part.address_exclude(c))
            else:
                nxt.append(part)
        uncovered = nxt
    covered = [c if c.subnet_of(net) else net for c in covers
               if c.version == net.version and (c.subnet_of(net) or net.subnet_of(c))]
    return _collapse(covered), _collapse(uncovered)


def _every_destination_exempt(config: MasqConfig, version: int) -> bool:
    dst = _nets(config.non_masquerade_cidrs)
    if not config.masq_link_local:
        dst.append(ipaddress.ip_network(LINK_LOCAL))
    if not config.masq_link_local_ipv6:
        dst.append(ipaddress.ip_network(LINK_LOCAL_IPV6))
    everything = ipaddress.ip_network("0.0.0.0/0" if version == 4 else "::/0")
    return any(n == everything for n in _collapse(d for d in dst if d.version == version))


def _problem_text(p: ConfigProblem) -> str:
    return f"{p.key}: {p.message}" if p.key else p.message


def _join(items: Iterable[Any]) -> str:
    items = [str(i) for i in items]
    return ", ".join(items) if items else "none"


def _suggest(config: MasqConfig, add: Sequence[str]) -> str:
    """The ``config`` value with ``add`` appended to the source exemptions; every other key kept as
    written (invalid entries dropped, so the suggestion also loads)."""
    src_key = config.spelled("nonMasqueradeSrcCIDRs")
    out: dict[str, Any] = {}
    in_effect = dict(config.spellings)
    rejected_keys = {p.key for p in config.errors}
    for name, value in config.explicit:
        canonical = _BY_FOLDED.get(name.lower())
        if canonical is None:
            out[name] = value  # ignored by the agent, harmless: the user's to remove
        elif in_effect.get(canonical) != name or canonical == "nonMasqueradeSrcCIDRs":
            continue  # a shadowed second spelling goes; the source list is written below
        elif canonical == "nonMasqueradeCIDRs":
            # the valid entries; a non-list is dropped so that the default applies again
            if isinstance(value, list):
                out[name] = list(config.non_masquerade_cidrs)
        elif name not in rejected_keys:
            out[name] = value
    out[src_key] = list(config.non_masquerade_src_cidrs) + [c for c in add if c not in config.non_masquerade_src_cidrs]
    import yaml  # lazy: start-up time

    return yaml.safe_dump(out, sort_keys=False, default_flow_style=False, allow_unicode=True)


def configmap_manifest(config_text: str) -> str:
    """A ConfigMap manifest carrying ``config_text`` (for ``kubectl apply -f -``)."""
    import yaml  # lazy: start-up time

    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CONFIGMAP_NAME, "namespace": NAMESPACE},
            "data": {CONFIGMAP_KEY: config_text},
        },
        sort_keys=False,
        default_flow_style=False,
    )


def _config_evidence(config: MasqConfig) -> list[str]:
    dst_key = config.spelled("nonMasqueradeCIDRs")
    src_key = config.spelled("nonMasqueradeSrcCIDRs")
    if not config.present:
        origin = f"{CONFIGMAP_REF} not found: the agent's defaults apply"
    else:
        origin = f"{CONFIGMAP_REF} data.{CONFIGMAP_KEY}"
    dst_note = " (default)" if config.destinations_default() else ""
    return [
        origin,
        f"{dst_key} (destinations not SNATed): {_join(config.non_masquerade_cidrs)}{dst_note}",
        f"{src_key} (sources never SNATed): {_join(config.non_masquerade_src_cidrs)}",
    ] + [f"config {p}" for p in config.problems]


def _fix_hint(config: MasqConfig, add: Sequence[str], suggested: str, lead: str) -> str:
    src_key = config.spelled("nonMasqueradeSrcCIDRs")
    return (
        f"{lead}add {', '.join(add)} to {src_key} in {CONFIGMAP_REF} "
        f"(kubectl -n {NAMESPACE} edit configmap {CONFIGMAP_NAME}; {src_key} needs ip-masq-agent "
        f"{MIN_SRC_CIDRS_VERSION} or later). The data key {CONFIGMAP_KEY!r} becomes:\n{suggested.rstrip()}"
    )


def evaluate(agent_installed: bool, config: MasqConfig | None, pod_cidrs: Sequence[str]) -> SnatVerdict:
    """Whether egress from ``pod_cidrs`` (Pod IPs and/or the subnets they come from) is SNATed.

    ``config`` None means the ConfigMap is absent (the agent's defaults). Pass subnets where you can:
    an exemption for today's Pod IPs does not cover tomorrow's. Raises InputError for a pod_cidrs
    entry that is not an address or CIDR (that is sgpctl's own input, not the user's file).
    """
    networks: list[Network] = list(dict.fromkeys(_pod_network(text) for text in pod_cidrs))
    if not agent_installed:
        return SnatVerdict(
            Status.PASS,
            f"ip-masq-agent is not installed (no DaemonSet {NAMESPACE}/{AGENT_DAEMONSET}): Pod egress is not SNATed",
            "without SNAT, strict-mode Pods reach the internet only through a NAT gateway (or an EIP) "
            "on their subnets' route table",
            exempt_cidrs=[str(n) for n in networks],
            evidence=[f"no DaemonSet {NAMESPACE}/{AGENT_DAEMONSET} and no ip-masq-agent add-on"],
            agent_installed=False,
        )

    config = config if config is not None else parse_config(None)
    evidence = _config_evidence(config)
    problems = list(config.problems)
    if config.rejected:
        suggested = _suggest(config, [str(n) for n in networks])
        return SnatVerdict(
            Status.FAIL,
            f"{CONFIGMAP_REF} is invalid: the agent rejects it and keeps the rules it applied last, "
            "so whether Pod egress is SNATed cannot be told from it",
            f"fix {'; '.join(_problem_text(p) for p in config.errors)}. A valid configuration that also exempts "
            f"the Pods:\n{suggested.rstrip()}",
            problems=problems,
            suggested_config=suggested,
            evidence=evidence,
            agent_installed=True,
        )
    if not networks:
        return SnatVerdict(
            Status.INFO,
            "no strict-mode Pod IPs or subnets to check",
            "pass the subnets strict-mode Pods take their IPs from to check them before the Pods exist",
            problems=problems,
            evidence=evidence,
            agent_installed=True,
        )

    src = _collapse(_nets(config.non_masquerade_src_cidrs))
    exempt: list[Network] = []
    snatted: list[Network] = []
    for net in networks:
        if net.version == 6 and not config.enable_ipv6:
            exempt.append(net)
            evidence.append(f"{net}: not SNATed (the agent writes IPv6 rules only with --enable-ipv6)")
            continue
        if _every_destination_exempt(config, net.version):
            exempt.append(net)
            evidence.append(f"{net}: not SNATed (every destination is in "
                            f"{config.spelled('nonMasqueradeCIDRs')})")
            continue
        covered, uncovered = _split(net, src)
        exempt += covered
        snatted += uncovered
        if not uncovered:
            evidence.append(f"{net}: not SNATed (source in {config.spelled('nonMasqueradeSrcCIDRs')})")
        elif covered:
            evidence.append(f"{net}: partly exempt ({_join(covered)}); SNATed from {_join(uncovered)}")
        else:
            evidence.append(f"{net}: SNATed for destinations outside {config.spelled('nonMasqueradeCIDRs')}")
    exempt, snatted = _collapse(exempt), _collapse(snatted)

    if snatted:
        add = [str(n) for n in snatted]
        suggested = _suggest(config, add)
        return SnatVerdict(
            Status.FAIL,
            f"egress from {_join(add)} to destinations outside {config.spelled('nonMasqueradeCIDRs')} "
            "(the internet among them) is SNATed to the node IP, which breaks strict routing: "
            "only a source exemption covers every destination",
            _fix_hint(config, add, suggested, ""),
            exempt_cidrs=[str(n) for n in exempt],
            snatted_cidrs=add,
            problems=problems,
            suggested_config=suggested,
            evidence=evidence,
            agent_installed=True,
        )
    warnings = config.warnings
    if warnings:
        return SnatVerdict(
            Status.WARN,
            f"egress from {_join(exempt)} is not SNATed, but {CONFIGMAP_REF} has keys the agent ignores",
            f"remove or correct them: {'; '.join(_problem_text(p) for p in warnings)}",
            exempt_cidrs=[str(n) for n in exempt],
            problems=problems,
            evidence=evidence,
            agent_installed=True,
        )
    return SnatVerdict(
        Status.PASS,
        f"egress from {_join(exempt)} is not SNATed",
        exempt_cidrs=[str(n) for n in exempt],
        problems=problems,
        evidence=evidence,
        agent_installed=True,
    )
