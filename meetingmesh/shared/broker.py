"""Live events to the subscribers of every gateway process, through Redis pub/sub.

``RedisBroker`` implements ``events.Broker``. Subscriptions are this process's own
(an ``InProcessBroker`` holds them, with its bounded queues and filters). ``publish``
sends the event, encoded (``codec``), on the channel ``P:events``; every process,
the publisher included, receives it on its one pub/sub connection and offers it to its
own subscriptions, in the order Redis delivered it. So a webhook received by one
process reaches subscribers on every process, at most once, never blocking the
publisher.

While Redis cannot be used (``RedisState`` fallback), ``publish`` delivers to this
process's subscribers only, as a single process does; events published elsewhere
meanwhile are not received here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import orjson

from meetingmesh.events import E, Event, InProcessBroker, Subscription
from meetingmesh.shared import codec
from meetingmesh.shared.connection import RedisState, SharedUnavailable

logger = logging.getLogger("meetingmesh.shared")

#: The channel of events, under the key prefix.
CHANNEL = "events"


class RedisBroker:
    """Events across processes (see the module docstring); in-process until attached."""

    def __init__(self, local: InProcessBroker | None = None) -> None:
        self.local = local or InProcessBroker()
        self._state: RedisState | None = None
        self._channel = ""

    def attach(self, state: RedisState) -> None:
        """Publish and receive through ``state`` (before it starts)."""
        self._state = state
        self._channel = state.key(CHANNEL)
        state.on_message(self._channel, self._receive)

    def detach(self) -> None:
        """Back to this process alone (the app stopped)."""
        self._state = None

    async def publish(self, event: Event) -> None:
        """Send ``event`` to every process's subscriptions (this one's alone without Redis)."""
        state = self._state
        if state is not None and state.up:
            message = orjson.dumps(codec.encode(event))
            try:
                await state.run(lambda client: client.publish(self._channel, message))
                return
            except SharedUnavailable:
                pass
        self.local.deliver(event)

    def subscribe(
        self, kind: type[E], accept: Callable[[E], bool] | None = None
    ) -> Subscription[E]:
        """A new subscription of this process, registered at once."""
        return self.local.subscribe(kind, accept)

    @property
    def subscriptions(self) -> int:
        """Subscriptions open in this process."""
        return self.local.subscriptions

    @property
    def dropped(self) -> int:
        """Events this process's slow subscribers lost since start."""
        return self.local.dropped

    def _receive(self, message: bytes) -> None:
        try:
            event = codec.decode(orjson.loads(message))
        except (codec.Unreadable, orjson.JSONDecodeError):
            logger.warning("an event on %s could not be read; it was ignored", self._channel)
            return
        self.local.deliver(event)
