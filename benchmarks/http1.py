"""A minimal HTTP/1.1 keep-alive client for the load driver, on asyncio streams.

Why not httpx: on this 2-core machine the client shares the CPUs with the gateway and
the simulators, and httpx spends about as much CPU per request as the gateway does
(measured ~3 ms per request, plus a pool scan per request that grows with the
connection count). The request bytes here are built once and each answer is parsed
only as far as framing needs (status, Content-Length or chunked), so the driver stays
a small fraction of a core and the figures describe the gateway, not the client.

Only what the harness sends is supported: one origin, ``http://`` only, no redirects,
no compression, no pipelining. Anything else is an ``HttpError``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection failed or the answer could not be framed."""


@dataclass(frozen=True)
class Response:
    """Status and body of one answer."""

    status: int
    body: bytes


def build_request(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None
) -> tuple[str, int, bytes]:
    """Host, port and the complete request bytes for ``url`` (built once, sent many times)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"only http:// URLs are supported, got {url!r}")
    port = parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.hostname}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return parts.hostname, port, head + (body or b"")


class Connection:
    """One keep-alive connection, opened on first use and again after any failure."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, raw: bytes, timeout: float = 60.0) -> Response:
        """Send ``raw`` (from ``build_request``) and read the whole answer."""
        try:
            async with asyncio.timeout(timeout):
                if self._streams is None:
                    self._streams = await asyncio.open_connection(self.host, self.port)
                reader, writer = self._streams
                writer.write(raw)
                await writer.drain()
                status, keep_alive, body = await _read_response(reader)
        except (OSError, EOFError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            await self.close()
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        if not keep_alive:
            await self.close()
        return Response(status, body)

    async def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            # A connection already reset by the peer is as closed as wanted.
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x answer: {status_line!r}")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    keep_alive = headers.get("connection", "").lower() != "close"
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return status, keep_alive, await _read_chunked(reader)
    length = headers.get("content-length")
    if length is not None:
        return status, keep_alive, await reader.readexactly(int(length))
    # Neither framing: the body runs to the end of the connection.
    return status, False, await reader.read()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            # Trailers (none expected) end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
