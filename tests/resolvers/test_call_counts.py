"""Proof by counting: canonical queries and the exact upstream calls they cost.

The simulators count every request they answer, so these figures are exact. The
README's table of canonical queries quotes them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Stack, running_stack

LISTS = ("heypeers", "thoughtindustries", "daily")
HEYPEERS_EXPORT = "GET /api/v2/organizations/{org_id}/export_meetings"
DAILY_LIST = "GET /meetings"
DAILY_ONE = "GET /meetings/{meeting_id}"
DAILY_PARTICIPANTS = "GET /meetings/{meeting_id}/participants"

FULL_PAGE = """{ meetings(first: 20) {
  totalCount
  edges { node {
    id title startTime
    course { title slug }
    hosts { name }
    attendees { totalCount edges { node { name } } }
  } }
} }"""
BARE_PAGE = "{ meetings(first: 20) { edges { node { id title startTime } } } }"


def _calls(gateway: Stack) -> dict[str, int]:
    return {p: gateway.calls(p) for p in (*LISTS, "hubspot")}


def test_first_twenty_with_course_hosts_and_attendees_cost_one_call_per_provider(
    gateway: Stack,
) -> None:
    data = gateway.data(FULL_PAGE)
    assert len(data["meetings"]["edges"]) == 20
    assert _calls(gateway) == {"heypeers": 1, "thoughtindustries": 1, "daily": 1, "hubspot": 0}


def test_the_same_page_without_nested_fields_asks_for_no_attendees(gateway: Stack) -> None:
    gateway.data(BARE_PAGE)
    assert _calls(gateway) == {"heypeers": 1, "thoughtindustries": 1, "daily": 1, "hubspot": 0}
    assert gateway.last_params("daily", DAILY_LIST)["no_participants"] == ["true"]
    assert gateway.calls("daily", DAILY_PARTICIPANTS) == 0
    # Only the columns the key needs: no attendee, price or description columns.
    assert gateway.last_params("heypeers", HEYPEERS_EXPORT)["column[]"] == [
        "name",
        "start_time",
        "group_leader_id",
    ]


def test_selected_fields_choose_the_heypeers_columns(gateway: Stack) -> None:
    gateway.data(
        """{ meetings(first: 5, filter: {providers: [HEYPEERS]}) {
             edges { node { title capacity description } } } }"""
    )
    assert gateway.last_params("heypeers", HEYPEERS_EXPORT)["column[]"] == [
        "name",
        "start_time",
        "max_attendees",
        "meeting_description",
        "group_leader_id",
    ]


def test_selecting_attendees_asks_daily_for_participants_in_the_list(gateway: Stack) -> None:
    gateway.data(FULL_PAGE)
    assert "no_participants" not in gateway.last_params("daily", DAILY_LIST)
    assert gateway.calls("daily", DAILY_PARTICIPANTS) == 0


def test_twenty_node_lookups_of_ten_sessions_cost_ten_concurrent_calls(gateway: Stack) -> None:
    listing = gateway.data(
        """{ meetings(first: 10, filter: {providers: [DAILY], room: "standup"}) {
             edges { node { id } } } }"""
    )
    ids = [e["node"]["id"] for e in listing["meetings"]["edges"]]
    assert len(ids) == 10
    aliases = " ".join(
        f'n{i}: node(id: "{global_id}") {{ ... on Meeting {{ id title }} }}'
        for i, global_id in enumerate(ids + ids)
    )
    gateway.fault("daily", latency_ms=100)
    for provider in LISTS:
        gateway.http.delete(f"{gateway.provider_url(provider)}/_sim/stats")
    data = gateway.data(f"{{ {aliases} }}")
    assert [data[f"n{i}"]["id"] for i in range(20)] == ids + ids
    assert gateway.calls("daily") == gateway.calls("daily", DAILY_ONE) == 10
    stats = gateway.http.get(f"{gateway.provider_url('daily')}/_sim/stats").json()
    assert stats["endpoints"][DAILY_ONE]["peak_in_flight"] > 1


def test_course_lookups_are_deduplicated(gateway: Stack) -> None:
    course = "Q291cnNlOnRob3VnaHRpbmR1c3RyaWVzOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA"
    aliases = " ".join(f'c{i}: node(id: "{course}") {{ id }}' for i in range(5))
    gateway.data(f"{{ {aliases} }}")
    assert gateway.calls("thoughtindustries") == 1


@pytest.fixture(scope="module")
def large() -> Iterator[Stack]:
    """A world with 400 meetings per provider, enough for a 1,000-meeting walk."""
    with running_stack(seed=3, size=400, timeout=60) as running:
        yield running


PAGE_QUERY = """query($after: String) {
  meetings(first: 50, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { provider title } }
  }
}"""


def test_paging_a_thousand_merged_meetings_costs_the_provider_pages_they_span(
    large: Stack,
) -> None:
    seen: list[dict[str, Any]] = []
    after = None
    for _ in range(20):
        page = large.data(PAGE_QUERY, {"after": after})["meetings"]
        seen += [e["node"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 1000
    per_provider = Counter(n["provider"] for n in seen)
    # Each provider's page size is the gateway page plus one (Daily: plus two, for the tie
    # held back at a page's end; Thought Industries: its 100, as it honours perPage=100).
    page_sizes = {"HEYPEERS": 51, "THOUGHT_INDUSTRIES": 100, "DAILY": 52}
    spanned = sum(math.ceil(per_provider[p] / size) for p, size in page_sizes.items())
    calls = sum(large.calls(p) for p in LISTS)
    assert spanned <= calls <= math.floor(spanned * 1.1), (calls, spanned, per_provider)


@pytest.fixture(scope="module")
def long_list() -> Iterator[Stack]:
    """5,000 Thought Industries meetings: 50 pages of 100, with no time filter upstream."""
    with running_stack(seed=0, size=5000, timeout=60) as running:
        yield running


FROM_A_START = """query($after: DateTime!) {
  meetings(first: 20, filter: {providers: [THOUGHT_INDUSTRIES], startsAfter: $after}) {
    totalCount edges { node { startTime } }
  }
}"""


def test_a_start_bound_costs_a_few_thought_industries_calls_and_the_next_day_one(
    long_list: Stack,
) -> None:
    """No time filter upstream: the page is searched for, then found from what was read."""
    harness = long_list.sims.harnesses["thoughtindustries"]
    harness.stats.reset()
    cold = long_list.data(FROM_A_START, {"after": "2026-04-22T12:00:00Z"})["meetings"]
    # Page 1 and the last (the list's span), then a few probes: a binary search over 50
    # pages alone reads 6, and the count's search read as many again before.
    assert long_list.calls("thoughtindustries") <= 6
    assert all(e["node"]["startTime"] >= "2026-04-22T12:00:00" for e in cold["edges"])
    harness.stats.reset()
    long_list.data(FROM_A_START, {"after": "2026-04-23T12:00:00Z"})
    assert long_list.calls("thoughtindustries") == 1


GROWTH_PAGE = """query($from: DateTime!) {
  meetings(first: 20, filter: {startsAfter: $from}) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id title startTime course { title } hosts { name } } }
  }
}"""
#: Issue 15's cost-growth cases (``benchmarks/growth.py``): 30 days before the
#: simulators' now, the same again, then the next day; upstream calls per list provider.
GROWTH_CASES = (
    ("cold", "2026-04-22T12:00:00Z"),
    ("warm, same", "2026-04-22T12:00:00Z"),
    ("warm, next day", "2026-04-23T12:00:00Z"),
)
GROWTH_CALLS = {
    # Thought Industries, 10 pages: page 1, whose density puts the bound within a few
    # pages, then the page it falls on; HeyPeers and Daily filter by time themselves.
    1000: {
        "cold": {"heypeers": 1, "thoughtindustries": 3, "daily": 1},
        "warm, same": {"heypeers": 0, "thoughtindustries": 0, "daily": 0},
        "warm, next day": {"heypeers": 1, "thoughtindustries": 0, "daily": 1},
    },
    # 100 pages: page 1, the last (the span), two probes (31, then 34, where the bound
    # is, 9 meetings from its end) and page 35 for the rest of the 21 read ahead. The
    # next day falls on page 35, read already.
    10000: {
        "cold": {"heypeers": 1, "thoughtindustries": 5, "daily": 1},
        "warm, same": {"heypeers": 0, "thoughtindustries": 0, "daily": 0},
        "warm, next day": {"heypeers": 1, "thoughtindustries": 0, "daily": 1},
    },
}


@pytest.mark.parametrize("size", sorted(GROWTH_CALLS))
def test_the_merged_page_from_a_start_costs_what_the_growth_benchmark_prints(size: int) -> None:
    # The simulators' default now is the benchmark's.
    with running_stack(seed=0, size=size, timeout=60) as stack:
        for case, start in GROWTH_CASES:
            for harness in stack.sims.harnesses.values():
                harness.stats.reset()
            page = stack.data(GROWTH_PAGE, {"from": start})["meetings"]
            assert len(page["edges"]) == 20
            assert all(e["node"]["startTime"] >= start[:19] for e in page["edges"])
            assert {p: stack.calls(p) for p in LISTS} == GROWTH_CALLS[size][case], case
