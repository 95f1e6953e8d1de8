"""The ``DateTime`` scalar: its exact format is in its description, and kept by its code.

Output is always UTC with an explicit offset (every provider's times are converted to
UTC by its adapter; the serializer makes that a promise). Input is read as before, by
``dateutil``'s ISO 8601 parser: a client's value is accepted or refused exactly as it
always was.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import strawberry
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

DESCRIPTION = """An instant, as an ISO 8601 string.

Output: always UTC with an explicit offset, `YYYY-MM-DDTHH:MM:SS+00:00` (for example
`2026-05-22T12:00:00+00:00`), with `.ffffff` before the offset only when the instant
has fractions of a second: RFC 3339's profile of ISO 8601.

Input: ISO 8601, extended or basic format: `2026-05-22T12:00:00Z`,
`2026-05-22T14:00:00+02:00`, `20260522T120000Z`, fractions of a second (`.5` or `,5`),
a space instead of `T`, or a date alone (`2026-05-22`: its midnight). The offset is
`Z`, `+HH:MM`, `+HHMM` or `+HH` (or `-`). A time without an offset is read as UTC,
except where an exact instant is needed (`BookMeetingInput.startTime` refuses it).
Any other string is refused before the operation runs."""


def serialize(value: object) -> str:
    """An instant as RFC 3339 in UTC; a naive one is taken to be UTC already."""
    if not isinstance(value, datetime):
        raise TypeError(f"DateTime cannot represent {type(value).__name__}")
    return _rfc3339(value)


@lru_cache(maxsize=16_384)
def _rfc3339(value: datetime) -> str:
    # Memoised: the same records' times are shown request after request (from the
    # upstream cache). Equal instants in other zones share an entry, and an answer.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


DATETIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description=DESCRIPTION,
    serialize=serialize,
    parse_value=DateTimeDefinition.parse_value,
)
