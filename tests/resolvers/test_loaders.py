"""The request's dataloaders (and the merge's lanes): a request's state goes with its last
reference, leaving no reference cycle for the garbage collector to find.

Embedded records answering without a call are pinned by ``test_call_counts.py``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from meetingmesh.resolvers.lanes import Lane, Lanes
from meetingmesh.resolvers.loaders import Loaders
from tests.conftest import Stack

PAGE = """{ meetings(first: 20) {
  totalCount edges { cursor node { id title course { title } hosts { name }
    attendees(first: 3) { totalCount edges { node { name } } } } }
} }"""


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """What the collector finds unreachable while the test runs, kept for inspection."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_a_merged_page_leaves_no_reference_cycle_behind(
    gateway: Stack, saved_garbage: list[object]
) -> None:
    for _ in range(3):
        gateway.data(PAGE)
    gc.collect()
    cyclic = {type(o).__name__ for o in saved_garbage if isinstance(o, Loaders | Lanes | Lane)}
    assert cyclic == set()
