"""HTTP caching never shows a booked slot as free, in a real browser.

A booking page in headless Chromium (``tests/clients/booking``: urql sending its queries
as GET, so the browser's HTTP cache stands between the page and the gateway) reads a
scheduling link's availability, books the first slot with ``bookMeeting`` (POST) and
reads the availability again. The second read must come from the gateway and must no
longer offer the slot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from meetingmesh.app import create_app
from meetingmesh.config import Settings
from meetingmesh.serving import start_in_thread
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import create_simulators, gateway_settings
from tests.clients import harness
from tests.conftest import Clients

SLUG = "menelson"
BOOKER = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "timezone": "UTC"}


class GraphQLRequests:
    """The gateway app, recording the method of every request that reaches ``/graphql``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.methods: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql":
            self.methods.append(scope["method"])
        await self.app(scope, receive, send)


def _page_server() -> Starlette:
    """The booking page and the urql modules it imports, from the installed packages."""
    return Starlette(
        routes=[
            Mount("/node_modules", StaticFiles(directory=harness.HERE / "node_modules")),
            Mount("/", StaticFiles(directory=harness.HERE / "booking", html=True)),
        ]
    )


@pytest.fixture(scope="module")
def booked(clients: Clients) -> Iterator[dict[str, Any]]:
    """What the page showed and sent; its own simulators, as the booking changes them.

    The page is served from another origin than the gateway, as an app's would be.
    """
    clock = Clock()
    handles = [start_in_thread(create_simulators(seed=0, size=60, clock=clock).app)]
    try:
        handles.append(start_in_thread(_page_server()))
        page_origin = handles[-1].url
        base = gateway_settings(handles[0].url)
        server = replace(base.server, cors_origins=(page_origin,))
        gateway = GraphQLRequests(
            create_app(Settings(server=server, providers=base.providers), clock=clock.now)
        )
        handles.append(start_in_thread(gateway))
        page = f"{page_origin}/?gateway={quote(handles[-1].url + '/graphql', safe='')}"
        seen = clients.run(
            "browser_booking.mjs", page=page, chromium=clients.chromium, slug=SLUG, booker=BOOKER
        )
        seen["gatewayMethods"] = gateway.methods
        yield seen
    finally:
        for handle in reversed(handles):
            handle.stop()


def _starts(slots: list[dict[str, Any]]) -> list[str]:
    return [slot["start"] for slot in slots]


def test_the_page_books_an_offered_slot(booked: dict[str, Any]) -> None:
    assert "error" not in booked, booked
    assert booked["before"], "the link offers no slot to book"
    assert booked["booked"]["start"] == booked["before"][0]["start"]


def test_the_booked_slot_is_gone_when_the_page_reads_availability_again(
    booked: dict[str, Any],
) -> None:
    assert "error" not in booked, booked
    slot = booked["booked"]["start"]
    assert slot not in _starts(booked["after"]), (
        "the page still offers the slot it just booked; reads that reached the gateway: "
        f"{booked['gatewayMethods'].count('GET')} of 2; answers: {booked['exchanges']}"
    )
    assert set(_starts(booked["after"])) < set(_starts(booked["before"]))


def test_every_availability_read_reaches_the_gateway(booked: dict[str, Any]) -> None:
    reads = [e for e in booked["exchanges"] if e["method"] == "GET"]
    assert len(reads) == 2
    assert booked["gatewayMethods"].count("GET") == 2, (
        f"the browser answered a read from its HTTP cache: {reads}"
    )


def test_the_page_reads_with_get_and_books_with_post(booked: dict[str, Any]) -> None:
    assert [e["method"] for e in booked["exchanges"]] == ["GET", "POST", "GET"]
