"""Subscriptions over WebSocket and SSE: API keys, limits, bounds, heartbeats, teardown."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from meetingmesh.app import create_app
from meetingmesh.persisted import sha256
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import MOUNTS, create_simulators, gateway_settings
from tests.conftest import Stack
from tests.subscriber import SSESubscriber

Serve = Callable[[ASGIApp], str]
SUBSCRIPTION = "subscription { meetingUpdated { changes } }"


def _gateway(stack: Stack, serve: Serve, **server: Any) -> tuple[str, Starlette]:
    settings = gateway_settings(stack.sim_url)
    app = create_app(replace(settings, server=replace(settings.server, **server)))
    return serve(app), app


def _ws(url: str, **kw: Any) -> ClientConnection:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    return connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10, **kw)  # type: ignore[list-item]


def _send(ws: Connection, message: dict[str, Any]) -> None:
    ws.send(json.dumps(message))


def _receive(ws: Connection, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return message


def _initialised(ws: Connection, payload: dict[str, Any] | None = None) -> Connection:
    _send(ws, {"type": "connection_init", "payload": payload or {}})
    assert _receive(ws)["type"] == "connection_ack"
    return ws


def _subscribe(ws: Connection, id: str, query: str = SUBSCRIPTION, **payload: Any) -> None:
    _send(ws, {"id": id, "type": "subscribe", "payload": {"query": query, **payload}})


def _open(app: Starlette) -> int:
    return int(app.state.broker.subscriptions)


def _wait(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _tasks(app: Starlette) -> int:
    """Tasks alive in the gateway's event loop (this count's own task excluded)."""

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1

    loop: asyncio.AbstractEventLoop = app.state.loop
    return asyncio.run_coroutine_threadsafe(count(), loop).result(10)


def _settled(app: Starlette) -> int:
    """The gateway's task count once it stays the same for a moment (start-up is over)."""
    previous = -1
    for _ in range(100):
        count = _tasks(app)
        if count == previous:
            return count
        previous = count
        time.sleep(0.05)
    raise AssertionError("the gateway's tasks never settled")


def test_a_websocket_needs_the_api_key_in_its_init_payload_or_handshake(
    stack: Stack, serve: Serve
) -> None:
    url, _ = _gateway(stack, serve, api_keys=("live-key",))
    with _ws(url) as ws:
        _send(ws, {"type": "connection_init", "payload": {}})
        with pytest.raises(ConnectionClosed) as refused:
            _receive(ws)
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 4403
    with _ws(url) as ws:
        _initialised(ws, {"Authorization": "Bearer live-key"})
    with _ws(url, additional_headers={"Authorization": "Bearer live-key"}) as ws:
        _initialised(ws)


def test_an_sse_subscription_needs_the_api_key(stack: Stack, serve: Serve) -> None:
    url, app = _gateway(stack, serve, api_keys=("live-key",))
    with SSESubscriber(f"{url}/graphql", SUBSCRIPTION) as refused:
        assert refused.status == 401
        assert refused.next()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    headers = {"Authorization": "Bearer live-key"}
    with SSESubscriber(f"{url}/graphql", SUBSCRIPTION, headers=headers) as accepted:
        assert accepted.status == 200
        _wait(lambda: _open(app) == 1, "the subscription never opened")


def test_subscriptions_keep_to_the_query_limits(stack: Stack, serve: Serve) -> None:
    url, _ = _gateway(stack, serve, max_depth=2)
    deep = "subscription { meetingUpdated { meeting { course { title } } } }"
    with SSESubscriber(f"{url}/graphql", deep) as subscriber:
        error = subscriber.next()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    with _initialised(_ws(url)) as ws:
        _subscribe(ws, "1", deep)
        refused = _receive(ws)
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_a_bad_argument_refuses_the_subscription_with_the_field_named(
    stack: Stack, serve: Serve
) -> None:
    url, app = _gateway(stack, serve)
    query = 'subscription { attendeeChanged(meetingId: "nope") { change } }'
    with SSESubscriber(f"{url}/graphql", query) as subscriber:
        error = subscriber.next()["errors"][0]
        assert subscriber.completed.wait(5)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "meetingId"}
    assert _open(app) == 0


def test_one_websocket_runs_at_most_the_configured_operations(stack: Stack, serve: Serve) -> None:
    url, app = _gateway(stack, serve, max_subscriptions_per_connection=2)
    with _initialised(_ws(url)) as ws:
        for id in ("1", "2", "3"):
            _subscribe(ws, id)
        refused = _receive(ws)
        assert refused["id"] == "3" and refused["type"] == "error"
        assert "limit" in refused["payload"][0]["message"]
        _wait(lambda: _open(app) == 2, "two subscriptions should run")


def test_the_process_serves_at_most_max_subscriptions(stack: Stack, serve: Serve) -> None:
    url, app = _gateway(stack, serve, max_subscriptions=1)
    with SSESubscriber(f"{url}/graphql", SUBSCRIPTION):
        _wait(lambda: _open(app) == 1, "the first subscription never opened")
        with SSESubscriber(f"{url}/graphql", SUBSCRIPTION) as second:
            error = second.next()["errors"][0]
    assert error["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"


def test_idle_websockets_are_pinged_and_sse_streams_get_heartbeats(
    stack: Stack, serve: Serve
) -> None:
    url, _ = _gateway(stack, serve, subscription_heartbeat=0.2)
    with _initialised(_ws(url)) as ws:
        _subscribe(ws, "1")
        assert _receive(ws) == {"type": "ping"}
    with SSESubscriber(f"{url}/graphql", SUBSCRIPTION) as subscriber:
        _wait(lambda: bool(subscriber.comments), "no heartbeat on the stream")
    assert subscriber.comments[0] == ": ping"


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_a_client_that_goes_away_leaves_no_task_behind(
    stack: Stack, serve: Serve, transport: str
) -> None:
    url, app = _gateway(stack, serve)
    idle = _settled(app)
    if transport == "sse":
        subscriber = SSESubscriber(f"{url}/graphql", SUBSCRIPTION).__enter__()
        _wait(lambda: _open(app) == 1, "the subscription never opened")
        assert _tasks(app) > idle
        subscriber.close()  # the connection drops: no complete, no goodbye
    else:
        ws = _initialised(_ws(url))
        for id in ("1", "2"):
            _subscribe(ws, id)
        _wait(lambda: _open(app) == 2, "the subscriptions never opened")
        assert _tasks(app) > idle
        ws.socket.shutdown(socket.SHUT_RDWR)  # the TCP connection drops, no close frame
        ws.socket.close()
    _wait(lambda: _open(app) == 0, "a subscription outlived its client")
    _wait(lambda: _tasks(app) == idle, f"tasks left behind: {_tasks(app)} > {idle}")


def test_trusted_documents_hold_for_subscriptions(
    stack: Stack, serve: Serve, tmp_path: Path
) -> None:
    manifest = tmp_path / "documents.json"
    manifest.write_text(json.dumps({sha256(SUBSCRIPTION): SUBSCRIPTION}))
    url, app = _gateway(stack, serve, trusted_documents=str(manifest))
    other = "subscription { meetingUpdated { previousStatus } }"
    with SSESubscriber(f"{url}/graphql", other) as refused:
        assert refused.next()["errors"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
    with _initialised(_ws(url)) as ws:
        _subscribe(ws, "1", other)
        refusal = _receive(ws)
        assert refusal["type"] == "error"
        assert refusal["payload"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
        _send(
            ws,
            {
                "id": "2",
                "type": "subscribe",
                "payload": {
                    "extensions": {
                        "persistedQuery": {"version": 1, "sha256Hash": sha256(SUBSCRIPTION)}
                    }
                },
            },
        )
        _wait(lambda: _open(app) == 1, "the trusted subscription never opened")


def test_a_query_is_answered_as_json_unless_a_stream_is_the_clients_first_choice(
    gateway: Stack,
) -> None:
    query = {"query": "{ providers { provider } }"}
    # urql's Accept: JSON first, streams after (for incremental delivery).
    urql = "application/graphql-response+json, application/json, text/event-stream, multipart/mixed"
    answer = gateway.http.post(
        f"{gateway.gateway_url}/graphql", json=query, headers={"Accept": urql}
    )
    assert answer.headers["content-type"].startswith("application/graphql-response+json")
    assert len(answer.json()["data"]["providers"]) == 4
    # graphql-sse's client asks for the stream alone: one result, then the end.
    with SSESubscriber(f"{gateway.gateway_url}/graphql", query["query"]) as sse:
        assert len(sse.next()["data"]["providers"]) == 4
        assert sse.completed.wait(5)


LINK_CHANGED = """
subscription {
  schedulingLinkAvailabilityChanged(slug: "menelson") {
    reason link { name availability(timezone: "UTC") { start } }
  }
}
"""
BOOK = (
    'mutation($start: DateTime!, $minutes: Int!) { bookMeeting(input: {slug: "menelson", '
    'firstName: "A", lastName: "B", email: "a@example.com", startTime: $start, '
    'durationMinutes: $minutes, timezone: "UTC"}) { booking { start } } }'
)


def test_each_event_of_a_subscription_has_an_upstream_call_budget_of_its_own(
    serve: Serve,
) -> None:
    # Simulators of their own: the bookings below take slots other tests may count on.
    clock = Clock()
    sims_url = serve(create_simulators(seed=0, size=24, clock=clock).app)
    settings = gateway_settings(sims_url)
    reader = serve(create_app(settings, clock=clock.now)) + "/graphql"
    slots = httpx.post(
        reader,
        json={
            "query": '{ schedulingLink(slug: "menelson") '
            '{ availability(timezone: "UTC") { start durationMinutes } } }'
        },
    ).json()["data"]["schedulingLink"]["availability"]
    one_call = replace(settings.server, max_upstream_calls=1)
    app = create_app(replace(settings, server=one_call), clock=clock.now)
    url = serve(app) + "/graphql"
    hubspot = sims_url + MOUNTS["hubspot"]
    # Estimated at one call (availability), each event reads the link and then its
    # availability: the second call is over the event's own budget of one.
    with SSESubscriber(url, LINK_CHANGED) as subscriber:
        _wait(lambda: _open(app) == 1, "the subscription never opened")
        for slot in (slots[0], slots[-1]):  # far apart: booking one leaves the other
            variables = {"start": slot["start"], "minutes": slot["durationMinutes"]}
            httpx.delete(f"{hubspot}/_sim/stats")
            booked = httpx.post(url, json={"query": BOOK, "variables": variables}).json()
            assert "errors" not in booked, booked
            event = subscriber.next()
            assert event["data"]["schedulingLinkAvailabilityChanged"]["link"] == {
                "name": "menelson",
                "availability": None,
            }
            error = event["errors"][0]
            assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "provider": "HUBSPOT"}
            assert "made its 1 upstream calls" in error["message"]
            # The booking's one call, and the event's one.
            assert httpx.get(f"{hubspot}/_sim/stats").json()["total"] == 2


def test_a_query_streamed_over_sse_keeps_to_the_requests_call_budget(
    stack: Stack, serve: Serve, gateway: Stack
) -> None:
    # Estimated at one call (one list), the merge asks three providers.
    url, _ = _gateway(stack, serve, max_upstream_calls=2)
    gateway.http.delete(f"{gateway.sim_url}/_sim/stats")
    with SSESubscriber(f"{url}/graphql", "{ meetings(first: 5) { totalCount } }") as sse:
        answer = sse.next()
        assert sse.completed.wait(5)
    assert {e["extensions"]["code"] for e in answer["errors"]} == {"QUERY_TOO_COMPLEX"}
    assert all("made its 2 upstream calls" in e["message"] for e in answer["errors"])
    assert sum(gateway.calls(p) for p in ("heypeers", "thoughtindustries", "daily")) == 2


def test_a_query_over_a_websocket_keeps_to_the_requests_call_budget(
    stack: Stack, serve: Serve, gateway: Stack
) -> None:
    # Estimated at one call (one list), the merge asks three providers: over HTTP the
    # third is refused (above); a WebSocket is no way around the budget.
    url, _ = _gateway(stack, serve, max_upstream_calls=2)
    gateway.http.delete(f"{gateway.sim_url}/_sim/stats")
    with _initialised(_ws(url)) as ws:
        _subscribe(ws, "1", "{ meetings(first: 5) { totalCount } }")
        answer = _receive(ws, timeout=10)
        assert answer["type"] == "next", answer
        assert _receive(ws)["type"] == "complete"
    errors = answer["payload"]["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"QUERY_TOO_COMPLEX"}
    assert all("made its 2 upstream calls" in e["message"] for e in errors)
    assert sum(gateway.calls(p) for p in ("heypeers", "thoughtindustries", "daily")) == 2


def test_a_malformed_subscribe_payload_is_no_way_around_trusted_documents(
    stack: Stack, serve: Serve, gateway: Stack, tmp_path: Path
) -> None:
    manifest = tmp_path / "documents.json"
    manifest.write_text(json.dumps({sha256(SUBSCRIPTION): SUBSCRIPTION}))
    url, _ = _gateway(stack, serve, trusted_documents=str(manifest))
    untrusted = "{ meetings(first: 1) { edges { node { title } } } }"
    gateway.http.delete(f"{gateway.sim_url}/_sim/stats")
    with _initialised(_ws(url)) as ws:
        # Parameters of the wrong type make the payload no well-formed request.
        wrongs: list[dict[str, Any]] = [{"extensions": "x"}, {"variables": []}]
        for index, wrong in enumerate(wrongs):
            _subscribe(ws, str(index), untrusted, **wrong)
            refusal = _receive(ws)
            assert refusal["type"] == "error", refusal
            assert refusal["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert sum(gateway.calls(p) for p in ("heypeers", "thoughtindustries", "daily")) == 0


def test_each_operation_on_a_websocket_reads_its_providers_anew(
    stack: Stack, serve: Serve, gateway: Stack
) -> None:
    # Like HTTP requests, operations sharing a socket share no loaders: with the
    # upstream cache off, asking for a meeting again asks Daily again.
    url = serve(create_app(gateway_settings(stack.sim_url, cache_ttl=0)))
    first = gateway.data(
        "{ meetings(first: 1, filter: {providers: [DAILY]}) { edges { node { id } } } }"
    )
    meeting_id = first["meetings"]["edges"][0]["node"]["id"]
    query = "query($id: ID!) { meeting(id: $id) { id title } }"
    gateway.http.delete(f"{gateway.sim_url}/_sim/stats")
    with _initialised(_ws(url)) as ws:
        for number in ("1", "2"):
            _subscribe(ws, number, query, variables={"id": meeting_id})
            answer = _receive(ws, timeout=10)
            assert answer["payload"]["data"]["meeting"]["id"] == meeting_id, answer
            assert _receive(ws)["type"] == "complete"
    assert gateway.calls("daily", "GET /meetings/{meeting_id}") == 2
