"""The interface every provider adapter implements.

An adapter answers only what its provider can answer; everything else keeps the
default here (an empty stream, ``None``), so resolvers can ask every configured
provider the same question. Meetings come as a *stream* in the requested order,
strictly after a keyset position, already filtered exactly: the resolvers merge the
streams and never re-filter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from meetingmesh.domain import (
    Aggregation,
    Attendee,
    AvailabilitySlot,
    Booking,
    BookingInfo,
    BookingRequest,
    Course,
    Meeting,
    MeetingOrder,
    MeetingStatus,
    Member,
    MemberMeeting,
    Page,
    Provider,
    SchedulingLink,
    SchedulingLinkType,
)
from meetingmesh.providers.http import UpstreamClient

#: Sorts meetings without a start time first (ascending), consistently across providers.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True, order=True)
class SortKey:
    """A meeting's position in the merged order: (start time, provider, provider key)."""

    start_time: datetime
    provider: str
    key: str

    @classmethod
    def of(cls, meeting: Meeting) -> SortKey:
        """The sort key of ``meeting``."""
        return cls(meeting.start_time or EPOCH, meeting.provider.value, meeting.key)


@dataclass(frozen=True, slots=True)
class MeetingQuery:
    """What a meetings stream must contain and where it starts.

    ``starts_after`` is inclusive and ``starts_before`` exclusive. ``after`` is an
    exclusive keyset position in ``order``. ``page_hint`` is how many meetings the
    caller expects to take, so adapters can size their upstream pages.
    """

    order: MeetingOrder = MeetingOrder.START_TIME_ASC
    after: SortKey | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    course_id: str | None = None
    room: str | None = None
    ongoing: bool | None = None
    page_hint: int = 20
    with_attendees: bool = True
    fields: frozenset[str] | None = None

    def admits(self, meeting: Meeting, now: datetime) -> bool:
        """Whether ``meeting`` passes every filter and lies strictly after ``after``."""
        start = meeting.start_time or EPOCH
        if self.starts_after is not None and start < self.starts_after:
            return False
        if self.starts_before is not None and start >= self.starts_before:
            return False
        if self.ongoing is not None and is_ongoing(meeting, now) != self.ongoing:
            return False
        if self.after is not None:
            key = SortKey.of(meeting)
            if self.order is MeetingOrder.START_TIME_ASC:
                return key > self.after
            return key < self.after
        return True


def is_ongoing(meeting: Meeting, now: datetime) -> bool:
    """Whether a meeting is in progress at ``now`` (its provider's word where it has one)."""
    if meeting.status is MeetingStatus.ONGOING:
        return True
    if meeting.status in (MeetingStatus.CANCELED, MeetingStatus.COMPLETED):
        return False
    if meeting.start_time is None or meeting.end_time is None:
        return False
    return meeting.start_time <= now < meeting.end_time


@dataclass
class StreamInfo:
    """What a provider reports about a whole meetings list, filled in by its stream."""

    total_count: int | None = None
    aggregations: tuple[Aggregation, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkFilter:
    """Filters of ``schedulingLinks``."""

    name: str | None = None
    organizer_id: str | None = None
    type: SchedulingLinkType | None = None


@dataclass
class Adapter:
    """Base class of the provider adapters; every capability defaults to "not here"."""

    client: UpstreamClient
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    provider: Provider = field(init=False)

    async def stream_meetings(
        self, query: MeetingQuery, info: StreamInfo
    ) -> AsyncIterator[Meeting]:
        """Meetings matching ``query``, in its order, strictly after ``query.after``."""
        info.total_count = 0
        return
        yield  # pragma: no cover - makes this an async generator

    async def get_meeting(self, key: str) -> Meeting | None:
        """One meeting by its provider key, or None when the provider has no such meeting."""
        return None

    async def get_attendees(self, meeting: Meeting) -> tuple[Attendee, ...]:
        """Every attendee of ``meeting`` (for providers that do not embed them in lists)."""
        return meeting.attendees or ()

    async def get_course(self, course_id: str) -> Course | None:
        """One course by id."""
        return None

    async def get_member(self, key: str) -> Member | None:
        """One member by provider key, or None when unknown."""
        return None

    async def member_meetings(
        self, member_key: str, offset: int, limit: int
    ) -> Page[MemberMeeting] | None:
        """``limit`` meetings of a member's schedule from ``offset``; None for an unknown member."""
        return None

    async def list_links(
        self, limit: int, after: str | None, link_filter: LinkFilter
    ) -> Page[SchedulingLink]:
        """One page of scheduling links."""
        return Page(items=(), total_count=0)

    async def get_link(self, slug: str) -> SchedulingLink | None:
        """One scheduling link by slug."""
        return None

    async def booking_info(self, slug: str, timezone: str) -> BookingInfo | None:
        """What a scheduling page needs before booking."""
        return None

    async def availability(
        self, slug: str, timezone: str, month_offset: int
    ) -> tuple[AvailabilitySlot, ...]:
        """Bookable slots of a scheduling page for one month."""
        return ()

    async def book(self, request: BookingRequest) -> Booking:
        """Book a meeting through a scheduling page."""
        raise NotImplementedError
