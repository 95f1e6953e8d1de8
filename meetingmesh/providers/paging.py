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


class OrderBroken(Exception):
    """A provider's pages were not in start-time order after all."""


async def in_key_order(
    pages: AsyncIterator[tuple[Anchor, Sequence[Meeting]]], *, ascending: bool
) -> AsyncIterator[Positioned]:
    """Meetings of ``pages`` (each in the provider's ascending order) in key order.

    ``pages`` come in walk order: first to last page when ascending, last to first
    when descending.
    """
    pending: list[tuple[Meeting, Anchor]] = []
    previous_edge: datetime | None = None
    async for anchor, meetings in pages:
        if not meetings:
            continue
        starts = [start_of(m) for m in meetings]
        if any(a > b for a, b in pairwise(starts)):
            raise OrderBroken("a page is not in start-time order")
        near, far = (starts[0], starts[-1]) if ascending else (starts[-1], starts[0])
        if previous_edge is not None and (
            near < previous_edge if ascending else near > previous_edge
        ):
            raise OrderBroken("pages are not in start-time order")
        previous_edge = far
        walk = meetings if ascending else meetings[::-1]
        pending.extend((m, anchor) for m in walk)
        ready = [p for p in pending if start_of(p[0]) != far]
        pending = [p for p in pending if start_of(p[0]) == far]
        for positioned in _ordered(ready, ascending):
            yield positioned
    for positioned in _ordered(pending, ascending):
        yield positioned


def _ordered(items: list[tuple[Meeting, Anchor]], ascending: bool) -> list[Positioned]:
    first_anchor: dict[datetime, Anchor] = {}
    for meeting, anchor in items:
        first_anchor.setdefault(start_of(meeting), anchor)
    ordered = sorted(items, key=lambda item: SortKey.of(item[0]), reverse=not ascending)
    return [Positioned(m, first_anchor[start_of(m)]) for m, _ in ordered]


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
