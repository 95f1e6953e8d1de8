"""Contract tests of the HubSpot scheduler v3 simulator, over real HTTP on loopback."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from meetingmesh.serving import start_in_thread
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.hubspot import TOKEN, Booking, HubSpotData, create_app
from meetingmesh.simulators.hubspot_data import MeetingLink
from meetingmesh.simulators.hubspot_oauth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
LINKS = "/scheduler/v3/meetings/meeting-links"
BOOK = f"{LINKS}/book"
PAGE = f"{LINKS}/book/availability-page"
NOW = Clock().now()
NOW_MS = int(NOW.timestamp() * 1000)
MINUTE_MS = 60_000
WEEK_MS = 7 * 24 * 60 * MINUTE_MS
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
INCREMENTS = {"FIVE": 5, "TEN": 10, "FIFTEEN": 15, "TWENTY": 20, "THIRTY": 30}
INCREMENTS |= {"FORTY_FIVE": 45, "SIXTY": 60, "NINETY": 90, "ONE_HUNDRED_TWENTY": 120}
MENELSON = {
    "slug": "menelson",
    "link": "https://meetings.hubspot.com/menelson",
    "name": "menelson",
    "type": "PERSONAL_LINK",
    "organizerUserId": "1234567",
    "defaultLink": True,
    "userIdsOfLinkMembers": ["1234567"],
}
Serve = Callable[[ASGIApp], str]


@dataclass
class Sim:
    """A simulator of a test's own (bookings, faults and stats start empty)."""

    http: httpx.Client
    app: Starlette

    @property
    def bookings(self) -> list[Booking]:
        """What the app booked, in order."""
        bookings: list[Booking] = self.app.state.bookings
        return bookings


@pytest.fixture(scope="module")
def data() -> HubSpotData:
    """The small data set most tests read (size 200: 20 links)."""
    return HubSpotData.generate(seed=0, size=200)


@pytest.fixture(scope="module")
def api(data: HubSpotData) -> Iterator[httpx.Client]:
    """An authenticated client of a read-only simulator serving ``data``."""
    handle = start_in_thread(create_app(data))
    with httpx.Client(base_url=handle.url, headers=AUTH, timeout=10) as http:
        yield http
    handle.stop()


@pytest.fixture(scope="module")
def big() -> Iterator[httpx.Client]:
    """A client of a simulator at size 10,000 (1,000 links), for walking every page."""
    handle = start_in_thread(create_app(HubSpotData.generate(seed=3, size=10_000)))
    with httpx.Client(base_url=handle.url, headers=AUTH, timeout=10) as http:
        yield http
    handle.stop()


class Swappable:
    """An ASGI app that forwards to whichever app was installed last.

    One server then serves a fresh simulator to every test that books or changes faults,
    instead of starting and stopping a server per test.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def own_server(data: HubSpotData) -> Iterator[tuple[Swappable, str]]:
    """A server whose app each ``sim`` replaces."""
    swappable = Swappable(create_app(data))
    handle = start_in_thread(swappable)
    yield swappable, handle.url
    handle.stop()


@pytest.fixture
def sim(own_server: tuple[Swappable, str], data: HubSpotData) -> Iterator[Sim]:
    """A simulator of this test's own over ``data``, for bookings, faults and stats."""
    swappable, url = own_server
    app = create_app(data)
    swappable.app = app
    with httpx.Client(base_url=url, headers=AUTH, timeout=10) as http:
        yield Sim(http, app)


# --- helpers -------------------------------------------------------------------------------


def links_page(http: httpx.Client, **params: Any) -> dict[str, Any]:
    response = http.get(LINKS, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def walk(http: httpx.Client, **params: Any) -> tuple[list[str], set[int]]:
    """Follow ``paging.next.after`` from the first page; every id and every total seen."""
    ids: list[str] = []
    totals: set[int] = set()
    cursor: str | None = None
    while True:
        body = links_page(http, **params, **({"after": cursor} if cursor else {}))
        ids += [link["id"] for link in body["results"]]
        totals.add(body["total"])
        if "paging" not in body:
            return ids, totals
        cursor = body["paging"]["next"]["after"]


def availability(http: httpx.Client, slug: str, **params: Any) -> dict[str, Any]:
    params.setdefault("timezone", "America/New_York")
    response = http.get(f"{PAGE}/{slug}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def slots(http: httpx.Client, slug: str, duration: int, **params: Any) -> list[int]:
    """Offered start times of one duration in one month."""
    body = availability(http, slug, **params)
    by_duration = body["linkAvailability"]["linkAvailabilityByDuration"]
    return [slot["startMillisUtc"] for slot in by_duration[str(duration)]["availabilities"]]


def first_slot(http: httpx.Client, slug: str, duration: int) -> int:
    """The earliest offered start time of ``slug`` for ``duration``."""
    for month in range(3):
        offered = slots(http, slug, duration, monthOffset=month)
        if offered:
            return offered[0]
    raise AssertionError(f"{slug} offers nothing for {duration} ms")


def booking_body(slot: int, **changes: Any) -> dict[str, Any]:
    """A valid booking of menelson's 30-minute ``slot``, with ``changes`` applied."""
    body: dict[str, Any] = {
        "slug": "menelson",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "startTime": slot,
        "duration": 1_800_000,
        "timezone": "America/New_York",
    }
    body.update(changes)
    return body


def assert_hubspot_error(response: httpx.Response, status: int, category: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert body["category"] == category
    assert isinstance(body["message"], str) and body["message"]
    assert len(body["correlationId"]) == 36
    return body


def error_fields(response: httpx.Response) -> list[tuple[str, str]]:
    """``(in, code)`` of every entry of a 400 VALIDATION_ERROR."""
    body = assert_hubspot_error(response, 400, "VALIDATION_ERROR")
    return [(entry["in"], entry["code"]) for entry in body["errors"]]


def link_where(data: HubSpotData, test: Callable[[MeetingLink], bool]) -> MeetingLink:
    return next(link for link in data.links if test(link))


def custom_answers(link: MeetingLink) -> list[dict[str, str]]:
    """Valid answers to every custom question of a link's booking form."""
    return [
        {"name": f.name, "value": f.options[0] if f.options else "x"}
        for f in link.settings.form_fields
        if f.is_custom
    ]


def default_link_of(data: HubSpotData, user_id: str) -> MeetingLink:
    return next(lk for lk in data.links if lk.default_link and lk.organizer_user_id == user_id)


def overlaps(start: int, end: int, busy: list[dict[str, int]]) -> bool:
    return any(b["start"] < end and start < b["end"] for b in busy)


# --- GET meeting-links -------------------------------------------------------------------


def test_document_example_query_returns_exactly_the_menelson_link(api: httpx.Client) -> None:
    body = links_page(
        api, limit=1, name="menelson", organizerUserId="1234567", type="PERSONAL_LINK"
    )
    assert body["total"] == 1
    assert "paging" not in body
    [link] = body["results"]
    assert {k: link[k] for k in MENELSON} == MENELSON


def test_document_example_query_as_printed_with_its_typo_still_finds_menelson(
    api: httpx.Client,
) -> None:
    """The document spells ``organzerUserId``; unknown parameters are ignored."""
    response = api.get(f"{LINKS}?limit=1&name=menelson&organzerUserId=1234567&type=PERSONAL_LINK")
    assert response.status_code == 200
    assert [link["slug"] for link in response.json()["results"]] == ["menelson"]


def test_links_carry_every_field_with_the_sdk_types(api: httpx.Client) -> None:
    for link in links_page(api, limit=100)["results"]:
        assert set(link) == {
            "id",
            "slug",
            "link",
            "name",
            "type",
            "organizerUserId",
            "defaultLink",
            "userIdsOfLinkMembers",
            "createdAt",
            "updatedAt",
        }
        assert link["id"].isdigit() and link["organizerUserId"].isdigit()
        assert link["link"] == f"https://meetings.hubspot.com/{link['slug']}"
        assert link["organizerUserId"] in link["userIdsOfLinkMembers"]
        assert all(isinstance(user_id, str) for user_id in link["userIdsOfLinkMembers"])
        created = datetime.fromisoformat(link["createdAt"].replace("Z", "+00:00"))
        updated = datetime.fromisoformat(link["updatedAt"].replace("Z", "+00:00"))
        assert created <= updated <= NOW


def test_links_are_in_ascending_numeric_id_order_with_menelson_first(api: httpx.Client) -> None:
    ids = [link["id"] for link in links_page(api, limit=100)["results"]]
    assert ids == sorted(ids, key=int)
    assert ids[0] == "1530581"


def test_limit_defaults_to_ten(api: httpx.Client) -> None:
    body = links_page(api)
    assert len(body["results"]) == 10
    assert body["total"] == 20
    assert "paging" in body


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
def test_limit_outside_1_to_100_is_a_validation_error(api: httpx.Client, limit: str) -> None:
    assert error_fields(api.get(LINKS, params={"limit": limit}))[0][0] == "limit"


def test_the_last_page_has_no_paging(api: httpx.Client) -> None:
    body = links_page(api, limit=20)
    assert len(body["results"]) == 20
    assert "paging" not in body


def test_walking_every_page_at_size_10000_returns_each_link_once(big: httpx.Client) -> None:
    ids, totals = walk(big, limit=100)
    assert totals == {1000}
    assert len(ids) == 1000 == len(set(ids))
    assert ids == sorted(ids, key=int)


def test_paging_next_link_is_this_request_with_after_replaced(api: httpx.Client) -> None:
    first = links_page(api, limit=5, type="GROUP_CALENDAR")
    following = httpx.URL(first["paging"]["next"]["link"])
    assert following.params["after"] == first["paging"]["next"]["after"]
    assert following.params["limit"] == "5"
    assert following.params["type"] == "GROUP_CALENDAR"
    by_link = api.get(str(following))
    by_after = links_page(api, limit=5, type="GROUP_CALENDAR", after=following.params["after"])
    assert by_link.json()["results"] == by_after["results"]


def test_paging_through_a_filter_returns_the_filtered_set_and_total(api: httpx.Client) -> None:
    everything = links_page(api, limit=100)["results"]
    round_robins = [link["id"] for link in everything if link["type"] == "ROUND_ROBIN_CALENDAR"]
    ids, totals = walk(api, limit=1, type="ROUND_ROBIN_CALENDAR")
    assert ids == round_robins
    assert totals == {len(round_robins)}


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "x",
        "MTYwMDAwMA==",  # padded: not a cursor the simulator issues
        base64.urlsafe_b64encode(b"abc").decode(),
        base64.urlsafe_b64encode(b"-5").decode(),
    ],
)
def test_a_cursor_the_simulator_did_not_issue_is_a_validation_error(
    api: httpx.Client, cursor: str
) -> None:
    assert error_fields(api.get(LINKS, params={"after": cursor})) == [("after", "INVALID_FORMAT")]


def test_name_filter_is_a_case_insensitive_substring_match(api: httpx.Client) -> None:
    everything = links_page(api, limit=100)["results"]
    expected = [link["id"] for link in everything if "demo" in link["name"].lower()]
    assert expected, "the data set should hold a demo link"
    body = links_page(api, limit=100, name="DeMo")
    assert [link["id"] for link in body["results"]] == expected
    assert body["total"] == len(expected)


def test_organizer_filter_matches_the_user_id_exactly(api: httpx.Client) -> None:
    body = links_page(api, limit=100, organizerUserId="1234567")
    assert body["results"] and all(r["organizerUserId"] == "1234567" for r in body["results"])
    assert links_page(api, organizerUserId="123456")["total"] == 0


@pytest.mark.parametrize("kind", ["PERSONAL_LINK", "GROUP_CALENDAR", "ROUND_ROBIN_CALENDAR"])
def test_type_filter_returns_only_that_type(api: httpx.Client, kind: str) -> None:
    body = links_page(api, limit=100, type=kind)
    assert body["total"] > 0
    assert {link["type"] for link in body["results"]} == {kind}


def test_an_unknown_type_is_a_validation_error(api: httpx.Client) -> None:
    assert error_fields(api.get(LINKS, params={"type": "personal_link"})) == [
        ("type", "INVALID_TYPE")
    ]


def test_every_organizer_has_exactly_one_default_link(api: httpx.Client) -> None:
    everything = links_page(api, limit=100)["results"]
    organizers = {link["organizerUserId"] for link in everything}
    defaults = [link["organizerUserId"] for link in everything if link["defaultLink"]]
    assert sorted(defaults) == sorted(organizers)


@pytest.mark.parametrize(("size", "links"), [(12, 12), (119, 12), (200, 20), (1234, 123)])
def test_a_data_set_holds_max_12_or_size_over_10_links(size: int, links: int) -> None:
    data = HubSpotData.generate(size=size)
    assert len(data.links) == links
    assert {link.type for link in data.links} == {
        "PERSONAL_LINK",
        "GROUP_CALENDAR",
        "ROUND_ROBIN_CALENDAR",
    }
    assert {k: data.links[0].metadata()[k] for k in MENELSON} == MENELSON


# --- GET book/{slug} -------------------------------------------------------------------


def test_booking_info_has_the_documented_shape(api: httpx.Client) -> None:
    response = api.get(f"{BOOK}/menelson", params={"timezone": "America/New_York"})
    assert response.status_code == 200
    info = response.json()
    assert info["linkId"] == "1530581"
    assert info["linkType"] == "PERSONAL_LINK"
    assert info["isOffline"] is False
    [organizer] = info["allUsersBusyTimes"]
    assert organizer["isOffline"] is False
    assert organizer["meetingsUser"]["userId"] == "1234567"
    assert organizer["meetingsUser"]["calendarProvider"] == "GOOGLE"
    assert set(organizer["meetingsUser"]["userProfile"]) == {
        "email",
        "firstName",
        "lastName",
        "fullName",
    }
    busy = organizer["busyTimes"]
    assert busy and all(isinstance(b["start"], int) and b["start"] < b["end"] for b in busy)
    assert [b["start"] for b in busy] == sorted(b["start"] for b in busy)
    params = info["customParams"]
    assert params["durations"] == [1_800_000, 3_600_000]
    assert params["startTimeIncrementMinutes"] == "FIFTEEN"
    assert params["weeksToAdvertise"] == 8
    assert params["meetingBufferTime"] == 0
    assert params["guestSettings"] == {"canAddGuests": True, "maxGuestCount": 2}
    assert params["availability"]["MONDAY"] == {"start": 540, "end": 1020}
    assert [f["name"] for f in params["formFields"]] == ["firstName", "lastName", "email"]
    assert params["location"] == "Google Meet"
    assert set(info["linkAvailability"]["linkAvailabilityByDuration"]) == {"1800000", "3600000"}


def test_booking_info_busy_times_cover_the_advertising_window(api: httpx.Client) -> None:
    info = api.get(f"{BOOK}/menelson", params={"timezone": "UTC"}).json()
    busy = info["allUsersBusyTimes"][0]["busyTimes"]
    assert all(b["end"] > NOW_MS and b["start"] < NOW_MS + 8 * WEEK_MS for b in busy)


def test_group_booking_info_lists_every_member_organizer_first(
    api: httpx.Client, data: HubSpotData
) -> None:
    group = link_where(data, lambda link: link.type == "GROUP_CALENDAR")
    info = api.get(f"{BOOK}/{group.slug}", params={"timezone": "UTC"}).json()
    users = [entry["meetingsUser"]["userId"] for entry in info["allUsersBusyTimes"]]
    assert users == list(group.member_user_ids)
    assert users[0] == group.organizer_user_id


@pytest.mark.parametrize(
    ("zone", "code"), [(None, "REQUIRED"), ("Mars/Olympus", "INVALID_TIMEZONE")]
)
def test_booking_info_needs_a_known_timezone(
    api: httpx.Client, zone: str | None, code: str
) -> None:
    params = {"timezone": zone} if zone else {}
    assert error_fields(api.get(f"{BOOK}/menelson", params=params)) == [("timezone", code)]


def test_booking_info_of_an_unknown_slug_is_not_found(api: httpx.Client) -> None:
    response = api.get(f"{BOOK}/nobody-here", params={"timezone": "UTC"})
    assert "nobody-here" in assert_hubspot_error(response, 404, "OBJECT_NOT_FOUND")["message"]


# --- GET book/availability-page/{slug} ---------------------------------------------------


def test_availability_is_keyed_by_duration_in_milliseconds(api: httpx.Client) -> None:
    body = availability(api, "menelson")
    assert set(body) == {"linkAvailability", "allUsersBusyTimes"}
    by_duration = body["linkAvailability"]["linkAvailabilityByDuration"]
    assert set(by_duration) == {"1800000", "3600000"}
    for key, entry in by_duration.items():
        assert entry["meetingDurationMillis"] == int(key)
        assert entry["availabilities"]
        for slot in entry["availabilities"]:
            assert slot["endMillisUtc"] - slot["startMillisUtc"] == int(key)


def test_menelson_offers_weekdays_9_to_5_new_york_every_15_minutes(api: httpx.Client) -> None:
    new_york = ZoneInfo("America/New_York")
    offered = slots(api, "menelson", 1_800_000, monthOffset=1)
    for start in offered:
        local = datetime.fromtimestamp(start / 1000, new_york)
        assert local.weekday() < 5
        assert local.minute % 15 == 0
        assert local.hour >= 9 and (local.hour, local.minute) <= (16, 30)


def month_bounds(zone: ZoneInfo, offset: int) -> tuple[datetime, datetime]:
    """Start and end of the calendar month ``offset`` months after now's, in ``zone``."""
    first = NOW.astimezone(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (first + timedelta(days=32 * offset)).replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


def assert_offerable(link: MeetingLink, info: dict[str, Any], start: int, duration: int) -> None:
    """``start`` is on the link's grid, in its hours and window, and its hosts are free."""
    params = info["customParams"]
    word = params["startTimeIncrementMinutes"]
    step = duration if word == "MEETING_DURATION" else INCREMENTS[word] * MINUTE_MS
    local = datetime.fromtimestamp(start / 1000, ZoneInfo(link.time_zone))
    hours = params["availability"][WEEKDAYS[local.weekday()]]
    minute = local.hour * 60 + local.minute
    assert hours["start"] <= minute
    assert minute + duration // MINUTE_MS <= hours["end"]
    assert (minute - hours["start"]) * MINUTE_MS % step == 0
    assert NOW_MS < start < NOW_MS + params["weeksToAdvertise"] * WEEK_MS
    low = start - params["meetingBufferTime"]
    high = start + duration + params["meetingBufferTime"]
    busy = {e["meetingsUser"]["userId"]: e["busyTimes"] for e in info["allUsersBusyTimes"]}
    free = [user for user, times in busy.items() if not overlaps(low, high, times)]
    if link.type == "ROUND_ROBIN_CALENDAR":
        assert free
    elif link.type == "GROUP_CALENDAR":
        assert len(free) == len(busy)
    else:
        assert link.organizer_user_id in free


def test_every_link_offers_only_free_working_hour_slots_on_its_grid(
    api: httpx.Client, data: HubSpotData
) -> None:
    """Checked for every link, duration and slot against the customParams it serves."""
    tokyo = ZoneInfo("Asia/Tokyo")
    for link in data.links:
        info = api.get(f"{BOOK}/{link.slug}", params={"timezone": "Asia/Tokyo"}).json()
        for month in (0, 1):
            month_start, month_end = month_bounds(tokyo, month)
            page = availability(api, link.slug, timezone="Asia/Tokyo", monthOffset=month)
            by_duration = page["linkAvailability"]["linkAvailabilityByDuration"]
            assert set(by_duration) == {str(d) for d in info["customParams"]["durations"]}
            for key, entry in by_duration.items():
                starts = [slot["startMillisUtc"] for slot in entry["availabilities"]]
                assert starts == sorted(set(starts))
                for start in starts:
                    assert month_start <= datetime.fromtimestamp(start / 1000, UTC) < month_end
                    assert_offerable(link, info, start, int(key))


def test_menelson_offers_every_free_quarter_hour_of_june(api: httpx.Client) -> None:
    """Month 1 (June 2026) lies wholly inside menelson's 8-week window."""
    new_york = ZoneInfo("America/New_York")
    page = availability(api, "menelson", monthOffset=1)
    busy = page["allUsersBusyTimes"][0]["busyTimes"]
    expected = []
    for day in range(1, 31):
        if datetime(2026, 6, day).weekday() >= 5:
            continue
        for quarter in range(9 * 4, 16 * 4 + 1):
            local = datetime(2026, 6, day, quarter // 4, quarter % 4 * 15, tzinfo=new_york)
            start = int(local.timestamp() * 1000)
            if not overlaps(start, start + 3_600_000, busy):
                expected.append(start)
    assert slots(api, "menelson", 3_600_000, monthOffset=1) == expected


def test_busy_time_is_never_offered(api: httpx.Client) -> None:
    busy = availability(api, "menelson", monthOffset=1)["allUsersBusyTimes"][0]["busyTimes"]
    assert busy
    for start in slots(api, "menelson", 3_600_000, monthOffset=1):
        assert not overlaps(start, start + 3_600_000, busy)


def test_has_more_while_a_later_month_in_the_window_offers_slots(api: httpx.Client) -> None:
    """menelson advertises 8 weeks from Friday 22 May 2026: May, June and July."""
    more = [
        availability(api, "menelson", monthOffset=m)["linkAvailability"]["hasMore"]
        for m in range(4)
    ]
    assert more == [True, True, False, False]
    assert slots(api, "menelson", 1_800_000, monthOffset=2)
    assert slots(api, "menelson", 1_800_000, monthOffset=3) == []


def test_month_zero_starts_after_now(api: httpx.Client) -> None:
    offered = slots(api, "menelson", 1_800_000, monthOffset=0)
    assert offered and all(start > NOW_MS for start in offered)
    assert min(offered) < NOW_MS + 24 * 3_600_000


def test_months_are_counted_in_the_requested_time_zone(serve: Serve) -> None:
    """Sunday 31 May 20:00 UTC is already Monday 1 June in Tokyo."""
    clock = Clock(datetime(2026, 5, 31, 20, 0, tzinfo=UTC))
    app = create_app(HubSpotData.generate(size=12, clock=clock), clock=clock)
    with httpx.Client(base_url=serve(app), headers=AUTH, timeout=10) as http:
        new_york = availability(http, "menelson", timezone="America/New_York", monthOffset=0)
        tokyo = slots(http, "menelson", 1_800_000, timezone="Asia/Tokyo", monthOffset=0)
    may = new_york["linkAvailability"]
    assert may["linkAvailabilityByDuration"]["1800000"]["availabilities"] == []
    assert may["hasMore"] is True
    assert tokyo[0] == int(datetime(2026, 6, 1, 13, 0, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize("offset", ["-1", "one", "1.0"])
def test_month_offset_must_be_a_non_negative_integer(api: httpx.Client, offset: str) -> None:
    response = api.get(f"{PAGE}/menelson", params={"timezone": "UTC", "monthOffset": offset})
    assert [field for field, _ in error_fields(response)] == ["monthOffset"]


def test_a_huge_month_offset_is_just_empty(api: httpx.Client) -> None:
    body = availability(api, "menelson", monthOffset=999_999_999)
    assert body["linkAvailability"]["hasMore"] is False
    by_duration = body["linkAvailability"]["linkAvailabilityByDuration"]
    assert all(entry["availabilities"] == [] for entry in by_duration.values())


def test_availability_needs_a_timezone_and_a_known_slug(api: httpx.Client) -> None:
    assert error_fields(api.get(f"{PAGE}/menelson")) == [("timezone", "REQUIRED")]
    missing = api.get(f"{PAGE}/nobody-here", params={"timezone": "UTC"})
    assert_hubspot_error(missing, 404, "OBJECT_NOT_FOUND")


# --- POST book ----------------------------------------------------------------------------


def test_booking_an_offered_slot_answers_the_documented_fields(sim: Sim) -> None:
    # The documented answer (the default, odd_booking_answer, drops ``end``).
    sim.http.put("/_sim/behaviour", json={"odd_booking_answer": False}).raise_for_status()
    slot = first_slot(sim.http, "menelson", 1_800_000)
    response = sim.http.post(BOOK, params={"timezone": "America/New_York"}, json=booking_body(slot))
    assert response.status_code == 200, response.text
    booked = response.json()
    assert booked["bookingTimezone"] == "America/New_York"
    assert booked["duration"] == 1_800_000
    assert booked["start"] == datetime.fromtimestamp(slot / 1000, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    end = datetime.fromisoformat(booked["end"].replace("Z", "+00:00"))
    assert end.timestamp() * 1000 == slot + 1_800_000
    assert booked["subject"] == "Ada Lovelace and Megan Nelson"
    assert booked["isOffline"] is False
    assert booked["calendarEventId"] and booked["contactId"].isdigit()
    assert booked["guestEmails"] == []
    assert [f["name"] for f in booked["formFields"]] == ["firstName", "lastName", "email"]
    assert booked["locale"] == "en-us"
    assert booked["location"] == "Google Meet"
    assert booked["webConferenceUrl"].startswith("https://meet.google.com/")
    assert booked["webConferenceMeetingId"] in booked["webConferenceUrl"]
    [booking] = sim.bookings
    assert (booking.slug, booking.start_ms, booking.user_ids) == ("menelson", slot, ("1234567",))


def test_a_booked_slot_and_the_slots_overlapping_it_are_no_longer_offered(sim: Sim) -> None:
    slot = first_slot(sim.http, "menelson", 1_800_000)
    before = slots(sim.http, "menelson", 3_600_000)
    assert sim.http.post(BOOK, json=booking_body(slot)).status_code == 200
    assert slot not in slots(sim.http, "menelson", 1_800_000)
    after = slots(sim.http, "menelson", 3_600_000)
    assert [s for s in before if not slot - 3_600_000 < s < slot + 1_800_000] == after
    info = sim.http.get(f"{BOOK}/menelson", params={"timezone": "UTC"}).json()
    busy = info["allUsersBusyTimes"][0]["busyTimes"]
    assert {"start": slot, "end": slot + 1_800_000} in busy


def test_booking_the_same_slot_twice_fails_the_second_time(sim: Sim) -> None:
    slot = first_slot(sim.http, "menelson", 1_800_000)
    assert sim.http.post(BOOK, json=booking_body(slot)).status_code == 200
    again = sim.http.post(BOOK, json=booking_body(slot, email="grace@example.com"))
    assert error_fields(again) == [("startTime", "SLOT_UNAVAILABLE")]
    assert len(sim.bookings) == 1


def test_start_time_may_be_an_iso_8601_string_or_a_digit_string(sim: Sim) -> None:
    offered = slots(sim.http, "menelson", 1_800_000, monthOffset=1)
    iso = datetime.fromtimestamp(offered[0] / 1000, UTC).isoformat().replace("+00:00", "Z")
    naive_new_york = datetime.fromtimestamp(offered[8] / 1000, ZoneInfo("America/New_York"))
    for start in (iso, naive_new_york.replace(tzinfo=None).isoformat(), str(offered[16])):
        response = sim.http.post(BOOK, json=booking_body(0, startTime=start))
        assert response.status_code == 200, response.text
    assert [b.start_ms for b in sim.bookings] == [offered[0], offered[8], offered[16]]


def test_the_path_slug_form_of_the_document_also_books(sim: Sim) -> None:
    slot = first_slot(sim.http, "menelson", 1_800_000)
    body = booking_body(slot)
    del body["slug"]
    assert sim.http.post(f"{BOOK}/menelson", json=body).status_code == 200
    other = sim.http.post(f"{BOOK}/menelson", json=booking_body(slot, slug="someone-else"))
    assert error_fields(other) == [("slug", "SLUG_MISMATCH")]


def test_the_timezone_may_come_from_the_query_instead_of_the_body(sim: Sim) -> None:
    slot = first_slot(sim.http, "menelson", 1_800_000)
    body = booking_body(slot)
    del body["timezone"]
    response = sim.http.post(BOOK, params={"timezone": "Europe/Berlin"}, json=body)
    assert response.json()["bookingTimezone"] == "Europe/Berlin"


def test_the_same_email_keeps_its_contact_id(sim: Sim) -> None:
    offered = slots(sim.http, "menelson", 1_800_000, monthOffset=1)
    ids = [
        sim.http.post(BOOK, json=booking_body(start, email=email)).json()["contactId"]
        for start, email in zip(offered[:12:4], ("a@x.io", "b@x.io", "A@x.io"), strict=True)
    ]
    assert ids[0] == ids[2] != ids[1]


def _without(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda body: body.pop(name)


def _setting(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda body: body.update({name: value})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_without("firstName"), ("firstName", "REQUIRED")),
        (_setting("lastName", "  "), ("lastName", "REQUIRED")),
        (_without("email"), ("email", "REQUIRED")),
        (_setting("email", "ada-at-example.com"), ("email", "INVALID_EMAIL")),
        (_without("duration"), ("duration", "REQUIRED")),
        (_setting("duration", 30), ("duration", "INVALID_DURATION")),
        (_setting("duration", "1800000"), ("duration", "INVALID_TYPE")),
        (_without("startTime"), ("startTime", "REQUIRED")),
        (_setting("startTime", "next tuesday"), ("startTime", "INVALID_DATETIME")),
        (_setting("startTime", NOW_MS - 3_600_000), ("startTime", "START_TIME_IN_PAST")),
        (_setting("timezone", "Mars/Olympus"), ("timezone", "INVALID_TIMEZONE")),
        (
            _setting("guestEmails", ["a@x.io", "b@x.io", "c@x.io"]),
            ("guestEmails", "TOO_MANY_GUESTS"),
        ),
        (_setting("guestEmails", ["not an email"]), ("guestEmails", "INVALID_EMAIL")),
        (
            _setting("formFields", [{"name": "shoe", "value": "9"}]),
            ("formFields.shoe", "UNKNOWN_FIELD"),
        ),
        (_setting("formFields", "shoe=9"), ("formFields", "INVALID_TYPE")),
        (_setting("likelyAvailableUserIds", [1234567]), ("likelyAvailableUserIds", "INVALID_TYPE")),
        (
            _setting("legalConsentResponses", [{"consented": True}]),
            ("legalConsentResponses", "INVALID_TYPE"),
        ),
        (_setting("locale", 7), ("locale", "INVALID_TYPE")),
    ],
)
def test_each_invalid_field_is_named_in_the_error(
    sim: Sim, change: Callable[[dict[str, Any]], None], expected: tuple[str, str]
) -> None:
    body = booking_body(first_slot(sim.http, "menelson", 1_800_000))
    change(body)
    assert error_fields(sim.http.post(BOOK, json=body)) == [expected]
    assert sim.bookings == []


def test_a_time_off_the_grid_or_outside_working_hours_is_not_offered(sim: Sim) -> None:
    slot = first_slot(sim.http, "menelson", 1_800_000)
    three_am = int(datetime(2026, 6, 2, 3, 0, tzinfo=ZoneInfo("America/New_York")).timestamp())
    beyond_window = slot + 9 * WEEK_MS
    for start in (slot + 7 * MINUTE_MS, three_am * 1000, beyond_window):
        response = sim.http.post(BOOK, json=booking_body(start))
        assert error_fields(response) == [("startTime", "START_TIME_NOT_OFFERED")]


def test_every_invalid_field_gets_its_own_entry(sim: Sim) -> None:
    body = booking_body(0, firstName="", email="nope", duration=1)
    del body["startTime"]
    fields = [field for field, _ in error_fields(sim.http.post(BOOK, json=body))]
    assert fields == ["firstName", "email", "duration", "startTime"]


def test_an_unknown_slug_is_not_found_and_a_missing_one_is_required(sim: Sim) -> None:
    missing = sim.http.post(BOOK, json=booking_body(0, slug="nobody-here"))
    assert_hubspot_error(missing, 404, "OBJECT_NOT_FOUND")
    body = booking_body(0)
    del body["slug"]
    assert error_fields(sim.http.post(BOOK, json=body)) == [("slug", "REQUIRED")]


def test_a_body_that_is_not_a_json_object_is_a_validation_error(sim: Sim) -> None:
    broken = sim.http.post(BOOK, content=b"{not json", headers={"Content-Type": "application/json"})
    assert error_fields(broken) == [("body", "INVALID_FORMAT")]
    assert error_fields(sim.http.post(BOOK, json=[1, 2])) == [("body", "INVALID_TYPE")]


def test_guests_are_refused_where_the_link_allows_none(sim: Sim, data: HubSpotData) -> None:
    link = link_where(
        data, lambda lk: not lk.settings.can_add_guests and lk.type == "PERSONAL_LINK"
    )
    duration = link.settings.durations_ms[0]
    slot = first_slot(sim.http, link.slug, duration)
    body = booking_body(slot, slug=link.slug, duration=duration, guestEmails=["g@x.io"])
    body["formFields"] = custom_answers(link)
    assert error_fields(sim.http.post(BOOK, json=body)) == [("guestEmails", "GUESTS_NOT_ALLOWED")]


def test_required_form_fields_must_be_answered_from_their_options(
    sim: Sim, data: HubSpotData
) -> None:
    link = link_where(
        data, lambda lk: any(f.name == "meeting_topic" for f in lk.settings.form_fields)
    )
    duration = link.settings.durations_ms[0]
    slot = first_slot(sim.http, link.slug, duration)
    body = booking_body(slot, slug=link.slug, duration=duration)
    answers = [{"name": f.name, "value": "ACME"} for f in link.settings.form_fields if f.is_custom]
    unanswered = [
        (f"formFields.{f.name}", "REQUIRED")
        for f in link.settings.form_fields
        if f.is_custom and f.is_required
    ]
    assert error_fields(sim.http.post(BOOK, json=body)) == unanswered
    wrong = sim.http.post(BOOK, json={**body, "formFields": answers})
    assert error_fields(wrong) == [("formFields.meeting_topic", "INVALID_OPTION")]
    answers = [{**a, "value": "Pricing"} if a["name"] == "meeting_topic" else a for a in answers]
    booked = sim.http.post(BOOK, json={**body, "formFields": answers})
    assert booked.status_code == 200, booked.text
    topic = next(f for f in booked.json()["formFields"] if f["name"] == "meeting_topic")
    assert topic["value"] == "Pricing" and topic["isCustom"] is True


def test_a_round_robin_slot_books_once_per_free_member(sim: Sim, data: HubSpotData) -> None:
    link = link_where(
        data, lambda lk: lk.type == "ROUND_ROBIN_CALENDAR" and len(lk.member_user_ids) >= 3
    )
    duration = link.settings.durations_ms[0]
    slot = first_slot(sim.http, link.slug, duration)
    body = booking_body(slot, slug=link.slug, duration=duration)
    body["formFields"] = custom_answers(link)
    statuses = [sim.http.post(BOOK, json=body).status_code for _ in link.member_user_ids]
    statuses.append(sim.http.post(BOOK, json=body).status_code)
    booked = statuses.count(200)
    assert statuses == [200] * booked + [400] * (len(statuses) - booked)
    hosts = [b.user_ids for b in sim.bookings]
    assert all(len(h) == 1 for h in hosts) and len(set(hosts)) == booked
    assert slot not in slots(sim.http, link.slug, duration)


def test_round_robin_prefers_a_likely_available_member(sim: Sim, data: HubSpotData) -> None:
    link = link_where(
        data, lambda lk: lk.type == "ROUND_ROBIN_CALENDAR" and len(lk.member_user_ids) >= 2
    )
    duration = link.settings.durations_ms[0]
    preferred = link.member_user_ids[-1]
    for start in slots(sim.http, link.slug, duration, monthOffset=1):
        body = booking_body(start, slug=link.slug, duration=duration)
        body["likelyAvailableUserIds"] = [preferred]
        body["formFields"] = custom_answers(link)
        assert sim.http.post(BOOK, json=body).status_code == 200
        if sim.bookings[-1].user_ids == (preferred,):
            return
    raise AssertionError("the preferred member never hosted")


def test_a_group_booking_blocks_every_member_on_their_other_links(
    sim: Sim, data: HubSpotData
) -> None:
    group = link_where(data, lambda lk: lk.type == "GROUP_CALENDAR")
    duration = group.settings.durations_ms[0]
    slot = first_slot(sim.http, group.slug, duration)
    body = booking_body(slot, slug=group.slug, duration=duration)
    body["formFields"] = custom_answers(group)
    assert sim.http.post(BOOK, json=body).status_code == 200
    assert sim.bookings[0].user_ids == group.member_user_ids
    for member in group.member_user_ids:
        own = default_link_of(data, member)
        for own_duration in own.settings.durations_ms:
            for month in (0, 1):
                for start in slots(sim.http, own.slug, own_duration, monthOffset=month):
                    assert not (start < slot + duration and slot < start + own_duration)


# --- auth, headers, unknown routes -----------------------------------------------------------


def test_a_missing_token_is_401_credentials_not_found(api: httpx.Client) -> None:
    response = httpx.get(f"{api.base_url}{LINKS}")
    body = assert_hubspot_error(response, 401, "INVALID_AUTHENTICATION")
    assert body["message"].startswith("Authentication credentials not found")


@pytest.mark.parametrize("header", ["Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
def test_a_wrong_token_or_scheme_is_401(api: httpx.Client, header: str) -> None:
    response = httpx.post(
        f"{api.base_url}{BOOK}", headers={"Authorization": header}, json=booking_body(0)
    )
    assert_hubspot_error(response, 401, "INVALID_AUTHENTICATION")


def test_a_wrong_token_is_told_apart_from_a_missing_one(api: httpx.Client) -> None:
    response = httpx.get(f"{api.base_url}{LINKS}", headers={"Authorization": "Bearer nope"})
    assert "OAuth token" in assert_hubspot_error(response, 401, "INVALID_AUTHENTICATION")["message"]


def test_every_response_carries_the_rate_limit_headers(sim: Sim) -> None:
    responses = [
        sim.http.get(LINKS),
        sim.http.get(LINKS, params={"limit": "0"}),
        httpx.get(f"{sim.http.base_url}{LINKS}"),
        sim.http.get("/no/such/route"),
    ]
    for response in responses:
        assert response.headers["X-HubSpot-RateLimit-Max"] == "100"
        assert response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    remaining = [int(r.headers["X-HubSpot-RateLimit-Remaining"]) for r in responses]
    assert remaining == sorted(remaining, reverse=True) and remaining[0] <= 99


def test_an_unknown_route_is_404_in_the_hubspot_body(api: httpx.Client) -> None:
    assert_hubspot_error(api.get("/scheduler/v3/meetings/nope"), 404, "OBJECT_NOT_FOUND")


# --- faults and stats ----------------------------------------------------------------------


def put_faults(sim: Sim, **settings: float) -> None:
    response = sim.http.put("/_sim/faults", json=settings)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (500, "INTERNAL_ERROR"),
        (503, "INTERNAL_ERROR"),
        (403, "MISSING_SCOPES"),
        (400, "VALIDATION_ERROR"),
    ],
)
def test_an_injected_error_renders_in_the_hubspot_body(
    sim: Sim, status: int, category: str
) -> None:
    put_faults(sim, error_rate=1, error_status=status)
    assert_hubspot_error(sim.http.get(LINKS), status, category)


def test_an_injected_429_is_rate_limits_with_retry_after(sim: Sim) -> None:
    put_faults(sim, error_rate=1, error_status=429, retry_after=7)
    response = sim.http.get(f"{BOOK}/menelson", params={"timezone": "UTC"})
    body = assert_hubspot_error(response, 429, "RATE_LIMITS")
    assert response.headers["Retry-After"] == "7"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"


def test_an_injected_malformed_body_does_not_parse(sim: Sim) -> None:
    put_faults(sim, malformed_rate=1)
    response = sim.http.get(LINKS)
    assert response.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


def test_injected_latency_delays_the_answer(sim: Sim) -> None:
    put_faults(sim, latency_ms=200)
    started = time.monotonic()
    assert sim.http.get(LINKS).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_an_injected_hang_ends_within_its_bound(sim: Sim) -> None:
    put_faults(sim, hang_rate=1, hang_seconds=0.3)
    started = time.monotonic()
    response = sim.http.get(LINKS)
    assert response.status_code == 504
    assert time.monotonic() - started < 5


def test_faults_can_be_cleared(sim: Sim) -> None:
    put_faults(sim, error_rate=1)
    assert sim.http.delete("/_sim/faults").status_code == 200
    assert sim.http.get(LINKS).status_code == 200


def test_stats_count_each_endpoint_and_remember_the_last_call(sim: Sim) -> None:
    sim.http.get(LINKS, params={"limit": "2"})
    sim.http.get(LINKS, params={"type": "GROUP_CALENDAR"})
    sim.http.get(f"{BOOK}/menelson", params={"timezone": "UTC"})
    sim.http.get(f"{PAGE}/menelson", params={"timezone": "UTC", "monthOffset": "1"})
    sim.http.post(BOOK, json={"slug": "menelson"})
    sim.http.post(f"{BOOK}/menelson", json={})
    httpx.get(f"{sim.http.base_url}{LINKS}")
    stats = sim.http.get("/_sim/stats").json()
    counts = {name: entry["count"] for name, entry in stats["endpoints"].items()}
    assert counts == {
        f"GET {LINKS}": 3,
        f"GET {LINKS}/book/{{slug}}": 1,
        f"GET {LINKS}/book/availability-page/{{slug}}": 1,
        f"POST {LINKS}/book": 1,
        f"POST {LINKS}/book/{{slug}}": 1,
    }
    assert stats["total"] == 7
    page = stats["endpoints"][f"GET {LINKS}/book/availability-page/{{slug}}"]
    assert page["last_params"] == {"timezone": ["UTC"], "monthOffset": ["1"]}
    assert stats["endpoints"][f"POST {LINKS}/book"]["last_body"] == {"slug": "menelson"}
    assert sim.http.delete("/_sim/stats").json()["total"] == 0
    assert sim.http.get("/_sim/stats").json() == {"total": 0, "endpoints": {}}


# --- determinism and scale -------------------------------------------------------------------


def test_the_same_seed_size_and_clock_give_the_same_bytes() -> None:
    assert (
        HubSpotData.generate(seed=5, size=500).dump()
        == HubSpotData.generate(seed=5, size=500).dump()
    )


def test_another_seed_or_clock_gives_other_bytes() -> None:
    base = HubSpotData.generate(seed=5, size=500).dump()
    assert HubSpotData.generate(seed=6, size=500).dump() != base
    later = Clock(datetime(2026, 7, 1, tzinfo=UTC))
    assert HubSpotData.generate(seed=5, size=500, clock=later).dump() != base


def test_bookings_leave_the_data_set_unchanged(sim: Sim, data: HubSpotData) -> None:
    before = data.dump()
    slot = first_slot(sim.http, "menelson", 1_800_000)
    assert sim.http.post(BOOK, json=booking_body(slot)).status_code == 200
    assert data.dump() == before


def test_the_largest_size_generates_10000_links_with_the_example() -> None:
    data = HubSpotData.generate(size=100_000)
    assert len(data.links) == 10_000
    assert len(data.by_slug) == 10_000
    assert {k: data.by_slug["menelson"].metadata()[k] for k in MENELSON} == MENELSON


# --- behaviour switches: OAuth ------------------------------------------------------------


TOKEN_URL = "/oauth/v3/token"
OAUTH_FORM = {
    "grant_type": "refresh_token",
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "refresh_token": REFRESH_TOKEN,
}


def switch(sim: Sim, **values: Any) -> None:
    response = sim.http.put("/_sim/behaviour", json=values)
    assert response.status_code == 200, response.text


def refresh(sim: Sim, **changes: str) -> httpx.Response:
    return sim.http.post(TOKEN_URL, data={**OAUTH_FORM, **changes}, headers={"Authorization": ""})


def with_token(sim: Sim, token: str) -> httpx.Response:
    return sim.http.get(LINKS, headers={"Authorization": f"Bearer {token}"})


def test_a_refresh_answers_an_access_token_valid_for_30_minutes(sim: Sim) -> None:
    switch(sim, rotate_refresh_token=False)
    response = refresh(sim)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert (body["expires_in"], body["token_type"]) == (1800, "bearer")
    assert body["refresh_token"] == REFRESH_TOKEN
    assert with_token(sim, body["access_token"]).status_code == 200


def test_camel_case_tokens_spell_the_answer_in_camel_case(sim: Sim) -> None:
    switch(sim, camel_case_tokens=True)
    body = refresh(sim).json()
    assert set(body) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert with_token(sim, body["accessToken"]).status_code == 200


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"refresh_token": "stale"}, "BAD_REFRESH_TOKEN"),
        ({"client_id": "someone-else"}, "BAD_CLIENT_ID"),
        ({"client_secret": "wrong"}, "BAD_CLIENT_ID"),
        ({"grant_type": "authorization_code"}, "BAD_GRANT_TYPE"),
    ],
)
def test_a_wrong_client_or_refresh_token_is_refused_in_hubspot_s_oauth_shape(
    sim: Sim, changes: dict[str, str], status: str
) -> None:
    response = refresh(sim, **changes)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == status and body["message"] and body["correlationId"]


def test_an_access_token_expires_after_its_lifetime_with_expired_authentication(
    sim: Sim,
) -> None:
    switch(sim, access_token_lifetime_seconds=1)
    token = refresh(sim).json()["access_token"]
    time.sleep(1.2)
    body = assert_hubspot_error(with_token(sim, token), 401, "EXPIRED_AUTHENTICATION")
    assert "expired" in body["message"]
    assert "expire time" in body["context"]


def test_rotation_answers_a_new_refresh_token_and_refuses_the_old_one(sim: Sim) -> None:
    switch(sim, rotate_refresh_token=True)
    rotated = refresh(sim).json()["refresh_token"]
    assert rotated != REFRESH_TOKEN
    assert refresh(sim).json()["status"] == "BAD_REFRESH_TOKEN"
    assert refresh(sim, refresh_token=rotated).status_code == 200


def test_without_rotation_the_refresh_token_can_be_used_again(sim: Sim) -> None:
    switch(sim, rotate_refresh_token=False)
    refresh(sim)
    assert refresh(sim).status_code == 200


def test_an_unknown_access_token_is_invalid_authentication(sim: Sim) -> None:
    assert_hubspot_error(with_token(sim, "sim-hubspot-access-nope"), 401, "INVALID_AUTHENTICATION")


def test_token_requests_are_counted_without_their_secrets(sim: Sim) -> None:
    refresh(sim)
    stats = sim.http.get("/_sim/stats").json()["endpoints"]["POST /oauth/v3/token"]
    assert stats["count"] == 1
    assert stats["last_body"]["client_secret"] == "<redacted>"
    assert stats["last_body"]["refresh_token"] == "<redacted>"
    assert stats["last_body"]["grant_type"] == "refresh_token"


def test_echo_credentials_repeats_the_client_secret_and_refresh_token(sim: Sim) -> None:
    switch(sim, echo_credentials=True)
    body = refresh(sim, refresh_token="stale-refresh").json()
    assert CLIENT_SECRET in body["message"] and "stale-refresh" in body["message"]


# --- behaviour switches: team links, required questions and consent -----------------------


TEAM = "sales/round-robin"


def team_link(data: HubSpotData) -> MeetingLink:
    return data.by_slug[TEAM]


def test_links_with_a_slash_in_their_slug_are_listed(api: httpx.Client) -> None:
    slugs = [link["slug"] for link in links_page(api, limit=100)["results"]]
    assert TEAM in slugs
    assert any(slug.endswith("/intro") for slug in slugs)


@pytest.mark.parametrize("spelling", [TEAM, TEAM.replace("/", "%2F")])
def test_booking_info_and_availability_work_however_the_slash_is_sent(
    api: httpx.Client, data: HubSpotData, spelling: str
) -> None:
    info = api.get(f"{BOOK}/{spelling}", params={"timezone": "UTC"})
    assert info.status_code == 200, info.text
    assert info.json()["linkId"] == team_link(data).id
    page = api.get(f"{PAGE}/{spelling}", params={"timezone": "UTC"})
    assert page.status_code == 200, page.text


def test_menelson_asks_only_the_standard_questions_and_no_consent(api: httpx.Client) -> None:
    params = api.get(f"{BOOK}/menelson", params={"timezone": "UTC"}).json()["customParams"]
    assert [f["name"] for f in params["formFields"]] == ["firstName", "lastName", "email"]
    assert params["legalConsentEnabled"] is False
    assert "legalConsentOptions" not in params


def test_the_team_link_shows_its_required_questions_and_its_consent(api: httpx.Client) -> None:
    params = api.get(f"{BOOK}/{TEAM}", params={"timezone": "UTC"}).json()["customParams"]
    required = {f["name"]: f for f in params["formFields"] if f["isCustom"] and f["isRequired"]}
    assert set(required) == {"company", "meeting_topic"}
    assert [o["value"] for o in required["meeting_topic"]["options"]]
    assert {"name", "label", "fieldType", "isRequired", "options"} <= set(required["company"])
    assert params["legalConsentEnabled"] is True
    checkbox = params["legalConsentOptions"]["communicationConsentCheckboxes"][0]
    assert checkbox["required"] is True and checkbox["communicationTypeId"] and checkbox["label"]


def team_booking(sim: Sim, data: HubSpotData, **changes: Any) -> dict[str, Any]:
    link = team_link(data)
    duration = link.settings.durations_ms[0]
    body: dict[str, Any] = {
        "slug": TEAM,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "startTime": first_slot(sim.http, TEAM, duration),
        "duration": duration,
        "timezone": "UTC",
        "formFields": [
            {"name": "company", "value": "Analytical Engines"},
            {"name": "meeting_topic", "value": "Pricing"},
        ],
        "legalConsentResponses": [
            {"communicationTypeId": "sim-meeting-communications", "consented": True}
        ],
        "likelyAvailableUserIds": list(link.member_user_ids[1:2]),
    }
    body.update(changes)
    return body


def test_a_team_booking_with_every_answer_and_consent_is_made(sim: Sim, data: HubSpotData) -> None:
    response = sim.http.post(BOOK, json=team_booking(sim, data))
    assert response.status_code == 200, response.text
    assert sim.bookings[-1].slug == TEAM


def test_a_team_booking_by_path_works_with_an_encoded_slash(sim: Sim, data: HubSpotData) -> None:
    body = team_booking(sim, data)
    response = sim.http.post(f"{BOOK}/sales%2Fround-robin", json=body)
    assert response.status_code == 200, response.text


def test_a_missing_required_field_is_refused_naming_it(sim: Sim, data: HubSpotData) -> None:
    body = team_booking(sim, data, formFields=[{"name": "meeting_topic", "value": "Pricing"}])
    errors = assert_hubspot_error(sim.http.post(BOOK, json=body), 400, "VALIDATION_ERROR")
    assert [(e["in"], e["code"]) for e in errors["errors"]] == [("formFields.company", "REQUIRED")]


@pytest.mark.parametrize(
    "consent",
    [[], [{"communicationTypeId": "sim-meeting-communications", "consented": False}]],
)
def test_missing_consent_is_refused_naming_it(
    sim: Sim, data: HubSpotData, consent: list[dict[str, Any]]
) -> None:
    body = team_booking(sim, data, legalConsentResponses=consent)
    errors = assert_hubspot_error(sim.http.post(BOOK, json=body), 400, "VALIDATION_ERROR")
    assert [e["in"] for e in errors["errors"]] == [
        "legalConsentResponses.sim-meeting-communications"
    ]


def test_the_sub_category_variant_names_fields_only_in_messages(
    sim: Sim, data: HubSpotData
) -> None:
    switch(sim, validation_errors="sub_category")
    body = team_booking(sim, data, formFields=[])
    errors = assert_hubspot_error(sim.http.post(BOOK, json=body), 400, "VALIDATION_ERROR")
    assert errors["subCategory"] == "MISSING_REQUIRED_FIELD"
    assert all("in" not in e for e in errors["errors"])
    assert any("company" in e["message"] for e in errors["errors"])


def test_round_robin_availability_names_no_free_users_per_slot(
    api: httpx.Client,
) -> None:
    page = availability(api, TEAM, timezone="UTC")
    slot = next(
        s
        for d in page["linkAvailability"]["linkAvailabilityByDuration"].values()
        for s in d["availabilities"]
    )
    assert set(slot) == {"startMillisUtc", "endMillisUtc"}
    assert len(page["allUsersBusyTimes"]) >= 2


# --- behaviour switches: odd answers and malformed rows ----------------------------------


def test_an_odd_booking_answer_lacks_end_and_has_unknown_fields(sim: Sim) -> None:
    switch(sim, odd_booking_answer=True)
    answer = sim.http.post(BOOK, json=booking_body(first_slot(sim.http, "menelson", 1_800_000)))
    assert answer.status_code == 200
    body = answer.json()
    assert "end" not in body and "start" in body and body["duration"] == 1_800_000
    assert {"meetingOutcome", "bookingSource"} <= set(body)
    assert len(sim.bookings) == 1


@pytest.mark.parametrize(
    ("bad_row", "spoiled"),
    [
        ("null_time", lambda r: r["createdAt"] is None),
        ("member_without_id", lambda r: r["organizerUserId"] is None),
        ("null_in_list", lambda r: None in r["userIdsOfLinkMembers"]),
        (
            "unknown_enum",
            lambda r: r["type"] not in ("PERSONAL_LINK", "GROUP_CALENDAR", "ROUND_ROBIN_CALENDAR"),
        ),
    ],
)
def test_bad_row_spoils_exactly_the_chosen_link(
    sim: Sim, data: HubSpotData, bad_row: str, spoiled: Callable[[dict[str, Any]], bool]
) -> None:
    chosen = data.links[1].id
    switch(sim, bad_row=bad_row, bad_row_id=chosen)
    results = links_page(sim.http, limit=5)["results"]
    assert [r["id"] for r in results if spoiled(r)] == [chosen]
