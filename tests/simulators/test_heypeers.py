"""Contract tests of the HeyPeers simulator, over real HTTP, against its documents."""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from meetingmesh.serving import start_in_thread
from meetingmesh.simulators.clock import DEFAULT_NOW, Clock
from meetingmesh.simulators.heypeers import (
    ACCESS_KEY,
    OTHER_ORG_TOKEN,
    TOKEN,
    HeyPeersBehaviour,
    HeyPeersData,
    create_app,
)
from meetingmesh.simulators.heypeers_data import Meeting, Registration

Serve = Callable[..., str]

UPCOMING = "/api/v2/organizations/5/members/{idp_id}/upcoming_meetings"
EXAMPLE_UPCOMING = UPCOMING.format(idp_id="sso-user-abc123")
EXPORT = "/api/v2/organizations/5/export_meetings"
UPCOMING_NAME = "GET /api/v2/organizations/{org_id}/members/{idp_id}/upcoming_meetings"
EXPORT_GET_NAME = "GET /api/v2/organizations/{org_id}/export_meetings"
EXPORT_POST_NAME = "POST /api/v2/organizations/{org_id}/export_meetings"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = DEFAULT_NOW
DEFAULT_AVATAR = "https://ssl.gstatic.com/accounts/ui/avatar_2x.png"
BUSY_MEMBER = "sso-user-0001"
WAITING_STATUSES = {"waiting", "accepted", "rejected", "offered", "expired"}

#: The member document's example response, verbatim.
DOCUMENTED_MEMBER_RESPONSE = orjson.loads(
    """{ "current_page": 1, "items": 10, "total_items": 2, "total_pages": 1, "meetings": [
    { "id": 9123, "name": "Morning Grief Support Circle", "start_time": "2026-05-23T15:00:00.000Z",
      "end_time": "2026-05-23T16:00:00.000Z", "duration": "1 hour", "duration_in_minutes": 60,
      "topic": "Grief & Loss", "description": "A supportive space to share and process grief.",
      "location": "heypeers", "max_attendees": 12, "registered_attendees": 7,
      "group_leader": { "id": 4501, "name": "Jane D.",
        "avatar": "https://heypeers-assets.s3.amazonaws.com/users/avatars/thumb/4501.png" },
      "waiting_status": null, "registered": true, "registered_at": "2026-05-20T18:42:11.000Z" },
    { "id": 9131, "name": "Anxiety & Stress Workshop", "start_time": "2026-05-26T17:00:00.000Z",
      "end_time": "2026-05-26T18:00:00.000Z", "duration": "1 hour", "duration_in_minutes": 60,
      "topic": "Anxiety", "description": null, "location": "zoom", "max_attendees": 8,
      "registered_attendees": 8,
      "group_leader": { "id": 4502, "name": "Sam L.",
        "avatar": "https://ssl.gstatic.com/accounts/ui/avatar_2x.png" },
      "waiting_status": "waiting", "registered": false, "registered_at": null } ] }"""
)
#: The export document's example rows (GET, POST and paginated examples), verbatim.
DOCUMENTED_EXPORT_ROWS = orjson.loads(
    """[ { "name": "Morning Grief Support Circle", "meeting_type": "Group",
      "start_time": "2026-05-23T15:00:00.000Z", "status": "scheduled", "group_leader": 4501,
      "price": 0 },
    { "name": "Evening Recovery Check-in", "meeting_type": "Group",
      "start_time": "2026-05-24T23:30:00.000Z", "status": "scheduled", "group_leader": 4502,
      "price": 10 } ]"""
)
DOCUMENTED_EXPORT_PARAMS: dict[str, Any] = {
    "reporting_days": "all_upcoming",
    "column[]": ["name", "meeting_type", "start_time", "status", "group_leader_id", "price"],
}
DOCUMENTED_CUSTOM_PARAMS: dict[str, Any] = {
    "reporting_days": "custom",
    "start_time": "11/01/2025 08:00 AM",
    "end_time": "11/30/2025 05:00 PM",
    "column[]": ["name", "start_time", "max_attendees", "location"],
}
ALL_COLUMNS = [
    "name",
    "meeting_type",
    "start_time",
    "duration",
    "status",
    "topic",
    "special_focus",
    "host",
    "location",
    "price",
    "max_attendees",
    "meeting_description",
    "group_leader_id",
    "privacy",
    "eap",
    "allow_meeting_donation",
    "invitation_only",
    "wait_list",
]
NAME_AND_START = ["name", "start_time"]
GRIEF = {"name": "Morning Grief Support Circle", "start_time": "2026-05-23T15:00:00.000Z"}
RECOVERY = {"name": "Evening Recovery Check-in", "start_time": "2026-05-24T23:30:00.000Z"}
#: A custom range that covers every generated meeting.
EVERYTHING = {
    "reporting_days": "custom",
    "start_time": "01/01/2000 12:00 AM",
    "end_time": "12/31/2099 11:59 PM",
}


# --- fixtures and independent expectations -------------------------------------------------


@dataclass
class Server:
    """A running simulator and clients with and without the valid token."""

    url: str
    client: httpx.Client
    anonymous: httpx.Client


@pytest.fixture(scope="module")
def big_data() -> HeyPeersData:
    """The size-10,000 data set, generated once for the module."""
    return HeyPeersData.generate(seed=0, size=10_000)


@pytest.fixture(scope="module")
def small_data() -> HeyPeersData:
    """The default-size data set, for the stats, faults and clock tests."""
    return HeyPeersData.generate(seed=0, size=200)


def _server(app: Any) -> Iterator[Server]:
    handle = start_in_thread(app)
    try:
        with (
            httpx.Client(base_url=handle.url, headers=AUTH, timeout=30) as client,
            httpx.Client(base_url=handle.url, timeout=30) as anonymous,
        ):
            yield Server(handle.url, client, anonymous)
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def big(big_data: HeyPeersData) -> Iterator[Server]:
    """The simulator over the size-10,000 data at the default clock, custom ranges in UTC.

    (The organization's zone is a switch; these contract tests' ranges are written in UTC.)
    """
    yield from _server(
        create_app(big_data, behaviour=HeyPeersBehaviour(organization_time_zone="UTC"))
    )


@pytest.fixture(scope="module")
def small(small_data: HeyPeersData) -> Iterator[Server]:
    """The simulator over the default-size data at the default clock."""
    yield from _server(create_app(small_data))


@pytest.fixture
def fresh(small: Server) -> Iterator[Server]:
    """The small simulator with zero stats and no faults, reset again afterwards."""
    for route in ("/_sim/faults", "/_sim/stats"):
        small.anonymous.delete(route)
    yield small
    for route in ("/_sim/faults", "/_sim/stats"):
        small.anonymous.delete(route)


@pytest.fixture(scope="module")
def january(big_data: HeyPeersData) -> Iterator[Server]:
    """The size-10,000 simulator with its clock on Monday 2026-01-05 09:30 UTC."""
    yield from _server(create_app(big_data, clock=Clock(utc(2026, 1, 5, 9, 30))))


@pytest.fixture
def api(big: Server) -> httpx.Client:
    """A client of the shared simulator carrying the valid token."""
    return big.client


def at(text: str) -> datetime:
    """An ISO 8601 instant as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def start(m: Meeting) -> datetime:
    """When a meeting starts."""
    return at(m.start_time)


def end(m: Meeting) -> datetime:
    """When a meeting ends."""
    return at(m.end_time)


def export_row(m: Meeting, columns: list[str]) -> dict[str, Any]:
    """The export row the documents promise for a stored meeting."""
    return {("group_leader" if c == "group_leader_id" else c): getattr(m, c) for c in columns}


def in_id_order(data: HeyPeersData, keep: Callable[[Meeting], bool]) -> list[Meeting]:
    """Matching meetings in stored (id) order."""
    return sorted((m for m in data.meetings if keep(m)), key=lambda m: m.id)


def chronological(data: HeyPeersData, keep: Callable[[Meeting], bool]) -> list[Meeting]:
    """Matching meetings ordered by start_time, then id."""
    return sorted((m for m in data.meetings if keep(m)), key=lambda m: (start(m), m.id))


def starting_between(lo: datetime, hi: datetime) -> Callable[[Meeting], bool]:
    """Meetings with lo <= start < hi."""
    return lambda m: lo <= start(m) < hi


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def expected_member_meeting(data: HeyPeersData, m: Meeting, r: Registration) -> dict[str, Any]:
    """The member endpoint's record of ``m`` for registration ``r``, per the document."""
    leaders = {g.id: g for g in data.group_leaders}
    leader = leaders.get(m.group_leader_id) if m.group_leader_id is not None else None
    hours, minutes = divmod(m.duration, 60)
    words = ([f"{hours} hour" + ("s" if hours > 1 else "")] if hours else []) + (
        [f"{minutes} minutes"] if minutes else []
    )
    return {
        "id": m.id,
        "name": m.name,
        "start_time": m.start_time,
        "end_time": m.end_time,
        "duration": " ".join(words),
        "duration_in_minutes": m.duration,
        "topic": m.topic,
        "description": m.meeting_description,
        "location": m.location,
        "max_attendees": m.max_attendees,
        "registered_attendees": m.registered_attendees,
        "group_leader": None
        if leader is None
        else {"id": leader.id, "name": leader.name, "avatar": leader.avatar or DEFAULT_AVATAR},
        "waiting_status": r.waiting_status,
        "registered": r.registered,
        "registered_at": r.registered_at,
    }


def expected_upcoming(data: HeyPeersData, idp_id: str, now: datetime) -> list[dict[str, Any]]:
    """A member's upcoming meetings as the document describes them, in order."""
    member = next(m for m in data.members if m.idp_id == idp_id)
    meetings = {m.id: m for m in data.meetings}
    pairs = [(meetings[r.meeting_id], r) for r in member.registrations]
    listed = [(m, r) for m, r in pairs if end(m) > now and m.status == "scheduled"]
    listed.sort(key=lambda pair: (start(pair[0]), pair[0].id))
    return [expected_member_meeting(data, m, r) for m, r in listed]


def export(client: httpx.Client, **params: Any) -> Any:
    """GET the export with ``params``; assert success and return the body."""
    response = client.get(EXPORT, params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- member's upcoming meetings -------------------------------------------------------------


def test_member_example_request_returns_the_documented_response_exactly(api: httpx.Client) -> None:
    response = api.get(EXAMPLE_UPCOMING, params={"page": 1, "items": 10})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == DOCUMENTED_MEMBER_RESPONSE


def test_member_upcoming_defaults_to_page_1_of_10_items(api: httpx.Client) -> None:
    body = api.get(UPCOMING.format(idp_id=BUSY_MEMBER)).json()
    assert (body["current_page"], body["items"]) == (1, 10)
    assert len(body["meetings"]) == 10


@pytest.mark.parametrize(("sent", "used"), [("0", 1), ("-5", 1), ("1", 1), ("100", 100)])
def test_member_upcoming_clamps_items_to_1_through_100(
    api: httpx.Client, sent: str, used: int
) -> None:
    body = api.get(UPCOMING.format(idp_id=BUSY_MEMBER), params={"items": sent}).json()
    assert body["items"] == used
    assert len(body["meetings"]) == used


def test_member_upcoming_clamps_items_above_100_to_100(api: httpx.Client) -> None:
    body = api.get(UPCOMING.format(idp_id=BUSY_MEMBER), params={"items": 5000}).json()
    assert body["items"] == 100
    assert len(body["meetings"]) == 100
    assert body["total_pages"] == -(-body["total_items"] // 100)


def test_member_upcoming_treats_a_page_below_1_as_page_1(api: httpx.Client) -> None:
    body = api.get(EXAMPLE_UPCOMING, params={"page": 0}).json()
    assert body == DOCUMENTED_MEMBER_RESPONSE


@pytest.mark.parametrize("params", [{"page": "two"}, {"items": "ten"}, {"page": "1.5"}])
def test_member_upcoming_rejects_non_integer_paging(
    api: httpx.Client, params: dict[str, str]
) -> None:
    response = api.get(EXAMPLE_UPCOMING, params=params)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert isinstance(response.json()["error"], str)


def test_member_upcoming_page_past_the_end_is_empty_with_true_totals(api: httpx.Client) -> None:
    body = api.get(EXAMPLE_UPCOMING, params={"page": 3, "items": 1}).json()
    assert body == {
        "current_page": 3,
        "items": 1,
        "total_items": 2,
        "total_pages": 2,
        "meetings": [],
    }


def test_member_upcoming_pages_split_the_list_in_order(api: httpx.Client) -> None:
    first = api.get(EXAMPLE_UPCOMING, params={"page": 1, "items": 1}).json()
    second = api.get(EXAMPLE_UPCOMING, params={"page": 2, "items": 1}).json()
    assert [m["id"] for m in first["meetings"] + second["meetings"]] == [9123, 9131]
    assert first["total_pages"] == second["total_pages"] == 2


def test_unknown_member_is_404_user_not_found(api: httpx.Client) -> None:
    response = api.get(UPCOMING.format(idp_id="sso-user-nobody"))
    assert response.status_code == 404
    assert response.json() == {"error": "User not found on HeyPeers"}


def test_member_lookup_is_by_idp_id_not_by_user_id(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    user_id = next(m.user_id for m in big_data.members if m.idp_id == "sso-user-abc123")
    response = api.get(UPCOMING.format(idp_id=user_id))
    assert response.status_code == 404


def test_member_upcoming_lists_registrations_and_waitlist_entries_as_documented(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    """Not ended, not canceled or completed, ordered by start_time then id, fields as stored."""
    body = api.get(UPCOMING.format(idp_id=BUSY_MEMBER), params={"items": 100}).json()
    expected = expected_upcoming(big_data, BUSY_MEMBER, NOW)
    assert body["total_items"] == len(expected)
    assert body["meetings"] == expected[:100]


def test_member_upcoming_leaves_out_ended_canceled_and_completed_meetings(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    member = next(m for m in big_data.members if m.idp_id == BUSY_MEMBER)
    meetings = {m.id: m for m in big_data.meetings}
    left_out = {
        r.meeting_id
        for r in member.registrations
        if end(meetings[r.meeting_id]) <= NOW or meetings[r.meeting_id].status != "scheduled"
    }
    assert any(meetings[i].status == "cancel" for i in left_out)
    assert any(meetings[i].status == "complete" for i in left_out)
    listed = set()
    page = 1
    while True:
        body = api.get(UPCOMING.format(idp_id=BUSY_MEMBER), params={"page": page, "items": 100})
        listed |= {m["id"] for m in body.json()["meetings"]}
        if page >= body.json()["total_pages"]:
            break
        page += 1
    assert listed.isdisjoint(left_out)


def test_member_upcoming_shows_every_documented_waiting_status(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    """``accepted`` holds a seat; the other statuses are unseated waitlist entries."""
    records = expected_upcoming(big_data, BUSY_MEMBER, NOW)
    pages = -(-len(records) // 100)
    seen: list[dict[str, Any]] = []
    for page in range(1, pages + 1):
        params = {"page": page, "items": 100}
        seen += api.get(UPCOMING.format(idp_id=BUSY_MEMBER), params=params).json()["meetings"]
    assert {m["waiting_status"] for m in seen} == WAITING_STATUSES | {None}
    for record in seen:
        seated = record["waiting_status"] in (None, "accepted")
        assert record["registered"] is seated
        assert (record["registered_at"] is not None) is seated


def test_member_upcoming_walks_every_page_exactly_once_at_size_10000(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    expected = expected_upcoming(big_data, BUSY_MEMBER, NOW)
    first = api.get(UPCOMING.format(idp_id=BUSY_MEMBER), params={"page": 1, "items": 100}).json()
    assert first["total_items"] == len(expected) > 100
    walked = first["meetings"]
    for page in range(2, first["total_pages"] + 1):
        params = {"page": page, "items": 100}
        body = api.get(UPCOMING.format(idp_id=BUSY_MEMBER), params=params).json()
        assert body["current_page"] == page
        assert body["total_items"] == first["total_items"]
        walked += body["meetings"]
    ids = [m["id"] for m in walked]
    assert len(ids) == len(set(ids)) == first["total_items"]
    assert walked == expected


def test_member_upcoming_keeps_a_meeting_in_progress_until_it_ends(
    serve: Serve, small_data: HeyPeersData
) -> None:
    during = Clock(utc(2026, 5, 23, 15, 59))
    after = Clock(utc(2026, 5, 23, 16, 0))
    with httpx.Client(base_url=serve(create_app(small_data, clock=during)), headers=AUTH) as c:
        assert [m["id"] for m in c.get(EXAMPLE_UPCOMING).json()["meetings"]] == [9123, 9131]
    with httpx.Client(base_url=serve(create_app(small_data, clock=after)), headers=AUTH) as c:
        assert [m["id"] for m in c.get(EXAMPLE_UPCOMING).json()["meetings"]] == [9131]


# --- authentication ------------------------------------------------------------------------


ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", EXAMPLE_UPCOMING, None),
    ("GET", EXPORT + "?column[]=name", None),
    ("POST", EXPORT, {"column": ["name"]}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": TOKEN}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_a_token_that_resolves_to_no_organization_is_401_unauthorized_access(
    big: Server, method: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    response = big.anonymous.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized Access"}


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_token_of_another_organization_is_401_not_authorized(
    big: Server, method: str, path: str, body: Any
) -> None:
    headers = {"Authorization": f"Bearer {OTHER_ORG_TOKEN}"}
    response = big.anonymous.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Not Authorized"}


def test_the_default_token_on_another_organizations_url_is_401_not_authorized(
    api: httpx.Client,
) -> None:
    response = api.get("/api/v2/organizations/6/export_meetings", params={"column[]": "name"})
    assert response.status_code == 401
    assert response.json() == {"error": "Not Authorized"}


def test_the_other_organization_owns_no_meetings_and_no_members(big: Server) -> None:
    headers = {"Authorization": f"Bearer {OTHER_ORG_TOKEN}"}
    export_url = "/api/v2/organizations/6/export_meetings"
    params = {"reporting_days": "all_upcoming", "column[]": "name"}
    response = big.anonymous.get(export_url, params=params, headers=headers)
    assert response.json() == {"success": True, "meetings": []}
    member_url = "/api/v2/organizations/6/members/sso-user-abc123/upcoming_meetings"
    response = big.anonymous.get(member_url, headers=headers)
    assert response.status_code == 404
    assert response.json() == {"error": "User not found on HeyPeers"}


# --- export: documented examples -----------------------------------------------------------


def test_export_get_example_starts_with_the_documented_rows(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    body = export(api, **DOCUMENTED_EXPORT_PARAMS)
    assert set(body) == {"success", "meetings"}
    assert body["success"] is True
    assert body["meetings"][:2] == DOCUMENTED_EXPORT_ROWS
    upcoming = in_id_order(big_data, lambda m: end(m) > NOW and m.status == "scheduled")
    assert body["meetings"] == [
        export_row(m, DOCUMENTED_EXPORT_PARAMS["column[]"]) for m in upcoming
    ]


def test_export_post_example_equals_the_get_answer(api: httpx.Client) -> None:
    post = api.post(
        EXPORT,
        json={
            "reporting_days": "all_upcoming",
            "column": ["name", "meeting_type", "start_time", "status", "group_leader_id", "price"],
        },
    )
    assert post.status_code == 200
    assert post.json() == export(api, **DOCUMENTED_EXPORT_PARAMS)


def test_export_paginated_example_starts_with_the_documented_row(api: httpx.Client) -> None:
    # Only the meeting in progress at now (not in the documents) comes before it.
    body = export(api, page=1, per_page=100, **DOCUMENTED_EXPORT_PARAMS)
    assert list(body) == ["success", "metadata", "meetings"]
    assert body["meetings"][0]["name"] == "Midday Peer Check-in"
    assert body["meetings"][1] == DOCUMENTED_EXPORT_ROWS[0]
    assert body["metadata"]["page"] == 1
    assert body["metadata"]["per_page"] == 100


def test_export_curl_custom_range_example_returns_the_four_columns_in_range(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    body = export(api, **DOCUMENTED_CUSTOM_PARAMS)
    keep = starting_between(utc(2025, 11, 1, 8, 0), utc(2025, 11, 30, 17, 1))
    expected = in_id_order(big_data, keep)
    assert expected
    assert body["meetings"] == [
        export_row(m, DOCUMENTED_CUSTOM_PARAMS["column[]"]) for m in expected
    ]
    assert all(
        list(row) == ["name", "start_time", "max_attendees", "location"] for row in body["meetings"]
    )


# --- export: columns -----------------------------------------------------------------------


def test_export_returns_every_documented_column_with_its_stored_value(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    body = export(api, reporting_days="all_upcoming", **{"column[]": ALL_COLUMNS})
    first = body["meetings"][0]
    assert list(first) == [c if c != "group_leader_id" else "group_leader" for c in ALL_COLUMNS]
    assert first == {
        "name": "Morning Grief Support Circle",
        "meeting_type": "Group",
        "start_time": "2026-05-23T15:00:00.000Z",
        "duration": 60,
        "status": "scheduled",
        "topic": "Grief & Loss",
        "special_focus": "General",
        "host": "HeyPeers",
        "location": "heypeers",
        "price": 0,
        "max_attendees": 12,
        "meeting_description": "A supportive space to share and process grief.",
        "group_leader": 4501,
        "privacy": False,
        "eap": False,
        "allow_meeting_donation": True,
        "invitation_only": False,
        "wait_list": False,
    }


def test_export_values_have_the_documented_types(api: httpx.Client) -> None:
    rows = export(api, **EVERYTHING, **{"column[]": ALL_COLUMNS})["meetings"]
    assert {r["status"] for r in rows} == {"scheduled", "complete", "cancel"}
    assert {r["location"] for r in rows} == {"heypeers", "zoom"}
    assert {r["meeting_type"] for r in rows} == {"Group", "OneToOne"}
    assert any(r["group_leader"] is None for r in rows)
    assert any(r["meeting_description"] is None for r in rows)
    for row in rows:
        assert isinstance(row["duration"], int) and 15 <= row["duration"] <= 120
        assert isinstance(row["price"], int | float) and row["price"] >= 0
        assert row["group_leader"] is None or isinstance(row["group_leader"], int)
        assert row["start_time"] == at(row["start_time"]).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for flag in ("privacy", "eap", "allow_meeting_donation", "invitation_only", "wait_list"):
            assert isinstance(row[flag], bool)


@pytest.mark.parametrize(
    "params",
    [{}, {"column[]": ""}, {"reporting_days": "all_upcoming"}],
    ids=["missing", "blank", "no-column-with-preset"],
)
def test_export_without_columns_returns_success_and_no_meetings(
    api: httpx.Client, params: dict[str, str]
) -> None:
    assert export(api, **params) == {"success": True, "meetings": []}


@pytest.mark.parametrize("body", [{}, {"column": []}, {"column": None}])
def test_export_post_without_columns_returns_success_and_no_meetings(
    api: httpx.Client, body: dict[str, Any]
) -> None:
    response = api.post(EXPORT, json=body)
    assert response.json() == {"success": True, "meetings": []}


def test_export_repeated_column_is_returned_once(api: httpx.Client) -> None:
    rows = export(api, reporting_days="all_upcoming", **{"column[]": ["name", "name"]})["meetings"]
    assert rows[0] == {"name": "Morning Grief Support Circle"}


@pytest.mark.parametrize("column", ["group_leader", "id", "registered_attendees", "nonsense"])
def test_export_rejects_an_unknown_column_key(api: httpx.Client, column: str) -> None:
    response = api.get(EXPORT, params={"column[]": ["name", column]})
    assert response.status_code == 400
    assert column in response.json()["error"]


def test_export_get_requires_column_as_an_array(api: httpx.Client) -> None:
    response = api.get(EXPORT, params={"column": "name"})
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("column", ["name", [1, 2], {"name": True}])
def test_export_post_requires_column_as_an_array_of_strings(api: httpx.Client, column: Any) -> None:
    response = api.post(EXPORT, json={"column": column})
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"'])
def test_export_post_rejects_a_body_that_is_not_a_json_object(
    api: httpx.Client, body: bytes
) -> None:
    response = api.post(EXPORT, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


# --- export: reporting_days ----------------------------------------------------------------


def _ended(m: Meeting) -> bool:
    return end(m) <= NOW and m.status != "cancel"


PRESETS: dict[str | None, Callable[[Meeting], bool]] = {
    None: _ended,
    "all": _ended,
    "all_past": _ended,
    "all_upcoming": lambda m: end(m) > NOW and m.status == "scheduled",
    "today": starting_between(utc(2026, 5, 22), utc(2026, 5, 23)),
    "current_month": starting_between(utc(2026, 5, 1), utc(2026, 6, 1)),
    "last_week": starting_between(utc(2026, 5, 11), utc(2026, 5, 18)),
    "last_month": starting_between(utc(2026, 4, 1), utc(2026, 5, 1)),
}


@pytest.mark.parametrize("reporting_days", list(PRESETS), ids=lambda v: v or "omitted")
def test_export_reporting_days_preset_selects_by_the_clock(
    api: httpx.Client, big_data: HeyPeersData, reporting_days: str | None
) -> None:
    """At the default clock (Friday 2026-05-22 12:00 UTC)."""
    params: dict[str, Any] = {"column[]": ALL_COLUMNS}
    if reporting_days is not None:
        params["reporting_days"] = reporting_days
    rows = export(api, **params)["meetings"]
    expected = in_id_order(big_data, PRESETS[reporting_days])
    assert len(expected) > 10
    assert rows == [export_row(m, ALL_COLUMNS) for m in expected]


def test_export_default_returns_only_completed_past_meetings(api: httpx.Client) -> None:
    rows = export(api, **{"column[]": ["start_time", "status"]})["meetings"]
    assert {r["status"] for r in rows} == {"complete"}
    assert max(r["start_time"] for r in rows) < "2026-05-22T12:00:00.000Z"


def test_export_all_upcoming_includes_a_meeting_in_progress(
    serve: Serve, small_data: HeyPeersData
) -> None:
    app = create_app(small_data, clock=Clock(utc(2026, 5, 23, 15, 30)))
    with httpx.Client(base_url=serve(app), headers=AUTH) as client:
        upcoming = export(client, reporting_days="all_upcoming", **{"column[]": NAME_AND_START})
        past = export(client, reporting_days="all_past", **{"column[]": NAME_AND_START})
    assert GRIEF in upcoming["meetings"]
    assert GRIEF not in past["meetings"]


def test_export_all_past_includes_a_meeting_the_moment_it_ends(
    serve: Serve, small_data: HeyPeersData
) -> None:
    app = create_app(small_data, clock=Clock(utc(2026, 5, 23, 16, 0)))
    with httpx.Client(base_url=serve(app), headers=AUTH) as client:
        upcoming = export(client, reporting_days="all_upcoming", **{"column[]": NAME_AND_START})
        past = export(client, reporting_days="all_past", **{"column[]": NAME_AND_START})
    assert GRIEF not in upcoming["meetings"]
    assert GRIEF in past["meetings"]


@pytest.mark.parametrize(
    ("reporting_days", "lo", "hi"),
    [
        ("today", utc(2026, 1, 5), utc(2026, 1, 6)),
        ("current_month", utc(2026, 1, 1), utc(2026, 2, 1)),
        ("last_week", utc(2025, 12, 29), utc(2026, 1, 5)),
        ("last_month", utc(2025, 12, 1), utc(2026, 1, 1)),
    ],
)
def test_export_calendar_presets_follow_another_clock_across_a_year_boundary(
    january: Server,
    big_data: HeyPeersData,
    reporting_days: str,
    lo: datetime,
    hi: datetime,
) -> None:
    """Clock on Monday 2026-01-05 09:30 UTC: last week is Mon 12-29 .. Sun 01-04."""
    rows = export(january.client, reporting_days=reporting_days, **{"column[]": ALL_COLUMNS})
    expected = in_id_order(big_data, starting_between(lo, hi))
    assert expected
    assert rows["meetings"] == [export_row(m, ALL_COLUMNS) for m in expected]


def test_export_rejects_an_unknown_reporting_days(api: httpx.Client) -> None:
    response = api.get(EXPORT, params={"reporting_days": "yesterday", "column[]": "name"})
    assert response.status_code == 400
    assert "yesterday" in response.json()["error"]


# --- export: custom ranges -----------------------------------------------------------------


def _custom(client: httpx.Client, lo: str, hi: str) -> list[str]:
    params = {"reporting_days": "custom", "start_time": lo, "end_time": hi}
    rows = export(client, **params, **{"column[]": ["name", "start_time"]})["meetings"]
    return [r["name"] for r in rows if r["start_time"] == "2026-05-23T15:00:00.000Z"]


def test_custom_range_bounds_are_both_inclusive_at_minute_resolution(api: httpx.Client) -> None:
    """9123 starts 2026-05-23 15:00 UTC."""
    grief = "Morning Grief Support Circle"
    assert grief in _custom(api, "05/23/2026 03:00 PM", "05/23/2026 03:00 PM")
    assert grief in _custom(api, "05/23/2026 02:59 PM", "05/23/2026 03:00 PM")
    assert grief not in _custom(api, "05/23/2026 03:01 PM", "05/23/2026 04:00 PM")
    assert grief not in _custom(api, "05/23/2026 02:00 PM", "05/23/2026 02:59 PM")


def test_custom_range_of_one_minute_returns_exactly_the_meetings_starting_in_it(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    params = {"start_time": "05/23/2026 03:00 PM", "end_time": "05/23/2026 03:00 PM"}
    rows = export(api, reporting_days="custom", **params, **{"column[]": ALL_COLUMNS})
    expected = in_id_order(big_data, lambda m: m.start_time == "2026-05-23T15:00:00.000Z")
    assert rows["meetings"] == [export_row(m, ALL_COLUMNS) for m in expected]


def test_custom_range_times_are_utc_with_12_hour_clock(api: httpx.Client) -> None:
    params = {"start_time": "05/24/2026 11:30 PM", "end_time": "05/24/2026 11:30 PM"}
    rows = export(api, reporting_days="custom", **params, **{"column[]": NAME_AND_START})
    assert RECOVERY in rows["meetings"]


def test_custom_range_with_start_after_end_matches_nothing(api: httpx.Client) -> None:
    params = {"start_time": "05/24/2026 11:30 PM", "end_time": "05/23/2026 11:30 PM"}
    assert export(api, reporting_days="custom", **params, **{"column[]": "name"})["meetings"] == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start_time": "05/23/2026 03:00 PM"},
        {"end_time": "05/23/2026 03:00 PM"},
        {"start_time": "", "end_time": "05/23/2026 03:00 PM"},
    ],
    ids=["neither", "start-only", "end-only", "blank-start"],
)
def test_custom_range_requires_both_bounds(api: httpx.Client, params: dict[str, str]) -> None:
    response = api.get(EXPORT, params={"reporting_days": "custom", "column[]": "name", **params})
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize(
    "value",
    ["2026-05-23T15:00:00Z", "05/23/2026 15:00", "13/01/2026 08:00 AM", "05/23/2026 13:00 PM"],
)
def test_custom_range_rejects_an_unparsable_time(api: httpx.Client, value: str) -> None:
    params = {"reporting_days": "custom", "start_time": value, "end_time": "12/31/2026 11:59 PM"}
    response = api.get(EXPORT, params={**params, "column[]": "name"})
    assert response.status_code == 400
    assert value in response.json()["error"]


def test_explicit_range_narrows_any_preset(api: httpx.Client, big_data: HeyPeersData) -> None:
    params = {
        "reporting_days": "all_upcoming",
        "start_time": "05/01/2026 12:00 AM",
        "end_time": "05/24/2026 11:29 PM",
    }
    rows = export(api, **params, **{"column[]": ALL_COLUMNS})["meetings"]
    expected = in_id_order(
        big_data,
        lambda m: end(m) > NOW and m.status == "scheduled" and start(m) < utc(2026, 5, 24, 23, 30),
    )
    assert rows == [export_row(m, ALL_COLUMNS) for m in expected]
    assert not any(r["start_time"] == RECOVERY["start_time"] for r in rows)


def test_explicit_range_outside_the_preset_matches_nothing(api: httpx.Client) -> None:
    params = {"start_time": "06/01/2026 12:00 AM", "end_time": "06/30/2026 11:59 PM"}
    assert (
        export(api, reporting_days="all_past", **params, **{"column[]": "name"})["meetings"] == []
    )


def test_a_single_bound_does_not_narrow_a_preset(api: httpx.Client) -> None:
    plain = export(api, reporting_days="all_upcoming", **{"column[]": "start_time"})
    one = export(
        api,
        reporting_days="all_upcoming",
        start_time="06/01/2026 12:00 AM",
        **{"column[]": "start_time"},
    )
    assert one == plain


# --- export: report_type -------------------------------------------------------------------


def test_eap_report_type_limits_the_export_to_eap_meetings(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    rows = export(api, **EVERYTHING, report_type="eap_meetings", **{"column[]": ALL_COLUMNS})
    expected = in_id_order(big_data, lambda m: m.eap)
    assert rows["meetings"] == [export_row(m, ALL_COLUMNS) for m in expected]
    workshop = ("Anxiety & Stress Workshop", "2026-05-26T17:00:00.000Z")
    assert workshop in {(r["name"], r["start_time"]) for r in rows["meetings"]}


def test_all_meetings_report_type_is_the_default(api: httpx.Client) -> None:
    explicit = export(api, report_type="all_meetings", **{"column[]": ["name", "eap"]})
    assert explicit == export(api, **{"column[]": ["name", "eap"]})
    assert {r["eap"] for r in explicit["meetings"]} == {True, False}


def test_export_rejects_an_unknown_report_type(api: httpx.Client) -> None:
    response = api.get(EXPORT, params={"report_type": "hpc_meetings", "column[]": "name"})
    assert response.status_code == 400
    assert "hpc_meetings" in response.json()["error"]


# --- export: ordering and pagination -------------------------------------------------------


def test_unpaginated_export_is_in_stored_id_order_which_is_not_chronological(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    rows = export(api, **EVERYTHING, **{"column[]": ALL_COLUMNS})["meetings"]
    assert rows == [export_row(m, ALL_COLUMNS) for m in big_data.meetings]
    starts = [r["start_time"] for r in rows]
    assert starts != sorted(starts)


def test_paginated_export_is_ordered_by_start_time_then_id(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    body = export(api, reporting_days="current_month", per_page=100, **{"column[]": ALL_COLUMNS})
    expected = chronological(big_data, starting_between(utc(2026, 5, 1), utc(2026, 6, 1)))
    assert body["meetings"] == [export_row(m, ALL_COLUMNS) for m in expected[:100]]
    ties = Counter(m.start_time for m in expected[:100])
    assert max(ties.values()) > 1  # the id tie-break is exercised


def test_paginated_export_metadata_describes_the_whole_result(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    body = export(api, reporting_days="last_week", page=3, per_page=7, **{"column[]": ALL_COLUMNS})
    expected = chronological(big_data, starting_between(utc(2026, 5, 11), utc(2026, 5, 18)))
    assert body["metadata"] == {
        "page": 3,
        "per_page": 7,
        "total_pages": -(-len(expected) // 7),
        "total_count": len(expected),
    }
    assert body["meetings"] == [export_row(m, ALL_COLUMNS) for m in expected[14:21]]


@pytest.mark.parametrize(
    ("params", "page", "per_page"),
    [
        ({"page": 2}, 2, 100),
        ({"per_page": 25}, 1, 25),
        ({"per_page": 0}, 1, 1),
        ({"per_page": -3}, 1, 1),
        ({"per_page": 1000}, 1, 100),
        ({"page": 0}, 1, 100),
    ],
)
def test_pagination_defaults_and_clamping(
    api: httpx.Client, params: dict[str, int], page: int, per_page: int
) -> None:
    body = export(api, reporting_days="all_upcoming", **params, **{"column[]": "name"})
    assert body["metadata"]["page"] == page
    assert body["metadata"]["per_page"] == per_page
    assert len(body["meetings"]) == per_page


def test_export_page_past_the_end_is_empty_with_metadata(api: httpx.Client) -> None:
    body = export(api, reporting_days="today", page=99, per_page=100, **{"column[]": "name"})
    assert body["meetings"] == []
    assert body["metadata"]["page"] == 99
    assert body["metadata"]["total_pages"] == 1
    assert body["metadata"]["total_count"] > 0


def test_export_with_no_match_has_zero_pages(api: httpx.Client) -> None:
    params = {"start_time": "01/01/2001 12:00 AM", "end_time": "01/02/2001 12:00 AM"}
    body = export(api, reporting_days="custom", page=1, **params, **{"column[]": "name"})
    assert body == {
        "success": True,
        "metadata": {"page": 1, "per_page": 100, "total_pages": 0, "total_count": 0},
        "meetings": [],
    }


@pytest.mark.parametrize("params", [{"page": "first"}, {"per_page": "lots"}, {"page": "2.0"}])
def test_export_rejects_non_integer_pagination(api: httpx.Client, params: dict[str, str]) -> None:
    response = api.get(EXPORT, params={"column[]": "name", **params})
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


def test_export_post_paginates_with_body_parameters(api: httpx.Client) -> None:
    body = {"reporting_days": "all_upcoming", "column": ["name"], "page": 2, "per_page": "5"}
    response = api.post(EXPORT, json=body)
    params = {"reporting_days": "all_upcoming", "page": 2, "per_page": 5, "column[]": "name"}
    assert response.json() == export(api, **params)


def test_export_walks_every_page_exactly_once_at_size_10000(
    api: httpx.Client, big_data: HeyPeersData
) -> None:
    first = export(api, **EVERYTHING, page=1, per_page=100, **{"column[]": ALL_COLUMNS})
    assert first["metadata"]["total_count"] == 10_000
    walked = first["meetings"]
    for page in range(2, first["metadata"]["total_pages"] + 1):
        body = export(api, **EVERYTHING, page=page, per_page=100, **{"column[]": ALL_COLUMNS})
        assert body["metadata"]["page"] == page
        walked += body["meetings"]
    assert len(walked) == 10_000
    assert walked == [export_row(m, ALL_COLUMNS) for m in chronological(big_data, lambda m: True)]
    as_tuples = Counter(tuple(row.values()) for row in walked)
    assert as_tuples == Counter(
        tuple(export_row(m, ALL_COLUMNS).values()) for m in big_data.meetings
    )


# --- other routes --------------------------------------------------------------------------


def test_unknown_route_is_404_in_the_provider_error_shape(api: httpx.Client) -> None:
    response = api.get("/api/v2/organizations/5/meetings")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


def test_wrong_method_is_405_in_the_provider_error_shape(api: httpx.Client) -> None:
    response = api.delete(EXPORT)
    assert response.status_code == 405
    assert response.json() == {"error": "Method Not Allowed"}
    assert "POST" in response.headers["allow"]


# --- injected faults -----------------------------------------------------------------------


def _faults(server: Server, **settings: float) -> None:
    response = server.anonymous.put("/_sim/faults", json=settings)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("status", "reason"),
    [(500, "Internal Server Error"), (503, "Service Unavailable"), (401, "Unauthorized")],
)
def test_injected_error_uses_the_provider_error_body(
    fresh: Server, status: int, reason: str
) -> None:
    _faults(fresh, error_rate=1, error_status=status)
    response = fresh.client.get(EXAMPLE_UPCOMING)
    assert response.status_code == status
    assert response.json() == {"error": reason}


def test_injected_429_carries_retry_after(fresh: Server) -> None:
    _faults(fresh, error_rate=1, error_status=429, retry_after=7)
    response = fresh.client.get(EXPORT, params={"column[]": "name"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"error": "Too Many Requests"}


def test_injected_malformed_body_does_not_parse(fresh: Server) -> None:
    _faults(fresh, malformed_rate=1)
    response = fresh.client.get(EXAMPLE_UPCOMING)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        orjson.loads(response.content)


def test_injected_latency_delays_the_answer(fresh: Server) -> None:
    _faults(fresh, latency_ms=200)
    began = time.monotonic()
    response = fresh.client.get(EXAMPLE_UPCOMING)
    assert time.monotonic() - began >= 0.2
    assert response.json() == DOCUMENTED_MEMBER_RESPONSE


def test_injected_hang_ends_within_its_bound(fresh: Server) -> None:
    _faults(fresh, hang_rate=1, hang_seconds=0.3)
    began = time.monotonic()
    response = fresh.client.get(EXAMPLE_UPCOMING, timeout=10)
    assert time.monotonic() - began >= 0.3
    assert response.status_code == 504


def test_clearing_faults_restores_normal_answers(fresh: Server) -> None:
    _faults(fresh, error_rate=1)
    assert fresh.anonymous.delete("/_sim/faults").status_code == 200
    assert fresh.client.get(EXAMPLE_UPCOMING).json() == DOCUMENTED_MEMBER_RESPONSE


def test_faults_given_at_start_apply(small_data: HeyPeersData, serve: Serve) -> None:
    from meetingmesh.simulators.faults import Faults

    app = create_app(small_data, faults=Faults(error_rate=1, error_status=502))
    with httpx.Client(base_url=serve(app), headers=AUTH) as client:
        response = client.get(EXAMPLE_UPCOMING)
    assert response.status_code == 502
    assert response.json() == {"error": "Bad Gateway"}


# --- request statistics --------------------------------------------------------------------


def test_stats_count_each_endpoint_by_route_template(fresh: Server) -> None:
    fresh.client.get(EXAMPLE_UPCOMING)
    fresh.client.get(UPCOMING.format(idp_id=BUSY_MEMBER), params={"page": 2})
    fresh.client.get(EXPORT, params={"column[]": ["name", "price"], "reporting_days": "today"})
    fresh.client.post(EXPORT, json={"column": ["name"]})
    fresh.client.post(EXPORT, json={"column": ["topic"], "reporting_days": "all_upcoming"})
    stats = fresh.anonymous.get("/_sim/stats").json()
    assert stats["total"] == 5
    endpoints = stats["endpoints"]
    assert {name: e["count"] for name, e in endpoints.items()} == {
        UPCOMING_NAME: 2,
        EXPORT_GET_NAME: 1,
        EXPORT_POST_NAME: 2,
    }
    assert endpoints[UPCOMING_NAME]["last_params"] == {"page": ["2"]}
    assert endpoints[EXPORT_GET_NAME]["last_params"] == {
        "column[]": ["name", "price"],
        "reporting_days": ["today"],
    }
    assert endpoints[EXPORT_POST_NAME]["last_body"] == {
        "column": ["topic"],
        "reporting_days": "all_upcoming",
    }


def test_stats_count_rejected_requests_too(fresh: Server) -> None:
    fresh.anonymous.get(EXAMPLE_UPCOMING)
    assert fresh.anonymous.get("/_sim/stats").json()["endpoints"][UPCOMING_NAME]["count"] == 1


def test_deleting_stats_resets_them(fresh: Server) -> None:
    fresh.client.get(EXAMPLE_UPCOMING)
    assert fresh.anonymous.delete("/_sim/stats").status_code == 200
    assert fresh.anonymous.get("/_sim/stats").json() == {"total": 0, "endpoints": {}}


def test_control_routes_are_not_counted(fresh: Server) -> None:
    fresh.anonymous.get("/_sim/faults")
    fresh.anonymous.get("/_sim/stats")
    assert fresh.anonymous.get("/_sim/stats").json()["total"] == 0


# --- data set ------------------------------------------------------------------------------


def test_same_seed_size_and_clock_give_identical_bytes() -> None:
    assert HeyPeersData.generate(seed=3, size=300).dump() == (
        HeyPeersData.generate(seed=3, size=300).dump()
    )


def test_different_seed_gives_different_bytes() -> None:
    assert HeyPeersData.generate(seed=1).dump() != HeyPeersData.generate(seed=2).dump()


def test_different_clock_gives_different_bytes() -> None:
    later = Clock(NOW + timedelta(days=3))
    assert HeyPeersData.generate().dump() != HeyPeersData.generate(clock=later).dump()


@pytest.mark.parametrize("size", [12, 200, 1234])
def test_size_is_the_number_of_meetings_with_unique_ids(size: int) -> None:
    data = HeyPeersData.generate(size=size)
    ids = [m.id for m in data.meetings]
    assert len(ids) == size
    assert len(set(ids)) == size
    assert ids == sorted(ids)


def test_documented_examples_are_in_the_smallest_data_set_verbatim(serve: Serve) -> None:
    data = HeyPeersData.generate(seed=99, size=12)
    by_id = {m.id: m for m in data.meetings}
    assert by_id[9124].name == "Evening Recovery Check-in"
    assert by_id[9124].price == 10
    assert by_id[9124].group_leader_id == 4502
    with httpx.Client(base_url=serve(create_app(data)), headers=AUTH) as client:
        assert client.get(EXAMPLE_UPCOMING).json() == DOCUMENTED_MEMBER_RESPONSE
        rows = export(client, **DOCUMENTED_EXPORT_PARAMS)["meetings"]
    assert rows[:2] == DOCUMENTED_EXPORT_ROWS


def test_generated_ids_avoid_the_examples_and_do_not_follow_start_time(
    big_data: HeyPeersData,
) -> None:
    generated = [m for m in big_data.meetings if m.id not in (9123, 9124, 9131)]
    assert min(m.id for m in generated) > 9131
    by_start = sorted(generated, key=lambda m: (start(m), m.id))
    rank = {m.id: i for i, m in enumerate(by_start)}
    n = len(generated)
    mean = (n - 1) / 2
    ranks = [rank[m.id] for m in generated]  # generated is in id order
    covariance = sum((i - mean) * (r - mean) for i, r in enumerate(ranks))
    variance = sum((i - mean) ** 2 for i in range(n))
    assert abs(covariance / variance) < 0.05


def test_data_spreads_past_and_future_with_statuses_by_time(big_data: HeyPeersData) -> None:
    past = [m for m in big_data.meetings if end(m) <= NOW]
    future = [m for m in big_data.meetings if start(m) > NOW]
    assert Counter(m.status for m in past).keys() == {"complete", "cancel"}
    assert Counter(m.status for m in future).keys() == {"scheduled", "cancel"}
    assert Counter(m.status for m in past).most_common(1)[0][0] == "complete"
    assert Counter(m.status for m in future).most_common(1)[0][0] == "scheduled"
    assert min(start(m) for m in big_data.meetings) >= NOW - timedelta(days=181)
    assert max(start(m) for m in big_data.meetings) <= NOW + timedelta(days=181)


def test_registered_attendees_never_exceed_capacity_or_member_seats(
    big_data: HeyPeersData,
) -> None:
    seats = Counter(r.meeting_id for m in big_data.members for r in m.registrations if r.registered)
    for meeting in big_data.meetings:
        assert 0 <= meeting.registered_attendees <= meeting.max_attendees
        assert seats[meeting.id] <= meeting.registered_attendees


def test_waiting_statuses_only_on_meetings_with_a_wait_list(big_data: HeyPeersData) -> None:
    wait_list = {m.id for m in big_data.meetings if m.wait_list}
    entries = [r for m in big_data.members for r in m.registrations if r.waiting_status]
    assert {r.waiting_status for r in entries} == WAITING_STATUSES
    assert all(r.meeting_id in wait_list for r in entries)


# --- behaviour switches: access-key authentication --------------------------------------


AUTHENTICATE = "/api/v2/authenticate"


@pytest.fixture
def switched(small: Server) -> Iterator[Callable[..., Server]]:
    """The small simulator; call with switches to set them. Everything reset afterwards."""

    def set_switches(**values: Any) -> Server:
        response = small.anonymous.put("/_sim/behaviour", json=values)
        assert response.status_code == 200, response.text
        return small

    yield set_switches
    for route in ("/_sim/behaviour", "/_sim/faults", "/_sim/stats"):
        small.anonymous.delete(route)


def mint(server: Server) -> str:
    response = server.anonymous.post(AUTHENTICATE, json={"access_key": ACCESS_KEY})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"token"}
    token: str = response.json()["token"]
    return token


def claims(token: str) -> dict[str, Any]:
    header, payload, signature = token.split(".")
    assert signature
    assert orjson.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    decoded: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(payload + "=="))
    return decoded


def as_bearer(server: Server, token: str) -> httpx.Response:
    return server.anonymous.get(EXAMPLE_UPCOMING, headers={"Authorization": f"Bearer {token}"})


def test_the_documented_access_key_has_24_characters() -> None:
    assert len(ACCESS_KEY) == 24


def test_the_access_key_buys_a_three_part_jwt_that_expires_in_24_hours(
    switched: Callable[..., Server],
) -> None:
    token = mint(switched())
    found = claims(token)
    assert found["exp"] - found["iat"] in (86_400, 86_401)
    assert abs(found["iat"] - time.time()) < 60


def test_a_minted_jwt_is_accepted_as_a_bearer_token(switched: Callable[..., Server]) -> None:
    server = switched()
    response = as_bearer(server, mint(server))
    assert response.status_code == 200
    assert response.json()["total_items"] == 2


@pytest.mark.parametrize("body", [{"access_key": "x" * 24}, {}, {"access_key": None}, []])
def test_a_wrong_or_missing_access_key_is_401_invalid_access_key(
    switched: Callable[..., Server], body: Any
) -> None:
    response = switched().anonymous.post(AUTHENTICATE, json=body)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid Access Key"}


def test_a_jwt_is_refused_once_its_lifetime_has_passed_on_the_wall_clock(
    switched: Callable[..., Server],
) -> None:
    server = switched(token_lifetime_seconds=2)
    token = mint(server)
    expires = claims(token)["exp"]
    assert as_bearer(server, token).status_code == 200
    time.sleep(max(0.0, expires - time.time()) + 0.2)
    refused = as_bearer(server, token)
    assert refused.status_code == 401
    assert refused.json() == {"error": "Unauthorized Access"}


def test_without_the_exp_claim_the_jwt_still_works_and_still_expires(
    switched: Callable[..., Server],
) -> None:
    server = switched(token_exp_claim=False, token_lifetime_seconds=1)
    token = mint(server)
    assert "exp" not in claims(token)
    assert as_bearer(server, token).status_code in (200, 401)  # 1 s: it may already be over
    time.sleep(1.2)
    assert as_bearer(server, token).status_code == 401


def test_a_forged_jwt_is_refused(switched: Callable[..., Server]) -> None:
    server = switched()
    header, payload, _ = mint(server).split(".")
    assert as_bearer(server, f"{header}.{payload}.forged").status_code == 401


def test_the_static_token_keeps_working(switched: Callable[..., Server]) -> None:
    assert switched().client.get(EXAMPLE_UPCOMING).status_code == 200


def test_token_requests_are_counted_and_the_key_is_not_recorded(
    switched: Callable[..., Server],
) -> None:
    server = switched()
    mint(server)
    stats = server.anonymous.get("/_sim/stats").json()["endpoints"]["POST /api/v2/authenticate"]
    assert stats["count"] == 1
    assert stats["last_body"] == {"access_key": "<redacted>"}


def test_echo_credentials_repeats_a_wrong_access_key(switched: Callable[..., Server]) -> None:
    server = switched(echo_credentials=True)
    response = server.anonymous.post(AUTHENTICATE, json={"access_key": "leaky-key-0123456789abcd"})
    assert response.status_code == 401
    assert "leaky-key-0123456789abcd" in response.json()["error"]


# --- behaviour switches: custom export ranges ------------------------------------------


def custom(server: Server, zone: str, low: datetime, high: datetime) -> list[str]:
    """Start times of the rows a custom range written in ``zone`` selects."""
    local = ZoneInfo(zone)
    body = export(
        server.client,
        reporting_days="custom",
        start_time=low.astimezone(local).strftime("%m/%d/%Y %I:%M %p"),
        end_time=high.astimezone(local).strftime("%m/%d/%Y %I:%M %p"),
        **{"column[]": ["start_time"]},
    )
    return [row["start_time"] for row in body["meetings"]]


def a_lone_meeting(data: HeyPeersData) -> Meeting:
    """A meeting no other meeting starts within 12 hours of."""
    ordered = sorted(data.meetings, key=start)
    for before, meeting, after in zip(ordered, ordered[1:], ordered[2:], strict=False):
        if start(meeting) - start(before) > timedelta(hours=12) < start(after) - start(meeting):
            return meeting
    raise AssertionError("no lone meeting")


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
@pytest.mark.parametrize(("end_rule", "included"), [("inclusive", True), ("exclusive", False)])
def test_a_range_ending_at_a_meeting_s_start_includes_it_only_when_the_end_is_inclusive(
    switched: Callable[..., Server],
    small_data: HeyPeersData,
    zone: str,
    end_rule: str,
    included: bool,
) -> None:
    server = switched(organization_time_zone=zone, custom_end=end_rule)
    meeting = a_lone_meeting(small_data)
    found = custom(server, zone, start(meeting) - timedelta(hours=1), start(meeting))
    assert found == ([meeting.start_time] if included else [])


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_custom_ranges_are_read_in_the_organization_s_time_zone(
    switched: Callable[..., Server], small_data: HeyPeersData, zone: str
) -> None:
    meeting = a_lone_meeting(small_data)
    low, high = start(meeting) - timedelta(minutes=30), start(meeting) + timedelta(minutes=30)
    in_utc = switched(organization_time_zone="UTC")
    assert custom(in_utc, "UTC", low, high) == [meeting.start_time]
    assert custom(in_utc, zone, low, high) == []
    in_zone = switched(organization_time_zone=zone)
    assert custom(in_zone, zone, low, high) == [meeting.start_time]
    assert custom(in_zone, "UTC", low, high) == []


def test_an_unknown_organization_time_zone_is_refused(switched: Callable[..., Server]) -> None:
    server = switched()
    response = server.anonymous.put("/_sim/behaviour", json={"organization_time_zone": "Nowhere"})
    assert response.status_code == 400


# --- the meeting in progress, and malformed rows -----------------------------------------


def test_a_member_s_upcoming_meetings_include_one_in_progress_at_the_default_now(
    small: Server,
) -> None:
    body = small.client.get(UPCOMING.format(idp_id="sso-user-inprogress")).json()
    first = body["meetings"][0]
    assert at(first["start_time"]) < DEFAULT_NOW < at(first["end_time"])
    assert first["name"] == "Midday Peer Check-in"
    assert [m["id"] for m in body["meetings"]][1:] == [9123]


def test_the_documents_member_keeps_exactly_its_two_documented_entries(small: Server) -> None:
    body = small.client.get(EXAMPLE_UPCOMING).json()
    assert [m["id"] for m in body["meetings"]] == [9123, 9131]


MEMBER_SPOILS: dict[str, Callable[[Any], bool]] = {
    "null_time": lambda m: m is not None and m["start_time"] is None,
    "member_without_id": lambda m: m is not None and "id" not in m["group_leader"],
    "null_in_list": lambda m: m is None,
    "unknown_enum": lambda m: m is not None and m["location"] == "teams",
}


@pytest.mark.parametrize("bad_row", sorted(MEMBER_SPOILS))
def test_bad_row_spoils_exactly_the_chosen_meeting_of_a_member_s_list(
    switched: Callable[..., Server], bad_row: str
) -> None:
    server = switched(bad_row=bad_row, bad_row_id="9131")
    rows = server.client.get(EXAMPLE_UPCOMING).json()["meetings"]
    spoiled = [i for i, row in enumerate(rows) if MEMBER_SPOILS[bad_row](row)]
    assert spoiled == [1]


def test_unknown_enum_serves_an_undocumented_waitlist_state(
    switched: Callable[..., Server],
) -> None:
    server = switched(bad_row="unknown_enum", bad_row_id="9131")
    rows = server.client.get(EXAMPLE_UPCOMING).json()["meetings"]
    assert [row["waiting_status"] for row in rows] == [None, "pending_review"]


EXPORT_SPOILS: dict[str, Callable[[Any], bool]] = {
    "null_time": lambda m: m is not None and m["start_time"] is None,
    "null_in_list": lambda m: m is None,
    "unknown_enum": lambda m: m is not None and m["status"] == "postponed",
}


@pytest.mark.parametrize("bad_row", sorted(EXPORT_SPOILS))
def test_bad_row_spoils_exactly_the_chosen_export_row(
    switched: Callable[..., Server], bad_row: str
) -> None:
    server = switched(bad_row=bad_row, bad_row_id="9124")
    body = export(server.client, **DOCUMENTED_EXPORT_PARAMS)
    spoiled = [i for i, row in enumerate(body["meetings"]) if EXPORT_SPOILS[bad_row](row)]
    assert spoiled == [1]
