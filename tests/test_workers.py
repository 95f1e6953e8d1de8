"""``[server] workers``: ``meetingmesh serve`` as several processes on one port.

Run as an operator would: the real command in its own process group, against the
simulators, stopped by a signal. Every wait is bounded.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from meetingmesh.serving import bind_socket, start_in_thread
from meetingmesh.simulators.clock import Clock
from meetingmesh.simulators.server import (
    HEYPEERS_ORGANIZATION_ID,
    MOUNTS,
    TOKENS,
    create_simulators,
)
from meetingmesh.workers import PortUnavailable, claim_port
from tests.conftest import capture_response

ADDRESS = re.compile(r"meetingmesh gateway on (http://\S+/graphql)")
QUERY = "{ meetings(first: 5) { totalCount edges { node { id title } } } }"


@pytest.fixture(scope="module")
def simulators() -> Iterator[str]:
    sims = create_simulators(seed=0, size=60, clock=Clock())
    server = start_in_thread(sims.app)
    yield server.url
    server.stop()


def _config(tmp_path: Path, simulators: str, workers: int) -> Path:
    lines = ["[server]", f"workers = {workers}", ""]
    for name, mount in MOUNTS.items():
        lines += [f"[providers.{name}]", f'base_url = "{simulators}{mount}"']
        lines += [f'token = "{TOKENS[name]}"']
        if name == "heypeers":
            lines.append(f"organization_id = {HEYPEERS_ORGANIZATION_ID}")
        lines.append("")
    path = tmp_path / "gateway.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux ``/proc``)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _workers(pid: int) -> list[int]:
    """The gateway's worker processes (the supervisor's children running uvicorn)."""
    workers = []
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.spawn" in command and b"resource_tracker" not in command:
            workers.append(child)
    return workers


def _command(config: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "meetingmesh.cli", "serve", "--config", str(config), *options]


def _start(config: Path, stderr: int) -> subprocess.Popen[str]:
    """``meetingmesh serve`` on a free port, in a process group of its own."""
    return subprocess.Popen(
        _command(config, "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )


def _while_starting(
    config: Path, act: Callable[[subprocess.Popen[str]], object]
) -> tuple[int, str, str]:
    """``meetingmesh serve``, ``act`` on it the moment its first worker exists (long
    before any listens, while the supervisor may still be spawning the next: where a
    Ctrl-C was once lost), then its exit code, stdout and stderr."""
    process = _start(config, stderr=subprocess.PIPE)
    try:
        assert _wait(lambda: len(_workers(process.pid)) >= 1, 30, interval=0)
        act(process)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode, out, err


def _wait(condition: Callable[[], bool], seconds: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


@pytest.fixture
def serve(tmp_path: Path, simulators: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``meetingmesh serve`` with two workers; killed whole at teardown if still running."""
    process = _start(_config(tmp_path, simulators, 2), stderr=subprocess.STDOUT)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the socket listens
        match = ADDRESS.search(line)
        assert match, line
        yield process, match[1]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_two_workers_answer_on_one_port_and_stop_on_sigterm(
    serve: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = serve
    with httpx.Client(timeout=30, event_hooks={"response": [capture_response]}) as client:
        for _ in range(6):  # each on a new connection: the kernel hands them to either worker
            answer = client.post(url, json={"query": QUERY}, headers={"connection": "close"})
            assert answer.status_code == 200
            assert len(answer.json()["data"]["meetings"]["edges"]) == 5
    assert _wait(lambda: len(_workers(process.pid)) == 2, 30)
    workers = _workers(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_worker_that_dies_is_replaced(serve: tuple[subprocess.Popen[str], str]) -> None:
    process, url = serve
    assert _wait(lambda: len(_workers(process.pid)) == 2, 30)
    gone = _workers(process.pid)[0]
    os.kill(gone, signal.SIGKILL)
    assert _wait(lambda: gone not in _workers(process.pid) and len(_workers(process.pid)) == 2, 30)
    answer = httpx.post(url, json={"query": QUERY}, timeout=30)
    capture_response(answer)
    assert answer.json()["data"]["meetings"]["totalCount"] > 0


def _accepted(pid: int, port: int) -> int:
    """Connections to ``port`` that process ``pid`` has accepted (Linux ``/proc``)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        established = fields[3] == "01"
        if local_port == port and established and fields[9] in inodes:
            count += 1
    return count


def test_connections_opened_at_once_are_spread_over_the_workers(
    serve: tuple[subprocess.Popen[str], str],
) -> None:
    """Each worker listens on a socket of its own (``SO_REUSEPORT``): the kernel hands
    each new connection to one of them, even while the other is busy (stopped here),
    so keep-alive connections a client opens at once cannot all land on one worker."""
    process, url = serve
    address = urlsplit(url)
    assert address.hostname is not None and address.port is not None
    assert _wait(lambda: len(_workers(process.pid)) == 2, 30)
    busy, free = _workers(process.pid)
    os.kill(busy, signal.SIGSTOP)
    try:
        connections = [
            socket.create_connection((address.hostname, address.port), timeout=5) for _ in range(24)
        ]
    finally:
        os.kill(busy, signal.SIGCONT)
    port = address.port

    def shares() -> list[int]:
        return [_accepted(pid, port) for pid in (busy, free)]

    try:
        assert _wait(lambda: sum(shares()) == 24, 10), shares()
        # Each gets its share: all 24 on one worker happens once in 8 million runs.
        assert min(shares()) > 0, shares()
    finally:
        for connection in connections:
            connection.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_already_taken_is_one_line_and_exit_code_one(
    tmp_path: Path, simulators: str, workers: int
) -> None:
    """Another server's port is refused, never shared: the workers' ``SO_REUSEPORT``
    sockets must not join a listener that is already there."""
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        config = _config(tmp_path, simulators, workers)
        done = subprocess.run(
            _command(config, "--host", "127.0.0.1", "--port", str(port)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        taken.close()
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"meetingmesh serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_a_worker_that_dies_before_it_listens_stops_the_gateway(
    tmp_path: Path, simulators: str
) -> None:
    """No restart loop: the configuration is gone by the time the workers read it."""
    config = _config(tmp_path, simulators, 2)
    # The supervisor has read the file once it starts a worker, which takes a fresh
    # interpreter's imports (hundreds of ms) to read it again.
    returncode, out, err = _while_starting(config, lambda process: config.unlink())
    assert returncode == 1
    assert out == ""  # never announced
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"meetingmesh worker: cannot read {config}")
    assert lines[-1].startswith("meetingmesh serve: worker 0 did not start (exit code 1)")
    assert "Traceback" not in err


def test_a_claimed_port_lets_in_the_workers_and_no_one_else() -> None:
    """Held by a socket that never listens, the port is refused to another claim (a
    second gateway) and to any other server, while workers' sockets bind beside it."""
    held = claim_port("127.0.0.1", 0)
    port = held.getsockname()[1]
    try:
        with pytest.raises(PortUnavailable):
            claim_port("127.0.0.1", port)
        with pytest.raises(OSError):
            socket.create_server(("127.0.0.1", port))
        worker = bind_socket("127.0.0.1", port, reuse_port=True)
        worker.close()
    finally:
        held.close()


def test_workers_stop_themselves_when_the_supervisor_is_killed(
    serve: tuple[subprocess.Popen[str], str],
) -> None:
    process, _ = serve
    assert _wait(lambda: len(_workers(process.pid)) == 2, 30)
    workers = _workers(process.pid)
    process.kill()  # the supervisor alone: SIGKILL leaves it no time to stop them
    process.wait(timeout=10)
    assert _wait(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 20)


def test_ctrl_c_while_the_workers_start_stops_cleanly(tmp_path: Path, simulators: str) -> None:
    """SIGINT to the whole group, as a terminal sends it, before any worker listens;
    three times, as the moment it must not be lost in (a worker being spawned) is short."""
    config = _config(tmp_path, simulators, 2)
    for _ in range(3):
        returncode, out, err = _while_starting(
            config, lambda process: os.killpg(process.pid, signal.SIGINT)
        )
        assert returncode == 0
        assert out == ""  # stopped before it announced
        assert "Traceback" not in err
