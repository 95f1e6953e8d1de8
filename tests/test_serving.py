"""The HTTP server's own limits, tried with raw sockets against a real server.

Slow, silent and oversized clients are cut off; clients within the limits are served.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from meetingmesh.config import ServerSettings
from meetingmesh.connection_guard import GuardedHttpToolsProtocol
from meetingmesh.serving import uvicorn_config

#: Limits short enough to trip in a test; every wait below is bounded well beyond them.
LIMITS = ServerSettings(header_timeout=0.5, body_timeout=0.5, max_header_bytes=4096)
#: Longest a test waits for the server to act (far beyond every limit above).
PATIENCE = 10.0


def _app() -> Starlette:
    async def echo(request: Request) -> Response:
        return PlainTextResponse(await request.body())

    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/", hello)])


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=PATIENCE)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or ``PATIENCE`` passes)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def _trickle(sock: socket.socket, data: bytes, pause: float = 0.1) -> bytes:
    """Send ``data`` a byte at a time, stopping as soon as the server answers or closes."""
    for byte in data:
        readable, _, _ = select.select([sock], [], [], pause)
        if readable:
            return _answer(sock)
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return _answer(sock)
    return b"(the server let the whole request trickle in)"


def test_a_head_sent_a_byte_at_a_time_is_cut_off(serve: Callable[..., str]) -> None:
    url = serve(_app(), LIMITS)
    with _connect(url) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        answer = _trickle(sock, b"X-Slow: " + b"a" * 200)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_body_sent_a_byte_at_a_time_is_cut_off(serve: Callable[..., str]) -> None:
    url = serve(_app(), LIMITS)
    with _connect(url) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n")
        answer = _trickle(sock, b"b" * 200)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_connection_that_sends_nothing_is_closed(serve: Callable[..., str]) -> None:
    url = serve(_app(), LIMITS)
    with _connect(url) as sock:
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_an_oversized_head_is_refused_with_431(serve: Callable[..., str]) -> None:
    url = serve(_app(), LIMITS)
    with _connect(url) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_an_endless_head_is_not_read_to_its_end(serve: Callable[..., str]) -> None:
    url = serve(_app(), LIMITS)
    sent = 0
    with _connect(url) as sock:
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
            while sent < 50_000_000:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
    # The server closed the connection long before a 50 MB head was in.
    assert sent < 5_000_000


def test_requests_within_the_limits_are_served(serve: Callable[..., str]) -> None:
    url = serve(_app(), LIMITS)
    with _connect(url) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        first = sock.recv(65536)
        # The same kept-alive connection serves a second request.
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        second = _answer(sock)
    assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(b"hello")
    assert second.startswith(b"HTTP/1.1 200 ") and second.endswith(b"hello")


def test_connections_beyond_the_limit_get_503(serve: Callable[..., str]) -> None:
    url = serve(_app(), ServerSettings(max_connections=3))
    idle = [_connect(url) for _ in range(3)]
    try:
        with _connect(url) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            refused = _answer(sock)
    finally:
        for sock in idle:
            sock.close()
    assert refused.startswith(b"HTTP/1.1 503 ")


def test_the_server_settings_reach_uvicorn() -> None:
    server = ServerSettings(keep_alive_timeout=7, max_connections=64, header_timeout=3.0)
    config = uvicorn_config(_app(), server=server)
    assert (config.timeout_keep_alive, config.limit_concurrency) == (7, 64)
    assert isinstance(config.http, type) and issubclass(config.http, GuardedHttpToolsProtocol)
    assert config.http.limits.header_timeout == 3.0
