"""What the gateway works out from a parsed document, remembered by the document's nodes.

Parsed documents are cached (the same query text gives the same ``DocumentNode``), so
the same query sends the same operation and field nodes request after request: a plan,
a shape or a projection derived from them can be kept by their identity. ``NodeMemo``
is that: a least-recently-used map from (nodes, an extra hashable such as the
variables) to a value; each entry holds its nodes, so their ids cannot be reused while
it is kept. Shared by every gateway of the process (tests run several, in threads).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

V = TypeVar("V")


class NodeMemo(Generic[V]):
    """Values by node identity (and an extra key), the least recently used forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Sequence[object], V]] = OrderedDict()

    def get(self, nodes: Sequence[object], extra: Hashable, compute: Callable[[], V]) -> V:
        """The value kept for ``nodes`` and ``extra``, else ``compute()`` (then kept)."""
        key = (tuple(map(id, nodes)), extra)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and all(a is b for a, b in zip(entry[0], nodes, strict=True)):
                self._entries.move_to_end(key)
                return entry[1]
        value = compute()
        with self._lock:
            self._entries[key] = (tuple(nodes), value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def values(self) -> list[V]:
        """The values kept, oldest first."""
        with self._lock:
            return [value for _, value in self._entries.values()]
