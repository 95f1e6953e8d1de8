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
and ``X-HubSpot-RateLimit-Remaining``. With ``rate_limits`` off (the default) nothing is
limited and Remaining counts requests left in a fixed 10 s window, never below 0. With
``rate_limits`` on, each token may make 100 requests in any 10 seconds
(``ratelimit.HUBSPOT``); Remaining is what that token has left, and past the limit the
answer is 429 RATE_LIMITS with ``errorType`` RATE_LIMIT, ``policyName``
TEN_SECONDLY_ROLLING and ``Retry-After`` (seconds until a request would pass).

Webhooks: the app's webhook settings and subscriptions (``/webhooks/v3/{appId}/...``),
an ``object.creation`` of a CRM meeting (``0-47``) sent signed (v3) after every booking,
and meeting events on demand (``/_sim/webhooks/meeting``): ``hubspot_webhooks`` is that
part's manual.

Data: ``max(12, size // 10)`` links (see ``hubspot_data``); ids of links and users are
numeric strings as in the SDK types; the documents' example link ``menelson`` (organizer
``1234567``, PERSONAL_LINK, default, link ``https://meetings.hubspot.com/menelson``) is
in every data set, the first link in id order.

Slugs may contain "/" (team and user links such as ``sales/round-robin``; SUPPLEMENT.md):
every ``{slug}`` route takes the rest of the path, so ``book/sales/round-robin`` and
``book/sales%2Fround-robin`` reach the same link (the server decodes ``%2F`` before
routing); stats still name the routes ``.../book/{slug}``. Booking info exposes what a
link asks in ``customParams.formFields`` (``name``, ``label``, ``fieldType``, ``type``,
``isCustom``, ``isRequired``, ``options``) and its legal consent as HubSpot's SDK types it
(``ExternalMeetingsLinkSettings``: ``legalConsentEnabled`` and ``legalConsentOptions``
with ``communicationConsentCheckboxes[{communicationTypeId, label, required}]`` and the
consent texts; HubSpot's booking-info reference,
https://developers.hubspot.com/docs/api-reference/legacy/scheduler/meetings/get-meeting-slug).
A booking must answer every required custom field in ``formFields`` and consent
(``legalConsentResponses[{communicationTypeId, consented: true}]``) to every required
checkbox; otherwise 400 VALIDATION_ERROR with ``in`` ``formFields.<name>`` or
``legalConsentResponses.<communicationTypeId>`` and code REQUIRED. Round robins:
HubSpot's availability names no free user per slot (its availability reference shows
only ``startMillisUtc``/``endMillisUtc`` per slot, plus ``allUsersBusyTimes``), so
neither does the simulator; ``likelyAvailableUserIds`` is accepted (the first free one
hosts) and may be derived from ``allUsersBusyTimes``.

OAuth (``POST /oauth/v3/token``, not behind a bearer token): see ``hubspot_oauth``.
Access tokens it mints are accepted like ``TOKEN`` until they expire (401
EXPIRED_AUTHENTICATION after that); ``TOKEN``, the private-app token, never expires.

Behaviour switches (``HubSpotBehaviour``; ``PUT /_sim/behaviour``; defaults first):
``access_token_lifetime_seconds`` ``1800`` | any >= 1; ``rotate_refresh_token`` ``true``
| ``false`` (rotation is the realistic reading, which the gateway handles);
``camel_case_tokens`` ``false`` | ``true``; ``odd_booking_answer``
``true`` (a successful booking's answer lacks ``end`` and carries ``meetingOutcome`` and
``bookingSource``, fields no document lists) | ``false`` (the documented answer);
``validation_errors`` ``errors`` | ``sub_category`` (400 VALIDATION_ERROR carries
``subCategory``, e.g. MISSING_REQUIRED_FIELD or MEETING_START_TIME_NOT_VALID, and
``errors`` without ``in``: the field is named only in each message); ``rate_limits``
``false`` | ``true`` (see the rate limit paragraph above); ``bad_row`` with
``bad_row_id`` (a link id) in ``GET meeting-links``: ``null_time`` = ``createdAt`` null,
``member_without_id`` = ``organizerUserId`` null, ``null_in_list`` = a null first in
``userIdsOfLinkMembers``, ``unknown_enum`` = ``type`` ``COLLECTIVE_EVENT_LINK``;
``echo_credentials`` (every error's ``message`` repeats the bearer token and a sent
``client_secret``/``refresh_token``).

Code: this module is the HTTP layer (``_HubSpot``, one method per endpoint, and a short
``create_app``); ``hubspot_availability`` holds the calendars and the offered start
times, ``hubspot_booking`` the booking body's validation and the booking desk,
``hubspot_errors`` the error bodies, ``hubspot_oauth`` the token endpoint and
``hubspot_data`` the seeded data set.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meetingmesh.simulators import hubspot_webhooks
from meetingmesh.simulators.behaviour import Behaviour
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.faults import Faults
from meetingmesh.simulators.harness import Harness, bearer_token, json_response
from meetingmesh.simulators.hubspot_availability import Calendars, Scheduler
from meetingmesh.simulators.hubspot_booking import (
    Booking,
    BookingDesk,
    valid_zone,
    validate_booking,
)
from meetingmesh.simulators.hubspot_data import DEFAULT_CLOCK, LINK_TYPES, HubSpotData, MeetingLink
from meetingmesh.simulators.hubspot_errors import (
    MISSING_AUTH,
    SERVER_ERROR,
    FieldError,
    error_response,
    http_exception,
    link_not_found,
    render_error,
    validation_error,
    without_field_names,
)
from meetingmesh.simulators.hubspot_oauth import TOKEN_ROUTE, OAuthServer
from meetingmesh.simulators.hubspot_webhooks import HubSpotWebhooks
from meetingmesh.simulators.ratelimit import HUBSPOT, RateLimiter

__all__ = ["TOKEN", "Booking", "HubSpotBehaviour", "HubSpotData", "create_app"]

TOKEN = "sim-hubspot-token"
PROVIDER_NAME = "hubspot"
BASE = "/scheduler/v3/meetings/meeting-links"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
RATE_LIMIT_MAX = 100
RATE_LIMIT_INTERVAL_MS = 10_000
_INTEGER = re.compile(r"-?\d{1,9}")

Handler = Callable[[Request], Awaitable[Response]]


class RateLimitHeaders:
    """Adds HubSpot's rate-limit headers to every response; counts API requests per 10 s."""

    def __init__(
        self, app: ASGIApp, enforced: Callable[[Scope], int | None] = lambda scope: None
    ) -> None:
        self.app = app
        #: Requests left as the enforced limit counts them, or None while it is off.
        self.enforced = enforced
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
        enforced_remaining = self.enforced(scope)
        if enforced_remaining is not None:
            remaining = enforced_remaining

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


class _HubSpot:
    """The endpoint handlers over one data set, its calendars and its bookings."""

    def __init__(self, data: HubSpotData, clock: Clock, token: str, harness: Harness) -> None:
        self.data = data
        self.token = token
        self.harness = harness
        self.oauth = OAuthServer()
        self.calendars = Calendars(data)
        self.scheduler = Scheduler(data, self.calendars, clock)
        self.desk = BookingDesk(data, self.calendars, self.scheduler)
        self.webhooks = HubSpotWebhooks(clock)

    def guarded(self, handler: Handler) -> Handler:
        """``handler`` behind HubSpot's authentication, answering any crash in HubSpot's body."""

        async def run(request: Request) -> Response:
            # HubSpot answers bad credentials before anything else about the request.
            presented = bearer_token(request)
            if presented is None:
                return error_response(401, "INVALID_AUTHENTICATION", MISSING_AUTH)
            if presented != self.token:
                refused = self.oauth.check(presented)
                if refused is not None:
                    return refused
            try:
                response = await handler(request)
            except Exception:  # a simulator answers in the provider's body, never a traceback
                return error_response(500, *SERVER_ERROR)
            if self.switches.validation_errors == "sub_category":
                return without_field_names(response)
            return response

        run.__name__ = handler.__name__
        return run

    @property
    def switches(self) -> HubSpotBehaviour:
        """The behaviour switches in force for this request."""
        current = self.harness.behaviour
        assert isinstance(current, HubSpotBehaviour)
        return current

    async def oauth_token(self, request: Request) -> Response:
        """``POST /oauth/v3/token``: a refresh token (and the app's client) for an access token."""
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        return self.oauth.refresh(form, self.switches)

    async def list_links(self, request: Request) -> Response:
        """``GET meeting-links``: filtered links in id order, keyset-paged."""
        data = self.data
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
        switches = self.switches
        body: dict[str, Any] = {
            "results": [_spoiled(data.links[p], switches) for p in page],
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

    async def booking_info(self, request: Request) -> Response:
        """``GET book/{slug}``: what a booking page needs, month offset 0 included."""
        errors: list[FieldError] = []
        time_zone = _zone_param(request, errors)
        if errors:
            return validation_error(errors)
        slug = request.path_params["slug"]
        link = self.data.by_slug.get(slug)
        if link is None:
            return link_not_found(slug)
        scheduler = self.scheduler
        first, end = scheduler.window(link)
        organizer = self.data.users[link.organizer_user_id]
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

    async def availability_page(self, request: Request) -> Response:
        """``GET book/availability-page/{slug}``: one month of offered start times."""
        errors: list[FieldError] = []
        time_zone = _zone_param(request, errors)
        month_offset = _int_param(request, "monthOffset", 0, 0, 999_999_999, errors)
        if errors:
            return validation_error(errors)
        slug = request.path_params["slug"]
        link = self.data.by_slug.get(slug)
        if link is None:
            return link_not_found(slug)
        month_low, month_high = self.scheduler.month(time_zone, month_offset)
        return json_response(
            {
                "linkAvailability": self.scheduler.availability(link, time_zone, month_offset),
                "allUsersBusyTimes": self.scheduler.busy_times(link, month_low, month_high),
            }
        )

    async def book_by_body(self, request: Request) -> Response:
        """``POST book``: the slug comes in the body."""
        return await self._book(request, None)

    async def book_by_path(self, request: Request) -> Response:
        """``POST book/{slug}``: the path slug wins; a different body slug is a 400."""
        return await self._book(request, request.path_params["slug"])

    async def _book(self, request: Request, path_slug: str | None) -> Response:
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
        link = self.data.by_slug.get(slug)
        if link is None:
            return link_not_found(slug)
        checked = validate_booking(body, link, _param(request, "timezone"), self.scheduler)
        if isinstance(checked, list):
            return validation_error(checked)
        answer = self.desk.book(checked)
        self.webhooks.booked()  # the new CRM meeting, told to the app's webhook
        if self.switches.odd_booking_answer:
            answer = {k: v for k, v in answer.items() if k != "end"}
            answer |= {"meetingOutcome": "SCHEDULED", "bookingSource": {"channel": "API"}}
        return json_response(answer)


@dataclass(frozen=True)
class HubSpotBehaviour(Behaviour):
    """HubSpot's switches (see "Behaviour switches" in the manual).

    Defaults are the realistic reading where the gateway copes with every reading (a
    refresh token rotated at each refresh, an odd booking answer), else the documents'
    plain one.
    """

    #: Lifetime of OAuth access tokens minted by ``POST /oauth/v3/token``, in seconds.
    access_token_lifetime_seconds: int = 1800
    #: Every refresh answers a new refresh token and refuses the one it was sent.
    rotate_refresh_token: bool = True
    #: The token answer in camelCase (``accessToken``, ``expiresIn``, ``refreshToken``).
    camel_case_tokens: bool = False
    #: A successful booking's answer lacks ``end`` and carries fields nobody documented.
    odd_booking_answer: bool = True
    #: ``errors``: a validation error names each field in ``errors[].in``;
    #: ``sub_category``: it carries a ``subCategory`` and no ``errors[].in`` (SUPPLEMENT.md).
    validation_errors: Literal["errors", "sub_category"] = "errors"
    #: Enforce HubSpot's rate limit (100 requests per 10 s per token).
    rate_limits: bool = False
    #: Make one row malformed on the list endpoints (see "Robust reading" in the manual):
    #: ``null_time``, ``member_without_id``, ``null_in_list`` or ``unknown_enum``; "" is off.
    bad_row: Literal["", "null_time", "member_without_id", "null_in_list", "unknown_enum"] = ""
    #: The id of the row ``bad_row`` applies to (the test picks it from the data).
    bad_row_id: str = ""

    def validate(self) -> None:
        """Raise ``ValueError`` for a lifetime below 1 s."""
        if self.access_token_lifetime_seconds < 1:
            raise ValueError("access_token_lifetime_seconds must be at least 1")


def create_app(
    data: HubSpotData,
    *,
    clock: Clock = DEFAULT_CLOCK,
    token: str = TOKEN,
    faults: Faults | None = None,
    behaviour: HubSpotBehaviour | None = None,
) -> Starlette:
    """The HubSpot scheduler v3 simulator over ``data`` (routes relative to the base URL)."""
    harness = Harness(
        PROVIDER_NAME,
        render_error,
        faults=faults or Faults(),
        behaviour=behaviour or HubSpotBehaviour(),
        message_key="message",
    )
    hubspot = _HubSpot(data, clock, token, harness)
    limiter = RateLimiter(HUBSPOT)

    def rate_limit(request: Request) -> Response | None:
        if not hubspot.switches.rate_limits:
            return None
        wait = limiter.take(bearer_token(request) or "")
        if wait == 0:
            return None
        return error_response(
            429,
            "RATE_LIMITS",
            "You have reached your ten_secondly_rolling limit.",
            headers={"Retry-After": str(math.ceil(wait))},
            extra={"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"},
        )

    def enforced_remaining(scope: Scope) -> int | None:
        if not hubspot.switches.rate_limits:
            return None
        return limiter.remaining(bearer_token(Request(scope)) or "")

    harness.limiter = rate_limit

    def endpoint(name: str, handler: Handler) -> Handler:
        return harness.endpoint(name)(hubspot.guarded(handler))

    # ``:path`` so that slugs with "/" route, sent as "/" or as "%2F" (decoded before routing).
    slug_route = f"{BASE}/book/{{slug:path}}"
    page_route = f"{BASE}/book/availability-page/{{slug:path}}"
    slug_name, page_name = f"{BASE}/book/{{slug}}", f"{BASE}/book/availability-page/{{slug}}"
    oauth_token = harness.endpoint(f"POST {TOKEN_ROUTE}")(hubspot.oauth_token)
    routes = [
        Route(BASE, endpoint(f"GET {BASE}", hubspot.list_links), methods=["GET"]),
        Route(
            f"{BASE}/book", endpoint(f"POST {BASE}/book", hubspot.book_by_body), methods=["POST"]
        ),
        Route(page_route, endpoint(f"GET {page_name}", hubspot.availability_page), methods=["GET"]),
        Route(slug_route, endpoint(f"GET {slug_name}", hubspot.booking_info), methods=["GET"]),
        Route(slug_route, endpoint(f"POST {slug_name}", hubspot.book_by_path), methods=["POST"]),
        Route(TOKEN_ROUTE, oauth_token, methods=["POST"]),
        *hubspot_webhooks.routes(hubspot.webhooks, harness),
        *harness.control_routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RateLimitHeaders, enforced=enforced_remaining)],
        exception_handlers={HTTPException: http_exception},
    )
    app.state.harness = harness
    app.state.data = data
    app.state.bookings = hubspot.desk.bookings
    app.state.calendars = hubspot.calendars
    app.state.webhooks = hubspot.webhooks
    return app


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
    if not valid_zone(value):
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


def _spoiled(link: MeetingLink, switches: HubSpotBehaviour) -> dict[str, Any]:
    """A list result, made malformed as ``bad_row`` says when it names this link."""
    row = link.metadata()
    if not switches.bad_row or link.id != switches.bad_row_id:
        return row
    if switches.bad_row == "null_time":
        row["createdAt"] = None
    elif switches.bad_row == "member_without_id":
        row["organizerUserId"] = None
    elif switches.bad_row == "null_in_list":
        row["userIdsOfLinkMembers"] = [None, *row["userIdsOfLinkMembers"]]
    elif switches.bad_row == "unknown_enum":
        row["type"] = "COLLECTIVE_EVENT_LINK"
    return row


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
