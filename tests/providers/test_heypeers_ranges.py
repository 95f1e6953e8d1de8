"""HeyPeers custom ranges in every organization time zone and either end rule.

HeyPeers documents neither the zone its export's ``start_time``/``end_time`` are read
in nor whether the end is included. A dense world (50,000 meetings: about 140 a day,
so the widened range's 12 to 26 extra hours hold more than a page of meetings outside
the filter) is served with each reading; lists, totals, walks in both directions and
``meeting(id)`` must be exact whichever it is. The truth is the simulator's own data,
filtered on the rows' UTC start.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from meetingmesh.app import create_app
from meetingmesh.config import ServerSettings, Settings, provider_settings
from meetingmesh.domain import Provider
from meetingmesh.providers.heypeers import range_start
from meetingmesh.serving import start_in_thread
from meetingmesh.simulators import heypeers
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.heypeers_data import HeyPeersData
from tests.conftest import capture_response

#: UTC, the zones furthest behind (UTC-12: "Etc/GMT+12" in POSIX sign) and ahead (UTC+14),
#: and one with daylight saving time.
ZONES = ("UTC", "Etc/GMT+12", "Pacific/Kiritimati", "America/New_York")
ENDS = ("inclusive", "exclusive")
READINGS = [(zone, end) for zone in ZONES for end in ENDS]

CLOCK = Clock()
#: An unaligned lower bound (seconds inside a minute) three days ahead, and an upper
#: bound 40 hours later on a whole minute.
LOW = CLOCK.now() + timedelta(days=3, minutes=7, seconds=30)
HIGH = LOW + timedelta(hours=40, seconds=30)


class World:
    """The dense HeyPeers simulator and a gateway in front of it."""

    def __init__(self, data: HeyPeersData, sim_url: str, gateway_url: str, app: Any) -> None:
        self.data = data
        self.sim_url = sim_url
        self.gateway_url = gateway_url
        self.app = app
        self.http = httpx.Client(timeout=30, event_hooks={"response": [capture_response]})

    def read(self, zone: str, end: str) -> None:
        """Serve custom ranges in ``zone`` with the ``end`` rule; forget cached answers."""
        switches = {"organization_time_zone": zone, "custom_end": end}
        response = self.http.put(f"{self.sim_url}/_sim/behaviour", json=switches)
        assert response.status_code == 200, response.text
        for adapter in self.app.state.adapters.values():
            adapter.client.reset()

    def data_of(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a query that must succeed without errors."""
        answer = self.http.post(
            f"{self.gateway_url}/graphql", json={"query": query, "variables": variables or {}}
        ).json()
        assert "errors" not in answer, answer["errors"]
        data: dict[str, Any] = answer["data"]
        return data

    def truth(self, low: datetime, high: datetime) -> list[tuple[str, str]]:
        """(UTC start, title) of every meeting starting in [low, high), in start order."""
        rows = []
        for meeting in self.data.meetings:
            start = datetime.fromisoformat(meeting.start_time)
            if low <= start < high:
                rows.append((start.isoformat(), meeting.name))
        return sorted(rows)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """50,000 HeyPeers meetings and a gateway configured for HeyPeers only."""
    data = HeyPeersData.generate(seed=7, size=50_000, clock=CLOCK)
    sim = start_in_thread(heypeers.create_app(data, clock=CLOCK))
    section = provider_settings(
        Provider.HEYPEERS, sim.url, heypeers.TOKEN, organization_id=5, rate_limit=None
    )
    app = create_app(
        Settings(server=ServerSettings(), providers={Provider.HEYPEERS: section}), clock=CLOCK.now
    )
    gateway = start_in_thread(app)
    world = World(data, sim.url, gateway.url, app)
    yield world
    world.http.close()
    gateway.stop()
    sim.stop()


LIST = """query($after: String, $before: String, $first: Int, $last: Int,
               $low: DateTime!, $high: DateTime!) {
  meetings(first: $first, after: $after, last: $last, before: $before,
           filter: {startsAfter: $low, startsBefore: $high}) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id title startTime } }
  }
}"""
BOUNDS = {"low": LOW.isoformat(), "high": HIGH.isoformat()}


def _rows(edges: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["node"]["startTime"], e["node"]["title"]) for e in edges]


def test_the_world_is_dense_enough_to_put_more_than_a_page_in_the_widened_margins(
    world: World,
) -> None:
    assert len(world.truth(LOW - timedelta(hours=26), LOW)) > 100
    assert len(world.truth(HIGH, HIGH + timedelta(hours=26))) > 100


@pytest.mark.parametrize(("zone", "end"), READINGS)
def test_a_bounded_page_and_its_total_are_exact(world: World, zone: str, end: str) -> None:
    world.read(zone, end)
    expected = world.truth(LOW, HIGH)
    page = world.data_of(LIST, {**BOUNDS, "first": 100})["meetings"]
    assert page["totalCount"] == len(expected)
    rows = _rows(page["edges"])
    # The 100 earliest (meetings sharing the last start time may be any of them) ...
    assert [start for start, _ in rows] == [start for start, _ in expected[:100]]
    # ... and each one a meeting of the range.
    assert not Counter(rows) - Counter(expected)


@pytest.mark.parametrize(("zone", "end"), READINGS)
def test_walking_forwards_to_the_end_sees_every_meeting_once(
    world: World, zone: str, end: str
) -> None:
    world.read(zone, end)
    expected = world.truth(LOW, HIGH)
    seen: list[dict[str, Any]] = []
    after = None
    for _ in range(20):
        page = world.data_of(LIST, {**BOUNDS, "first": 60, "after": after})["meetings"]
        assert page["totalCount"] == len(expected)
        seen += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(_rows(seen)) == expected
    assert len({e["node"]["id"] for e in seen}) == len(expected)
    assert [e["node"]["startTime"] for e in seen] == sorted(e["node"]["startTime"] for e in seen)


@pytest.mark.parametrize(("zone", "end"), READINGS)
def test_walking_backwards_to_the_start_sees_every_meeting_once(
    world: World, zone: str, end: str
) -> None:
    world.read(zone, end)
    expected = world.truth(LOW, HIGH)
    seen: list[dict[str, Any]] = []
    before = None
    for _ in range(20):
        page = world.data_of(LIST, {**BOUNDS, "last": 60, "before": before})["meetings"]
        assert page["totalCount"] == len(expected)
        seen = page["edges"] + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert sorted(_rows(seen)) == expected
    assert len({e["node"]["id"] for e in seen}) == len(expected)
    assert [e["node"]["startTime"] for e in seen] == sorted(e["node"]["startTime"] for e in seen)


@pytest.mark.parametrize(("zone", "end"), READINGS)
def test_export_rows_are_found_again_by_id(world: World, zone: str, end: str) -> None:
    world.read(zone, end)
    page = world.data_of(LIST, {**BOUNDS, "first": 100})["meetings"]["edges"]
    wanted = [page[0]["node"], page[len(page) // 2]["node"], page[-1]["node"]]
    found = world.data_of(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Meeting { id title startTime } } }",
        {"ids": [node["id"] for node in wanted]},
    )["nodes"]
    assert found == wanted


FROM_A_START = """query($low: DateTime!) {
  meetings(first: 20, filter: {startsAfter: $low}) {
    totalCount edges { node { title startTime } }
  }
}"""
EXPORT = "GET /api/v2/organizations/{org_id}/export_meetings"
#: Far enough for "every meeting from a start on".
LATEST_TRUTH = CLOCK.now() + timedelta(days=3650)


def _from(world: World, low: datetime) -> tuple[dict[str, Any], int]:
    """The 20 meetings from ``low`` on, and the export calls they cost."""
    world.http.delete(f"{world.sim_url}/_sim/stats")
    page = world.data_of(FROM_A_START, {"low": low.isoformat()})["meetings"]
    stats = world.http.get(f"{world.sim_url}/_sim/stats").json()
    return page, int(stats["endpoints"].get(EXPORT, {}).get("count", 0))


def _exact(world: World, page: dict[str, Any], low: datetime) -> None:
    expected = world.truth(low, LATEST_TRUTH)
    assert page["totalCount"] == len(expected)
    rows = _rows(page["edges"])
    # The 20 earliest (meetings sharing the last start time may be any of them).
    assert [start for start, _ in rows] == [start for start, _ in expected[:20]]
    assert not Counter(rows) - Counter(expected)


def test_the_next_days_page_from_a_start_jumps_the_margin_a_walk_found_in_one_call(
    world: World,
) -> None:
    # Read in UTC+14, the widened range holds 26 hours (some 150 meetings) before the
    # bound: page 1 of 100 cannot reach it, so the first day costs two calls ...
    world.read("Pacific/Kiritimati", "inclusive")
    low = LOW + timedelta(days=20)
    page, calls = _from(world, low)
    _exact(world, page, low)
    assert calls == 2
    # ... and the next day's page, planned from the margin that walk found, one.
    page, calls = _from(world, low + timedelta(days=1))
    _exact(world, page, low + timedelta(days=1))
    assert calls == 1


def test_a_margin_learnt_in_another_zone_still_gives_the_exact_page(world: World) -> None:
    world.read("Pacific/Kiritimati", "exclusive")
    low = LOW + timedelta(days=30)
    _from(world, low)  # a margin of some 150 meetings: the next plan skips page 1
    # Read in UTC-12 the widened range starts at the bound itself: the planned page
    # begins after it, so the walk steps back to page 1 and loses nothing.
    world.read("Etc/GMT+12", "exclusive")
    page, calls = _from(world, low + timedelta(days=1))
    _exact(world, page, low + timedelta(days=1))
    assert calls == 2


FROM_A_START_OF = """query($low: DateTime!, $first: Int!) {
  meetings(first: $first, filter: {startsAfter: $low}) {
    totalCount edges { node { title startTime } }
  }
}"""


def _fresh_from(
    world: World, low: datetime, first: int = 20, *, learnt_from: datetime | None = None
) -> tuple[dict[str, Any], int]:
    """The ``first`` meetings from ``low`` on and the export calls they cost, asked of a
    gateway of its own (nothing remembered), after it walked from ``learnt_from`` when
    given (the day before: a margin learnt)."""
    section = provider_settings(
        Provider.HEYPEERS, world.sim_url, heypeers.TOKEN, organization_id=5, rate_limit=None
    )
    app = create_app(
        Settings(server=ServerSettings(), providers={Provider.HEYPEERS: section}), clock=CLOCK.now
    )
    gateway = start_in_thread(app)
    try:
        for bound in (learnt_from, low):
            if bound is None:
                continue
            world.http.delete(f"{world.sim_url}/_sim/stats")
            answer = world.http.post(
                f"{gateway.url}/graphql",
                json={
                    "query": FROM_A_START_OF,
                    "variables": {"low": bound.isoformat(), "first": first},
                },
            ).json()
            # A row left out is reported (and nothing else goes wrong).
            codes = {e["extensions"]["code"] for e in answer.get("errors", [])}
            assert codes <= {"UPSTREAM_BAD_RESPONSE"}, answer["errors"]
        stats = world.http.get(f"{world.sim_url}/_sim/stats").json()
        return answer["data"]["meetings"], int(stats["endpoints"].get(EXPORT, {}).get("count", 0))
    finally:
        gateway.stop()


def test_a_row_without_a_start_time_counts_the_same_whether_or_not_a_margin_was_learnt(
    world: World,
) -> None:
    # Read in UTC+3, the widened range holds some 70 meetings before the bound: page 1 of
    # 100 reaches it cold, while a margin learnt the day before plans page 2 of a smaller
    # size. The widened range's first row (in the margin) comes back without a start time.
    zone, low = "Etc/GMT-3", LOW + timedelta(days=10)
    widened_low = datetime.strptime(range_start(low), "%m/%d/%Y %I:%M %p").replace(
        tzinfo=ZoneInfo(zone)
    )
    first = min(
        (m for m in world.data.meetings if datetime.fromisoformat(m.start_time) >= widened_low),
        key=lambda m: (datetime.fromisoformat(m.start_time), m.id),
    )
    world.read(zone, "inclusive")
    switches = {"organization_time_zone": zone, "bad_row": "null_time", "bad_row_id": str(first.id)}
    try:
        response = world.http.put(f"{world.sim_url}/_sim/behaviour", json=switches)
        assert response.status_code == 200, response.text
        cold = _fresh_from(world, low)[0]["totalCount"]
        warm = _fresh_from(world, low, learnt_from=low - timedelta(days=1))[0]["totalCount"]
    finally:
        world.read("America/New_York", "inclusive")
    # The same filter over the same data: one total, whatever the adapter remembered.
    assert warm == cold


def test_the_next_days_page_of_100_costs_no_more_calls_than_with_nothing_remembered(
    world: World,
) -> None:
    # Read in New York, the widened range holds 56 meetings before the bound one day
    # and 46 the next. Nothing remembered, pages 1 and 2 of 100 hold the 46 and the 100
    # wanted after them. Planned from 56, the walk starts on the page of 56 that begins
    # at the 57th row, with no row to spare before it: it begins after the bound, so the
    # walk steps back to page 1 and then needs page 3 as well.
    world.read("America/New_York", "inclusive")
    low = LOW + timedelta(days=13)
    _, cold = _fresh_from(world, low, 100)
    page, warm = _fresh_from(world, low, 100, learnt_from=low - timedelta(days=1))
    expected = world.truth(low, LATEST_TRUTH)
    assert [e["node"]["startTime"] for e in page["edges"]] == [s for s, _ in expected[:100]]
    assert warm <= cold
