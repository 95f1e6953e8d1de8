"""Request statistics per simulated endpoint, so tests can count upstream calls exactly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EndpointStats:
    """How often one endpoint was called and with what, last time."""

    count: int = 0
    last_params: dict[str, list[str]] = field(default_factory=dict)
    last_body: Any = None
    #: The ``X-Request-ID`` the last request carried, if any.
    last_request_id: str | None = None
    in_flight: int = 0
    #: The most requests this endpoint was answering at once: proof of concurrency.
    peak_in_flight: int = 0
    #: Answers by HTTP status (a 429 is a request refused under the rate limit).
    statuses: dict[int, int] = field(default_factory=dict)


@dataclass
class RequestStats:
    """Counts by endpoint name (``"GET /meetings"``, the route template, not the path)."""

    endpoints: dict[str, EndpointStats] = field(default_factory=dict)

    def record(
        self,
        endpoint: str,
        params: dict[str, list[str]],
        body: Any,
        request_id: str | None = None,
    ) -> None:
        """Count one request to ``endpoint`` (and mark it in flight until ``finish``)."""
        stats = self.endpoints.setdefault(endpoint, EndpointStats())
        stats.count += 1
        stats.last_params = params
        stats.last_body = body
        stats.last_request_id = request_id
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)

    def finish(self, endpoint: str, status: int | None = None) -> None:
        """Mark one request to ``endpoint`` answered (with ``status``, when it was)."""
        stats = self.endpoints.get(endpoint)
        if stats is not None and stats.in_flight > 0:
            stats.in_flight -= 1
        if stats is not None and status is not None:
            stats.statuses[status] = stats.statuses.get(status, 0) + 1

    @property
    def total(self) -> int:
        """Requests counted across every endpoint."""
        return sum(s.count for s in self.endpoints.values())

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy: ``{"total": n, "endpoints": {name: {count, last_params, ...}}}``."""
        return {
            "total": self.total,
            "endpoints": {
                name: {
                    "count": s.count,
                    "last_params": s.last_params,
                    "last_body": s.last_body,
                    "last_request_id": s.last_request_id,
                    "peak_in_flight": s.peak_in_flight,
                    "statuses": {str(k): v for k, v in sorted(s.statuses.items())},
                }
                for name, s in sorted(self.endpoints.items())
            },
        }

    def reset(self) -> None:
        """Forget every count."""
        self.endpoints.clear()
