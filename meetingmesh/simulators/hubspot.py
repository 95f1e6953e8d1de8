"""HubSpot scheduler v3 simulator (base URL ``https://api.hubapi.com``): the manual.

Routes (all under ``/scheduler/v3/meetings/meeting-links``; stats names are
``"METHOD /scheduler/v3/meetings/meeting-links..."`` with ``{slug}`` as routed):

``GET /scheduler/v3/meetings/meeting-links?limit&after&name&organizerUserId&type``
    ``{"results": [link...], "total": n, "paging": {"next": {"after", "link"}}}``;
    ``paging`` is omitted on the last page. Links are in ascending numeric ``id`` order,
    which is also creation order. ``limit`` defaults to 10 and must be an integer in
    1..100 (anything else is a 400, not clamped, so a caller's mistake shows). ``after``
    is an opaque cursor: base64url (no padding) of the last returned link's id; the page
    after it holds links with a greater id (keyset paging, stable under bookings).
    A cursor that is not one the simulator could have issued is a 400. ``name`` is a
    case-insensitive substring match on the link name; ``organizerUserId`` matches
    exactly; ``type`` must be PERSONAL_LINK, GROUP_CALENDAR or ROUND_ROBIN_CALENDAR
    (else 400). Empty parameters count as absent; unknown parameters are ignored (the
    documents' own example spells ``organzerUserId`` and still finds the link through
    its other filters). ``total`` counts every link that matches the filters.
    ``paging.next.link`` is this request's URL with ``after`` replaced.
``GET /scheduler/v3/meetings/meeting-links/book/{slug}?timezone=``
    Booking info: ``linkId``, ``linkType``, ``isOffline`` (the organizer has no connected
    calendar), ``allUsersBusyTimes`` (one entry per link member, organizer first, with
    the busy blocks and booked meetings that overlap the advertising window, epoch ms),
    ``customParams`` (HubSpot's ``ExternalMeetingsLinkSettings``: durations in ms,
    ``startTimeIncrementMinutes`` as the SDK's enum word such as ``"FIFTEEN"`` or
    ``"MEETING_DURATION"``, ``availability`` as ``{"MONDAY": {"start": 540, "end":
    1020}}`` minutes after local midnight in the organizer's time zone,
    ``meetingBufferTime`` in ms, ``guestSettings``, ``formFields`` ...),
    ``linkAvailability`` for month offset 0 (as the availability page) and
    ``brandingMetadata``.
``GET /scheduler/v3/meetings/meeting-links/book/availability-page/{slug}?timezone&monthOffset``
    ``{"linkAvailability": {"hasMore", "linkAvailabilityByDuration": {"<ms>":
    {"meetingDurationMillis", "availabilities": [{"startMillisUtc", "endMillisUtc"}]}}},
    "allUsersBusyTimes": [...]}`` with one key per link duration (ms, as a string).
    The month is the calendar month in the *requested* time zone, ``monthOffset``
    months after the one holding now (default 0; a non-negative integer, else 400).
    Slots start on the link's working days, from the start of its working hours in the
    organizer's time zone, every ``startTimeIncrementMinutes`` (the duration itself for
    ``MEETING_DURATION``), and end by the end of working hours. A slot is offered when it
    starts strictly after now and before now + ``weeksToAdvertise`` weeks, and its
    members are free for the slot widened by ``meetingBufferTime`` on both sides:
    the organizer for a PERSONAL_LINK, every member for a GROUP_CALENDAR, at least one
    member for a ROUND_ROBIN_CALENDAR. Slots are ascending. ``hasMore`` is true when any
    later month inside the advertising window still offers a slot. ``allUsersBusyTimes``
    covers the requested month.
``POST /scheduler/v3/meetings/meeting-links/book?timezone=`` (and, as the seed document
also says, ``POST .../book/{slug}``: the path slug wins and a different body slug is a 400)
    Body ``{slug, firstName, lastName, email, startTime, duration, timezone?, locale?,
    guestEmails?, formFields?, legalConsentResponses?, likelyAvailableUserIds?}``.
    ``startTime`` is epoch ms (a JSON integer or a string of digits) or an ISO 8601
    string (an offset-less one is read in the booking time zone); ``duration`` is ms and
    must be one of the link's durations (minutes are refused, not guessed). The booking
    time zone is the body's ``timezone``, else the query's; one of them is required.
    The standard questions (firstName, lastName, email) are answered by the top-level
    fields; custom form questions by ``formFields``, where an unknown name is refused.
    200 answers ``{bookingTimezone, calendarEventId, contactId, duration, start, end,
    subject, isOffline, guestEmails, formFields, legalConsentResponses, locale,
    location?, webConferenceUrl?, webConferenceMeetingId?}``: ``start``/``end`` are ISO
    8601 UTC strings with milliseconds (as the SDK types them), ``duration`` is ms,
    ``subject`` is "<first> <last> and <organizer full name>", ``contactId`` is stable
    per email, ``calendarEventId`` is empty when the organizer is offline, web
    conference fields only for links with a conference. A booking blocks the slot for
    the assigned members (PERSONAL: organizer; GROUP: everyone; ROUND_ROBIN: the first
    free of ``likelyAvailableUserIds`` then of the members), so it disappears from the
    availability of every link those users belong to; a round robin slot stays offered
    while another member is free. Bookings are kept in ``app.state.bookings``.

Errors use HubSpot's body ``{"status": "error", "message", "correlationId",
"category", "errors"?: [{"message", "in", "code"}]}``. Validation errors are 400
VALIDATION_ERROR with one entry per invalid field; ``in`` names the field (``formFields.<name>``
for a form question) and ``code`` is one of REQUIRED, INVALID_TYPE, INVALID_FORMAT,
INVALID_EMAIL, INVALID_TIMEZONE, INVALID_DURATION, INVALID_DATETIME,
START_TIME_IN_PAST, START_TIME_NOT_OFFERED (off the grid, outside working hours or the
advertising window), SLOT_UNAVAILABLE (busy or already booked), GUESTS_NOT_ALLOWED,
TOO_MANY_GUESTS, UNKNOWN_FIELD, INVALID_OPTION, SLUG_MISMATCH, OUT_OF_RANGE. Query
parameters are validated before the slug is looked up; an unknown slug is 404
OBJECT_NOT_FOUND. Authentication (checked first) is ``Authorization: Bearer <TOKEN>``:
a missing or malformed header and a wrong token are both 401 INVALID_AUTHENTICATION,
with different messages. Unknown routes are 404 OBJECT_NOT_FOUND in the same body.
Injected errors use the same body (429: category RATE_LIMITS, ``errorType`` RATE_LIMIT,
``policyName`` TEN_SECONDLY_ROLLING and ``Retry-After``). Every response carries
``X-HubSpot-RateLimit-Max: 100``, ``X-HubSpot-RateLimit-Interval-Milliseconds: 10000``
and ``X-HubSpot-RateLimit-Remaining`` (requests left in the current fixed 10 s window,
never below 0; nothing is actually limited).

Data: ``max(12, size // 10)`` links (see ``hubspot_data``); ids of links and users are
numeric strings as in the SDK types; the documents' example link ``menelson`` (organizer
``1234567``, PERSONAL_LINK, default, link ``https://meetings.hubspot.com/menelson``) is
in every data set, the first link in id order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.fake import iso_ms
from meetingmesh.simulators.faults import Faults
from meetingmesh.simulators.harness import Harness, bearer_token, json_response
from meetingmesh.simulators.hubspot_data import (
    DEFAULT_CLOCK,
    LINK_TYPES,
    WEEK_MS,
    HubSpotData,
    MeetingLink,
    from_ms,
    local_ms,
    to_ms,
    zone,
)

__all__ = ["TOKEN", "Booking", "HubSpotData", "create_app"]

TOKEN = "sim-hubspot-token"
PROVIDER_NAME = "hubspot"
BASE = "/scheduler/v3/meetings/meeting-links"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
RATE_LIMIT_MAX = 100
RATE_LIMIT_INTERVAL_MS = 10_000
#: Months past the one holding now beyond which no link can offer anything.
_MAX_MONTH_OFFSET = 1200
_CONTACT_ID_BASE = 50_000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_INTEGER = re.compile(r"-?\d{1,9}")
_EPOCH_MS = re.compile(r"\d{1,15}")
_MISSING_AUTH = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_INVALID_AUTH = "The OAuth token used to make this call expired or is invalid."
_INJECTED: dict[int, tuple[str, str]] = {
    400: ("VALIDATION_ERROR", "Invalid input."),
    401: ("INVALID_AUTHENTICATION", _MISSING_AUTH),
    403: ("MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call."),
    404: ("OBJECT_NOT_FOUND", "Resource not found."),
    429: ("RATE_LIMITS", "You have reached your ten_secondly_rolling limit."),
}
_SERVER_ERROR = ("INTERNAL_ERROR", "internal error")


# --- error bodies ---------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One entry of a HubSpot error's ``errors`` list: which input is wrong, and how."""

    field: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        """The entry as HubSpot prints it."""
        return {"message": self.message, "in": self.field, "code": self.code}


def error_response(
    status: int,
    category: str,
    message: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> Response:
    """A HubSpot error body with a fresh correlation id."""
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **(extra or {}),
    }
    if errors:
        body["errors"] = [e.to_json() for e in errors]
    return json_response(body, status_code=status, headers=headers)


def validation_error(errors: Sequence[FieldError]) -> Response:
    """400 VALIDATION_ERROR naming every invalid field."""
    detail = "; ".join(e.message for e in errors)
    return error_response(400, "VALIDATION_ERROR", f"Invalid input: {detail}", errors)


def link_not_found(slug: str) -> Response:
    """404 for a slug no meeting link has."""
    return error_response(404, "OBJECT_NOT_FOUND", f"No meeting link found with slug '{slug}'.")


def render_error(status: int, retry_after: int) -> Response:
    """An injected error of ``status`` in HubSpot's body (429 with ``Retry-After``)."""
    category, message = _INJECTED.get(status, _SERVER_ERROR)
    if status == 429:
        return error_response(
            429,
            category,
            message,
            headers={"Retry-After": str(retry_after)},
            extra={"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"},
        )
    return error_response(status, category, message)


async def _http_exception(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return error_response(404, "OBJECT_NOT_FOUND", f"No route for {request.url.path}.")
    category = "VALIDATION_ERROR" if status < 500 else _SERVER_ERROR[0]
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
    message = f"HTTP {status} for {request.method} {request.url.path}."
    return error_response(status, category, message, headers=headers)


class RateLimitHeaders:
    """Adds HubSpot's rate-limit headers to every response; counts API requests per 10 s."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.window_started = time.monotonic()
        self.used = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "/_sim/" not in scope["path"]:
            now = time.monotonic()
            if now - self.window_started >= RATE_LIMIT_INTERVAL_MS / 1000:
                self.window_started, self.used = now, 0
            self.used += 1
        remaining = max(0, RATE_LIMIT_MAX - self.used)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-hubspot-ratelimit-max", str(RATE_LIMIT_MAX).encode()),
                    (
                        b"x-hubspot-ratelimit-interval-milliseconds",
                        str(RATE_LIMIT_INTERVAL_MS).encode(),
                    ),
                    (b"x-hubspot-ratelimit-remaining", str(remaining).encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- calendars and availability --------------------------------------------------------


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


# --- bookings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    """A meeting booked through the API (app state, never part of the data set)."""

    link_id: str
    slug: str
    user_ids: tuple[str, ...]
    start_ms: int
    end_ms: int
    email: str
    response: dict[str, Any]


@dataclass
class _BookingRequest:
    """A booking body that passed validation."""

    link: MeetingLink
    first_name: str
    last_name: str
    email: str
    start: int
    duration: int
    time_zone: str
    locale: str
    guest_emails: list[str]
    form_values: dict[str, str]
    legal_consent: list[dict[str, Any]]
    likely_user_ids: list[str]


@dataclass
class _BodyValidator:
    """Collects one error per invalid field of a booking body."""

    body: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)

    def fail(self, name: str, code: str, message: str) -> None:
        """Record one invalid field."""
        self.errors.append(FieldError(name, code, message))

    def required_text(self, name: str) -> str:
        """A non-blank string field, or an error."""
        value = self.body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.fail(name, "REQUIRED", f"{name} is required")
            return ""
        if not isinstance(value, str):
            self.fail(name, "INVALID_TYPE", f"{name} must be a string")
            return ""
        return value.strip()

    def optional_list(self, name: str) -> list[Any]:
        """An optional JSON array (absent or null is empty)."""
        value = self.body.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(name, "INVALID_TYPE", f"{name} must be an array")
            return []
        return value


def _valid_zone(name: str) -> bool:
    return name in _zone_names()


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_start(value: Any, time_zone: str | None) -> int | None:
    """Epoch ms from an integer, a digit string or an ISO 8601 string; None if unreadable."""
    if _is_int(value):
        return int(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _EPOCH_MS.fullmatch(text):
        return int(text)
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone(time_zone or "UTC"))
    return to_ms(instant)


def validate_booking(
    body: dict[str, Any], link: MeetingLink, query_zone: str | None, scheduler: Scheduler
) -> _BookingRequest | list[FieldError]:
    """Check a booking body against the link; the request, or every field error found."""
    check = _BodyValidator(body)
    first_name = check.required_text("firstName")
    last_name = check.required_text("lastName")
    email = check.required_text("email")
    if email and not _EMAIL.fullmatch(email):
        check.fail("email", "INVALID_EMAIL", f"email '{email}' is not a valid email address")
    time_zone = _booking_zone(check, query_zone)
    duration = _booking_duration(check, link)
    start = _booking_start(check, link, duration, time_zone, scheduler)
    guests = _guest_emails(check, link)
    form_values = _form_values(check, link)
    locale = body.get("locale")
    if locale is not None and not isinstance(locale, str):
        check.fail("locale", "INVALID_TYPE", "locale must be a string")
    consent = check.optional_list("legalConsentResponses")
    if not all(
        isinstance(c, dict)
        and isinstance(c.get("communicationTypeId"), str)
        and isinstance(c.get("consented"), bool)
        for c in consent
    ):
        check.fail(
            "legalConsentResponses",
            "INVALID_TYPE",
            "legalConsentResponses must be objects with communicationTypeId and consented",
        )
    likely = check.optional_list("likelyAvailableUserIds")
    if not all(isinstance(u, str) for u in likely):
        check.fail(
            "likelyAvailableUserIds", "INVALID_TYPE", "likelyAvailableUserIds must be strings"
        )
    if check.errors or start is None or duration is None or time_zone is None:
        return check.errors
    return _BookingRequest(
        link=link,
        first_name=first_name,
        last_name=last_name,
        email=email,
        start=start,
        duration=duration,
        time_zone=time_zone,
        locale=locale if isinstance(locale, str) and locale else link.settings.locale,
        guest_emails=guests,
        form_values=form_values,
        legal_consent=consent,
        likely_user_ids=likely,
    )


def _booking_zone(check: _BodyValidator, query_zone: str | None) -> str | None:
    value = check.body.get("timezone")
    if value is None or value == "":
        value = query_zone
    if value is None or value == "":
        check.fail("timezone", "REQUIRED", "timezone is required (in the body or the query)")
        return None
    if not isinstance(value, str) or not _valid_zone(value):
        check.fail("timezone", "INVALID_TIMEZONE", f"timezone '{value}' is not an IANA time zone")
        return None
    return value


def _booking_duration(check: _BodyValidator, link: MeetingLink) -> int | None:
    value = check.body.get("duration")
    allowed = link.settings.durations_ms
    if value is None:
        check.fail("duration", "REQUIRED", "duration is required")
    elif not _is_int(value):
        check.fail("duration", "INVALID_TYPE", "duration must be an integer number of milliseconds")
    elif value not in allowed:
        check.fail(
            "duration",
            "INVALID_DURATION",
            f"duration {value} ms is not offered by this link (offered: {list(allowed)})",
        )
    else:
        return int(value)
    return None


def _booking_start(
    check: _BodyValidator,
    link: MeetingLink,
    duration: int | None,
    time_zone: str | None,
    scheduler: Scheduler,
) -> int | None:
    value = check.body.get("startTime")
    if value is None or value == "":
        check.fail("startTime", "REQUIRED", "startTime is required")
        return None
    start = _parse_start(value, time_zone)
    if start is None:
        check.fail(
            "startTime",
            "INVALID_DATETIME",
            "startTime must be epoch milliseconds or an ISO 8601 date-time",
        )
        return None
    first, end = scheduler.window(link)
    if start < first:
        check.fail("startTime", "START_TIME_IN_PAST", "startTime is in the past")
        return None
    if duration is None:
        return start
    if start >= end or next(scheduler.grid(link, duration, start, start + 1), None) != start:
        check.fail(
            "startTime",
            "START_TIME_NOT_OFFERED",
            "startTime is not a start time this link offers for that duration",
        )
        return None
    if not scheduler.free_members(link, start, start + duration):
        check.fail(
            "startTime",
            "SLOT_UNAVAILABLE",
            "startTime is no longer available (already booked or busy)",
        )
        return None
    return start


def _guest_emails(check: _BodyValidator, link: MeetingLink) -> list[str]:
    guests = check.optional_list("guestEmails")
    if not guests:
        return []
    settings = link.settings
    if not all(isinstance(g, str) and _EMAIL.fullmatch(g) for g in guests):
        check.fail(
            "guestEmails", "INVALID_EMAIL", "every guestEmails entry must be an email address"
        )
    elif not settings.can_add_guests:
        check.fail("guestEmails", "GUESTS_NOT_ALLOWED", "this link does not allow guests")
    elif len(guests) > settings.max_guest_count:
        check.fail(
            "guestEmails",
            "TOO_MANY_GUESTS",
            f"at most {settings.max_guest_count} guests may be added, got {len(guests)}",
        )
    return [str(g) for g in guests]


def _form_values(check: _BodyValidator, link: MeetingLink) -> dict[str, str]:
    entries = check.optional_list("formFields")
    values: dict[str, str] = {}
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("value"), str)
        ):
            check.fail(
                "formFields", "INVALID_TYPE", "formFields entries must be {name, value} strings"
            )
            return {}
        values[entry["name"]] = entry["value"]
    questions = {f.name: f for f in link.settings.form_fields}
    for name in values:
        if name not in questions:
            check.fail(
                f"formFields.{name}", "UNKNOWN_FIELD", f"form field '{name}' is not on this link"
            )
    for question in link.settings.form_fields:
        if not question.is_custom:
            continue  # the top-level firstName, lastName and email answer these
        answer = values.get(question.name, "").strip()
        if not answer:
            if question.is_required:
                check.fail(
                    f"formFields.{question.name}",
                    "REQUIRED",
                    f"form field '{question.name}' is required",
                )
        elif question.options and answer not in question.options:
            check.fail(
                f"formFields.{question.name}",
                "INVALID_OPTION",
                f"form field '{question.name}' must be one of {list(question.options)}",
            )
    return values


@dataclass
class BookingDesk:
    """Books validated requests: blocks calendars, remembers contacts and bookings."""

    data: HubSpotData
    calendars: Calendars
    scheduler: Scheduler
    bookings: list[Booking] = field(default_factory=list)
    contacts: dict[str, str] = field(default_factory=dict)

    def book(self, request: _BookingRequest) -> dict[str, Any]:
        """Record the booking and answer HubSpot's ``ExternalMeetingBookingResponse``."""
        link, start = request.link, request.start
        end = start + request.duration
        hosts = self._assign(link, start, end, request.likely_user_ids)
        for user_id in hosts:
            self.calendars.add(user_id, start, end)
        contact_id = self.contacts.setdefault(
            request.email.lower(), str(_CONTACT_ID_BASE + len(self.contacts) + 1)
        )
        organizer = self.data.users[link.organizer_user_id]
        digest = hashlib.sha256(f"{link.id}:{start}:{len(self.bookings)}".encode()).hexdigest()
        response: dict[str, Any] = {
            "bookingTimezone": request.time_zone,
            "calendarEventId": "" if organizer.is_offline else digest[:26],
            "contactId": contact_id,
            "duration": request.duration,
            "start": iso_ms(from_ms(start)),
            "end": iso_ms(from_ms(end)),
            "subject": f"{request.first_name} {request.last_name} and {organizer.full_name}",
            "isOffline": organizer.is_offline,
            "guestEmails": request.guest_emails,
            "formFields": self._validated_fields(request),
            "legalConsentResponses": request.legal_consent,
            "locale": request.locale,
        }
        if link.settings.location is not None:
            response["location"] = link.settings.location
        conference = _web_conference(link.settings.web_conference, digest)
        if conference is not None:
            response["webConferenceUrl"], response["webConferenceMeetingId"] = conference
        self.bookings.append(
            Booking(link.id, link.slug, hosts, start, end, request.email, response)
        )
        return response

    def _assign(
        self, link: MeetingLink, start: int, end: int, likely: list[str]
    ) -> tuple[str, ...]:
        free = self.scheduler.free_members(link, start, end)
        if link.type != "ROUND_ROBIN_CALENDAR":
            return tuple(free)
        preferred = [user_id for user_id in likely if user_id in free]
        return ((preferred or free)[0],)

    @staticmethod
    def _validated_fields(request: _BookingRequest) -> list[dict[str, Any]]:
        answers = {
            "firstName": request.first_name,
            "lastName": request.last_name,
            "email": request.email,
            **{
                k: v
                for k, v in request.form_values.items()
                if k not in ("firstName", "lastName", "email")
            },
        }
        fields = []
        for question in request.link.settings.form_fields:
            value = answers.get(question.name)
            if value is None:
                continue
            fields.append(
                {
                    "name": question.name,
                    "label": question.label,
                    "value": value,
                    "isCustom": question.is_custom,
                    "fieldType": question.field_type,
                }
            )
        return fields


def _web_conference(kind: str | None, digest: str) -> tuple[str, str] | None:
    if kind == "ZOOM":
        meeting_id = str(int(digest[:12], 16))[:11]
        return f"https://zoom.us/j/{meeting_id}", meeting_id
    if kind == "GOOGLE_MEET":
        letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in digest[:10])
        code = f"{letters[:3]}-{letters[3:7]}-{letters[7:]}"
        return f"https://meet.google.com/{code}", code
    if kind == "MICROSOFT_TEAMS":
        return f"https://teams.microsoft.com/l/meetup-join/{digest[:32]}", digest[:32]
    return None


# --- HTTP --------------------------------------------------------------------------------


def _encode_cursor(link_id: str) -> str:
    return base64.urlsafe_b64encode(link_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    """The link id behind a cursor this simulator issued, or None for anything else."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        text = raw.decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not re.fullmatch(r"[1-9]\d{0,17}", text) or _encode_cursor(text) != cursor:
        return None
    return int(text)


def _param(request: Request, name: str) -> str | None:
    """A query parameter's value; empty counts as absent."""
    value = request.query_params.get(name)
    return value if value else None


def _zone_param(request: Request, errors: list[FieldError]) -> str:
    value = _param(request, "timezone")
    if value is None:
        errors.append(FieldError("timezone", "REQUIRED", "timezone is a required query parameter"))
        return ""
    if not _valid_zone(value):
        errors.append(
            FieldError(
                "timezone", "INVALID_TIMEZONE", f"timezone '{value}' is not an IANA time zone"
            )
        )
        return ""
    return value


def _int_param(
    request: Request, name: str, default: int, low: int, high: int, errors: list[FieldError]
) -> int:
    value = _param(request, name)
    if value is None:
        return default
    if not _INTEGER.fullmatch(value):
        errors.append(
            FieldError(name, "INVALID_FORMAT", f"{name} must be an integer, got '{value}'")
        )
        return default
    number = int(value)
    if not low <= number <= high:
        errors.append(
            FieldError(
                name, "OUT_OF_RANGE", f"{name} must be between {low} and {high}, got {number}"
            )
        )
        return default
    return number


Handler = Callable[[Request], Awaitable[Response]]


def create_app(
    data: HubSpotData,
    *,
    clock: Clock = DEFAULT_CLOCK,
    token: str = TOKEN,
    faults: Faults | None = None,
) -> Starlette:
    """The HubSpot scheduler v3 simulator over ``data`` (routes relative to the base URL)."""
    harness = Harness(PROVIDER_NAME, render_error, faults=faults or Faults())
    calendars = Calendars(data)
    scheduler = Scheduler(data, calendars, clock)
    desk = BookingDesk(data, calendars, scheduler)

    def endpoint(name: str) -> Callable[[Handler], Handler]:
        def wrap(handler: Handler) -> Handler:
            async def guarded(request: Request) -> Response:
                # HubSpot answers bad credentials before anything else about the request.
                scheme_token = bearer_token(request)
                if scheme_token is None:
                    return error_response(401, "INVALID_AUTHENTICATION", _MISSING_AUTH)
                if scheme_token != token:
                    return error_response(401, "INVALID_AUTHENTICATION", _INVALID_AUTH)
                try:
                    return await handler(request)
                except Exception:  # a simulator answers in the provider's body, never a traceback
                    return error_response(500, *_SERVER_ERROR)

            guarded.__name__ = handler.__name__
            return harness.endpoint(name)(guarded)

        return wrap

    @endpoint(f"GET {BASE}")
    async def list_links(request: Request) -> Response:
        errors: list[FieldError] = []
        limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
        kind = _param(request, "type")
        if kind is not None and kind not in LINK_TYPES:
            errors.append(
                FieldError("type", "INVALID_TYPE", f"type must be one of {', '.join(LINK_TYPES)}")
            )
        cursor = _param(request, "after")
        after_id = 0
        if cursor is not None:
            decoded = _decode_cursor(cursor)
            if decoded is None:
                errors.append(
                    FieldError(
                        "after", "INVALID_FORMAT", f"after '{cursor}' is not a valid paging cursor"
                    )
                )
            else:
                after_id = decoded
        if errors:
            return validation_error(errors)
        positions = _matching(
            data, _param(request, "organizerUserId"), kind, _param(request, "name")
        )
        first = bisect_left(positions, bisect_right(data.id_keys, after_id))
        page = positions[first : first + limit]
        body: dict[str, Any] = {
            "results": [data.links[p].metadata() for p in page],
            "total": len(positions),
        }
        if first + limit < len(positions):
            next_cursor = _encode_cursor(data.links[page[-1]].id)
            body["paging"] = {
                "next": {
                    "after": next_cursor,
                    "link": str(request.url.include_query_params(after=next_cursor)),
                }
            }
        return json_response(body)

    @endpoint(f"GET {BASE}/book/{{slug}}")
    async def booking_info(request: Request) -> Response:
        errors: list[FieldError] = []
        time_zone = _zone_param(request, errors)
        if errors:
            return validation_error(errors)
        slug = request.path_params["slug"]
        link = data.by_slug.get(slug)
        if link is None:
            return link_not_found(slug)
        first, end = scheduler.window(link)
        organizer = data.users[link.organizer_user_id]
        return json_response(
            {
                "linkId": link.id,
                "linkType": link.type,
                "isOffline": organizer.is_offline,
                "allUsersBusyTimes": scheduler.busy_times(link, first - 1, end),
                "customParams": link.settings.to_json(),
                "linkAvailability": scheduler.availability(link, time_zone, 0),
                "brandingMetadata": {
                    "logoAltText": "Example Co",
                    "showMarketingAd": False,
                    "showSalesAd": False,
                    "companyName": "Example Co",
                    "companyDomain": "example.com",
                    "primaryColor": "#ff7a59",
                },
            }
        )

    @endpoint(f"GET {BASE}/book/availability-page/{{slug}}")
    async def availability_page(request: Request) -> Response:
        errors: list[FieldError] = []
        time_zone = _zone_param(request, errors)
        month_offset = _int_param(request, "monthOffset", 0, 0, 999_999_999, errors)
        if errors:
            return validation_error(errors)
        slug = request.path_params["slug"]
        link = data.by_slug.get(slug)
        if link is None:
            return link_not_found(slug)
        month_low, month_high = scheduler.month(time_zone, month_offset)
        return json_response(
            {
                "linkAvailability": scheduler.availability(link, time_zone, month_offset),
                "allUsersBusyTimes": scheduler.busy_times(link, month_low, month_high),
            }
        )

    async def book(request: Request, path_slug: str | None) -> Response:
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError) as exc:
            return error_response(
                400,
                "VALIDATION_ERROR",
                f"Invalid input JSON: {exc}",
                [FieldError("body", "INVALID_FORMAT", "the body must be JSON")],
            )
        if not isinstance(body, dict):
            return validation_error(
                [FieldError("body", "INVALID_TYPE", "the body must be a JSON object")]
            )
        body_slug = body.get("slug")
        if path_slug is not None and body_slug not in (None, "", path_slug):
            return validation_error(
                [FieldError("slug", "SLUG_MISMATCH", "the body slug differs from the path slug")]
            )
        slug = path_slug or body_slug
        if slug is None or slug == "":
            return validation_error([FieldError("slug", "REQUIRED", "slug is required")])
        if not isinstance(slug, str):
            return validation_error([FieldError("slug", "INVALID_TYPE", "slug must be a string")])
        link = data.by_slug.get(slug)
        if link is None:
            return link_not_found(slug)
        checked = validate_booking(body, link, _param(request, "timezone"), scheduler)
        if isinstance(checked, list):
            return validation_error(checked)
        return json_response(desk.book(checked))

    @endpoint(f"POST {BASE}/book")
    async def book_by_body(request: Request) -> Response:
        return await book(request, None)

    @endpoint(f"POST {BASE}/book/{{slug}}")
    async def book_by_path(request: Request) -> Response:
        return await book(request, request.path_params["slug"])

    routes = [
        Route(BASE, list_links, methods=["GET"]),
        Route(f"{BASE}/book", book_by_body, methods=["POST"]),
        Route(f"{BASE}/book/availability-page/{{slug}}", availability_page, methods=["GET"]),
        Route(f"{BASE}/book/{{slug}}", booking_info, methods=["GET"]),
        Route(f"{BASE}/book/{{slug}}", book_by_path, methods=["POST"]),
        *harness.control_routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RateLimitHeaders)],
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.harness = harness
    app.state.data = data
    app.state.bookings = desk.bookings
    app.state.calendars = calendars
    return app


def _matching(
    data: HubSpotData, organizer: str | None, kind: str | None, name: str | None
) -> Sequence[int]:
    """Positions (ascending, so ids ascend too) of the links that pass every filter."""
    positions: Sequence[int]
    if organizer is not None:
        positions = data.by_organizer.get(organizer, [])
        if kind is not None:
            positions = [p for p in positions if data.links[p].type == kind]
    elif kind is not None:
        positions = data.by_type[kind]
    else:
        positions = range(len(data.links))
    if name is not None:
        needle = name.lower()
        positions = [p for p in positions if needle in data.lower_names[p]]
    return positions
