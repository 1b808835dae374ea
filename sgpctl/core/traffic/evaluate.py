"""Deciding a block of traffic on one ENI in one direction: the groups bound to it, in bound
order, their rules top to bottom.

Semantics, with their sources (see also ``docs`` in the package's ``__init__``):

- Within a group, rules are matched top to bottom (``PolicyIndex`` order); the first that matches
  decides, ACCEPT or DROP ("The rules in a security group are prioritized from top to bottom ... If
  a rule is matched and executed, the subsequent rules are not matched": Tencent Cloud "Security
  Group Overview", product/213/12452, product/215/38750).
- Several groups on one ENI are matched in their bound order as a priority order
  (AssociateSecurityGroups, product/1026/31282: "多个安全组绑定至实例后,将以绑定顺序作为优先级顺序依次
  匹配执行"): the first group's rules, then the second's... so a DROP in the first beats an ACCEPT in
  the second.
- Traffic no rule matches is dropped ("If a security group has no rules, it will reject all
  traffic by default": product/213/18197).

A rule that cannot be evaluated (``rules.Compiled`` without a region) is stepped over but
remembered: the segment's outcome holds only if that rule does not match, so a segment whose
remembered rules could have decided otherwise is *undetermined*. A group whose rules are not in the
book is unknown as a whole (it could decide either way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sgpctl.core.traffic.model import Rule, RuleBook
from sgpctl.core.traffic.rules import action_of, compile_rule
from sgpctl.core.traffic.space import ALL_PORTS, Box, Region, disjoint, split

ACCEPT = "ACCEPT"
DROP = "DROP"


@dataclass(frozen=True)
class RuleRef:
    """A rule where it sits: group, direction, its PolicyIndex, and its place in the ENI's chain."""

    security_group_id: str
    direction: str
    policy_index: int
    action: str | None
    rule: Rule
    #: the group's place among the ENI's groups (0 = first bound) and the rule's place in that group
    group_position: int
    rule_position: int

    def to_dict(self) -> dict[str, Any]:
        return {"securityGroupId": self.security_group_id, "direction": self.direction,
                "policyIndex": self.policy_index, "action": self.action}

    def describe(self) -> str:
        where = f"{self.security_group_id} {self.direction} rule {self.policy_index}"
        desc = f' "{self.rule.description}"' if self.rule.description else ""
        return f"{where} ({self.action or '?'} {self.rule.service_text()} {self.rule.peer_text()}{desc})"


@dataclass(frozen=True)
class Unknown:
    """Something passed over before the decision whose match could not be determined."""

    security_group_id: str
    why: str
    #: the action it would have taken had it matched; None: either (a whole unknown group)
    action: str | None
    rule: RuleRef | None = None

    def describe(self) -> str:
        if self.rule is None:
            return f"{self.security_group_id}: {self.why}"
        return f"{self.rule.describe()}: {self.why}"


@dataclass(frozen=True)
class Segment:
    """How one piece of the traffic fares: ``action`` from ``decided_by`` (None: no rule matched,
    so dropped), valid if none of ``unknowns`` matched."""

    box: Box
    action: str
    decided_by: RuleRef | None
    unknowns: tuple[Unknown, ...] = ()

    @property
    def determined(self) -> bool:
        return all(u.action == self.action for u in self.unknowns)

    @property
    def outcome(self) -> str | None:
        """ACCEPT, DROP, or None when an unknown rule could have decided otherwise."""
        return self.action if self.determined else None


@dataclass(frozen=True)
class _Entry:
    group_position: int
    group_id: str
    rule_position: int
    rule: Rule | None  # None: the group's rules are not known


def _chain(book: RuleBook, groups: Sequence[str], direction: str) -> list[_Entry]:
    out: list[_Entry] = []
    for gpos, gid in enumerate(groups):
        rules = book.groups.get(gid)
        if rules is None:
            out.append(_Entry(gpos, gid, 0, None))
            continue
        out.extend(_Entry(gpos, gid, i, r) for i, r in enumerate(rules.rules(direction)))
    return out


def evaluate_chain(book: RuleBook, groups: Sequence[str], direction: str, protocol: str, box: Box) -> tuple[Segment, ...]:
    """How ``box`` of ``protocol`` traffic fares on an ENI with ``groups`` (bound order) in
    ``direction``; the segments partition ``box``. For egress the box's addresses are the
    destination's, for ingress the source's; the ports are always the destination port. Answers
    are kept in ``book.memo`` (the book is immutable, and so are they)."""
    key = (tuple(groups), direction, protocol, box)
    found = book.memo.get(key)
    if found is None:
        found = book.memo[key] = _evaluate_chain(book, groups, direction, protocol, box)
    return found


def _evaluate_chain(book: RuleBook, groups: Sequence[str], direction: str, protocol: str, box: Box) -> tuple[Segment, ...]:
    chain = _chain(book, groups, direction)
    compiled: dict[int, Any] = {}
    out: list[Segment] = []

    def ref(entry: _Entry) -> RuleRef:
        # A rule read without its PolicyIndex is numbered by its place, as the API numbers them.
        index = entry.rule.policy_index if entry.rule.policy_index is not None else entry.rule_position
        return RuleRef(entry.group_id, direction, index, action_of(entry.rule), entry.rule,
                       entry.group_position, entry.rule_position)

    def walk(piece: Box, start: int, unknowns: tuple[Unknown, ...]) -> None:
        for i in range(start, len(chain)):
            entry = chain[i]
            if entry.rule is None:
                unknowns += (Unknown(entry.group_id, f"the rules of {entry.group_id} are not known", None),)
                continue
            if i not in compiled:
                compiled[i] = compile_rule(entry.rule, protocol, book)
            c = compiled[i]
            action = action_of(entry.rule)
            if c.region is None or action is None:
                if c.region is None and disjoint(piece, c.networks, c.ports):
                    continue
                if c.region is not None and not split(piece, c.region)[0]:
                    continue
                why = c.why or f"action {entry.rule.action!r} is neither ACCEPT nor DROP"
                unknowns += (Unknown(entry.group_id, why, action, ref(entry)),)
                continue
            inside, outside = split(piece, c.region)
            unsure: list[Box] = []
            if c.certain_misses is not None:
                sure: list[Box] = []
                for part in outside:
                    miss, maybe = split(part, Region(c.certain_misses, ALL_PORTS))
                    sure += miss
                    unsure += maybe
                outside = sure
            if not inside and not unsure:
                continue
            for part in inside:
                out.append(Segment(part, action, ref(entry), unknowns))
            for part in outside:
                walk(part, i + 1, unknowns)
            for part in unsure:
                walk(part, i + 1, unknowns + (Unknown(entry.group_id, c.why_outside, action, ref(entry)),))
            return
        out.append(Segment(piece, DROP, None, unknowns))

    walk(box, 0, ())
    return tuple(out)
