"""Several gateway processes on one port: ``[server] workers`` (``meetingmesh serve``).

The gateway is CPU-bound and Python runs one thread of it at a time, so a second core
serves only through a second process. Each worker is a fresh interpreter with a
listening socket of its own on the same port (``SO_REUSEPORT``), so the kernel hands
each new connection to one of the workers evenly. With one socket shared by the
workers, whichever worker woke first accepted every connection waiting: a client that
opens its keep-alive connections at once (a proxy's pool, a load generator) could land
them all on one worker and leave the other idle for as long as they lived (measured in
one benchmark row of two: one worker at 100%, half the throughput).

``serve_workers`` is the supervisor: it holds the port (bound, never listening, so the
kernel hands it nothing), starts the workers and waits until each listens before it
announces the address, restarts one that dies after it started, and on SIGINT or
SIGTERM stops them all (each finishes its requests within uvicorn's graceful timeout).
A worker that dies before it listens (a configuration it cannot load, a port it cannot
bind) stops the gateway rather than being restarted in a loop.

A worker builds its app from the configuration file (``app()``, the import-string
factory uvicorn asks for: the supervisor names the file in ``MEETINGMESH_CONFIG``), so it
holds everything a single process holds, for itself: the upstream cache, the Thought
Industries page index and parse memos, coalescing of identical calls, the client-side
rate limits (each worker allows a provider the whole ``rate_limit``), circuit breakers
and health, minted credentials, the APQ store, metrics and subscriptions. The
configuration refuses what cannot work split that way (``config._check_workers``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from meetingmesh.config import ConfigError, Settings, load_settings
from meetingmesh.connection_guard import ConnectionLimits, GuardedHttpToolsProtocol
from meetingmesh.logs import configure_logging
from meetingmesh.serving import tune_gc

#: The environment variable naming the configuration file, for the workers.
CONFIG_VARIABLE = "MEETINGMESH_CONFIG"
#: Seconds a worker may take to bind and listen before the gateway gives up on it.
START_TIMEOUT = 60.0
#: Seconds the workers get to finish their requests once told to stop, then killed.
STOP_TIMEOUT = 10.0
#: How often the supervisor looks for a worker that died (seconds).
WATCH_INTERVAL = 0.5
#: A worker's listen backlog (as ``serving.bind_socket``'s).
BACKLOG = 1024


class WorkerProtocol(GuardedHttpToolsProtocol):
    """The guarded HTTP protocol of a worker; ``app()`` sets its limits from the settings.

    uvicorn loads a worker's protocol class by name, so it cannot be made per server
    as ``connection_guard.guarded`` does; each worker process serves one server, and
    its app is loaded before the first connection is accepted.
    """


class WorkerFailed(RuntimeError):
    """A worker died before it listened: the gateway stops instead of restarting it."""


def app() -> Starlette:
    """The gateway of one worker, from the configuration file the supervisor named."""
    from meetingmesh.app import create_app

    path = os.environ.get(CONFIG_VARIABLE)
    if not path:
        raise ConfigError(f"{CONFIG_VARIABLE} names no configuration file")
    settings = load_settings(path)
    server = settings.server
    configure_logging(server.log_format, server.log_level)
    WorkerProtocol.limits = ConnectionLimits(
        header_timeout=server.header_timeout,
        body_timeout=server.body_timeout,
        max_header_bytes=server.max_header_bytes,
    )
    gateway = create_app(settings)
    tune_gc()
    return gateway


def reuse_port_socket(host: str, port: int, *, listen: bool) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT``, listening if asked."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(BACKLOG)
    return sock


def serve_workers(
    config_path: str,
    settings: Settings,
    host: str,
    port: int,
    announce: Callable[[int], None],
) -> None:
    """Serve ``settings.server.workers`` workers on ``host:port`` until SIGINT or SIGTERM.

    ``announce`` gets the port (the one the kernel chose for port 0) once every worker
    listens. Raises ``WorkerFailed`` when a worker dies before it listens.
    """
    held = _claim(host, port)
    port = held.getsockname()[1]
    stopping = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda _sig, _frame: stopping.set())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    supervisor = _Supervisor(str(Path(config_path).resolve()), host, port)
    try:
        supervisor.start(range(settings.server.workers))
        announce(port)
        while not stopping.wait(WATCH_INTERVAL):
            supervisor.replace_the_dead()
    finally:
        supervisor.stop_all()
        held.close()
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def _claim(host: str, port: int) -> socket.socket:
    """The port for the workers, held by a socket that never listens.

    Bound first without ``SO_REUSEPORT``, so a port that anything already listens on
    (another gateway's workers included) fails here with "address in use" instead of
    being shared with it; then held with ``SO_REUSEPORT``, as the workers bind it.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # SO_REUSEADDR as every server socket here: a restart on a fixed port is not refused
    # for the last run's connections in TIME_WAIT, while a listener still is (Linux).
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
        port = probe.getsockname()[1]
    finally:
        probe.close()
    return reuse_port_socket(host, port, listen=False)


class _Supervisor:
    """The worker processes of one gateway, by index."""

    def __init__(self, config_path: str, host: str, port: int) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._arguments = (config_path, host, port)
        self._workers: dict[int, SpawnProcess] = {}

    def start(self, indexes: range | list[int]) -> None:
        """Start the workers ``indexes`` at once, then wait until each listens
        (``WorkerFailed`` for the first that dies or takes ``START_TIMEOUT`` first)."""
        started = []
        for index in indexes:
            listening = self._context.Event()
            process = self._context.Process(
                target=_worker,
                args=(*self._arguments, listening),
                name=f"meetingmesh-worker-{index}",
            )
            process.start()
            self._workers[index] = process
            started.append((index, process, listening))
        deadline = time.monotonic() + START_TIMEOUT
        for index, process, listening in started:
            while not listening.wait(WATCH_INTERVAL):
                if not process.is_alive() or time.monotonic() >= deadline:
                    raise WorkerFailed(
                        f"worker {index} did not start (exit code {process.exitcode}); "
                        "its line above says why"
                    )

    def replace_the_dead(self) -> None:
        """Start a new worker in place of each one that died."""
        dead = [index for index, process in self._workers.items() if not process.is_alive()]
        for index in dead:
            self._workers[index].join()
        if dead:
            self.start(dead)

    def stop_all(self) -> None:
        """SIGTERM every worker (uvicorn's graceful shutdown), then kill what is left."""
        for process in self._workers.values():
            if process.is_alive():
                process.terminate()
        for process in self._workers.values():
            process.join(STOP_TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join()


def _worker(config_path: str, host: str, port: int, listening: Event) -> None:
    """One worker: its own socket on the shared port, then uvicorn with the gateway app."""
    os.environ[CONFIG_VARIABLE] = config_path
    try:
        server = load_settings(config_path).server
        sock = reuse_port_socket(host, port, listen=True)
    except (ConfigError, OSError) as exc:
        # One line, as the supervisor's own errors: no traceback for a missing file.
        print(f"meetingmesh worker: {exc}", file=sys.stderr)
        sys.exit(1)
    listening.set()  # connections from now on wait in this socket's backlog
    config = uvicorn.Config(
        f"{__name__}:app",
        factory=True,
        http=f"{__name__}:WorkerProtocol",
        log_level="warning",  # uvicorn's own lines, as a single process logs them
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=server.keep_alive_timeout,
        # Per worker: the configured limit holds for each process.
        limit_concurrency=server.max_connections,
    )
    uvicorn.Server(config).run(sockets=[sock])
