"""HeyPeers: the organization's meetings (export) and a member's upcoming schedule.

Contract (provider-docs/heypeers-*.txt): ``GET .../export_meetings`` returns the
columns asked for with ``column[]`` and no meeting id; with no ``reporting_days`` it
returns *past* meetings only, so this adapter always sends ``reporting_days=custom``
with an explicit range in ``MM/DD/YYYY HH:MM AM/PM`` (read as UTC), minute resolution;
the adapter filters exactly. Pagination is opt-in (``page``/``per_page`` <= 100) and
ordered by start time, then HeyPeers' hidden id.

Export rows carry no id, so a meeting's key is synthesized from what both endpoints
return: ``<start unix s>-<sha256(start|name|group leader)[:12]>``, plus ``~n`` for the
n-th identical row. The start in the key lets ``get_meeting`` ask for that one minute
again. Meetings from the member endpoint get the same key and also their numeric id.

Streams and what they cost: every page of the range, page 1 then the rest
concurrently, sorted and filtered here: ``ceil(matching / 100)`` calls per list.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from meetingmesh.domain import (
    HeyPeersDetails,
    Meeting,
    MeetingOrder,
    MeetingStatus,
    Member,
    MemberMeeting,
    Page,
    Provider,
    WaitlistStatus,
)
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers.base import Adapter, MeetingQuery, SortKey, StreamInfo
from meetingmesh.providers.timefmt import heypeers_minute, parse_instant

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
PER_PAGE = 100
MAX_PAGES = 10_000
PAGE_CONCURRENCY = 4
#: The custom range when the client sets no bound of its own.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, tzinfo=UTC)
_STATUSES = {
    "scheduled": MeetingStatus.SCHEDULED,
    "complete": MeetingStatus.COMPLETED,
    "completed": MeetingStatus.COMPLETED,
    "cancel": MeetingStatus.CANCELED,
    "canceled": MeetingStatus.CANCELED,
    "cancelled": MeetingStatus.CANCELED,
}
_WAITLIST = {s.value: s for s in WaitlistStatus}


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
class HeyPeersAdapter(Adapter):
    """HeyPeers meetings, members and their registrations."""

    organization_id: int = 0
    provider: Provider = field(default=Provider.HEYPEERS, init=False)

    @property
    def _org(self) -> str:
        return f"/api/v2/organizations/{self.organization_id}"

    async def stream_meetings(
        self, query: MeetingQuery, info: StreamInfo
    ) -> AsyncIterator[Meeting]:
        """Every meeting of the time range, sorted and filtered here."""
        if query.course_id is not None or query.room is not None:
            info.total_count = 0
            return
        rows = await self._export_range(query.starts_after, query.starts_before)
        now = self.clock()
        meetings = self._meetings(rows)
        plain = MeetingQuery(
            starts_after=query.starts_after,
            starts_before=query.starts_before,
            ongoing=query.ongoing,
        )
        info.total_count = sum(1 for m in meetings if plain.admits(m, now))
        matching = sorted(
            (m for m in meetings if query.admits(m, now)),
            key=SortKey.of,
            reverse=query.order is MeetingOrder.START_TIME_DESC,
        )
        for meeting in matching:
            yield meeting

    async def get_meeting(self, key: str) -> Meeting | None:
        """Find a synthesized key again by asking for the minute its meeting starts in."""
        try:
            start = datetime.fromtimestamp(int(key.split("-", 1)[0]), UTC)
        except (ValueError, OverflowError, OSError):
            return None
        rows = await self._export_range(start, start + timedelta(minutes=1))
        return next((m for m in self._meetings(rows) if m.key == key), None)

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
        if "/" in member_key or not member_key:
            return None
        # One call when the window is page-aligned, else pages of 100 around it.
        items = limit if offset % limit == 0 else PER_PAGE
        first_page = offset // items + 1
        last_page = (offset + limit - 1) // items + 1
        rows: list[Any] = []
        total = 0
        for number in range(first_page, last_page + 1):
            try:
                body = await self.client.get(
                    f"{self._org}/members/{member_key}/upcoming_meetings",
                    {"page": str(number), "items": str(items)},
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
        return Page(
            items=tuple(self._member_meeting(row) for row in window),
            total_count=total,
            has_more=offset + len(window) < total,
        )

    async def _export_range(self, start: datetime | None, end: datetime | None) -> list[Any]:
        """Every export row starting in [start, end), padded to whole minutes."""
        low = start or EARLIEST
        # HeyPeers' end bound is a minute; the last minute that can hold a start < end.
        high = (end - timedelta(microseconds=1)) if end is not None else LATEST
        if high < low:
            return []
        params: list[tuple[str, str]] = [
            ("reporting_days", "custom"),
            ("start_time", heypeers_minute(low)),
            ("end_time", heypeers_minute(high)),
            ("per_page", str(PER_PAGE)),
        ]
        params += [("column[]", c) for c in EXPORT_COLUMNS]
        first = await self._export_page(params, 1)
        pages = [first]
        total_pages = min(MAX_PAGES, int((first.get("metadata") or {}).get("total_pages") or 1))
        if total_pages > 1:
            limiter = asyncio.Semaphore(PAGE_CONCURRENCY)

            async def fetch(number: int) -> dict[str, Any]:
                async with limiter:
                    return await self._export_page(params, number)

            pages += await asyncio.gather(*(fetch(n) for n in range(2, total_pages + 1)))
        return [row for page in pages for row in page["meetings"]]

    async def _export_page(self, params: list[tuple[str, str]], number: int) -> dict[str, Any]:
        body = await self.client.get(
            f"{self._org}/export_meetings", [*params, ("page", str(number))]
        )
        if not isinstance(body, dict) or not isinstance(body.get("meetings"), list):
            raise self.client.error(ErrorCode.UPSTREAM_BAD_RESPONSE, "sent no meetings list")
        return body

    def _meetings(self, rows: list[Any]) -> list[Meeting]:
        seen: Counter[str] = Counter()
        meetings = []
        for row in rows:
            meeting = self._export_meeting(row)
            seen[meeting.key] += 1
            if seen[meeting.key] > 1:
                meeting = replace(meeting, key=f"{meeting.key}~{seen[meeting.key]}")
            meetings.append(meeting)
        return meetings

    def _export_meeting(self, row: Any) -> Meeting:
        try:
            start = parse_instant(row["start_time"])
            if start is None:
                raise ValueError("no start time")
            name = str(row.get("name") or "")
            leader = row.get("group_leader")
            duration = _int(row.get("duration"))
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
                end_time=None if duration is None else start + timedelta(minutes=duration),
                duration_minutes=duration,
                time_zone="UTC",
                status=_STATUSES.get(str(row.get("status")), MeetingStatus.UNKNOWN),
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
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self.client.error(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "sent an export row this gateway cannot read"
            ) from None

    def _member_meeting(self, row: Any) -> MemberMeeting:
        try:
            start = parse_instant(row["start_time"])
            if start is None:
                raise ValueError("no start time")
            name = str(row.get("name") or "")
            leader = row.get("group_leader") or None
            leader_id = None if leader is None else leader.get("id")
            host = (
                ()
                if leader is None
                else (
                    Member(
                        Provider.HEYPEERS,
                        key=f"user:{leader_id}",
                        provider_id=str(leader_id),
                        name=leader.get("name"),
                        avatar_url=leader.get("avatar"),
                    ),
                )
            )
            meeting = Meeting(
                provider=Provider.HEYPEERS,
                key=meeting_key(start, name, leader_id),
                provider_id=str(row["id"]),
                title=name,
                description=row.get("description"),
                topic=row.get("topic"),
                start_time=start,
                end_time=parse_instant(row.get("end_time")),
                duration_minutes=_int(row.get("duration_in_minutes")),
                time_zone="UTC",
                status=MeetingStatus.SCHEDULED,
                capacity=_int(row.get("max_attendees")),
                registered_count=_int(row.get("registered_attendees")),
                hosts=host,
                details=HeyPeersDetails(
                    location=row.get("location"), duration_text=row.get("duration")
                ),
            )
            waiting = row.get("waiting_status")
            return MemberMeeting(
                meeting=meeting,
                registered=bool(row.get("registered")),
                registered_at=parse_instant(row.get("registered_at")),
                waitlist_status=None if waiting is None else _WAITLIST.get(str(waiting).lower()),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self.client.error(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "sent an upcoming meeting this gateway cannot read"
            ) from None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    return int(value)
