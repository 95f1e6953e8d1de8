"""Provider webhooks in: verified, answered at once, processed after, bounded.

``POST /webhooks/daily`` and ``POST /webhooks/hubspot`` exist when the provider is
configured. Without a ``webhook_secret`` they answer Daily's verification request (so a
webhook can be registered before its secret is known) and refuse everything else. Each
request is checked by its provider's receiver (``daily.py``, ``hubspot.py``: the
provider's documented signature, a fresh timestamp, no replay) before anything else:

- a bad or missing signature, a stale timestamp (more than ``server.webhook_tolerance``
  seconds from now) or a replayed signature: 401, nothing changes;
- a provider's verification request (Daily's, on webhook creation): 200, nothing changes;
- anything else: 200 at once (providers count slow answers as failures; Daily marks a
  webhook FAILED after three), and the event joins the *inbox*.

The inbox is a bounded queue (``server.webhook_queue``) worked by one task per process,
so events are processed in the order they arrived and each within ``server.deadline``.
Processing turns the event into domain records, clears the provider's upstream cache
(whatever an event changes, a cached answer may now be stale) and publishes the events
on the broker. When the inbox is full the event is dropped (counted, logged) and the
provider's cache cleared all the same, so queries never serve what it made stale.
Every outcome is counted in ``meetingmesh_webhook_events_total``; secrets and signatures
are never logged.

HeyPeers documents only organization webhooks for ``user.registered`` (a person joining
the organization), which changes no meeting, attendee or slot: there is no HeyPeers
endpoint. Thought Industries documents no webhooks for meetings.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import orjson
from cachetools import TTLCache
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meetingmesh.config import ProviderSettings, ServerSettings, Settings
from meetingmesh.domain import Provider
from meetingmesh.events import Broker
from meetingmesh.metrics import Metrics
from meetingmesh.providers.base import Adapter
from meetingmesh.providers.deadline import deadline_scope

logger = logging.getLogger("meetingmesh.webhooks")

#: Signatures (and event ids) remembered to refuse replays and skip redeliveries.
MEMORY = 100_000


class Verdict(enum.Enum):
    """What a receiver made of a request before processing it."""

    ACCEPTED = "accepted"
    PING = "ping"
    MISSING = "missing"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"
    REPLAYED = "replayed"
    #: No ``webhook_secret`` is configured: nothing can be verified.
    UNCONFIGURED = "unconfigured"

    @property
    def outcome(self) -> str:
        """The metric's outcome label."""
        refused = (Verdict.MISSING, Verdict.BAD_SIGNATURE, Verdict.UNCONFIGURED)
        return "refused" if self in refused else self.value


#: Why a refused request was refused, as the 401 body says it.
_REASONS = {
    Verdict.MISSING: "the signature or timestamp header is missing",
    Verdict.BAD_SIGNATURE: "the signature does not match",
    Verdict.STALE: "the timestamp is too far from now",
    Verdict.REPLAYED: "this signature was already received",
    Verdict.UNCONFIGURED: "no webhook secret is configured for this provider",
}


@dataclass(frozen=True)
class SignedRequest:
    """What a receiver checks: the request as it arrived, the raw body unparsed."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


class Receiver(Protocol):
    """One provider's webhook: its signature check and what its events change."""

    provider: Provider

    def check(self, request: SignedRequest, now: float) -> Verdict:
        """Whether the request is the provider's, fresh and new (``now``: unix seconds)."""
        ...

    async def process(self, body: bytes) -> str:
        """Apply a verified event: records, cache, broker. Returns the outcome to count."""
        ...

    async def forget_cache(self) -> None:
        """Clear the provider's upstream cache (an event that could not be processed)."""
        ...


class Replays:
    """Signatures seen within the tolerance window: the same one again is a replay."""

    def __init__(self, tolerance: float) -> None:
        # Twice the window: a signature older than that is refused as stale anyway.
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=MEMORY, ttl=2 * tolerance)

    def first_time(self, signature: str) -> bool:
        """Remember ``signature``; False when it was already seen."""
        if signature in self._seen:
            return False
        self._seen[signature] = True
        return True


class SignedReceiver:
    """What every receiver has: its secret and window, the adapters, the broker, memories."""

    provider: Provider

    def __init__(
        self,
        section: ProviderSettings,
        server: ServerSettings,
        adapters: Mapping[Provider, Adapter],
        broker: Broker,
    ) -> None:
        self.secret = section.webhook_secret
        #: Where the provider sends its webhooks, when a signature covers it (HubSpot).
        self.url = section.webhook_url
        self.tolerance = server.webhook_tolerance
        self.adapters = adapters
        self.broker = broker
        self.replays = Replays(server.webhook_tolerance)
        self._events: TTLCache[str, bool] = TTLCache(maxsize=MEMORY, ttl=86_400)

    def judge(self, expected: str, signature: str, sent: float, now: float) -> Verdict:
        """The verdict on ``signature``, given the one the provider's rule computes
        (``expected``): equal (compared in constant time), sent (seconds) within
        ``tolerance`` of ``now``, and not seen before."""
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return Verdict.BAD_SIGNATURE
        if abs(now - sent) > self.tolerance:
            return Verdict.STALE
        if not self.replays.first_time(signature):
            return Verdict.REPLAYED
        return Verdict.ACCEPTED

    def first_delivery(self, event_id: str) -> bool:
        """Remember an event id; False for a redelivery (seen within a day)."""
        if event_id in self._events:
            return False
        self._events[event_id] = True
        return True

    async def forget_cache(self) -> None:
        """Clear the provider's upstream cache, in every process: whatever the event
        changed reads anew (before the event is published, so no subscriber reads the
        world before it)."""
        adapter = self.adapters.get(self.provider)
        if adapter is not None:
            await adapter.client.invalidate()


Job = Callable[[], Awaitable[str]]


class Inbox:
    """Verified events waiting to be processed, in arrival order, by one task."""

    def __init__(self, server: ServerSettings, metrics: Metrics) -> None:
        self._server = server
        self._metrics = metrics
        self._queue: asyncio.Queue[tuple[Provider, Job]] = asyncio.Queue(server.webhook_queue)

    def offer(self, provider: Provider, job: Job) -> bool:
        """Queue ``job``; False when the inbox is full (the caller drops the event)."""
        try:
            self._queue.put_nowait((provider, job))
        except asyncio.QueueFull:
            return False
        return True

    async def drained(self) -> None:
        """Wait until every queued event has been processed (tests and benchmarks)."""
        await self._queue.join()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Work the inbox while the app runs; the worker is cancelled and awaited after."""
        worker = asyncio.create_task(self._work())
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _work(self) -> None:
        deadline = self._server.deadline
        while True:
            provider, job = await self._queue.get()
            outcome = "failed"
            try:
                with deadline_scope(deadline):
                    outcome = await asyncio.wait_for(job(), deadline)
            except Exception:
                logger.exception("a %s webhook event could not be processed", provider.label)
            finally:
                self._metrics.webhooks.labels(provider.name, outcome).inc()
                self._queue.task_done()


def routes(
    settings: Settings,
    adapters: Mapping[Provider, Adapter],
    broker: Broker,
    inbox: Inbox,
    metrics: Metrics,
) -> list[Route]:
    """``/webhooks/<provider>`` for each configured provider that documents webhooks.

    ``adapters`` is the live mapping the app fills at start-up: receivers look their
    provider's adapter up when an event is processed.
    """
    from meetingmesh.webhooks import daily, hubspot

    server = settings.server
    found: list[Route] = []
    for provider, section in settings.providers.items():
        receiver: Receiver
        if provider is Provider.DAILY:
            receiver = daily.DailyReceiver(section, server, adapters, broker)
        elif provider is Provider.HUBSPOT:
            receiver = hubspot.HubSpotReceiver(section, server, adapters, broker)
        else:
            continue
        found.append(
            Route(
                f"/webhooks/{provider.value}",
                _endpoint(receiver, inbox, metrics, server.max_body_bytes),
                methods=["POST"],
            )
        )
    return found


def _answer(status: int, content: object) -> Response:
    return Response(orjson.dumps(content), status, media_type="application/json")


def _endpoint(
    receiver: Receiver, inbox: Inbox, metrics: Metrics, max_body: int
) -> Callable[[Request], Awaitable[Response]]:
    provider = receiver.provider

    async def receive(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                return _answer(413, {"error": f"the body exceeds {max_body} bytes"})
        signed = SignedRequest(request.method, str(request.url), request.headers, bytes(body))
        verdict = receiver.check(signed, time.time())
        if verdict in _REASONS:
            metrics.webhooks.labels(provider.name, verdict.outcome).inc()
            logger.warning("%s webhook refused: %s", provider.label, _REASONS[verdict])
            return _answer(401, {"error": _REASONS[verdict]})
        if verdict is Verdict.PING:
            metrics.webhooks.labels(provider.name, verdict.outcome).inc()
            return _answer(200, {"received": True})
        if not inbox.offer(provider, lambda: receiver.process(signed.body)):
            metrics.webhooks.labels(provider.name, "dropped").inc()
            logger.warning("%s webhook dropped: the inbox is full", provider.label)
            await receiver.forget_cache()
        return _answer(200, {"received": True})

    return receive
