"""Edge cases found in review: each once answered with "Unexpected error." or lost data."""

from __future__ import annotations

from tests.conftest import Stack


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
