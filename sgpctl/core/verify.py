"""Verify one Pod end to end, as the TKE document does by hand: the policy says which groups it should
have; the Pod's annotations say which it got; the VpcENI (found by the Pod's name and namespace labels)
names its sub-ENI; the cloud says which groups that ENI really has. Pure: the workflow gathers the
inputs with a constant number of list calls and one DescribeNetworkInterfaces per 100 ENIs.

Check ids are stable (the JSON contract): pod-exists, host-network, network-annotation,
sub-eni-resource, security-groups, expected-groups (only with --expect-sg), vpceni, eni-groups,
node-family; `verify pod` adds traffic (``workflows.traffic.pod_traffic_check``). A stale Pod (created before the policy that now selects it, or with other groups) fails,
with the rollout command as its hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from sgpctl.core.annotations import (
    ANNOTATION_NETWORKS,
    RESOURCE_SUB_ENI,
    SUB_ENI_NETWORK,
    annotated_groups,
    pod_sub_eni_count,
    uses_sub_eni,
)
from sgpctl.core.checks import CheckResult, Status, worst

PASS, FAIL, WARN, SKIP = Status.PASS, Status.FAIL, Status.WARN, Status.SKIP
_EMPTY: Mapping[str, Any] = {}

#: what the workflow found for a Pod's ENI in the cloud
ENI_NOT_LOOKED_UP = object()
#: DescribeNetworkInterfaces found none of the sub-ENIs looked up: this account does not list them
#: (``core.api_facts.subeni_listed``), so their groups cannot be checked in VPC
ENI_NOT_LISTED = object()
#: the cloud's answer is still on its way: ``settle_eni`` finishes the Pod when it comes (the
#: workflow verifies the rest of 10,000 Pods meanwhile)
ENI_PENDING = object()

#: each check's description, in the order the checks run
DESCRIPTIONS = {
    "pod-exists": "the Pod exists",
    "host-network": "the Pod does not use hostNetwork",
    "network-annotation": f"the Pod is annotated {ANNOTATION_NETWORKS}: {SUB_ENI_NETWORK}",
    "sub-eni-resource": f"the Pod requests {RESOURCE_SUB_ENI}",
    "security-groups": "its security groups are what the policies give",
    "expected-groups": "its security groups are the expected ones (--expect-sg)",
    "vpceni": "a VpcENI names its sub-ENI",
    "eni-groups": "the ENI has the same security groups in VPC",
    "node-family": "its node's instance family supports Trunking ENI",
    # added by the workflow of `verify pod` (it reads the groups' rules): ``workflows.traffic``
    "traffic": "its groups let through the traffic it needs (probes, DNS, Services, declared egress)",
}


@dataclass(frozen=True)
class EniFacts:
    """The cloud's view of one ENI (from DescribeNetworkInterfaces)."""

    eni_id: str
    security_group_ids: tuple[str, ...]


@dataclass
class PodVerification:
    namespace: str
    name: str
    node: str | None = None
    stale: bool = False
    stale_reason: str | None = None
    expected: tuple[str, ...] = ()
    annotated: tuple[str, ...] | None = None
    eni_id: str | None = None
    eni_groups: tuple[str, ...] | None = None
    checks: list[CheckResult] = field(default_factory=list)
    _category: str = field(default="", repr=False)
    #: where the eni-groups check goes once the cloud answers (``ENI_PENDING``, ``settle_eni``)
    _eni_slot: int | None = field(default=None, repr=False, compare=False)

    # Plain loops: `verify pods` asks these of every one of 10,000 Pods, several times.
    @property
    def ok(self) -> bool:
        for c in self.checks:
            if c.status is FAIL:
                return False
        return True

    @property
    def undetermined(self) -> bool:
        """A check could not be determined (e.g. the VPC API does not list sub-ENIs)."""
        for c in self.checks:
            if c.undetermined:
                return True
        return False

    @property
    def warnings(self) -> int:
        n = 0
        for c in self.checks:
            if c.status is WARN:
                n += 1
        return n

    def check(self, id_: str, status: Status, message: str, hint: str | None = None, *, undetermined: bool = False) -> None:
        if not self.checks:
            self._category = f"{self.namespace}/{self.name}"
        # positional: 90,000 of these for 10,000 Pods
        self.checks.append(CheckResult(id_, DESCRIPTIONS[id_], status, message, hint, [], self._category, undetermined))

    def verdict(self) -> str:
        if self.ok:
            return "UNDETERMINED" if self.undetermined else "verified"
        return "STALE" if self.stale else "FAILED"

    def chain(self) -> str:
        """The Pod's groups at each hop (policies, annotation, ENI), as one line."""
        return (f"policy groups {_groups(self.expected)} | annotation {_groups(self.annotated)} | "
                f"ENI {self.eni_id or '-'} {_groups(self.eni_groups)}")

    def summary(self) -> CheckResult:
        """The Pod as one result (category: its namespace), for listing many Pods: the worst of its
        checks; the message says why (a stale Pod: that it is stale), the evidence lists its problems."""
        bad = [c for c in self.checks if c.status in (FAIL, WARN)]
        where = f"on {self.node}" if self.node else "(not scheduled)"
        groups = self.annotated if self.annotated is not None else self.expected
        description = f"{self.name} {where}" + (f": {_groups(groups)} on {self.eni_id}" if self.eni_id else "")
        status = worst(self.checks)
        first = next((c for c in bad if c.status is status), None)
        unknown = next((c for c in self.checks if c.undetermined), None)
        if first is None and unknown is not None:
            return CheckResult(f"pod-{self.name}", description, SKIP, f"{unknown.id}: {unknown.message}", unknown.hint,
                               category=self.namespace, undetermined=True)
        if first is None:
            return CheckResult(f"pod-{self.name}", description, status, category=self.namespace)
        if self.stale:
            message, shown = f"stale: {self.stale_reason or 'its groups are not what the policies give'}", bad
        else:
            message, shown = f"{first.id}: {first.message}", [c for c in bad if c is not first]
        return CheckResult(f"pod-{self.name}", description, status, message, first.hint,
                           [f"{c.id}: {c.message}" for c in shown], category=self.namespace)

    def to_dict(self) -> dict:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "node": self.node,
            "ok": self.ok,
            "stale": self.stale,
            "expectedSecurityGroups": list(self.expected),
            "annotatedSecurityGroups": list(self.annotated) if self.annotated is not None else None,
            "eniId": self.eni_id,
            "eniSecurityGroups": list(self.eni_groups) if self.eni_groups is not None else None,
            # The verify contract's four keys per check (README), not the doctor form. Status is a str:
            # it serialises as its value.
            "checks": [{"id": c.id, "status": c.status, "message": c.message, "hint": c.hint} for c in self.checks],
        }


def _eni_groups(v: PodVerification, eni: EniFacts | None | object) -> None:
    """The ``eni-groups`` check of a Pod whose VpcENI names ``v.eni_id``, from the cloud's answer."""
    if eni is ENI_NOT_LOOKED_UP:
        v.check("eni-groups", SKIP, "the ENI was not looked up in VPC")
    elif eni is ENI_NOT_LISTED:
        v.check("eni-groups", SKIP, f"could not determine: DescribeNetworkInterfaces lists none of the sub-ENIs "
                f"looked up, {v.eni_id} included: the account's VPC API does not seem to list sub-ENIs",
                "check the sub-ENI's security groups in the ENI console", undetermined=True)
    elif eni is None:
        v.check("eni-groups", FAIL, f"ENI {v.eni_id} not found in VPC (DescribeNetworkInterfaces)",
                "the sub-ENI may have been deleted behind eniipamd's back: rebuild the Pod")
    else:
        v.eni_groups = tuple(eni.security_group_ids)
        claimed = v.annotated if v.annotated is not None else v.expected
        if set(v.eni_groups) != set(claimed):
            v.check("eni-groups", FAIL, f"ENI {v.eni_id} has {_groups(v.eni_groups)}, the Pod's annotation says {_groups(claimed)}",
                    "the ENI's groups were changed outside TKE: rebuild the Pod to restore them, or fix them in the ENI console")
        elif tuple(v.eni_groups) != tuple(claimed):
            v.check("eni-groups", WARN, f"ENI {v.eni_id} has the same groups in another order ({_groups(v.eni_groups)})",
                    "security group order is rule priority; rebuild the Pod if the order matters")
        else:
            v.check("eni-groups", PASS, f"ENI {v.eni_id} has {_groups(v.eni_groups)}")


def settle_eni(v: PodVerification, eni: EniFacts | None | object) -> PodVerification:
    """Finish a Pod verified with ``eni=ENI_PENDING``: its ``eni-groups`` check from the cloud's answer
    (``eni`` as ``verify_pod`` takes it), in its place among the checks. A Pod with no ENI to look up
    is left as it is."""
    slot = v._eni_slot
    if slot is None:
        return v
    _eni_groups(v, eni)  # appends the check: it takes the placeholder's place
    v.checks[slot] = v.checks.pop()
    v._eni_slot = None
    return v


def _groups(ids: Sequence[str] | None) -> str:
    return ",".join(ids) if ids else "(none)"


def rollout_hint(namespace: str, policy: str | None = None) -> str:
    return f"rebuild it: sgpctl policy rollout {policy + ' ' if policy else ''}-n {namespace} --yes"


def vpceni_eni_id(vpceni: Mapping[str, Any]) -> str | None:
    return (((vpceni.get("status") or _EMPTY).get("eni") or _EMPTY).get("eniID")) or None


def newest_eni_id(vpcenis: Sequence[Mapping[str, Any]]) -> str | None:
    """The ENI the Pod uses: that of the newest VpcENI naming one (``vpcenis`` sorted oldest first,
    as ``verify_pod`` expects them)."""
    return next((e for e in map(vpceni_eni_id, reversed(vpcenis)) if e), None)


def verify_pod(
    *,
    namespace: str,
    name: str,
    pod: Mapping[str, Any] | None,
    policies: Sequence[str] = (),
    expected: Sequence[str] = (),
    stale: bool = False,
    stale_reason: str | None = None,
    vpcenis: Sequence[Mapping[str, Any]] = (),
    eni: EniFacts | None | object = ENI_NOT_LOOKED_UP,
    node_family: str | None = None,
    node_supported: bool | None = None,
    expect_sg: Sequence[str] | None = None,
    pending_reason: str | None = None,
) -> PodVerification:
    """``eni``: the cloud's facts, None when the VPC does not know the ENI, or ENI_NOT_LOOKED_UP.
    ``pending_reason``: why the Pod is not running yet (an event message), for hints. With
    ``eni=ENI_PENDING`` the eni-groups check waits for ``settle_eni``."""
    v = PodVerification(namespace, name, expected=tuple(expected), stale=stale, stale_reason=stale_reason)
    if pod is None:
        v.check("pod-exists", FAIL, f"Pod {namespace}/{name} not found", "check the name and -n NAMESPACE")
        return v
    spec = pod.get("spec") or _EMPTY
    v.node = spec.get("nodeName")
    v.annotated = annotated_groups(pod)
    phase = (pod.get("status") or _EMPTY).get("phase")
    v.check("pod-exists", PASS, f"Pod {namespace}/{name} exists ({phase or 'unknown phase'})")
    if spec.get("hostNetwork"):
        v.check("host-network", FAIL, "the Pod uses hostNetwork: it never gets a sub-ENI or its own security groups",
                "remove hostNetwork: true from the Pod template, or exclude the Pod from the policy")
        return v
    v.check("host-network", PASS, "not hostNetwork")

    rebuild = rollout_hint(namespace, policies[0] if len(policies) == 1 else None)
    sub_eni = uses_sub_eni(pod)
    if not policies and not sub_eni:
        v.check("network-annotation", FAIL, "no SecurityGroupPolicy selects this Pod",
                f"check the policy's selectors: sgpctl policy explain -n {namespace}")
        return v

    # 1. The Pod's network annotation.
    network = ((pod.get("metadata") or _EMPTY).get("annotations") or _EMPTY).get(ANNOTATION_NETWORKS)
    if sub_eni:
        v.check("network-annotation", PASS, f"{ANNOTATION_NETWORKS}: {network}")
    else:
        msg = f"{ANNOTATION_NETWORKS} is {network!r}, not {SUB_ENI_NETWORK!r}" if network else f"no {ANNOTATION_NETWORKS} annotation"
        if stale:
            msg += f" (stale: {stale_reason})"
        v.check("network-annotation", FAIL, msg, rebuild if stale else "check that the SecurityGroupPolicy add-on is installed and Trunking ENI is enabled: sgpctl addon status")

    # 2. The extended resource.
    count = pod_sub_eni_count(pod)
    if count >= 1:
        v.check("sub-eni-resource", PASS, f"requests tke.cloud.tencent.com/sub-eni: {count}")
    else:
        v.check("sub-eni-resource", FAIL, "no container requests tke.cloud.tencent.com/sub-eni",
                rebuild if stale else "the Pod was not admitted through the SecurityGroupPolicy webhook: rebuild it")

    # 3. Annotated groups against what the policies now say.
    if not policies:
        v.check("security-groups", FAIL, f"the Pod carries groups {_groups(v.annotated)} but no policy selects it any more",
                rebuild)
    elif v.annotated is None:
        v.check("security-groups", FAIL, f"no security-group annotation; the policies give {_groups(expected)}", rebuild)
    elif set(v.annotated) != set(expected):
        v.check("security-groups", FAIL, f"annotated {_groups(v.annotated)}, the policies ({', '.join(policies)}) give {_groups(expected)}",
                rebuild)
    else:
        v.check("security-groups", PASS, f"{_groups(v.annotated)} as the policies ({', '.join(policies)}) say")

    if expect_sg is not None:
        have = v.annotated if v.annotated is not None else tuple(expected)
        if set(have) == set(expect_sg):
            v.check("expected-groups", PASS, f"groups are {_groups(expect_sg)} as expected")
        else:
            v.check("expected-groups", FAIL, f"groups are {_groups(have)}, expected {_groups(expect_sg)}",
                    "fix the policy's groupIds (sgpctl policy get), or --expect-sg")

    # 4. The VpcENI and 5. the ENI in the cloud.
    if not sub_eni:
        v.check("vpceni", SKIP, "the Pod has no sub-ENI to trace")
        v.check("eni-groups", SKIP, "the Pod has no sub-ENI to trace")
    else:
        with_id = [o for o in vpcenis if vpceni_eni_id(o)]
        if not vpcenis:
            why = f" (the Pod is {phase}: {pending_reason})" if pending_reason else f" (the Pod is {phase})" if phase != "Running" else ""
            v.check("vpceni", FAIL, f"no VpcENI labelled for {namespace}/{name}{why}",
                    pending_reason and "fix the cause in the event; eniipamd retries" or "check eniipamd: kubectl -n kube-system logs deploy/tke-eni-ipamd")
        elif not with_id:
            v.check("vpceni", FAIL, f"VpcENI {vpcenis[0]['metadata']['name']} names no ENI (status.eni.eniID is empty)",
                    "eniipamd has not finished creating the sub-ENI; wait, then check its logs")
        else:
            chosen = with_id[-1]
            v.eni_id = vpceni_eni_id(chosen)
            names = ", ".join(o["metadata"]["name"] for o in vpcenis)
            if len(vpcenis) > 1:
                v.check("vpceni", WARN, f"{len(vpcenis)} VpcENIs are labelled for this Pod ({names}); using {chosen['metadata']['name']}",
                        "the extra VpcENIs may be leaked sub-ENIs: check them with kubectl get vpceni -l ...")
            else:
                v.check("vpceni", PASS, f"VpcENI {names} names ENI {v.eni_id}")
        if v.eni_id is None:
            v.check("eni-groups", SKIP, "no ENI to look up")
        elif eni is ENI_PENDING:
            v.check("eni-groups", SKIP, "the ENI is being looked up in VPC")  # replaced by settle_eni
            v._eni_slot = len(v.checks) - 1
        else:
            _eni_groups(v, eni)

    # 6. The node's instance family.
    if not v.node:
        v.check("node-family", SKIP, "the Pod is not scheduled yet" + (f": {pending_reason}" if pending_reason else ""))
    elif node_supported is None:
        v.check("node-family", SKIP, f"node {v.node}: instance family unknown")
    elif node_supported:
        v.check("node-family", PASS, f"node {v.node} ({node_family}) supports Trunking ENI")
    else:
        v.check("node-family", FAIL, f"node {v.node} ({node_family or 'unknown family'}) has no Trunking ENI quota",
                "Trunking ENI families: ITA5, M8, MA4, MA5, S8, S9, SA4, SA5; keep these Pods off other nodes (nodeSelector/affinity)")
    return v
