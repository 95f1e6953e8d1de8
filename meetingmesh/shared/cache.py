"""One provider's upstream cache and in-flight GETs, shared by every process through Redis.

Keys (``P`` is ``[redis] key_prefix``, ``D`` a digest of the provider, the credential's
digest, the path and the parameters: the in-process cache's key, hashed):

- ``P:cache:<provider>:gen``: the provider's cache generation, a counter. ``invalidate``
  (after a booking, or a webhook) adds one, and every process's next lookup misses.
- ``P:cache:<provider>:D``: a hash ``{g: generation, v: version, d: payload}`` that
  expires after the provider's ``cache_ttl``. An entry of an older generation is a
  miss. The payload is the JSON answer (orjson), zlib-compressed above 4 KiB; the
  version is a digest of the payload.
- ``P:lock:<provider>:D:<generation>``: the process fetching ``D`` now (``SET NX``,
  expiring after ``[redis] lock_ttl``). An invalidation changes the generation, so no
  request after a booking ever waits for a fetch that began before it.
- channel ``P:fetched``: what a lock holder got, published to the waiting processes:
  ``{"k": D, "g": generation, "v": version, "e": error or null, "a": abandoned}``, a
  line feed, then the payload.

A lookup is one Lua script: the generation and, when the entry is current, its version,
and its payload only when the caller does not already hold that version. Each process
keeps the answers it decoded by key and version (``UpstreamClient``), so a page that
every process reads from Redis is decoded (and parsed by the adapters, whose memo keeps
answer objects) once per process and version, not once per request.

Lock protocol: a process that misses registers as a waiter for ``D`` at its generation,
then tries the lock. The holder fetches (retries included), then one script stores the
answer (only if the generation did not move meanwhile: a booking during the fetch makes
it stale), releases its lock (only its own) and publishes the outcome: the answer, the
error the provider gave (waiters raise the same error), or "abandoned" (the holder gave
up before asking, say its request's deadline passed: each waiter tries again). A waiter
wakes on that message, or every ``_RECHECK`` seconds to look at the cache and the lock
again, so a lost message or a holder that died costs at most the lock's TTL.
"""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from meetingmesh.shared.connection import RedisState

#: Payloads larger than this are compressed (zlib, fastest level).
COMPRESS_ABOVE = 4096
#: The channel of fetched answers, under the key prefix.
CHANNEL = "fetched"

#: KEYS: generation, entry. ARGV: the version the caller holds ("" for none).
#: Answers {generation} (a miss), {generation, version} (the caller's version is
#: current) or {generation, version, payload}.
_LOOKUP = """
local gen = redis.call('GET', KEYS[1]) or '0'
local entry = redis.call('HMGET', KEYS[2], 'g', 'v')
if entry[1] ~= gen or not entry[2] then return {gen} end
if entry[2] == ARGV[1] then return {gen, entry[2]} end
return {gen, entry[2], redis.call('HGET', KEYS[2], 'd')}
"""

#: KEYS: generation, entry, lock. ARGV: generation fetched at, version, payload, TTL
#: (ms; 0: do not store), lock token, channel, message header.
_SETTLE = """
if ARGV[2] ~= '' and tonumber(ARGV[4]) > 0 and (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('HSET', KEYS[2], 'g', ARGV[1], 'v', ARGV[2], 'd', ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
if redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('DEL', KEYS[3]) end
redis.call('PUBLISH', ARGV[6], ARGV[7] .. '\\n' .. ARGV[3])
return 1
"""


def pack(value: Any) -> bytes:
    """An answer as stored: orjson, compressed above ``COMPRESS_ABOVE`` bytes."""
    raw = orjson.dumps(value)
    if len(raw) > COMPRESS_ABOVE:
        return b"z" + zlib.compress(raw, 1)
    return b"j" + raw


def unpack(data: bytes) -> Any:
    """The answer ``pack`` stored."""
    if data[:1] == b"z":
        return orjson.loads(zlib.decompress(data[1:]))
    return orjson.loads(data[1:])


def version_of(payload: bytes) -> str:
    """A short digest naming one payload."""
    return hashlib.blake2b(payload, digest_size=8).hexdigest()


def digest(provider: str, key: Sequence[str]) -> str:
    """The Redis name of one cache key (credential digest, path, parameters)."""
    return hashlib.blake2b("\x00".join((provider, *key)).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Found:
    """A lookup: the generation, and the current entry's version and payload if any.

    ``version`` None is a miss; a version without ``payload`` is the one the caller holds.
    """

    generation: str
    version: str | None = None
    payload: bytes | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a lock holder published: an answer, a provider's error, or nothing (abandoned)."""

    version: str | None = None
    payload: bytes | None = None
    error: dict[str, Any] | None = None

    @property
    def abandoned(self) -> bool:
        """The holder gave up before asking: each waiter tries again."""
        return self.payload is None and self.error is None


class Waiters:
    """The process's waiters for answers that other processes are fetching."""

    def __init__(self, state: RedisState) -> None:
        self._waiting: dict[tuple[str, str], list[asyncio.Future[Outcome]]] = {}
        self.channel = state.key(CHANNEL)
        state.on_message(self.channel, self.deliver)

    def wait_for(self, name: str, generation: str) -> asyncio.Future[Outcome]:
        """A future resolved by the next outcome published for ``name`` at ``generation``."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault((name, generation), []).append(future)
        return future

    def forget(self, name: str, generation: str, future: asyncio.Future[Outcome]) -> None:
        """Stop waiting with ``future``."""
        futures = self._waiting.get((name, generation))
        if futures is not None and future in futures:
            futures.remove(future)
            if not futures:
                del self._waiting[(name, generation)]

    def deliver(self, message: bytes) -> None:
        """Resolve the waiters of a published outcome (nothing to do when none wait)."""
        header, _, payload = message.partition(b"\n")
        fields = orjson.loads(header)
        futures = self._waiting.pop((fields["k"], fields["g"]), None)
        if not futures:
            return
        outcome = Outcome(fields.get("v"), payload if fields.get("v") else None, fields.get("e"))
        for future in futures:
            if not future.done():
                future.set_result(outcome)


class SharedCache:
    """One provider's entries, generation and locks in Redis (see the module docstring)."""

    def __init__(self, state: RedisState, waiters: Waiters, provider: str, ttl: float) -> None:
        self._state = state
        self.waiters = waiters
        self.provider = provider
        self._ttl_ms = str(round(ttl * 1000))
        self._generation = state.key("cache", provider, "gen")
        self._lookup = state.client.register_script(_LOOKUP)
        self._settle = state.client.register_script(_SETTLE)
        #: Seconds a lock lives: the longest a holder that died keeps others waiting.
        self.lock_ttl = state.settings.lock_ttl
        self._lock_ms = round(state.settings.lock_ttl * 1000)
        #: Seconds a waiter waits on a message before it looks at Redis again.
        self.recheck = min(0.25, state.settings.lock_ttl)

    @property
    def available(self) -> bool:
        """Whether Redis is in use (not in fallback)."""
        return self._state.up

    def name(self, key: Sequence[str]) -> str:
        """The digest naming ``key`` in Redis."""
        return digest(self.provider, key)

    async def lookup(self, name: str, known: str | None) -> Found:
        """The generation and the current entry of ``name`` (its payload unless ``known``)."""
        entry = self._state.key("cache", self.provider, name)
        answer = await self._state.run(
            lambda _: self._lookup(keys=[self._generation, entry], args=[known or ""])
        )
        generation = _text(answer[0])
        if len(answer) == 1:
            return Found(generation)
        return Found(generation, _text(answer[1]), answer[2] if len(answer) > 2 else None)

    async def try_lock(self, name: str, generation: str) -> str | None:
        """The lock's token when this process now fetches ``name``, else None."""
        token = self._state.owner + ":" + hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
        taken = await self._state.run(
            lambda client: client.set(
                self._lock(name, generation), token, nx=True, px=self._lock_ms
            )
        )
        return token if taken else None

    async def settle(
        self,
        name: str,
        generation: str,
        token: str,
        payload: bytes | None,
        error: dict[str, Any] | None = None,
    ) -> str | None:
        """Store an answer (when current), release the lock, tell the waiters; its version."""
        version = version_of(payload) if payload is not None else None
        header = orjson.dumps({"k": name, "g": generation, "v": version, "e": error})
        entry = self._state.key("cache", self.provider, name)
        await self._state.run(
            lambda _: self._settle(
                keys=[self._generation, entry, self._lock(name, generation)],
                args=[
                    generation,
                    version or "",
                    payload or b"",
                    self._ttl_ms,
                    token,
                    self.waiters.channel,
                    header,
                ],
            )
        )
        return version

    async def invalidate(self) -> None:
        """Make every process's next lookup of this provider a miss."""
        await self._state.run(lambda client: client.incr(self._generation))

    def _lock(self, name: str, generation: str) -> str:
        return self._state.key("lock", self.provider, name, generation)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
