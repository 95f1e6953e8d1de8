"""HeyPeers: the organization's meetings (export) and a member's upcoming schedule.

Contract (provider-docs/heypeers-*.txt): ``GET .../export_meetings`` returns the
columns asked for with ``column[]`` and no meeting id; with no ``reporting_days`` it
returns *past* meetings only, so this adapter always sends ``reporting_days=custom``
with an explicit range in ``MM/DD/YYYY HH:MM AM/PM``. Pagination is opt-in
(``page``/``per_page`` <= 100) and ordered by start time, then HeyPeers' hidden id.
The base URL is documented as ``https://heypeers.com/api/v2``; ``root_url`` accepts it
with or without that suffix.

Custom ranges: HeyPeers documents the format of ``start_time``/``end_time`` but not the
time zone they are read in (its meeting times elsewhere follow the organization's) nor
whether the end is included, while rows carry ``start_time`` in UTC. So the adapter
asks for a *widened* range that holds the wanted one whatever the zone (UTC-12 to
UTC+14) and end rule: the start 12 hours early, the end 14 hours and a minute late
(``range_start``, ``range_end``), and filters the rows exactly on their UTC start.
What it costs:
- Pages: a walk with a time bound (the filter's or a cursor's) reads pages of 100,
  since up to 26 hours of meetings outside the filter come first; without one, pages of
  ``first + 1``. A descending walk learns the page count from page 1 first (one more
  call). From a cursor, the anchored page (same window, so the upstream cache usually
  has it) is asked for again and re-checked to still hold the cursor's position.
- The margin: a walk from a lower bound remembers, for ``cache_ttl``, how many rows of
  its widened range came before the bound. The next such walk (the next day's page)
  expects as many and starts on the page (of a size up to 100) that holds the rows
  from there on, so a margin over a page costs one call instead of two. A page that
  begins at or after its bound (a margin smaller than expected) makes the walk step
  back a page at a time (one call each) until one begins before it, so nothing is
  skipped whatever the zone. With the cache off nothing is remembered: page 1.
- Totals: HeyPeers' ``total_count`` counts the widened range. Without time bounds that
  is the list's total (free, from the first page). With a lower bound, the rows of the
  widened range before it are subtracted: the pages the walk started on and went
  through to reach the bound (cached) hold them. With an upper bound, from the last
  page, or one request for the margin (``range_start(bound)`` to the range's end,
  pages of 100) when the last page does not reach back to it. An ``ongoing`` filter
  reads every page. Rows the gateway cannot read (a null start time) stay in
  HeyPeers' count, unless they come before the first readable row at or after a lower
  bound: the pages skipped to reach it are subtracted whole, so such rows are
  subtracted wherever they lie in that margin, whatever page a walk started on.
- ``get_meeting``: one request for the 26-hour range around the key's start (pages of
  100; more only when that range holds over 100 meetings before it).

Export rows carry no id, so a meeting's key is synthesized from what both endpoints
return: ``<start unix s>-<sha256(start|name|group leader)[:12]>``, plus ``~n`` for the
n-th identical row. The start in the key lets ``get_meeting`` ask for that time again.
Meetings from the member endpoint get the same key and also their numeric id; the
member endpoint lists meetings that have not ended, so one in progress is ``ONGOING``.
Only the columns the selection needs are asked for (name, start time and group leader
always: the key needs them). Two byte-identical rows (same start, name and leader)
split across a page edge may come back with each other's ``~n`` suffix; the adapter
knows no way to tell them apart.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from meetingmesh.domain import (
    EARLIEST,
    LATEST,
    Anchor,
    Attendee,
    HeyPeersDetails,
    Meeting,
    MeetingStatus,
    Member,
    MemberMeeting,
    Page,
    Provider,
    WaitlistStatus,
    start_of,
)
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers.base import (
    MeetingAdapter,
    MeetingQuery,
    MeetingStream,
    MeetingTotals,
    MemberCalendar,
    MemberDirectory,
    Positioned,
)
from meetingmesh.providers.paging import (
    OrderBroken,
    anchor_holds,
    anchor_number,
    centred_page,
    in_key_order,
    rows_to_spare,
)
from meetingmesh.providers.rows import (
    BadRow,
    Notes,
    Rows,
    read_rows,
    report,
    unknown_word,
)
from meetingmesh.providers.timefmt import heypeers_minute, parse_instant

#: How far an organization's time zone can be behind UTC (UTC-12) and ahead of it (UTC+14).
ZONE_BEHIND = timedelta(hours=12)
ZONE_AHEAD = timedelta(hours=14)
_MINUTE = timedelta(minutes=1)
#: The widest custom range a walk asks for (``range_start(EARLIEST)`` to
#: ``range_end(LATEST)``), as the naive UTC times its text reads: anchors lie within it.
_WIDEST_LOW = (EARLIEST - ZONE_BEHIND).replace(tzinfo=None)
_WIDEST_HIGH = (LATEST + ZONE_AHEAD + _MINUTE).replace(tzinfo=None)

#: Every documented export column (``group_leader_id`` comes back as ``group_leader``).
EXPORT_COLUMNS = (
    "name",
    "meeting_type",
    "start_time",
    "duration",
    "status",
    "topic",
    "special_focus",
    "host",
    "location",
    "price",
    "max_attendees",
    "meeting_description",
    "group_leader_id",
    "privacy",
    "eap",
    "allow_meeting_donation",
    "invitation_only",
    "wait_list",
)
#: Columns every request needs: the synthesized key is made of them.
KEY_COLUMNS = ("name", "start_time", "group_leader_id")
#: The columns each selected ``Meeting`` field needs.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "endTime": ("duration",),
    "durationMinutes": ("duration",),
    "status": ("status", "duration"),
    "topic": ("topic",),
    "description": ("meeting_description",),
    "capacity": ("max_attendees",),
    "details": tuple(c for c in EXPORT_COLUMNS if c not in KEY_COLUMNS),
}
PER_PAGE = 100
MAX_PAGES = 10_000
#: Windows whose planned first page (``_plan``) is kept at once.
MAX_PLANS = 256
#: Rows a planned page keeps to spare on each side of the expected margin: the margin
#: moves from one day to the next (by about ten rows in the simulators' New York data).
PLAN_SLACK = 10
ORG = "/api/v2/organizations/{org}"
_STATUSES = {
    "scheduled": MeetingStatus.SCHEDULED,
    "complete": MeetingStatus.COMPLETED,
    "completed": MeetingStatus.COMPLETED,
    "cancel": MeetingStatus.CANCELED,
    "canceled": MeetingStatus.CANCELED,
    "cancelled": MeetingStatus.CANCELED,
}
_WAITLIST = {s.value: s for s in WaitlistStatus}


def root_url(base_url: str) -> str:
    """The HeyPeers site root of a configured ``base_url``, with or without ``/api/v2``.

    HeyPeers documents its base as ``https://heypeers.com/api/v2`` while paths in its
    pages start with ``/api/v2``: both spellings of the base mean the same root, and
    every request path (``/api/v2/...``) is joined to it once.
    """
    root = base_url.rstrip("/")
    return root.removesuffix("/api/v2").rstrip("/") if root.endswith("/api/v2") else root


def range_start(bound: datetime) -> str:
    """Custom-range text HeyPeers reads as at or before ``bound``, in any time zone."""
    return heypeers_minute(bound - ZONE_BEHIND)


def range_end(bound: datetime) -> str:
    """Custom-range text whose range holds ``bound`` (inclusive), in any zone and end rule.

    Read in UTC+14 and excluded, the end is still later than ``bound``.
    """
    return heypeers_minute(bound + ZONE_AHEAD + _MINUTE)


def read_message(body: Any) -> str | None:
    """HeyPeers' error text: ``{"error": "..."}``."""
    return str(body["error"]) if isinstance(body, dict) and body.get("error") else None


def meeting_key(start: datetime, name: str, group_leader: Any) -> str:
    """The synthesized key of a HeyPeers meeting (see the module docstring)."""
    stamp = start.astimezone(UTC).isoformat()
    leader = "" if group_leader is None else str(group_leader)
    digest = hashlib.sha256(f"{stamp}|{name}|{leader}".encode()).hexdigest()[:12]
    return f"{int(start.timestamp())}-{digest}"


@dataclass
class HeyPeersAdapter(MeetingAdapter, MemberDirectory, MemberCalendar):
    """HeyPeers meetings, members and their registrations."""

    organization_id: int = 0
    provider: Provider = field(default=Provider.HEYPEERS, init=False)
    #: Rows the latest walk from a lower bound found before it in its widened range,
    #: and when (monotonic seconds): how far the next one may jump (``_plan``).
    _margin: tuple[int, float] | None = field(default=None, init=False, repr=False)
    #: Each window's planned page size and first page, and when it was planned, so
    #: the count and the walk of one query read the same (cached) pages.
    _plans: dict[tuple[str, str], tuple[int, int, float]] = field(
        default_factory=dict, init=False, repr=False
    )

    def excludes(self, query: MeetingQuery) -> bool:
        """HeyPeers has neither courses nor rooms."""
        return query.course_id is not None or query.room is not None

    async def walk(self, query: MeetingQuery, stream: MeetingStream) -> AsyncIterator[Positioned]:
        """Export pages in walk order (see the module docstring for their cost)."""
        columns = self._columns(query)
        now = self.clock()

        async def pages() -> AsyncIterator[tuple[Anchor, Sequence[Meeting]]]:
            window, number, body = await self._first_page(query, columns)
            bound = query.lower_bound() if query.ascending else None
            # Rows of the widened range before its lower bound, counted until a page
            # reaches the bound (only from a fresh window: it begins at ``range_start``).
            margin = None
            if bound is not None and window.low == range_start(bound):
                margin = (number - 1) * window.per_page
            for _ in range(MAX_PAGES):
                if query.want_total and stream.total_count is None and window.exact_for(query):
                    stream.total_count = int((body.get("metadata") or {}).get("total_count") or 0)
                if margin is not None and bound is not None:
                    starts = self._starts(body["meetings"])
                    margin += sum(1 for start in starts if start < bound)
                    if (starts and starts[-1] >= bound) or number >= _total_pages(body):
                        self._remember_margin(margin)
                        margin = None
                yield window.anchor(number), self.memo.get(body["meetings"], self._meetings)
                number += 1 if query.ascending else -1
                if number < 1 or number > _total_pages(body):
                    return
                body = await self._export_page(window, columns, number)

        try:
            async for positioned in in_key_order(pages(), ascending=query.ascending):
                if query.admits(positioned.meeting, now):
                    yield positioned
        except OrderBroken:
            # HeyPeers documents this order; without it, resuming cannot be trusted.
            raise self.client.error(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "sent export pages out of start-time order"
            ) from None

    async def _first_page(
        self, query: MeetingQuery, columns: tuple[str, ...]
    ) -> tuple[_ExportWindow, int, dict[str, Any]]:
        """Where a walk starts: the anchored page if it still holds the cursor, else afresh."""
        resume = query.resume
        anchored = None if resume is None else _ExportWindow.from_anchor(resume.anchor)
        if anchored is not None and anchored.page is not None and resume is not None:
            body = await self._export_page(anchored, columns, anchored.page)

            async def starts_of(number: int) -> list[datetime]:
                rows = (await self._export_page(anchored, columns, number))["meetings"]
                return self._starts(rows)

            # The data may have moved since the cursor was made: check the page still fits.
            if await anchor_holds(
                anchored.page,
                self._starts(body["meetings"]),
                ascending=query.ascending,
                next_start=resume.next_start,
                is_last=anchored.page >= _total_pages(body),
                neighbour=starts_of,
            ):
                return anchored, anchored.page, body
        window, number = self._plan(query)
        body = await self._export_page(window, columns, number)
        bound = query.lower_bound()
        if query.ascending and bound is not None:
            number, body = await self._land(window, columns, number, body, bound)
        if query.ascending or _total_pages(body) <= 1:
            return window, number, body
        # HeyPeers pages run oldest first: the first answer says which page is the last.
        last = _total_pages(body)
        return window, last, await self._export_page(window, columns, last)

    async def count(self, query: MeetingQuery) -> MeetingTotals:
        """The list's total: HeyPeers' count of the widened range, less its margins.

        Costs the first page of a fresh walk (usually cached), plus for each time bound
        whose margin that page (or, for an upper bound, the last page) does not hold,
        one request for the margin; with an ``ongoing`` filter, every page of the range.
        """
        plain = query.plain()
        if query.ongoing is not None:
            now = self.clock()
            count = 0
            async for positioned in self.stream_meetings(replace(plain, want_total=False)).items:
                count += plain.admits(positioned.meeting, now)
            return MeetingTotals(total_count=count)
        # The requests of a fresh walk's first page: usually cached from that walk.
        window, number = self._plan(plain)
        columns = self._columns(query)
        body = await self._export_page(window, columns, number)
        after, before = plain.starts_after, plain.starts_before
        if after is not None:
            number, body = await self._land(window, columns, number, body, after)
        total = int((body.get("metadata") or {}).get("total_count") or 0)
        pages = _total_pages(body)
        if after is not None:
            # Every row of the pages before ``number`` starts before ``after`` (``_land``);
            # on to the page that reaches it, as the walk went (its pages: cached).
            starts = self._starts(body["meetings"])
            for _ in range(MAX_PAGES):
                if number >= pages or (starts and starts[-1] >= after):
                    break
                number += 1
                body = await self._export_page(window, columns, number)
                starts = self._starts(body["meetings"])
            # Every row placed before the first readable start at or after the bound, read
            # or not: the same rows whichever page the plan started on.
            total -= (number - 1) * window.per_page + _rows_before(body["meetings"], after)
        if before is not None:
            last = body if number >= pages else await self._export_page(window, columns, pages)
            starts = self._starts(last["meetings"])
            if pages <= 1 or (starts and starts[0] < before):
                total -= sum(1 for start in starts if start >= before)
            else:
                margin = _ExportWindow(range_start(before), window.high, PER_PAGE, None)
                total -= await self._count_in(margin, lambda start: start >= before)
        return MeetingTotals(total_count=max(0, total))

    def _plan(self, query: MeetingQuery) -> tuple[_ExportWindow, int]:
        """The window a fresh walk reads and the page it starts on (no call).

        Page 1, unless the query runs from a lower bound and a walk lately (within
        ``cache_ttl``) found how many rows of its widened range came before its bound
        (a day later, about as many: the same zone, a similar density): then the page
        size and page that hold the rows from that many on, with as many rows to spare
        either way as a page of at most 100 allows. A window's plan is kept, so the
        count and the walk of one query read the same pages.
        """
        window = _ExportWindow.fresh(query)
        ttl = self.client.settings.cache_ttl
        if not query.ascending or query.lower_bound() is None or ttl <= 0:
            return window, 1
        now = time.monotonic()
        key = (window.low, window.high)
        kept = self._plans.get(key)
        if kept is not None and now - kept[2] <= ttl:
            return replace(window, per_page=kept[0]), kept[1]
        size, number = window.per_page, 1
        margin = self._margin
        if margin is not None and now - margin[1] <= ttl:
            size, number = planned_page(margin[0], query.page_hint + 1, window.per_page)
        if len(self._plans) >= MAX_PLANS:
            self._plans.clear()
        self._plans[key] = (size, number, now)
        return replace(window, per_page=size), number

    async def _land(
        self,
        window: _ExportWindow,
        columns: tuple[str, ...],
        number: int,
        body: dict[str, Any],
        bound: datetime,
    ) -> tuple[int, dict[str, Any]]:
        """The page to start from ``bound`` on: ``number`` unless it begins at or after the
        bound (a plan that jumped too far), then the pages before it, one call each, back
        to one that begins before the bound (or page 1), so no row at or after the bound
        is skipped."""
        for _ in range(MAX_PAGES):
            starts = self._starts(body["meetings"])
            if number <= 1 or (starts and starts[0] < bound):
                break
            number = max(1, min(number - 1, _total_pages(body)))
            body = await self._export_page(window, columns, number)
        return number, body

    def _remember_margin(self, rows: int) -> None:
        """Remember ``rows`` before the bound in a widened range (with the cache on)."""
        if self.client.settings.cache_ttl > 0:
            self._margin = (rows, time.monotonic())

    async def _count_in(self, window: _ExportWindow, counts: Callable[[datetime], bool]) -> int:
        """How many meetings of ``window`` start when ``counts`` says: every page of it."""
        found = 0
        for number in range(1, MAX_PAGES + 1):
            body = await self._export_page(window, ("start_time",), number)
            found += sum(1 for start in self._starts(body["meetings"]) if counts(start))
            if number >= _total_pages(body):
                return found
        return found

    def _starts(self, rows: list[Any]) -> list[datetime]:
        """The start times of a page's rows, in page order."""
        return [start_of(m) for m in self.memo.get(rows, self._meetings)]

    def _columns(self, query: MeetingQuery) -> tuple[str, ...]:
        if query.fields is None:
            return EXPORT_COLUMNS
        wanted = set(KEY_COLUMNS)
        for name in query.fields:
            wanted.update(FIELD_COLUMNS.get(name, ()))
        if query.ongoing is not None:
            wanted.update(("status", "duration"))
        return tuple(c for c in EXPORT_COLUMNS if c in wanted)

    async def get_meeting(self, key: str) -> Meeting | None:
        """Find a synthesized key again in the range around the start it names.

        One request for the 26 hours around that start, whatever the organization's
        time zone (more only past 100 meetings before it).
        """
        try:
            start = datetime.fromtimestamp(int(key.split("-", 1)[0]), UTC)
        except (ValueError, OverflowError, OSError):
            return None
        if not EARLIEST <= start <= LATEST:
            return None  # a forged key: no meeting starts then, so HeyPeers is not asked
        window = _ExportWindow(range_start(start), range_end(start), PER_PAGE, None)
        for number in range(1, MAX_PAGES + 1):
            body = await self._export_page(window, EXPORT_COLUMNS, number)
            # Not through the memo: the range's unreadable rows matter only if it is not found.
            meetings = self._meetings(body["meetings"])
            found = next((m for m in meetings if m.key == key), None)
            if found is not None:
                return found
            if number >= _total_pages(body) or any(start_of(m) > start for m in meetings):
                report(meetings.problems)  # one of them may have been the meeting asked for
                return None
        return None

    async def get_attendees(self, meeting: Meeting) -> tuple[Attendee, ...]:
        """None: HeyPeers lists no attendees of a meeting (no upstream call)."""
        return ()

    async def get_member(self, key: str) -> Member | None:
        """A member by SSO ``idp_id`` (checked upstream); a group leader (``user:<id>``) as is."""
        if key.startswith("user:"):
            return Member(Provider.HEYPEERS, key=key, provider_id=key.removeprefix("user:"))
        page = await self.member_meetings(key, 0, 1)
        return None if page is None else Member(Provider.HEYPEERS, key=key, provider_id=key)

    async def member_meetings(
        self, member_key: str, offset: int, limit: int
    ) -> Page[MemberMeeting] | None:
        """A window of the member's upcoming meetings, from HeyPeers' page/items pages."""
        if member_key.startswith("user:"):
            return Page(items=(), total_count=0)
        if not member_key:
            return None
        if limit == 0:
            # Nothing to show, but the total still comes from one smallest page.
            page = await self.member_meetings(member_key, offset, 1)
            return (
                None
                if page is None
                else replace(page, items=(), has_more=offset < (page.total_count or 0))
            )
        # One call when the window is page-aligned and fits one HeyPeers page (at most
        # 100 items: a larger [server] max_page_size must not be clamped silently);
        # else pages of 100 around it.
        items = limit if limit <= PER_PAGE and offset % limit == 0 else PER_PAGE
        first_page = offset // items + 1
        last_page = (offset + limit - 1) // items + 1
        rows: list[Any] = []
        total = 0
        for number in range(first_page, last_page + 1):
            try:
                body = await self.client.get(
                    ORG + "/members/{idp_id}/upcoming_meetings",
                    {"page": str(number), "items": str(items)},
                    org=str(self.organization_id),
                    idp_id=member_key,
                )
            except GatewayError as exc:
                if exc.code is ErrorCode.UPSTREAM_NOT_FOUND:
                    return None
                raise
            if not isinstance(body, dict) or not isinstance(body.get("meetings"), list):
                raise self.client.error(ErrorCode.UPSTREAM_BAD_RESPONSE, "sent no meetings list")
            total = int(body.get("total_items") or 0)
            rows.extend(body["meetings"])
        skip = offset - (first_page - 1) * items
        window = rows[skip : skip + limit]
        read = read_rows(Provider.HEYPEERS, "upcoming meeting", window, self._member_meeting)
        report(read.problems)
        return Page(items=read, total_count=total, has_more=offset + len(window) < total)

    async def _export_page(
        self, window: _ExportWindow, columns: tuple[str, ...], number: int
    ) -> dict[str, Any]:
        params = [*window.params(), ("page", str(number)), *(("column[]", c) for c in columns)]
        body = await self.client.get(
            ORG + "/export_meetings", params, org=str(self.organization_id)
        )
        if not isinstance(body, dict) or not isinstance(body.get("meetings"), list):
            raise self.client.error(ErrorCode.UPSTREAM_BAD_RESPONSE, "sent no meetings list")
        return body

    def _meetings(self, rows: list[Any]) -> Rows[Meeting]:
        """A page's export rows as meetings (rows without a start time left out)."""
        read = read_rows(Provider.HEYPEERS, "export row", rows, self._export_meeting, id_key=None)
        seen: Counter[str] = Counter()
        meetings = []
        for meeting in read:
            seen[meeting.key] += 1
            if seen[meeting.key] > 1:
                meeting = replace(meeting, key=f"{meeting.key}~{seen[meeting.key]}")
            meetings.append(meeting)
        return Rows(meetings, read.problems)

    def _export_meeting(self, row: Any, notes: Notes) -> Meeting:
        start = parse_instant(row["start_time"])
        if start is None:
            raise BadRow("has no start time")
        name = str(row.get("name") or "")
        leader = row.get("group_leader")
        duration = _int(row.get("duration"))
        end = None if duration is None else start + timedelta(minutes=duration)
        hosts = (
            ()
            if leader is None
            else (Member(Provider.HEYPEERS, key=f"user:{leader}", provider_id=str(leader)),)
        )
        return Meeting(
            provider=Provider.HEYPEERS,
            key=meeting_key(start, name, leader),
            title=name,
            description=row.get("meeting_description"),
            topic=row.get("topic"),
            start_time=start,
            end_time=end,
            duration_minutes=duration,
            time_zone="UTC",
            status=_export_status(row.get("status"), start, end, self.clock()),
            capacity=_int(row.get("max_attendees")),
            hosts=hosts,
            details=HeyPeersDetails(
                meeting_type=row.get("meeting_type"),
                price=None if row.get("price") is None else float(row["price"]),
                special_focus=row.get("special_focus"),
                host=row.get("host"),
                location=row.get("location"),
                privacy=row.get("privacy"),
                eap=row.get("eap"),
                allow_meeting_donation=row.get("allow_meeting_donation"),
                invitation_only=row.get("invitation_only"),
                wait_list=row.get("wait_list"),
                raw_status=row.get("status"),
            ),
        )

    def _member_meeting(self, row: Any, notes: Notes) -> MemberMeeting:
        meeting_id = str(row["id"])
        start = parse_instant(row["start_time"])
        if start is None:
            raise BadRow("has no start time")
        end = parse_instant(row.get("end_time"))
        name = str(row.get("name") or "")
        leader = row.get("group_leader") or None
        leader_id = None if leader is None else leader.get("id")
        host: tuple[Member, ...] = ()
        if leader is not None and leader_id is None:
            notes.left_out("group leader", "has no id")
        elif leader is not None:
            host = (
                Member(
                    Provider.HEYPEERS,
                    key=f"user:{leader_id}",
                    provider_id=str(leader_id),
                    name=leader.get("name"),
                    avatar_url=leader.get("avatar"),
                ),
            )
        meeting = Meeting(
            provider=Provider.HEYPEERS,
            key=meeting_key(start, name, leader_id),
            provider_id=meeting_id,
            title=name,
            description=row.get("description"),
            topic=row.get("topic"),
            start_time=start,
            end_time=end,
            duration_minutes=_int(row.get("duration_in_minutes")),
            time_zone="UTC",
            status=_upcoming_status(start, end, self.clock()),
            capacity=_int(row.get("max_attendees")),
            registered_count=_int(row.get("registered_attendees")),
            hosts=host,
            details=HeyPeersDetails(
                location=row.get("location"), duration_text=row.get("duration")
            ),
        )
        return MemberMeeting(
            meeting=meeting,
            registered=bool(row.get("registered")),
            registered_at=parse_instant(row.get("registered_at")),
            waitlist_status=_waitlist_status(row.get("waiting_status")),
        )


def _export_status(
    word: Any, start: datetime, end: datetime | None, now: datetime
) -> MeetingStatus:
    """An export row's status; a ``scheduled`` meeting between its start and end is ongoing."""
    status = _STATUSES.get(str(word), MeetingStatus.UNKNOWN)
    if word is not None and str(word) not in _STATUSES:
        unknown_word(Provider.HEYPEERS, "meeting status", word)
    if status is MeetingStatus.SCHEDULED and end is not None and start <= now < end:
        return MeetingStatus.ONGOING
    return status


def _waitlist_status(word: Any) -> WaitlistStatus | None:
    """A member's wait-list state; a word no document lists reads as null (logged once)."""
    if word is None:
        return None
    status = _WAITLIST.get(str(word).lower())
    if status is None:
        unknown_word(Provider.HEYPEERS, "waiting_status", word)
    return status


def _upcoming_status(start: datetime, end: datetime | None, now: datetime) -> MeetingStatus:
    """A meeting on a member's schedule (not ended, not canceled): in progress or ahead."""
    if start <= now and (end is None or now < end):
        return MeetingStatus.ONGOING
    return MeetingStatus.SCHEDULED


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    return int(value)


@dataclass(frozen=True, slots=True)
class _ExportWindow:
    """One paginated export walk: a custom range, a page size and where to start."""

    low: str
    high: str
    per_page: int
    page: int | None

    @classmethod
    def fresh(cls, query: MeetingQuery, per_page: int | None = None) -> _ExportWindow:
        """The range a query needs (narrowed to its keyset position), from the first page.

        Pages hold ``first + 1`` rows, or HeyPeers' largest page when an ``ongoing``
        filter will drop most rows in the gateway.
        """
        # The custom range when the client sets no bound of its own.
        lower, upper = query.lower_bound(), query.upper_bound()
        low, high = lower or EARLIEST, upper or LATEST
        # A bound widened for time zones puts meetings outside the filter first: read
        # pages of 100 then, so that the first page usually reaches the wanted ones.
        bounded = lower is not None or upper is not None or query.ongoing is not None
        hint = PER_PAGE if bounded else query.page_hint + 1
        size = per_page or max(1, min(PER_PAGE, hint))
        if high < low:
            high = low  # an empty window still answers with HeyPeers' metadata
        return cls(range_start(low), range_end(high), size, None)

    @classmethod
    def from_anchor(cls, anchor: Anchor | None) -> _ExportWindow | None:
        """The window a cursor's anchor names, or None when it is not one of ours."""
        if not anchor:
            return None
        low, high = anchor.get("lo"), anchor.get("hi")
        size, page = anchor_number(anchor, "pp", PER_PAGE), anchor_number(anchor, "page", MAX_PAGES)
        if not (isinstance(low, str) and isinstance(high, str)):
            return None
        if size is None or page is None:
            return None
        try:
            start, end = (datetime.strptime(t, "%m/%d/%Y %I:%M %p") for t in (low, high))
        except ValueError:
            return None
        # A forged window (01/01/1, or ending before it starts) is not ours: never sent on.
        # Ours lie within the widest range ``fresh`` asks for: EARLIEST to LATEST, widened.
        if not _WIDEST_LOW <= start <= end <= _WIDEST_HIGH:
            return None
        return cls(low, high, size, page)

    def anchor(self, page: int) -> Anchor:
        """The anchor of one page of this walk."""
        return {"lo": self.low, "hi": self.high, "pp": self.per_page, "page": page}

    def params(self) -> list[tuple[str, str]]:
        """The export parameters of this walk, bar the page and columns."""
        return [
            ("reporting_days", "custom"),
            ("start_time", self.low),
            ("end_time", self.high),
            ("per_page", str(self.per_page)),
        ]

    def exact_for(self, query: MeetingQuery) -> bool:
        """Whether HeyPeers' total for this window is exactly the query's list total.

        Only without time bounds: with one, the widened range holds meetings outside it.
        """
        plain = _ExportWindow.fresh(query.plain(), self.per_page)
        unbounded = query.starts_after is None and query.starts_before is None
        same_range = (self.low, self.high) == (plain.low, plain.high)
        return same_range and unbounded and query.ongoing is None


def planned_page(margin: int, wanted: int, largest: int) -> tuple[int, int]:
    """The page size and number a walk from a lower bound starts on, ``margin`` rows
    expected before the bound and ``wanted`` from it on.

    Page 1 of ``largest`` when it holds them all with ``PLAN_SLACK`` to spare (a plan
    cannot do better than one call), or when no page keeps ``PLAN_SLACK`` rows to spare
    on both sides (``first`` near 100: the plan would risk more calls than it saves);
    else the page ``centred_page`` places around them.
    """
    if margin + wanted + PLAN_SLACK <= largest:
        return largest, 1
    size, number = centred_page(margin, wanted, largest)
    if rows_to_spare(margin, wanted, size) < PLAN_SLACK:
        return largest, 1
    return size, number


def _rows_before(rows: list[Any], bound: datetime) -> int:
    """How many rows of a page come before its first row that starts at or after ``bound``
    (rows without a readable start among them)."""
    for index, row in enumerate(rows):
        try:
            start = parse_instant(row.get("start_time")) if isinstance(row, dict) else None
        except ValueError:
            start = None
        if start is not None and start >= bound:
            return index
    return len(rows)


def _total_pages(body: dict[str, Any]) -> int:
    return int((body.get("metadata") or {}).get("total_pages") or 0)
