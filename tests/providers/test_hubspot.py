"""HubSpot through the gateway: scheduling links, availability and booking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.domain import (
    BookingInfo,
    BookingRequest,
    ConsentAnswer,
    ConsentCheckbox,
    FormAnswer,
    FormField,
    FormOption,
    LegalConsent,
)
from meetingmesh.providers.hubspot import (
    answer_faults,
    booking_body,
    sub_category_field,
    validation_fields,
)
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import gateway_settings
from tests.conftest import Stack, booking_input

LINKS = "GET /scheduler/v3/meetings/meeting-links"
BOOK = "POST /scheduler/v3/meetings/meeting-links/book"
ZONE = "America/New_York"

BOOK_MUTATION = """
mutation($input: BookMeetingInput!) {
  bookMeeting(input: $input) { booking { calendarEventId start end subject timezone } }
}
"""
AVAILABILITY = """
query($slug: String!) { schedulingLink(slug: $slug) {
  availability(timezone: "America/New_York") { start end durationMinutes } } }
"""


def _slots(gateway: Stack, slug: str = "menelson") -> list[dict[str, Any]]:
    slots: list[dict[str, Any]] = gateway.data(AVAILABILITY, {"slug": slug})["schedulingLink"][
        "availability"
    ]
    return slots


def test_documented_link_query_returns_the_example_link(gateway: Stack) -> None:
    data = gateway.data(
        """{ schedulingLinks(first: 1, filter: {name: "menelson", organizerUserId: "1234567",
               type: PERSONAL_LINK}) {
             totalCount edges { node {
               slug url name type isDefault organizer { providerId } } } } }"""
    )
    assert data["schedulingLinks"]["totalCount"] == 1
    assert data["schedulingLinks"]["edges"][0]["node"] == {
        "slug": "menelson",
        "url": "https://meetings.hubspot.com/menelson",
        "name": "menelson",
        "type": "PERSONAL_LINK",
        "isDefault": True,
        "organizer": {"providerId": "1234567"},
    }
    assert gateway.last_params("hubspot", LINKS) == {
        "limit": ["1"],
        "name": ["menelson"],
        "organizerUserId": ["1234567"],
        "type": ["PERSONAL_LINK"],
    }


def test_links_page_to_the_end_with_hubspot_cursors(gateway: Stack) -> None:
    query = """query($after: String) { schedulingLinks(first: 5, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { slug } } } }"""
    slugs: list[str] = []
    after = None
    for _ in range(50):
        page = gateway.data(query, {"after": after})["schedulingLinks"]
        slugs += [e["node"]["slug"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(slugs) == len(set(slugs)) == page["totalCount"]
    assert "menelson" in slugs


def test_booking_info_normalises_milliseconds_and_increment_words(gateway: Stack) -> None:
    data = gateway.data(
        """{ schedulingLink(slug: "menelson") { bookingInfo(timezone: "America/New_York") {
             durationsMinutes startTimeIncrementMinutes bufferMinutes organizers { providerId name }
             busyTimes { start end } } } }"""
    )
    info = data["schedulingLink"]["bookingInfo"]
    raw = gateway.upstream(
        "hubspot", "/scheduler/v3/meetings/meeting-links/book/menelson", timezone=ZONE
    )
    assert info["durationsMinutes"] == [d // 60_000 for d in raw["customParams"]["durations"]]
    assert info["startTimeIncrementMinutes"] == 15
    assert info["organizers"][0]["providerId"] == "1234567"
    assert all(b["start"] < b["end"] for b in info["busyTimes"])


def test_availability_slots_are_utc_and_keyed_durations_become_minutes(gateway: Stack) -> None:
    slots = _slots(gateway)
    raw = gateway.upstream(
        "hubspot",
        "/scheduler/v3/meetings/meeting-links/book/availability-page/menelson",
        timezone=ZONE,
    )
    by_duration = raw["linkAvailability"]["linkAvailabilityByDuration"]
    assert len(slots) == sum(len(v["availabilities"]) for v in by_duration.values()) > 0
    assert {s["durationMinutes"] for s in slots} == {int(k) // 60_000 for k in by_duration}
    assert all(s["start"].endswith("+00:00") for s in slots)
    assert [s["start"] for s in slots] == sorted(s["start"] for s in slots)


def test_booking_a_slot_confirms_it_and_takes_it_off_the_page(gateway: Stack) -> None:
    slot = _slots(gateway)[-1]
    data = gateway.data(BOOK_MUTATION, {"input": booking_input(slot)})
    booking = data["bookMeeting"]["booking"]
    assert booking["start"] == slot["start"]
    assert booking["end"] == slot["end"]
    assert booking["calendarEventId"]
    remaining = {(s["start"], s["durationMinutes"]) for s in _slots(gateway)}
    assert (slot["start"], slot["durationMinutes"]) not in remaining
    sent = gateway.calls("hubspot", BOOK)
    assert sent == 1


def test_booking_a_taken_slot_is_refused_naming_start_time(gateway: Stack) -> None:
    slot = _slots(gateway)[-2]
    gateway.data(BOOK_MUTATION, {"input": booking_input(slot)})
    answer = gateway.query(BOOK_MUTATION, {"input": booking_input(slot)})
    assert answer["data"] is None
    error = answer["errors"][0]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "provider": "HUBSPOT",
        "field": "startTime",
    }
    assert gateway.calls("hubspot", BOOK) == 2


def test_booking_an_unoffered_duration_names_duration_minutes(gateway: Stack) -> None:
    slot = _slots(gateway)[0]
    answer = gateway.query(BOOK_MUTATION, {"input": booking_input(slot, durationMinutes=7)})
    fields = {e["extensions"].get("field") for e in answer["errors"]}
    assert "durationMinutes" in fields
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"BAD_USER_INPUT"}


def test_malformed_email_is_refused_before_any_upstream_call(gateway: Stack) -> None:
    slot = _slots(gateway)[0]
    answer = gateway.query(BOOK_MUTATION, {"input": booking_input(slot, email="not-an-email")})
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "email"}
    assert gateway.calls("hubspot", BOOK) == 0


def test_unknown_slug_is_null(gateway: Stack) -> None:
    assert gateway.query('{ schedulingLink(slug: "no-such-link") { slug } }') == {
        "data": {"schedulingLink": None}
    }


def test_bad_timezone_is_bad_user_input(gateway: Stack) -> None:
    answer = gateway.query(
        '{ schedulingLink(slug: "menelson") { availability(timezone: "Mars/Olympus") { start } } }'
    )
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "timezone"}


def _slashed_slugs(gateway: Stack) -> list[str]:
    """The slugs with a "/" in the data set: ``<handle>/intro`` and ``sales/round-robin``."""
    links = gateway.upstream("hubspot", "/scheduler/v3/meetings/meeting-links", limit=100)
    slugs = sorted(link["slug"] for link in links["results"] if "/" in link["slug"])
    assert "sales/round-robin" in slugs and len(slugs) == 2
    return slugs


SLASHED_LINK = """query($slug: String!) { schedulingLink(slug: $slug) {
  slug type
  bookingInfo(timezone: "America/New_York") { linkId durationsMinutes }
  availability(timezone: "America/New_York") { start durationMinutes } } }"""


def test_slugs_with_a_slash_find_their_link_booking_info_and_availability(gateway: Stack) -> None:
    for slug in _slashed_slugs(gateway):
        link = gateway.data(SLASHED_LINK, {"slug": slug})["schedulingLink"]
        assert link["slug"] == slug
        assert link["availability"], "the team links offer slots"
        raw = gateway.upstream(
            "hubspot", f"/scheduler/v3/meetings/meeting-links/book/{slug}", timezone=ZONE
        )
        assert link["bookingInfo"]["linkId"] == raw["linkId"]


@pytest.mark.parametrize(
    "slug", ["sales/../menelson", "../menelson", "sales//round-robin", "/sales"]
)
def test_a_slug_that_could_climb_out_of_its_path_is_no_link_and_costs_no_call(
    gateway: Stack, slug: str
) -> None:
    assert gateway.data(SLASHED_LINK, {"slug": slug}) == {"schedulingLink": None}
    assert gateway.calls("hubspot") == 0


def _behave(gateway: Stack, **switches: Any) -> None:
    """Set the HubSpot simulator's behaviour switches (the gateway fixture resets them)."""
    response = gateway.http.put(f"{gateway.provider_url('hubspot')}/_sim/behaviour", json=switches)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("odd", [True, False], ids=["odd-answer", "documented-answer"])
def test_a_booking_is_confirmed_with_its_end_whether_or_not_the_answer_has_one(
    gateway: Stack, odd: bool
) -> None:
    _behave(gateway, odd_booking_answer=odd)
    slot = _slots(gateway)[-3]
    data = gateway.data(BOOK_MUTATION, {"input": booking_input(slot)})
    booking = data["bookMeeting"]["booking"]
    assert (booking["start"], booking["end"]) == (slot["start"], slot["end"])
    assert booking["timezone"] == ZONE
    assert booking["calendarEventId"]
    assert gateway.calls("hubspot", BOOK) == 1


ROUND_ROBIN = "sales/round-robin"
BOOKING_INFO = "GET /scheduler/v3/meetings/meeting-links/book/{slug}"
QUESTIONS = """query($slug: String!) { schedulingLink(slug: $slug) {
  bookingInfo(timezone: "America/New_York") {
    formFields { name label fieldType type required custom options choices { value label } }
    legalConsent { communicationConsentText processingConsentType privacyPolicyText
      checkboxes { communicationTypeId label required } } } } }"""
CONSENT = "sim-meeting-communications"


def _answers() -> dict[str, Any]:
    """Answers to the round robin's required questions and consent."""
    return {
        "formFields": [
            {"name": "company", "value": "Analytical Engines Ltd"},
            {"name": "meeting_topic", "value": "Pricing"},
        ],
        "legalConsentResponses": [{"communicationTypeId": CONSENT, "consented": True}],
    }


def test_booking_info_says_which_questions_and_consent_a_page_requires(gateway: Stack) -> None:
    info = gateway.data(QUESTIONS, {"slug": ROUND_ROBIN})["schedulingLink"]["bookingInfo"]
    raw = gateway.upstream(
        "hubspot", f"/scheduler/v3/meetings/meeting-links/book/{ROUND_ROBIN}", timezone=ZONE
    )["customParams"]
    fields = {f["name"]: f for f in info["formFields"]}
    assert [f["name"] for f in info["formFields"]] == [f["name"] for f in raw["formFields"]]
    assert fields["email"]["custom"] is False
    assert fields["company"] == {
        "name": "company",
        "label": "Company name",
        "fieldType": "text",
        "type": "string",
        "required": True,
        "custom": True,
        "options": [],
        "choices": [],
    }
    topic = next(f for f in raw["formFields"] if f["name"] == "meeting_topic")
    assert fields["meeting_topic"]["options"] == [o["value"] for o in topic["options"]]
    assert fields["meeting_topic"]["required"] is True
    consent = raw["legalConsentOptions"]
    assert info["legalConsent"] == {
        "communicationConsentText": consent["communicationConsentText"],
        "processingConsentType": consent["processingConsentType"],
        "privacyPolicyText": consent["privacyPolicyText"],
        "checkboxes": [
            {"communicationTypeId": CONSENT, "label": c["label"], "required": True}
            for c in consent["communicationConsentCheckboxes"]
        ],
    }


def test_a_page_without_consent_has_no_legal_consent(gateway: Stack) -> None:
    info = gateway.data(QUESTIONS, {"slug": "menelson"})["schedulingLink"]["bookingInfo"]
    assert info["legalConsent"] is None
    assert {f["name"] for f in info["formFields"] if f["custom"]} == set()


def test_answers_and_consent_are_sent_and_book_the_round_robin(gateway: Stack) -> None:
    slot = _slots(gateway, ROUND_ROBIN)[-1]
    data = gateway.data(
        BOOK_MUTATION, {"input": booking_input(slot, slug=ROUND_ROBIN, **_answers())}
    )
    assert data["bookMeeting"]["booking"]["start"] == slot["start"]
    stats = gateway.http.get(f"{gateway.provider_url('hubspot')}/_sim/stats").json()
    sent = stats["endpoints"][BOOK]["last_body"]
    assert sent["slug"] == ROUND_ROBIN
    assert sent["formFields"] == _answers()["formFields"]
    assert sent["legalConsentResponses"] == _answers()["legalConsentResponses"]
    assert sent["likelyAvailableUserIds"] == []
    assert gateway.calls("hubspot", BOOK) == 1


@pytest.mark.parametrize(("shape", "lookups"), [("errors", 0), ("sub_category", 1)])
def test_a_missing_answer_or_consent_is_refused_naming_each_input_field(
    gateway: Stack, shape: str, lookups: int
) -> None:
    _behave(gateway, validation_errors=shape)
    slot = _slots(gateway, ROUND_ROBIN)[0]
    answers = _answers()
    answers["formFields"] = answers["formFields"][1:]  # no company
    answers["legalConsentResponses"] = [{"communicationTypeId": CONSENT, "consented": False}]
    before = gateway.calls("hubspot", BOOKING_INFO)
    answer = gateway.query(
        BOOK_MUTATION, {"input": booking_input(slot, slug=ROUND_ROBIN, **answers)}
    )
    assert answer["data"] is None
    assert sorted(e["extensions"]["field"] for e in answer["errors"]) == [
        "formFields.company",
        f"legalConsentResponses.{CONSENT}",
    ]
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"BAD_USER_INPUT"}
    assert {e["extensions"]["provider"] for e in answer["errors"]} == {"HUBSPOT"}
    assert gateway.calls("hubspot", BOOK) == 1
    assert gateway.calls("hubspot", BOOKING_INFO) - before == lookups


def test_without_field_names_a_taken_slot_is_still_refused_naming_start_time(
    gateway: Stack,
) -> None:
    slot = _slots(gateway)[-4]
    gateway.data(BOOK_MUTATION, {"input": booking_input(slot)})
    _behave(gateway, validation_errors="sub_category")
    answer = gateway.query(BOOK_MUTATION, {"input": booking_input(slot)})
    assert [e["extensions"] for e in answer["errors"]] == [
        {"code": "BAD_USER_INPUT", "provider": "HUBSPOT", "field": "startTime"}
    ]
    assert gateway.calls("hubspot", BOOKING_INFO) == 0


def test_without_field_names_an_unoffered_duration_is_refused_naming_it(gateway: Stack) -> None:
    _behave(gateway, validation_errors="sub_category")
    slot = _slots(gateway)[0]
    answer = gateway.query(BOOK_MUTATION, {"input": booking_input(slot, durationMinutes=7)})
    fields = {e["extensions"].get("field") for e in answer["errors"]}
    assert "durationMinutes" in fields


def test_booking_an_unknown_slug_is_bad_user_input_on_slug(gateway: Stack) -> None:
    slot = _slots(gateway)[0]
    answer = gateway.query(BOOK_MUTATION, {"input": booking_input(slot, slug="no-such-page")})
    assert answer["data"] is None
    assert [e["extensions"] for e in answer["errors"]] == [
        {"code": "BAD_USER_INPUT", "provider": "HUBSPOT", "field": "slug"}
    ]
    assert gateway.calls("hubspot", BOOK) == 1


AVAILABILITY_PAGE = "GET /scheduler/v3/meetings/meeting-links/book/availability-page/{slug}"


def _breakbooking_input(url: str, **faults: object) -> None:
    """Fault the simulator's ``POST book`` alone; the reads around it still answer."""
    response = httpx.put(f"{url}/_sim/faults", json={"endpoint": BOOK, **faults})
    assert response.status_code == 200, response.text


def _unknown(answer: dict[str, Any], taken: bool | None) -> None:
    assert answer["data"] is None
    assert [e["extensions"] for e in answer["errors"]] == [
        {"code": "BOOKING_OUTCOME_UNKNOWN", "provider": "HUBSPOT", "slotTaken": taken}
    ]


@pytest.mark.parametrize(
    ("faults", "taken"),
    [
        ({"malformed_rate": 1}, True),  # booked, then the answer was cut short
        ({"error_rate": 1, "error_status": 502}, False),  # refused before booking
    ],
    ids=["cut-answer", "bad-gateway"],
)
def test_a_booking_without_a_readable_answer_is_an_unknown_outcome_settled_by_availability(
    gateway: Stack, faults: dict[str, object], taken: bool
) -> None:
    slot = _slots(gateway)[-5]
    gateway.http.delete(f"{gateway.provider_url('hubspot')}/_sim/stats")
    _breakbooking_input(gateway.provider_url("hubspot"), **faults)
    _unknown(gateway.query(BOOK_MUTATION, {"input": booking_input(slot)}), taken)
    assert gateway.calls("hubspot", BOOK) == 1  # never sent again
    assert gateway.calls("hubspot", AVAILABILITY_PAGE) == 1
    still_offered = slot in _slots(gateway)
    assert still_offered is not taken


def test_a_booking_that_times_out_is_an_unknown_outcome_settled_by_availability(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = serve(create_app(gateway_settings(gateway.sim_url, timeout=0.5), clock=Clock().now))
    slot = _slots(gateway)[-6]
    _breakbooking_input(gateway.provider_url("hubspot"), hang_rate=1, hang_seconds=10)
    answer = httpx.post(
        f"{url}/graphql", json={"query": BOOK_MUTATION, "variables": {"input": booking_input(slot)}}
    ).json()
    _unknown(answer, False)
    assert gateway.calls("hubspot", BOOK) == 1


# --- pure parts: reading HubSpot's refusals, checking answers against booking info ---------

REQUEST = BookingRequest(
    slug=ROUND_ROBIN,
    first_name="Ada",
    last_name="Lovelace",
    email="ada@example.com",
    start_time=datetime(2026, 6, 1, 14, tzinfo=UTC),
    duration_minutes=30,
    timezone=ZONE,
    form_answers=(FormAnswer("meeting_topic", "Gossip"), FormAnswer("shoe_size", "9")),
)
INFO = BookingInfo(
    link_id="1",
    durations_minutes=(30, 60),
    form_fields=(
        FormField("email", required=True, custom=False),
        FormField("company", required=True),
        FormField("meeting_topic", required=True, options=(FormOption("Pricing"),)),
        FormField("phone"),
    ),
    legal_consent=LegalConsent(checkboxes=(ConsentCheckbox(CONSENT, required=True),)),
)


def test_refusals_with_in_name_the_input_field_and_keep_question_names() -> None:
    body = {
        "errors": [
            {"in": "duration", "message": "no"},
            {"in": "formFields.company", "message": "required"},
            {"in": f"legalConsentResponses.{CONSENT}", "message": "required"},
            {"in": "likelyAvailableUserIds", "message": "sent by the gateway, not the client"},
        ]
    }
    assert [name for name, _ in validation_fields(body)] == [
        "durationMinutes",
        "formFields.company",
        f"legalConsentResponses.{CONSENT}",
        None,
    ]


def test_refusals_without_in_name_no_field() -> None:
    body = {"subCategory": "MISSING_REQUIRED_FIELD", "errors": [{"message": "company"}]}
    assert validation_fields(body) == [(None, "company")]
    assert validation_fields({"message": "Invalid input"}) == [(None, "Invalid input")]


def test_booking_info_finds_every_answer_the_page_does_not_accept() -> None:
    assert answer_faults(REQUEST, INFO) == [
        "formFields.shoe_size",
        "formFields.company",
        "formFields.meeting_topic",
        f"legalConsentResponses.{CONSENT}",
    ]


def test_booking_info_finds_nothing_wrong_with_a_completebooking_input() -> None:
    complete = replace(
        REQUEST,
        form_answers=(FormAnswer("company", "Engines"), FormAnswer("meeting_topic", "Pricing")),
        consents=(ConsentAnswer(CONSENT, True),),
    )
    assert answer_faults(complete, INFO) == []
    assert answer_faults(replace(complete, duration_minutes=45), INFO) == ["durationMinutes"]


def test_the_booking_body_carries_answers_consent_and_an_empty_likely_host_list() -> None:
    body = booking_body(replace(REQUEST, consents=(ConsentAnswer(CONSENT, False),)))
    assert body["startTime"] == 1_780_322_400_000 and body["duration"] == 1_800_000
    assert body["formFields"] == [
        {"name": "meeting_topic", "value": "Gossip"},
        {"name": "shoe_size", "value": "9"},
    ]
    assert body["legalConsentResponses"] == [{"communicationTypeId": CONSENT, "consented": False}]
    assert body["likelyAvailableUserIds"] == []


@pytest.mark.parametrize(
    ("word", "field"),
    [
        ("MeetingsBookingSchedulingError.MEETING_START_TIME_NOT_VALID", "startTime"),
        ("MEETING_START_TIME_NOT_VALID", "startTime"),
        ("INVALID_EMAIL_GUESTS", "guestEmails"),
        ("MISSING_REQUIRED_FIELD", None),
    ],
)
def test_a_sub_category_names_the_field_it_is_about(word: str, field: str | None) -> None:
    assert sub_category_field({"subCategory": word}) == field
