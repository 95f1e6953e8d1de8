"""Daily's webhooks: ``meeting.started``, ``meeting.ended``, ``participant.joined/left``.

Sources (Daily's public documentation):
- "Listen for webhooks", https://docs.daily.co/reference/rest-api/webhooks : Daily POSTs
  each event to the registered URL; before creating (or re-activating) a webhook it
  sends a verification request that must get a 200 "relatively quickly"; three failed
  deliveries (an error or a slow answer) put the webhook in the ``FAILED`` state. The
  ``hmac`` secret Daily returns (or one given on creation) "must be BASE-64 encoded".
  "When POSTing to your webhook server, Daily will provide two headers:
  ``X-Webhook-Signature`` and ``X-Webhook-Timestamp``"; the signature is computed over
  the event "``event`` is the response body" with the HMAC-SHA256 secret.
- "Create a webhook", https://docs.daily.co/reference/rest-api/webhooks/create : the
  request body (``url``, ``eventTypes``, ``hmac``, ``basicAuth``, ``retryType``) and the
  webhook object returned (``uuid``, ``hmac``, ``state``, ``failedCount``, ...).
- The event pages under https://docs.daily.co/reference/rest-api/webhooks/events/ :
  every event is ``{version, type, id, payload, event_ts}``; ``meeting.started``'s
  payload is ``{start_ts, meeting_id, room}``, ``meeting.ended``'s ``{start_ts, end_ts,
  meeting_id, room}``, ``participant.joined``'s ``{joined_at, session_id, room, user_id,
  user_name, owner, ...}`` and ``participant.left``'s the same plus ``duration``.

The signature, as Daily's snippet computes it (and public receivers that follow it,
``createHmac("sha256", Buffer.from(secret, "base64")).update(`${ts}.${body}`)
.digest("base64")``): the key is the base64-*decoded* ``hmac``; the message is the
``X-Webhook-Timestamp`` value, a ``.``, and the raw request body; ``X-Webhook-Signature``
is the base64 of the HMAC-SHA256 digest. It is compared in constant time.

Where the documentation is silent, the gateway accepts either reading (the simulator
can send both; ``meetingmesh/simulators/daily_webhooks.py``):
- the timestamp's unit: seconds or milliseconds (a value above 10^11 is taken as
  milliseconds); more than ``server.webhook_tolerance`` seconds from now is stale (401);
- replays: the same signature again within the window is refused (401); the same event
  ``id`` under a new signature (a redelivery) is answered 200 and processed once;
- the verification request: its body is a test object (a JSON object with a ``test``
  key and no ``type``) that may arrive unsigned, since the secret is returned only once
  the check passed. It gets its 200 whatever its headers, and changes nothing;
- participant events name the room, not the session: the session is the one this
  process saw start in that room (``meeting_id`` is used when a payload carries it),
  else the room's ongoing session asked of Daily (one ``GET /meetings`` call).

Every processed event clears Daily's upstream cache, then publishes: a session that
starts or ends is a ``MeetingUpdated`` (status and times); a participant joining or
leaving is an ``AttendeeChanged`` and a ``MeetingUpdated`` of the attendee count. The
records have the shape ``DailyAdapter`` gives the same session (title: the room;
status: ongoing or completed; duration so far), with what the event does not carry
(``max_participants``) left null.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson

from meetingmesh.config import ProviderSettings, ServerSettings
from meetingmesh.domain import (
    DailyDetails,
    Meeting,
    MeetingOrder,
    MeetingStatus,
    Provider,
)
from meetingmesh.events import (
    AttendeeChange,
    AttendeeChanged,
    Broker,
    MeetingChange,
    MeetingUpdated,
)
from meetingmesh.providers.base import Adapter, MeetingQuery, MeetingSource
from meetingmesh.providers.daily import participant, session
from meetingmesh.providers.timefmt import from_unix_seconds
from meetingmesh.webhooks import SignedReceiver, SignedRequest, Verdict, logger

SIGNATURE = "x-webhook-signature"
TIMESTAMP = "x-webhook-timestamp"
EVENTS = frozenset({"meeting.started", "meeting.ended", "participant.joined", "participant.left"})
#: Ongoing sessions remembered, to tell which session a participant event's room is in.
SESSIONS = 10_000
_MILLISECONDS = 10**11


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Daily's signature of ``body`` sent at ``timestamp`` with the base64 ``secret``."""
    key = base64.b64decode(secret)
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_verification(body: bytes) -> bool:
    """Whether ``body`` is Daily's verification request: a test object, not an event."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and "test" in value and "type" not in value


def seconds(timestamp: str) -> float | None:
    """A timestamp header in unix seconds, whether it was sent in seconds or milliseconds."""
    try:
        value = float(timestamp)
    except ValueError:
        return None
    return value / 1000 if value > _MILLISECONDS else value


class DailyReceiver(SignedReceiver):
    """``POST /webhooks/daily``: Daily's signature checked, its session events applied."""

    provider = Provider.DAILY

    def __init__(
        self,
        section: ProviderSettings,
        server: ServerSettings,
        adapters: Mapping[Provider, Adapter],
        broker: Broker,
    ) -> None:
        super().__init__(section, server, adapters, broker)
        #: Ongoing sessions by id, most recent last, and the session of each room.
        self._sessions: OrderedDict[str, Meeting] = OrderedDict()
        self._rooms: dict[str, str] = {}

    def check(self, request: SignedRequest, now: float) -> Verdict:
        """Daily's signature over the timestamp and body; fresh, and not seen before."""
        if is_verification(request.body):
            return Verdict.PING
        if not self.secret:
            return Verdict.UNCONFIGURED
        signature = request.headers.get(SIGNATURE, "")
        timestamp = request.headers.get(TIMESTAMP, "")
        if not signature or not timestamp:
            return Verdict.MISSING
        sent = seconds(timestamp)
        if sent is None:
            return Verdict.MISSING
        try:
            expected = sign(self.secret, timestamp, request.body)
        except binascii.Error:  # pragma: no cover - the configuration checks the secret
            return Verdict.BAD_SIGNATURE
        return self.judge(expected, signature, sent, now)

    async def process(self, body: bytes) -> str:
        """Apply one verified event (see the module docstring)."""
        try:
            return await self._process(body)
        except (KeyError, TypeError, ValueError, OverflowError):
            # Signed by Daily, yet not an event this gateway can read: nothing to publish.
            logger.warning("a Daily webhook event could not be read; its cache is cleared")
            await self.forget_cache()
            return "unreadable"

    async def _process(self, body: bytes) -> str:
        event = orjson.loads(body)
        kind = event.get("type") if isinstance(event, dict) else None
        if kind not in EVENTS:
            return "ignored"
        event_id = event.get("id")
        if isinstance(event_id, str) and not self.first_delivery(event_id):
            return "duplicate"
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return "ignored"
        await self.forget_cache()
        if kind == "meeting.started":
            await self._started(payload)
        elif kind == "meeting.ended":
            await self._ended(payload)
        else:
            await self._presence(kind, payload)
        return "processed"

    async def _started(self, payload: dict[str, Any]) -> None:
        meeting = _session(str(payload["meeting_id"]), str(payload["room"]), payload["start_ts"])
        self._remember(meeting)
        assert meeting.start_time is not None
        await self.broker.publish(
            MeetingUpdated(
                meeting,
                frozenset({MeetingChange.STATUS, MeetingChange.TIMES}),
                occurred_at=meeting.start_time,
            )
        )

    async def _ended(self, payload: dict[str, Any]) -> None:
        meeting_id, room = str(payload["meeting_id"]), str(payload["room"])
        previous = self._sessions.pop(meeting_id, None) or _session(
            meeting_id, room, payload["start_ts"]
        )
        if self._rooms.get(room) == meeting_id:
            del self._rooms[room]
        meeting = _session(meeting_id, room, payload["start_ts"], payload["end_ts"])
        assert meeting.end_time is not None
        await self.broker.publish(
            MeetingUpdated(
                meeting,
                frozenset({MeetingChange.STATUS, MeetingChange.TIMES}),
                occurred_at=meeting.end_time,
                previous=previous,
            )
        )

    async def _presence(self, kind: str, payload: dict[str, Any]) -> None:
        meeting = await self._session_of(payload)
        if meeting is None:
            return  # no session in that room: nothing anyone could subscribe to
        joined = kind == "participant.joined"
        user_id, name = payload.get("user_id"), payload.get("user_name")
        joined_at = from_unix_seconds(payload["joined_at"])
        duration = payload.get("duration")
        attendee = participant(
            str(payload["session_id"]),
            user_id,
            name,
            joined_at,
            None if joined or duration is None else int(duration),
        )
        occurred = joined_at if joined else joined_at + timedelta(seconds=int(duration or 0))
        change = AttendeeChange.JOINED if joined else AttendeeChange.LEFT
        await self.broker.publish(
            AttendeeChanged(Provider.DAILY, meeting.key, attendee, change, occurred)
        )
        await self.broker.publish(
            MeetingUpdated(meeting, frozenset({MeetingChange.ATTENDEE_COUNT}), occurred)
        )

    async def _session_of(self, payload: dict[str, Any]) -> Meeting | None:
        """The session a participant event belongs to (see the module docstring)."""
        meeting_id = payload.get("meeting_id")
        room = str(payload.get("room"))
        if isinstance(meeting_id, str) and meeting_id in self._sessions:
            return self._sessions[meeting_id]
        known = self._rooms.get(room)
        if known is not None and meeting_id in (None, known):
            return self._sessions[known]
        adapter = self.adapters.get(self.provider)
        if not isinstance(adapter, MeetingSource):
            return None
        if isinstance(meeting_id, str):
            found = await adapter.get_meeting(meeting_id)
        else:
            found = await _ongoing_in(adapter, room)
        if found is not None and found.status is MeetingStatus.ONGOING:
            self._remember(found)
        return found

    def _remember(self, meeting: Meeting) -> None:
        self._sessions[meeting.key] = meeting
        self._sessions.move_to_end(meeting.key)
        if isinstance(meeting.details, DailyDetails):
            self._rooms[meeting.details.room] = meeting.key
        while len(self._sessions) > SESSIONS:
            key, old = self._sessions.popitem(last=False)
            if isinstance(old.details, DailyDetails) and self._rooms.get(old.details.room) == key:
                del self._rooms[old.details.room]


async def _ongoing_in(source: MeetingSource, room: str) -> Meeting | None:
    """The room's ongoing session, newest first: one ``GET /meetings`` (no participants)."""
    query = MeetingQuery(
        order=MeetingOrder.START_TIME_DESC,
        room=room,
        ongoing=True,
        page_hint=1,
        fields=frozenset({"id"}),
        want_total=False,
    )
    stream = source.stream_meetings(query)
    try:
        async for positioned in stream.items:
            return positioned.meeting
    finally:
        await stream.aclose()
    return None


def _session(meeting_id: str, room: str, start_ts: Any, end_ts: Any = None) -> Meeting:
    """A session as ``DailyAdapter`` reads one: ongoing until it has an end."""
    ongoing = end_ts is None
    duration = 0 if ongoing else max(0, round(float(end_ts) - float(start_ts)))
    return session(meeting_id, room, from_unix_seconds(start_ts), duration, ongoing=ongoing)
