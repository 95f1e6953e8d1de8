"""A provider that repeats its credential in every error never leaks it to anyone.

Tried twice: against a fake provider that echoes its bearer token in every answer, and
against the real simulators with their ``echo_credentials`` switch on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.config import Settings, provider_settings
from meetingmesh.domain import Provider
from meetingmesh.redaction import REDACTED
from meetingmesh.simulators import heypeers as heypeers_sim
from meetingmesh.simulators import hubspot_oauth
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import MOUNTS, create_simulators, gateway_settings
from meetingmesh.simulators.server import TOKENS as SIMULATED_TOKENS
from tests.conftest import MINTED, SECRETS, Stack, capture_response

TOKENS = {
    Provider.HEYPEERS: "echoed-heypeers-5c1d9e",
    Provider.THOUGHT_INDUSTRIES: "echoed-ti-0b7e44",
    Provider.HUBSPOT: "echoed-hubspot-a91f20",
    Provider.DAILY: "echoed-daily-3e8c6b",
}
SECRETS.update(TOKENS.values())
#: The real simulators, with their ``echo_credentials`` switch on.
SIMULATED = tuple(SIMULATED_TOKENS)
NAMES = {
    "heypeers": "HEYPEERS",
    "thoughtindustries": "THOUGHT_INDUSTRIES",
    "hubspot": "HUBSPOT",
    "daily": "DAILY",
}


def _echoing_provider() -> Starlette:
    """Answers everything with an error that quotes the bearer token it was sent."""

    async def echo(request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        said = f"the token {token} is not allowed here"
        if request.method == "POST":  # HubSpot's booking: a validation error per field
            body = {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": said,
                "errors": [{"message": f"{token} may not book", "in": "email"}],
            }
            return JSONResponse(body, status_code=400)
        body = {"error": said, "info": said, "message": said, "errors": [{"message": said}]}
        return JSONResponse(body, status_code=503)

    return Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])


def _gateway(serve: Callable[[ASGIApp], str]) -> str:
    upstream = serve(_echoing_provider())
    providers = {
        p: provider_settings(p, upstream, token, retries=0, organization_id=5)
        if p is Provider.HEYPEERS
        else provider_settings(p, upstream, token, retries=0)
        for p, token in TOKENS.items()
    }
    return serve(create_app(Settings(providers=providers)))


def _leaks(text: str) -> list[str]:
    return [token for token in TOKENS.values() if token in text]


def test_echoed_tokens_are_redacted_from_errors_status_readiness_and_logs(
    serve: Callable[[ASGIApp], str], caplog: pytest.LogCaptureFixture
) -> None:
    url = _gateway(serve)
    query = '{ meetings(first: 5) { totalCount } schedulingLink(slug: "menelson") { name } }'
    with caplog.at_level(logging.INFO, logger="meetingmesh"):
        answer = httpx.post(f"{url}/graphql", json={"query": query})
        status = httpx.post(f"{url}/graphql", json={"query": "{ providers { lastError } }"})
        readiness = httpx.get(f"{url}/readyz")
    for text in (answer.text, status.text, readiness.text):
        assert _leaks(text) == []
    assert _leaks("\n".join(r.getMessage() for r in caplog.records)) == []
    messages = [e["message"] for e in answer.json()["errors"]]
    assert len(messages) == 4
    assert all(f"the token {REDACTED} is not allowed" in m for m in messages), messages
    statuses = status.json()["data"]["providers"]
    assert all(REDACTED in s["lastError"] for s in statuses), statuses


def test_echoed_tokens_are_redacted_from_a_refused_bookings_field_errors(
    serve: Callable[[ASGIApp], str],
) -> None:
    url = _gateway(serve)
    booking = (
        'mutation { bookMeeting(input: {slug: "menelson", firstName: "A", lastName: "B", '
        'email: "a@example.com", startTime: "2030-06-01T14:00:00Z", durationMinutes: 30, '
        'timezone: "UTC"}) { booking { start } } }'
    )
    answer = httpx.post(f"{url}/graphql", json={"query": booking})
    assert _leaks(answer.text) == []
    error = answer.json()["errors"][0]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "provider": "HUBSPOT",
        "field": "email",
    }
    assert error["message"] == f"HubSpot refused the booking: {REDACTED} may not book"


def test_configured_secrets_are_redacted_in_their_url_encoded_form_too() -> None:
    from meetingmesh.redaction import Redactor

    redactor = Redactor()
    redactor.register("a/b+c", "")
    assert redactor.redact("x a/b+c y a%2Fb%2Bc z") == f"x {REDACTED} y {REDACTED} z"
    assert redactor.redact_json({"k": ["a/b+c", 1]}) == {"k": [REDACTED, 1]}


def test_simulators_that_echo_credentials_have_them_redacted_everywhere(
    gateway: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    for provider in SIMULATED:
        url = gateway.provider_url(provider)
        switched = gateway.http.put(f"{url}/_sim/behaviour", json={"echo_credentials": True})
        assert switched.status_code == 200, switched.text
        gateway.fault(provider, error_rate=1, error_status=401)
    with caplog.at_level(logging.INFO, logger="meetingmesh"):
        meetings = gateway.post("{ meetings(first: 5) { totalCount } }")
        links = gateway.post("{ schedulingLinks(first: 2) { edges { node { slug } } } }")
        status = gateway.post("{ providers { provider lastError } }")
        readiness = gateway.http.get(f"{gateway.gateway_url}/readyz")
    texts = [r.text for r in (meetings, links, status, readiness)]
    texts.append("\n".join(r.getMessage() for r in caplog.records))
    assert [t for t in SIMULATED_TOKENS.values() if any(t in text for text in texts)] == []
    errors = meetings.json()["errors"] + links.json()["errors"]
    assert sorted(e["extensions"]["provider"] for e in errors) == sorted(NAMES.values())
    assert all(f"Authorization: Bearer {REDACTED}" in e["message"] for e in errors), errors
    last_errors = {s["provider"]: s["lastError"] for s in status.json()["data"]["providers"]}
    assert all(f"Bearer {REDACTED}" in last_errors[name] for name in NAMES.values()), last_errors


def test_a_booking_refused_by_an_echoing_simulator_has_the_token_redacted(gateway: Stack) -> None:
    hubspot = gateway.provider_url("hubspot")
    gateway.http.put(f"{hubspot}/_sim/behaviour", json={"echo_credentials": True})
    book = "POST /scheduler/v3/meetings/meeting-links/book"
    faults = {"error_rate": 1, "error_status": 401, "endpoint": book}
    assert gateway.http.put(f"{hubspot}/_sim/faults", json=faults).status_code == 200
    booking = (
        'mutation { bookMeeting(input: {slug: "menelson", firstName: "A", lastName: "B", '
        'email: "a@example.com", startTime: "2030-06-01T14:00:00Z", durationMinutes: 30, '
        'timezone: "UTC"}) { booking { start } } }'
    )
    answer = gateway.post(booking)
    assert SIMULATED_TOKENS["hubspot"] not in answer.text
    error = answer.json()["errors"][0]
    assert error["extensions"] == {"code": "UPSTREAM_UNAUTHORIZED", "provider": "HUBSPOT"}
    assert f"Authorization: Bearer {REDACTED}" in error["message"]
    assert gateway.calls("hubspot", book) == 1


def test_tokens_a_renewing_credential_minted_are_redacted_when_echoed(
    serve: Callable[[ASGIApp], str],
) -> None:
    # Simulators of their own: HubSpot's refresh tokens rotate for good.
    clock = Clock()
    sim_url = serve(create_simulators(seed=0, size=24, clock=clock).app)
    settings = gateway_settings(sim_url)
    providers = dict(settings.providers)
    providers[Provider.HEYPEERS] = replace(
        providers[Provider.HEYPEERS], token="", access_key=heypeers_sim.ACCESS_KEY, cache_ttl=0
    )
    providers[Provider.HUBSPOT] = replace(
        providers[Provider.HUBSPOT],
        token="",
        client_id=hubspot_oauth.CLIENT_ID,
        client_secret=hubspot_oauth.CLIENT_SECRET,
        refresh_token=hubspot_oauth.REFRESH_TOKEN,
        cache_ttl=0,
    )
    url = serve(create_app(replace(settings, providers=providers), clock=clock.now))
    heypeers = "{ meetings(first: 1, filter: {providers: [HEYPEERS]}) { totalCount } }"
    links = "{ schedulingLinks(first: 1) { edges { node { slug } } } }"
    with httpx.Client(timeout=30, event_hooks={"response": [capture_response]}) as http:
        for query in (heypeers, links):  # each credential mints its token
            assert "errors" not in http.post(f"{url}/graphql", json={"query": query}).json()
        for provider in ("heypeers", "hubspot"):
            base = sim_url + MOUNTS[provider]
            http.put(f"{base}/_sim/behaviour", json={"echo_credentials": True})
            http.put(f"{base}/_sim/faults", json={"error_rate": 1, "error_status": 503})
        answers = [http.post(f"{url}/graphql", json={"query": q}) for q in (heypeers, links)]
        status = http.post(f"{url}/graphql", json={"query": "{ providers { lastError } }"})
    for answer in answers:
        assert not any(p.search(answer.text) for p in MINTED), answer.text
        assert f"Authorization: Bearer {REDACTED}" in answer.json()["errors"][0]["message"]
    assert not any(p.search(status.text) for p in MINTED), status.text
