"""`sgpctl doctor`: one preflight over the whole setup, in the order of the TKE procedure, linkerd-style.

Checks are data (``core.checks``): each has a stable id, reads what it needs from one lazily filled
``DoctorContext`` and returns an outcome; the runner streams results. Every cloud read happens at most
once per run, and the cluster is read through one ``ClusterView`` that verify and routing share, so
each cluster collection is listed at most once (the sandbox's request log proves both in the tests).
A read that failed fails (or leaves undetermined) each check that needs it with the same error,
without calling again.

Categories and check ids (scripts key on them)::

    settings        settings-credentials, settings-region, settings-cluster-id, settings-kubeconfig,
                    settings-context-cluster
    cloud-access    access-cam, access-tke, access-vpc, access-cvm, access-kubernetes
    network-mode    network-vpc-cni, network-shared-eni, network-static-ip, eniipamd-version
    cam             cam-policy, cam-policy-actions, cam-role-ipamdoftke-qcsrole, cam-role-tke-qcsrole
    trunking        trunking-eniipamd, trunking-enabled
    addon           addon-installed, addon-crd-served, addon-vpceni-crd
    nodes           nodes-families, nodes-quota, nodes-zero-quota-pods
    policies        policies-present, policies-readable, policies-groups-exist, policies-union-limit, policies-select-pods,
                    policies-overlap
    pods            pods-stale, pods-verified, pods-pending-sub-eni, pods-container-creating
    routing         routing-mode, strict-nodelocaldns, strict-networkpolicy, strict-ipvs,
                    strict-external-traffic-local, strict-early-demux, strict-snat, strict-probes-dns
    traffic         traffic-needs
    leaks           leaks-sub-enis, leaks-inconsistencies
    manual          manual-client-token-allowlist
    api-assumptions assume-addon-merge, assume-addon-values-rendered, assume-trunking-flag,
                    assume-eniipamd-version, assume-cluster-property, assume-sgp-addon-name,
                    assume-enforcing-mode-default, assume-tkesubeni, assume-kube-proxy-mode,
                    assume-vpceni-kind, assume-sg-port-all, assume-subeni-listed, leaks-delete-action
                    (``workflows.assumptions``: which reading of the unconfirmed API facts this
                    account follows, with the response field and value that decided it)

Decisions:
- What makes later checks meaningless is declared with ``requires`` on fatal checks: no credentials ->
  no cloud calls; no cloud answer -> no checks on it; the SecurityGroupPolicy CRD not served -> no
  policy or Pod checks. Everything else still runs after a failure.
- "No policy yet" is a note (``info``), not a failure: right after `sgpctl setup` that is the state.
- Unsupported instance families are a warning when some nodes can run policy Pods, a failure when none
  can. A stale Pod fails (as in `verify`): it does not have the groups its policy says.
- In standard routing the strict-mode limits are notes about a future switch; in strict routing they
  are failures (see ``workflows.routing``).
- ``traffic-needs`` is `sgpctl traffic check -A` as one check: the flows the policy Pods need
  (probes, DNS, Services, declared egress) against their groups' rules, under the current routing.
  It and ``strict-probes-dns`` stand on one read of the rules (``DoctorContext.traffic``), and on
  the ENIs verify read.
- Each sub-ENI is read once: verify (``pods-verified``) takes the Pods' ENIs from the leaks
  category's listing of the nodes' ENIs when that listing runs, and looks up by id only the ones it
  lacks (all of them when the listing holds no sub-ENI); ``assume-subeni-listed`` says which read
  found them.
- A whole run reads ahead (``reads_ahead``): the cloud reads of the early checks, the cluster's
  view and routing's reads (which need no ENI, so they overlap the leaks listing) start, on a small
  pool, as soon as the settings they need pass, each chain going on only while its reads succeed,
  as the checks' ``requires`` do; so it makes the calls the checks in order would, and only their
  latencies overlap. A read's failure is memoised and lands on the check that owns it.
  A run of chosen categories reads as each check comes (but for the leaks listing).
- The VPC client-token allowlist cannot be read through any API: it is always a warning to confirm by
  hand, so a fully set-up cluster ends with warnings, never with a silent pass.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sgpctl.core import matching
from sgpctl.core.allocation import node_usage
from sgpctl.core.annotations import RESOURCE_SUB_ENI
from sgpctl.core.cam_policy import POLICY_NAME, REQUIRED_ACTIONS, ROLES
from sgpctl.core.checks import (
    CategorySpec,
    CheckOutcome,
    CheckSpec,
    Status,
    failed,
    noted,
    passed,
    run_checks,
    undetermined,
    warned,
)
from sgpctl.core.preconditions import CATEGORY as NETWORK_MODE
from sgpctl.core.preconditions import ClusterNetwork, precondition_specs, trunking_enabled
from sgpctl.core.quotas import SUPPORTED_FAMILIES
from sgpctl.errors import InputError, SgpctlError
from sgpctl.kube import resources as r
from sgpctl.settings import Settings, infer_cluster_id
from sgpctl.workflows.once import ABSENT, FAILED, Once
from sgpctl.workflows.view import ClusterView

SETUP_HINT = "run `sgpctl setup` (CAM, Trunking ENI and the add-on, each skipped when done)"
ROLLOUT = "sgpctl policy rollout -n {ns} --yes"
_ENI_EVENT = re.compile(r"tke-eni|eniipamd|eni-ipamd|sub-?eni|\beni\b|trunk", re.IGNORECASE)


# --------------------------------------------------------------------------------------------------
# The context: every read once
# --------------------------------------------------------------------------------------------------

class DoctorContext:
    """Settings plus the clients, and a memo of every read the checks share."""

    def __init__(self, settings: Settings, *, cloud_factory: Callable[[], Any], kube_factory: Callable[[], Any],
                 wall_clock: Callable[[], float] = time.time, context_info: Any = None):
        self.settings = settings
        self._cloud_factory = cloud_factory
        self._kube_factory = kube_factory
        self._wall_clock = wall_clock
        #: the kube context as a ``kube.kubeconfig.ContextInfo`` when it does not come from the
        #: kubeconfig file (a fleet cluster's, from DescribeClusterKubeconfig)
        self._context_info = context_info
        #: each read's answer (or failure, kept: raised to every check that needs it): the first caller
        #: reads, any other - a check, or a read ahead on another thread - waits for that answer
        self._memo = Once(keep_failures=True)
        self._lock = threading.Lock()
        self._ahead: ThreadPoolExecutor | None = None
        #: set once the leaks listing started ahead has begun, or will not be made
        self._leaks_decided: threading.Event | None = None

    def memo(self, key: str, fn: Callable[[], Any]) -> Any:
        return self._memo.get(key, fn)

    def cached(self, key: str) -> Any:
        """What ``memo`` holds for ``key`` when it was read successfully, else None (nothing is read,
        nothing is waited for)."""
        return self._memo.values.get(key)

    # -- clients ---------------------------------------------------------------------------------
    @property
    def cluster_id(self) -> str:
        return self.settings.require_cluster_id()

    def cloud(self):
        return self.memo("cloud", self._cloud_factory)

    def kube(self):
        return self.memo("kube", self._kube_factory)

    # -- cloud reads -----------------------------------------------------------------------------
    def cam_access(self) -> dict:
        """One custom policy (ListPolicies): whether CAM answers."""
        return self.memo("cam-access", lambda: self.cloud().call("cam", "ListPolicies", {"Scope": "Local", "Page": 1, "Rp": 1}))

    def cvm_access(self) -> dict:
        """One instance (DescribeInstances): whether CVM answers."""
        return self.memo("cvm-access", lambda: self.cloud().call("cvm", "DescribeInstances", {"Offset": 0, "Limit": 1}))

    def kube_version(self) -> dict:
        return self.memo("kube-version", lambda: self.kube().version())

    def cluster(self):
        return self.memo("cluster", lambda: self.cloud().tke.describe_cluster(self.cluster_id))

    def ipamd(self):
        return self.memo("ipamd", lambda: self.cloud().tke.describe_ipamd(self.cluster_id))

    def addons(self):
        return self.memo("addons", lambda: self.cloud().tke.describe_addons(self.cluster_id))

    def eniipamd(self):
        from sgpctl.workflows.addons import read_eniipamd

        return self.memo("eniipamd", lambda: read_eniipamd(self.cloud().tke, self.cluster_id, self.addons()))

    def sgp_addon(self):
        """How the SecurityGroupPolicy add-on's name is established (``core.api_facts.Fact``)."""
        from sgpctl.workflows.addons import sgp_addon

        return self.memo("sgp-addon", lambda: sgp_addon(self.cloud().tke, self.cluster_id,
                                                        setting=self.settings.sgp_addon_name(), addons=self.addons()))

    def cam_status(self):
        from sgpctl.workflows.cam import cam_status

        return self.memo("cam", lambda: cam_status(self.cloud().cam))

    def pod_limits(self) -> list:
        """DescribeVpcCniPodLimits for every type (the nodes' quotas and api-assumptions share it)."""
        return self.memo("pod-limits", lambda: self.cloud().tke.describe_vpc_cni_pod_limits())

    def sg_limit(self) -> int:
        return self.memo("sg-limit", lambda: self.cloud().vpc.describe_security_group_limit())

    def eniipamd_version(self):
        """(how eniipamd's version is established, whether it is installed): the image tag, with
        AddonVersion beside it (``workflows.trunking.eniipamd_version``)."""
        def read():
            from sgpctl.workflows.trunking import eniipamd_version

            return eniipamd_version(self.cloud().tke, self._view_or_none(), self.cluster_id, state=self.eniipamd().state)

        return self.memo("eniipamd-version", read)

    def network(self) -> ClusterNetwork:
        """What the Trunking ENI preconditions are judged on, from the reads above."""
        def read() -> ClusterNetwork:
            from sgpctl.workflows.trunking import cluster_network

            return cluster_network(self.cloud().tke, self.cluster_id, cluster=self.cluster(), ipamd=self.ipamd(),
                                   version=self.eniipamd_version())

        return self.memo("network", read)

    def _view_or_none(self) -> ClusterView | None:
        """The view, or None when the kubeconfig is not usable (settings-kubeconfig fails): then no
        check touches the cluster."""
        if check_kubeconfig(self).status is not Status.PASS:
            return None
        try:
            return self.view()
        except Exception:  # noqa: BLE001 - the image tag is only a fallback
            return None

    # -- cluster reads ---------------------------------------------------------------------------
    def view(self) -> ClusterView:
        """The one read of the cluster that every check, verify and routing share."""
        def build() -> ClusterView:
            view = ClusterView(self.kube())
            view.sg_limit = self._sg_limit_or_default()
            # The nodes, policies and Pods checks, verify and routing all read these: list them at once.
            view.prefetch("pods", "serviceaccounts", "replicasets", "nodes", "warning_events")
            return view

        return self.memo("view", build)

    def match(self) -> matching.MatchResult:
        return self.view().match()

    def _sg_limit_or_default(self) -> int:
        try:
            return self.sg_limit()
        except Exception:  # noqa: BLE001 - the documented default stands in; access-vpc reports the failure
            return matching.DEFAULT_SG_LIMIT

    def usage(self):
        def run():
            from sgpctl.workflows.capacity import cloud_limits

            v = self.view()
            limits, notes = cloud_limits(v.nodes, self.cloud(), pod_limits=self.pod_limits) if self._cloud_or_none() else ({}, [])
            return node_usage(v.nodes, v.pods, cloud_limits=limits), notes

        return self.memo("usage", run)

    def _cloud_or_none(self):
        try:
            return self.cloud()
        except Exception:  # noqa: BLE001 - quotas fall back to allocatable and the table
            return None

    def verify(self):
        from sgpctl.workflows.verify import verify_pods

        def run():
            # Each sub-ENI read once: the Pods' ENIs the leaks category's listing of the nodes' ENIs holds
            # are taken from it (when that listing was started), only the others are looked up by id.
            return verify_pods(self.view(), self.cloud().vpc, sg_limit=self._sg_limit_or_default(),
                               listing=self._node_enis_listing())

        return self.memo("verify", run)

    def routing(self):
        from sgpctl.workflows.routing import gather

        return self.memo("routing", lambda: gather(self.view(), self.cloud(), self.cluster_id, cluster=self.cluster(),
                                                   addons=self.addons(), ipamd=self._ipamd_or_none(),
                                                   eniipamd=self.eniipamd(), traffic=self.traffic))

    def traffic(self):
        """The policy Pods' traffic facts (``workflows.traffic``): one batched rules read, shared by the
        traffic and routing checks; the Pods' ENIs as verify read them."""
        def read():
            from sgpctl.workflows.traffic import gather

            known = None
            try:
                known = {(p.namespace, p.name): (p.eni_id, p.eni_groups) for p in self.verify().pods
                         if p.eni_id and p.eni_groups is not None}
            except Exception:  # noqa: BLE001 - the ENIs are then read here; pods-verified reports the failure
                pass
            return gather(self.view(), self.cloud(), self.cluster_id, cluster=self.cluster(), known=known,
                          plan=self.traffic_plan())

        return self.memo("traffic", read)

    def traffic_plan(self):
        """The half of the traffic facts that needs no ENI (``workflows.traffic.plan_gather``)."""
        def plan():
            from sgpctl.workflows.traffic import plan_gather

            return plan_gather(self.view(), self.cloud(), self.cluster_id, eniipamd=self.eniipamd())

        return self.memo("traffic-plan", plan)

    def read_ahead(self, *reads: Callable[[], Any]) -> Future | None:
        """Run ``reads`` (this context's memoised reads, e.g. ``self.cluster``) one after another on a
        thread of the context's pool, so their latency overlaps the checks and other reads; the first
        that fails ends the chain (a read that needs it would not be made in order either). Each
        answer, or failure, is memoised for the check that owns the read, which takes it over."""
        with self._lock:
            if self._ahead is None:
                _import_before_threads()
                self._ahead = ThreadPoolExecutor(max_workers=AHEAD_THREADS, thread_name_prefix="sgpctl-doctor")
            pool = self._ahead

        def chain() -> None:
            for read in reads:
                read()

        try:
            return pool.submit(chain)
        except RuntimeError:  # the run is over (close()): nothing is left to need it
            return None

    def close(self) -> None:
        """No more reads ahead (those running finish; the process does not wait for queued ones)."""
        if self._ahead is not None:
            self._ahead.shutdown(wait=False, cancel_futures=True)

    def start_leaks_read(self, *after: Callable[[], Any]) -> None:
        """Start listing the nodes' ENIs (``workflows.leaks.read_node_enis``: a hundred calls on a
        large cluster that need nothing but the nodes) in the background, once the reads ``after``
        succeeded, so they overlap the checks before ``leaks``, which takes the answer over (and
        verify, the Pods' sub-ENIs it holds); a failure surfaces there. Once per run."""
        if self._leaks_decided is not None or self._memo.state("node-enis") != ABSENT:
            return
        decided = self._leaks_decided = threading.Event()

        def listing() -> None:
            try:
                for read in after:
                    read()
                self.node_enis(started=decided.set)
            finally:
                decided.set()  # listed, or not to be: verify need not wait to know

        if self.read_ahead(listing) is None:
            decided.set()

    def node_enis(self, started: Callable[[], None] | None = None):
        """The nodes' ENIs (``workflows.leaks.NodeEnis``); ``started()`` is called when this call
        begins the listing (it is memoised by then)."""
        def read():
            from sgpctl.workflows.leaks import read_node_enis

            if started is not None:
                started()
            return read_node_enis(self.view().nodes, self.cloud(), self.cluster_id, clock=self._wall_clock)

        return self.memo("node-enis", read)

    def _node_enis_listing(self) -> Callable[[], list] | None:
        """What verify takes the Pods' ENIs from: the nodes' ENIs when the leaks category lists them
        (started, or done without failing), else None (nothing is read for it)."""
        if self._leaks_decided is not None and self._memo.state("node-enis") == ABSENT:
            # the reads before the listing decide whether it is made: verify waits for them (they are
            # its own reads, or done long ago), not for the listing, so that it never looks up by id
            # what the listing will hold
            self._leaks_decided.wait()
        if self._memo.state("node-enis") in (ABSENT, FAILED):
            return None
        return lambda: self.node_enis().enis

    def leaks(self):
        def read():
            from sgpctl.workflows.leaks import find_leaks

            return find_leaks(self.view(), self.cloud(), self.cluster_id, clock=self._wall_clock,
                              node_enis=self.node_enis(), owners=self.leaks_owners())

        return self.memo("leaks", read)

    def leaks_owners(self):
        """The VpcENIs and Pods indexed for the leaks' classification (``workflows.leaks.owners_of``)."""
        def index():
            from sgpctl.workflows.leaks import owners_of

            return owners_of(self.view())

        return self.memo("leaks-owners", index)

    def _ipamd_or_none(self):
        try:
            return self.ipamd()
        except Exception:  # noqa: BLE001 - the SNAT audit reads it itself and notes a failure
            return None


#: what the reads ahead import: packages with import cycles (requests) that a first import on two
#: threads at once finds half-initialised ("cannot import name ... from partially initialized module"
#: in a fresh process), and sgpctl's modules the reads import lazily
_READS_IMPORT = ("requests", "urllib3", "kubernetes.client", "kubernetes.config", "tencentcloud.common.abstract_client",
                 "sgpctl.cloud.session", "sgpctl.cloud.cam", "sgpctl.cloud.tke", "sgpctl.cloud.vpc", "sgpctl.cloud.cvm",
                 "sgpctl.kube.client", "sgpctl.kube.factory", "sgpctl.workflows.addons", "sgpctl.workflows.trunking",
                 "sgpctl.workflows.cam", "sgpctl.workflows.capacity", "sgpctl.workflows.leaks",
                 "sgpctl.workflows.routing", "sgpctl.workflows.traffic", "sgpctl.workflows.verify")


def _import_before_threads() -> None:
    """Import, on this one thread, what the reads ahead would otherwise first import on several."""
    import importlib

    from sgpctl.cloud.session import SERVICES

    names = [*_READS_IMPORT, *(f"{i.package}.{m}" for i in SERVICES.values() for m in (i.client_module, "models"))]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # not installed: the read that needs it says so
            pass


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------

def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _verb(n: int, singular: str, plural: str) -> str:
    return singular if n == 1 else plural


def _by_namespace(keys: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ns, name in keys:
        out.setdefault(ns, []).append(name)
    return out


# --------------------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------------------

def check_credentials(c: DoctorContext) -> CheckOutcome:
    try:
        creds = c.settings.credentials()
    except SgpctlError as e:
        return failed(e.message, e.hint)
    kind = "" if creds.kind == "static" else f" ({creds.kind}: temporary keys from the SDK)"
    return passed(f"credentials from {creds.source}{kind}")


def check_region(c: DoctorContext) -> CheckOutcome:
    s = c.settings.region
    if not s.value:
        return failed("no region", "pass --region (e.g. ap-guangzhou), set TENCENTCLOUD_REGION, or run `tccli configure`")
    return passed(f"region {s.value} ({s.source})")


def check_cluster_id(c: DoctorContext) -> CheckOutcome:
    s = c.settings.cluster_id
    if not s.value:
        return failed("no cluster id", "pass --cluster-id cls-xxxxxxxx or set SGPCTL_CLUSTER_ID")
    return passed(f"cluster {s.value} ({s.source})")


def _context_info(c: DoctorContext):
    from sgpctl.kube.kubeconfig import current_context_info

    if c._context_info is not None:
        return c._context_info
    return c.memo("context", lambda: current_context_info(c.settings.kubeconfig.value, c.settings.context.value))


def check_kubeconfig(c: DoctorContext) -> CheckOutcome:
    info = _context_info(c)
    path = c.settings.kubeconfig.value
    if info.error and not info.context:
        return failed(f"kubeconfig {path}: {info.error}", "pass --kubeconfig/--context or set KUBECONFIG")
    if not info.context:
        return failed(f"kubeconfig {path} has no current context", "download the cluster's kubeconfig (TKE console > "
                      "Cluster > Basic information > Cluster APIServer information), or pass --context")
    if info.error:
        return failed(f"kubeconfig {path}: {info.error}", "pass --context with a context the kubeconfig defines")
    if not info.server:
        return failed(f"context {info.context} names cluster {info.cluster!r}, which has no server in {path}",
                      "fix the kubeconfig or download it again")
    return passed(f"context {info.context} -> {info.server} ({c.settings.kubeconfig.source})")


def check_context_cluster(c: DoctorContext) -> CheckOutcome:
    info = _context_info(c)
    want = c.cluster_id
    seen = infer_cluster_id(info.context, info.cluster, info.server)
    evidence = [f"context {info.context}", f"cluster {info.cluster}", f"server {info.server}"]
    if seen is None:
        return warned(f"cannot tell whether context {info.context} is cluster {want}: neither its names nor its server "
                      "carry a cluster id",
                      "TKE kubeconfigs name the context after the cluster (cls-xxxxxxxx); check that --context and "
                      "--cluster-id point at the same cluster", evidence)
    if seen != want:
        return failed(f"the kubeconfig context {info.context} is cluster {seen}, but sgpctl is set to {want}",
                      "pass the matching --context, or --cluster-id/SGPCTL_CLUSTER_ID for the context's cluster", evidence)
    return passed(f"context {info.context} is cluster {want}")


# --------------------------------------------------------------------------------------------------
# cloud access: one read per service
# --------------------------------------------------------------------------------------------------

def check_access_cam(c: DoctorContext) -> CheckOutcome:
    data = c.cam_access()
    return passed(f"CAM answers (ListPolicies: {data.get('TotalNum', 0)} custom policies)")


def check_access_tke(c: DoctorContext) -> CheckOutcome:
    cl = c.cluster()
    return passed(f"TKE answers (DescribeClusters: {cl.cluster_id} {cl.name or ''} {cl.status or ''})".replace("  ", " "))


def check_access_vpc(c: DoctorContext) -> CheckOutcome:
    return passed(f"VPC answers (DescribeSecurityGroupLimits: {c.sg_limit()} security groups per ENI)")


def check_access_cvm(c: DoctorContext) -> CheckOutcome:
    data = c.cvm_access()
    return passed(f"CVM answers (DescribeInstances: {data.get('TotalCount', 0)} instances)")


def check_access_kubernetes(c: DoctorContext) -> CheckOutcome:
    version = c.kube_version()
    return passed(f"the Kubernetes API answers ({version.get('gitVersion') or 'version unknown'})")


# --------------------------------------------------------------------------------------------------
# network mode
# --------------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------------
# CAM
# --------------------------------------------------------------------------------------------------

def check_cam_policy(c: DoctorContext) -> CheckOutcome:
    st = c.cam_status()
    if st.policy_id is None:
        return failed(f"no custom policy {st.policy_name}: eniipamd may not create sub-ENIs",
                      f"{SETUP_HINT}, or `sgpctl cam setup` for this step alone")
    return passed(f"custom policy {st.policy_name} (id {st.policy_id})")


def check_cam_actions(c: DoctorContext) -> CheckOutcome:
    st = c.cam_status()
    if st.actions_missing:
        return failed(f"{st.policy_name} does not allow {', '.join(st.actions_missing)}",
                      "run `sgpctl cam setup --update-policy` to add them", st.actions_present)
    return passed(f"{st.policy_name} allows {', '.join(REQUIRED_ACTIONS)}")


def _role_check(role: str) -> Callable[[DoctorContext], CheckOutcome]:
    def run(c: DoctorContext) -> CheckOutcome:
        from sgpctl.workflows.cam import ROLE_HINT

        st = c.cam_status()
        rs = next((x for x in st.roles if x.role == role), None)
        if rs is None or not rs.exists:
            return failed(f"role {role} does not exist", ROLE_HINT)
        if not rs.attached:
            why = "" if st.policy_id is not None else f" (there is no policy {st.policy_name} yet)"
            return failed(f"{st.policy_name} is not attached to {role}{why}", f"{SETUP_HINT}, or `sgpctl cam setup`")
        return passed(f"{st.policy_name} is attached to {role}")
    return run


def _role_id(role: str) -> str:
    return "cam-role-" + role.lower().replace("_", "-")


# --------------------------------------------------------------------------------------------------
# trunking, add-on
# --------------------------------------------------------------------------------------------------

def check_eniipamd(c: DoctorContext) -> CheckOutcome:
    from sgpctl.workflows.addons import FAILED_PHASES, SUCCEEDED

    st = c.eniipamd().state
    if not st.installed:
        return failed("the eniipamd add-on is not installed", "enable VPC-CNI on the cluster (it installs eniipamd)")
    if st.phase in FAILED_PHASES:
        return failed(f"eniipamd {st.version} is {st.phase}: {st.reason or 'no reason given'}",
                      "see the add-on in the TKE console (Add-on management > eniipamd)")
    if st.phase != SUCCEEDED:
        return warned(f"eniipamd {st.version} is {st.phase}", "wait for it to finish; run doctor again")
    return passed(f"eniipamd {st.version} {st.phase}")


def check_trunking(c: DoctorContext) -> CheckOutcome:
    hint = ("fix the network-mode failures above first: Trunking ENI cannot be enabled on this cluster yet"
            if _network_blocked(c) else f"{SETUP_HINT}, or `sgpctl enable-trunking`")
    return trunking_enabled(c.eniipamd().effective, hint, c.ipamd().trunking_enabled)


def _network_blocked(c: DoctorContext) -> bool:
    """Whether a Trunking ENI precondition failed (only shapes a hint: unknown counts as no)."""
    try:
        network = c.network()
    except Exception:  # noqa: BLE001
        return False
    return any(spec.run(network).status is Status.FAIL for spec in precondition_specs())


def check_addon(c: DoctorContext) -> CheckOutcome:
    from sgpctl.workflows.addons import FAILED_PHASES, SUCCEEDED

    found = c.sgp_addon()
    if not found.established:
        return undetermined(found.message, found.hint, list(found.evidence))
    name = found.value
    a = next((x for x in c.addons() if x.name == name), None)
    if a is None:
        return failed(f"the SecurityGroupPolicy add-on ({name}) is not installed",
                      f"{SETUP_HINT}, or `sgpctl addon install`")
    if a.phase in FAILED_PHASES:
        return failed(f"add-on {name} {a.version or ''} is {a.phase}: {a.reason or 'no reason given'}",
                      "fix the cause, then delete and reinstall the add-on in the TKE console")
    if a.phase != SUCCEEDED:
        return warned(f"add-on {name} {a.version or ''} is {a.phase}", "wait for it to finish; run doctor again")
    return passed(f"add-on {name} {a.version or ''} {a.phase}".replace("  ", " "))


def check_sgp_crd(c: DoctorContext) -> CheckOutcome:
    if c.view().serves(r.SGP_GROUP, r.SGP_KIND):
        return passed(f"the cluster serves {r.SGP_KIND} ({r.SGP_GROUP})")
    return failed(f"the cluster does not serve {r.SGP_KIND}: policies cannot be created",
                  f"{SETUP_HINT}, or `sgpctl addon install` (the add-on brings the CRD)")


def check_vpceni_crd(c: DoctorContext) -> CheckOutcome:
    if c.view().serves(r.VPCENI_GROUP, r.VPCENI_KIND):
        return passed(f"the cluster serves {r.VPCENI_KIND} ({r.VPCENI_GROUP})")
    return warned(f"the cluster does not serve eniipamd's {r.VPCENI_KIND}: Pods' sub-ENIs cannot be traced",
                  "check eniipamd in kube-system (kubectl get crd | grep vpceni)")


# --------------------------------------------------------------------------------------------------
# nodes
# --------------------------------------------------------------------------------------------------

def check_families(c: DoctorContext) -> CheckOutcome:
    usage, _ = c.usage()
    if not usage:
        return failed("the cluster has no nodes", "add nodes of a Trunking ENI family: " + ", ".join(SUPPORTED_FAMILIES))
    able = sorted(n for n, u in usage.items() if u.quota.supported)
    unable = sorted(n for n, u in usage.items() if not u.quota.supported)
    families = Counter(u.quota.family or "unknown" for u in usage.values())
    evidence = [f"{n} ({usage[n].quota.instance_type or 'no instance type'}): "
                f"{'supported' if usage[n].quota.supported else 'not supported'}" for n in sorted(usage)]
    shown = ", ".join(f"{f} x{k}" for f, k in sorted(families.items()))
    if not able:
        return failed(f"none of the {_plural(len(usage), 'node')} is of a Trunking ENI family ({shown})",
                      "add nodes of a supported family (" + ", ".join(SUPPORTED_FAMILIES) + "), or ask VPC by ticket to "
                      "enable another family", evidence)
    if unable:
        unsupported = sorted({usage[n].quota.family or "unknown" for n in unable})
        return warned(f"{len(able)} of {_plural(len(usage), 'node')} can run Pods with their own security groups; "
                      f"{len(unable)} ({', '.join(unsupported)}) {_verb(len(unable), 'has', 'have')} quota 0",
                      "keep policy Pods off those nodes (nodeSelector/affinity on node.kubernetes.io/instance-type), "
                      "or ask VPC by ticket to enable the family", evidence)
    return passed(f"all {_plural(len(usage), 'node')} are of Trunking ENI families ({shown})", evidence)


def check_quota(c: DoctorContext) -> CheckOutcome:
    usage, notes = c.usage()
    quota = sum(u.quota.quota for u in usage.values())
    used = sum(u.used for u in usage.values())
    sources = Counter(u.quota.source for u in usage.values())
    evidence = [f"{n}: quota {u.quota.quota} ({u.quota.source}), used {u.used}, free {u.free}" for n, u in sorted(usage.items())]
    evidence += [f"note: {n}" for n in notes]
    where = ", ".join(f"{s} x{k}" for s, k in sorted(sources.items()))
    if quota and used >= quota:
        return warned(f"every sub-ENI is in use ({used} of {quota}): new policy Pods stay Pending",
                      "add nodes of a supported family; `sgpctl capacity` shows the nodes", evidence)
    return passed(f"sub-ENI quota {quota}, {used} used, {quota - used} free (from {where or 'no node'})", evidence)


def check_zero_quota_pods(c: DoctorContext) -> CheckOutcome:
    usage, _ = c.usage()
    zero = {n for n, u in usage.items() if u.quota.quota <= 0}
    stuck = [m for m in c.match().pods if m.node in zero and m.policies and m.phase not in matching.FINISHED_PHASES]
    if not stuck:
        return passed("no policy Pod runs on a node without sub-ENI quota")
    by_ns = _by_namespace([(m.namespace, m.name) for m in stuck])
    evidence = [f"{m.namespace}/{m.name} on {m.node} ({usage[m.node].quota.family or 'unknown family'})" for m in stuck]
    return warned(f"{_plural(len(stuck), 'Pod')} that policies select {_verb(len(stuck), 'runs', 'run')} on nodes with "
                  "sub-ENI quota 0, without their security groups",
                  "keep them off those nodes (nodeSelector/affinity), then rebuild them: "
                  + "; ".join(ROLLOUT.format(ns=ns) for ns in sorted(by_ns)), evidence)


# --------------------------------------------------------------------------------------------------
# policies
# --------------------------------------------------------------------------------------------------

def _no_policies(c: DoctorContext) -> bool:
    return not c.view().policies


def check_policies_readable(c: DoctorContext) -> CheckOutcome:
    from sgpctl.workflows.verify import policies_readable

    view = c.view()
    # Reading them is what finds the unreadable ones.
    view.policies_in()
    view.vpcenis_by_pod()
    found = policies_readable(view)
    if found is None:
        return passed("every SecurityGroupPolicy and VpcENI can be read")
    return CheckOutcome(found.status, found.message, found.hint, found.evidence)


def check_policies_present(c: DoctorContext) -> CheckOutcome:
    policies = c.view().policies
    if not policies:
        return noted("no SecurityGroupPolicy yet",
                     "create one: sgpctl policy create NAME -n NS --pod-selector app=web --sg sg-xxxxxxxx "
                     "(or sgpctl policy apply -f FILE)")
    namespaces = sorted({p.namespace or "default" for p in policies})
    return passed(f"{_plural(len(policies), 'SecurityGroupPolicy')} in {_plural(len(namespaces), 'namespace')}",
                  [f"{p.namespace}/{p.name}: {', '.join(p.group_ids) or 'no groups'}" for p in policies])


def check_groups_exist(c: DoctorContext) -> CheckOutcome:
    policies = c.view().policies
    if not policies:
        return passed("no policy names a security group")
    ids = sorted({g for p in policies for g in p.group_ids})
    missing = set(c.cloud().vpc.find_missing_security_groups(ids))
    if not missing:
        return passed(f"the {_plural(len(ids), 'security group')} the policies name exist in {c.settings.region.value}")
    bad = [f"{p.namespace}/{p.name}: {', '.join(g for g in p.group_ids if g in missing)}"
           for p in policies if missing & set(p.group_ids)]
    return failed(f"{_plural(len(missing), 'security group')} named by policies {_verb(len(missing), 'does', 'do')} not exist "
                  f"({', '.join(sorted(missing))}): "
                  "Pods they select stay stuck at sub-ENI creation",
                  "create the groups (sgpctl sg create NAME) and fix the policies' groupIds, then sgpctl policy apply -f FILE", bad)


def _warnings(c: DoctorContext, *codes: str):
    return [w for w in c.match().warnings if w.code in codes]


def check_union_limit(c: DoctorContext) -> CheckOutcome:
    over = _warnings(c, "union-over-limit")
    limit = c._sg_limit_or_default()
    if not over:
        return passed(f"every Pod's union of groups fits {limit} per ENI")
    return failed(f"{_plural(len(over), 'set')} of Pods would get more than {limit} security groups: their sub-ENIs fail",
                  "narrow the overlapping policies' selectors or merge groups", [w.message for w in over])


def check_select_pods(c: DoctorContext) -> CheckOutcome:
    found = _warnings(c, "selects-nothing", "no-selector", "no-groups", "serviceaccount-not-found")
    if _no_policies(c):
        return passed("no policy to check")
    if not found:
        return passed("every policy selects Pods")
    from sgpctl.workflows.explain import why_no_pods

    view = c.view()
    evidence = []
    for w in found:
        evidence.append(w.message)
        policy = next((p for p in view.policies if p.namespace == w.namespace and p.name == w.policy), None)
        if policy is not None and w.code == "selects-nothing":
            evidence += [f"  {why}" for why in why_no_pods(view, policy)]
    first = next((w for w in found if w.policy), None)
    hint = (f"sgpctl policy explain {first.policy} -n {first.namespace}" if first and first.namespace
            else "sgpctl policy explain -A")
    return warned(f"{_plural(len(found), 'policy problem')}: policies that select nothing or cannot match",
                  f"check the selectors against the Pods' labels: {hint}", evidence)


def check_overlap(c: DoctorContext) -> CheckOutcome:
    found = _warnings(c, "multiple-policies")
    if not found:
        return passed("no Pod is selected by more than one policy")
    return warned(f"Pods in {_plural(len({w.namespace for w in found}), 'namespace')} match several policies: "
                  "their groups are combined", "check that the union is intended: sgpctl policy explain -A",
                  [w.message for w in found])


# --------------------------------------------------------------------------------------------------
# Pods
# --------------------------------------------------------------------------------------------------

def check_stale(c: DoctorContext) -> CheckOutcome:
    stale = [m for m in c.match().stale() if not m.host_network]
    if not stale:
        return passed("no Pod is stale (each policy Pod has the groups its policies give)")
    by_ns = _by_namespace([(m.namespace, m.name) for m in stale])
    evidence = [f"{m.namespace}/{m.name}: {m.stale_reason}" for m in stale]
    return failed(f"{_plural(len(stale), 'Pod')} {_verb(len(stale), 'does', 'do')} not have the groups the policies give (created before the policy, "
                  "or changed since): policies apply only to new Pods",
                  "rebuild them: " + "; ".join(ROLLOUT.format(ns=ns) for ns in sorted(by_ns)), evidence)


def check_verified(c: DoctorContext) -> CheckOutcome:
    report = c.verify()
    phase = {(m.namespace, m.name): m.phase for m in c.match().pods}
    looked = [p for p in report.pods if not p.stale and phase.get((p.namespace, p.name)) != "Pending"]
    bad = [p for p in looked if not p.ok]
    if not looked:
        return passed("no running policy Pod to verify")
    if not bad:
        return passed(f"{_plural(len(looked), 'policy Pod')} verified: annotation, VpcENI and the ENI's groups in VPC agree")
    evidence = []
    for p in bad:
        first = next(x for x in p.checks if x.status is Status.FAIL)
        evidence.append(f"{p.namespace}/{p.name}: {first.id}: {first.message}")
    first = bad[0]
    more = f" (and the {len(bad) - 1} other(s): sgpctl verify pods -A)" if len(bad) > 1 else ""
    return failed(f"{len(bad)} of {_plural(len(looked), 'policy Pod')} fail verification",
                  f"see why: sgpctl verify pod {first.name} -n {first.namespace}{more}", evidence)


def check_pending_sub_eni(c: DoctorContext) -> CheckOutcome:
    events = c.view().warnings_by_pod()
    pods = c.view().pods_by_key()
    stuck = []
    for key, p in sorted(pods.items()):
        if (p.get("status") or {}).get("phase") != "Pending" or (p.get("spec") or {}).get("nodeName"):
            continue
        reasons = [e for e in events.get(key, []) if e.get("reason") == "FailedScheduling"
                   and RESOURCE_SUB_ENI in str(e.get("message"))]
        conditions = [x for x in (p.get("status") or {}).get("conditions") or []
                      if x.get("type") == "PodScheduled" and RESOURCE_SUB_ENI in str(x.get("message"))]
        if reasons or conditions:
            stuck.append((key, str((reasons[-1] if reasons else conditions[-1]).get("message"))))
    if not stuck:
        return passed("no Pod is Pending for want of a sub-ENI")
    return failed(f"{_plural(len(stuck), 'Pod')} {_verb(len(stuck), 'stays', 'stay')} Pending: Insufficient {RESOURCE_SUB_ENI}",
                  "add nodes of a supported family or free sub-ENIs; `sgpctl capacity` shows quota and use per node",
                  [f"{ns}/{name}: {msg}" for (ns, name), msg in stuck])


def check_container_creating(c: DoctorContext) -> CheckOutcome:
    events = c.view().warnings_by_pod()
    stuck = []
    for key, p in sorted(c.view().pods_by_key().items()):
        status = p.get("status") or {}
        if status.get("phase") != "Pending" or not (p.get("spec") or {}).get("nodeName"):
            continue
        waiting = [cs for cs in status.get("containerStatuses") or []
                   if ((cs.get("state") or {}).get("waiting") or {}).get("reason") == "ContainerCreating"]
        if status.get("containerStatuses") and not waiting:
            continue
        eni = [e for e in events.get(key, []) if _ENI_EVENT.search(f"{e.get('reason')} {e.get('message')} "
                                                                   f"{(e.get('source') or {}).get('component', '')}")]
        if eni:
            stuck.append((key, f"{eni[-1].get('reason')}: {eni[-1].get('message')}"))
    if not stuck:
        return passed("no Pod is stuck in ContainerCreating on a sub-ENI")
    return failed(f"{_plural(len(stuck), 'Pod')} stuck in ContainerCreating: eniipamd could not set up a sub-ENI",
                  "fix what the event says (a missing security group, CAM permissions: see the cam and policies "
                  "checks); eniipamd retries by itself", [f"{ns}/{name}: {msg}" for (ns, name), msg in stuck])


# --------------------------------------------------------------------------------------------------
# traffic
# --------------------------------------------------------------------------------------------------

def check_traffic(c: DoctorContext) -> CheckOutcome:
    from sgpctl.workflows.traffic import evaluate, summary_outcome

    return summary_outcome(evaluate(c.traffic()))


# --------------------------------------------------------------------------------------------------
# manual
# --------------------------------------------------------------------------------------------------

def check_allowlist(c: DoctorContext) -> CheckOutcome:
    return warned("the VPC client-token allowlist cannot be read through any API: confirm it by hand, then "
                  "acknowledge it (--ack manual-client-token-allowlist, or SGPCTL_ACK) so strict CI can pass",
                  "submit a ticket to VPC to add this account to the client-token allowlist (the TKE document: "
                  "without it, Trunking ENIs may leak)")


# --------------------------------------------------------------------------------------------------
# the table of checks
# --------------------------------------------------------------------------------------------------

CATEGORIES = ("settings", "cloud-access", "network-mode", "cam", "trunking", "addon", "nodes", "policies", "pods",
              "routing", "traffic", "leaks", "manual", "api-assumptions")

CRED, REGION, CLUSTER, KUBECONFIG = "settings-credentials", "settings-region", "settings-cluster-id", "settings-kubeconfig"
CAM, TKE, VPC, CVM, KUBE = "access-cam", "access-tke", "access-vpc", "access-cvm", "access-kubernetes"


def _spec(check_id: str, description: str, run: Callable[[DoctorContext], CheckOutcome], *requires: str,
          fatal: bool = False, ackable: bool = False) -> CheckSpec:
    return CheckSpec(check_id, description, run, fatal=fatal, requires=requires, ackable=ackable)


def categories() -> list[CategorySpec]:
    from sgpctl.workflows import assumptions
    from sgpctl.workflows.leaks import leak_category
    from sgpctl.workflows.routing import routing_categories

    network = precondition_specs(lambda c: c.network(), requires=(TKE,))
    (routing,) = routing_categories(lambda c: c.routing(), requires=(TKE, KUBE), for_doctor=True)
    return [
        CategorySpec("settings", (
            _spec(CRED, "Tencent Cloud credentials resolve", check_credentials, fatal=True),
            _spec(REGION, "a region is set", check_region, fatal=True),
            _spec(CLUSTER, "a cluster id is set", check_cluster_id, fatal=True),
            _spec(KUBECONFIG, "the kubeconfig has a usable context", check_kubeconfig, fatal=True),
            _spec("settings-context-cluster", "the kubeconfig context is that cluster", check_context_cluster,
                  CLUSTER, KUBECONFIG),
        )),
        CategorySpec("cloud-access", (
            _spec(CAM, "CAM answers", check_access_cam, CRED, fatal=True),
            _spec(TKE, "TKE answers and knows the cluster", check_access_tke, CRED, REGION, CLUSTER, fatal=True),
            _spec(VPC, "VPC answers", check_access_vpc, CRED, REGION, fatal=True),
            _spec(CVM, "CVM answers", check_access_cvm, CRED, REGION, fatal=True),
            _spec(KUBE, "the Kubernetes API answers", check_access_kubernetes, KUBECONFIG, fatal=True),
        )),
        CategorySpec(NETWORK_MODE, tuple(network)),
        CategorySpec("cam", (
            _spec("cam-policy", f"custom policy {POLICY_NAME} exists", check_cam_policy, CAM, fatal=True),
            _spec("cam-policy-actions", f"{POLICY_NAME} allows the three sub-ENI actions", check_cam_actions, "cam-policy"),
            *(_spec(_role_id(role), f"{POLICY_NAME} is attached to {role}", _role_check(role), CAM) for role in ROLES),
        )),
        CategorySpec("trunking", (
            _spec("trunking-eniipamd", "the eniipamd add-on is installed and Succeeded", check_eniipamd, TKE, fatal=True),
            _spec("trunking-enabled", "Trunking ENI is enabled (vpcCni.trunkingEni.enableSubEni)", check_trunking,
                  "trunking-eniipamd"),
        )),
        CategorySpec("addon", (
            _spec("addon-installed", "the SecurityGroupPolicy add-on is installed and Succeeded", check_addon, TKE),
            _spec("addon-crd-served", "the cluster serves SecurityGroupPolicy", check_sgp_crd, KUBE, fatal=True),
            _spec("addon-vpceni-crd", "the cluster serves VpcENI (eniipamd)", check_vpceni_crd, KUBE),
        )),
        CategorySpec("nodes", (
            _spec("nodes-families", "nodes are of Trunking ENI instance families", check_families, KUBE),
            _spec("nodes-quota", "nodes have sub-ENI quota left", check_quota, KUBE),
            _spec("nodes-zero-quota-pods", "no policy Pod runs on a node with quota 0", check_zero_quota_pods, KUBE),
        )),
        CategorySpec("policies", (
            _spec("policies-present", "SecurityGroupPolicies exist", check_policies_present, "addon-crd-served"),
            _spec("policies-readable", "every SecurityGroupPolicy and VpcENI can be read", check_policies_readable,
                  "addon-crd-served"),
            _spec("policies-groups-exist", "the policies' security groups exist", check_groups_exist,
                  "addon-crd-served", VPC),
            _spec("policies-union-limit", "each Pod's union of groups fits the per-ENI limit", check_union_limit,
                  "addon-crd-served"),
            _spec("policies-select-pods", "every policy selects Pods", check_select_pods, "addon-crd-served"),
            _spec("policies-overlap", "no Pod is selected by several policies", check_overlap, "addon-crd-served"),
        )),
        CategorySpec("pods", (
            _spec("pods-stale", "no policy Pod is stale", check_stale, "addon-crd-served"),
            _spec("pods-verified", "policy Pods verify end to end", check_verified, "addon-crd-served", VPC),
            _spec("pods-pending-sub-eni", "no Pod is Pending for a sub-ENI", check_pending_sub_eni, KUBE),
            _spec("pods-container-creating", "no Pod is stuck creating its sub-ENI", check_container_creating, KUBE),
        )),
        routing,
        CategorySpec("traffic", (
            _spec("traffic-needs", "the policy Pods' groups let through the traffic they need", check_traffic,
                  "addon-crd-served", TKE, VPC),
        )),
        leak_category(lambda c: c.leaks(), requires=(TKE, VPC, KUBE)),
        CategorySpec("manual", (
            _spec("manual-client-token-allowlist", "the account is on VPC's client-token allowlist", check_allowlist,
                  ackable=True),
        )),
        assumptions.category(lambda kind: {"tke": (TKE,), "vpc": (VPC,), "kube": (KUBE,)}.get(kind, ())),
    ]


def select(cats: list[CategorySpec], names: Sequence[str] | None) -> list[CategorySpec]:
    """Only the named categories, in doctor's order. A check whose required check is left out runs
    anyway: the context reads what it needs, and a failed read still fails the check."""
    if not names:
        return cats
    known = [c.name for c in cats]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown --category {', '.join(unknown)}", hint=f"categories: {', '.join(known)}")
    chosen = [c for c in cats if c.name in names]
    kept = {s.id for c in chosen for s in c.checks}
    return [replace(c, checks=tuple(replace(s, requires=tuple(d for d in s.requires if d in kept)) for s in c.checks))
            for c in chosen]


def check_acks(ids: Sequence[str]) -> list[str]:
    """The ids given to --ack (or SGPCTL_ACK), checked: only checks no API can answer may be acknowledged."""
    from sgpctl.core.checks import ackable_ids

    allowed = ackable_ids(categories())
    bad = [i for i in ids if i not in allowed]
    if bad:
        raise InputError(f"cannot acknowledge {', '.join(bad)}: only checks that no API can answer can be",
                         hint=f"acknowledge one of: {', '.join(allowed)}")
    return list(ids)


#: the checks the leaks category requires: once they pass, its cloud reads start in the background
LEAKS_REQUIRE = (TKE, VPC, KUBE)
#: threads for the reads ahead: one per chain below at most
AHEAD_THREADS = 12


def reads_ahead(c: DoctorContext) -> list[tuple[tuple[str, ...], tuple[Callable[[], Any], ...]]]:
    """What a whole doctor run reads ahead: (the checks that must pass, a chain of reads).
    Each chain starts once its checks have passed, and goes on only while its reads
    succeed: a read follows the one whose check the reading check requires (cam-policy needs
    access-cam, the trunking reads access-tke's DescribeClusters...). So the calls are those the
    checks in order make, in any outcome: only their latencies overlap."""
    tke = (CRED, REGION, CLUSTER)
    return [
        ((CRED,), (c.cam_access, c.cam_status)),
        ((CRED, REGION), (c.sg_limit,)),
        ((CRED, REGION), (c.cvm_access,)),
        (tke, (c.cluster, c.ipamd)),
        (tke, (c.cluster, c.addons, c.eniipamd, c.eniipamd_version, c.network)),
        (tke, (c.cluster, c.addons, c.sgp_addon)),
        (tke, (c.cluster, c.pod_limits)),
        ((KUBECONFIG,), (c.kube_version, c.view)),
        # routing's checks require access-tke and access-kubernetes; its reads (kube-system's
        # DaemonSets and ConfigMaps, the Services, NetworkPolicies, eniipamd's subnets) need no ENI
        (tke + (KUBECONFIG,), (c.cluster, c.kube_version, c.view, c.routing)),
        # traffic-needs' requires; the plan reads nothing routing has not (the Services, the view)
        (("addon-crd-served", TKE, VPC), (c.cluster, c.eniipamd, c.view, c.routing, c.traffic_plan)),
        # the leaks category's requires; policies-readable read the VpcENIs, the index reads nothing more
        (("policies-readable", *LEAKS_REQUIRE), (c.view, c.leaks_owners)),
    ]


#: on a whole run, the leaks category's listing starts once these settings checks passed, after the
#: reads behind ``LEAKS_REQUIRE`` succeeded
LEAKS_AHEAD = (CRED, REGION, CLUSTER, KUBECONFIG)


def _starts(c: DoctorContext, *, whole: bool, leaks: bool) -> list[tuple[tuple[str, ...], Callable[[], Any]]]:
    """What starts in the background once checks have passed: (those checks, what to start). A whole
    run reads ahead (``reads_ahead``) and starts the leaks listing after the settings
    (``LEAKS_AHEAD``); a run of chosen categories starts only the listing, once the checks the leaks
    category requires have passed, if it is chosen."""
    if not whole:
        return [(LEAKS_REQUIRE, c.start_leaks_read)] if leaks else []
    return [*((requires, functools.partial(c.read_ahead, *reads)) for requires, reads in reads_ahead(c)),
            (LEAKS_AHEAD, functools.partial(c.start_leaks_read, c.cluster, c.sg_limit, c.kube_version))]


def run_doctor(context: DoctorContext, names: Sequence[str] | None = None, acknowledged: Sequence[str] = ()):
    """Results one by one, as each check finishes (render them as they come). On a whole run the
    cloud reads start ahead of their checks (``reads_ahead``) as soon as the settings they need
    have passed; on chosen categories the leaks category's listing starts as soon as the checks it
    requires have passed, and the other reads are made in order."""
    chosen = select(categories(), names)
    results = run_checks(chosen, context, acknowledged=acknowledged)
    starts = _starts(context, whole=not names, leaks=any(c.name == "leaks" for c in chosen))
    passed_ids: set[str] = set()

    def streamed():
        try:
            for result in results:
                yield result
                if result.ok:
                    passed_ids.add(result.id)
                for start in [s for s in starts if set(s[0]) <= passed_ids]:
                    starts.remove(start)
                    start[1]()
        finally:
            context.close()

    return streamed()
