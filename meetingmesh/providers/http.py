"""The upstream HTTP client every adapter uses: auth, timeouts, caching, error mapping.

Each provider gets an ``UpstreamClient`` over the process-wide ``httpx.AsyncClient``
(keep-alive connections are shared). Transport failures and provider error statuses
become ``GatewayError``s with a contract code and the provider's name; the message
quotes the provider's own error text but never a header. A provider that repeats its
credential in an error body cannot leak it either: error bodies and every message
made here are cleaned of every registered secret (``meetingmesh.redaction``) before
anything stores, logs or returns them.

Successful GET answers are kept for ``cache_ttl`` seconds in a bounded per-provider
cache, so a page that a cursor re-requests (the next page of a merged list usually
starts inside the provider page the last one ended in) costs no upstream call.
Entries are keyed by a digest of the credential (the account, not the current token,
so a renewal keeps them) as well as the URL, so two tenants never share one. Identical
GETs in flight at once share one request. At most ``concurrency`` requests per
provider run at once. The ``Authorization`` header comes from the provider's
``Credential`` (``credentials.py``); a 401 makes a renewable one renew, and the
request is sent once more.

Resilience, per provider: GETs (idempotent) are retried ``retries`` times with
jittered exponential backoff on connection errors, timeouts, 429 (after its
``Retry-After``), 502, 503 and 504; a POST (a booking) never is. Every wait, timeout
and retry stays within the GraphQL request's deadline, and every call sent spends one
unit of the request's upstream-call budget. A client-side rate limit keeps to the
provider's published one, and a circuit breaker fails fast while the provider keeps
failing.

With ``[redis] url`` set (``meetingmesh.shared``) the cache, the coalescing of
identical GETs and the rate limit are kept in Redis for every gateway process
together (``SharedUpstream``); the answers a process decoded stay in it by version,
so the adapters' parse memo still sees the same object while a page is unchanged.
Whenever Redis cannot be used, the process falls back to the in-process cache,
coalescing and limiter above, and uses Redis again once it answers.

Only what a provider did counts against it (the breaker, ``last_error``): being
unreachable, too slow, or answering with an error. A call the gateway gave up before
sending it (``NotAsked``: the deadline passed, the client-side rate limit would
outlast it, the request's call budget is spent) fails the caller but says nothing
about the provider's health.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from aiolimiter import AsyncLimiter
from cachetools import LRUCache, TTLCache
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from meetingmesh.config import ProviderSettings
from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode, GatewayError, NotAsked, NotSent
from meetingmesh.metrics import Metrics
from meetingmesh.providers.breaker import CircuitBreaker, CircuitState
from meetingmesh.providers.budget import current as current_budget
from meetingmesh.providers.credentials import Credential, StaticToken
from meetingmesh.providers.deadline import deadline_scope, remaining
from meetingmesh.redaction import redact, redact_json
from meetingmesh.shared.cache import SharedCache, pack, unpack
from meetingmesh.shared.connection import SharedUnavailable
from meetingmesh.shared.ratelimit import RateLimitOutlasts, SharedRateLimit
from meetingmesh.tracing import upstream_span

Params = Mapping[str, str | int | float | bool | Sequence[str]] | Sequence[tuple[str, str]]
#: Pulls the provider's own error text out of an error response body.
MessageReader = Callable[[Any], str | None]
#: A provider's own reading of an error (status, body): a code, or None for the default.
Classifier = Callable[[int, Any], ErrorCode | None]

_STATUS_CODES = {
    401: ErrorCode.UPSTREAM_UNAUTHORIZED,
    403: ErrorCode.UPSTREAM_UNAUTHORIZED,
    404: ErrorCode.UPSTREAM_NOT_FOUND,
    429: ErrorCode.UPSTREAM_RATE_LIMITED,
}

#: Failures that mean the provider itself is unwell (not the request).
_UNWELL = frozenset(
    {
        ErrorCode.UPSTREAM_UNAUTHORIZED,
        ErrorCode.UPSTREAM_RATE_LIMITED,
        ErrorCode.UPSTREAM_TIMEOUT,
        ErrorCode.UPSTREAM_UNAVAILABLE,
        ErrorCode.UPSTREAM_BAD_RESPONSE,
    }
)


#: Failures worth another attempt of an idempotent request.
_RETRYABLE_CODES = frozenset(
    {ErrorCode.UPSTREAM_UNAVAILABLE, ErrorCode.UPSTREAM_TIMEOUT, ErrorCode.UPSTREAM_RATE_LIMITED}
)
_RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
#: Failures that count against the circuit: the provider is down or too slow.
_BREAKING = frozenset({ErrorCode.UPSTREAM_UNAVAILABLE, ErrorCode.UPSTREAM_TIMEOUT})
#: Cached answers per provider: pages of up to 100 meetings, so a few tens of MB at most.
CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class SharedUpstream:
    """What a provider's client shares with the other processes through Redis."""

    cache: SharedCache
    #: The provider's rate limit across processes; None when it has none.
    rate: SharedRateLimit | None = None

    @property
    def available(self) -> bool:
        """Whether Redis is in use now (False: this process falls back to its own state)."""
        return self.cache.available


class Sharing(enum.Enum):
    """Where a provider's cache, rate limit, in-flight calls and tokens are kept."""

    #: No ``[redis]``: this process's own, as always.
    IN_PROCESS = "in_process"
    #: In Redis, with every gateway process.
    SHARED = "shared"
    #: Redis is configured but cannot be used now: this process's own until it answers.
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """One provider's health as this process knows it (``UpstreamClient.status()``).

    ``healthy``: the circuit is closed and the last call went well. ``usable``: the
    circuit is closed, so calls go out and the provider can serve (a half-open circuit
    has yet to prove it). ``problem``: what to tell an operator when it is not healthy
    (already redacted), else None.
    """

    circuit: CircuitState
    last_error: str | None
    sharing: Sharing = Sharing.IN_PROCESS

    @property
    def healthy(self) -> bool:
        """Circuit closed and the last call fine."""
        return self.circuit is CircuitState.CLOSED and self.last_error is None

    @property
    def usable(self) -> bool:
        """Calls go out to the provider: its circuit is closed."""
        return self.circuit is CircuitState.CLOSED

    @property
    def problem(self) -> str | None:
        """The last failure, or the circuit's state when that is all there is to say."""
        if self.last_error is not None or self.healthy:
            return self.last_error
        return f"circuit {self.circuit.value}"


@dataclass(frozen=True, slots=True)
class _Probe:
    """The request a probe repeats: a filled path, its parameters, its endpoint label."""

    path: str
    params: Params | None
    endpoint: str
    fixed: bool = False  # named by the adapter, not learnt from a failure


def segment(value: str, what: str) -> str:
    """``value`` as one URL path segment: percent-encoded, never empty, ``.`` or ``..``.

    Ids in paths come from clients (inside global ids, member ids, slugs), so they are
    encoded rather than trusted; one that cannot be a segment is ``BAD_USER_INPUT``.
    """
    if value in ("", ".", ".."):
        raise GatewayError(ErrorCode.BAD_USER_INPUT, f"not a valid {what}: {value!r}")
    return quote(value, safe="")


class Slashed(str):
    """A path value whose ``/`` separate segments of its own (HubSpot's ``sales/round-robin``)."""

    __slots__ = ()


def segments(value: str, what: str) -> str:
    """``value`` as path segments: each ``/``-separated part encoded and checked by ``segment``.

    The ``/`` stay as they are, as the provider's paths take such ids whole; an empty,
    ``.`` or ``..`` part is ``BAD_USER_INPUT``, so no value can climb out of its route.
    """
    return "/".join(segment(part, what) for part in value.split("/"))


class UpstreamClient:
    """JSON requests to one provider, with its credential and its error conventions."""

    def __init__(
        self,
        settings: ProviderSettings,
        http: httpx.AsyncClient,
        read_message: MessageReader,
        *,
        metrics: Metrics | None = None,
        tracing: bool = False,
        classify: Classifier | None = None,
        credential: Credential | None = None,
        shared: SharedUpstream | None = None,
    ) -> None:
        self.provider: Provider = settings.provider
        self.metrics = metrics or Metrics()
        self.tracing = tracing
        self._classify = classify
        self.settings = settings
        self._http = http
        self._base_url = settings.base_url.rstrip("/")
        #: Where the Authorization header comes from (a static token or a renewing one).
        self.credential: Credential = credential or StaticToken(settings.token)
        self._headers = {"Accept": "application/json"}
        self._read_message = read_message
        # Names the account, not the current token: renewals keep the cached answers.
        self._tenant = self.credential.tenant
        self._cache: TTLCache[tuple[str, ...], Any] | None = (
            TTLCache(maxsize=CACHE_SIZE, ttl=settings.cache_ttl) if settings.cache_ttl > 0 else None
        )
        self._in_flight: dict[tuple[str, ...], asyncio.Future[Any]] = {}
        self._generation = 0
        #: State shared with the other processes (Redis), or None for this process alone.
        self.shared = shared
        #: Answers decoded from Redis, by key digest: (version, answer). The same version
        #: hands out the same object, so the adapters' parse memo keeps working.
        self._decoded: LRUCache[str, tuple[str, Any]] = LRUCache(maxsize=CACHE_SIZE)
        #: Providers whose cache was cleared while Redis was away: cleared there on return.
        self._unshared_clear = False
        self._limiter = asyncio.Semaphore(settings.concurrency)
        self._rate = rate_limiter(settings)
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown)
        #: The last failure that says the provider is unwell, cleared by the next success.
        self.last_error: str | None = None
        self._probe: _Probe | None = None

    @property
    def healthy(self) -> bool:
        """Answering, as far as this process knows: circuit closed, last call fine."""
        return self.status().healthy

    def status(self) -> ProviderStatus:
        """The provider's health as this process knows it: the one rule every report uses."""
        shared = self.shared
        if shared is None:
            sharing = Sharing.IN_PROCESS
        else:
            sharing = Sharing.SHARED if shared.available else Sharing.FALLBACK
        return ProviderStatus(self.breaker.state, self.last_error, sharing)

    def set_probe(self, template: str, params: Params | None = None, **path: str) -> None:
        """Make ``GET template`` the probe sent while the provider is unwell.

        Adapters may name their provider's lightest read here. Without one, the probe
        repeats the last GET that failed for the provider's own reasons.
        """
        url = template.format(**{name: segment(value, name) for name, value in path.items()})
        self._probe = _Probe(url, params, f"GET {template}", fixed=True)

    async def probe(self) -> None:
        """Send one probe call, if there is one to send; its outcome updates the health.

        Not retried, within the provider's ``timeout``, and let through an open circuit
        only when its cooldown has passed (as the half-open call): one call at most.
        """
        probe = self._probe
        if probe is None:
            return
        # A failure is recorded by _attempt: the breaker and last_error say how it went.
        with deadline_scope(self.settings.timeout), contextlib.suppress(GatewayError):
            await self._attempt("GET", probe.path, probe.params, None, probe.endpoint)

    def reset(self) -> None:
        """Forget cached answers and health (tests start each case from a healthy world)."""
        self.clear_cache()
        self.breaker.succeeded()
        self.last_error = None
        if self._probe is not None and not self._probe.fixed:
            self._probe = None

    def clear_cache(self) -> None:
        """Forget every answer this process cached (``invalidate`` clears every process's)."""
        self._generation += 1
        if self._cache is not None:
            self._cache.clear()
        self._decoded.clear()

    async def invalidate(self) -> None:
        """Forget every cached answer of every process (after a booking, or a webhook).

        Returns once the shared entries are cleared (when Redis is in use), so an answer
        sent after it never reflects the world before the change, on any process.
        """
        self._generation += 1
        if self._cache is not None:
            self._cache.clear()
        self._decoded.clear()
        await self._invalidate_shared()

    async def _invalidate_shared(self) -> None:
        if self.shared is None:
            return
        try:
            await self.shared.cache.invalidate()
        except SharedUnavailable:
            # Applied when Redis answers again (``resync``): entries written before the
            # change may be there still.
            self._unshared_clear = True

    async def resync(self) -> None:
        """Redis answers again: apply the invalidation made while it was away, if any."""
        if self._unshared_clear and self.shared is not None:
            await self.shared.cache.invalidate()
            self._unshared_clear = False

    async def get(self, template: str, params: Params | None = None, **path: str) -> Any:
        """GET ``template`` (its ``{names}`` filled from ``path``) and return the JSON body.

        Cached and coalesced (across processes with shared state). The template, not the
        filled path, names the endpoint in metrics and traces, so ids never become label
        values.
        """
        key = self._cache_key(template.format(**path), params)
        shared = self.shared
        if shared is not None and shared.available:
            try:
                return await self._shared_get(shared, key, template, params, path)
            except SharedUnavailable:
                pass  # Redis just went away: this process's own cache and coalescing
        if self._cache is not None:
            hit = key in self._cache
            self.metrics.cache.labels(self.provider.name, "hit" if hit else "miss").inc()
            if hit:
                return self._cache[key]
        task = self._in_flight.get(key)
        if task is None:
            # The fetch is a task of its own, shared by every caller: one caller giving up
            # (cancelled) never cancels the others' answer.
            task = asyncio.ensure_future(self._fetch(key, template, params, path))
            self._in_flight[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        return await asyncio.shield(task)

    async def _fetch(
        self, key: tuple[str, ...], template: str, params: Params | None, path: dict[str, str]
    ) -> Any:
        generation = self._generation
        result = await self.request("GET", template, params=params, **path)
        # A clear (a booking) while this was in flight makes its answer stale: not cached.
        if self._cache is not None and generation == self._generation:
            self._cache[key] = result
        return result

    async def _shared_get(
        self,
        shared: SharedUpstream,
        key: tuple[str, ...],
        template: str,
        params: Params | None,
        path: dict[str, str],
    ) -> Any:
        """``get`` through Redis: one lookup; on a miss, one fetch across every process."""
        cache = shared.cache
        name = cache.name(key)
        held = self._decoded.get(name)
        found = await cache.lookup(name, held[0] if held is not None else None)
        if self._cache is not None:
            hit = found.version is not None
            self.metrics.cache.labels(self.provider.name, "hit" if hit else "miss").inc()
        if found.version is not None:
            return self._decoded_answer(name, found.version, found.payload, held)
        # A request after an invalidation never joins a fetch begun before it.
        flight = (found.generation, *key)
        task = self._in_flight.get(flight)
        if task is None:
            task = asyncio.ensure_future(
                self._shared_fetch(shared, name, found.generation, template, params, path)
            )
            self._in_flight[flight] = task
            task.add_done_callback(lambda done: self._settle(flight, done))
        return await asyncio.shield(task)

    def _decoded_answer(
        self, name: str, version: str, payload: bytes | None, held: tuple[str, Any] | None
    ) -> Any:
        """The answer of ``version``: the object decoded before, or ``payload`` decoded now."""
        if payload is None and held is not None and held[0] == version:
            return held[1]
        assert payload is not None  # the lookup sends it unless the caller holds the version
        answer = unpack(payload)
        self._decoded[name] = (version, answer)
        return answer

    async def _shared_fetch(
        self,
        shared: SharedUpstream,
        name: str,
        generation: str,
        template: str,
        params: Params | None,
        path: dict[str, str],
    ) -> Any:
        """One GET for every process: fetch it holding the lock, or wait for its holder."""
        cache = shared.cache
        # Bounded whatever happens to the holder: the request's time, or a timeout and a lock.
        until = time.monotonic() + remaining(
            self.settings.timeout + cache.recheck + shared.cache.lock_ttl
        )
        try:
            while True:
                future = cache.waiters.wait_for(name, generation)
                try:
                    token = await cache.try_lock(name, generation)
                    if token is not None:
                        return await self._fetch_holding(
                            cache, name, generation, token, template, params, path
                        )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(future), cache.recheck)
                finally:
                    cache.waiters.forget(name, generation, future)
                outcome = future.result() if future.done() else None
                if outcome is not None and not outcome.abandoned:
                    self.metrics.shared_waits.labels(self.provider.name).inc()
                    if outcome.error is not None:
                        raise self._shared_error(outcome.error)
                    assert outcome.version is not None
                    return self._decoded_answer(name, outcome.version, outcome.payload, None)
                # No word (a lost message, a holder that died) or the holder gave up: the
                # answer may be cached already; else try the lock again.
                held = self._decoded.get(name)
                found = await cache.lookup(name, held[0] if held is not None else None)
                if found.version is not None and found.generation == generation:
                    return self._decoded_answer(name, found.version, found.payload, held)
                if time.monotonic() >= until:
                    raise self.not_asked(
                        ErrorCode.UPSTREAM_TIMEOUT,
                        "another gateway process's call did not end in time",
                    )
        except SharedUnavailable:
            # Redis went away while this GET waited: ask the provider from this process.
            return await self.request("GET", template, params=params, **path)

    async def _fetch_holding(
        self,
        cache: SharedCache,
        name: str,
        generation: str,
        token: str,
        template: str,
        params: Params | None,
        path: dict[str, str],
    ) -> Any:
        """The fetch of the process holding the lock: the answer stored and published."""
        try:
            result = await self.request("GET", template, params=params, **path)
        except NotAsked:
            await self._publish(cache, name, generation, token, None)
            raise
        except GatewayError as exc:
            await self._publish(cache, name, generation, token, None, _error_fields(exc))
            raise
        except BaseException:
            await self._publish(cache, name, generation, token, None)
            raise
        version = await self._publish(cache, name, generation, token, pack(result))
        if version is not None:
            self._decoded[name] = (version, result)
        return result

    async def _publish(
        self,
        cache: SharedCache,
        name: str,
        generation: str,
        token: str,
        payload: bytes | None,
        error: dict[str, Any] | None = None,
    ) -> str | None:
        """Settle the lock (best effort: a Redis gone meanwhile only costs the waiters time)."""
        try:
            return await asyncio.shield(cache.settle(name, generation, token, payload, error))
        except SharedUnavailable:
            return None

    def _shared_error(self, fields: dict[str, Any]) -> GatewayError:
        """The error another process's call got, raised here as that call's outcome."""
        error = GatewayError(
            ErrorCode[fields["code"]],
            str(fields["message"]),
            provider=self.provider,
            retry_after=fields.get("retry_after"),
        )
        error.status = fields.get("status")
        return error

    def _settle(self, key: tuple[str, ...], done: asyncio.Future[Any]) -> None:
        if self._in_flight.get(key) is done:
            del self._in_flight[key]
        if not done.cancelled():
            done.exception()  # retrieved, so a failure nobody awaited any more is not logged

    async def request(
        self,
        method: str,
        template: str,
        *,
        params: Params | None = None,
        body: Any = None,
        **path: str,
    ) -> Any:
        """Send one request, retried if idempotent; raise ``GatewayError`` for every failure.

        ``template``'s ``{names}`` are filled from ``path``, each value one encoded segment
        (a ``Slashed`` value one or more).
        """
        url = template.format(
            **{
                name: segments(value, name) if isinstance(value, Slashed) else segment(value, name)
                for name, value in path.items()
            }
        )
        attempts = 1 + (self.settings.retries if method == "GET" else 0)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception(self._worth_retrying),
            reraise=True,
        )
        endpoint = f"{method} {template}"
        async for attempt in retrying:
            with attempt:
                return await self._attempt(method, url, params, body, endpoint)
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    async def _attempt(
        self, method: str, path: str, params: Params | None, body: Any, endpoint: str
    ) -> Any:
        if not self.breaker.allow():
            raise NotSent(
                ErrorCode.UPSTREAM_UNAVAILABLE,
                f"{self.provider.label} is failing; calls are paused (circuit open)",
                provider=self.provider,
            )
        try:
            result = await self._send(method, path, params, body, endpoint)
        except (asyncio.CancelledError, NotAsked):
            self.breaker.abandoned()
            raise
        except GatewayError as exc:
            if exc.code in _BREAKING:
                self.breaker.failed()
            else:
                self.breaker.succeeded()  # the provider answered, if only to refuse
            if exc.code in _UNWELL:
                self.last_error = exc.message
                if method == "GET" and (self._probe is None or not self._probe.fixed):
                    self._probe = _Probe(path, params, endpoint)
            raise
        self.breaker.succeeded()
        self.last_error = None
        return result

    def _worth_retrying(self, exc: BaseException) -> bool:
        if not isinstance(exc, GatewayError) or isinstance(exc, NotAsked):
            return False
        if exc.code not in _RETRYABLE_CODES:
            return False
        if self.breaker.state is not CircuitState.CLOSED:
            return False  # the circuit just opened: fail fast instead
        status = exc.status
        return status is None or status in _RETRYABLE_STATUSES

    def _wait(self, state: RetryCallState) -> float:
        """Jittered exponential backoff, or the provider's Retry-After, within the deadline."""
        outcome = state.outcome
        failure = outcome.exception() if outcome is not None else None
        retry_after = failure.retry_after if isinstance(failure, GatewayError) else None
        delay = (
            retry_after
            if retry_after is not None
            else wait_random_exponential(multiplier=0.1, max=2.0)(state)
        )
        if delay >= remaining(float("inf")):
            # No time left to wait: raising here ends tenacity's loop with this failure.
            assert failure is not None
            raise failure
        self.metrics.retries.labels(self.provider.name).inc()
        return float(delay)

    async def _send(
        self, method: str, path: str, params: Params | None, body: Any, endpoint: str
    ) -> Any:
        """One request with the credential's header; after a 401, renewed and sent once more."""
        authorization = await self.credential.authorization()
        try:
            return await self._send_once(method, path, params, body, endpoint, authorization)
        except GatewayError as exc:
            if exc.status != 401 or not await self.credential.renew(authorization):
                raise
        authorization = await self.credential.authorization()
        return await self._send_once(method, path, params, body, endpoint, authorization)

    async def _send_once(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Any,
        endpoint: str,
        authorization: str,
    ) -> Any:
        left = remaining(self.settings.timeout)
        if left <= 0:
            raise self.not_asked(ErrorCode.UPSTREAM_TIMEOUT, "the deadline passed")
        budget = current_budget()
        if budget is not None and not budget.spend():
            raise self.not_asked(
                ErrorCode.QUERY_TOO_COMPLEX,
                f"this request has made its {budget.limit} upstream calls",
            )
        permit = await self._take_rate(left)
        try:
            return await self._send_permitted(method, path, params, body, endpoint, authorization)
        finally:
            if permit is not None:
                await self._release_rate(permit)

    async def _take_rate(self, left: float) -> str | None:
        """Wait for a place under the rate limit: the shared one (its permit) or this process's.

        The shared wait may last until the request's deadline (not only the provider's
        ``timeout``): a request the limit holds back for a whole window (HubSpot's 10 s)
        still goes out once it fits, and the call then gets what time is left.
        """
        rate = self.shared.rate if self.shared is not None else None
        if rate is not None and self.shared is not None and self.shared.available:
            try:
                return await rate.acquire(remaining(left + rate.longest))
            except RateLimitOutlasts:
                raise self.not_asked(
                    ErrorCode.UPSTREAM_TIMEOUT, "its rate limit outlasts the deadline"
                ) from None
            except SharedUnavailable:
                pass  # Redis went away: this process's own limiter
        if self._rate is not None:
            try:
                await asyncio.wait_for(self._rate.acquire(), left)
            except TimeoutError:
                raise self.not_asked(
                    ErrorCode.UPSTREAM_TIMEOUT, "its rate limit outlasts the deadline"
                ) from None
        return None

    async def _release_rate(self, permit: str) -> None:
        """The request let out under the shared limit has its answer (or failed)."""
        assert self.shared is not None and self.shared.rate is not None
        # Best effort: a permit never released counts until its flight limit ends.
        with contextlib.suppress(SharedUnavailable):
            await asyncio.shield(self.shared.rate.release(permit))

    async def _send_permitted(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Any,
        endpoint: str,
        authorization: str,
    ) -> Any:
        """The request itself, once the deadline, the budget and the rate limit let it out."""
        left = remaining(self.settings.timeout)
        timeout = httpx.Timeout(max(0.001, left), connect=min(self.settings.connect_timeout, left))
        provider = self.provider.name
        status = "unreachable"
        started = time.perf_counter()
        attributes = {"http.request.method": method, "meetingmesh.provider": provider}
        with upstream_span(self.tracing, provider, endpoint, attributes) as span:
            try:
                async with self._limiter:
                    response = await self._http.request(
                        method,
                        self._base_url + path,
                        params=params,  # type: ignore[arg-type]
                        content=None if body is None else orjson.dumps(body),
                        headers={**self._headers, "Authorization": authorization}
                        if body is None
                        else {
                            **self._headers,
                            "Authorization": authorization,
                            "Content-Type": "application/json",
                        },
                        timeout=timeout,
                    )
                status = str(response.status_code)
            except httpx.InvalidURL:
                # A client's value that no URL can carry: the provider was never asked.
                status = "invalid_url"
                raise GatewayError(
                    ErrorCode.BAD_USER_INPUT, f"{self.provider.label} cannot be asked for that id"
                ) from None
            except httpx.TimeoutException:
                status = "timeout"
                raise self.error(ErrorCode.UPSTREAM_TIMEOUT, "did not answer in time") from None
            except httpx.TransportError:
                raise self.error(ErrorCode.UPSTREAM_UNAVAILABLE, "could not be reached") from None
            finally:
                self.metrics.upstream.labels(provider, endpoint, status).inc()
                self.metrics.upstream_latency.labels(provider, endpoint).observe(
                    time.perf_counter() - started
                )
                if span is not None:
                    span.set_attribute("http.response.status_code", status)
        if response.status_code >= 400:
            raise self._status_error(response)
        return self.decode(response)

    def _cache_key(self, path: str, params: Params | None) -> tuple[str, ...]:
        items = params.items() if isinstance(params, Mapping) else (params or ())
        flat = [
            f"{name}={value}"
            for name, values in items
            for value in (values if isinstance(values, list | tuple) else [values])
        ]
        return (self._tenant, path, *flat)

    def decode(self, response: httpx.Response) -> Any:
        """The JSON body of a response, or ``UPSTREAM_BAD_RESPONSE``."""
        content_type = response.headers.get("content-type", "")
        if "json" not in content_type:
            raise self.error(
                ErrorCode.UPSTREAM_BAD_RESPONSE, f"answered with content type {content_type!r}"
            )
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise self.error(
                ErrorCode.UPSTREAM_BAD_RESPONSE, "answered with invalid JSON"
            ) from None

    def error(
        self, code: ErrorCode, detail: str, *, retry_after: float | None = None
    ) -> GatewayError:
        """A ``GatewayError`` for this provider, its message prefixed with the provider name."""
        return GatewayError(
            code,
            redact(f"{self.provider.label} {detail}"),
            provider=self.provider,
            retry_after=retry_after,
        )

    def not_asked(self, code: ErrorCode, reason: str) -> NotAsked:
        """A ``NotAsked`` for this provider: "<provider> was not asked: <reason>"."""
        return NotAsked.of(self.provider, code, reason)

    def _status_error(self, response: httpx.Response) -> GatewayError:
        status = response.status_code
        body: Any = None
        message = None
        try:
            body = redact_json(orjson.loads(response.content))
            message = self._read_message(body)
        except (orjson.JSONDecodeError, AttributeError, TypeError, KeyError, IndexError):
            message = None
        code = self._classify(status, body) if self._classify is not None else None
        code = code or _STATUS_CODES.get(status)
        if code is None:
            code = ErrorCode.UPSTREAM_UNAVAILABLE if status >= 500 else ErrorCode.BAD_USER_INPUT
        retry_after = _retry_after(response.headers.get("retry-after"))
        detail = f"answered {status}" + (f": {message}" if message else "")
        error = self.error(code, detail, retry_after=retry_after)
        error.upstream_body = body
        error.status = status
        return error


def _error_fields(exc: GatewayError) -> dict[str, Any]:
    """What waiting processes need to raise ``exc`` themselves (its message is redacted)."""
    return {
        "code": exc.code.name,
        "message": exc.message,
        "status": exc.status,
        "retry_after": exc.retry_after,
    }


def rate_limiter(settings: ProviderSettings) -> AsyncLimiter | None:
    """The client-side limiter of ``settings``: ``rate_burst`` at once, ``rate_limit`` per period.

    aiolimiter's bucket holds as many requests as its rate, so a burst smaller than the
    limit takes a slower drip: ``rate_burst`` at once, then ``rate_limit - rate_burst``
    per ``rate_period``, so that no period ever holds more than ``rate_limit`` (Thought
    Industries: 20 at once, then one every 0.6 s).
    """
    limit, burst, period = settings.rate_limit, settings.rate_burst, settings.rate_period
    if not limit:
        return None
    if burst is None or burst >= limit:
        return AsyncLimiter(limit, period)
    return AsyncLimiter(burst, period * burst / (limit - burst))


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
