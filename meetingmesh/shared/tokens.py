"""Minted provider tokens shared by every process: one mint (and one refresh-token rotation).

A renewing credential (``providers/credentials.py``: HeyPeers' JWT, HubSpot's OAuth
access token) keeps its current token in memory and asks Redis only when it needs a
new one: at first use, when the token is due for renewal, and after a 401.

- ``P:token:<provider>:<credential digest>``: a hash ``{token, renew_at, refresh_token,
  rotation}`` (``renew_at`` in unix seconds; ``refresh_token``: the newest refresh token
  HubSpot rotated in, which the next renewal must send; ``rotation``: its place in the
  chain, the refreshes that rotated it since the configured one). A token not due for
  renewal, and not the one the provider just refused, is adopted as it is: a new
  process does not mint.
- ``P:lock:token:<provider>:<credential digest>``: the process minting now (``SET NX``,
  ``[redis] lock_ttl``). The holder reads the hash again (another process may just have
  minted), mints with the newest refresh token, writes the token and the rotated refresh
  token, and releases the lock; the others poll the hash every 50 ms meanwhile. While
  the mint runs, the holder extends the lock every third of ``lock_ttl``, as long as it
  still owns it, so a slow mint (a loaded machine, a rate limit making the token request
  wait) never lets a second process mint with the same refresh token; a holder that
  dies holds it no longer than ``lock_ttl``.

HubSpot accepts each refresh token once when it rotates them, so the refresh tokens
form one chain and the one furthest along it is the only one that works. Hence:

- A process adopts a refresh token from Redis only when it is further along the chain
  than its own (``rotation``): Redis returning after a fallback never rolls back the one
  this process rotated in meanwhile.
- Every write is a compare-and-set (one Lua script): a refresh token further along than
  the one stored replaces it with its token; one earlier along never does; at the same
  place (no rotation, or HeyPeers, which has none) a holder's token replaces only the
  token it saw before minting, so a holder that lost its lock cannot overwrite a newer
  token, and a token shared after a fallback (``resync``) replaces only one that renews
  earlier.
- A process that mints while Redis is away (fallback) uses its own refresh token and
  writes what it minted once Redis answers again (``resync``, and before its next
  renewal at the latest), so the others pick up the rotated refresh token.
- A refresh the provider refuses (its refresh token was already used by another
  process) is tried once more, never twice with the same refresh token: the process
  waits, within the request's time, for Redis if it is in fallback, then renews through
  Redis (adopting another process's token, or taking the lock) with the refresh token
  stored there if that is further along than the refused one (or at its place but
  different); else the refusal stands (``RefreshSpent``).

Redis holds these tokens in clear: keep it private (a password in ``[redis] url``, TLS
with ``rediss://``, a network only the gateways reach).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from meetingmesh.shared.connection import RedisState, SharedUnavailable

#: Seconds between two looks at the hash while another process mints.
POLL = 0.05

#: KEYS: lock. ARGV: owner. Deletes the lock only if this process still holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

#: KEYS: lock. ARGV: owner, milliseconds. Extends the lock only if this process holds it.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

#: KEYS: the token hash. ARGV: token, renew_at, refresh token ('' for none), its rotation,
#: mode ('seen': replace only the token ARGV[6] ('' for none); 'later': replace only a
#: token that renews earlier), the token seen. Answers 1 when written, 0 when what Redis
#: holds is newer (or as new).
_WRITE = """
local stored = redis.call('HMGET', KEYS[1], 'token', 'renew_at', 'refresh_token', 'rotation')
local function write()
  redis.call('HSET', KEYS[1], 'token', ARGV[1], 'renew_at', ARGV[2])
  if ARGV[3] ~= '' then
    redis.call('HSET', KEYS[1], 'refresh_token', ARGV[3], 'rotation', ARGV[4])
  end
  return 1
end
if ARGV[3] ~= '' and stored[3] then
  local theirs = tonumber(stored[4]) or 0
  local mine = tonumber(ARGV[4])
  if theirs > mine then return 0 end
  if theirs < mine then return write() end
  if stored[3] ~= ARGV[3] then return 0 end
end
if not stored[1] then return write() end
if ARGV[5] == 'seen' then
  if stored[1] == ARGV[6] then return write() end
  return 0
end
if (tonumber(stored[2]) or 0) < tonumber(ARGV[2]) then return write() end
return 0
"""


@dataclass(frozen=True, slots=True)
class Refresh:
    """A refresh token and its place in the rotation chain (0: the configured one)."""

    token: str
    rotation: int


@dataclass(frozen=True, slots=True)
class Stored:
    """What the shared hash holds: a token, when to renew it, the newest refresh token."""

    token: str | None
    renew_at: float
    refresh: Refresh | None


class Minter(Protocol):
    """What the store needs of a renewing credential."""

    def refresh(self) -> Refresh | None:
        """The refresh token the next mint sends, when the credential has one."""
        ...

    def use_refresh(self, refresh: Refresh) -> None:
        """Send ``refresh`` (another process rotated it in) from the next mint on."""
        ...


class MintTimeout(Exception):
    """Another process's renewal did not end within the time this request has."""


class RefreshSpent(Exception):
    """No refresh token newer than the one the provider refused: it would be sent again."""


class SharedTokens:
    """One credential's minted token in Redis, and the lock of its renewal."""

    def __init__(self, state: RedisState, provider: str, tenant: str) -> None:
        self._state = state
        self._key = state.key("token", provider, tenant)
        self._lock = state.key("lock", "token", provider, tenant)
        self._release = state.client.register_script(_RELEASE)
        self._extend = state.client.register_script(_EXTEND)
        self._write = state.client.register_script(_WRITE)
        #: A token minted while Redis was away, to write there once it answers.
        self.unsynced: tuple[str, float] | None = None

    @property
    def available(self) -> bool:
        """Whether Redis is in use now."""
        return self._state.up

    async def reachable(self, wait: float) -> bool:
        """Whether Redis is in use, waiting at most ``wait`` seconds for a fallback to end."""
        until = time.monotonic() + wait
        while not self._state.up:
            if time.monotonic() + POLL > until:
                return False
            await asyncio.sleep(POLL)
        return True

    async def read(self) -> Stored:
        """The shared hash (empty fields when no process minted yet)."""
        raw = await self._state.run(lambda client: client.hgetall(self._key))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        renew_at = fields.get("renew_at")
        refresh_token = fields.get("refresh_token")
        return Stored(
            fields.get("token") or None,
            float(renew_at) if renew_at else 0.0,
            Refresh(refresh_token, int(fields.get("rotation") or 0)) if refresh_token else None,
        )

    async def obtain(
        self,
        minter: Minter,
        stale: str | None,
        mint: Callable[[], Awaitable[tuple[str, float]]],
        clock: Callable[[], float],
        wait: float,
        refused: Refresh | None = None,
    ) -> tuple[str, float]:
        """A token newer than ``stale``: another process's, or minted here under the lock.

        ``mint`` answers (token, renew_at). ``refused``: the refresh token the provider
        just refused, never sent again (``RefreshSpent`` when Redis has none further
        along). Waits at most ``wait`` seconds for another process's renewal
        (``MintTimeout``); ``SharedUnavailable`` when Redis cannot be used.
        """
        until = time.monotonic() + wait
        holder = self._state.owner
        lock_ms = round(self._state.settings.lock_ttl * 1000)
        if self.unsynced is not None:
            await self.resync(minter)  # what this process minted alone goes first
        while True:
            stored = await self.read()
            if _adoptable(stored, stale, clock()):
                _adopt(minter, stored.refresh, refused)
                assert stored.token is not None
                return stored.token, stored.renew_at
            locked = await self._state.run(
                lambda client: client.set(self._lock, holder, nx=True, px=lock_ms)
            )
            if locked:
                keeper = asyncio.ensure_future(self._keep(holder, lock_ms))
                try:
                    return await self._mint_holding(minter, stale, mint, clock, refused)
                finally:
                    keeper.cancel()
                    with contextlib.suppress(Exception):
                        await asyncio.shield(
                            self._state.run(
                                lambda _: self._release(keys=[self._lock], args=[holder])
                            )
                        )
            if time.monotonic() + POLL > until:
                raise MintTimeout
            await asyncio.sleep(POLL)

    async def _keep(self, holder: str, lock_ms: int) -> None:
        """Extend the lock while this process mints, until it no longer owns it."""
        every = lock_ms / 3000
        while True:
            await asyncio.sleep(every)
            try:
                owned = await self._state.run(
                    lambda _: self._extend(keys=[self._lock], args=[holder, lock_ms])
                )
            except SharedUnavailable:
                return  # the write's compare-and-set still keeps a newer token
            if not owned:
                return

    async def _mint_holding(
        self,
        minter: Minter,
        stale: str | None,
        mint: Callable[[], Awaitable[tuple[str, float]]],
        clock: Callable[[], float],
        refused: Refresh | None,
    ) -> tuple[str, float]:
        stored = await self.read()  # another process may have minted before we locked
        _adopt(minter, stored.refresh, refused)
        if _adoptable(stored, stale, clock()):
            assert stored.token is not None
            return stored.token, stored.renew_at
        current = minter.refresh()
        if refused is not None and current is not None and current.token == refused.token:
            raise RefreshSpent
        token, renew_at = await mint()
        try:
            await self.write(token, renew_at, minter.refresh(), seen=stored.token)
        except SharedUnavailable:
            self.unsynced = (token, renew_at)  # minted all the same: shared once Redis is back
        return token, renew_at

    async def write(
        self, token: str, renew_at: float, refresh: Refresh | None, *, seen: str | None
    ) -> bool:
        """Share a token minted after seeing ``seen`` there (and the refresh token to send next).

        False, writing nothing, when Redis holds a newer one: a refresh token further
        along, or (at the same place) a token other than ``seen``.
        """
        return await self._compare_and_set(token, renew_at, refresh, "seen", seen or "")

    async def resync(self, minter: Minter) -> None:
        """Redis answers again: share the token minted while it was away, if any.

        Written only over a refresh token earlier in the rotation (or at its place, a
        token that renews earlier): never over what another process rotated in since.
        """
        pending = self.unsynced
        if pending is not None:
            token, renew_at = pending
            await self._compare_and_set(token, renew_at, minter.refresh(), "later", "")
            if self.unsynced is pending:
                self.unsynced = None

    async def _compare_and_set(
        self, token: str, renew_at: float, refresh: Refresh | None, mode: str, seen: str
    ) -> bool:
        args: list[Any] = [token, repr(renew_at), "", 0, mode, seen]
        if refresh is not None:
            args[2:4] = [refresh.token, refresh.rotation]
        written = await self._state.run(lambda _: self._write(keys=[self._key], args=args))
        return bool(written)


def _adopt(minter: Minter, stored: Refresh | None, refused: Refresh | None) -> None:
    """Use the stored refresh token if it is further along than this process's own.

    After a refusal of this process's own, one at the same place but different is
    taken too (two processes rotated from one refresh token: the stored one won).
    """
    mine = minter.refresh()
    if stored is None or mine is None or stored.token == mine.token:
        return
    spent = refused is not None and mine.token == refused.token
    if stored.rotation > mine.rotation or (spent and stored.rotation == mine.rotation):
        minter.use_refresh(stored)


def _adoptable(stored: Stored, stale: str | None, now: float) -> bool:
    return stored.token is not None and stored.token != stale and now < stored.renew_at


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
