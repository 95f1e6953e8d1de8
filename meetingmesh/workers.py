"""Several gateway processes on one port: ``[server] workers`` (``meetingmesh serve``).

The gateway is CPU-bound and Python runs one thread of it at a time, so a second core
serves only through a second process. ``serve_workers`` binds nothing itself: it takes
the socket ``meetingmesh serve`` bound and hands it to uvicorn's own supervisor
(``uvicorn.supervisors.Multiprocess``), which starts the workers as fresh interpreters,
each accepting on the shared socket, restarts one that dies, and on SIGINT or SIGTERM
stops them all (each finishes its requests within uvicorn's graceful timeout).

A worker builds its app from the configuration file (``app()``, the import-string
factory uvicorn asks for: the parent names the file in ``MEETINGMESH_CONFIG``), so it
holds everything a single process holds, for itself: the upstream cache, the Thought
Industries page index and parse memos, coalescing of identical calls, the client-side
rate limits (each worker allows a provider the whole ``rate_limit``), circuit breakers
and health, minted credentials, the APQ store, metrics and subscriptions. The
configuration refuses what cannot work split that way (``config._check_workers``).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from meetingmesh.config import ConfigError, Settings, load_settings
from meetingmesh.connection_guard import ConnectionLimits, GuardedHttpToolsProtocol
from meetingmesh.logs import configure_logging
from meetingmesh.serving import tune_gc

#: The environment variable naming the configuration file, for the workers.
CONFIG_VARIABLE = "MEETINGMESH_CONFIG"


class WorkerProtocol(GuardedHttpToolsProtocol):
    """The guarded HTTP protocol of a worker; ``app()`` sets its limits from the settings.

    uvicorn loads a worker's protocol class by name, so it cannot be made per server
    as ``connection_guard.guarded`` does; each worker process serves one server, and
    its app is loaded before the first connection is accepted.
    """


def app() -> Starlette:
    """The gateway of one worker, from the configuration file the parent named."""
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


def serve_workers(config_path: str, settings: Settings, sock: socket.socket) -> None:
    """Serve ``settings.server.workers`` workers on ``sock`` until SIGINT or SIGTERM."""
    server = settings.server
    os.environ[CONFIG_VARIABLE] = str(Path(config_path).resolve())
    config = uvicorn.Config(
        f"{__name__}:app",
        factory=True,
        workers=server.workers,
        http=f"{__name__}:WorkerProtocol",
        log_level="warning",  # uvicorn's own lines, as a single process logs them
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=server.keep_alive_timeout,
        # Per worker: the configured limit holds for each process.
        limit_concurrency=server.max_connections,
    )
    Multiprocess(config, sockets=[sock]).run()
