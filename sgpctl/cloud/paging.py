"""Pagination and batching helpers shared by the adapters. Pure: no SDK, no I/O of their own.

- ``paginate_offset(fetch, limit=100, map_pages=None)``: ``fetch(offset, limit) -> (items, total)`` until
  ``total`` items were seen (or a short/empty page when the API gives no total). With ``map_pages(fn,
  cursors)`` (a concurrent ``map``, results in order), the pages after the first, whose offsets its
  ``total`` tells, are fetched through it at once instead of one after another; the last of them
  then decides as any page does one after another (more pages while fewer items than its total were
  seen; without a total, a short page ends the listing).
- ``paginate_page(fetch, rp=200)``: the same for CAM's ``Page`` (from 1) / ``Rp`` paging.
- ``batched(ids, size=100)``: consecutive chunks, for APIs that take at most 100 ids per call.
- ``unique(ids)``: de-duplicates, keeping the first occurrence's order.
- ``fetch_tolerating_missing(ids, fetch, is_missing, named_ids, fallback, fallback_refused)``: queries a
  batch of ids that may include ids the cloud no longer knows. Some APIs fail the whole call with a
  "not found" error in that case (VPC ``InvalidSecurityGroupID.NotFound``, ``ResourceNotFound``). We
  then drop the ids the error message names, if any; else run one ``fallback`` query that cannot fail on
  unknown ids (a filter on the id: 2 calls per batch); else bisect (about ``2·k·log2(n)`` calls for
  ``k`` missing ids out of ``n``). Nothing missing: one call.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")

#: a runaway loop guard: no listing sgpctl does comes near this many pages
MAX_PAGES = 10_000


PageMap = Callable[[Callable[[int], "tuple[list, int | None]"], list[int]], list]


def paginate_offset(fetch: Callable[[int, int], tuple[list[T], int | None]], limit: int = 100, *,
                    map_pages: PageMap | None = None) -> list[T]:
    advance = lambda offset, items: offset + len(items)  # noqa: E731
    if map_pages is None:
        return _paginate(fetch, limit, 0, advance)
    items, total = fetch(0, limit)
    if total is None or len(items) < limit or total <= len(items):
        return _paginate(fetch, limit, 0, advance, first_page=(items, total))
    out = list(items)
    offsets = list(range(limit, total, limit))
    pages = map_pages(lambda offset: fetch(offset, limit), offsets)
    for page, _ in pages[:-1]:
        out.extend(page)
    # the last page decides, as any page one after another does (the listing may have grown meanwhile)
    return out + _paginate(fetch, limit, offsets[-1], advance, first_page=pages[-1], seen=len(out))


def paginate_page(fetch: Callable[[int, int], tuple[list[T], int | None]], rp: int = 200) -> list[T]:
    return _paginate(fetch, rp, 1, lambda page, items: page + 1)


def _paginate(fetch: Callable[[int, int], tuple[list[T], int | None]], size: int, first: int,
              advance: Callable[[int, list[T]], int], *, first_page: tuple[list[T], int | None] | None = None,
              seen: int = 0) -> list[T]:
    """``fetch(cursor, size)`` from ``first``, moving the cursor with ``advance``, until ``total`` items
    were seen (or a short/empty page when the API gives no total). ``first_page``: the answer at
    ``first`` when the caller fetched it already; ``seen``: items the caller has before ``first``."""
    out: list[T] = []
    cursor = first
    for _ in range(MAX_PAGES):
        items, total = first_page if first_page is not None else fetch(cursor, size)
        first_page = None
        out.extend(items)
        if not items or (total is not None and seen + len(out) >= total) or (total is None and len(items) < size):
            return out
        cursor = advance(cursor, items)
    raise RuntimeError(f"pagination did not finish after {MAX_PAGES} pages")


def batched(ids: Iterable[T], size: int = 100) -> Iterator[list[T]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    batch: list[T] = []
    for item in ids:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def unique(ids: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(ids))


def ids_in_message(message: str | None, pattern: str) -> set[str]:
    """Ids (matching ``pattern``, e.g. ``sg-[0-9a-z]+``) quoted in an API error message."""
    return set(re.findall(pattern, message or ""))


def fetch_tolerating_missing(
    ids: Sequence[str],
    fetch: Callable[[list[str]], list[T]],
    is_missing: Callable[[Exception], bool],
    named_ids: Callable[[Exception], set[str]] = lambda e: set(),
    fallback: Callable[[list[str]], list[T]] | None = None,
    fallback_refused: Callable[[Exception], bool] = lambda e: False,
) -> tuple[list[T], list[str]]:
    """``fetch(batch)`` returns what exists; returns ``(found items, ids the API said are missing)``.

    When ``fetch`` fails with a "missing" error (``is_missing``) for a batch: ids the message names
    (``named_ids``) are set aside and the rest re-queried; otherwise ``fallback(batch)`` (a query that
    does not fail on unknown ids, such as a filter on the id) is tried once; when there is none, or the
    API refuses it (``fallback_refused``), the batch is bisected. Ids the API silently omits are not in
    the second list: callers compare the found items' ids with what they asked for (that covers every
    behaviour). Other errors propagate.
    """
    batch = list(ids)
    if not batch:
        return [], []
    try:
        return fetch(batch), []
    except Exception as e:  # noqa: BLE001 - classified right below
        if not is_missing(e):
            raise
        if len(batch) == 1:
            return [], batch
        named = [i for i in batch if i in named_ids(e)]
        if named:
            rest = [i for i in batch if i not in named]
            found, missing = fetch_tolerating_missing(rest, fetch, is_missing, named_ids, fallback, fallback_refused)
            return found, named + missing
        if fallback is not None:
            try:
                return fallback(batch), []
            except Exception as refused:  # noqa: BLE001
                if not fallback_refused(refused):
                    raise
        mid = len(batch) // 2
        found1, missing1 = fetch_tolerating_missing(batch[:mid], fetch, is_missing, named_ids)
        found2, missing2 = fetch_tolerating_missing(batch[mid:], fetch, is_missing, named_ids)
        return found1 + found2, missing1 + missing2
