"""The ``meetings`` connection: every provider's stream merged into one ordered list.

Each provider adapter yields its meetings already filtered and ordered by
(start time, provider, key), strictly after the cursor's key. The merge is a k-way
heap merge that pulls only as many meetings as the page needs (plus one, to know
whether there is a next page). ``last``/``before`` walk the opposite order and
reverse the result. A provider that fails is reported and left out; the others'
meetings still come back.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from meetingmesh.domain import Aggregation, AggregationBucket, Meeting, MeetingOrder, Provider
from meetingmesh.errors import GatewayError, bad_input
from meetingmesh.providers.base import MeetingQuery, SortKey, StreamInfo
from meetingmesh.resolvers.context import Path, RequestContext
from meetingmesh.resolvers.cursors import decode_key, encode_key
from meetingmesh.resolvers.ids import decode_id
from meetingmesh.resolvers.pagination import DEFAULT_PAGE_SIZE, check_size

#: Providers that have meetings at all (HubSpot contributes scheduling links only).
MEETING_PROVIDERS = (Provider.HEYPEERS, Provider.THOUGHT_INDUSTRIES, Provider.DAILY)
_REVERSED = {
    MeetingOrder.START_TIME_ASC: MeetingOrder.START_TIME_DESC,
    MeetingOrder.START_TIME_DESC: MeetingOrder.START_TIME_ASC,
}


@dataclass(frozen=True)
class MeetingFilter:
    """The client's ``MeetingFilter``, decoded."""

    providers: tuple[Provider, ...] | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    course_id: str | None = None
    room: str | None = None
    ongoing: bool | None = None


@dataclass(frozen=True)
class MeetingEdge:
    """A meeting and its cursor."""

    cursor: str
    meeting: Meeting


@dataclass(frozen=True)
class MeetingsPage:
    """One page of the merged list and what is known about the whole list."""

    edges: tuple[MeetingEdge, ...]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None
    aggregations: tuple[Aggregation, ...] = field(default=())


def course_key(course_id: str) -> str:
    """A course filter accepts a ``Course`` global id or a Thought Industries course id."""
    try:
        decoded = decode_id(course_id, field="courseId")
    except GatewayError:
        return course_id
    if decoded.type_name != "Course":
        raise bad_input("filter.courseId must be a Course id", field="courseId")
    return decoded.key


async def list_meetings(
    ctx: RequestContext,
    path: Path,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    meeting_filter: MeetingFilter | None = None,
    order: MeetingOrder = MeetingOrder.START_TIME_ASC,
) -> MeetingsPage:
    """Resolve one page of the merged meetings list."""
    meeting_filter = meeting_filter or MeetingFilter()
    first = check_size("first", first)
    last = check_size("last", last)
    if first is not None and last is not None:
        raise bad_input("pass first or last, not both", field="last")
    if after is not None and (last is not None or before is not None):
        raise bad_input("after pairs with first; before pairs with last", field="after")
    if before is not None and first is not None:
        raise bad_input("after pairs with first; before pairs with last", field="before")
    if (
        meeting_filter.starts_after is not None
        and meeting_filter.starts_before is not None
        and meeting_filter.starts_after > meeting_filter.starts_before
    ):
        raise bad_input("filter.startsAfter must not be later than startsBefore", field="filter")
    backwards = last is not None or before is not None
    size = (last if backwards else first) if (last or first) is not None else DEFAULT_PAGE_SIZE
    assert size is not None
    position = (
        decode_key(before, "before") if before else decode_key(after, "after") if after else None
    )
    walk = _REVERSED[order] if backwards else order
    query = MeetingQuery(
        order=walk,
        after=position,
        starts_after=meeting_filter.starts_after,
        starts_before=meeting_filter.starts_before,
        course_id=None
        if meeting_filter.course_id is None
        else course_key(meeting_filter.course_id),
        room=meeting_filter.room,
        ongoing=meeting_filter.ongoing,
        page_hint=size,
    )
    wanted = meeting_filter.providers
    providers = [
        p
        for p in MEETING_PROVIDERS
        if ctx.adapter(p) is not None and (wanted is None or p in wanted)
    ]
    infos = {p: StreamInfo() for p in providers}
    streams: dict[Provider, AsyncIterator[Meeting]] = {}
    for p in providers:
        adapter = ctx.adapter(p)
        assert adapter is not None
        streams[p] = adapter.stream_meetings(query, infos[p])
    failed: set[Provider] = set()

    def fail(provider: Provider, error: GatewayError) -> None:
        failed.add(provider)
        ctx.report(error, path)

    try:
        taken = await merge(streams, walk, size + 1, fail)
    finally:
        await asyncio.gather(*(_close(s) for s in streams.values()))
    more = len(taken) > size
    taken = taken[:size]
    if backwards:
        taken.reverse()
    edges = tuple(MeetingEdge(encode_key(SortKey.of(m)), m) for m in taken)
    answered = [p for p in providers if p not in failed]
    totals = [infos[p].total_count for p in answered]
    return MeetingsPage(
        edges=edges,
        has_next_page=more if not backwards else before is not None,
        has_previous_page=more if backwards else after is not None,
        total_count=None if any(t is None for t in totals) else sum(t or 0 for t in totals),
        aggregations=_aggregations(answered, infos),
    )


class _Descending:
    """Inverts a sort key's order so that ``heapq`` (a min-heap) yields largest first."""

    __slots__ = ("key",)

    def __init__(self, key: SortKey) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key


async def merge(
    streams: dict[Provider, AsyncIterator[Meeting]],
    order: MeetingOrder,
    limit: int,
    fail: Any,
) -> list[Meeting]:
    """Take the first ``limit`` meetings of the ordered union of ``streams``."""

    async def pull(provider: Provider) -> Meeting | None:
        try:
            return await anext(streams[provider])
        except StopAsyncIteration:
            return None
        except GatewayError as error:
            fail(provider, error)
            return None

    def entry(meeting: Meeting) -> tuple[Any, str]:
        key = SortKey.of(meeting)
        return (
            key if order is MeetingOrder.START_TIME_ASC else _Descending(key),
            meeting.provider.value,
        )

    order_of = list(streams)
    heads = await asyncio.gather(*(pull(p) for p in order_of))
    heap: list[tuple[Any, str, Meeting]] = []
    for head in heads:
        if head is not None:
            heap.append((*entry(head), head))
    heapq.heapify(heap)
    taken: list[Meeting] = []
    while heap and len(taken) < limit:
        _, _, meeting = heapq.heappop(heap)
        taken.append(meeting)
        if len(taken) == limit:
            break
        following = await pull(meeting.provider)
        if following is not None:
            heapq.heappush(heap, (*entry(following), following))
    return taken


def _aggregations(
    providers: Sequence[Provider], infos: dict[Provider, StreamInfo]
) -> tuple[Aggregation, ...]:
    facet = Aggregation(
        key="provider",
        label="Provider",
        buckets=tuple(
            AggregationBucket(value=p.name, label=p.label, count=infos[p].total_count or 0)
            for p in providers
        ),
    )
    passed_through = tuple(a for p in providers for a in infos[p].aggregations)
    return (facet, *passed_through)


async def _close(stream: AsyncIterator[Meeting]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
