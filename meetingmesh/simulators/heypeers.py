"""HeyPeers v2 simulator: a member's upcoming meetings and the meetings export.

Base URL ``https://heypeers.com``; the routes (relative to it) are

- ``GET /api/v2/organizations/{org_id}/members/{idp_id}/upcoming_meetings``
- ``GET`` and ``POST /api/v2/organizations/{org_id}/export_meetings``

plus the shared ``/_sim/stats`` and ``/_sim/faults`` control routes. Specified by
``heypeers-member-upcoming-meetings.txt``, ``heypeers-export-meetings.txt`` and the HeyPeers
section of ``SUPPLEMENT.md``. Where the documents are silent, this simulator does as follows.

Authentication and errors
  ``POST /api/v2/authenticate`` with JSON ``{"access_key": "<ACCESS_KEY>"}`` answers 200
  ``{"token": "<JWT>"}``; any other body is 401 ``{"error": "Invalid Access Key"}``
  (HeyPeers' authentication page, https://developers.heypeers.com/docs/api/authentication:
  a 24-character key; "The JWT expires after 24 hours"). The JWT is a real HS256 token
  (three base64url parts) with ``organization_id``, ``iat``, ``jti`` and ``exp`` claims;
  it is accepted as a bearer token until ``token_lifetime_seconds`` of wall-clock time
  (``time.time()``, not the simulated clock: a gateway compares ``exp`` with its own
  clock) have passed, then refused like any unknown token. The static ``TOKEN`` keeps
  working. Every error body is ``{"error": "<message>"}``. ``TOKEN`` resolves to organization 5
  (the documents' example organization, which owns the whole data set) and
  ``OTHER_ORG_TOKEN`` to organization 6 (which owns nothing: its export is empty and its
  members all 404). A missing, malformed or unknown bearer token is 401 ``Unauthorized
  Access``; a known token whose organization is not the URL's (compared as text, so
  ``05`` is not ``5``) is 401 ``Not Authorized``. Authentication is checked first, then the
  member (404 ``User not found on HeyPeers``), then the parameters (400). Unknown routes
  are 404 ``{"error": "Not Found"}``, wrong methods 405 ``{"error": "Method Not Allowed"}``.
  Injected faults render as ``{"error": "<reason phrase>"}`` with their status; 429 adds
  ``Retry-After``. HeyPeers documents no rate limits, so nothing else returns 429.

Member's upcoming meetings
  Every registration record of the member is listed: seats (``registered: true``) and
  waitlist entries of any status, including ``rejected`` and ``expired``. A waitlist entry
  that was ``accepted`` holds a seat, so it has ``registered: true`` and a
  ``registered_at``; the other waitlist statuses have ``registered: false`` and
  ``registered_at: null``. A meeting is upcoming while ``end_time > now`` and its status is
  ``scheduled`` (so a meeting in progress is still listed), ordered by ``start_time`` then
  ``id``. ``page`` below 1 is treated as 1; ``items`` is clamped to 1..100; a ``page`` or
  ``items`` that is not an integer is 400. A page past the end has an empty ``meetings``
  list and the true totals; ``total_pages`` is 0 when there is nothing to list. A meeting
  without a group leader has ``"group_leader": null``; a leader without an avatar gets
  the default ``https://ssl.gstatic.com/accounts/ui/avatar_2x.png``. ``duration`` reads
  like ``"1 hour"``, ``"30 minutes"``, ``"1 hour 30 minutes"``, ``"2 hours"``.

Export meetings
  GET reads the query string (``column[]`` repeated). POST reads a JSON object body; query
  parameters on a POST are read too and the body wins where both give a name (as Rails
  merges params). ``column`` must be an array: a plain ``column=`` query parameter or a
  non-array JSON value is 400. Blank entries in ``column`` are ignored; when no column
  remains the answer is ``{"success": true, "meetings": []}`` before any other parameter
  is looked at. An unknown column key is 400 (``group_leader`` is the response key, the
  column key is ``group_leader_id``); a repeated key is returned once, and each row's keys
  come in the order requested. Values are the stored ones: ``start_time`` ISO 8601 UTC
  with milliseconds, ``duration`` in minutes, ``status`` one of scheduled/complete/cancel,
  ``price`` a number (0 when free).

  ``reporting_days`` (all UTC, evaluated at request time against the clock):
  ``all``/omitted/``all_past`` = ended (``end_time <= now``) and not ``cancel``;
  ``all_upcoming`` = not ended and ``scheduled``; ``today``, ``current_month``,
  ``last_month`` = starting in that UTC day/month (any status); ``last_week`` = starting
  Monday 00:00 through Sunday 23:59:59 of the previous ISO week (any status);
  ``custom`` = starting within ``start_time``..``end_time`` (any status), both required
  (400 otherwise). Any other value is 400. ``start_time``/``end_time`` use
  ``MM/DD/YYYY HH:MM AM/PM`` read in the organization's time zone (switch
  ``organization_time_zone``, default ``America/New_York``: the documents name no zone,
  and HeyPeers shows meeting times in the account's or organization's zone, so an
  organization's zone is rarely UTC; the gateway is correct in any); the end bound is inclusive at
  minute resolution (``start_bound <= start < end_bound + 1 minute``) or, with
  ``custom_end=exclusive``, ``start_bound <= start < end_bound``. Rows' ``start_time``
  stays ISO 8601 UTC either way; an unparsable value is 400 even when
  it would not be applied, while a blank one (or a JSON null) counts as absent. When
  both are given they narrow any preset; one alone only
  matters to ``custom`` (where it is a 400). A start bound after the end bound matches
  nothing. ``report_type`` is ``all_meetings`` (default) or ``eap_meetings`` (meetings with
  ``eap: true``); anything else is 400.

  Without ``page``/``per_page`` every match comes back in stored order, which is meeting
  id order and, in the generated data, not chronological. With either one, rows are
  ordered by ``start_time`` then id and ``metadata`` is added; ``page`` defaults to 1 and
  below 1 is treated as 1, ``per_page`` defaults to 100 and is clamped to 1..100, a
  non-integer is 400, a page past the end is empty, and ``total_pages`` is 0 when nothing
  matches. In a JSON body, numbers may be JSON integers or integer strings.

Behaviour switches (``HeyPeersBehaviour``; ``PUT /_sim/behaviour``; defaults first)
  ``token_lifetime_seconds`` ``86400`` | any >= 1; ``token_exp_claim`` ``true`` | ``false``
  (the JWT lacks ``exp`` but still expires); ``organization_time_zone``
  ``America/New_York`` | any IANA zone; ``custom_end`` ``inclusive`` | ``exclusive``;
  ``bad_row`` with ``bad_row_id`` (a meeting id): ``null_time`` = its ``start_time`` is
  null, ``member_without_id`` = its ``group_leader`` lacks ``id`` (member endpoint;
  export rows have no nested member), ``null_in_list`` = its row is ``null`` in
  ``meetings``, ``unknown_enum`` = ``status`` ``postponed``, ``waiting_status``
  ``pending_review`` and ``location`` ``teams`` (words no document lists);
  ``echo_credentials`` (every error's ``error`` text repeats the bearer token and a sent
  ``access_key``). HeyPeers documents no rate limit, so there is no ``rate_limits`` switch.

Data (``heypeers_data.py``)
  ``size`` meetings (at least the documents' three), starting on a 15-minute grid within
  180 days either side of the clock, lasting 15..120 minutes. Ended meetings are
  ``complete`` (about 8% ``cancel``), the others ``scheduled`` (about 5% ``cancel``).
  Generated ids are unique, drawn at random from 10001 up independently of start times.
  No generated meeting overlaps the span from now to 2026-05-23T15:00Z, so at the default
  clock the documented meeting 9123 is the first upcoming meeting that has not started. Meeting 9124
  fills what the documents leave open with 60 minutes, topic "Addiction & Recovery", max
  15, registered 9, no wait list; 9131 is an EAP meeting. Generated names may repeat (and
  may equal an example's name): rows are identified by more than their name. Members
  ``sso-user-0001``.. (``size // 25`` of them, at least 4) hold up to 8 random
  registrations each; ``sso-user-0001`` also holds every waitlist status on upcoming
  meetings and seats on about ``size // 80`` more (over 100 upcoming at size 10,000).
  Seats given to members never outnumber a meeting's ``registered_attendees``, and
  waitlist entries exist only on meetings with ``wait_list: true``. ``sso-user-abc123``
  holds exactly the two documented entries. Meeting 990001 "Midday Peer Check-in" is in
  progress at the default now (11:30-12:30 on 2026-05-22) and takes the last generated
  meeting's place; member ``sso-user-inprogress`` holds it and 9123, so the member
  endpoint's "not yet ended" rule shows (the documents' member keeps its two entries,
  which the gateway's tests pin). It leads the paginated ``all_upcoming`` export.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meetingmesh.simulators.behaviour import Behaviour
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.faults import Faults
from meetingmesh.simulators.harness import Harness, bearer_token, json_response, query_params
from meetingmesh.simulators.heypeers_data import (
    DEFAULT_CLOCK,
    GroupLeader,
    HeyPeersData,
    Meeting,
    Registration,
)

__all__ = [
    "ACCESS_KEY",
    "OTHER_ORG_TOKEN",
    "TOKEN",
    "HeyPeersBehaviour",
    "HeyPeersData",
    "create_app",
]

#: Resolves to organization 5, the owner of the generated data.
TOKEN = "sim-heypeers-token"
#: The organization's access key (24 characters, as HeyPeers issues them): trade it for a
#: JWT at ``POST /api/v2/authenticate``.
ACCESS_KEY = "simHeyPeersAccessKey0005"
#: Always known too; resolves to organization 6, which owns no meetings and no members.
OTHER_ORG_TOKEN = "sim-heypeers-other-org-token"
OTHER_ORGANIZATION_ID = 6
DEFAULT_AVATAR = "https://ssl.gstatic.com/accounts/ui/avatar_2x.png"

AUTHENTICATE_ROUTE = "/api/v2/authenticate"
UPCOMING_ROUTE = "/api/v2/organizations/{org_id}/members/{idp_id}/upcoming_meetings"
EXPORT_ROUTE = "/api/v2/organizations/{org_id}/export_meetings"

#: Export column key (also the stored field's name) -> response key.
EXPORT_COLUMNS: dict[str, str] = {
    "name": "name",
    "meeting_type": "meeting_type",
    "start_time": "start_time",
    "duration": "duration",
    "status": "status",
    "topic": "topic",
    "special_focus": "special_focus",
    "host": "host",
    "location": "location",
    "price": "price",
    "max_attendees": "max_attendees",
    "meeting_description": "meeting_description",
    "group_leader_id": "group_leader",
    "privacy": "privacy",
    "eap": "eap",
    "allow_meeting_donation": "allow_meeting_donation",
    "invitation_only": "invitation_only",
    "wait_list": "wait_list",
}
REPORTING_DAYS = frozenset(
    {
        "all",
        "all_past",
        "all_upcoming",
        "today",
        "current_month",
        "last_week",
        "last_month",
        "custom",
    }
)
REPORT_TYPES = frozenset({"all_meetings", "eap_meetings"})
CUSTOM_FORMAT = "%m/%d/%Y %I:%M %p"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_MINUTE_MS = 60_000
_INTEGER = re.compile(r"[+-]?\d{1,18}")


class JwtIssuer:
    """Mints HS256 JWTs for one organization and knows, on the wall clock, which still hold.

    Expiry is kept here as well as in ``exp``, so a token minted without the claim still
    expires; a token this issuer did not mint (or whose signature is off) holds nothing.
    """

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id
        self._secret = b"meetingmesh-heypeers-simulator"
        self._expiry: dict[str, float] = {}
        self._count = 0

    def mint(self, lifetime_seconds: int, exp_claim: bool) -> str:
        """A fresh token valid for ``lifetime_seconds`` of real time from now."""
        now = time.time()
        self._count += 1
        claims: dict[str, Any] = {
            "organization_id": self.organization_id,
            "iat": int(now),
            "jti": f"sim-{self._count}",
        }
        if exp_claim:
            claims["exp"] = math.ceil(now + lifetime_seconds)
        signing_input = (
            _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"})) + "." + _b64(orjson.dumps(claims))
        )
        signature = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{_b64(signature)}"
        self._expiry[token] = now + lifetime_seconds
        return token

    def organization(self, token: str) -> int | None:
        """The organization of a token this issuer minted that has not expired, else None."""
        expires = self._expiry.get(token)
        if expires is None or time.time() >= expires:
            return None
        return self.organization_id


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class BadRequest(Exception):
    """A parameter the endpoint cannot use: 400 with the message as ``error``."""


def _ms(instant: datetime) -> int:
    return (instant - _EPOCH) // _MS


def _parse_stored(text: str) -> int:
    # Stored instants have whole milliseconds, which a float timestamp holds exactly.
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def humanize_minutes(minutes: int) -> str:
    """A duration as HeyPeers prints it: "1 hour", "30 minutes", "1 hour 30 minutes"."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class _Row:
    """A meeting with its instants as epoch milliseconds, for ranges and ordering."""

    meeting: Meeting
    start_ms: int
    end_ms: int

    @property
    def order(self) -> tuple[int, int]:
        return self.start_ms, self.meeting.id


class _SortedMeetings:
    """One scope of meetings sorted by (start_time, id), with bisectable start times."""

    def __init__(self, rows: Iterable[_Row]) -> None:
        self.rows = list(rows)  # given in (start_time, id) order already
        self.starts = [r.start_ms for r in self.rows]

    def starting(
        self, lo: int | None, hi: int | None, keep: Callable[[_Row], bool], unsure: tuple[int, int]
    ) -> list[_Row]:
        """Rows with ``lo <= start < hi``; ``keep`` is asked only for starts in ``unsure``."""
        i = 0 if lo is None else bisect_left(self.starts, lo)
        j = len(self.rows) if hi is None else bisect_left(self.starts, hi)
        if i >= j:
            return []
        u = min(max(bisect_left(self.starts, unsure[0]), i), j)
        v = min(max(bisect_left(self.starts, unsure[1]), i), j)
        return self.rows[i:u] + [r for r in self.rows[u:v] if keep(r)] + self.rows[v:j]


class _Index:
    """Lookups built once per app so that each request costs O(answer), not O(data)."""

    def __init__(self, data: HeyPeersData) -> None:
        self.organization_id = data.organization_id
        rows = [
            _Row(m, _parse_stored(m.start_time), _parse_stored(m.end_time)) for m in data.meetings
        ]
        self.rows_by_id = {r.meeting.id: r for r in rows}
        self.max_duration_ms = max((r.end_ms - r.start_ms for r in rows), default=0)
        self.leaders: dict[int, GroupLeader] = {g.id: g for g in data.group_leaders}
        # Each member's registrations with their meetings, pre-sorted by (start_time, id).
        self.registrations: dict[str, list[tuple[_Row, Registration]]] = {
            member.idp_id: sorted(
                ((self.rows_by_id[r.meeting_id], r) for r in member.registrations),
                key=lambda pair: pair[0].order,
            )
            for member in data.members
        }
        # (eap only?, status class) -> meetings sorted by start; the status classes are
        # exactly those the presets need, so a preset is one bisected slice.
        chronological = sorted(rows, key=lambda r: (r.start_ms, r.meeting.id))
        self.scopes: dict[tuple[bool, str], _SortedMeetings] = {}
        for eap_only in (False, True):
            scoped = [r for r in chronological if r.meeting.eap or not eap_only]
            self.scopes[eap_only, "any"] = _SortedMeetings(scoped)
            self.scopes[eap_only, "not_cancel"] = _SortedMeetings(
                r for r in scoped if r.meeting.status != "cancel"
            )
            self.scopes[eap_only, "scheduled"] = _SortedMeetings(
                r for r in scoped if r.meeting.status == "scheduled"
            )

    def group_leader(self, leader_id: int | None) -> dict[str, Any] | None:
        if leader_id is None:
            return None
        leader = self.leaders.get(leader_id)
        if leader is None:
            return None
        return {"id": leader.id, "name": leader.name, "avatar": leader.avatar or DEFAULT_AVATAR}


# --- request parsing ---------------------------------------------------------------------


def _integer(name: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise BadRequest(f"{name} must be an integer, got {value!r}")


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string, got {value!r}")
    return value


def _custom_time(name: str, value: str | None, zone: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        instant = datetime.strptime(value.strip(), CUSTOM_FORMAT).replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        raise BadRequest(f"invalid {name} {value!r}: expected MM/DD/YYYY HH:MM AM/PM") from None
    return _ms(instant)


def _month_start(day: datetime, months_back: int = 0) -> datetime:
    month_index = day.year * 12 + day.month - 1 - months_back
    return datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Preset:
    """What a reporting_days value selects: a status class, a start range, an end test."""

    status: str
    lo: int | None = None
    hi: int | None = None
    ended: bool | None = None


def _preset(name: str, now: datetime) -> _Preset:
    now = now.astimezone(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if name in ("all", "all_past"):
        return _Preset("not_cancel", ended=True)
    if name == "all_upcoming":
        return _Preset("scheduled", ended=False)
    if name == "today":
        return _Preset("any", _ms(midnight), _ms(midnight + timedelta(days=1)))
    if name == "current_month":
        return _Preset("any", _ms(_month_start(now)), _ms(_month_start(now, -1)))
    if name == "last_week":
        monday = midnight - timedelta(days=now.weekday())
        return _Preset("any", _ms(monday - timedelta(days=7)), _ms(monday))
    if name == "last_month":
        return _Preset("any", _ms(_month_start(now, 1)), _ms(_month_start(now)))
    return _Preset("any")  # custom: the explicit range does the selecting


def _narrow(bound: int | None, other: int | None, pick: Callable[[int, int], int]) -> int | None:
    if bound is None:
        return other
    if other is None:
        return bound
    return pick(bound, other)


# --- the app -----------------------------------------------------------------------------


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(
        {"error": message}, status_code=status, headers=dict(headers) if headers else None
    )


def render_error(status: int, retry_after: int) -> Response:
    """An injected error in HeyPeers' shape: ``{"error": "<reason phrase>"}``."""
    headers = {"Retry-After": str(retry_after)} if status == 429 else None
    return _error(status, HTTPStatus(status).phrase, headers)


class _HeyPeers:
    """The endpoint handlers over one data set."""

    def __init__(self, data: HeyPeersData, clock: Clock, token: str, harness: Harness) -> None:
        self.index = _Index(data)
        self.clock = clock
        self.harness = harness
        self.tokens = {token: data.organization_id, OTHER_ORG_TOKEN: OTHER_ORGANIZATION_ID}
        self.jwts = JwtIssuer(data.organization_id)

    @property
    def switches(self) -> HeyPeersBehaviour:
        """The behaviour switches in force for this request."""
        current = self.harness.behaviour
        assert isinstance(current, HeyPeersBehaviour)
        return current

    async def authenticate(self, request: Request) -> Response:
        """``POST /api/v2/authenticate``: the access key for a JWT."""
        try:
            body = orjson.loads(await request.body() or b"null")
        except orjson.JSONDecodeError:
            body = None
        key = body.get("access_key") if isinstance(body, dict) else None
        if not isinstance(key, str) or not hmac.compare_digest(key.encode(), ACCESS_KEY.encode()):
            return _error(401, "Invalid Access Key")
        switches = self.switches
        token = self.jwts.mint(switches.token_lifetime_seconds, switches.token_exp_claim)
        return json_response({"token": token})

    def _now_ms(self) -> int:
        return _ms(self.clock.now())

    def authorize(self, request: Request) -> Response | None:
        """None when the bearer token resolves to the URL's organization, else the 401."""
        token = bearer_token(request)
        organization = None
        if token is not None:
            organization = self.tokens.get(token) or self.jwts.organization(token)
        if organization is None:
            return _error(401, "Unauthorized Access")
        if str(organization) != request.path_params["org_id"]:
            return _error(401, "Not Authorized")
        return None

    def _organization_data(self, request: Request) -> bool:
        org_id: str = request.path_params["org_id"]
        return org_id == str(self.index.organization_id)

    async def upcoming_meetings(self, request: Request) -> Response:
        """A member's upcoming registrations and waitlist entries, paginated."""
        denied = self.authorize(request)
        if denied is not None:
            return denied
        registrations = self.index.registrations.get(request.path_params["idp_id"])
        if registrations is None or not self._organization_data(request):
            return _error(404, "User not found on HeyPeers")
        params = request.query_params
        try:
            page = max(1, _integer("page", params.get("page", "1")))
            items = min(100, max(1, _integer("items", params.get("items", "10"))))
        except BadRequest as exc:
            return _error(400, str(exc))
        now = self._now_ms()
        listed = [
            (row, registration)
            for row, registration in registrations
            if row.end_ms > now and row.meeting.status == "scheduled"
        ]
        chunk = listed[(page - 1) * items : page * items]
        return json_response(
            {
                "current_page": page,
                "items": items,
                "total_items": len(listed),
                "total_pages": -(-len(listed) // items),
                "meetings": [
                    _spoiled(
                        {
                            **self._display(row.meeting),
                            "waiting_status": registration.waiting_status,
                            "registered": registration.registered,
                            "registered_at": registration.registered_at,
                        },
                        row.meeting.id,
                        self.switches,
                    )
                    for row, registration in chunk
                ],
            }
        )

    def _display(self, meeting: Meeting) -> dict[str, Any]:
        return {
            "id": meeting.id,
            "name": meeting.name,
            "start_time": meeting.start_time,
            "end_time": meeting.end_time,
            "duration": humanize_minutes(meeting.duration),
            "duration_in_minutes": meeting.duration,
            "topic": meeting.topic,
            "description": meeting.meeting_description,
            "location": meeting.location,
            "max_attendees": meeting.max_attendees,
            "registered_attendees": meeting.registered_attendees,
            "group_leader": self.index.group_leader(meeting.group_leader_id),
        }

    async def export_get(self, request: Request) -> Response:
        """Export with query-string parameters (``column[]`` repeated)."""
        denied = self.authorize(request)
        if denied is not None:
            return denied
        params = query_params(request)
        if "column" in params:
            return _error(400, "column must be an array: send it as column[]")
        scalars: dict[str, object] = {k: v[-1] for k, v in params.items() if k != "column[]"}
        return self._export(request, params.get("column[]", []), scalars)

    async def export_post(self, request: Request) -> Response:
        """Export with a JSON body; the same parameters as GET."""
        denied = self.authorize(request)
        if denied is not None:
            return denied
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            return _error(400, "the request body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "the request body must be a JSON object")
        query = query_params(request)
        merged: dict[str, object] = {k: v[-1] for k, v in query.items() if k != "column[]"}
        # A JSON null reads as an absent parameter, like a Rails param set to nil.
        merged.update({k: v for k, v in body.items() if k != "column" and v is not None})
        columns: object = body.get("column", query.get("column[]", []))
        if columns is None:
            columns = []
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            return _error(400, "column must be an array of strings")
        return self._export(request, columns, merged)

    def _export(
        self, request: Request, columns: list[str], params: Mapping[str, object]
    ) -> Response:
        wanted = list(dict.fromkeys(c for c in columns if c.strip()))
        if not wanted:
            return json_response({"success": True, "meetings": []})
        try:
            unknown = [c for c in wanted if c not in EXPORT_COLUMNS]
            if unknown:
                raise BadRequest(f"unknown column(s): {', '.join(unknown)}")
            rows = self._select(params)
            if not self._organization_data(request):
                rows = []  # organization 6 owns no meetings; its parameters still count
            paginated = "page" in params or "per_page" in params
            page = max(1, _integer("page", params.get("page", 1)))
            per_page = min(100, max(1, _integer("per_page", params.get("per_page", 100))))
        except BadRequest as exc:
            return _error(400, str(exc))
        keys = [(EXPORT_COLUMNS[c], c) for c in wanted]
        if not paginated:
            rows.sort(key=lambda r: r.meeting.id)
            return json_response({"success": True, "meetings": _project(rows, keys, self.switches)})
        chunk = rows[(page - 1) * per_page : page * per_page]
        return json_response(
            {
                "success": True,
                "metadata": {
                    "page": page,
                    "per_page": per_page,
                    "total_pages": -(-len(rows) // per_page),
                    "total_count": len(rows),
                },
                "meetings": _project(chunk, keys, self.switches),
            }
        )

    def _select(self, params: Mapping[str, object]) -> list[_Row]:
        """The meetings a request selects, ordered by start_time then id."""
        reporting = _text("reporting_days", params.get("reporting_days")) or "all"
        if reporting not in REPORTING_DAYS:
            raise BadRequest(f"unknown reporting_days {reporting!r}")
        report_type = _text("report_type", params.get("report_type")) or "all_meetings"
        if report_type not in REPORT_TYPES:
            raise BadRequest(f"unknown report_type {report_type!r}")
        switches = self.switches
        zone = switches.organization_time_zone
        start = _custom_time("start_time", _text("start_time", params.get("start_time")), zone)
        end = _custom_time("end_time", _text("end_time", params.get("end_time")), zone)
        if reporting == "custom" and (start is None or end is None):
            raise BadRequest("reporting_days=custom requires both start_time and end_time")
        now_dt = self.clock.now()
        now = _ms(now_dt)
        preset = _preset(reporting, now_dt)
        lo, hi = preset.lo, preset.hi
        if start is not None and end is not None:
            # Minute resolution, both ends inclusive: the end bound covers its whole minute.
            lo = _narrow(lo, start, max)
            hi = _narrow(hi, end + _MINUTE_MS if switches.custom_end == "inclusive" else end, min)
        scope = self.index.scopes[report_type == "eap_meetings", preset.status]
        if preset.ended is None:
            return scope.starting(lo, hi, lambda r: True, (0, 0))
        # Meetings that start more than the longest duration before now have surely ended;
        # those starting at or after now surely have not: only the band between needs a look.
        band = (now - self.index.max_duration_ms, now)
        if preset.ended:
            return scope.starting(lo, _narrow(hi, now, min), lambda r: r.end_ms <= now, band)
        return scope.starting(_narrow(lo, band[0], max), hi, lambda r: r.end_ms > now, band)


def _project(
    rows: list[_Row], keys: list[tuple[str, str]], switches: HeyPeersBehaviour
) -> list[dict[str, Any] | None]:
    return [
        _spoiled({key: getattr(r.meeting, field) for key, field in keys}, r.meeting.id, switches)
        for r in rows
    ]


def _spoiled(
    row: dict[str, Any], meeting_id: int, switches: HeyPeersBehaviour
) -> dict[str, Any] | None:
    """``row`` made malformed as ``bad_row`` says when it names this meeting; else as is."""
    if not switches.bad_row or switches.bad_row_id != str(meeting_id):
        return row
    how = switches.bad_row
    if how == "null_in_list":
        return None
    if how == "null_time" and "start_time" in row:
        row["start_time"] = None
    elif how == "member_without_id" and isinstance(row.get("group_leader"), dict):
        del row["group_leader"]["id"]
    elif how == "unknown_enum":
        for key, word in (("status", "postponed"), ("waiting_status", "pending_review")):
            if key in row:
                row[key] = word
        if "location" in row:
            row["location"] = "teams"
    return row


async def _routing_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    return _error(exc.status_code, HTTPStatus(exc.status_code).phrase, exc.headers)


@dataclass(frozen=True)
class HeyPeersBehaviour(Behaviour):
    """HeyPeers' switches (see "Behaviour switches" in the manual).

    Defaults are the answers the simulator first gave, except ``organization_time_zone``:
    a non-UTC zone, the realistic reading, which the gateway handles.
    """

    #: Lifetime of the JWTs ``POST /api/v2/authenticate`` mints, in wall-clock seconds.
    token_lifetime_seconds: int = 86_400
    #: Whether minted JWTs carry an ``exp`` claim.
    token_exp_claim: bool = True
    #: The organization's IANA time zone, in which custom export ranges are read.
    organization_time_zone: str = "America/New_York"
    #: Whether a custom export range's ``end_time`` is included (to the minute) or excluded.
    custom_end: Literal["inclusive", "exclusive"] = "inclusive"
    #: Make one row malformed on the list endpoints (see "Robust reading" in the manual):
    #: ``null_time``, ``member_without_id``, ``null_in_list`` or ``unknown_enum``; "" is off.
    bad_row: Literal["", "null_time", "member_without_id", "null_in_list", "unknown_enum"] = ""
    #: The id of the row ``bad_row`` applies to (the test picks it from the data).
    bad_row_id: str = ""

    def validate(self) -> None:
        """Raise ``ValueError`` for a lifetime below 1 s or an unknown time zone."""
        if self.token_lifetime_seconds < 1:
            raise ValueError("token_lifetime_seconds must be at least 1")
        if self.organization_time_zone not in available_timezones():
            raise ValueError(f"organization_time_zone {self.organization_time_zone!r} is unknown")


def create_app(
    data: HeyPeersData,
    *,
    clock: Clock = DEFAULT_CLOCK,
    token: str = TOKEN,
    faults: Faults | None = None,
    behaviour: HeyPeersBehaviour | None = None,
) -> Starlette:
    """The HeyPeers simulator over ``data``; ``app.state.harness`` holds stats and faults."""
    harness = Harness(
        "heypeers",
        render_error,
        faults=faults or Faults(),
        behaviour=behaviour or HeyPeersBehaviour(),
        message_key="error",
    )
    heypeers = _HeyPeers(data, clock, token, harness)
    authenticate = harness.endpoint(f"POST {AUTHENTICATE_ROUTE}")(heypeers.authenticate)
    upcoming = harness.endpoint(f"GET {UPCOMING_ROUTE}")(heypeers.upcoming_meetings)
    export_get = harness.endpoint(f"GET {EXPORT_ROUTE}")(heypeers.export_get)
    export_post = harness.endpoint(f"POST {EXPORT_ROUTE}")(heypeers.export_post)

    async def export(request: Request) -> Response:
        # One route for both methods, so a 405 lists them all in its Allow header.
        handler = export_post if request.method == "POST" else export_get
        return await handler(request)

    app = Starlette(
        routes=[
            Route(AUTHENTICATE_ROUTE, authenticate, methods=["POST"]),
            Route(UPCOMING_ROUTE, upcoming, methods=["GET"]),
            Route(EXPORT_ROUTE, export, methods=["GET", "POST"]),
            *harness.control_routes(),
        ],
        exception_handlers={404: _routing_error, 405: _routing_error},
    )
    app.state.harness = harness
    return app
