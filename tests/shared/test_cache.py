"""The shared upstream cache and its lock, one process's client against a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from meetingmesh.config import RedisSettings
from meetingmesh.domain import Provider
from meetingmesh.providers import daily
from meetingmesh.providers.http import SharedUpstream, Sharing, UpstreamClient
from meetingmesh.shared.cache import COMPRESS_ABOVE, SharedCache, Waiters, pack, unpack
from meetingmesh.shared.connection import RedisState
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import Stack
from tests.shared.conftest import RedisServer

LIST = "/meetings"
PARAMS = {"limit": "1"}


@asynccontextmanager
async def shared_client(
    stack: Stack, server: RedisServer, lock_ttl: float = 3.0
) -> AsyncIterator[tuple[UpstreamClient, RedisState]]:
    """A Daily client whose cache and coalescing live in Redis (a process of its own)."""
    state = RedisState(RedisSettings(url=server.url, lock_ttl=lock_ttl))
    settings = gateway_settings(stack.sim_url).providers[Provider.DAILY]
    cache = SharedCache(state, Waiters(state), "daily", settings.cache_ttl)
    async with httpx.AsyncClient() as http:
        client = UpstreamClient(settings, http, daily.read_message, shared=SharedUpstream(cache))
        await state.start()
        try:
            await client.invalidate()
            yield client, state
        finally:
            await state.close()


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Run one asyncio scenario to its end."""
    return asyncio.run(scenario())  # type: ignore[arg-type]


def test_large_answers_are_stored_compressed_and_read_back_whole() -> None:
    answer = {"data": [{"id": str(i), "title": "x" * 40} for i in range(200)]}
    stored = pack(answer)
    assert len(stored) < len(repr(answer)) / 4 and len(repr(answer)) > COMPRESS_ABOVE
    assert unpack(stored) == answer
    assert unpack(pack({"small": True})) == {"small": True}


def test_a_hit_hands_out_the_same_object_while_the_entry_is_unchanged(
    gateway: Stack, redis_server: RedisServer
) -> None:
    async def scenario() -> tuple[Any, Any, Any]:
        async with shared_client(gateway, redis_server) as (client, _):
            first = await client.get(LIST, PARAMS)
            second = await client.get(LIST, PARAMS)
            await client.invalidate()
            third = await client.get(LIST, PARAMS)
            return first, second, third

    first, second, third = run(scenario)
    # The adapters' parse memo keys on the object: a page is parsed once per version.
    assert second is first
    assert third == first and gateway.calls("daily") == 2


def test_another_process_hit_costs_no_upstream_call(
    gateway: Stack, redis_server: RedisServer
) -> None:
    async def scenario() -> None:
        async with shared_client(gateway, redis_server) as (one, _):
            await one.get(LIST, PARAMS)
            async with shared_client(gateway, redis_server) as (other, _):
                # ``shared_client`` invalidated on start: this one fetches, the first hits.
                await other.get(LIST, PARAMS)
                await one.get(LIST, PARAMS)

    run(scenario)
    assert gateway.calls("daily") == 2


def test_a_waiter_whose_lock_holder_died_fetches_once_the_lock_expires(
    gateway: Stack, redis_server: RedisServer
) -> None:
    async def scenario() -> Any:
        async with shared_client(gateway, redis_server, lock_ttl=0.5) as (client, state):
            assert client.shared is not None
            cache = client.shared.cache
            name = cache.name(client._cache_key(LIST, PARAMS))
            found = await cache.lookup(name, None)
            # Another process took the lock, then died: it will never publish an answer.
            dead = RedisState(state.settings)
            await dead.start()
            died = SharedCache(dead, Waiters(dead), "daily", 10)
            assert await died.try_lock(name, found.generation) is not None
            await dead.close()
            return await client.get(LIST, PARAMS)

    answer = run(scenario)
    assert answer["total_count"] > 0
    assert gateway.calls("daily") == 1


def test_a_client_whose_redis_is_gone_answers_from_the_provider(gateway: Stack) -> None:
    async def scenario() -> tuple[Any, Sharing]:
        settings = RedisSettings(url="redis://127.0.0.1:9/0", retry_interval=60)
        state = RedisState(settings)
        provider = gateway_settings(gateway.sim_url).providers[Provider.DAILY]
        cache = SharedCache(state, Waiters(state), "daily", provider.cache_ttl)
        async with httpx.AsyncClient() as http:
            client = UpstreamClient(
                provider, http, daily.read_message, shared=SharedUpstream(cache)
            )
            await state.start()
            try:
                await client.get(LIST, PARAMS)
                return await client.get(LIST, PARAMS), client.status().sharing
            finally:
                await state.close()

    answer, sharing = run(scenario)
    assert answer["total_count"] > 0 and sharing is Sharing.FALLBACK
    assert gateway.calls("daily") == 1  # this process's own cache served the second
