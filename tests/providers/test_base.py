"""What every adapter shares, on its own: the parse memo and the meeting query."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from meetingmesh.domain import Meeting, MeetingOrder, Provider, ResumePoint, SortKey
from meetingmesh.providers import daily
from meetingmesh.providers.base import MeetingQuery, ParseMemo
from meetingmesh.providers.daily import DailyAdapter
from meetingmesh.providers.http import UpstreamClient
from meetingmesh.simulators.server import gateway_settings

NOON = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)


class _Parser:
    """A parse function that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, answer: list[int]) -> int:
        self.calls += 1
        return sum(answer)


def test_the_same_answer_object_is_parsed_once() -> None:
    memo, parse = ParseMemo(), _Parser()
    answer = [1, 2, 3]
    assert memo.get(answer, parse) == 6
    assert memo.get(answer, parse) == 6
    assert parse.calls == 1


def test_an_equal_but_new_answer_is_parsed_again() -> None:
    memo, parse = ParseMemo(), _Parser()
    memo.get([1, 2, 3], parse)
    memo.get([1, 2, 3], parse)
    assert parse.calls == 2


def test_the_least_recently_used_answer_is_forgotten_first() -> None:
    memo, parse = ParseMemo(size=2), _Parser()
    first, second, third = [1], [2], [3]
    memo.get(first, parse)
    memo.get(second, parse)
    memo.get(first, parse)  # first is now the most recently used
    memo.get(third, parse)  # evicts second
    assert parse.calls == 3
    memo.get(first, parse)
    assert parse.calls == 3
    memo.get(second, parse)
    assert parse.calls == 4


def test_a_memo_of_size_zero_remembers_nothing() -> None:
    memo, parse = ParseMemo(size=0), _Parser()
    answer = [4]
    memo.get(answer, parse)
    memo.get(answer, parse)
    assert parse.calls == 2


def _meeting(key: str, hour: int) -> Meeting:
    return Meeting(Provider.DAILY, key, key, start_time=NOON + timedelta(hours=hour))


def test_a_query_admits_only_meetings_strictly_after_its_key_in_its_order() -> None:
    key = SortKey.of(_meeting("m", 1))
    ascending = MeetingQuery(after=key)
    descending = MeetingQuery(order=MeetingOrder.START_TIME_DESC, after=key)
    same, later, earlier = _meeting("m", 1), _meeting("a", 2), _meeting("z", 0)
    assert [ascending.admits(m, NOON) for m in (same, later, earlier)] == [False, True, False]
    assert [descending.admits(m, NOON) for m in (same, later, earlier)] == [False, False, True]


def test_a_query_resumes_where_its_resume_point_says_else_at_its_key() -> None:
    key = SortKey.of(_meeting("m", 1))
    later = NOON + timedelta(hours=5)
    assert MeetingQuery(after=key).resume_start() == key.start_time
    assert MeetingQuery(after=key, resume=ResumePoint({"p": 1}, later)).resume_start() == later
    assert MeetingQuery().resume_start() is None
    assert MeetingQuery(after=key, resume=ResumePoint({"p": 1}, later)).plain().anchor is None


def test_without_an_upstream_cache_an_answer_shared_by_coalesced_requests_is_parsed_once() -> None:
    settings = replace(
        gateway_settings("http://127.0.0.1:9").providers[Provider.DAILY], cache_ttl=0
    )
    adapter = DailyAdapter(UpstreamClient(settings, httpx.AsyncClient(), daily.read_message))
    parse, answer = _Parser(), [1, 2]
    for _ in range(3):  # three requests handed the one answer of their shared call
        adapter.memo.get(answer, parse)
    assert parse.calls == 1
