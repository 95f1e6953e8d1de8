"""HubSpot's app webhooks, simulated: settings, subscriptions and signed v3 deliveries.

This part of the HubSpot simulator's manual (``hubspot.py`` has the rest). Implemented
from HubSpot's webhooks API reference (https://developers.hubspot.com/docs/api/webhooks),
its generic webhook subscriptions guide (object events of any type, the CRM meeting
being ``objectTypeId`` ``0-47``) and its request validation guide (signature v3); see
``meetingmesh/webhooks/hubspot.py`` for what each says.

Management routes (authenticated with the developer API key, ``?hapikey=DEVELOPER_KEY``,
as HubSpot's v3 webhooks API is; ``APP_ID`` is the simulated app; counted in stats)
- ``GET``/``PUT /webhooks/v3/{appId}/settings``: ``{targetUrl, throttling:
  {maxConcurrentRequests, period}}``; ``targetUrl`` must be an http(s) URL.
- ``GET``/``POST /webhooks/v3/{appId}/subscriptions``, ``DELETE .../subscriptions/{id}``:
  a subscription is ``{id, eventType, objectTypeId?, propertyName?, active, createdAt,
  updatedAt}``; the list is ``{"results": [...]}``.
- A wrong ``appId`` is 404, a missing or wrong key 401, a bad body 400, in HubSpot's
  error body.

Deliveries
- A booking through the simulator creates a CRM meeting: each active ``object.creation``
  subscription for ``0-47`` gets an event, delivered in the background after the
  booking's answer (HubSpot's webhooks are asynchronous). On demand: ``POST
  /_sim/webhooks/meeting`` ``{change?: creation|propertyChange|deletion|restore,
  objectId?}`` delivers before it answers ``{deliveries: [...]}``, with the same
  options as Daily's control routes (``signature``: ``valid`` | ``wrong_secret`` |
  ``none``, ``timestamp_offset`` seconds, ``replay``). ``GET /_sim/webhooks/deliveries``
  lists the last deliveries.
- One ``POST targetUrl`` carries a JSON array of the events (one per matching
  subscription): ``{eventId, subscriptionId, portalId, appId, occurredAt (simulated
  clock, epoch ms), subscriptionType, attemptNumber: 0, objectId, objectTypeId,
  changeFlag, changeSource: "MEETINGS"}``.
- Headers: ``X-HubSpot-Request-Timestamp`` (wall clock, epoch ms),
  ``X-HubSpot-Signature-v3`` = base64(HMAC-SHA256(app client secret, "POST" + targetUrl
  + body + timestamp)), ``X-HubSpot-Signature-Version: v3``. No retries.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.harness import Handler, Harness, json_response
from meetingmesh.simulators.hubspot_errors import error_response
from meetingmesh.simulators.hubspot_oauth import CLIENT_SECRET

#: The simulated app and account.
APP_ID = "7654321"
PORTAL_ID = 62515
DEVELOPER_KEY = "sim-hubspot-developer-key"
MEETINGS = "0-47"
CHANGES = {
    "creation": "CREATED",
    "propertyChange": "UPDATED",
    "deletion": "DELETED",
    "restore": "RESTORED",
}
TIMEOUT = 5.0
LOG = 200


def sign(secret: str, url: str, body: bytes, timestamp: str) -> str:
    """HubSpot's v3 signature of a POST to ``url``."""
    digest = hmac.new(
        secret.encode(), b"POST" + url.encode() + body + timestamp.encode(), hashlib.sha256
    )
    return base64.b64encode(digest.digest()).decode()


@dataclass
class HubSpotWebhooks:
    """The app's webhook settings, subscriptions and the deliveries made."""

    clock: Clock
    target_url: str | None = None
    throttling: dict[str, Any] = field(
        default_factory=lambda: {"maxConcurrentRequests": 10, "period": "SECONDLY"}
    )
    subscriptions: dict[int, dict[str, Any]] = field(default_factory=dict)
    deliveries: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _events: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _objects: itertools.count[int] = field(default_factory=lambda: itertools.count(90_000_001))
    _background: set[asyncio.Task[Any]] = field(default_factory=set)

    def booked(self) -> None:
        """A booking created a meeting: deliver ``object.creation`` in the background."""
        task = asyncio.get_running_loop().create_task(self.deliver("creation", None, {}))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def deliver(
        self, change: str, object_id: int | None, options: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send one batch of meeting events to ``targetUrl`` (see the manual)."""
        matching = [
            s
            for s in self.subscriptions.values()
            if s["active"]
            and s["eventType"] == f"object.{change}"
            and s.get("objectTypeId") == MEETINGS
        ]
        if self.target_url is None or not matching:
            return []
        object_id = object_id if object_id is not None else next(self._objects)
        occurred = round(self.clock.now().timestamp() * 1000)
        events = [
            {
                "eventId": next(self._events),
                "subscriptionId": s["id"],
                "portalId": PORTAL_ID,
                "appId": int(APP_ID),
                "occurredAt": occurred,
                "subscriptionType": f"object.{change}",
                "attemptNumber": 0,
                "objectId": object_id,
                "objectTypeId": MEETINGS,
                "changeFlag": CHANGES[change],
                "changeSource": "MEETINGS",
            }
            for s in matching
        ]
        body = orjson.dumps(events)
        headers = {"Content-Type": "application/json", "X-HubSpot-Signature-Version": "v3"}
        signature = options.get("signature", "valid")
        if signature != "none":
            stamp = str(round((time.time() + float(options.get("timestamp_offset", 0))) * 1000))
            secret = CLIENT_SECRET if signature == "valid" else "not-the-client-secret"
            headers["X-HubSpot-Request-Timestamp"] = stamp
            headers["X-HubSpot-Signature-v3"] = sign(secret, self.target_url, body, stamp)
        results = []
        for _ in range(2 if options.get("replay") else 1):
            started = time.monotonic()
            try:
                async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                    answer = await client.post(self.target_url, content=body, headers=headers)
                status: int | str = answer.status_code
            except httpx.TimeoutException:
                status = "timeout"
            except httpx.HTTPError:
                status = "error"
            result = {
                "objectId": object_id,
                "subscriptionType": f"object.{change}",
                "status": status,
                "ms": round((time.monotonic() - started) * 1000, 2),
            }
            self.deliveries.append(result)
            results.append(result)
        return results


def routes(webhooks: HubSpotWebhooks, harness: Harness) -> list[Route]:
    """The webhook management routes and the ``/_sim/webhooks/`` control routes."""

    def refused(request: Request) -> Response | None:
        if request.query_params.get("hapikey") != DEVELOPER_KEY:
            return error_response(
                401, "INVALID_AUTHENTICATION", "The developer API key provided is invalid."
            )
        if request.path_params.get("app_id") != APP_ID:
            return error_response(404, "OBJECT_NOT_FOUND", "No app found with that id.")
        return None

    def invalid(message: str) -> Response:
        return error_response(400, "VALIDATION_ERROR", message)

    async def body_of(request: Request) -> Any:
        try:
            return orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            return None

    def managed(name: str, handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            return refused(request) or await handler(request)

        return harness.endpoint(name)(run)

    async def settings(request: Request) -> Response:
        if request.method == "PUT":
            body = await body_of(request)
            url = body.get("targetUrl") if isinstance(body, dict) else None
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                return invalid("targetUrl must be an http(s) URL")
            webhooks.target_url = url
            if isinstance(body.get("throttling"), dict):
                webhooks.throttling = body["throttling"]
        return json_response({"targetUrl": webhooks.target_url, "throttling": webhooks.throttling})

    async def subscriptions(request: Request) -> Response:
        if request.method == "GET":
            return json_response({"results": list(webhooks.subscriptions.values())})
        body = await body_of(request)
        kind = body.get("eventType") if isinstance(body, dict) else None
        if not isinstance(kind, str) or not kind:
            return invalid("eventType is required")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        subscription = {
            "id": next(webhooks._ids),
            "eventType": kind,
            "objectTypeId": body.get("objectTypeId"),
            "propertyName": body.get("propertyName"),
            "active": bool(body.get("active", True)),
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        webhooks.subscriptions[subscription["id"]] = subscription
        return json_response(subscription, status_code=201)

    async def subscription(request: Request) -> Response:
        found = webhooks.subscriptions.pop(int(request.path_params["id"]), None)
        if found is None:
            return error_response(404, "OBJECT_NOT_FOUND", "No subscription with that id.")
        return Response(status_code=204)

    async def control_meeting(request: Request) -> Response:
        body = await body_of(request)
        if not isinstance(body, dict):
            return invalid("the body must be a JSON object")
        change = body.get("change", "creation")
        if change not in CHANGES:
            return invalid(f"change must be one of {', '.join(CHANGES)}")
        object_id = body.get("objectId")
        options = {k: body[k] for k in ("signature", "timestamp_offset", "replay") if k in body}
        sent = await webhooks.deliver(
            change, object_id if isinstance(object_id, int) else None, options
        )
        return json_response({"deliveries": sent})

    async def control_deliveries(request: Request) -> Response:
        return json_response(list(webhooks.deliveries))

    base = "/webhooks/v3/{app_id}"
    return [
        Route(
            f"{base}/settings",
            managed(f"PUT {base}/settings", settings),
            methods=["GET", "PUT"],
        ),
        Route(
            f"{base}/subscriptions",
            managed(f"POST {base}/subscriptions", subscriptions),
            methods=["GET", "POST"],
        ),
        Route(
            f"{base}/subscriptions/{{id:int}}",
            managed(f"DELETE {base}/subscriptions/{{id}}", subscription),
            methods=["DELETE"],
        ),
        Route("/_sim/webhooks/meeting", control_meeting, methods=["POST"]),
        Route("/_sim/webhooks/deliveries", control_deliveries, methods=["GET"]),
    ]
