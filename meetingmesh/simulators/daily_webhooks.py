"""Daily's webhooks, simulated: registration, sessions that change, signed deliveries.

The manual of this part of the Daily simulator (``daily.py`` has the rest). Implemented
from Daily's webhooks guide (https://docs.daily.co/reference/rest-api/webhooks), its
"Create a webhook" reference and its event pages (see ``meetingmesh/webhooks/daily.py``
for the quotes); every choice the documents leave open is written down here.

Registration (API routes, with the Daily API key; counted in the statistics)
- ``POST /webhooks`` ``{url, eventTypes?, hmac?, basicAuth?, retryType?}``: first sends
  the verification request, ``POST url`` with the body ``{"test": "test"}`` (unsigned
  unless ``webhook_ping_signed``); anything but a 200 within ``TIMEOUT`` seconds is a
  400 ``invalid-request-error`` and nothing is created. Then 200 with the webhook
  object: ``{uuid, url, hmac, basicAuth, retryType, eventTypes, state: "ACTIVE",
  failedCount: 0, lastMomentPushed, domainId, createdAt, updatedAt}``. ``hmac`` is the
  one given (it must be base64, else 400) or 32 random bytes in base64. ``eventTypes``
  defaults to the four simulated events.
- ``GET /webhooks`` (a JSON array), ``GET /webhooks/{uuid}``, ``DELETE /webhooks/{uuid}``;
  ``POST /webhooks/{uuid}`` updates fields and sends the verification request again; a
  200 re-activates a ``FAILED`` webhook (failed count back to 0).

Sessions that change (control routes under ``/_sim/webhooks/``: no auth, not counted)
- ``POST /_sim/webhooks/join`` ``{room, user_id?, user_name?}``: someone joins ``room``.
  With no ongoing session there, a new session starts now (simulated clock): it is sent
  as ``meeting.started``. Then ``participant.joined``. Answers ``{meeting_id,
  participant_id, deliveries}``.
- ``POST /_sim/webhooks/leave`` ``{meeting_id, participant_id}``: ``participant.left``;
  when nobody is left, the session ends: ``meeting.ended`` (Daily: "emitted when the
  last participant in a call leaves"; sent at once, not after Daily's up to 20 s).
- ``POST /_sim/webhooks/end`` ``{meeting_id}``: everyone present leaves, then it ends.
- ``GET /_sim/webhooks/deliveries``: the last ``LOG`` deliveries (``{uuid, type,
  status, ms}``; status is the HTTP status, or ``"timeout"``/``"error"``).
- Each control call delivers before it answers, so its ``deliveries`` show what the
  receiver said. Options on any call: ``signature`` (``valid``; ``wrong_secret`` signs
  with another key; ``none`` sends no signature headers), ``timestamp_offset`` (seconds
  added to the signed timestamp: a stale delivery) and ``replay`` (every delivery is
  sent twice, byte for byte).
- The REST routes show the change at once: a started session is in ``GET /meetings``
  (newest first), its participants in ``/participants``, an ended one completed.
  Presence in a session of the generated data: a participant is present when its
  ``join_time + duration`` reaches the data set's now.

Deliveries
- ``POST`` to each ``ACTIVE`` webhook subscribed to the event type, ``Content-Type:
  application/json``, the body ``{version: "1.0.0", type, id, payload, event_ts}``,
  ``X-Webhook-Timestamp`` (the wall clock: a delivery is sent now, whatever the
  simulated time) and ``X-Webhook-Signature`` = base64(HMAC-SHA256(base64-decoded
  hmac, timestamp + "." + body)); ``Authorization: Basic <basicAuth>`` when set.
- ``circuit-breaker`` retry type: a delivery that fails (not a 200, or no answer within
  ``TIMEOUT`` s) counts one; at three in a row the webhook is ``FAILED`` and gets
  nothing more until re-activated; a 200 resets the count. Deliveries are not retried.
- Payloads: ``meeting.started`` ``{start_ts, meeting_id, room}``; ``meeting.ended``
  ``{start_ts, end_ts, meeting_id, room}``; ``participant.joined`` ``{joined_at,
  session_id, room, user_id, user_name, owner: false, will_eject_at: null,
  permissions}``; ``participant.left`` the same plus ``duration`` (seconds).

Behaviour switches (``DailyBehaviour``), where the documents are silent
- ``webhook_timestamp_unit``: ``seconds`` | ``milliseconds`` (the header's unit).
- ``webhook_meeting_id``: ``false`` | ``true``: participant payloads carry
  ``meeting_id`` too (the documented payloads do not).
- ``webhook_ping_signed``: ``false`` | ``true``: the verification request is signed
  with the new hmac.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.daily_data import DailyData, DailyMeeting, DailyParticipant
from meetingmesh.simulators.harness import Handler, Harness, json_response

#: The event types this simulator sends.
EVENT_TYPES = ("meeting.started", "meeting.ended", "participant.joined", "participant.left")
#: Seconds a receiver has to answer the verification request or a delivery.
TIMEOUT = 5.0
#: Deliveries kept in ``GET /_sim/webhooks/deliveries``.
LOG = 200
DOMAIN_ID = "sim-daily-domain"
#: The hmac the demo and the tests register their webhook with (``base64`` of 32 bytes).
WEBHOOK_SECRET = base64.b64encode(b"sim-daily-webhook-hmac-secret-01").decode()
_FAILURES = 3
_PERMISSIONS = {"hasPresence": True, "canSend": True, "canReceive": {"base": True}}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Daily's signature: base64(HMAC-SHA256(base64-decoded secret, ``ts.body``))."""
    digest = hmac.new(base64.b64decode(secret), f"{timestamp}.".encode() + body, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


@dataclass
class Webhook:
    """One registered webhook."""

    uuid: str
    url: str
    hmac: str
    event_types: tuple[str, ...]
    basic_auth: str | None = None
    retry_type: str = "circuit-breaker"
    state: str = "ACTIVE"
    failed_count: int = 0
    last_moment_pushed: str | None = None
    created_at: str = ""
    updated_at: str = ""

    def to_json(self) -> dict[str, Any]:
        """The webhook object as Daily prints it."""
        return {
            "uuid": self.uuid,
            "url": self.url,
            "hmac": self.hmac,
            "basicAuth": self.basic_auth,
            "retryType": self.retry_type,
            "eventTypes": list(self.event_types),
            "state": self.state,
            "failedCount": self.failed_count,
            "lastMomentPushed": self.last_moment_pushed,
            "domainId": DOMAIN_ID,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@dataclass(frozen=True)
class Options:
    """How a control call's deliveries are sent (tests of the receiver's checks)."""

    signature: str = "valid"
    timestamp_offset: float = 0.0
    replay: bool = False


class DailyLive:
    """The sessions the simulator serves, which change, and the webhooks told of it.

    ``meetings`` is in list order (newest first, id descending); ``version`` grows with
    every change, so the REST routes rebuild their indexes.
    """

    def __init__(self, data: DailyData, clock: Clock) -> None:
        self.meetings: list[DailyMeeting] = list(data.meetings)
        self.version = 0
        self.clock = clock
        self.webhooks: dict[str, Webhook] = {}
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=LOG)
        self._present: dict[str, set[str]] = {}

    def now(self) -> int:
        """The simulated now, in whole unix seconds."""
        return int(self.clock.now().timestamp())

    def find(self, meeting_id: str) -> DailyMeeting | None:
        """A session by id."""
        return next((m for m in self.meetings if m.id == meeting_id), None)

    def ongoing_in(self, room: str) -> DailyMeeting | None:
        """The newest ongoing session of ``room``."""
        return next((m for m in self.meetings if m.room == room and m.ongoing), None)

    def present(self, meeting: DailyMeeting) -> set[str]:
        """Who is in an ongoing session now (see "Presence" in the manual)."""
        found = self._present.get(meeting.id)
        if found is None:
            found = self._present[meeting.id] = {
                p.participant_id
                for p in meeting.participants
                if meeting.ongoing
                and p.join_time + p.duration >= meeting.start_time + meeting.duration
            }
        return found

    def store(self, meeting: DailyMeeting) -> None:
        """Add or replace a session, keeping list order."""
        self.meetings = [m for m in self.meetings if m.id != meeting.id]
        self.meetings.append(meeting)
        self.meetings.sort(key=lambda m: (m.start_time, m.id), reverse=True)
        self.version += 1


def routes(
    live: DailyLive,
    harness: Harness,
    authenticate: Callable[[Request], None],
    in_daily_body: Callable[[Handler], Handler],
    switches: Callable[[], Any],
    error: Callable[[int, str, str], Exception],
) -> list[Route]:
    """The webhook registration routes and the ``/_sim/webhooks/`` control routes."""

    def invalid(info: str) -> Exception:
        return error(400, "invalid-request-error", info)

    async def verify(url: str, secret: str) -> None:
        body = orjson.dumps({"test": "test"})
        headers = {"Content-Type": "application/json"}
        if switches().webhook_ping_signed:
            stamp = _timestamp(switches(), 0.0)
            headers |= {
                "X-Webhook-Timestamp": stamp,
                "X-Webhook-Signature": sign(secret, stamp, body),
            }
        status = await _post(url, body, headers)
        if status != 200:
            raise invalid(f"non-200 status code returned from webhook endpoint, {status}")

    def read_webhook(values: Any, current: Webhook | None) -> Webhook:
        if not isinstance(values, dict):
            raise invalid("the body must be a JSON object")
        url = values.get("url", current.url if current else None)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise invalid("url must be an http(s) URL")
        secret = values.get("hmac", current.hmac if current else None)
        if secret is None:
            secret = base64.b64encode(secrets.token_bytes(32)).decode()
        if not isinstance(secret, str) or not _is_base64(secret):
            raise invalid("hmac must be BASE-64 encoded")
        types = values.get("eventTypes", list(current.event_types) if current else EVENT_TYPES)
        if (
            not isinstance(types, list | tuple)
            or not types
            or not all(isinstance(t, str) for t in types)
        ):
            raise invalid("eventTypes must be a non-empty list of event types")
        basic = values.get("basicAuth", current.basic_auth if current else None)
        retry = values.get("retryType", current.retry_type if current else "circuit-breaker")
        if retry not in ("circuit-breaker", "exponential"):
            raise invalid("retryType must be circuit-breaker or exponential")
        stamp = _iso(time.time())
        return Webhook(
            uuid=current.uuid if current else str(uuid.uuid4()),
            url=url,
            hmac=secret,
            event_types=tuple(types),
            basic_auth=basic if isinstance(basic, str) else None,
            retry_type=retry,
            created_at=current.created_at if current else stamp,
            updated_at=stamp,
        )

    @harness.endpoint("POST /webhooks")
    @in_daily_body
    async def create(request: Request) -> Response:
        """POST /webhooks: verified first, then created."""
        authenticate(request)
        webhook = read_webhook(await _json(request, invalid), None)
        await verify(webhook.url, webhook.hmac)
        live.webhooks[webhook.uuid] = webhook
        return json_response(webhook.to_json())

    @harness.endpoint("GET /webhooks")
    @in_daily_body
    async def listing(request: Request) -> Response:
        """GET /webhooks: every webhook of the domain."""
        authenticate(request)
        return json_response([w.to_json() for w in live.webhooks.values()])

    def found(request: Request) -> Webhook:
        webhook = live.webhooks.get(request.path_params["uuid"])
        if webhook is None:
            raise error(404, "not-found", f"webhook {request.path_params['uuid']} not found")
        return webhook

    @harness.endpoint("GET /webhooks/{uuid}")
    @in_daily_body
    async def one(request: Request) -> Response:
        """GET/POST/DELETE /webhooks/:uuid."""
        authenticate(request)
        webhook = found(request)
        if request.method == "DELETE":
            del live.webhooks[webhook.uuid]
            return json_response(webhook.to_json())
        if request.method == "POST":
            updated = read_webhook(await _json(request, invalid), webhook)
            await verify(updated.url, updated.hmac)
            live.webhooks[webhook.uuid] = webhook = updated
        return json_response(webhook.to_json())

    async def deliver(kind: str, payload: dict[str, Any], options: Options) -> list[dict[str, Any]]:
        sent = time.time()
        envelope = {
            "version": "1.0.0",
            "type": kind,
            "id": f"{kind.replace('.', '-')}-{uuid.uuid4()}-{int(sent)}",
            "payload": payload,
            "event_ts": round(sent, 3),
        }
        body = orjson.dumps(envelope)
        results = []
        for webhook in list(live.webhooks.values()):
            if webhook.state != "ACTIVE" or kind not in webhook.event_types:
                continue
            headers = {"Content-Type": "application/json"}
            if webhook.basic_auth:
                headers["Authorization"] = f"Basic {webhook.basic_auth}"
            if options.signature != "none":
                stamp = _timestamp(switches(), options.timestamp_offset)
                key = webhook.hmac
                if options.signature == "wrong_secret":
                    key = base64.b64encode(b"not the webhook's secret").decode()
                headers |= {
                    "X-Webhook-Timestamp": stamp,
                    "X-Webhook-Signature": sign(key, stamp, body),
                }
            for _ in range(2 if options.replay else 1):
                started = time.monotonic()
                status = await _post(webhook.url, body, headers)
                _record_outcome(webhook, status)
                result = {
                    "uuid": webhook.uuid,
                    "type": kind,
                    "status": status,
                    "ms": round((time.monotonic() - started) * 1000, 2),
                }
                live.deliveries.append(result)
                results.append(result)
        return results

    def participant_payload(
        meeting: DailyMeeting, who: DailyParticipant, left: bool
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "joined_at": who.join_time,
            "session_id": who.participant_id,
            "room": meeting.room,
            "user_id": who.user_id,
            "user_name": who.user_name,
            "owner": False,
            "will_eject_at": None,
            "permissions": _PERMISSIONS,
        }
        if left:
            payload["duration"] = who.duration
        if switches().webhook_meeting_id:
            payload["meeting_id"] = meeting.id
        return payload

    async def leave(
        meeting: DailyMeeting, participant_id: str, options: Options
    ) -> list[dict[str, Any]]:
        now = live.now()
        present = live.present(meeting)
        if participant_id not in present:
            raise invalid(f"participant {participant_id} is not in meeting {meeting.id}")
        present.discard(participant_id)
        who = next(p for p in meeting.participants if p.participant_id == participant_id)
        gone = who._replace(duration=max(0, now - who.join_time))
        meeting = meeting._replace(
            participants=tuple(gone if p is who else p for p in meeting.participants),
            duration=max(0, now - meeting.start_time),
        )
        live.store(meeting)
        sent = await deliver("participant.left", participant_payload(meeting, gone, True), options)
        if not present:
            meeting = meeting._replace(ongoing=False)
            live.store(meeting)
            payload = {
                "start_ts": meeting.start_time,
                "end_ts": meeting.start_time + meeting.duration,
                "meeting_id": meeting.id,
                "room": meeting.room,
            }
            sent += await deliver("meeting.ended", payload, options)
        return sent

    async def control_join(request: Request) -> Response:
        values, options = await _control(request, invalid)
        room = values.get("room")
        if not isinstance(room, str) or not room:
            raise invalid("room is required")
        now = live.now()
        sent: list[dict[str, Any]] = []
        meeting = live.ongoing_in(room)
        if meeting is None:
            meeting = DailyMeeting(str(uuid.uuid4()), room, now, 0, True, 0, ())
            live.store(meeting)
            live.present(meeting)
            payload = {"start_ts": now, "meeting_id": meeting.id, "room": room}
            sent += await deliver("meeting.started", payload, options)
        user_id = values.get("user_id")
        user_name = values.get("user_name")
        who = DailyParticipant(
            user_id if isinstance(user_id, str) else None,
            user_name if isinstance(user_name, str) else None,
            str(uuid.uuid4()),
            now,
            0,
        )
        present = live.present(meeting)
        present.add(who.participant_id)
        meeting = meeting._replace(
            participants=(*meeting.participants, who),
            max_participants=max(meeting.max_participants, len(present)),
            duration=max(0, now - meeting.start_time),
        )
        live.store(meeting)
        sent += await deliver(
            "participant.joined", participant_payload(meeting, who, False), options
        )
        return json_response(
            {"meeting_id": meeting.id, "participant_id": who.participant_id, "deliveries": sent}
        )

    async def control_leave(request: Request) -> Response:
        values, options = await _control(request, invalid)
        meeting = _session(live, values.get("meeting_id"), invalid)
        participant_id = values.get("participant_id")
        if not isinstance(participant_id, str):
            raise invalid("participant_id is required")
        return json_response({"deliveries": await leave(meeting, participant_id, options)})

    async def control_end(request: Request) -> Response:
        values, options = await _control(request, invalid)
        meeting = _session(live, values.get("meeting_id"), invalid)
        sent: list[dict[str, Any]] = []
        for participant_id in sorted(live.present(meeting)):
            current = live.find(meeting.id)
            assert current is not None
            sent += await leave(current, participant_id, options)
        return json_response({"deliveries": sent})

    async def control_deliveries(request: Request) -> Response:
        return json_response(list(live.deliveries))

    return [
        Route("/webhooks", create, methods=["POST"]),
        Route("/webhooks", listing, methods=["GET"]),
        Route("/webhooks/{uuid}", one, methods=["GET", "POST", "DELETE"]),
        Route("/_sim/webhooks/join", control_join, methods=["POST"]),
        Route("/_sim/webhooks/leave", control_leave, methods=["POST"]),
        Route("/_sim/webhooks/end", control_end, methods=["POST"]),
        Route("/_sim/webhooks/deliveries", control_deliveries, methods=["GET"]),
    ]


def _record_outcome(webhook: Webhook, status: int | str) -> None:
    if status == 200:
        webhook.failed_count = 0
        webhook.last_moment_pushed = _iso(time.time())
        return
    webhook.failed_count += 1
    if webhook.retry_type == "circuit-breaker" and webhook.failed_count >= _FAILURES:
        webhook.state = "FAILED"


async def _post(url: str, body: bytes, headers: dict[str, str]) -> int | str:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return "timeout"
    except httpx.HTTPError:
        return "error"
    return response.status_code


def _timestamp(switches: Any, offset: float) -> str:
    sent = time.time() + offset
    if switches.webhook_timestamp_unit == "milliseconds":
        return str(int(sent * 1000))
    return str(int(sent))


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except binascii.Error:
        return False
    return bool(text)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


async def _json(request: Request, invalid: Callable[[str], Exception]) -> Any:
    try:
        return orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise invalid("the body is not valid JSON") from None


async def _control(
    request: Request, invalid: Callable[[str], Exception]
) -> tuple[dict[str, Any], Options]:
    values = await _json(request, invalid)
    if not isinstance(values, dict):
        raise invalid("the body must be a JSON object")
    signature = values.get("signature", "valid")
    if signature not in ("valid", "wrong_secret", "none"):
        raise invalid("signature must be valid, wrong_secret or none")
    offset = values.get("timestamp_offset", 0)
    if not isinstance(offset, int | float) or isinstance(offset, bool):
        raise invalid("timestamp_offset must be a number of seconds")
    return values, Options(signature, float(offset), bool(values.get("replay", False)))


def _session(live: DailyLive, meeting_id: Any, invalid: Callable[[str], Exception]) -> DailyMeeting:
    meeting = live.find(meeting_id) if isinstance(meeting_id, str) else None
    if meeting is None or not meeting.ongoing:
        raise invalid(f"meeting {meeting_id!r} is not an ongoing session")
    return meeting
