"""Contract tests of the Thought Industries simulator, over real HTTP on loopback."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.serving import start_in_thread
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.fake import parse_iso
from meetingmesh.simulators.thoughtindustries import (
    TOKEN,
    ThoughtIndustriesBehaviour,
    create_app,
)
from meetingmesh.simulators.thoughtindustries_data import ThoughtIndustriesData

Serve = Callable[[ASGIApp], str]
Json = dict[str, Any]

SIZE = 230  # four full pages of 50 and a partial fifth one
PER_PAGE = 50
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MEETINGS = "/incoming/v2/meetings"
EXAMPLE_COURSE_ID = "00000000-0000-0000-0000-000000000000"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def fields(names: str) -> set[str]:
    return set(names.split())


# The documented objects, transcribed from the example response of the provider document.
MEETING_FIELDS = fields(
    "id title courseId course locationId location joinUrl attendeeInfo instructors "
    "startDate endDate timeZone attendees"
)
LOCATION_FIELDS = fields("id name room address1 address2 city state zipCode country timeZone")
DOCUMENTED_COURSE_FIELDS = fields(
    "id createdAt updatedAt slug status title sessionIsTitled sampleLesson sampleLessonId "
    "sections appearanceBlock appearanceHash paywallsBlock termsBlock confirmationBlock "
    "courseStartDate courseEndDate enrollmentStartDate enrollmentEndDate gracePeriodEndDate "
    "seatsLimit waitlistCount seatsLimitMet waitlistingEnabled waitlistingTriggered taxable "
    "purchasable taxCategory fulfillmentCenter courseGroup syllabusTitlesEnabled galleryEnabled "
    "workbookEnabled linkedWorkbookEnabled linkedWorkbookSkipEnabled superquizEnabled "
    "discussionsEnabled resourcesEnabled meetingsOverviewEnabled recurrenceRule recurrence "
    "readableRecurrenceString instructorAccessEnabled instructorEmails freeWithRegistration "
    "priceInCents instructorAccessPriceInCents suggestedRetailPriceInCents "
    "alternativePricingType alternativePricingRef accessDays showProgress annotationsEnabled "
    "forceLinearProgress completionTimePerPage askLearnerPassword roster topicGroupId sku "
    "prerequisiteCourses prerequisiteLearningPaths parentCourseId isChild hasMultipleCurrencies "
    "prices enrollmentActive waitlistActive webinarDates webinarTimeZone meetings "
    "inPersonEventInfo currentUserHasAccess location displayMap publishDate isActive "
    "futurePublishDate balanceRequirement awardClaimingOptions availabilityStatus "
    "embeddedEnabled displayResults bulkPurchasingEnabled seatTiers seatPackages "
    "lastTierPriceInCents webinarId hasChildren customFields kind rosterSubmittedDate "
    "finalAssessment scormCollectUserDetails seatsUsedCount seatsAllocatedCount webinarDetails "
    "showSyllabusWhileUnenrolled topicGroup courseGroupTitle currentUserDueDate"
)
DOCUMENTED_USER_FIELDS = fields(
    "id email firstName abbreviatedName asset lastName name lastActiveAt bio twoFactorEnabled "
    "firstInitial lastInitial invitedByName shouldHighlight purchasedCourses purchasedBundles "
    "activeLicense allocatedLicenses allocatedLearningPaths attendedMeetings waitlistedCourses "
    "adminClients roleKey address1 address2 city state zipCode country telephone "
    "stripeCustomerId externalCustomerId createdAt updatedAt sfAccountId sfContactId "
    "shippingName client clientId ref1 ref2 ref3 ref4 ref5 ref6 ref7 ref8 ref9 ref10 lang "
    "preferredCurrency customFields recommendedTags recommendedSlugs accessedFlows disabled "
    "learnerUserId managerUserId balance mustVerifyEmail certificatesCount collaborationsCount "
    "availableCoursesCount startedCoursesCount completedCoursesCount"
)
# What the simulator promises on top of "documented": the fields a gateway relies on.
REQUIRED_COURSE_FIELDS = fields(
    "id createdAt updatedAt slug status title courseStartDate courseEndDate"
)
REQUIRED_USER_FIELDS = fields(
    "id email firstName lastName name abbreviatedName firstInitial lastInitial asset roleKey "
    "lastActiveAt createdAt updatedAt"
)


# ---------------------------------------------------------------------------- fixtures


#: The contract tests below read pages of 50: the simulator's size when it ignores
#: ``perPage`` (its default honours it; the switch tests cover both).
FIFTIES = ThoughtIndustriesBehaviour(per_page="ignored")


@pytest.fixture(scope="module")
def data() -> ThoughtIndustriesData:
    return ThoughtIndustriesData.generate(seed=0, size=SIZE)


@pytest.fixture(scope="module")
def base_url(data: ThoughtIndustriesData) -> Iterator[str]:
    """A shared read-only server; tests that count requests or inject faults start their own."""
    handle = start_in_thread(create_app(data, behaviour=FIFTIES))
    yield handle.url
    handle.stop()


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as http:
        yield http


@pytest.fixture
def fresh(serve: Serve, data: ThoughtIndustriesData) -> Iterator[httpx.Client]:
    """A client of a server of its own: clean statistics, no faults."""
    app = create_app(data, behaviour=FIFTIES)
    with httpx.Client(base_url=serve(app), headers=AUTH, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def big_url() -> Iterator[str]:
    data = ThoughtIndustriesData.generate(seed=3, size=10_000)
    handle = start_in_thread(create_app(data, behaviour=FIFTIES))
    yield handle.url
    handle.stop()


def meetings_page(client: httpx.Client, **params: Any) -> Json:
    response = client.get(MEETINGS, params=params)
    assert response.status_code == 200, response.text
    page: Json = response.json()["data"]["Meetings"]
    return page


def all_meetings(client: httpx.Client, **params: Any) -> list[Json]:
    meetings: list[Json] = []
    page_number = 1
    while True:
        page = meetings_page(client, page=page_number, **params)
        meetings.extend(page["meetings"])
        if not page["pageInfo"]["hasMore"]:
            return meetings
        page_number += 1


def facet(page: Json, key: str) -> list[Json]:
    (found,) = [a for a in page["aggregations"] if a["key"] == key]
    buckets: list[Json] = found["buckets"]
    return buckets


def set_faults(client: httpx.Client, **settings: float) -> None:
    response = client.put("/_sim/faults", json=settings)
    assert response.status_code == 200, response.text


# ------------------------------------------------------------- the documented example


def test_example_request_returns_the_documented_envelope(client: httpx.Client) -> None:
    """curl "https://example.thoughtindustries.com/incoming/v2/meetings" -H 'Authorization: ...'"""
    response = client.get(MEETINGS)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"data"}
    assert set(body["data"]) == {"Meetings"}
    assert set(body["data"]["Meetings"]) == {"pageInfo", "aggregations", "meetings"}
    assert body["data"]["Meetings"]["pageInfo"] == {
        "perPage": PER_PAGE,
        "currentPage": 1,
        "total": SIZE,
        "hasMore": True,
    }
    assert len(body["data"]["Meetings"]["meetings"]) == PER_PAGE


def test_every_meeting_has_exactly_the_documented_fields(client: httpx.Client) -> None:
    for meeting in all_meetings(client):
        assert set(meeting) == MEETING_FIELDS
        assert UUID.match(meeting["id"])
        assert UUID.match(meeting["courseId"])
        assert meeting["course"]["id"] == meeting["courseId"]
        assert isinstance(meeting["title"], str) and meeting["title"]
        assert meeting["attendeeInfo"] is None or isinstance(meeting["attendeeInfo"], str)
        assert meeting["instructors"] and all(isinstance(n, str) for n in meeting["instructors"])
        assert ISO_MS.match(meeting["startDate"]) and ISO_MS.match(meeting["endDate"])
        assert meeting["startDate"] < meeting["endDate"]
        assert isinstance(meeting["timeZone"], str)


def test_courses_carry_documented_fields_and_never_embed_meetings(client: httpx.Client) -> None:
    for meeting in meetings_page(client)["meetings"]:
        course = meeting["course"]
        assert REQUIRED_COURSE_FIELDS <= set(course) <= DOCUMENTED_COURSE_FIELDS
        assert "meetings" not in course
        assert course["status"] in {"draft", "published", "archived"}
        for key in ("createdAt", "updatedAt", "courseStartDate", "courseEndDate"):
            assert ISO_MS.match(course[key])


def test_in_person_meetings_have_a_location_and_online_ones_a_join_url(
    client: httpx.Client,
) -> None:
    meetings = all_meetings(client)
    in_person = [m for m in meetings if m["locationId"] is not None]
    online = [m for m in meetings if m["locationId"] is None]

    assert in_person and online
    for meeting in in_person:
        assert set(meeting["location"]) == LOCATION_FIELDS
        assert meeting["location"]["id"] == meeting["locationId"]
        assert meeting["location"]["timeZone"] == meeting["timeZone"]
        assert meeting["joinUrl"] is None
    for meeting in online:
        assert meeting["location"] is None
        assert meeting["joinUrl"].startswith("https://")


def test_attendees_are_documented_users_shared_between_meetings(client: httpx.Client) -> None:
    meetings = all_meetings(client)
    attendance = Counter(user["id"] for m in meetings for user in m["attendees"])

    assert all(0 <= len(m["attendees"]) <= 8 for m in meetings)
    assert any(not m["attendees"] for m in meetings)
    assert max(attendance.values()) > 1
    for user in (user for m in meetings for user in m["attendees"]):
        assert REQUIRED_USER_FIELDS <= set(user) <= DOCUMENTED_USER_FIELDS
        assert user["name"] == f"{user['firstName']} {user['lastName']}"
        assert user["firstInitial"] == user["firstName"][0]
        assert user["lastInitial"] == user["lastName"][0]
        assert "@" in user["email"]


def test_courses_are_shared_between_meetings(client: httpx.Client) -> None:
    meetings = all_meetings(client)
    courses = {m["courseId"]: m["course"] for m in meetings}

    assert 3 <= len(courses) < len(meetings)
    assert all(m["course"] == courses[m["courseId"]] for m in meetings)


def test_the_documented_example_course_is_in_the_data(client: httpx.Client) -> None:
    meetings = meetings_page(client, courseId=EXAMPLE_COURSE_ID)["meetings"]

    assert meetings
    course = meetings[0]["course"]
    assert course["id"] == EXAMPLE_COURSE_ID
    assert course["slug"] == "example-slug"
    assert course["status"] == "draft"
    assert course["createdAt"] == course["updatedAt"] == "2024-01-01T00:00:00.000Z"


def test_meetings_spread_over_past_and_future_in_several_time_zones(
    client: httpx.Client,
) -> None:
    meetings = all_meetings(client)
    now = Clock().now()
    starts = [parse_iso(m["startDate"]) for m in meetings]

    assert min(starts) < now - timedelta(days=60)
    assert max(starts) > now + timedelta(days=60)
    assert all(abs(start - now) <= timedelta(days=181) for start in starts)
    assert len({m["timeZone"] for m in meetings}) >= 4


# ------------------------------------------------------------------------ pagination


def test_meetings_are_ordered_by_start_date_then_id_across_pages(client: httpx.Client) -> None:
    meetings = all_meetings(client)
    keys = [(m["startDate"], m["id"]) for m in meetings]

    assert keys == sorted(keys)
    assert len(set(keys)) == SIZE


def test_page_defaults_to_the_first(client: httpx.Client) -> None:
    assert meetings_page(client) == meetings_page(client, page=1)


def test_last_page_is_partial_and_has_no_more(client: httpx.Client) -> None:
    page = meetings_page(client, page=5)

    assert len(page["meetings"]) == SIZE - 4 * PER_PAGE
    assert page["pageInfo"] == {
        "perPage": PER_PAGE,
        "currentPage": 5,
        "total": SIZE,
        "hasMore": False,
    }


def test_a_page_past_the_end_is_empty(client: httpx.Client) -> None:
    page = meetings_page(client, page=99)

    assert page["meetings"] == []
    assert page["pageInfo"] == {
        "perPage": PER_PAGE,
        "currentPage": 99,
        "total": SIZE,
        "hasMore": False,
    }


# ------------------------------------------------------------------- courseId filter


def test_course_id_keeps_only_that_courses_meetings(client: httpx.Client) -> None:
    busiest = facet(meetings_page(client), "course")[0]

    meetings = all_meetings(client, courseId=busiest["value"])

    assert len(meetings) == busiest["count"] > 1
    assert {m["courseId"] for m in meetings} == {busiest["value"]}
    first = meetings_page(client, courseId=busiest["value"])["pageInfo"]
    assert first["total"] == busiest["count"]


def test_course_id_of_an_unknown_course_gives_an_empty_list(client: httpx.Client) -> None:
    page = meetings_page(client, courseId="11111111-2222-4333-8444-555555555555")

    assert page["meetings"] == []
    assert page["pageInfo"] == {
        "perPage": PER_PAGE,
        "currentPage": 1,
        "total": 0,
        "hasMore": False,
    }
    assert facet(page, "course") == []
    assert facet(page, "timeZone") == []


def test_course_id_matches_case_insensitively(client: httpx.Client) -> None:
    course_id = facet(meetings_page(client), "course")[0]["value"]

    upper = meetings_page(client, courseId=course_id.upper())

    assert upper == meetings_page(client, courseId=course_id)


# ---------------------------------------------------------------------- aggregations


def test_aggregations_have_the_documented_shape(client: httpx.Client) -> None:
    aggregations = meetings_page(client)["aggregations"]

    assert {a["key"]: a["label"] for a in aggregations} == {
        "course": "Course",
        "timeZone": "Time Zone",
    }
    for aggregation in aggregations:
        assert set(aggregation) == {"key", "label", "buckets"}
        for bucket in aggregation["buckets"]:
            assert set(bucket) == {"query", "value", "label", "description", "count"}
            assert isinstance(bucket["count"], int) and bucket["count"] > 0


def test_aggregations_count_the_whole_result_set(client: httpx.Client) -> None:
    meetings = all_meetings(client)
    page = meetings_page(client, page=2)
    titles = {m["courseId"]: m["course"]["title"] for m in meetings}

    courses = facet(page, "course")
    zones = facet(page, "timeZone")

    assert sum(b["count"] for b in courses) == sum(b["count"] for b in zones) == SIZE
    assert {b["value"]: b["count"] for b in courses} == Counter(m["courseId"] for m in meetings)
    assert {b["value"]: b["count"] for b in zones} == Counter(m["timeZone"] for m in meetings)
    for bucket in courses:
        assert bucket["label"] == titles[bucket["value"]]
        assert bucket["query"] == f"courseId:{bucket['value']}"
    assert all(b["query"] == f"timeZone:{b['value']}" for b in zones)
    counts = [b["count"] for b in courses]
    assert counts == sorted(counts, reverse=True)


def test_aggregations_follow_the_course_filter(client: httpx.Client) -> None:
    course_id = facet(meetings_page(client), "course")[0]["value"]
    meetings = all_meetings(client, courseId=course_id)

    page = meetings_page(client, courseId=course_id)

    assert [(b["value"], b["count"]) for b in facet(page, "course")] == [(course_id, len(meetings))]
    assert {b["value"]: b["count"] for b in facet(page, "timeZone")} == Counter(
        m["timeZone"] for m in meetings
    )


# ----------------------------------------------------------------------- MeetingById


def test_meeting_by_id_returns_the_listed_meeting(client: httpx.Client) -> None:
    listed = meetings_page(client, page=3)["meetings"][7]

    response = client.get(f"{MEETINGS}/{listed['id']}")

    assert response.status_code == 200
    assert response.json() == {"data": {"MeetingById": listed}}


def test_meeting_by_id_of_an_unknown_meeting_is_404(client: httpx.Client) -> None:
    unknown = "11111111-2222-4333-8444-555555555555"

    response = client.get(f"{MEETINGS}/{unknown}")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": f"Meeting {unknown} not found"}


def test_meeting_by_id_with_a_malformed_id_is_a_graphql_error_inside_200(
    client: httpx.Client,
) -> None:
    response = client.get(f"{MEETINGS}/not-a-uuid")

    assert response.status_code == 200
    errors = response.json()["data"]["errors"]
    assert len(errors) == 1 and "not-a-uuid" in errors[0]["message"]
    assert "MeetingById" not in response.json()["data"]


def test_ping_answers_valid(client: httpx.Client) -> None:
    response = client.get("/incoming/v2/ping")

    assert response.status_code == 200
    assert response.json() == {"valid": True}


# ------------------------------------------------------------------------------ auth


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
        {"Authorization": TOKEN},
    ],
    ids=["missing", "wrong-key", "wrong-scheme", "empty-key", "no-scheme"],
)
@pytest.mark.parametrize(
    "path",
    [MEETINGS, f"{MEETINGS}/{EXAMPLE_COURSE_ID}", "/incoming/v2/ping"],
    ids=["meetings", "meeting-by-id", "ping"],
)
def test_unauthenticated_requests_get_401_with_an_empty_body(
    base_url: str, path: str, headers: dict[str, str]
) -> None:
    response = httpx.get(base_url + path, headers=headers)

    assert response.status_code == 401
    assert response.content == b""


# -------------------------------------------------------------------- bad parameters


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", " 2", "+2", "2147483648"])
def test_a_page_that_is_not_a_positive_integer_is_a_graphql_error_inside_200(
    client: httpx.Client, page: str
) -> None:
    response = client.get(MEETINGS, params={"page": page})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data"} and set(body["data"]) == {"errors"}
    (error,) = body["data"]["errors"]
    assert set(error) == {"message"} and "$page" in error["message"]


@pytest.mark.parametrize("course_id", ["abc", "", "42", "00000000-0000-0000-0000-00000000000g"])
def test_a_course_id_that_is_not_a_uuid_is_a_graphql_error_inside_200(
    client: httpx.Client, course_id: str
) -> None:
    response = client.get(MEETINGS, params={"courseId": course_id})

    assert response.status_code == 200
    (error,) = response.json()["data"]["errors"]
    assert "$courseId" in error["message"]
    assert "Meetings" not in response.json()["data"]


def test_unknown_query_parameters_are_ignored(client: httpx.Client) -> None:
    assert meetings_page(client, perPage=5, limit=3) == meetings_page(client)


def test_every_api_response_carries_rate_limit_headers(client: httpx.Client) -> None:
    answers = [
        client.get(MEETINGS),
        client.get(MEETINGS, params={"page": "x"}),
        client.get(f"{MEETINGS}/11111111-2222-4333-8444-555555555555"),
        client.get("/incoming/v2/ping"),
    ]
    for response in answers:
        assert response.headers["X-RateLimit-Limit"] == "120"
        assert int(response.headers["X-RateLimit-Remaining"]) > 0
        assert int(response.headers["X-RateLimit-Reset"]) > 0


def test_unknown_paths_and_methods_answer_the_provider_error_body(client: httpx.Client) -> None:
    missing = client.get("/incoming/v2/courses")
    wrong_method = client.post(MEETINGS)

    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"


# ---------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "bad_request"),
        (403, "forbidden"),
        (404, "not_found"),
        (500, "internal_server_error"),
        (502, "bad_gateway"),
        (503, "service_unavailable"),
        (504, "gateway_timeout"),
    ],
)
def test_injected_errors_use_the_provider_error_body(
    fresh: httpx.Client, status: int, reason: str
) -> None:
    set_faults(fresh, error_rate=1, error_status=status)

    response = fresh.get(MEETINGS)

    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == reason


def test_an_injected_401_has_an_empty_body(fresh: httpx.Client) -> None:
    set_faults(fresh, error_rate=1, error_status=401)

    response = fresh.get("/incoming/v2/ping")

    assert response.status_code == 401
    assert response.content == b""


def test_an_injected_429_carries_retry_after(fresh: httpx.Client) -> None:
    set_faults(fresh, error_rate=1, error_status=429, retry_after=32)

    response = fresh.get(MEETINGS)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "32"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    body = response.json()
    assert body["error"] == "rate_limit_exceeded"
    assert body["retryAfter"] == 32
    assert isinstance(body["message"], str)


def test_injected_malformed_json_does_not_parse(fresh: httpx.Client) -> None:
    set_faults(fresh, malformed_rate=1)

    response = fresh.get(MEETINGS)

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_injected_latency_delays_the_answer(fresh: httpx.Client) -> None:
    set_faults(fresh, latency_ms=200)

    started = time.monotonic()
    response = fresh.get("/incoming/v2/ping")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_an_injected_hang_ends_within_its_bound(fresh: httpx.Client) -> None:
    set_faults(fresh, hang_rate=1, hang_seconds=0.3)

    started = time.monotonic()
    response = fresh.get("/incoming/v2/ping", timeout=5)

    assert response.status_code == 504
    assert 0.3 <= time.monotonic() - started < 5


def test_faults_can_be_read_and_cleared(fresh: httpx.Client) -> None:
    set_faults(fresh, error_rate=1, error_status=503)
    assert fresh.get("/_sim/faults").json()["error_status"] == 503

    fresh.delete("/_sim/faults")

    assert fresh.get("/incoming/v2/ping").status_code == 200


def test_unknown_fault_settings_are_refused(fresh: httpx.Client) -> None:
    response = fresh.put("/_sim/faults", json={"explode": 1})

    assert response.status_code == 400


# ----------------------------------------------------------------------------- stats


def test_stats_count_requests_per_endpoint_with_their_last_params(fresh: httpx.Client) -> None:
    fresh.get(MEETINGS, params={"page": 2})
    fresh.get(MEETINGS, params={"page": 3, "courseId": EXAMPLE_COURSE_ID})
    fresh.get(f"{MEETINGS}/{EXAMPLE_COURSE_ID}")
    fresh.get("/incoming/v2/ping", headers={"Authorization": "Bearer wrong"})

    stats = fresh.get("/_sim/stats").json()

    assert stats["total"] == 4
    endpoints = stats["endpoints"]
    assert endpoints["GET /incoming/v2/meetings"]["count"] == 2
    assert endpoints["GET /incoming/v2/meetings"]["last_params"] == {
        "page": ["3"],
        "courseId": [EXAMPLE_COURSE_ID],
    }
    assert endpoints["GET /incoming/v2/meetings/{meeting_id}"]["count"] == 1
    assert endpoints["GET /incoming/v2/ping"]["count"] == 1


def test_deleting_stats_resets_them(fresh: httpx.Client) -> None:
    fresh.get(MEETINGS)

    fresh.delete("/_sim/stats")

    assert fresh.get("/_sim/stats").json() == {"total": 0, "endpoints": {}}


# ----------------------------------------------------------------------- determinism


def test_same_seed_size_and_clock_give_the_same_bytes() -> None:
    first = ThoughtIndustriesData.generate(seed=5, size=300).dump()
    second = ThoughtIndustriesData.generate(seed=5, size=300).dump()

    assert first == second


def test_a_different_seed_or_clock_gives_different_bytes() -> None:
    base = ThoughtIndustriesData.generate(seed=5, size=300).dump()
    later = Clock.parse("2026-07-01T09:00:00Z")

    assert ThoughtIndustriesData.generate(seed=6, size=300).dump() != base
    assert ThoughtIndustriesData.generate(seed=5, size=300, clock=later).dump() != base


@pytest.mark.parametrize("size", [12, 13, 57])
def test_small_sizes_have_exactly_size_meetings_and_the_example_course(size: int) -> None:
    data = ThoughtIndustriesData.generate(size=size)

    assert len(data.meetings) == size
    assert len({m.course_id for m in data.meetings}) >= 3
    assert EXAMPLE_COURSE_ID in {m.course_id for m in data.meetings}


# --------------------------------------------------------------- walks at size 10,000


def test_walking_every_page_at_10000_returns_every_meeting_once(big_url: str) -> None:
    ids: list[str] = []
    with httpx.Client(base_url=big_url, headers=AUTH, timeout=30) as client:
        for number in range(1, 201):
            page = meetings_page(client, page=number)
            assert page["pageInfo"]["hasMore"] is (number < 200)
            ids.extend(m["id"] for m in page["meetings"])
        assert meetings_page(client, page=201)["meetings"] == []

    assert len(ids) == len(set(ids)) == page["pageInfo"]["total"] == 10_000


def test_walking_a_course_filter_at_10000_returns_its_meetings_once(big_url: str) -> None:
    with httpx.Client(base_url=big_url, headers=AUTH, timeout=30) as client:
        busiest = facet(meetings_page(client), "course")[0]
        meetings = all_meetings(client, courseId=busiest["value"])

    ids = [m["id"] for m in meetings]
    assert len(ids) > 2 * PER_PAGE  # the walk spans several pages
    assert len(ids) == len(set(ids)) == busiest["count"]
    assert {m["courseId"] for m in meetings} == {busiest["value"]}


# ------------------------------------------------------------------- behaviour switches


@pytest.fixture
def switched(serve: Serve, data: ThoughtIndustriesData) -> Iterator[Callable[..., httpx.Client]]:
    """A server of the test's own; call with switches to set them, get a client back."""
    base = serve(create_app(data))
    with httpx.Client(base_url=base, headers=AUTH, timeout=10) as http:

        def set_switches(**values: Any) -> httpx.Client:
            response = http.put("/_sim/behaviour", json=values)
            assert response.status_code == 200, response.text
            return http

        yield set_switches


def page_of(http: httpx.Client, **params: Any) -> Json:
    body: Json = http.get(MEETINGS, params=params).json()["data"]["Meetings"]
    return body


def test_per_page_is_honoured_by_default(switched: Callable[..., httpx.Client]) -> None:
    body = page_of(switched(), perPage=100)
    assert body["pageInfo"]["perPage"] == 100
    assert len(body["meetings"]) == 100


def test_an_ignored_per_page_keeps_pages_at_50(client: httpx.Client) -> None:
    body = page_of(client, perPage=100)
    assert body["pageInfo"]["perPage"] == 50
    assert len(body["meetings"]) == 50


def test_honoured_per_page_defaults_to_25(switched: Callable[..., httpx.Client]) -> None:
    body = page_of(switched(per_page="honoured"))
    assert body["pageInfo"]["perPage"] == 25
    assert len(body["meetings"]) == 25


def test_honoured_per_page_serves_the_size_asked_and_reports_it(
    switched: Callable[..., httpx.Client],
) -> None:
    http = switched(per_page="honoured")
    body = page_of(http, perPage=100, page=2)
    assert body["pageInfo"] == {"perPage": 100, "currentPage": 2, "total": SIZE, "hasMore": True}
    assert len(body["meetings"]) == 100


def test_honoured_per_page_is_capped_at_100(switched: Callable[..., httpx.Client]) -> None:
    body = page_of(switched(per_page="honoured"), perPage=500)
    assert body["pageInfo"]["perPage"] == 100
    assert len(body["meetings"]) == 100


def test_a_per_page_that_is_not_a_positive_integer_is_an_error_in_a_200(
    switched: Callable[..., httpx.Client],
) -> None:
    response = switched(per_page="honoured").get(MEETINGS, params={"perPage": "lots"})
    assert response.status_code == 200
    assert "perPage" in response.json()["data"]["errors"][0]["message"]


def test_walking_pages_of_the_honoured_size_reads_every_meeting_once(
    switched: Callable[..., httpx.Client], data: ThoughtIndustriesData
) -> None:
    http = switched(per_page="honoured")
    seen: list[str] = []
    for page in range(1, 5):
        seen += [m["id"] for m in page_of(http, perPage=60, page=page)["meetings"]]
    assert seen == [m.id for m in data.meetings]


def test_the_out_of_order_page_comes_reversed_and_the_others_do_not(
    switched: Callable[..., httpx.Client],
) -> None:
    http = switched(out_of_order_page=2)
    second = [m["startDate"] for m in page_of(http, page=2)["meetings"]]
    third = [m["startDate"] for m in page_of(http, page=3)["meetings"]]
    assert second == sorted(second, reverse=True) and second != sorted(second)
    assert third == sorted(third)


def test_an_out_of_order_page_holds_the_same_meetings_as_in_order(
    switched: Callable[..., httpx.Client], client: httpx.Client
) -> None:
    shuffled = page_of(switched(out_of_order_page=1, per_page="ignored"), page=1)["meetings"]
    assert [m["id"] for m in reversed(shuffled)] == [
        m["id"] for m in page_of(client, page=1)["meetings"]
    ]


def with_attendees(data: ThoughtIndustriesData) -> str:
    return next(m.id for m in data.meetings[:50] if len(m.attendee_ids) >= 2)


@pytest.mark.parametrize(
    ("bad_row", "spoiled"),
    [
        ("null_time", lambda m: m["startDate"] is None),
        ("member_without_id", lambda m: any("id" not in a for a in m["attendees"])),
        ("null_in_list", lambda m: None in m["attendees"] and None in m["instructors"]),
        ("unknown_enum", lambda m: m["course"]["status"] == "under_review"),
    ],
)
def test_bad_row_spoils_exactly_the_chosen_meeting(
    switched: Callable[..., httpx.Client],
    data: ThoughtIndustriesData,
    bad_row: str,
    spoiled: Callable[[Json], bool],
) -> None:
    chosen = with_attendees(data)
    http = switched(bad_row=bad_row, bad_row_id=chosen)
    meetings = page_of(http, page=1)["meetings"]
    assert [m["id"] for m in meetings if spoiled(m)] == [chosen]
    one = http.get(f"{MEETINGS}/{chosen}").json()["data"]["MeetingById"]
    assert spoiled(one)
