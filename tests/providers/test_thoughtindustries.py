"""Thought Industries through the gateway: meetings with course, location and attendees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.config import Settings, provider_settings
from meetingmesh.domain import Provider
from meetingmesh.providers.http import rate_limiter
from meetingmesh.providers.thoughtindustries import LIST_PATH
from meetingmesh.resolvers.ids import encode_id
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import MOUNTS, TOKENS, create_simulators, gateway_settings
from tests.conftest import Stack

LIST = "GET /incoming/v2/meetings"
BY_ID = "GET /incoming/v2/meetings/{meeting_id}"
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


def _switch(gateway: Stack, **switches: Any) -> None:
    url = f"{gateway.provider_url('thoughtindustries')}/_sim/behaviour"
    assert gateway.http.put(url, json=switches).status_code == 200


WALK = """query($after: String, $low: DateTime) {
  meetings(first: 20, after: $after,
           filter: {providers: [THOUGHT_INDUSTRIES], startsAfter: $low}) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { providerId startTime } }
  }
}"""


def _walk(gateway: Stack, low: str | None = None) -> tuple[list[str], set[int]]:
    """Every provider id of the list from ``low``, and the totals each page reported."""
    seen: list[str] = []
    totals: set[int] = set()
    after = None
    for _ in range(20):
        page = gateway.data(WALK, {"after": after, "low": low})["meetings"]
        seen += [e["node"]["providerId"] for e in page["edges"]]
        totals.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen, totals
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


def test_with_the_upstream_cache_on_list_requests_ask_for_pages_of_one_hundred(
    gateway: Stack,
) -> None:
    gateway.data(WALK)
    assert gateway.last_params("thoughtindustries", LIST)["perPage"] == ["100"]


def _uncached(gateway: Stack, serve: Callable[[ASGIApp], str]) -> Callable[..., dict[str, Any]]:
    """A gateway over the same simulators with the upstream cache off: a query runner."""
    url = serve(create_app(gateway_settings(gateway.sim_url, cache_ttl=0), clock=Clock().now))

    def data(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables})
        body: dict[str, Any] = answer.json()
        assert "errors" not in body, body["errors"]
        found: dict[str, Any] = body["data"]
        return found

    return data


def test_with_the_cache_off_a_walk_from_the_start_asks_for_the_rows_it_shows_plus_two(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    """Nothing is reused without the cache: page 1 of 22 rows for 20, not 100."""
    data = _uncached(gateway, serve)
    raw = sorted(_raw_meetings(gateway), key=lambda r: (r["startDate"], r["id"]))
    gateway.http.delete(f"{gateway.provider_url('thoughtindustries')}/_sim/stats")
    page = data(WALK)["meetings"]
    assert [e["node"]["providerId"] for e in page["edges"]] == [r["id"] for r in raw[:20]]
    assert page["totalCount"] == len(raw)
    assert gateway.calls("thoughtindustries", LIST) == 1
    assert gateway.last_params("thoughtindustries", LIST)["perPage"] == ["22"]


@pytest.mark.parametrize("per_page", ["honoured", "ignored"])
def test_with_the_cache_off_cursors_walk_the_whole_list_in_sized_pages(
    gateway: Stack, serve: Callable[[ASGIApp], str], per_page: str
) -> None:
    """Cursors name the page size they were read at, so a walk resumes on the same rows
    whether Thought Industries serves the size asked for or its own (50 here)."""
    _switch(gateway, per_page=per_page)
    data = _uncached(gateway, serve)
    raw = sorted(_raw_meetings(gateway), key=lambda r: (r["startDate"], r["id"]))
    seen: list[str] = []
    after = None
    for _ in range(20):
        page = data(WALK, {"after": after, "low": None})["meetings"]
        seen += [e["node"]["providerId"] for e in page["edges"]]
        assert page["totalCount"] == len(raw)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [r["id"] for r in raw]


def test_with_the_cache_off_a_walk_from_the_end_still_reads_pages_of_one_hundred(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    """Backwards from the end: page 1 tells the page count, then the last page, which the
    gateway's bound on page numbers (10,000) must reach: pages of 12 would stop short of
    it past 120,000 meetings."""
    data = _uncached(gateway, serve)
    raw = sorted(_raw_meetings(gateway), key=lambda r: (r["startDate"], r["id"]))
    gateway.http.delete(f"{gateway.provider_url('thoughtindustries')}/_sim/stats")
    page = data(
        """{ meetings(last: 10, filter: {providers: [THOUGHT_INDUSTRIES]}) {
             totalCount edges { node { providerId } } } }"""
    )["meetings"]
    assert [e["node"]["providerId"] for e in page["edges"]] == [r["id"] for r in raw[-10:]]
    assert page["totalCount"] == len(raw)
    assert gateway.last_params("thoughtindustries", LIST)["perPage"] == ["100"]


def test_with_the_cache_off_a_searched_walk_still_reads_pages_of_one_hundred(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    data = _uncached(gateway, serve)
    raw = sorted(_raw_meetings(gateway), key=lambda r: (r["startDate"], r["id"]))
    middle = raw[len(raw) // 2]["startDate"]
    page = data(WALK, {"after": None, "low": middle})["meetings"]
    later = [r["id"] for r in raw if r["startDate"] >= middle]
    assert [e["node"]["providerId"] for e in page["edges"]] == later[:20]
    assert page["totalCount"] == len(later)
    assert gateway.last_params("thoughtindustries", LIST)["perPage"] == ["100"]


@pytest.mark.parametrize(("per_page", "pages"), [("honoured", 1), ("ignored", 2)])
def test_pages_follow_the_size_thought_industries_reports(
    gateway: Stack, per_page: str, pages: int
) -> None:
    _switch(gateway, per_page=per_page)
    raw = sorted(_raw_meetings(gateway), key=lambda r: (r["startDate"], r["id"]))
    gateway.http.delete(f"{gateway.provider_url('thoughtindustries')}/_sim/stats")
    seen, totals = _walk(gateway)
    assert seen == [r["id"] for r in raw]
    assert totals == {len(raw)}
    # 60 meetings: one page of 100 when perPage is honoured, two of 50 when it is not.
    assert gateway.calls("thoughtindustries", LIST) == pages
    middle = raw[len(raw) // 2]["startDate"]
    later, totals = _walk(gateway, middle)
    assert later == [r["id"] for r in raw if r["startDate"] >= middle]
    assert totals == {len(later)}


def test_a_page_out_of_order_costs_only_its_own_request_a_full_read(gateway: Stack) -> None:
    _switch(gateway, per_page="ignored", out_of_order_page=2)  # pages of 50, page 2 reversed
    raw = sorted(_raw_meetings(gateway), key=lambda r: (r["startDate"], r["id"]))
    seen, totals = _walk(gateway)
    assert seen == [r["id"] for r in raw]
    assert totals == {len(raw)}
    for provider in ("thoughtindustries",):
        gateway.http.delete(f"{gateway.provider_url(provider)}/_sim/stats")
    gateway.adapters[Provider.THOUGHT_INDUSTRIES].client.reset()
    # The next request trusts the order again: the first 20 cost page 1 only.
    page = gateway.data(WALK)["meetings"]
    assert [e["node"]["providerId"] for e in page["edges"]] == [r["id"] for r in raw[:20]]
    assert gateway.calls("thoughtindustries", LIST) == 1


def test_a_bounded_total_is_exact_when_the_search_meets_a_page_out_of_order(
    gateway: Stack,
) -> None:
    _switch(gateway, per_page="ignored", out_of_order_page=1)
    raw = sorted(_raw_meetings(gateway), key=lambda r: (r["startDate"], r["id"]))
    low = raw[25]["startDate"]  # on the reversed page 1, which the binary search reads
    data = gateway.data(WALK, {"low": low})["meetings"]
    assert data["totalCount"] == len([r for r in raw if r["startDate"] >= low])
    assert [e["node"]["providerId"] for e in data["edges"]] == [
        r["id"] for r in raw if r["startDate"] >= low
    ][:20]


def test_the_client_side_limit_keeps_to_a_burst_of_twenty(
    serve: Callable[[ASGIApp], str],
) -> None:
    """26 lookups at once: 20 go out, the rest follow at the base rate; none is refused."""
    clock = Clock()
    sims = create_simulators(seed=0, size=60, clock=clock)
    sim_url = serve(sims.app)
    base = sim_url + MOUNTS["thoughtindustries"]
    listing = httpx.get(
        base + LIST_PATH,
        params={"perPage": "100"},
        headers={"Authorization": f"Bearer {TOKENS['thoughtindustries']}"},
    ).json()
    ids = [row["id"] for row in listing["data"]["Meetings"]["meetings"][:26]]
    httpx.put(f"{base}/_sim/behaviour", json={"rate_limits": True})
    httpx.delete(f"{base}/_sim/stats")
    # Thought Industries' production defaults: 120 a minute, 20 at once.
    section = provider_settings(Provider.THOUGHT_INDUSTRIES, base, TOKENS["thoughtindustries"])
    assert (section.rate_limit, section.rate_burst) == (120, 20)
    app = create_app(Settings(providers={Provider.THOUGHT_INDUSTRIES: section}), clock=clock.now)
    url = serve(app)
    global_ids = [encode_id("Meeting", Provider.THOUGHT_INDUSTRIES, i) for i in ids]
    answer = httpx.post(
        f"{url}/graphql",
        json={
            "query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            "variables": {"ids": global_ids},
        },
        timeout=30,
    ).json()
    assert "errors" not in answer, answer["errors"]
    assert [n["id"] for n in answer["data"]["nodes"]] == global_ids
    stats = httpx.get(f"{base}/_sim/stats").json()
    # One request per meeting, give or take a refusal that the arrival jitter of a busy
    # machine can cause (the client paces by its own clock, the provider by arrival). A
    # client without the burst limit sends all 26 at once and gets 429s it cannot outwait.
    assert 26 <= stats["endpoints"][BY_ID]["count"] <= 28


def test_the_burst_limiter_lets_twenty_out_then_one_every_six_tenths_of_a_second() -> None:
    section = provider_settings(Provider.THOUGHT_INDUSTRIES, "https://ti.example", "t")
    limiter = rate_limiter(section)
    assert limiter is not None
    assert (limiter.max_rate, limiter.time_period) == (20, 12.0)
