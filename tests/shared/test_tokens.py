"""HubSpot OAuth tokens shared by several processes through a real Redis.

HubSpot rotates the refresh token on every refresh (the simulator's default): only the
newest one works, so the processes must never send one another process already used.
Each test runs simulators of its own (a rotation changes them for good) and a few
"processes" in this one: each with its own ``RedisState`` and HubSpot credential,
under a key prefix of the test's own, reading one clock the test moves forward to make
the current token due for renewal. Redis stops answering for a while with
``CLIENT PAUSE``: a process that asks it then falls back to its own state.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.config import RedisSettings
from meetingmesh.domain import Provider
from meetingmesh.errors import GatewayError
from meetingmesh.providers import hubspot
from meetingmesh.providers.credentials import HubSpotOAuth
from meetingmesh.providers.http import UpstreamClient
from meetingmesh.shared.connection import RedisState
from meetingmesh.shared.tokens import Refresh, SharedTokens
from meetingmesh.simulators.hubspot_oauth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN
from meetingmesh.simulators.server import MOUNTS, create_simulators, gateway_settings
from tests.conftest import capture
from tests.shared.conftest import RedisServer

OAUTH = "POST /oauth/v3/token"
REFUSED = "HubSpot refused the OAuth refresh: answered 400 (BAD_REFRESH_TOKEN)"
#: Longer than a token's lifetime: moving the clock this far makes it due for renewal.
LATER = 3600.0


@dataclass
class Process:
    """One gateway process's HubSpot client, credential and Redis connection."""

    state: RedisState
    credential: HubSpotOAuth
    client: UpstreamClient
    pages: itertools.count[int]

    async def ask(self) -> Any:
        """A HubSpot request that needs a token (never served from the process's cache)."""
        return await self.client.get(hubspot.LINKS, {"limit": str(next(self.pages))})

    async def back_in_redis(self) -> None:
        """Wait (bounded) until this process uses Redis again after a fallback."""
        deadline = time.monotonic() + 15
        while not self.state.up:
            assert time.monotonic() < deadline, "Redis was not used again within 15 s"
            await asyncio.sleep(0.05)


@dataclass
class World:
    """Fresh simulators, a Redis key prefix of one test's own, and the processes' clock."""

    sim_url: str
    redis: RedisServer
    http: httpx.AsyncClient
    stack: AsyncExitStack
    prefix: str = field(default_factory=lambda: f"tokens-{secrets.token_hex(4)}")
    now: float = field(default_factory=time.time)

    def clock(self) -> float:
        """What every process's clock reads."""
        return self.now

    async def process(self, *, lock_ttl: float = 3.0, prefix: str | None = None) -> Process:
        """A new process with the configured refresh token, using Redis (stopped on exit)."""
        state = RedisState(
            RedisSettings(
                url=self.redis.url,
                key_prefix=prefix or self.prefix,
                lock_ttl=lock_ttl,
                retry_interval=0.2,
            )
        )
        settings = replace(
            gateway_settings(self.sim_url).providers[Provider.HUBSPOT],
            token="",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            refresh_token=REFRESH_TOKEN,
        )
        credential = HubSpotOAuth(settings, self.http, clock=self.clock)
        credential.store = SharedTokens(state, "hubspot", credential.tenant)
        client = UpstreamClient(settings, self.http, hubspot.read_message, credential=credential)
        await state.start()
        assert state.up
        self.stack.push_async_callback(state.close)
        return Process(state, credential, client, itertools.count(1))

    def pause_redis(self, seconds: float) -> None:
        """Redis answers no client for ``seconds`` (longer than ``[redis] timeout``)."""
        with contextlib.closing(self.redis.client()) as admin:
            admin.client_pause(round(seconds * 1000))

    def stored(self) -> dict[str, str]:
        """The shared HubSpot token hash, as Redis holds it."""
        with contextlib.closing(self.redis.client()) as admin:
            [key] = admin.keys(f"{self.prefix}:token:hubspot:*")
            raw: dict[bytes, bytes] = admin.hgetall(key)  # type: ignore[assignment]
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def token_answers(self) -> dict[str, int]:
        """How HubSpot answered the token requests: a count per status."""
        stats = (await self.http.get(self.sim_url + MOUNTS["hubspot"] + "/_sim/stats")).json()
        statuses: dict[str, int] = stats["endpoints"].get(OAUTH, {}).get("statuses", {})
        return statuses

    async def slow_token_answers(self, seconds: float) -> None:
        """HubSpot takes ``seconds`` to answer each token request."""
        response = await self.http.put(
            self.sim_url + MOUNTS["hubspot"] + "/_sim/faults",
            json={"latency_ms": seconds * 1000, "endpoint": OAUTH},
        )
        assert response.status_code == 200, response.text


#: Runs one scenario (a coroutine function of a ``World``) to its end; its result.
Run = Callable[[Callable[[World], Any]], Any]


@pytest.fixture
def world(serve: Callable[[ASGIApp], str], redis_server: RedisServer) -> Iterator[Run]:
    """Run scenarios against fresh simulators and the session's Redis (their keys removed)."""
    sims = create_simulators(seed=0, size=20)
    sim_url = serve(sims.app)
    prefixes: list[str] = []

    def run(scenario: Callable[[World], Any]) -> Any:
        async def main() -> Any:
            # The processes' own client, as a gateway's: the token answers it carries are
            # no response of the gateway's (what a process raises is captured instead).
            async with httpx.AsyncClient() as http, AsyncExitStack() as stack:
                w = World(sim_url, redis_server, http, stack)
                prefixes.append(w.prefix)
                return await scenario(w)

        return asyncio.run(main())

    yield run
    with contextlib.closing(redis_server.client()) as admin:
        for prefix in prefixes:
            for key in admin.scan_iter(f"{prefix}*"):
                admin.delete(key)


def test_a_process_refused_in_fallback_takes_the_newer_refresh_token_from_redis_and_mints_again(
    world: Run,
) -> None:
    async def scenario(w: World) -> tuple[dict[str, int], int]:
        first, second = await w.process(), await w.process()
        await first.ask()  # rotates the configured refresh token; the new one is in Redis
        w.now += LATER  # the token in Redis is due: the second process must mint
        w.pause_redis(2.0)
        # Redis does not answer in time: the second process mints on its own, with the
        # configured refresh token, which HubSpot refuses; once Redis answers again it
        # takes the newer refresh token there and mints with it.
        await second.ask()
        w.now += LATER
        await first.ask()  # the refresh token the second process rotated in was shared
        return await w.token_answers(), second.state.fallbacks

    answers, fallbacks = world(scenario)
    assert fallbacks == 1
    assert answers == {"200": 3, "400": 1}


def test_a_refusal_with_no_newer_refresh_token_in_redis_is_not_sent_again(
    world: Run,
) -> None:
    async def scenario(w: World) -> tuple[str, dict[str, int]]:
        # Another deployment (a key prefix of its own) rotated the configured refresh token.
        elsewhere = await w.process(prefix=f"{w.prefix}-elsewhere")
        await elsewhere.ask()
        process = await w.process()
        with pytest.raises(GatewayError) as refused:
            await process.ask()
        capture(refused.value.message)
        return refused.value.message, await w.token_answers()

    message, answers = world(scenario)
    assert message == REFUSED
    assert answers == {"200": 1, "400": 1}


def test_the_mint_lock_outlives_a_slow_mint_so_no_refresh_token_is_sent_twice(
    world: Run,
) -> None:
    async def scenario(w: World) -> dict[str, int]:
        # The lock expires after 1 s unless its holder extends it; a mint takes 2.5 s.
        first, second = await w.process(lock_ttl=1.0), await w.process(lock_ttl=1.0)
        await w.slow_token_answers(2.5)
        minting = asyncio.ensure_future(first.ask())
        await asyncio.sleep(0.2)  # the first process holds the lock and waits for HubSpot
        await asyncio.gather(minting, second.ask())
        return await w.token_answers()

    # One mint: the second process waited for the first one's token and adopted it.
    assert world(scenario) == {"200": 1}


def test_a_refresh_token_rotated_in_fallback_reaches_redis_and_is_never_rolled_back(
    world: Run,
) -> None:
    async def scenario(w: World) -> tuple[dict[str, int], bool]:
        process = await w.process()
        await process.ask()  # the rotated refresh token is in Redis
        w.now += LATER
        w.pause_redis(2.0)
        await process.ask()  # minted alone, rotating again: Redis holds an older one now
        # Redis answers again. The recovery hook (``resync``) that would share the token
        # is not registered here: the next renewal runs first, as a request may.
        await process.back_in_redis()
        w.now += LATER
        await process.ask()
        newest = process.credential.refresh()
        stored = w.stored()
        w.now += LATER
        await (await w.process()).ask()  # a new process renews with what Redis holds
        return await w.token_answers(), newest == Refresh(
            stored["refresh_token"], int(stored["rotation"])
        )

    answers, shared = world(scenario)
    assert shared
    assert answers == {"200": 4}


async def _holder_write(tokens: SharedTokens, token: str, refresh: Refresh | None) -> bool:
    return await tokens.write(token, time.time() + 600, refresh, seen=None)


def test_a_write_never_replaces_a_refresh_token_later_in_the_rotation(
    world: Run,
) -> None:
    async def scenario(w: World) -> tuple[bool, dict[str, str]]:
        process = await w.process()
        tokens = process.credential.store
        assert tokens is not None
        assert await _holder_write(tokens, "token-3", Refresh("refresh-3", 3))
        # A process that rotated less far (its lock lost, or back from a fallback).
        written = await _holder_write(tokens, "token-2", Refresh("refresh-2", 2))
        return written, w.stored()

    written, stored = world(scenario)
    assert not written
    assert (stored["token"], stored["refresh_token"], stored["rotation"]) == (
        "token-3",
        "refresh-3",
        "3",
    )


def test_a_holder_never_replaces_a_token_written_since_it_looked(
    world: Run,
) -> None:
    """Without a refresh token (HeyPeers) the token another process wrote since stays."""

    async def scenario(w: World) -> tuple[bool, bool, str]:
        process = await w.process()
        tokens = process.credential.store
        assert tokens is not None
        renew_at = time.time() + 600
        assert await tokens.write("token-a", renew_at, None, seen=None)
        late = await tokens.write("token-late", renew_at, None, seen=None)
        after_a = await tokens.write("token-b", renew_at, None, seen="token-a")
        return late, after_a, (w.stored())["token"]

    late, after_a, token = world(scenario)
    assert (late, after_a, token) == (False, True, "token-b")
