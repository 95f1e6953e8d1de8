"""Minted provider tokens shared by every process: one mint (and one refresh-token rotation).

A renewing credential (``providers/credentials.py``: HeyPeers' JWT, HubSpot's OAuth
access token) keeps its current token in memory and asks Redis only when it needs a
new one: at first use, when the token is due for renewal, and after a 401.

- ``P:token:<provider>:<credential digest>``: a hash ``{token, renew_at, refresh_token}``
  (``renew_at`` in unix seconds; ``refresh_token``: the refresh token HubSpot rotated in
  last, which the next renewal must send). A token not due for renewal, and not the one
  the provider just refused, is adopted as it is: a new process does not mint.
- ``P:lock:token:<provider>:<credential digest>``: the process minting now (``SET NX``,
  ``[redis] lock_ttl``). The holder reads the hash again (another process may just have
  minted), mints with the newest refresh token, writes the token and the rotated refresh
  token, and releases the lock; the others poll the hash every 50 ms meanwhile. So two
  processes never both send the same refresh token, which HubSpot would refuse the
  second time once it rotates it.

Redis holds these tokens in clear: keep it private (a password in ``[redis] url``, TLS
with ``rediss://``, a network only the gateways reach). A process that minted while
Redis was away writes its token and refresh token there once Redis answers again
(``resync``), so the others pick up the rotated refresh token.
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

#: KEYS: lock. ARGV: token. Deletes the lock only if this process still holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class Stored:
    """What the shared hash holds: a token, when to renew it, the newest refresh token."""

    token: str | None
    renew_at: float
    refresh_token: str | None


class Minter(Protocol):
    """What the store needs of a renewing credential."""

    def adopt_refresh_token(self, refresh_token: str | None) -> None:
        """Use ``refresh_token`` (newer than the configured one) for the next mint."""
        ...

    def refresh_token(self) -> str | None:
        """The refresh token the next mint sends, when the credential has one."""
        ...


class MintTimeout(Exception):
    """Another process's renewal did not end within the time this request has."""


class SharedTokens:
    """One credential's minted token in Redis, and the lock of its renewal."""

    def __init__(self, state: RedisState, provider: str, tenant: str) -> None:
        self._state = state
        self._key = state.key("token", provider, tenant)
        self._lock = state.key("lock", "token", provider, tenant)
        self._release = state.client.register_script(_RELEASE)
        #: A token minted while Redis was away, to write there once it answers.
        self.unsynced: tuple[str, float] | None = None

    @property
    def available(self) -> bool:
        """Whether Redis is in use now."""
        return self._state.up

    async def read(self) -> Stored:
        """The shared hash (empty fields when no process minted yet)."""
        raw = await self._state.run(lambda client: client.hgetall(self._key))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        renew_at = fields.get("renew_at")
        return Stored(
            fields.get("token") or None,
            float(renew_at) if renew_at else 0.0,
            fields.get("refresh_token") or None,
        )

    async def obtain(
        self,
        minter: Minter,
        stale: str | None,
        mint: Callable[[], Awaitable[tuple[str, float]]],
        clock: Callable[[], float],
        wait: float,
    ) -> tuple[str, float]:
        """A token newer than ``stale``: another process's, or minted here under the lock.

        ``mint`` answers (token, renew_at). Waits at most ``wait`` seconds for another
        process's renewal (``MintTimeout``); ``SharedUnavailable`` when Redis cannot be used.
        """
        until = time.monotonic() + wait
        holder = self._state.owner
        lock_ms = round(self._state.settings.lock_ttl * 1000)
        while True:
            stored = await self.read()
            if _adoptable(stored, stale, clock()):
                minter.adopt_refresh_token(stored.refresh_token)
                assert stored.token is not None
                return stored.token, stored.renew_at
            locked = await self._state.run(
                lambda client: client.set(self._lock, holder, nx=True, px=lock_ms)
            )
            if locked:
                try:
                    return await self._mint_holding(minter, stale, mint, clock)
                finally:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(
                            self._state.run(
                                lambda _: self._release(keys=[self._lock], args=[holder])
                            )
                        )
            if time.monotonic() + POLL > until:
                raise MintTimeout
            await asyncio.sleep(POLL)

    async def _mint_holding(
        self,
        minter: Minter,
        stale: str | None,
        mint: Callable[[], Awaitable[tuple[str, float]]],
        clock: Callable[[], float],
    ) -> tuple[str, float]:
        stored = await self.read()  # another process may have minted before we locked
        minter.adopt_refresh_token(stored.refresh_token)
        if _adoptable(stored, stale, clock()):
            assert stored.token is not None
            return stored.token, stored.renew_at
        token, renew_at = await mint()
        try:
            await self.write(token, renew_at, minter.refresh_token())
        except SharedUnavailable:
            self.unsynced = (token, renew_at)  # minted all the same: shared once Redis is back
        return token, renew_at

    async def write(self, token: str, renew_at: float, refresh_token: str | None) -> None:
        """Share a token (and the refresh token to send next)."""
        fields: dict[Any, Any] = {"token": token, "renew_at": repr(renew_at)}
        if refresh_token:
            fields["refresh_token"] = refresh_token
        await self._state.run(lambda client: client.hset(self._key, mapping=fields))
        self.unsynced = None

    async def resync(self, minter: Minter) -> None:
        """Redis answers again: share the token minted while it was away, if any."""
        if self.unsynced is not None:
            token, renew_at = self.unsynced
            await self.write(token, renew_at, minter.refresh_token())


def _adoptable(stored: Stored, stale: str | None, now: float) -> bool:
    return stored.token is not None and stored.token != stale and now < stored.renew_at


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
