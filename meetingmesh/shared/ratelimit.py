"""A provider's rate limit kept by every gateway process together, in Redis.

The providers count the requests that *arrive*, in sliding windows per credential
(Daily 20 a second and 100 per 5 seconds, HubSpot 100 per 10 seconds, Thought
Industries 120 a minute with a burst of 20). Processes cannot know when their requests
arrive, only that it is after they were let out and before their answer came back. So
the log this limiter keeps in Redis (one sorted set per provider credential, keyed by
the credential's digest, never the token) holds each request from the moment it is let
out: *in flight* until its answer (or failure) comes back, then *done* at that instant.
A request is let out only while, in every window, the requests done within the window
plus those in flight stay under the limit. Any set of requests the provider can see
arriving within one window was, at the moment the last of them was let out, either in
flight or done within the window (a request arrives before it is done), so the
provider never sees more than its limit, however late or unevenly requests arrive.
The price: a request counts from its release to its answer plus the window, a few
percent of throughput at the providers' latencies.

The check and the release are one Lua script on Redis' own clock (``TIME``), so no
two processes can both take the last place, and machines' clocks do not matter. A
process that dies with requests in flight leaves them counted until
``flight_limit`` seconds after they were let out (the longest a request may take),
and then as done at that instant. Refused, the script answers how long to wait: the
exact time until enough done requests leave a window, or a whole window when the
limit is held by requests still in flight (once they are answered, the exact time is
known).

``windows(settings)`` turns ``rate_limit`` per ``rate_period`` and ``rate_burst`` into
the windows kept: the limit per period, and the burst per the period's matching share
(Thought Industries: 120 per 60 s and 20 per 10 s; Daily by default: 100 per 5 s and
20 per 1 s), which never let out more than the provider's bucket of 20 refilled at 2
a second would accept.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time

from meetingmesh.config import ProviderSettings
from meetingmesh.shared.connection import RedisState

#: KEYS: done, flight. ARGV: member, flight limit (ms), then (limit, window ms) pairs.
#: Answers 0 (let out, counted in flight) or the milliseconds to wait.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES')
for i = 1, #stale, 2 do redis.call('ZADD', KEYS[1], stale[i + 1], stale[i]) end
if #stale > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
local flying = redis.call('ZCARD', KEYS[2])
local longest = 0
local wait = 0
for i = 3, #ARGV, 2 do
  local limit = tonumber(ARGV[i])
  local window = tonumber(ARGV[i + 1])
  if window > longest then longest = window end
  local since = '(' .. (now - window)
  local done = redis.call('ZCOUNT', KEYS[1], since, '+inf')
  local over = done + flying - limit + 1
  if over > 0 then
    local w = window
    if over <= done then
      local leaving = redis.call('ZRANGEBYSCORE', KEYS[1], since, '+inf', 'WITHSCORES',
                                 'LIMIT', over - 1, 1)
      w = tonumber(leaving[2]) + window - now
    end
    if w < 1 then w = 1 end
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
local flight = tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], now + flight, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
redis.call('PEXPIRE', KEYS[1], longest + flight)
redis.call('PEXPIRE', KEYS[2], longest + flight)
return 0
"""

#: KEYS: done, flight. ARGV: member. The request's answer came back: done now.
_DONE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
return 1
"""


def windows(settings: ProviderSettings) -> tuple[tuple[int, float], ...]:
    """The sliding windows (limit, seconds) that ``settings`` asks for; () for none."""
    limit, burst, period = settings.rate_limit, settings.rate_burst, settings.rate_period
    if not limit:
        return ()
    if burst is None or burst >= limit:
        return ((limit, period),)
    return ((limit, period), (burst, period * burst / limit))


class RateLimitOutlasts(Exception):
    """The wait for a place would outlast the time the request has left."""


class SharedRateLimit:
    """One provider credential's limit, shared by every process through ``state``."""

    def __init__(
        self,
        state: RedisState,
        provider: str,
        tenant: str,
        limits: tuple[tuple[int, float], ...],
        flight_limit: float,
    ) -> None:
        self._state = state
        self._keys = [
            state.key("rate", provider, tenant, "done"),
            state.key("rate", provider, tenant, "flight"),
        ]
        self._limits = [str(v) for limit, seconds in limits for v in (limit, round(seconds * 1000))]
        self._flight = str(round(flight_limit * 1000))
        #: The longest window, in seconds.
        self.longest = max((seconds for _, seconds in limits), default=0.0)
        self._take = state.client.register_script(_TAKE)
        self._done = state.client.register_script(_DONE)

    async def acquire(self, left: float) -> str:
        """A place for one request (its id for ``release``), waiting at most ``left`` seconds.

        ``RateLimitOutlasts`` when the wait would be longer; ``SharedUnavailable`` when
        Redis cannot be used (the caller falls back to its own limiter).
        """
        until = time.monotonic() + left
        member = secrets.token_hex(8)
        while True:
            wait_ms = await self._state.run(
                lambda _: self._take(keys=self._keys, args=[member, self._flight, *self._limits])
            )
            if not wait_ms:
                return member
            # A little jitter, so the requests that waited for one instant do not all ask at it.
            wait = int(wait_ms) / 1000 * (1 + random.random() / 10)
            if time.monotonic() + wait > until:
                raise RateLimitOutlasts
            await asyncio.sleep(wait)

    async def release(self, member: str) -> None:
        """The request's answer (or failure) came back: it counts as done from now."""
        await self._state.run(lambda _: self._done(keys=self._keys, args=[member]))
