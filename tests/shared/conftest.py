"""A real ``redis-server``, and gateway processes sharing it, for the ``[redis]`` tests.

``redis`` runs Debian's ``redis-server`` (``scripts/install-test-tools`` installs it) on a
free loopback port, with a password, no persistence, for the whole session; tests may
kill it and start it again on the same port. ``cluster`` runs the simulators (in this
process) and three ``meetingmesh serve`` processes configured alike (generated TOML,
the Redis URL read from the environment as ``${VAR}``), with the production rate limits,
a HeyPeers access key and a HubSpot OAuth app; ``gateways`` hands it to a test with the
simulators' statistics, faults and switches reset and every shared cache invalidated.
Everything each gateway process wrote is checked for secrets by the suite's leak check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from benchmarks.processes import ManagedProcess, meetingmesh_command
from meetingmesh.domain import Provider
from meetingmesh.serving import ServerThread, start_in_thread
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.faults import Faults
from meetingmesh.simulators.heypeers import ACCESS_KEY
from meetingmesh.simulators.hubspot_oauth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN
from meetingmesh.simulators.server import (
    HEYPEERS_ORGANIZATION_ID,
    MOUNTS,
    TOKENS,
    WEBHOOK_SECRETS,
    Simulators,
    create_simulators,
)
from tests.conftest import SECRETS, capture, capture_response

#: The password the test Redis asks for: a secret like any token (the leak check knows it).
REDIS_PASSWORD = "sim-redis-password-4f1c"
SECRETS.add(REDIS_PASSWORD)
#: The environment variable the generated configurations read the Redis URL from.
URL_VARIABLE = "MEETINGMESH_TEST_REDIS_URL"
#: Gateway processes in the cluster.
PROCESSES = 3
_GATEWAY_LINE = re.compile(r"meetingmesh gateway on (http://\S+)/graphql")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process on a fixed loopback port, stoppable and restartable."""

    def __init__(self, log_dir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is missing: run 'sudo apt-get install redis-server' "
                "(make test installs it when run as root)",
                pytrace=False,
            )
        self.binary = binary
        self.port = _free_port()
        self.url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{self.port}/0"
        self._log = log_dir / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait (bounded) until it answers."""
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--requirepass", REDIS_PASSWORD, "--save", "", "--appendonly", "no"]
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
            time.sleep(0.05)

    def kill(self) -> None:
        """Kill the server at once, as a crash would (SIGKILL), and wait for it."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def client(self) -> redis.Redis:
        """A plain client of the server, for looking at what the gateways keep."""
        return redis.Redis(
            host="127.0.0.1", port=self.port, password=REDIS_PASSWORD, socket_timeout=2
        )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis for the session (restarted by the tests that kill it)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


def gateway_config(sim_url: str, *, webhooks: bool = True) -> str:
    """TOML for every simulated provider, production limits, Redis from ``${URL_VARIABLE}``."""
    root = sim_url.rstrip("/")
    sections: dict[str, dict[str, Any]] = {
        "heypeers": {"organization_id": HEYPEERS_ORGANIZATION_ID, "access_key": ACCESS_KEY},
        "thoughtindustries": {"token": TOKENS["thoughtindustries"]},
        "hubspot": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        },
        "daily": {"token": TOKENS["daily"]},
    }
    lines = ["[server]", "graphiql = false", "", "[redis]", f'url = "${{{URL_VARIABLE}}}"']
    lines.append("retry_interval = 0.2")
    for name, values in sections.items():
        lines += ["", f"[providers.{name}]", f"base_url = {json.dumps(root + MOUNTS[name])}"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
        secret = WEBHOOK_SECRETS.get(Provider(name)) if webhooks else None
        if secret:
            lines.append(f"webhook_secret = {json.dumps(secret)}")
    return "\n".join(lines) + "\n"


@dataclass
class Gateway:
    """One ``meetingmesh serve`` process."""

    process: ManagedProcess
    url: str

    @property
    def graphql(self) -> str:
        """Its GraphQL endpoint."""
        return f"{self.url}/graphql"


@contextlib.contextmanager
def gateway_processes(
    count: int, config: str, log_dir: Path, name: str, redis_url: str
) -> Iterator[list[Gateway]]:
    """``count`` gateway processes on ``config``, started together, stopped on exit.

    What each wrote is handed to the leak check when it stops.
    """
    path = log_dir / f"{name}.toml"
    path.write_text(config, encoding="utf-8")
    argv = [meetingmesh_command(), "serve", "--config", str(path), "--port", "0"]
    os.environ[URL_VARIABLE] = redis_url  # children inherit it: ``${VAR}`` in the file
    try:
        processes = [ManagedProcess(f"{name}-{i + 1}", argv, log_dir) for i in range(count)]
    finally:
        del os.environ[URL_VARIABLE]
    try:
        gateways = []
        for process in processes:
            text = process.wait_for(_GATEWAY_LINE, timeout=60)
            match = _GATEWAY_LINE.search(text)
            assert match is not None
            gateways.append(Gateway(process, match[1]))
        yield gateways
    finally:
        for process in processes:
            process.stop()
            capture(process.output())


@dataclass
class Cluster:
    """The simulators and three gateway processes sharing one Redis."""

    sims: Simulators
    sim_url: str
    redis: RedisServer
    gateways: list[Gateway]
    http: httpx.Client
    log_dir: Path
    config: str

    def post(
        self, index: int, query: str, variables: dict[str, Any] | None = None, **body: Any
    ) -> dict[str, Any]:
        """POST a GraphQL request to gateway ``index`` (0-based); its JSON answer."""
        payload: dict[str, Any] = {"query": query, **body}
        if variables is not None:
            payload["variables"] = variables
        response = self.http.post(self.gateways[index].graphql, json=payload)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def data(
        self, index: int, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The ``data`` of a request to gateway ``index`` that must succeed without errors."""
        answer = self.post(index, query, variables)
        assert "errors" not in answer, answer["errors"]
        data: dict[str, Any] = answer["data"]
        return data

    def stats(self, provider: str) -> dict[str, Any]:
        """One simulator's request statistics."""
        stats: dict[str, Any] = self.http.get(self.provider_url(provider) + "/_sim/stats").json()
        return stats

    def calls(self, provider: str, endpoint: str | None = None) -> int:
        """Requests one simulator counted (at one endpoint) since the test began."""
        stats = self.stats(provider)
        if endpoint is None:
            return int(stats["total"])
        return int(stats["endpoints"].get(endpoint, {}).get("count", 0))

    def refusals(self, provider: str) -> int:
        """Requests one simulator answered with 429 since the test began."""
        endpoints = self.stats(provider)["endpoints"].values()
        return sum(int(e["statuses"].get("429", 0)) for e in endpoints)

    def provider_url(self, provider: str) -> str:
        """The base URL of one simulated provider."""
        return self.sim_url + MOUNTS[provider]

    def behave(self, provider: str, **switches: Any) -> None:
        """Set a simulator's behaviour switches (the others back to their defaults)."""
        response = self.http.put(self.provider_url(provider) + "/_sim/behaviour", json=switches)
        assert response.status_code == 200, response.text

    def metric(self, index: int, name: str) -> float:
        """One unlabelled metric of gateway ``index``."""
        text = self.http.get(f"{self.gateways[index].url}/metrics").text
        line = next(x for x in text.splitlines() if x.startswith(name + " "))
        return float(line.split()[1])

    def sharing(self, index: int) -> set[str]:
        """What ``providers { sharing }`` says on gateway ``index``."""
        data = self.data(index, "{ providers { configured sharing } }")
        return {p["sharing"] for p in data["providers"] if p["configured"]}

    def wait_until(self, check: Any, what: str, timeout: float = 15) -> None:
        """Wait (bounded) until ``check()`` is true."""
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
            time.sleep(0.05)

    def gather(self, requests: Sequence[tuple[int, str, dict[str, Any] | None]]) -> list[Any]:
        """Send every (gateway index, query, variables) at once; the JSON answers in order."""

        async def send_all() -> list[Any]:
            limits = httpx.Limits(max_connections=len(requests) + 1)
            async with httpx.AsyncClient(timeout=60, limits=limits) as client:

                async def send(index: int, query: str, variables: Any) -> Any:
                    body = {"query": query, "variables": variables or {}}
                    response = await client.post(self.gateways[index].graphql, json=body)
                    capture(response.text)
                    assert response.status_code == 200, response.text
                    return response.json()

                return await asyncio.gather(*(send(i, q, v) for i, q, v in requests))

        return asyncio.run(send_all())


@pytest.fixture(scope="module")
def cluster(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """The simulators and three gateway processes on one Redis, for one test module."""
    log_dir = tmp_path_factory.mktemp("cluster")
    # The wall clock: the gateway processes keep their own, and refuse a booking in the past.
    sims = create_simulators(seed=2, size=60, clock=Clock(fixed=None))
    sim_server: ServerThread = start_in_thread(sims.app)
    config = gateway_config(sim_server.url)
    try:
        with (
            gateway_processes(PROCESSES, config, log_dir, "gateway", redis_server.url) as gws,
            httpx.Client(timeout=60, event_hooks={"response": [capture_response]}) as http,
        ):
            yield Cluster(sims, sim_server.url, redis_server, gws, http, log_dir, config)
    finally:
        sim_server.stop()


@pytest.fixture
def gateways(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster with the simulators quiet and reset, and every shared cache invalidated."""

    def reset() -> None:
        for harness in cluster.sims.harnesses.values():
            harness.faults = Faults()
            harness.behaviour = type(harness.behaviour)()
            harness.stats.reset()
        with contextlib.closing(cluster.redis.client()) as client:
            for provider in Provider:
                client.incr(f"meetingmesh:cache:{provider.value}:gen")

    reset()
    yield cluster
    reset()
