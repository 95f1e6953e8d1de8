"""Several gateway processes on one port: ``[server] workers`` (``meetingmesh serve``).

The gateway is CPU-bound and Python runs one thread of it at a time, so a second core
serves only through a second process. Each worker is a fresh interpreter with a
listening socket of its own on the same port (``SO_REUSEPORT``), so the kernel hands
each new connection to one of the workers evenly. With one socket shared by the
workers, whichever worker woke first accepted every connection waiting: a client that
opens its keep-alive connections at once (a proxy's pool, a load generator) could land
them all on one worker and leave the other idle for as long as they lived (measured in
one benchmark row of two: one worker at 100%, half the throughput). The price: each
worker has its own accept queue, so connections waiting for a worker that dies are
reset (Linux's ``net.ipv4.tcp_migrate_req = 1`` hands them to another worker instead).

``serve_workers`` is the supervisor. It claims the port (``claim_port``: refused when
anything already listens there, never shared), starts the workers, announces the
address once every worker listens, replaces a worker that dies after it started, and
on SIGINT or SIGTERM stops them all (each finishes its requests within uvicorn's
graceful timeout). A worker that cannot start (a configuration it cannot load, an app
it cannot build, a lifespan that fails) stops the gateway with one line and exit code 1
rather than being restarted in a loop. A worker whose supervisor is gone (killed) stops
itself.

A worker builds its app from the configuration file, so it holds everything a single
process holds, for itself: the upstream cache, the Thought Industries page index and
parse memos, coalescing of identical calls, the client-side rate limits (each worker
allows a provider the whole ``rate_limit``), circuit breakers and health, minted
credentials, the APQ store, metrics and subscriptions. The configuration refuses what
cannot work split that way (``config._check_workers``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from meetingmesh.config import ConfigError, Settings, load_settings
from meetingmesh.logs import configure_logging
from meetingmesh.serving import bind_socket, tune_gc, uvicorn_config

#: Seconds a worker may take to build its app and listen before the gateway gives up.
START_TIMEOUT = 60.0
#: Seconds the workers get to finish their requests once told to stop, then killed.
STOP_TIMEOUT = 10.0
#: How often the supervisor looks for a worker that died (seconds).
WATCH_INTERVAL = 0.5
#: A worker's exit code when its server never started (uvicorn's own convention).
STARTUP_FAILURE = 3


class WorkerFailed(RuntimeError):
    """A worker could not start: the gateway stops instead of restarting it."""


class PortUnavailable(OSError):
    """The port cannot be claimed: something listens there, or the address is not ours."""


def build_app(config_path: str) -> tuple[Starlette, Settings]:
    """The gateway of one worker and its settings, from the configuration file."""
    from meetingmesh.app import create_app

    settings = load_settings(config_path)
    configure_logging(settings.server.log_format, settings.server.log_level)
    gateway = create_app(settings)
    tune_gc()
    return gateway, settings


def serve_workers(
    config_path: str,
    settings: Settings,
    host: str,
    port: int,
    announce: Callable[[int], None],
) -> None:
    """Serve ``settings.server.workers`` workers on ``host:port`` until SIGINT or SIGTERM.

    ``announce`` gets the port (the one the kernel chose for port 0) once every worker
    listens. Raises ``PortUnavailable`` when the port cannot be claimed, ``WorkerFailed``
    when a worker cannot start.
    """
    held = claim_port(host, port)
    port = held.getsockname()[1]
    stopping = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda _sig, _frame: stopping.set())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    supervisor = _Supervisor(str(Path(config_path).resolve()), host, port, stopping)
    try:
        supervisor.start(range(settings.server.workers))
        if not stopping.is_set():
            announce(port)
        while not stopping.wait(WATCH_INTERVAL):
            supervisor.replace_the_dead()
    finally:
        supervisor.stop_all()
        held.close()
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def claim_port(host: str, port: int) -> socket.socket:
    """The port for the workers, held by a socket that never listens (so it is handed no
    connection) until the gateway stops.

    First bound without ``SO_REUSEPORT`` (``SO_REUSEADDR`` only, so a restart is not
    refused for the last run's connections in TIME_WAIT): that fails when anything
    listens on the port, another gateway's workers included. Then held with
    ``SO_REUSEPORT`` alone, never ``SO_REUSEADDR``: while no worker listens yet (or all
    restart), another server's ``SO_REUSEADDR`` socket would otherwise be let in beside it.
    """
    try:
        probe = bind_socket(host, port, listen=False)
        port = probe.getsockname()[1]
        probe.close()
        return bind_socket(host, port, reuse_port=True, listen=False)
    except OSError as exc:
        raise PortUnavailable(exc.errno, exc.strerror) from None


class _Supervisor:
    """The worker processes of one gateway, by index."""

    def __init__(self, config_path: str, host: str, port: int, stopping: threading.Event):
        self._context = multiprocessing.get_context("spawn")
        self._arguments = (config_path, host, port)
        self._stopping = stopping
        self._workers: dict[int, SpawnProcess] = {}

    def start(self, indexes: range | list[int]) -> None:
        """Start the workers ``indexes`` at once and wait until each listens; returns
        early once the gateway is stopping. ``WorkerFailed`` for the first that dies or
        takes ``START_TIMEOUT`` first."""
        started = []
        for index in indexes:
            listening = self._context.Event()
            process = self._context.Process(
                target=_worker,
                args=(*self._arguments, listening),
                name=f"meetingmesh-worker-{index}",
            )
            with _sigint_held():
                process.start()
            self._workers[index] = process
            started.append((index, process, listening))
        deadline = time.monotonic() + START_TIMEOUT
        for index, process, listening in started:
            while not listening.wait(WATCH_INTERVAL):
                if self._stopping.is_set():
                    return
                if not process.is_alive():
                    raise WorkerFailed(
                        f"worker {index} did not start (exit code {process.exitcode}); "
                        "its line above says why"
                    )
                if time.monotonic() >= deadline:
                    raise WorkerFailed(f"worker {index} did not listen within {START_TIMEOUT} s")

    def replace_the_dead(self) -> None:
        """Start a new worker in place of each one that died; ``WorkerFailed`` for one
        whose server never started (its replacement would fail the same way)."""
        dead = [index for index, process in self._workers.items() if not process.is_alive()]
        for index in dead:
            process = self._workers[index]
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                raise WorkerFailed(f"worker {index} could not start serving; its log says why")
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


@contextmanager
def _sigint_held() -> Iterator[None]:
    """SIGINT blocked, not ignored, while a worker is spawned: a Ctrl-C to the process
    group meanwhile waits, and reaches the supervisor once the worker exists (ignoring
    it instead lost it: the gateway went on to serve). The worker inherits the blocked
    mask across exec, so the same Ctrl-C cannot interrupt it while it imports, with a
    traceback; ``_worker`` drops it and the supervisor stops the worker."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _worker(config_path: str, host: str, port: int, listening: Event) -> None:
    """One worker: its app, its own socket on the shared port, then uvicorn."""
    # A Ctrl-C that arrived while this process was spawned is the supervisor's to act
    # on: ignoring SIGINT discards it here. uvicorn installs its own handler later.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _stop_with_supervisor()
    try:
        gateway, settings = build_app(config_path)
        sock = bind_socket(host, port, reuse_port=True)
    except (ConfigError, OSError) as exc:
        # One line, as the supervisor's own errors: no traceback for a missing file.
        print(f"meetingmesh worker: {exc}", file=sys.stderr)
        sys.exit(1)
    listening.set()  # connections from now on wait in this socket's backlog
    # The single process's uvicorn settings: the configured limits hold per worker.
    server = uvicorn.Server(uvicorn_config(gateway, server=settings.server))
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)  # the lifespan failed: uvicorn logged why


def _stop_with_supervisor() -> None:
    """SIGTERM this worker (a graceful stop) when its supervisor is gone, even killed."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()
