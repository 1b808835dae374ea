"""The needs of Pods against their groups: which pass, which are dropped (with the fix), which
cannot be decided; and, for ``policy apply``, where the order of a policy's ``groupIds`` makes a
DROP in an earlier group shadow an ACCEPT in a later one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sgpctl.core.traffic.evaluate import ACCEPT, DROP, RuleRef, evaluate_chain
from sgpctl.core.traffic.explain import TrafficDecision, explain
from sgpctl.core.traffic.fixes import RuleFix, suggest_fixes
from sgpctl.core.traffic.model import RuleBook
from sgpctl.core.traffic.needs import Need

PASS = "pass"
FAIL = "fail"
UNDETERMINED = "undetermined"


@dataclass(frozen=True)
class NeedResult:
    need: Need
    decision: TrafficDecision
    fixes: tuple[RuleFix, ...] = ()

    @property
    def status(self) -> str:
        return {True: PASS, False: FAIL, None: UNDETERMINED}[self.decision.allowed]

    def to_dict(self) -> dict[str, Any]:
        return {"need": self.need.to_dict(), "status": self.status, "decision": self.decision.to_dict(),
                "fixes": [f.to_dict() for f in self.fixes]}


def check_needs(needs: Iterable[Need], book: RuleBook) -> list[NeedResult]:
    out = []
    for need in needs:
        decision = explain(need.source, need.destination, need.flow, book)
        fixes = suggest_fixes(decision, book, peer_cidrs=need.peer_cidrs,
                              description=f"sgpctl: {need.description}") if decision.allowed is False else ()
        out.append(NeedResult(need, decision, fixes))
    return out


@dataclass(frozen=True)
class Shadowing:
    """A flow ``need`` dropped by ``drop`` in an earlier group of ``endpoint``'s ENI, which
    ``accept`` in a later group would let through."""

    need: Need
    endpoint: str
    groups: tuple[str, ...]
    drop: RuleRef
    accept: RuleRef

    def message(self) -> str:
        later, earlier = self.accept.security_group_id, self.drop.security_group_id
        return (f"{self.need.description}: {self.drop.describe()} on {self.endpoint} shadows "
                f"{self.accept.describe()}, because {earlier} comes before {later} in the groups "
                f"({', '.join(self.groups)}); list {later} before {earlier} in groupIds, or remove the DROP, "
                f"if the ACCEPT is meant")

    def to_dict(self) -> dict[str, Any]:
        return {"need": self.need.to_dict(), "endpoint": self.endpoint, "groups": list(self.groups),
                "drop": self.drop.to_dict(), "accept": self.accept.to_dict(), "message": self.message()}


def find_shadowing(needs: Iterable[Need], book: RuleBook) -> list[Shadowing]:
    """For each need, each filtered hop: parts dropped by a rule of group *i* that the groups after
    *i* alone would accept. (A DROP inside one group before an ACCEPT in that group is that group's
    own order, not the policy's, and is not reported here.)"""
    out: list[Shadowing] = []
    for need in needs:
        decision = explain(need.source, need.destination, need.flow, book)
        for hop in decision.hops:
            groups: Sequence[str] = hop.endpoint.groups or ()
            if not hop.filtered or len(groups) < 2:
                continue
            seen: set[tuple] = set()
            for seg in hop.segments:
                drop = seg.decided_by
                if seg.outcome != DROP or drop is None or drop.group_position >= len(groups) - 1:
                    continue
                later = groups[drop.group_position + 1:]
                for alt in evaluate_chain(book, later, hop.direction, decision.flow.protocol, seg.box):
                    if alt.outcome == ACCEPT and alt.decided_by is not None:
                        accept = alt.decided_by
                        key = (drop.security_group_id, drop.rule_position, accept.security_group_id,
                               accept.rule_position)
                        if key not in seen:
                            seen.add(key)
                            shifted = RuleRef(accept.security_group_id, accept.direction, accept.policy_index,
                                              accept.action, accept.rule,
                                              accept.group_position + drop.group_position + 1, accept.rule_position)
                            out.append(Shadowing(need, hop.endpoint.ref, tuple(groups), drop, shifted))
    return out
