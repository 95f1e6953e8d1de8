"""How many upstream calls one GraphQL request may still make, shared by every call it makes.

The HTTP layer opens a call budget scope per request (``[server] max_upstream_calls``).
Each call the upstream client actually sends spends one unit; answers from the cache
and requests shared with a call already in flight spend none. When the budget is
spent, further calls are refused before they are sent, so no query can use up a
provider's rate limit for everyone, whatever the estimate made of its document said.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Budget:
    """The calls a request may still make."""

    limit: int
    spent: int = 0

    def spend(self) -> bool:
        """Take one call from the budget; False (and nothing taken) when none is left."""
        if self.spent >= self.limit:
            return False
        self.spent += 1
        return True


_BUDGET: ContextVar[Budget | None] = ContextVar("meetingmesh_call_budget", default=None)


@contextmanager
def call_budget_scope(calls: int) -> Iterator[Budget]:
    """Let everything inside (and the tasks it starts) make at most ``calls`` upstream calls."""
    budget = Budget(calls)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def restart(calls: int) -> None:
    """Give what the current task runs next a budget of ``calls`` (each event of a subscription).

    Unlike ``call_budget_scope`` nothing undoes it, as with ``deadline.restart``: a
    subscription's task outlives any one request, and each of its events is resolved as a
    request of its own.
    """
    _BUDGET.set(Budget(calls))


def current() -> Budget | None:
    """The budget of the request being served, or None outside any call budget scope."""
    return _BUDGET.get()
