"""``core.leaks``: which sub-ENIs no live Pod owns, how old they are whatever zone the API writes
its times in, and the two-read rule. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import pytest

from sgpctl.core import leaks as L
from sgpctl.core.durations import format_age, format_duration, parse_duration
from tests.fakes import eni, pod, vpceni

T0 = 1769904000.0  # 2026-02-01T00:00:00Z
NODES = {"node-1": "ins-node0001", "node-2": "ins-node0002"}


def report(enis, vpcenis=(), pods=(), *, at=T0 + 3600, **kw):
    return L.classify(instances=NODES, enis=list(enis), vpcenis=list(vpcenis), pods=list(pods), read_at=at, **kw)


def test_durations_parse_and_show():
    assert parse_duration("10m") == 600 and parse_duration("1h30m") == 5400 and parse_duration("45") == 45
    assert parse_duration("2d") == 172800 and parse_duration(" 90S ") == 90
    for bad in ("", "10 minutes", "m", "-5m", "1h-2m"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert [format_age(s) for s in (5, 119, 125, 600, 3599, 3660, 8 * 3600 + 5, 3 * 86400, None)] == \
        ["5s", "119s", "2m5s", "10m", "59m", "1h1m", "8h", "3d", "-"]
    assert [format_duration(s) for s in (600, 90, 5400, 3600, 86400)] == ["10m", "90s", "1h30m", "1h", "1d"]


def test_a_sub_eni_no_vpceni_names_is_a_leak_and_an_owned_one_is_not():
    owned = eni("eni-owned001", "ins-node0001")
    leaked = eni("eni-leaked01", "ins-node0002", groups=("sg-a", "sg-b"))
    r = report([owned, leaked], [vpceni("vpceni-1", "eni-owned001", "web-1")], [pod("web-1", sub_eni=True)])
    assert [(x.eni_id, x.node, x.reason, x.security_groups) for x in r.leaks] == \
        [("eni-leaked01", "node-2", L.NO_VPCENI, ("sg-a", "sg-b"))]
    assert r.sub_enis == 2 and r.nodes == 2 and not r.blockers and not r.inconsistencies
    assert r.to_dict()["leaks"][0]["evidence"] == ["no VpcENI names it"]


def test_a_vpceni_whose_pod_is_gone_or_replaced_does_not_own_its_eni():
    enis = [eni("eni-gone0001", "ins-node0001"), eni("eni-newer001", "ins-node0001"), eni("eni-done0001", "ins-node0001")]
    vpcenis = [vpceni("vpceni-a", "eni-gone0001", "deleted-pod"),
               vpceni("vpceni-b", "eni-newer001", "db-0", uid="uid-old"),
               vpceni("vpceni-c", "eni-done0001", "job-1")]
    db = pod("db-0", sub_eni=True)
    db["metadata"]["uid"] = "uid-new"
    r = report(enis, vpcenis, [db, pod("job-1", sub_eni=True, phase="Succeeded")])
    got = {x.eni_id: (x.reason, x.evidence) for x in r.leaks}
    assert set(got) == {"eni-gone0001", "eni-newer001"}  # a finished Pod still exists: not a leak
    assert got["eni-gone0001"] == (L.POD_GONE, ("VpcENI vpceni-a names Pod shop/deleted-pod, which does not exist",))
    assert got["eni-newer001"][1] == ("VpcENI vpceni-b names Pod shop/db-0 with uid uid-old; the Pod of that name now is uid-new",)


def test_only_relayed_enis_of_the_nodes_in_scope_count():
    enis = [eni("eni-primary1", "ins-node0001", eni_type=1, primary=True),
            eni("eni-second01", "ins-node0001", eni_type=0),
            eni("eni-othernd1", "ins-othernod"),            # another cluster's node in the same VPC
            eni("eni-untyped1", "ins-node0001", eni_type=None)]
    r = report(enis)
    assert r.leaks == [] and r.sub_enis == 0


@pytest.mark.parametrize("eni_time,vpceni_time,leak_time,now,expected", [
    # Beijing time (UTC+8): the pair says the offset is at least 07:59:55, less the 60 s margin = 28735 s;
    # the leak's 09:00:00 then reads as 01:01:05Z, 1735 s before 01:30:00Z (truly 1800 s).
    ("2026-02-01 08:00:00", "2026-02-01T00:00:05Z", "2026-02-01 09:00:00", T0 + 5400, 1735),
    # UTC: offset at least -5 s - 60 s = -65 s; the leak's 01:00:00 reads as 01:01:05Z: 1735 s again.
    ("2026-02-01 00:00:00", "2026-02-01T00:00:05Z", "2026-02-01 01:00:00", T0 + 5400, 1735),
    # A VpcENI written an hour after its ENI only loosens the bound (offset >= 7 h - 60 s: the leak reads as
    # 02:01:00Z, after 01:30:00Z): the age is understated (0 for a true 1800 s), never overstated.
    ("2026-02-01 08:00:00", "2026-02-01T01:00:00Z", "2026-02-01 09:00:00", T0 + 5400, 0),
    # No usable pair: the age is unknown.
    (None, "2026-02-01T00:00:05Z", "2026-02-01 09:00:00", T0 + 5400, None),
    # A time with its zone needs no reading: 2026-02-01T01:00:00+00:00, 1800 s before 01:30:00Z.
    ("2026-02-01 08:00:00", "2026-02-01T00:00:05Z", "2026-02-01T01:00:00Z", T0 + 5400, 1800),
])
def test_age_is_read_in_the_youngest_time_zone_the_data_allows(eni_time, vpceni_time, leak_time, now, expected):
    enis = [eni("eni-owned001", "ins-node0001", created=eni_time), eni("eni-leaked01", "ins-node0001", created=leak_time)]
    r = report(enis, [vpceni("vpceni-1", "eni-owned001", "web-1", created=vpceni_time)], [pod("web-1", sub_eni=True)],
               at=now)
    (leak,) = r.leaks
    assert (None if leak.age is None else round(leak.age)) == expected
    if expected is None:
        assert any("age is unknown" in n for n in r.notes)


def test_zone_offset_stays_within_the_zones_in_use():
    pairs = [("2026-02-01 00:00:00", "2026-02-03T00:00:00Z")]  # says -48 h: impossible, clamp to -12 h
    assert L.youngest_zone_offset(pairs) == -12 * 3600
    assert L.youngest_zone_offset([("2026-02-01 23:00:00", "2026-02-01T00:00:00Z")]) == 14 * 3600
    assert L.youngest_zone_offset([("garbage", "2026-02-01T00:00:00Z")]) is None


def test_the_reverse_inconsistencies():
    enis = [eni("eni-leaked01", "ins-node0001")]
    vpcenis = [vpceni("vpceni-x", "eni-vanished", "web-1"), vpceni("vpceni-y", "eni-elsewhr1", "web-2")]
    found_by_id = [eni("eni-elsewhr1", "ins-othernod")]
    pods = [pod("web-1", sub_eni=True), pod("web-2", sub_eni=True), pod("web-3", sub_eni=True),
            pod("web-4", sub_eni=True, phase="Pending"), pod("plain", sub_eni=False)]
    r = report(enis, vpcenis, pods, found_by_id=found_by_id)
    got = [(i.kind, i.eni_id, i.pod) for i in r.inconsistencies]
    assert got == [(L.VPCENI_WITHOUT_ENI, "eni-vanished", "shop/web-1"), (L.ENI_NOT_ON_NODE, "eni-elsewhr1", "shop/web-2"),
                   (L.POD_WITHOUT_VPCENI, None, "shop/web-3")]  # a Pending Pod may still be getting its VpcENI
    assert not r.blockers


@pytest.mark.parametrize("case,expected", [
    ("crd-not-served", "does not serve VpcENI"),
    ("unreadable", "1 VpcENI(s) cannot be read"),
    ("nothing-listed", "lists none of the 1 sub-ENI(s) VpcENIs name"),
    ("listing-incomplete", "did not list it there"),
    ("wrong-eni-type", "EniType other than 2"),
])
def test_what_makes_the_listing_untrustworthy(case, expected):
    enis, vpcenis, kw = [], [vpceni("vpceni-1", "eni-owned001", "web-1")], {}
    if case == "crd-not-served":
        enis, vpcenis, kw = [eni("eni-leaked01", "ins-node0001")], [], {"vpcenis_served": False}
    elif case == "unreadable":
        kw = {"unreadable": ["VpcENI vpceni-bad cannot be read"]}
    elif case == "listing-incomplete":
        kw = {"found_by_id": [eni("eni-owned001", "ins-node0001")]}
    elif case == "wrong-eni-type":
        enis = [eni("eni-owned001", "ins-node0001", eni_type=0)]
    r = report(enis, vpcenis, [pod("web-1", sub_eni=True)], **kw)
    assert any(expected in b for b in r.blockers), r.blockers


def _leak(eni_id, age):
    return L.Leak(eni_id, "ins-node0001", "node-1", (), L.NO_VPCENI, age=age)


def test_wait_needed_until_a_second_read_can_decide_every_leak():
    first = L.LeakReport(read_at=T0, leaks=[_leak("eni-a", 700.0), _leak("eni-b", 200.0)])
    assert L.wait_needed(first, 600) == 400          # eni-b is 600 s old in 400 s
    assert L.wait_needed(L.LeakReport(T0, [_leak("eni-a", 900.0)]), 600) == 0
    assert L.wait_needed(L.LeakReport(T0, [_leak("eni-a", None)]), 600) == 600
    assert L.wait_needed(L.LeakReport(T0, []), 600) == 0


def test_the_two_read_rule():
    first = L.LeakReport(read_at=T0, leaks=[_leak("eni-old", 900.0), _leak("eni-young", 30.0), _leak("eni-unknown", None),
                                            _leak("eni-adopted", 900.0)])
    # 40 s later: the old one is still without an owner; the young one (being created) got its VpcENI.
    soon = L.LeakReport(read_at=T0 + 40, leaks=[_leak("eni-old", 940.0), _leak("eni-young", 70.0), _leak("eni-unknown", None)])
    verdicts = {d.leak.eni_id: (d.delete, d.why) for d in L.decide(first, soon, 600)}
    assert verdicts["eni-old"] == (True, "without an owner on both reads and 15m old (at least 10m)")
    assert verdicts["eni-young"][0] is False and "reads were 40s apart" in verdicts["eni-young"][1]
    assert verdicts["eni-unknown"][0] is False and verdicts["eni-unknown"][1].startswith("of unknown age")
    assert verdicts["eni-adopted"] == (False, "owned or gone on the second read")
    # Ten minutes later, whatever their age, two reads 600 s apart decide.
    later = L.LeakReport(read_at=T0 + 600, leaks=[_leak("eni-young", 630.0), _leak("eni-unknown", None)])
    verdicts = {d.leak.eni_id: (d.delete, d.why) for d in L.decide(first, later, 600)}
    assert verdicts["eni-young"] == (True, "without an owner on both reads and 10m old (at least 10m)")
    assert verdicts["eni-unknown"] == (True, "without an owner on two reads 10m apart")


def test_a_vpceni_that_cannot_be_read_names_nothing_and_blocks_deleting():
    broken = [{"metadata": {"name": "vpceni-odd", "labels": "x"}, "status": "not an object"},
              {"metadata": {"name": "vpceni-num"}, "status": {"eni": {"eniID": 7}}}]
    assert [L.named_eni(v) for v in broken] == [None, None]
    r = report([eni("eni-leaked01", "ins-node0001")], broken, unreadable=["VpcENI vpceni-odd cannot be read"])
    assert [x.eni_id for x in r.leaks] == ["eni-leaked01"] and r.blockers


def test_the_times_are_read_in_both_forms():
    # T0 is 2026-02-01T00:00:00Z; CVM's CreatedTime names no zone and is read as UTC here.
    assert L.naive_as_utc("2026-02-01 00:00:00") == T0
    assert L.naive_as_utc("2026-02-01T08:00:03") == T0 + 8 * 3600 + 3
    assert L.naive_as_utc(" 1969-12-31 23:59:59 ") == -1.0
    # digits that fromisoformat does not read but the pattern accepts: the general path reads them
    assert L.naive_as_utc("٢٠٢٦-٠٢-٠١ ٠٠:٠٠:٠٠") == T0
    for bad in ("2026-02-30 00:00:00", "2026-02-01 24:00:00", "2026-02-01T00:00:05Z", "", None):
        assert L.naive_as_utc(bad) is None, bad
    assert L.aware("2026-02-01T00:00:05Z") == T0 + 5
    assert L.aware(" 2026-02-01T00:00:05Z ") == T0 + 5
    assert L.aware("2026-02-01T08:00:05+08:00") == T0 + 5
    for bad in ("2026-02-01T24:00:00Z", "2026-02-01 00:00:05", "2026-02-01T00:00:05", "2026-02-0ZT00:00:05Z", None):
        assert L.aware(bad) is None, bad


def test_the_earliest_vpceni_naming_an_eni_bounds_the_zone():
    # As the Beijing-time case above: the ENI at 08:00:00 and a VpcENI at 00:00:05Z say the offset is
    # at least 07:59:55, less 60 s = 28735 s, so the leak's 09:00:00 reads as 01:01:05Z, 1735 s before
    # 01:30:00Z. A second VpcENI of the same ENI, written at 01:00:00Z, says only 7 h: the tighter
    # pair wins whichever comes first.
    owned = eni("eni-owned001", "ins-node0001", created="2026-02-01 08:00:00")
    leaked = eni("eni-leaked01", "ins-node0001", created="2026-02-01 09:00:00")
    late = vpceni("vpceni-2", "eni-owned001", "web-1", created="2026-02-01T01:00:00Z")
    early = vpceni("vpceni-1", "eni-owned001", "web-1", created="2026-02-01T00:00:05Z")
    for vpcenis in ([late, early], [early, late]):
        r = report([owned, leaked], vpcenis, [pod("web-1", sub_eni=True)], at=T0 + 5400)
        assert r.zone_offset == 28735 and [round(x.age) for x in r.leaks] == [1735]
    # only the leaks' ages use the reading: without a leak it is not made
    assert report([owned], [early], [pod("web-1", sub_eni=True)], at=T0 + 5400).zone_offset is None


def test_an_eni_is_owned_if_any_vpceni_naming_it_names_a_live_pod():
    enis = [eni("eni-shared01", "ins-node0001"), eni("eni-orphan01", "ins-node0001")]
    vpcenis = [vpceni("vpceni-a", "eni-shared01", "gone-1"), vpceni("vpceni-b", "eni-shared01", "web-1"),
               vpceni("vpceni-c", "eni-orphan01", "gone-2"), vpceni("vpceni-d", "eni-orphan01", "gone-3")]
    r = report(enis, vpcenis, [pod("web-1", sub_eni=True)])
    assert [(x.eni_id, x.reason, x.evidence) for x in r.leaks] == [
        ("eni-orphan01", L.POD_GONE, ("VpcENI vpceni-c names Pod shop/gone-2, which does not exist",
                                      "VpcENI vpceni-d names Pod shop/gone-3, which does not exist"))]


def test_classify_takes_the_index_or_the_vpcenis_and_pods_not_both():
    vpcenis, pods = [vpceni("vpceni-1", "eni-owned001", "web-1")], [pod("web-1", sub_eni=True)]
    enis = [eni("eni-owned001", "ins-node0001"), eni("eni-leaked01", "ins-node0002")]
    index = L.index_owners(vpcenis, pods)
    r = L.classify(instances=NODES, enis=enis, index=index, read_at=T0)
    assert [(x.eni_id, x.reason) for x in r.leaks] == [("eni-leaked01", L.NO_VPCENI)] and r.sub_enis == 2
    with pytest.raises(TypeError):
        L.classify(instances=NODES, enis=enis, index=index, vpcenis=vpcenis, pods=pods, read_at=T0)
    with pytest.raises(TypeError):
        L.classify(instances=NODES, enis=enis, vpcenis=vpcenis, read_at=T0)  # the Pods forgotten: not "none"


def test_the_listing_can_be_classified_page_by_page():
    vpcenis, pods = [vpceni("vpceni-1", "eni-owned001", "web-1")], [pod("web-1", sub_eni=True)]
    index = L.index_owners(vpcenis, pods)
    pages = [[eni("eni-leaked01", "ins-node0001"), eni("eni-owned001", "ins-node0001")],
             [eni("eni-moved001", "ins-node0001")],
             # listed again on the next page (it moved while the listing ran): the last listing counts
             [eni("eni-moved001", "ins-node0002", groups=("sg-b",)), eni("eni-othernd1", "ins-othernod")]]
    c = L.Classifier(index, NODES, read_at=T0 + 3600)
    for page in pages:
        c.add(page)
    r = c.report()
    assert [(x.eni_id, x.node, x.security_groups) for x in r.leaks] == \
        [("eni-leaked01", "node-1", ("sg-web00001",)), ("eni-moved001", "node-2", ("sg-b",))]
    assert r.sub_enis == 3 and not r.inconsistencies and not r.blockers
    assert r.to_dict() == report([e for page in pages for e in page], vpcenis, pods).to_dict()
