"""Time conversions between the providers' formats and aware UTC datetimes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any


def parse_instant(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text or epoch milliseconds; None when absent.

    Raises ``ValueError`` for a value that is present but not a time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        if value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    raise ValueError(f"not a time: {value!r}")


def from_unix_seconds(value: Any) -> datetime:
    """An aware UTC datetime from unix seconds (Daily)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not unix seconds: {value!r}")
    return datetime.fromtimestamp(value, UTC)


def unix_seconds_ceil(instant: datetime) -> int:
    """The smallest whole unix second at or after ``instant``."""
    return math.ceil(instant.timestamp())


def unix_seconds_floor(instant: datetime) -> int:
    """The largest whole unix second at or before ``instant``."""
    return math.floor(instant.timestamp())


def epoch_ms(instant: datetime) -> int:
    """Epoch milliseconds (HubSpot)."""
    return round(instant.timestamp() * 1000)


def heypeers_minute(instant: datetime) -> str:
    """HeyPeers' custom-range format, ``MM/DD/YYYY HH:MM AM/PM``, in UTC, floored to the minute."""
    return instant.astimezone(UTC).strftime("%m/%d/%Y %I:%M %p")


def minutes_between(start: datetime | None, end: datetime | None) -> int | None:
    """Whole minutes from ``start`` to ``end``, rounded to the nearest minute."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60)
