"""Thought Industries: meetings with their course, location, instructors and attendees.

Contract (provider-docs/thoughtindustries-meetings.txt, SUPPLEMENT.md): ``GET
/incoming/v2/meetings?page&courseId`` answers ``data.Meetings {pageInfo, aggregations,
meetings}``; ``GET /incoming/v2/meetings/:id`` answers ``data.MeetingById``. Errors may
arrive as GraphQL-style ``data.errors`` inside a 200; a 401 has an empty body.

Streams and what they cost: the API pages by number only (no time filter, no
documented order), so a stream reads every page of the (course-filtered) list: page 1,
then the rest concurrently, and sorts and filters in the gateway. That is
``ceil(total / perPage)`` calls per list; the merged-stream issue replaces it.
Status comes from the meeting's times against the gateway's clock.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from meetingmesh.domain import (
    Aggregation,
    AggregationBucket,
    Attendee,
    Course,
    Location,
    Meeting,
    MeetingOrder,
    MeetingStatus,
    Member,
    Provider,
    ThoughtIndustriesDetails,
)
from meetingmesh.errors import ErrorCode, GatewayError, bad_input
from meetingmesh.providers.base import Adapter, MeetingQuery, SortKey, StreamInfo
from meetingmesh.providers.timefmt import minutes_between, parse_instant

LIST_PATH = "/incoming/v2/meetings"
#: Pages fetched at once while reading a whole list.
PAGE_CONCURRENCY = 4
#: A bound on pages per list, so a provider that always says hasMore cannot loop us.
MAX_PAGES = 10_000


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
class ThoughtIndustriesAdapter(Adapter):
    """Thought Industries meetings and courses."""

    provider: Provider = field(default=Provider.THOUGHT_INDUSTRIES, init=False)

    async def stream_meetings(
        self, query: MeetingQuery, info: StreamInfo
    ) -> AsyncIterator[Meeting]:
        """Every page of the list, sorted and filtered here (see the module docstring)."""
        if query.room is not None:
            info.total_count = 0
            return
        params: dict[str, str] = {}
        if query.course_id is not None:
            params["courseId"] = _course_id(query.course_id)
        first = await self._page(params, 1)
        pages = [first]
        page_info = first.get("pageInfo") or {}
        per_page = int(page_info.get("perPage") or 0)
        total = int(page_info.get("total") or 0)
        if page_info.get("hasMore") and per_page > 0:
            last = min(MAX_PAGES, -(-total // per_page))
            limiter = asyncio.Semaphore(PAGE_CONCURRENCY)

            async def fetch(number: int) -> dict[str, Any]:
                async with limiter:
                    return await self._page(params, number)

            pages += await asyncio.gather(*(fetch(n) for n in range(2, last + 1)))
        info.aggregations = _aggregations(first.get("aggregations"))
        now = self.clock()
        meetings = [self._meeting(row) for page in pages for row in page.get("meetings") or []]
        matching = sorted(
            (m for m in meetings if query.admits(m, now)),
            key=SortKey.of,
            reverse=query.order is MeetingOrder.START_TIME_DESC,
        )
        unfiltered = query.after is None and query.starts_after is None
        unfiltered = unfiltered and query.starts_before is None and query.ongoing is None
        info.total_count = (
            total if unfiltered else sum(1 for m in meetings if _in_filter(query, m, now))
        )
        for meeting in matching:
            yield meeting

    async def get_meeting(self, key: str) -> Meeting | None:
        """``GET /incoming/v2/meetings/:id``."""
        try:
            body = await self.client.get(f"{LIST_PATH}/{_uuid(key, 'meeting id')}")
        except GatewayError as exc:
            if exc.code is ErrorCode.UPSTREAM_NOT_FOUND:
                return None
            raise
        row = self._data(body).get("MeetingById")
        return None if row is None else self._meeting(row)

    async def get_course(self, course_id: str) -> Course | None:
        """A course, read from the first of its meetings (there is no course endpoint here)."""
        page = await self._page({"courseId": _course_id(course_id)}, 1)
        for row in page.get("meetings") or []:
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

    def _meeting(self, row: Any) -> Meeting:
        try:
            start = parse_instant(row.get("startDate"))
            end = parse_instant(row.get("endDate"))
            course_id = row.get("courseId")
            attendees = tuple(self._attendee(u) for u in row.get("attendees") or ())
            instructors = tuple(str(name) for name in row.get("instructors") or ())
            return Meeting(
                provider=Provider.THOUGHT_INDUSTRIES,
                key=str(row["id"]),
                provider_id=str(row["id"]),
                title=str(row.get("title") or ""),
                start_time=start,
                end_time=end,
                duration_minutes=minutes_between(start, end),
                time_zone=row.get("timeZone"),
                status=_status(start, end, self.clock()),
                join_url=row.get("joinUrl"),
                registered_count=len(attendees),
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
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self.client.error(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "sent a meeting this gateway cannot read"
            ) from None

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


def _status(start: Any, end: Any, now: Any) -> MeetingStatus:
    if start is None:
        return MeetingStatus.UNKNOWN
    if now < start:
        return MeetingStatus.SCHEDULED
    if end is not None and now < end:
        return MeetingStatus.ONGOING
    return MeetingStatus.COMPLETED


def _in_filter(query: MeetingQuery, meeting: Meeting, now: Any) -> bool:
    # The whole list's filter, ignoring the keyset position: what totalCount counts.
    plain = MeetingQuery(
        starts_after=query.starts_after, starts_before=query.starts_before, ongoing=query.ongoing
    )
    return plain.admits(meeting, now)


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
