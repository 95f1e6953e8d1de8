"""Finding the page of a list where a time falls, in a list paged by number only.

Thought Industries pages its meetings in start order but cannot filter them by time, so
a time bound is found by searching its pages. A binary search costs about log2(pages)
calls (10 at 1,000 pages) and forgets everything between requests. This search:
- interpolates: pages hold meetings in start order, so the position of a time is
  estimated from the start times of the pages already seen (the nearest one's own
  density for a short step; for a long one the cubic through the list's two ends with
  their densities as slopes, when nothing else is known, else a parabola through the
  three nearest points, or regula falsi), with a bisection after three probes that did not halve the
  pages left, so the worst case stays logarithmic. With nothing read past the bound,
  the last page is read for the list's span, unless the density of the last page read
  below it puts the bound within ``FAR`` pages (a bound near the list's start);
- remembers: each list's ``PageIndex`` keeps the first and last start of every page
  read, for as long as the upstream cache keeps the page itself (``cache_ttl``), so
  the next bound (the next day's page, the count beside a stream) starts from what
  the last search learnt. With the cache off nothing is remembered.

The index only guides: the answer is decided by pages' start times, read through the
upstream cache, as a binary search would decide it (an entry is at most ``ttl`` old,
like the cached pages it was read from).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

#: How far (in pages) the density of the nearest page read is trusted to step.
FAR = 4
#: Probes in a row that may fail to halve the pages left before a bisection.
SLOW = 3


@dataclass
class PageIndex:
    """The first and last start of each page of one list read lately, by page number."""

    ttl: float
    clock: Callable[[], float] = time.monotonic
    _pages: dict[int, tuple[datetime, datetime, int, float]] = field(default_factory=dict)

    def observe(self, number: int, starts: Sequence[datetime]) -> None:
        """Remember what page ``number`` held (its readable meetings' starts); a page out
        of start order is not remembered (nothing can be told from it)."""
        if self.ttl > 0 and starts and all(a <= b for a, b in pairwise(starts)):
            self._pages[number] = (starts[0], starts[-1], len(starts), self.clock())

    def known(self) -> dict[int, tuple[datetime, datetime, int]]:
        """The pages seen within ``ttl``: (first start, last start, meetings) each."""
        now = self.clock()
        stale = [n for n, entry in self._pages.items() if now - entry[3] > self.ttl]
        for number in stale:
            del self._pages[number]
        return {n: entry[:3] for n, entry in self._pages.items()}

    def __len__(self) -> int:
        return len(self._pages)


async def first_page(
    index: PageIndex,
    last: int,
    per_page: int,
    starts_of: Callable[[int], Awaitable[list[datetime]]],
    bound: datetime,
    *,
    by_first: bool = False,
    page_one: Sequence[datetime] = (),
) -> int:
    """The first page in 1..``last`` that reaches ``bound``, else ``last + 1``.

    A page reaches it when its last start is at or after ``bound`` (``by_first``: when
    its first start is after ``bound``); an empty page reaches it too. Pages are in
    start order, so the pages that reach it are a suffix. ``starts_of`` reads a page
    (through the upstream cache) and may raise for a page out of order; every page it
    reads is remembered in ``index``. ``page_one``: the starts of page 1, when the
    caller has read it already.
    """

    def reaches(first: datetime, last_start: datetime) -> bool:
        return first > bound if by_first else last_start >= bound

    low, high = 0, last + 1  # the answer lies in (low, high]
    seen: dict[int, tuple[datetime, datetime, int]] = {}  # read by this search
    if page_one:
        seen[1] = (page_one[0], page_one[-1], len(page_one))
    # Which side the last probes landed on, and how many in a row (regula falsi's
    # Illinois step); probes in a row that did not halve the pages left (then: bisect).
    streak: tuple[bool | None, int] = (None, 0)
    slow = 0
    while high - low > 1:
        known = {**index.known(), **seen}
        for number, (first, last_start, _) in known.items():
            if low < number < high:
                if reaches(first, last_start):
                    high = number
                else:
                    low = number
        if not by_first and high in known and known[high][0] < bound:
            low = high - 1  # the page before ends before this one begins: before the bound
        if high - low <= 1:
            break
        if slow >= SLOW:
            probe, slow = (low + high) // 2, 0
        else:
            probe = _estimate(known, per_page, bound, low, high, last, by_first, streak)
        before = high - low
        starts = await starts_of(probe)
        index.observe(probe, starts)
        if starts:
            seen[probe] = (starts[0], starts[-1], len(starts))
        above = not starts or reaches(starts[0], starts[-1])
        if above:
            high = probe
        else:
            low = probe
        streak = (above, streak[1] + 1 if streak[0] is above else 1)
        spanned = probe == last  # the far end, read to learn the list's span
        slow = 0 if spanned or (high - low) * 2 <= before else slow + 1
    return high


def _estimate(
    known: dict[int, tuple[datetime, datetime, int]],
    per_page: int,
    bound: datetime,
    low: int,
    high: int,
    last: int,
    by_first: bool,
    streak: tuple[bool | None, int],
) -> int:
    """The page in (low, high) most likely to be the answer, from the starts seen."""
    points = sorted(
        {
            point
            for number, (first, last_start, count) in known.items()
            for point in (
                ((number - 1) * per_page, first),
                ((number - 1) * per_page + max(count - 1, 0), last_start),
            )
        }
    )
    below = max((p for p in points if p[1] < bound), default=None)
    above = min((p for p in points if p[1] >= bound), default=None)
    if below is None:
        guess = low + 1
    elif above is None and (near := _near_step(known, per_page, bound, below)) is not None:
        guess = 1 + near // per_page  # close past the page read: no need of the list's span
    elif above is None:
        guess = high - 1 if high <= last else last  # the far end tells the list's span
    else:
        position = _position(known, points, per_page, bound, below, above, streak)
        # The page holding that position; by first start, the page starting after it.
        guess = 1 + (-(-position // per_page) if by_first else position // per_page)
    return min(max(guess, low + 1), high - 1)


def _position(
    known: dict[int, tuple[datetime, datetime, int]],
    points: list[tuple[int, datetime]],
    per_page: int,
    bound: datetime,
    below: tuple[int, datetime],
    above: tuple[int, datetime],
    streak: tuple[bool | None, int],
) -> int:
    """Where in the list ``bound`` falls, between the nearest points below and above it.

    Close to a page read, that page's own density takes the step; further away, with
    only the list's two ends read (the first step of a cold search), the cubic through
    them with their densities as slopes; else a parabola through the three points
    nearest in time (inverse quadratic interpolation), else the straight line between
    the two around the bound, bent towards the side the probes keep missing (the
    Illinois variant of regula falsi).
    """
    (p0, t0), (p1, t1) = below, above
    near_below = (bound - t0) <= (t1 - bound)
    step = _near_step(known, per_page, bound, below if near_below else above)
    if step is not None:
        return min(max(step, p0), p1)
    if len(known) == 2:  # only the two ends: their densities shape the whole span
        cubic = _hermite(known, per_page, bound, below, above)
        if cubic is not None:
            return cubic
    nearest = sorted(points, key=lambda p: abs((p[1] - bound).total_seconds()))[:3]
    if len({t for _, t in nearest}) == 3:
        (q0, s0), (q1, s1), (q2, s2) = ((q, (t - bound).total_seconds()) for q, t in nearest)
        parabola = (
            q0 * s1 * s2 / ((s0 - s1) * (s0 - s2))
            + q1 * s0 * s2 / ((s1 - s0) * (s1 - s2))
            + q2 * s0 * s1 / ((s2 - s0) * (s2 - s1))
        )
        if p0 < parabola < p1:
            return int(parabola)
    g0, g1 = (t0 - bound).total_seconds(), (t1 - bound).total_seconds()
    side, times = streak
    if times >= 2:  # the same end kept twice: weigh the other one down
        if side:
            g0 /= 2 ** (times - 1)
        else:
            g1 /= 2 ** (times - 1)
    return int(p0 - g0 * (p1 - p0) / (g1 - g0)) if g1 != g0 else p0


def _density(
    known: dict[int, tuple[datetime, datetime, int]], per_page: int, position: int
) -> float | None:
    """Meetings per second on the page read that holds ``position``; None if unknown."""
    entry = known.get(1 + position // per_page)
    if entry is None:
        return None
    first, last_start, count = entry
    seconds = (last_start - first).total_seconds()
    return (count - 1) / seconds if count >= 2 and seconds > 0 else None


def _hermite(
    known: dict[int, tuple[datetime, datetime, int]],
    per_page: int,
    bound: datetime,
    below: tuple[int, datetime],
    above: tuple[int, datetime],
) -> int | None:
    """Where ``bound`` falls on the cubic through the two points with their pages'
    densities as slopes (kept monotone, as Fritsch and Carlson do); None when either
    density is unknown. Meetings are rarely spread evenly over a list: a sparse start
    and a dense middle bend the curve that a straight line between the ends misses."""
    (p0, t0), (p1, t1) = below, above
    d0, d1 = _density(known, per_page, p0), _density(known, per_page, p1)
    span = (t1 - t0).total_seconds()
    if d0 is None or d1 is None or span <= 0 or p1 <= p0:
        return None
    mean = (p1 - p0) / span
    a, b = d0 / mean, d1 / mean
    if a * a + b * b > 9:  # slopes that steep would overshoot: scale them down
        scale = 3 / (a * a + b * b) ** 0.5
        d0, d1 = scale * d0, scale * d1
    x = (bound - t0).total_seconds() / span
    position = (
        (2 * x**3 - 3 * x**2 + 1) * p0
        + (x**3 - 2 * x**2 + x) * span * d0
        + (-2 * x**3 + 3 * x**2) * p1
        + (x**3 - x**2) * span * d1
    )
    return int(min(max(position, p0), p1))


def _near_step(
    known: dict[int, tuple[datetime, datetime, int]],
    per_page: int,
    bound: datetime,
    point: tuple[int, datetime],
) -> int | None:
    """Where ``bound`` falls, stepped from ``point`` at its own page's density; None when
    that page is unknown or flat, or the step is longer than ``FAR`` pages."""
    position, instant = point
    density = _density(known, per_page, position)
    if density is None:
        return None
    step = position + (bound - instant).total_seconds() * density
    return int(step) if abs(step - position) <= FAR * per_page else None
