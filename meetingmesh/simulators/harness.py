"""What every simulator shares: statistics, faults, behaviour switches and control routes.

A simulator wraps each of its endpoint handlers with ``Harness.endpoint(name)``. The
wrapper counts the request, asks the provider's rate limiter (when it has one and its
switch is on), then applies the injected faults in order (latency, hang, error,
malformed body; only on the faults' ``endpoint`` when they name one), and renders
injected errors in the provider's own error body. With the
``echo_credentials`` switch on, every error body then repeats the request's credentials.
Control routes live under ``{base}/_sim/`` (``stats``, ``faults``, ``behaviour``) and are
neither counted nor authenticated.

Statistics keep each request's parameters and body, except the values of ``access_key``,
``client_secret`` and ``refresh_token``, which are recorded as ``"<redacted>"`` so that
reading the statistics never shows a secret.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meetingmesh.simulators.behaviour import (
    Behaviour,
    BehaviourSettingsError,
    as_dict,
    from_mapping,
)
from meetingmesh.simulators.faults import Faults, FaultSettingsError
from meetingmesh.simulators.stats import RequestStats

Handler = Callable[[Request], Awaitable[Response]]
#: Renders an error of a given status in a provider's own body (injected faults use it).
ErrorRenderer = Callable[[int, int], Response]
#: A provider's rate limiter: the 429 to answer, or None to let the request through.
Limiter = Callable[[Request], Response | None]
#: Body fields that carry secrets: redacted in statistics, repeated by ``echo_credentials``.
SECRET_FIELDS = ("access_key", "client_secret", "refresh_token", "hmac")
REDACTED = "<redacted>"


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
    behaviour: Behaviour = field(default_factory=Behaviour)
    #: The error body's text field, where ``echo_credentials`` repeats the credentials.
    message_key: str = "message"
    limiter: Limiter | None = None

    def endpoint(self, name: str) -> Callable[[Handler], Handler]:
        """Decorate a handler so that it is counted under ``name`` and subject to faults."""

        def wrap(handler: Handler) -> Handler:
            async def run(request: Request) -> Response:
                body = await _body_for_stats(request)
                request_id = request.headers.get("x-request-id")
                self.stats.record(name, query_params(request), _redacted(body), request_id)
                status = None
                try:
                    response = await self._answer(handler, request, name)
                    status = response.status_code
                finally:
                    self.stats.finish(name, status)
                if self.behaviour.echo_credentials and response.status_code >= 400:
                    return _echo(response, request, body, self.message_key)
                return response

            run.__name__ = handler.__name__
            run.__doc__ = handler.__doc__
            return run

        return wrap

    async def _answer(self, handler: Handler, request: Request, name: str) -> Response:
        if self.limiter is not None:
            limited = self.limiter(request)
            if limited is not None:
                return limited
        if not self.faults.applies_to(name):
            return await handler(request)
        injected = await self._inject(request)
        if injected is not None:
            return injected
        response = await handler(request)
        if self.faults.roll(self.faults.malformed_rate):
            return _malformed(response)
        return response

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

        async def behaviour(request: Request) -> Response:
            kind = type(self.behaviour)
            if request.method == "PUT":
                try:
                    values = json.loads(await request.body() or b"{}")
                    if not isinstance(values, dict):
                        raise BehaviourSettingsError("the body must be a JSON object")
                    self.behaviour = from_mapping(kind, values)
                except ValueError as exc:
                    return json_response({"error": str(exc)}, status_code=400)
            elif request.method == "DELETE":
                self.behaviour = kind()
            return json_response(as_dict(self.behaviour))

        return [
            Route("/_sim/stats", stats, methods=["GET", "DELETE"]),
            Route("/_sim/faults", faults, methods=["GET", "PUT", "DELETE"]),
            Route("/_sim/behaviour", behaviour, methods=["GET", "PUT", "DELETE"]),
        ]


async def _body_for_stats(request: Request) -> Any:
    if request.method in ("GET", "HEAD", "DELETE"):
        return None
    raw = await request.body()  # Starlette caches it, so the handler can read it again.
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def _redacted(body: Any) -> Any:
    if isinstance(body, dict) and any(k in body for k in SECRET_FIELDS):
        return {k: REDACTED if k in SECRET_FIELDS else v for k, v in body.items()}
    return body


def _echo(response: Response, request: Request, body: Any, message_key: str) -> Response:
    """The error with the request's credentials written into its text, as a careless API would."""
    credentials = []
    authorization = request.headers.get("authorization")
    if authorization:
        credentials.append(f"Authorization: {authorization}")
    if isinstance(body, dict):
        credentials += [f"{k}={body[k]}" for k in SECRET_FIELDS if isinstance(body.get(k), str)]
    if not credentials:
        return response
    try:
        content = json.loads(bytes(response.body)) if response.body else {}
    except ValueError:
        content = {}
    if not isinstance(content, dict):
        content = {}
    text = content.get(message_key)
    echoed = f"{text if isinstance(text, str) else 'request refused'} "
    content[message_key] = echoed + f"(request credentials: {'; '.join(credentials)})"
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return json_response(content, status_code=response.status_code, headers=headers)


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
