"""Thought Industries through the gateway: meetings with course, location and attendees."""

from __future__ import annotations

from typing import Any

from meetingmesh.domain import Provider
from meetingmesh.resolvers.ids import encode_id
from tests.conftest import Stack

LIST = "GET /incoming/v2/meetings"
EXAMPLE_COURSE = "00000000-0000-0000-0000-000000000000"

FIELDS = """
  id providerId title startTime endTime durationMinutes timeZone joinUrl registeredCount
  hosts { name }
  course { id providerId title slug publicationStatus }
  attendees(first: 100) { totalCount edges { node { id name email member { providerId } } } }
  details { ... on ThoughtIndustriesMeetingDetails { courseId instructors attendeeInfo
    location { id name city timeZone zipCode } } }
"""


def _raw_meetings(gateway: Stack, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in range(1, 100):
        body = gateway.upstream("thoughtindustries", "/incoming/v2/meetings", page=page, **params)
        rows += body["data"]["Meetings"]["meetings"]
        if not body["data"]["Meetings"]["pageInfo"]["hasMore"]:
            return rows
    raise AssertionError("too many pages")


def _by_id(gateway: Stack, meeting_id: str) -> dict[str, Any]:
    data = gateway.data(
        f"query($id: ID!) {{ meeting(id: $id) {{ {FIELDS} }} }}",
        {"id": encode_id("Meeting", Provider.THOUGHT_INDUSTRIES, meeting_id)},
    )
    meeting: dict[str, Any] = data["meeting"]
    return meeting


def test_meeting_maps_every_common_field(gateway: Stack) -> None:
    raw = next(r for r in _raw_meetings(gateway) if r["attendees"] and r["location"])
    node = _by_id(gateway, raw["id"])
    assert node["providerId"] == raw["id"]
    assert node["title"] == raw["title"]
    assert node["startTime"].startswith(raw["startDate"][:19])
    assert node["endTime"].startswith(raw["endDate"][:19])
    assert node["timeZone"] == raw["timeZone"]
    assert node["joinUrl"] == raw["joinUrl"]
    assert [h["name"] for h in node["hosts"]] == raw["instructors"]
    assert node["registeredCount"] == len(raw["attendees"])


def test_course_location_and_attendees_come_from_the_embedded_payload(gateway: Stack) -> None:
    raw = next(r for r in _raw_meetings(gateway) if r["attendees"] and r["location"])
    node = _by_id(gateway, raw["id"])
    assert node["course"]["providerId"] == raw["course"]["id"]
    assert node["course"]["title"] == raw["course"]["title"]
    assert node["course"]["slug"] == raw["course"]["slug"]
    assert node["details"]["courseId"] == raw["courseId"]
    assert node["details"]["instructors"] == raw["instructors"]
    assert node["details"]["attendeeInfo"] == raw["attendeeInfo"]
    assert node["details"]["location"]["city"] == raw["location"]["city"]
    assert node["details"]["location"]["zipCode"] == raw["location"]["zipCode"]
    emails = [e["node"]["email"] for e in node["attendees"]["edges"]]
    assert emails == [a["email"] for a in raw["attendees"]]
    assert node["attendees"]["totalCount"] == len(raw["attendees"])


def test_course_filter_accepts_a_course_global_id(gateway: Stack) -> None:
    expected = _raw_meetings(gateway, courseId=EXAMPLE_COURSE)
    course_id = encode_id("Course", Provider.THOUGHT_INDUSTRIES, EXAMPLE_COURSE)
    data = gateway.data(
        """query($c: ID!) { meetings(first: 100, filter: {courseId: $c}) {
             totalCount edges { node { provider providerId
               course { slug publicationStatus } } } } }""",
        {"c": course_id},
    )
    edges = data["meetings"]["edges"]
    assert data["meetings"]["totalCount"] == len(expected) > 0
    assert sorted(e["node"]["providerId"] for e in edges) == sorted(r["id"] for r in expected)
    assert {e["node"]["course"]["slug"] for e in edges} == {"example-slug"}
    assert gateway.last_params("thoughtindustries", LIST)["courseId"] == [EXAMPLE_COURSE]


def test_course_node_resolves_and_lists_its_meetings(gateway: Stack) -> None:
    course_id = encode_id("Course", Provider.THOUGHT_INDUSTRIES, EXAMPLE_COURSE)
    data = gateway.data(
        """query($c: ID!) { node(id: $c) { ... on Course { id slug publicationStatus
             meetings(first: 100) { totalCount edges { node { course { providerId } } } } } } }""",
        {"c": course_id},
    )
    course = data["node"]
    assert course["id"] == course_id
    assert course["slug"] == "example-slug"
    assert course["publicationStatus"] == "draft"
    assert course["meetings"]["totalCount"] == len(_raw_meetings(gateway, courseId=EXAMPLE_COURSE))
    assert {e["node"]["course"]["providerId"] for e in course["meetings"]["edges"]} == {
        EXAMPLE_COURSE
    }


def test_malformed_course_id_is_bad_user_input_before_any_call(gateway: Stack) -> None:
    answer = gateway.query('{ meetings(filter: {courseId: "not-a-uuid"}) { totalCount } }')
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gateway.calls("thoughtindustries") == 0


def test_aggregations_pass_through_with_a_provider_facet(gateway: Stack) -> None:
    upstream = gateway.upstream("thoughtindustries", "/incoming/v2/meetings")
    facets = upstream["data"]["Meetings"]["aggregations"]
    data = gateway.data(
        """{ meetings(first: 1, filter: {providers: [THOUGHT_INDUSTRIES]}) {
             totalCount aggregations { key label buckets { value label count } } } }"""
    )
    aggregations = {a["key"]: a for a in data["meetings"]["aggregations"]}
    assert aggregations["provider"]["buckets"] == [
        {
            "value": "THOUGHT_INDUSTRIES",
            "label": "Thought Industries",
            "count": data["meetings"]["totalCount"],
        }
    ]
    for facet in facets:
        passed = aggregations[facet["key"]]
        assert passed["label"] == facet["label"]
        assert [(b["value"], b["count"]) for b in passed["buckets"]] == [
            (b["value"], b["count"]) for b in facet["buckets"]
        ]


def test_unknown_meeting_is_null(gateway: Stack) -> None:
    assert _by_id(gateway, "11111111-1111-4111-8111-111111111111") is None
