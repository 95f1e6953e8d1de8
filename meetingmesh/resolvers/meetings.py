"""The ``meetings`` connection: every provider's stream merged into one ordered list.

Each meeting source (``ctx.meeting_sources``) answers with a ``MeetingStream``: its
meetings already filtered and ordered by (start time, provider, key), strictly after
the cursor's key, plus the list's total and facets as far as its pages told them
(``count_meetings`` is asked for the rest, only when the client selected totals).
Each provider's stream and count run in a lane of their own (``lanes.py``), within
their own time budget, so a slow provider costs only its own data. ``merge``
interleaves the lanes and gives each edge the resume points its cursor carries.
``course_meetings`` is the same list kept to one course. A provider whose stream has
ended is marked so in the cursor and not asked again for the following pages (its
total still is). ``last``/``before`` walk the opposite order and reverse the result. A
provider that fails, or runs out of time, is reported once and left out; the others'
meetings and totals still come back, and the cursor resumes it by key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial

from meetingmesh.domain import (
    EARLIEST,
    LATEST,
    Aggregation,
    AggregationBucket,
    Course,
    Meeting,
    MeetingOrder,
    Provider,
    SortKey,
)
from meetingmesh.errors import GatewayError, bad_input
from meetingmesh.providers.base import MeetingQuery, MeetingTotals
from meetingmesh.resolvers.context import Path, RequestContext, reports_problems_at_path
from meetingmesh.resolvers.cursors import (
    MeetingCursor,
    decode_meeting_cursor,
    encode_meeting_cursor,
)
from meetingmesh.resolvers.ids import check_key, decode_id
from meetingmesh.resolvers.lanes import Lanes
from meetingmesh.resolvers.merge import merge
from meetingmesh.resolvers.pagination import DEFAULT_PAGE_SIZE, Edge, ListPage, check_size

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


@dataclass(frozen=True, slots=True)
class MeetingsPage(ListPage[Meeting]):
    """One page of the merged list, with the facets of the whole list."""

    aggregations: tuple[Aggregation, ...] = ()


def course_key(course_id: str) -> str:
    """A course filter accepts a ``Course`` global id or a Thought Industries course id."""
    try:
        decoded = decode_id(course_id, field="courseId")
    except GatewayError:
        return course_id
    if decoded.type_name != "Course":
        raise bad_input("filter.courseId must be a Course id", field="courseId")
    return decoded.key


@reports_problems_at_path
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
    fields: frozenset[str] | None = None,
    want_total: bool = True,
) -> MeetingsPage:
    """Resolve one page of the merged meetings list.

    ``fields`` are the ``Meeting`` fields the client selected (None: all) and
    ``want_total`` whether it selected ``totalCount`` or ``aggregations``: both decide
    what is asked of the providers.
    """
    meeting_filter = _normalised(meeting_filter or MeetingFilter())
    if meeting_filter.room is not None:
        check_key(meeting_filter.room, "room")
    first = check_size("first", first, ctx.max_page_size)
    last = check_size("last", last, ctx.max_page_size)
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
    requested = last if backwards else first
    size = DEFAULT_PAGE_SIZE if requested is None else requested
    position = (
        decode_meeting_cursor(before, "before")
        if before
        else decode_meeting_cursor(after, "after")
        if after
        else None
    )
    walk = _REVERSED[order] if backwards else order
    query = MeetingQuery(
        order=walk,
        after=None if position is None else position.key,
        starts_after=meeting_filter.starts_after,
        starts_before=meeting_filter.starts_before,
        course_id=None
        if meeting_filter.course_id is None
        else course_key(meeting_filter.course_id),
        room=meeting_filter.room,
        ongoing=meeting_filter.ongoing,
        page_hint=size,
        fields=fields,
        want_total=want_total,
    )
    # Resume points only describe the walk they were made in.
    resume = position.resume if position is not None and position.walk is walk else {}
    wanted = meeting_filter.providers
    sources = {p: s for p, s in ctx.meeting_sources.items() if wanted is None or p in wanted}
    ended = frozenset(p for p in sources if p in resume and resume[p] is None)
    streams = {
        p: s.stream_meetings(replace(query, resume=resume.get(p)))
        for p, s in sources.items()
        if p not in ended
    }
    plain = query.plain()
    counters = (
        {p: partial(s.count_meetings, plain) for p, s in sources.items()} if want_total else {}
    )
    failed: set[Provider] = set()

    def fail(provider: Provider, error: GatewayError) -> None:
        # One error per provider, though its stream and its count may both fail.
        if provider not in failed:
            failed.add(provider)
            ctx.report(error, path)

    lanes = Lanes(streams, counters, size)
    try:
        taken, more = await merge(lanes.streams, walk, size, fail, ended)
        await lanes.stop_reading()
        counted = await lanes.totals(failed)
    finally:
        await lanes.close()
    totals = {p: MeetingTotals() for p in sources}
    for provider, outcome in counted.items():
        if isinstance(outcome, GatewayError):
            fail(provider, outcome)
        elif outcome is not None:
            totals[provider] = outcome
    if backwards:
        taken.reverse()
    for merged in taken:
        ctx.loaders.prime(merged.meeting)
    edges = tuple(
        Edge(encode_meeting_cursor(MeetingCursor(SortKey.of(m.meeting), walk, m.resume)), m.meeting)
        for m in taken
    )
    answered = [p for p in sources if p not in failed]
    counts = [totals[p].total_count for p in answered]
    return MeetingsPage(
        edges=edges,
        has_next_page=more if not backwards else before is not None,
        has_previous_page=more if backwards else after is not None,
        total_count=None if any(t is None for t in counts) else sum(t or 0 for t in counts),
        aggregations=_aggregations(answered, totals),
    )


async def course_meetings(
    ctx: RequestContext,
    path: Path,
    course: Course,
    *,
    first: int | None = None,
    after: str | None = None,
    fields: frozenset[str] | None = None,
    want_total: bool = True,
) -> MeetingsPage:
    """``Course.meetings``: the merged list, kept to the course's provider and the course."""
    return await list_meetings(
        ctx,
        path,
        first=first,
        after=after,
        meeting_filter=MeetingFilter(providers=(course.provider,), course_id=course.provider_id),
        fields=fields,
        want_total=want_total,
    )


def _normalised(meeting_filter: MeetingFilter) -> MeetingFilter:
    """Time bounds as aware UTC (a bound without an offset is read as UTC), clamped."""

    def fix(instant: datetime | None) -> datetime | None:
        if instant is None:
            return None
        aware = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant
        # Clamped before converting: year 1 at +14:00 has no UTC form at all.
        if aware <= EARLIEST:
            return EARLIEST
        if aware >= LATEST:
            return LATEST
        return aware.astimezone(UTC)

    return replace(
        meeting_filter,
        starts_after=fix(meeting_filter.starts_after),
        starts_before=fix(meeting_filter.starts_before),
    )


def _aggregations(
    providers: Sequence[Provider], totals: Mapping[Provider, MeetingTotals]
) -> tuple[Aggregation, ...]:
    facet = Aggregation(
        key="provider",
        label="Provider",
        buckets=tuple(
            AggregationBucket(value=p.name, label=p.label, count=totals[p].total_count or 0)
            for p in providers
        ),
    )
    passed_through = tuple(a for p in providers for a in totals[p].aggregations)
    return (facet, *passed_through)
