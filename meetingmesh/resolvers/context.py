"""Per-request context: the configured adapters, the clock, and partial failures.

A provider failure inside a field that merges several providers must not fail the
field: the resolver reports it here and returns the other providers' data. The HTTP
layer adds each reported failure to the response's ``errors``, with its path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from meetingmesh.domain import Provider
from meetingmesh.errors import GatewayError
from meetingmesh.metrics import Metrics
from meetingmesh.providers.base import Adapter
from meetingmesh.resolvers.loaders import Loaders

Path = list[str | int]


@dataclass
class RequestContext:
    """Everything a resolver may use during one GraphQL request."""

    adapters: Mapping[Provider, Adapter]
    clock: Callable[[], datetime]
    request: Any = None
    max_page_size: int = 100
    metrics: Metrics | None = None
    reported: list[tuple[GatewayError, Path]] = field(default_factory=list)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.adapters)

    def adapter(self, provider: Provider) -> Adapter | None:
        """The adapter of ``provider``, or None when it is not configured."""
        return self.adapters.get(provider)

    def report(self, error: GatewayError, path: Path) -> None:
        """Record a failure that leaves the field's other data standing."""
        self.reported.append((error, path))
        for related in error.related:
            self.reported.append((related, path))
