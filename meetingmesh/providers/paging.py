"""Streams over providers that page by position in start-time order (HeyPeers, Thought Industries).

Such a provider orders meetings by start time but breaks ties its own way (HeyPeers by
a hidden id), so a group of meetings sharing a start time can straddle a page edge.
``in_key_order`` holds each page's edge group back until the next page shows where
the group ends, then yields the group in the gateway's (start time, key) order. A
group's anchor is the first page that holds any of it, so resuming there re-reads
the whole group.

It also checks the order it relies on: a page out of start-time order, or pages out of
order with each other, raise ``OrderBroken`` and the adapter falls back to reading and
sorting the whole list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from itertools import pairwise

from meetingmesh.domain import Anchor, Meeting, SortKey, start_of
from meetingmesh.providers.base import Positioned
from meetingmesh.providers.rows import Rows


class OrderBroken(Exception):
    """A provider's pages were not in start-time order after all."""


async def in_key_order(
    pages: AsyncIterator[tuple[Anchor, Sequence[Meeting]]], *, ascending: bool
) -> AsyncIterator[Positioned]:
    """Meetings of ``pages`` (each in the provider's ascending order) in key order.

    ``pages`` come in walk order: first to last page when ascending, last to first
    when descending. Each page's own order (checked, then sorted by key) is worked out
    once per parsed page (``Rows.derived``), so a page the upstream cache answers costs
    a request no more than the meetings it takes from it.
    """
    held: list[Meeting] = []  # the page's last start-time group, until the next page
    held_anchor: Anchor = {}
    held_start: datetime | None = None
    previous_edge: datetime | None = None
    async for anchor, meetings in pages:
        if not meetings:
            continue
        order = _page_order(meetings, ascending)
        if order is None:
            raise OrderBroken("a page is not in start-time order")
        walk, starts = order
        near, far = starts[0], starts[-1]
        if previous_edge is not None and (
            near < previous_edge if ascending else near > previous_edge
        ):
            raise OrderBroken("pages are not in start-time order")
        previous_edge = far
        first = 0
        if held and held_start == near:
            # The held group goes on here: in key order with its part on this page, and
            # with the anchor of the page it began on.
            while first < len(walk) and starts[first] == near:
                first += 1
            held = sorted([*held, *walk[:first]], key=SortKey.of, reverse=not ascending)
            if first == len(walk):
                continue  # the whole page is that group: still held
        for meeting in held:
            yield Positioned(meeting, held_anchor)
        last = len(walk)
        while last > first and starts[last - 1] == far:
            last -= 1
        for index in range(first, last):
            yield Positioned(walk[index], anchor)
        held, held_anchor, held_start = list(walk[last:]), anchor, far
    for meeting in held:
        yield Positioned(meeting, held_anchor)


_PageOrder = tuple[tuple[Meeting, ...], tuple[datetime, ...]]


def _page_order(meetings: Sequence[Meeting], ascending: bool) -> _PageOrder | None:
    """A page's meetings in walk order by key, with their starts; None when the page is
    not in start-time order. Kept with parsed rows (``Rows.derived``)."""
    derived = meetings.derived if isinstance(meetings, Rows) else None
    key = ("key order", ascending)
    if derived is not None and key in derived:
        return derived[key]  # type: ignore[return-value]  # what this function put there
    starts = [start_of(m) for m in meetings]
    order: _PageOrder | None = None
    if all(a <= b for a, b in pairwise(starts)):
        # In start order already: sorting by key only orders each start's ties.
        walk = tuple(sorted(meetings, key=SortKey.of, reverse=not ascending))
        order = (walk, tuple(start_of(m) for m in walk))
    if derived is not None:
        derived[key] = order
    return order


async def anchor_holds(
    page: int,
    starts: list[datetime],
    *,
    ascending: bool,
    next_start: datetime,
    is_last: bool,
    neighbour: Callable[[int], Awaitable[list[datetime]]],
) -> bool:
    """Whether an anchored page still starts the rest of the stream.

    It does when no meeting starting at or past ``next_start`` (in walk order) sits on
    the page before it. When the page's edge equals ``next_start`` that takes a look at
    the neighbouring page, which a walk has usually just read (so the cache has it).
    """
    if not starts:
        return False
    if ascending:
        if page == 1 or starts[0] < next_start:
            return True
        if starts[0] > next_start:
            return False
        before = await neighbour(page - 1)
        return bool(before) and before[-1] < next_start
    if is_last or starts[-1] > next_start:
        return True
    if starts[-1] < next_start:
        return False
    after = await neighbour(page + 1)
    return bool(after) and after[0] > next_start


def anchor_number(anchor: Anchor, key: str, most: int) -> int | None:
    """``anchor[key]`` when it is a whole number from 1 to ``most``, else None: an anchor
    is client text (a cursor), so a forged one (``true``, which Python counts as 1;
    ``"10"``; ``2**40``) is never sent on."""
    value = anchor.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= most:
        return value
    return None


def centred_page(position: int, wanted: int, largest: int) -> tuple[int, int]:
    """The page size (at most ``largest``) and page number of a list paged by number whose
    page best holds its rows ``position`` to ``position + wanted - 1`` (0-based): the one
    with the most rows to spare on its closer side, the larger size on a tie, so a
    ``position`` guessed a little wrong still falls on it."""
    position = max(0, position)
    # ``max`` keeps the first of equals: sizes run from the largest down.
    size = max(range(largest, 0, -1), key=lambda size: rows_to_spare(position, wanted, size))
    return size, position // size + 1


def rows_to_spare(position: int, wanted: int, size: int) -> int:
    """On the page of ``size`` holding row ``position`` (0-based), the rows before it or
    after its ``wanted`` rows, whichever are fewer (negative: the page cannot hold them)."""
    offset = position % size
    return min(offset, size - offset - wanted)
