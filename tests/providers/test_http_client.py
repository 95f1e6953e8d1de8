"""The upstream client on its own, over real HTTP to a simulator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers import daily
from meetingmesh.providers.http import UpstreamClient, segments
from meetingmesh.providers.paging import anchor_holds
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import Stack


def _client(stack: Stack, http: httpx.AsyncClient) -> UpstreamClient:
    settings = gateway_settings(stack.sim_url).providers[Provider.DAILY]
    return UpstreamClient(settings, http, daily.read_message)


def test_a_cancelled_caller_does_not_cancel_the_others_sharing_its_request(gateway: Stack) -> None:
    gateway.fault("daily", latency_ms=200)

    async def scenario() -> object:
        async with httpx.AsyncClient() as http:
            client = _client(gateway, http)
            first = asyncio.ensure_future(client.get("/meetings", {"limit": "1"}))
            second = asyncio.ensure_future(client.get("/meetings", {"limit": "1"}))
            await asyncio.sleep(0.05)
            first.cancel()
            return await second

    answer = asyncio.run(scenario())
    assert isinstance(answer, dict)
    assert answer["total_count"] > 0
    assert gateway.calls("daily") == 1


def test_an_answer_in_flight_during_a_clear_is_not_cached(gateway: Stack) -> None:
    gateway.fault("daily", latency_ms=200)

    async def scenario() -> None:
        async with httpx.AsyncClient() as http:
            client = _client(gateway, http)
            pending = asyncio.ensure_future(client.get("/meetings", {"limit": "1"}))
            await asyncio.sleep(0.05)
            client.clear_cache()  # a booking changed things while the answer was on its way
            await pending
            await client.get("/meetings", {"limit": "1"})

    asyncio.run(scenario())
    assert gateway.calls("daily") == 2


T0 = datetime(2026, 5, 22, tzinfo=UTC)


def _at(*minutes: int) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in minutes]


def _holds(next_minute: int, page_before: list[datetime] | None = None) -> bool:
    """Does page 3 (minutes 10 and 20) still hold a walk whose next meeting is at that minute?"""

    async def neighbour(page: int) -> list[datetime]:
        assert page == 2 and page_before is not None, "no look at the page before expected"
        return page_before

    return asyncio.run(
        anchor_holds(
            3,
            _at(10, 20),
            ascending=True,
            next_start=T0 + timedelta(minutes=next_minute),
            is_last=False,
            neighbour=neighbour,
        )
    )


def test_an_anchored_page_holds_when_it_reaches_back_before_the_next_meeting() -> None:
    assert _holds(15)


def test_an_anchored_page_is_stale_when_a_tie_moved_to_the_page_before() -> None:
    # The page before now ends with a meeting of the tie at minute 10.
    assert not _holds(10, page_before=_at(5, 10))


def test_an_anchored_page_starting_the_tie_holds_when_the_page_before_ends_earlier() -> None:
    assert _holds(10, page_before=_at(5, 8))


def test_an_anchored_page_starting_after_the_next_meeting_is_stale() -> None:
    assert not _holds(5)


def test_one_status_rule_for_health_usability_and_the_problem_shown() -> None:
    from meetingmesh.providers.breaker import CircuitState
    from meetingmesh.providers.http import ProviderStatus

    fine = ProviderStatus(CircuitState.CLOSED, None)
    refused = ProviderStatus(CircuitState.CLOSED, "Daily answered 401")
    down = ProviderStatus(CircuitState.OPEN, None)
    probing = ProviderStatus(CircuitState.HALF_OPEN, "Daily answered 503")
    assert [s.healthy for s in (fine, refused, down, probing)] == [True, False, False, False]
    assert [s.usable for s in (fine, refused, down, probing)] == [True, True, False, False]
    assert [s.problem for s in (fine, refused, down, probing)] == [
        None,
        "Daily answered 401",
        "circuit open",
        "Daily answered 503",
    ]


def test_a_slashed_value_keeps_its_slashes_and_encodes_the_rest() -> None:
    assert segments("sales/round-robin", "slug") == "sales/round-robin"
    assert segments("a b/c%2Fd?", "slug") == "a%20b/c%252Fd%3F"


@pytest.mark.parametrize("value", ["a/../b", "..", "a/./b", "/a", "a/", "a//b", ""])
def test_a_slashed_value_with_an_empty_dot_or_dot_dot_part_is_refused(value: str) -> None:
    with pytest.raises(GatewayError) as raised:
        segments(value, "slug")
    assert raised.value.code is ErrorCode.BAD_USER_INPUT
