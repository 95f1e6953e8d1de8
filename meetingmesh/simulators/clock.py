"""The simulated world's clock.

"Upcoming", "last_month" and "ongoing" depend on now. The simulators read now from a
``Clock`` so that a data set and every answer derived from it are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

#: Default simulated now: just before the provider documents' example meetings
#: (HeyPeers 9123 starts 2026-05-23T15:00Z), so those examples are "upcoming" verbatim.
DEFAULT_NOW = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Clock:
    """A fixed instant (the default, for reproducibility) or the wall clock (``fixed=None``)."""

    fixed: datetime | None = DEFAULT_NOW

    def now(self) -> datetime:
        """Return the current simulated time, timezone-aware UTC."""
        return self.fixed if self.fixed is not None else datetime.now(UTC)

    @classmethod
    def parse(cls, text: str) -> Clock:
        """Build a clock from ``live`` or an ISO 8601 instant (naive means UTC)."""
        if text == "live":
            return cls(fixed=None)
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return cls(fixed=instant.astimezone(UTC))
