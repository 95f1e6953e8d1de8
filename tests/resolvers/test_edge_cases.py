"""Edge cases found in review: each once answered with "Unexpected error." or lost data."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from tests.conftest import Stack

HEYPEERS_SCHEDULE = "GET /api/v2/organizations/{org_id}/members/{idp_id}/upcoming_meetings"


def test_a_time_bound_without_an_offset_is_read_as_utc(gateway: Stack) -> None:
    naive = gateway.data(
        '{ meetings(first: 5, filter: {startsAfter: "2026-05-22T12:00:00"}) { totalCount } }'
    )
    aware = gateway.data(
        '{ meetings(first: 5, filter: {startsAfter: "2026-05-22T12:00:00Z"}) { totalCount } }'
    )
    assert naive == aware


def test_bounds_far_outside_any_data_are_empty_not_errors(gateway: Stack) -> None:
    early = gateway.data(
        '{ meetings(first: 5, filter: {startsBefore: "0001-01-01T00:00:00Z"}) { totalCount } }'
    )
    assert early["meetings"]["totalCount"] == 0
    late = gateway.data(
        '{ meetings(first: 5, filter: {startsAfter: "9999-01-01T00:00:00Z"}) { totalCount } }'
    )
    assert late["meetings"]["totalCount"] == 0
    ancient = gateway.data(
        '{ meetings(first: 5, filter: {startsAfter: "0500-01-01T00:00:00Z"}) { totalCount } }'
    )
    everything = gateway.data("{ meetings(first: 5) { totalCount } }")
    assert ancient == everything


def test_an_empty_page_of_a_members_schedule_still_counts(gateway: Stack) -> None:
    data = gateway.data(
        '{ member(provider: HEYPEERS, id: "sso-user-abc123") '
        "{ upcomingMeetings(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage } } } }"
    )
    assert data["member"]["upcomingMeetings"] == {
        "totalCount": 2,
        "edges": [],
        "pageInfo": {"hasNextPage": True},
    }


def test_a_time_zone_folder_is_bad_user_input(gateway: Stack) -> None:
    answer = gateway.query(
        '{ schedulingLink(slug: "menelson") { bookingInfo(timezone: "America") { linkId } } }'
    )
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "timezone"}


def test_the_last_links_page_cursor_leads_nowhere(gateway: Stack) -> None:
    query = """query($after: String) { schedulingLinks(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor } edges { cursor node { slug } } } }"""
    after = None
    for _ in range(20):
        page = gateway.data(query, {"after": after})["schedulingLinks"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    last_cursor = page["edges"][-1]["cursor"]
    beyond = gateway.data(query, {"after": last_cursor})["schedulingLinks"]
    assert beyond == {"pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}


def test_an_empty_links_page_has_no_end_cursor(gateway: Stack) -> None:
    data = gateway.data(
        "{ schedulingLinks(first: 0) { totalCount pageInfo { endCursor } edges { cursor } } }"
    )
    links = data["schedulingLinks"]
    assert links["edges"] == []
    assert links["pageInfo"]["endCursor"] is None
    assert links["totalCount"] > 0


def test_a_malformed_id_in_nodes_fails_only_its_own_place(gateway: Stack) -> None:
    member = gateway.data('{ member(provider: HEYPEERS, id: "sso-user-abc123") { id } }')
    good = member["member"]["id"]
    answer = gateway.query(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [good, "nope", good]}
    )
    assert answer["data"]["nodes"] == [{"id": good}, None, {"id": good}]
    assert answer["errors"][0]["path"] == ["nodes", 1]
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_members_of_providers_without_a_member_endpoint_resolve_from_their_id(
    gateway: Stack,
) -> None:
    data = gateway.data(
        """{ meetings(first: 50, filter: {providers: [THOUGHT_INDUSTRIES]}) {
             edges { node { hosts { id name }
               attendees { edges { node { member { id providerId } } } } } } } }"""
    )
    nodes = [e["node"] for e in data["meetings"]["edges"]]
    host = next(h for n in nodes for h in n["hosts"])
    attendee = next(
        a["node"]["member"] for n in nodes for a in n["attendees"]["edges"] if a["node"]["member"]
    )
    found = gateway.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Member { name providerId } } }",
        {"ids": [host["id"], attendee["id"]]},
    )["nodes"]
    assert found[0]["id"] == host["id"]
    assert found[0]["name"] == host["name"]
    assert found[1] == {"id": attendee["id"], "name": None, "providerId": attendee["providerId"]}


def test_a_bad_cursor_fails_only_its_own_list_and_keeps_the_rest_of_the_answer(
    gateway: Stack,
) -> None:
    answer = gateway.query(
        """{ schedulingLinks(first: 2, after: "garbage") { totalCount }
             meetings(first: 2, after: "garbage") { totalCount }
             member(provider: HEYPEERS, id: "sso-user-abc123") { id } }"""
    )
    assert answer["data"]["schedulingLinks"] is None
    assert answer["data"]["meetings"] is None
    assert answer["data"]["member"]["id"]
    assert sorted(e["path"][0] for e in answer["errors"]) == ["meetings", "schedulingLinks"]
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"BAD_USER_INPUT"}


def test_a_failing_nested_list_leaves_its_parent_standing(gateway: Stack) -> None:
    answer = gateway.query(
        """{
          meetings(first: 2, filter: {providers: [THOUGHT_INDUSTRIES]}) {
            edges { node { id attendees(after: "garbage") { totalCount }
                           course { title meetings(after: "garbage") { totalCount } } } } }
          member(provider: HEYPEERS, id: "sso-user-abc123") {
            id upcomingMeetings(after: "garbage") { totalCount } }
          schedulingLinks(first: 1) {
            edges { node { slug availability(timezone: "UTC", monthOffset: -1) { start } } } }
        }"""
    )
    data = answer["data"]
    for edge in data["meetings"]["edges"]:
        assert edge["node"]["id"]
        assert edge["node"]["attendees"] is None
        assert edge["node"]["course"]["title"]
        assert edge["node"]["course"]["meetings"] is None
    assert data["member"]["id"]
    assert data["member"]["upcomingMeetings"] is None
    link = data["schedulingLinks"]["edges"][0]["node"]
    assert link["slug"]
    assert link["availability"] is None
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"BAD_USER_INPUT"}


# Forged input: cursors and ids are opaque but not secret, so a client can send anything.
ALL = ("heypeers", "thoughtindustries", "daily", "hubspot")
NOON = "2026-05-22T12:00:00+00:00"


def _forge(payload: Any) -> str:
    """A cursor with any content, as a client could forge it."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _open(cursor: str) -> Any:
    return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def _global_id(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _calls(gateway: Stack) -> int:
    return sum(gateway.calls(p) for p in ALL)


MEETINGS_AFTER = "query($c: String) { meetings(first: 3, after: $c) { totalCount } }"


@pytest.mark.parametrize(
    ("query", "cursor", "field"),
    [
        (
            MEETINGS_AFTER,
            _forge(["k", ["0001-01-01T00:00:00+00:00", "daily", "x", "a", {}]]),
            "after",
        ),
        (
            MEETINGS_AFTER,
            _forge(["k", ["9999-12-31T23:59:59+00:00", "daily", "x", "a", {}]]),
            "after",
        ),
        (
            "query($c: String) { meetings(last: 3, before: $c) { totalCount } }",
            _forge(["k", ["9999-12-31T23:59:59-14:00", "daily", "x", "d", {}]]),
            "before",
        ),
        (
            MEETINGS_AFTER,
            _forge(["k", [NOON, "daily", "x", "a", {"heypeers": ["0001-01-01T00:00:00Z", {}]}]]),
            "after",
        ),
        (MEETINGS_AFTER, _forge(["k", [NOON, "daily", "x\r\nforged", "a", {}]]), "after"),
        (
            MEETINGS_AFTER,
            _forge(["k", [NOON, "daily", "x", "a", {"daily": [NOON, {"p": "x" * 9000}]}]]),
            "after",
        ),
        (
            "query($c: String) { schedulingLinks(first: 2, after: $c) { totalCount } }",
            _forge(["t", "\n\x00forged"]),
            "after",
        ),
        (
            'query($c: String) { member(provider: DAILY, id: "u1") { '
            "upcomingMeetings(after: $c) { totalCount } } }",
            _forge(["o", 2**40]),
            "after",
        ),
    ],
    ids=[
        "year-1",
        "year-9999",
        "year-9999-at-14h",
        "resume-year-1",
        "crlf-key",
        "huge",
        "token",
        "offset",
    ],
)
def test_a_forged_cursor_is_refused_naming_its_argument_before_any_upstream_call(
    gateway: Stack, query: str, cursor: str, field: str
) -> None:
    answer = gateway.query(query, {"c": cursor})
    assert [e["extensions"] for e in answer["errors"]] == [
        {"code": "BAD_USER_INPUT", "field": field}
    ]
    assert _calls(gateway) == 0


def test_an_offset_past_any_schedule_never_reaches_heypeers(gateway: Stack) -> None:
    answer = gateway.query(
        """query($c: String) { member(provider: HEYPEERS, id: "sso-user-abc123") {
             id upcomingMeetings(after: $c) { totalCount } } }""",
        {"c": _forge(["o", 2**40])},
    )
    assert answer["data"]["member"]["id"]
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
    assert gateway.calls("heypeers") == 1  # the member itself, page 1
    assert gateway.last_params("heypeers", HEYPEERS_SCHEDULE)["page"] == ["1"]


@pytest.mark.parametrize(
    ("provider", "anchor"),
    [
        ("thoughtindustries", {"page": 2**40}),
        ("thoughtindustries", {"page": 1, "pp": 0}),
        ("thoughtindustries", {"page": 1, "pp": 101}),
        ("thoughtindustries", {"page": 1, "pp": True}),
        ("thoughtindustries", {"page": 1, "pp": "100"}),
        (
            "heypeers",
            {"lo": "01/01/1000 12:00 AM", "hi": "12/31/9999 11:59 PM", "pp": 11, "page": 1},
        ),
        ("daily", {"l": 11, "a": "x", "timeframe_start": -(2**40)}),
        ("daily", {"l": 11, "b": "line\nbreak"}),
        ("daily", {"l": True, "b": "OLDEST"}),
        ("daily", {"l": 11}),
        ("daily", {"l": 11, "a": "x"}),
        (
            "heypeers",
            {"lo": "05/21/2026 12:00 AM", "hi": "12/31/2027 11:59 PM", "pp": True, "page": 1},
        ),
        (
            "heypeers",
            {"lo": "05/21/2026 12:00 AM", "hi": "12/31/2027 11:59 PM", "pp": 10, "page": True},
        ),
    ],
    ids=[
        "ti-page-2^40",
        "ti-per-page-0",
        "ti-per-page-101",
        "ti-per-page-true",
        "ti-per-page-text",
        "heypeers-year-1000",
        "daily-timeframe",
        "daily-session",
        "daily-limit-true",
        "daily-ascending-without-before",
        "daily-ascending-after",
        "heypeers-per-page-true",
        "heypeers-page-true",
    ],
)
def test_a_forged_anchor_is_never_sent_on_and_costs_what_no_anchor_costs(
    gateway: Stack, provider: str, anchor: dict[str, Any]
) -> None:
    query = """query($c: String) { meetings(first: 10, after: $c) {
      totalCount edges { cursor node { id } } } }"""
    payload = _open(gateway.data(query)["meetings"]["edges"][-1]["cursor"])
    points = payload[1][4]
    without = _forge(["k", [*payload[1][:4], {p: v for p, v in points.items() if p != provider}]])
    forged = _forge(["k", [*payload[1][:4], {**points, provider: [NOON, anchor]}]])

    def page(after: str) -> tuple[Any, int]:
        for name in ALL:
            gateway.http.delete(f"{gateway.provider_url(name)}/_sim/stats")
        for adapter in gateway.adapters.values():
            adapter.client.clear_cache()
        answer = gateway.data(query, {"c": after})
        return answer, _calls(gateway)

    assert page(forged) == page(without)


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ("query($v: ID!) { node(id: $v) { id } }", {"v": _global_id("Meeting:daily:a\nb")}, "id"),
        (
            "query($v: ID!) { node(id: $v) { id } }",
            {"v": _global_id("Meeting:daily:" + "x" * 300)},
            "id",
        ),
        (
            "query($v: [ID!]!) { nodes(ids: $v) { id } }",
            {"v": [_global_id("Member:heypeers:\x00")]},
            "ids",
        ),
        (
            "query($v: String!) { member(provider: HEYPEERS, id: $v) { id } }",
            {"v": "sso\r\nforged"},
            "id",
        ),
        (
            "query($v: String!) { member(provider: HEYPEERS, id: $v) { id } }",
            {"v": "y" * 300},
            "id",
        ),
        ("query($v: String!) { schedulingLink(slug: $v) { slug } }", {"v": "z" * 300}, "slug"),
        (
            "query($v: String) { meetings(first: 1, filter: {room: $v}) { totalCount } }",
            {"v": "standup\n"},
            "room",
        ),
    ],
    ids=["id-newline", "id-long", "nodes-nul", "member-crlf", "member-long", "slug-long", "room"],
)
def test_a_forged_identifier_is_refused_naming_its_argument_before_any_upstream_call(
    gateway: Stack, query: str, variables: dict[str, Any], field: str
) -> None:
    answer = gateway.query(query, variables)
    assert [e["extensions"] for e in answer["errors"]] == [
        {"code": "BAD_USER_INPUT", "field": field}
    ]
    assert _calls(gateway) == 0


def test_a_heypeers_meeting_id_from_no_possible_time_is_no_meeting_and_asks_nothing(
    gateway: Stack,
) -> None:
    for seconds in (253402300799, -62135596800):  # 9999-12-31 and 0001-01-01
        answer = gateway.data(
            "query($v: ID!) { node(id: $v) { id } }",
            {"v": _global_id(f"Meeting:heypeers:{seconds}-0123456789ab")},
        )
        assert answer == {"node": None}
    assert _calls(gateway) == 0


def test_time_bounds_with_offsets_beyond_the_calendar_are_clamped_not_errors(
    gateway: Stack,
) -> None:
    query = """query($a: DateTime, $b: DateTime) {
      meetings(first: 1, filter: {startsAfter: $a, startsBefore: $b}) { totalCount } }"""
    everything = gateway.data(query)["meetings"]["totalCount"]
    assert (
        gateway.data(query, {"a": "0001-01-01T00:00:00+14:00"})["meetings"]["totalCount"]
        == everything
    )
    assert (
        gateway.data(query, {"b": "9999-12-31T23:59:59-14:00"})["meetings"]["totalCount"]
        == everything
    )


AVAILABILITY = """query($m: Int!) { schedulingLink(slug: "menelson") {
  slug availability(timezone: "UTC", monthOffset: $m) { start } } }"""


@pytest.mark.parametrize("month_offset", [-1, 25, 2**31 - 1])
def test_a_month_offset_outside_its_bounds_is_refused_before_asking_hubspot(
    gateway: Stack, month_offset: int
) -> None:
    answer = gateway.query(AVAILABILITY, {"m": month_offset})
    assert answer["data"]["schedulingLink"]["slug"] == "menelson"
    assert answer["data"]["schedulingLink"]["availability"] is None
    assert [e["extensions"] for e in answer["errors"]] == [
        {"code": "BAD_USER_INPUT", "field": "monthOffset"}
    ]
    assert "between 0 and 24" in answer["errors"][0]["message"]
    assert gateway.calls("hubspot") == 1  # the link itself; no availability asked


def test_the_furthest_month_offset_is_asked(gateway: Stack) -> None:
    assert gateway.data(AVAILABILITY, {"m": 24})["schedulingLink"]["availability"] == []
    assert gateway.calls("hubspot") == 2


def test_a_refused_time_zone_is_quoted_not_echoed(gateway: Stack) -> None:
    answer = gateway.query(
        'query($tz: String!) { schedulingLink(slug: "menelson") { bookingInfo(timezone: $tz) '
        "{ linkId } } }",
        {"tz": "Europe/" + "x" * 10_000},
    )
    error = answer["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "timezone"}
    assert len(error["message"]) < 120
