"""The overall deadline of one GraphQL request, shared by every upstream call it makes.

The HTTP layer opens a deadline scope per request; each upstream call (its timeout,
its retries, its wait for a rate-limit slot) stays within what is left of it, so a
slow provider cannot hold an answer past the deadline. A resolver that gives one
provider's work a budget of its own narrows the deadline for that work only
(``budget_scope``), so that provider's calls end early enough for the answer to go out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_DEADLINE: ContextVar[float | None] = ContextVar("meetingmesh_deadline", default=None)


@contextmanager
def deadline_scope(seconds: float) -> Iterator[None]:
    """Give everything inside (and the tasks it starts) ``seconds`` to finish."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


@contextmanager
def budget_scope(until: float) -> Iterator[None]:
    """Make everything inside (and the tasks it starts) finish by ``until`` (monotonic).

    It only ever narrows: an earlier deadline already in force stays.
    """
    current = _DEADLINE.get()
    token = _DEADLINE.set(until if current is None else min(current, until))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def ends_at() -> float | None:
    """The monotonic instant the deadline in force falls at, or None outside any scope."""
    return _DEADLINE.get()


def remaining(default: float) -> float:
    """Seconds left before the deadline, or ``default`` outside any deadline scope."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return default
    return min(default, deadline - time.monotonic())


def restart(seconds: float) -> None:
    """Give what the current task runs next ``seconds`` (each event of a subscription).

    Unlike ``deadline_scope`` nothing undoes it: the task keeps this deadline until the
    next ``restart``. A subscription's task lives longer than any one deadline.
    """
    _DEADLINE.set(time.monotonic() + seconds)
