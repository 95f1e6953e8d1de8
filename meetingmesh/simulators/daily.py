"""Simulator of Daily's meeting-sessions REST API (base ``https://api.daily.co/v1``).

Implemented from ``provider-docs/daily-meetings.txt`` (the seed, which wins) and the
Daily section of ``provider-docs/SUPPLEMENT.md``. This docstring is the manual: every
choice the documents leave open is written down here.

Routes (relative to the base URL)
- ``GET /meetings``: ``{"total_count": n, "data": [session, ...]}``.
- ``GET /meetings/{meeting_id}``: one session without ``participants``.
- ``GET /meetings/{meeting_id}/participants``: ``{"data": [participant, ...]}``.
- ``/_sim/stats`` and ``/_sim/faults``: the harness's control routes (no auth, not counted).

A session is ``{id, room, start_time, duration, ongoing, max_participants, participants}``
with unix seconds and durations in seconds; a participant is ``{user_id, user_name,
participant_id, join_time, duration}`` (``user_id``/``user_name`` are null for anonymous
guests). Sessions exist only once somebody joined, so there are no future sessions: the
data holds completed sessions over the 180 days before now and a few ongoing ones (see
``daily_data``). An ongoing session's ``duration`` is the seconds it has run so far, and
its present participants' durations likewise, as of the data set's ``now`` (with a
live clock the data stays a snapshot of generation time). Timestamps and durations are
multiples of 15 s ("accurate to approximately 15 seconds"). A session records 0..12
participants; ``max_participants`` also counts stays under 10 s that Daily does not
record, so it is at least 1 and at least the number of recorded joins. A known user may
appear twice in one session (a rejoin is a new participant). Rooms are a fixed set of
eight names of unequal busyness; some sessions share a ``start_time``, in one room and
across rooms, so the id tie-break matters at every size (Daily would not overlap two
sessions of one room; the simulator does, on purpose).

``GET /meetings``
- Order: ``start_time`` descending (the document), then ``id`` descending as the
  tie-break, so sessions that started in the same second keep one stable order.
- ``room``: exact room name; an unknown room matches nothing (200, empty list).
- ``timeframe_start``: ``start_time >= v``; ``timeframe_end``: ``start_time < v``. Both
  are integer unix seconds (an optional sign, nothing else); anything else is a 400.
- ``ongoing``: ``true`` keeps ongoing sessions, ``false`` only finished ones.
  ``no_participants=true`` leaves the ``participants`` key out of every item. Booleans
  accept ``true``/``false`` in any case; anything else is a 400.
- ``limit``: default 100, an integer 1..100; 0, negative, over 100 or not an integer is
  a 400 (Daily caps a call at 100 objects; the simulator refuses rather than clamps).
- ``starting_after=<id>``: the ``limit`` sessions that follow that id in the filtered
  list order (older ones). ``ending_before=<id>``: the ``limit`` sessions right before
  it (newer), still newest first. ``ending_before=OLDEST``: the last ``limit`` sessions
  of the filtered list, newest first. A cursor id that is not in the filtered result
  set is a 400, and so is giving both cursors.
- ``total_count`` counts the filtered set and ignores ``limit`` and the cursors.

``GET /meetings/{meeting_id}/participants``
- Which participants: join order (``join_time`` then ``participant_id``, ascending)
  decides. ``joined_after=<participant_id>`` means "joined after that participant"
  (Daily's reference: "limit to participants who joined after the given participant",
  https://docs.daily.co/reference/rest-api/meetings/get-participants): the ``limit``
  participants that follow it in join order; ``joined_before`` the ``limit`` right
  before it. A participant id not in this session, or both parameters, is a 400.
- In which order they are printed: the ``participant_order`` switch (below). By
  default as Daily's own example on that page (not join order: the later joiner
  first), so a client must page after the latest ``join_time`` on a page, not after
  the last row.
- ``limit``: default 100, an integer 1..100, else a 400 (same rule as ``/meetings``).
- When no participant is left to return (a walk went past the last one, or the session
  recorded nobody) the answer is 404 ``not-found``, as the supplement says; an unknown
  session is a 404 too.

Common rules
- Auth: ``Authorization: Bearer <key>``. Missing or malformed header: 400
  ``authorization-header-error``; wrong key: 401 ``authentication-error``. Auth is
  checked before parameters, parameters before lookups.
- Errors are ``{"error": <type>, "info": <text>}``; bad parameters are 400
  ``invalid-request-error``; unknown ids are 404 ``not-found``; an unknown path is 404
  ``not-found`` and a wrong method 405 ``invalid-request-error``.
- Empty parameter values (``room=``) count as absent; for a repeated parameter the last
  value wins; unknown parameters are ignored.
- Injected errors carry the type matching their status: 400 invalid-request-error,
  401 authentication-error, 403 forbidden-error, 404 not-found, 429 rate-limit-error,
  5xx server-error. Daily sends no rate-limit headers (supplement), so an injected 429
  carries no ``Retry-After``: a client must back off on its own. The harness's
  ``retry_after`` setting is therefore ignored here.
- The documents carry no example session records, so none are embedded in the data.
  The oldest session has 250 participants (three pages; see ``daily_data``).

Rate limits
- Off by default. With ``rate_limits`` on, each API key may make 20 requests a second
  and 100 in any 5 seconds (SUPPLEMENT.md; ``ratelimit.DAILY``); past that the answer is
  429 ``{"error": "rate-limit-error", "info": ...}`` with no headers, as Daily sends
  none. Refused requests are counted in the statistics but not against the limit.

Behaviour switches (``DailyBehaviour``; ``PUT /_sim/behaviour``; defaults first)
- ``participant_order``: ``example`` (``participant_id`` descending, which matches the
  example in Daily's participants reference: Lindsey, joined 1672786813, listed before
  Moishe, joined 1672786797) | ``join_order`` | ``newest_first`` (join order reversed).
  Applies to the participants endpoint's pages and to each session's ``participants``
  in ``GET /meetings``; which participants a page holds never changes.
- ``tie_order``: ``id_desc`` | ``id_asc``: the secondary order of sessions sharing a
  ``start_time`` (undocumented; the supplement only says "id secondary"). Cursors
  follow the served order.
- ``float_times``: ``true`` | ``false``: ``start_time``, ``duration`` and participants'
  ``join_time``/``duration`` as JSON floats of the same value (Daily's OpenAPI types
  them as ``number``), or as integers.
- ``rate_limits``: ``false`` | ``true``: see "Rate limits" below.
- ``bad_row`` with ``bad_row_id`` (a session id): ``null_time`` = that session's
  ``start_time`` is null (in the list and in ``GET /meetings/:id``);
  ``member_without_id`` = its first participant lacks ``participant_id``;
  ``null_in_list`` = its ``participants`` start with a null (list and participants
  endpoint, each page); ``null_last_in_list`` = they end with one (a page whose last
  row is no participant); ``unknown_enum`` changes nothing: Daily's session objects
  carry no enum.
- ``echo_credentials``: every error body's ``info`` repeats the request's
  ``Authorization`` header.
- ``webhook_timestamp_unit``, ``webhook_meeting_id``, ``webhook_ping_signed``: how
  webhooks are sent (see ``daily_webhooks``).

Webhooks
- ``POST/GET /webhooks``, ``GET/POST/DELETE /webhooks/{uuid}``, and sessions that start,
  gain and lose participants and end on demand (``/_sim/webhooks/join``, ``leave``,
  ``end``), each change sent signed to the registered webhooks and shown by the routes
  above at once: ``meetingmesh/simulators/daily_webhooks.py`` is that part's manual.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meetingmesh.simulators import daily_webhooks
from meetingmesh.simulators.behaviour import Behaviour
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.daily_data import (
    DEFAULT_CLOCK,
    DailyData,
    DailyMeeting,
    DailyParticipant,
)
from meetingmesh.simulators.daily_webhooks import DailyLive
from meetingmesh.simulators.faults import Faults
from meetingmesh.simulators.harness import Handler, Harness, bearer_token, json_response
from meetingmesh.simulators.ratelimit import DAILY, RateLimiter

__all__ = ["TOKEN", "DailyBehaviour", "DailyData", "DailyMeeting", "DailyParticipant", "create_app"]

TOKEN = "sim-daily-token"
MAX_LIMIT = 100
#: ``ending_before`` value that asks for the oldest page.
OLDEST = "OLDEST"

_ERROR_TYPES = {
    400: "invalid-request-error",
    401: "authentication-error",
    403: "forbidden-error",
    404: "not-found",
    405: "invalid-request-error",
    429: "rate-limit-error",
}


class DailyError(Exception):
    """A request Daily refuses: rendered as ``{"error": type, "info": text}``."""

    def __init__(self, status: int, error: str, info: str) -> None:
        super().__init__(info)
        self.status = status
        self.error = error
        self.info = info


def error_response(status: int, error: str, info: str) -> Response:
    """A Daily error body with its status."""
    return json_response({"error": error, "info": info}, status_code=status)


def _error_type(status: int) -> str:
    return _ERROR_TYPES.get(status, "server-error" if status >= 500 else "invalid-request-error")


def render_error(status: int, retry_after: int) -> Response:
    """An injected error in Daily's body; no Retry-After, as Daily sends no rate headers."""
    error = _error_type(status)
    return error_response(status, error, f"simulated {error} (status {status})")


def _invalid(info: str) -> DailyError:
    return DailyError(400, "invalid-request-error", info)


@dataclass
class _View:
    """The sessions matching one (room, ongoing) filter, in list order."""

    meetings: list[DailyMeeting] = field(default_factory=list)
    #: ``-start_time`` per session: ascending, so bisect finds time ranges.
    keys: list[int] = field(default_factory=list)
    #: Session id -> position in ``meetings``, for the cursors.
    positions: dict[str, int] = field(default_factory=dict)

    def add(self, meeting: DailyMeeting) -> None:
        self.positions[meeting.id] = len(self.meetings)
        self.meetings.append(meeting)
        self.keys.append(-meeting.start_time)

    def window(self, start: int | None, end: int | None) -> tuple[int, int]:
        """Positions [lo, hi) of sessions with ``start <= start_time < end``."""
        lo = 0 if end is None else bisect_right(self.keys, -end)
        hi = len(self.keys) if start is None else bisect_right(self.keys, -start)
        return lo, max(lo, hi)


class MeetingIndex:
    """Sessions pre-split by every (room, ongoing) filter, so a request costs one bisect."""

    def __init__(self, meetings: Sequence[DailyMeeting]) -> None:
        self.by_id: dict[str, DailyMeeting] = {}
        self._views: dict[tuple[str | None, bool | None], _View] = {}
        self._participant_positions: dict[str, dict[str, int]] = {}
        for meeting in meetings:  # in list order
            self.by_id[meeting.id] = meeting
            for room in (None, meeting.room):
                for ongoing in (None, meeting.ongoing):
                    self._views.setdefault((room, ongoing), _View()).add(meeting)

    def view(self, room: str | None, ongoing: bool | None) -> _View:
        """The sessions of ``room`` (any when None) with ``ongoing`` (any when None)."""
        return self._views.get((room, ongoing)) or _View()

    def participant_position(self, meeting: DailyMeeting, participant_id: str) -> int | None:
        """Where a participant sits in the session's join order (indexed on first use)."""
        positions = self._participant_positions.get(meeting.id)
        if positions is None:
            positions = {p.participant_id: i for i, p in enumerate(meeting.participants)}
            self._participant_positions[meeting.id] = positions
        return positions.get(participant_id)


def _params(request: Request) -> dict[str, str]:
    # Last value wins; an empty value means the parameter was not given.
    return {k: v for k, v in request.query_params.items() if v != ""}


def _int_param(params: dict[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    body = text[1:] if text[:1] in "+-" else text
    if not (body.isascii() and body.isdigit()):
        raise _invalid(f"{name} must be an integer unix timestamp, got {text!r}")
    return int(text)


def _bool_param(params: dict[str, str], name: str) -> bool | None:
    text = params.get(name)
    if text is None:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise _invalid(f"{name} must be true or false, got {text!r}")


def _limit(params: dict[str, str]) -> int:
    text = params.get("limit")
    if text is None:
        return MAX_LIMIT
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_LIMIT:
        return int(text)
    raise _invalid(f"limit must be an integer between 1 and {MAX_LIMIT}, got {text!r}")


def _cursors(params: dict[str, str], after: str, before: str) -> tuple[str | None, str | None]:
    if after in params and before in params:
        raise _invalid(f"{after} and {before} cannot be used together")
    return params.get(after), params.get(before)


def _page(lo: int, hi: int, limit: int, after: int | None, before: int | None) -> range:
    """Positions of one page in [lo, hi), given a cursor position (after or before)."""
    if after is not None:
        return range(after + 1, min(after + 1 + limit, hi))
    if before is not None:
        return range(max(lo, before - limit), before)
    return range(lo, min(lo + limit, hi))


def _authenticate(request: Request, token: str) -> None:
    presented = bearer_token(request)
    if presented is None:
        raise DailyError(
            400,
            "authorization-header-error",
            "the Authorization header is missing or is not 'Bearer <API key>'",
        )
    if presented != token:
        raise DailyError(401, "authentication-error", "the API key is not valid")


@dataclass(frozen=True)
class DailyBehaviour(Behaviour):
    """Daily's switches (see "Behaviour switches" in the manual).

    Defaults are the realistic reading where the gateway copes with every reading
    (participant order, float times), else the documents' plain one.
    """

    #: Order of ``/meetings/:id/participants`` and of each session's ``participants``.
    participant_order: Literal["join_order", "newest_first", "example"] = "example"
    #: Secondary order of sessions with the same ``start_time`` in ``GET /meetings``.
    tie_order: Literal["id_desc", "id_asc"] = "id_desc"
    #: ``start_time``, ``join_time`` and ``duration`` as JSON floats (``1716379200.0``).
    float_times: bool = True
    #: Enforce Daily's rate limits (20 requests/s and 100 per 5 s per API key).
    rate_limits: bool = False
    #: Make one row malformed on the list endpoints (see "Robust reading" in the manual):
    #: ``null_time``, ``member_without_id``, ``null_in_list``, ``null_last_in_list`` or
    #: ``unknown_enum``; "" is off.
    bad_row: Literal[
        "", "null_time", "member_without_id", "null_in_list", "null_last_in_list", "unknown_enum"
    ] = ""
    #: The id of the row ``bad_row`` applies to (the test picks it from the data).
    bad_row_id: str = ""
    #: Webhooks (``daily_webhooks``): the ``X-Webhook-Timestamp`` unit.
    webhook_timestamp_unit: Literal["seconds", "milliseconds"] = "seconds"
    #: Webhooks: participant events carry ``meeting_id`` (the documented ones do not).
    webhook_meeting_id: bool = False
    #: Webhooks: the verification request on creation is signed with the new hmac.
    webhook_ping_signed: bool = False


def create_app(
    data: DailyData,
    *,
    clock: Clock = DEFAULT_CLOCK,
    token: str = TOKEN,
    faults: Faults | None = None,
    behaviour: DailyBehaviour | None = None,
) -> Starlette:
    """The Daily simulator: meeting sessions routes plus the harness's control routes."""
    harness = Harness(
        "daily",
        render_error,
        faults=faults or Faults(),
        behaviour=behaviour or DailyBehaviour(),
        message_key="info",
    )
    live = DailyLive(data, clock)
    indexes = {"id_desc": MeetingIndex(live.meetings)}
    indexed = [live.version]

    def index_for(switches: DailyBehaviour) -> MeetingIndex:
        if indexed[0] != live.version:  # sessions started, changed or ended (webhooks)
            indexes.clear()
            indexed[0] = live.version
        # Built on first use: most runs never ask for the other tie order.
        if switches.tie_order not in indexes:
            ordered = (
                live.meetings
                if switches.tie_order == "id_desc"
                else sorted(live.meetings, key=lambda m: (-m.start_time, m.id))
            )
            indexes[switches.tie_order] = MeetingIndex(ordered)
        return indexes[switches.tie_order]

    def switches() -> DailyBehaviour:
        current = harness.behaviour
        assert isinstance(current, DailyBehaviour)
        return current

    limiter = RateLimiter(DAILY)

    def rate_limit(request: Request) -> Response | None:
        if not switches().rate_limits or limiter.take(bearer_token(request) or "") == 0:
            return None
        # Daily sends no rate-limit headers (SUPPLEMENT.md), so no Retry-After either.
        return error_response(429, "rate-limit-error", "too many requests: slow down")

    harness.limiter = rate_limit

    def list_meetings(params: dict[str, str], render: _Renderer) -> dict[str, Any]:
        limit = _limit(params)
        start = _int_param(params, "timeframe_start")
        end = _int_param(params, "timeframe_end")
        ongoing = _bool_param(params, "ongoing")
        no_participants = _bool_param(params, "no_participants") or False
        after_id, before_id = _cursors(params, "starting_after", "ending_before")
        view = index_for(render.switches).view(params.get("room"), ongoing)
        lo, hi = view.window(start, end)
        after = before = None
        if after_id is not None:
            after = _cursor_position(view, lo, hi, after_id, "starting_after")
        elif before_id == OLDEST:
            before = hi  # "before the end": the last page, the oldest sessions
        elif before_id is not None:
            before = _cursor_position(view, lo, hi, before_id, "ending_before")
        page = _page(lo, hi, limit, after, before)
        items = [render.meeting(view.meetings[i], not no_participants) for i in page]
        return {"total_count": hi - lo, "data": items}

    @harness.endpoint("GET /meetings")
    @_in_daily_body
    async def meetings(request: Request) -> Response:
        """GET /meetings: filtered, newest-first sessions with id cursors."""
        _authenticate(request, token)
        return json_response(list_meetings(_params(request), _Renderer(switches())))

    @harness.endpoint("GET /meetings/{meeting_id}")
    @_in_daily_body
    async def meeting(request: Request) -> Response:
        """GET /meetings/:id: one session without its participants."""
        _authenticate(request, token)
        render = _Renderer(switches())
        found = _find(index_for(render.switches), request.path_params["meeting_id"])
        return json_response(render.meeting(found, with_participants=False))

    @harness.endpoint("GET /meetings/{meeting_id}/participants")
    @_in_daily_body
    async def participants(request: Request) -> Response:
        """GET /meetings/:id/participants: one page of participants, 404 when none remain."""
        _authenticate(request, token)
        render = _Renderer(switches())
        index = index_for(render.switches)
        params = _params(request)
        limit = _limit(params)
        after_id, before_id = _cursors(params, "joined_after", "joined_before")
        session = _find(index, request.path_params["meeting_id"])
        after = before = None
        if after_id is not None:
            after = _participant_cursor(index, session, after_id, "joined_after")
        if before_id is not None:
            before = _participant_cursor(index, session, before_id, "joined_before")
        # Which participants: the ``limit`` after (or before) the cursor in join order;
        # in what order: the ``participant_order`` switch's.
        page = _page(0, len(session.participants), limit, after, before)
        if not page:
            raise DailyError(404, "not-found", f"no participants remaining in meeting {session.id}")
        chosen = [session.participants[i] for i in page]
        return json_response({"data": render.participants(session, chosen)})

    async def daily_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DailyError)
        return error_response(exc.status, exc.error, exc.info)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        info = f"{request.method} {request.url.path}: {exc.detail}"
        return error_response(exc.status_code, _error_type(exc.status_code), info)

    async def unexpected(request: Request, exc: Exception) -> Response:
        return error_response(500, "server-error", "internal error")

    routes = [
        Route("/meetings", meetings, methods=["GET"]),
        Route("/meetings/{meeting_id}", meeting, methods=["GET"]),
        Route("/meetings/{meeting_id}/participants", participants, methods=["GET"]),
        *daily_webhooks.routes(
            live,
            harness,
            lambda request: _authenticate(request, token),
            _in_daily_body,
            switches,
            DailyError,
        ),
        *harness.control_routes(),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            DailyError: daily_error,
            HTTPException: http_error,
            Exception: unexpected,
        },
    )
    app.state.harness = harness
    app.state.data = data
    app.state.clock = clock
    app.state.live = live
    return app


class _Renderer:
    """Session and participant objects as the current switches print them."""

    def __init__(self, switches: DailyBehaviour) -> None:
        self.switches = switches
        self.number: Callable[[int], int | float] = float if switches.float_times else int

    def meeting(self, meeting: DailyMeeting, with_participants: bool) -> dict[str, Any]:
        """A session object (``GET /meetings`` item, or ``GET /meetings/:id`` without them)."""
        item = meeting.summary()
        item["start_time"] = self.number(meeting.start_time)
        item["duration"] = self.number(meeting.duration)
        bad = self.switches.bad_row if meeting.id == self.switches.bad_row_id else ""
        if bad == "null_time":
            item["start_time"] = None
        if with_participants:
            item["participants"] = self.participants(meeting, list(meeting.participants))
        return item

    def participants(
        self, meeting: DailyMeeting, chosen: list[DailyParticipant]
    ) -> list[dict[str, Any] | None]:
        """``chosen`` (in join order) in the switch's order, as participant objects."""
        order = self.switches.participant_order
        if order == "newest_first":
            chosen = chosen[::-1]
        elif order == "example":
            chosen = sorted(chosen, key=lambda p: p.participant_id, reverse=True)
        rows: list[dict[str, Any] | None] = []
        for participant in chosen:
            row = participant.to_json()
            row["join_time"] = self.number(participant.join_time)
            row["duration"] = self.number(participant.duration)
            rows.append(row)
        bad = self.switches.bad_row if meeting.id == self.switches.bad_row_id else ""
        if bad == "member_without_id" and rows and rows[0] is not None:
            del rows[0]["participant_id"]
        elif bad == "null_in_list":
            rows.insert(0, None)
        elif bad == "null_last_in_list":
            rows.append(None)
        return rows


def _in_daily_body(handler: Handler) -> Handler:
    """``handler`` with its ``DailyError``s answered inside the harness (so faults see them)."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except DailyError as exc:
            return error_response(exc.status, exc.error, exc.info)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _find(index: MeetingIndex, meeting_id: str) -> DailyMeeting:
    found = index.by_id.get(meeting_id)
    if found is None:
        raise DailyError(404, "not-found", f"meeting {meeting_id} not found")
    return found


def _cursor_position(view: _View, lo: int, hi: int, meeting_id: str, name: str) -> int:
    position = view.positions.get(meeting_id)
    if position is None or not lo <= position < hi:
        raise _invalid(f"{name}: meeting {meeting_id} is not in the filtered result set")
    return position


def _participant_cursor(
    index: MeetingIndex, session: DailyMeeting, participant_id: str, name: str
) -> int:
    position = index.participant_position(session, participant_id)
    if position is None:
        raise _invalid(f"{name}: participant {participant_id} is not in meeting {session.id}")
    return position
