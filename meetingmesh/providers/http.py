"""The upstream HTTP client every adapter uses: auth, timeouts, caching, error mapping.

Each provider gets an ``UpstreamClient`` over the process-wide ``httpx.AsyncClient``
(keep-alive connections are shared). Transport failures and provider error statuses
become ``GatewayError``s with a contract code and the provider's name; the message
quotes the provider's own error text but never a header, so no token can leak.

Successful GET answers are kept for ``cache_ttl`` seconds in a bounded per-provider
cache, so a page that a cursor re-requests (the next page of a merged list usually
starts inside the provider page the last one ended in) costs no upstream call.
Entries are keyed by a digest of the token as well as the URL, so two tenants never
share one. Identical GETs in flight at once share one request. At most
``concurrency`` requests per provider run at once.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import orjson
from cachetools import TTLCache

from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode, GatewayError

Params = Mapping[str, str | int | float | bool | Sequence[str]] | Sequence[tuple[str, str]]
#: Pulls the provider's own error text out of an error response body.
MessageReader = Callable[[Any], str | None]

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


class UpstreamClient:
    """JSON requests to one provider, with its bearer token and its error conventions."""

    def __init__(
        self,
        provider: Provider,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        token: str,
        timeout: float,
        read_message: MessageReader,
        cache_ttl: float = 10.0,
        cache_size: int = 1024,
        concurrency: int = 16,
    ) -> None:
        self.provider = provider
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._timeout = httpx.Timeout(timeout)
        self._read_message = read_message
        self._tenant = hashlib.sha256(token.encode()).hexdigest()[:16]
        self._cache: TTLCache[tuple[str, ...], Any] | None = (
            TTLCache(maxsize=cache_size, ttl=cache_ttl) if cache_ttl > 0 else None
        )
        self._in_flight: dict[tuple[str, ...], asyncio.Future[Any]] = {}
        self._limiter = asyncio.Semaphore(concurrency)
        #: The last failure that says the provider is unwell, cleared by the next success.
        self.last_error: str | None = None

    def clear_cache(self) -> None:
        """Forget every cached answer (after a change upstream, such as a booking)."""
        if self._cache is not None:
            self._cache.clear()

    async def get(self, path: str, params: Params | None = None) -> Any:
        """GET ``path`` and return the decoded JSON body (cached, coalesced)."""
        key = self._cache_key(path, params)
        if self._cache is not None and key in self._cache:
            return self._cache[key]
        pending = self._in_flight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            result = await self.request("GET", path, params=params)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unshared failure is not "never retrieved"
            raise
        finally:
            del self._in_flight[key]
        future.set_result(result)
        if self._cache is not None:
            self._cache[key] = result
        return result

    async def post(self, path: str, body: Any, params: Params | None = None) -> Any:
        """POST a JSON body to ``path`` and return the decoded JSON answer."""
        return await self.request("POST", path, params=params, body=body)

    async def request(
        self, method: str, path: str, *, params: Params | None = None, body: Any = None
    ) -> Any:
        """Send one request; raise ``GatewayError`` for every failure."""
        try:
            result = await self._send(method, path, params, body)
        except GatewayError as exc:
            if exc.code in _UNWELL:
                self.last_error = exc.message
            raise
        self.last_error = None
        return result

    def _cache_key(self, path: str, params: Params | None) -> tuple[str, ...]:
        items = params.items() if isinstance(params, Mapping) else (params or ())
        flat = [
            f"{name}={value}"
            for name, values in items
            for value in (values if isinstance(values, list | tuple) else [values])
        ]
        return (self._tenant, path, *flat)

    async def _send(self, method: str, path: str, params: Params | None, body: Any) -> Any:
        try:
            async with self._limiter:
                response = await self._http.request(
                    method,
                    self._base_url + path,
                    params=params,  # type: ignore[arg-type]
                    content=None if body is None else orjson.dumps(body),
                    headers=self._headers
                    if body is None
                    else {**self._headers, "Content-Type": "application/json"},
                    timeout=self._timeout,
                )
        except httpx.TimeoutException:
            raise self.error(ErrorCode.UPSTREAM_TIMEOUT, "did not answer in time") from None
        except httpx.TransportError:
            raise self.error(ErrorCode.UPSTREAM_UNAVAILABLE, "could not be reached") from None
        if response.status_code >= 400:
            raise self._status_error(response)
        return self.decode(response)

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
            code, f"{self.provider.label} {detail}", provider=self.provider, retry_after=retry_after
        )

    def _status_error(self, response: httpx.Response) -> GatewayError:
        status = response.status_code
        code = _STATUS_CODES.get(status)
        if code is None:
            code = ErrorCode.UPSTREAM_UNAVAILABLE if status >= 500 else ErrorCode.BAD_USER_INPUT
        body: Any = None
        message = None
        try:
            body = orjson.loads(response.content)
            message = self._read_message(body)
        except (orjson.JSONDecodeError, AttributeError, TypeError, KeyError, IndexError):
            message = None
        retry_after = _retry_after(response.headers.get("retry-after"))
        detail = f"answered {status}" + (f": {message}" if message else "")
        error = self.error(code, detail, retry_after=retry_after)
        error.upstream_body = body
        return error


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
