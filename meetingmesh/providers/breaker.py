"""A circuit breaker per provider: stop calling a provider that keeps failing.

After ``threshold`` consecutive failures the circuit *opens*: calls fail fast with
``UPSTREAM_UNAVAILABLE`` and cost the provider nothing. After ``cooldown`` seconds one
call is let through as a probe (*half-open*); its success closes the circuit, its
failure opens it again. Written here rather than taken from a library: the asyncio
breakers on PyPI are unmaintained, and the state machine is a dozen lines.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class CircuitState(enum.Enum):
    """Where a circuit is."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """Consecutive-failure circuit breaker with a single half-open probe."""

    threshold: int = 5
    cooldown: float = 30.0
    clock: Callable[[], float] = time.monotonic
    failures: int = field(default=0, init=False)
    opened_at: float | None = field(default=None, init=False)
    probing: bool = field(default=False, init=False)

    @property
    def state(self) -> CircuitState:
        """The circuit's state now."""
        if self.opened_at is None:
            return CircuitState.CLOSED
        if self.clock() - self.opened_at >= self.cooldown:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    def allow(self) -> bool:
        """Whether a call may go out now (in half-open, only the one probe)."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self.probing:
            self.probing = True
            return True
        return False

    def succeeded(self) -> None:
        """Record a call that the provider answered: the circuit closes."""
        self.failures = 0
        self.opened_at = None
        self.probing = False

    def abandoned(self) -> None:
        """Record a call given up before it was answered: a probe may be sent again."""
        self.probing = False

    def failed(self) -> None:
        """Record a call that failed for the provider's own reasons."""
        self.failures += 1
        if self.probing or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self.probing = False
