"""The one page shape every connection resolves to, and its arguments.

A resolver answers a connection field with a ``ListPage``: edges (a cursor and a
domain record each), whether pages follow or precede, and the list's total. The schema
turns every ``ListPage`` into its ``Connection`` the same way. Here too: validation of
``first``/``last``, the page-size limit, and offset windows over positional lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from meetingmesh.errors import bad_input
from meetingmesh.resolvers.cursors import decode_offset, encode_offset

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
#: Larger pages are refused with BAD_USER_INPUT rather than silently clamped
#: (``[server] max_page_size`` changes it).
MAX_PAGE_SIZE = 100


def check_size(name: str, value: int | None, limit: int = MAX_PAGE_SIZE) -> int | None:
    """Reject a negative or too-large ``first``/``last``."""
    if value is None:
        return None
    if value < 0:
        raise bad_input(f"{name} must not be negative", field=name)
    if value > limit:
        raise bad_input(f"{name} must be at most {limit}, got {value}", field=name)
    return value


@dataclass(frozen=True, slots=True)
class OffsetWindow:
    """The slice of a positional list a ``first``/``after`` pair asks for."""

    offset: int
    limit: int


def offset_window(first: int | None, after: str | None, limit: int = MAX_PAGE_SIZE) -> OffsetWindow:
    """Translate ``first``/``after`` on a positional list into an offset and a limit."""
    size = check_size("first", first, limit)
    start = 0 if after is None else decode_offset(after, "after") + 1
    return OffsetWindow(start, DEFAULT_PAGE_SIZE if size is None else size)


@dataclass(frozen=True, slots=True)
class Edge(Generic[T]):
    """An item of a page and its cursor."""

    cursor: str
    node: T


@dataclass(frozen=True, slots=True)
class ListPage(Generic[T]):
    """One page of a list: its edges, what lies around it, and the list's size."""

    edges: tuple[Edge[T], ...]
    has_next_page: bool
    has_previous_page: bool
    total_count: int | None


def offset_page(
    items: Sequence[T], window: OffsetWindow, total_count: int | None, has_more: bool
) -> ListPage[T]:
    """The page of a positional list whose window holds ``items``."""
    edges = tuple(Edge(encode_offset(window.offset + i), item) for i, item in enumerate(items))
    return ListPage(edges, has_more, window.offset > 0, total_count)


def slice_page(everything: Sequence[T], window: OffsetWindow) -> ListPage[T]:
    """The page ``window`` cuts from a list held whole."""
    chosen = everything[window.offset : window.offset + window.limit]
    has_more = window.offset + len(chosen) < len(everything)
    return offset_page(chosen, window, len(everything), has_more)
