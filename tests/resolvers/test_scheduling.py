"""``schedulingLinks`` cursors: each edge resumes after itself, at the documented cost.

HubSpot continues only from its page ends. A page-end cursor costs what HubSpot's own
paging costs; a cursor inside a page reads that page again from its start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import MOUNTS, create_simulators, gateway_settings
from tests.conftest import Stack

LINKS = "GET /scheduler/v3/meetings/meeting-links"
PAGE = """query($first: Int, $after: String) { schedulingLinks(first: $first, after: $after) {
  pageInfo { hasNextPage } edges { cursor node { slug } } } }"""


def _slugs(page: dict[str, Any]) -> list[str]:
    return [e["node"]["slug"] for e in page["edges"]]


def _all_slugs(gateway: Stack) -> list[str]:
    return _slugs(gateway.data(PAGE, {"first": 100})["schedulingLinks"])


def test_a_page_end_cursor_resumes_from_hubspots_own_token_in_one_call(gateway: Stack) -> None:
    everything = _all_slugs(gateway)
    first = gateway.data(PAGE, {"first": 5})["schedulingLinks"]
    token = gateway.upstream("hubspot", "/scheduler/v3/meetings/meeting-links", limit=5)
    gateway.http.delete(f"{gateway.provider_url('hubspot')}/_sim/stats")
    second = gateway.data(PAGE, {"first": 5, "after": first["edges"][-1]["cursor"]})

    assert _slugs(second["schedulingLinks"]) == everything[5:10]
    assert gateway.calls("hubspot", LINKS) == 1
    assert gateway.last_params("hubspot", LINKS) == {
        "limit": ["5"],
        "after": [token["paging"]["next"]["after"]],
    }


def test_a_cursor_inside_a_page_reads_that_page_again_from_its_start(gateway: Stack) -> None:
    everything = _all_slugs(gateway)
    first = gateway.data(PAGE, {"first": 5})["schedulingLinks"]
    second_page = gateway.data(PAGE, {"first": 5, "after": first["edges"][-1]["cursor"]})
    inside = second_page["schedulingLinks"]["edges"][1]["cursor"]  # the 7th link's
    page_token = gateway.last_params("hubspot", LINKS)["after"]
    gateway.http.delete(f"{gateway.provider_url('hubspot')}/_sim/stats")

    resumed = gateway.data(PAGE, {"first": 4, "after": inside})["schedulingLinks"]

    assert _slugs(resumed) == everything[7:11]
    assert gateway.calls("hubspot", LINKS) == 1
    # The 2 links before the cursor in its HubSpot page are read again, then dropped.
    assert gateway.last_params("hubspot", LINKS) == {"limit": ["6"], "after": page_token}


def test_a_place_and_page_past_hubspots_hundred_take_a_second_call(
    serve: Callable[[ASGIApp], str],
) -> None:
    clock = Clock()
    sims = serve(create_simulators(seed=0, size=1200, clock=clock).app)
    url = serve(create_app(gateway_settings(sims), clock=clock.now))
    stats = f"{sims}{MOUNTS['hubspot']}/_sim/stats"
    with httpx.Client(timeout=30) as http:

        def page(first: int, after: str | None = None) -> dict[str, Any]:
            answer = http.post(
                f"{url}/graphql",
                json={"query": PAGE, "variables": {"first": first, "after": after}},
            ).json()
            assert "errors" not in answer, answer
            links: dict[str, Any] = answer["data"]["schedulingLinks"]
            return links

        inside = page(50)["edges"][29]["cursor"]  # after the 30th link of a HubSpot page
        http.delete(stats)
        resumed = page(90, inside)
        calls = http.get(stats).json()["endpoints"][LINKS]["count"]
        everything = _slugs(page(100)) + _slugs(page(100, page(100)["edges"][-1]["cursor"]))

    # 30 + 90 passes HubSpot's 100 a page: the rest comes from the next HubSpot page.
    assert _slugs(resumed) == everything[30:120]
    assert calls == 2
