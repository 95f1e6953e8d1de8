"""What every simulator shares: request statistics, fault injection and control routes.

A simulator wraps each of its endpoint handlers with ``Harness.endpoint(name)``. The
wrapper counts the request, then applies the injected faults in order (latency, hang,
error, malformed body), and renders injected errors in the provider's own error body.
Control routes live under ``{base}/_sim/`` and are neither counted nor authenticated.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meetingmesh.simulators.faults import Faults, FaultSettingsError
from meetingmesh.simulators.stats import RequestStats

Handler = Callable[[Request], Awaitable[Response]]
#: Renders an error of a given status in a provider's own body (injected faults use it).
ErrorRenderer = Callable[[int, int], Response]


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response encoded with orjson (datetimes are pre-formatted strings)."""
    return Response(
        orjson.dumps(content),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None when malformed."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def query_params(request: Request) -> dict[str, list[str]]:
    """Every query parameter with all of its values, in order (``column[]`` repeats)."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


@dataclass
class Harness:
    """Statistics, faults and control routes of one simulated provider."""

    provider: str
    render_error: ErrorRenderer
    faults: Faults = field(default_factory=Faults)
    stats: RequestStats = field(default_factory=RequestStats)

    def endpoint(self, name: str) -> Callable[[Handler], Handler]:
        """Decorate a handler so that it is counted under ``name`` and subject to faults."""

        def wrap(handler: Handler) -> Handler:
            async def run(request: Request) -> Response:
                body = await _body_for_stats(request)
                request_id = request.headers.get("x-request-id")
                self.stats.record(name, query_params(request), body, request_id)
                try:
                    injected = await self._inject(request)
                    if injected is not None:
                        return injected
                    response = await handler(request)
                finally:
                    self.stats.finish(name)
                if self.faults.roll(self.faults.malformed_rate):
                    return _malformed(response)
                return response

            run.__name__ = handler.__name__
            run.__doc__ = handler.__doc__
            return run

        return wrap

    async def _inject(self, request: Request) -> Response | None:
        faults = self.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.roll(faults.hang_rate):
            await _hang(request, faults.hang_seconds)
            return Response(status_code=504)
        if faults.roll(faults.error_rate):
            return self.render_error(faults.error_status, faults.retry_after)
        return None

    def control_routes(self) -> list[Route]:
        """Routes under ``/_sim/`` to read and reset statistics and to set faults."""

        async def stats(request: Request) -> Response:
            if request.method == "DELETE":
                self.stats.reset()
            return json_response(self.stats.snapshot())

        async def faults(request: Request) -> Response:
            if request.method == "PUT":
                try:
                    values = json.loads(await request.body() or b"{}")
                    if not isinstance(values, dict):
                        raise FaultSettingsError("the body must be a JSON object")
                    self.faults = Faults.from_mapping(values)
                except (ValueError, FaultSettingsError) as exc:
                    return json_response({"error": str(exc)}, status_code=400)
            elif request.method == "DELETE":
                self.faults = Faults()
            return json_response(self.faults.as_dict())

        return [
            Route("/_sim/stats", stats, methods=["GET", "DELETE"]),
            Route("/_sim/faults", faults, methods=["GET", "PUT", "DELETE"]),
        ]


async def _body_for_stats(request: Request) -> Any:
    if request.method in ("GET", "HEAD", "DELETE"):
        return None
    raw = await request.body()  # Starlette caches it, so the handler can read it again.
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


async def _hang(request: Request, seconds: float) -> None:
    # Bounded: stop as soon as the client gives up, or after ``seconds`` at the most.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def _malformed(response: Response) -> Response:
    # Cut the body in half: the JSON no longer parses, yet status and type still claim success.
    body = bytes(response.body)
    return Response(
        body[: max(1, len(body) // 2)],
        status_code=response.status_code,
        media_type=response.media_type or "application/json",
    )
