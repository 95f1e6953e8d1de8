"""The rate limit every process keeps together, against a real Redis."""

from __future__ import annotations

import asyncio
import time

import pytest

from meetingmesh.config import RedisSettings, provider_settings
from meetingmesh.domain import Provider
from meetingmesh.shared.connection import RedisState
from meetingmesh.shared.ratelimit import RateLimitOutlasts, SharedRateLimit, windows
from tests.shared.conftest import RedisServer


def test_the_published_limits_become_windows() -> None:
    def of(provider: Provider) -> tuple[tuple[int, float], ...]:
        return windows(provider_settings(provider, "https://example.com", "t"))

    assert of(Provider.DAILY) == ((100, 5.0), (20, 1.0))
    assert of(Provider.HUBSPOT) == ((100, 10.0),)
    # 120 a minute with a burst of 20: never more than a bucket of 20 refilled at 2/s.
    assert of(Provider.THOUGHT_INDUSTRIES) == ((120, 60.0), (20, 10.0))
    assert of(Provider.HEYPEERS) == ()


async def _process(server: RedisServer) -> RedisState:
    """The Redis state of one gateway process."""
    state = RedisState(RedisSettings(url=server.url))
    await state.start()
    return state


def _limit(
    state: RedisState, tenant: str, limits: tuple[tuple[int, float], ...]
) -> SharedRateLimit:
    return SharedRateLimit(state, "test", tenant, limits, 30.0)


def test_requests_past_the_limit_wait_for_the_window(redis_server: RedisServer) -> None:
    async def scenario() -> float:
        state = await _process(redis_server)
        limiter = _limit(state, f"window-{time.time_ns()}", ((3, 0.5),))
        try:
            for _ in range(3):
                await limiter.release(await limiter.acquire(1.0))
            with pytest.raises(RateLimitOutlasts):
                await limiter.acquire(0.0)
            started = time.monotonic()
            await limiter.acquire(5.0)
            return time.monotonic() - started
        finally:
            await state.close()

    # The first three were done at once: the fourth waited for them to leave the window.
    assert asyncio.run(scenario()) >= 0.3


def test_a_request_in_flight_holds_its_place_until_its_answer_and_a_window_after(
    redis_server: RedisServer,
) -> None:
    async def scenario() -> None:
        state = await _process(redis_server)
        limiter = _limit(state, f"flight-{time.time_ns()}", ((1, 0.2),))
        try:
            permit = await limiter.acquire(1.0)
            await asyncio.sleep(0.3)  # longer than the window: still in flight
            with pytest.raises(RateLimitOutlasts):
                await limiter.acquire(0.0)
            await limiter.release(permit)
            with pytest.raises(RateLimitOutlasts):
                await limiter.acquire(0.0)  # done just now: it counts a window more
            await limiter.acquire(2.0)
        finally:
            await state.close()

    asyncio.run(scenario())


def test_processes_share_one_limit(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        one, other = await _process(redis_server), await _process(redis_server)
        tenant = f"shared-{time.time_ns()}"
        first, second = _limit(one, tenant, ((2, 5.0),)), _limit(other, tenant, ((2, 5.0),))
        try:
            await first.acquire(1.0)
            await second.acquire(1.0)
            for limiter in (first, second):
                with pytest.raises(RateLimitOutlasts):
                    await limiter.acquire(0.0)
        finally:
            await one.close()
            await other.close()

    asyncio.run(scenario())
