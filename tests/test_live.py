"""Live updates end to end, with the real client libraries (``tests/clients``).

A simulator's signed webhook reaches a subscriber of each transport; a thousand idle
subscriptions stay within the memory bound the README states; a client process that
dies leaves nothing behind in the gateway.
"""

from __future__ import annotations

import gc
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.simulators.server import gateway_settings
from tests.clients import harness
from tests.conftest import Clients, LiveStack, Stack, capture

#: The README's stated bound: resident memory one idle subscription may add.
BYTES_PER_IDLE_SUBSCRIPTION = 64 * 1024

MEETING_UPDATED = """
subscription ($room: String!) {
  meetingUpdated(filter: {room: $room}) {
    changes
    meeting { id title status details { ... on DailyMeetingDetails { room ongoing } } }
  }
}
"""


@pytest.mark.parametrize("transport", ["ws", "sse", "multipart"])
def test_a_real_client_receives_meeting_updated_from_a_signed_simulator_webhook(
    live: LiveStack, clients: Clients, transport: str
) -> None:
    room = f"live-{transport}"
    seen = clients.run(
        "subscribe.mjs",
        transport=transport,
        url=f"{live.gateway_url}/graphql",
        query=MEETING_UPDATED,
        variables={"room": room},
        metricsUrl=f"{live.gateway_url}/metrics",
        trigger={"url": f"{live.provider_url('daily')}/_sim/webhooks/join", "body": {"room": room}},
        events=2,
    )
    assert seen["errors"] == []
    assert seen["deliveries"] == [200, 200]  # both signed webhooks accepted by the gateway
    updates = [r["data"]["meetingUpdated"] for r in seen["results"]]
    assert [u["changes"] for u in updates] == [["STATUS", "TIMES"], ["ATTENDEE_COUNT"]]
    assert updates[0]["meeting"]["status"] == "ONGOING"
    details = updates[0]["meeting"]["details"]
    assert (details["room"], details["ongoing"]) == (room, True)
    assert seen["firstMs"] is not None


def _rss() -> int:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def _line(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, process.stderr.read() if process.stderr else "the client ended"
    answer: dict[str, Any] = json.loads(line)
    capture(line)
    return answer


def _hold(url: str, connections: int, per_connection: int) -> subprocess.Popen[str]:
    return harness.start(
        "hold.mjs",
        {
            "url": f"{url}/graphql",
            "query": "subscription { meetingUpdated { changes } }",
            "connections": connections,
            "perConnection": per_connection,
        },
    )


def _release(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("\n")
    process.stdin.flush()
    assert _line(process)["closed"] is True
    process.wait(30)


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_thousand_idle_subscriptions_stay_within_the_memory_bound(
    stack: Stack, clients: Clients, serve: Callable[[ASGIApp], str]
) -> None:
    app = create_app(gateway_settings(stack.sim_url))
    url = serve(app)
    broker = app.state.broker
    warm = _hold(url, 2, 50)  # first use: imports, caches, connection pools
    assert _line(warm)["ready"] == 100
    _wait(lambda: broker.subscriptions == 100, "the warm-up subscriptions never opened")
    _release(warm)
    _wait(lambda: broker.subscriptions == 0, "the warm-up subscriptions never closed")
    gc.collect()
    before = _rss()
    held = _hold(url, 10, 100)
    try:
        assert _line(held)["ready"] == 1000
        _wait(lambda: broker.subscriptions == 1000, "1,000 subscriptions never opened")
        gc.collect()
        per_subscription = (_rss() - before) / 1000
    finally:
        _release(held)
    _wait(lambda: broker.subscriptions == 0, "subscriptions outlived their clients")
    print(f"resident memory per idle subscription: {per_subscription / 1024:.1f} KiB")
    assert per_subscription < BYTES_PER_IDLE_SUBSCRIPTION


def test_a_client_process_that_dies_leaves_no_subscription_behind(
    stack: Stack, clients: Clients, serve: Callable[[ASGIApp], str]
) -> None:
    app = create_app(gateway_settings(stack.sim_url))
    url = serve(app)
    held = _hold(url, 2, 3)
    assert _line(held)["ready"] == 6
    _wait(lambda: app.state.broker.subscriptions == 6, "the subscriptions never opened")
    held.kill()  # no complete, no close frame: the process is simply gone
    held.wait(30)
    _wait(lambda: app.state.broker.subscriptions == 0, "subscriptions outlived the client")
