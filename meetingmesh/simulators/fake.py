"""Deterministic fake-data helpers shared by the simulators' data generators.

Every generator takes a ``random.Random`` seeded from (seed, provider), so the same
seed always produces the same bytes, whatever else ran before it.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Marco",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
)
LAST_NAMES = (
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
    "Martin",
    "Novak",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Singh",
    "Tanaka",
    "Ueda",
    "Vega",
    "Walsh",
    "Young",
    "Zimmer",
)
TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)


def rng_for(seed: int, provider: str) -> random.Random:
    """A generator private to one provider's data, reproducible across processes."""
    return random.Random(f"meetingmesh:{seed}:{provider}")


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def person(rng: random.Random) -> tuple[str, str]:
    """A (first name, last name) pair."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def email(first: str, last: str, n: int, domain: str = "example.com") -> str:
    """A unique-by-``n`` address on a reserved example domain."""
    return f"{first.lower()}.{last.lower()}{n}@{domain}"


def iso_ms(instant: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as the providers print it."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{instant.microsecond // 1000:03d}Z"
    )


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 instant with a Z or an offset into an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
