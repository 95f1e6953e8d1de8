"""A GraphQL subscription over Server-Sent Events, read in a background thread.

The Python side of the subscription tests: ``graphql-sse``'s "distinct connections"
protocol (one POST with ``Accept: text/event-stream``, ``event: next``/``complete``)
spoken with httpx. The real client libraries are driven from ``tests/clients``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from typing import Any

import httpx


class SSESubscriber:
    """One subscription: its ``next`` payloads in a queue, closed by ``close()``."""

    def __init__(
        self,
        url: str,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.body = {"query": query, "variables": variables or {}}
        self.headers = {"Accept": "text/event-stream", **(headers or {})}
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.comments: list[str] = []
        self.status: int | None = None
        self.completed = threading.Event()
        self.started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SSESubscriber:
        self._thread.start()
        assert self.started.wait(10), "the subscription never answered"
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def next(self, timeout: float = 5) -> dict[str, Any]:
        """The next result (``{"data": ...}``); fails the test after ``timeout`` seconds."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None

    def close(self) -> None:
        """Drop the connection (as a client that goes away) and wait for the reader."""
        if self._thread.is_alive() and self._loop is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):  # the stream had already ended
                self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        try:
            await self._read()
        except asyncio.CancelledError:
            pass
        finally:
            self.started.set()

    async def _read(self) -> None:
        async with (
            httpx.AsyncClient(timeout=None) as client,
            client.stream("POST", self.url, json=self.body, headers=self.headers) as response,
        ):
            self.status = response.status_code
            self.started.set()
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                self.events.put(json.loads(await response.aread()))
                return
            event = None
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    self.comments.append(line)
                elif line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "next":
                    self.events.put(json.loads(line.split(":", 1)[1]))
                elif event == "complete":
                    self.completed.set()
                    return
