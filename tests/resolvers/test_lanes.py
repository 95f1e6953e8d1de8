"""Lanes on their own: each provider's stream read in its own task, within its own budget.

Fake provider streams (no HTTP) under a short request deadline; a stream that "hangs"
sleeps far longer than the deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from meetingmesh.domain import Meeting, MeetingOrder, Provider
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers.base import MeetingStream, MeetingTotals, Positioned
from meetingmesh.providers.deadline import deadline_scope
from meetingmesh.providers.rows import RowProblem, problem_sink, report
from meetingmesh.resolvers.lanes import Lanes
from meetingmesh.resolvers.merge import merge

NOON = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)
HP, TI, DAILY = Provider.HEYPEERS, Provider.THOUGHT_INDUSTRIES, Provider.DAILY
FOREVER = 3600.0


class Fake:
    """A provider stream of meetings an hour apart; it may sleep before one of them."""

    def __init__(
        self,
        provider: Provider,
        count: int,
        *,
        sleep_before: int | None = None,
        pause: float = 0,
        bad_row_before: int | None = None,
    ) -> None:
        self.provider = provider
        self.count = count
        self.sleep_before = sleep_before
        self.pause = pause
        self.bad_row_before = bad_row_before
        self.read = 0

    async def _items(self) -> AsyncIterator[Positioned]:
        for index in range(self.count):
            if index == self.sleep_before:
                await asyncio.sleep(self.pause)
            if index == self.bad_row_before:
                report([_problem(self.provider)])
            self.read += 1
            start = NOON + timedelta(hours=index, minutes=list(Provider).index(self.provider))
            yield Positioned(
                Meeting(self.provider, f"{self.provider.value}-{index}", "t", start_time=start), {}
            )

    def stream(self) -> MeetingStream:
        return MeetingStream(self._items())


def _problem(provider: Provider) -> RowProblem:
    return RowProblem.row(provider, "meeting", "x", "has no start time")


def _run(
    fakes: list[Fake],
    limit: int,
    deadline: float = 5.0,
    counters: dict[Provider, Callable[[], Awaitable[MeetingTotals]]] | None = None,
) -> dict[str, Any]:
    async def page() -> dict[str, Any]:
        failures: dict[Provider, GatewayError] = {}
        with deadline_scope(deadline):
            lanes = Lanes({f.provider: f.stream() for f in fakes}, counters or {}, limit)
            try:
                taken, more = await merge(
                    lanes.streams, MeetingOrder.START_TIME_ASC, limit, failures.__setitem__
                )
                await lanes.stop_reading()
                totals = await lanes.totals(set(failures))
            finally:
                await lanes.close()
        return {
            "keys": [m.meeting.key for m in taken],
            "more": more,
            "failures": failures,
            "totals": totals,
            "resume": [m.resume for m in taken],
        }

    return asyncio.run(page())


def test_without_a_wait_no_lane_reads_further_than_the_merge_asks() -> None:
    fakes = [Fake(HP, 50), Fake(TI, 50), Fake(DAILY, 50)]
    result = _run(fakes, limit=6)
    assert len(result["keys"]) == 6
    # Two of each provider taken, and each provider's next one to know where it resumes.
    assert [f.read for f in fakes] == [3, 3, 3]


def test_a_provider_hanging_on_its_first_meeting_costs_only_its_own_meetings() -> None:
    fakes = [Fake(HP, 50), Fake(TI, 50), Fake(DAILY, 50, sleep_before=0, pause=FOREVER)]
    result = _run(fakes, limit=10, deadline=0.6)
    assert list(result["failures"]) == [DAILY]
    assert result["failures"][DAILY].code is ErrorCode.UPSTREAM_TIMEOUT
    assert result["keys"] == [f"{p.value}-{i}" for i in range(5) for p in (HP, TI)]


def test_while_the_merge_waits_on_one_provider_the_others_read_what_the_page_could_need() -> None:
    fakes = [Fake(HP, 50), Fake(TI, 50), Fake(DAILY, 50, sleep_before=0, pause=FOREVER)]
    _run(fakes, limit=10, deadline=0.6)
    assert [f.read for f in fakes[:2]] == [11, 11]


def test_a_provider_hanging_mid_page_leaves_the_page_in_order_and_resumable_by_key() -> None:
    fakes = [Fake(HP, 50), Fake(DAILY, 50, sleep_before=2, pause=FOREVER)]
    result = _run(fakes, limit=8, deadline=0.6)
    assert list(result["failures"]) == [DAILY]
    assert result["keys"] == [
        "heypeers-0",
        "daily-0",
        "heypeers-1",
        "daily-1",
        "heypeers-2",
        "heypeers-3",
        "heypeers-4",
        "heypeers-5",
    ]
    # From its failure on, Daily resumes by the cursor's key: never marked as ended.
    assert all(DAILY not in point for point in result["resume"][3:])
    assert result["resume"][0][DAILY] is not None


def test_totals_are_counted_while_another_provider_hangs() -> None:
    counted: list[Provider] = []

    async def count() -> MeetingTotals:
        counted.append(TI)
        return MeetingTotals(total_count=50)

    fakes = [Fake(TI, 50), Fake(DAILY, 50, sleep_before=0, pause=FOREVER)]
    result = _run(fakes, limit=5, deadline=0.6, counters={TI: count, DAILY: count})
    assert counted == [TI]
    assert result["totals"] == {TI: MeetingTotals(total_count=50)}


def test_a_count_that_outlasts_the_budget_fails_its_provider_alone() -> None:
    async def slow() -> MeetingTotals:
        await asyncio.sleep(FOREVER)
        raise AssertionError("unreachable")

    async def quick() -> MeetingTotals:
        return MeetingTotals(total_count=50)

    result = _run(
        [Fake(HP, 50), Fake(TI, 50)], limit=5, deadline=0.6, counters={HP: slow, TI: quick}
    )
    assert result["totals"][TI] == MeetingTotals(total_count=50)
    assert isinstance(result["totals"][HP], GatewayError)
    assert result["totals"][HP].code is ErrorCode.UPSTREAM_TIMEOUT
    assert result["totals"][HP].provider is HP


def test_a_request_cancelled_while_a_provider_hangs_stays_cancelled() -> None:
    async def scenario() -> bool:
        fakes = [Fake(HP, 50), Fake(DAILY, 50, sleep_before=0, pause=FOREVER)]

        async def page() -> None:
            with deadline_scope(5.0):
                lanes = Lanes({f.provider: f.stream() for f in fakes}, {}, 10)
                try:
                    await merge(lanes.streams, MeetingOrder.START_TIME_ASC, 10, lambda p, e: None)
                finally:
                    await lanes.close()

        task = asyncio.create_task(page())
        await asyncio.sleep(0.1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return task.cancelled()

    assert asyncio.run(scenario())


def test_row_problems_met_in_a_lane_task_reach_the_sink_of_the_field_that_started_it() -> None:
    """Read-ahead and count tasks run in the field's context, problem sink included."""
    # HeyPeers' ninth meeting is read only ahead: Daily holds the merge up until it fails.
    fakes = [Fake(HP, 50, bad_row_before=8), Fake(DAILY, 50, sleep_before=0, pause=FOREVER)]

    async def count() -> MeetingTotals:
        report([_problem(TI)])
        return MeetingTotals(total_count=50)

    met: list[tuple[RowProblem, str]] = []

    def sink(problem: RowProblem) -> None:
        task = asyncio.current_task()
        assert task is not None
        met.append((problem, task.get_coro().__qualname__))  # type: ignore[union-attr]

    with problem_sink(sink):
        result = _run(fakes, limit=10, deadline=0.6, counters={TI: count})
    assert list(result["failures"]) == [DAILY]
    assert sorted(met, key=lambda m: m[0].provider.value) == [
        (_problem(HP), "Lane._read_ahead"),
        (_problem(TI), "Lane._total_within_budget"),
    ]
