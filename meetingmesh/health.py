"""Readiness and the background probe: is this process able to serve, and how are its providers?

``HealthMonitor`` runs in the app's lifespan. Every ``TICK`` seconds it notes that the
event loop is turning, and sends a probe (``UpstreamClient.probe()``) to each provider
that is unwell, so a provider's health recovers without client traffic:
- a provider whose circuit is open is probed once its cooldown has passed (the probe
  is the half-open call), so at most one call per cooldown while it stays down;
- a provider whose circuit is closed but whose last call failed (a 401, a 429, a bad
  answer) is probed ``breaker_cooldown`` (one second at least) after the failure was
  seen, and then at most once per ``breaker_cooldown``.
A healthy provider is never probed; at most one probe per provider is in flight.

``readiness()`` is what ``/readyz`` answers: ready when the configuration is loaded
(the adapters exist), the event loop is responsive (the monitor ticked recently) and
at least one provider is usable (its circuit is closed). One unwell provider does
not make the gateway unready: answers are partial by design, and per-provider health
is in ``providers { healthy lastError }`` and ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from meetingmesh.domain import Provider
from meetingmesh.providers.breaker import CircuitState
from meetingmesh.providers.http import UpstreamClient

#: Seconds between two looks at the providers (a look costs no upstream call).
TICK = 0.25
#: Seconds without a tick after which the event loop counts as unresponsive.
STALLED = 5.0
#: The shortest interval between two probes of a provider whose circuit is closed.
MIN_PROBE_INTERVAL = 1.0


@dataclass
class HealthMonitor:
    """The lifespan task that watches the event loop and probes unwell providers."""

    clients: Mapping[Provider, UpstreamClient]
    clock: Callable[[], float] = time.monotonic
    last_tick: float | None = None
    _probing: dict[Provider, asyncio.Task[None]] = field(default_factory=dict)
    _probed_at: dict[Provider, float] = field(default_factory=dict)
    _unwell_since: dict[Provider, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Tick until cancelled (when the app shuts down)."""
        try:
            while True:
                self.tick()
                await asyncio.sleep(TICK)
        finally:
            for task in self._probing.values():
                task.cancel()

    def tick(self) -> None:
        """Note that the loop turns, and start the probes that are due."""
        now = self.clock()
        self.last_tick = now
        for provider, client in self.clients.items():
            running = self._probing.get(provider)
            if running is not None and not running.done():
                continue
            if self._due(provider, client, now):
                self._probed_at[provider] = now
                self._probing[provider] = asyncio.ensure_future(client.probe())

    def _due(self, provider: Provider, client: UpstreamClient, now: float) -> bool:
        status = client.status()
        if status.healthy:
            self._unwell_since.pop(provider, None)
            return False
        since = self._unwell_since.setdefault(provider, now)
        if status.circuit is CircuitState.OPEN:
            return False  # the breaker says wait
        if status.circuit is CircuitState.HALF_OPEN:
            return True  # the cooldown has passed: the probe is the one call let through
        interval = max(MIN_PROBE_INTERVAL, client.settings.breaker_cooldown)
        return now - max(since, self._probed_at.get(provider, since)) >= interval

    def responsive(self) -> bool:
        """Whether the monitor ticked recently: the event loop turns, the probes run."""
        return self.last_tick is not None and self.clock() - self.last_tick < STALLED

    def start(self) -> None:
        """Run the monitor in a task of its own (in the app's lifespan)."""
        self._task = asyncio.ensure_future(self.run())

    async def stop(self) -> None:
        """Cancel the monitor's task (and its probes) and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


@dataclass(frozen=True)
class Readiness:
    """The answer of ``/readyz``: ready or not, and why."""

    ready: bool
    usable: int
    configured: int
    reason: str | None = None

    def body(self) -> dict[str, object]:
        """The JSON body: no provider's error text, the endpoint is unauthenticated."""
        body: dict[str, object] = {
            "status": "ready" if self.ready else "unavailable",
            "providers": {"usable": self.usable, "configured": self.configured},
        }
        if self.reason is not None:
            body["reason"] = self.reason
        return body


def readiness(monitor: HealthMonitor | None, clients: Iterable[UpstreamClient]) -> Readiness:
    """Whether this process can serve (see the module docstring)."""
    statuses = [client.status() for client in clients]
    usable = sum(s.usable for s in statuses)
    reason = None
    if monitor is None or not statuses:
        reason = "not started"
    elif not monitor.responsive():
        reason = "the event loop is not responsive"
    elif usable == 0:
        reason = "no provider is usable"
    return Readiness(reason is None, usable, len(statuses), reason)
