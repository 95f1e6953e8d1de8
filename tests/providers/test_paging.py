"""``in_key_order``: pages in a provider's start order become the gateway's key order.

Pure logic, so it is checked over many generated page layouts: ties cut by page edges,
pages of one start time, both directions, and the same parsed pages read twice (as the
upstream cache hands every request the same ones).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meetingmesh.domain import Anchor, Meeting, Provider, SortKey, start_of
from meetingmesh.providers.base import Positioned
from meetingmesh.providers.paging import OrderBroken, anchor_number, centred_page, in_key_order
from meetingmesh.providers.rows import Rows

T0 = datetime(2026, 5, 22, tzinfo=UTC)


def _meeting(minute: int, key: str) -> Meeting:
    return Meeting(Provider.HEYPEERS, key, title=key, start_time=T0 + timedelta(minutes=minute))


def _pages(minutes: list[int], sizes: list[int]) -> list[Rows[Meeting]]:
    """Meetings at ``minutes`` (sorted: the provider's order, ties in its own key order,
    here the reverse of ours), cut into pages of ``sizes``."""
    meetings = sorted(
        (_meeting(m, f"k{i:03d}") for i, m in enumerate(minutes)),
        key=lambda m: (start_of(m), [-ord(c) for c in m.key]),
    )
    pages, at = [], 0
    for size in sizes:
        if at >= len(meetings):
            break
        pages.append(Rows(meetings[at : at + size]))
        at += size
    if at < len(meetings):
        pages.append(Rows(meetings[at:]))
    return pages


async def _read(pages: Sequence[Sequence[Meeting]], ascending: bool) -> list[Positioned]:
    async def walk() -> AsyncIterator[tuple[Anchor, Sequence[Meeting]]]:
        numbered = list(enumerate(pages, start=1))
        for number, page in numbered if ascending else reversed(numbered):
            yield {"page": number}, page

    return [p async for p in in_key_order(walk(), ascending=ascending)]


def _expected_anchors(pages: Sequence[Sequence[Meeting]], ascending: bool) -> dict[str, int]:
    """Each meeting's anchor: the first page, in walk order, holding a meeting of its start."""
    numbered = list(enumerate(pages, start=1))
    first: dict[datetime, int] = {}
    for number, page in numbered if ascending else reversed(numbered):
        for meeting in page:
            first.setdefault(start_of(meeting), number)
    return {m.key: first[start_of(m)] for page in pages for m in page}


@settings(max_examples=200, deadline=None)
@given(
    minutes=st.lists(st.integers(0, 12), min_size=1, max_size=40),
    sizes=st.lists(st.integers(1, 7), min_size=1, max_size=12),
    ascending=st.booleans(),
)
def test_every_meeting_comes_once_in_key_order_with_its_groups_first_page_as_anchor(
    minutes: list[int], sizes: list[int], ascending: bool
) -> None:
    pages = _pages(minutes, sizes)
    for _ in range(2):  # the second read uses the order kept with each page
        read = asyncio.run(_read(pages, ascending))
        everything = [m for page in pages for m in page]
        expected = sorted(everything, key=SortKey.of, reverse=not ascending)
        assert [p.meeting for p in read] == expected
        anchors = _expected_anchors(pages, ascending)
        assert {p.meeting.key: p.anchor["page"] for p in read} == anchors


def test_a_page_out_of_start_order_breaks_the_walk() -> None:
    pages = [Rows([_meeting(5, "a"), _meeting(1, "b")])]
    with pytest.raises(OrderBroken):
        asyncio.run(_read(pages, True))
    with pytest.raises(OrderBroken):  # the verdict is kept with the page, and still holds
        asyncio.run(_read(pages, True))


def test_pages_out_of_order_with_each_other_break_the_walk() -> None:
    pages = [Rows([_meeting(5, "a")]), Rows([_meeting(1, "b")])]
    with pytest.raises(OrderBroken):
        asyncio.run(_read(pages, True))


@given(position=st.integers(0, 20_000), wanted=st.integers(1, 100))
def test_the_centred_page_holds_its_position(position: int, wanted: int) -> None:
    size, number = centred_page(position, wanted, 100)
    assert 1 <= size <= 100
    assert (number - 1) * size <= position < number * size


def test_the_centred_page_leaves_rows_to_spare_on_both_sides() -> None:
    # 95 rows before the wanted 21: pages of 71, the second (rows 71 to 141), with 24
    # rows to spare before and 26 after; page 1 of 100 would end 16 rows short.
    assert centred_page(95, 21, 100) == (71, 2)
    # Near the start, page 1 of the largest size already holds them.
    assert centred_page(16, 21, 100) == (100, 1)


@pytest.mark.parametrize("value", [True, False, 0, 101, -1, "10", 10.0, None, 2**40])
def test_an_anchor_number_is_a_whole_number_in_range_or_nothing(value: object) -> None:
    assert anchor_number({"pp": value}, "pp", 100) is None


def test_an_anchor_number_in_range_is_read() -> None:
    assert anchor_number({"pp": 1, "page": 100}, "page", 100) == 100
    assert anchor_number({"pp": 1}, "pp", 100) == 1
    assert anchor_number({}, "pp", 100) is None
