"""The upstream HTTP client every adapter uses: auth, timeouts and error mapping.

Each provider gets an ``UpstreamClient`` over the process-wide ``httpx.AsyncClient``
(keep-alive connections are shared). Transport failures and provider error statuses
become ``GatewayError``s with a contract code and the provider's name; the message
quotes the provider's own error text but never a header, so no token can leak.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import orjson

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
    ) -> None:
        self.provider = provider
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._timeout = httpx.Timeout(timeout)
        self._read_message = read_message
        #: The last failure that says the provider is unwell, cleared by the next success.
        self.last_error: str | None = None

    async def get(self, path: str, params: Params | None = None) -> Any:
        """GET ``path`` and return the decoded JSON body."""
        return await self.request("GET", path, params=params)

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

    async def _send(self, method: str, path: str, params: Params | None, body: Any) -> Any:
        try:
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
