"""HubSpot's webhooks in: a CRM meeting event refreshes every scheduling page's slots.

The HubSpot simulator sends its app webhook (signature v3) after every booking and on
demand; the gateway also tells a page's subscribers about bookings made through it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

from meetingmesh.simulators.hubspot_oauth import CLIENT_SECRET
from meetingmesh.webhooks.hubspot import is_meeting_event, sign, signed_uri
from tests.conftest import LiveStack
from tests.subscriber import SSESubscriber

AVAILABILITY = """
subscription ($slug: String!) {
  schedulingLinkAvailabilityChanged(slug: $slug) {
    slug reason occurredAt
    link { slug availability(timezone: "UTC") { start } }
  }
}
"""
SLOTS = '{ schedulingLink(slug: "menelson") { availability(timezone: "UTC") { start end } } }'


REASON = """subscription ($slug: String!) {
  schedulingLinkAvailabilityChanged(slug: $slug) { reason } }"""


def _subscribe(live: LiveStack, slug: str, query: str = AVAILABILITY) -> SSESubscriber:
    return SSESubscriber(f"{live.gateway_url}/graphql", query, {"slug": slug})


def _statuses(answer: dict[str, Any]) -> list[object]:
    return [d["status"] for d in answer["deliveries"]]


def test_the_v3_signature_covers_method_uri_body_and_timestamp() -> None:
    message = b"POSThttps://gw.example.com/webhooks/hubspot?a=b:c[]1716379200000"
    digest = hmac.new(CLIENT_SECRET.encode(), message, hashlib.sha256).digest()
    signed = sign(
        CLIENT_SECRET,
        "POST",
        "https://gw.example.com/webhooks/hubspot?a=b%3Ac",
        b"[]",
        "1716379200000",
    )
    assert signed == base64.b64encode(digest).decode()


def test_the_uri_is_signed_with_hubspots_listed_characters_decoded() -> None:
    assert signed_uri("https://x.io/h?q=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B%20#frag") == (
        "https://x.io/h?q=:/?@!$'()*,;%20"
    )


def test_only_crm_meeting_events_count() -> None:
    assert is_meeting_event({"subscriptionType": "object.creation", "objectTypeId": "0-47"})
    assert is_meeting_event({"subscriptionType": "object.deletion", "objectTypeId": "0-47"})
    assert not is_meeting_event({"subscriptionType": "object.creation", "objectTypeId": "0-1"})
    assert not is_meeting_event({"subscriptionType": "contact.creation"})
    assert not is_meeting_event("object.creation")


def test_a_booking_through_the_gateway_reaches_the_pages_subscribers(live: LiveStack) -> None:
    slot = live.data(SLOTS)["schedulingLink"]["availability"][0]
    with _subscribe(live, "menelson") as subscriber:
        live.wait_subscriptions(1)
        booked = live.query(
            """mutation ($start: DateTime!) { bookMeeting(input: {slug: "menelson",
               firstName: "Ada", lastName: "Lovelace", email: "ada@example.com",
               startTime: $start, durationMinutes: 30, timezone: "UTC"}) { booking { start } } }""",
            {"start": slot["start"]},
        )
        assert "errors" not in booked, booked
        updates = [subscriber.next()["data"]["schedulingLinkAvailabilityChanged"] for _ in "ab"]
    # Two tellings: the gateway's own at once, and HubSpot's webhook for the new CRM meeting.
    assert sorted(u["reason"] for u in updates) == ["BOOKED", "PROVIDER_NOTIFIED"]
    for update in updates:
        assert update["slug"] == "menelson"
        starts = [s["start"] for s in update["link"]["availability"]]
        assert slot["start"] not in starts  # read afresh: the booked slot is gone


def test_hubspots_meeting_event_reaches_the_subscribers_of_every_page(live: LiveStack) -> None:
    slugs = [
        e["node"]["slug"]
        for e in live.data("{ schedulingLinks(first: 2) { edges { node { slug } } } }")[
            "schedulingLinks"
        ]["edges"]
    ]
    subscribers = [_subscribe(live, slug) for slug in slugs]
    for subscriber in subscribers:
        subscriber.__enter__()
    try:
        live.wait_subscriptions(len(slugs))
        sent = live.control("hubspot", "meeting", change="deletion")
        assert _statuses(sent) == [200]
        updates = [s.next()["data"]["schedulingLinkAvailabilityChanged"] for s in subscribers]
    finally:
        for subscriber in subscribers:
            subscriber.close()
    assert [u["slug"] for u in updates] == slugs
    assert {u["reason"] for u in updates} == {"PROVIDER_NOTIFIED"}
    assert datetime.fromisoformat(updates[0]["occurredAt"]).year == 2026  # simulated clock


def test_a_meeting_event_clears_hubspots_upstream_cache(live: LiveStack) -> None:
    live.data(SLOTS)
    calls = live.calls("hubspot")  # what the page costs uncached
    live.data(SLOTS)
    assert live.calls("hubspot") == calls  # cached
    with _subscribe(live, "menelson", REASON) as subscriber:
        live.wait_subscriptions(1)
        live.control("hubspot", "meeting", change="creation")
        subscriber.next()
    before = live.calls("hubspot")
    live.data(SLOTS)
    assert live.calls("hubspot") == before + calls


def test_a_bad_v3_signature_is_refused_and_changes_nothing(live: LiveStack) -> None:
    live.data(SLOTS)
    calls = live.calls("hubspot")
    assert _statuses(live.control("hubspot", "meeting", signature="wrong_secret")) == [401]
    assert _statuses(live.control("hubspot", "meeting", signature="none")) == [401]
    live.data(SLOTS)
    assert live.calls("hubspot") == calls  # nothing cleared


def test_a_stale_or_replayed_hubspot_request_is_refused(live: LiveStack) -> None:
    assert _statuses(live.control("hubspot", "meeting", timestamp_offset=-600)) == [401]
    assert _statuses(live.control("hubspot", "meeting", replay=True)) == [200, 401]


def _deliver(live: LiveStack, events: list[dict[str, Any]]) -> int:
    """POST a batch of events to the gateway, signed v3 as HubSpot signs it."""
    url = f"{live.gateway_url}/webhooks/hubspot"
    body = json.dumps(events).encode()
    timestamp = str(int(time.time() * 1000))
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign(CLIENT_SECRET, "POST", url, body, timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
    status = live.http.post(url, content=body, headers=headers).status_code
    live.settle()
    return status


def test_meeting_events_without_an_event_id_are_each_applied(live: LiveStack) -> None:
    """Only an ``eventId`` seen before marks a redelivery; events without one are new."""
    with _subscribe(live, "menelson", REASON) as subscriber:
        live.wait_subscriptions(1)
        for object_id in (901, 902):
            event = {"subscriptionType": "object.creation", "objectTypeId": "0-47"}
            assert _deliver(live, [{**event, "objectId": object_id}]) == 200
            reason = subscriber.next()["data"]["schedulingLinkAvailabilityChanged"]["reason"]
            assert reason == "PROVIDER_NOTIFIED"


def test_an_event_with_an_absurd_time_still_reaches_the_subscribers(live: LiveStack) -> None:
    """An ``occurredAt`` no clock can hold reads as now: the page's subscribers are told."""
    with _subscribe(live, "menelson", REASON) as subscriber:
        live.wait_subscriptions(1)
        event = {"subscriptionType": "object.creation", "objectTypeId": "0-47"}
        assert _deliver(live, [{**event, "objectId": 903, "occurredAt": 10**30}]) == 200
        reason = subscriber.next()["data"]["schedulingLinkAvailabilityChanged"]["reason"]
    assert reason == "PROVIDER_NOTIFIED"
