"""Daily: meeting sessions and their participants.

Contract (provider-docs/daily-meetings.txt, SUPPLEMENT.md): ``GET /meetings`` sorted
newest first (start_time desc, id desc), filtered natively by room, ``timeframe_start``
(>=, unix s), ``timeframe_end`` (<, unix s) and ``ongoing``, paged by ``starting_after``
(older) and ``ending_before`` (newer; ``OLDEST`` = the oldest page), 100 per call at most.

Streams and what they cost:
- descending: pages in native order, ``starting_after`` the last id; one call per page.
- ascending: ``ending_before=OLDEST`` first, then ``ending_before`` the newest id seen,
  each page reversed; one call per page, the same as descending.
- a keyset position narrows the time frame natively (to the second) and the adapter
  drops the few sessions of that second that lie on the wrong side of the key.
Sessions have no title: the room name stands in. ``ongoing`` decides the status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from meetingmesh.domain import (
    Attendee,
    DailyDetails,
    Meeting,
    MeetingOrder,
    MeetingStatus,
    Member,
    Provider,
)
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers.base import Adapter, MeetingQuery, SortKey, StreamInfo
from meetingmesh.providers.timefmt import from_unix_seconds, unix_seconds_ceil

MAX_LIMIT = 100


def read_message(body: Any) -> str | None:
    """Daily's error text: ``{"error": type, "info": text}``."""
    return str(body.get("info") or body.get("error")) if isinstance(body, dict) else None


@dataclass
class DailyAdapter(Adapter):
    """Daily meeting sessions as meetings, participants as attendees."""

    provider: Provider = field(default=Provider.DAILY, init=False)

    async def stream_meetings(
        self, query: MeetingQuery, info: StreamInfo
    ) -> AsyncIterator[Meeting]:
        """Sessions matching ``query``; course filters match nothing here."""
        if query.course_id is not None:
            info.total_count = 0
            return
        limit = max(1, min(MAX_LIMIT, query.page_hint + 1))
        params = self._filter_params(query, narrow=True)
        params["limit"] = str(limit)
        if not query.with_attendees:
            params["no_participants"] = "true"
        ascending = query.order is MeetingOrder.START_TIME_ASC
        cursor: str | None = "OLDEST" if ascending else None
        first = True
        while True:
            page_params = dict(params)
            if cursor is not None:
                page_params["ending_before" if ascending else "starting_after"] = cursor
            body = await self.client.get("/meetings", page_params)
            rows = _rows(self.client.error, body)
            if first:
                first = False
                info.total_count = await self._total(query, body)
            meetings = sorted((self._meeting(r) for r in rows), key=SortKey.of)
            if not ascending:
                meetings.reverse()
            now = self.clock()
            for meeting in meetings:
                if query.admits(meeting, now):
                    yield meeting
            if len(rows) < limit:
                return
            # The next page continues past the page's last session in stream order.
            cursor = rows[0]["id"] if ascending else rows[-1]["id"]

    async def get_meeting(self, key: str) -> Meeting | None:
        """``GET /meetings/:id`` (no participants in this answer)."""
        try:
            body = await self.client.get(f"/meetings/{_path_id(key)}")
        except GatewayError as exc:
            if exc.code is ErrorCode.UPSTREAM_NOT_FOUND:
                return None
            raise
        return self._meeting(body)

    async def get_attendees(self, meeting: Meeting) -> tuple[Attendee, ...]:
        """Participants from the list payload, else ``/meetings/:id/participants`` pages."""
        if meeting.attendees is not None:
            return meeting.attendees
        attendees: list[Attendee] = []
        params: dict[str, str] = {"limit": str(MAX_LIMIT)}
        # Bounded: a session has at most a few thousand participants.
        for _ in range(1000):
            try:
                body = await self.client.get(
                    f"/meetings/{_path_id(meeting.key)}/participants", params
                )
            except GatewayError as exc:
                if exc.code is ErrorCode.UPSTREAM_NOT_FOUND:
                    break  # Daily answers 404 once no participants remain.
                raise
            rows = _rows(self.client.error, body)
            attendees.extend(self._attendee(r) for r in rows)
            if len(rows) < MAX_LIMIT:
                break
            params["joined_after"] = str(rows[-1]["participant_id"])
        return tuple(attendees)

    async def _total(self, query: MeetingQuery, body: Any) -> int | None:
        # With a keyset position the native filter is narrowed, so its total_count is
        # not the list's: ask once more with the plain filter, for one session.
        if query.after is None:
            return _int_or_none(body.get("total_count"))
        params = self._filter_params(query, narrow=False)
        params.update(limit="1", no_participants="true")
        return _int_or_none((await self.client.get("/meetings", params)).get("total_count"))

    def _filter_params(self, query: MeetingQuery, *, narrow: bool) -> dict[str, str]:
        params: dict[str, str] = {}
        if query.room is not None:
            params["room"] = query.room
        if query.ongoing is not None:
            params["ongoing"] = "true" if query.ongoing else "false"
        start = query.starts_after
        end = query.starts_before
        if narrow and query.after is not None:
            key_time = query.after.start_time
            if query.order is MeetingOrder.START_TIME_ASC:
                start = key_time if start is None else max(start, key_time)
            else:
                bound = key_time + timedelta(seconds=1)
                end = bound if end is None else min(end, bound)
        if start is not None:
            params["timeframe_start"] = str(unix_seconds_ceil(start))
        if end is not None:
            params["timeframe_end"] = str(unix_seconds_ceil(end))
        return params

    def _meeting(self, row: Any) -> Meeting:
        try:
            start = from_unix_seconds(row["start_time"])
            duration = int(row.get("duration") or 0)
            ongoing = bool(row.get("ongoing"))
            participants = row.get("participants")
            attendees = (
                None if participants is None else tuple(self._attendee(p) for p in participants)
            )
            room = str(row["room"])
            return Meeting(
                provider=Provider.DAILY,
                key=str(row["id"]),
                provider_id=str(row["id"]),
                title=room,
                start_time=start,
                end_time=start + timedelta(seconds=duration),
                duration_minutes=round(duration / 60),
                status=MeetingStatus.ONGOING if ongoing else MeetingStatus.COMPLETED,
                capacity=_int_or_none(row.get("max_participants")),
                attendees=attendees,
                details=DailyDetails(
                    room=room,
                    ongoing=ongoing,
                    max_participants=_int_or_none(row.get("max_participants")),
                    duration_seconds=duration,
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self.client.error(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "sent a meeting session this gateway cannot read"
            ) from None

    def _attendee(self, row: Any) -> Attendee:
        try:
            user_id = row.get("user_id")
            name = row.get("user_name")
            member = (
                Member(Provider.DAILY, key=str(user_id), provider_id=str(user_id), name=name)
                if user_id
                else None
            )
            joined = row.get("join_time")
            return Attendee(
                id=str(row["participant_id"]),
                name=name,
                member=member,
                joined_at=None if joined is None else from_unix_seconds(joined),
                duration_seconds=_int_or_none(row.get("duration")),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self.client.error(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "sent a participant this gateway cannot read"
            ) from None


def _rows(error: Any, body: Any) -> list[Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise error(ErrorCode.UPSTREAM_BAD_RESPONSE, "sent a list without a data array")
    return data


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    return int(value)


def _path_id(key: str) -> str:
    # Keys come from clients' global ids: keep them to one path segment.
    if not key or "/" in key or key in (".", ".."):
        raise GatewayError(ErrorCode.BAD_USER_INPUT, f"not a Daily meeting id: {key!r}")
    return key
