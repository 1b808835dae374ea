"""Pagination, batching and narrowing helpers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from sgpctl.cloud.paging import batched, fetch_tolerating_missing, ids_in_message, paginate_offset, paginate_page, unique
from sgpctl.errors import CloudError


def test_paginate_offset_reads_three_pages():
    data = list(range(250))
    asked = []

    def fetch(offset, limit):
        asked.append((offset, limit))
        return data[offset:offset + limit], len(data)

    assert paginate_offset(fetch, limit=100) == data
    assert asked == [(0, 100), (100, 100), (200, 100)]


def test_paginate_offset_without_total_stops_on_a_short_page():
    data = list(range(200))
    asked = []

    def fetch(offset, limit):
        asked.append(offset)
        return data[offset:offset + limit], None

    assert paginate_offset(fetch, limit=100) == data
    assert asked == [0, 100, 200]  # the third, empty page says "done"


def test_paginate_offset_hands_the_pages_after_the_first_to_map_pages():
    data = list(range(250))
    asked, mapped = [], []

    def fetch(offset, limit):
        asked.append(offset)
        return data[offset:offset + limit], len(data)

    def map_pages(fn, offsets):
        mapped.append(list(offsets))
        return [fn(o) for o in reversed(offsets)][::-1]  # answered in any order, returned in order

    assert paginate_offset(fetch, limit=100, map_pages=map_pages) == data
    assert mapped == [[100, 200]] and asked == [0, 200, 100]


def test_paginate_offset_with_map_pages_goes_on_when_the_listing_grew():
    data = list(range(250))

    def fetch(offset, limit):
        if offset == 200:
            data.extend(range(250, 320))  # 70 more arrived while the pages were read
        return data[offset:offset + limit], len(data)

    assert paginate_offset(fetch, limit=100, map_pages=lambda fn, offsets: [fn(o) for o in offsets]) == list(range(320))


def test_paginate_offset_with_map_pages_ends_like_paging_one_after_another():
    # The last mapped page decides as any page does one after another: a short page whose total
    # says more (the listing changed between the pages) is followed by the next offset, until a
    # page comes back empty or the total is reached; without a total, a short page ends it.
    asked = []

    def fetch(offset, limit):
        asked.append(offset)
        pages = {0: (list(range(100)), 300), 100: (list(range(100, 150)), 150), 200: (list(range(200, 260)), 260)}
        return pages.get(offset, ([], 260))

    got = paginate_offset(fetch, limit=100, map_pages=lambda fn, offsets: [fn(o) for o in offsets])
    assert got == [*range(150), *range(200, 260)] and asked == [0, 100, 200, 260]

    def no_total(offset, limit):
        return ((list(range(100)), 300) if offset == 0 else (list(range(offset, offset + 30)), None))

    assert paginate_offset(no_total, limit=100, map_pages=lambda fn, offsets: [fn(o) for o in offsets]) == \
        [*range(100), *range(100, 130), *range(200, 230)]


@pytest.mark.parametrize("total", [None, 80, 100])
def test_paginate_offset_with_map_pages_maps_nothing_for_one_page_or_no_total(total):
    data = list(range(total or 150))
    mapped = []

    def fetch(offset, limit):
        return data[offset:offset + limit], total

    got = paginate_offset(fetch, limit=100, map_pages=lambda fn, offsets: mapped.append(offsets) or [fn(o) for o in offsets])
    assert got == data and mapped == []


def test_paginate_offset_stops_on_an_empty_page_even_if_total_lies():
    assert paginate_offset(lambda o, l: ([], 99), limit=10) == []


def test_paginate_page_counts_from_one():
    data = list(range(450))
    asked = []

    def fetch(page, rp):
        asked.append(page)
        return data[(page - 1) * rp:page * rp], len(data)

    assert paginate_page(fetch, rp=200) == data
    assert asked == [1, 2, 3]


def test_batched_250_ids_is_100_100_50():
    assert [len(b) for b in batched(range(250), 100)] == [100, 100, 50]
    assert list(batched([], 100)) == []
    with pytest.raises(ValueError):
        list(batched([1], 0))


def test_unique_keeps_first_order():
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_ids_in_message():
    assert ids_in_message("security groups sg-abc12345, sg-def67890 not found", r"sg-[0-9a-z]+") == {"sg-abc12345", "sg-def67890"}
    assert ids_in_message(None, r"sg-[0-9a-z]+") == set()


def _api(existing: set[str]):
    calls = []

    def fetch(batch):
        calls.append(list(batch))
        if any(i not in existing for i in batch):
            raise CloudError("InvalidSecurityGroupID.NotFound", "does not exist")
        return list(batch)

    return fetch, calls


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=100).flatmap(
    lambda n: st.tuples(st.just(n), st.sets(st.integers(min_value=0, max_value=n - 1), max_size=min(n, 6)))))
def test_narrowing_finds_exactly_the_missing_ids_within_the_call_bound(case):
    n, missing_idx = case
    ids = [f"sg-{i:04d}" for i in range(n)]
    missing = {ids[i] for i in missing_idx}
    fetch, calls = _api(set(ids) - missing)

    found, reported = fetch_tolerating_missing(ids, fetch, lambda e: e.code.endswith("NotFound"))

    assert sorted(found) == sorted(set(ids) - missing)
    assert sorted(reported) == sorted(missing)
    k = len(missing)
    assert len(calls) <= 1 + 2 * k * max(1, math.ceil(math.log2(n)))


def test_fallback_is_one_extra_call_and_refusal_falls_back_to_bisection():
    ids = [f"sg-{i}" for i in range(10)]
    fetch, calls = _api(set(ids) - {"sg-3"})
    filtered = []

    def fallback(batch):
        filtered.append(list(batch))
        return [i for i in batch if i != "sg-3"]

    found, reported = fetch_tolerating_missing(ids, fetch, lambda e: True, fallback=fallback)
    assert (sorted(found), reported, len(calls), len(filtered)) == (sorted(set(ids) - {"sg-3"}), [], 1, 1)

    fetch, calls = _api(set(ids) - {"sg-3"})

    def refusing(batch):
        raise CloudError("InvalidParameterValue.LimitExceeded", "too many")

    found, reported = fetch_tolerating_missing(ids, fetch, lambda e: e.code.endswith("NotFound"),
                                               fallback=refusing, fallback_refused=lambda e: e.code.startswith("Invalid"))
    assert reported == ["sg-3"] and len(found) == 9


def test_narrowing_propagates_other_errors():
    def fetch(batch):
        raise CloudError("AuthFailure.SignatureFailure", "no")

    with pytest.raises(CloudError):
        fetch_tolerating_missing(["sg-1", "sg-2"], fetch, lambda e: e.code.endswith("NotFound"))
