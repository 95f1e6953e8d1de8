"""Limits uvicorn does not have: how long a request may take to arrive, how big its head may be.

uvicorn (and its httptools parser) read a request's head and body for as long as the
client keeps sending, however slowly, and hold a connection that sends nothing at all
forever: its keep-alive timeout only runs between requests, and every byte received
cancels it. Nor does it bound the size of a request head (only its h11 parser has an
option for that). This module is the nearest real thing: uvicorn's own httptools
protocol with three more limits, passed to uvicorn as its ``http`` protocol class:

- ``header_timeout``: the request head (request line and headers) must have arrived
  this many seconds after the connection opened, or after the first byte of the next
  request on a kept-alive connection; a connection that sends nothing is closed too.
- ``body_timeout``: the body must have arrived this many seconds after the head.
- ``max_header_bytes``: a head larger than this (request target and headers) is
  refused, and so is one still incomplete after this many bytes.

A connection over a time limit gets ``408 Request Timeout`` (when no response has
started) and is closed; one over the size limit gets ``431 Request Header Fields Too
Large`` and is closed. Either way the application sees the client disconnect. The
size check runs on what the socket delivers, so at most ``max_header_bytes`` plus one
read (256 KiB) of a head is ever buffered. uvicorn's own limits (keep-alive timeout,
``limit_concurrency``) are set beside these by ``serving.uvicorn_config``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What a connection may do before the server gives up on it (see the module docstring)."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_header_bytes: int = 16_384


def _response(status: int, reason: str) -> bytes:
    body = reason.encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of ``limits`` (set by ``guarded()``)."""

    limits = ConnectionLimits()
    _timer: asyncio.TimerHandle | None = None
    _reading_head = False
    _head_bytes = 0  # bytes received while the head was incomplete
    _head_size = 0  # the parsed head: request target and headers

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: its first request head must arrive in ``header_timeout``."""
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: no timer may fire for it."""
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse what arrived, then refuse a head that is still incomplete past the limit."""
        counted = self._reading_head
        super().data_received(data)
        if counted and self._reading_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse(431, "Request Header Fields Too Large")

    def on_message_begin(self) -> None:
        """The first byte of a request: its head must arrive in ``header_timeout``."""
        super().on_message_begin()
        if not self._reading_head:
            self._start_head()

    def on_url(self, url: bytes) -> None:
        """Part of the request target: it counts towards the head's size."""
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header: it counts towards the head's size."""
        self._head_size += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is in: refused if too big, else its body must arrive in ``body_timeout``."""
        self._reading_head = False
        if self._head_size > self.limits.max_header_bytes:
            self._refuse(431, "Request Header Fields Too Large")
            return
        self._arm(self.limits.body_timeout)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        """Part of the body, unless the request was refused (then nothing reads it)."""
        if not self.transport.is_closing():
            super().on_body(body)

    def on_message_complete(self) -> None:
        """The whole request is in: no more limits until the next one begins."""
        self._cancel()
        if not self.transport.is_closing():
            super().on_message_complete()

    def _start_head(self) -> None:
        self._reading_head = True
        self._head_bytes = self._head_size = 0
        self._arm(self.limits.header_timeout)

    def _arm(self, seconds: float) -> None:
        self._cancel()
        self._timer = self.loop.call_later(seconds, self._timed_out)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        self._refuse(408, "Request Timeout")

    def _refuse(self, status: int, reason: str) -> None:
        """Answer ``status`` if no response has started, and close the connection."""
        self._cancel()
        self._reading_head = False
        if self.transport.is_closing():
            return
        cycle = self.cycle
        # A pipelined request waits in ``pipeline`` while an earlier response is being
        # written: nothing may be written between that response's bytes.
        if (cycle is None or not cycle.response_started) and not self.pipeline:
            if cycle is not None:
                # The application must not answer any more: it sees a disconnect.
                cycle.disconnected = True
                cycle.message_event.set()
            self.transport.write(_response(status, reason))
        self.transport.close()


def guarded(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for one server's ``limits`` (uvicorn instantiates it per connection)."""
    return type("GuardedHttpTools", (GuardedHttpToolsProtocol,), {"limits": limits})
