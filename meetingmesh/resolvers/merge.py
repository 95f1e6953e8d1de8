"""The k-way merge of provider streams into one ordered list, with resume points per edge.

Each provider's stream yields its meetings already filtered and ordered by
``SortKey`` in the walk's direction, each with the anchor of the page it came from.
The merge pulls only as many meetings as the page needs, plus each provider's next
one: that tells whether more follow, and where each provider resumes right after
every edge (its ``ResumePoint``: the next meeting's anchor and start, carried unopened
into the edge's cursor). A stream that ends is marked None in the resume points; a
stream that fails is reported through ``fail`` and left out, and the others go on.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from meetingmesh.domain import Meeting, MeetingOrder, Provider, ResumePoint, SortKey, start_of
from meetingmesh.errors import GatewayError
from meetingmesh.providers.base import Positioned

#: Where every provider resumes after an edge; None for a stream that has ended.
ResumePoints = Mapping[Provider, ResumePoint | None]


@dataclass(frozen=True, slots=True)
class Merged:
    """One meeting of the merged list and where every provider resumes right after it."""

    meeting: Meeting
    resume: ResumePoints


class _Descending:
    """Inverts a sort key's order so that ``heapq`` (a min-heap) yields largest first."""

    __slots__ = ("key",)

    def __init__(self, key: SortKey) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key


async def merge(
    streams: Mapping[Provider, AsyncIterator[Positioned]],
    order: MeetingOrder,
    limit: int,
    fail: Callable[[Provider, GatewayError], None],
    ended: frozenset[Provider] = frozenset(),
) -> tuple[list[Merged], bool]:
    """The first ``limit`` meetings of the ordered union of ``streams``, and whether more follow.

    ``ended`` are providers known to have nothing left (they have no stream here).
    Each meeting comes with the resume point of every provider right after it: None for
    a provider whose stream has ended; a failed provider is left out.
    """
    heads: dict[Provider, Positioned] = {}
    points: dict[Provider, ResumePoint | None] = dict.fromkeys(ended)
    ascending = order is MeetingOrder.START_TIME_ASC

    async def pull(provider: Provider) -> None:
        try:
            head = await anext(streams[provider])
        except StopAsyncIteration:
            points[provider] = None
        except GatewayError as error:
            points.pop(provider, None)
            fail(provider, error)
        else:
            heads[provider] = head
            points[provider] = ResumePoint(head.anchor, start_of(head.meeting))

    def entry(provider: Provider) -> tuple[Any, str]:
        key = SortKey.of(heads[provider].meeting)
        return (key if ascending else _Descending(key), provider.value)

    # Every first pull runs to its end before anything else happens, even if one raised:
    # a stream cannot be closed while its pull is still running.
    outcomes = await asyncio.gather(*(pull(p) for p in streams), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    heap = [entry(p) for p in heads]
    heapq.heapify(heap)
    by_name = {p.value: p for p in streams}
    taken: list[Merged] = []
    while heap and len(taken) < limit:
        _, name = heapq.heappop(heap)
        provider = by_name[name]
        meeting = heads.pop(provider).meeting
        # The provider's next meeting: where it resumes after this edge.
        await pull(provider)
        if provider in heads:
            heapq.heappush(heap, entry(provider))
        taken.append(Merged(meeting, dict(points)))
    return taken, bool(heap)
