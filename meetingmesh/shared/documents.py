"""Automatic persisted queries shared by every process (``persisted.Documents``' store).

``P:apq:<sha256>`` holds a document the APQ protocol registered on any process, for
``[redis] apq_ttl`` seconds after it was last registered or used (each use renews it).
A process looks in Redis only for a hash it does not hold itself, and keeps what it
found in its own LRU, so a document costs one Redis read per process. Only documents
that executed are stored (``Documents.remember``), and a document read back is checked
against its hash before it is used.
"""

from __future__ import annotations

from meetingmesh.shared.connection import RedisState


class SharedDocuments:
    """The persisted documents every process registered, in Redis."""

    def __init__(self, state: RedisState) -> None:
        self._state = state
        self._ttl = max(1, round(state.settings.apq_ttl))

    @property
    def available(self) -> bool:
        """Whether Redis is in use now."""
        return self._state.up

    async def recall(self, sha256: str) -> str | None:
        """The document registered under ``sha256``, its lifetime renewed; None if none."""
        key = self._state.key("apq", sha256)
        found = await self._state.run(lambda client: client.getex(key, ex=self._ttl))
        if found is None:
            return None
        return found.decode() if isinstance(found, bytes) else str(found)

    async def keep(self, sha256: str, document: str) -> None:
        """Register ``document`` under its hash for every process."""
        key = self._state.key("apq", sha256)
        await self._state.run(lambda client: client.set(key, document, ex=self._ttl))
