"""Daily through the gateway: sessions as meetings, participants as attendees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers.daily import _cursor
from meetingmesh.resolvers.ids import encode_id
from tests.conftest import Stack

LIST = "GET /meetings"
ONE = "GET /meetings/{meeting_id}"
PARTICIPANTS = "GET /meetings/{meeting_id}/participants"

FIELDS = """
  id provider providerId title startTime endTime durationMinutes status capacity
  details { ... on DailyMeetingDetails { room ongoing maxParticipants durationSeconds } }
  attendees(first: 100) { totalCount edges { node { providerId name joinedAt durationSeconds
    member { providerId name } } } }
"""


def _newest_sessions(gateway: Stack, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = gateway.upstream("daily", "/meetings", limit=100, **params)["data"]
    return rows


def test_sessions_map_seconds_to_minutes_and_utc_times(gateway: Stack) -> None:
    raw = _newest_sessions(gateway, ongoing="false")[0]
    data = gateway.data(
        f"""{{ meetings(last: 1, filter: {{providers: [DAILY], ongoing: false}}) {{
             edges {{ node {{ {FIELDS} }} }} }} }}"""
    )
    node = data["meetings"]["edges"][0]["node"]
    assert node["providerId"] == raw["id"]
    assert node["title"] == raw["room"]
    assert node["startTime"] == datetime.fromtimestamp(raw["start_time"], UTC).isoformat()
    end = datetime.fromtimestamp(raw["start_time"] + raw["duration"], UTC)
    assert node["endTime"] == end.isoformat()
    assert node["durationMinutes"] == round(raw["duration"] / 60)
    assert node["status"] == "COMPLETED"
    assert node["capacity"] == raw["max_participants"]
    assert node["details"] == {
        "room": raw["room"],
        "ongoing": False,
        "maxParticipants": raw["max_participants"],
        "durationSeconds": raw["duration"],
    }


def test_participants_become_attendees_from_the_list_payload(gateway: Stack) -> None:
    raw = _newest_sessions(gateway, ongoing="false")[0]
    data = gateway.data(
        f"""{{ meetings(last: 1, filter: {{providers: [DAILY], ongoing: false}}) {{
             edges {{ node {{ {FIELDS} }} }} }} }}"""
    )
    attendees = data["meetings"]["edges"][0]["node"]["attendees"]
    assert attendees["totalCount"] == len(raw["participants"])
    in_join_order = sorted(raw["participants"], key=lambda p: (p["join_time"], p["participant_id"]))
    for edge, participant in zip(attendees["edges"], in_join_order, strict=True):
        assert edge["node"]["providerId"] == participant["participant_id"]
        assert edge["node"]["name"] == participant["user_name"]
        assert edge["node"]["durationSeconds"] == participant["duration"]
        joined = datetime.fromtimestamp(participant["join_time"], UTC).isoformat()
        assert edge["node"]["joinedAt"] == joined
        if participant["user_id"] is None:
            assert edge["node"]["member"] is None
        else:
            assert edge["node"]["member"]["providerId"] == participant["user_id"]
    assert gateway.calls("daily", PARTICIPANTS) == 0


def test_ongoing_filter_is_sent_to_daily_and_status_is_ongoing(gateway: Stack) -> None:
    data = gateway.data(
        """{ meetings(first: 10, filter: {providers: [DAILY], ongoing: true}) {
             totalCount edges { node { status
               details { ... on DailyMeetingDetails { ongoing } } } } } }"""
    )
    edges = data["meetings"]["edges"]
    assert edges, "the data set has ongoing sessions"
    assert {e["node"]["status"] for e in edges} == {"ONGOING"}
    assert data["meetings"]["totalCount"] == len(_newest_sessions(gateway, ongoing="true"))
    assert gateway.last_params("daily", LIST)["ongoing"] == ["true"]


def test_room_filter_is_native_and_excludes_other_providers(gateway: Stack) -> None:
    room = _newest_sessions(gateway)[0]["room"]
    data = gateway.data(
        """query($room: String!) { meetings(first: 100, filter: {room: $room}) {
             totalCount edges { node { provider title } } } }""",
        {"room": room},
    )
    expected = gateway.upstream("daily", "/meetings", room=room, limit=1)["total_count"]
    assert data["meetings"]["totalCount"] == expected
    assert {(e["node"]["provider"], e["node"]["title"]) for e in data["meetings"]["edges"]} == {
        ("DAILY", room)
    }
    assert gateway.last_params("daily", LIST)["room"] == [room]


def test_node_lookup_fetches_participants_from_their_endpoint(gateway: Stack) -> None:
    raw = _newest_sessions(gateway, ongoing="false")[0]
    listing = gateway.data(
        """{ meetings(last: 1, filter: {providers: [DAILY], ongoing: false}) {
             edges { node { id } } } }"""
    )
    global_id = listing["meetings"]["edges"][0]["node"]["id"]
    data = gateway.data(
        """query($id: ID!) { node(id: $id) { ... on Meeting { providerId
             attendees { totalCount } } } }""",
        {"id": global_id},
    )
    assert data["node"]["providerId"] == raw["id"]
    assert data["node"]["attendees"]["totalCount"] == len(raw["participants"])
    assert gateway.calls("daily", ONE) == 1
    assert gateway.calls("daily", PARTICIPANTS) >= 1


def test_unknown_session_id_is_null(gateway: Stack) -> None:
    from meetingmesh.domain import Provider
    from meetingmesh.resolvers.ids import encode_id

    missing = encode_id("Meeting", Provider.DAILY, "00000000-0000-4000-8000-000000000000")
    assert gateway.query("query($id: ID!) { meeting(id: $id) { id } }", {"id": missing}) == {
        "data": {"meeting": None}
    }


def test_descending_walk_uses_starting_after_and_ascending_uses_ending_before(
    gateway: Stack,
) -> None:
    query = """query($order: MeetingOrder, $after: String) {
      meetings(first: 10, orderBy: $order, after: $after, filter: {providers: [DAILY]}) {
        pageInfo { endCursor } edges { node { startTime } } } }"""
    down = gateway.data(query, {"order": "START_TIME_DESC"})["meetings"]
    assert "ending_before" not in gateway.last_params("daily", LIST)
    times = [e["node"]["startTime"] for e in down["edges"]]
    assert times == sorted(times, reverse=True)
    up = gateway.data(query, {"order": "START_TIME_ASC"})["meetings"]
    assert gateway.last_params("daily", LIST)["ending_before"] == ["OLDEST"]
    times = [e["node"]["startTime"] for e in up["edges"]]
    assert times == sorted(times)


def test_a_descending_cursor_on_the_first_page_resumes_it_as_it_was_read(
    gateway: Stack,
) -> None:
    # The first page of a descending walk starts after no session: its anchor names none,
    # and resuming there asks for that page again (the cache cleared), then the next one;
    # never ``starting_after=None``, which Daily refuses (a 400, then a walk afresh).
    query = """query($after: String) {
      meetings(first: 5, orderBy: START_TIME_DESC, after: $after, filter: {providers: [DAILY]}) {
        pageInfo { endCursor } edges { node { id startTime } } } }"""
    for adapter in gateway.adapters.values():
        adapter.client.clear_cache()
    first = gateway.data(query)["meetings"]
    gateway.http.delete(f"{gateway.provider_url('daily')}/_sim/stats")
    for adapter in gateway.adapters.values():
        adapter.client.clear_cache()
    second = gateway.data(query, {"after": first["pageInfo"]["endCursor"]})["meetings"]
    stats = gateway.http.get(f"{gateway.provider_url('daily')}/_sim/stats").json()
    assert stats["endpoints"][LIST]["statuses"] == {"200": 2}
    nodes = [e["node"] for e in first["edges"] + second["edges"]]
    assert [n["startTime"] for n in nodes] == sorted((n["startTime"] for n in nodes), reverse=True)
    assert len({n["id"] for n in nodes}) == 10


def _behave(gateway: Stack, **switches: Any) -> None:
    """Set the Daily simulator's behaviour switches (the gateway fixture resets them)."""
    response = gateway.http.put(f"{gateway.provider_url('daily')}/_sim/behaviour", json=switches)
    assert response.status_code == 200, response.text


def _crowd(gateway: Stack) -> dict[str, Any]:
    """The oldest session, with its 250 participants as Daily lists them."""
    crowd: dict[str, Any] = gateway.upstream("daily", "/meetings", ending_before="OLDEST", limit=1)[
        "data"
    ][0]
    assert len(crowd["participants"]) == 250
    return crowd


ATTENDEE_PAGE = """query($id: ID!, $after: String) { node(id: $id) { ... on Meeting {
  attendees(first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { providerId joinedAt } } } } } }"""


@pytest.mark.parametrize("order", ["join_order", "newest_first", "example"])
def test_250_participants_page_after_the_latest_joiner_once_each_in_join_order(
    gateway: Stack, order: str
) -> None:
    _behave(gateway, participant_order=order)
    crowd = _crowd(gateway)
    in_join_order = sorted(
        crowd["participants"], key=lambda p: (p["join_time"], p["participant_id"])
    )
    global_id = encode_id("Meeting", Provider.DAILY, crowd["id"])
    seen: list[str] = []
    after = None
    for _ in range(10):
        attendees = gateway.data(ATTENDEE_PAGE, {"id": global_id, "after": after})["node"][
            "attendees"
        ]
        assert attendees["totalCount"] == 250
        seen += [edge["node"]["providerId"] for edge in attendees["edges"]]
        if not attendees["pageInfo"]["hasNextPage"]:
            break
        after = attendees["pageInfo"]["endCursor"]
    assert seen == [p["participant_id"] for p in in_join_order]
    assert gateway.calls("daily", PARTICIPANTS) == 3


@pytest.mark.parametrize("how", ["null_in_list", "null_last_in_list"])
def test_a_null_on_every_participants_page_is_left_out_and_paging_goes_on(
    gateway: Stack, how: str
) -> None:
    crowd = _crowd(gateway)
    in_join_order = sorted(
        crowd["participants"], key=lambda p: (p["join_time"], p["participant_id"])
    )
    _behave(gateway, bad_row=how, bad_row_id=crowd["id"])
    global_id = encode_id("Meeting", Provider.DAILY, crowd["id"])
    seen: list[str] = []
    errors: list[list[str]] = []
    after = None
    for _ in range(10):
        answer = gateway.query(ATTENDEE_PAGE, {"id": global_id, "after": after})
        attendees = answer["data"]["node"]["attendees"]
        seen += [edge["node"]["providerId"] for edge in attendees["edges"]]
        errors.append([e["message"] for e in answer["errors"]])
        if not attendees["pageInfo"]["hasNextPage"]:
            break
        after = attendees["pageInfo"]["endCursor"]
    # Each Daily page continues after its latest readable joiner: nobody lost or repeated.
    assert seen == [p["participant_id"] for p in in_join_order]
    assert gateway.calls("daily", PARTICIPANTS) == 3
    # One error per answer, though each of the session's three Daily pages held a null.
    message = (
        f"Daily sent meeting session {crowd['id']} with a participant that is null;"
        " that participant was left out"
    )
    assert errors == [[message]] * 3


def test_listed_participants_become_attendees_in_join_order_whatever_order_daily_prints(
    gateway: Stack,
) -> None:
    _behave(gateway, participant_order="example")
    data = gateway.data(
        """{ meetings(first: 1, filter: {providers: [DAILY]}) {
             edges { node { attendees(first: 100) { edges { node { providerId } } } } } } }"""
    )
    meeting = data["meetings"]["edges"][0]["node"]
    listed = [e["node"]["providerId"] for e in meeting["attendees"]["edges"]]
    crowd = _crowd(gateway)
    in_join_order = sorted(
        crowd["participants"], key=lambda p: (p["join_time"], p["participant_id"])
    )
    assert listed == [p["participant_id"] for p in in_join_order[:100]]


DAILY_WALK = """query($order: MeetingOrder, $after: String) {
  meetings(first: 4, orderBy: $order, after: $after, filter: {providers: [DAILY]}) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { providerId durationMinutes
      details { ... on DailyMeetingDetails { durationSeconds } } } } } }"""


def _walk_daily(gateway: Stack, order: str) -> list[dict[str, Any]]:
    """Every edge of the Daily-only list, four at a time, resuming from each end cursor."""
    edges: list[dict[str, Any]] = []
    after = None
    for _ in range(200):
        page = gateway.data(DAILY_WALK, {"order": order, "after": after})["meetings"]
        edges += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            return edges
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


def _every_session(gateway: Stack) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100, "no_participants": "true"}
    for _ in range(100):
        page = gateway.upstream("daily", "/meetings", **params)["data"]
        sessions += page
        if len(page) < 100:
            return sessions
        params["starting_after"] = page[-1]["id"]
    raise AssertionError("the listing did not end")


@pytest.mark.parametrize("tie_order", ["id_desc", "id_asc"])
@pytest.mark.parametrize("order", ["START_TIME_ASC", "START_TIME_DESC"])
def test_walks_meet_every_session_once_in_key_order_whichever_way_daily_breaks_ties(
    gateway: Stack, tie_order: str, order: str
) -> None:
    _behave(gateway, tie_order=tie_order)
    sessions = _every_session(gateway)
    starts = [s["start_time"] for s in sessions]
    assert len(starts) > len(set(starts)), "the data set must have sessions that start together"
    expected = [s["id"] for s in sorted(sessions, key=lambda s: (s["start_time"], s["id"]))]
    if order == "START_TIME_DESC":
        expected.reverse()
    walked = [edge["node"]["providerId"] for edge in _walk_daily(gateway, order)]
    assert walked == expected


@pytest.mark.parametrize("order", ["START_TIME_ASC", "START_TIME_DESC"])
def test_float_times_change_no_id_cursor_duration_or_call(gateway: Stack, order: str) -> None:
    _behave(gateway, float_times=False)
    assert isinstance(_every_session(gateway)[0]["start_time"], int)
    gateway.http.delete(f"{gateway.provider_url('daily')}/_sim/stats")
    integers = _walk_daily(gateway, order)
    calls = gateway.calls("daily")
    gateway.http.delete(f"{gateway.provider_url('daily')}/_sim/stats")
    gateway.adapters[Provider.DAILY].client.clear_cache()
    _behave(gateway, float_times=True)
    assert isinstance(_every_session(gateway)[0]["start_time"], float)
    gateway.http.delete(f"{gateway.provider_url('daily')}/_sim/stats")
    assert _walk_daily(gateway, order) == integers
    assert gateway.calls("daily") == calls


def _walk_daily_with_errors(gateway: Stack, order: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``_walk_daily``, and the messages of the errors its pages carried."""
    edges: list[dict[str, Any]] = []
    messages: list[str] = []
    after = None
    for _ in range(200):
        answer = gateway.query(DAILY_WALK, {"order": order, "after": after})
        messages += [e["message"] for e in answer.get("errors", [])]
        page = answer["data"]["meetings"]
        edges += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            return edges, messages
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("order", ["START_TIME_ASC", "START_TIME_DESC"])
def test_a_session_without_a_start_leaves_its_page_resumable_at_no_extra_call(
    gateway: Stack, order: str
) -> None:
    sessions = _every_session(gateway)
    spoilt = sessions[len(sessions) // 2]["id"]
    gateway.http.delete(f"{gateway.provider_url('daily')}/_sim/stats")
    clean = _walk_daily(gateway, order)
    calls = gateway.calls("daily")
    gateway.adapters[Provider.DAILY].client.clear_cache()
    _behave(gateway, bad_row="null_time", bad_row_id=spoilt)
    gateway.http.delete(f"{gateway.provider_url('daily')}/_sim/stats")
    walked, messages = _walk_daily_with_errors(gateway, order)
    assert [e["node"]["providerId"] for e in walked] == [
        e["node"]["providerId"] for e in clean if e["node"]["providerId"] != spoilt
    ]
    # The pages holding it still serve their cursors: no page is taken for stale.
    assert gateway.calls("daily") == calls
    assert set(messages) == {
        f"Daily sent meeting session {spoilt} that has no start time; it was left out"
    }


def _refusal(code: ErrorCode, message: str) -> GatewayError:
    return GatewayError(code, f"Daily {message}", provider=Provider.DAILY)


def test_the_next_page_starts_after_the_last_session_that_has_an_id() -> None:
    """A page ending in rows without an id (left out as unreadable) still leads on."""
    rows = [{"id": "newest"}, {"id": "older"}, None, {"start_time": 1}]
    assert _cursor(_refusal, rows, ascending=False) == "older"
    assert _cursor(_refusal, [None, *rows], ascending=True) == "newest"
    with pytest.raises(GatewayError) as refused:
        _cursor(_refusal, [None, {"start_time": 1}], ascending=True)
    assert refused.value.code is ErrorCode.UPSTREAM_BAD_RESPONSE
