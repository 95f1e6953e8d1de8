"""The process's connection to Redis, and the degraded mode when Redis cannot be used.

``RedisState`` owns one ``redis.asyncio`` client (a connection pool) and one pub/sub
connection for the whole process. Every shared operation goes through ``run``: while
Redis answers, the command runs within ``[redis] timeout``; the first failure (refused,
unreachable, too slow, an error reply) puts the process in *fallback*: it is logged
once, counted in ``meetingmesh_redis_fallbacks_total``, ``meetingmesh_redis_up`` drops
to 0, and ``run`` raises ``SharedUnavailable`` at once, without touching the network,
so each caller uses its in-process state instead (its cache, limiter, coalescing,
tokens, persisted queries, broker). A background task tries Redis again every
``retry_interval`` seconds; once a ``PING`` answers, the process is *shared* again
(logged once), the pub/sub channels are subscribed anew and the recovery hooks run
(an invalidation made while Redis was away is applied to it).

Commands are never retried by the client library: a failure means fallback now, not a
slower answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from meetingmesh.config import RedisSettings
from meetingmesh.metrics import Metrics

logger = logging.getLogger("meetingmesh.shared")

T = TypeVar("T")
#: What a channel's subscriber is handed: the message's raw bytes.
Handler = Callable[[bytes], None]
#: Failures that mean Redis cannot be used right now.
_FAILURES = (RedisError, OSError, TimeoutError)
#: Seconds a pub/sub read waits before the listener looks at its state again.
_LISTEN_POLL = 1.0


class SharedUnavailable(Exception):
    """Redis cannot be used now: the caller falls back to its in-process state."""


class RedisState:
    """One process's Redis: its client, its channels, and whether it is usable now."""

    def __init__(self, settings: RedisSettings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            settings.url,
            socket_timeout=settings.timeout,
            socket_connect_timeout=settings.connect_timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        #: Whether shared operations go to Redis (False: fallback, or not started).
        self.up = False
        #: Times this process fell back to its own state since start.
        self.fallbacks = 0
        #: A name for this process, unique enough to own locks.
        self.owner = secrets.token_hex(8)
        self._channels: dict[str, Handler] = {}
        self._recovery: list[Callable[[], Awaitable[None]]] = []
        self._listener: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._closed = False

    def key(self, *parts: str) -> str:
        """A key (or channel) name under the configured prefix."""
        return ":".join((self.settings.key_prefix, *parts))

    def on_message(self, channel: str, handler: Handler) -> None:
        """Hand every message of ``channel`` to ``handler`` (call before ``start``)."""
        self._channels[channel] = handler

    def on_recovery(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run ``hook`` each time Redis is usable again after a fallback."""
        self._recovery.append(hook)

    async def start(self) -> None:
        """Connect (bounded): shared when Redis answers, else fallback and retrying."""
        self.metrics.redis_up.set(0)
        if await self._ping():
            await self._became_up(recovered=False)
        else:
            self._fall_back("not reachable at start-up")

    async def close(self) -> None:
        """Stop the listener and the reconnection attempts; close every connection."""
        self._closed = True
        for task in (self._listener, self._reconnecting):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(*_FAILURES):
            await self.client.aclose()

    async def run(self, operation: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """``operation(client)``, timed; ``SharedUnavailable`` when Redis is not usable."""
        if not self.up:
            raise SharedUnavailable
        try:
            return await asyncio.wait_for(operation(self.client), self.settings.timeout)
        except _FAILURES as exc:
            self._fall_back(_describe(exc))
            raise SharedUnavailable from None

    async def _ping(self) -> bool:
        try:
            await asyncio.wait_for(
                self.client.ping(), self.settings.connect_timeout + self.settings.timeout
            )
        except _FAILURES:
            return False
        return True

    def _fall_back(self, why: str) -> None:
        if not self.up and self._reconnecting is not None:
            return  # already in fallback: logged once per outage
        self.up = False
        self.fallbacks += 1
        self.metrics.redis_up.set(0)
        self.metrics.redis_fallbacks.inc()
        logger.warning(
            "Redis %s (%s): this process uses its own cache, rate limits, coalescing, "
            "tokens and events until it answers again (retrying every %g s)",
            self.settings.describe(),
            why,
            self.settings.retry_interval,
        )
        if not self._closed and (self._reconnecting is None or self._reconnecting.done()):
            self._reconnecting = asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.settings.retry_interval)
            # Connections to a Redis that went away fail once each: drop them all first.
            with contextlib.suppress(*_FAILURES):
                await self.client.connection_pool.disconnect()
            if await self._ping():
                self._reconnecting = None
                await self._became_up(recovered=True)
                return

    async def _became_up(self, *, recovered: bool) -> None:
        if self._channels:
            if self._listener is not None:
                self._listener.cancel()
            self._listening.clear()
            self._listener = asyncio.ensure_future(self._listen())
            # Subscribed before anything is published: bounded, a slow Redis falls back.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listening.wait(), self.settings.connect_timeout + 1)
            if not self._listening.is_set():
                self._fall_back("its channels could not be subscribed")
                return
        self.up = True
        self.metrics.redis_up.set(1)
        if recovered:
            logger.warning("Redis %s answers again: state is shared", self.settings.describe())
            for hook in self._recovery:
                with contextlib.suppress(SharedUnavailable):
                    await hook()
        else:
            logger.info("Redis %s: state is shared", self.settings.describe())

    async def _listen(self) -> None:
        pubsub: PubSub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(*self._channels)
            self._listening.set()
            while True:
                message: dict[str, Any] | None = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=_LISTEN_POLL
                )
                if message is None or message.get("type") != "message":
                    continue
                channel = message["channel"]
                handler = self._channels.get(
                    channel.decode() if isinstance(channel, bytes) else str(channel)
                )
                if handler is not None:
                    try:
                        handler(message["data"])
                    except Exception:  # one bad message must not stop every channel
                        logger.exception("a message on %s could not be handled", channel)
        except _FAILURES as exc:
            self._fall_back(f"its channels were lost: {_describe(exc)}")
        finally:
            with contextlib.suppress(*_FAILURES, asyncio.CancelledError):
                await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]


def _describe(exc: BaseException) -> str:
    """A failure in a few words, never the URL (it may hold the password)."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    name = type(exc).__name__
    return f"{name}" if isinstance(exc, OSError | RedisError) else "error"
