"""Rate limits as the providers publish them: the limiter's arithmetic, then each 429."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.simulators.ratelimit import DAILY, HUBSPOT, THOUGHT_INDUSTRIES, RateLimiter
from meetingmesh.simulators.server import MOUNTS, TOKENS, create_simulators

Serve = Callable[[ASGIApp], str]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def accepted(limiter: RateLimiter, attempts: int, key: str = "k") -> int:
    return sum(limiter.take(key) == 0 for _ in range(attempts))


def test_daily_allows_20_in_one_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(DAILY, clock)
    assert accepted(limiter, 30) == 20
    clock.now += 1.0
    assert accepted(limiter, 30) == 20


def test_daily_never_lets_more_than_20_a_second_or_100_in_five_seconds_through() -> None:
    clock = FakeClock()
    limiter = RateLimiter(DAILY, clock)
    times: list[float] = []
    for _ in range(100):  # ten seconds, asking five times every tenth of a second
        times += [clock.now for _ in range(5) if limiter.take("k") == 0]
        clock.now += 0.1
    for t in times:
        assert sum(t - 1 < u <= t for u in times) <= 20
        assert sum(t - 5 < u <= t for u in times) <= 100
    assert len(times) >= 180


def test_a_refused_request_is_told_how_long_to_wait_and_is_not_counted() -> None:
    clock = FakeClock()
    limiter = RateLimiter(HUBSPOT, clock)
    assert accepted(limiter, 100) == 100
    clock.now += 4.0
    assert limiter.take("k") == pytest.approx(6.0)
    clock.now += 6.0
    assert accepted(limiter, 150) == 100


def test_limits_are_kept_per_key() -> None:
    limiter = RateLimiter(HUBSPOT, FakeClock())
    assert accepted(limiter, 100, "one") == 100
    assert accepted(limiter, 100, "two") == 100


def test_thought_industries_bursts_20_then_refills_at_2_a_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(THOUGHT_INDUSTRIES, clock)
    assert accepted(limiter, 50) == 20
    assert limiter.take("k") == pytest.approx(0.5)
    clock.now += 5.0
    assert accepted(limiter, 50) == 10


def test_thought_industries_allows_at_most_120_in_a_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter(THOUGHT_INDUSTRIES, clock)
    total = 0
    for _ in range(59):
        total += accepted(limiter, 50)
        clock.now += 1.0
    assert total == 120


def test_remaining_counts_down_the_tightest_limit() -> None:
    limiter = RateLimiter(THOUGHT_INDUSTRIES, FakeClock())
    accepted(limiter, 5)
    assert limiter.remaining("k") == 15


# --- over HTTP: each simulator's own 429 ---------------------------------------------------

PROBES = {
    "thoughtindustries": "/incoming/v2/ping",
    "hubspot": "/scheduler/v3/meetings/meeting-links?limit=1",
    "daily": "/meetings?limit=1&no_participants=true",
}
#: The fewest requests each provider lets through before its first 429, however fast.
FLOORS = {"thoughtindustries": 20, "hubspot": 100, "daily": 20}


def until_refused(url: str, provider: str) -> tuple[int, httpx.Response]:
    """Requests answered 200 before the first 429, and that 429 (at most 400 tries)."""
    headers = {"Authorization": f"Bearer {TOKENS[provider]}"}
    with httpx.Client(headers=headers, timeout=10) as http:
        for passed in range(400):
            response = http.get(url + PROBES[provider])
            if response.status_code == 429:
                return passed, response
            assert response.status_code == 200, response.text
    raise AssertionError(f"{provider} never refused 400 quick requests")


@pytest.fixture
def limited(serve: Serve) -> Callable[[str], str]:
    def start(provider: str) -> str:
        url = serve(create_simulators(size=24).app) + MOUNTS[provider]
        assert httpx.put(f"{url}/_sim/behaviour", json={"rate_limits": True}).status_code == 200
        return url

    return start


@pytest.mark.parametrize("provider", sorted(PROBES))
def test_without_the_switch_nothing_is_refused(serve: Serve, provider: str) -> None:
    url = serve(create_simulators(size=24).app) + MOUNTS[provider]
    headers = {"Authorization": f"Bearer {TOKENS[provider]}"}
    with httpx.Client(headers=headers, timeout=10) as http:
        codes = {http.get(url + PROBES[provider]).status_code for _ in range(FLOORS[provider] + 30)}
    assert codes == {200}


def test_daily_answers_429_rate_limit_error_without_headers(limited: Callable[[str], str]) -> None:
    passed, refused = until_refused(limited("daily"), "daily")
    assert passed >= FLOORS["daily"]
    assert refused.json()["error"] == "rate-limit-error"
    assert "retry-after" not in refused.headers


def test_hubspot_answers_429_rate_limits_with_its_headers(limited: Callable[[str], str]) -> None:
    passed, refused = until_refused(limited("hubspot"), "hubspot")
    assert passed >= FLOORS["hubspot"]
    body = refused.json()
    assert (body["category"], body["policyName"]) == ("RATE_LIMITS", "TEN_SECONDLY_ROLLING")
    assert refused.headers["x-hubspot-ratelimit-max"] == "100"
    assert refused.headers["x-hubspot-ratelimit-remaining"] == "0"
    assert int(refused.headers["retry-after"]) >= 1


def test_thought_industries_answers_429_with_retry_after_and_its_headers(
    limited: Callable[[str], str],
) -> None:
    passed, refused = until_refused(limited("thoughtindustries"), "thoughtindustries")
    assert passed >= FLOORS["thoughtindustries"]
    body = refused.json()
    assert body["error"] == "rate_limit_exceeded" and body["message"]
    assert body["retryAfter"] == int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ratelimit-limit"] == "120"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert int(refused.headers["x-ratelimit-reset"]) > 1_700_000_000


def test_thought_industries_headers_count_down_while_limits_are_on(
    limited: Callable[[str], str],
) -> None:
    url = limited("thoughtindustries")
    headers = {"Authorization": f"Bearer {TOKENS['thoughtindustries']}"}
    first = httpx.get(url + PROBES["thoughtindustries"], headers=headers)
    second = httpx.get(url + PROBES["thoughtindustries"], headers=headers)
    assert int(second.headers["x-ratelimit-remaining"]) < 20
    assert int(first.headers["x-ratelimit-remaining"]) <= 19


def test_refused_requests_are_counted_in_the_statistics(limited: Callable[[str], str]) -> None:
    url = limited("daily")
    passed, _ = until_refused(url, "daily")
    assert httpx.get(f"{url}/_sim/stats").json()["total"] == passed + 1
