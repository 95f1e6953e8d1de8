"""HubSpot's webhooks: CRM meetings created, changed or deleted, signed with signature v3.

Sources (HubSpot's public developer documentation):
- Webhooks API, https://developers.hubspot.com/docs/api/webhooks : an app subscribes to
  CRM object events and HubSpot POSTs them to the app's ``targetUrl`` as a JSON *array*
  of up to 100 events (``eventId``, ``subscriptionId``, ``portalId``, ``appId``,
  ``occurredAt``, ``subscriptionType``, ``attemptNumber``, ``objectId``, ...); it
  retries deliveries that fail or time out.
- Generic webhook subscriptions, https://developers.hubspot.com/docs/guides/webhooks/
  create-generic-webhook-subscriptions : ``object.creation``, ``object.propertyChange``,
  ``object.deletion``, ``object.restore`` (and ``merge``/``associationChange``) for any
  supported object type, named by ``objectTypeId`` in each event; "Meeting event" (the
  CRM meeting, ``0-47``) is one of them. A booking through a scheduling page creates one.
- Validating requests, https://developers.hubspot.com/docs/apps/legacy-apps/
  authentication/validating-requests : ``X-HubSpot-Signature-v3`` is the base64 of an
  HMAC-SHA256, keyed with the app's client secret, of the request method, the full URI
  HubSpot called, the raw body and the ``X-HubSpot-Request-Timestamp`` header (epoch
  milliseconds), concatenated; requests whose timestamp is older than five minutes are
  to be rejected; the URI is taken with these characters URL-decoded: ``%3A : %2F /
  %3F ? %40 @ %21 ! %24 $ %27 ' %28 ( %29 ) %2A * %2C , %3B ;``.

The URI is ``[providers.hubspot] webhook_url`` when set (the public address in front of
a proxy), else the URL the request arrived at. Stale means more than
``server.webhook_tolerance`` seconds (300: HubSpot's five minutes) from now; the same
signature again within the window is refused; an ``eventId`` seen before is skipped.

What is not available: HubSpot's scheduler API (``/scheduler/v3/meetings``) has no
webhooks of its own, and a CRM meeting event names no scheduling page. So a meeting
created, changed, deleted or restored clears HubSpot's upstream cache (booking
information and availability with it) and tells the subscribers of *every* page that
its free slots may have changed; other objects' events are ignored.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
from datetime import UTC, datetime

import orjson

from meetingmesh.domain import Provider
from meetingmesh.events import AvailabilityChanged, AvailabilityReason
from meetingmesh.webhooks import SignedReceiver, SignedRequest, Verdict, logger

SIGNATURE = "x-hubspot-signature-v3"
TIMESTAMP = "x-hubspot-request-timestamp"
#: The CRM meeting object ("Meeting event") in generic webhook events.
MEETINGS = "0-47"
CHANGES = frozenset({"creation", "propertyChange", "deletion", "restore", "merge"})
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ENCODED = re.compile("|".join(_DECODED), flags=re.IGNORECASE)


def signed_uri(url: str) -> str:
    """The URI as HubSpot signs it: the listed characters URL-decoded, no fragment."""
    return _ENCODED.sub(lambda m: _DECODED[m.group(0).upper()], url.split("#", 1)[0])


def sign(secret: str, method: str, url: str, body: bytes, timestamp: str) -> str:
    """HubSpot's v3 signature of a request."""
    message = method.encode() + signed_uri(url).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_meeting_event(event: object) -> bool:
    """Whether one event of a batch is about a CRM meeting (generic or legacy form)."""
    if not isinstance(event, dict):
        return False
    kind = str(event.get("subscriptionType", ""))
    subject, _, change = kind.partition(".")
    if change not in CHANGES:
        return False
    if subject == "object":
        return str(event.get("objectTypeId")) == MEETINGS
    return subject == "meeting"


class HubSpotReceiver(SignedReceiver):
    """``POST /webhooks/hubspot``: signature v3 checked; meeting events refresh availability."""

    provider = Provider.HUBSPOT

    def check(self, request: SignedRequest, now: float) -> Verdict:
        """The v3 signature over method, URI, body and timestamp; fresh and not seen before."""
        if not self.secret:
            return Verdict.UNCONFIGURED
        signature = request.headers.get(SIGNATURE, "")
        timestamp = request.headers.get(TIMESTAMP, "")
        if not signature or not timestamp.isdigit():
            return Verdict.MISSING
        url = self.url or request.url
        expected = sign(self.secret, request.method, url, request.body, timestamp)
        return self.judge(expected, signature, int(timestamp) / 1000, now)

    async def process(self, body: bytes) -> str:
        """Clear the cache and tell every page's subscribers, if the batch has a meeting."""
        try:
            events = orjson.loads(body)
        except orjson.JSONDecodeError:
            logger.warning("a HubSpot webhook batch could not be read; its cache is cleared")
            await self.forget_cache()
            return "unreadable"
        if not isinstance(events, list):
            events = [events]
        fresh = []
        for event in events:
            if not is_meeting_event(event):
                continue
            event_id = event.get("eventId")
            # Only an id seen before marks a redelivery: events without one are all new.
            if event_id is None or self.first_delivery(str(event_id)):
                fresh.append(event)
        if not fresh:
            return "ignored"
        await self.forget_cache()
        occurred = max(_instant(e.get("occurredAt")) for e in fresh)
        await self.broker.publish(
            AvailabilityChanged(
                Provider.HUBSPOT, None, AvailabilityReason.PROVIDER_NOTIFIED, occurred
            )
        )
        return "processed"


def _instant(epoch_ms: object) -> datetime:
    """When the event happened; now, when HubSpot's ``occurredAt`` is not a usable instant."""
    if isinstance(epoch_ms, int | float) and not isinstance(epoch_ms, bool):
        with contextlib.suppress(OverflowError, OSError, ValueError):
            return datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return datetime.now(UTC)
