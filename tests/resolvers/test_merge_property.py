"""Property: walking the merged list page by page, either way, is the brute-force answer.

For random worlds (seed and size), provider sets, time windows, ``ongoing`` filters,
orders and page sizes, every page walked forward (``first``/``after``) and backward
(``last``/``before``) together give exactly the oracle's sorted list: no duplicate, no
gap, ties on start time included. The oracle reads every provider's raw data straight
from the simulators and sorts it by (start time, provider, provider key).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meetingmesh.domain import Provider
from meetingmesh.providers.heypeers import meeting_key
from meetingmesh.resolvers.ids import decode_id
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import TOKENS, Simulators
from tests.conftest import running_stack

NOW = Clock().now()
PROVIDERS = (Provider.HEYPEERS, Provider.THOUGHT_INDUSTRIES, Provider.DAILY)
Row = tuple[datetime, str, str]  # (start, provider, key): the merged order


@dataclass
class World:
    """A running simulator server and gateway, reseeded per example."""

    sims: Simulators
    sim_url: str
    gateway_url: str
    app: Any
    http: httpx.Client

    def reseed(self, seed: int, size: int) -> None:
        self.sims.reseed(seed=seed, size=size)
        for adapter in self.app.state.adapters.values():
            adapter.client.clear_cache()

    def raw(self, provider: str, path: str, params: Any) -> Any:
        response = self.http.get(
            f"{self.sim_url}{self.sims.base_url('', provider)}{path}",
            params=params,
            headers={"Authorization": f"Bearer {TOKENS[provider]}"},
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with running_stack(seed=0, size=12) as base:
        yield World(base.sims, base.sim_url, base.gateway_url, base.app, base.http)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _oracle_rows(world: World) -> list[tuple[Row, bool]]:
    """Every meeting of every provider as (sort row, ongoing now)."""
    rows: list[tuple[Row, bool]] = []
    daily = world.raw("daily", "/meetings", {"limit": 100, "ending_before": "OLDEST"})
    assert daily["total_count"] <= 100
    for s in daily["data"]:
        start = datetime.fromtimestamp(s["start_time"], UTC)
        rows.append(((start, "daily", s["id"]), s["ongoing"]))
    page = 1
    while True:
        body = world.raw("thoughtindustries", "/incoming/v2/meetings", {"page": page})
        for m in body["data"]["Meetings"]["meetings"]:
            start, end = _utc(m["startDate"]), _utc(m["endDate"])
            rows.append(((start, "thoughtindustries", m["id"]), start <= NOW < end))
        if not body["data"]["Meetings"]["pageInfo"]["hasMore"]:
            break
        page += 1
    columns = ["name", "start_time", "group_leader_id", "duration", "status"]
    export = world.raw(
        "heypeers",
        "/api/v2/organizations/5/export_meetings",
        {
            "reporting_days": "custom",
            "start_time": "01/01/1970 12:00 AM",
            "end_time": "12/31/2999 11:59 PM",
            "column[]": columns,
        },
    )
    for m in export["meetings"]:
        start = _utc(m["start_time"])
        end = start + timedelta(minutes=m["duration"])
        ongoing = m["status"] == "scheduled" and start <= NOW < end
        key = meeting_key(start, m["name"], m["group_leader"])
        rows.append(((start, "heypeers", key), ongoing))
    return rows


QUERY = """query($first: Int, $after: String, $last: Int, $before: String,
                 $order: MeetingOrder, $filter: MeetingFilter) {
  meetings(first: $first, after: $after, last: $last, before: $before,
           orderBy: $order, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id } }
  }
}"""


def _walk(
    world: World, size: int, backward: bool, variables: dict[str, Any]
) -> tuple[list[tuple[str, str]], int]:
    keys: list[tuple[str, str]] = []
    cursor = None
    total = -1
    for _ in range(500):
        paging = {"last": size, "before": cursor} if backward else {"first": size, "after": cursor}
        response = world.http.post(
            f"{world.gateway_url}/graphql",
            json={"query": QUERY, "variables": {**variables, **paging}},
        )
        answer = response.json()
        assert "errors" not in answer, answer["errors"]
        page = answer["data"]["meetings"]
        total = page["totalCount"]
        found = [decode_id(e["node"]["id"]) for e in page["edges"]]
        batch = [(g.provider.value, g.key) for g in found]
        keys = batch + keys if backward else keys + batch
        info = page["pageInfo"]
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return keys, total
        cursor = info["startCursor"] if backward else info["endCursor"]
    raise AssertionError("the walk did not end")


instants = st.integers(min_value=-200 * 96, max_value=200 * 96).map(
    lambda quarter_hours: NOW + timedelta(minutes=15 * quarter_hours)
) | st.integers(min_value=-200 * 86400, max_value=200 * 86400).map(
    lambda seconds: NOW + timedelta(seconds=seconds)
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=10**6),
    size=st.integers(min_value=12, max_value=40),
    providers=st.sets(st.sampled_from(PROVIDERS), min_size=1),
    window=st.tuples(st.none() | instants, st.none() | instants),
    ongoing=st.sampled_from([None, None, None, True, False]),
    descending=st.booleans(),
    size_of_page=st.integers(min_value=1, max_value=30),
    backward=st.booleans(),
)
def test_every_walk_yields_the_oracles_sorted_list(
    world: World,
    seed: int,
    size: int,
    providers: set[Provider],
    window: tuple[datetime | None, datetime | None],
    ongoing: bool | None,
    descending: bool,
    size_of_page: int,
    backward: bool,
) -> None:
    world.reseed(seed, size)
    low, high = window
    if low is not None and high is not None and low > high:
        low, high = high, low
    names = {p.value for p in providers}
    expected = sorted(
        (
            row
            for row, is_ongoing in _oracle_rows(world)
            if row[1] in names
            and (low is None or row[0] >= low)
            and (high is None or row[0] < high)
            and (ongoing is None or is_ongoing == ongoing)
        ),
        reverse=descending,
    )
    meeting_filter: dict[str, Any] = {"providers": [p.name for p in providers]}
    if low is not None:
        meeting_filter["startsAfter"] = low.isoformat()
    if high is not None:
        meeting_filter["startsBefore"] = high.isoformat()
    if ongoing is not None:
        meeting_filter["ongoing"] = ongoing
    variables = {
        "order": "START_TIME_DESC" if descending else "START_TIME_ASC",
        "filter": meeting_filter,
    }
    keys, total = _walk(world, size_of_page, backward, variables)
    assert keys == [(provider, key) for _, provider, key in expected]
    assert total == len(expected)
