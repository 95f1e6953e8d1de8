"""Connection arguments: validation, the page-size limit, offset windows."""

from __future__ import annotations

from dataclasses import dataclass

from meetingmesh.errors import bad_input
from meetingmesh.resolvers.cursors import decode_offset

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
