"""Fault injection for one simulated provider: latency, errors, hangs, malformed JSON.

Faults are plain settings, changeable at start (``Faults(...)``, ``simulate --fault``)
and at run time (``PUT {base}/_sim/faults``). Rates are fractions in [0, 1] drawn from
a seeded generator, so a run with the same settings fails the same requests.
``endpoint`` keeps the faults to one endpoint (its statistics name, such as
``"POST /scheduler/v3/meetings/meeting-links/book"``), so a test can break a booking
while the reads around it still answer; it is set in code or over ``PUT``, not with
``simulate --fault`` (whose values are numbers).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Statuses an injected error may carry; 429 comes with ``Retry-After``.
INJECTABLE_STATUSES = frozenset({400, 401, 403, 404, 429, 500, 502, 503, 504})


class FaultSettingsError(ValueError):
    """Raised for a fault setting that does not exist or is out of range."""


@dataclass
class Faults:
    """What a simulator does wrong, and how often."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500
    retry_after: int = 1
    hang_rate: float = 0.0
    hang_seconds: float = 300.0
    malformed_rate: float = 0.0
    seed: int = 0
    #: Only requests to this endpoint (its statistics name) are faulted; "" means all.
    endpoint: str = ""
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()
        self._rng = random.Random(self.seed)

    def validate(self) -> None:
        """Raise ``FaultSettingsError`` when a setting is out of range."""
        for name in ("error_rate", "hang_rate", "malformed_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise FaultSettingsError(f"{name} must be between 0 and 1, got {value}")
        if self.error_status not in INJECTABLE_STATUSES:
            allowed = ", ".join(str(s) for s in sorted(INJECTABLE_STATUSES))
            raise FaultSettingsError(f"error_status must be one of {allowed}")
        if self.latency_ms < 0 or self.hang_seconds < 0 or self.retry_after < 0:
            raise FaultSettingsError("latency_ms, hang_seconds and retry_after must be >= 0")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Faults:
        """Build settings from a JSON object; unknown keys and wrong types are errors."""
        known = {f.name: f.type for f in fields(cls) if not f.name.startswith("_")}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise FaultSettingsError(f"unknown fault setting(s): {', '.join(unknown)}")
        converted: dict[str, Any] = {}
        for name, value in values.items():
            if known[name] == "str":
                if not isinstance(value, str):
                    raise FaultSettingsError(f"{name} must be a string")
                converted[name] = value
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise FaultSettingsError(f"{name} must be a number")
            else:
                converted[name] = int(value) if known[name] == "int" else float(value)
        return cls(**converted)

    def applies_to(self, endpoint: str) -> bool:
        """Whether requests to ``endpoint`` (a statistics name) are subject to the faults."""
        return not self.endpoint or self.endpoint == endpoint

    def as_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready object."""
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    def roll(self, rate: float) -> bool:
        """Draw once: true with probability ``rate`` (exactly never at 0, always at 1)."""
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        return self._rng.random() < rate
