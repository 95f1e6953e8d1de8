"""What adapters offer the resolvers: small capability protocols, and the meetings stream.

An adapter (``Adapter``: its provider, the shared upstream client, a clock, the parse
memo) implements only the capabilities its provider has, each a ``Protocol``:
``MeetingSource`` (meeting streams, totals, lookups), ``CourseCatalog``,
``MemberDirectory``, ``MemberCalendar`` (a member's own schedule) and ``Scheduler``
(scheduling pages and booking). Resolvers ask the request context for the adapters
of a capability, never for a provider by name. ``MeetingAdapter`` is the shared half
of the meeting sources: a filter on something a provider does not have (rooms,
courses) matches nothing there, at no cost.

Meetings come as a ``MeetingStream``, which also carries the list's total and facets
as far as the pages it read told them. Its meetings come in the requested order,
strictly after a keyset position, already filtered exactly: the resolvers merge the
streams and never re-filter. Each meeting comes with an *anchor*: a small JSON object
naming the provider page it was read from. A cursor carries every provider's
``ResumePoint`` (the anchor of its next meeting, and when that meeting starts), so the
next page of a merged list asks each provider for exactly the page it stopped in (an
identical request, which the upstream cache answers) instead of searching again. Only
the adapter that made an anchor opens it. Resume points are hints: the keyset position
decides what is returned, and one that does not fit (tampered, stale) only costs a
fresh search.

Rows a provider sent but an adapter could not read (a null start time, an attendee
without an id) are left out, never fatal: adapters parse lists into ``rows.Rows``,
whose problems the ``ParseMemo`` reports to the current request every time it hands a
parsed page out (``rows.py`` describes the channel). Streams, lookups and member
calendars all report this way, so a stream's meetings are only the readable ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Protocol, TypeVar, runtime_checkable

from meetingmesh.domain import (
    Aggregation,
    Anchor,
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
    ResumePoint,
    SchedulingLink,
    SchedulingLinkType,
    SortKey,
    start_of,
)
from meetingmesh.providers.http import UpstreamClient
from meetingmesh.providers.rows import Rows, report

T = TypeVar("T")
A = TypeVar("A")

_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Positioned:
    """A meeting of a stream and the anchor its provider can resume it from."""

    meeting: Meeting
    anchor: Anchor


@dataclass(frozen=True, slots=True)
class MeetingQuery:
    """What a meetings stream must contain and where it starts.

    ``starts_after`` is inclusive and ``starts_before`` exclusive. ``after`` is an
    exclusive keyset position in ``order``; ``resume`` a hint where to find it.
    ``page_hint`` is how many meetings the caller expects to take, so adapters can
    size their upstream pages. ``fields`` are the selected ``Meeting`` fields (None:
    all), so adapters fetch only what is shown; ``want_total`` asks for the list's
    total count and facets, which some providers can only give at a cost.
    """

    order: MeetingOrder = MeetingOrder.START_TIME_ASC
    after: SortKey | None = None
    resume: ResumePoint | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    course_id: str | None = None
    room: str | None = None
    ongoing: bool | None = None
    page_hint: int = 20
    fields: frozenset[str] | None = None
    want_total: bool = True

    def selects(self, field_name: str) -> bool:
        """Whether the client selected ``field_name`` on the meetings."""
        return self.fields is None or field_name in self.fields

    @property
    def ascending(self) -> bool:
        """Whether the stream runs from early to late."""
        return self.order is MeetingOrder.START_TIME_ASC

    def plain(self) -> MeetingQuery:
        """The same filter with no keyset position: what totals count."""
        return replace(self, after=None, resume=None)

    @property
    def anchor(self) -> Anchor | None:
        """The anchor of the resume point, for the adapter that made it to open."""
        return None if self.resume is None else self.resume.anchor

    def resume_start(self) -> datetime | None:
        """Where this provider's next meeting starts: the resume point's word, else the key's."""
        if self.resume is not None:
            return self.resume.next_start
        return None if self.after is None else self.after.start_time

    def lower_bound(self) -> datetime | None:
        """The earliest start the stream can hold (filter and keyset together)."""
        bound = self.starts_after
        if self.after is not None and self.ascending:
            key = self.after.start_time
            bound = key if bound is None else max(bound, key)
        return bound

    def upper_bound(self) -> datetime | None:
        """An instant every start in the stream is at or before (inclusive)."""
        bound = None if self.starts_before is None else self.starts_before - _TICK
        if self.after is not None and not self.ascending:
            key = self.after.start_time
            bound = key if bound is None else min(bound, key)
        return bound

    def admits(self, meeting: Meeting, now: datetime) -> bool:
        """Whether ``meeting`` passes every filter and lies strictly after ``after``."""
        start = start_of(meeting)
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


@dataclass(frozen=True, slots=True)
class MeetingTotals:
    """What a provider says about a whole meetings list: its size and its facets."""

    total_count: int | None = None
    aggregations: tuple[Aggregation, ...] = ()


@dataclass(eq=False)
class MeetingStream:
    """One provider's answer to a ``MeetingQuery``: its meetings, and the list's totals.

    ``items`` yields the meetings in the query's order, strictly after its position.
    When ``query.want_total`` is set, ``total_count`` and ``aggregations`` are filled in
    as the pages read tell them; a total still None once the merge is done means the
    caller asks ``count_meetings``. Close ``items`` (``aclose``) when done with it.
    """

    items: AsyncIterator[Positioned]
    total_count: int | None = None
    aggregations: tuple[Aggregation, ...] = ()

    @classmethod
    def empty(cls) -> MeetingStream:
        """A stream of nothing, whose list is known to be empty."""
        return cls(_empty(), total_count=0)

    def totals(self) -> MeetingTotals:
        """What the stream has learnt of the whole list so far."""
        return MeetingTotals(self.total_count, self.aggregations)

    async def aclose(self) -> None:
        """Stop reading: the provider's pages in flight are let go."""
        aclose = getattr(self.items, "aclose", None)
        if aclose is not None:
            await aclose()


async def _empty() -> AsyncIterator[Positioned]:
    return
    yield  # pragma: no cover - makes this an async generator


@dataclass(frozen=True, slots=True)
class LinkFilter:
    """Filters of ``schedulingLinks``."""

    name: str | None = None
    organizer_id: str | None = None
    type: SchedulingLinkType | None = None


#: Parsed answers an adapter keeps with an upstream cache (one per cached page, about).
CACHED_ANSWERS = 64
#: Parsed answers it keeps without one: those of the calls just shared by coalesced
#: requests (a Thought Industries page of 100 is about 2 MB parsed).
COALESCED_ANSWERS = 4


class ParseMemo:
    """Parsed forms of upstream answers, kept as long as the answer object itself.

    The upstream cache hands every request the same answer object until its TTL ends,
    so a page is turned into records once per TTL rather than once per request. An
    entry holds its answer, so an id is never mistaken for another object's. A parse
    that left rows out (``Rows`` with problems) reports them each time it is handed
    out, so every request that uses the page says what it lacks.
    """

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._entries: OrderedDict[int, tuple[object, object]] = OrderedDict()

    def get(self, answer: A, parse: Callable[[A], T]) -> T:
        """``parse(answer)``, computed once while ``answer`` is the current answer."""
        value = self._parsed(answer, parse)
        if isinstance(value, Rows) and value.problems:
            report(value.problems)
        return value

    def _parsed(self, answer: A, parse: Callable[[A], T]) -> T:
        if self._size == 0:
            return parse(answer)
        entry = self._entries.get(id(answer))
        if entry is not None and entry[0] is answer:
            self._entries.move_to_end(id(answer))
            return entry[1]  # type: ignore[return-value]
        value = parse(answer)
        self._entries[id(answer)] = (answer, value)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value


@dataclass
class Adapter:
    """What every adapter has: its provider, the shared upstream client, a clock and a memo.

    The capabilities are the protocols below; an adapter declares the ones its provider
    has by subclassing them, and has no method for what its provider cannot do.
    """

    #: The provider's lightest read (path, query), sent as the health probe while the
    #: provider is unwell; None repeats the last call that failed for its own reasons.
    PROBE: ClassVar[tuple[str, dict[str, str]] | None] = None

    client: UpstreamClient
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    provider: Provider = field(init=False)
    memo: ParseMemo = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Without an upstream cache an answer is still shared by the requests coalesced
        # onto its call, all of which parse it at once: remember only the latest few.
        cached = self.client.settings.cache_ttl > 0
        self.memo = ParseMemo(CACHED_ANSWERS if cached else COALESCED_ANSWERS)
        if self.PROBE is not None:
            self.client.set_probe(*self.PROBE)


@runtime_checkable
class MeetingSource(Protocol):
    """A provider with meetings: streams of them, their totals, and lookups by key."""

    def stream_meetings(self, query: MeetingQuery) -> MeetingStream:
        """Meetings matching ``query``, in its order, strictly after ``query.after``.

        A filter on something this provider does not have matches nothing, at no cost.
        """
        ...

    async def count_meetings(self, query: MeetingQuery) -> MeetingTotals:
        """The total count (and facets) of the list ``query`` filters, ignoring position."""
        ...

    async def get_meeting(self, key: str) -> Meeting | None:
        """One meeting by its provider key, or None when the provider has no such meeting."""
        ...

    async def get_attendees(self, meeting: Meeting) -> tuple[Attendee, ...]:
        """Every attendee of ``meeting`` (asked only when its payload carried none)."""
        ...


@runtime_checkable
class CourseCatalog(Protocol):
    """A provider with courses."""

    async def get_course(self, course_id: str) -> Course | None:
        """One course by id, or None when there is no such course."""
        ...


@runtime_checkable
class MemberDirectory(Protocol):
    """A provider that can say who a member is from the member's key."""

    async def get_member(self, key: str) -> Member | None:
        """One member by provider key, or None when the provider knows no such member."""
        ...


@runtime_checkable
class MemberCalendar(Protocol):
    """A provider that keeps each member's own schedule, with registration state."""

    async def member_meetings(
        self, member_key: str, offset: int, limit: int
    ) -> Page[MemberMeeting] | None:
        """``limit`` meetings of a member's schedule from ``offset``; None for an unknown member."""
        ...


@runtime_checkable
class Scheduler(Protocol):
    """A provider of scheduling pages: links, booking information, availability, booking."""

    async def list_links(
        self, limit: int, after: str | None, link_filter: LinkFilter
    ) -> Page[SchedulingLink]:
        """One page of scheduling links, with the provider's token for the next."""
        ...

    async def get_link(self, slug: str) -> SchedulingLink | None:
        """One scheduling link by slug."""
        ...

    async def booking_info(self, slug: str, timezone: str) -> BookingInfo | None:
        """What a scheduling page needs before booking."""
        ...

    async def availability(
        self, slug: str, timezone: str, month_offset: int
    ) -> tuple[AvailabilitySlot, ...]:
        """Bookable slots of a scheduling page for one month."""
        ...

    async def book(self, request: BookingRequest) -> Booking:
        """Book a meeting through a scheduling page, once."""
        ...


class MeetingAdapter(Adapter, MeetingSource, ABC):
    """The shared half of the meeting sources: filters a provider cannot match cost nothing.

    A subclass says what it ``excludes`` and implements ``walk`` and ``count`` for
    the queries it can answer, plus the lookups of ``MeetingSource``.
    """

    def stream_meetings(self, query: MeetingQuery) -> MeetingStream:
        """Meetings matching ``query``, in its order, strictly after ``query.after``."""
        if self.excludes(query):
            return MeetingStream.empty()
        stream = MeetingStream(_empty())
        stream.items = self.walk(query, stream)
        return stream

    async def count_meetings(self, query: MeetingQuery) -> MeetingTotals:
        """The total count (and facets) of the list ``query`` filters, ignoring position."""
        if self.excludes(query):
            return MeetingTotals(total_count=0)
        return await self.count(query)

    @abstractmethod
    def excludes(self, query: MeetingQuery) -> bool:
        """Whether ``query`` filters on something this provider has none of (rooms, courses)."""

    @abstractmethod
    def walk(self, query: MeetingQuery, stream: MeetingStream) -> AsyncIterator[Positioned]:
        """The meetings behind ``stream_meetings``, telling ``stream`` the totals it reads."""

    @abstractmethod
    async def count(self, query: MeetingQuery) -> MeetingTotals:
        """The count behind ``count_meetings``, for a query this provider can answer."""
