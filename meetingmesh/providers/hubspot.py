"""HubSpot scheduler v3: scheduling links, booking info, availability and booking.

Contract (provider-docs/hubspot-meetings-scheduler.txt, SUPPLEMENT.md), under
``/scheduler/v3/meetings/meeting-links``: the list (``limit``, ``after``, ``name``,
``organizerUserId``, ``type``; ``paging.next.after``), ``book/{slug}``,
``book/availability-page/{slug}`` (slots in epoch milliseconds keyed by the duration
in milliseconds) and ``POST book``. Errors are ``{status, message, category,
errors[{message, in}]}``; ``in`` names the request field at fault.

The booking request sends ``startTime`` and ``duration`` as epoch milliseconds (the
live API's behaviour per SUPPLEMENT.md). A booking is never retried: it is made once or
reported as not made. There is no link-by-slug endpoint: ``get_link`` walks the list
(100 links a call) until it finds the slug.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from meetingmesh.domain import (
    AvailabilitySlot,
    Booking,
    BookingInfo,
    BookingRequest,
    FormField,
    Member,
    Page,
    Provider,
    SchedulingLink,
    SchedulingLinkType,
    TimeRange,
)
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers.base import Adapter, LinkFilter, MemberDirectory, Scheduler
from meetingmesh.providers.rows import BadRow, Notes, read_rows, report, unknown_word
from meetingmesh.providers.timefmt import epoch_ms, parse_instant

LINKS = "/scheduler/v3/meetings/meeting-links"
MAX_LIMIT = 100
#: A bound on the pages ``get_link`` reads (100,000 links).
MAX_LINK_PAGES = 1000
#: HubSpot request fields -> the ``BookMeetingInput`` fields a client sent them as.
BOOKING_FIELDS = {
    "slug": "slug",
    "firstName": "firstName",
    "lastName": "lastName",
    "email": "email",
    "startTime": "startTime",
    "duration": "durationMinutes",
    "timezone": "timezone",
    "guestEmails": "guestEmails",
}
_TYPES = {t.value: t for t in SchedulingLinkType}
#: ``startTimeIncrementMinutes`` arrives as the SDK's enum word; ``MEETING_DURATION``
#: (steps of the meeting's own length) has no single number and maps to None.
_INCREMENTS = {
    "FIVE": 5,
    "TEN": 10,
    "FIFTEEN": 15,
    "TWENTY": 20,
    "THIRTY": 30,
    "FORTY_FIVE": 45,
    "SIXTY": 60,
    "NINETY": 90,
    "ONE_HUNDRED_TWENTY": 120,
}
_SLUG = re.compile(r"^[A-Za-z0-9._~-]+$")


def read_message(body: Any) -> str | None:
    """HubSpot's error text: ``message``, then each ``errors[].message``."""
    if not isinstance(body, dict):
        return None
    return str(body["message"]) if body.get("message") else None


@dataclass
class HubSpotAdapter(Adapter, Scheduler, MemberDirectory):
    """HubSpot scheduling pages and bookings."""

    provider: Provider = field(default=Provider.HUBSPOT, init=False)

    async def get_member(self, key: str) -> Member | None:
        """The member a HubSpot user id names, as the scheduler shows it (no upstream call).

        The scheduler API has no user endpoint; organizers come with booking information.
        """
        return Member(Provider.HUBSPOT, key=key, provider_id=key)

    async def list_links(
        self, limit: int, after: str | None, link_filter: LinkFilter
    ) -> Page[SchedulingLink]:
        """One page of meeting links, with HubSpot's ``after`` token for the next."""
        params: dict[str, str] = {"limit": str(max(1, min(MAX_LIMIT, limit)))}
        if after:
            params["after"] = after
        if link_filter.name:
            params["name"] = link_filter.name
        if link_filter.organizer_id:
            params["organizerUserId"] = link_filter.organizer_id
        if link_filter.type is not None:
            params["type"] = link_filter.type.value
        body = await self.client.get(LINKS, params)
        try:
            links = read_rows(Provider.HUBSPOT, "scheduling link", body["results"], self._link)
            report(links.problems)
            next_after = ((body.get("paging") or {}).get("next") or {}).get("after")
            total = body.get("total")
            return Page(
                items=links,
                total_count=None if total is None else int(total),
                has_more=bool(next_after),
                next_token=None if next_after is None else str(next_after),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._bad("a link list") from None

    async def get_link(self, slug: str) -> SchedulingLink | None:
        """The link with ``slug``, by walking the list (see the module docstring)."""
        if not _SLUG.match(slug):
            return None
        after: str | None = None
        for _ in range(MAX_LINK_PAGES):
            page = await self.list_links(MAX_LIMIT, after, LinkFilter())
            for link in page.items:
                if link.slug == slug:
                    return link
            if not page.has_more:
                return None
            after = page.next_token
        return None

    async def booking_info(self, slug: str, timezone: str) -> BookingInfo | None:
        """``GET book/{slug}``: durations, form fields, organizers and busy times."""
        body = await self._get_or_none(LINKS + "/book/{slug}", slug, timezone)
        if body is None:
            return None
        try:
            params = body.get("customParams") or {}
            guests = params.get("guestSettings") or {}
            organizers = []
            busy: list[TimeRange] = []
            for entry in body.get("allUsersBusyTimes") or ():
                user = entry.get("meetingsUser") or {}
                profile = user.get("userProfile") or {}
                user_id = str(user.get("userId") or user.get("id"))
                organizers.append(
                    Member(
                        Provider.HUBSPOT,
                        key=user_id,
                        provider_id=user_id,
                        name=profile.get("fullName")
                        or " ".join(
                            p for p in (profile.get("firstName"), profile.get("lastName")) if p
                        )
                        or None,
                        email=profile.get("email"),
                    )
                )
                busy.extend(_range(b) for b in entry.get("busyTimes") or ())
            buffer_ms = params.get("meetingBufferTime")
            return BookingInfo(
                link_id=str(body.get("linkId")),
                durations_minutes=tuple(int(d) // 60_000 for d in params.get("durations") or ()),
                start_time_increment_minutes=_increment(params.get("startTimeIncrementMinutes")),
                weeks_to_advertise=params.get("weeksToAdvertise"),
                buffer_minutes=None if buffer_ms is None else int(buffer_ms) // 60_000,
                can_add_guests=guests.get("canAddGuests"),
                max_guest_count=guests.get("maxGuestCount"),
                location=_text(params.get("location")),
                is_offline=body.get("isOffline"),
                form_fields=tuple(
                    FormField(
                        name=str(f.get("name")),
                        label=f.get("label"),
                        field_type=f.get("fieldType") or f.get("type"),
                        required=bool(f.get("isRequired")),
                        options=tuple(_text(o) or "" for o in f.get("options") or ()),
                    )
                    for f in params.get("formFields") or ()
                ),
                organizers=tuple(organizers),
                busy_times=tuple(sorted(busy, key=lambda r: r.start)),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._bad("booking information") from None

    async def availability(
        self, slug: str, timezone: str, month_offset: int
    ) -> tuple[AvailabilitySlot, ...]:
        """``GET book/availability-page/{slug}``: every slot, all durations, by start time."""
        body = await self._get_or_none(
            LINKS + "/book/availability-page/{slug}",
            slug,
            timezone,
            {"monthOffset": str(month_offset)},
        )
        if body is None:
            return ()
        try:
            by_duration = (body.get("linkAvailability") or {}).get("linkAvailabilityByDuration")
            slots = []
            for key, entry in (by_duration or {}).items():
                minutes = int(entry.get("meetingDurationMillis") or key) // 60_000
                for slot in entry.get("availabilities") or ():
                    window = _range({"start": slot["startMillisUtc"], "end": slot["endMillisUtc"]})
                    slots.append(AvailabilitySlot(window.start, window.end, minutes))
            return tuple(sorted(slots, key=lambda s: (s.start, s.duration_minutes)))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._bad("availability") from None

    async def book(self, request: BookingRequest) -> Booking:
        """``POST book``, once; validation errors name the ``BookMeetingInput`` field."""
        body: dict[str, Any] = {
            "slug": request.slug,
            "firstName": request.first_name,
            "lastName": request.last_name,
            "email": request.email,
            "startTime": epoch_ms(request.start_time),
            "duration": request.duration_minutes * 60_000,
            "timezone": request.timezone,
            "formFields": [],
            "legalConsentResponses": [],
        }
        if request.guest_emails:
            body["guestEmails"] = list(request.guest_emails)
        try:
            answer = await self.client.request(
                "POST", LINKS + "/book", params={"timezone": request.timezone}, body=body
            )
        except GatewayError as exc:
            # Whether or not the booking was made, availability may have changed.
            self.client.clear_cache()
            if exc.code is not ErrorCode.BAD_USER_INPUT:
                raise
            refusals = [
                GatewayError(
                    ErrorCode.BAD_USER_INPUT,
                    f"HubSpot refused the booking: {message}",
                    provider=Provider.HUBSPOT,
                    field=name,
                )
                for name, message in validation_fields(exc.upstream_body)
            ] or [exc]
            refusals[0].related = tuple(refusals[1:])
            raise refusals[0] from None
        self.client.clear_cache()
        try:
            start = parse_instant(answer["start"])
            end = parse_instant(answer["end"])
            if start is None or end is None:
                raise ValueError("no start or end")
            return Booking(
                start=start,
                end=end,
                calendar_event_id=_text(answer.get("calendarEventId")),
                subject=answer.get("subject"),
                timezone=answer.get("bookingTimezone"),
                web_conference_url=answer.get("webConferenceUrl"),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._bad("a booking confirmation") from None

    async def _get_or_none(
        self, template: str, slug: str, timezone: str, extra: dict[str, str] | None = None
    ) -> Any:
        try:
            return await self.client.get(
                template, {"timezone": timezone, **(extra or {})}, slug=slug
            )
        except GatewayError as exc:
            if exc.code is ErrorCode.UPSTREAM_NOT_FOUND:
                return None
            raise

    def _link(self, row: Any, notes: Notes) -> SchedulingLink:
        if row.get("id") is None or not row.get("slug"):
            raise BadRow("has no id or slug")
        return SchedulingLink(
            provider=Provider.HUBSPOT,
            provider_id=str(row["id"]),
            slug=str(row["slug"]),
            url=row.get("link"),
            name=row.get("name"),
            type=_link_type(row.get("type")),
            organizer_id=_text(row.get("organizerUserId")),
            is_default=row.get("defaultLink"),
        )

    def _bad(self, what: str) -> GatewayError:
        return self.client.error(
            ErrorCode.UPSTREAM_BAD_RESPONSE, f"sent {what} this gateway cannot read"
        )


def validation_fields(body: Any) -> list[tuple[str | None, str]]:
    """(``BookMeetingInput`` field, message) for each entry of a HubSpot validation error."""
    if not isinstance(body, dict):
        return []
    entries = body.get("errors")
    if not isinstance(entries, list) or not entries:
        return [(None, str(body.get("message") or "the booking was refused"))]
    return [
        (BOOKING_FIELDS.get(str(e.get("in"))), str(e.get("message")))
        for e in entries
        if isinstance(e, dict)
    ]


def _link_type(word: Any) -> SchedulingLinkType | None:
    """A link's type; a word no document lists reads as null (logged once)."""
    if word is None:
        return None
    found = _TYPES.get(str(word))
    if found is None:
        unknown_word(Provider.HUBSPOT, "link type", word)
    return found


def _range(row: Any) -> TimeRange:
    start = parse_instant(row["start"])
    end = parse_instant(row["end"])
    if start is None or end is None:
        raise ValueError("incomplete time range")
    return TimeRange(start, end)


def _increment(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _INCREMENTS.get(str(value)) if value is not None else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return str(value.get("label") or value.get("value") or value.get("name") or "") or None
    return str(value)
