"""Live events: what changed at a provider, as provider-neutral records, and their broker.

Webhook receivers (``meetingmesh/webhooks``) and the booking resolver *publish* events;
GraphQL subscriptions (``meetingmesh/resolvers/subscriptions.py``) *subscribe* to them.
Neither knows how events travel: that is the ``Broker`` protocol, the one seam between
them. ``InProcessBroker`` delivers within one gateway process; with ``[redis] url``,
``meetingmesh.shared.broker.RedisBroker`` implements the same protocol across processes
(Redis pub/sub), serialising events (plain frozen dataclasses of ``meetingmesh.domain``
records) on publish and filtering them on arrival in each process.

Delivery is at most once and never blocks the publisher: each subscription holds a
bounded queue, and when a slow subscriber's queue is full its oldest event is dropped
(counted in ``InProcessBroker.dropped``) rather than memory growing without bound.
"""

from __future__ import annotations

import asyncio
import enum
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from meetingmesh.domain import Attendee, Meeting, Provider


class MeetingChange(enum.Enum):
    """What an update changed about a meeting."""

    STATUS = "status"
    TIMES = "times"
    ATTENDEE_COUNT = "attendee_count"


class AttendeeChange(enum.Enum):
    """How an attendee's presence changed."""

    JOINED = "joined"
    LEFT = "left"


class AvailabilityReason(enum.Enum):
    """Why a scheduling page's availability may have changed."""

    #: A booking made through this gateway's ``bookMeeting``.
    BOOKED = "booked"
    #: The provider said so (a webhook).
    PROVIDER_NOTIFIED = "provider_notified"


@dataclass(frozen=True, slots=True)
class MeetingUpdated:
    """A meeting's status, times or attendee count changed.

    ``meeting`` is the meeting as it is now, the same record an adapter would produce;
    ``previous`` is how it was just before, when the provider's event tells.
    """

    meeting: Meeting
    changes: frozenset[MeetingChange]
    occurred_at: datetime
    previous: Meeting | None = None


@dataclass(frozen=True, slots=True)
class AttendeeChanged:
    """Someone joined or left a meeting (``meeting_key`` within ``provider``)."""

    provider: Provider
    meeting_key: str
    attendee: Attendee
    change: AttendeeChange
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class AvailabilityChanged:
    """A scheduling page's free slots may have changed.

    ``slug`` is None when the provider's event names no page: then every page of that
    provider may have changed.
    """

    provider: Provider
    slug: str | None
    reason: AvailabilityReason
    occurred_at: datetime


Event = MeetingUpdated | AttendeeChanged | AvailabilityChanged
E = TypeVar("E", bound=Event)
E_co = TypeVar("E_co", bound=Event, covariant=True)


class Subscription(Protocol[E_co]):
    """An open subscription: the matching events in publication order, until closed."""

    def __aiter__(self) -> AsyncIterator[E_co]:
        """The events, as they are published; iteration ends when the subscription closes."""
        ...

    async def aclose(self) -> None:
        """Stop receiving; idempotent."""
        ...


class Broker(Protocol):
    """Publish domain events; subscribe to one kind of them, optionally filtered."""

    async def publish(self, event: Event) -> None:
        """Deliver ``event`` to every open subscription of its kind that accepts it."""
        ...

    def subscribe(
        self, kind: type[E], accept: Callable[[E], bool] | None = None
    ) -> Subscription[E]:
        """Open a subscription to events of ``kind`` (those ``accept`` lets through).

        The subscription is registered before this returns, so an event published right
        after is delivered to it.
        """
        ...

    @property
    def subscriptions(self) -> int:
        """Subscriptions open in this process."""
        ...


#: Events one slow subscriber may have waiting before its oldest is dropped.
QUEUE_SIZE = 64
_CLOSED = object()


class _Queue(Generic[E]):
    """One subscription of ``InProcessBroker``: a bounded queue of accepted events."""

    __slots__ = ("__weakref__", "_accept", "_broker", "_closed", "_events", "kind")

    def __init__(
        self, broker: InProcessBroker, kind: type[E], accept: Callable[[E], bool] | None
    ) -> None:
        self._broker = broker
        self.kind = kind
        self._accept = accept
        self._events: asyncio.Queue[E | object] = asyncio.Queue(broker.queue_size + 1)
        self._closed = False

    def offer(self, event: E) -> None:
        """Queue ``event`` if this subscription wants it, dropping the oldest when full."""
        if self._closed or (self._accept is not None and not self._accept(event)):
            return
        if self._events.qsize() >= self._broker.queue_size:
            self._events.get_nowait()
            self._broker.dropped += 1
        self._events.put_nowait(event)

    def __aiter__(self) -> AsyncIterator[E]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[E]:
        while True:
            item = await self._events.get()
            if item is _CLOSED:
                return
            yield item  # type: ignore[misc]  # anything but the sentinel is an E

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._broker._forget(self)
        # The one spare place in the queue is for this: a waiting iterator ends.
        self._events.put_nowait(_CLOSED)


@dataclass
class InProcessBroker:
    """Events delivered to the subscriptions of this process only."""

    queue_size: int = QUEUE_SIZE
    #: Events dropped because a subscriber's queue was full, since start.
    dropped: int = 0
    #: Open subscriptions by event kind, held weakly: one its owner dropped unclosed
    #: (a stream that never started) goes away with it.
    _open: dict[type, weakref.WeakSet[_Queue[Any]]] = field(default_factory=dict, repr=False)

    async def publish(self, event: Event) -> None:
        """Offer ``event`` to every subscription of its kind (never waits on a subscriber)."""
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        """``publish``, for callers that cannot wait (an event arriving from Redis)."""
        for queue in tuple(self._open.get(type(event), ())):
            queue.offer(event)

    def subscribe(
        self, kind: type[E], accept: Callable[[E], bool] | None = None
    ) -> Subscription[E]:
        """A new subscription to ``kind``, registered at once."""
        queue: _Queue[E] = _Queue(self, kind, accept)
        self._open.setdefault(kind, weakref.WeakSet()).add(queue)
        return queue

    @property
    def subscriptions(self) -> int:
        """Subscriptions open in this process."""
        return sum(len(queues) for queues in self._open.values())

    def _forget(self, queue: _Queue[E]) -> None:
        queues = self._open.get(queue.kind)
        if queues is not None:
            queues.discard(queue)


@dataclass(frozen=True)
class Live:
    """What subscriptions need from the process: its broker and the bounds they keep to."""

    broker: Broker
    #: Subscriptions open at once in the process (``server.max_subscriptions``).
    max_subscriptions: int
    #: Seconds the fields of one event may take to resolve (``server.deadline``).
    event_deadline: float
    #: Upstream calls the fields of one event may make (``server.max_upstream_calls``);
    #: None: no bound.
    event_calls: int | None = None
