"""The merged order's building blocks: sort keys and the time bounds."""

from __future__ import annotations

from datetime import UTC, datetime

from meetingmesh.domain import EARLIEST, LATEST, Meeting, Provider, SortKey, start_of

NOON = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)


def _meeting(provider: Provider, key: str, start: datetime | None = NOON) -> Meeting:
    return Meeting(provider=provider, key=key, title=key, start_time=start)


def test_the_earlier_start_sorts_first_whatever_the_provider_and_key() -> None:
    early = SortKey.of(_meeting(Provider.THOUGHT_INDUSTRIES, "zzz", NOON.replace(hour=9)))
    late = SortKey.of(_meeting(Provider.DAILY, "aaa", NOON))
    assert early < late


def test_a_tie_on_the_start_is_broken_by_the_provider_name_then_the_key() -> None:
    keys = [
        SortKey.of(_meeting(Provider.THOUGHT_INDUSTRIES, "a")),
        SortKey.of(_meeting(Provider.HEYPEERS, "b")),
        SortKey.of(_meeting(Provider.DAILY, "b")),
        SortKey.of(_meeting(Provider.DAILY, "a")),
    ]
    assert [(k.provider, k.key) for k in sorted(keys)] == [
        ("daily", "a"),
        ("daily", "b"),
        ("heypeers", "b"),
        ("thoughtindustries", "a"),
    ]


def test_sorted_in_reverse_the_keys_give_the_descending_order() -> None:
    keys = [SortKey.of(_meeting(Provider.DAILY, k)) for k in ("b", "c", "a")]
    assert [k.key for k in sorted(keys, reverse=True)] == ["c", "b", "a"]


def test_a_meeting_without_a_start_sorts_as_the_earliest_instant() -> None:
    undated = _meeting(Provider.HEYPEERS, "x", None)
    assert start_of(undated) == EARLIEST
    assert SortKey.of(undated) < SortKey.of(
        _meeting(Provider.DAILY, "a", EARLIEST.replace(second=1))
    )


def test_the_time_bounds_are_aware_and_ordered() -> None:
    assert EARLIEST.tzinfo is not None and LATEST.tzinfo is not None
    assert EARLIEST < NOON < LATEST
