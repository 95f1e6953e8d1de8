"""Robust reading, every adapter: one malformed row is left out and reported, never fatal.

Each simulator can spoil one row (``bad_row`` on the row ``bad_row_id``): a null start
time, a member without an id, a null in a list, an enum word no document lists. The
rest of the page must come back, with one ``UPSTREAM_BAD_RESPONSE`` error naming the
provider (and the row's id where it has one); an unknown word is no error at all.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from meetingmesh.domain import Provider
from meetingmesh.providers.rows import RowProblem, read_rows, unknown_word
from meetingmesh.providers.timefmt import from_unix_seconds
from meetingmesh.redaction import REDACTED, register
from meetingmesh.resolvers.ids import encode_id
from tests.conftest import Stack


def spoil(gateway: Stack, provider: str, how: str, row_id: str) -> None:
    """Make one row of ``provider``'s answers malformed."""
    response = gateway.http.put(
        f"{gateway.provider_url(provider)}/_sim/behaviour",
        json={"bad_row": how, "bad_row_id": row_id},
    )
    assert response.status_code == 200, response.text
    for adapter in gateway.adapters.values():
        adapter.client.reset()  # answers cached before the switch would hide it


def problems(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The errors of an answer, each as message, path and extensions."""
    return [
        {"message": e["message"], "path": e.get("path"), "extensions": e["extensions"]}
        for e in answer.get("errors", [])
    ]


# --- HeyPeers ----------------------------------------------------------------------------

HEYPEERS_LIST = """query($first: Int) {
  meetings(first: $first, filter: {providers: [HEYPEERS], startsAfter: "2026-05-23T00:00:00Z"}) {
    edges { node { id title startTime status } }
  }
}"""
MEMBER = """query($id: String!) {
  member(provider: HEYPEERS, id: $id) {
    upcomingMeetings(first: 10) {
      totalCount
      edges { waitlistStatus node { providerId title hosts { providerId } } }
    }
  }
}"""


def _heypeers_9123(gateway: Stack) -> str:
    """The global id of HeyPeers meeting 9123 (the same from the export and the member)."""
    member = gateway.data(MEMBER, {"id": "sso-user-abc123"})["member"]
    edges = member["upcomingMeetings"]["edges"]
    nodes = gateway.data(
        '{ meetings(first: 1, filter: {providers: [HEYPEERS], startsAfter: "2026-05-23T15:00:00Z"})'
        " { edges { node { id providerId } } } }"
    )["meetings"]["edges"]
    assert edges[0]["node"]["providerId"] == "9123"
    return str(nodes[0]["node"]["id"])


@pytest.mark.parametrize(
    ("how", "fault"), [("null_time", "has no start time"), ("null_in_list", "is null")]
)
def test_a_bad_heypeers_export_row_is_left_out_and_the_page_kept(
    gateway: Stack, how: str, fault: str
) -> None:
    bad = _heypeers_9123(gateway)
    baseline = gateway.data(HEYPEERS_LIST, {"first": 11})["meetings"]["edges"]
    assert bad in [e["node"]["id"] for e in baseline]
    spoil(gateway, "heypeers", how, "9123")
    answer = gateway.query(HEYPEERS_LIST, {"first": 10})
    assert answer["data"]["meetings"]["edges"] == [e for e in baseline if e["node"]["id"] != bad]
    assert problems(answer) == [
        {
            # Export rows carry no id to name.
            "message": f"HeyPeers sent an export row that {fault}; it was left out",
            "path": ["meetings"],
            "extensions": {"code": "UPSTREAM_BAD_RESPONSE", "provider": "HEYPEERS"},
        }
    ]


def test_a_heypeers_schedule_row_without_a_start_is_left_out_naming_its_id(
    gateway: Stack,
) -> None:
    spoil(gateway, "heypeers", "null_time", "9123")
    answer = gateway.query(MEMBER, {"id": "sso-user-abc123"})
    schedule = answer["data"]["member"]["upcomingMeetings"]
    assert [e["node"]["providerId"] for e in schedule["edges"]] == ["9131"]
    assert schedule["totalCount"] == 2  # HeyPeers' count: it holds two
    assert [(e["message"], e["extensions"]) for e in answer["errors"]] == [
        (
            "HeyPeers sent upcoming meeting 9123 that has no start time; it was left out",
            {"code": "UPSTREAM_BAD_RESPONSE", "provider": "HEYPEERS"},
        )
    ]


def test_a_group_leader_without_an_id_is_left_out_and_the_meeting_kept(gateway: Stack) -> None:
    spoil(gateway, "heypeers", "member_without_id", "9123")
    answer = gateway.query(MEMBER, {"id": "sso-user-abc123"})
    edges = answer["data"]["member"]["upcomingMeetings"]["edges"]
    assert [(e["node"]["providerId"], e["node"]["hosts"]) for e in edges] == [
        ("9123", []),
        ("9131", [{"providerId": "4502"}]),
    ]
    assert [e["message"] for e in answer["errors"]] == [
        "HeyPeers sent upcoming meeting 9123 with a group leader that has no id;"
        " that group leader was left out"
    ]


def test_unknown_heypeers_words_read_as_unknown_without_an_error(gateway: Stack) -> None:
    spoil(gateway, "heypeers", "unknown_enum", "9131")
    member = gateway.data(MEMBER, {"id": "sso-user-abc123"})["member"]
    assert [e["waitlistStatus"] for e in member["upcomingMeetings"]["edges"]] == [None, None]
    spoil(gateway, "heypeers", "unknown_enum", "9123")
    listing = gateway.data(HEYPEERS_LIST, {"first": 10})["meetings"]["edges"]
    statuses = {e["node"]["title"]: e["node"]["status"] for e in listing}
    assert statuses["Morning Grief Support Circle"] == "UNKNOWN"


# --- Thought Industries ------------------------------------------------------------------

TI_LIST = """{ meetings(first: 10, filter: {providers: [THOUGHT_INDUSTRIES]}) {
  edges { node { providerId registeredCount hosts { name }
    attendees(first: 100) { edges { node { providerId } } } } }
} }"""
TI_ONE = """query($id: ID!) { meeting(id: $id) { providerId registeredCount hosts { name }
  attendees(first: 100) { edges { node { providerId } } } } }"""


def _ti_rows(gateway: Stack) -> list[dict[str, Any]]:
    body = gateway.upstream("thoughtindustries", "/incoming/v2/meetings", perPage=100)
    rows: list[dict[str, Any]] = body["data"]["Meetings"]["meetings"]
    return sorted(rows, key=lambda r: (r["startDate"], r["id"]))


def _ti_target(gateway: Stack) -> dict[str, Any]:
    """A meeting among the list's first ten with attendees and instructors."""
    return next(r for r in _ti_rows(gateway)[:10] if r["attendees"] and r["instructors"])


def test_a_thought_industries_meeting_without_a_start_is_left_out_naming_its_id(
    gateway: Stack,
) -> None:
    target = _ti_target(gateway)
    expected = [r["id"] for r in _ti_rows(gateway) if r["id"] != target["id"]][:10]
    spoil(gateway, "thoughtindustries", "null_time", target["id"])
    answer = gateway.query(TI_LIST)
    ids = [e["node"]["providerId"] for e in answer["data"]["meetings"]["edges"]]
    assert ids == expected
    assert problems(answer) == [
        {
            "message": f"Thought Industries sent meeting {target['id']} that has no start time;"
            " it was left out",
            "path": ["meetings"],
            "extensions": {"code": "UPSTREAM_BAD_RESPONSE", "provider": "THOUGHT_INDUSTRIES"},
        }
    ]


@pytest.mark.parametrize("source", ["list", "lookup"])
def test_an_attendee_without_an_id_is_left_out_and_the_meeting_kept(
    gateway: Stack, source: str
) -> None:
    target = _ti_target(gateway)
    spoil(gateway, "thoughtindustries", "member_without_id", target["id"])
    if source == "list":
        answer = gateway.query(TI_LIST)
        nodes = [e["node"] for e in answer["data"]["meetings"]["edges"]]
        node = next(n for n in nodes if n["providerId"] == target["id"])
    else:
        global_id = encode_id("Meeting", Provider.THOUGHT_INDUSTRIES, target["id"])
        answer = gateway.query(TI_ONE, {"id": global_id})
        node = answer["data"]["meeting"]
    attendees = [e["node"]["providerId"] for e in node["attendees"]["edges"]]
    assert attendees == [a["id"] for a in target["attendees"][1:]]
    assert node["registeredCount"] == len(target["attendees"])
    assert [e["message"] for e in answer["errors"]] == [
        f"Thought Industries sent meeting {target['id']} with an attendee that has no id;"
        " that attendee was left out"
    ]


def test_nulls_in_a_meetings_lists_make_one_error_for_the_row(gateway: Stack) -> None:
    target = _ti_target(gateway)
    spoil(gateway, "thoughtindustries", "null_in_list", target["id"])
    answer = gateway.query(TI_LIST)
    node = next(
        e["node"]
        for e in answer["data"]["meetings"]["edges"]
        if e["node"]["providerId"] == target["id"]
    )
    assert [h["name"] for h in node["hosts"]] == target["instructors"]
    assert len(node["attendees"]["edges"]) == len(target["attendees"])
    assert [e["message"] for e in answer["errors"]] == [
        f"Thought Industries sent meeting {target['id']} with an attendee that is null and an"
        " instructor that is null; those were left out"
    ]


def test_an_unknown_course_status_passes_through_without_an_error(gateway: Stack) -> None:
    target = _ti_target(gateway)
    spoil(gateway, "thoughtindustries", "unknown_enum", target["id"])
    global_id = encode_id("Meeting", Provider.THOUGHT_INDUSTRIES, target["id"])
    data = gateway.data(
        "query($id: ID!) { meeting(id: $id) { course { publicationStatus } } }",
        {"id": global_id},
    )
    assert data["meeting"]["course"]["publicationStatus"] == "under_review"


# --- Daily -------------------------------------------------------------------------------

DAILY_LIST = """{ meetings(first: 10, orderBy: START_TIME_DESC, filter: {providers: [DAILY]}) {
  edges { node { id providerId attendees(first: 100) { edges { node { providerId } } } } }
} }"""


def _daily_rows(gateway: Stack) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = gateway.upstream("daily", "/meetings", limit=10)["data"]
    return rows


def _daily_target(gateway: Stack) -> dict[str, Any]:
    return next(r for r in _daily_rows(gateway) if len(r["participants"]) >= 2)


def test_a_daily_session_without_a_start_is_left_out_in_lists_and_lookups(
    gateway: Stack,
) -> None:
    target = _daily_target(gateway)
    expected = [r["id"] for r in _daily_rows(gateway) if r["id"] != target["id"]][:9]
    spoil(gateway, "daily", "null_time", target["id"])
    answer = gateway.query(DAILY_LIST.replace("first: 10", "first: 9"))
    ids = [e["node"]["providerId"] for e in answer["data"]["meetings"]["edges"]]
    assert ids == expected
    message = f"Daily sent meeting session {target['id']} that has no start time; it was left out"
    assert [(e["message"], e["path"]) for e in answer["errors"]] == [(message, ["meetings"])]
    global_id = encode_id("Meeting", Provider.DAILY, target["id"])
    looked_up = gateway.query(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [global_id]}
    )
    assert looked_up["data"] == {"nodes": [None]}
    assert [(e["message"], e["path"]) for e in looked_up["errors"]] == [(message, ["nodes", 0])]


@pytest.mark.parametrize(
    ("how", "fault"), [("member_without_id", "has no participant_id"), ("null_in_list", "is null")]
)
@pytest.mark.parametrize("source", ["list", "participants endpoint"])
def test_a_bad_participant_is_left_out_and_the_session_kept(
    gateway: Stack, how: str, fault: str, source: str
) -> None:
    target = _daily_target(gateway)
    spoil(gateway, "daily", how, target["id"])
    if source == "list":
        answer = gateway.query(DAILY_LIST)
        node = next(
            e["node"]
            for e in answer["data"]["meetings"]["edges"]
            if e["node"]["providerId"] == target["id"]
        )
    else:
        answer = gateway.query(
            "query($id: ID!) { meeting(id: $id) {"
            " attendees(first: 100) { edges { node { providerId } } } } }",
            {"id": encode_id("Meeting", Provider.DAILY, target["id"])},
        )
        node = answer["data"]["meeting"]
    kept = [e["node"]["providerId"] for e in node["attendees"]["edges"]]
    # The spoilt participant is the first Daily prints; attendees come in join order.
    printed = target["participants"][1:] if how == "member_without_id" else target["participants"]
    expected = sorted(printed, key=lambda p: (p["join_time"], p["participant_id"]))
    assert kept == [p["participant_id"] for p in expected]
    assert [e["message"] for e in answer["errors"]] == [
        f"Daily sent meeting session {target['id']} with a participant that {fault};"
        " that participant was left out"
    ]


# --- HubSpot -----------------------------------------------------------------------------

LINKS = (
    """{ schedulingLinks(first: 100) { edges { node { slug type organizer { providerId } } } } }"""
)


@pytest.mark.parametrize("how", ["null_time", "member_without_id", "null_in_list", "unknown_enum"])
def test_a_spoilt_hubspot_link_is_still_listed(gateway: Stack, how: str) -> None:
    results = gateway.upstream("hubspot", "/scheduler/v3/meetings/meeting-links", limit=100)[
        "results"
    ]
    target = next(r for r in results if r["slug"] == "menelson")
    spoil(gateway, "hubspot", how, str(target["id"]))
    links = gateway.data(LINKS)["schedulingLinks"]["edges"]
    assert len(links) == len(results)
    node = next(e["node"] for e in links if e["node"]["slug"] == "menelson")
    # Fields the gateway does not read stay harmless; what it reads degrades to null.
    assert node["type"] == (None if how == "unknown_enum" else target["type"])
    organizer = None if how == "member_without_id" else {"providerId": target["organizerUserId"]}
    assert node["organizer"] == organizer


# --- the reading itself ------------------------------------------------------------------


def test_read_rows_keeps_the_readable_rows_in_order_with_one_problem_per_bad_row() -> None:
    def parse(row: Any, notes: Any) -> str:
        return str(row["name"])

    read = read_rows(
        Provider.DAILY, "meeting session", [{"id": 1, "name": "a"}, None, {"id": 3}], parse
    )
    assert list(read) == ["a"]
    assert read.problems == (
        RowProblem(
            Provider.DAILY, None, "Daily sent a meeting session that is null; it was left out"
        ),
        RowProblem(
            Provider.DAILY, "3", "Daily sent meeting session 3 that cannot be read; it was left out"
        ),
    )


def test_a_row_id_that_holds_a_secret_is_quoted_redacted() -> None:
    register("row-id-secret-5f2c")
    read = read_rows(Provider.DAILY, "meeting session", [{"id": "row-id-secret-5f2c"}], _unread)
    (problem,) = read.problems
    assert "row-id-secret-5f2c" not in problem.message
    assert REDACTED in problem.message


def _unread(row: Any, notes: Any) -> str:
    raise KeyError("name")


def test_a_time_past_any_calendar_is_an_unreadable_row_not_a_crash() -> None:
    def parse(row: Any, notes: Any) -> datetime:
        return from_unix_seconds(row["start_time"])

    read = read_rows(
        Provider.DAILY,
        "meeting session",
        [{"id": 1, "start_time": 1e20}, {"id": 2, "start_time": 0}],
        parse,
    )
    assert list(read) == [datetime(1970, 1, 1, tzinfo=UTC)]
    assert read.problems == (
        RowProblem(
            Provider.DAILY, "1", "Daily sent meeting session 1 that cannot be read; it was left out"
        ),
    )


def test_an_unknown_word_is_logged_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="meetingmesh.providers"):
        for _ in range(3):
            unknown_word(Provider.HUBSPOT, "link type", "TEST_ONLY_WORD_7f1c")
    lines = [r.getMessage() for r in caplog.records if "TEST_ONLY_WORD_7f1c" in r.getMessage()]
    assert lines == ["HubSpot sent an unknown link type 'TEST_ONLY_WORD_7f1c'; it reads as unknown"]
