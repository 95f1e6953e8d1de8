"""A request id for every HTTP request: in the response, the logs and upstream calls.

A client's ``X-Request-ID`` is kept when it is a plain token (letters, digits, ``.``,
``_``, ``-``, at most 128 characters); otherwise a new one is made. It comes back in
the response's ``X-Request-ID`` header, names the request in log lines and masked
errors, and is sent on to every provider, so one id follows a request everywhere.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_CURRENT: ContextVar[str | None] = ContextVar("meetingmesh_request_id", default=None)


def current() -> str | None:
    """The id of the request being served, if any."""
    return _CURRENT.get()


class RequestIdMiddleware:
    """Pure ASGI middleware: choose the id, expose it, echo it in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request with its id set."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next(
            (v.decode("latin-1") for k, v in scope.get("headers", ()) if k == HEADER.encode()),
            "",
        )
        request_id = given if _ACCEPTABLE.match(given) else uuid.uuid4().hex
        token = _CURRENT.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != HEADER.encode()]
                headers.append((HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _CURRENT.reset(token)
