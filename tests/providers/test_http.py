"""Provider failures as the client sees them: one error code per failure, others' data kept."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.config import ProviderSettings, Settings
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import Stack

QUERY = "{ meetings(first: 100) { totalCount edges { node { provider } } } }"


def _failure(gateway: Stack) -> tuple[set[str], list[dict[str, object]]]:
    answer = gateway.query(QUERY)
    providers = {e["node"]["provider"] for e in answer["data"]["meetings"]["edges"]}
    return providers, answer.get("errors", [])


@pytest.mark.parametrize(
    ("provider", "status", "code"),
    [
        ("daily", 401, "UPSTREAM_UNAUTHORIZED"),
        ("daily", 403, "UPSTREAM_UNAUTHORIZED"),
        ("heypeers", 401, "UPSTREAM_UNAUTHORIZED"),
        ("thoughtindustries", 429, "UPSTREAM_RATE_LIMITED"),
        ("heypeers", 404, "UPSTREAM_NOT_FOUND"),
        ("thoughtindustries", 502, "UPSTREAM_UNAVAILABLE"),
        ("daily", 503, "UPSTREAM_UNAVAILABLE"),
    ],
)
def test_upstream_status_maps_to_its_code(
    gateway: Stack, provider: str, status: int, code: str
) -> None:
    gateway.fault(provider, error_rate=1, error_status=status)
    providers, errors = _failure(gateway)
    name = {"daily": "DAILY", "heypeers": "HEYPEERS", "thoughtindustries": "THOUGHT_INDUSTRIES"}
    assert providers == set(name.values()) - {name[provider]}
    assert [e["extensions"] for e in errors] == [{"code": code, "provider": name[provider]}]


def test_malformed_json_is_bad_response(gateway: Stack) -> None:
    gateway.fault("thoughtindustries", malformed_rate=1)
    providers, errors = _failure(gateway)
    assert providers == {"HEYPEERS", "DAILY"}
    assert errors[0]["extensions"] == {
        "code": "UPSTREAM_BAD_RESPONSE",
        "provider": "THOUGHT_INDUSTRIES",
    }
    assert errors[0]["message"] == "Thought Industries answered with invalid JSON"


def test_provider_status_reports_the_last_failure_and_recovers(gateway: Stack) -> None:
    status_query = "{ providers { provider configured healthy lastError } }"
    gateway.fault("daily", error_rate=1, error_status=503)
    gateway.query(QUERY)
    statuses = {s["provider"]: s for s in gateway.data(status_query)["providers"]}
    assert statuses["DAILY"]["healthy"] is False
    assert statuses["DAILY"]["lastError"].startswith("Daily answered 503")
    # One unwell provider leaves the gateway ready: its answers are partial by design.
    readiness = gateway.http.get(gateway.gateway_url + "/readyz")
    assert readiness.status_code == 200
    assert readiness.json() == {"status": "ready", "providers": {"usable": 4, "configured": 4}}
    gateway.fault("daily")
    gateway.query(QUERY)
    statuses = {s["provider"]: s for s in gateway.data(status_query)["providers"]}
    assert statuses["DAILY"] == {
        "provider": "DAILY",
        "configured": True,
        "healthy": True,
        "lastError": None,
    }
    assert gateway.http.get(gateway.gateway_url + "/readyz").status_code == 200


def test_hanging_provider_times_out_and_the_rest_answers(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    settings = gateway_settings(gateway.sim_url)
    providers = dict(settings.providers)
    for provider, section in providers.items():
        providers[provider] = ProviderSettings(
            provider=provider,
            base_url=section.base_url,
            token=section.token,
            timeout=0.5,
            organization_id=section.organization_id,
        )
    url = serve(
        create_app(Settings(server=settings.server, providers=providers), clock=Clock().now)
    )
    gateway.fault("daily", hang_rate=1, hang_seconds=5)
    started = time.monotonic()
    answer = httpx.post(f"{url}/graphql", json={"query": QUERY}, timeout=10).json()
    elapsed = time.monotonic() - started
    assert answer["errors"][0]["extensions"] == {"code": "UPSTREAM_TIMEOUT", "provider": "DAILY"}
    assert {e["node"]["provider"] for e in answer["data"]["meetings"]["edges"]} == {
        "HEYPEERS",
        "THOUGHT_INDUSTRIES",
    }
    assert elapsed < 5


def test_unreachable_provider_is_unavailable(serve: Callable[[ASGIApp], str], stack: Stack) -> None:
    settings = gateway_settings(stack.sim_url)
    providers = dict(settings.providers)
    for provider, section in providers.items():
        if provider.value == "daily":
            # A port nothing listens on: the kernel refuses the connection at once.
            providers[provider] = ProviderSettings(
                provider=provider, base_url="http://127.0.0.1:9/v1", token=section.token
            )
    url = serve(create_app(Settings(server=settings.server, providers=providers)))
    answer = httpx.post(f"{url}/graphql", json={"query": QUERY}, timeout=10).json()
    assert answer["errors"][0]["extensions"] == {
        "code": "UPSTREAM_UNAVAILABLE",
        "provider": "DAILY",
    }
    assert answer["errors"][0]["message"] == "Daily could not be reached"


def test_a_repeated_query_is_answered_from_the_upstream_cache(gateway: Stack) -> None:
    first = gateway.query(QUERY)
    calls = {p: gateway.calls(p) for p in ("heypeers", "thoughtindustries", "daily")}
    assert calls == {"heypeers": 1, "thoughtindustries": 1, "daily": 1}
    assert gateway.query(QUERY) == first
    assert {p: gateway.calls(p) for p in calls} == calls


def test_identical_requests_in_flight_together_are_sent_once(gateway: Stack) -> None:
    gateway.fault("daily", latency_ms=100)
    answer = gateway.query(
        "{ a: meetings(first: 5, filter: {providers: [DAILY]}) { edges { node { id } } }"
        "  b: meetings(first: 5, filter: {providers: [DAILY]}) { edges { node { id } } } }"
    )
    assert answer["data"]["a"] == answer["data"]["b"]
    assert gateway.calls("daily") == 1
