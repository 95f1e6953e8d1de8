"""The fault matrix: what a client sees when one provider misbehaves.

Each case breaks one simulated provider through its fault controls and asserts that
the other providers' data comes back complete, that the error names the provider and
a code, and that the answer arrives within the request deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.config import Settings
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import Stack

QUERY = "{ meetings(first: 100) { totalCount edges { node { provider } } } }"
PROVIDERS = ("heypeers", "thoughtindustries", "daily")
DAILY_PAGE = "{ meetings(first: 100, filter: {providers: [DAILY]}) { edges { node { id } } } }"
NAMES = {"heypeers": "HEYPEERS", "thoughtindustries": "THOUGHT_INDUSTRIES", "daily": "DAILY"}


def _gateway(
    stack: Stack, serve: Callable[[ASGIApp], str], deadline: float = 3.0, **provider: Any
) -> str:
    base = gateway_settings(stack.sim_url, **provider)
    settings = replace(base, server=replace(base.server, deadline=deadline))
    return serve(create_app(settings, clock=Clock().now))


def _ask(url: str, query: str = QUERY) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    answer: dict[str, Any] = httpx.post(f"{url}/graphql", json={"query": query}, timeout=30).json()
    return answer, time.monotonic() - started


def _expected_others(gateway: Stack, broken: str) -> int:
    """How many meetings the healthy providers hold (first 100 of them)."""
    query = (
        "query($p: [Provider!]) { meetings(first: 100, filter: {providers: $p}) { totalCount } }"
    )
    others = [NAMES[p] for p in PROVIDERS if p != broken]
    total: int = gateway.data(query, {"p": others})["meetings"]["totalCount"]
    return min(100, total)


@pytest.mark.parametrize(
    ("faults", "code"),
    [
        ({"error_rate": 1, "error_status": 500}, "UPSTREAM_UNAVAILABLE"),
        ({"error_rate": 1, "error_status": 503}, "UPSTREAM_UNAVAILABLE"),
        ({"latency_ms": 2000}, "UPSTREAM_TIMEOUT"),
        ({"hang_rate": 1, "hang_seconds": 10}, "UPSTREAM_TIMEOUT"),
        ({"error_rate": 1, "error_status": 429, "retry_after": 0}, "UPSTREAM_RATE_LIMITED"),
        ({"malformed_rate": 1}, "UPSTREAM_BAD_RESPONSE"),
    ],
    ids=["down", "unavailable", "slow", "hanging", "rate-limited", "malformed"],
)
@pytest.mark.parametrize("broken", PROVIDERS)
def test_one_broken_provider_leaves_the_others_complete_within_the_deadline(
    gateway: Stack,
    serve: Callable[[ASGIApp], str],
    broken: str,
    faults: dict[str, float],
    code: str,
) -> None:
    expected = _expected_others(gateway, broken)
    url = _gateway(gateway, serve, deadline=3.0, timeout=0.5)
    gateway.fault(broken, **faults)
    answer, elapsed = _ask(url)
    edges = answer["data"]["meetings"]["edges"]
    assert {e["node"]["provider"] for e in edges} <= {NAMES[p] for p in PROVIDERS} - {NAMES[broken]}
    assert len(edges) == expected
    assert [e["extensions"] for e in answer["errors"]] == [
        {"code": code, "provider": NAMES[broken]}
    ]
    assert elapsed < 3.0 + 0.5


#: Every total the merged list reports, and the meetings of its first page. The bound
#: inside a minute makes HeyPeers' and Thought Industries' totals cost calls of their own.
COMPLETE = """query($p: [Provider!]) {
  meetings(first: 100, filter: {providers: $p, startsAfter: "2026-01-01T00:00:30Z"}) {
    totalCount aggregations { key buckets { value count } }
    edges { node { id provider startTime } }
  }
}"""
STATUS = "{ providers { provider healthy lastError } }"


def _complete(url: str, providers: list[str] | None = None) -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/graphql", json={"query": COMPLETE, "variables": {"p": providers}}, timeout=30
    ).json()
    return answer  # type: ignore[no-any-return]


def _unwell(url: str) -> list[str]:
    answer = httpx.post(f"{url}/graphql", json={"query": STATUS}, timeout=30).json()
    return [p["provider"] for p in answer["data"]["providers"] if not p["healthy"]]


@pytest.mark.parametrize(
    ("faults", "settings", "code"),
    [
        # Each attempt may take 1.5 s: a second one would run to the 2 s deadline.
        (
            {"hang_rate": 1, "hang_seconds": 10},
            {"deadline": 2.0, "timeout": 1.5, "retries": 2},
            "UPSTREAM_TIMEOUT",
        ),
        # Retry-After 1 s, twice: the third attempt would come just before the deadline
        # (Daily sends no Retry-After: its client backs off on its own, briefly).
        (
            {"error_rate": 1, "error_status": 429, "retry_after": 1},
            {"deadline": 2.1, "timeout": 1.0, "retries": 2},
            "UPSTREAM_RATE_LIMITED",
        ),
    ],
    ids=["hanging", "rate-limited"],
)
@pytest.mark.parametrize("slow", PROVIDERS)
def test_a_slow_provider_costs_only_its_own_meetings_and_total(
    gateway: Stack,
    serve: Callable[[ASGIApp], str],
    slow: str,
    faults: dict[str, float],
    settings: dict[str, float],
    code: str,
) -> None:
    others = [NAMES[p] for p in PROVIDERS if p != slow]
    expected = gateway.data(COMPLETE, {"p": others})["meetings"]
    url = _gateway(gateway, serve, **settings)
    gateway.fault(slow, **faults)
    for healthy in PROVIDERS:
        if healthy != slow:
            gateway.fault(healthy, latency_ms=200)  # answering as fast as real providers do
    answer = _complete(url)
    assert answer["data"]["meetings"] == expected
    assert [e["extensions"] for e in answer["errors"]] == [{"code": code, "provider": NAMES[slow]}]
    assert _unwell(url) == [NAMES[slow]]


def test_the_page_after_a_dropped_provider_resumes_it_where_the_cursor_stands(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    page = """query($after: String) { meetings(first: 10, after: $after) {
      pageInfo { endCursor } edges { node { id } } } }"""
    everything = [e["node"]["id"] for e in gateway.data(COMPLETE)["meetings"]["edges"]]
    url = _gateway(gateway, serve, deadline=2.0, timeout=1.5, retries=0)
    gateway.fault("daily", hang_rate=1, hang_seconds=10)
    first = httpx.post(f"{url}/graphql", json={"query": page}, timeout=30).json()
    assert first["errors"][0]["extensions"]["provider"] == "DAILY"
    gateway.fault("daily")
    cursor = first["data"]["meetings"]["pageInfo"]["endCursor"]
    second = httpx.post(
        f"{url}/graphql", json={"query": page, "variables": {"after": cursor}}, timeout=30
    ).json()
    assert "errors" not in second
    # Daily was not taken for ended: it comes back, from the cursor's place in the order.
    last = everything.index(first["data"]["meetings"]["edges"][-1]["node"]["id"])
    assert [e["node"]["id"] for e in second["data"]["meetings"]["edges"]] == everything[
        last + 1 : last + 11
    ]


#: Root fields that each depend on one provider, and nested lists of one provider.
MIXED = """{
  heypeers: meetings(first: 3, filter: {providers: [HEYPEERS]}) { edges { node { id } } }
  ti: meetings(first: 3, filter: {providers: [THOUGHT_INDUSTRIES]}) {
    edges { node { id course { title } attendees(first: 1) { totalCount } } } }
  daily: meetings(first: 3, filter: {providers: [DAILY]}) {
    edges { node { id attendees(first: 1) { totalCount } } } }
  member(provider: HEYPEERS, id: "sso-user-abc123") { id upcomingMeetings(first: 2) { totalCount } }
  schedulingLinks(first: 2) {
    edges { node { slug availability(timezone: "UTC") { start } } } }
  schedulingLink(slug: "menelson") { slug bookingInfo(timezone: "UTC") { linkId } }
}"""
#: The root fields of ``MIXED`` each provider's data is in.
FIELDS_OF = {
    "heypeers": ("heypeers", "member"),
    "thoughtindustries": ("ti",),
    "daily": ("daily",),
    "hubspot": ("schedulingLinks", "schedulingLink"),
}


@pytest.mark.parametrize("broken", list(FIELDS_OF))
def test_a_query_across_providers_keeps_every_other_providers_fields(
    gateway: Stack, serve: Callable[[ASGIApp], str], broken: str
) -> None:
    healthy = gateway.data(MIXED)
    url = _gateway(gateway, serve)
    gateway.fault(broken, error_rate=1, error_status=500)
    answer, _ = _ask(url, MIXED)
    assert answer["data"] is not None
    for provider, fields in FIELDS_OF.items():
        if provider != broken:
            for name in fields:
                assert answer["data"][name] == healthy[name], name
    culprit = {"hubspot": "HUBSPOT", **NAMES}[broken]
    assert {e["extensions"]["provider"] for e in answer["errors"]} == {culprit}


def test_retries_honour_retry_after_then_give_up_as_rate_limited(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _gateway(gateway, serve, deadline=5.0, retries=2)
    gateway.fault("thoughtindustries", error_rate=1, error_status=429, retry_after=1)
    answer, elapsed = _ask(
        url, "{ meetings(first: 5, filter: {providers: [THOUGHT_INDUSTRIES]}) { totalCount } }"
    )
    assert answer["errors"][0]["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert gateway.calls("thoughtindustries") == 3
    assert elapsed >= 2.0  # two waits of the provider's Retry-After: 1 second each


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _gateway(gateway, serve, deadline=1.0, retries=2)
    gateway.fault("thoughtindustries", error_rate=1, error_status=429, retry_after=30)
    answer, elapsed = _ask(
        url, "{ meetings(first: 5, filter: {providers: [THOUGHT_INDUSTRIES]}) { totalCount } }"
    )
    assert answer["errors"][0]["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert gateway.calls("thoughtindustries") == 1
    assert elapsed < 1.0


def test_a_flapping_provider_is_ridden_out_by_retries(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    expected = gateway.data(DAILY_PAGE)
    url = _gateway(gateway, serve, retries=3)
    gateway.fault("daily", error_rate=0.5, error_status=503, seed=7)
    answer, _ = _ask(url, DAILY_PAGE)
    assert "errors" not in answer
    assert answer["data"] == expected
    assert gateway.calls("daily") > 2  # some attempts failed and were retried


def test_500_is_not_retried(gateway: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _gateway(gateway, serve, retries=3)
    gateway.fault("daily", error_rate=1, error_status=500)
    _ask(url, "{ meetings(first: 5, filter: {providers: [DAILY]}) { totalCount } }")
    assert gateway.calls("daily") == 1


def test_a_booking_is_never_retried(gateway: Stack, serve: Callable[[ASGIApp], str]) -> None:
    url = _gateway(gateway, serve, retries=3)
    gateway.fault("hubspot", error_rate=1, error_status=503)
    answer, _ = _ask(
        url,
        'mutation { bookMeeting(input: {slug: "menelson", firstName: "A", lastName: "B", '
        'email: "a@example.com", startTime: "2026-05-26T14:00:00Z", durationMinutes: 30, '
        'timezone: "America/New_York"}) { booking { start } } }',
    )
    assert answer["errors"][0]["extensions"] == {
        "code": "UPSTREAM_UNAVAILABLE",
        "provider": "HUBSPOT",
    }
    assert gateway.calls("hubspot", "POST /scheduler/v3/meetings/meeting-links/book") == 1


def _daily_status(url: str) -> dict[str, Any]:
    status = "{ providers { provider healthy lastError } }"
    answer = _ask(url, status)[0]["data"]["providers"]
    return next(p for p in answer if p["provider"] == "DAILY")


def _until(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Poll ``condition`` (bounded); True once it holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_the_circuit_opens_fails_fast_and_closes_after_recovery_without_client_traffic(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _gateway(
        gateway, serve, retries=0, breaker_threshold=2, breaker_cooldown=1.0, cache_ttl=0
    )
    daily_only = "{ meetings(first: 5, filter: {providers: [DAILY]}) { totalCount } }"
    gateway.fault("daily", error_rate=1, error_status=503)
    for _ in range(2):
        _ask(url, daily_only)
    assert gateway.calls("daily") == 2
    answer, _ = _ask(url, daily_only)
    assert answer["errors"][0]["extensions"] == {
        "code": "UPSTREAM_UNAVAILABLE",
        "provider": "DAILY",
    }
    assert "circuit open" in answer["errors"][0]["message"]
    assert gateway.calls("daily") == 2  # failed fast: no upstream call while open
    assert _daily_status(url)["healthy"] is False
    assert httpx.get(f"{url}/readyz").status_code == 200  # the other providers serve
    gateway.fault("daily")
    # No client asks Daily any more: the background probe finds it recovered.
    assert _until(lambda: _daily_status(url)["healthy"])
    assert _daily_status(url) == {"provider": "DAILY", "healthy": True, "lastError": None}
    probes = gateway.calls("daily") - 2
    assert 1 <= probes <= 2  # one call per cooldown at most, while the fault was still on
    answer, _ = _ask(url, daily_only)
    assert "errors" not in answer


@pytest.mark.parametrize(
    ("provider", "endpoint", "probe"),
    [
        ("daily", "GET /meetings", {"limit": ["1"]}),
        ("thoughtindustries", "GET /incoming/v2/meetings", {"page": ["1"], "perPage": ["1"]}),
    ],
)
def test_an_unwell_provider_is_probed_with_its_lightest_read(
    gateway: Stack,
    serve: Callable[[ASGIApp], str],
    provider: str,
    endpoint: str,
    probe: dict[str, list[str]],
) -> None:
    """Not the page of 100 meetings that failed: one meeting is enough to tell."""
    url = _gateway(
        gateway, serve, retries=0, breaker_threshold=1, breaker_cooldown=1.0, cache_ttl=0
    )
    page = (
        f"{{ meetings(first: 100, filter: {{providers: [{NAMES[provider]}]}}) {{ totalCount }} }}"
    )
    gateway.fault(provider, error_rate=1, error_status=503)
    assert "errors" in _ask(url, page)[0]
    gateway.fault(provider)
    calls = gateway.calls(provider)

    def healthy() -> bool:
        answer = _ask(url, "{ providers { provider healthy } }")[0]["data"]["providers"]
        return any(p["healthy"] for p in answer if p["provider"] == NAMES[provider])

    assert _until(healthy)
    assert gateway.calls(provider) == calls + 1  # the probe, and nothing else
    assert gateway.last_params(provider, endpoint) == probe


def test_the_gateway_is_unready_only_while_no_provider_can_serve(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = _gateway(
        gateway, serve, retries=0, breaker_threshold=1, breaker_cooldown=1.0, cache_ttl=0
    )
    for provider in (*PROVIDERS, "hubspot"):
        gateway.fault(provider, error_rate=1, error_status=503)
    _ask(url, '{ meetings(first: 5) { totalCount } schedulingLink(slug: "menelson") { name } }')
    refused = httpx.get(f"{url}/readyz")
    assert refused.status_code == 503
    assert refused.json() == {
        "status": "unavailable",
        "providers": {"usable": 0, "configured": 4},
        "reason": "no provider is usable",
    }
    for provider in (*PROVIDERS, "hubspot"):
        gateway.fault(provider)
    assert _until(lambda: httpx.get(f"{url}/readyz").status_code == 200)


def _daily_ids(gateway: Stack) -> list[str]:
    query = "{ meetings(first: 100, filter: {providers: [DAILY]}) { edges { node { id } } } }"
    return [e["node"]["id"] for e in gateway.data(query)["meetings"]["edges"]]


def test_the_gateways_own_rate_limit_never_opens_a_providers_circuit(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    ids = _daily_ids(gateway)
    url = _gateway(gateway, serve, deadline=1.0, rate_limit=5, breaker_threshold=2, cache_ttl=0)
    lookups = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    answer = httpx.post(
        f"{url}/graphql", json={"query": lookups, "variables": {"ids": ids}}, timeout=30
    ).json()
    refused = [e for e in answer["errors"] if "rate limit outlasts the deadline" in e["message"]]
    assert refused, "the client-side rate limit should have refused some lookups"
    # Daily itself answered every call it got: its circuit stays closed for everyone.
    status = "{ providers { provider healthy lastError } }"
    daily = next(p for p in _ask(url, status)[0]["data"]["providers"] if p["provider"] == "DAILY")
    assert daily == {"provider": "DAILY", "healthy": True, "lastError": None}
    answer, _ = _ask(url, "{ meetings(first: 5, filter: {providers: [DAILY]}) { totalCount } }")
    assert "errors" not in answer


def test_calls_beyond_the_requests_budget_are_refused_before_they_are_sent(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    base = gateway_settings(gateway.sim_url)
    server = replace(base.server, max_upstream_calls=2)
    url = serve(create_app(Settings(server=server, providers=base.providers), clock=Clock().now))
    # Estimated at one call (one list), the merge asks three providers.
    answer, _ = _ask(url, "{ meetings(first: 5) { totalCount } }")
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"QUERY_TOO_COMPLEX"}
    assert all("made its 2 upstream calls" in e["message"] for e in answer["errors"])
    assert sum(gateway.calls(p) for p in PROVIDERS) == 2
    status = "{ providers { provider healthy } }"
    assert all(p["healthy"] for p in _ask(url, status)[0]["data"]["providers"])
