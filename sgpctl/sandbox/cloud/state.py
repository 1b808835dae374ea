"""The emulated region's cloud state: CAM, TKE, VPC and CVM resources, held in memory.

One ``CloudState`` backs the Tencent Cloud API endpoint (``server.py``) and is shared with the
sandbox's Kubernetes endpoint and simulated controllers. Everything is guarded by one re-entrant
lock; hold it across several calls with ``with state.transaction(): ...``.

Builder methods (scenario authors; ids are given or generated)::

    state = CloudState(region="ap-guangzhou", zones=("ap-guangzhou-3", "ap-guangzhou-4"),
                       addon_delay=0.3, clock=time.time)
    state.add_credentials(secret_id, secret_key, token=None)
    state.add_region(region, zones)
    state.add_role(name, description="", role_type="user", policies=()) -> RoleId
    state.add_policy(name, document: dict | str, description="") -> PolicyId      # custom (Local)
    state.attach_role_policy(role_name, policy_name)
    state.add_cluster(cluster_id, name, version, vpc_id, network_type="VPC-CNI",
                      vpc_cni_type="tke-route-eni", non_static_ip=False, kube_proxy_mode="iptables",
                      subnet_ids=(), region=None, cluster_cidr="172.16.0.0/16",
                      service_cidr="172.17.0.0/20", claim_expired_duration="300s")
    state.set_cluster_endpoint(cluster_id, address, ca_pem=None)  # "127.0.0.1:PORT" of its kube-apiserver
    state.add_addon(cluster_id, name, version, values: dict | None = None, phase="Succeeded", reason="")
    state.add_chart(name, label, latest_version, kind, defaults=None, cluster_types=("tke",))
    state.add_instance_type(instance_type, cpu, memory, zones=None, sub_eni_quota=None)
    state.add_vpc(vpc_id, name, cidr_block, region=None, is_default=False)
    state.add_subnet(subnet_id, vpc_id, cidr_block, zone)
    state.add_instance(instance_id, instance_type, cpu, memory, zone, private_ip, vpc_id, subnet_id,
                       security_group_ids=(), name=None, cluster_id=None, node_pool_id=None,
                       sub_eni_quota=None) -> its primary ENI id
    state.add_security_group(name, description="", group_id=None, region=None, tags=None,
                             project_id="0") -> SecurityGroupId
    state.add_eni(kind, instance_id, eni_id=None, groups=(), ip=None, ...) -> ENI   # e.g. a replay's

A new state already holds a region, the QCS preset CAM policies, the TKE add-on chart catalogue
(``eniipamd``, ``securitygrouppolicy`` labelled "SecurityGroupPolicy", ``ip-masq-agent``,
``nodelocaldns``, ...) and a table of CVM instance types; pass ``presets=False`` for none.

Methods for the simulated controllers (all return copies; errors are :class:`ApiError`)::

    state.cluster(cluster_id) -> dict | None            # Tencent "Cluster" fields + "_network"
    state.addon(cluster_id, name) -> dict | None        # {AddonName, AddonVersion, Phase, Reason,
                                                        #  CreateTime, Values (the values set, dict)}
    state.addons(cluster_id) -> list[dict]
    state.addon_values(cluster_id, name) -> dict | None  # rendered: chart defaults deep-merged with the set values
    state.trunking_enabled(cluster_id) -> bool           # eniipamd's vpcCni.trunkingEni.enableSubEni
    state.on_addon_change(callback)                      # callback(cluster_id, addon_name, phase)
    state.fail_next_addon_operation(cluster_id, name, reason)
    state.role(name) -> dict | None;  state.attached_policy_names(role_name) -> list[str]
    state.remove_role(name) -> bool;  state.remove_security_group(group_id) -> bool
    state.role_allows(role_name, action) -> bool         # e.g. "vpc:CreateSubNetworkInterface"
    state.security_group(group_id, region=None) -> dict | None
    state.instance(instance_id) -> dict | None;  state.sub_eni_quota(instance_id) -> int
    state.set_sub_eni_quota(instance_id, quota)          # one instance's quota; None: the type's
    state.sub_eni_count(instance_id=None) -> int         # sub-ENIs on one instance (or all)
    state.eni(eni_id) -> dict | None;  state.enis_of_instance(instance_id, kind=None) -> list[dict]
    state.create_sub_eni(client_token, trunk_instance_id, vpc_id, subnet_id, group_ids, name) -> dict
    state.add_sub_enis(items) -> list[dict]              # many create_sub_eni(**item), one lock
    state.delete_eni(eni_id) -> bool
    state.set_eni_groups(eni_id, groups) -> dict        # also what ModifyNetworkInterfaceAttribute does
    state.group_rules(group_id) -> dict | None           # SecurityGroupPolicySet, PolicyIndex numbered
    state.set_group_rules(group_id, direction, rules) -> new Version
    state.group_members(group_ids) -> {group: [private IPs of the ENIs bound to it]}
    state.add_template("address"|"service", name, entries) -> ipm-/ppm- id
    state.add_template_group("address"|"service", name, member_ids) -> ipmg-/ppmg- id
    state.templates() -> {"address_templates": [...], ...}
    state.pin_routing_mode(eni_id, mode) -> the mode the sub-ENI's datapath keeps
    state.rules_generation                               # bumped by anything that can change a traffic decision

ENI operations are O(1) amortised (indexes by instance and kind, a per-subnet IP cursor), so
scenarios build 10,000 sub-ENIs through ``add_sub_enis`` rather than behind the state's back.

ENI dicts carry the VPC ``NetworkInterface`` fields plus ``_kind`` ("primary", "trunk", "sub",
"secondary"), ``_trunk`` (the trunk ENI of a sub-ENI) and ``_client_token``. ``EniType`` follows
the SDK's ``NetworkInterface.EniType``: 0 secondary ("辅助网卡"), 1 primary, 2 relayed ENI
("中继网卡", what VPC calls the per-Pod sub-ENIs: ``SubEniQuantity`` is the "中继网卡配额"). The trunk
ENI is a secondary ENI (EniType 0) whose trunk flag is set (``ModifyNetworkInterfaceAttribute``'s
``TrunkingFlag``, which DescribeNetworkInterfaces does not return). A sub-ENI is attached to its node
(``Attachment.InstanceId``) and named/described as a sub-ENI; whether the real DescribeNetworkInterfaces
lists sub-ENIs at all is unconfirmed: the variant ``subeni-listed`` plays both.

Unconfirmed readings of the real API are variants (``sgpctl.sandbox.variants``): ``variants`` holds the
chosen values (only those that differ from the default), ``variant(key)`` answers any key.
``chart_versions`` (eniipamd component version -> the chart version shown under
``eniipamd-version=chart``) and an instance type's ``_pod_limits`` (DescribeVpcCniPodLimits' figures as
given) keep what a captured account answered (``sgpctl.sandbox.replay``).

Add-on phases are derived lazily from timestamps: an install (update, delete) reports
``Installing`` (``Upgrading``, ``Terminating``) until ``addon_delay`` seconds have passed on
``clock``, then ``Succeeded`` (or ``InstallFailed``/``UpgradFailed`` with a Reason when a failure
was armed; a deleted add-on disappears). Callbacks fire when a request starts an operation and
when an access notices its end, after the lock is released; controllers that need to react to
the end poll ``addon()``.

``options`` (persisted) tune limits: ``instance_security_group_limit`` (5), ``security_group_limit``
(50 per region).

Regions: every real region name (``regions.REGIONS``) is answered; ``state.regions`` holds the
zones of the regions the sandbox has resources in (``add_region``), the others answer empty.

Cluster access: ``set_cluster_endpoint`` records where a cluster's kube-apiserver listens and the
CA it serves with (DescribeClusterEndpoints, DescribeClusterKubeconfig); ``tls_dir`` (not
persisted) is where the per-cluster client CAs and the accounts' client certificates live
(``kube.tls.client_certificate``); every credential belongs to the account ``ACCOUNT_UIN``.

Persistence: ``state.to_dict()`` is JSON-serialisable; ``CloudState.from_dict(d, clock=None)``
restores it (callbacks are not persisted).
"""

from __future__ import annotations

import base64
import fnmatch
import ipaddress
import json
import logging
import pickle
import random
import secrets
import socket
import string
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from sgpctl.core import quotas
from sgpctl.core.addon_values import ENABLE_SUB_ENI, is_true, values_get, values_merge
from sgpctl.sandbox import variants as sandbox_variants

from .common import SG_ID
from .errors import ApiError
from .tc3 import Credentials

log = logging.getLogger(__name__)

FORMAT = 1
#: the account every sandbox credential belongs to (the owner, as in CAM's RoleArns)
ACCOUNT_UIN = "100000000001"
DEFAULT_REGION = "ap-guangzhou"
DEFAULT_ZONES = ("ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6")

ADDON_TRANSITIONS = {"install": "Installing", "upgrade": "Upgrading", "delete": "Terminating"}
ADDON_FAILURES = {"install": "InstallFailed", "upgrade": "UpgradFailed"}  # sic: TKE's spelling

DEFAULT_OPTIONS: dict[str, Any] = {
    "instance_security_group_limit": 5,
    "security_group_limit": 50,
}

_ALNUM = string.ascii_lowercase + string.digits

#: (name, description, statements) of the QCS preset policies every account sees.
PRESET_POLICIES: tuple[tuple[str, str, list], ...] = (
    ("AdministratorAccess", "All permissions on all resources", [{"effect": "allow", "action": ["*"], "resource": ["*"]}]),
    ("ReadOnlyAccess", "Read-only access to all resources", [{"effect": "allow", "action": ["*:Describe*", "*:List*", "*:Get*"], "resource": ["*"]}]),
    ("QcloudCAMFullAccess", "Full access to CAM", [{"effect": "allow", "action": ["cam:*"], "resource": ["*"]}]),
    ("QcloudCAMReadOnlyAccess", "Read-only access to CAM", [{"effect": "allow", "action": ["cam:Get*", "cam:List*"], "resource": ["*"]}]),
    ("QcloudCVMFullAccess", "Full access to CVM", [{"effect": "allow", "action": ["cvm:*"], "resource": ["*"]}]),
    ("QcloudCVMReadOnlyAccess", "Read-only access to CVM", [{"effect": "allow", "action": ["cvm:Describe*"], "resource": ["*"]}]),
    ("QcloudVPCFullAccess", "Full access to VPC", [{"effect": "allow", "action": ["vpc:*"], "resource": ["*"]}]),
    ("QcloudVPCReadOnlyAccess", "Read-only access to VPC", [{"effect": "allow", "action": ["vpc:Describe*"], "resource": ["*"]}]),
    ("QcloudTKEFullAccess", "Full access to TKE", [{"effect": "allow", "action": ["tke:*"], "resource": ["*"]}]),
    ("QcloudTKEReadOnlyAccess", "Read-only access to TKE", [{"effect": "allow", "action": ["tke:Describe*"], "resource": ["*"]}]),
    ("QcloudAccessForTKERole", "Permissions TKE needs for its service role", [{"effect": "allow", "action": ["cvm:Describe*", "vpc:Describe*", "clb:*", "tag:*"], "resource": ["*"]}]),
    ("QcloudAccessForIPAMDofTKERole", "Permissions eniipamd needs for ENI management", [{"effect": "allow", "action": ["vpc:CreateNetworkInterface", "vpc:DeleteNetworkInterface", "vpc:AttachNetworkInterface", "vpc:DetachNetworkInterface", "vpc:AssignPrivateIpAddresses", "vpc:UnassignPrivateIpAddresses", "vpc:DescribeNetworkInterfaces", "vpc:DescribeSubnets", "cvm:DescribeInstances"], "resource": ["*"]}]),
    ("QcloudCLBFullAccess", "Full access to CLB", [{"effect": "allow", "action": ["clb:*"], "resource": ["*"]}]),
    ("QcloudCOSFullAccess", "Full access to COS", [{"effect": "allow", "action": ["cos:*"], "resource": ["*"]}]),
    ("QcloudCLSFullAccess", "Full access to CLS", [{"effect": "allow", "action": ["cls:*"], "resource": ["*"]}]),
    ("QcloudMonitorFullAccess", "Full access to Cloud Monitor", [{"effect": "allow", "action": ["monitor:*"], "resource": ["*"]}]),
)

#: (name, label, latest version, kind, default values) of the TKE add-on charts.
PRESET_CHARTS: tuple[tuple[str, str, str, str, dict], ...] = (
    ("eniipamd", "eniipamd", "3.7.2", "network", {
        "vpcCni": {
            "securityGroups": {"securityGroups": []},
            "trunkingEni": {"enableSubEni": False, "podSecurityGroupEnforcingMode": "standard"},
        },
        "agent": {"config": {"disableTcpEarlyDemux": False, "disableUdpEarlyDemux": False}},
    }),
    ("securitygrouppolicy", "SecurityGroupPolicy", "1.1.0", "network", {"replicaCount": 2}),
    ("ip-masq-agent", "ip-masq-agent", "1.2.0", "network", {"config": {"NonMasqueradeCIDRs": [], "MasqLinkLocal": False}}),
    ("networkpolicy", "NetworkPolicy", "1.0.3", "network", {}),
    ("nodelocaldns", "NodeLocalDNSCache", "1.1.0", "dns", {"localDnsIp": "169.254.20.10"}),
    ("cbs", "CBS", "1.1.7", "storage", {}),
    ("cos", "COS", "1.0.6", "storage", {}),
    ("tke-log-agent", "tke-log-agent", "1.1.9", "log", {}),
    ("cranescheduler", "CraneScheduler", "1.1.5", "scheduler", {}),
)

#: (family, [(size suffix, cpu, memory GB)]) of the preset CVM instance types. SA2.22XLARGE224
#: has 90 cores although its size name says 88: the CPU column is what counts.
PRESET_INSTANCE_TYPES: tuple[tuple[str, tuple[tuple[str, int, int], ...]], ...] = (
    ("S5", (("MEDIUM4", 2, 4), ("LARGE8", 4, 8), ("2XLARGE16", 8, 16), ("4XLARGE32", 16, 32), ("16XLARGE256", 64, 256))),
    ("S6", (("LARGE8", 4, 8), ("2XLARGE16", 8, 16))),
    ("S8", (("LARGE8", 4, 8), ("2XLARGE16", 8, 16), ("4XLARGE32", 16, 32), ("16XLARGE256", 64, 256))),
    ("SA2", (("LARGE8", 4, 8), ("22XLARGE224", 90, 224))),
    ("SA5", (("LARGE8", 4, 8), ("2XLARGE16", 8, 16), ("16XLARGE256", 64, 256))),
    ("M8", (("LARGE32", 4, 32), ("2XLARGE64", 8, 64))),
    ("MA5", (("LARGE32", 4, 32),)),
    ("ITA5", (("8XLARGE128", 32, 128),)),
)


def _copy(value: Any) -> Any:
    """A deep copy of plain data (what the state holds and hands out): a pickle round trip is
    several times faster than ``copy.deepcopy``, which matters for 10,000 sub-ENIs."""
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


def _statements(document: str | dict) -> list[dict]:
    doc = json.loads(document) if isinstance(document, str) else document
    stmts = doc.get("statement") if isinstance(doc, dict) else None
    return [s for s in (stmts or []) if isinstance(s, dict)]


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class CloudState:
    def __init__(
        self,
        region: str = DEFAULT_REGION,
        zones: Iterable[str] = DEFAULT_ZONES,
        *,
        addon_delay: float = 0.3,
        clock: Callable[[], float] | None = None,
        seed: int | None = None,
        presets: bool = True,
    ):
        self.lock = threading.RLock()
        self._depth = 0
        self._pending_events: list[tuple[str, str, str]] = []
        self._callbacks: list[Callable[[str, str, str], None]] = []
        self.clock: Callable[[], float] = clock or time.time
        self.addon_delay = float(addon_delay)
        self._rng = random.Random(seed)
        self.credentials = Credentials()
        self.admin_token = secrets.token_hex(16)
        self.options: dict[str, Any] = dict(DEFAULT_OPTIONS)
        self.variants: dict[str, str] = {}
        self.default_region = region
        self.regions: dict[str, list[str]] = {}
        self.policies: dict[int, dict] = {}
        self.roles: dict[str, dict] = {}
        self.attachments: dict[str, dict[int, str]] = {}
        self.clusters: dict[str, dict] = {}
        self.addon_records: dict[str, dict[str, dict]] = {}
        self.charts: dict[str, dict] = {}
        #: eniipamd's component version -> the chart version AddonVersion shows under the variant
        #: ``eniipamd-version=chart`` (a region built from a capture keeps the versions it saw); versions
        #: not in it are renumbered (``tke.chart_version``)
        self.chart_versions: dict[str, str] = {}
        self.instance_types: dict[str, dict] = {}
        self.instances: dict[str, dict] = {}
        self.vpcs: dict[str, dict] = {}
        self.subnets: dict[str, dict] = {}
        self.security_groups: dict[str, dict] = {}
        self.enis: dict[str, dict] = {}
        #: IP address / protocol-port templates and their groups (``ipm-``, ``ipmg-``, ``ppm-``, ``ppmg-``)
        self.address_templates: dict[str, dict] = {}
        self.address_template_groups: dict[str, dict] = {}
        self.service_templates: dict[str, dict] = {}
        self.service_template_groups: dict[str, dict] = {}
        #: bumped by every change that can change how traffic is decided (rules, templates, which
        #: ENI holds which groups and addresses), so the simulated data plane knows to look again
        self.rules_generation = 0
        self.client_tokens: dict[str, str] = {}
        self.addon_failures: dict[str, str] = {}
        self.counters = {"policy": 100000000, "role": 4611686018427400000}
        self._used_ips: set[str] = set()
        # Indexes rebuilt from the records (not persisted): ENIs per instance and per (instance,
        # kind) as insertion-ordered sets, the next IP offset and the address range per subnet.
        self._enis_by_instance: dict[str, dict[str, None]] = {}
        self._enis_by_kind: dict[tuple[str, str], dict[str, None]] = {}
        self._ip_cursor: dict[str, int] = {}
        self._ip_ranges: dict[str, tuple[int, int, int]] = {}
        #: where cluster client CAs and certificates are kept (the sandbox's TLS dir); not persisted
        self.tls_dir: str | None = None
        self.add_region(region, zones)
        if presets:
            self._add_presets()

    # --- locking and events -------------------------------------------------------------------

    @contextmanager
    def transaction(self):
        """Hold the state lock across several calls; add-on callbacks fire after it is released."""
        self.lock.acquire()
        self._depth += 1
        events: list[tuple[str, str, str]] = []
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0 and self._pending_events:
                events, self._pending_events = self._pending_events, []
            self.lock.release()
            for event in events:
                for callback in list(self._callbacks):
                    try:
                        callback(*event)
                    except Exception:  # a broken controller must not break the API
                        log.exception("add-on callback %r failed for %s", callback, event)

    def on_addon_change(self, callback: Callable[[str, str, str], None]) -> None:
        """Call ``callback(cluster_id, addon_name, phase)`` on add-on operations and their ends.

        ``phase`` is the new phase (``Installing``, ``Succeeded``, ...) or ``Deleted``.
        """
        with self.transaction():
            self._callbacks.append(callback)

    def _event(self, cluster_id: str, name: str, phase: str) -> None:
        self._pending_events.append((cluster_id, name, phase))

    # --- small utilities ----------------------------------------------------------------------

    def variant(self, key: str) -> str:
        """The value of a sandbox variant (``sgpctl.sandbox.variants``): the chosen one, else its default."""
        return self.variants.get(key) or sandbox_variants.default(key)

    def now(self) -> float:
        return self.clock()

    def _time(self, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        return datetime.fromtimestamp(self.clock(), tz=timezone.utc).strftime(fmt)

    def _iso(self) -> str:
        return self._time("%Y-%m-%dT%H:%M:%SZ")

    def new_id(self, prefix: str, taken: Iterable[str]) -> str:
        taken = set(taken) if not isinstance(taken, (dict, set)) else taken
        while True:
            candidate = prefix + "".join(self._rng.choices(_ALNUM, k=8))
            if candidate not in taken:
                return candidate

    def request_id(self) -> str:
        return str(uuid.uuid4())

    def region_of_zone(self, zone: str) -> str:
        for region, zones in self.regions.items():
            if zone in zones:
                return region
        raise ValueError(f"zone {zone!r} is in no region of this state (add it with add_region)")

    # --- presets ------------------------------------------------------------------------------

    def _add_presets(self) -> None:
        for name, description, statements in PRESET_POLICIES:
            self._insert_policy(name, {"version": "2.0", "statement": statements}, description, preset=True)
        for name, label, version, kind, defaults in PRESET_CHARTS:
            self.add_chart(name, label, version, kind, defaults)
        for family, sizes in PRESET_INSTANCE_TYPES:
            for size, cpu, memory in sizes:
                self.add_instance_type(f"{family}.{size}", cpu, memory)

    # --- builders: account and region ---------------------------------------------------------

    def add_credentials(self, secret_id: str, secret_key: str, token: str | None = None) -> None:
        self.credentials.add(secret_id, secret_key, token)

    def add_region(self, region: str, zones: Iterable[str]) -> None:
        with self.transaction():
            zs = self.regions.setdefault(region, [])
            for z in zones:
                if z not in zs:
                    zs.append(z)
                    for t in self.instance_types.values():
                        if t.get("_all_zones"):
                            t["Zones"].append(z)

    # --- builders and operations: CAM ---------------------------------------------------------

    def _insert_policy(self, name: str, document: dict | str, description: str, *, preset: bool) -> int:
        self.counters["policy"] += 1
        pid = self.counters["policy"]
        doc = document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))
        now = self._time()
        self.policies[pid] = {
            "PolicyId": pid,
            "PolicyName": name,
            "PolicyDocument": doc,
            "Description": description,
            "Type": 2 if preset else 1,
            "CreateMode": 1 if preset else 2,
            "ServiceType": None,
            "AddTime": now,
            "UpdateTime": now,
        }
        return pid

    def add_policy(self, name: str, document: dict | str, description: str = "") -> int:
        """A custom (Scope=Local) policy, as if created in the console. Returns its PolicyId."""
        with self.transaction():
            if self.policy_by_name(name) is not None:
                raise ApiError("FailedOperation.PolicyNameInUse", f"The policy name {name!r} is in use.")
            return self._insert_policy(name, document, description, preset=False)

    def add_role(self, name: str, description: str = "", role_type: str = "user",
                 policies: Iterable[str] = ()) -> str:
        with self.transaction():
            if self.role(name) is not None:
                raise ApiError("InvalidParameter.RoleNameInUse", f"A role named {name!r} already exists.")
            self.counters["role"] += 1
            rid = str(self.counters["role"])
            now = self._time()
            service = "ccs.qcloud.com" if name.endswith("_QCSRole") else "cvm.qcloud.com"
            self.roles[rid] = {
                "RoleId": rid,
                "RoleName": name,
                "PolicyDocument": json.dumps({"version": "2.0", "statement": [
                    {"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"service": service}}]}),
                "Description": description,
                "AddTime": now,
                "UpdateTime": now,
                "ConsoleLogin": 0,
                "RoleType": role_type,
                "SessionDuration": 0,
                "DeletionTaskId": None,
                "Tags": [],
                "RoleArn": f"qcs::cam::uin/{ACCOUNT_UIN}:roleName/{name}",
            }
            self.attachments[rid] = {}
            for policy in policies:
                self.attach_role_policy(name, policy)
            return rid

    def remove_role(self, name: str) -> bool:
        """Delete a role and its attachments (a scenario where a TKE role is missing); False if absent."""
        with self.transaction():
            role = self.role(name)
            if role is None:
                return False
            del self.roles[role["RoleId"]]
            self.attachments.pop(role["RoleId"], None)
            return True

    def policy_by_name(self, name: str) -> dict | None:
        with self.transaction():
            for p in self.policies.values():
                if p["PolicyName"] == name:
                    return _copy(p)
            return None

    def role(self, name: str) -> dict | None:
        with self.transaction():
            for r in self.roles.values():
                if r["RoleName"] == name:
                    return _copy(r)
            return None

    def find_role(self, *, role_id: str | None = None, role_name: str | None = None) -> dict:
        """The internal role record; ``InvalidParameter.RoleNotExist`` if there is none."""
        if role_id is not None:
            r = self.roles.get(str(role_id))
        else:
            r = next((x for x in self.roles.values() if x["RoleName"] == role_name), None)
        if r is None:
            raise ApiError("InvalidParameter.RoleNotExist", f"The role {role_id or role_name!r} does not exist.")
        return r

    def attach_role_policy(self, role_name: str, policy_name: str) -> None:
        with self.transaction():
            role = self.find_role(role_name=role_name)
            policy = self.policy_by_name(policy_name)
            if policy is None:
                raise ApiError("InvalidParameter.PolicyIdNotExist", f"The policy {policy_name!r} does not exist.")
            self.attach(role["RoleId"], policy["PolicyId"])

    def attach(self, role_id: str, policy_id: int) -> None:
        # Attaching an attached policy again succeeds without a duplicate: the real API's
        # idempotency is unconfirmed, and a tool that lists before attaching works either way.
        self.attachments.setdefault(role_id, {}).setdefault(policy_id, self._time())

    def attached_policy_names(self, role_name: str) -> list[str]:
        with self.transaction():
            role = self.role(role_name)
            if role is None:
                return []
            return [self.policies[p]["PolicyName"] for p in self.attachments.get(role["RoleId"], {}) if p in self.policies]

    def role_allows(self, role_name: str, action: str) -> bool:
        """Whether the policies attached to the role allow ``action`` (``service:Action``).

        Wildcards in policy actions (``*``, ``vpc:*``, ``vpc:Describe*``) match case-insensitively;
        a matching deny statement wins over any allow.
        """
        with self.transaction():
            role = self.role(role_name)
            if role is None:
                return False
            wanted = action.lower()
            allowed = False
            for pid in self.attachments.get(role["RoleId"], {}):
                policy = self.policies.get(pid)
                if policy is None:
                    continue
                try:
                    statements = _statements(policy["PolicyDocument"])
                except ValueError:
                    continue
                for st in statements:
                    actions = [str(a).lower() for a in _as_list(st.get("action"))]
                    if any(fnmatch.fnmatchcase(wanted, a) for a in actions):
                        if str(st.get("effect", "")).lower() == "deny":
                            return False
                        if str(st.get("effect", "")).lower() == "allow":
                            allowed = True
            return allowed

    # --- builders: TKE ------------------------------------------------------------------------

    def add_cluster(
        self,
        cluster_id: str,
        name: str,
        version: str,
        vpc_id: str,
        network_type: str = "VPC-CNI",
        vpc_cni_type: str = "tke-route-eni",
        non_static_ip: bool = False,
        kube_proxy_mode: str = "iptables",
        subnet_ids: Iterable[str] = (),
        *,
        region: str | None = None,
        cluster_cidr: str = "172.16.0.0/16",
        service_cidr: str = "172.17.0.0/20",
        claim_expired_duration: str = "300s",
    ) -> None:
        """A running managed cluster. ``network_type`` is ``GR``, ``VPC-CNI`` or ``CiliumOverlay``;
        ``vpc_cni_type`` ``tke-route-eni`` (shared ENI) or ``tke-direct-eni`` (exclusive)."""
        with self.transaction():
            region = region or self.default_region
            if region not in self.regions:
                raise ValueError(f"unknown region {region!r}")
            subnets = list(subnet_ids)
            self.clusters[cluster_id] = {
                "ClusterId": cluster_id,
                "ClusterName": name,
                "ClusterDescription": "",
                "ClusterVersion": version,
                "ClusterOs": "tlinux3.1x86_64",
                "ClusterType": "MANAGED_CLUSTER",
                "ClusterNetworkSettings": {
                    "ClusterCIDR": cluster_cidr if network_type == "GR" else "",
                    "IgnoreClusterCIDRConflict": False,
                    "MaxNodePodNum": 64,
                    # TKE sizes the Service CIDR by the number of Services the cluster may hold.
                    "MaxClusterServiceNum": ipaddress.ip_network(service_cidr).num_addresses,
                    "Ipvs": kube_proxy_mode == "ipvs",
                    "VpcId": vpc_id,
                    "Cni": True,
                    "KubeProxyMode": kube_proxy_mode,
                    "ServiceCIDR": service_cidr,
                    "Subnets": subnets,
                    "IgnoreServiceCIDRConflict": False,
                    "IsDualStack": False,
                    "Ipv6ServiceCIDR": None,
                    "CiliumMode": None,
                    "SubnetId": subnets[0] if subnets else None,
                    "DataPlaneV2": False,
                },
                "ProjectId": 0,
                "TagSpecification": [],
                "ClusterStatus": "Running",
                "ClusterMaterNodeNum": 0,
                "ContainerRuntime": "containerd",
                "RuntimeVersion": "1.6.9",
                "CreatedTime": self._iso(),
                "DeletionProtection": False,
                "EnableExternalNode": False,
                "ClusterLevel": "L20",
                "AutoUpgradeClusterLevel": False,
                "QGPUShareEnable": False,
                "ClusterEtcdNodeNum": 0,
                "IsHighAvailability": True,
                "_region": region,
                "_network": {
                    "NetworkType": network_type,
                    "VpcCniType": vpc_cni_type if network_type == "VPC-CNI" else "",
                    "IsNonStaticIpMode": bool(non_static_ip),
                },
                "_ipamd": {
                    "SubnetIds": subnets,
                    "ClaimExpiredDuration": claim_expired_duration,
                    "DisableVpcCniMode": network_type != "VPC-CNI",
                    "EnableCustomizedPodCidr": False,
                },
                "_instances": {},
                "_endpoint": None,
            }
            self.addon_records.setdefault(cluster_id, {})

    def set_cluster_endpoint(self, cluster_id: str, address: str, ca_pem: str | bytes | None = None) -> None:
        """Where the cluster's kube-apiserver answers (``host:port``) and the certificate it serves
        with (PEM), as DescribeClusterEndpoints and DescribeClusterKubeconfig report them."""
        with self.transaction():
            pem = ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem
            self._cluster(cluster_id)["_endpoint"] = {"Address": address, "CertificationAuthority": pem}

    def add_chart(self, name: str, label: str, latest_version: str, kind: str, defaults: dict | None = None,
                  cluster_types: Iterable[str] = ("tke",)) -> None:
        with self.transaction():
            self.charts[name] = {
                "Name": name,
                "Label": label,
                "LatestVersion": latest_version,
                "_kind": kind,
                "_defaults": _copy(defaults or {}),
                "_cluster_types": list(cluster_types),
            }

    def add_addon(self, cluster_id: str, name: str, version: str, values: dict | None = None,
                  phase: str = "Succeeded", reason: str = "") -> None:
        """An installed add-on in a settled phase (``Succeeded``, ``InstallFailed``, ...)."""
        with self.transaction():
            self._cluster(cluster_id)
            self.addon_records.setdefault(cluster_id, {})[name] = {
                "AddonName": name,
                "AddonVersion": version,
                "Values": _copy(values or {}),
                "CreateTime": self._iso(),
                "Phase": phase,
                "Reason": reason,
                "_op": None,
                "_since": self.clock(),
            }

    def fail_next_addon_operation(self, cluster_id: str, name: str, reason: str) -> None:
        """Make the next install or update of this add-on end in InstallFailed/UpgradFailed."""
        with self.transaction():
            self.addon_failures[f"{cluster_id}/{name}"] = reason

    # --- TKE: queries and operations ----------------------------------------------------------

    def _cluster(self, cluster_id: str, region: str | None = None) -> dict:
        c = self.clusters.get(cluster_id)
        if c is None or (region is not None and c["_region"] != region):
            raise ApiError("ResourceNotFound.ClusterNotFound", f"The cluster {cluster_id!r} does not exist.")
        return c

    def cluster(self, cluster_id: str) -> dict | None:
        with self.transaction():
            c = self.clusters.get(cluster_id)
            return _copy(c) if c else None

    def cluster_property(self, cluster: dict) -> str:
        return json.dumps({**cluster["_network"], "NodeNameType": "lan-ip"}, separators=(",", ":"))

    def _settle(self, cluster_id: str) -> dict[str, dict]:
        """The cluster's add-on records with finished operations applied (lazily, on access)."""
        records = self.addon_records.setdefault(cluster_id, {})
        now = self.clock()
        for name in list(records):
            rec = records[name]
            op = rec.get("_op")
            # The epsilon keeps "delay seconds later" from being a float rounding error short.
            if op is None or now - rec["_since"] + 1e-6 < self.addon_delay:
                continue
            rec["_op"] = None
            if op == "delete":
                del records[name]
                self._event(cluster_id, name, "Deleted")
                continue
            failure = rec.pop("_fail", None)
            if failure is not None:
                rec["Phase"], rec["Reason"] = ADDON_FAILURES[op], failure
            else:
                rec["Phase"], rec["Reason"] = "Succeeded", ""
            self._event(cluster_id, name, rec["Phase"])
        return records

    def _addon_view(self, rec: dict) -> dict:
        op = rec.get("_op")
        phase = ADDON_TRANSITIONS[op] if op else rec["Phase"]
        return {
            "AddonName": rec["AddonName"],
            "AddonVersion": rec["AddonVersion"],
            "Phase": phase,
            "Reason": "" if op else rec.get("Reason", ""),
            "CreateTime": rec["CreateTime"],
            "Values": _copy(rec["Values"]),
        }

    def addon(self, cluster_id: str, name: str) -> dict | None:
        with self.transaction():
            rec = self._settle(cluster_id).get(name)
            return self._addon_view(rec) if rec else None

    def addons(self, cluster_id: str) -> list[dict]:
        with self.transaction():
            return [self._addon_view(r) for r in self._settle(cluster_id).values()]

    def addon_values(self, cluster_id: str, name: str) -> dict | None:
        """The rendered values: chart defaults deep-merged with the values set on the add-on."""
        with self.transaction():
            rec = self._settle(cluster_id).get(name)
            if rec is None:
                return None
            defaults = self.charts.get(name, {}).get("_defaults", {})
            return values_merge(defaults, rec["Values"])

    def trunking_enabled(self, cluster_id: str) -> bool:
        values = self.addon_values(cluster_id, "eniipamd")
        return bool(values) and is_true(values_get(values, ENABLE_SUB_ENI))

    @staticmethod
    def decode_raw_values(raw: str | None, name: str = "RawValues") -> dict:
        if raw in (None, ""):
            return {}
        try:
            values = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError("InvalidParameterValue", f"`{name}` must be base64 of a JSON object.") from None
        if not isinstance(values, dict):
            raise ApiError("InvalidParameterValue", f"`{name}` must be base64 of a JSON object.")
        return values

    @staticmethod
    def encode_raw_values(values: dict) -> str:
        return base64.b64encode(json.dumps(values, separators=(",", ":")).encode("utf-8")).decode("ascii")

    def _start(self, cluster_id: str, rec: dict, op: str) -> None:
        rec["_op"] = op
        rec["_since"] = self.clock()
        reason = self.addon_failures.pop(f"{cluster_id}/{rec['AddonName']}", None) if op != "delete" else None
        if reason is not None:
            rec["_fail"] = reason
        else:
            rec.pop("_fail", None)
        self._event(cluster_id, rec["AddonName"], ADDON_TRANSITIONS[op])

    def install_addon(self, cluster_id: str, name: str, version: str | None = None,
                      values: dict | None = None, *, region: str | None = None, dry_run: bool = False) -> None:
        with self.transaction():
            self._cluster(cluster_id, region)
            records = self._settle(cluster_id)
            if name in records:
                raise ApiError("ResourceInUse", f"The addon {name!r} is already installed in cluster {cluster_id}.")
            chart = self.charts.get(name)
            if chart is None:
                raise ApiError("InvalidParameter.Param", f"There is no addon named {name!r}.")
            if dry_run:
                return
            rec = {
                "AddonName": name,
                "AddonVersion": version or chart["LatestVersion"],
                "Values": _copy(values or {}),
                "CreateTime": self._iso(),
                "Phase": "Succeeded",
                "Reason": "",
            }
            records[name] = rec
            self._start(cluster_id, rec, "install")

    def _busy_record(self, cluster_id: str, name: str, region: str | None) -> dict:
        self._cluster(cluster_id, region)
        rec = self._settle(cluster_id).get(name)
        if rec is None:
            raise ApiError("ResourceNotFound", f"The addon {name!r} is not installed in cluster {cluster_id}.")
        if rec.get("_op"):
            # The code exists in TKE's error list (tke/v20180525/errorcodes.py), but no source says that
            # UpdateAddon or DeleteAddon answer it while an operation runs: the real answer is unknown.
            raise ApiError(
                "FailedOperation.TaskAlreadyRunning",
                f"The addon {name!r} is {ADDON_TRANSITIONS[rec['_op']].lower()}; retry when it has finished.",
            )
        return rec

    def update_addon(self, cluster_id: str, name: str, version: str | None = None, values: dict | None = None,
                     strategy: str = "merge", *, region: str | None = None, dry_run: bool = False) -> None:
        """``strategy`` ``merge`` deep-merges ``values`` into the set values the way Helm coalesces
        (``core.addon_values.values_merge``: objects merge, lists replace, null deletes), or, under the
        variant ``addon-merge=shallow``, replaces each top-level key sent (null deletes it);
        ``replace`` replaces them all."""
        if strategy not in ("merge", "replace"):
            raise ApiError("InvalidParameterValue", f"UpdateStrategy must be merge or replace, not {strategy!r}.")
        with self.transaction():
            rec = self._busy_record(cluster_id, name, region)
            if dry_run:
                return
            if values is not None:
                rec["Values"] = self._merged(rec["Values"], values) if strategy == "merge" else _copy(values)
            if version:
                rec["AddonVersion"] = version
            self._start(cluster_id, rec, "upgrade")

    def _merged(self, current: dict, patch: dict) -> dict:
        if self.variant("addon-merge") == "shallow":
            out = {**current, **_copy(patch)}
            return {k: v for k, v in out.items() if v is not None}
        return values_merge(current, patch)

    def delete_addon(self, cluster_id: str, name: str, *, region: str | None = None) -> None:
        with self.transaction():
            rec = self._busy_record(cluster_id, name, region)
            self._start(cluster_id, rec, "delete")

    # --- builders: CVM ------------------------------------------------------------------------

    def add_instance_type(self, instance_type: str, cpu: int, memory: int, zones: Iterable[str] | None = None,
                          sub_eni_quota: int | None = None) -> None:
        """A CVM instance type sold in ``zones`` (default: every zone, including later ones).
        ``sub_eni_quota`` overrides the quota table of ``sgpctl.core.quotas``."""
        with self.transaction():
            all_zones = zones is None
            zone_list = [z for zs in self.regions.values() for z in zs] if all_zones else list(zones)
            self.instance_types[instance_type] = {
                "InstanceType": instance_type,
                "InstanceFamily": quotas.instance_family(instance_type),
                "CPU": int(cpu),
                "Memory": int(memory),
                "Zones": zone_list,
                "_all_zones": all_zones,
                "_sub_eni_quota": sub_eni_quota,
            }

    def add_vpc(self, vpc_id: str, name: str, cidr_block: str, *, region: str | None = None,
                is_default: bool = False) -> None:
        with self.transaction():
            ipaddress.ip_network(cidr_block)
            self.vpcs[vpc_id] = {
                "VpcId": vpc_id, "VpcName": name, "CidrBlock": cidr_block, "IsDefault": bool(is_default),
                "EnableMulticast": False, "CreatedTime": self._time(),
                # Tencent's VPC DHCP hands out its public resolvers unless told otherwise.
                "DnsServerSet": ["183.60.83.19", "183.60.82.98"], "DomainName": "", "DhcpOptionsId": "",
                "EnableDhcp": True, "Ipv6CidrBlock": "", "TagSet": [], "AssistantCidrSet": [],
                "EnableRouteVpcPublish": False, "Ipv6CidrBlockSet": [], "EnableRouteVpcPublishIpv6": False,
                "_region": region or self.default_region,
            }

    def add_subnet(self, subnet_id: str, vpc_id: str, cidr_block: str, zone: str) -> None:
        with self.transaction():
            ipaddress.ip_network(cidr_block)
            self.subnets[subnet_id] = {"SubnetId": subnet_id, "VpcId": vpc_id, "CidrBlock": cidr_block, "Zone": zone}

    def add_instance(
        self,
        instance_id: str,
        instance_type: str,
        cpu: int,
        memory: int,
        zone: str,
        private_ip: str,
        vpc_id: str,
        subnet_id: str,
        security_group_ids: Iterable[str] = (),
        *,
        name: str | None = None,
        cluster_id: str | None = None,
        node_pool_id: str | None = None,
        sub_eni_quota: int | None = None,
    ) -> str:
        """A running CVM with its primary ENI (which holds its security groups); joins
        ``cluster_id`` as a WORKER when given. Returns the primary ENI's id."""
        with self.transaction():
            region = self.region_of_zone(zone)
            cluster = self._cluster(cluster_id) if cluster_id is not None else None
            groups = list(security_group_ids)
            for g in groups:
                if g not in self.security_groups:
                    raise ValueError(f"security group {g!r} does not exist (add it first)")
            self.instances[instance_id] = {
                "InstanceId": instance_id,
                "InstanceType": instance_type,
                "CPU": int(cpu),
                "Memory": int(memory),
                "Placement": {"Zone": zone, "ProjectId": 0},
                "InstanceName": name or instance_id,
                "InstanceChargeType": "POSTPAID_BY_HOUR",
                "PrivateIpAddresses": [private_ip],
                "PublicIpAddresses": None,
                "VirtualPrivateCloud": {"VpcId": vpc_id, "SubnetId": subnet_id, "AsVpcGateway": False},
                "ImageId": "img-eb30mz89",
                "OsName": "TencentOS Server 3.1 (TK4)",
                "InstanceState": "RUNNING",
                "RestrictState": "NORMAL",
                "CreatedTime": self._iso(),
                "Uuid": str(uuid.UUID(int=self._rng.getrandbits(128))),
                "Tags": [],
                "_region": region,
                "_sub_eni_quota": sub_eni_quota,
            }
            self._used_ips.add(private_ip)
            eni = self._new_eni(
                kind="primary", instance_id=instance_id, vpc_id=vpc_id, subnet_id=subnet_id, zone=zone,
                region=region, groups=groups, ip=private_ip, name="Primary ENI", device_index=0,
            )
            if cluster is not None:
                cluster["_instances"][instance_id] = {
                    "InstanceId": instance_id,
                    "InstanceRole": "WORKER",
                    "InstanceState": "running",
                    "NodePoolId": node_pool_id,
                    "CreatedTime": self._iso(),
                }
            return eni["NetworkInterfaceId"]

    def instance(self, instance_id: str) -> dict | None:
        with self.transaction():
            i = self.instances.get(instance_id)
            if i is None:
                return None
            out = _copy(i)
            out["SecurityGroupIds"] = self.instance_groups(instance_id)
            return out

    def _instance_enis(self, instance_id: str, kind: str | None = None) -> list[dict]:
        ids = self._enis_by_instance if kind is None else self._enis_by_kind
        return [self.enis[i] for i in ids.get(instance_id if kind is None else (instance_id, kind), ())]

    def _first_eni(self, instance_id: str, kind: str) -> dict | None:
        ids = self._enis_by_kind.get((instance_id, kind))
        return self.enis[next(iter(ids))] if ids else None

    def instance_groups(self, instance_id: str) -> list[str]:
        """A CVM's security groups are its primary ENI's."""
        primary = self._first_eni(instance_id, "primary")
        return list(primary["GroupSet"]) if primary else []

    def type_sub_eni_quota(self, instance_type: str, cpu: int | None = None) -> int:
        t = self.instance_types.get(instance_type)
        if t is not None and t.get("_sub_eni_quota") is not None:
            return int(t["_sub_eni_quota"])
        return quotas.table_quota(instance_type, cpu if cpu is not None else (t or {}).get("CPU"))

    def sub_eni_quota(self, instance_id: str) -> int:
        """How many sub-ENIs the instance may carry (instance override, type override, table)."""
        with self.transaction():
            return self._sub_eni_quota(instance_id)

    def _sub_eni_quota(self, instance_id: str) -> int:
        i = self.instances.get(instance_id)
        if i is None:
            raise ApiError("InvalidInstanceId.NotFound", f"The instance {instance_id!r} does not exist.")
        if i.get("_sub_eni_quota") is not None:
            return int(i["_sub_eni_quota"])
        return self.type_sub_eni_quota(i["InstanceType"], i["CPU"])

    def set_sub_eni_quota(self, instance_id: str, quota: int | None) -> None:
        """Override one instance's sub-ENI quota (as VPC grants by ticket); None reverts to its
        type's. Sub-ENIs it already carries stay. Controllers see it after ``Sandbox.resync()``."""
        with self.transaction():
            i = self.instances.get(instance_id)
            if i is None:
                raise ApiError("InvalidInstanceId.NotFound", f"The instance {instance_id!r} does not exist.")
            if quota is not None and int(quota) < 0:
                raise ValueError(f"a sub-ENI quota cannot be negative, got {quota}")
            i["_sub_eni_quota"] = None if quota is None else int(quota)

    def sub_eni_count(self, instance_id: str | None = None) -> int:
        """How many sub-ENIs one instance carries, or the whole region when None."""
        with self.transaction():
            if instance_id is not None:
                return len(self._enis_by_kind.get((instance_id, "sub"), ()))
            return sum(len(ids) for (_, kind), ids in self._enis_by_kind.items() if kind == "sub")

    # --- VPC: security groups -----------------------------------------------------------------

    def add_security_group(self, name: str, description: str = "", group_id: str | None = None,
                           region: str | None = None, tags: dict[str, str] | None = None,
                           project_id: str = "0") -> str:
        with self.transaction():
            region = region or self.default_region
            if group_id is None:
                group_id = self.new_id("sg-", self.security_groups)
            elif not SG_ID.match(group_id):
                raise ValueError(f"security group id {group_id!r} must look like sg-xxxxxxxx")
            now = self._time()
            self.security_groups[group_id] = {
                "SecurityGroupId": group_id,
                "SecurityGroupName": name,
                "SecurityGroupDesc": description,
                "ProjectId": str(project_id),
                "IsDefault": False,
                "CreatedTime": now,
                "UpdateTime": now,
                "TagSet": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
                "_region": region,
                "_policies": {"Version": "0", "Egress": [], "Ingress": []},
            }
            return group_id

    def remove_security_group(self, group_id: str) -> bool:
        """Delete a group even while ENIs still name it (the group vanished behind the tool's
        back); False if absent. The real DeleteSecurityGroup refuses a group in use."""
        with self.transaction():
            self.rules_generation += 1
            return self.security_groups.pop(group_id, None) is not None

    def security_group(self, group_id: str, region: str | None = None) -> dict | None:
        with self.transaction():
            g = self.security_groups.get(group_id)
            if g is None or (region is not None and g["_region"] != region):
                return None
            return _copy(g)

    def _check_groups(self, groups: list[str], region: str) -> list[str]:
        groups = list(dict.fromkeys(groups))
        limit = int(self.options["instance_security_group_limit"])
        if len(groups) > limit:
            raise ApiError("LimitExceeded", f"An ENI can carry at most {limit} security groups, got {len(groups)}.")
        for g in groups:
            self._group(g, region)
        return groups

    def _group(self, group_id: Any, region: str | None) -> dict:
        """A security group by id, with the codes VPC's security-group actions document (Go SDK error
        lists): ``InvalidParameterValue.Malformed`` for an id of the wrong form, ``ResourceNotFound`` for
        one that does not exist (in this region)."""
        if not isinstance(group_id, str) or not SG_ID.match(group_id):
            raise ApiError("InvalidParameterValue.Malformed", f"The security group id {group_id!r} is malformed.")
        g = self.security_groups.get(group_id)
        if g is None or (region is not None and g["_region"] != region):
            raise ApiError("ResourceNotFound", f"The security group {group_id} does not exist.")
        return g

    # --- VPC: ENIs ----------------------------------------------------------------------------

    def _mac(self) -> str:
        n = self._rng.getrandbits(24)
        return f"20:90:6F:{n >> 16:02X}:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"

    def _ip_range(self, subnet_id: str | None) -> tuple[str, int, int, int]:
        """(cursor key, base address, first offset, last offset) of a subnet's assignable IPs."""
        subnet = self.subnets.get(subnet_id or "")
        cidr = subnet["CidrBlock"] if subnet else "10.255.0.0/16"
        found = self._ip_ranges.get(cidr)
        if found is None:
            net = ipaddress.ip_network(cidr)
            # Offsets 0-2 are reserved in Tencent VPC subnets, the last address is the broadcast.
            found = self._ip_ranges[cidr] = (int(net.network_address), 3, net.num_addresses - 2)
        return (cidr, *found)

    def _allocate_ip(self, subnet_id: str | None) -> str:
        # A cursor per subnet: the next free address is found in O(1) unless addresses were freed.
        key, base, first, last = self._ip_range(subnet_id)
        span = last - first + 1
        start = self._ip_cursor.get(key, first)
        for i in range(max(span, 0)):
            offset = first + (start - first + i) % span
            ip = socket.inet_ntoa((base + offset).to_bytes(4, "big"))
            if ip not in self._used_ips:
                self._ip_cursor[key] = offset + 1
                return ip
        raise ApiError("ResourceInsufficient", f"The subnet {subnet_id!r} has no free IP address left.")

    def _new_eni(self, *, kind: str, instance_id: str, vpc_id: str, subnet_id: str, zone: str, region: str,
                 groups: list[str], ip: str | None = None, name: str = "", description: str = "",
                 device_index: int | None = None, client_token: str | None = None,
                 trunk: str | None = None) -> dict:
        eni_id = self.new_id("eni-", self.enis)
        ip = ip or self._allocate_ip(subnet_id)
        self._used_ips.add(ip)
        now = self._time()
        eni = {
            "NetworkInterfaceId": eni_id,
            "NetworkInterfaceName": name,
            "NetworkInterfaceDescription": description,
            "SubnetId": subnet_id,
            "VpcId": vpc_id,
            "GroupSet": list(groups),
            "Primary": kind == "primary",
            "MacAddress": self._mac(),
            "State": "AVAILABLE",
            "NetworkInterfaceState": "INUSE",
            "PrivateIpAddressSet": [{
                "PrivateIpAddress": ip,
                "Primary": True,
                "PublicIpAddress": None,
                "AddressId": None,
                "Description": None,
                "IsWanIpBlocked": False,
                "State": "AVAILABLE",
            }],
            "Attachment": {
                "DeviceIndex": device_index,
                "InstanceAccountId": ACCOUNT_UIN,
                "AttachTime": now,
                "InstanceId": instance_id,
            },
            "Zone": zone,
            "CreatedTime": now,
            "Ipv6AddressSet": [],
            "TagSet": [],
            "EniType": {"primary": 1, "sub": 2}.get(kind, 0),
            "Business": "cvm",
            "AttachType": 0,
            "_region": region,
            "_kind": kind,
            "_client_token": client_token,
            "_trunk": trunk,
        }
        self.enis[eni_id] = eni
        self.rules_generation += 1
        self._index_eni(eni)
        return eni

    def add_eni(self, kind: str, instance_id: str, *, eni_id: str | None = None, groups: Iterable[str] = (),
                ip: str | None = None, name: str = "", description: str = "", device_index: int | None = None,
                trunk: str | None = None, client_token: str | None = None) -> dict:
        """An ENI (``kind`` primary, trunk, sub or secondary) on an instance of the state, with the given id
        or a new one, its address given or drawn from the instance's subnet. Returns a copy."""
        with self.transaction():
            instance = self.instances[instance_id]
            vpc = instance["VirtualPrivateCloud"]
            eni = self._new_eni(kind=kind, instance_id=instance_id, vpc_id=vpc["VpcId"], subnet_id=vpc["SubnetId"],
                                zone=instance["Placement"]["Zone"], region=instance["_region"], groups=list(groups),
                                ip=ip, name=name, description=description, device_index=device_index,
                                client_token=client_token, trunk=trunk)
            if eni_id is not None and eni_id != eni["NetworkInterfaceId"]:
                self._unindex_eni(eni)
                del self.enis[eni["NetworkInterfaceId"]]
                eni["NetworkInterfaceId"] = eni_id
                self.enis[eni_id] = eni
                self._index_eni(eni)
            if client_token:
                self.client_tokens[client_token] = eni["NetworkInterfaceId"]
            return _copy(eni)

    def _index_eni(self, eni: dict) -> None:
        eni_id, instance_id = eni["NetworkInterfaceId"], eni["Attachment"]["InstanceId"]
        self._enis_by_instance.setdefault(instance_id, {})[eni_id] = None
        self._enis_by_kind.setdefault((instance_id, eni["_kind"]), {})[eni_id] = None

    def _unindex_eni(self, eni: dict) -> None:
        eni_id, instance_id = eni["NetworkInterfaceId"], eni["Attachment"]["InstanceId"]
        self._enis_by_instance.get(instance_id, {}).pop(eni_id, None)
        self._enis_by_kind.get((instance_id, eni["_kind"]), {}).pop(eni_id, None)

    def eni(self, eni_id: str) -> dict | None:
        with self.transaction():
            e = self.enis.get(eni_id)
            return _copy(e) if e else None

    def enis_of_instance(self, instance_id: str, kind: str | None = None) -> list[dict]:
        with self.transaction():
            return [_copy(e) for e in self._instance_enis(instance_id, kind)]

    def _trunk_of(self, instance: dict) -> dict:
        trunk = self._first_eni(instance["InstanceId"], "trunk")
        if trunk is not None:
            return trunk
        vpc = instance["VirtualPrivateCloud"]
        return self._new_eni(
            kind="trunk", instance_id=instance["InstanceId"], vpc_id=vpc["VpcId"], subnet_id=vpc["SubnetId"],
            zone=instance["Placement"]["Zone"], region=instance["_region"], groups=self.instance_groups(instance["InstanceId"]),
            name="trunk-eni", description=f"trunk ENI of {instance['InstanceId']}", device_index=1,
        )

    def create_sub_eni(self, client_token: str, trunk_instance_id: str, vpc_id: str | None = None,
                       subnet_id: str | None = None, group_ids: Iterable[str] = (), name: str = "") -> dict:
        """A per-Pod sub-ENI on the node's trunk ENI, idempotent by ``client_token``.

        Raises ``InvalidInstanceId.NotFound``, ``InvalidParameterValue.Malformed``/``ResourceNotFound`` (a group),
        or ``LimitExceeded`` (too many groups, or the node's sub-ENI quota is used up).
        """
        with self.transaction():
            return _copy(self._create_sub_eni(client_token, trunk_instance_id, vpc_id, subnet_id,
                                                      group_ids, name))

    def add_sub_enis(self, items: Iterable[dict]) -> list[dict]:
        """``create_sub_eni(**item)`` for each item, under one lock acquisition; all or nothing is
        not promised (an error leaves the sub-ENIs made before it). Returns copies, in order."""
        with self.transaction():
            made = [self._create_sub_eni(**item) for item in items]
            return _copy(made)

    def _create_sub_eni(self, client_token: str, trunk_instance_id: str, vpc_id: str | None = None,
                        subnet_id: str | None = None, group_ids: Iterable[str] = (), name: str = "") -> dict:
        existing = self.client_tokens.get(client_token)
        if existing is not None and existing in self.enis:
            return self.enis[existing]
        instance = self.instances.get(trunk_instance_id)
        if instance is None:
            raise ApiError("InvalidInstanceId.NotFound", f"The instance {trunk_instance_id!r} does not exist.")
        groups = self._check_groups(list(group_ids), instance["_region"])
        quota = self._sub_eni_quota(trunk_instance_id)
        used = len(self._enis_by_kind.get((trunk_instance_id, "sub"), ()))
        if used >= quota:
            raise ApiError("LimitExceeded", f"The instance {trunk_instance_id} has used its {quota} sub-ENIs.")
        trunk = self._trunk_of(instance)
        vpc = instance["VirtualPrivateCloud"]
        eni = self._new_eni(
            kind="sub", instance_id=trunk_instance_id, vpc_id=vpc_id or vpc["VpcId"],
            subnet_id=subnet_id or vpc["SubnetId"], zone=instance["Placement"]["Zone"],
            region=instance["_region"], groups=groups, name=name,
            description=f"sub-ENI of trunk {trunk['NetworkInterfaceId']}", client_token=client_token,
            trunk=trunk["NetworkInterfaceId"],
        )
        self.client_tokens[client_token] = eni["NetworkInterfaceId"]
        return eni

    def delete_eni(self, eni_id: str) -> bool:
        """Remove a non-primary ENI; False when it does not exist."""
        with self.transaction():
            eni = self.enis.get(eni_id)
            if eni is None:
                return False
            if eni["_kind"] == "primary":
                raise ApiError("UnsupportedOperation", f"The primary ENI {eni_id} cannot be deleted.")
            del self.enis[eni_id]
            self.rules_generation += 1
            self._unindex_eni(eni)
            for addr in eni["PrivateIpAddressSet"]:
                self._used_ips.discard(addr["PrivateIpAddress"])
            return True

    def set_eni_groups(self, eni_id: str, groups: Iterable[str]) -> dict:
        """Replace an ENI's security groups (in order, without duplicates)."""
        with self.transaction():
            eni = self.enis.get(eni_id)
            if eni is None:
                raise ApiError("ResourceNotFound", f"The network interface {eni_id!r} does not exist.")
            eni["GroupSet"] = self._check_groups(list(groups), eni["_region"])
            self.rules_generation += 1
            return _copy(eni)

    # --- VPC: rules and templates (what the simulated data plane decides traffic with) ---------

    def set_group_rules(self, group_id: str, direction: str, rules: list[dict]) -> str:
        """Replace one direction's rules of a group (API-shaped entries, in order); bumps the
        group's ``Version``, which is returned."""
        with self.transaction():
            g = self.security_groups[group_id]
            policies = g["_policies"]
            policies[direction] = _copy(rules)
            policies["Version"] = str(int(policies["Version"]) + 1)
            g["UpdateTime"] = self._time()
            self.rules_generation += 1
            return policies["Version"]

    def group_rules(self, group_id: str) -> dict | None:
        """A group's rules as DescribeSecurityGroupPolicies returns them (``PolicyIndex`` numbered)."""
        with self.transaction():
            g = self.security_groups.get(group_id)
            if g is None:
                return None
            p = g["_policies"]
            return {"Version": p["Version"],
                    "Ingress": [{**r, "PolicyIndex": i} for i, r in enumerate(_copy(p["Ingress"]))],
                    "Egress": [{**r, "PolicyIndex": i} for i, r in enumerate(_copy(p["Egress"]))]}

    def group_members(self, group_ids: Iterable[str]) -> dict[str, list[str]]:
        """Group id -> the private addresses of the ENIs bound to it (CVMs' and Pods' alike)."""
        with self.transaction():
            wanted = set(group_ids)
            out: dict[str, list[str]] = {g: [] for g in wanted}
            for eni in self.enis.values():
                for g in wanted.intersection(eni["GroupSet"]):
                    out[g].extend(a["PrivateIpAddress"] for a in eni["PrivateIpAddressSet"])
            return out

    def add_template(self, kind: str, name: str, entries: list[dict], *, region: str | None = None,
                     tags: dict[str, str] | None = None) -> str:
        """A template of ``kind`` ``address`` (entries ``{"Address", "Description"}``) or ``service``
        (``{"Service", "Description"}``); returns its id (``ipm-`` / ``ppm-``)."""
        with self.transaction():
            table, prefix, id_key, name_key, set_key, extra_key, item = self._template_kind(kind)
            tid = self.new_id(prefix, table)
            now = self._time()
            table[tid] = {
                id_key: tid, name_key: name, set_key: [e[item] for e in entries], "CreatedTime": now,
                "UpdatedTime": now,
                extra_key: [{item: e[item], "Description": e.get("Description") or "", "UpdatedTime": now}
                            for e in entries],
                "TagSet": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
                "_region": region or self.default_region,
            }
            self.rules_generation += 1
            return tid

    def add_template_group(self, kind: str, name: str, member_ids: list[str], *, region: str | None = None,
                           tags: dict[str, str] | None = None) -> str:
        """A group of ``kind`` ``address`` or ``service`` templates; returns its id (``ipmg-`` / ``ppmg-``)."""
        with self.transaction():
            table, prefix, id_key, name_key, ids_key = self._template_group_kind(kind)
            gid = self.new_id(prefix, table)
            now = self._time()
            table[gid] = {id_key: gid, name_key: name, ids_key: list(member_ids), "CreatedTime": now,
                          "UpdatedTime": now, "TagSet": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
                          "_region": region or self.default_region}
            self.rules_generation += 1
            return gid

    def _template_kind(self, kind: str) -> tuple:
        if kind == "address":
            return (self.address_templates, "ipm-", "AddressTemplateId", "AddressTemplateName", "AddressSet",
                    "AddressExtraSet", "Address")
        return (self.service_templates, "ppm-", "ServiceTemplateId", "ServiceTemplateName", "ServiceSet",
                "ServiceExtraSet", "Service")

    def _template_group_kind(self, kind: str) -> tuple:
        if kind == "address":
            return (self.address_template_groups, "ipmg-", "AddressTemplateGroupId", "AddressTemplateGroupName",
                    "AddressTemplateIdSet")
        return (self.service_template_groups, "ppmg-", "ServiceTemplateGroupId", "ServiceTemplateGroupName",
                "ServiceTemplateIdSet")

    def pin_routing_mode(self, eni_id: str, mode: str) -> str:
        """The routing mode a sub-ENI's datapath was set up with: ``mode`` the first time, what was
        pinned then afterwards (a change of mode "only takes effect for incremental Pods")."""
        with self.transaction():
            eni = self.enis.get(eni_id)
            if eni is None:
                return mode
            return eni.setdefault("_routing", mode)

    def templates(self) -> dict[str, list[dict]]:
        """Copies of every template and template group, by table name (``address_templates``...)."""
        with self.transaction():
            return {key: _copy(list(getattr(self, key).values())) for key in (
                "address_templates", "address_template_groups", "service_templates", "service_template_groups")}

    # --- persistence --------------------------------------------------------------------------

    def to_dict(self) -> dict:
        with self.transaction():
            return _copy({
                "format": FORMAT,
                "default_region": self.default_region,
                "regions": self.regions,
                "admin_token": self.admin_token,
                "addon_delay": self.addon_delay,
                "options": self.options,
                "variants": self.variants,
                "credentials": self.credentials.to_list(),
                "counters": self.counters,
                "policies": list(self.policies.values()),
                "roles": list(self.roles.values()),
                "attachments": {rid: {str(pid): t for pid, t in a.items()} for rid, a in self.attachments.items()},
                "clusters": self.clusters,
                "addon_records": self.addon_records,
                "addon_failures": self.addon_failures,
                "charts": self.charts,
                "chart_versions": self.chart_versions,
                "instance_types": self.instance_types,
                "instances": self.instances,
                "vpcs": self.vpcs,
                "subnets": self.subnets,
                "security_groups": self.security_groups,
                "enis": self.enis,
                "client_tokens": self.client_tokens,
                "address_templates": self.address_templates,
                "address_template_groups": self.address_template_groups,
                "service_templates": self.service_templates,
                "service_template_groups": self.service_template_groups,
            })

    @classmethod
    def from_dict(cls, d: dict, *, clock: Callable[[], float] | None = None) -> "CloudState":
        if d.get("format") != FORMAT:
            raise ValueError(f"unsupported cloud state format {d.get('format')!r} (want {FORMAT})")
        d = _copy(d)
        state = cls(d["default_region"], d["regions"][d["default_region"]], addon_delay=d["addon_delay"],
                    clock=clock, presets=False)
        state.regions = d["regions"]
        state.admin_token = d["admin_token"]
        state.options = {**DEFAULT_OPTIONS, **{k: v for k, v in d["options"].items() if k in DEFAULT_OPTIONS}}
        state.variants = dict(d.get("variants") or {})
        state.credentials.load(d["credentials"])
        state.counters = d["counters"]
        state.policies = {p["PolicyId"]: p for p in d["policies"]}
        state.roles = {r["RoleId"]: r for r in d["roles"]}
        state.attachments = {rid: {int(pid): t for pid, t in a.items()} for rid, a in d["attachments"].items()}
        state.clusters = d["clusters"]
        state.addon_records = d["addon_records"]
        state.addon_failures = d["addon_failures"]
        state.charts = d["charts"]
        state.chart_versions = dict(d.get("chart_versions") or {})
        state.instance_types = d["instance_types"]
        state.instances = d["instances"]
        state.subnets = d["subnets"]
        state.vpcs = d.get("vpcs") or _vpcs_of_subnets(state)
        state.security_groups = d["security_groups"]
        state.enis = d["enis"]
        state.client_tokens = d["client_tokens"]
        for key in ("address_templates", "address_template_groups", "service_templates", "service_template_groups"):
            setattr(state, key, d.get(key) or {})  # absent from states saved before templates existed
        state._used_ips = {a["PrivateIpAddress"] for e in state.enis.values() for a in e["PrivateIpAddressSet"]}
        state._used_ips.update(ip for i in state.instances.values() for ip in i["PrivateIpAddresses"])
        for e in state.enis.values():
            state._index_eni(e)
        return state


def _vpcs_of_subnets(state: CloudState) -> dict[str, dict]:
    """VPC records for a state saved before VPCs were: each VPC spans the smallest network
    holding its subnets."""
    spans: dict[str, list] = {}
    for subnet in state.subnets.values():
        spans.setdefault(subnet["VpcId"], []).append(subnet)
    for vpc_id, subnets in spans.items():
        nets = [ipaddress.ip_network(x["CidrBlock"]) for x in subnets]
        net = nets[0]
        while not all(n.subnet_of(net) for n in nets):
            net = net.supernet()
        state.add_vpc(vpc_id, vpc_id, str(net), region=state.region_of_zone(subnets[0]["Zone"]))
    return state.vpcs
