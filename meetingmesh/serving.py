"""Run ASGI apps with uvicorn on loopback, in a background thread or in the foreground.

Used by ``meetingmesh serve``/``simulate``/``demo`` and by the test fixtures:
each server binds its own socket first (port 0 picks a free port), so there is no race
between choosing a port and listening on it.

Every server gets the connection limits of the ``[server]`` settings (their defaults
when none are given): uvicorn's own keep-alive timeout and ``limit_concurrency``
(``max_connections``), and ``connection_guard``'s header and body timeouts and head
size limit, which uvicorn lacks.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from meetingmesh.config import ServerSettings
from meetingmesh.connection_guard import ConnectionLimits, guarded

LOOPBACK = "127.0.0.1"
#: The collector's thresholds while serving: young objects before a collection (700 by
#: default; a request allocates thousands, and leaves no reference cycle behind), then
#: collections of each generation before the next older one's (10 and 10, as by default).
GC_THRESHOLDS = (10_000, 10, 10)


#: The listen backlog of every server socket.
BACKLOG = 1024


def bind_socket(
    host: str = LOOPBACK, port: int = 0, *, reuse_port: bool = False, listen: bool = True
) -> socket.socket:
    """Bind a TCP socket, listening unless told not to; port 0 lets the kernel choose.

    ``SO_REUSEADDR`` (a restart is not refused for the last run's connections in
    TIME_WAIT, while a listener still is), or with ``reuse_port`` ``SO_REUSEPORT`` alone:
    a socket beside the others of one port, the workers' (``workers.claim_port``).
    """
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
    # protocol says TCP, and without it small keep-alive responses wait ~40 ms for an ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        option = socket.SO_REUSEPORT if reuse_port else socket.SO_REUSEADDR
        sock.setsockopt(socket.SOL_SOCKET, option, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def tune_gc() -> None:
    """Keep the cyclic garbage collector off what start-up built, and run it less often.

    The schema and its type maps, the modules and the settings live as long as the
    process, yet every full collection walked them all again: about a tenth of the CPU
    of a request answered from the cache. Call it once the app is built, before serving.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def uvicorn_config(
    app: ASGIApp, *, server: ServerSettings | None = None, log_level: str = "warning"
) -> uvicorn.Config:
    """The uvicorn settings every meetingmesh server uses (no access log: it is noise)."""
    server = server or ServerSettings()
    limits = ConnectionLimits(
        header_timeout=server.header_timeout,
        body_timeout=server.body_timeout,
        max_header_bytes=server.max_header_bytes,
    )
    return uvicorn.Config(
        app,
        http=guarded(limits),
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=server.keep_alive_timeout,
        limit_concurrency=server.max_connections,
    )


@dataclass
class ServerThread:
    """A uvicorn server running in a daemon thread; ``url`` is its base address."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        """Ask the server to exit and wait (bounded) for the thread to finish."""
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_in_thread(
    app: ASGIApp,
    host: str = LOOPBACK,
    port: int = 0,
    *,
    settings: ServerSettings | None = None,
) -> ServerThread:
    """Start ``app`` on ``host:port`` in a thread; return once it accepts connections."""
    sock = bind_socket(host, port)
    server = uvicorn.Server(uvicorn_config(app, server=settings))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"server on {host}:{sock.getsockname()[1]} did not start")
        time.sleep(0.01)
    return ServerThread(server, thread, f"http://{host}:{sock.getsockname()[1]}")
