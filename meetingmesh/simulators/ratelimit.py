"""Rate limits as the providers enforce them: sliding windows and a burst bucket per key.

A simulator whose ``rate_limits`` switch is on asks its ``RateLimiter`` before answering
each request (keyed by the request's credential); a refused request is not counted
against the limits. The providers' published limits (SUPPLEMENT.md and their references):

- Daily: 20 requests per second and 100 per 5 seconds (``DAILY``).
- HubSpot: 100 requests per 10 seconds per token (``HUBSPOT``).
- Thought Industries: 120 requests per minute with a burst allowance of 20 (``THOUGHT_
  INDUSTRIES``): a bucket of 20 that refills at 2 per second, inside the 120-per-minute
  window (https://developer.thoughtindustries.com/docs/rest/rate-limits/: "Once the burst
  is exhausted, requests are throttled to the base rate").
- HeyPeers documents none.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    """At most ``count`` requests in any ``seconds`` (each window), and a burst bucket."""

    windows: tuple[tuple[int, float], ...]
    #: (capacity, refill per second), or None for no bucket.
    bucket: tuple[int, float] | None = None


DAILY = Limits(windows=((20, 1.0), (100, 5.0)))
HUBSPOT = Limits(windows=((100, 10.0),))
THOUGHT_INDUSTRIES = Limits(windows=((120, 60.0),), bucket=(20, 2.0))


@dataclass
class _State:
    times: deque[float] = field(default_factory=deque)
    tokens: float = 0.0
    refilled: float = 0.0


class RateLimiter:
    """Counts accepted requests per key and says how long a refused one must wait."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._keys: dict[str, _State] = {}
        self._longest = max(seconds for _, seconds in limits.windows)

    def take(self, key: str) -> float:
        """0 when the request may go (and it is counted), else the seconds until it may."""
        now = self.clock()
        state = self._state(key, now)
        wait = 0.0
        for count, seconds in self.limits.windows:
            recent = _in_window(state.times, now - seconds)
            if len(recent) >= count:
                wait = max(wait, recent[len(recent) - count] + seconds - now)
        if self.limits.bucket is not None and state.tokens < 1:
            wait = max(wait, (1 - state.tokens) / self.limits.bucket[1])
        if wait > 0:
            return wait
        state.times.append(now)
        if self.limits.bucket is not None:
            state.tokens -= 1
        return 0.0

    def remaining(self, key: str) -> int:
        """Requests the key may still make now (the tightest window, and the bucket)."""
        now = self.clock()
        state = self._state(key, now)
        left = min(
            count - len(_in_window(state.times, now - seconds))
            for count, seconds in self.limits.windows
        )
        if self.limits.bucket is not None:
            left = min(left, math.floor(state.tokens))
        return max(0, left)

    def window_resets_in(self, key: str) -> float:
        """Seconds until the oldest request of the first window leaves it (0 when empty)."""
        now = self.clock()
        _, seconds = self.limits.windows[0]
        recent = _in_window(self._state(key, now).times, now - seconds)
        return max(0.0, recent[0] + seconds - now) if recent else 0.0

    def _state(self, key: str, now: float) -> _State:
        state = self._keys.get(key)
        if state is None:
            capacity = self.limits.bucket[0] if self.limits.bucket else 0
            state = self._keys[key] = _State(tokens=float(capacity), refilled=now)
        while state.times and state.times[0] <= now - self._longest:
            state.times.popleft()
        if self.limits.bucket is not None:
            capacity, rate = self.limits.bucket
            state.tokens = min(capacity, state.tokens + (now - state.refilled) * rate)
            state.refilled = now
        return state


def _in_window(times: deque[float], after: float) -> Sequence[float]:
    return [t for t in times if t > after]
