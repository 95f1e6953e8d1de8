"""Each provider's part of a merged page, worked within a time budget of its own.

The merge cannot place any meeting before it knows every provider's next one, so one
slow provider would hold up the others, and their further pages and totals would only
be asked once it gave up: too late, within a shared deadline. So each provider gets a
``Lane``: its stream is read as far as the merge asks (the merge's first pulls run
concurrently), and its total is asked for in a task of its own as soon as the stream's
first page shows the stream cannot tell it. Every lane's upstream calls (timeouts,
retries, rate-limit waits) end by the lane's budget: the request's deadline less a
reserve to answer in (a tenth of what is left, at most one second). A lane still busy
then fails with ``UPSTREAM_TIMEOUT`` for its own provider; the merge drops it and goes
on with the others, whose totals are already being counted.

A healthy page costs no upstream call more than a merge reading the streams itself,
and hardly any CPU: no task or timer per meeting, one watchdog and one ticker per
page. Only once the merge has waited on one provider for ``READ_AHEAD_AFTER`` seconds
(or a third of the budget, when shorter) do the other lanes read ahead, each in a
task, as far as the page could need (``limit + 1`` meetings), so that a provider
dropped at the end of its budget leaves the rest of the page in memory.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import nullcontext
from typing import Any

from meetingmesh.domain import Provider
from meetingmesh.errors import ErrorCode, GatewayError
from meetingmesh.providers.base import MeetingStream, MeetingTotals, Positioned
from meetingmesh.providers.deadline import budget_scope, ends_at

#: Seconds the merge waits on one provider before the others read ahead.
READ_AHEAD_AFTER = 1.0
#: Share of the time left kept back to answer in, and its cap in seconds.
RESERVE_SHARE = 0.1
MAX_RESERVE = 1.0
#: Seconds past its budget a lane waits for its own calls to give up before it stops.
GRACE = 0.1

#: Asks a provider for the total (and facets) of the list, ignoring position.
Counter = Callable[[], Awaitable[MeetingTotals]]


def budget_end() -> float | None:
    """When the providers' work on a field must be done (monotonic); None without a deadline."""
    end = ends_at()
    if end is None:
        return None
    left = max(0.0, end - time.monotonic())
    return end - min(MAX_RESERVE, RESERVE_SHARE * left)


def _within(end: float | None) -> Any:
    """The deadline narrowed to ``end`` for what runs inside (and the tasks it starts)."""
    return nullcontext() if end is None else budget_scope(end)


class Lane:
    """One provider's stream as the merge iterates it, and its total.

    Iterating yields the stream's meetings in order and raises the provider's failure
    (a ``GatewayError``) where the stream failed or the budget ran out. Only one task
    reads the stream at a time: the merge itself, or a read-ahead task once started.
    """

    def __init__(
        self,
        provider: Provider,
        stream: MeetingStream | None,
        count: Counter | None,
        lanes: Lanes,
    ) -> None:
        self.provider = provider
        self._stream = stream
        self._count = count
        self._lanes = lanes
        self._buffer: deque[Positioned] = deque()
        self._produced = 0
        self._finished = stream is None  # a lane without a stream only counts
        self._error: Exception | None = None
        #: The task reading the stream right now, and since when (for the watchdog, the ticker).
        self._reading: asyncio.Task[Any] | None = None
        self.reading_since: float | None = None
        self._expired = False
        #: The read-ahead task, once the merge has waited too long on another lane.
        self._reader: asyncio.Task[None] | None = None
        #: Set after each read by the read-ahead task; the merge waits on it meanwhile.
        self._arrived = asyncio.Event()
        #: Set once the first meeting is read, or the stream ended or failed before it.
        self._started = asyncio.Event()
        if self._finished:
            self._started.set()
        with _within(lanes.end):
            self._total: asyncio.Task[MeetingTotals | None] | None = (
                None if count is None else asyncio.create_task(self._total_within_budget())
            )

    def __aiter__(self) -> AsyncIterator[Positioned]:
        return self

    async def __anext__(self) -> Positioned:
        """The stream's next meeting, waiting for it no longer than the lane's budget."""
        while not self._buffer and not self._finished:
            if self._reader is not None and not self._reader.done():
                self._arrived.clear()
                await self._arrived.wait()
            else:
                await self._read()
        if self._buffer:
            return self._buffer.popleft()
        if self._error is not None:
            raise self._error
        raise StopAsyncIteration

    @property
    def reads(self) -> bool:
        """Whether this lane reads a stream (else it only counts)."""
        return self._stream is not None

    async def _read(self) -> None:
        """Read the stream's next meeting into the buffer, within the lane's budget."""
        assert self._stream is not None
        if self._lanes.expired:
            # Not asked at all: a call now could only fail, and be counted against the provider.
            self._finish(self._lanes.timeout(self.provider))
            self._arrived.set()
            return
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        self._reading, self.reading_since = task, time.monotonic()
        try:
            with _within(self._lanes.end):
                item = await anext(self._stream.items)
        except StopAsyncIteration:
            self._finish(None)
        except asyncio.CancelledError:
            # The watchdog's own cancellation becomes this provider's timeout; any other
            # (the request's) goes on, as asyncio.timeout does it.
            if not self._expired or task.uncancel() > cancelling:
                raise
            self._finish(self._lanes.timeout(self.provider))
        except Exception as error:  # a provider's failure, or a bug the merge re-raises
            self._finish(error)
        else:
            self._buffer.append(item)
            self._produced += 1
            self._started.set()
        finally:
            self._reading = self.reading_since = None
            self._arrived.set()

    def _finish(self, error: Exception | None) -> None:
        self._finished = True
        self._error = error
        self._started.set()

    def expire(self) -> None:
        """The budget is over: stop the read in progress (its provider failed)."""
        if self._reading is not None:
            self._expired = True
            self._reading.cancel()

    def read_ahead(self) -> None:
        """Read on, in a task, as far as the page could need (unless already reading)."""
        if self._finished or self._reading is not None or self._reader is not None:
            return
        self._reader = asyncio.create_task(self._read_ahead())

    async def _read_ahead(self) -> None:
        while not self._finished and self._produced < self._lanes.cap:
            await self._read()

    async def _total_within_budget(self) -> MeetingTotals | None:
        try:
            async with self._lanes.hard_stop():
                return await self._count_total()
        except TimeoutError:
            raise self._lanes.timeout(self.provider) from None

    async def _count_total(self) -> MeetingTotals | None:
        """The stream's totals as its first page told them, else the provider's count.

        None when the stream failed before its first meeting: its total is not shown.
        """
        await self._started.wait()
        if self._produced == 0 and self._error is not None:
            return None
        known = MeetingTotals() if self._stream is None else self._stream.totals()
        if known.total_count is not None or self._count is None:
            return known
        counted = await self._count()
        return MeetingTotals(counted.total_count, known.aggregations or counted.aggregations)

    async def stop_reading(self) -> None:
        """Stop reading ahead and close the stream (the total, if any, is still counted)."""
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._stream is not None:
            await self._stream.aclose()

    async def total(self) -> MeetingTotals | None:
        """The stream's totals as far as they are known, the provider's count where not."""
        if self._total is not None:
            return await self._total
        return None if self._stream is None else self._stream.totals()

    def drop_total(self) -> None:
        """Stop counting: the provider failed, its total is not shown."""
        if self._total is not None:
            self._total.cancel()
            self._total.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Task[MeetingTotals | None]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so a failure nobody awaits is not logged


class Lanes:
    """The lanes of one merged page: started at once, read ahead together, stopped together."""

    def __init__(
        self,
        streams: Mapping[Provider, MeetingStream],
        counters: Mapping[Provider, Counter],
        limit: int,
    ) -> None:
        """Start a lane per stream, and per counter whose provider has no stream (ended)."""
        self.end = budget_end()
        #: The most meetings the page can take from one provider, plus its next one.
        self.cap = limit + 1
        left = None if self.end is None else max(0.0, self.end - time.monotonic())
        self.patience = READ_AHEAD_AFTER if left is None else min(READ_AHEAD_AFTER, left / 3)
        self.lanes = {
            p: Lane(p, streams.get(p), counters.get(p), self) for p in {**streams, **counters}
        }
        #: Whether the merge has waited on one provider too long, and whether the budget is over.
        self._waited = False
        self.expired = False
        loop = asyncio.get_running_loop()
        self._ticker: asyncio.TimerHandle | None = loop.call_later(self.patience / 2, self._tick)
        self._watchdog = (
            None
            if self.end is None
            else loop.call_later(self.end + GRACE - time.monotonic(), self._expire)
        )

    @property
    def streams(self) -> dict[Provider, Lane]:
        """The lanes that read a stream, for the merge to iterate."""
        return {p: lane for p, lane in self.lanes.items() if lane.reads}

    def _tick(self) -> None:
        """Once one provider has kept the merge waiting too long, let the others read ahead."""
        now = time.monotonic()
        self._waited = self._waited or any(
            lane.reading_since is not None and now - lane.reading_since >= self.patience
            for lane in self.lanes.values()
        )
        if self._waited:
            # Every lane not being read right now (a slow one only once it has answered).
            for lane in self.lanes.values():
                lane.read_ahead()
        self._ticker = asyncio.get_running_loop().call_later(self.patience / 2, self._tick)

    def _expire(self) -> None:
        self.expired = True
        for lane in self.lanes.values():
            lane.expire()

    def hard_stop(self) -> asyncio.Timeout:
        """A timeout at the budget's end (and a little grace for calls ending on their own)."""
        if self.end is None:
            return asyncio.timeout(None)
        loop = asyncio.get_running_loop()
        return asyncio.timeout_at(loop.time() + (self.end + GRACE - time.monotonic()))

    @staticmethod
    def timeout(provider: Provider) -> GatewayError:
        """The failure of a provider whose lane ran out of budget."""
        return GatewayError(
            ErrorCode.UPSTREAM_TIMEOUT,
            f"{provider.label} did not answer in time",
            provider=provider,
        )

    async def stop_reading(self) -> None:
        """Stop every read-ahead and close every stream."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        await asyncio.gather(*(lane.stop_reading() for lane in self.lanes.values()))

    async def totals(
        self, failed: set[Provider]
    ) -> dict[Provider, MeetingTotals | GatewayError | None]:
        """Each provider's totals, or its failure; providers in ``failed`` are not waited for."""
        for provider in failed:
            if provider in self.lanes:
                self.lanes[provider].drop_total()
        wanted = [p for p in self.lanes if p not in failed]
        found = await asyncio.gather(
            *(self.lanes[p].total() for p in wanted), return_exceptions=True
        )
        answers: dict[Provider, MeetingTotals | GatewayError | None] = {}
        for provider, outcome in zip(wanted, found, strict=True):
            if isinstance(outcome, GatewayError | MeetingTotals) or outcome is None:
                answers[provider] = outcome
            else:
                raise outcome
        return answers

    async def close(self) -> None:
        """Stop everything still running (on every way out, failures included).

        The lanes and their timers point back here: let go of them, so no reference
        cycle outlives the page (the garbage collector need not find one per request).
        """
        await self.stop_reading()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for lane in self.lanes.values():
            lane.drop_total()
        self.lanes = {}
