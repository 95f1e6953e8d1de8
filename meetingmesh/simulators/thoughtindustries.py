"""Simulator of the Thought Industries meetings API (``https://<instance>.thoughtindustries.com``).

Routes (relative to the instance URL; the gateway's ``base_url`` is the instance URL):

``GET /incoming/v2/meetings?page&courseId``
    ``{"data": {"Meetings": {"pageInfo": {perPage, currentPage, total, hasMore},
    "aggregations": [...], "meetings": [...]}}}``.

    - Page size: by default ``perPage`` is read as Thought Industries' general pagination
      reference documents it (https://developer.thoughtindustries.com/docs/rest/pagination/:
      default 25, maximum 100; the meetings document lists only ``page``): a larger value
      is served as 100, a value that is not a positive integer is a GraphQL-style error in
      a 200 like a bad ``page``. With the ``per_page=ignored`` switch the server fixes
      pages at **50** whatever ``perPage`` says. ``pageInfo.perPage`` always tells the
      size served.
    - ``page`` is 1-indexed and defaults to 1. A page past the end answers an empty ``meetings``
      list with the real ``total`` and ``hasMore: false``.
    - Order (not documented): ``startDate`` ascending, then ``id`` ascending. It is stable, so
      walking pages 1..n returns every meeting exactly once.
    - ``courseId`` keeps the meetings of one course. A well-formed uuid of an unknown course
      answers an empty list with ``total: 0``. Uuids are matched case-insensitively.
    - ``aggregations`` are computed over the whole filtered result set, not just the page:
      facet ``course`` (label "Course": one bucket per course, ``value`` = course id,
      ``label`` = course title, ``query`` = ``courseId:<id>``, ``description`` = course slug) and
      facet ``timeZone`` (label "Time Zone": ``value``/``label`` = the IANA zone,
      ``query`` = ``timeZone:<zone>``, ``description`` = "Meetings held in <zone>"). Buckets are
      ordered by count descending, then value ascending; each facet's counts sum to ``total``.
      With no match both facets are present with empty buckets.

``GET /incoming/v2/meetings/{meeting_id}``
    ``{"data": {"MeetingById": {...meeting...}}}``; an unknown well-formed id is
    404 ``{"error": "not_found", "message": "Meeting <id> not found"}``.

``GET /incoming/v2/ping``
    ``{"valid": true}``.

Meeting objects carry exactly the documented fields: ``id, title, courseId, course, locationId,
location, joinUrl, attendeeInfo, instructors, startDate, endDate, timeZone, attendees``. Online
meetings have ``locationId``/``location`` null and a ``joinUrl``; in-person ones have a location
and a null ``joinUrl``. ``attendeeInfo`` is null for about one meeting in ten. ``course`` is a
subset of the documented Course scalars (see ``Course.as_json``): nested objects and lists of
objects are left out, and in particular a course never embeds its meetings. ``attendees`` are
User objects limited to simple scalars (see ``User.as_json``); ``asset`` and ``bio`` may be
null. Timestamps are UTC ISO 8601 with milliseconds and ``Z``; ``timeZone`` names the zone the
meeting is held in. The documents' example course is in every data set with id
``00000000-0000-0000-0000-000000000000``, slug ``example-slug`` and status ``draft``.

Authentication: ``Authorization: Bearer <API key>`` on every route above; a missing, malformed or
wrong key is **401 with an empty body**. Control routes (``/_sim/...``) need no key.

THE TRAP: bad parameters are not HTTP errors. A ``page`` that is not a positive integer (digits
only, at most 2**31 - 1: GraphQL's Int), a ``courseId`` or ``meeting_id`` that is not a uuid
answer **status 200** with GraphQL-style errors inside the body:
``{"data": {"errors": [{"message": "..."}]}}`` (no ``Meetings``/``MeetingById`` key). Unknown
query parameters are ignored; a repeated parameter counts with its last value.

Rate limits: every response from the routes above carries ``X-RateLimit-Limit: 120``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``. With the ``rate_limits`` switch off (the
default) they are constant (``119`` and ``60``) and nothing is limited, so a client honouring
them must not throttle itself. With it on, each API key gets 120 requests per minute with a
burst allowance of 20 (TI's rate-limit reference,
https://developer.thoughtindustries.com/docs/rest/rate-limits/; ``ratelimit.THOUGHT_INDUSTRIES``:
a bucket of 20 refilled at 2 a second, inside the 120-a-minute window): Remaining is what
the key has left and Reset the Unix time the minute window resets; past the limit the
answer is 429 ``{"error": "rate_limit_exceeded", "message": "...", "retryAfter": N}`` with
``Retry-After: N`` and ``X-RateLimit-Remaining: 0``. Injected 429s have the same body.
Other injected statuses answer
``{"error": "<snake_case reason>", "message": "..."}`` (e.g. ``internal_server_error``), except
an injected 401, which has the provider's empty body. Unknown paths are 404 and wrong methods
405 with the same ``{"error", "message"}`` body.

Behaviour switches (``ThoughtIndustriesBehaviour``; ``PUT /_sim/behaviour``; defaults first):
``per_page`` ``honoured`` | ``ignored`` (above); ``out_of_order_page`` ``0`` | a page number
whose meetings come in reverse order (the same meetings, so a client that trusts the order
of a page misreads it; the others stay in order); ``rate_limits`` ``false`` | ``true`` (see
"Rate limits" above); ``bad_row`` with ``bad_row_id`` (a meeting id), in the list and in
``MeetingById``: ``null_time`` = ``startDate`` null, ``member_without_id`` = its first
attendee lacks ``id``, ``null_in_list`` = a null first in ``attendees`` and in
``instructors``, ``unknown_enum`` = its course's ``status`` is ``under_review`` and
``kind`` ``hologram`` (words no document lists); ``echo_credentials`` (every error body's
``message`` repeats the request's ``Authorization`` header; the 401 then has that body).

Data (see ``thoughtindustries_data``): ``size`` meetings starting between 180 days before and
180 days after ``clock.now()``, ``max(3, size // 10)`` courses of skewed popularity (every course
has at least one meeting), ``max(12, size // 4)`` users and ``max(8, min(400, size // 250))``
venues in nine cities (eight time zones); online meetings take their course's ``webinarTimeZone``
from ``fake.TIME_ZONES``. ``clock`` only shapes the generated data: no answer of the app
depends on the current time, so ``create_app`` keeps it on ``app.state`` for callers only.
Stats name endpoints ``GET /incoming/v2/meetings``, ``GET /incoming/v2/meetings/{meeting_id}``
and ``GET /incoming/v2/ping``; they count every request, including rejected ones.
"""

from __future__ import annotations

import hmac
import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meetingmesh.simulators.behaviour import Behaviour
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.faults import Faults
from meetingmesh.simulators.harness import Harness, bearer_token, json_response
from meetingmesh.simulators.ratelimit import THOUGHT_INDUSTRIES, RateLimiter
from meetingmesh.simulators.thoughtindustries_data import Meeting, ThoughtIndustriesData

__all__ = [
    "PAGE_SIZE",
    "TOKEN",
    "ThoughtIndustriesBehaviour",
    "ThoughtIndustriesData",
    "create_app",
]

TOKEN = "sim-thoughtindustries-token"
#: Meetings per page while ``perPage`` is ignored (the meetings document lists no such
#: parameter).
PAGE_SIZE = 50
#: ``perPage`` when honoured: default and maximum, from TI's pagination reference.
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
RATE_LIMIT = 120
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": str(RATE_LIMIT),
    "X-RateLimit-Remaining": str(RATE_LIMIT - 1),
    "X-RateLimit-Reset": "60",
}
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GRAPHQL_INT_MAX = 2**31 - 1
_DEFAULT_CLOCK = Clock()


@dataclass(frozen=True)
class ThoughtIndustriesBehaviour(Behaviour):
    """Thought Industries' switches (see "Behaviour switches" in the manual)."""

    #: ``honoured``: ``perPage`` is read (default 25, at most 100), as TI's pagination page
    #: says (the realistic reading, the default); ``ignored``: fixed pages of 50.
    per_page: Literal["ignored", "honoured"] = "honoured"
    #: A page number (1-based) whose meetings come in reverse order; 0 is off.
    out_of_order_page: int = 0
    #: Enforce Thought Industries' rate limit (120 per minute, bursts of 20, per API key).
    rate_limits: bool = False
    #: Make one row malformed on the list endpoints (see "Robust reading" in the manual):
    #: ``null_time``, ``member_without_id``, ``null_in_list`` or ``unknown_enum``; "" is off.
    bad_row: Literal["", "null_time", "member_without_id", "null_in_list", "unknown_enum"] = ""
    #: The id of the row ``bad_row`` applies to (the test picks it from the data).
    bad_row_id: str = ""

    def validate(self) -> None:
        """Raise ``ValueError`` for a negative page number."""
        if self.out_of_order_page < 0:
            raise ValueError("out_of_order_page must be 0 (off) or a page number")


def create_app(
    data: ThoughtIndustriesData,
    *,
    clock: Clock = _DEFAULT_CLOCK,
    token: str = TOKEN,
    faults: Faults | None = None,
    behaviour: ThoughtIndustriesBehaviour | None = None,
) -> Starlette:
    """The simulator app for ``data``; ``app.state.harness`` holds its stats and faults."""
    harness = Harness(
        "thoughtindustries",
        render_error,
        faults=faults or Faults(),
        behaviour=behaviour or ThoughtIndustriesBehaviour(),
        message_key="message",
    )
    catalog = _Catalog(data)
    expected = token.encode()

    def current() -> ThoughtIndustriesBehaviour:
        switches = harness.behaviour
        assert isinstance(switches, ThoughtIndustriesBehaviour)
        return switches

    limiter = RateLimiter(THOUGHT_INDUSTRIES)

    def rate_headers(request: Request) -> dict[str, str]:
        """The X-RateLimit headers: constant while limits are off, the real count when on."""
        if not current().rate_limits:
            return RATE_LIMIT_HEADERS
        key = bearer_token(request) or ""
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(limiter.remaining(key)),
            "X-RateLimit-Reset": str(math.ceil(time.time() + limiter.window_resets_in(key))),
        }

    def rate_limit(request: Request) -> Response | None:
        if not current().rate_limits:
            return None
        wait = limiter.take(bearer_token(request) or "")
        if wait == 0:
            return None
        retry_after = max(1, math.ceil(wait))
        return render_error(
            429, retry_after, {**rate_headers(request), "X-RateLimit-Remaining": "0"}
        )

    harness.limiter = rate_limit

    def authorized(request: Request) -> bool:
        given = bearer_token(request)
        return given is not None and hmac.compare_digest(given.encode(), expected)

    @harness.endpoint("GET /incoming/v2/meetings")
    async def list_meetings(request: Request) -> Response:
        if not authorized(request):
            return _unauthorized()
        page_text = request.query_params.get("page")
        page = 1
        if page_text is not None:
            parsed = _positive_int(page_text)
            if parsed is None:
                return _graphql_error(
                    f'Variable "$page" got invalid value "{page_text}"; '
                    "expected a positive 32-bit integer."
                )
            page = parsed
        course_id = request.query_params.get("courseId")
        if course_id is not None and not _UUID.fullmatch(course_id):
            return _graphql_error(
                f'Variable "$courseId" got invalid value "{course_id}"; expected a UUID.'
            )
        switches = current()
        per_page = PAGE_SIZE
        if switches.per_page == "honoured":
            per_page_text = request.query_params.get("perPage")
            per_page = DEFAULT_PER_PAGE
            if per_page_text is not None:
                parsed = _positive_int(per_page_text)
                if parsed is None:
                    return _graphql_error(
                        f'Variable "$perPage" got invalid value "{per_page_text}"; '
                        "expected a positive 32-bit integer."
                    )
                per_page = min(parsed, MAX_PER_PAGE)
        selection = catalog.select(course_id.lower() if course_id is not None else None)
        offset = (page - 1) * per_page
        rows = (
            list(selection.meetings[offset : offset + per_page]) if offset < selection.total else []
        )
        if page == switches.out_of_order_page:
            rows.reverse()
        body = {
            "data": {
                "Meetings": {
                    "pageInfo": {
                        "perPage": per_page,
                        "currentPage": page,
                        "total": selection.total,
                        "hasMore": offset + per_page < selection.total,
                    },
                    "aggregations": selection.aggregations,
                    "meetings": [catalog.render(meeting, switches) for meeting in rows],
                }
            }
        }
        return json_response(body, headers=rate_headers(request))

    @harness.endpoint("GET /incoming/v2/meetings/{meeting_id}")
    async def meeting_by_id(request: Request) -> Response:
        if not authorized(request):
            return _unauthorized()
        meeting_id = request.path_params["meeting_id"]
        if not _UUID.fullmatch(meeting_id):
            return _graphql_error(
                f'Variable "$id" got invalid value "{meeting_id}"; expected a UUID.'
            )
        meeting = catalog.by_id.get(meeting_id.lower())
        if meeting is None:
            return _error(404, f"Meeting {meeting_id} not found")
        return json_response(
            {"data": {"MeetingById": catalog.render(meeting, current())}},
            headers=rate_headers(request),
        )

    @harness.endpoint("GET /incoming/v2/ping")
    async def ping(request: Request) -> Response:
        if not authorized(request):
            return _unauthorized()
        return json_response({"valid": True}, headers=rate_headers(request))

    routes = [
        Route("/incoming/v2/meetings", list_meetings, methods=["GET"]),
        Route("/incoming/v2/meetings/{meeting_id}", meeting_by_id, methods=["GET"]),
        Route("/incoming/v2/ping", ping, methods=["GET"]),
        *harness.control_routes(),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_exception, Exception: _unexpected},
    )
    app.state.harness = harness
    app.state.data = data
    app.state.clock = clock
    return app


def render_error(status: int, retry_after: int, headers: dict[str, str] | None = None) -> Response:
    """An error in Thought Industries' own shape (401 has an empty body)."""
    if status == 401:
        return _unauthorized()
    if status == 429:
        body = {
            "error": "rate_limit_exceeded",
            "message": f"Rate limit of {RATE_LIMIT} requests per minute exceeded. "
            f"Retry in {retry_after} seconds.",
            "retryAfter": retry_after,
        }
        headers = {
            **(headers or RATE_LIMIT_HEADERS),
            "X-RateLimit-Remaining": "0",
            "Retry-After": str(retry_after),
        }
        return json_response(body, status_code=429, headers=headers)
    return _error(status, f"The request failed: {HTTPStatus(status).phrase}.")


class _Selection:
    """One result set (all meetings, or one course's) with its aggregations."""

    def __init__(self, meetings: Sequence[Meeting], aggregations: list[dict[str, Any]]) -> None:
        self.meetings = meetings
        self.total = len(meetings)
        self.aggregations = aggregations


class _Catalog:
    """Indexes and pre-rendered pieces of the data set, built once per app."""

    def __init__(self, data: ThoughtIndustriesData) -> None:
        self.by_id = {meeting.id: meeting for meeting in data.meetings}
        self.courses = {course.id: course for course in data.courses}
        # Shared objects are rendered once; meetings reference them (they are never mutated).
        self._course_json = {course.id: course.as_json() for course in data.courses}
        self._location_json = {location.id: location.as_json() for location in data.locations}
        self._user_json = {user.id: user.as_json() for user in data.users}
        by_course: dict[str, list[Meeting]] = {}
        for meeting in data.meetings:  # already in API order, so each list is too
            by_course.setdefault(meeting.course_id, []).append(meeting)
        self._by_course = by_course
        self._all = _Selection(data.meetings, self._aggregate(data.meetings, by_course))
        self._selections: dict[str, _Selection] = {}

    def select(self, course_id: str | None) -> _Selection:
        """All meetings, or those of one course (empty for an unknown course)."""
        if course_id is None:
            return self._all
        selection = self._selections.get(course_id)
        if selection is None:
            meetings = self._by_course.get(course_id)
            if meetings is None:
                # Not cached: a client sending random uuids must not grow the cache.
                return _Selection((), self._aggregate((), {}))
            selection = self._selections[course_id] = _Selection(
                meetings, self._aggregate(meetings, {course_id: meetings})
            )
        return selection

    def render(self, meeting: Meeting, switches: ThoughtIndustriesBehaviour) -> dict[str, Any]:
        """The documented Meeting object (with ``bad_row`` applied when it names it)."""
        rendered = self._render(meeting)
        if switches.bad_row and meeting.id == switches.bad_row_id.lower():
            _spoil(rendered, switches.bad_row)
        return rendered

    def _render(self, meeting: Meeting) -> dict[str, Any]:
        location_id = meeting.location_id
        return {
            "id": meeting.id,
            "title": meeting.title,
            "courseId": meeting.course_id,
            "course": self._course_json[meeting.course_id],
            "locationId": location_id,
            "location": self._location_json[location_id] if location_id else None,
            "joinUrl": meeting.join_url,
            "attendeeInfo": meeting.attendee_info,
            "instructors": list(meeting.instructors),
            "startDate": meeting.start_date,
            "endDate": meeting.end_date,
            "timeZone": meeting.time_zone,
            "attendees": [self._user_json[user_id] for user_id in meeting.attendee_ids],
        }

    def _aggregate(
        self, meetings: Sequence[Meeting], by_course: dict[str, list[Meeting]]
    ) -> list[dict[str, Any]]:
        courses = [self.courses[course_id] for course_id in by_course]
        course_buckets = [
            _bucket(f"courseId:{c.id}", c.id, c.title, c.slug, len(by_course[c.id]))
            for c in courses
        ]
        zone_buckets = [
            _bucket(f"timeZone:{zone}", zone, zone, f"Meetings held in {zone}", count)
            for zone, count in Counter(meeting.time_zone for meeting in meetings).items()
        ]
        return [
            {"key": "course", "label": "Course", "buckets": _by_count(course_buckets)},
            {"key": "timeZone", "label": "Time Zone", "buckets": _by_count(zone_buckets)},
        ]


def _spoil(meeting: dict[str, Any], how: str) -> None:
    """Make one rendered meeting malformed the way ``bad_row`` says."""
    if how == "null_time":
        meeting["startDate"] = None
    elif how == "member_without_id":
        meeting["attendees"] = [
            {k: v for k, v in a.items() if k != "id"} for a in meeting["attendees"][:1]
        ] + meeting["attendees"][1:]
    elif how == "null_in_list":
        meeting["attendees"] = [None, *meeting["attendees"]]
        meeting["instructors"] = [None, *meeting["instructors"]]
    elif how == "unknown_enum":
        meeting["course"] = {**meeting["course"], "status": "under_review", "kind": "hologram"}


def _by_count(buckets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(buckets, key=lambda bucket: (-bucket["count"], bucket["value"]))


def _bucket(query: str, value: str, label: str, description: str, count: int) -> dict[str, Any]:
    return {
        "query": query,
        "value": value,
        "label": label,
        "description": description,
        "count": count,
    }


def _positive_int(text: str) -> int | None:
    # Digits only: int() would also accept " 3", "+3" and "3_0". The API is GraphQL underneath,
    # whose Int is 32-bit signed, so larger pages are invalid too.
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= _GRAPHQL_INT_MAX else None


def _unauthorized() -> Response:
    return Response(b"", status_code=401, headers=RATE_LIMIT_HEADERS)


def _graphql_error(message: str) -> Response:
    return json_response({"data": {"errors": [{"message": message}]}}, headers=RATE_LIMIT_HEADERS)


def _error(status: int, message: str) -> Response:
    reason = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    return json_response(
        {"error": reason, "message": message}, status_code=status, headers=RATE_LIMIT_HEADERS
    )


async def _http_exception(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return _error(status, f"{request.method} {request.url.path}: {HTTPStatus(status).phrase}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    return _error(500, "An unexpected error occurred.")
