"""Calendars and availability of the HubSpot scheduler simulator.

``Calendars`` holds each user's busy intervals (the data set's blocks plus bookings made
through the app); ``Scheduler`` answers which start times a link offers, and renders
``linkAvailability`` and ``allUsersBusyTimes``. The rules are the manual's, in
``meetingmesh.simulators.hubspot``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.hubspot_data import (
    WEEK_MS,
    HubSpotData,
    MeetingLink,
    from_ms,
    local_ms,
    to_ms,
    zone,
)

#: Months past the one holding now beyond which no link can offer anything.
_MAX_MONTH_OFFSET = 1200


class Calendars:
    """Busy times per user: the data set's blocks plus meetings booked through the app.

    Each user's intervals stay sorted and non-overlapping (a booking only lands on free
    time), so the ends are sorted too and every question is a bisect.
    """

    def __init__(self, data: HubSpotData) -> None:
        self._data = data
        self._starts: dict[str, list[int]] = {}
        self._ends: dict[str, list[int]] = {}

    def _lists(self, user_id: str) -> tuple[list[int], list[int]]:
        if user_id not in self._starts:
            busy = self._data.users[user_id].busy_times
            self._starts[user_id] = [start for start, _ in busy]
            self._ends[user_id] = [end for _, end in busy]
        return self._starts[user_id], self._ends[user_id]

    def is_free(self, user_id: str, start: int, end: int) -> bool:
        """True when no busy interval of the user overlaps ``[start, end)``."""
        starts, ends = self._lists(user_id)
        i = bisect_left(starts, end)
        return i == 0 or ends[i - 1] <= start

    def add(self, user_id: str, start: int, end: int) -> None:
        """Mark ``[start, end)`` busy (the caller checked it was free)."""
        starts, ends = self._lists(user_id)
        i = bisect_left(starts, start)
        starts.insert(i, start)
        ends.insert(i, end)

    def overlapping(self, user_id: str, low: int, high: int) -> list[dict[str, int]]:
        """Busy intervals that overlap ``[low, high)``, as HubSpot time ranges."""
        starts, ends = self._lists(user_id)
        first, last = bisect_right(ends, low), bisect_left(starts, high)
        return [{"start": starts[i], "end": ends[i]} for i in range(first, last)]


@dataclass
class Scheduler:
    """Which start times a link offers, given the calendars and now."""

    data: HubSpotData
    calendars: Calendars
    clock: Clock

    def now_ms(self) -> int:
        """Simulated now in epoch ms."""
        return to_ms(self.clock.now())

    def window(self, link: MeetingLink) -> tuple[int, int]:
        """``[first, end)`` of the advertising window: strictly after now, for N weeks."""
        now = self.now_ms()
        return now + 1, now + link.settings.weeks_to_advertise * WEEK_MS

    def grid(self, link: MeetingLink, duration: int, low: int, high: int) -> Iterator[int]:
        """Start times in ``[low, high)`` on the link's grid of working hours, ascending."""
        if high <= low:
            return
        settings, tz = link.settings, zone(link.time_zone)
        step = settings.increment_ms(duration)
        day = from_ms(low).astimezone(tz).date()
        last_day = from_ms(high - 1).astimezone(tz).date()
        while day <= last_day:
            if day.weekday() in settings.work_days:
                day_start = local_ms(day, settings.work_start_minute, tz)
                day_end = local_ms(day, settings.work_end_minute, tz)
                start = day_start
                if start < low:
                    start += -(-(low - day_start) // step) * step
                while start + duration <= day_end and start < high:
                    yield start
                    start += step
            day += timedelta(days=1)

    def free_members(self, link: MeetingLink, start: int, end: int) -> list[str]:
        """Members who could host ``[start, end)``; empty when the link cannot offer it."""
        buffer = link.settings.buffer_ms
        low, high = start - buffer, end + buffer
        if link.type == "PERSONAL_LINK":
            members: Sequence[str] = (link.organizer_user_id,)
        else:
            members = link.member_user_ids
        free = [m for m in members if self.calendars.is_free(m, low, high)]
        if link.type == "GROUP_CALENDAR" and len(free) < len(members):
            return []
        return free

    def offered(self, link: MeetingLink, duration: int, low: int, high: int) -> Iterator[int]:
        """Offered start times in ``[low, high)`` (the caller bounds it by the window)."""
        for start in self.grid(link, duration, low, high):
            if self.free_members(link, start, start + duration):
                yield start

    def availability(self, link: MeetingLink, time_zone: str, month_offset: int) -> dict[str, Any]:
        """HubSpot's ``linkAvailability`` for one calendar month in ``time_zone``."""
        first, end = self.window(link)
        month_low, month_high = self.month(time_zone, month_offset)
        low, high = max(first, month_low), min(end, month_high)
        by_duration = {
            str(duration): {
                "meetingDurationMillis": duration,
                "availabilities": [
                    {"startMillisUtc": start, "endMillisUtc": start + duration}
                    for start in self.offered(link, duration, low, high)
                ],
            }
            for duration in link.settings.durations_ms
        }
        later = max(first, month_high)
        has_more = any(
            next(self.offered(link, duration, later, end), None) is not None
            for duration in link.settings.durations_ms
        )
        return {"hasMore": has_more, "linkAvailabilityByDuration": by_duration}

    def month(self, time_zone: str, month_offset: int) -> tuple[int, int]:
        """``[start, end)`` in epoch ms of the month ``month_offset`` after now's, locally."""
        if month_offset > _MAX_MONTH_OFFSET:
            far = self.now_ms() + 2 * _MAX_MONTH_OFFSET * 31 * 24 * 3_600_000
            return far, far
        tz = zone(time_zone)
        local = self.clock.now().astimezone(tz)
        index = local.year * 12 + local.month - 1 + month_offset
        year, month = divmod(index, 12)
        next_year, next_month = divmod(index + 1, 12)
        return (
            to_ms(datetime(year, month + 1, 1, tzinfo=tz)),
            to_ms(datetime(next_year, next_month + 1, 1, tzinfo=tz)),
        )

    def busy_times(self, link: MeetingLink, low: int, high: int) -> list[dict[str, Any]]:
        """``allUsersBusyTimes``: each member's busy intervals overlapping ``[low, high)``."""
        answer = []
        for user_id in link.member_user_ids:
            user = self.data.users[user_id]
            answer.append(
                {
                    "isOffline": user.is_offline,
                    "meetingsUser": user.meetings_user(),
                    "busyTimes": self.calendars.overlapping(user_id, low, high),
                }
            )
        return answer
