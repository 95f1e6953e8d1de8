"""Shared by the simulators' webhook tests: an endpoint that records what it receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

Serve = Callable[[ASGIApp], str]


@dataclass
class Receiver:
    """A webhook endpoint that records what it got and answers ``status``."""

    url: str = ""
    status: int = 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            self.received.append((dict(request.headers), await request.body()))
            return Response(status_code=self.status)

        return Starlette(routes=[Route("/hook", receive, methods=["POST"])])

    def events(self) -> list[Any]:
        """The JSON bodies received, verification requests included."""
        return [orjson.loads(body) for _, body in self.received]


@pytest.fixture
def receiver(serve: Serve) -> Receiver:
    """A webhook endpoint on loopback."""
    receiver = Receiver()
    receiver.url = serve(receiver.app()) + "/hook"
    return receiver
