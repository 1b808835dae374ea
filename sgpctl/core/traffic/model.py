"""Security-group rules and templates as the VPC API describes them, as plain frozen data.

These are the types ``cloud.vpc`` returns (DescribeSecurityGroupPolicies, DescribeAddressTemplates,
DescribeAddressTemplateGroups, DescribeServiceTemplates, DescribeServiceTemplateGroups) and the
sandbox builds from its state; ``core.traffic`` evaluates them. Values are kept as the API spells
them (``Protocol`` "TCP"/"tcp"/"ALL", ``Port`` "80,443", ``Action`` "accept"...): interpreting them
is the evaluator's job, so reading never fails on a value we do not understand.

``from_api`` reads the API's dicts leniently (absent fields become None, ``Version`` may come back
as a number although the model says string); ``to_api`` writes the request shape back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

INGRESS = "ingress"
EGRESS = "egress"
#: our lower-case direction -> the API's key in SecurityGroupPolicySet
API_DIRECTION = {INGRESS: "Ingress", EGRESS: "Egress"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class AddressTemplateRef:
    """``AddressTemplate`` of a rule: an IP address template (``ipm-``) or a template group (``ipmg-``)."""

    address_id: str | None = None
    address_group_id: str | None = None

    def to_api(self) -> dict[str, str]:
        out = {}
        if self.address_id:
            out["AddressId"] = self.address_id
        if self.address_group_id:
            out["AddressGroupId"] = self.address_group_id
        return out


@dataclass(frozen=True)
class ServiceTemplateRef:
    """``ServiceTemplate`` of a rule: a protocol-port template (``ppm-``) or a template group (``ppmg-``)."""

    service_id: str | None = None
    service_group_id: str | None = None

    def to_api(self) -> dict[str, str]:
        out = {}
        if self.service_id:
            out["ServiceId"] = self.service_id
        if self.service_group_id:
            out["ServiceGroupId"] = self.service_group_id
        return out


@dataclass(frozen=True)
class Rule:
    """One ``SecurityGroupPolicy``. The peer is one of ``cidr_block``, ``ipv6_cidr_block``,
    ``security_group_id`` (the private addresses of everything bound to that group) and
    ``address_template``; the service is ``protocol`` + ``port`` or ``service_template``."""

    policy_index: int | None
    action: str | None
    protocol: str | None = None
    port: str | None = None
    cidr_block: str | None = None
    ipv6_cidr_block: str | None = None
    security_group_id: str | None = None
    address_template: AddressTemplateRef | None = None
    service_template: ServiceTemplateRef | None = None
    description: str = ""
    modify_time: str | None = None

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "Rule":
        at = d.get("AddressTemplate") or {}
        st = d.get("ServiceTemplate") or {}
        address = AddressTemplateRef(_text(at.get("AddressId")), _text(at.get("AddressGroupId")))
        service = ServiceTemplateRef(_text(st.get("ServiceId")), _text(st.get("ServiceGroupId")))
        return cls(
            policy_index=_int(d.get("PolicyIndex")),
            action=_text(d.get("Action")),
            protocol=_text(d.get("Protocol")),
            port=_text(d.get("Port")),
            cidr_block=_text(d.get("CidrBlock")),
            ipv6_cidr_block=_text(d.get("Ipv6CidrBlock")),
            security_group_id=_text(d.get("SecurityGroupId")),
            address_template=address if address.to_api() else None,
            service_template=service if service.to_api() else None,
            description=str(d.get("PolicyDescription") or ""),
            modify_time=_text(d.get("ModifyTime")),
        )

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.policy_index is not None:
            out["PolicyIndex"] = self.policy_index
        for key, value in (("Protocol", self.protocol), ("Port", self.port), ("CidrBlock", self.cidr_block),
                           ("Ipv6CidrBlock", self.ipv6_cidr_block), ("SecurityGroupId", self.security_group_id)):
            if value is not None:
                out[key] = value
        if self.address_template is not None:
            out["AddressTemplate"] = self.address_template.to_api()
        if self.service_template is not None:
            out["ServiceTemplate"] = self.service_template.to_api()
        if self.action is not None:
            out["Action"] = self.action
        if self.description:
            out["PolicyDescription"] = self.description
        return out

    def peer_text(self) -> str:
        """The rule's source/destination as a person reads it."""
        if self.cidr_block:
            return self.cidr_block
        if self.ipv6_cidr_block:
            return self.ipv6_cidr_block
        if self.security_group_id:
            return f"members of {self.security_group_id}"
        if self.address_template is not None:
            t = self.address_template
            return f"address template {t.address_id or t.address_group_id}"
        return "(no peer)"

    def service_text(self) -> str:
        if self.service_template is not None:
            t = self.service_template
            return f"service template {t.service_id or t.service_group_id}"
        proto = (self.protocol or "?").upper()
        if proto in ("TCP", "UDP"):
            return f"{proto}:{self.port or 'ALL'}"
        return proto


@dataclass(frozen=True)
class GroupRules:
    """A group's ``SecurityGroupPolicySet``: ``version`` changes with every change of its rules."""

    security_group_id: str
    version: str | None
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()

    @classmethod
    def from_api(cls, security_group_id: str, policy_set: Mapping[str, Any]) -> "GroupRules":
        return cls(
            security_group_id=security_group_id,
            version=_text(policy_set.get("Version")),
            ingress=tuple(Rule.from_api(r) for r in policy_set.get("Ingress") or ()),
            egress=tuple(Rule.from_api(r) for r in policy_set.get("Egress") or ()),
        )

    def rules(self, direction: str) -> tuple[Rule, ...]:
        """The rules of one direction (``ingress``/``egress``) in match order: by PolicyIndex, as
        listed where it is absent."""
        rules = self.ingress if direction == INGRESS else self.egress
        return tuple(r for _, r in sorted(enumerate(rules), key=lambda ir: (
            ir[1].policy_index if ir[1].policy_index is not None else ir[0], ir[0])))


@dataclass(frozen=True)
class AddressTemplate:
    """An IP address template: entries are IPs, CIDRs or ranges ``a-b`` (IPv4 or IPv6)."""

    template_id: str
    name: str = ""
    addresses: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "AddressTemplate":
        # AddressSet holds the plain entries, AddressExtraSet the same ones with remarks: keep both.
        entries = [a for a in d.get("AddressSet") or () if a]
        entries += [x.get("Address") for x in d.get("AddressExtraSet") or () if x.get("Address")]
        return cls(str(d.get("AddressTemplateId") or ""), str(d.get("AddressTemplateName") or ""),
                   tuple(dict.fromkeys(str(e).strip() for e in entries)))


@dataclass(frozen=True)
class AddressTemplateGroup:
    group_id: str
    name: str = ""
    template_ids: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "AddressTemplateGroup":
        return cls(str(d.get("AddressTemplateGroupId") or ""), str(d.get("AddressTemplateGroupName") or ""),
                   tuple(d.get("AddressTemplateIdSet") or ()))


@dataclass(frozen=True)
class ServiceTemplate:
    """A protocol-port template: entries such as ``tcp:80``, ``tcp:80,443``, ``udp:3306-20000``,
    ``tcp:all``, ``icmp``, ``gre`` (the API echoes ``tcp: 8080`` with a space)."""

    template_id: str
    name: str = ""
    services: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "ServiceTemplate":
        entries = [s for s in d.get("ServiceSet") or () if s]
        entries += [x.get("Service") for x in d.get("ServiceExtraSet") or () if x.get("Service")]
        return cls(str(d.get("ServiceTemplateId") or ""), str(d.get("ServiceTemplateName") or ""),
                   tuple(dict.fromkeys(str(e).strip() for e in entries)))


@dataclass(frozen=True)
class ServiceTemplateGroup:
    group_id: str
    name: str = ""
    template_ids: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "ServiceTemplateGroup":
        ids = list(d.get("ServiceTemplateIdSet") or ())
        ids += [t.get("ServiceTemplateId") for t in d.get("ServiceTemplateSet") or () if t.get("ServiceTemplateId")]
        return cls(str(d.get("ServiceTemplateGroupId") or ""), str(d.get("ServiceTemplateGroupName") or ""),
                   tuple(dict.fromkeys(ids)))


@dataclass(frozen=True)
class RuleBook:
    """Everything evaluation may consult. A group, template or member list that is absent is
    *unknown*, never empty: a rule that depends on it can match or not, and a decision that hangs
    on it says so instead of guessing.

    ``members``: group id -> the private addresses of everything bound to it (CVMs' ENIs and
    Pods' sub-ENIs), for rules whose peer is a ``SecurityGroupId``.

    ``known_addresses``: when given, the addresses whose every binding is known (those of the ENIs
    that were described): an address outside a group's members is certainly not a member only if
    it is one of these, since ENI listings do not show other resources a group may be bound to
    (a load balancer, a database). None: the members are complete (a sandbox, a test).
    """

    groups: Mapping[str, GroupRules] = field(default_factory=dict)
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    known_addresses: frozenset[str] | None = None
    address_templates: Mapping[str, AddressTemplate] = field(default_factory=dict)
    address_template_groups: Mapping[str, AddressTemplateGroup] = field(default_factory=dict)
    service_templates: Mapping[str, ServiceTemplate] = field(default_factory=dict)
    service_template_groups: Mapping[str, ServiceTemplateGroup] = field(default_factory=dict)
    #: decisions already made on this book (``evaluate.evaluate_chain``): a check of 10,000 Pods asks
    #: the same few questions of the same groups again and again. Not an init field, so a book made
    #: with ``dataclasses.replace`` (other rules) starts with an empty one.
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @classmethod
    def build(cls, groups=(), members: Mapping[str, Any] | None = None, address_templates=(),
              address_template_groups=(), service_templates=(), service_template_groups=(),
              known_addresses=None) -> "RuleBook":
        """From iterables of the types above (members: group id -> iterable of addresses)."""
        return cls(
            groups={g.security_group_id: g for g in groups},
            members={k: frozenset(v) for k, v in (members or {}).items()},
            known_addresses=None if known_addresses is None else frozenset(known_addresses),
            address_templates={t.template_id: t for t in address_templates},
            address_template_groups={t.group_id: t for t in address_template_groups},
            service_templates={t.template_id: t for t in service_templates},
            service_template_groups={t.group_id: t for t in service_template_groups},
        )

    def referenced(self) -> tuple[set[str], set[str], set[str], set[str], set[str]]:
        """Ids the known rules refer to: (groups, address templates, address template groups,
        service templates, service template groups), so a caller can fetch what is missing."""
        sgs, at, atg, st, stg = set(), set(), set(), set(), set()
        for g in self.groups.values():
            for r in (*g.ingress, *g.egress):
                if r.security_group_id:
                    sgs.add(r.security_group_id)
                if r.address_template is not None:
                    at.update(filter(None, [r.address_template.address_id]))
                    atg.update(filter(None, [r.address_template.address_group_id]))
                if r.service_template is not None:
                    st.update(filter(None, [r.service_template.service_id]))
                    stg.update(filter(None, [r.service_template.service_group_id]))
        for grp in self.address_template_groups.values():
            at.update(grp.template_ids)
        for grp in self.service_template_groups.values():
            st.update(grp.template_ids)
        return sgs, at, atg, st, stg
