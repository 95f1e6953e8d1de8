"""Shared fixtures: real servers on free loopback ports, stopped at teardown.

``stack`` runs the four simulators and a gateway configured for them, once per test
session; ``gateway`` hands it to a test with statistics and faults reset, so every
test starts from a quiet, healthy world and can count upstream calls exactly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp

from meetingmesh.app import create_app
from meetingmesh.config import ServerSettings
from meetingmesh.domain import Provider
from meetingmesh.providers.base import Adapter
from meetingmesh.redaction import SECRETS as REGISTERED
from meetingmesh.schema import fastpath
from meetingmesh.serving import ServerThread, start_in_thread
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.faults import Faults
from meetingmesh.simulators.heypeers import ACCESS_KEY
from meetingmesh.simulators.hubspot_oauth import CLIENT_SECRET, REFRESH_TOKEN
from meetingmesh.simulators.server import (
    MOUNTS,
    TOKENS,
    WEBHOOK_SECRETS,
    Simulators,
    create_simulators,
    gateway_settings,
    register_webhooks,
)
from tests.clients import harness as node_clients

#: Meetings per provider in the end-to-end data set: several pages of every list.
STACK_SIZE = 60

#: Every secret the suite configures, the simulators' credentials of every kind and
#: their webhook secrets among them; none may appear in a log line or a response. Every
#: secret any gateway of the session registered for redaction (``Settings.secrets()``
#: and the tokens its credentials minted, whichever test configured them) is checked too.
SECRETS: set[str] = {
    *TOKENS.values(),
    *WEBHOOK_SECRETS.values(),
    ACCESS_KEY,
    CLIENT_SECRET,
    REFRESH_TOKEN,
}
#: Secrets minted while the suite runs: HeyPeers JWTs, HubSpot access tokens and rotated
#: refresh tokens, whoever minted them. Any text that matches one is a leak too.
MINTED = (
    re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+"),
    re.compile(r"sim-hubspot-(?:access|refresh)-[0-9a-f]{16,}"),
)
#: Every log line and every response the suite's clients saw, each with the test that
#: was running when it was captured (``capture``).
CAPTURED: list[tuple[str, str]] = []
#: Gateways started in this session (by the shared stack): if any, something was captured.
STARTED: list[str] = []
_RUNNING = ["(no test)"]


_CAPTURING = threading.Lock()  # servers log from their own threads


def capture(text: str) -> None:
    """Remember ``text`` (something logged or answered) for the leak check."""
    with _CAPTURING:
        CAPTURED.append((text, _RUNNING[-1]))


class _Capture(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        capture(self.format(record))


#: Every operation the fast path plans runs on graphql-core too, over the same resolver
#: outcomes, and the two results are compared (``meetingmesh.schema.fastpath``).
fastpath.MODE = "compare"


@pytest.fixture(autouse=True)
def fast_path_agrees() -> Iterator[None]:
    """Each test: every query it sent answered the same through the fast path and graphql-core."""
    seen = len(fastpath.MISMATCHES)
    yield
    found = fastpath.MISMATCHES[seen:]
    assert not found, "the fast path and graphql-core differ:\n" + "\n\n".join(found)


@pytest.fixture(autouse=True)
def _name_the_running_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Remember which test is running, so a leak names where it was captured."""
    _RUNNING.append(request.node.nodeid)
    yield
    _RUNNING.pop()


@pytest.fixture(scope="session", autouse=True)
def no_secret_leaks() -> Iterator[None]:
    """After the whole suite: no configured secret in anything logged or answered."""
    handler = _Capture(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in _WATCHED_LOGGERS}
    for name in _WATCHED_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    if STARTED:
        assert CAPTURED, "nothing was captured: the leak check would prove nothing"
    secrets = known_secrets()
    leaks = sorted(secret for secret in secrets if any(secret in text for text, _ in CAPTURED))
    where = sorted({test for text, test in CAPTURED if any(secret in text for secret in leaks)})
    assert not leaks, f"secrets leaked into logs or responses: {len(leaks)}, in {where}"
    minted = sorted({test for text, test in CAPTURED if any(p.search(text) for p in MINTED)})
    assert not minted, f"minted tokens leaked into logs or responses, in {minted}"


_WATCHED_LOGGERS = ("meetingmesh", "httpx", "uvicorn", "strawberry")


def known_secrets() -> set[str]:
    """Every secret the leak check looks for: the suite's, and each one a gateway registered."""
    return SECRETS | REGISTERED.registered()


def capture_response(response: httpx.Response) -> None:
    """An httpx response hook: remember what the client was told."""
    response.read()
    capture(f"{response.status_code} {dict(response.headers)} {response.text}")


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Start ASGI apps on free ports for one test; returns each app's base URL.

    ``settings`` (``ServerSettings``) sets the server's connection limits.
    """
    handles: list[ServerThread] = []

    def start(app: ASGIApp, settings: ServerSettings | None = None) -> str:
        handle = start_in_thread(app, settings=settings)
        handles.append(handle)
        return handle.url

    yield start
    for handle in handles:
        handle.stop()


@dataclass
class Stack:
    """Simulators and a gateway in front of them, with helpers to talk to both."""

    sims: Simulators
    adapters: dict[Provider, Adapter]
    sim_url: str
    gateway_url: str
    http: httpx.Client
    #: The gateway's app, where the stack started it in this process.
    app: Starlette | None = None

    def post(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> httpx.Response:
        """POST a GraphQL request to the gateway."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return self.http.post(f"{self.gateway_url}/graphql", json=body, **kw)

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON answer of a GraphQL request that must not fail at the HTTP level."""
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a GraphQL request that must succeed without errors."""
        answer = self.query(query, variables)
        assert "errors" not in answer, answer["errors"]
        data: dict[str, Any] = answer["data"]
        return data

    def calls(self, provider: str, endpoint: str | None = None) -> int:
        """Upstream requests the simulator of ``provider`` has counted since the test began."""
        stats = self.http.get(f"{self.provider_url(provider)}/_sim/stats").json()
        if endpoint is None:
            return int(stats["total"])
        return int(stats["endpoints"].get(endpoint, {}).get("count", 0))

    def last_params(self, provider: str, endpoint: str) -> dict[str, list[str]]:
        """The query parameters of the last request to one simulated endpoint."""
        stats = self.http.get(f"{self.provider_url(provider)}/_sim/stats").json()
        params: dict[str, list[str]] = stats["endpoints"][endpoint]["last_params"]
        return params

    def fault(self, provider: str, **settings: float) -> None:
        """Inject faults into one simulator over its control API."""
        response = self.http.put(f"{self.provider_url(provider)}/_sim/faults", json=settings)
        assert response.status_code == 200, response.text

    def provider_url(self, provider: str) -> str:
        """The base URL of one simulated provider."""
        return self.sim_url + MOUNTS[provider]

    def upstream(self, provider: str, path: str, **params: Any) -> Any:
        """Ask a simulator directly (with its token), bypassing the gateway."""
        response = self.http.get(
            self.provider_url(provider) + path,
            params=params,
            headers={"Authorization": f"Bearer {TOKENS[provider]}"},
        )
        assert response.status_code == 200, response.text
        return response.json()


def booking_input(slot: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """``BookMeetingInput`` for ``slot`` (an ``availability`` entry) of the HubSpot
    simulator's link ``menelson``, booked by Ada Lovelace in New York time."""
    booking = {
        "slug": "menelson",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "startTime": slot["start"],
        "durationMinutes": slot["durationMinutes"],
        "timezone": "America/New_York",
    }
    return {**booking, **overrides}


@contextmanager
def running_stack(seed: int, size: int, timeout: float = 30) -> Iterator[Stack]:
    """Simulators (``size`` meetings per provider, the default simulated now) and a
    gateway with the default settings on loopback, stopped on leaving; every answer
    the client reads is checked for leaked secrets."""
    clock = Clock()
    sims = create_simulators(seed=seed, size=size, clock=clock)
    sim_server = start_in_thread(sims.app)
    try:
        app = create_app(gateway_settings(sim_server.url), clock=clock.now)
        gateway = start_in_thread(app)
        STARTED.append(gateway.url)
        try:
            with httpx.Client(
                timeout=timeout, event_hooks={"response": [capture_response]}
            ) as http:
                yield Stack(sims, app.state.adapters, sim_server.url, gateway.url, http, app)
        finally:
            gateway.stop()
    finally:
        sim_server.stop()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The simulators and a gateway on loopback for the whole session."""
    with running_stack(seed=0, size=STACK_SIZE) as running:
        yield running


@pytest.fixture
def gateway(stack: Stack) -> Iterator[Stack]:
    """The shared stack with statistics, faults and behaviour reset before and after the test."""

    def reset() -> None:
        for harness in stack.sims.harnesses.values():
            harness.faults = Faults()
            harness.behaviour = type(harness.behaviour)()
            harness.stats.reset()
        for adapter in stack.adapters.values():
            adapter.client.reset()

    reset()
    yield stack
    reset()


@dataclass
class LiveStack(Stack):
    """A stack of its own whose simulators send webhooks to its gateway.

    Separate from ``stack``: the sessions these tests start and end change the Daily
    data set, which the other tests count on staying as generated.
    """

    daily_webhook: str = ""

    def control(self, provider: str, action: str, **body: Any) -> dict[str, Any]:
        """Make a simulator change its state (``/_sim/webhooks/<action>``).

        Returns once the simulator's deliveries were answered and the gateway processed
        what it accepted, so no event of this call arrives after the next call's.
        """
        response = self.http.post(
            f"{self.provider_url(provider)}/_sim/webhooks/{action}", json=body
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        self.settle()
        return answer

    def settle(self) -> None:
        """Wait (bounded) until the gateway's inbox of webhook events is empty."""
        assert self.app is not None
        loop: asyncio.AbstractEventLoop = self.app.state.loop
        asyncio.run_coroutine_threadsafe(self.app.state.inbox.drained(), loop).result(30)

    def join(self, room: str, **body: Any) -> dict[str, Any]:
        """Someone joins a Daily room (a session starts if none is on)."""
        return self.control("daily", "join", room=room, **body)

    def subscriptions(self) -> int:
        """Subscriptions open in the gateway, as ``/metrics`` shows them."""
        text = self.http.get(f"{self.gateway_url}/metrics").text
        line = next(x for x in text.splitlines() if x.startswith("meetingmesh_subscriptions "))
        return int(float(line.split()[1]))

    def wait_subscriptions(self, count: int, timeout: float = 10) -> None:
        """Wait (bounded) until the gateway has exactly ``count`` subscriptions open."""
        deadline = time.monotonic() + timeout
        while self.subscriptions() != count:
            assert time.monotonic() < deadline, f"{self.subscriptions()} subscriptions, not {count}"
            time.sleep(0.02)


@pytest.fixture(scope="session")
def live_stack() -> Iterator[LiveStack]:
    """Simulators and a gateway of their own, with the webhooks registered."""
    with running_stack(seed=1, size=100) as base:
        yield LiveStack(
            base.sims,
            base.adapters,
            base.sim_url,
            base.gateway_url,
            base.http,
            app=base.app,
            daily_webhook=register_webhooks(base.sim_url, base.gateway_url),
        )


@pytest.fixture
def live(live_stack: LiveStack) -> Iterator[LiveStack]:
    """The live stack, quiet: statistics, faults, behaviour and caches reset."""

    def reset() -> None:
        for harness in live_stack.sims.harnesses.values():
            harness.faults = Faults()
            harness.behaviour = type(harness.behaviour)()
        # A test's refused deliveries count against the webhook (three put it in the
        # FAILED state, as at Daily): re-activate it, which sets the count back to 0.
        with httpx.Client(timeout=30) as plain:
            reactivated = plain.post(
                f"{live_stack.provider_url('daily')}/webhooks/{live_stack.daily_webhook}",
                json={},
                headers={"Authorization": f"Bearer {TOKENS['daily']}"},
            )
            assert reactivated.status_code == 200, reactivated.status_code
        for harness in live_stack.sims.harnesses.values():
            harness.stats.reset()
        for adapter in live_stack.adapters.values():
            adapter.client.reset()

    reset()
    yield live_stack
    reset()
    live_stack.wait_subscriptions(0)


class Clients:
    """The pinned Node client libraries (``tests/clients``), run as separate processes."""

    def run(self, script: str, **argument: Any) -> Any:
        """Run one client script and return what it reported (also checked for leaks)."""
        answer = node_clients.run(script, argument)
        capture(repr(answer))
        return answer

    def command(self, name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run an installed package's command (``relay-compiler``) in ``cwd``."""
        return node_clients.command(name, *args, cwd=cwd)

    @property
    def chromium(self) -> str:
        """Debian's Chromium; a missing one fails the test with how to install it."""
        try:
            return node_clients.chromium()
        except node_clients.MissingTool as exc:
            pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def clients() -> Clients:
    """The client libraries, installed with ``npm ci`` when the lock changed."""
    try:
        node_clients.ensure_installed()
    except node_clients.MissingTool as exc:
        pytest.fail(str(exc), pytrace=False)
    return Clients()


@pytest.fixture(scope="session")
def relay_manifest(clients: Clients, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The persisted-documents file relay-compiler writes for ``tests/clients/relay``.

    The project is compiled in a scratch copy against the committed ``schema.graphql``.
    """
    project = node_clients.HERE / "relay"
    work = tmp_path_factory.mktemp("relay")
    shutil.copytree(project / "src", work / "src")
    config = json.loads((project / "relay.config.json").read_text())
    config["schema"] = str(node_clients.HERE.parent.parent / "schema.graphql")
    (work / "relay.config.json").write_text(json.dumps(config))
    manifest: Path = work / str(config["persistConfig"]["file"])
    manifest.write_text("{}")
    done = clients.command("relay-compiler", "relay.config.json", cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    return manifest
