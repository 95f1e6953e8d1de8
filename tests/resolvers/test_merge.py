"""The k-way merge on its own, over fake provider streams (no HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from meetingmesh.domain import Meeting, MeetingOrder, Provider, ResumePoint
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers.base import Positioned
from meetingmesh.resolvers.merge import Merged, merge

NOON = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)
HP, TI, DAILY = Provider.HEYPEERS, Provider.THOUGHT_INDUSTRIES, Provider.DAILY
ASC, DESC = MeetingOrder.START_TIME_ASC, MeetingOrder.START_TIME_DESC


def _at(provider: Provider, key: str, hour: int, page: int = 1) -> Positioned:
    meeting = Meeting(provider, key, key, start_time=NOON + timedelta(hours=hour))
    return Positioned(meeting, {"page": page})


async def _stream(
    items: Sequence[Positioned], fails_after: int | None = None
) -> AsyncIterator[Positioned]:
    """A provider stream; with ``fails_after``, it fails once that many have been read."""
    for index, item in enumerate(items):
        if index == fails_after:
            raise GatewayError(
                ErrorCode.UPSTREAM_UNAVAILABLE, "down", provider=item.meeting.provider
            )
        yield item


class _Run:
    """One merge over fake streams, remembering the failures it reported."""

    def __init__(self) -> None:
        self.failed: list[Provider] = []

    def __call__(
        self,
        streams: Mapping[Provider, AsyncIterator[Positioned]],
        order: MeetingOrder = ASC,
        limit: int = 100,
        ended: frozenset[Provider] = frozenset(),
    ) -> tuple[list[Merged], bool]:
        def fail(provider: Provider, error: GatewayError) -> None:
            self.failed.append(provider)

        return asyncio.run(merge(streams, order, limit, fail, ended))


def _keys(taken: list[Merged]) -> list[str]:
    return [m.meeting.key for m in taken]


def test_meetings_of_every_stream_come_in_start_order() -> None:
    taken, more = _Run()(
        {
            HP: _stream([_at(HP, "hp1", 1), _at(HP, "hp4", 4)]),
            TI: _stream([_at(TI, "ti2", 2), _at(TI, "ti3", 3)]),
            DAILY: _stream([_at(DAILY, "d0", 0), _at(DAILY, "d5", 5)]),
        }
    )
    assert _keys(taken) == ["d0", "hp1", "ti2", "ti3", "hp4", "d5"]
    assert more is False


def test_a_tie_on_the_start_goes_by_provider_then_key() -> None:
    taken, _ = _Run()(
        {
            TI: _stream([_at(TI, "a", 1)]),
            HP: _stream([_at(HP, "b", 1), _at(HP, "c", 1)]),
            DAILY: _stream([_at(DAILY, "z", 1)]),
        }
    )
    assert _keys(taken) == ["z", "b", "c", "a"]


def test_descending_streams_merge_latest_first() -> None:
    taken, _ = _Run()(
        {
            HP: _stream([_at(HP, "hp4", 4), _at(HP, "hp1", 1)]),
            DAILY: _stream([_at(DAILY, "d5", 5), _at(DAILY, "d3", 3), _at(DAILY, "d1", 1)]),
        },
        DESC,
    )
    assert _keys(taken) == ["d5", "hp4", "d3", "hp1", "d1"]


def test_the_limit_stops_the_merge_and_says_more_follow() -> None:
    taken, more = _Run()(
        {
            HP: _stream([_at(HP, "hp1", 1), _at(HP, "hp3", 3)]),
            DAILY: _stream([_at(DAILY, "d2", 2), _at(DAILY, "d4", 4)]),
        },
        limit=2,
    )
    assert _keys(taken) == ["hp1", "d2"]
    assert more is True


def test_a_limit_that_empties_every_stream_exactly_says_nothing_follows() -> None:
    taken, more = _Run()(
        {HP: _stream([_at(HP, "a", 1)]), DAILY: _stream([_at(DAILY, "b", 2)])}, limit=2
    )
    assert _keys(taken) == ["a", "b"]
    assert more is False


def test_the_merge_reads_only_one_meeting_past_the_page_from_each_stream() -> None:
    read: list[str] = []

    async def counted(items: Sequence[Positioned]) -> AsyncIterator[Positioned]:
        for item in items:
            read.append(item.meeting.key)
            yield item

    _Run()({HP: counted([_at(HP, f"hp{h}", h) for h in range(10)])}, limit=3)
    assert read == ["hp0", "hp1", "hp2", "hp3"]


def test_a_stream_failing_at_once_is_reported_and_the_others_still_merge() -> None:
    run = _Run()
    taken, _ = run(
        {
            HP: _stream([_at(HP, "hp1", 1)], fails_after=0),
            DAILY: _stream([_at(DAILY, "d2", 2), _at(DAILY, "d3", 3)]),
        }
    )
    assert _keys(taken) == ["d2", "d3"]
    assert run.failed == [HP]
    assert all(HP not in m.resume for m in taken)


def test_a_stream_failing_midway_keeps_what_it_gave_and_drops_out_of_the_resume_points() -> None:
    run = _Run()
    taken, _ = run(
        {
            HP: _stream([_at(HP, "hp1", 1), _at(HP, "hp4", 4)], fails_after=1),
            DAILY: _stream([_at(DAILY, "d2", 2), _at(DAILY, "d3", 3)]),
        }
    )
    assert _keys(taken) == ["hp1", "d2", "d3"]
    assert run.failed == [HP]
    assert all(HP not in m.resume for m in taken)


def test_each_edge_carries_every_providers_next_meeting_as_its_resume_point() -> None:
    taken, _ = _Run()(
        {
            HP: _stream([_at(HP, "hp1", 1, page=1), _at(HP, "hp3", 3, page=2)]),
            DAILY: _stream([_at(DAILY, "d2", 2, page=7)]),
        }
    )
    first, second, third = taken
    assert first.resume == {
        HP: ResumePoint({"page": 2}, NOON + timedelta(hours=3)),
        DAILY: ResumePoint({"page": 7}, NOON + timedelta(hours=2)),
    }
    assert second.resume == {HP: ResumePoint({"page": 2}, NOON + timedelta(hours=3)), DAILY: None}
    assert third.resume == {HP: None, DAILY: None}


def test_a_stream_known_to_have_ended_stays_ended_in_every_resume_point() -> None:
    taken, _ = _Run()({HP: _stream([_at(HP, "hp1", 1), _at(HP, "hp2", 2)])}, ended=frozenset({TI}))
    assert [m.resume[TI] for m in taken] == [None, None]


def test_no_streams_merge_into_an_empty_page() -> None:
    assert _Run()({}) == ([], False)
