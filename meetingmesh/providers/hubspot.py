"""HubSpot scheduler v3: scheduling links, booking info, availability and booking.

Contract (provider-docs/hubspot-meetings-scheduler.txt, SUPPLEMENT.md), under
``/scheduler/v3/meetings/meeting-links``: the list (``limit``, ``after``, ``name``,
``organizerUserId``, ``type``; ``paging.next.after``), ``book/{slug}``,
``book/availability-page/{slug}`` (slots in epoch milliseconds keyed by the duration
in milliseconds) and ``POST book``. Errors are ``{status, message, category,
errors[{message, in}]}``; ``in`` names the request field at fault, or (the
``subCategory`` variant, e.g. ``MEETING_START_TIME_NOT_VALID``) no ``in`` at all: see
``_refusal`` for how such a refusal is still named. An unknown slug is a 404.

Booking info carries the page's questions (``customParams.formFields``: ``isCustom``
ones are answered in the book body's ``formFields``, the standard firstName, lastName
and email by its top-level fields) and, when ``legalConsentEnabled``, its
``legalConsentOptions`` (checkboxes answered in ``legalConsentResponses``).

Slugs may contain "/" (team and user links such as ``sales/round-robin``; SUPPLEMENT.md).
HubSpot's paths are ``book/{slug}`` with the slug as the page's own URL shows it
(``https://meetings.hubspot.com/sales/round-robin``), so the "/" are sent as they are
and every other reserved character is percent-encoded (``http.Slashed``); HubSpot's
TypeScript SDK would send ``%2F``, which many HTTP servers refuse inside a path. An
empty, ``.`` or ``..`` segment is never sent (such a slug names no link).

The booking request sends ``startTime`` and ``duration`` as epoch milliseconds (the
live API's behaviour per SUPPLEMENT.md). A booking is never retried: it is made once,
reported as not made, or (its answer lost) reported as ``BOOKING_OUTCOME_UNKNOWN`` and
settled by reading the slot's availability again (``_unknown_outcome``). There is no
link-by-slug endpoint: ``get_link`` walks the list (100 links a call) until it finds
the slug.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from meetingmesh.domain import (
    AvailabilitySlot,
    Booking,
    BookingInfo,
    BookingRequest,
    ConsentCheckbox,
    FormField,
    FormOption,
    LegalConsent,
    Member,
    Page,
    Provider,
    SchedulingLink,
    SchedulingLinkType,
    TimeRange,
)
from meetingmesh.errors import ErrorCode, GatewayError, NotSent
from meetingmesh.providers.base import Adapter, LinkFilter, MemberDirectory, Scheduler
from meetingmesh.providers.breaker import CircuitState
from meetingmesh.providers.http import Slashed
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
#: The questions every booking form asks, answered by the booking's top-level fields.
STANDARD_QUESTIONS = frozenset({"firstName", "lastName", "email"})
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
#: A slug: path segments of unreserved characters, "/" between them (``sales/round-robin``).
_SLUG = re.compile(r"^[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*$")


def read_message(body: Any) -> str | None:
    """HubSpot's error text: ``message``, then each ``errors[].message``."""
    if not isinstance(body, dict):
        return None
    return str(body["message"]) if body.get("message") else None


@dataclass
class HubSpotAdapter(Adapter, Scheduler, MemberDirectory):
    """HubSpot scheduling pages and bookings."""

    PROBE = (LINKS, {"limit": "1"})
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
        if not _is_slug(slug):
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
                form_fields=tuple(_form_field(f) for f in params.get("formFields") or ()),
                legal_consent=_legal_consent(params),
                organizers=tuple(organizers),
                busy_times=tuple(sorted(busy, key=lambda r: r.start)),
                link_type=_link_type(body.get("linkType")),
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
        return () if body is None else self._slots(body)

    def _slots(self, body: Any) -> tuple[AvailabilitySlot, ...]:
        """The slots of an availability page, every duration, by start time."""
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
        """``POST book``, once (never retried); refusals name the ``BookMeetingInput`` field.

        Cost: one call. A refusal that names no field (HubSpot's ``subCategory`` variant)
        costs one ``GET book/{slug}`` more, to tell which answers the page finds wrong;
        an unknown outcome up to two GETs more (``_unknown_outcome``).
        """
        if self.client.breaker.state is CircuitState.OPEN:
            # Known not sent: say so rather than "unknown" after a call that never left.
            raise self.client.error(
                ErrorCode.UPSTREAM_UNAVAILABLE,
                "is failing; the booking was not sent (circuit open)",
            )
        try:
            answer = await self.client.request(
                "POST",
                LINKS + "/book",
                params={"timezone": request.timezone},
                body=booking_body(request),
            )
        except NotSent:
            raise  # never sent (no token, circuit paused, deadline passed): not made
        except GatewayError as exc:
            # Whether or not the booking was made, availability may have changed.
            await self.client.invalidate()
            if exc.code is ErrorCode.UPSTREAM_NOT_FOUND:
                raise GatewayError(
                    ErrorCode.BAD_USER_INPUT,
                    f"slug: HubSpot has no scheduling page {request.slug!r}",
                    provider=Provider.HUBSPOT,
                    field="slug",
                ) from None
            if exc.code in _OUTCOME_UNKNOWN and exc.status != 503:
                raise await self._unknown_outcome(request, exc.message) from None
            if exc.code is not ErrorCode.BAD_USER_INPUT:
                raise
            raise await self._refusal(exc.upstream_body, request) from None
        await self.client.invalidate()
        if not isinstance(answer, dict):
            raise await self._unknown_outcome(request, "HubSpot answered with no booking")
        return _confirmation(answer, request)

    async def _unknown_outcome(self, request: BookingRequest, why: str) -> GatewayError:
        """``BOOKING_OUTCOME_UNKNOWN``, settled as far as HubSpot's availability can tell.

        The booking may have been made although no readable answer came back (a timeout,
        a 5xx, a cut body). The POST is never sent again; instead the slot's month of
        availability is read afresh (one GET, past the cache) and, if the slot is still
        offered, the booking info (one GET, for the link type). ``slotTaken`` is true when
        the slot is no longer offered (most likely booked by this request), false when it
        still is (the booking was not made), null when that cannot be told: the check
        failed, or a round robin still offers a slot while any member is free.
        """
        taken = await self._slot_taken(request)
        verdict = {
            True: "the slot is no longer offered, so it was most likely booked: check "
            "before booking again",
            False: "the slot is still offered, so the booking was not made",
            None: "whether the slot was booked could not be told",
        }[taken]
        error = GatewayError(
            ErrorCode.BOOKING_OUTCOME_UNKNOWN,
            f"The booking's outcome is unknown ({why}); {verdict}.",
            provider=Provider.HUBSPOT,
        )
        error.details = {"slotTaken": taken}
        return error

    async def _slot_taken(self, request: BookingRequest) -> bool | None:
        """Whether the requested slot has gone from the page's availability (see above)."""
        try:
            body = await self.client.request(
                "GET",
                LINKS + "/book/availability-page/{slug}",
                params={
                    "timezone": request.timezone,
                    "monthOffset": str(_month_offset(self.clock(), request)),
                },
                slug=Slashed(request.slug),
            )
            offered = any(
                slot.start == request.start_time
                and slot.duration_minutes == request.duration_minutes
                for slot in self._slots(body)
            )
            if not offered:
                return True
            info = await self.booking_info(request.slug, request.timezone)
        except GatewayError:
            return None
        if info is None or info.link_type in (None, SchedulingLinkType.ROUND_ROBIN_CALENDAR):
            return None
        return False

    async def _refusal(self, body: Any, request: BookingRequest) -> GatewayError:
        """HubSpot's refusal as one ``BAD_USER_INPUT`` per input field, the rest related.

        Entries with ``errors[].in`` name their field. Entries without (the
        ``subCategory`` variant) are named by the sub-category where it says which field
        (a start time that is not offered), else by reading the page's booking info and
        finding what in the request it does not accept (a required question left out, a
        consent not given, a duration not offered, guests not allowed).
        """
        refused = validation_fields(body)
        unnamed = [message for name, message in refused if name is None]
        if unnamed:
            named: list[tuple[str | None, str]] = [(n, m) for n, m in refused if n is not None]
            fields: list[str] = []
            sub_field = sub_category_field(body)
            if sub_field is not None:
                fields.append(sub_field)
            if sub_field is None or len(unnamed) > 1:
                fields += [f for f in await self._answer_faults(request) if f not in fields]
            if fields:
                refused = named + [(f, _message_about(f, unnamed)) for f in fields]
        errors = [
            GatewayError(
                ErrorCode.BAD_USER_INPUT,
                f"HubSpot refused the booking: {message}",
                provider=Provider.HUBSPOT,
                field=name,
            )
            for name, message in dict.fromkeys(refused)
        ]
        first, *others = errors or [
            GatewayError(
                ErrorCode.BAD_USER_INPUT,
                "HubSpot refused the booking",
                provider=Provider.HUBSPOT,
            )
        ]
        first.related = tuple(others)
        return first

    async def _answer_faults(self, request: BookingRequest) -> list[str]:
        """What the page's booking info does not accept in ``request`` (one GET; [] if unread)."""
        try:
            info = await self.booking_info(request.slug, request.timezone)
        except GatewayError:
            return []
        return [] if info is None else answer_faults(request, info)

    async def _get_or_none(
        self, template: str, slug: str, timezone: str, extra: dict[str, str] | None = None
    ) -> Any:
        try:
            return await self.client.get(
                template, {"timezone": timezone, **(extra or {})}, slug=Slashed(slug)
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


def _confirmation(answer: dict[str, Any], request: BookingRequest) -> Booking:
    """The booking HubSpot accepted, read from whatever its answer holds.

    HubSpot said yes (a 2xx), so an odd answer (no ``end``, fields nobody documented,
    one unreadable value) never turns the booking into a failure: a missing or
    unreadable ``start`` is the requested one, ``end`` is start plus ``duration`` (ms)
    or the requested duration, and unknown fields are ignored.
    """
    start = _instant_or_none(answer.get("start")) or request.start_time
    duration = answer.get("duration")
    if isinstance(duration, int | float) and not isinstance(duration, bool) and duration > 0:
        length = timedelta(milliseconds=duration)
    else:
        length = timedelta(minutes=request.duration_minutes)
    end = _instant_or_none(answer.get("end")) or start + length
    return Booking(
        start=start,
        end=end,
        calendar_event_id=_text(answer.get("calendarEventId")),
        subject=_string_or_none(answer.get("subject")),
        timezone=_string_or_none(answer.get("bookingTimezone")) or request.timezone,
        web_conference_url=_string_or_none(answer.get("webConferenceUrl")),
    )


def _instant_or_none(value: Any) -> datetime | None:
    try:
        return parse_instant(value)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _string_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def booking_body(request: BookingRequest) -> dict[str, Any]:
    """The ``POST book`` body (HubSpot's ``ExternalMeetingBooking``).

    ``likelyAvailableUserIds`` is sent empty: HubSpot's SDK types it as a required list,
    but its availability names no free user per slot (only ``startMillisUtc`` and
    ``endMillisUtc``) and its documents never say to derive the list from the link's
    members or busy times, so the gateway names nobody and HubSpot assigns the host.
    """
    body: dict[str, Any] = {
        "slug": request.slug,
        "firstName": request.first_name,
        "lastName": request.last_name,
        "email": request.email,
        "startTime": epoch_ms(request.start_time),
        "duration": request.duration_minutes * 60_000,
        "timezone": request.timezone,
        "formFields": [{"name": a.name, "value": a.value} for a in request.form_answers],
        "legalConsentResponses": [
            {"communicationTypeId": c.communication_type_id, "consented": c.consented}
            for c in request.consents
        ],
        "likelyAvailableUserIds": [],
    }
    if request.guest_emails:
        body["guestEmails"] = list(request.guest_emails)
    return body


def validation_fields(body: Any) -> list[tuple[str | None, str]]:
    """(``BookMeetingInput`` field, message) for each entry of a HubSpot validation error.

    The field is None where the entry names none (no ``errors[].in``, or one the
    gateway did not send on the client's behalf).
    """
    if not isinstance(body, dict):
        return []
    entries = body.get("errors")
    if not isinstance(entries, list) or not entries:
        return [(None, str(body.get("message") or "the booking was refused"))]
    return [
        (input_field(e.get("in")), str(e.get("message"))) for e in entries if isinstance(e, dict)
    ]


def _link_type(word: Any) -> SchedulingLinkType | None:
    """A link's type; a word no document lists reads as null (logged once)."""
    if word is None:
        return None
    found = _TYPES.get(str(word))
    if found is None:
        unknown_word(Provider.HUBSPOT, "link type", word)
    return found


def input_field(name: Any) -> str | None:
    """The ``BookMeetingInput`` field a HubSpot request field came from, if the client's."""
    if not isinstance(name, str):
        return None
    for prefix in ("formFields", "legalConsentResponses"):
        if name == prefix or name.startswith(prefix + "."):
            return name  # ``formFields.company``: the question's name, as the input has it
    return BOOKING_FIELDS.get(name)


#: Failures after which a booking may or may not have been made: no answer in time, an
#: answer that could not be read, a 5xx or a connection lost (the POST may have left).
#: A 503 is not among them: it says the server could not take the request at all.
_OUTCOME_UNKNOWN = frozenset(
    {
        ErrorCode.UPSTREAM_TIMEOUT,
        ErrorCode.UPSTREAM_UNAVAILABLE,
        ErrorCode.UPSTREAM_BAD_RESPONSE,
    }
)


def _month_offset(now: datetime, request: BookingRequest) -> int:
    """The ``monthOffset`` of the requested start: its month after now's, in the booker's zone."""
    zone = ZoneInfo(request.timezone)
    start, today = request.start_time.astimezone(zone), now.astimezone(zone)
    return max(0, (start.year - today.year) * 12 + start.month - today.month)


#: ``subCategory`` words that say which input field a refusal is about.
_SUB_CATEGORIES = {
    "MEETING_START_TIME_NOT_VALID": "startTime",
    "INVALID_EMAIL": "email",
    "INVALID_EMAIL_GUESTS": "guestEmails",
}


def sub_category_field(body: Any) -> str | None:
    """The field a ``subCategory`` names (``MeetingsBookingSchedulingError.X`` or ``X``)."""
    word = body.get("subCategory") if isinstance(body, dict) else None
    return _SUB_CATEGORIES.get(word.rsplit(".", 1)[-1]) if isinstance(word, str) else None


def answer_faults(request: BookingRequest, info: BookingInfo) -> list[str]:
    """The ``BookMeetingInput`` fields of ``request`` that the page's ``info`` does not accept.

    Only what booking info can tell: offered durations, guests, required custom
    questions and their choices, and required consent checkboxes.
    """
    faults: list[str] = []
    if info.durations_minutes and request.duration_minutes not in info.durations_minutes:
        faults.append("durationMinutes")
    if request.guest_emails and (
        info.can_add_guests is False
        or (info.max_guest_count is not None and len(request.guest_emails) > info.max_guest_count)
    ):
        faults.append("guestEmails")
    answers = {a.name: a.value.strip() for a in request.form_answers}
    questions = {q.name: q for q in info.form_fields}
    faults += [f"formFields.{name}" for name in answers if name not in questions]
    for question in info.form_fields:
        answer = answers.get(question.name, "")
        choices = {o.value for o in question.options}
        if not question.custom:
            continue
        if (question.required and not answer) or (answer and choices and answer not in choices):
            faults.append(f"formFields.{question.name}")
    given = {c.communication_type_id for c in request.consents if c.consented}
    checkboxes = () if info.legal_consent is None else info.legal_consent.checkboxes
    faults += [
        f"legalConsentResponses.{c.communication_type_id}"
        for c in checkboxes
        if c.required and c.communication_type_id not in given
    ]
    return faults


def _message_about(field_name: str, messages: list[str]) -> str:
    """The refusal message that mentions ``field_name``'s last part, else all of them."""
    leaf = field_name.rsplit(".", 1)[-1]
    return next((m for m in messages if leaf in m), "; ".join(messages))


def _is_slug(slug: str) -> bool:
    """Whether ``slug`` can name a link: segments of URL-safe characters, none ``.``/``..``."""
    return bool(_SLUG.match(slug)) and not any(p in (".", "..") for p in slug.split("/"))


def _form_field(row: Any) -> FormField:
    """A question of ``customParams.formFields``; choices keep their value and label."""
    return FormField(
        name=str(row["name"]),
        label=_string_or_none(row.get("label")),
        field_type=_string_or_none(row.get("fieldType")) or _string_or_none(row.get("type")),
        required=bool(row.get("isRequired")),
        options=tuple(_option(o) for o in row.get("options") or () if isinstance(o, dict | str)),
        value_type=_string_or_none(row.get("type")),
        # The standard questions are answered by the booking's own fields; an answer
        # without the flag is asked for in formFields, which is where HubSpot takes it.
        custom=row.get("isCustom") is not False and str(row["name"]) not in STANDARD_QUESTIONS,
    )


def _option(value: Any) -> FormOption:
    if isinstance(value, str):
        return FormOption(value=value, label=value)
    label = _string_or_none(value.get("label"))
    return FormOption(
        value=str(value.get("value") if value.get("value") is not None else label), label=label
    )


def _legal_consent(params: dict[str, Any]) -> LegalConsent | None:
    """``legalConsentOptions`` when ``legalConsentEnabled``: the checkboxes and texts."""
    options = params.get("legalConsentOptions")
    if not params.get("legalConsentEnabled") or not isinstance(options, dict):
        return None
    return LegalConsent(
        checkboxes=tuple(
            ConsentCheckbox(
                communication_type_id=str(c["communicationTypeId"]),
                label=_string_or_none(c.get("label")),
                required=bool(c.get("required")),
            )
            for c in options.get("communicationConsentCheckboxes") or ()
        ),
        communication_consent_text=_string_or_none(options.get("communicationConsentText")),
        processing_consent_type=_string_or_none(options.get("processingConsentType")),
        processing_consent_text=_string_or_none(options.get("processingConsentText")),
        processing_consent_checkbox_label=_string_or_none(
            options.get("processingConsentCheckboxLabel")
        ),
        privacy_policy_text=_string_or_none(options.get("privacyPolicyText")),
    )


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
