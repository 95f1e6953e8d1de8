"""Contract tests of the Daily simulator, over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import ASGIApp

from meetingmesh.serving import start_in_thread
from meetingmesh.simulators import daily
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.daily import TOKEN, DailyBehaviour, DailyData, DailyMeeting, create_app

AUTH = {"Authorization": f"Bearer {TOKEN}"}
DAY = 86400
Serve = Callable[[ASGIApp], str]


def http_client(base_url: str) -> httpx.Client:
    """An authenticated client that opens a connection per request.

    The servers' accepted sockets lack TCP_NODELAY (``serving.bind_socket`` creates the
    listener with proto 0, so asyncio skips it): on a kept-alive connection every small
    answer then waits ~40 ms for a delayed ACK. A fresh connection acknowledges at once.
    """
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.Client(base_url=base_url, headers=AUTH, timeout=10, limits=limits)


#: Participants in join order and integer times: the contract the switch tests then vary
#: (the defaults are Daily's realistic ones: the example's order and JSON floats).
PLAIN = DailyBehaviour(participant_order="join_order", float_times=False)


@pytest.fixture(scope="module")
def data() -> DailyData:
    """The small data set most tests read (200 sessions)."""
    return DailyData.generate(seed=0, size=200)


@pytest.fixture(scope="module")
def client(data: DailyData) -> Iterator[httpx.Client]:
    """An authenticated client of a simulator serving ``data`` as the seed documents print it."""
    handle = start_in_thread(create_app(data, behaviour=PLAIN))
    with http_client(handle.url) as http:
        yield http
    handle.stop()


@pytest.fixture(scope="module")
def big_data() -> DailyData:
    """10,000 sessions, for walking every page."""
    return DailyData.generate(seed=7, size=10_000)


@pytest.fixture(scope="module")
def big(big_data: DailyData) -> Iterator[httpx.Client]:
    """An authenticated client of a simulator serving ``big_data`` (``PLAIN``)."""
    handle = start_in_thread(create_app(big_data, behaviour=PLAIN))
    with http_client(handle.url) as http:
        yield http
    handle.stop()


@pytest.fixture
def fresh(serve: Serve) -> Iterator[httpx.Client]:
    """A client of a simulator of its own, for tests that change faults or read stats."""
    base = serve(create_app(DailyData.generate(seed=0, size=50)))
    with http_client(base) as http:
        yield http


def newest_first(meetings: list[DailyMeeting]) -> list[str]:
    """Ids in the documented order: start_time descending, then id descending."""
    ordered = sorted(meetings, key=lambda m: (m.start_time, m.id), reverse=True)
    return [m.id for m in ordered]


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["data"]]


def assert_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["info"], str) and body["info"]


def walk_forward(http: httpx.Client, params: dict[str, Any]) -> tuple[list[str], set[int]]:
    """Follow ``starting_after`` from the first page; return ids and every total_count."""
    seen: list[str] = []
    totals: set[int] = set()
    cursor: dict[str, Any] = {}
    while True:
        body = http.get("/meetings", params={**params, **cursor}).raise_for_status().json()
        totals.add(body["total_count"])
        if not body["data"]:
            return seen, totals
        seen += ids(body)
        cursor = {"starting_after": seen[-1]}


def walk_backward(http: httpx.Client, params: dict[str, Any]) -> tuple[list[str], set[int]]:
    """Follow ``ending_before`` from OLDEST back to the newest page."""
    seen: list[str] = []
    totals: set[int] = set()
    cursor = {"ending_before": "OLDEST"}
    while True:
        body = http.get("/meetings", params={**params, **cursor}).raise_for_status().json()
        totals.add(body["total_count"])
        if not body["data"]:
            return seen, totals
        page = ids(body)
        seen = page + seen
        cursor = {"ending_before": page[0]}


# --- the document's example and the session shape -----------------------------------


def test_sessions_of_a_room_in_a_time_frame_come_newest_first_with_total_count(
    client: httpx.Client, data: DailyData
) -> None:
    """The document's example: "Get meeting sessions for a specific room and time frame"."""
    start, end = data.now - 60 * DAY, data.now - 10 * DAY
    expected = newest_first(
        [m for m in data.meetings if m.room == "standup" and start <= m.start_time < end]
    )
    params: dict[str, Any] = {"room": "standup", "timeframe_start": start, "timeframe_end": end}
    body = client.get("/meetings", params=params).json()
    assert body["total_count"] == len(expected) > 1
    assert ids(body) == expected
    assert {item["room"] for item in body["data"]} == {"standup"}


def test_a_session_has_the_documented_fields_and_types(client: httpx.Client) -> None:
    body = client.get("/meetings", params={"limit": 100}).json()
    assert set(body) == {"total_count", "data"}
    keys = {"id", "room", "start_time", "duration", "ongoing", "max_participants", "participants"}
    person_keys = {"user_id", "user_name", "participant_id", "join_time", "duration"}
    for item in body["data"]:
        assert set(item) == keys
        assert isinstance(item["start_time"], int) and isinstance(item["duration"], int)
        assert isinstance(item["ongoing"], bool) and isinstance(item["max_participants"], int)
        assert item["max_participants"] >= len(item["participants"])
        for person in item["participants"]:
            assert set(person) == person_keys
            assert isinstance(person["join_time"], int) and isinstance(person["duration"], int)
            assert person["user_id"] is None or isinstance(person["user_id"], str)


def test_without_parameters_the_first_100_of_all_sessions_come_newest_first(
    client: httpx.Client, data: DailyData
) -> None:
    body = client.get("/meetings").json()
    assert body["total_count"] == len(data.meetings) == 200
    assert ids(body) == newest_first(list(data.meetings))[:100]


def test_sessions_that_start_together_are_ordered_by_id_descending(
    client: httpx.Client, data: DailyData
) -> None:
    by_start: dict[int, list[DailyMeeting]] = {}
    for meeting in data.meetings:
        by_start.setdefault(meeting.start_time, []).append(meeting)
    ties = {start: group for start, group in by_start.items() if len(group) > 1}
    assert any(len({m.room for m in g}) < len(g) for g in ties.values()), "a same-room tie"
    assert any(len({m.room for m in g}) > 1 for g in ties.values()), "a cross-room tie"
    listed, _ = walk_forward(client, {"limit": 100})
    for group in ties.values():
        expected = sorted((m.id for m in group), reverse=True)
        first = listed.index(expected[0])
        assert listed[first : first + len(group)] == expected
    start, group = next(iter(ties.items()))
    window = {"timeframe_start": start, "timeframe_end": start + 1}
    body = client.get("/meetings", params=window).json()
    assert ids(body) == sorted((m.id for m in group), reverse=True)


# --- filters --------------------------------------------------------------------------


def test_timeframe_start_is_inclusive_and_timeframe_end_exclusive(
    client: httpx.Client, data: DailyData
) -> None:
    start = data.meetings[len(data.meetings) // 2].start_time
    at_start = sorted((m.id for m in data.meetings if m.start_time == start), reverse=True)
    window = client.get("/meetings", params={"timeframe_start": start, "timeframe_end": start + 1})
    later = client.get("/meetings", params={"timeframe_start": start}).json()
    earlier = client.get("/meetings", params={"timeframe_end": start}).json()
    assert ids(window.json()) == at_start
    assert later["total_count"] == sum(m.start_time >= start for m in data.meetings)
    assert all(item["start_time"] < start for item in earlier["data"])
    assert later["total_count"] + earlier["total_count"] == len(data.meetings)


def test_room_filter_keeps_only_that_rooms_sessions(client: httpx.Client, data: DailyData) -> None:
    for room in {m.room for m in data.meetings}:
        body = client.get("/meetings", params={"room": room}).json()
        expected = newest_first([m for m in data.meetings if m.room == room])
        assert body["total_count"] == len(expected)
        assert ids(body) == expected[:100]


def test_an_unknown_room_matches_no_session(client: httpx.Client) -> None:
    body = client.get("/meetings", params={"room": "no-such-room"}).json()
    assert body == {"total_count": 0, "data": []}


def test_ongoing_true_keeps_sessions_running_now(client: httpx.Client, data: DailyData) -> None:
    body = client.get("/meetings", params={"ongoing": "true"}).json()
    assert ids(body) == newest_first([m for m in data.meetings if m.ongoing])
    assert body["total_count"] >= 1
    for item in body["data"]:
        assert item["ongoing"] is True
        assert item["duration"] == data.now - item["start_time"] > 0
        assert item["participants"], "somebody is in the room right now"


def test_ongoing_false_keeps_finished_sessions(client: httpx.Client, data: DailyData) -> None:
    finished = client.get("/meetings", params={"ongoing": "false"}).json()
    running = client.get("/meetings", params={"ongoing": "TRUE"}).json()
    assert finished["total_count"] + running["total_count"] == len(data.meetings)
    assert all(item["ongoing"] is False for item in finished["data"])


def test_no_participants_leaves_the_participants_key_out(client: httpx.Client) -> None:
    body = client.get("/meetings", params={"no_participants": "true", "limit": 5}).json()
    assert len(body["data"]) == 5
    assert all("participants" not in item for item in body["data"])
    with_them = client.get("/meetings", params={"no_participants": "false", "limit": 5}).json()
    assert all("participants" in item for item in with_them["data"])


def test_filters_combine(client: httpx.Client, data: DailyData) -> None:
    start = data.now - 90 * DAY
    params: dict[str, Any] = {"room": "standup", "ongoing": "false", "timeframe_start": start}
    body = client.get("/meetings", params=params).json()
    expected = [
        m for m in data.meetings if m.room == "standup" and not m.ongoing and m.start_time >= start
    ]
    assert ids(body) == newest_first(expected)


# --- limit and cursors ----------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 37, 100])
def test_limit_caps_the_page_and_total_count_ignores_it(client: httpx.Client, limit: int) -> None:
    body = client.get("/meetings", params={"limit": limit}).json()
    assert len(body["data"]) == limit
    assert body["total_count"] == 200


@pytest.mark.parametrize("limit", ["0", "-1", "101", "abc", "1.5", "1e2"])
def test_a_limit_outside_1_to_100_is_an_invalid_request(client: httpx.Client, limit: str) -> None:
    assert_error(client.get("/meetings", params={"limit": limit}), 400, "invalid-request-error")


@pytest.mark.parametrize(
    "params",
    [
        {"timeframe_start": "yesterday"},
        {"timeframe_end": "1.5"},
        {"ongoing": "yes"},
        {"no_participants": "1"},
    ],
)
def test_malformed_filters_are_invalid_requests(
    client: httpx.Client, params: dict[str, str]
) -> None:
    assert_error(client.get("/meetings", params=params), 400, "invalid-request-error")


def test_starting_after_returns_the_older_sessions_that_follow_the_cursor(
    client: httpx.Client, data: DailyData
) -> None:
    order = newest_first(list(data.meetings))
    body = client.get("/meetings", params={"starting_after": order[9], "limit": 5}).json()
    assert ids(body) == order[10:15]
    assert body["total_count"] == 200


def test_ending_before_returns_the_newer_sessions_right_before_the_cursor(
    client: httpx.Client, data: DailyData
) -> None:
    order = newest_first(list(data.meetings))
    body = client.get("/meetings", params={"ending_before": order[20], "limit": 5}).json()
    assert ids(body) == order[15:20]
    short = client.get("/meetings", params={"ending_before": order[2], "limit": 5}).json()
    assert ids(short) == order[:2]


def test_ending_before_oldest_returns_the_oldest_page_newest_first(
    client: httpx.Client, data: DailyData
) -> None:
    order = newest_first(list(data.meetings))
    body = client.get("/meetings", params={"ending_before": "OLDEST", "limit": 30}).json()
    assert ids(body) == order[-30:]


def test_a_cursor_outside_the_filtered_set_is_an_invalid_request(
    client: httpx.Client, data: DailyData
) -> None:
    elsewhere = next(m.id for m in data.meetings if m.room != "standup")
    for cursor in ("starting_after", "ending_before"):
        other_room = client.get("/meetings", params={"room": "standup", cursor: elsewhere})
        assert_error(other_room, 400, "invalid-request-error")
        unknown = client.get("/meetings", params={cursor: "not-a-meeting"})
        assert_error(unknown, 400, "invalid-request-error")


def test_both_cursors_at_once_are_an_invalid_request(client: httpx.Client, data: DailyData) -> None:
    first = data.meetings[0].id
    both = {"starting_after": first, "ending_before": "OLDEST"}
    assert_error(client.get("/meetings", params=both), 400, "invalid-request-error")


def test_walking_both_ways_with_a_small_page_meets_every_session_once(
    client: httpx.Client, data: DailyData
) -> None:
    expected = newest_first([m for m in data.meetings if m.room == "standup"])
    forward, _ = walk_forward(client, {"room": "standup", "limit": 7})
    backward, _ = walk_backward(client, {"room": "standup", "limit": 7})
    assert forward == backward == expected


# --- one session ----------------------------------------------------------------------


def test_one_session_is_returned_without_participants(
    client: httpx.Client, data: DailyData
) -> None:
    meeting = data.meetings[3]
    body = client.get(f"/meetings/{meeting.id}").json()
    assert body == {
        "id": meeting.id,
        "room": meeting.room,
        "start_time": meeting.start_time,
        "duration": meeting.duration,
        "ongoing": meeting.ongoing,
        "max_participants": meeting.max_participants,
    }


def test_an_unknown_session_is_not_found(client: httpx.Client) -> None:
    response = client.get("/meetings/no-such-meeting")
    assert response.status_code == 404
    assert response.json() == {"error": "not-found", "info": "meeting no-such-meeting not found"}


# --- participants ---------------------------------------------------------------------


def crowded(data: DailyData) -> DailyMeeting:
    """The session with the most participants that still fit on one page of 100."""
    fits = [m for m in data.meetings if len(m.participants) <= 100]
    return max(fits, key=lambda m: (len(m.participants), m.id))


def test_participants_come_in_join_order(client: httpx.Client, data: DailyData) -> None:
    meeting = crowded(data)
    body = client.get(f"/meetings/{meeting.id}/participants").json()
    assert set(body) == {"data"}
    assert body["data"] == [p.to_json() for p in meeting.participants]
    order = [(p["join_time"], p["participant_id"]) for p in body["data"]]
    assert order == sorted(order)
    assert body["data"][0]["join_time"] == meeting.start_time


def test_joined_after_pages_through_participants_until_a_404(
    client: httpx.Client, data: DailyData
) -> None:
    meeting = crowded(data)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        response = client.get(f"/meetings/{meeting.id}/participants", params=params)
        if response.status_code == 404:
            assert_error(response, 404, "not-found")
            break
        page = [p["participant_id"] for p in response.json()["data"]]
        assert 1 <= len(page) <= 3
        seen += page
        params = {"limit": 3, "joined_after": page[-1]}
    assert seen == [p.participant_id for p in meeting.participants]


def test_joined_before_returns_the_participants_right_before_the_cursor(
    client: httpx.Client, data: DailyData
) -> None:
    people = [p.participant_id for p in crowded(data).participants]
    response = client.get(
        f"/meetings/{crowded(data).id}/participants",
        params={"joined_before": people[-1], "limit": 2},
    )
    assert [p["participant_id"] for p in response.json()["data"]] == people[-3:-1]


def test_a_session_that_recorded_nobody_has_no_participants_to_return(
    client: httpx.Client, data: DailyData
) -> None:
    empty = next(m for m in data.meetings if not m.participants)
    assert_error(client.get(f"/meetings/{empty.id}/participants"), 404, "not-found")


def test_participants_of_an_unknown_session_are_not_found(client: httpx.Client) -> None:
    assert_error(client.get("/meetings/no-such-meeting/participants"), 404, "not-found")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"joined_after": "not-a-participant"},
        {"joined_before": "not-a-participant"},
    ],
)
def test_bad_participant_parameters_are_invalid_requests(
    client: httpx.Client, data: DailyData, params: dict[str, str]
) -> None:
    response = client.get(f"/meetings/{crowded(data).id}/participants", params=params)
    assert_error(response, 400, "invalid-request-error")


def test_both_participant_cursors_at_once_are_an_invalid_request(
    client: httpx.Client, data: DailyData
) -> None:
    meeting = crowded(data)
    first = meeting.participants[0].participant_id
    params = {"joined_after": first, "joined_before": first}
    response = client.get(f"/meetings/{meeting.id}/participants", params=params)
    assert_error(response, 400, "invalid-request-error")


# --- auth and unknown routes ----------------------------------------------------------


ROUTES = ["/meetings", "/meetings/{id}", "/meetings/{id}/participants"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("header", [None, "Token sim-daily-token", "Bearer", "sim-daily-token"])
def test_a_missing_or_malformed_authorization_header_is_a_400(
    client: httpx.Client, data: DailyData, route: str, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    url = str(client.base_url) + route.format(id=data.meetings[0].id)
    response = httpx.get(url, headers=headers)
    assert_error(response, 400, "authorization-header-error")


@pytest.mark.parametrize("route", ROUTES)
def test_a_wrong_api_key_is_a_401(client: httpx.Client, data: DailyData, route: str) -> None:
    url = str(client.base_url) + route.format(id=data.meetings[0].id)
    response = httpx.get(url, headers={"Authorization": "Bearer wrong-key"})
    assert_error(response, 401, "authentication-error")


def test_auth_is_checked_before_parameters(client: httpx.Client) -> None:
    url = str(client.base_url) + "/meetings"
    response = httpx.get(url, params={"limit": "0"}, headers={"Authorization": "Bearer nope"})
    assert_error(response, 401, "authentication-error")


def test_an_unknown_path_is_a_daily_not_found(client: httpx.Client) -> None:
    assert_error(client.get("/rooms"), 404, "not-found")


def test_a_wrong_method_is_a_daily_error(client: httpx.Client) -> None:
    assert_error(client.post("/meetings"), 405, "invalid-request-error")


# --- every page at 10,000 sessions ----------------------------------------------------


def test_starting_after_walks_every_one_of_10000_sessions_exactly_once(
    big: httpx.Client, big_data: DailyData
) -> None:
    seen, totals = walk_forward(big, {"limit": 100, "no_participants": "true"})
    assert totals == {10_000}
    assert len(seen) == len(set(seen)) == 10_000
    assert seen == newest_first(list(big_data.meetings))


def test_ending_before_walks_from_oldest_to_newest_over_10000_sessions_exactly_once(
    big: httpx.Client, big_data: DailyData
) -> None:
    seen, totals = walk_backward(big, {"limit": 100, "no_participants": "true"})
    assert totals == {10_000}
    assert len(seen) == len(set(seen)) == 10_000
    assert seen == newest_first(list(big_data.meetings))


def test_both_walks_agree_on_a_filtered_set_of_10000_sessions(
    big: httpx.Client, big_data: DailyData
) -> None:
    start, end = big_data.now - 150 * DAY, big_data.now - 20 * DAY
    params = {"room": "standup", "ongoing": "false", "timeframe_start": start}
    params |= {"timeframe_end": end, "limit": 100}
    expected = newest_first(
        [
            m
            for m in big_data.meetings
            if m.room == "standup" and not m.ongoing and start <= m.start_time < end
        ]
    )
    forward, forward_totals = walk_forward(big, params)
    backward, backward_totals = walk_backward(big, params)
    assert forward_totals == backward_totals == {len(expected)}
    assert len(expected) > 300
    assert forward == backward == expected


def test_participants_of_every_all_hands_session_walk_to_a_404_exactly_once(
    big: httpx.Client, big_data: DailyData
) -> None:
    sample = [m for m in big_data.meetings if m.room == "all-hands"]
    assert len(sample) > 200
    for meeting in sample:
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 100}
        url = f"/meetings/{meeting.id}/participants"
        while (response := big.get(url, params=params)).is_success:
            page = [p["participant_id"] for p in response.json()["data"]]
            seen += page
            params = {"limit": 100, "joined_after": page[-1]}
        assert response.status_code == 404
        assert seen == [p.participant_id for p in meeting.participants]


# --- injected faults ------------------------------------------------------------------


def put_faults(http: httpx.Client, **settings: float) -> None:
    http.put("/_sim/faults", json=settings).raise_for_status()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, "server-error"),
        (503, "server-error"),
        (403, "forbidden-error"),
        (404, "not-found"),
        (400, "invalid-request-error"),
    ],
)
def test_an_injected_error_comes_in_dailys_body(
    fresh: httpx.Client, status: int, error: str
) -> None:
    put_faults(fresh, error_rate=1, error_status=status)
    assert_error(fresh.get("/meetings"), status, error)


def test_an_injected_429_is_a_rate_limit_error_without_rate_headers(fresh: httpx.Client) -> None:
    """Daily sends no rate-limit headers, so the simulator sends no Retry-After either."""
    put_faults(fresh, error_rate=1, error_status=429, retry_after=7)
    response = fresh.get("/meetings")
    assert_error(response, 429, "rate-limit-error")
    assert "retry-after" not in response.headers


def test_an_injected_malformed_body_does_not_parse(fresh: httpx.Client) -> None:
    put_faults(fresh, malformed_rate=1)
    response = fresh.get("/meetings")
    assert response.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


def test_injected_latency_delays_the_answer(fresh: httpx.Client) -> None:
    put_faults(fresh, latency_ms=200)
    began = time.monotonic()
    assert fresh.get("/meetings", params={"limit": 1}).status_code == 200
    assert time.monotonic() - began >= 0.2


def test_an_injected_hang_ends_within_its_bound(fresh: httpx.Client) -> None:
    put_faults(fresh, hang_rate=1, hang_seconds=0.3)
    response = fresh.get("/meetings", timeout=5)
    assert response.status_code == 504


def test_deleting_faults_restores_normal_answers(fresh: httpx.Client) -> None:
    put_faults(fresh, error_rate=1, error_status=500)
    fresh.delete("/_sim/faults").raise_for_status()
    assert fresh.get("/meetings").status_code == 200


# --- stats ----------------------------------------------------------------------------


def test_stats_count_each_endpoint_exactly_with_its_last_params(fresh: httpx.Client) -> None:
    some_id = fresh.get("/meetings", params={"limit": 1}).json()["data"][0]["id"]
    fresh.get("/meetings", params={"room": "standup", "limit": 2})
    fresh.get(f"/meetings/{some_id}")
    fresh.get(f"/meetings/{some_id}/participants", params={"limit": 5})
    fresh.get("/meetings/unknown")
    stats = fresh.get("/_sim/stats").json()
    endpoints = stats["endpoints"]
    assert stats["total"] == 5
    assert endpoints["GET /meetings"]["count"] == 2
    assert endpoints["GET /meetings"]["last_params"] == {"room": ["standup"], "limit": ["2"]}
    assert endpoints["GET /meetings/{meeting_id}"]["count"] == 2
    assert endpoints["GET /meetings/{meeting_id}/participants"]["count"] == 1


def test_deleting_stats_resets_the_counts(fresh: httpx.Client) -> None:
    fresh.get("/meetings")
    assert fresh.delete("/_sim/stats").json() == {"total": 0, "endpoints": {}}
    assert fresh.get("/_sim/stats").json()["total"] == 0


def test_the_app_exposes_its_harness(serve: Serve) -> None:
    app = create_app(DailyData.generate(size=12))
    base = serve(app)
    httpx.get(f"{base}/meetings", headers=AUTH)
    assert app.state.harness.stats.total == 1


# --- the data set ---------------------------------------------------------------------


def test_the_same_seed_size_and_clock_give_the_same_bytes() -> None:
    assert (
        DailyData.generate(seed=3, size=300).dump() == DailyData.generate(seed=3, size=300).dump()
    )


def test_a_different_seed_gives_different_bytes() -> None:
    assert (
        DailyData.generate(seed=3, size=300).dump() != DailyData.generate(seed=4, size=300).dump()
    )


def test_the_clock_anchors_the_data() -> None:
    later = Clock.parse("2027-01-01T00:00:00Z")
    moved = DailyData.generate(seed=0, size=50, clock=later)
    assert moved.now == int(later.now().timestamp())
    assert moved.dump() != DailyData.generate(seed=0, size=50).dump()


@pytest.mark.parametrize("size", [12, 200, 5000])
def test_sessions_are_past_or_ongoing_and_consistent(size: int) -> None:
    """No future sessions; 15-second granularity; participants inside their session."""
    data = DailyData.generate(seed=1, size=size)
    assert len(data.meetings) == size
    assert len({m.id for m in data.meetings}) == size
    assert any(m.ongoing for m in data.meetings)
    assert len({m.room for m in data.meetings}) >= 4 if size >= 200 else True
    for m in data.meetings:
        end = m.start_time + m.duration
        assert m.start_time % 15 == 0 and m.duration % 15 == 0 and m.duration > 0
        assert data.now - 181 * DAY <= m.start_time <= data.now
        assert end == data.now if m.ongoing else end < data.now
        assert m.max_participants >= max(1, len(m.participants))
        assert len(m.participants) <= 12 or m is data.meetings[-1]
        for p in m.participants:
            assert m.start_time <= p.join_time and p.join_time + p.duration <= end
            assert p.join_time % 15 == 0 and p.duration >= 15
    guests = [p for m in data.meetings for p in m.participants if p.user_id is None]
    assert guests or size < 200
    assert len(data.meetings[-1].participants) == 250


def test_the_module_exposes_the_interface_the_combined_server_uses() -> None:
    assert daily.TOKEN == "sim-daily-token"
    assert callable(daily.create_app) and hasattr(daily.DailyData, "generate")


# --- behaviour switches -----------------------------------------------------------------


@pytest.fixture(scope="module")
def switchable_app(data: DailyData) -> Iterator[str]:
    """A simulator over ``data`` whose switches the tests set (the URL)."""
    handle = start_in_thread(create_app(data))
    yield handle.url
    handle.stop()


@pytest.fixture
def switch(switchable_app: str) -> Iterator[Callable[..., httpx.Client]]:
    """Set switches over the control API; returns a client. Reset after the test."""
    with http_client(switchable_app) as http:

        def set_switches(**values: Any) -> httpx.Client:
            response = http.put("/_sim/behaviour", json=values)
            assert response.status_code == 200, response.text
            return http

        yield set_switches
        http.delete("/_sim/behaviour")


def the_crowd(data: DailyData) -> DailyMeeting:
    crowd = data.meetings[-1]
    assert len(crowd.participants) == 250
    return crowd


def walk_participants(http: httpx.Client, meeting_id: str) -> list[str]:
    """Participant ids of every page, paging after the latest joiner of each page."""
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 100}
    for _ in range(10):
        response = http.get(f"/meetings/{meeting_id}/participants", params=params)
        if response.status_code == 404:
            return seen
        rows = response.json()["data"]
        seen += [row["participant_id"] for row in rows]
        anchor = max(rows, key=lambda r: (r["join_time"], r["participant_id"]))
        params["joined_after"] = anchor["participant_id"]
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("order", ["join_order", "newest_first", "example"])
def test_paging_after_the_latest_joiner_reads_every_participant_once_in_any_order(
    switch: Callable[..., httpx.Client], data: DailyData, order: str
) -> None:
    crowd = the_crowd(data)
    seen = walk_participants(switch(participant_order=order), crowd.id)
    assert sorted(seen) == sorted(p.participant_id for p in crowd.participants)


def test_newest_first_serves_each_page_of_the_earliest_joiners_newest_first(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    crowd = the_crowd(data)
    http = switch(participant_order="newest_first")
    rows = http.get(f"/meetings/{crowd.id}/participants", params={"limit": 100}).json()["data"]
    keys = [(r["join_time"], r["participant_id"]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    assert {r["participant_id"] for r in rows} == {
        p.participant_id for p in crowd.participants[:100]
    }


def test_paging_after_the_last_row_repeats_rows_when_they_are_not_in_join_order(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    crowd = the_crowd(data)
    http = switch(participant_order="newest_first")
    url = f"/meetings/{crowd.id}/participants"
    first = http.get(url, params={"limit": 100}).json()["data"]
    after_last_row = {"limit": 100, "joined_after": first[-1]["participant_id"]}
    second = http.get(url, params=after_last_row).json()["data"]
    repeated = {r["participant_id"] for r in first} & {r["participant_id"] for r in second}
    assert len(repeated) == 99


def test_example_order_serves_participants_by_descending_id(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    meeting = crowded(data)
    http = switch(participant_order="example")
    rows = http.get(f"/meetings/{meeting.id}/participants").json()["data"]
    ids = [r["participant_id"] for r in rows]
    assert ids == sorted(ids, reverse=True)
    assert [r["join_time"] for r in rows] != sorted(r["join_time"] for r in rows)


def test_the_participant_order_applies_to_sessions_listed_with_their_participants(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    meeting = crowded(data)
    http = switch(participant_order="newest_first")
    listed = http.get("/meetings", params={"limit": 100}).json()["data"]
    listed += http.get("/meetings", params={"ending_before": "OLDEST"}).json()["data"]
    item = next(m for m in listed if m["id"] == meeting.id)
    assert item["participants"] == [p.to_json() for p in reversed(meeting.participants)]


def test_a_walk_past_the_last_participant_is_still_a_404_in_any_order(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    meeting = crowded(data)
    latest = meeting.participants[-1].participant_id
    http = switch(participant_order="newest_first")
    response = http.get(f"/meetings/{meeting.id}/participants", params={"joined_after": latest})
    assert response.status_code == 404


def tied_ids(listed: list[dict[str, Any]]) -> list[list[str]]:
    """Ids of sessions sharing a start_time, in listed order, for every tie."""
    groups: dict[int, list[str]] = {}
    for item in listed:
        groups.setdefault(item["start_time"], []).append(item["id"])
    return [ids for ids in groups.values() if len(ids) > 1]


def list_all(http: httpx.Client) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100, "no_participants": "true"}
    while True:
        page = http.get("/meetings", params=params).json()["data"]
        if not page:
            return listed
        listed += page
        params["starting_after"] = page[-1]["id"]


@pytest.mark.parametrize(("tie_order", "descending"), [("id_desc", True), ("id_asc", False)])
def test_sessions_that_start_together_are_ordered_by_the_tie_order_switch(
    switch: Callable[..., httpx.Client], tie_order: str, descending: bool
) -> None:
    listed = list_all(switch(tie_order=tie_order))
    ties = tied_ids(listed)
    assert ties, "the data set must have ties"
    for ids in ties:
        assert ids == sorted(ids, reverse=descending)
    starts = [item["start_time"] for item in listed]
    assert starts == sorted(starts, reverse=True)


def test_both_tie_orders_list_the_same_sessions_and_walk_without_loss(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    ascending = [item["id"] for item in list_all(switch(tie_order="id_asc"))]
    assert sorted(ascending) == sorted(m.id for m in data.meetings)
    assert ascending != [m.id for m in data.meetings]


def test_float_times_answers_every_time_and_duration_as_a_json_float(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    meeting = crowded(data)
    http = switch(float_times=True)
    listed = http.get("/meetings", params={"limit": 5}).json()["data"]
    assert all(isinstance(m["start_time"], float) for m in listed)
    assert all(isinstance(m["duration"], float) for m in listed)
    one = http.get(f"/meetings/{meeting.id}").json()
    assert one["start_time"] == float(meeting.start_time)
    assert isinstance(one["start_time"], float) and isinstance(one["duration"], float)
    rows = http.get(f"/meetings/{meeting.id}/participants").json()["data"]
    assert all(isinstance(r["join_time"], float) and isinstance(r["duration"], float) for r in rows)
    assert b"." in http.get(f"/meetings/{meeting.id}").content


def test_without_float_times_times_are_integers(client: httpx.Client) -> None:
    listed = client.get("/meetings", params={"limit": 5}).json()["data"]
    assert all(isinstance(m["start_time"], int) for m in listed)


def test_bad_row_null_time_nulls_only_the_chosen_session_s_start_time(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    chosen = data.meetings[2]
    http = switch(bad_row="null_time", bad_row_id=chosen.id)
    listed = http.get("/meetings", params={"limit": 10}).json()["data"]
    assert [m["id"] for m in listed if m["start_time"] is None] == [chosen.id]
    assert http.get(f"/meetings/{chosen.id}").json()["start_time"] is None


def test_bad_row_member_without_id_drops_one_participant_id_of_the_chosen_session(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    chosen = crowded(data)
    http = switch(bad_row="member_without_id", bad_row_id=chosen.id)
    rows = http.get(f"/meetings/{chosen.id}/participants").json()["data"]
    assert [r for r in rows if "participant_id" not in r] == [rows[0]]
    assert len(rows) == len(chosen.participants)


def test_bad_row_null_in_list_puts_a_null_among_the_chosen_session_s_participants(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    chosen = data.meetings[0]
    http = switch(bad_row="null_in_list", bad_row_id=chosen.id)
    listed = http.get("/meetings", params={"limit": 3}).json()["data"]
    assert listed[0]["participants"][0] is None
    assert all(None not in m["participants"] for m in listed[1:])


def test_bad_row_null_last_in_list_ends_each_participants_page_with_a_null(
    switch: Callable[..., httpx.Client], data: DailyData
) -> None:
    chosen = crowded(data)
    http = switch(bad_row="null_last_in_list", bad_row_id=chosen.id)
    rows = http.get(f"/meetings/{chosen.id}/participants", params={"limit": 10}).json()["data"]
    assert rows[-1] is None and None not in rows[:-1]
    assert len(rows) == 11  # the page's ten participants, then the null


def test_bad_row_unknown_enum_changes_nothing_as_daily_has_no_enum(
    switch: Callable[..., httpx.Client], data: DailyData, client: httpx.Client
) -> None:
    chosen = data.meetings[0]
    plain = {"participant_order": PLAIN.participant_order, "float_times": PLAIN.float_times}
    http = switch(bad_row="unknown_enum", bad_row_id=chosen.id, **plain)
    assert (
        http.get("/meetings", params={"limit": 3}).json()
        == client.get("/meetings", params={"limit": 3}).json()
    )
