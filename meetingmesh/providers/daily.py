"""Daily: meeting sessions and their participants.

Contract (provider-docs/daily-meetings.txt, SUPPLEMENT.md): ``GET /meetings`` sorted
newest first (start_time desc, id desc), filtered natively by room, ``timeframe_start``
(>=, unix s), ``timeframe_end`` (<, unix s) and ``ongoing``, paged by ``starting_after``
(older) and ``ending_before`` (newer; ``OLDEST`` = the oldest page), 100 per call at most.

Streams and what they cost (one call per page of ``first + 2`` sessions, at most 100:
one more than the caller takes, and one more for the tie held back at a page's end,
see ``_release``):
- descending: pages in native order, ``starting_after`` the last id.
- ascending: ``ending_before=OLDEST`` first, then ``ending_before`` the newest id seen,
  each page reversed.
- from a cursor: the anchored page's exact request again (the upstream cache usually
  has it); without an anchor, the time frame is narrowed natively to the cursor's
  second and the few sessions of that second on the wrong side of the key dropped.
- ``no_participants=true`` unless attendees are selected.
Totals: ``total_count`` of the first page when the time frame is not narrowed, else
the request of a fresh walk's first page (usually cached from that first page).
Sessions have no title: the room name stands in. ``ongoing`` decides the status.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from meetingmesh.domain import (
    EARLIEST,
    LATEST,
    Anchor,
    Attendee,
    DailyDetails,
    Meeting,
    MeetingOrder,
    MeetingStatus,
    Member,
    Provider,
    SortKey,
    start_of,
)
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers.base import (
    MeetingAdapter,
    MeetingQuery,
    MeetingStream,
    MeetingTotals,
    MemberDirectory,
    Positioned,
)
from meetingmesh.providers.paging import anchor_number
from meetingmesh.providers.rows import BadRow, Notes, Rows, read_rows, report
from meetingmesh.providers.timefmt import (
    from_unix_seconds,
    unix_seconds_ceil,
    unix_seconds_floor,
)

MAX_LIMIT = 100
#: What an anchor's session id may be (Daily's are UUIDs; "OLDEST" asks for the last page).
_SESSION = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_PAGES = 100_000


def read_message(body: Any) -> str | None:
    """Daily's error text: ``{"error": type, "info": text}``."""
    return str(body.get("info") or body.get("error")) if isinstance(body, dict) else None


def classify(status: int, body: Any) -> ErrorCode | None:
    """Daily answers a missing or malformed Authorization header with a 400, not a 401."""
    if isinstance(body, dict) and body.get("error") == "authorization-header-error":
        return ErrorCode.UPSTREAM_UNAUTHORIZED
    return None


@dataclass
class DailyAdapter(MeetingAdapter, MemberDirectory):
    """Daily meeting sessions as meetings, participants as attendees."""

    PROBE = ("/meetings", {"limit": "1"})
    provider: Provider = field(default=Provider.DAILY, init=False)

    def excludes(self, query: MeetingQuery) -> bool:
        """Daily has no courses."""
        return query.course_id is not None

    async def walk(self, query: MeetingQuery, stream: MeetingStream) -> AsyncIterator[Positioned]:
        """Pages of ``/meetings`` in walk order (see the module docstring for their cost)."""
        ascending = query.ascending
        walk = self._anchored_walk(query) if query.after is not None else None
        if walk is None:
            walk = _Walk(self._first_page_params(query), narrowed=query.after is not None)
        now = self.clock()
        limit = int(walk.params["limit"])
        held: list[Positioned] = []
        for _ in range(MAX_PAGES):
            try:
                body = await self.client.get("/meetings", walk.params)
            except GatewayError as exc:
                if exc.code is ErrorCode.BAD_USER_INPUT and walk.anchored:
                    # The anchored session is gone (or the anchor was forged): start afresh.
                    retry = replace(query, resume=None)
                    async for positioned in self.walk(retry, stream):
                        yield positioned
                    return
                raise
            rows = _rows(self.client.error, body)
            if walk.anchored and query.after is not None and not walk.reaches(rows, query):
                # The anchored page no longer holds the cursor's position: start afresh.
                async for positioned in self.walk(replace(query, resume=None), stream):
                    yield positioned
                return
            if query.want_total and stream.total_count is None and not walk.narrowed:
                stream.total_count = _int_or_none(body.get("total_count"))
            meetings = self.memo.get(rows, self._sorted_meetings)
            final = len(rows) < limit
            ready, held = _release(held, meetings, walk.anchor(), ascending, final)
            for positioned in ready:
                if query.admits(positioned.meeting, now):
                    yield positioned
            if final:
                return
            walk = walk.next(_cursor(self.client.error, rows, ascending), ascending)

    async def count(self, query: MeetingQuery) -> MeetingTotals:
        """``total_count`` of the plain filter, from the request that starts a fresh walk.

        It is the same request as a first page's, so the upstream cache usually has it.
        """
        body = await self.client.get("/meetings", self._first_page_params(query.plain()))
        return MeetingTotals(total_count=_int_or_none(body.get("total_count")))

    def _first_page_params(self, query: MeetingQuery) -> dict[str, str]:
        """The request of a walk's first page (narrowed to the keyset position, if any)."""
        params = self._filter_params(query, narrow=True)
        # One more than the caller takes, and one more again for the session held back
        # at the page's end (see ``_release``), so the page usually suffices alone.
        params["limit"] = str(max(1, min(MAX_LIMIT, query.page_hint + 2)))
        if not query.selects("attendees"):
            params["no_participants"] = "true"
        if query.ascending:
            params["ending_before"] = "OLDEST"
        return params

    async def get_meeting(self, key: str) -> Meeting | None:
        """``GET /meetings/:id`` (no participants in this answer)."""
        try:
            body = await self.client.get("/meetings/{meeting_id}", meeting_id=key)
        except GatewayError as exc:
            if exc.code is ErrorCode.UPSTREAM_NOT_FOUND:
                return None
            raise
        # Parsed once per cached answer, like a page (the memo reports its problems).
        read = self.memo.get(body, self._one_meeting)
        return read[0] if read else None

    def _one_meeting(self, body: Any) -> Rows[Meeting]:
        return read_rows(Provider.DAILY, "meeting session", [body], self._meeting)

    async def get_member(self, key: str) -> Member | None:
        """The member a Daily ``user_id`` names: Daily has no user endpoint to ask (no call)."""
        return Member(Provider.DAILY, key=key, provider_id=key)

    async def get_attendees(self, meeting: Meeting) -> tuple[Attendee, ...]:
        """Participants in join order: from the list payload, else participant pages.

        Cost without a payload: one ``/meetings/:id/participants`` call per 100
        participants (the last page, or a 404 once none remain, ends the walk).
        """
        if meeting.attendees is not None:
            return meeting.attendees
        found: dict[str, Attendee] = {}
        params: dict[str, str] = {"limit": str(MAX_LIMIT)}
        # Bounded: a session has at most a few thousand participants.
        for _ in range(1000):
            try:
                body = await self.client.get(
                    "/meetings/{meeting_id}/participants", params, meeting_id=meeting.key
                )
            except GatewayError as exc:
                if exc.code is ErrorCode.UPSTREAM_NOT_FOUND:
                    break  # Daily answers 404 once no participants remain.
                raise
            rows = _rows(self.client.error, body)
            notes = Notes(Provider.DAILY)
            page = notes.each(rows, self._attendee, part="participant")
            notes.finish_row("meeting session", meeting.key)
            report(notes.problems)
            fresh = [a for a in page if a.id not in found]
            found.update((a.id, a) for a in fresh)
            if len(rows) < MAX_LIMIT or not fresh:
                break
            # "Joined after this participant": the page's latest readable joiner, never
            # its last row, since Daily prints a page in no documented order (and a row
            # left out has no id to page after). Anyone on the page is a safe cursor
            # (nobody is skipped); the latest one repeats nobody but unreadable rows.
            params["joined_after"] = max(page, key=_join_order).id
        return tuple(sorted(found.values(), key=_join_order))

    def _anchored_walk(self, query: MeetingQuery) -> _Walk | None:
        """The page a cursor's anchor names, or None when the anchor is not one of ours."""
        anchor = query.anchor or {}
        limit = anchor_number(anchor, "l", MAX_LIMIT)
        before, after = anchor.get("b"), anchor.get("a")
        if limit is None:
            return None
        if not all(
            v is None or (isinstance(v, str) and _SESSION.fullmatch(v)) for v in (before, after)
        ):
            return None
        # Ours run one way: an ascending walk's pages each end before a session (its first
        # before OLDEST), a descending one's start after one (its first page: neither).
        ours = (before is not None and after is None) if query.ascending else before is None
        if not ours:
            return None
        params = self._filter_params(query, narrow=False)
        narrowed = False
        for name in ("timeframe_start", "timeframe_end"):
            value = anchor.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                if not EARLIEST.timestamp() <= value <= LATEST.timestamp():
                    return None  # forged: never sent on
                params[name], narrowed = str(value), True
        params["limit"] = str(limit)
        if not query.selects("attendees"):
            params["no_participants"] = "true"
        if before is not None:
            params["ending_before"] = before
        elif after is not None:
            params["starting_after"] = after
        return _Walk(params, narrowed=narrowed, anchored=True)

    def _filter_params(self, query: MeetingQuery, *, narrow: bool) -> dict[str, str]:
        params: dict[str, str] = {}
        if query.room is not None:
            params["room"] = query.room
        if query.ongoing is not None:
            params["ongoing"] = "true" if query.ongoing else "false"
        start = None if query.starts_after is None else unix_seconds_ceil(query.starts_after)
        end = None if query.starts_before is None else unix_seconds_ceil(query.starts_before)
        if narrow and query.after is not None:
            # The cursor's own second, whole: a session's start_time may be a fraction
            # (Daily types it as a number), and the key decides within the second.
            key_time = query.after.start_time
            if query.order is MeetingOrder.START_TIME_ASC:
                floor = unix_seconds_floor(key_time)
                start = floor if start is None else max(start, floor)
            else:
                bound = unix_seconds_ceil(key_time + timedelta(seconds=1))
                end = bound if end is None else min(end, bound)
        if start is not None:
            params["timeframe_start"] = str(start)
        if end is not None:
            params["timeframe_end"] = str(end)
        return params

    def _sorted_meetings(self, rows: list[Any]) -> Rows[Meeting]:
        """A page's sessions in key order; one without a start time is left out, reported."""
        read = read_rows(Provider.DAILY, "meeting session", rows, self._meeting)
        return Rows(sorted((_in_join_order(m) for m in read), key=SortKey.of), read.problems)

    def _meeting(self, row: Any, notes: Notes) -> Meeting:
        session_id = str(row["id"])
        if row.get("start_time") is None:
            raise BadRow("has no start time")
        start = from_unix_seconds(row["start_time"])
        duration = int(row.get("duration") or 0)
        ongoing = bool(row.get("ongoing"))
        participants = row.get("participants")
        attendees = (
            None
            if participants is None
            else notes.each(participants, self._attendee, part="participant")
        )
        max_participants = _int_or_none(row.get("max_participants"))
        return session(
            session_id,
            str(row["room"]),
            start,
            duration,
            ongoing=ongoing,
            max_participants=max_participants,
            attendees=attendees,
        )

    def _attendee(self, row: Any) -> Attendee:
        if row.get("participant_id") is None:
            raise BadRow("has no participant_id")
        joined = row.get("join_time")
        return participant(
            str(row["participant_id"]),
            row.get("user_id"),
            row.get("user_name"),
            None if joined is None else from_unix_seconds(joined),
            _int_or_none(row.get("duration")),
        )


def session(
    session_id: str,
    room: str,
    start: datetime,
    duration_seconds: int,
    *,
    ongoing: bool,
    max_participants: int | None = None,
    attendees: tuple[Attendee, ...] | None = None,
) -> Meeting:
    """A Daily session as the gateway shows it, from a list row or a webhook event."""
    return Meeting(
        provider=Provider.DAILY,
        key=session_id,
        provider_id=session_id,
        title=room,
        start_time=start,
        end_time=start + timedelta(seconds=duration_seconds),
        duration_minutes=round(duration_seconds / 60),
        status=MeetingStatus.ONGOING if ongoing else MeetingStatus.COMPLETED,
        capacity=max_participants,
        attendees=attendees,
        details=DailyDetails(
            room=room,
            ongoing=ongoing,
            max_participants=max_participants,
            duration_seconds=duration_seconds,
        ),
    )


def participant(
    participant_id: str,
    user_id: Any,
    name: str | None,
    joined_at: datetime | None,
    duration_seconds: int | None,
) -> Attendee:
    """A Daily participant as the gateway shows it (a member only with a ``user_id``)."""
    member = (
        Member(Provider.DAILY, key=str(user_id), provider_id=str(user_id), name=name)
        if user_id
        else None
    )
    return Attendee(
        id=participant_id,
        name=name,
        member=member,
        joined_at=joined_at,
        duration_seconds=duration_seconds,
    )


def _rows(error: Any, body: Any) -> list[Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise error(ErrorCode.UPSTREAM_BAD_RESPONSE, "sent a list without a data array")
    return data


def _cursor(error: Any, rows: list[Any], ascending: bool) -> str:
    """Where the next page starts: past this page's last session in walk order.

    The last one with an id, should Daily end a page with a row that has none (left
    out as unreadable): the next page then repeats only such rows.
    """
    for row in rows if ascending else reversed(rows):
        session_id = row.get("id") if isinstance(row, dict) else None
        if isinstance(session_id, str | int) and not isinstance(session_id, bool):
            return str(session_id)
    raise error(ErrorCode.UPSTREAM_BAD_RESPONSE, "sent a page of sessions without ids")


def _release(
    held: list[Positioned],
    meetings: Sequence[Meeting],
    anchor: Anchor,
    ascending: bool,
    final: bool,
) -> tuple[list[Positioned], list[Positioned]]:
    """This page's sessions in walk order, less the trailing ones the next page may join.

    ``meetings`` are the page's sessions in ascending key order. Daily's order among
    sessions that share a ``start_time`` is undocumented (the supplement says only "id
    secondary"; it may run either way), so a tie cut by a page boundary can only be put
    in key order once the next page is read: the sessions of the page's last start time
    are held back (``held``) and released with the next page.
    A tie read over several pages keeps the anchor of the page it began on, so resuming
    inside it re-reads all of it. The last page holds nothing back.
    """
    if held:
        group_start = start_of(held[0].meeting)
        page = [
            Positioned(m, held[0].anchor if start_of(m) == group_start else anchor)
            for m in meetings
        ]
        combined = sorted(
            [*held, *page], key=lambda p: SortKey.of(p.meeting), reverse=not ascending
        )
    else:
        # ``meetings`` is in key order already (``_sorted_meetings``): nothing to sort.
        combined = [Positioned(m, anchor) for m in (meetings if ascending else meetings[::-1])]
    if final or not combined:
        return combined, []
    boundary = start_of(combined[-1].meeting)
    cut = len(combined)
    while cut and start_of(combined[cut - 1].meeting) == boundary:
        cut -= 1
    return combined[:cut], combined[cut:]


def _join_order(attendee: Attendee) -> tuple[datetime, str]:
    """Participants in the order they joined (the id breaks ties, as Daily's own order does)."""
    return (attendee.joined_at or EARLIEST, attendee.id)


def _in_join_order(meeting: Meeting) -> Meeting:
    """``meeting`` with its listed participants in join order, whatever order Daily printed."""
    attendees = meeting.attendees
    if not attendees or all(_join_order(a) <= _join_order(b) for a, b in pairwise(attendees)):
        return meeting
    return replace(meeting, attendees=tuple(sorted(attendees, key=_join_order)))


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    return int(value)


@dataclass(frozen=True)
class _Walk:
    """The native request of one page of a walk through ``/meetings``."""

    params: dict[str, str]
    narrowed: bool
    anchored: bool = False

    def anchor(self) -> Anchor:
        """A compact anchor of this page: the filter itself comes from the query again."""
        anchor: Anchor = {"l": int(self.params["limit"])}
        if "ending_before" in self.params:
            anchor["b"] = self.params["ending_before"]
        elif "starting_after" in self.params:
            anchor["a"] = self.params["starting_after"]
        if self.narrowed:
            for name in ("timeframe_start", "timeframe_end"):
                if name in self.params:
                    anchor[name] = int(self.params[name])
        return anchor

    def reaches(self, rows: list[Any], query: MeetingQuery) -> bool:
        """Whether this page (of an anchor) still reaches back to the cursor's position."""
        next_start = query.resume_start()
        assert next_start is not None
        raw = [row.get("start_time") for row in rows if isinstance(row, dict)]
        # Daily's OpenAPI types times as numbers: 1716379200.0 is as good as 1716379200.
        # A row without a readable start (left out of the page, reported) says nothing
        # about where the page lies: only the others decide.
        starts = [s for s in raw if isinstance(s, int | float) and not isinstance(s, bool)]
        if not starts:
            return False
        key_time = next_start.timestamp()
        if query.ascending:
            return self.params.get("ending_before") == "OLDEST" or min(starts) <= key_time
        return "starting_after" not in self.params or max(starts) >= key_time

    def next(self, cursor: str, ascending: bool) -> _Walk:
        """The following page of the walk."""
        params = {
            k: v for k, v in self.params.items() if k not in ("ending_before", "starting_after")
        }
        params["ending_before" if ascending else "starting_after"] = str(cursor)
        return _Walk(params, self.narrowed)
