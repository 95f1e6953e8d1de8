"""A provider that repeats its credential in every error never leaks it to anyone."""

from __future__ import annotations

import logging
from collections.abc import Callable

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
from tests.conftest import SECRETS

TOKENS = {
    Provider.HEYPEERS: "echoed-heypeers-5c1d9e",
    Provider.THOUGHT_INDUSTRIES: "echoed-ti-0b7e44",
    Provider.HUBSPOT: "echoed-hubspot-a91f20",
    Provider.DAILY: "echoed-daily-3e8c6b",
}
SECRETS.update(TOKENS.values())


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
