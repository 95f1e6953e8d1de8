"""Daily's webhooks in: signed session events become meeting and attendee updates.

Every event here is sent by the Daily simulator when its state changes (someone joins
or leaves a room), signed with the registered hmac, over real HTTP to the gateway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import orjson
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.simulators.daily_webhooks import WEBHOOK_SECRET
from meetingmesh.simulators.server import gateway_settings
from meetingmesh.webhooks.daily import seconds, sign
from tests.conftest import LiveStack, Stack
from tests.subscriber import SSESubscriber

MEETINGS = """
subscription ($filter: MeetingFilter) {
  meetingUpdated(filter: $filter) {
    changes previousStatus occurredAt
    meeting { id provider title status startTime endTime durationMinutes
              details { ... on DailyMeetingDetails { room ongoing } } }
  }
}
"""
ATTENDEES = """
subscription ($id: ID!) {
  attendeeChanged(meetingId: $id) {
    change meetingId attendee { id providerId name joinedAt durationSeconds member { providerId } }
  }
}
"""


def _subscribe(live: LiveStack, query: str, **variables: Any) -> SSESubscriber:
    return SSESubscriber(f"{live.gateway_url}/graphql", query, variables)


def _statuses(answer: dict[str, Any]) -> list[object]:
    return [d["status"] for d in answer["deliveries"]]


def test_the_signature_is_dailys_hmac_of_timestamp_and_body_with_the_decoded_secret() -> None:
    body = b'{"type":"meeting.started"}'
    key = base64.b64decode(WEBHOOK_SECRET)
    digest = hmac.new(key, b"1716379200." + body, hashlib.sha256).digest()
    assert sign(WEBHOOK_SECRET, "1716379200", body) == base64.b64encode(digest).decode()


def test_the_timestamp_may_be_seconds_or_milliseconds() -> None:
    assert seconds("1716379200") == seconds("1716379200000") == 1716379200
    assert seconds("yesterday") is None


def test_a_session_that_starts_reaches_a_subscriber_as_the_meeting_a_query_returns(
    live: LiveStack,
) -> None:
    with _subscribe(live, MEETINGS) as subscriber:
        live.wait_subscriptions(1)
        joined = live.join("webhook-start")
        assert _statuses(joined) == [200, 200]
        update = subscriber.next()["data"]["meetingUpdated"]
    assert update["changes"] == ["STATUS", "TIMES"]
    assert update["previousStatus"] is None
    meeting = update["meeting"]
    queried = live.data(
        """query ($id: ID!) { meeting(id: $id) { id provider title status startTime endTime
           durationMinutes details { ... on DailyMeetingDetails { room ongoing } } } }""",
        {"id": meeting["id"]},
    )["meeting"]
    assert meeting == queried
    assert meeting["status"] == "ONGOING"
    assert meeting["details"] == {"room": "webhook-start", "ongoing": True}


def test_a_session_that_ends_is_delivered_even_to_an_ongoing_only_filter(live: LiveStack) -> None:
    joined = live.join("webhook-end")
    with _subscribe(live, MEETINGS, filter={"ongoing": True, "room": "webhook-end"}) as subscriber:
        live.wait_subscriptions(1)
        ended = live.control("daily", "end", meeting_id=joined["meeting_id"])
        assert _statuses(ended) == [200, 200]
        attendee_count = subscriber.next()["data"]["meetingUpdated"]
        update = subscriber.next()["data"]["meetingUpdated"]
    assert attendee_count["changes"] == ["ATTENDEE_COUNT"]
    assert update["changes"] == ["STATUS", "TIMES"]
    assert update["previousStatus"] == "ONGOING"
    assert update["meeting"]["status"] == "COMPLETED"
    assert update["meeting"]["details"]["ongoing"] is False


def test_attendees_joining_and_leaving_one_meeting(live: LiveStack) -> None:
    first = live.join("webhook-people", user_name="Ada Lovelace", user_id="user-ada")
    meeting_id = _meeting_id(first["meeting_id"])
    with _subscribe(live, ATTENDEES, id=meeting_id) as subscriber:
        live.wait_subscriptions(1)
        second = live.join("webhook-people", user_name="Grace Hopper")
        live.control(
            "daily", "leave", meeting_id=first["meeting_id"], participant_id=first["participant_id"]
        )
        joined = subscriber.next()["data"]["attendeeChanged"]
        left = subscriber.next()["data"]["attendeeChanged"]
    assert joined["change"] == "JOINED"
    assert joined["meetingId"] == meeting_id
    assert joined["attendee"]["providerId"] == second["participant_id"]
    assert joined["attendee"]["name"] == "Grace Hopper"
    assert joined["attendee"]["member"] is None  # a guest: no user_id
    assert left["change"] == "LEFT"
    assert left["attendee"]["providerId"] == first["participant_id"]
    assert left["attendee"]["member"] == {"providerId": "user-ada"}
    assert left["attendee"]["durationSeconds"] == 0  # the simulated clock stands still


def test_the_attendee_count_update_reads_the_session_anew(live: LiveStack) -> None:
    query = """subscription { meetingUpdated(filter: {room: "webhook-count"}) {
                 changes meeting { attendees { totalCount } } } }"""
    first = live.join("webhook-count")
    with _subscribe(live, query) as subscriber:
        live.wait_subscriptions(1)
        live.join("webhook-count")
        update = subscriber.next()["data"]["meetingUpdated"]
    assert update["changes"] == ["ATTENDEE_COUNT"]
    assert update["meeting"]["attendees"]["totalCount"] == 2
    session = live.upstream("daily", f"/meetings/{first['meeting_id']}/participants")
    assert len(session["data"]) == 2


def test_a_participant_event_finds_the_session_of_its_room_when_the_gateway_missed_the_start(
    live: LiveStack,
) -> None:
    ongoing = live.upstream("daily", "/meetings", ongoing="true", no_participants="true")
    session = ongoing["data"][-1]  # the oldest: generated, its start was never sent
    with _subscribe(live, ATTENDEES, id=_meeting_id(session["id"])) as subscriber:
        live.wait_subscriptions(1)
        live.join(session["room"])
        joined = subscriber.next()["data"]["attendeeChanged"]
    assert joined["change"] == "JOINED"
    assert live.last_params("daily", "GET /meetings")["room"] == [session["room"]]


def test_a_participant_event_naming_its_session_needs_no_lookup(live: LiveStack) -> None:
    live.http.put(f"{live.provider_url('daily')}/_sim/behaviour", json={"webhook_meeting_id": True})
    ongoing = live.upstream("daily", "/meetings", ongoing="true", no_participants="true")
    session = ongoing["data"][-2]  # generated too, and not the other test's
    calls = live.calls("daily", "GET /meetings")
    with _subscribe(live, ATTENDEES, id=_meeting_id(session["id"])) as subscriber:
        live.wait_subscriptions(1)
        live.join(session["room"])
        assert subscriber.next()["data"]["attendeeChanged"]["change"] == "JOINED"
    assert live.calls("daily", "GET /meetings") == calls


def test_timestamps_in_milliseconds_are_accepted(live: LiveStack) -> None:
    live.http.put(
        f"{live.provider_url('daily')}/_sim/behaviour",
        json={"webhook_timestamp_unit": "milliseconds"},
    )
    assert _statuses(live.join("webhook-millis")) == [200, 200]


def test_a_bad_signature_is_refused_and_changes_nothing(live: LiveStack) -> None:
    room = "webhook-forged"
    query = '{ meetings(filter: {room: "webhook-forged"}) { totalCount } }'
    with _subscribe(live, MEETINGS, filter={"room": room}) as subscriber:
        live.wait_subscriptions(1)
        before = live.data(query)
        forged = live.join(room, signature="wrong_secret")
        assert _statuses(forged) == [401, 401]
        calls = live.calls("daily")
        assert live.data(query) == before  # still served from the cache: nothing cleared
        assert live.calls("daily") == calls
        live.join(room)  # signed: someone else joins the same session
        first = subscriber.next()["data"]["meetingUpdated"]
    # The first update the subscriber saw is the signed join: the forged start made none.
    assert first["changes"] == ["ATTENDEE_COUNT"]
    assert first["meeting"]["id"] == _meeting_id(forged["meeting_id"])
    assert live.data(query)["meetings"]["totalCount"] == before["meetings"]["totalCount"] + 1


def test_a_missing_signature_is_refused(live: LiveStack) -> None:
    assert _statuses(live.join("webhook-unsigned", signature="none")) == [401, 401]


def test_a_stale_timestamp_is_refused(live: LiveStack) -> None:
    stale = live.join("webhook-stale", timestamp_offset=-3600)
    assert _statuses(stale) == [401, 401]


def test_a_replayed_delivery_is_refused(live: LiveStack) -> None:
    assert _statuses(live.join("webhook-replay", replay=True)) == [200, 401, 200, 401]


def test_a_redelivered_event_is_answered_but_applied_once(live: LiveStack) -> None:
    body = orjson.dumps(
        {
            "version": "1.0.0",
            "type": "meeting.started",
            "id": "met-sta-redelivered",
            "payload": {"start_ts": 1779451200, "meeting_id": "redelivered", "room": "again"},
            "event_ts": time.time(),
        }
    )
    with _subscribe(live, MEETINGS, filter={"room": "again"}) as subscriber:
        live.wait_subscriptions(1)
        statuses = []
        now = int(time.time())  # once: a second boundary between two reads made them equal
        for offset in (0, 1):  # the same event, signed at two different moments
            stamp = str(now - offset)
            signature = sign(WEBHOOK_SECRET, stamp, body)
            headers = {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": signature}
            statuses.append(
                live.http.post(f"{live.gateway_url}/webhooks/daily", content=body, headers=headers)
            )
        live.join("again")  # the next real event: delivered after the redelivery
        first = subscriber.next()["data"]["meetingUpdated"]
        second = subscriber.next()["data"]["meetingUpdated"]
    assert [s.status_code for s in statuses] == [200, 200]
    assert first["meeting"]["id"] == _meeting_id("redelivered")
    assert second["meeting"]["id"] != first["meeting"]["id"]


def test_dailys_verification_request_gets_its_200_whatever_its_headers(live: LiveStack) -> None:
    answer = live.http.post(f"{live.gateway_url}/webhooks/daily", json={"test": "test"})
    assert answer.status_code == 200
    auth = {"Authorization": "Bearer sim-daily-token"}
    registered = httpx.post(
        f"{live.provider_url('daily')}/webhooks",
        json={"url": f"{live.gateway_url}/webhooks/daily", "eventTypes": ["meeting.ended"]},
        headers=auth,
    )
    try:
        assert registered.status_code == 200  # Daily's own check passed: it got a 200
    finally:
        uuid = registered.json().get("uuid")
        httpx.delete(f"{live.provider_url('daily')}/webhooks/{uuid}", headers=auth)


def test_a_verified_event_clears_dailys_upstream_cache(live: LiveStack) -> None:
    query = '{ meetings(filter: {room: "webhook-cache"}) { totalCount } }'
    assert live.data(query)["meetings"]["totalCount"] == 0
    calls = live.calls("daily")
    live.data(query)
    assert live.calls("daily") == calls  # cached
    with _subscribe(live, MEETINGS, filter={"room": "webhook-cache"}) as subscriber:
        live.wait_subscriptions(1)
        live.join("webhook-cache")
        subscriber.next()  # published once the event was applied, the cache cleared first
    assert live.data(query)["meetings"]["totalCount"] == 1


def _meeting_id(key: str) -> str:
    raw = f"Meeting:daily:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _counted(url: str, outcome: str) -> float:
    metrics = httpx.get(f"{url}/metrics").text
    label = f'meetingmesh_webhook_events_total{{outcome="{outcome}",provider="DAILY"}}'
    line = next((x for x in metrics.splitlines() if x.startswith(label)), f"{label} 0")
    return float(line.split()[-1])


def test_events_are_answered_at_once_and_past_the_inbox_bound_dropped(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    settings = gateway_settings(gateway.sim_url)
    url = serve(create_app(replace(settings, server=replace(settings.server, webhook_queue=1))))
    gateway.fault("daily", latency_ms=1000)  # the room lookup each event needs is slow
    answers = []
    for number in range(3):
        body = orjson.dumps(
            {
                "version": "1.0.0",
                "type": "participant.joined",
                "id": f"ptcpt-join-inbox-{number}",
                "payload": {"room": f"inbox-{number}", "session_id": "s", "joined_at": 1779451200},
                "event_ts": time.time(),
            }
        )
        stamp = str(int(time.time()))
        headers = {
            "X-Webhook-Timestamp": stamp,
            "X-Webhook-Signature": sign(WEBHOOK_SECRET, stamp, body),
        }
        answers.append(httpx.post(f"{url}/webhooks/daily", content=body, headers=headers))
    # All three answered while the first is still waiting on Daily: the work comes after.
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert _counted(url, "processed") == 0
    assert _counted(url, "dropped") == 1  # one working, one waiting, the third dropped


def test_a_provider_failure_while_resolving_an_event_is_that_events_error_only(
    live: LiveStack,
) -> None:
    query = """subscription { meetingUpdated(filter: {room: "webhook-failing"}) {
                 changes meeting { title attendees { totalCount } } } }"""
    with _subscribe(live, query) as subscriber:
        live.wait_subscriptions(1)
        # A 500, never retried: two events' failures stay below the breaker's threshold.
        live.fault("daily", error_rate=1.0, error_status=500)
        live.join("webhook-failing")  # two events: the session started, someone joined
        failed = subscriber.next()
        assert "errors" in subscriber.next()  # resolved before the fault is lifted, too
        live.fault("daily")
        live.join("webhook-failing")  # one event: a second person joined
        recovered = subscriber.next()  # the same subscription goes on
    assert failed["errors"][0]["extensions"] == {
        "code": "UPSTREAM_UNAVAILABLE",
        "provider": "DAILY",
    }
    assert recovered["data"]["meetingUpdated"]["meeting"]["attendees"]["totalCount"] == 2


def test_a_signed_event_with_an_absurd_time_is_unreadable_not_a_failure(
    gateway: Stack, serve: Callable[[ASGIApp], str]
) -> None:
    url = serve(create_app(gateway_settings(gateway.sim_url)))
    body = orjson.dumps(
        {
            "version": "1.0.0",
            "type": "meeting.started",
            "id": "meeting-started-absurd-time",
            "payload": {"start_ts": 1e20, "meeting_id": "m-absurd", "room": "absurd"},
            "event_ts": time.time(),
        }
    )
    stamp = str(int(time.time()))
    headers = {
        "X-Webhook-Timestamp": stamp,
        "X-Webhook-Signature": sign(WEBHOOK_SECRET, stamp, body),
    }
    assert httpx.post(f"{url}/webhooks/daily", content=body, headers=headers).status_code == 200
    deadline = time.monotonic() + 5
    while _counted(url, "unreadable") + _counted(url, "failed") == 0:
        assert time.monotonic() < deadline, "the event was never processed"
        time.sleep(0.05)
    assert (_counted(url, "unreadable"), _counted(url, "failed")) == (1, 0)
