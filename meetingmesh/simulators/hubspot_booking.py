"""Bookings of the HubSpot scheduler simulator: body validation and the booking desk.

``validate_booking`` checks a ``POST .../book`` body against its link and returns the
request or every field error; ``BookingDesk`` books a validated request (blocks the
hosts' calendars, remembers contacts and bookings) and renders HubSpot's answer. The
rules are the manual's, in ``meetingmesh.simulators.hubspot``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from meetingmesh.simulators.fake import iso_ms
from meetingmesh.simulators.hubspot_availability import Calendars, Scheduler
from meetingmesh.simulators.hubspot_data import HubSpotData, MeetingLink, from_ms, to_ms, zone
from meetingmesh.simulators.hubspot_errors import FieldError

_CONTACT_ID_BASE = 50_000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_EPOCH_MS = re.compile(r"\d{1,15}")


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


def valid_zone(name: str) -> bool:
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
    else:
        given = {c["communicationTypeId"] for c in consent if c["consented"]}
        for checkbox in link.settings.consent_checkboxes:
            if checkbox not in given:
                check.fail(
                    f"legalConsentResponses.{checkbox}",
                    "REQUIRED",
                    f"legal consent '{checkbox}' is required",
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
    if not isinstance(value, str) or not valid_zone(value):
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
