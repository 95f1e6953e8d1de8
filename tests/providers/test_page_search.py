"""``page_search``: the page where a time falls, found in few reads, and remembered.

Pure logic over generated lists: the search answers what reading every page would, for
both predicates, however the starts are spread; the index remembers pages for its TTL
only, and never a page out of order.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from meetingmesh.providers.page_search import PageIndex, first_page

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _pages(minutes: Sequence[int], per_page: int) -> list[list[datetime]]:
    starts = sorted(T0 + timedelta(minutes=m) for m in minutes)
    return [starts[i : i + per_page] for i in range(0, len(starts), per_page)]


def _scan(pages: list[list[datetime]], bound: datetime, by_first: bool) -> int:
    for number, page in enumerate(pages, start=1):
        if (page[0] > bound) if by_first else (page[-1] >= bound):
            return number
    return len(pages) + 1


def _search(
    pages: list[list[datetime]], bound: datetime, index: PageIndex, by_first: bool = False
) -> tuple[int, list[int]]:
    reads: list[int] = []

    async def starts_of(number: int) -> list[datetime]:
        reads.append(number)
        return list(pages[number - 1])

    found = asyncio.run(
        first_page(
            index,
            len(pages),
            len(pages[0]),
            starts_of,
            bound,
            by_first=by_first,
            page_one=pages[0],
        )
    )
    return found, reads


@settings(max_examples=300, deadline=None)
@given(
    minutes=st.lists(st.integers(0, 5000), min_size=1, max_size=400),
    per_page=st.integers(1, 30),
    at=st.integers(-10, 5010),
    by_first=st.booleans(),
    remembered=st.booleans(),
)
def test_the_search_finds_what_reading_every_page_would(
    minutes: list[int], per_page: int, at: int, by_first: bool, remembered: bool
) -> None:
    pages = _pages(minutes, per_page)
    bound = T0 + timedelta(minutes=at)
    index = PageIndex(ttl=60 if remembered else 0)
    for _ in range(2):  # again, with what the first search remembered
        found, reads = _search(pages, bound, index, by_first)
        assert found == _scan(pages, bound, by_first)
        assert len(reads) == len(set(reads))  # no page read twice in one search


def test_a_thousand_pages_take_a_handful_of_reads_and_the_next_day_one_at_most() -> None:
    rng = random.Random(7)
    # Uneven over the year, as meetings are: denser in the middle.
    minutes = [int(rng.triangular(0, 525_600, 300_000)) for _ in range(100_000)]
    pages = _pages(minutes, 100)
    index = PageIndex(ttl=60)
    bound = T0 + timedelta(days=150)
    found, reads = _search(pages, bound, index)
    assert found == _scan(pages, bound, False)
    # A binary search reads 10; the straight line between the ends then 6: the cubic
    # with their densities as slopes follows the dense middle.
    assert len(reads) <= 5
    found, reads = _search(pages, bound + timedelta(days=1), index)
    assert found == _scan(pages, bound + timedelta(days=1), False)
    assert len(reads) <= 1


def test_a_bound_a_few_pages_past_page_one_is_found_without_reading_the_last_page() -> None:
    # Page 1's own density puts the bound on page 3: the list's far end is not needed.
    pages = _pages([10 * i for i in range(100_000)], 100)
    bound = T0 + timedelta(minutes=10 * 250 + 5)
    found, reads = _search(pages, bound, PageIndex(ttl=60))
    assert found == 3
    assert reads == [3]


def test_the_index_forgets_pages_older_than_its_ttl() -> None:
    now = [0.0]
    index = PageIndex(ttl=10, clock=lambda: now[0])
    index.observe(3, [T0, T0 + timedelta(minutes=5)])
    assert 3 in index.known()
    now[0] = 10.5
    assert index.known() == {}


def test_a_page_out_of_start_order_is_not_remembered() -> None:
    index = PageIndex(ttl=10)
    index.observe(2, [T0 + timedelta(minutes=5), T0])
    assert index.known() == {}


def test_with_the_cache_off_nothing_is_remembered() -> None:
    index = PageIndex(ttl=0)
    index.observe(1, [T0])
    assert index.known() == {}
