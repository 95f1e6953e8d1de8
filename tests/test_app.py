"""The HTTP surface: /graphql over POST and GET, GraphiQL, health, and API keys."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.config import ServerSettings, Settings
from meetingmesh.domain import Provider
from meetingmesh.providers.daily import DailyAdapter
from meetingmesh.simulators.server import TOKENS, gateway_settings
from tests.conftest import SECRETS, Stack


def test_healthz_answers_while_the_process_is_up(gateway: Stack) -> None:
    response = gateway.http.get(gateway.gateway_url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_queries_work_over_get(gateway: Stack) -> None:
    response = gateway.http.get(
        gateway.gateway_url + "/graphql",
        params={"query": "{ providers { provider configured } }"},
    )
    assert response.status_code == 200
    assert {p["provider"] for p in response.json()["data"]["providers"]} == {
        "HEYPEERS",
        "THOUGHT_INDUSTRIES",
        "HUBSPOT",
        "DAILY",
    }


def test_mutations_are_refused_over_get(gateway: Stack) -> None:
    response = gateway.http.get(
        gateway.gateway_url + "/graphql",
        params={
            "query": 'mutation { bookMeeting(input: {slug: "x", firstName: "a", '
            'lastName: "b", email: "a@b.co", startTime: "2030-01-01T00:00:00Z", '
            'durationMinutes: 30, timezone: "UTC"}) { booking { start } } }'
        },
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["message"] == "Mutations must be sent with POST."
    assert gateway.calls("hubspot") == 0


def test_browsers_get_graphiql(gateway: Stack) -> None:
    response = gateway.http.get(gateway.gateway_url + "/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_provider_tokens_never_reach_the_client(gateway: Stack) -> None:
    for provider in ("daily", "heypeers", "thoughtindustries", "hubspot"):
        gateway.fault(provider, error_rate=1, error_status=401)
    response = gateway.post(
        "{ meetings { totalCount } schedulingLinks { totalCount } "
        'member(provider: HEYPEERS, id: "sso-user-abc123") { id } }'
    )
    assert "UPSTREAM_UNAUTHORIZED" in response.text
    for token in TOKENS.values():
        assert token not in response.text


#: The keyed gateway's API keys, known to the leak check from collection on (so no test
#: that runs earlier, a fuzz test among them, can send one unnoticed).
API_KEYS = ("key-one-5b1f", "key-two-77aa")
SECRETS.update(API_KEYS)


def _keyed_gateway(stack: Stack, serve: Callable[[ASGIApp], str]) -> str:
    base = gateway_settings(stack.sim_url)
    settings = Settings(server=ServerSettings(api_keys=API_KEYS), providers=base.providers)
    return serve(create_app(settings))


def test_api_key_required_when_configured(stack: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _keyed_gateway(stack, serve)
    body = {"query": "{ providers { provider } }"}
    missing = httpx.post(f"{url}/graphql", json=body)
    wrong = httpx.post(f"{url}/graphql", json=body, headers={"Authorization": "Bearer nope"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    for key in API_KEYS:
        right = httpx.post(f"{url}/graphql", json=body, headers={"Authorization": f"Bearer {key}"})
        assert right.status_code == 200
        assert len(right.json()["data"]["providers"]) == 4


def test_health_is_open_even_with_api_keys(stack: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _keyed_gateway(stack, serve)
    assert httpx.get(f"{url}/healthz").status_code == 200


def test_unexpected_exceptions_are_masked_with_the_request_id_logged(
    gateway: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = gateway.adapters[Provider.DAILY]
    assert isinstance(adapter, DailyAdapter)
    listing = gateway.data(
        "{ meetings(first: 1, filter: {providers: [DAILY]}) { edges { node { id } } } }"
    )
    meeting_id = listing["meetings"]["edges"][0]["node"]["id"]

    async def broken(key: str) -> None:
        raise RuntimeError("secret internals: the database password is hunter2")

    # A deliberate bug inside the running gateway, to see what a client is told.
    original = adapter.get_meeting
    adapter.get_meeting = broken  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.ERROR, logger="meetingmesh.graphql"):
            response = gateway.post(
                "query($id: ID!) { node(id: $id) { id } }",
                {"id": meeting_id},
                headers={"X-Request-ID": "bug-report-42"},
            )
    finally:
        adapter.get_meeting = original  # type: ignore[method-assign]
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "bug-report-42"}
    assert "hunter2" not in response.text
    logged = [r for r in caplog.records if "bug-report-42" in r.getMessage()]
    assert logged and logged[0].exc_info is not None
