"""Credentials that renew themselves: HeyPeers access keys and HubSpot OAuth, over HTTP.

Each test gets its own simulators (HubSpot's refresh-token rotation changes their
state for good) and a gateway configured with the renewing credential forms. Token
lifetimes run on the wall clock in the simulators: a test shortens them, lets one
lapse, and counts the token calls in ``/_sim/stats``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.config import Settings
from meetingmesh.domain import Provider
from meetingmesh.errors import GatewayError
from meetingmesh.providers import hubspot
from meetingmesh.providers.credentials import HeyPeersAccessKey, HubSpotOAuth, jwt_expiry
from meetingmesh.providers.deadline import deadline_scope
from meetingmesh.providers.http import UpstreamClient
from meetingmesh.simulators import heypeers as heypeers_sim
from meetingmesh.simulators import hubspot_oauth
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import create_simulators, gateway_settings
from tests.conftest import SECRETS, Stack, booking_input, capture_response

AUTHENTICATE = "POST /api/v2/authenticate"
OAUTH = "POST /oauth/v3/token"
EXPORT = "GET /api/v2/organizations/{org_id}/export_meetings"
UPCOMING = "GET /api/v2/organizations/{org_id}/members/{idp_id}/upcoming_meetings"
LINKS = "GET /scheduler/v3/meetings/meeting-links"
WRONG_KEY = "wrongAccessKeyXXXXXXXXXX"
WRONG_SECRET = "wrong-hubspot-client-secret"
SECRETS.update({WRONG_KEY, WRONG_SECRET})

HEYPEERS_PAGE = """query($after: String) {
  meetings(first: 10, after: $after, filter: {providers: [HEYPEERS]}) {
    pageInfo { hasNextPage endCursor } edges { node { id } }
  }
}"""
LINKS_PAGE = """query($after: String) {
  schedulingLinks(first: 5, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { slug } }
  }
}"""


def renewing_settings(
    sim_url: str,
    *,
    access_key: str = heypeers_sim.ACCESS_KEY,
    client_secret: str = hubspot_oauth.CLIENT_SECRET,
    heypeers_base: str | None = None,
) -> Settings:
    """The simulators' gateway settings with HeyPeers' access key and HubSpot's OAuth app."""
    settings = gateway_settings(sim_url)
    providers = dict(settings.providers)
    heypeers = providers[Provider.HEYPEERS]
    providers[Provider.HEYPEERS] = replace(
        heypeers, token="", access_key=access_key, base_url=heypeers_base or heypeers.base_url
    )
    providers[Provider.HUBSPOT] = replace(
        providers[Provider.HUBSPOT],
        token="",
        client_id=hubspot_oauth.CLIENT_ID,
        client_secret=client_secret,
        refresh_token=hubspot_oauth.REFRESH_TOKEN,
    )
    return replace(settings, providers=providers)


@pytest.fixture
def world(serve: Callable[[ASGIApp], str]) -> Iterator[Callable[..., Stack]]:
    """Fresh simulators, and a factory of gateways with renewing credentials in front of them."""
    clock = Clock()
    sims = create_simulators(seed=0, size=60, clock=clock)
    sim_url = serve(sims.app)
    with httpx.Client(timeout=30, event_hooks={"response": [capture_response]}) as http:

        def make(**overrides: Any) -> Stack:
            app = create_app(renewing_settings(sim_url, **overrides), clock=clock.now)
            url = serve(app)
            return Stack(sims, app.state.adapters, sim_url, url, http)

        yield make


def switch(stack: Stack, provider: str, **switches: Any) -> None:
    """Set a simulator's behaviour switches (the others back to their defaults)."""
    response = stack.http.put(f"{stack.provider_url(provider)}/_sim/behaviour", json=switches)
    assert response.status_code == 200, response.text


def walk(stack: Stack, query: str, field: str, *, after_page: Callable[[int], None]) -> list[str]:
    """Every node of a connection, page by page; ``after_page(n)`` runs after page n."""
    seen: list[str] = []
    after = None
    for number in range(1, 50):
        page = stack.data(query, {"after": after})[field]
        seen += [str(next(iter(e["node"].values()))) for e in page["edges"]]
        after_page(number)
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


# --- HeyPeers access keys ----------------------------------------------------------------


def test_the_first_heypeers_call_mints_a_jwt_and_later_calls_reuse_it(
    world: Callable[..., Stack],
) -> None:
    stack = world()
    first = stack.data(HEYPEERS_PAGE)["meetings"]["edges"]
    assert len(first) == 10
    stack.data('{ member(provider: HEYPEERS, id: "sso-user-abc123") { id } }')
    assert stack.calls("heypeers", AUTHENTICATE) == 1
    assert stack.calls("heypeers", EXPORT) >= 1


def test_a_jwt_that_expires_mid_walk_is_renewed_once_and_no_query_fails(
    world: Callable[..., Stack],
) -> None:
    stack = world()
    # The walk's first token lives three seconds; every token minted after page 1, a day.
    switch(stack, "heypeers", token_lifetime_seconds=3)
    asked_before_expiry = 0

    def expire_after_second_page(number: int) -> None:
        nonlocal asked_before_expiry
        if number == 1:
            switch(stack, "heypeers", token_lifetime_seconds=86_400)
        if number == 2:
            asked_before_expiry = stack.calls("heypeers", EXPORT)
            time.sleep(4.1)  # past the simulator's expiry and the JWT's whole-second exp

    seen = walk(stack, HEYPEERS_PAGE, "meetings", after_page=expire_after_second_page)
    assert stack.calls("heypeers", EXPORT) > asked_before_expiry  # HeyPeers was asked after
    assert stack.calls("heypeers", AUTHENTICATE) == 2  # the first mint and one renewal
    everything = stack.data(HEYPEERS_PAGE.replace("first: 10", "first: 100"))["meetings"]
    assert seen == [e["node"]["id"] for e in everything["edges"]]
    assert len(seen) == 60
    assert stack.calls("heypeers", AUTHENTICATE) == 2


ONE_PAGE = """{ meetings(first: 3, filter: {providers: [HEYPEERS], startsAfter: "%s"}) {
  edges { node { id } } } }"""


def refusals(stack: Stack) -> int:
    """HeyPeers export requests answered 401, from the gateway's own metrics."""
    metrics = stack.http.get(f"{stack.gateway_url}/metrics").text
    line = (
        'meetingmesh_upstream_requests_total{endpoint="GET /api/v2/organizations/{org}/'
        'export_meetings",provider="HEYPEERS",status="401"}'
    )
    found = [row.split()[-1] for row in metrics.splitlines() if row.startswith(line)]
    return int(float(found[0])) if found else 0


def _expire_heypeers_token(stack: Stack, *, exp_claim: bool) -> int:
    """Mint a two-second token (with or without ``exp``), let it lapse; the refusals so far."""
    switch(stack, "heypeers", token_lifetime_seconds=2, token_exp_claim=exp_claim)
    stack.data(ONE_PAGE % "2026-01-01T00:00:00Z")
    switch(stack, "heypeers", token_exp_claim=exp_claim)  # tokens minted from now: a day
    time.sleep(3.1)
    stack.http.delete(f"{stack.provider_url('heypeers')}/_sim/stats")
    return refusals(stack)


def test_a_jwt_past_its_exp_claim_is_renewed_before_it_is_sent(
    world: Callable[..., Stack],
) -> None:
    stack = world()
    refused = _expire_heypeers_token(stack, exp_claim=True)
    stack.data(ONE_PAGE % "2026-02-01T00:00:00Z")
    assert stack.calls("heypeers", AUTHENTICATE) == 1
    assert refusals(stack) == refused  # never sent with the expired token


def test_a_refused_jwt_without_exp_is_renewed_once_and_the_request_retried(
    world: Callable[..., Stack],
) -> None:
    stack = world()
    refused = _expire_heypeers_token(stack, exp_claim=False)
    data = stack.data(ONE_PAGE % "2026-02-01T00:00:00Z")
    assert len(data["meetings"]["edges"]) == 3
    assert stack.calls("heypeers", AUTHENTICATE) == 1
    assert refusals(stack) == refused + 1  # refused once, then retried with the new JWT


MEMBERS = " ".join(
    f'm{i}: member(provider: HEYPEERS, id: "sso-user-000{i}") '
    "{ upcomingMeetings(first: 1) { totalCount } }"
    for i in range(1, 5)
)


def test_requests_waiting_for_the_first_jwt_share_one_mint(world: Callable[..., Stack]) -> None:
    stack = world()
    stack.fault("heypeers", latency_ms=200)  # every request waits for the slow mint
    data = stack.data(
        "{ " + MEMBERS + " meetings(first: 2, filter: {providers: [HEYPEERS]}) { totalCount } }"
    )
    assert data["meetings"]["totalCount"] == 60
    assert stack.calls("heypeers", AUTHENTICATE) == 1


def test_requests_refused_together_share_one_renewal(world: Callable[..., Stack]) -> None:
    stack = world()
    _expire_heypeers_token(stack, exp_claim=False)
    stack.fault("heypeers", latency_ms=200)  # the refusals arrive while the renewal runs
    stack.data("{ " + MEMBERS + " }")
    assert stack.calls("heypeers", UPCOMING) == 8  # each refused once, then retried
    assert stack.calls("heypeers", AUTHENTICATE) == 1


def test_a_renewal_keeps_the_answers_cached_for_the_account(world: Callable[..., Stack]) -> None:
    stack = world()
    query = ONE_PAGE % "2026-01-01T00:00:00Z"
    switch(stack, "heypeers", token_lifetime_seconds=2)
    first = stack.data(query)
    switch(stack, "heypeers")
    time.sleep(3.1)
    stack.data(ONE_PAGE % "2026-02-01T00:00:00Z")  # renews
    asked = stack.calls("heypeers", EXPORT)
    assert stack.data(query) == first
    assert stack.calls("heypeers", EXPORT) == asked
    assert stack.calls("heypeers", AUTHENTICATE) == 2


def test_a_wrong_access_key_is_upstream_unauthorized_naming_heypeers(
    world: Callable[..., Stack],
) -> None:
    stack = world(access_key=WRONG_KEY)
    answer = stack.query("{ meetings(first: 3) { edges { node { provider } } } }")
    errors = answer["errors"]
    assert [e["extensions"] for e in errors] == [
        {"code": "UPSTREAM_UNAUTHORIZED", "provider": "HEYPEERS"}
    ]
    assert errors[0]["message"] == "HeyPeers refused the access key: answered 401"
    providers = {e["node"]["provider"] for e in answer["data"]["meetings"]["edges"]}
    assert "HEYPEERS" not in providers and providers  # the others still answer


def test_the_jwt_exp_claim_is_read(world: Callable[..., Stack]) -> None:
    stack = world()
    # Asked directly, not through the suite's capturing client: this token is the test's own.
    response = httpx.post(
        f"{stack.provider_url('heypeers')}/api/v2/authenticate",
        json={"access_key": heypeers_sim.ACCESS_KEY},
    )
    token = response.json()["token"]
    expiry = jwt_expiry(token)
    assert expiry is not None and 86_000 < expiry - time.time() <= 86_401
    assert jwt_expiry("not-a-jwt") is None


# --- HubSpot OAuth -----------------------------------------------------------------------


def test_the_first_hubspot_call_refreshes_an_access_token_and_later_calls_reuse_it(
    world: Callable[..., Stack],
) -> None:
    stack = world()
    stack.data(LINKS_PAGE)
    stack.data('{ schedulingLink(slug: "menelson") { name } }')
    assert stack.calls("hubspot", OAUTH) == 1
    form = stack.last_params("hubspot", OAUTH)
    assert form == {}  # everything goes in the form body, nothing in the query


def test_an_access_token_that_expires_mid_walk_is_renewed_once(
    world: Callable[..., Stack],
) -> None:
    stack = world()
    # The first access token lives three seconds; every one minted after page 1, 30 minutes.
    switch(stack, "hubspot", access_token_lifetime_seconds=3)

    def expire_after_second_page(number: int) -> None:
        if number == 1:
            switch(stack, "hubspot")
        if number == 2:
            time.sleep(3.1)

    seen = walk(stack, LINKS_PAGE, "schedulingLinks", after_page=expire_after_second_page)
    assert len(seen) == len(set(seen)) > 10
    assert stack.calls("hubspot", OAUTH) == 2


def test_a_rotated_refresh_token_is_kept_for_the_next_refresh(
    world: Callable[..., Stack],
) -> None:
    stack = world()
    # Each refresh answers a new refresh token and refuses the one it was given.
    switch(stack, "hubspot", rotate_refresh_token=True, access_token_lifetime_seconds=1)
    stack.data(LINKS_PAGE)
    switch(stack, "hubspot", rotate_refresh_token=True)
    time.sleep(1.2)
    # Refreshed with the rotated token (the configured one is refused by now).
    stack.data('{ schedulingLink(slug: "menelson") { name } }')
    assert stack.calls("hubspot", OAUTH) >= 2


def test_camel_case_token_answers_are_read(world: Callable[..., Stack]) -> None:
    stack = world()
    switch(stack, "hubspot", camel_case_tokens=True, access_token_lifetime_seconds=1)
    stack.data(LINKS_PAGE)
    switch(stack, "hubspot", camel_case_tokens=True)
    time.sleep(1.2)
    stack.data('{ schedulingLink(slug: "menelson") { name } }')
    # expiresIn was read: renewed when due (read as 30 minutes, it would not have been).
    assert stack.calls("hubspot", OAUTH) >= 2


def test_hubspot_requests_waiting_for_the_first_token_share_one_refresh(
    world: Callable[..., Stack],
) -> None:
    stack = world()
    stack.fault("hubspot", latency_ms=200)
    aliases = " ".join(f"l{i}: schedulingLinks(first: {i + 1}) {{ totalCount }}" for i in range(4))
    stack.data("{ " + aliases + " }")
    assert stack.calls("hubspot", OAUTH) == 1


def test_a_wrong_client_secret_is_upstream_unauthorized_naming_hubspot(
    world: Callable[..., Stack],
) -> None:
    stack = world(client_secret=WRONG_SECRET)
    answer = stack.query('{ schedulingLink(slug: "menelson") { name } }')
    assert answer["data"] == {"schedulingLink": None}
    error = answer["errors"][0]
    assert error["extensions"] == {"code": "UPSTREAM_UNAUTHORIZED", "provider": "HUBSPOT"}
    assert error["message"] == "HubSpot refused the OAuth refresh: answered 400 (BAD_CLIENT_ID)"


def test_a_refused_access_token_is_refreshed_once_and_the_request_retried(
    world: Callable[..., Stack],
) -> None:
    """The gateway's clock says the token is fresh; HubSpot says it expired (a 401)."""
    stack = world()
    switch(stack, "hubspot", access_token_lifetime_seconds=2)
    settings = renewing_settings(stack.sim_url).providers[Provider.HUBSPOT]
    minted_at = time.time()

    async def scenario() -> Any:
        async with httpx.AsyncClient() as http:
            # A credential whose clock stands still: it never thinks its token is due.
            credential = HubSpotOAuth(settings, http, clock=lambda: minted_at)
            client = UpstreamClient(settings, http, hubspot.read_message, credential=credential)
            await client.get(hubspot.LINKS, {"limit": "1"})
            switch(stack, "hubspot")
            await asyncio.sleep(2.2)
            return await client.get(hubspot.LINKS, {"limit": "2"})

    answer = asyncio.run(scenario())
    assert len(answer["results"]) == 2
    assert stack.calls("hubspot", OAUTH) == 2
    assert stack.calls("hubspot", LINKS) == 3  # 1, then 2 refused once and retried


BOOK = "POST /scheduler/v3/meetings/meeting-links/book"
BOOK_MUTATION = """mutation($input: BookMeetingInput!) {
  bookMeeting(input: $input) { booking { start } }
}"""
SLOTS = """{ schedulingLink(slug: "menelson") {
  availability(timezone: "America/New_York") { start durationMinutes } } }"""


def test_a_booking_refused_with_a_401_is_sent_once_more_after_the_refresh(
    world: Callable[..., Stack],
) -> None:
    """A 401 means HubSpot did not read the booking: renewing and resending books it once."""
    stack = world()
    slot = stack.data(SLOTS)["schedulingLink"]["availability"][0]
    # Seed 1 refuses the first booking request (draw 0.13) and lets the second through (0.85).
    response = stack.http.put(
        f"{stack.provider_url('hubspot')}/_sim/faults",
        json={"error_rate": 0.5, "error_status": 401, "seed": 1, "endpoint": BOOK},
    )
    assert response.status_code == 200, response.text
    data = stack.data(BOOK_MUTATION, {"input": booking_input(slot)})
    assert data["bookMeeting"]["booking"]["start"] == slot["start"]
    assert stack.calls("hubspot", BOOK) == 2
    assert stack.calls("hubspot", OAUTH) == 2


def test_a_booking_whose_token_cannot_be_had_is_known_not_made(
    world: Callable[..., Stack],
) -> None:
    """No access token, no booking sent: not BOOKING_OUTCOME_UNKNOWN."""
    stack = world()
    response = stack.http.put(
        f"{stack.provider_url('hubspot')}/_sim/faults",
        json={"error_rate": 1, "error_status": 500, "endpoint": OAUTH},
    )
    assert response.status_code == 200, response.text
    booking = booking_input({"start": "2026-05-25T18:00:00Z", "durationMinutes": 30})
    answer = stack.query(BOOK_MUTATION, {"input": booking})
    assert answer["data"] is None
    error = answer["errors"][0]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "provider": "HUBSPOT"}
    assert error["message"] == "HubSpot answered 500 when asked for a token"
    assert stack.calls("hubspot", BOOK) == 0


def test_a_renewal_given_up_for_the_deadline_says_nothing_about_the_provider() -> None:
    """Like any call the gateway gives up before sending: no breaker failure, no lastError."""
    settings = renewing_settings("http://127.0.0.1:9").providers[Provider.HUBSPOT]

    async def scenario() -> tuple[GatewayError, UpstreamClient]:
        async with httpx.AsyncClient() as http:
            credential = HubSpotOAuth(settings, http)
            client = UpstreamClient(settings, http, hubspot.read_message, credential=credential)
            with deadline_scope(0), pytest.raises(GatewayError) as refused:
                await client.get(hubspot.LINKS, {"limit": "1"})
            return refused.value, client

    error, client = asyncio.run(scenario())
    assert error.message == "HubSpot was not asked: the deadline passed"
    assert client.breaker.failures == 0
    assert client.status().healthy


def test_a_renewal_outlives_the_deadline_of_the_request_that_started_it(
    world: Callable[..., Stack],
) -> None:
    """A request about to time out starts the renewal; one with time left still gets the token."""
    stack = world()
    response = stack.http.put(
        f"{stack.provider_url('heypeers')}/_sim/faults",
        json={"latency_ms": 300, "endpoint": AUTHENTICATE},
    )
    assert response.status_code == 200, response.text
    settings = renewing_settings(stack.sim_url).providers[Provider.HEYPEERS]

    async def scenario() -> tuple[BaseException | str, BaseException | str]:
        async with httpx.AsyncClient() as http:
            credential = HeyPeersAccessKey(settings, http)

            async def hurried() -> str:
                with deadline_scope(0.1):
                    return await credential.authorization()

            async def patient() -> str:
                await asyncio.sleep(0.02)  # joins the renewal the hurried request started
                return await credential.authorization()

            first, second = await asyncio.gather(hurried(), patient(), return_exceptions=True)
            return first, second

    first, second = asyncio.run(scenario())
    assert isinstance(first, GatewayError) and first.code.value == "UPSTREAM_TIMEOUT"
    assert isinstance(second, str) and second.startswith("Bearer ey")
    assert stack.calls("heypeers", AUTHENTICATE) == 1
