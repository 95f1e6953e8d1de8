"""Thought Industries: meetings with their course, location, instructors and attendees.

Contract (provider-docs/thoughtindustries-meetings.txt, SUPPLEMENT.md): ``GET
/incoming/v2/meetings?page&courseId`` answers ``data.Meetings {pageInfo, aggregations,
meetings}``; ``GET /incoming/v2/meetings/:id`` answers ``data.MeetingById``. Errors may
arrive as GraphQL-style ``data.errors`` inside a 200; a 401 has an empty body.

Pages: every list request sends ``perPage``, Thought Industries' general pagination
parameter (default 25, at most 100; the meetings document lists only ``page``), and the
adapter pages by the ``pageInfo.perPage`` each answer reports, so it pages correctly
whether the instance honours the parameter or serves pages of its own size. It asks
for 100 (the most, a fifth of the calls against the 120-a-minute limit) whenever later
requests can reuse the pages from the upstream cache or the walk may read far (a time
bound, a cursor, an ``ongoing`` filter); with the cache off, a walk from the list's
start asks for the rows the request can show plus two (22 for ``first: 20``), since
every request calls anyway and a page of 100 meetings is about 440 KB to decode. A
cursor's anchor names the page and the ``perPage`` it was read at, so the next request
resumes on the same rows.

Streams and what they cost: the API pages by number only, with no time filter and no
documented order. The adapter assumes pages in start-time order (what the instance it
was built against does) and *checks* it on every page it reads; if one breaks the order,
that request falls back to reading every page and sorting (``ceil(total / perPage)``
calls, made concurrently). The decision is per request: the next one trusts the order
again (and checks it again). In order, a stream costs one call per page it reads:
- from the start of the list (ascending, no lower bound): page 1 onwards;
- from the end (descending, no upper bound): page 1 to learn the page count, then the
  last page backwards (one extra call, cached);
- from a time bound without a cursor anchor: an interpolation search over pages
  (``page_search``), guided by the starts of the pages read lately (the list's
  ``PageIndex``, kept for ``cache_ttl``): page 1, the last page (unless page 1's
  density puts the bound within a few pages of it), and a few probes cold (4 calls at
  the simulators' 1,000 pages, where a binary search reads 10); one call once the
  pages around the bound are known (the next day's page);
- from a cursor: the anchored page, re-checked to still hold the cursor position.
Totals: Thought Industries' ``total`` when no time or ongoing filter applies; the same
search per time bound otherwise, usually over pages the stream's search just read
(every page, when a page it reads is out of order); reading every page for ``ongoing``.
Status comes from the meeting's times against the gateway's clock.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from meetingmesh.domain import (
    Aggregation,
    AggregationBucket,
    Anchor,
    Attendee,
    Course,
    Location,
    Meeting,
    MeetingStatus,
    Member,
    Provider,
    SortKey,
    ThoughtIndustriesDetails,
    start_of,
)
from meetingmesh.errors import ErrorCode, GatewayError, bad_input
from meetingmesh.providers.base import (
    CourseCatalog,
    MeetingAdapter,
    MeetingQuery,
    MeetingStream,
    MeetingTotals,
    MemberDirectory,
    Positioned,
)
from meetingmesh.providers.page_search import PageIndex, first_page
from meetingmesh.providers.paging import OrderBroken, anchor_holds, anchor_number, in_key_order
from meetingmesh.providers.rows import BadRow, Notes, Rows, read_rows
from meetingmesh.providers.timefmt import minutes_between, parse_instant

LIST_PATH = "/incoming/v2/meetings"
#: Meetings asked for per page: Thought Industries' maximum ``perPage``.
PER_PAGE = 100
#: Pages fetched at once while reading a whole list.
PAGE_CONCURRENCY = 4
#: A bound on pages per list, so a provider that always says hasMore cannot loop us.
MAX_PAGES = 10_000
#: Lists (course filters) whose page index is kept at once.
MAX_INDEXES = 256


def read_message(body: Any) -> str | None:
    """Thought Industries' error text: ``{"error", "message"}`` or ``data.errors[0]``."""
    if not isinstance(body, dict):
        return None
    if body.get("message"):
        return str(body["message"])
    errors = (body.get("data") or {}).get("errors") or body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message"))
    return str(body["error"]) if body.get("error") else None


@dataclass
class ThoughtIndustriesAdapter(MeetingAdapter, CourseCatalog, MemberDirectory):
    """Thought Industries meetings and courses."""

    PROBE = (LIST_PATH, {"page": "1", "perPage": "1"})
    provider: Provider = field(default=Provider.THOUGHT_INDUSTRIES, init=False)
    #: Each list's page index (``page_search``), by its request parameters.
    _indexes: dict[tuple[tuple[str, str], ...], PageIndex] = field(
        default_factory=dict, init=False, repr=False
    )

    def excludes(self, query: MeetingQuery) -> bool:
        """Thought Industries has no rooms."""
        return query.room is not None

    async def walk(self, query: MeetingQuery, stream: MeetingStream) -> AsyncIterator[Positioned]:
        """Pages in walk order, or the whole list sorted (see the module docstring)."""
        now = self.clock()
        yielded: SortKey | None = None
        try:
            async for positioned in in_key_order(
                self._pages(query, stream), ascending=query.ascending
            ):
                if query.admits(positioned.meeting, now):
                    yielded = SortKey.of(positioned.meeting)
                    yield positioned
        except OrderBroken:
            # Not in start order this time: read everything, sort, go on after the last
            # meeting already yielded. Only this request pays; the next one trusts again.
            everything = await self._everything(self._params(query, PER_PAGE))
            if query.want_total and stream.total_count is None:
                plain = query.plain()
                stream.total_count = sum(1 for m in everything if plain.admits(m, now))
            rest = replace(query, after=yielded or query.after, resume=None)
            for meeting in sorted(
                (m for m in everything if rest.admits(m, now)),
                key=SortKey.of,
                reverse=not query.ascending,
            ):
                yield Positioned(meeting, {})

    async def _pages(
        self, query: MeetingQuery, stream: MeetingStream
    ) -> AsyncIterator[tuple[Anchor, Sequence[Meeting]]]:
        params, number, page = await self._first_page(query)
        low, high = query.lower_bound(), query.upper_bound()
        index = self._index(params)
        for _ in range(MAX_PAGES):
            self._report(query, page, stream)
            meetings = self._meetings_of(page)
            yield _anchor(number, params), meetings
            starts = [start_of(m) for m in meetings]
            index.observe(number, starts)
            if not starts:
                return
            # Past the filter's far end: later pages cannot hold a match.
            if query.ascending and high is not None and starts[-1] > high:
                return
            if not query.ascending and low is not None and starts[0] < low:
                return
            number += 1 if query.ascending else -1
            if number < 1 or (query.ascending and not page.get("pageInfo", {}).get("hasMore")):
                return
            page = await self._page(params, number)

    async def _first_page(self, query: MeetingQuery) -> tuple[dict[str, str], int, dict[str, Any]]:
        """The request parameters and page a walk starts on: the cursor's anchor if it
        still fits, else page 1 or a search."""
        resume = query.resume
        anchored = None if resume is None else _anchor_page(resume.anchor)
        if anchored is not None and resume is not None:
            number, size = anchored
            params = self._params(query, size)
            page = await self._page(params, number)

            async def starts_of(number: int) -> list[datetime]:
                return self._starts(await self._page(params, number))

            # The data may have moved since the cursor was made: check the page still fits.
            if await anchor_holds(
                number,
                self._starts(page),
                ascending=query.ascending,
                next_start=resume.next_start,
                is_last=not _has_more(page),
                neighbour=starts_of,
            ):
                return params, number, page
        params = self._params(query, self._page_size(query))
        first = await self._page(params, 1)
        last = _last_page(first)
        if query.ascending:
            bound = query.lower_bound()
            if bound is None:
                return params, 1, first
            # The first page whose last meeting starts at or after the bound.
            number = min(last, await self._search(params, first, bound))
            return params, number, await self._page(params, number)
        upper = query.upper_bound()
        if upper is None:
            return params, last, await self._page(params, last) if last > 1 else first
        # The last page whose first meeting starts at or before the bound: search for the
        # first page whose first meeting starts after it, and step back one.
        after_it = await self._search(params, first, upper, by_first=True)
        number = max(1, after_it - 1)
        return params, number, await self._page(params, number)

    def _page_size(self, query: MeetingQuery) -> int:
        """The ``perPage`` a walk (or count) of ``query`` asks for, from page 1 on.

        100, Thought Industries' largest, when later requests can reuse the pages (the
        upstream cache is on) or the walk may read far (a time bound to search for, a
        cursor, an ``ongoing`` filter that drops most rows, a walk from the end, whose
        last page ``MAX_PAGES`` must still reach); else the rows the request
        can show plus two (one tells whether a next page exists; the page's last start
        is held back until the next page shows where its group of ties ends), so a
        request that calls anyway reads little more than it shows.
        """
        reused = self.client.settings.cache_ttl > 0
        reads_far = not query.ascending or any(
            value is not None
            for value in (query.starts_after, query.starts_before, query.after, query.ongoing)
        )
        if reused or reads_far:
            return PER_PAGE
        return max(1, min(PER_PAGE, query.page_hint + 2))

    async def _search(
        self,
        params: dict[str, str],
        first: dict[str, Any],
        bound: datetime,
        *,
        by_first: bool = False,
    ) -> int:
        """The first page whose last start is at or after ``bound`` (``by_first``: whose
        first start is after it), else one past the last page.

        An interpolation search over the pages, guided by the start times of the pages
        read lately (``page_search``): a few calls, each cached, and usually one once the
        list's index knows the pages around the bound. Raises ``OrderBroken`` when a
        page it reads is not in start order.
        """
        index = self._index(params)

        async def starts_of(number: int) -> list[datetime]:
            starts = self._starts(first if number == 1 else await self._page(params, number))
            if starts != sorted(starts):
                raise OrderBroken(f"page {number} is not in start-time order")
            return starts

        # Page 1 is read anyway: checked, and remembered, before anything else.
        page_one = await starts_of(1)
        index.observe(1, page_one)
        return await first_page(
            index,
            _last_page(first),
            _per_page(first),
            starts_of,
            bound,
            by_first=by_first,
            page_one=page_one,
        )

    def _index(self, params: dict[str, str]) -> PageIndex:
        """The page index of one list (its filter: ``courseId`` and ``perPage``)."""
        key = tuple(sorted(params.items()))
        index = self._indexes.get(key)
        if index is None:
            if len(self._indexes) >= MAX_INDEXES:
                self._indexes.clear()  # a client walking many courses: start again
            index = self._indexes[key] = PageIndex(self.client.settings.cache_ttl)
        return index

    async def count(self, query: MeetingQuery) -> MeetingTotals:
        """The list's total: Thought Industries' own, or counted for time and ongoing filters.

        Time bounds cost the stream's page search (``page_search``), usually over pages
        it has just read; an ``ongoing`` filter costs reading every page.
        """
        params = self._params(query, self._page_size(query.plain()))
        first = await self._page(params, 1)
        aggregations = self._aggregations_of(first)
        total = int((first.get("pageInfo") or {}).get("total") or 0)
        now = self.clock()
        plain = query.plain()
        if query.ongoing is not None:
            count = sum(1 for m in await self._everything(params) if plain.admits(m, now))
            return MeetingTotals(count, aggregations)
        if query.starts_after is None and query.starts_before is None:
            return MeetingTotals(total, aggregations)
        try:
            low = (
                0
                if query.starts_after is None
                else await self._position(params, first, query.starts_after)
            )
            high = (
                total
                if query.starts_before is None
                else await self._position(params, first, query.starts_before)
            )
        except OrderBroken:
            # The search cannot trust positions this time: count every page instead.
            count = sum(1 for m in await self._everything(params) if plain.admits(m, now))
            return MeetingTotals(count, aggregations)
        return MeetingTotals(max(0, high - low), aggregations)

    async def _position(
        self, params: dict[str, str], first: dict[str, Any], instant: datetime
    ) -> int:
        """How many meetings of the list start before ``instant``."""
        last = _last_page(first)
        number = await self._search(params, first, instant)
        if number > last:
            return int((first.get("pageInfo") or {}).get("total") or 0)
        page = first if number == 1 else await self._page(params, number)
        return (number - 1) * _per_page(first) + sum(1 for s in self._starts(page) if s < instant)

    def _meetings_of(self, page: dict[str, Any]) -> Rows[Meeting]:
        """A page's readable meetings (parsed once per cached answer; problems reported)."""
        rows = page.get("meetings")
        return self.memo.get(rows if isinstance(rows, list) else [], self._page_meetings)

    def _aggregations_of(self, page: dict[str, Any]) -> tuple[Aggregation, ...]:
        """A page's facets, built once per cached answer: a bucket per course, so they
        grow with the data, and a cache hit must not pay for them again."""
        rows = page.get("aggregations")
        return self.memo.get(rows, _aggregations) if isinstance(rows, list) else ()

    def _starts(self, page: dict[str, Any]) -> list[datetime]:
        """The start times of a page's readable meetings, in page order."""
        return [start_of(m) for m in self._meetings_of(page)]

    async def _everything(self, params: dict[str, str]) -> list[Meeting]:
        """Every meeting of the list: page 1, then the rest concurrently."""
        first = await self._page(params, 1)
        limiter = asyncio.Semaphore(PAGE_CONCURRENCY)

        async def fetch(number: int) -> dict[str, Any]:
            async with limiter:
                return await self._page(params, number)

        rest = await asyncio.gather(*(fetch(n) for n in range(2, _last_page(first) + 1)))
        return [m for page in (first, *rest) for m in self._meetings_of(page)]

    def _report(self, query: MeetingQuery, page: dict[str, Any], stream: MeetingStream) -> None:
        # Thought Industries' total is the list's only without time or ongoing filters.
        if not query.want_total or stream.total_count is not None:
            return
        stream.aggregations = self._aggregations_of(page)
        if query.starts_after is None and query.starts_before is None and query.ongoing is None:
            stream.total_count = int((page.get("pageInfo") or {}).get("total") or 0)

    def _params(self, query: MeetingQuery, per_page: int) -> dict[str, str]:
        params = {"perPage": str(per_page)}
        if query.course_id is not None:
            params["courseId"] = _course_id(query.course_id)
        return params

    async def get_meeting(self, key: str) -> Meeting | None:
        """``GET /incoming/v2/meetings/:id``."""
        try:
            body = await self.client.get(
                LIST_PATH + "/{meeting_id}", meeting_id=_uuid(key, "meeting id")
            )
        except GatewayError as exc:
            if exc.code is ErrorCode.UPSTREAM_NOT_FOUND:
                return None
            raise
        row = self._data(body).get("MeetingById")
        if row is None:
            return None
        # Parsed once per cached answer, like a page (the memo reports its problems).
        read = self.memo.get(row, lambda one: self._page_meetings([one]))
        return read[0] if read else None

    async def get_attendees(self, meeting: Meeting) -> tuple[Attendee, ...]:
        """The attendees every meeting payload embeds (no upstream call)."""
        return meeting.attendees or ()

    async def get_member(self, key: str) -> Member | None:
        """An attendee (``user:<id>``) or instructor (``instructor:<name>``) as its id says.

        Thought Industries has no user endpoint in its meeting API; an instructor is known
        by name only.
        """
        kind, _, value = key.partition(":")
        if kind == "user" and value:
            return Member(Provider.THOUGHT_INDUSTRIES, key=key, provider_id=value)
        if kind == "instructor" and value:
            return Member(Provider.THOUGHT_INDUSTRIES, key=key, name=value)
        return None

    async def get_course(self, course_id: str) -> Course | None:
        """A course, read from the first of its meetings (there is no course endpoint here)."""
        # The request of the course's meetings list, so either one caches the other.
        listing = MeetingQuery(course_id=course_id)
        page = await self._page(self._params(listing, self._page_size(listing)), 1)
        for row in page.get("meetings") or []:
            if not isinstance(row, dict):
                continue
            course = self._course(row.get("course"), row.get("courseId"))
            if course is not None:
                return course
        return None

    async def _page(self, params: dict[str, str], number: int) -> dict[str, Any]:
        body = await self.client.get(LIST_PATH, {**params, "page": str(number)})
        meetings = self._data(body).get("Meetings")
        if not isinstance(meetings, dict):
            raise self.client.error(ErrorCode.UPSTREAM_BAD_RESPONSE, "sent no Meetings object")
        return meetings

    def _data(self, body: Any) -> dict[str, Any]:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise self.client.error(ErrorCode.UPSTREAM_BAD_RESPONSE, "sent no data object")
        errors = data.get("errors")
        if errors:
            # Errors inside a 200: the request was refused, though the status says otherwise.
            message = read_message(body) or "refused the request"
            raise self.client.error(ErrorCode.UPSTREAM_BAD_RESPONSE, f"answered: {message}")
        return data

    def _page_meetings(self, rows: list[Any]) -> Rows[Meeting]:
        """A page's meetings; one without a start time (or an id) is left out and reported."""
        return read_rows(Provider.THOUGHT_INDUSTRIES, "meeting", rows, self._meeting)

    def _meeting(self, row: Any, notes: Notes) -> Meeting:
        meeting_id = str(row["id"])
        start = parse_instant(row.get("startDate"))
        if start is None:
            raise BadRow("has no start time")
        end = parse_instant(row.get("endDate"))
        course_id = row.get("courseId")
        listed = row.get("attendees")
        attendees = notes.each(listed, self._attendee, part="attendee")
        instructors = notes.each(row.get("instructors"), _name, part="instructor")
        return Meeting(
            provider=Provider.THOUGHT_INDUSTRIES,
            key=meeting_id,
            provider_id=meeting_id,
            title=str(row.get("title") or ""),
            start_time=start,
            end_time=end,
            duration_minutes=minutes_between(start, end),
            time_zone=row.get("timeZone"),
            status=_status(start, end, self.clock()),
            join_url=row.get("joinUrl"),
            # Everyone listed, including an attendee whose record could not be read.
            registered_count=sum(1 for user in listed or () if user is not None),
            hosts=tuple(
                Member(Provider.THOUGHT_INDUSTRIES, key=f"instructor:{name}", name=name)
                for name in instructors
            ),
            course_id=None if course_id is None else str(course_id),
            course=self._course(row.get("course"), course_id),
            attendees=attendees,
            details=ThoughtIndustriesDetails(
                course_id=None if course_id is None else str(course_id),
                location=_location(row.get("location")),
                instructors=instructors,
                attendee_info=row.get("attendeeInfo"),
            ),
        )

    def _course(self, row: Any, course_id: Any) -> Course | None:
        if not isinstance(row, dict):
            return None
        return Course(
            provider=Provider.THOUGHT_INDUSTRIES,
            provider_id=str(row.get("id") or course_id),
            title=row.get("title"),
            slug=row.get("slug"),
            status=row.get("status"),
            start_date=parse_instant(row.get("courseStartDate")),
            end_date=parse_instant(row.get("courseEndDate")),
        )

    def _attendee(self, user: Any) -> Attendee:
        if user.get("id") is None:
            raise BadRow("has no id")
        user_id = str(user["id"])
        name = user.get("name") or " ".join(
            part for part in (user.get("firstName"), user.get("lastName")) if part
        )
        member = Member(
            Provider.THOUGHT_INDUSTRIES,
            key=f"user:{user_id}",
            provider_id=user_id,
            name=name or None,
            email=user.get("email"),
            avatar_url=user.get("asset"),
        )
        return Attendee(id=user_id, name=name or None, email=user.get("email"), member=member)


def _per_page(first: dict[str, Any]) -> int:
    """Meetings per page, as the list's first page reports it (or holds them)."""
    per_page = int((first.get("pageInfo") or {}).get("perPage") or 0)
    return per_page or len(first.get("meetings") or []) or PER_PAGE


def _last_page(first: dict[str, Any]) -> int:
    info = first.get("pageInfo") or {}
    per_page = int(info.get("perPage") or 0)
    total = int(info.get("total") or 0)
    if per_page <= 0 or total <= 0:
        return 1
    return min(MAX_PAGES, -(-total // per_page))


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise BadRow("is not a name")
    return value


def _has_more(page: dict[str, Any]) -> bool:
    return bool((page.get("pageInfo") or {}).get("hasMore"))


def _anchor(number: int, params: dict[str, str]) -> Anchor:
    """The anchor of page ``number`` of the list ``params`` asks for."""
    return {"page": number, "pp": int(params["perPage"])}


def _anchor_page(anchor: Anchor) -> tuple[int, int] | None:
    """The page number and ``perPage`` an anchor names (cursors made before ``pp`` was
    written read pages of 100); None when it is not ours."""
    page = anchor_number(anchor, "page", MAX_PAGES)
    size = anchor_number(anchor, "pp", PER_PAGE) if "pp" in anchor else PER_PAGE
    if page is None or size is None:
        return None  # not ours (forged: page 2**40): a fresh search, nothing absurd sent on
    return page, size


def _status(start: Any, end: Any, now: Any) -> MeetingStatus:
    if start is None:
        return MeetingStatus.UNKNOWN
    if now < start:
        return MeetingStatus.SCHEDULED
    if end is not None and now < end:
        return MeetingStatus.ONGOING
    return MeetingStatus.COMPLETED


def _location(row: Any) -> Location | None:
    if not isinstance(row, dict):
        return None
    return Location(
        id=row.get("id"),
        name=row.get("name"),
        room=row.get("room"),
        address1=row.get("address1"),
        address2=row.get("address2"),
        city=row.get("city"),
        state=row.get("state"),
        zip_code=row.get("zipCode"),
        country=row.get("country"),
        time_zone=row.get("timeZone"),
    )


def _aggregations(rows: Any) -> tuple[Aggregation, ...]:
    if not isinstance(rows, list):
        return ()
    return tuple(
        Aggregation(
            key=str(row.get("key")),
            label=row.get("label"),
            buckets=tuple(
                AggregationBucket(
                    value=str(b.get("value")), label=b.get("label"), count=int(b.get("count") or 0)
                )
                for b in row.get("buckets") or ()
                if isinstance(b, dict)
            ),
        )
        for row in rows
        if isinstance(row, dict) and row.get("key")
    )


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise bad_input(f"Thought Industries {what} must be a UUID, got {value!r}") from None


def _course_id(value: str) -> str:
    return _uuid(value, "course id")
