"""Contract tests of the HubSpot simulator's app webhooks: settings, subscriptions, v3."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.serving import start_in_thread
from meetingmesh.simulators.hubspot import TOKEN, HubSpotData, create_app
from meetingmesh.simulators.hubspot_oauth import CLIENT_SECRET
from meetingmesh.simulators.hubspot_webhooks import APP_ID, DEVELOPER_KEY, sign
from tests.simulators.conftest import Receiver

Serve = Callable[[ASGIApp], str]
KEY = {"hapikey": DEVELOPER_KEY}
APP = f"/webhooks/v3/{APP_ID}"


@pytest.fixture
def hubspot() -> Iterator[httpx.Client]:
    """A client of a fresh HubSpot simulator."""
    handle = start_in_thread(create_app(HubSpotData.generate(seed=0, size=120)))
    with httpx.Client(base_url=handle.url, timeout=30) as http:
        yield http
    handle.stop()


def _configure(hubspot: httpx.Client, receiver: Receiver, *changes: str) -> None:
    settings = hubspot.put(f"{APP}/settings", params=KEY, json={"targetUrl": receiver.url})
    assert settings.status_code == 200
    for change in changes:
        created = hubspot.post(
            f"{APP}/subscriptions",
            params=KEY,
            json={"eventType": f"object.{change}", "objectTypeId": "0-47", "active": True},
        )
        assert created.status_code == 201


def _book(hubspot: httpx.Client) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    page = hubspot.get(
        "/scheduler/v3/meetings/meeting-links/book/availability-page/menelson",
        params={"timezone": "UTC"},
        headers=auth,
    ).json()
    slot = page["linkAvailability"]["linkAvailabilityByDuration"]["1800000"]["availabilities"][0]
    booked = hubspot.post(
        "/scheduler/v3/meetings/meeting-links/book",
        params={"timezone": "UTC"},
        headers=auth,
        json={
            "slug": "menelson",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@example.com",
            "startTime": slot["startMillisUtc"],
            "duration": 1800000,
        },
    )
    assert booked.status_code == 200, booked.text
    return dict(booked.json())


def test_a_booking_is_told_to_the_apps_webhook_signed_with_v3(
    hubspot: httpx.Client, receiver: Receiver
) -> None:
    _configure(hubspot, receiver, "creation")
    _book(hubspot)
    deadline = time.monotonic() + 10
    while not receiver.received:  # delivered in the background, after the booking's answer
        assert time.monotonic() < deadline, "no delivery"
        time.sleep(0.02)
    headers, body = receiver.received[0]
    stamp = headers["x-hubspot-request-timestamp"]
    assert headers["x-hubspot-signature-v3"] == sign(CLIENT_SECRET, receiver.url, body, stamp)
    assert abs(int(stamp) / 1000 - time.time()) < 60
    [event] = receiver.events()[0]
    assert event["subscriptionType"] == "object.creation"
    assert event["objectTypeId"] == "0-47"
    assert event["appId"] == int(APP_ID)


def test_meeting_events_on_demand_reach_only_matching_subscriptions(
    hubspot: httpx.Client, receiver: Receiver
) -> None:
    _configure(hubspot, receiver, "deletion")
    assert hubspot.post("/_sim/webhooks/meeting", json={"change": "creation"}).json() == {
        "deliveries": []
    }
    sent = hubspot.post("/_sim/webhooks/meeting", json={"change": "deletion", "objectId": 7})
    assert [d["status"] for d in sent.json()["deliveries"]] == [200]
    [event] = receiver.events()[0]
    assert (event["subscriptionType"], event["objectId"]) == ("object.deletion", 7)


def test_the_management_routes_need_the_developer_key_and_the_apps_id(
    hubspot: httpx.Client,
) -> None:
    assert hubspot.get(f"{APP}/settings").status_code == 401
    assert hubspot.get("/webhooks/v3/1/settings", params=KEY).status_code == 404
    listed = hubspot.get(f"{APP}/subscriptions", params=KEY)
    assert listed.json() == {"results": []}
