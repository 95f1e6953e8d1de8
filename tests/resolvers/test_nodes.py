"""Global ids: every node the API hands out can be fetched again with ``node``/``nodes``."""

from __future__ import annotations

from typing import Any

from meetingmesh.domain import Provider
from meetingmesh.resolvers.ids import decode_id, encode_id
from tests.conftest import Stack

NODE_FIELDS = """
  __typename id
  ... on Meeting { title provider }
  ... on Member { providerId }
  ... on Course { courseSlug: slug }
  ... on SchedulingLink { slug }
"""


def _handed_out_ids(gateway: Stack) -> list[str]:
    data = gateway.data(
        """{
          ti: meetings(first: 1, filter: {providers: [THOUGHT_INDUSTRIES]}) {
            edges { node { id course { id } } } }
          daily: meetings(first: 1, filter: {providers: [DAILY]}) { edges { node { id } } }
          hp: meetings(first: 1, filter: {providers: [HEYPEERS]}) {
            edges { node { id hosts { id } } } }
          member(provider: HEYPEERS, id: "sso-user-abc123") { id }
          schedulingLink(slug: "menelson") { id }
        }"""
    )
    ti = data["ti"]["edges"][0]["node"]
    return [
        ti["id"],
        ti["course"]["id"],
        data["daily"]["edges"][0]["node"]["id"],
        data["hp"]["edges"][0]["node"]["id"],
        data["member"]["id"],
        data["schedulingLink"]["id"],
    ]


def test_every_handed_out_id_resolves_to_itself(gateway: Stack) -> None:
    ids = _handed_out_ids(gateway)
    data = gateway.data(
        f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_FIELDS} }} }}", {"ids": ids}
    )
    assert [n["id"] for n in data["nodes"]] == ids
    assert [n["__typename"] for n in data["nodes"]] == [
        "Meeting",
        "Course",
        "Meeting",
        "Meeting",
        "Member",
        "SchedulingLink",
    ]


def test_node_resolves_a_single_id(gateway: Stack) -> None:
    member_id = _handed_out_ids(gateway)[4]
    data = gateway.data(
        f"query($id: ID!) {{ node(id: $id) {{ {NODE_FIELDS} }} }}", {"id": member_id}
    )
    assert data["node"] == {
        "__typename": "Member",
        "id": member_id,
        "providerId": "sso-user-abc123",
    }


def test_an_id_the_api_never_issued_is_bad_user_input(gateway: Stack) -> None:
    for bogus in ("not-an-id", "TWVldGluZzp6b29tOjE", "Rm9vOmRhaWx5OjE"):
        answer = gateway.query("query($id: ID!) { node(id: $id) { id } }", {"id": bogus})
        assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


def test_meeting_field_returns_null_for_an_id_of_another_type(gateway: Stack) -> None:
    member_id = _handed_out_ids(gateway)[4]
    assert gateway.query("query($id: ID!) { meeting(id: $id) { id } }", {"id": member_id}) == {
        "data": {"meeting": None}
    }


def test_a_failing_provider_nulls_only_its_own_nodes(gateway: Stack) -> None:
    ids = _handed_out_ids(gateway)
    gateway.fault("daily", error_rate=1, error_status=503)
    answer: dict[str, Any] = gateway.query(
        f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_FIELDS} }} }}", {"ids": ids}
    )
    nodes = answer["data"]["nodes"]
    assert nodes[2] is None
    assert [n["id"] for i, n in enumerate(nodes) if i != 2] == [
        i for k, i in enumerate(ids) if k != 2
    ]
    assert answer["errors"] == [
        {
            "message": answer["errors"][0]["message"],
            "path": ["nodes", 2],
            "extensions": {"code": "UPSTREAM_UNAVAILABLE", "provider": "DAILY"},
        }
    ]


ATTENDEES = """query($p: [Provider!]) { meetings(first: 30, filter: {providers: $p}) {
  edges { node { id attendees(first: 30) { edges { node {
    id providerId name joinedAt durationSeconds member { id } } } } } } } }"""


def _attendances(gateway: Stack, provider: str) -> list[tuple[str, dict[str, Any]]]:
    """(meeting id, attendee) for the first 30 attendees of the provider's first 30 meetings."""
    data = gateway.data(ATTENDEES, {"p": [provider]})
    return [
        (meeting["node"]["id"], attendee["node"])
        for meeting in data["meetings"]["edges"]
        for attendee in meeting["node"]["attendees"]["edges"]
    ]


def test_the_same_person_in_two_meetings_is_two_attendances(gateway: Stack) -> None:
    seen: dict[str, list[dict[str, Any]]] = {}
    for _, attendee in _attendances(gateway, "THOUGHT_INDUSTRIES"):
        seen.setdefault(attendee["providerId"], []).append(attendee)
    twice = next(each for each in seen.values() if len(each) >= 2)
    assert len({a["id"] for a in twice}) == len(twice)
    assert len({a["member"]["id"] for a in twice}) == 1
    every = [a["id"] for each in seen.values() for a in each]
    assert len(set(every)) == len(every)


def test_an_attendance_id_finds_that_attendance_again(gateway: Stack) -> None:
    daily_meeting, daily = _attendances(gateway, "DAILY")[-1]
    ti_meeting, ti = _attendances(gateway, "THOUGHT_INDUSTRIES")[-1]
    gateway.http.delete(f"{gateway.sim_url}/_sim/stats")

    data = gateway.data(
        """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Attendee {
             providerId name joinedAt durationSeconds member { id } } } }""",
        {"ids": [daily["id"], ti["id"]]},
    )

    assert data["nodes"] == [{"__typename": "Attendee", **daily}, {"__typename": "Attendee", **ti}]
    # Through its meeting: Daily's session carries no participants, so they are read too;
    # a Thought Industries meeting carries its attendees.
    assert gateway.calls("daily") == 2
    assert gateway.calls("daily", "GET /meetings/{meeting_id}/participants") == 1
    assert gateway.calls("thoughtindustries") == 1
    assert daily_meeting != ti_meeting


def test_an_attendance_id_of_someone_not_in_that_meeting_is_null(gateway: Stack) -> None:
    meeting_key = decode_id(_attendances(gateway, "THOUGHT_INDUSTRIES")[0][0]).key
    stranger = encode_id("Attendee", Provider.THOUGHT_INDUSTRIES, f'["{meeting_key}","nobody"]')
    assert gateway.query("query($id: ID!) { node(id: $id) { id } }", {"id": stranger}) == {
        "data": {"node": None}
    }


def test_a_forged_attendance_id_is_bad_user_input(gateway: Stack) -> None:
    forged = encode_id("Attendee", Provider.THOUGHT_INDUSTRIES, "meeting-and-person")
    answer = gateway.query("query($id: ID!) { node(id: $id) { id } }", {"id": forged})
    assert answer["data"] == {"node": None}
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


def test_an_attendance_id_hiding_control_characters_reaches_no_provider(gateway: Stack) -> None:
    # The JSON pair inside the key may escape what the key itself cannot hold.
    forged = encode_id("Attendee", Provider.DAILY, '["session\\u0000x","person"]')
    answer = gateway.query("query($id: ID!) { node(id: $id) { id } }", {"id": forged})
    assert answer["data"] == {"node": None}
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert gateway.calls("daily") == 0
