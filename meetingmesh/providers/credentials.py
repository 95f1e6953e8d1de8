"""Provider credentials: a static bearer token, or one the gateway renews itself.

Every upstream request asks its provider's ``Credential`` for the ``Authorization``
header value, and after a 401 asks it to ``renew`` once before the request is sent
again (``providers/http.py``). Three forms:

- ``StaticToken``: the configured ``token`` (every provider; renewal is impossible).
- ``HeyPeersAccessKey``: ``POST {base}/api/v2/authenticate`` with JSON
  ``{"access_key"}`` answers ``{"token": <JWT>}``; HeyPeers documents a 24-hour
  lifetime, and the JWT's ``exp`` claim is read when it has one.
- ``HubSpotOAuth``: the OAuth refresh-token grant, a form-encoded ``POST
  {base}/oauth/v3/token`` (``grant_type=refresh_token``, ``client_id``,
  ``client_secret``, ``refresh_token``) answers ``access_token``/``expires_in`` (or
  ``accessToken``/``expiresIn``) and possibly a new ``refresh_token``, which replaces
  the old one for the life of the process.

Renewing credentials mint at first use, renew ``RENEW_EARLY`` before the token
expires (a tenth of its lifetime, at most five minutes), and renew once when the
provider refuses a token (a 401) and the request is retried. However many requests
wait, one renewal runs at a time (single flight): a request refused with a token that
was already replaced is simply retried with the new one. A renewal that fails fails
the requests that waited for it, with the provider's name (a refused access key or
refresh is ``UPSTREAM_UNAUTHORIZED``); the next request tries again.

With ``[redis] url`` set, a renewing credential shares its tokens with every gateway
process (``meetingmesh.shared.tokens``): a token another process minted is adopted
rather than minted again, and one process at a time renews (single flight across
processes), with the newest refresh token. Whenever Redis cannot be used, the
credential mints on its own, as above, and shares what it minted once Redis answers.
A refresh HubSpot refuses because another process already used that refresh token
(``RefreshRefused``: ``BAD_REFRESH_TOKEN``, or a refusal naming no cause) is tried
once more, within the request's time, with the newer refresh token Redis holds; never
twice with the same one. HeyPeers' access key cannot go stale that way.

No secret (key, client secret, refresh token, minted token) is ever put into an
error message or a log line: refusals quote only the status and, for HubSpot, its
error word. ``secrets()`` lists every value to redact, minted ones included, and each
minted token (and each refresh token HubSpot rotates in) joins the process's
redaction registry (``meetingmesh.redaction``) as soon as it arrives, before it is
used, so a provider that repeats it in an error cannot leak it either.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import orjson

from meetingmesh.config import ProviderSettings
from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode, GatewayError, NotAsked, NotSent
from meetingmesh.metrics import Metrics
from meetingmesh.providers.deadline import deadline_scope, remaining
from meetingmesh.redaction import register
from meetingmesh.shared.connection import SharedUnavailable
from meetingmesh.shared.tokens import MintTimeout, Refresh, RefreshSpent, SharedTokens

#: HeyPeers: "the JWT expires after 24 hours" (assumed when a JWT carries no ``exp``).
HEYPEERS_LIFETIME = 24 * 3600.0
#: HubSpot: OAuth access tokens last 30 minutes (assumed when ``expires_in`` is missing).
HUBSPOT_LIFETIME = 30 * 60.0
#: The most a token is renewed ahead of its expiry (less for short lifetimes).
RENEW_EARLY = 300.0
#: Minted tokens remembered for ``secrets()`` (the current one and a few before it).
REMEMBERED = 8
_ERROR_WORD = re.compile(r"^[A-Z][A-Z_]{0,39}$")
#: HubSpot's error words for a refused refresh token (None: a refusal that names none),
#: which another process rotating it first would cause; BAD_CLIENT_ID names another cause.
_STALE_REFRESH = (None, "BAD_REFRESH_TOKEN")


class Credential(Protocol):
    """What the upstream client needs of a provider credential."""

    @property
    def tenant(self) -> str:
        """A digest naming the account, stable across renewals (part of cache keys)."""
        ...

    async def authorization(self) -> str:
        """The ``Authorization`` header value for the next request (minting if needed)."""
        ...

    async def renew(self, refused: str) -> bool:
        """After a 401 to ``refused`` (a header value): whether a retry may succeed.

        True once a token other than ``refused`` is current (renewed now, or already
        by another request); False when the credential cannot be renewed.
        """
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this credential holds or has minted, for redaction."""
        ...


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


class RefreshRefused(GatewayError):
    """The provider refused the refresh token sent: another process may have used it first."""


class StaticToken:
    """A configured bearer token: sent as is, never renewed."""

    def __init__(self, token: str) -> None:
        self._token = token
        self._header = f"Bearer {token}"
        # The same digest as before renewing credentials existed: cache keys are unchanged.
        self.tenant = hashlib.sha256(token.encode()).hexdigest()[:16]

    async def authorization(self) -> str:
        """The configured token."""
        return self._header

    async def renew(self, refused: str) -> bool:
        """A static token cannot be renewed: the 401 stands."""
        return False

    def secrets(self) -> tuple[str, ...]:
        """The token."""
        return (self._token,)


@dataclass(frozen=True, slots=True)
class Minted:
    """A token a renewing credential obtained, and when (wall clock) to replace it."""

    value: str
    renew_at: float

    @classmethod
    def lasting(cls, value: str, minted_at: float, expires_at: float) -> Minted:
        """A token valid until ``expires_at``, renewed a tenth of its lifetime early."""
        early = min(RENEW_EARLY, max(0.0, expires_at - minted_at) / 10)
        return cls(value, expires_at - early)


class RenewingCredential(ABC):
    """A token minted from a long-lived secret: at first use, before expiry, after a 401."""

    #: A digest naming the account, stable across renewals (set by each form).
    tenant: str

    def __init__(
        self,
        settings: ProviderSettings,
        http: httpx.AsyncClient,
        *,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        store: SharedTokens | None = None,
    ) -> None:
        self.provider: Provider = settings.provider
        self.settings = settings
        self._http = http
        self._metrics = metrics
        self._clock = clock
        self._current: Minted | None = None
        self._minting: asyncio.Future[Minted] | None = None
        self._minted: deque[str] = deque(maxlen=REMEMBERED)
        #: Where the tokens are shared with the other processes (None: this one alone).
        self.store = store

    async def authorization(self) -> str:
        """The current token, minted first when there is none or it is due for renewal."""
        current = self._current
        if current is None or self._clock() >= current.renew_at:
            current = await self._fresh(current)
        return f"Bearer {current.value}"

    async def renew(self, refused: str) -> bool:
        """Mint again after a 401, unless another request already replaced the token."""
        current = self._current
        if current is not None and f"Bearer {current.value}" != refused:
            return True
        await self._fresh(current)
        return True

    def secrets(self) -> tuple[str, ...]:
        """The configured secrets and the tokens minted lately."""
        return (*self._configured_secrets(), *self._minted)

    async def _fresh(self, stale: Minted | None) -> Minted:
        """A token newer than ``stale``: the one another request minted, or a new one."""
        current = self._current
        if current is not None and current is not stale and self._clock() < current.renew_at:
            return current
        # Each request waits for the shared renewal only as long as its own deadline lets it.
        left = remaining(self.settings.timeout)
        if left <= 0:
            raise NotAsked.of(self.provider, ErrorCode.UPSTREAM_TIMEOUT, "the deadline passed")
        if self._minting is None:
            # The renewal is a task of its own, shared by every waiting request: one of
            # them giving up (cancelled, or out of time) never cancels the others' renewal.
            self._minting = asyncio.ensure_future(self._mint_and_keep(stale))
            self._minting.add_done_callback(self._settle)
        try:
            return await asyncio.wait_for(asyncio.shield(self._minting), left)
        except TimeoutError:
            raise NotAsked.of(
                self.provider, ErrorCode.UPSTREAM_TIMEOUT, "its token renewal outlasts the deadline"
            ) from None

    async def _mint_and_keep(self, stale: Minted | None) -> Minted:
        # The renewal serves every request waiting now and later: it runs on a deadline of
        # its own (the provider's timeout), not on whatever the first caller had left.
        with deadline_scope(self.settings.timeout):
            minted = await self._obtain(stale)
        register(minted.value)
        self._current = minted
        self._minted.append(minted.value)
        return minted

    async def _obtain(self, stale: Minted | None) -> Minted:
        """A new token: the one another process shared, or one minted (once across processes).

        A refresh refused because another process already used the refresh token sent
        (HubSpot rotates them) is tried once more with the newer one Redis holds, waiting
        for Redis within the request's time if this process is in fallback; never twice
        with the same refresh token (``meetingmesh.shared.tokens``).
        """
        store = self.store
        if store is None:
            return await self._mint()
        try:
            return await self._shared_or_alone(store, stale, None)
        except RefreshRefused as refusal:
            sent = self.refresh()  # a refusal leaves the refresh token it was sent in place
            if sent is None or not await store.reachable(remaining(self.settings.timeout)):
                raise
            try:
                return await self._shared_or_alone(store, stale, sent)
            except RefreshSpent:
                raise refusal from None

    async def _shared_or_alone(
        self, store: SharedTokens, stale: Minted | None, refused: Refresh | None
    ) -> Minted:
        """Through Redis when it is usable, else minted here (and shared once it is back)."""
        if store.available:

            async def mint() -> tuple[str, float]:
                fresh = await self._mint()
                register(fresh.value)  # before it is written anywhere
                return fresh.value, fresh.renew_at

            try:
                value, renew_at = await store.obtain(
                    self,
                    None if stale is None else stale.value,
                    mint,
                    self._clock,
                    remaining(self.settings.timeout),
                    refused,
                )
                return Minted(value, renew_at)
            except MintTimeout:
                raise self._error(
                    ErrorCode.UPSTREAM_TIMEOUT,
                    "was not asked: another gateway process's token renewal did not end in time",
                ) from None
            except SharedUnavailable:
                pass  # Redis went away: mint here
        current = self.refresh()
        if refused is not None and current is not None and current.token == refused.token:
            raise RefreshSpent
        minted = await self._mint()
        store.unsynced = (minted.value, minted.renew_at)
        return minted

    async def resync(self) -> None:
        """Redis answers again: share what was minted while it was away."""
        if self.store is not None:
            await self.store.resync(self)

    def use_refresh(self, refresh: Refresh) -> None:  # noqa: B027
        """A newer refresh token another process stored (only HubSpot's rotate)."""

    def refresh(self) -> Refresh | None:
        """The refresh token the next mint sends (only HubSpot's OAuth has one)."""
        return None

    def _settle(self, done: asyncio.Future[Minted]) -> None:
        if self._minting is done:
            self._minting = None
        if not done.cancelled():
            done.exception()  # retrieved, so a failure nobody awaited any more is not logged

    async def _post(self, path: str, **request: Any) -> tuple[int, Any]:
        """POST to the provider's token endpoint: (status, parsed JSON body or None)."""
        left = remaining(self.settings.timeout)
        if left <= 0:
            raise NotAsked.of(self.provider, ErrorCode.UPSTREAM_TIMEOUT, "the deadline passed")
        timeout = httpx.Timeout(left, connect=min(self.settings.connect_timeout, left))
        endpoint = f"POST {path}"
        status = "unreachable"
        started = time.perf_counter()
        try:
            response = await self._http.post(
                self.settings.base_url.rstrip("/") + path,
                headers={"Accept": "application/json"},
                timeout=timeout,
                **request,
            )
            status = str(response.status_code)
        except httpx.TimeoutException:
            status = "timeout"
            raise self._error(ErrorCode.UPSTREAM_TIMEOUT, "did not answer in time") from None
        except httpx.TransportError:
            raise self._error(ErrorCode.UPSTREAM_UNAVAILABLE, "could not be reached") from None
        finally:
            if self._metrics is not None:
                name = self.provider.name
                self._metrics.upstream.labels(name, endpoint, status).inc()
                self._metrics.upstream_latency.labels(name, endpoint).observe(
                    time.perf_counter() - started
                )
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        return response.status_code, body

    def _refused(self, status: int, what: str, word: str | None = None) -> NotSent:
        """The error for a token endpoint that did not issue a token (never quoting a secret)."""
        detail = f"answered {status}" + (f" ({word})" if word else "")
        if status >= 500:
            return self._error(ErrorCode.UPSTREAM_UNAVAILABLE, f"{detail} when asked for a token")
        if status == 429:
            return self._error(ErrorCode.UPSTREAM_RATE_LIMITED, f"{detail} when asked for a token")
        return self._error(ErrorCode.UPSTREAM_UNAUTHORIZED, f"refused the {what}: {detail}")

    def _error(self, code: ErrorCode, detail: str) -> NotSent:
        # No token, so the request it was for was never sent (a booking was not made).
        return NotSent(code, f"{self.provider.label} {detail}", provider=self.provider)

    @abstractmethod
    async def _mint(self) -> Minted:
        """Ask the provider for a new token."""

    @abstractmethod
    def _configured_secrets(self) -> tuple[str, ...]:
        """The long-lived secrets from the configuration."""


class HeyPeersAccessKey(RenewingCredential):
    """HeyPeers: the organization's access key traded for a JWT (24 hours, or its ``exp``)."""

    def __init__(self, settings: ProviderSettings, http: httpx.AsyncClient, **options: Any) -> None:
        super().__init__(settings, http, **options)
        assert settings.access_key is not None
        self._access_key = settings.access_key
        self.tenant = _digest("heypeers-access-key", settings.access_key)

    async def _mint(self) -> Minted:
        """``POST /api/v2/authenticate``: one call."""
        minted_at = self._clock()
        status, body = await self._post(
            "/api/v2/authenticate", json={"access_key": self._access_key}
        )
        if status != 200:
            raise self._refused(status, "access key")
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise self._error(ErrorCode.UPSTREAM_BAD_RESPONSE, "issued no token for the access key")
        expires = jwt_expiry(token)
        return Minted.lasting(
            token, minted_at, expires if expires is not None else minted_at + HEYPEERS_LIFETIME
        )

    def _configured_secrets(self) -> tuple[str, ...]:
        return (self._access_key,)


class HubSpotOAuth(RenewingCredential):
    """HubSpot OAuth app: the refresh-token grant for 30-minute access tokens."""

    def __init__(self, settings: ProviderSettings, http: httpx.AsyncClient, **options: Any) -> None:
        super().__init__(settings, http, **options)
        assert settings.client_id and settings.client_secret and settings.refresh_token
        self._client_id = settings.client_id
        self._client_secret = settings.client_secret
        #: The refresh token in use: HubSpot may answer a new one with each refresh.
        self._refresh = Refresh(settings.refresh_token, 0)
        self._refresh_tokens: deque[str] = deque([settings.refresh_token], maxlen=REMEMBERED)
        # The app and the install it was granted for; a rotated refresh token keeps the tenant.
        self.tenant = _digest("hubspot-oauth", settings.client_id, settings.refresh_token)

    async def _mint(self) -> Minted:
        """``POST /oauth/v3/token`` (form-encoded refresh-token grant): one call."""
        minted_at = self._clock()
        sent = self._refresh
        status, body = await self._post(
            "/oauth/v3/token",
            data={
                "grant_type": "refresh_token",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "refresh_token": sent.token,
            },
        )
        if status != 200:
            word = body.get("status") if isinstance(body, dict) else None
            shown = word if isinstance(word, str) and _ERROR_WORD.match(word) else None
            refusal = self._refused(status, "OAuth refresh", shown)
            if refusal.code is ErrorCode.UPSTREAM_UNAUTHORIZED and shown in _STALE_REFRESH:
                raise RefreshRefused(refusal.code, refusal.message, provider=self.provider)
            raise refusal
        answer = body if isinstance(body, dict) else {}
        token = _either(answer, "access_token", "accessToken")
        if not isinstance(token, str) or not token:
            raise self._error(ErrorCode.UPSTREAM_BAD_RESPONSE, "issued no access token")
        rotated = _either(answer, "refresh_token", "refreshToken")
        if isinstance(rotated, str) and rotated and rotated != sent.token:
            register(rotated)
            self._refresh = Refresh(rotated, sent.rotation + 1)
            self._refresh_tokens.append(rotated)
        lifetime = _seconds(_either(answer, "expires_in", "expiresIn"))
        expires = minted_at + (HUBSPOT_LIFETIME if lifetime is None else lifetime)
        return Minted.lasting(token, minted_at, expires)

    def _configured_secrets(self) -> tuple[str, ...]:
        return (self._client_secret, *self._refresh_tokens)

    def use_refresh(self, refresh: Refresh) -> None:
        """Send ``refresh`` next: another process rotated it in (the store checked it is newer)."""
        if refresh.token != self._refresh.token:
            register(refresh.token)
            self._refresh_tokens.append(refresh.token)
        self._refresh = refresh

    def refresh(self) -> Refresh:
        """The refresh token the next refresh sends, and its place in the rotation."""
        return self._refresh


def _either(body: dict[str, Any], snake: str, camel: str) -> Any:
    value = body.get(snake)
    return body.get(camel) if value is None else value


def _seconds(value: Any) -> float | None:
    """A lifetime in seconds from a JSON number or a string of digits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return float(value.strip()) or None
    return None


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (unix seconds), or None when it has none or is not a JWT.

    The signature is not checked: the provider checks its own tokens; the gateway only
    needs to know when to ask for the next one.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    expiry = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(expiry, bool) or not isinstance(expiry, int | float):
        return None
    return float(expiry)


def credential_for(
    settings: ProviderSettings,
    http: httpx.AsyncClient,
    metrics: Metrics | None = None,
    store: Callable[[str], SharedTokens] | None = None,
) -> Credential:
    """The credential a provider section configures (exactly one form; ``config`` checks).

    ``store`` makes the shared token store of a renewing credential from its tenant.
    """
    credential: RenewingCredential
    if settings.access_key:
        credential = HeyPeersAccessKey(settings, http, metrics=metrics)
    elif settings.refresh_token:
        credential = HubSpotOAuth(settings, http, metrics=metrics)
    else:
        return StaticToken(settings.token)
    if store is not None:
        credential.store = store(credential.tenant)
    return credential
