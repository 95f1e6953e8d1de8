"""The merged ``meetings`` connection: one ordered, cursor-paginated list of every provider."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Stack

PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $order: MeetingOrder,
      $filter: MeetingFilter) {
  meetings(first: $first, after: $after, last: $last, before: $before, orderBy: $order,
           filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id provider providerId startTime } }
  }
}
"""


def _walk_forward(gateway: Stack, size: int, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(1000):
        page = gateway.data(PAGE, {"first": size, "after": after, **variables})["meetings"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("did not reach the end")


def _walk_backward(gateway: Stack, size: int, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    before = None
    for _ in range(1000):
        page = gateway.data(PAGE, {"last": size, "before": before, **variables})["meetings"]
        nodes = [e["node"] for e in page["edges"]] + nodes
        if not page["pageInfo"]["hasPreviousPage"]:
            return nodes
        before = page["pageInfo"]["startCursor"]
    raise AssertionError("did not reach the start")


def _upstream_total(gateway: Stack) -> int:
    daily = gateway.upstream("daily", "/meetings", limit=1)["total_count"]
    ti = gateway.upstream("thoughtindustries", "/incoming/v2/meetings")
    heypeers = gateway.upstream(
        "heypeers",
        "/api/v2/organizations/5/export_meetings",
        reporting_days="custom",
        start_time="01/01/1970 12:00 AM",
        end_time="12/31/2999 11:59 PM",
        per_page=1,
        **{"column[]": "name"},
    )
    return int(
        daily + ti["data"]["Meetings"]["pageInfo"]["total"] + heypeers["metadata"]["total_count"]
    )


def test_forward_walk_yields_every_meeting_once_in_start_order(gateway: Stack) -> None:
    nodes = _walk_forward(gateway, 37)
    assert len(nodes) == len({n["id"] for n in nodes}) == _upstream_total(gateway)
    times = [n["startTime"] for n in nodes]
    assert times == sorted(times)
    assert {n["provider"] for n in nodes} == {"HEYPEERS", "THOUGHT_INDUSTRIES", "DAILY"}


def test_backward_walk_yields_the_same_list(gateway: Stack) -> None:
    assert [n["id"] for n in _walk_backward(gateway, 41)] == [
        n["id"] for n in _walk_forward(gateway, 100)
    ]


def test_descending_order_is_the_ascending_list_reversed(gateway: Stack) -> None:
    ascending = [n["id"] for n in _walk_forward(gateway, 100)]
    descending = [n["id"] for n in _walk_forward(gateway, 100, order="START_TIME_DESC")]
    assert descending == ascending[::-1]


def test_total_count_sums_providers_and_provider_facet_splits_it(gateway: Stack) -> None:
    data = gateway.data(
        "{ meetings(first: 1) { totalCount aggregations { key buckets { value count } } } }"
    )
    meetings = data["meetings"]
    facet = next(a for a in meetings["aggregations"] if a["key"] == "provider")
    assert meetings["totalCount"] == _upstream_total(gateway)
    assert sum(b["count"] for b in facet["buckets"]) == meetings["totalCount"]
    assert {b["value"] for b in facet["buckets"]} == {"HEYPEERS", "THOUGHT_INDUSTRIES", "DAILY"}


def test_time_window_filter_matches_the_full_list(gateway: Stack) -> None:
    everything = _walk_forward(gateway, 100)
    low, high = (
        everything[len(everything) // 4]["startTime"],
        everything[-len(everything) // 4]["startTime"],
    )
    window = _walk_forward(gateway, 30, filter={"startsAfter": low, "startsBefore": high})
    expected = [n["id"] for n in everything if low <= n["startTime"] < high]
    assert [n["id"] for n in window] == expected


def test_provider_filter_keeps_only_those_providers(gateway: Stack) -> None:
    nodes = _walk_forward(gateway, 100, filter={"providers": ["DAILY", "HEYPEERS"]})
    assert {n["provider"] for n in nodes} == {"DAILY", "HEYPEERS"}
    assert gateway.calls("thoughtindustries") == 0


def test_page_info_marks_both_ends(gateway: Stack) -> None:
    first = gateway.data(PAGE, {"first": 3})["meetings"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["startCursor"] == first["edges"][0]["cursor"]
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]


def test_page_size_above_one_hundred_is_refused(gateway: Stack) -> None:
    answer = gateway.query("{ meetings(first: 101) { totalCount } }")
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    assert "at most 100" in answer["errors"][0]["message"]
    assert sum(gateway.calls(p) for p in ("heypeers", "thoughtindustries", "daily")) == 0


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "WyJrIiwgWzFdXQ", "WyJvIiwgM10", "WyJrIixbIm5vdC1hLWRhdGUiLCJkYWlseSIsIngiXV0"],
)
def test_malformed_or_tampered_cursor_is_bad_user_input(gateway: Stack, cursor: str) -> None:
    answer = gateway.query(PAGE, {"first": 5, "after": cursor})
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    assert answer["data"] == {"meetings": None}


def test_first_and_last_together_are_refused(gateway: Stack) -> None:
    answer = gateway.query("{ meetings(first: 2, last: 2) { totalCount } }")
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_one_provider_down_leaves_the_others_data_and_one_error(gateway: Stack) -> None:
    gateway.fault("daily", error_rate=1, error_status=500)
    answer = gateway.query(PAGE, {"first": 100})
    providers = {e["node"]["provider"] for e in answer["data"]["meetings"]["edges"]}
    assert providers == {"HEYPEERS", "THOUGHT_INDUSTRIES"}
    assert len(answer["errors"]) == 1
    error = answer["errors"][0]
    assert error["path"] == ["meetings"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "provider": "DAILY"}
    assert error["message"].startswith("Daily answered 500")
