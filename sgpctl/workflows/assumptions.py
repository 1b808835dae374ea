"""`doctor`'s ``api-assumptions`` category: each fact about the Tencent Cloud / TKE API that no public
source settles, established live on the user's account, with the response field and value that
decided it (``core.api_facts``, the same functions the workflows decide with). A first run on a real
account thereby reports which reading it follows; `sgpctl sandbox variants` plays each alternative.

Status of each check:

- ``pass``: the account's answers establish the reading (the message says which, the evidence why);
- ``skip`` with ``undetermined`` (exit 3): the answers cannot tell, and a command depends on the fact
  (enable-trunking on eniipamd's version and the cluster's network form, `addon` on the add-on's
  name, `routing set standard` on the chart's default once the cluster runs strict, everything on
  Trunking being on); the hint says what settles it;
- ``info``: the answers cannot tell, and sgpctl is right under every reading (UpdateAddon's merge depth,
  what DescribeAddonValues renders, TKESubENI's meaning, Port ALL, sub-ENI listing, VpcENI's kind, the
  action that deletes a sub-ENI).

Reads are the doctor context's (each made once per run); the two this category adds are
DescribeVpcCniPodLimits (shared with the nodes checks) and DescribeSecurityGroupPolicies of at most
``MAX_GROUPS`` groups the policies name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sgpctl.core import api_facts
from sgpctl.core.api_facts import Fact
from sgpctl.core.checks import CategorySpec, CheckOutcome, CheckSpec, noted, passed, undetermined

CATEGORY = "api-assumptions"
#: security groups whose rules are read for the Port ALL evidence
MAX_GROUPS = 20


def outcome(fact: Fact, *, needed: bool) -> CheckOutcome:
    """A fact as a check: established passes; not established is undetermined when a command depends on
    it (``needed``), a note otherwise. A conflict between sources is always undetermined."""
    evidence = list(fact.evidence) + list(fact.notes)
    if fact.established:
        return passed(f"{fact.message} - reading: {fact.reading}", evidence)
    if needed or fact.conflict:
        return undetermined(fact.message, fact.hint, evidence)
    return noted(fact.message, fact.hint, evidence)


def _eniipamd_rawvalues(c) -> dict | None:
    addon = next((a for a in c.addons() if a.name == "eniipamd"), None)
    return addon.raw_values if addon is not None else None


def check_merge_depth(c) -> CheckOutcome:
    return outcome(api_facts.merge_depth(), needed=False)


def check_subeni_delete(c) -> CheckOutcome:
    return outcome(api_facts.subeni_delete_action(), needed=False)


def check_values_rendered(c) -> CheckOutcome:
    eni = c.eniipamd()
    if not eni.state.installed:
        return noted("eniipamd is not installed: nothing to read")
    return outcome(api_facts.values_rendered(_eniipamd_rawvalues(c), eni.values, eni.defaults), needed=False)


def check_trunking_flag(c) -> CheckOutcome:
    return outcome(api_facts.trunking_on(c.eniipamd().effective, c.ipamd().trunking_enabled), needed=True)


def check_eniipamd_version(c) -> CheckOutcome:
    fact, installed = c.eniipamd_version()
    if not installed:
        return noted("eniipamd is not installed: no version to read")
    return outcome(fact, needed=True)


def check_cluster_property(c) -> CheckOutcome:
    """Static IP and shared ENI, read from Property in whichever form the cluster carries."""
    prop = c.network().property()
    facts = [api_facts.static_ip(prop), api_facts.shared_eni(prop)]
    unknown = [f for f in facts if not f.established]
    evidence = sorted({e for f in facts for e in f.evidence})
    if unknown:
        return undetermined("; ".join(f.message for f in unknown), unknown[0].hint, evidence)
    form = "MetaFeatureParam (VPC-CNI added to a GR cluster)" if "MetaFeatureParam" in prop else \
        "IsNonStaticIpMode and VpcCniType (a cluster created as VPC-CNI)"
    return passed(f"{', '.join(f.message for f in facts)} - reading: Property carries {form}", evidence)


def check_sgp_addon_name(c) -> CheckOutcome:
    return outcome(c.sgp_addon(), needed=True)


def check_vpceni_kind(c) -> CheckOutcome:
    from sgpctl.kube import resources as r

    view = c.view()
    served = None
    if view.serves(r.VPCENI_GROUP, r.VPCENI_KIND):
        res = view.resource(r.VPCENI_GROUP, r.VPCENI_KIND)
        served = (f"{res.group}/{res.version}", res.plural, res.kind)
    return outcome(api_facts.vpceni_kind(served, r.VPCENI_KIND), needed=False)


def check_tkesubeni(c) -> CheckOutcome:
    limits = c.pod_limits()
    return outcome(api_facts.tkesubeni_meaning((p.instance_type or "", p.sub_eni) for p in limits), needed=False)


def check_enforcing_default(c) -> CheckOutcome:
    eni = c.eniipamd()
    if not eni.state.installed:
        return noted("eniipamd is not installed: no DefaultValues to read")
    # Needed to switch back from strict: undetermined then, a note in standard routing.
    return outcome(api_facts.standard_mode_value(eni.defaults), needed=eni.mode == "strict")


def check_port_all(c) -> CheckOutcome:
    from sgpctl.kube import resources as r

    view = c.view()
    ids = sorted({g for p in view.policies for g in p.group_ids})[:MAX_GROUPS] if view.serves(r.SGP_GROUP, r.SGP_KIND) else []
    # The traffic checks read the policy Pods' groups' rules already: those are not read twice.
    traffic = c.cached("traffic")
    known = traffic.book.groups if traffic is not None else {}
    missing = [i for i in ids if i not in known]
    groups = [known[i] for i in ids if i in known] + (c.cloud().vpc.describe_security_group_policies(missing) if missing else [])
    rules = [(g.security_group_id, rule.protocol, rule.port) for g in groups for rule in (*g.ingress, *g.egress)]
    return outcome(api_facts.port_all(rules), needed=False)


def check_kube_proxy(c) -> CheckOutcome:
    cluster = c.cluster()
    return outcome(api_facts.kube_proxy_reading(cluster.kube_proxy_mode, cluster.ipvs), needed=False)


def check_subeni_listed(c) -> CheckOutcome:
    from sgpctl.kube import resources as r

    if not c.view().serves(r.SGP_GROUP, r.SGP_KIND):
        return outcome(api_facts.subeni_listed(0, 0), needed=False)
    report = c.verify()
    fact = report.subenis_listed or api_facts.subeni_listed(0, 0)
    return outcome(fact, needed=False)


def category(requires: Callable[[str], Sequence[str]]) -> CategorySpec:
    """``requires(kind)`` names doctor's checks each kind of read stands on: ``tke``, ``vpc``, ``kube``."""
    table: list[tuple[str, str, Callable[[Any], CheckOutcome], str]] = [
        ("assume-addon-merge", "UpdateAddon's merge depth", check_merge_depth, "none"),
        ("assume-addon-values-rendered", "DescribeAddonValues' Values is rendered over DefaultValues",
         check_values_rendered, "tke"),
        ("assume-trunking-flag", "Trunking ENI on or off (eniipamd's enableSubEni, DescribeIPAMD's EnableTrunkingENI)",
         check_trunking_flag, "tke"),
        ("assume-eniipamd-version", "eniipamd's version is the tke-eni-ipamd image tag", check_eniipamd_version, "tke"),
        ("assume-cluster-property", "DescribeClusters' Property tells static IP and shared ENI",
         check_cluster_property, "tke"),
        ("assume-sgp-addon-name", "the SecurityGroupPolicy add-on's API name", check_sgp_addon_name, "tke"),
        ("assume-enforcing-mode-default", "the value of standard routing (eniipamd's DefaultValues)",
         check_enforcing_default, "tke"),
        ("assume-tkesubeni", "what DescribeVpcCniPodLimits' TKESubENI means", check_tkesubeni, "tke"),
        ("assume-kube-proxy-mode", "how DescribeClusters encodes kube-proxy's mode", check_kube_proxy, "tke"),
        ("assume-vpceni-kind", "the VpcENI kind's spelling", check_vpceni_kind, "kube"),
        ("assume-sg-port-all", "TCP/UDP rules with Port ALL", check_port_all, "vpc+kube"),
        ("assume-subeni-listed", "DescribeNetworkInterfaces lists per-Pod sub-ENIs", check_subeni_listed, "vpc+kube"),
        # Its id predates this category (doctor's leaks category had it): kept, scripts may name it.
        ("leaks-delete-action", "a public API action deletes per-Pod sub-ENIs", check_subeni_delete, "none"),
    ]
    specs = []
    for check_id, description, run, needs in table:
        deps: list[str] = []
        for kind in needs.split("+"):
            deps += [d for d in requires(kind) if d not in deps]
        specs.append(CheckSpec(check_id, description, run, requires=tuple(deps)))
    return CategorySpec(CATEGORY, tuple(specs))
