"""Contract tests of the Daily simulator's webhooks: registration, state changes, deliveries."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from meetingmesh.serving import start_in_thread
from meetingmesh.simulators.daily import TOKEN, DailyData, create_app
from meetingmesh.simulators.daily_webhooks import WEBHOOK_SECRET, sign
from tests.simulators.conftest import Receiver

AUTH = {"Authorization": f"Bearer {TOKEN}"}
Serve = Callable[[ASGIApp], str]


@pytest.fixture
def daily() -> Iterator[httpx.Client]:
    """A client of a fresh Daily simulator (its sessions change in these tests)."""
    handle = start_in_thread(create_app(DailyData.generate(seed=3, size=30)))
    with httpx.Client(base_url=handle.url, headers=AUTH, timeout=30) as http:
        yield http
    handle.stop()


def _register(daily: httpx.Client, receiver: Receiver, **body: Any) -> httpx.Response:
    return daily.post("/webhooks", json={"url": receiver.url, **body})


def test_creating_a_webhook_sends_the_verification_request_first(
    daily: httpx.Client, receiver: Receiver
) -> None:
    created = _register(daily, receiver, hmac=WEBHOOK_SECRET)
    assert created.status_code == 200
    webhook = created.json()
    assert webhook["state"] == "ACTIVE" and webhook["failedCount"] == 0
    assert webhook["hmac"] == WEBHOOK_SECRET
    assert webhook["eventTypes"] == [
        "meeting.started",
        "meeting.ended",
        "participant.joined",
        "participant.left",
    ]
    assert receiver.events() == [{"test": "test"}]
    assert "x-webhook-signature" not in receiver.received[0][0]
    assert daily.get("/webhooks").json() == [webhook]


def test_a_webhook_whose_url_does_not_answer_200_is_not_created(
    daily: httpx.Client, receiver: Receiver
) -> None:
    receiver.status = 500
    refused = _register(daily, receiver)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid-request-error"
    assert daily.get("/webhooks").json() == []


def test_without_an_hmac_one_is_provisioned_and_a_given_one_must_be_base64(
    daily: httpx.Client, receiver: Receiver
) -> None:
    provisioned = _register(daily, receiver).json()["hmac"]
    assert len(base64.b64decode(provisioned, validate=True)) == 32
    assert _register(daily, receiver, hmac="not base64!").status_code == 400


def test_someone_joining_starts_a_session_and_each_change_is_delivered_signed(
    daily: httpx.Client, receiver: Receiver
) -> None:
    _register(daily, receiver, hmac=WEBHOOK_SECRET)
    joined = daily.post("/_sim/webhooks/join", json={"room": "live", "user_name": "Ada"}).json()
    assert [d["status"] for d in joined["deliveries"]] == [200, 200]
    events = receiver.events()[1:]
    assert [e["type"] for e in events] == ["meeting.started", "participant.joined"]
    for headers, body in receiver.received[1:]:
        stamp = headers["x-webhook-timestamp"]
        assert headers["x-webhook-signature"] == sign(WEBHOOK_SECRET, stamp, body)
        assert abs(int(stamp) - time.time()) < 60  # the wall clock, in seconds
    started, participant = events
    assert started["payload"] == {
        "start_ts": started["payload"]["start_ts"],
        "meeting_id": joined["meeting_id"],
        "room": "live",
    }
    assert participant["payload"]["session_id"] == joined["participant_id"]
    assert participant["payload"]["user_name"] == "Ada"
    assert "meeting_id" not in participant["payload"]  # as Daily documents it
    session = daily.get(f"/meetings/{joined['meeting_id']}").json()
    assert session["ongoing"] is True and session["room"] == "live"
    assert daily.get("/meetings", params={"limit": 1}).json()["data"][0]["id"] == session["id"]


def test_the_last_one_leaving_ends_the_session(daily: httpx.Client, receiver: Receiver) -> None:
    _register(daily, receiver, hmac=WEBHOOK_SECRET)
    joined = daily.post("/_sim/webhooks/join", json={"room": "live"}).json()
    left = daily.post(
        "/_sim/webhooks/leave",
        json={"meeting_id": joined["meeting_id"], "participant_id": joined["participant_id"]},
    ).json()
    assert [d["type"] for d in left["deliveries"]] == ["participant.left", "meeting.ended"]
    ended = receiver.events()[-1]["payload"]
    assert set(ended) == {"start_ts", "end_ts", "meeting_id", "room"}
    session = daily.get(f"/meetings/{joined['meeting_id']}").json()
    assert session["ongoing"] is False
    participants = daily.get(f"/meetings/{joined['meeting_id']}/participants").json()["data"]
    assert [p["participant_id"] for p in participants] == [joined["participant_id"]]


def test_three_failed_deliveries_put_a_webhook_in_the_failed_state_until_reactivated(
    daily: httpx.Client, receiver: Receiver
) -> None:
    webhook = _register(daily, receiver, hmac=WEBHOOK_SECRET).json()
    receiver.status = 401
    daily.post("/_sim/webhooks/join", json={"room": "a"})  # two deliveries, both refused
    third = daily.post("/_sim/webhooks/join", json={"room": "b"}).json()["deliveries"]
    assert [d["status"] for d in third] == [401]  # the third failure: no fourth delivery
    assert daily.get(f"/webhooks/{webhook['uuid']}").json()["state"] == "FAILED"
    receiver.status = 200
    reactivated = daily.post(f"/webhooks/{webhook['uuid']}", json={}).json()
    assert reactivated["state"] == "ACTIVE" and reactivated["failedCount"] == 0


def test_the_switches_change_the_timestamp_unit_the_payloads_and_the_ping(
    daily: httpx.Client, receiver: Receiver
) -> None:
    switches = {
        "webhook_timestamp_unit": "milliseconds",
        "webhook_meeting_id": True,
        "webhook_ping_signed": True,
    }
    daily.put("/_sim/behaviour", json=switches)
    _register(daily, receiver, hmac=WEBHOOK_SECRET)
    joined = daily.post("/_sim/webhooks/join", json={"room": "live"}).json()
    ping_headers, ping_body = receiver.received[0]
    assert ping_headers["x-webhook-signature"] == sign(
        WEBHOOK_SECRET, ping_headers["x-webhook-timestamp"], ping_body
    )
    headers, _ = receiver.received[-1]
    assert abs(int(headers["x-webhook-timestamp"]) / 1000 - time.time()) < 60
    assert receiver.events()[-1]["payload"]["meeting_id"] == joined["meeting_id"]


def test_control_options_forge_the_signature_shift_the_timestamp_and_replay(
    daily: httpx.Client, receiver: Receiver
) -> None:
    _register(daily, receiver, hmac=WEBHOOK_SECRET)
    daily.post("/_sim/webhooks/join", json={"room": "a", "signature": "wrong_secret"})
    headers, body = receiver.received[-1]
    assert headers["x-webhook-signature"] != sign(
        WEBHOOK_SECRET, headers["x-webhook-timestamp"], body
    )
    daily.post("/_sim/webhooks/join", json={"room": "b", "signature": "none"})
    assert "x-webhook-signature" not in receiver.received[-1][0]
    daily.post("/_sim/webhooks/join", json={"room": "c", "timestamp_offset": -3600})
    assert int(receiver.received[-1][0]["x-webhook-timestamp"]) < time.time() - 3000
    before = len(receiver.received)
    daily.post("/_sim/webhooks/join", json={"room": "d", "replay": True})
    assert len(receiver.received) == before + 4
    assert receiver.received[-1] == receiver.received[-2]


def test_the_registration_routes_need_the_api_key(daily: httpx.Client, receiver: Receiver) -> None:
    answer = httpx.post(daily.base_url.join("/webhooks"), json={"url": receiver.url})
    assert answer.status_code == 400
    assert answer.json()["error"] == "authorization-header-error"
