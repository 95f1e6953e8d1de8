"""HeyPeers through the gateway: members' schedules and export rows as meetings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.domain import Provider
from meetingmesh.providers.heypeers import PLAN_SLACK, planned_page
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import Stack

EXPORT = "GET /api/v2/organizations/{org_id}/export_meetings"
UPCOMING = "GET /api/v2/organizations/{org_id}/members/{idp_id}/upcoming_meetings"

MEMBER_QUERY = """
query($id: String!) {
  member(provider: HEYPEERS, id: $id) {
    id provider providerId
    upcomingMeetings(first: 10) {
      totalCount
      pageInfo { hasNextPage }
      edges {
        registered registeredAt waitlistStatus
        node {
          id providerId title startTime endTime durationMinutes capacity registeredCount
          description topic status
          hosts { providerId name avatarUrl }
          details { ... on HeyPeersMeetingDetails { platform durationText } }
        }
      }
    }
  }
}
"""


def test_documented_member_schedule_maps_registration_and_waitlist(gateway: Stack) -> None:
    data = gateway.data(MEMBER_QUERY, {"id": "sso-user-abc123"})
    schedule = data["member"]["upcomingMeetings"]
    assert schedule["totalCount"] == 2
    first, second = schedule["edges"]
    assert first["node"]["providerId"] == "9123"
    assert first["registered"] is True
    assert first["registeredAt"] == "2026-05-20T18:42:11+00:00"
    assert first["waitlistStatus"] is None
    assert first["node"]["hosts"] == [
        {
            "providerId": "4501",
            "name": "Jane D.",
            "avatarUrl": "https://heypeers-assets.s3.amazonaws.com/users/avatars/thumb/4501.png",
        }
    ]
    assert second["node"]["providerId"] == "9131"
    assert second["registered"] is False
    assert second["registeredAt"] is None
    assert second["waitlistStatus"] == "WAITING"
    assert second["node"]["capacity"] == 8
    assert second["node"]["registeredCount"] == 8
    assert second["node"]["description"] is None


def test_member_meeting_times_are_utc_and_duration_in_minutes(gateway: Stack) -> None:
    data = gateway.data(MEMBER_QUERY, {"id": "sso-user-abc123"})
    meeting = data["member"]["upcomingMeetings"]["edges"][0]["node"]
    assert meeting["startTime"] == "2026-05-23T15:00:00+00:00"
    assert meeting["endTime"] == "2026-05-23T16:00:00+00:00"
    assert meeting["durationMinutes"] == 60
    assert meeting["status"] == "SCHEDULED"
    assert meeting["details"] == {"platform": "heypeers", "durationText": "1 hour"}


def test_unknown_member_is_null_without_error(gateway: Stack) -> None:
    answer = gateway.query(MEMBER_QUERY, {"id": "nobody-here"})
    assert answer == {"data": {"member": None}}


def test_member_schedule_pages_with_cursors(gateway: Stack) -> None:
    query = """
    query($after: String) {
      member(provider: HEYPEERS, id: "sso-user-abc123") {
        upcomingMeetings(first: 1, after: $after) {
          pageInfo { hasNextPage endCursor }
          edges { node { providerId } }
        }
      }
    }
    """
    first = gateway.data(query)["member"]["upcomingMeetings"]
    assert [e["node"]["providerId"] for e in first["edges"]] == ["9123"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = gateway.data(query, {"after": first["pageInfo"]["endCursor"]})
    page = second["member"]["upcomingMeetings"]
    assert [e["node"]["providerId"] for e in page["edges"]] == ["9131"]
    assert page["pageInfo"]["hasNextPage"] is False


def test_export_rows_get_ids_that_node_resolves_again(gateway: Stack) -> None:
    listing = gateway.data(
        """{ meetings(first: 5, filter: {providers: [HEYPEERS]}) {
             edges { node { id title startTime providerId capacity } } } }"""
    )
    nodes = [e["node"] for e in listing["meetings"]["edges"]]
    assert len(nodes) == 5
    for expected in nodes:
        assert expected["providerId"] is None
        found = gateway.data(
            """query($id: ID!) { node(id: $id) { ... on Meeting {
                 id title startTime providerId capacity } } }""",
            {"id": expected["id"]},
        )
        assert found["node"] == expected


def test_member_meeting_and_export_row_share_one_global_id(gateway: Stack) -> None:
    member = gateway.data(MEMBER_QUERY, {"id": "sso-user-abc123"})
    from_member = member["member"]["upcomingMeetings"]["edges"][0]["node"]
    listing = gateway.data(
        """{ meetings(first: 5, filter: {providers: [HEYPEERS],
               startsAfter: "2026-05-23T15:00:00Z", startsBefore: "2026-05-23T15:01:00Z"}) {
             edges { node { id title } } } }"""
    )
    ids = [e["node"]["id"] for e in listing["meetings"]["edges"]]
    assert from_member["id"] in ids


def test_export_is_asked_for_a_custom_range_widened_for_every_time_zone(gateway: Stack) -> None:
    gateway.data(
        """{ meetings(first: 3, filter: {providers: [HEYPEERS],
               startsAfter: "2026-05-01T10:30:45Z", startsBefore: "2026-06-01T00:00:00Z"}) {
             edges { node { title } } } }"""
    )
    params = gateway.last_params("heypeers", EXPORT)
    assert params["reporting_days"] == ["custom"]  # never the past-only default
    # 12 hours early (read in UTC-12 it is still at or before the bound); 14 hours and a
    # minute late (read in UTC+14 with the end excluded, it is still past the last instant).
    assert params["start_time"] == ["04/30/2026 10:30 PM"]
    assert params["end_time"] == ["06/01/2026 02:00 PM"]


def test_export_range_filter_is_exact_below_minute_resolution(gateway: Stack) -> None:
    # 9123 starts at 15:00:00; a bound one second later must exclude it although
    # HeyPeers only filters to the minute.
    data = gateway.data(
        """{ meetings(first: 5, filter: {providers: [HEYPEERS],
               startsAfter: "2026-05-23T15:00:01Z", startsBefore: "2026-05-23T15:01:00Z"}) {
             totalCount edges { node { title } } } }"""
    )
    assert data["meetings"]["edges"] == []
    assert data["meetings"]["totalCount"] == 0


def test_export_details_keep_every_heypeers_column(gateway: Stack) -> None:
    data = gateway.data(
        """{ meetings(first: 1, filter: {providers: [HEYPEERS],
               startsAfter: "2026-05-23T15:00:00Z", startsBefore: "2026-05-23T15:01:00Z"}) {
             edges { node { title hosts { providerId } details { ... on HeyPeersMeetingDetails {
               meetingType price platform rawStatus waitList privacy eap
               allowMeetingDonation invitationOnly } } } } } }"""
    )
    node = data["meetings"]["edges"][0]["node"]
    assert node["title"] == "Morning Grief Support Circle"
    assert node["hosts"] == [{"providerId": "4501"}]
    details = node["details"]
    assert details["meetingType"] == "Group"
    assert details["price"] == 0
    assert details["platform"] == "heypeers"
    assert details["rawStatus"] == "scheduled"
    assert {type(details[k]) for k in ("waitList", "privacy", "eap")} == {bool}


@pytest.mark.parametrize("suffix", ["", "/", "/api/v2", "/api/v2/"])
def test_base_url_works_with_or_without_the_documented_api_v2(
    gateway: Stack, serve: Callable[[ASGIApp], str], suffix: str
) -> None:
    settings = gateway_settings(gateway.sim_url)
    providers = dict(settings.providers)
    section = providers[Provider.HEYPEERS]
    providers[Provider.HEYPEERS] = replace(section, base_url=section.base_url + suffix)
    url = serve(create_app(replace(settings, providers=providers)))
    body = {"query": MEMBER_QUERY, "variables": {"id": "sso-user-abc123"}}
    answer = httpx.post(f"{url}/graphql", json=body, timeout=10).json()
    assert "errors" not in answer, answer
    assert answer["data"]["member"]["upcomingMeetings"]["totalCount"] == 2
    assert gateway.calls("heypeers") == gateway.calls("heypeers", UPCOMING) == 2


def test_a_member_meeting_in_progress_is_ongoing_and_a_later_one_scheduled(
    gateway: Stack,
) -> None:
    data = gateway.data(MEMBER_QUERY, {"id": "sso-user-inprogress"})
    edges = data["member"]["upcomingMeetings"]["edges"]
    statuses = {e["node"]["providerId"]: e["node"]["status"] for e in edges}
    # 990001 runs 11:30-12:30 on 2026-05-22; the simulated now is 12:00.
    assert statuses == {"990001": "ONGOING", "9123": "SCHEDULED"}
    ongoing = gateway.data(
        """{ meetings(first: 5, filter: {providers: [HEYPEERS], ongoing: true}) {
             totalCount edges { node { title status } } } }"""
    )["meetings"]
    assert ongoing["totalCount"] == 1
    # The same meeting from the export says the same.
    assert ongoing["edges"][0]["node"] == {"title": "Midday Peer Check-in", "status": "ONGOING"}


def test_a_margin_page_1_holds_with_slack_to_spare_plans_page_1() -> None:
    assert planned_page(margin=60, wanted=21, largest=100) == (100, 1)


def test_a_margin_past_page_1_plans_a_page_with_slack_on_both_sides() -> None:
    size, number = planned_page(margin=95, wanted=21, largest=100)
    offset = 95 - (number - 1) * size
    assert number > 1
    assert offset >= PLAN_SLACK and size - offset - 21 >= PLAN_SLACK


def test_a_page_too_large_to_centre_plans_page_1() -> None:
    # 101 rows wanted: no page of at most 100 keeps any row to spare.
    assert planned_page(margin=56, wanted=101, largest=100) == (100, 1)
